"""The SDR console: a Sanic app with server-rendered pages (Jinja2, autoescaped) and a JSON API.

Pages need a signed-in user (a session cookie); every POST carries the session's CSRF token,
checked in one place (`_before`) so no route can forget it. The API (`/api/...`) takes a bearer
token: a user's own (admin page) or `LEADQUAL_CONSOLE_API_TOKEN` (read-only).
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from collections import OrderedDict, deque
from datetime import datetime
from pathlib import Path
from urllib.parse import quote, urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sanic import Sanic, response
from sanic.exceptions import NotFound
from sqlalchemy import select

from leadqual import settings, timeutil
from leadqual.delivery.outbox import DeliveryWorker
from leadqual.http import clientaddr, observability
from leadqual.leads import serialize
from leadqual.leads.store import Lead, LeadStore
from leadqual.leads.transcripts import MAX_TEXT
from leadqual.scoring.stages import MACHINE, REASON_CODES, STAGES

from . import analytics_pages, auth, flow_editor, privacy_pages
from .auth import AuthError, User
from .decisions import STAGE_DECISIONS, DecisionError, Decisions, allowed
from .i18n import LANGUAGES, REASONS, pick, translator
from .live import ERROR_STATUS, LiveConsole, TakeoverError
from .queries import PAGE_SIZE, QUEUE, UNASSIGNED, FilterError, LeadFilter, export_csv, lead_page, list_leads

HERE = Path(__file__).resolve().parent
COOKIE = "lq_session"
LOGIN_CSRF_COOKIE = "lq_login_csrf"
LANG_COOKIE = "lq_lang"
# Failed sign-ins one client address may make in LOGIN_WINDOW, to any accounts, before it is
# told to wait (per process; the per-account-and-address lockout in auth.py holds across
# processes). The address is the one behind LEADQUAL_TRUSTED_PROXIES (leadqual/http/clientaddr.py),
# not the proxy's: otherwise one client could make every sign-in wait.
LOGIN_LIMIT, LOGIN_WINDOW = 20, 15 * 60
# Addresses the throttle remembers (least recently failed dropped first): bounded memory.
THROTTLE_ADDRESSES = 100_000
log = logging.getLogger(__name__)
SECURITY_HEADERS = {
    # No script runs on any console page: visitor text that slipped through would still be inert.
    # Pages may frame this console's own pages (the live transcript); only that one may be framed.
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-src 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}
DECISION_LABELS = {
    "accepted": "accept",
    "qualified": "qualify",
    "converted": "convert",
    "rejected": "reject",
    "recycled": "recycle",
    "reassigned": "reassign",
    "noted": "add_note",
    "took_over": "take_over",
    "identity_confirmed": "confirm_identity",
}
# The live transcript (an iframe in the live conversation page) is the one page that may be framed, by this origin.
FRAMEABLE = {
    "Content-Security-Policy": SECURITY_HEADERS["Content-Security-Policy"].replace(
        "frame-ancestors 'none'", "frame-ancestors 'self'"
    ),
    "X-Frame-Options": "SAMEORIGIN",
}
LIVE_DONE = ("took_over", "sent", "handed_back")
# How often the live transcript reloads itself (no scripts: a meta refresh in its iframe).
LIVE_REFRESH_SECONDS = 5


class NeedsSignIn(Exception):
    pass


class Forbidden(Exception):
    pass


def _templates() -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never another origin (open redirect)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/leads"


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


def build_app(store: LeadStore | None = None, name: str = "leadqual_console", live: LiveConsole | None = None) -> Sanic:
    store = store or LeadStore()
    store.create_schema()
    app = Sanic(name)
    # Bodies over this are refused (413) from their Content-Length, before they are read.
    app.config.REQUEST_MAX_SIZE = 1_000_000
    clientaddr.trusted_proxies()  # a bad LEADQUAL_TRUSTED_PROXIES fails at start-up, named
    env = _templates()
    decisions = Decisions(store)
    throttle = Throttle()
    config = store.config
    api_token = settings.CONSOLE_API_TOKEN.get() or None
    https = settings.CONSOLE_URL.get().startswith("https://")
    dead_letters = DeliveryWorker(store)
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

    # -- signing in and out ----------------------------------------------------------------

    @app.get("/health")
    async def health(request):
        return response.json({"ok": True})

    # GET /ready: 503 with the reason unless the database answers at the newest schema revision.
    observability.add_readiness(app, lambda: store.engine)

    @app.get("/static/console.css")
    async def stylesheet(request):
        return await response.file(HERE / "static" / "console.css", headers={"Cache-Control": "max-age=300"})

    @app.get("/")
    async def home(request):
        return response.redirect("/leads")

    def login_page(request, status: int = 200, error: str | None = None):
        token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(32)
        request.ctx.csrf = token
        resp = render(
            request, "login.html", status=status, error=error, next=_safe_next(request.args.get("next")), email=""
        )
        resp.add_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="Lax", secure=secure(request), path="/")
        if request.args.get("lang") in LANGUAGES:
            resp.add_cookie(LANG_COOKIE, request.args["lang"], samesite="Lax", secure=secure(request), path="/")
        return resp

    @app.get("/login")
    async def login_form(request):
        if request.ctx.user is not None:
            return response.redirect(_safe_next(request.args.get("next")))
        return login_page(request)

    @app.post("/login")
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
        resp = response.redirect(_safe_next(request.form.get("next")))
        resp.add_cookie(COOKIE, token, httponly=True, samesite="Lax", secure=secure(request), path="/")
        resp.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
        return resp

    @app.post("/logout")
    async def logout(request):
        with store.sessions.begin() as session:
            auth.end_session(session, request.cookies.get(COOKIE))
        resp = response.redirect("/login")
        resp.delete_cookie(COOKIE, path="/")
        return resp

    @app.post("/language")
    async def language(request):
        user = need(request, "read")
        lang = request.form.get("lang")
        if lang in LANGUAGES:
            with store.sessions.begin() as session:
                session.get(User, user.id).language = lang
        return response.redirect(_safe_next(request.form.get("next")))

    # -- the lead list ---------------------------------------------------------------------

    def owners() -> list[tuple[str, str]]:
        choices = [(s.id, s.name) for s in config.handoff.sdrs]
        return choices + [(QUEUE + config.handoff.fallback_queue, config.handoff.fallback_queue)]

    @app.get("/leads")
    async def leads(request):
        user = need(request, "read")
        args = {k: request.args.get(k) for k in request.args}
        try:
            lead_filter = LeadFilter.parse(args)
            page = list_leads(
                store,
                lead_filter,
                after=args.get("after"),
                before=args.get("before"),
                new_since=timeutil.aware(request.ctx.new_since),
            )
            error, status = None, 200
        except FilterError as exc:
            lead_filter, page, error, status = LeadFilter(), None, f"{exc.field}: {exc}", 400
        keep = lead_filter.query_args()
        return render(
            request,
            "leads.html",
            status=status,
            page=page,
            error=error,
            filters=keep,
            stages=STAGES,
            grades=[f"{letter}{n}" for letter in "ABCD" for n in "123"],
            owners=owners(),
            unassigned=UNASSIGNED,
            languages=LANGUAGES,
            can_export=user.can("export"),
            query=lambda **extra: urlencode({**keep, **extra}),
        )

    @app.get("/leads.csv")
    async def leads_csv(request):
        need(request, "export")
        try:
            lead_filter = LeadFilter.parse({k: request.args.get(k) for k in request.args})
        except FilterError as exc:
            return response.text(f"{exc.field}: {exc}", status=400)
        out = await request.respond(
            content_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="leads.csv"', "Cache-Control": "no-store"},
        )
        for chunk in export_csv(store, lead_filter):
            await out.send(chunk)
        await out.eof()

    # -- the lead page and decisions -------------------------------------------------------

    def show_lead(request, lead_id: str, status: int = 200, error: str | None = None, done: str | None = None):
        user = request.ctx.user
        data = lead_page(store, lead_id)
        if data is None:
            raise NotFound("no such lead")
        lead = data["lead"]
        targets = MACHINE.allowed_targets(lead["stage"], "person")
        stage_decisions = [d for d, (target, _) in STAGE_DECISIONS.items() if target in targets]
        return render(
            request,
            "lead.html",
            status=status,
            error=error,
            done=done,
            can_decide=allowed(user, lead),
            stage_decisions=stage_decisions,
            reasons={d: sorted(r) for d, (_, r) in STAGE_DECISIONS.items() if r},
            decision_labels=DECISION_LABELS,
            sdrs=config.handoff.sdrs,
            live_chats=live.lead_chats(lead_id) if user.can("decide") else None,
            **data,
        )

    @app.get("/leads/<lead_id:str>")
    async def lead(request, lead_id: str):
        need(request, "read")
        done = request.args.get("done")
        return show_lead(request, lead_id, done=done if done in DECISION_LABELS else None)

    @app.post("/leads/<lead_id:str>/decide")
    async def decide(request, lead_id: str):
        user = need(request, "decide")
        form = request.form
        decision = form.get("decision") or ""
        note = (form.get("note") or "").strip()
        try:
            if decision in STAGE_DECISIONS:
                decisions.move(user, lead_id, decision, reason=form.get("reason"), note=note)
            elif decision == "reassigned":
                decisions.reassign(user, lead_id, form.get("sdr") or "", note=note)
            elif decision == "noted":
                decisions.add_note(user, lead_id, note)
            elif decision == "identity_confirmed":  # an unverified chat is that lead's person
                try:
                    merged = await asyncio.to_thread(store.confirm_identity, lead_id, user.email)
                except KeyError as exc:
                    raise DecisionError("no_claim", str(exc).strip("'")) from None
                return response.redirect(f"/leads/{merged['id']}?done={decision}")
            else:
                raise DecisionError("unknown_decision", f"unknown decision {decision!r}")
        except DecisionError as exc:
            if exc.code == "unknown_lead":
                raise NotFound("no such lead") from None
            return show_lead(request, lead_id, status=403 if exc.code == "forbidden" else 400, error=str(exc))
        return response.redirect(f"/leads/{lead_id}?done={decision}")

    # -- live chats ------------------------------------------------------------------------

    def live_path(conversation_id: str, **args) -> str:
        return f"/live/{quote(conversation_id, safe='')}" + (("?" + urlencode(args)) if args else "")

    @app.get("/live")
    async def live_list(request):
        need(request, "decide")
        return render(request, "live.html", **live.overview())

    async def show_live(request, conversation_id: str, status: int = 200, error: str | None = None, **context):
        user = request.ctx.user
        rasa_error = await asyncio.to_thread(live.refresh, conversation_id)
        chat = live.conversation(conversation_id)
        if chat is None and rasa_error is None:
            raise NotFound("no such conversation")
        return render(
            request,
            "live_chat.html",
            status=status,
            error=error,
            rasa_error=rasa_error,
            conversation_id=conversation_id,
            chat=chat,
            is_mine=bool(chat and chat["chat"] and chat["chat"]["status"] == "active")
            and user.sdr_id is not None
            and chat["chat"]["sdr_id"] == user.sdr_id,
            max_text=MAX_TEXT,
            **context,
        )

    @app.get("/live/<conversation_id:str>", unquote=True)
    async def live_chat(request, conversation_id: str):
        need(request, "decide")
        done = request.args.get("done")
        return await show_live(request, conversation_id, done=done if done in LIVE_DONE else None)

    @app.get("/live/<conversation_id:str>/transcript", unquote=True)
    async def live_transcript(request, conversation_id: str):
        need(request, "decide")
        rasa_error = await asyncio.to_thread(live.refresh, conversation_id)
        chat = live.conversation(conversation_id)
        open_chat = bool(chat and chat["chat"] and chat["chat"]["status"] in ("requested", "active"))
        resp = render(
            request,
            "live_transcript.html",
            chat=chat,
            rasa_error=rasa_error,
            refresh=LIVE_REFRESH_SECONDS if open_chat else None,
        )
        resp.headers.update(FRAMEABLE)
        return resp

    async def live_action(request, conversation_id: str, action, done: str, draft: str = ""):
        user = need(request, "decide")
        try:
            await asyncio.to_thread(action, user)
        except TakeoverError as exc:
            message = translator(request.ctx.lang)("takeover_" + exc.code)
            if exc.code == "no_sdr_id" and user.role == "admin":
                message = translator(request.ctx.lang)("takeover_admin_no_sdr_id")
            return await show_live(
                request, conversation_id, status=ERROR_STATUS.get(exc.code, 400), error=message, draft=draft
            )
        return response.redirect(live_path(conversation_id, done=done), status=303)

    @app.post("/live/<conversation_id:str>/take-over", unquote=True)
    async def live_take_over(request, conversation_id: str):
        return await live_action(
            request, conversation_id, lambda user: live.take_over(user, conversation_id), "took_over"
        )

    @app.post("/live/<conversation_id:str>/say", unquote=True)
    async def live_say(request, conversation_id: str):
        text = request.form.get("text") or ""
        return await live_action(
            request, conversation_id, lambda user: live.say(user, conversation_id, text), "sent", draft=text
        )

    @app.post("/live/<conversation_id:str>/hand-back", unquote=True)
    async def live_hand_back(request, conversation_id: str):
        return await live_action(
            request, conversation_id, lambda user: live.hand_back(user, conversation_id), "handed_back"
        )

    # -- marketing: the question flow (/flow) and analytics (/analytics) --------------------

    flow_editor.register(app, store, render, need)
    analytics_pages.register(app, store, render, need)

    # -- the JSON API ----------------------------------------------------------------------

    def api_user(request) -> User | None:
        header = request.headers.get("authorization") or ""
        scheme, _, token = header.partition(" ")
        if scheme.lower() == "bearer" and token:
            token = token.strip()
            if api_token and auth.tokens_match(api_token, token):
                return User(email="api", role="marketing", disabled=False, password_hash="")
            with store.sessions() as session:
                user = auth.api_user(session, token)
            if user is not None:
                return user
        return request.ctx.user

    def api_need(request) -> User:
        user = api_user(request)
        if user is None:
            raise NeedsSignIn()
        if not user.can("read"):
            raise Forbidden()
        return user

    @app.get("/api/leads")
    async def api_leads(request):
        api_need(request)
        args = {k: request.args.get(k) for k in request.args}
        try:
            lead_filter = LeadFilter.parse(args)
            limit_text = args.get("limit") or str(PAGE_SIZE)
            if not limit_text.isdigit() or not 1 <= int(limit_text) <= 500:
                raise FilterError("limit", f"limit must be a number from 1 to 500, not {limit_text!r}")
            page = list_leads(store, lead_filter, after=args.get("after"), limit=int(limit_text))
        except FilterError as exc:
            return response.json({"error": "bad_filter", "field": exc.field, "message": str(exc)}, status=400)
        ids = [row["id"] for row in page.rows]
        with store.sessions() as session:
            rows = {lead.id: lead for lead in session.scalars(select(Lead).where(Lead.id.in_(ids)))}
            leads_json = [serialize.lead_json(session, rows[i], history=False) for i in ids if i in rows]
        return response.json(
            {"leads": leads_json, "total": page.total, "next": page.next_cursor},
            dumps=lambda value: json.dumps(value, ensure_ascii=False),
        )

    @app.get("/api/leads/<lead_id:str>")
    async def api_lead(request, lead_id: str):
        api_need(request)
        lead = store.get(lead_id)
        if lead is None:
            return response.json({"error": "not_found", "message": f"no lead with id {lead_id!r}"}, status=404)
        return response.json(lead, dumps=lambda value: json.dumps(value, ensure_ascii=False))

    # -- admin -----------------------------------------------------------------------------

    def users_page(request, status: int = 200, error: str | None = None, notice: str | None = None):
        with store.sessions() as session:
            users = list(session.scalars(select(User).order_by(User.email)))
        return render(
            request,
            "users.html",
            status=status,
            users=users,
            roles=auth.ROLES,
            sdrs=config.handoff.sdrs,
            error=error,
            notice=notice,
        )

    @app.get("/admin/users")
    async def admin_users(request):
        need(request, "admin")
        return users_page(request)

    @app.post("/admin/users")
    async def admin_create_user(request):
        need(request, "admin")
        form = request.form
        try:
            with store.sessions.begin() as session:
                auth.create_user(
                    session,
                    form.get("email") or "",
                    form.get("password") or "",
                    form.get("role") or "",
                    name=form.get("name") or "",
                    sdr_id=form.get("sdr_id") or None,
                )
        except AuthError as exc:
            return users_page(request, status=400, error=str(exc))
        return response.redirect("/admin/users")

    @app.post("/admin/users/<user_id:int>")
    async def admin_change_user(request, user_id: int):
        admin = need(request, "admin")
        action = request.form.get("action")
        token = None
        try:
            with store.sessions.begin() as session:
                target = session.get(User, user_id)
                if target is None:
                    raise AuthError("unknown_user", f"no user {user_id}")
                if target.id == admin.id and action in ("disable", "role"):
                    raise AuthError("self", "you cannot disable yourself or change your own role")
                if action == "role":
                    auth.set_role(session, target, request.form.get("role") or "")
                elif action in ("disable", "enable"):
                    auth.set_disabled(session, target, action == "disable")
                elif action == "token":
                    token = auth.new_api_token(session, target)
                    email = target.email
                else:
                    raise AuthError("unknown_action", f"unknown action {action!r}")
        except AuthError as exc:
            return users_page(request, status=400, error=str(exc))
        if token:
            notice = translator(request.ctx.lang)("token_once", email=email, token=token)
            return users_page(request, notice=notice)
        return response.redirect("/admin/users")

    @app.get("/admin/dead-letters")
    async def admin_dead_letters(request):
        need(request, "admin")
        retried = request.args.get("retried")
        return render(request, "dead_letters.html", letters=dead_letters.dead_letters(limit=200), retried=retried)

    @app.post("/admin/dead-letters/<message_id:str>/retry")
    async def admin_retry(request, message_id: str):
        need(request, "admin")
        if not dead_letters.retry(message_id):
            raise NotFound("no such dead letter")
        return response.redirect("/admin/dead-letters?" + urlencode({"retried": message_id}))

    # -- privacy (GDPR): export and erase one person (/admin/privacy) ------------------------

    privacy_pages.register(app, store, render, need)

    return app
