"""Signing in and out, the language switch, health and the stylesheet; the sign-in throttle."""

from __future__ import annotations

import logging
import secrets
from collections import OrderedDict, deque

from sanic import Blueprint, response

from leadqual import timeutil
from leadqual.http import clientaddr

from . import auth
from .auth import AuthError, User
from .context import (
    COOKIE,
    HERE,
    LANG_COOKIE,
    LOGIN_CSRF_COOKIE,
    Console,
    safe_next,
)
from .i18n import LANGUAGES, translator

# Failed sign-ins one client address may make in LOGIN_WINDOW, to any accounts, before it is
# told to wait (per process; the per-account-and-address lockout in auth.py holds across
# processes). The address is the one behind LEADQUAL_TRUSTED_PROXIES (leadqual/http/clientaddr.py),
# not the proxy's: otherwise one client could make every sign-in wait.
LOGIN_LIMIT, LOGIN_WINDOW = 20, 15 * 60
# Addresses the throttle remembers (least recently failed dropped first): bounded memory.
THROTTLE_ADDRESSES = 100_000
log = logging.getLogger(__name__)


class Throttle:
    """Failed sign-ins per client address in a sliding window (an IPv6 address counts as its
    /64: clientaddr.rate_key). At most `max_addresses` are remembered."""

    def __init__(
        self, limit: int = LOGIN_LIMIT, window: float = LOGIN_WINDOW, max_addresses: int = THROTTLE_ADDRESSES
    ) -> None:
        self.limit, self.window, self.max_addresses = limit, window, max_addresses
        self.failures: OrderedDict[str, deque] = OrderedDict()

    def blocked(self, address: str) -> bool:
        times = self.failures.get(clientaddr.rate_key(address))
        if times is None:
            return False
        while times and times[0] < timeutil.monotonic() - self.window:
            times.popleft()
        return len(times) >= self.limit

    def failed(self, address: str) -> None:
        key = clientaddr.rate_key(address)
        times = self.failures.pop(key, None) or deque()
        times.append(timeutil.monotonic())
        while len(times) > self.limit:
            times.popleft()
        self.failures[key] = times
        while len(self.failures) > self.max_addresses:
            self.failures.popitem(last=False)
        if len(times) == self.limit and times[0] >= timeutil.monotonic() - self.window:
            log.warning(
                "console sign-in: %d failed sign-ins from %s in %d minutes; its sign-ins wait",
                self.limit,
                clientaddr.for_log(key),
                self.window // 60,
            )


def blueprint(console: Console) -> Blueprint:
    bp = Blueprint("sign_in")
    store, render, need, secure = console.store, console.render, console.need, console.secure
    throttle = Throttle()

    # -- signing in and out ----------------------------------------------------------------

    @bp.get("/health")
    async def health(request):
        return response.json({"ok": True})

    @bp.get("/static/console.css")
    async def stylesheet(request):
        return await response.file(HERE / "static" / "console.css", headers={"Cache-Control": "max-age=300"})

    @bp.get("/")
    async def home(request):
        return response.redirect("/leads")

    def login_page(request, status: int = 200, error: str | None = None):
        token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(32)
        request.ctx.csrf = token
        resp = render(
            request, "login.html", status=status, error=error, next=safe_next(request.args.get("next")), email=""
        )
        resp.add_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="Lax", secure=secure(request), path="/")
        if request.args.get("lang") in LANGUAGES:
            resp.add_cookie(LANG_COOKIE, request.args["lang"], samesite="Lax", secure=secure(request), path="/")
        return resp

    @bp.get("/login")
    async def login_form(request):
        if request.ctx.user is not None:
            return response.redirect(safe_next(request.args.get("next")))
        return login_page(request)

    @bp.post("/login")
    async def login(request):
        address = clientaddr.of_request(request)
        t = translator(request.ctx.lang)
        if throttle.blocked(address):
            return login_page(request, status=429, error=t("too_many_attempts"))
        email = request.form.get("email") or ""
        password = request.form.get("password") or ""
        failure = None
        with store.sessions.begin() as session:
            try:
                user = auth.authenticate(session, email, password, address=address)
                token = auth.start_session(session, user)
            except AuthError as exc:
                failure = exc
        if failure is not None:
            throttle.failed(address)
            # A wrong password, an unknown email and a locked-out address: the same answer, so
            # it does not tell which accounts exist (auth.authenticate).
            code = "bad_credentials" if failure.code == "locked" else failure.code
            return login_page(request, status=401, error=t(code))
        resp = response.redirect(safe_next(request.form.get("next")))
        resp.add_cookie(COOKIE, token, httponly=True, samesite="Lax", secure=secure(request), path="/")
        resp.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
        return resp

    @bp.post("/logout")
    async def logout(request):
        with store.sessions.begin() as session:
            auth.end_session(session, request.cookies.get(COOKIE))
        resp = response.redirect("/login")
        resp.delete_cookie(COOKIE, path="/")
        return resp

    @bp.post("/language")
    async def language(request):
        user = need(request, "read")
        lang = request.form.get("lang")
        if lang in LANGUAGES:
            with store.sessions.begin() as session:
                session.get(User, user.id).language = lang
        return response.redirect(safe_next(request.form.get("next")))

    return bp
