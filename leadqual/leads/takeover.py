"""A person in the chat instead of the bot: the visitor asks for one, or an SDR takes over a live
conversation; the bot stays silent there until the SDR hands it back.

Silence is Rasa's own: a `pause` event makes Rasa store the visitor's messages without
predicting any action, and `resume` ends it (Rasa's HTTP API, behind its token). The SDR's
messages are `bot` events carrying `metadata.sdr` (and `sdr_name`, which the widget shows on
their bubbles), sent with `execute_side_effects` so the socket.io widget shows them at once.
Every line is copied into the product's transcript (`sync`), so the console and the CRM packet
show what the visitor and the SDR said.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

import requests
from sqlalchemy import select

from leadqual import settings
from leadqual.conversation.texts import Texts
from leadqual.db.tables import Conversation, Lead, LiveChat
from leadqual.delivery import outbox, routing
from leadqual.leads.store import LeadStore, conversation_key
from leadqual.leads.transcripts import MAX_TEXT, lines_from_events
from leadqual.timeutil import iso_utc, now_or

OPEN = ("requested", "active")


class TakeoverError(Exception):
    """A takeover step that cannot be done; `code` says which (for the console and the API)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class RasaAPI:
    """The few calls of Rasa's HTTP API that takeover needs, with explicit timeouts."""

    def __init__(self, url: str | None = None, token: str | None = None, timeout: float = 10.0) -> None:
        self.url = (url or os.environ.get("RASA_URL") or "http://127.0.0.1:5005").rstrip("/")
        self.token = token if token is not None else os.environ.get("RASA_AUTH_TOKEN", "")
        self.timeout = timeout

    def _tracker_url(self, conversation_id: str) -> str:
        return f"{self.url}/conversations/{quote(conversation_id, safe='')}/tracker"

    def append(self, conversation_id: str, events: list[dict]) -> dict:
        """Append events; bot events reach the visitor's widget (the channel they last used)."""
        return self._call(
            "post",
            self._tracker_url(conversation_id) + "/events",
            params={"output_channel": "latest", "execute_side_effects": "true"},
            json=events,
        )

    def tracker(self, conversation_id: str) -> dict:
        return self._call("get", self._tracker_url(conversation_id), params={})

    def _call(self, method: str, url: str, params: dict, **kwargs) -> dict:
        try:
            response = requests.request(
                method, url, params={**params, "token": self.token}, timeout=self.timeout, **kwargs
            )
        except requests.RequestException as exc:
            raise TakeoverError("rasa_unreachable", f"Rasa is not answering at {self.url}: {exc}") from exc
        if response.status_code in (401, 403):
            raise TakeoverError("rasa_token", "Rasa refused the API token (RASA_AUTH_TOKEN)")
        if response.status_code >= 400:
            raise TakeoverError("rasa_error", f"Rasa answered {response.status_code}: {response.text[:200]}")
        return response.json()


@dataclass(frozen=True)
class Request:
    """What the chat tells a visitor who asked for a person (see `LiveChats.request`)."""

    kind: str  # "live": an SDR is available and told; "later": contact within the SLA
    sdr_id: str | None
    sdr_name: str | None
    hours: int


def _chat_json(chat: LiveChat) -> dict:
    return {
        "id": chat.id,
        "conversation_id": chat.conversation_id,
        "lead_id": chat.lead_id,
        "status": chat.status,
        "sdr_id": chat.sdr_id,
        "requested_at": iso_utc(chat.requested_at),
        "started_at": iso_utc(chat.started_at),
        "ended_at": iso_utc(chat.ended_at),
        "ended_by": chat.ended_by,
    }


class LiveChats:
    """Requests for a person, takeovers and hand-backs, recorded in `live_chats`."""

    def __init__(self, store: LeadStore, rasa: RasaAPI | None = None, texts: Texts | None = None) -> None:
        self.store = store
        self.rasa = rasa or RasaAPI()
        self.texts = texts or Texts(config=store.config)

    # -- the visitor asks -------------------------------------------------------------------

    def request(self, conversation_id: str, now: datetime | None = None) -> Request:
        """The visitor asked for a person. If the lead's SDR is available now (business hours,
        not away) they are alerted (outbox kind `live`) and the visitor is told to wait here;
        otherwise the request waits in the console and the visitor hears the SLA."""
        now = now_or(now)
        handoff = self.store.config.handoff
        conversation_id = conversation_key(conversation_id)
        with self.store.sessions.begin() as session:
            conversation = session.get(Conversation, conversation_id)
            lead = session.get(Lead, conversation.lead_id) if conversation and conversation.lead_id else None
            sdr = handoff.sdr(lead.owner if lead else None)
            if sdr is None:  # not handed off yet: whoever is available now, without assigning
                sdr = next((s for s in handoff.sdrs if routing.available_now(s, handoff, now)), None)
            live = sdr is not None and routing.available_now(sdr, handoff, now)
            chat = self._open(session, conversation_id)
            if chat is None:
                chat = LiveChat(conversation_id=conversation_id, status="requested", requested_at=now)
                session.add(chat)
            if conversation is None:
                session.add(Conversation(id=conversation_id))
            chat.lead_id = lead.id if lead else None
            chat.sdr_id = sdr.id if live and sdr else chat.sdr_id
            session.flush()
            console = settings.CONSOLE_URL.get().rstrip("/")
            outbox.enqueue(
                session,
                "live",
                {
                    "type": "live_chat.requested",
                    "conversation_id": conversation_id,
                    "lead_id": chat.lead_id,
                    "sdr": chat.sdr_id,
                    "available": live,
                    "requested_at": iso_utc(now),
                    "contact": {"email": lead.email, "name": lead.name, "company": lead.company} if lead else {},
                    "links": {"take_over": f"{console}/live/{quote(conversation_id, safe='')}"} if console else {},
                },
                lead_id=chat.lead_id,
                key=f"live-{chat.id}",
                now=now,
            )
        if live and sdr is not None:
            return Request("live", sdr.id, sdr.name, handoff.sla_hours)
        owner = handoff.sdr(lead.owner if lead else None)
        return Request("later", owner.id if owner else None, owner.name if owner else None, handoff.sla_hours)

    # -- the SDR ----------------------------------------------------------------------------

    def take_over(self, conversation_id: str, sdr_id: str, now: datetime | None = None) -> dict:
        """Silence the bot in the conversation and greet the visitor as the SDR."""
        now = now_or(now)
        conversation_id = conversation_key(conversation_id)
        sdr = self._sdr(sdr_id)
        with self.store.sessions.begin() as session:
            conversation = session.get(Conversation, conversation_id)
            if conversation is None:  # a visitor who has not answered anything yet: Rasa knows them
                tracker = self.rasa.tracker(conversation_id)
                if not lines_from_events(tracker.get("events") or []):
                    raise TakeoverError("unknown_conversation", f"no conversation {conversation_id!r}")
                language = (tracker.get("slots") or {}).get("language") or "es"
                conversation = Conversation(id=conversation_id, language=str(language)[:5])
                session.add(conversation)
                session.flush()
            chat = self._open(session, conversation_id, lock=True)
            if chat is not None and chat.status == "active":
                if chat.sdr_id == sdr_id:
                    return _chat_json(chat)
                raise TakeoverError("taken", f"{chat.sdr_id} is already talking in this conversation")
            if chat is None:
                chat = LiveChat(conversation_id=conversation_id, requested_at=None)
                session.add(chat)
            chat.status, chat.sdr_id, chat.started_at = "active", sdr_id, now
            chat.lead_id = conversation.lead_id
            lang = conversation.language or "es"
            joined = self.texts.response("utter_sdr_joined", lang, sdr_name=sdr.name)["text"]
            # Rasa last: if it fails, nothing is recorded; the visitor sees the greeting only
            # once Rasa has stopped the bot.
            self.rasa.append(conversation_id, [{"event": "pause"}, self._line(joined, sdr_id, sdr.name)])
            session.flush()
            result = _chat_json(chat)
        self.sync(conversation_id)
        return result

    def say(self, conversation_id: str, sdr_id: str, text: str) -> None:
        """Send the SDR's message to the visitor (only the SDR who took the conversation over)."""
        text = (text or "").strip()
        if not text:
            raise TakeoverError("empty", "the message is empty")
        if len(text) > MAX_TEXT:
            raise TakeoverError("too_long", f"the message is longer than {MAX_TEXT} characters")
        conversation_id = conversation_key(conversation_id)
        with self.store.sessions() as session:
            chat = self._open(session, conversation_id)
            if chat is None or chat.status != "active":
                raise TakeoverError("not_taken_over", "take the conversation over first")
            if chat.sdr_id != sdr_id:
                raise TakeoverError("not_yours", f"{chat.sdr_id} is talking in this conversation")
        sdr = self.store.config.handoff.sdr(sdr_id)
        self.rasa.append(conversation_id, [self._line(text, sdr_id, sdr.name if sdr else None)])
        self.sync(conversation_id)

    def hand_back(self, conversation_id: str, by: str, now: datetime | None = None) -> dict:
        """Give the conversation back to the bot (the SDR in it, or an admin: `by`)."""
        now = now_or(now)
        conversation_id = conversation_key(conversation_id)
        with self.store.sessions.begin() as session:
            chat = self._open(session, conversation_id, lock=True)
            if chat is None or chat.status != "active":
                raise TakeoverError("not_taken_over", "nobody has taken this conversation over")
            conversation = session.get(Conversation, conversation_id)
            lang = (conversation.language if conversation else None) or "es"
            sdr = self.store.config.handoff.sdr(chat.sdr_id)
            back = self.texts.response("utter_sdr_left", lang, sdr_name=sdr.name if sdr else "")["text"]
            self.rasa.append(
                conversation_id, [self._line(back, chat.sdr_id, sdr.name if sdr else None), {"event": "resume"}]
            )
            chat.status, chat.ended_at, chat.ended_by = "ended", now, by
            session.flush()
            result = _chat_json(chat)
        self.sync(conversation_id)
        return result

    def sync(self, conversation_id: str) -> int:
        """Copy the conversation's new lines from Rasa into the transcript; returns how many.
        While the bot is silent no action runs, so this is how the visitor's messages arrive."""
        tracker = self.rasa.tracker(conversation_key(conversation_id))
        return self.store.save_transcript(conversation_id, lines_from_events(tracker.get("events") or []))

    # -- lists for the console -----------------------------------------------------------------

    def waiting(self) -> list[dict]:
        """Visitors who asked for a person and nobody has answered yet, oldest first."""
        return self._list("requested")

    def active(self) -> list[dict]:
        return self._list("active")

    def status(self, conversation_id: str) -> dict | None:
        with self.store.sessions() as session:
            chat = self._open(session, conversation_key(conversation_id))
            return _chat_json(chat) if chat else None

    def _list(self, status: str) -> list[dict]:
        with self.store.sessions() as session:
            rows = session.scalars(
                select(LiveChat).where(LiveChat.status == status).order_by(LiveChat.requested_at, LiveChat.id)
            )
            return [_chat_json(chat) for chat in rows]

    # -- helpers ------------------------------------------------------------------------------

    def _open(self, session, conversation_id: str, lock: bool = False) -> LiveChat | None:
        query = (
            select(LiveChat)
            .where(LiveChat.conversation_id == conversation_id, LiveChat.status.in_(OPEN))
            .order_by(LiveChat.id.desc())
            .limit(1)
        )
        if lock:
            query = query.with_for_update()
        return session.scalars(query).first()

    def _sdr(self, sdr_id: str):
        sdr = self.store.config.handoff.sdr(sdr_id)
        if sdr is None:
            raise TakeoverError("unknown_sdr", f"no SDR {sdr_id!r} in handoff.sdrs")
        return sdr

    @staticmethod
    def _line(text: str, sdr_id: str | None, sdr_name: str | None = None) -> dict:
        metadata = {"sdr": sdr_id, "sdr_name": sdr_name} if sdr_name else {"sdr": sdr_id}
        return {"event": "bot", "text": text, "metadata": metadata}
