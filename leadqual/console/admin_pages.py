"""Admin: console users and API tokens, and the outbox's dead letters."""

from __future__ import annotations

from urllib.parse import urlencode

from sanic import Blueprint, response
from sanic.exceptions import NotFound
from sqlalchemy import select

from . import auth
from .auth import AuthError, User
from .context import (
    Console,
)
from .i18n import translator


def blueprint(console: Console) -> Blueprint:
    bp = Blueprint("admin_pages")
    store = console.store
    config = console.config
    render = console.render
    need = console.need
    dead_letters = console.dead_letters

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

    @bp.get("/admin/users")
    async def admin_users(request):
        need(request, "admin")
        return users_page(request)

    @bp.post("/admin/users")
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

    @bp.post("/admin/users/<user_id:int>")
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

    @bp.get("/admin/dead-letters")
    async def admin_dead_letters(request):
        need(request, "admin")
        retried = request.args.get("retried")
        return render(request, "dead_letters.html", letters=dead_letters.dead_letters(limit=200), retried=retried)

    @bp.post("/admin/dead-letters/<message_id:str>/retry")
    async def admin_retry(request, message_id: str):
        need(request, "admin")
        if not dead_letters.retry(message_id):
            raise NotFound("no such dead letter")
        return response.redirect("/admin/dead-letters?" + urlencode({"retried": message_id}))

    return bp
