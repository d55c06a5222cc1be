"""Live chats: the waiting list, a conversation, its transcript, take over, say, hand back."""

from __future__ import annotations

import asyncio
from urllib.parse import quote, urlencode

from sanic import Blueprint, response
from sanic.exceptions import NotFound

from leadqual.leads.transcripts import MAX_TEXT

from .context import (
    FRAMEABLE,
    LIVE_DONE,
    LIVE_REFRESH_SECONDS,
    Console,
)
from .i18n import translator
from .live import ERROR_STATUS, TakeoverError


def _is_mine(chat: dict | None, user) -> bool:
    """Whether the signed-in SDR is the one talking in this chat now."""
    live = (chat or {}).get("chat")
    return bool(live and live["status"] == "active" and user.sdr_id is not None and live["sdr_id"] == user.sdr_id)


def blueprint(console: Console) -> Blueprint:
    bp = Blueprint("live_pages")
    render, need, live = console.render, console.need, console.live

    # -- live chats ------------------------------------------------------------------------

    def live_path(conversation_id: str, **args) -> str:
        return f"/live/{quote(conversation_id, safe='')}" + (("?" + urlencode(args)) if args else "")

    @bp.get("/live")
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
            is_mine=_is_mine(chat, user),
            max_text=MAX_TEXT,
            **context,
        )

    @bp.get("/live/<conversation_id:str>", unquote=True)
    async def live_chat(request, conversation_id: str):
        need(request, "decide")
        done = request.args.get("done")
        return await show_live(request, conversation_id, done=done if done in LIVE_DONE else None)

    @bp.get("/live/<conversation_id:str>/transcript", unquote=True)
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

    def refusal(request, user, exc: TakeoverError) -> tuple[int, str]:
        """The status and the sentence, in the user's language, of a refused live-chat action."""
        t = translator(request.ctx.lang)
        admin_without_id = exc.code == "no_sdr_id" and user.role == "admin"
        message = t("takeover_admin_no_sdr_id") if admin_without_id else t("takeover_" + exc.code)
        return ERROR_STATUS.get(exc.code, 400), message

    async def live_action(request, conversation_id: str, action, done: str, draft: str = ""):
        user = need(request, "decide")
        try:
            await asyncio.to_thread(action, user)
        except TakeoverError as exc:
            status, message = refusal(request, user, exc)
            return await show_live(request, conversation_id, status=status, error=message, draft=draft)
        return response.redirect(live_path(conversation_id, done=done), status=303)

    @bp.post("/live/<conversation_id:str>/take-over", unquote=True)
    async def live_take_over(request, conversation_id: str):
        return await live_action(
            request, conversation_id, lambda user: live.take_over(user, conversation_id), "took_over"
        )

    def composer(request, conversation_id: str, status: int = 200, error: str | None = None, **context):
        """The message box, in its own frame: sending reloads it alone (the page and its
        transcript frame stay), and the transcript frame's reload does not wipe a draft."""
        chat = live.conversation(conversation_id)
        if chat is None:
            raise NotFound("no such conversation")
        resp = render(
            request,
            "live_composer.html",
            status=status,
            error=error,
            conversation_id=conversation_id,
            is_mine=_is_mine(chat, request.ctx.user),
            max_text=MAX_TEXT,
            **context,
        )
        resp.headers.update(FRAMEABLE)
        return resp

    @bp.get("/live/<conversation_id:str>/composer", unquote=True)
    async def live_composer(request, conversation_id: str):
        need(request, "decide")
        return composer(request, conversation_id, sent=request.args.get("sent") == "1")

    @bp.post("/live/<conversation_id:str>/say", unquote=True)
    async def live_say(request, conversation_id: str):
        text = request.form.get("text") or ""
        if request.form.get("from") != "composer":  # a plain form post: the whole page again
            return await live_action(
                request, conversation_id, lambda user: live.say(user, conversation_id, text), "sent", draft=text
            )
        user = need(request, "decide")
        try:
            await asyncio.to_thread(live.say, user, conversation_id, text)
        except TakeoverError as exc:
            status, message = refusal(request, user, exc)
            return composer(request, conversation_id, status=status, error=message, draft=text)
        path = f"/live/{quote(conversation_id, safe='')}/composer?sent=1"
        return response.redirect(path, status=303)

    @bp.post("/live/<conversation_id:str>/hand-back", unquote=True)
    async def live_hand_back(request, conversation_id: str):
        return await live_action(
            request, conversation_id, lambda user: live.hand_back(user, conversation_id), "handed_back"
        )

    return bp
