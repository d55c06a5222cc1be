"""Personal data on request and on a schedule (GDPR): export one person, erase one person, and
delete what led nowhere after a retention period.

A person is found by email, as `LeadStore.get_by_email` finds them (an email merged into another
lead finds that lead: the merge said they are one person). Their data is the lead and everything
linked to it: conversations (and conversations of their browsers that never got a lead) with their
transcripts and per-question analytics, browsers (visitors), tracked events (also the anonymous
ones of their browsers and their user id), score changes, stage history, consents, console notes,
live chats, outbox messages about them (delivered, pending or dead: an erased person's data is
never sent), and the lead_merges rows naming them.

`erase_person` deletes all of it in one transaction and leaves an `Erasure` row with no personal
data (a random id, when, who, why with emails and phone numbers masked, counts). In the same
transaction:

- the person's conversation ids and emails go to `erased_identities` as SHA-256 hashes: from then
  on a save of those conversations (the visitor typing once more in a chat Rasa still holds), or
  of a conversation begun before the erasure that gives one of those emails, stores nothing
  (`LeadStore.save_conversation` returns `{"erased": True, ...}`, and the chat starts over). A
  conversation begun after the erasure is a new lead, with consent asked again;
- other leads' free text that mentions the person (notes, transcript lines, answers, stage notes,
  consent answers, merge reasons, tracked events, outbox payloads) has the person's emails and
  phone numbers replaced by "[erased]", and their name too where it stands with them;
- each webhook destination that received the person (CRM, nurture tool, live-chat alerts) gets an
  outbox message of kind "erase" (`lead.erase`: the lead ids and SHA-256 hashes of the emails,
  never the emails), due a minute later so that deliveries already in flight arrive first.

After the commit:

- Rasa's SQL tracker store: the person's conversations are deleted (table `events`, by
  `sender_id` = our conversation ids) when `LEADQUAL_RASA_TRACKER_STORE_URL` is set (or the
  LEADQUAL_TRACKER_DB_* variables of deploy/endpoints.production.yml). If it cannot be reached
  the sender ids wait on the erasure row;
- Rasa's HTTP API (`LEADQUAL_RASA_URL` or `RASA_URL`, with `RASA_AUTH_TOKEN`): each conversation
  is replaced by a lone `restart` event (`PUT /conversations/<id>/tracker/events`) and read back
  to check that no line is left; this is what empties Rasa's default in-memory tracker store.
  Not configured or failing: the conversation waits in `erased_identities` as "pending";
- the local handoff files (`<LEADQUAL_HANDOFF_DIR or var>/handoff-*.jsonl`) lose the person's
  lines, and other lines that mention them are rewritten scrubbed, each file atomically;
- the servers' log files (`<LEADQUAL_LOG_DIR or var>/{rasa,actions,console,site}.log`, and
  rotated copies) have the person's emails and phone numbers overwritten in place (see
  `scrub_logs`);
- this host's spool of failed saves forgets the person.

`apply_retention` (`bin/leads retention`, daily) retries what waits. `receipt` words the result.

Nothing here imports Rasa.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import os
import re
import stat
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import requests
from sqlalchemy import (
    JSON,
    Column,
    MetaData,
    String,
    Table,
    Text,
    and_,
    cast,
    create_engine,
    delete,
    false,
    func,
    inspect,
    or_,
    select,
    update,
)
from sqlalchemy.engine import URL
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from leadqual import settings
from leadqual.conversation.analytics import QuestionEvent, UnansweredQuestion
from leadqual.db.tables import (
    Consent,
    Conversation,
    CrmRecord,
    ErasedIdentity,
    Erasure,
    Lead,
    LeadMerge,
    LeadNote,
    LiveChat,
    Message,
    ScoreChange,
    StageTransition,
    TrackedEvent,
    Visitor,
    new_id,
)
from leadqual.delivery.outbox import DELIVERED, PENDING, Destinations, OutboxMessage
from leadqual.leads import serialize
from leadqual.leads.spool import DEFAULT_PATH, SaveSpool
from leadqual.leads.store import LeadStore, conversation_key, erased_key
from leadqual.masking import NOT_PHONE, PHONE
from leadqual.masking import mask as mask_personal_data
from leadqual.settings import VAR
from leadqual.timeutil import iso_utc, now_or

__all__ = [
    "TRACKER_STORE_ENV",
    "RasaConversations",
    "RasaResetError",
    "TrackerStoreError",
    "apply_retention",
    "erase_person",
    "erase_tracker_conversations",
    "export_person",
    "receipt",
    "retry_rasa_resets",
    "retry_tracker_erasures",
    "scrub_logs",
    "tracker_store_url",
]

log = logging.getLogger(__name__)

TRACKER_STORE_ENV = settings.RASA_TRACKER_STORE_URL.name
EXPORT_FORMAT = "leadqual-person-export/1"
# A lead that reached any of these was qualified once: its transcripts are kept.
QUALIFIED_STAGES = ("mql", "sal", "sql", "opportunity")
MAX_REASON = 1000
_CHUNK = 500


class TrackerStoreError(RuntimeError):
    """The tracker store URL does not lead to a Rasa SQL tracker store (table `events` with
    `sender_id`), or the delete failed."""


def tracker_store_url() -> str | None:
    """$LEADQUAL_RASA_TRACKER_STORE_URL (a SQLAlchemy URL), else the URL of the PostgreSQL tracker
    store that deploy/endpoints.production.yml configures Rasa with (LEADQUAL_TRACKER_DB_HOST,
    _PORT, _NAME, _USER, _PASSWORD), else None: the tracker store is not touched."""
    url = settings.RASA_TRACKER_STORE_URL.get()
    if url:
        return url
    host, name = settings.TRACKER_DB_HOST.get(), settings.TRACKER_DB_NAME.get()
    if not host or not name:
        return None
    port = settings.TRACKER_DB_PORT.get() or None
    return URL.create(
        "postgresql+psycopg",
        username=settings.TRACKER_DB_USER.get() or None,
        password=settings.TRACKER_DB_PASSWORD.get() or None,
        host=host,
        port=int(port) if port and port.isdigit() else None,
        database=name,
    ).render_as_string(hide_password=False)


# -- Rasa's HTTP API ----------------------------------------------------------------------------

RASA_URL_ENVS = (settings.RASA_URL.name, "RASA_URL")
RASA_TOKEN_ENV = "RASA_AUTH_TOKEN"
# Characters a URL path carries as they are (RFC 3986 pchar, and "/": Rasa's route takes a path).
# Rasa 3.6 (Sanic) does not decode percent-escapes in `<conversation_id:path>`: "ana%20b" names
# the conversation "ana%20b", not "ana b". A sender id with any other character cannot be named.
_PATH_SAFE = "/!$&'()*+,;=:@-._~"


class RasaResetError(RuntimeError):
    """Rasa did not empty a conversation: not reachable, token refused, an error, or lines left."""


class RasaConversations:
    """The two calls of Rasa's HTTP API (3.6, `--enable-api` behind `RASA_AUTH_TOKEN`) that empty a
    conversation: replace its events with a lone `restart`, then read it back."""

    def __init__(self, url: str, token: str, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout

    @classmethod
    def from_env(cls, environ=None) -> RasaConversations | None:
        """$LEADQUAL_RASA_URL (else $RASA_URL) and $RASA_AUTH_TOKEN; None when either is missing."""
        environ = os.environ if environ is None else environ
        url = next((environ.get(name) for name in RASA_URL_ENVS if environ.get(name)), None)
        token = environ.get(RASA_TOKEN_ENV)
        return cls(url, token) if url and token else None

    @staticmethod
    def addressable(sender_id: str | None) -> bool:
        """Whether Rasa's HTTP API can name this conversation (see _PATH_SAFE)."""
        return bool(sender_id) and quote(sender_id, safe=_PATH_SAFE) == sender_id and not sender_id.startswith("/")

    def _tracker_url(self, sender_id: str) -> str:
        if not self.addressable(sender_id):
            raise RasaResetError("Rasa's HTTP API cannot name this conversation (its id needs percent-escapes)")
        return f"{self.url}/conversations/{sender_id}/tracker"

    def _call(self, method: str, url: str, params: dict, **kwargs) -> dict:
        try:
            response = requests.request(
                method, url, params={**params, "token": self.token}, timeout=self.timeout, **kwargs
            )
        except requests.RequestException as exc:
            raise RasaResetError(f"Rasa is not answering at {self.url}: {type(exc).__name__}") from exc
        if response.status_code in (401, 403):
            raise RasaResetError(f"Rasa refused the API token ({RASA_TOKEN_ENV}): HTTP {response.status_code}")
        if response.status_code >= 400:
            raise RasaResetError(
                f"Rasa answered HTTP {response.status_code}: {mask_personal_data(response.text[:200])}"
            )
        try:
            return response.json()
        except ValueError as exc:
            raise RasaResetError("Rasa's answer is not JSON") from exc

    def reset(self, sender_id: str) -> None:
        """Replace the conversation with a lone `restart` event, then check (all its events, also
        those before a restart) that no visitor or bot line is left. A SQL tracker store keeps
        its rows on a replace: its conversations are deleted in the database instead
        (`erase_tracker_conversations`), and until then this raises."""
        url = self._tracker_url(sender_id)
        self._call("put", url + "/events", {}, json=[{"event": "restart"}])
        tracker = self._call("get", url, {"include_events": "ALL"})
        left = [e for e in tracker.get("events") or [] if isinstance(e, dict) and e.get("event") in ("user", "bot")]
        if left:
            raise RasaResetError(
                f"Rasa kept {len(left)} lines of the conversation (a SQL tracker store: set {TRACKER_STORE_ENV})"
            )


def _chunks(items: list, size: int = _CHUNK):
    for i in range(0, len(items), size):
        yield items[i : i + size]


# -- who is the person --------------------------------------------------------------------------


class _Person:
    """The ids of every row held about one person (read in the caller's transaction)."""

    def __init__(self, session: Session, lead: Lead, email: str) -> None:
        self.lead = lead
        self.email_keys = {email.strip().lower()} | ({lead.email_key} if lead.email_key else set())
        merges = session.scalars(
            select(LeadMerge).where(
                or_(
                    LeadMerge.target_id == lead.id,
                    LeadMerge.source_id == lead.id,
                    func.lower(LeadMerge.source_email).in_(sorted(self.email_keys)),
                )
            )
        ).all()
        self.merges = [m for m in merges if m.target_id == lead.id or m.source_id == lead.id]
        # Emails the person had on leads folded into this one: theirs too.
        self.email_keys |= {m.source_email.lower() for m in self.merges if m.source_email}
        self.merge_ids = [m.id for m in merges]
        # Chats that gave one of the person's emails without being verified (leadqual/leads/identity.py):
        # held under that email, so exported and erased with the person.
        self.claim_ids = sorted(
            session.scalars(select(Lead.id).where(func.lower(Lead.claimed_email).in_(sorted(self.email_keys))))
        )
        own = [lead.id, *self.claim_ids]
        self.lead_ids = sorted({*own} | {m.source_id for m in self.merges})
        self.visitor_ids = list(session.scalars(select(Visitor.anonymous_id).where(Visitor.lead_id.in_(own))))
        conversation_filter = Conversation.lead_id.in_(own)
        if self.visitor_ids:  # their browsers' conversations that never got a lead
            conversation_filter = or_(
                conversation_filter,
                and_(Conversation.lead_id.is_(None), Conversation.anonymous_id.in_(self.visitor_ids)),
            )
        self.conversation_ids = list(session.scalars(select(Conversation.id).where(conversation_filter)))
        event_filter = [TrackedEvent.lead_id.in_(own)]
        if self.visitor_ids:
            event_filter.append(and_(TrackedEvent.lead_id.is_(None), TrackedEvent.anonymous_id.in_(self.visitor_ids)))
        if lead.user_id:
            event_filter.append(and_(TrackedEvent.lead_id.is_(None), TrackedEvent.user_id == lead.user_id))
        self.event_filter = or_(*event_filter)
        live_filter = LiveChat.lead_id.in_(self.lead_ids)
        if self.conversation_ids:
            live_filter = or_(live_filter, LiveChat.conversation_id.in_(self.conversation_ids))
        self.live_filter = live_filter
        # Outbox messages: by lead id, and live-chat alerts about their conversations sent
        # before the conversation had a lead.
        self.outbox_ids = list(
            session.scalars(select(OutboxMessage.id).where(OutboxMessage.lead_id.in_(self.lead_ids)))
        )
        if self.conversation_ids:
            wanted = set(self.conversation_ids)
            for message in session.scalars(
                select(OutboxMessage).where(OutboxMessage.lead_id.is_(None), OutboxMessage.kind == "live")
            ):
                if (message.payload or {}).get("conversation_id") in wanted:
                    self.outbox_ids.append(message.id)

    def question_event_ids(self, session: Session) -> list[str]:
        """The conversations as analytics names them: Rasa's sender id as sent, which for odd
        ids is what our hashed conversation id ("h:...") was made from."""
        ids = set(self.conversation_ids)
        hashed = {c for c in ids if c.startswith("h:")}
        if hashed:
            for sender_id in session.scalars(select(QuestionEvent.conversation_id).distinct()):
                if conversation_key(sender_id) in hashed:
                    ids.add(sender_id)
        return sorted(ids)

    def in_conversations(self, column):
        return column.in_(self.conversation_ids) if self.conversation_ids else false()


def _find(session: Session, store: LeadStore, email: str) -> _Person | None:
    if not email or not email.strip():
        return None
    lead = serialize.find_by_email(session, email)
    return _Person(session, lead, email) if lead is not None else None


# -- export -------------------------------------------------------------------------------------


def export_person(store: LeadStore, email: str, now: datetime | None = None) -> dict:
    """Everything held about the person with this email, as one JSON-ready document (GDPR art. 15
    and 20). `found` is False when nothing is held."""
    now = now_or(now)
    document: dict = {"format": EXPORT_FORMAT, "exported_at": iso_utc(now), "email": email, "found": False}
    with store.sessions() as session:
        person = _find(session, store, email)
        if person is None:
            return document
        lead = person.lead
        data = serialize.lead_json(session, lead)
        document["found"] = True
        document["lead"] = data
        document["answers"] = lead.answers or {}
        document["consents"] = [
            {
                "purpose": c.purpose,
                "granted": c.granted,
                "wording": c.wording,
                "answer": c.answer,
                "source": c.source,
                "conversation_id": c.conversation_id,
                "flow_version": c.flow_version,
                "language": c.language,
                "at": iso_utc(c.at),
            }
            for c in session.scalars(select(Consent).where(Consent.lead_id == lead.id).order_by(Consent.id))
        ]
        document["visitors"] = [
            {
                "anonymous_id": v.anonymous_id,
                "first_seen_at": iso_utc(v.first_seen_at),
                "last_seen_at": iso_utc(v.last_seen_at),
            }
            for v in session.scalars(select(Visitor).where(Visitor.lead_id == lead.id).order_by(Visitor.first_seen_at))
        ]
        document["events"] = [
            {
                "message_id": e.message_id,
                "type": e.type,
                "name": e.name,
                "url": e.url,
                "anonymous_id": e.anonymous_id,
                "user_id": e.user_id,
                "properties": e.properties or {},
                "timestamp": iso_utc(e.timestamp),
                "received_at": iso_utc(e.received_at),
                "source": e.source,
            }
            for e in session.scalars(select(TrackedEvent).where(person.event_filter).order_by(TrackedEvent.timestamp))
        ]
        conversations = session.scalars(
            select(Conversation)
            .where(person.in_conversations(Conversation.id))
            .order_by(Conversation.started_at, Conversation.id)
        ).all()
        lines: dict[str, list] = {c.id: [] for c in conversations}
        for m in session.scalars(
            select(Message).where(person.in_conversations(Message.conversation_id)).order_by(Message.at, Message.id)
        ):
            lines[m.conversation_id].append(
                {"at": iso_utc(m.at), "sender": m.sender, "author": m.author, "text": m.text, "data": m.data or {}}
            )
        document["conversations"] = [
            {
                "conversation_id": c.id,
                "lead_id": c.lead_id,
                "anonymous_id": c.anonymous_id,
                "language": c.language,
                "started_at": iso_utc(c.started_at),
                "messages": lines[c.id],
            }
            for c in conversations
        ]
        document["question_events"] = [
            {
                "conversation_id": q.conversation_id,
                "flow_version": q.flow_version,
                "language": q.language,
                "question": q.question,
                "kind": q.kind,
                "at": iso_utc(q.at),
            }
            for q in session.scalars(
                select(QuestionEvent)
                .where(QuestionEvent.conversation_id.in_(person.question_event_ids(session)))
                .order_by(QuestionEvent.at, QuestionEvent.id)
            )
        ]
        document["notes"] = [
            {"kind": n.kind, "author": n.author, "text": n.text, "data": n.data or {}, "at": iso_utc(n.at)}
            for n in session.scalars(select(LeadNote).where(LeadNote.lead_id == lead.id).order_by(LeadNote.id))
        ]
        document["live_chats"] = [
            {
                "conversation_id": c.conversation_id,
                "status": c.status,
                "sdr_id": c.sdr_id,
                "requested_at": iso_utc(c.requested_at),
                "started_at": iso_utc(c.started_at),
                "ended_at": iso_utc(c.ended_at),
                "ended_by": c.ended_by,
            }
            for c in session.scalars(select(LiveChat).where(person.live_filter).order_by(LiveChat.id))
        ]
        outbox = (
            session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.id.in_(person.outbox_ids))
                .order_by(OutboxMessage.created_at, OutboxMessage.id)
            ).all()
            if person.outbox_ids
            else []
        )
        document["outbox_messages"] = [
            {
                "id": o.id,
                "kind": o.kind,
                "destination": o.destination,
                "status": o.status,
                "created_at": iso_utc(o.created_at),
                "delivered_at": iso_utc(o.delivered_at),
                "payload": o.payload,
            }
            for o in outbox
        ]
        document["merged_leads"] = [
            {
                "lead_id": m.source_id,
                "into": m.target_id,
                "email": m.source_email,
                "reason": m.reason,
                "at": iso_utc(m.at),
            }
            for m in person.merges
        ]
    return json.loads(json.dumps(document, default=str, ensure_ascii=False))


# -- erase --------------------------------------------------------------------------------------

PLACEHOLDER = "[erased]"
# Erase messages are due this much later than the erasure: a packet about the person that a worker
# claimed just before (its lease is 43 s by default) reaches the destination first, not after.
ERASE_MESSAGE_DELAY = timedelta(seconds=60)
LOG_DIR_ENV = settings.LOG_DIR.name
DEFAULT_VAR = VAR
# The servers' logs as bin/run writes them, with any rotated copies (rasa.log.1, rasa.log.2.gz...).
LOG_NAMES = ("rasa.log", "actions.log", "console.log", "site.log")


def email_sha256(email: str) -> str:
    """How an erase message names an email: SHA-256 (hex) of it trimmed and lower-cased, so the
    receiver finds its record by hashing its own copy, and the message carries no email."""
    return hashlib.sha256(email.strip().lower().encode("utf-8")).hexdigest()


def _scrub(text: str, emails: set[str], names: set[str] = frozenset()) -> str:
    """The operator's reason without the person's emails (and name) in it, and any other email
    address or phone number masked (leadqual/http/observability.py)."""
    text = (text or "").strip()[:MAX_REASON]
    for email in sorted(emails, key=len, reverse=True):
        text = re.sub(re.escape(email), PLACEHOLDER, text, flags=re.IGNORECASE)
    for name in sorted(names, key=len, reverse=True):
        text = re.sub(rf"(?<!\w){re.escape(name)}(?!\w)", PLACEHOLDER, text, flags=re.IGNORECASE)
    return mask_personal_data(text)


def _delete(session: Session, statement) -> int:
    return session.execute(statement.execution_options(synchronize_session=False)).rowcount or 0


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list | tuple):
        return [s for v in value for s in _strings(v)]
    return []


def _phone_digits(texts) -> set[str]:
    """The phone numbers in these texts, as digits (9 to 15 of them)."""
    found = set()
    for text in texts:
        for match in PHONE.finditer(text):
            if not NOT_PHONE.search(match.group(0)):
                digits = re.sub(r"\D", "", match.group(0))
                if 9 <= len(digits) <= 15:
                    found.add(digits)
    return found


class _Needles:
    """What names the erased person in someone else's text: their emails, their phone numbers
    (however spaced, with or without the country code) and, only in a text that also has one of
    those, their name."""

    def __init__(self, emails: set[str], phones: set[str] = frozenset(), names: set[str] = frozenset()) -> None:
        self.emails = sorted({e for e in emails if e}, key=len, reverse=True)
        # The last nine digits identify a number whatever its prefix: +34 600 12 34 56, 600123456.
        self.cores = sorted({d[-9:] for d in phones if len(d) >= 9})
        self.names = sorted({n for n in names if len(n) >= 3}, key=len, reverse=True)
        parts = [re.escape(e) for e in self.emails]
        parts += [
            r"(?<![\d+])(?:\(?(?:\+|00)?\d{1,3}\)?[ .\-]{0,2})?" + "[ .\\-()]{0,2}".join(core) + r"(?!\d)"
            for core in self.cores
        ]
        self.pattern = re.compile("|".join(parts), re.IGNORECASE) if parts else None
        self.name_pattern = (
            re.compile("|".join(rf"(?<!\w){re.escape(n)}(?!\w)" for n in self.names), re.IGNORECASE)
            if self.names
            else None
        )

    def __bool__(self) -> bool:
        return self.pattern is not None

    def hit(self, value) -> bool:
        return self.pattern is not None and any(self.pattern.search(s) for s in _strings(value))

    def scrub(self, value):
        """`value` (a string, or JSON) with the person replaced by the placeholder."""
        if isinstance(value, str):
            text = self.pattern.sub(PLACEHOLDER, value) if self.pattern else value
            return self.name_pattern.sub(PLACEHOLDER, text) if self.name_pattern else text
        if isinstance(value, dict):
            return {k: self.scrub(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.scrub(v) for v in value]
        return value

    def candidates(self, column):
        """A SQL condition that every row mentioning the person meets (a superset: rows are
        checked again in Python)."""
        text_of = cast(column, Text) if isinstance(column.type, JSON) else column
        conditions = [func.lower(text_of).contains(e, autoescape=True) for e in self.emails]
        conditions += [text_of.like("%" + "%".join(core) + "%") for core in self.cores]
        return or_(*conditions)


# Free text of other leads that may name the person: (what the receipt calls it, model, columns).
SCRUBBED = (
    ("lead_notes", LeadNote, ("text", "data")),
    ("messages", Message, ("text", "data")),
    ("leads", Lead, ("answers",)),
    ("stage_transitions", StageTransition, ("note",)),
    ("consents", Consent, ("answer",)),
    ("lead_merges", LeadMerge, ("reason",)),
    ("events", TrackedEvent, ("url", "properties")),
    ("outbox_messages", OutboxMessage, ("payload",)),
)


def _scrub_others(session: Session, needles: _Needles) -> dict[str, int]:
    """Replace the person in the free text of rows left after their own were deleted; the rows
    changed, by table."""
    changed: dict[str, int] = {}
    if not needles:
        return changed
    for table, model, names in SCRUBBED:
        columns = [getattr(model, name) for name in names]
        rows = session.scalars(select(model).where(or_(*(needles.candidates(c) for c in columns)))).all()
        for row in rows:
            values = {name: getattr(row, name) for name in names}
            if not any(needles.hit(v) for v in values.values()):
                continue
            for name, value in values.items():
                scrubbed = needles.scrub(value)
                if scrubbed != value:
                    setattr(row, name, scrubbed)
            changed[table] = changed.get(table, 0) + 1
    session.flush()
    return {t: n for t, n in changed.items() if n}


def _identities(session: Session, person: _Person) -> dict:
    """Read before the delete: who the person is in text (emails, phones, name) and how Rasa
    names their conversations (raw sender ids; an odd one stored hashed is found again in the
    analytics, which keep it as sent)."""
    lead = person.lead
    texts = _strings(lead.answers or {}) + _strings(lead.profile or {})
    texts += list(
        session.scalars(
            select(Message.text).where(person.in_conversations(Message.conversation_id), Message.sender == "visitor")
        )
    )
    texts += list(session.scalars(select(LeadNote.text).where(LeadNote.lead_id.in_(person.lead_ids))))
    texts += list(session.scalars(select(Consent.answer).where(Consent.lead_id.in_(person.lead_ids))))
    names = {lead.name.strip()} if lead.name and lead.name.strip() else set()
    answered = (lead.answers or {}).get("name")
    if isinstance(answered, dict) and isinstance(answered.get("value"), str) and answered["value"].strip():
        names.add(answered["value"].strip())
    senders: dict[str, str | None] = {c: (None if c.startswith("h:") else c) for c in person.conversation_ids}
    for raw in person.question_event_ids(session):
        key = conversation_key(raw)
        if key != raw and key in senders and senders[key] is None:
            senders[key] = raw
    received = {}
    for chunk in _chunks(person.outbox_ids):
        for destination, status, attempts in session.execute(
            select(OutboxMessage.destination, OutboxMessage.status, OutboxMessage.attempts).where(
                OutboxMessage.id.in_(chunk)
            )
        ):
            # Delivered, or tried (a timeout after the receiver stored it counts): it may hold them.
            if status == DELIVERED or (attempts or 0) > 0:
                received[destination] = True
    return {"phones": _phone_digits(texts), "names": names, "senders": senders, "received": sorted(received)}


def erase_person(
    store: LeadStore,
    email: str,
    by: str,
    reason: str,
    now: datetime | None = None,
    tracker_url: str | None = None,
    *,
    rasa: RasaConversations | None | bool = True,
    destinations: Destinations | None = None,
    log_paths: list[Path] | None = None,
) -> dict:
    """Delete everything held about the person with this email (GDPR art. 17); see the module.

    Returns the receipt as data: {"erasure_id", "found", "counts": {table: rows deleted},
    "tracker_store": {...}, "rasa": {...}, "refused": {...}, "scrubbed": {table: rows},
    "destinations": {...}, "handoff_files": [...], "logs": {...}, "spooled_saves": n}.
    Erasing someone already erased finds nothing and is recorded as such. `tracker_url` defaults
    to $LEADQUAL_RASA_TRACKER_STORE_URL, `rasa` to the HTTP API of the environment (None or False:
    not configured), `destinations` to the outbox's (LEADQUAL_*_WEBHOOK_URL, LEADQUAL_HANDOFF_DIR),
    `log_paths` to `log_files()`."""
    if not (by or "").strip():
        raise ValueError("say who erases (by)")
    if not (reason or "").strip():
        raise ValueError("give the reason for the erasure")
    now = now_or(now)
    tracker_url = tracker_url if tracker_url is not None else tracker_store_url()
    rasa = RasaConversations.from_env() if rasa is True else (rasa or None)
    destinations = destinations or Destinations.from_env()

    emails = {email.strip().lower()}

    def work(session: Session) -> dict:
        person = _find(session, store, email)
        counts: dict[str, int] = {}
        sender_ids: list[str] = []
        found: dict = {"phones": set(), "names": set(), "senders": {}, "received": []}
        crm_records: list[dict] = []
        erasure_id = new_id()
        if person is not None:
            emails.update(person.email_keys)
            found = _identities(session, person)
            conv = person.in_conversations
            lead_ids = person.lead_ids
            counts["messages"] = _delete(session, delete(Message).where(conv(Message.conversation_id)))
            counts["question_events"] = sum(
                _delete(session, delete(QuestionEvent).where(QuestionEvent.conversation_id.in_(chunk)))
                for chunk in _chunks(person.question_event_ids(session))
            )
            counts["unanswered_questions"] = sum(
                _delete(session, delete(UnansweredQuestion).where(UnansweredQuestion.conversation_id.in_(chunk)))
                for chunk in _chunks(person.question_event_ids(session))
            )
            counts["live_chats"] = _delete(session, delete(LiveChat).where(person.live_filter))
            counts["consents"] = _delete(session, delete(Consent).where(Consent.lead_id.in_(lead_ids)))
            counts["score_changes"] = _delete(session, delete(ScoreChange).where(ScoreChange.lead_id.in_(lead_ids)))
            counts["stage_transitions"] = _delete(
                session, delete(StageTransition).where(StageTransition.lead_id.in_(lead_ids))
            )
            counts["notes"] = _delete(session, delete(LeadNote).where(LeadNote.lead_id.in_(lead_ids)))
            counts["events"] = _delete(session, delete(TrackedEvent).where(person.event_filter))
            counts["visitors"] = _delete(session, delete(Visitor).where(Visitor.lead_id.in_(lead_ids)))
            crm_records = [
                {"system": row.system, "record_id": row.record_id}
                for row in session.scalars(select(CrmRecord).where(CrmRecord.lead_id.in_(lead_ids)))
                if row.record_id
            ]
            counts["crm_records"] = _delete(session, delete(CrmRecord).where(CrmRecord.lead_id.in_(lead_ids)))
            counts["outbox_messages"] = sum(
                _delete(session, delete(OutboxMessage).where(OutboxMessage.id.in_(chunk)))
                for chunk in _chunks(person.outbox_ids)
            )
            counts["lead_merges"] = (
                _delete(session, delete(LeadMerge).where(LeadMerge.id.in_(person.merge_ids))) if person.merge_ids else 0
            )
            counts["conversations"] = _delete(session, delete(Conversation).where(conv(Conversation.id)))
            counts["leads"] = _delete(session, delete(Lead).where(Lead.id.in_(lead_ids)))
            sender_ids = sorted(person.conversation_ids)
        if not sender_ids:
            status = "nothing"
        elif tracker_url:
            status = "pending"
        else:
            status = "not_configured"
        needles = _Needles(emails, found["phones"], found["names"])
        scrubbed = _scrub_others(session, needles)
        # Other chats that only claimed the person's email (leadqual/leads/identity.py) forget it.
        claims = session.execute(
            update(Lead)
            .where(func.lower(Lead.claimed_email).in_(sorted(emails)))
            .values(claimed_email=None, claims_lead_id=None)
        ).rowcount
        if claims:
            scrubbed["leads.claimed_email"] = scrubbed.get("leads.claimed_email", 0) + claims
        erasure = Erasure(
            id=erasure_id,
            at=now,
            by=by.strip()[:320],
            reason=_scrub(reason, emails, found["names"]),
            counts=counts,
            tracker_store=status,
            pending_sender_ids=sender_ids if status == "pending" else [],
        )
        session.add(erasure)
        session.flush()
        # From now on nothing of these comes back (LeadStore.save_conversation refuses them).
        for address in sorted(e for e in emails if e):
            session.add(
                ErasedIdentity(
                    erasure_id=erasure_id, kind="email", key_hash=erased_key("email", address), erased_at=now
                )
            )
        for key, raw in sorted(found["senders"].items()):
            session.add(
                ErasedIdentity(
                    erasure_id=erasure_id,
                    kind="conversation",
                    key_hash=erased_key("conversation", key),
                    erased_at=now,
                    rasa_reset="pending" if RasaConversations.addressable(raw) else "unaddressable",
                    pending_sender_id=raw if RasaConversations.addressable(raw) else None,
                )
            )
        received = found["received"]
        if person is not None and crm_records and "crm" not in received:
            received = [*received, "crm"]
        messaged = _queue_erase_messages(session, person, emails, received, destinations, erasure_id, now, crm_records)
        return {
            "erasure_id": erasure_id,
            "found": person is not None,
            "counts": counts,
            "sender_ids": sender_ids,
            "senders": found["senders"],
            "needles": needles,
            "scrubbed": scrubbed,
            "messaged": messaged,
            "lead_ids": person.lead_ids if person is not None else [],
        }

    done = store.transaction(work)
    erasure_id, sender_ids, needles = done["erasure_id"], done["sender_ids"], done["needles"]
    result = {"erasure_id": erasure_id, "found": done["found"], "counts": done["counts"]}
    if not sender_ids:
        result["tracker_store"] = {"status": "nothing", "note": "no conversation to delete"}
    elif not tracker_url:
        result["tracker_store"] = {
            "status": "not_configured",
            "conversations": len(sender_ids),
            "note": f"{TRACKER_STORE_ENV} (or LEADQUAL_TRACKER_DB_*) is not set: Rasa's tracker store was not touched "
            "(the default in-memory store forgets conversations when Rasa restarts)",
        }
    else:
        result["tracker_store"] = _finish_tracker_erasure(store, erasure_id, sender_ids, tracker_url)
    result["rasa"] = _reset_in_rasa(store, rasa, erasure_id=erasure_id)
    result["refused"] = {
        "conversations": len(done["senders"]),
        "emails": len(emails),
        "note": "stored as SHA-256 hashes: a later save of these conversations, or of an older conversation "
        "giving these emails, stores nothing",
    }
    result["scrubbed"] = done["scrubbed"]
    files = _rewrite_handoff_files(_handoff_paths(destinations), needles, set(done["lead_ids"]), set(sender_ids))
    result["destinations"] = {"messaged": done["messaged"], "files": files}
    result["logs"] = scrub_logs(needles, log_paths if log_paths is not None else log_files())
    result["spooled_saves"] = _forget_spooled(sender_ids, emails)
    _record_figures(store, erasure_id, result)
    return result


def _queue_erase_messages(
    session: Session,
    person: _Person | None,
    emails: set[str],
    received: list[str],
    destinations: Destinations,
    erasure_id: str,
    now: datetime,
    crm_records: list[dict] | None = None,
) -> list[dict]:
    """An outbox message of kind "erase" (delivered as `lead.erase`) for each webhook destination
    that received something about the person; a local destination (a handoff file) is rewritten
    instead. Its payload names the person by lead ids and email hashes only."""
    if person is None:
        return []
    queued = []
    for name in received:
        destination = destinations.by_name.get(name)
        if destination is None or destination.local:
            queued.append({"destination": name, "how": "file" if destination else "unknown destination"})
            continue
        key = f"erase-{erasure_id}-{name}"[:200]
        session.add(
            OutboxMessage(
                id=new_id(),
                key=key,
                kind="erase",
                destination=name,
                payload={
                    "type": "lead.erase",
                    "erasure_id": erasure_id,
                    "lead_id": person.lead.id,
                    "lead_ids": person.lead_ids,
                    "email_sha256": sorted(email_sha256(e) for e in emails),
                    "requested_at": iso_utc(now),
                    "note": "GDPR art. 17: delete everything held about this lead",
                    # A native CRM's own records of the person (HubSpot contact, Salesforce Lead).
                    **({"crm_records": list(crm_records)} if name == "crm" and crm_records else {}),
                },
                status=PENDING,
                attempts=0,
                next_attempt_at=now + ERASE_MESSAGE_DELAY,
                created_at=now,
                lead_id=person.lead.id,
            )
        )
        queued.append({"destination": name, "how": "outbox", "key": key, "due": iso_utc(now + ERASE_MESSAGE_DELAY)})
    return queued


def _record_figures(store: LeadStore, erasure_id: str, result: dict) -> None:
    """What was done after the commit, as counts on the erasure record (numbers only)."""
    figures = {
        "rows_scrubbed": sum(result["scrubbed"].values()),
        "erase_messages": sum(1 for m in result["destinations"]["messaged"] if m["how"] == "outbox"),
        "handoff_lines_removed": sum(f["removed"] for f in result["destinations"]["files"]),
        "handoff_lines_rewritten": sum(f["rewritten"] for f in result["destinations"]["files"]),
        "log_lines_scrubbed": sum(f["lines"] for f in result["logs"]["files"]),
        "rasa_conversations_reset": result["rasa"].get("reset", 0),
    }
    figures = {k: v for k, v in figures.items() if v}
    if not figures:
        return
    with store.sessions.begin() as session:
        erasure = session.get(Erasure, erasure_id)
        if erasure is not None:
            erasure.counts = {**(erasure.counts or {}), **figures}


def receipt(result: dict) -> str:
    """The erasure's result for people: every store touched, and what waits."""
    out = [f"Erasure {result['erasure_id']}: " + ("person found" if result["found"] else "no lead with this email")]
    deleted = {t: n for t, n in result["counts"].items() if n}
    out.append("Product database, rows deleted: " + (_figures(deleted) or "none"))
    tracker = result["tracker_store"]
    if tracker["status"] == "deleted":
        line = f"deleted {tracker['events']} events of {tracker['conversations']} conversations"
    elif tracker["status"] == "pending":
        line = f"PENDING for {tracker['conversations']} conversations ({tracker.get('error')}); {tracker['note']}"
    else:
        line = f"{tracker['status']}: {tracker['note']}"
    out.append("Rasa SQL tracker store: " + line)
    rasa = result["rasa"]
    if rasa["status"] == "nothing" and not rasa.get("unaddressable"):
        line = "no conversation to reset"
    else:
        line = f"{rasa['reset']} conversations reset, {rasa['pending']} pending"
        if rasa.get("unaddressable"):
            line += f", {rasa['unaddressable']} not addressable (odd sender ids)"
        if rasa.get("error"):
            line += f" ({rasa['error']})"
        if rasa.get("note"):
            line += f"; {rasa['note']}"
    out.append("Rasa conversations (HTTP API): " + line)
    refused = result["refused"]
    out.append(f"Refused from now on: {refused['conversations']} conversations, {refused['emails']} emails (as hashes)")
    out.append("Other leads' free text scrubbed, rows: " + (_figures(result["scrubbed"]) or "none"))
    messaged = result["destinations"]["messaged"]
    outbox = [m for m in messaged if m["how"] == "outbox"]
    line = ", ".join(f"{m['destination']} (outbox {m['key']}, due {m['due']})" for m in outbox) or "none"
    others = [m for m in messaged if m["how"] != "outbox"]
    if others:
        line += "; " + ", ".join(f"{m['destination']}: {m['how']}" for m in others)
    out.append("Destinations sent an erase message: " + line)
    files = result["destinations"]["files"]
    out.append(
        "Handoff files rewritten: "
        + (
            ", ".join(
                f"{f['path']} ({f['removed']} lines removed, {f['rewritten']} rewritten"
                + (f", ERROR {f['error']}" if f.get("error") else "")
                + ")"
                for f in files
            )
            or "none"
        )
    )
    logs = result["logs"]
    line = ", ".join(f"{f['path']} ({f['lines']} lines)" for f in logs["files"]) or "none"
    if logs["skipped"]:
        line += "; NOT scrubbed: " + ", ".join(f"{f['path']} ({f['reason']})" for f in logs["skipped"])
    out.append("Log lines scrubbed: " + line)
    out.append(f"Spooled saves dropped (this host): {result['spooled_saves']}")
    return "\n".join(out)


def _figures(counts: dict[str, int]) -> str:
    return ", ".join(f"{table} {n}" for table, n in sorted(counts.items()))


# -- Rasa's copy of the conversations (HTTP API) ---------------------------------------------------


def _reset_in_rasa(store: LeadStore, rasa: RasaConversations | None, erasure_id: str | None = None) -> dict:
    """Empty in Rasa each erased conversation still waiting ("pending"): those of this erasure,
    or (None) of every erasure. Stops at the first unreachable Rasa; the rest stay pending."""
    with store.sessions() as session:
        query = select(ErasedIdentity).where(ErasedIdentity.kind == "conversation")
        if erasure_id is not None:
            query = query.where(ErasedIdentity.erasure_id == erasure_id)
        rows = session.scalars(query.order_by(ErasedIdentity.id)).all()
    waiting = [(r.id, r.pending_sender_id) for r in rows if r.rasa_reset == "pending" and r.pending_sender_id]
    unaddressable = sum(1 for r in rows if r.rasa_reset == "unaddressable")
    result = {"status": "nothing", "reset": 0, "pending": len(waiting), "unaddressable": unaddressable}
    if unaddressable:
        result["unaddressable_note"] = (
            "odd sender ids that Rasa's HTTP API cannot name (stored hashed and their raw form gone, or with "
            "characters that need percent-escapes): their saves are refused, and a SQL tracker store deletes "
            "them by hash"
        )
    if not waiting:
        return result
    if rasa is None:
        result["status"] = "pending"
        result["note"] = (
            f"{' or '.join(RASA_URL_ENVS)} and {RASA_TOKEN_ENV} are not set: Rasa's copy was not reset; "
            "retried by `bin/leads retention` (their saves are refused meanwhile)"
        )
        return result
    error = None
    done: list[int] = []
    for row_id, sender_id in waiting:
        try:
            rasa.reset(sender_id)
        except RasaResetError as exc:
            error = str(exc)
            log.warning("erasure: resetting a conversation in Rasa failed (%s); retried later", error)
            if "not answering" in error or "token" in error:
                break
            continue
        done.append(row_id)
    if done:
        with store.sessions.begin() as session:
            for row in session.scalars(select(ErasedIdentity).where(ErasedIdentity.id.in_(done))):
                row.rasa_reset, row.pending_sender_id = "reset", None
    result.update(reset=len(done), pending=len(waiting) - len(done))
    result["status"] = "reset" if not result["pending"] else "pending"
    if error:
        result["error"] = error
        result["note"] = "retried by `bin/leads retention` (their saves are refused meanwhile)"
    return result


def retry_rasa_resets(store: LeadStore, rasa: RasaConversations | None | bool = True) -> dict:
    """Erased conversations not reset in Rasa yet: try again. Returns {"done": n, "failed": n}."""
    rasa = RasaConversations.from_env() if rasa is True else (rasa or None)
    outcome = _reset_in_rasa(store, rasa)
    return {"done": outcome["reset"], "failed": outcome["pending"]}


# -- files: handoff packets and logs ---------------------------------------------------------------


def _handoff_paths(destinations: Destinations) -> list[Path]:
    """Every handoff-*.jsonl in the folders of the local destinations (and of the file any
    destination would use without a webhook)."""
    folders = {d.path.parent for d in destinations.by_name.values() if d.path is not None}
    paths = {p for folder in folders for p in folder.glob("handoff-*.jsonl")}
    return sorted(p for p in paths if p.is_file())


def _about(line: dict, lead_ids: set[str], conversation_ids: set[str], emails: set[str]) -> bool:
    """A handoff line (an outbox envelope) about the person."""
    data = line.get("data") if isinstance(line.get("data"), dict) else {}
    contact = data.get("contact") if isinstance(data.get("contact"), dict) else {}
    return (
        line.get("lead_id") in lead_ids
        or data.get("lead_id") in lead_ids
        or data.get("conversation_id") in conversation_ids
        or str(contact.get("email") or "").lower() in emails
    )


def _rewrite_handoff_files(paths: list[Path], needles: _Needles, lead_ids: set[str], conversation_ids: set[str]):
    """Drop the lines about the person from each file, rewrite the ones that mention them; each
    file is replaced atomically (only when something changed)."""
    emails = set(needles.emails)
    stats: list[dict] = []

    def edit(raw: bytes, figures: dict) -> bytes | None:
        text = raw.decode("utf-8", "replace")
        try:
            line = json.loads(text)
        except ValueError:
            line = None
        if isinstance(line, dict) and _about(line, lead_ids, conversation_ids, emails):
            figures["removed"] += 1
            return None
        if not needles.hit(line if isinstance(line, dict) else text):
            return raw
        figures["rewritten"] += 1
        if isinstance(line, dict):
            return json.dumps(needles.scrub(line), ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()
        return needles.scrub(text).encode("utf-8")

    for path in paths:
        figures = {"path": str(path), "removed": 0, "rewritten": 0}
        try:
            _rewrite_lines(path, lambda raw, f=figures: edit(raw, f))
        except OSError as exc:
            figures["error"] = f"{type(exc).__name__}: {exc.strerror or exc}"
        if figures["removed"] or figures["rewritten"] or "error" in figures:
            stats.append(figures)
    return stats


def _rewrite_lines(path: Path, edit) -> bool:
    """Replace `path` atomically by its lines through `edit(line) -> line | None (dropped)`,
    when that changes anything. A writer appending meanwhile (the outbox worker writes whole lines)
    loses nothing: what it appended before the replace is carried over, edited too, and so is
    what it wrote after the replace into the old file it had open."""

    def edited(data: bytes) -> tuple[bytes, bool]:
        out, changed = [], False
        for raw in data.splitlines(keepends=True):
            body = raw.rstrip(b"\r\n")
            new = edit(body) if body.strip() else body
            changed |= new != body
            if new is not None:
                out.append(new + raw[len(body) :])
        return b"".join(out), changed

    with open(path, "rb") as old:
        data = old.read()
        content, changed = edited(data)
        if not changed:
            return False
        consumed = len(data)
        mode = stat.S_IMODE(os.fstat(old.fileno()).st_mode)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as out:
                os.fchmod(out.fileno(), mode)
                out.write(content)
                while True:  # appended while we worked
                    more = old.read()
                    if not more:
                        break
                    consumed += len(more)
                    out.write(edited(more)[0])
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
        except BaseException:
            with _suppress_os_error():
                os.unlink(tmp)
            raise
        late = old.read()  # written into the old file by someone who had it open before the replace
        if late:
            with open(path, "ab") as out:
                out.write(edited(late)[0])
                out.flush()
                os.fsync(out.fileno())
    _fsync_dir(path.parent)
    return True


class _suppress_os_error:
    def __enter__(self):
        return self

    def __exit__(self, kind, value, tb):
        return kind is not None and issubclass(kind, OSError)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def log_files(folder: str | Path | None = None) -> list[Path]:
    """The servers' log files that bin/run writes (var/rasa.log, var/actions.log, var/console.log,
    var/site.log, or in $LEADQUAL_LOG_DIR) and their rotated copies (rasa.log.1, rasa.log.2.gz,
    rasa.log-20261203...)."""
    folder = Path(folder or settings.LOG_DIR.get() or DEFAULT_VAR)
    found = {p for name in LOG_NAMES for p in folder.glob(name + "*") if p.is_file()}
    return sorted(found)


_LOG_WINDOW = 1 << 20
_LOG_OVERLAP = 512


def _log_pattern(needles: _Needles) -> re.Pattern | None:
    """The person's emails (also URL-encoded: ana%40acme.es) and phone numbers, in bytes that
    were lower-cased (ASCII only, so every offset stays where it was)."""
    parts = []
    for e in needles.emails:
        parts.append(re.escape(e.encode("utf-8")))
        parts.append(re.escape(e.replace("@", "%40").encode("utf-8")))
    for core in needles.cores:
        digits = rb"[ .\-()]{0,2}".join(bytes([c]) for c in core.encode())
        parts.append(rb"(?<![\d+])(?:\(?(?:\+|00)?\d{1,3}\)?[ .\-]{0,2})?" + digits + rb"(?!\d)")
    return re.compile(b"|".join(parts)) if parts else None


def _same_length_mask(n: int) -> bytes:
    return (b"[erased]" + b"*" * n)[:n] if n >= 8 else b"*" * n


def scrub_logs(needles: _Needles, paths: list[Path]) -> dict:
    """Overwrite the person's emails and phone numbers in these log files.

    A plain file is changed in place, each occurrence by a mask of the same length ("[erased]**"):
    the servers write their logs through a shell redirection (`>`, bin/run) at their own offset,
    so replacing the file would leave a running server writing into a deleted file, and
    shortening it would leave a hole of NUL bytes where it writes next. In place, with every
    offset kept, a running server is not disturbed; an interrupted run is simply done again.
    A gzip-compressed rotated file (nobody writes it) is rewritten whole and replaced atomically.
    Other compressions are skipped and named in the result."""
    result: dict = {"files": [], "skipped": []}
    pattern = _log_pattern(needles)
    if pattern is None:
        return result
    for path in paths:
        try:
            if path.suffix == ".gz":
                lines, hits = _scrub_gzip_log(path, pattern)
            elif path.suffix in (".bz2", ".xz", ".zst", ".zip", ".lz4"):
                result["skipped"].append({"path": str(path), "reason": f"{path.suffix} files are not read"})
                continue
            else:
                lines, hits = _scrub_log_in_place(path, pattern)
        except OSError as exc:
            result["skipped"].append({"path": str(path), "reason": f"{type(exc).__name__}: {exc.strerror or exc}"})
            continue
        if hits:
            result["files"].append({"path": str(path), "lines": lines, "occurrences": hits})
    return result


def _scrub_log_in_place(path: Path, pattern: re.Pattern) -> tuple[int, int]:
    lines: set[int] = set()
    hits = 0
    with open(path, "r+b") as handle:
        fd = handle.fileno()
        size = os.fstat(fd).st_size
        position, newlines = 0, 0
        while position < size:
            window = os.pread(fd, _LOG_WINDOW + _LOG_OVERLAP, position)
            if not window:
                break
            lowered = window.lower()
            for match in pattern.finditer(lowered):
                if match.start() >= _LOG_WINDOW:
                    break  # the next window starts there
                start, end = match.span()
                os.pwrite(fd, _same_length_mask(end - start), position + start)
                lines.add(newlines + window.count(b"\n", 0, start))
                hits += 1
            newlines += window.count(b"\n", 0, _LOG_WINDOW)
            position += _LOG_WINDOW
        if hits:
            os.fsync(fd)
    return len(lines), hits


def _scrub_gzip_log(path: Path, pattern: re.Pattern) -> tuple[int, int]:
    with gzip.open(path, "rb") as handle:
        data = handle.read()
    lowered = data.lower()
    matches = list(pattern.finditer(lowered))
    if not matches:
        return 0, 0
    buffer = bytearray(data)
    lines = set()
    for match in matches:
        start, end = match.span()
        buffer[start:end] = _same_length_mask(end - start)
        lines.add(data.count(b"\n", 0, start))
    mode = stat.S_IMODE(os.stat(path).st_mode)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb") as out:
            os.fchmod(raw.fileno(), mode)
            out.write(bytes(buffer))
        with open(tmp, "rb") as done:
            os.fsync(done.fileno())
        os.replace(tmp, path)
    except BaseException:
        with _suppress_os_error():
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)
    return len(lines), len(matches)


def _finish_tracker_erasure(store: LeadStore, erasure_id: str, sender_ids: list[str], url: str) -> dict:
    try:
        deleted = erase_tracker_conversations(sender_ids, url)
    except (TrackerStoreError, SQLAlchemyError) as exc:
        log.warning("erasure %s: the tracker store delete failed (%s); retried later", erasure_id, type(exc).__name__)
        return {
            "status": "pending",
            "conversations": len(sender_ids),
            "error": str(exc) if isinstance(exc, TrackerStoreError) else type(exc).__name__,
            "note": "retried by `bin/leads retention`",
        }
    with store.sessions.begin() as session:
        erasure = session.get(Erasure, erasure_id)
        if erasure is not None:
            erasure.tracker_store = "deleted"
            erasure.pending_sender_ids = []
            erasure.counts = {**(erasure.counts or {}), "tracker_events": deleted}
    return {"status": "deleted", "conversations": len(sender_ids), "events": deleted}


def _forget_spooled(conversation_ids: list[str], emails: set[str]) -> int:
    """Drop the person's answers from this host's spool of failed saves (leadqual/leads/spool.py), so a
    retry does not bring them back. Best effort: the spool is local to the action server."""
    path = settings.SPOOL.get() or DEFAULT_PATH
    if not os.path.exists(path):
        return 0
    spool = SaveSpool(path)
    wanted = set(conversation_ids)
    dropped = 0
    with spool._lock:
        entries = spool._read()
        for key, entry in list(entries.items()):
            address = ((entry.get("answers") or {}).get("email") or {}).get("address")
            if key in wanted or conversation_key(key) in wanted or (address or "").lower() in emails:
                entries.pop(key)
                dropped += 1
        if dropped:
            spool._write(entries)
    return dropped


def erase_tracker_conversations(sender_ids: list[str], url: str) -> int:
    """Delete these conversations from Rasa's SQL tracker store; returns the events deleted.

    Our conversation ids are Rasa's sender ids, except odd ones, stored hashed ("h:..."): those
    are matched by hashing the tracker store's sender ids."""
    if not sender_ids:
        return 0
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            columns = (
                {c["name"] for c in inspect(conn).get_columns("events")} if inspect(conn).has_table("events") else set()
            )
            if not {"sender_id", "type_name"} <= columns:
                raise TrackerStoreError(
                    f"{TRACKER_STORE_ENV} does not point at Rasa's SQL tracker store (no events.sender_id)"
                )
            events = Table("events", MetaData(), Column("sender_id", String))
            targets = {s for s in sender_ids if not s.startswith("h:")}
            hashed = {s for s in sender_ids if s.startswith("h:")}
            if hashed:
                for (sender_id,) in conn.execute(select(events.c.sender_id).distinct()):
                    if sender_id is not None and conversation_key(sender_id) in hashed:
                        targets.add(sender_id)
            deleted = 0
            for chunk in _chunks(sorted(targets)):
                deleted += conn.execute(delete(events).where(events.c.sender_id.in_(chunk))).rowcount or 0
            return deleted
    finally:
        engine.dispose()


def retry_tracker_erasures(store: LeadStore, url: str | None = None) -> dict:
    """Erasures whose tracker-store delete failed: try again. Returns {"done": n, "failed": n}."""
    url = url if url is not None else tracker_store_url()
    done = failed = 0
    if not url:
        return {"done": 0, "failed": 0}
    with store.sessions() as session:
        waiting = [
            (e.id, list(e.pending_sender_ids or []))
            for e in session.scalars(select(Erasure).where(Erasure.tracker_store == "pending").order_by(Erasure.at))
        ]
    for erasure_id, sender_ids in waiting:
        outcome = _finish_tracker_erasure(store, erasure_id, sender_ids, url)
        if outcome["status"] == "deleted":
            done += 1
        else:
            failed += 1
    return {"done": done, "failed": failed}


def erasures(store: LeadStore, limit: int = 100) -> list[dict]:
    """The latest erasure records, newest first (no personal data in them)."""
    with store.sessions() as session:
        return [
            {
                "id": e.id,
                "at": e.at,
                "by": e.by,
                "reason": e.reason,
                "counts": e.counts or {},
                "tracker_store": e.tracker_store,
            }
            for e in session.scalars(select(Erasure).order_by(Erasure.at.desc(), Erasure.id).limit(limit))
        ]


# -- retention ----------------------------------------------------------------------------------


def apply_retention(
    store: LeadStore,
    now: datetime | None = None,
    tracker_url: str | None = None,
    rasa: RasaConversations | None | bool = True,
) -> dict:
    """Delete what led nowhere once it is old enough (config `privacy`, run daily):

    - tracked events with no lead older than `anonymous_events_days` (and browsers with no lead
      not seen since then);
    - the transcripts (messages) of conversations whose lead never reached MQL or better, or that
      have no lead, when their last line is older than `unqualified_transcripts_days`; the same
      conversations in Rasa's tracker store when it is configured.

    Also retries what earlier erasures left waiting: tracker-store deletes, and resets of their
    conversations through Rasa's HTTP API (`rasa`: default from the environment). Returns the counts."""
    now = now_or(now)
    tracker_url = tracker_url if tracker_url is not None else tracker_store_url()
    privacy = store.config.privacy
    events_cutoff = now - timedelta(days=privacy.anonymous_events_days)
    transcripts_cutoff = now - timedelta(days=privacy.unqualified_transcripts_days)

    def work(session: Session) -> tuple[dict, list[str]]:
        counts = {
            "anonymous_events": _delete(
                session,
                delete(TrackedEvent).where(TrackedEvent.lead_id.is_(None), TrackedEvent.timestamp < events_cutoff),
            ),
            "anonymous_visitors": _delete(
                session, delete(Visitor).where(Visitor.lead_id.is_(None), Visitor.last_seen_at < events_cutoff)
            ),
        }
        qualified_once = select(StageTransition.lead_id).where(StageTransition.to_stage.in_(QUALIFIED_STAGES))
        unqualified = (
            select(Conversation.id)
            .outerjoin(Lead, Lead.id == Conversation.lead_id)
            .where(
                or_(
                    Conversation.lead_id.is_(None),
                    and_(Lead.stage.not_in(QUALIFIED_STAGES), Conversation.lead_id.not_in(qualified_once)),
                )
            )
        )
        old = (
            select(Message.conversation_id)
            .where(Message.conversation_id.in_(unqualified))
            .group_by(Message.conversation_id)
            .having(func.max(Message.at) < transcripts_cutoff)
        )
        conversation_ids = list(session.scalars(old))
        lines = 0
        for chunk in _chunks(conversation_ids):
            lines += _delete(session, delete(Message).where(Message.conversation_id.in_(chunk)))
        counts["transcripts"] = len(conversation_ids)
        counts["transcript_lines"] = lines
        return counts, conversation_ids

    counts, conversation_ids = store.transaction(work)
    counts["tracker_events"] = 0
    if tracker_url and conversation_ids:
        try:
            counts["tracker_events"] = erase_tracker_conversations(conversation_ids, tracker_url)
        except (TrackerStoreError, SQLAlchemyError) as exc:
            log.warning("retention: the tracker store delete failed: %s", exc)
            counts["tracker_error"] = str(exc) if isinstance(exc, TrackerStoreError) else type(exc).__name__
    retried = retry_tracker_erasures(store, tracker_url)
    counts["erasures_retried"] = retried["done"]
    counts["erasures_still_pending"] = retried["failed"]
    resets = retry_rasa_resets(store, rasa)
    counts["rasa_resets_retried"] = resets["done"]
    counts["rasa_resets_pending"] = resets["failed"]
    return counts
