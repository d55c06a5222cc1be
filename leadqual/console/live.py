"""The console's live chats: what the pages read (who is waiting for a person, who is talking,
a conversation's transcript and status) and what the SDR does (take over, say, hand back), on top
of `leadqual.leads.takeover.LiveChats`, with the console's rules about who may do what:

- taking over needs an SDR id (the user's `sdr` link); any SDR may take over any conversation
  nobody is in (Intercom-style), but only the SDR in it talks in it;
- handing back: the SDR in it, or an admin (with or without an SDR id: `by` is their history id);
- takeovers and hand-backs are in the lead's history (`LeadNote`), as decisions are.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import func, or_, select

from leadqual.db.tables import Conversation, LiveChat, Message, utcnow
from leadqual.leads.store import Lead, LeadStore, conversation_key
from leadqual.leads.takeover import OPEN, LiveChats, RasaAPI, TakeoverError
from leadqual.leads.transcripts import lines_from_events
from leadqual.timeutil import aware

from .auth import User
from .decisions import Decisions

# The page's HTTP status for each refusal (the message itself is `takeover_<code>` in i18n.py).
ERROR_STATUS = {
    "taken": 409,
    "not_yours": 409,
    "not_taken_over": 409,
    "empty": 400,
    "too_long": 400,
    "no_sdr_id": 400,
    "unknown_sdr": 400,
    "unknown_conversation": 404,
    "rasa_unreachable": 503,
    "rasa_token": 502,
    "rasa_error": 502,
}
log = logging.getLogger(__name__)
# Rasa is asked on every view (and every transcript refresh): a slow Rasa must not hold a page long.
RASA_TIMEOUT = 5.0


def waited(since: datetime | None, now: datetime | None = None) -> str:
    """How long ago, short and the same in Spanish and English: 40 s, 12 min, 2 h 05 min, 3 d 4 h."""
    if since is None:
        return ""
    seconds = max(0, int(((now or utcnow()) - aware(since)).total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes:02d} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


class ConsoleChats(LiveChats):
    """LiveChats whose copy of the transcript after a step (take over, say, hand back) is best
    effort: the step itself has reached Rasa and is recorded, so a failed copy must not be
    reported as a failed step (the SDR would send again); the next page view copies the lines."""

    def sync(self, conversation_id: str) -> int:
        try:
            return super().sync(conversation_id)
        except TakeoverError as exc:
            log.warning("could not copy the transcript of %s after a takeover step: %s", conversation_id, exc)
            return 0

    def sync_strict(self, conversation_id: str) -> int:
        return super().sync(conversation_id)


class LiveConsole:
    def __init__(self, store: LeadStore, chats: LiveChats | None = None) -> None:
        self.store = store
        self.chats = chats or ConsoleChats(store, RasaAPI(timeout=RASA_TIMEOUT))
        self.decisions = Decisions(store)

    # -- reads ------------------------------------------------------------------------------

    def waiting_count(self) -> int:
        with self.store.sessions() as session:
            return session.scalar(select(func.count()).select_from(LiveChat).where(LiveChat.status == "requested")) or 0

    def _leads(self, session, ids) -> dict[str, Lead]:
        ids = [i for i in ids if i]
        if not ids:
            return {}
        return {lead.id: lead for lead in session.scalars(select(Lead).where(Lead.id.in_(ids)))}

    def overview(self, now: datetime | None = None) -> dict:
        """The live-chats page: requests oldest first (how long they have waited) and active takeovers."""
        now = now or utcnow()
        waiting, active = self.chats.waiting(), self.chats.active()
        with self.store.sessions() as session:
            leads = self._leads(session, [c["lead_id"] for c in waiting + active])
        rows = {}
        for name, chats in (("waiting", waiting), ("active", active)):
            rows[name] = []
            for chat in chats:
                lead = leads.get(chat["lead_id"])
                rows[name].append(
                    {
                        **chat,
                        "lead": {"id": lead.id, "name": lead.name, "email": lead.email, "owner": lead.owner}
                        if lead
                        else None,
                        "waited": waited(_moment(chat["requested_at"]), now),
                        "for": waited(_moment(chat["started_at"]), now),
                    }
                )
        return rows

    def conversation(self, conversation_id: str) -> dict | None:
        """A conversation's page: its lead, its open (or last) live chat and its lines; None if
        the store has never heard of it."""
        conversation_id = conversation_key(conversation_id)
        with self.store.sessions() as session:
            conversation = session.get(Conversation, conversation_id)
            if conversation is None:
                return None
            lead = session.get(Lead, conversation.lead_id) if conversation.lead_id else None
            last = session.scalars(
                select(LiveChat)
                .where(LiveChat.conversation_id == conversation_id)
                .order_by(LiveChat.id.desc())
                .limit(1)
            ).first()
            messages = [
                {"at": aware(m.at), "sender": m.sender, "author": m.author, "text": m.text}
                for m in session.scalars(
                    select(Message).where(Message.conversation_id == conversation_id).order_by(Message.at, Message.id)
                )
            ]
            return {
                "id": conversation_id,
                "language": conversation.language,
                "started_at": aware(conversation.started_at),
                "lead": {
                    "id": lead.id,
                    "name": lead.name,
                    "email": lead.email,
                    "company": lead.company,
                    "owner": lead.owner,
                    # Beside the chat: where the lead stands and what it answered, in its own words.
                    "stage": lead.stage,
                    "grade": lead.grade,
                    "total_score": lead.total_score,
                    "fit_score": lead.fit_score,
                    "behaviour_score": lead.behaviour_score,
                    "answers": _answered(lead.answers or {}),
                }
                if lead
                else None,
                "chat": {
                    "status": last.status,
                    "sdr_id": last.sdr_id,
                    "requested_at": aware(last.requested_at),
                    "started_at": aware(last.started_at),
                    "ended_at": aware(last.ended_at),
                    "ended_by": last.ended_by,
                    "waited": waited(last.requested_at),
                }
                if last
                else None,
                "messages": messages,
            }

    def lead_chats(self, lead_id: str) -> dict:
        """The lead page's live-chat block: open chats of the lead's conversations, and its latest conversation."""
        with self.store.sessions() as session:
            ids = list(session.scalars(select(Conversation.id).where(Conversation.lead_id == lead_id)))
            chats = session.scalars(
                select(LiveChat)
                .where(
                    LiveChat.status.in_(OPEN),
                    or_(LiveChat.lead_id == lead_id, LiveChat.conversation_id.in_(ids or [""])),
                )
                .order_by(LiveChat.id)
            )
            open_chats = [
                {
                    "conversation_id": c.conversation_id,
                    "status": c.status,
                    "sdr_id": c.sdr_id,
                    "waited": waited(c.requested_at),
                }
                for c in chats
            ]
            latest = session.scalars(
                select(Conversation.id)
                .where(Conversation.lead_id == lead_id)
                .order_by(Conversation.started_at.desc(), Conversation.id.desc())
                .limit(1)
            ).first()
        return {"open": open_chats, "latest": latest}

    # -- Rasa ---------------------------------------------------------------------------------

    def refresh(self, conversation_id: str) -> str | None:
        """Copy the conversation's new lines from Rasa; the error code if that failed (the page then
        shows what is stored). A conversation the store does not know is only recorded when Rasa
        has lines for it (a visitor who has not answered anything yet): a page view never creates
        a conversation out of any id typed into the address bar."""
        conversation_id = conversation_key(conversation_id)
        try:
            with self.store.sessions() as session:
                known = session.get(Conversation, conversation_id) is not None
            if known:
                strict = getattr(self.chats, "sync_strict", self.chats.sync)
                strict(conversation_id)
                return None
            lines = lines_from_events(self.chats.rasa.tracker(conversation_id).get("events") or [])
            if lines:
                self.store.save_transcript(conversation_id, lines)
            return None
        except TakeoverError as exc:
            return exc.code

    # -- what the SDR does ----------------------------------------------------------------------

    def take_over(self, user: User, conversation_id: str) -> dict:
        if not user.sdr_id:
            raise TakeoverError("no_sdr_id", f"{user.email} has no SDR id")
        before = self.chats.status(conversation_id)
        chat = self.chats.take_over(conversation_id, user.sdr_id)
        already = before is not None and before["status"] == "active" and before["sdr_id"] == user.sdr_id
        if chat["lead_id"] and not already:
            self.decisions.record_live(user, chat["lead_id"], "took_over", chat["conversation_id"])
        return chat

    def say(self, user: User, conversation_id: str, text: str) -> None:
        if not user.sdr_id:
            raise TakeoverError("no_sdr_id", f"{user.email} has no SDR id")
        self.chats.say(conversation_id, user.sdr_id, text)

    def hand_back(self, user: User, conversation_id: str) -> dict:
        chat = self.chats.status(conversation_id)
        if chat is None or chat["status"] != "active":
            raise TakeoverError("not_taken_over", "nobody has taken this conversation over")
        if user.role != "admin" and (not user.sdr_id or chat["sdr_id"] != user.sdr_id):
            raise TakeoverError("not_yours", f"{chat['sdr_id']} is talking in this conversation")
        chat = self.chats.hand_back(conversation_id, by=user.actor_id)
        if chat["lead_id"]:
            self.decisions.record_live(user, chat["lead_id"], "handed_back", chat["conversation_id"])
        return chat


def _moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _answered(answers: dict) -> list[tuple[str, str]]:
    """(question, what the visitor said or clicked) for the BANT questions answered."""
    said = []
    for slot in ("need", "timing", "budget", "authority"):
        value = answers.get(slot)
        if isinstance(value, dict) and not value.get("skipped") and value.get("text"):
            said.append((slot, str(value["text"])[:200]))
    return said
