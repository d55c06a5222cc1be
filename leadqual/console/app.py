"""The SDR console: a Sanic app with server-rendered pages (Jinja2, autoescaped) and a JSON API.

Pages need a signed-in user (a session cookie); every POST carries the session's CSRF token,
checked in one place (`_before`) so no route can forget it. The API (`/api/...`) takes a bearer
token: a user's own (admin page) or `LEADQUAL_CONSOLE_API_TOKEN` (read-only).
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote, urlencode

from sanic import Sanic, response
from sanic.exceptions import NotFound

from leadqual import settings
from leadqual.delivery.outbox import DeliveryWorker
from leadqual.http import clientaddr, observability
from leadqual.leads.store import LeadStore
from leadqual.scoring.stages import REASON_CODES

from . import admin_pages, analytics_pages, api, auth, flow_editor, lead_pages, live_pages, privacy_pages, sign_in
from .auth import User
from .context import (
    COOKIE,
    LANG_COOKIE,
    LOGIN_CSRF_COOKIE,
    SECURITY_HEADERS,
    Console,
    Forbidden,
    NeedsSignIn,
    templates,
)
from .decisions import Decisions
from .i18n import REASONS, pick, translator
from .live import LiveConsole


def build_app(store: LeadStore | None = None, name: str = "leadqual_console", live: LiveConsole | None = None) -> Sanic:
    store = store or LeadStore()
    store.create_schema()
    app = Sanic(name)
    # Bodies over this are refused (413) from their Content-Length, before they are read.
    app.config.REQUEST_MAX_SIZE = 1_000_000
    clientaddr.trusted_proxies()  # a bad LEADQUAL_TRUSTED_PROXIES fails at start-up, named
    env = templates()
    config = store.config
    https = settings.CONSOLE_URL.get().startswith("https://")
    live = live or LiveConsole(store)

    def secure(request) -> bool:
        return https or request.scheme == "https"

    def sdr_name(sdr_id: str | None) -> str | None:
        sdr = config.handoff.sdr(sdr_id)
        return sdr.name if sdr else sdr_id

    def local(moment: datetime | None, pattern: str = "%Y-%m-%d %H:%M") -> str:
        if moment is None:
            return ""
        if isinstance(moment, str):
            moment = datetime.fromisoformat(moment)
        return moment.astimezone(config.handoff.zone()).strftime(pattern)

    env.filters["when"] = local
    env.filters["stamp"] = lambda moment: local(moment, "%Y-%m-%d %H:%M:%S")
    env.filters["path"] = lambda text: quote(str(text), safe="")
    env.filters["sdr_name"] = sdr_name

    def render(request, template: str, status: int = 200, **context):
        lang = request.ctx.lang
        t = translator(lang)
        user = request.ctx.user
        html = env.get_template(template).render(
            t=t,
            lang=lang,
            user=user,
            live_waiting=live.waiting_count() if user is not None and user.can("decide") else None,
            csrf=request.ctx.csrf,
            path=request.path,
            reason_text=lambda code: (REASONS.get(code) or {}).get(lang) or REASON_CODES.get(code, code),
            **context,
        )
        return response.html(html, status=status)

    def need(request, permission: str) -> User:
        user = request.ctx.user
        if user is None:
            raise NeedsSignIn()
        if not user.can(permission):
            raise Forbidden()
        return user

    # -- every request ---------------------------------------------------------------------

    @app.on_request
    async def _before(request):
        request.ctx.user = None
        request.ctx.csrf = None
        request.ctx.new_since = None
        request.ctx.api = request.path.startswith("/api/")
        token = request.cookies.get(COOKIE)
        if token:
            with store.sessions.begin() as session:
                found = auth.session_user(session, token)
                if found:
                    web, user = found
                    request.ctx.user, request.ctx.csrf, request.ctx.new_since = user, web.csrf_token, web.new_since
        user = request.ctx.user
        wanted = request.args.get("lang") if request.path == "/login" else None
        preferred = user.language if user else (wanted or request.cookies.get(LANG_COOKIE))
        request.ctx.lang = pick(preferred, request.headers.get("accept-language"))
        if request.method == "POST" and not request.ctx.api:
            given = request.form.get("csrf_token") if request.form else None
            if request.path == "/login":
                expected = request.cookies.get(LOGIN_CSRF_COOKIE)
            else:
                if user is None:
                    raise NeedsSignIn()
                expected = request.ctx.csrf
            if not auth.tokens_match(expected, given):
                return render(request, "error.html", status=403, message=translator(request.ctx.lang)("csrf_failed"))

    @app.on_response
    async def _after(request, resp):
        for header, value in SECURITY_HEADERS.items():
            resp.headers.setdefault(header, value)
        if not request.path.startswith("/static/"):
            resp.headers.setdefault("Cache-Control", "no-store")

    @app.exception(NeedsSignIn)
    async def _signed_out(request, exc):
        if request.path.startswith("/api/"):
            return response.json(
                {"error": "unauthorized", "message": "send Authorization: Bearer <token>"},
                status=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        return response.redirect("/login?" + urlencode({"next": request.path}))

    @app.exception(Forbidden)
    async def _forbidden(request, exc):
        if request.path.startswith("/api/"):
            return response.json({"error": "forbidden", "message": "this token may not do that"}, status=403)
        return render(request, "error.html", status=403, message=translator(request.ctx.lang)("forbidden"))

    @app.exception(NotFound)
    async def _not_found(request, exc):
        if request.path.startswith("/api/"):
            return response.json({"error": "not_found", "message": f"nothing at {request.path}"}, status=404)
        if not hasattr(request.ctx, "lang"):
            request.ctx.lang, request.ctx.user, request.ctx.csrf = "es", None, None
        return render(request, "error.html", status=404, message=translator(request.ctx.lang)("not_found"))

    console = Console(
        store=store,
        config=config,
        render=render,
        need=need,
        secure=secure,
        decisions=Decisions(store),
        live=live,
        dead_letters=DeliveryWorker(store),
        api_token=settings.CONSOLE_API_TOKEN.get() or None,
    )
    # GET /ready: 503 with the reason unless the database answers at the newest schema revision.
    observability.add_readiness(app, lambda: store.engine)
    # One blueprint per page group; each module says what its pages are.
    for pages in (sign_in, lead_pages, live_pages, flow_editor, analytics_pages, api, admin_pages, privacy_pages):
        app.blueprint(pages.blueprint(console))
    return app
