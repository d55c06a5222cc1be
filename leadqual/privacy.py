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
data (a random id, when, who, why, counts). Then, after the commit, it deletes the person's
conversations from Rasa's SQL tracker store (table `events`, by `sender_id` = our conversation
ids) when `LEADQUAL_RASA_TRACKER_STORE_URL` is set (or the LEADQUAL_TRACKER_DB_* variables of
deploy/endpoints.production.yml); that result is reported separately. If the
tracker store cannot be reached the sender ids wait on the erasure row and `apply_retention`
(`bin/leads retention`, daily) tries again.

Nothing here imports Rasa.
"""

from __future__ import annotations

import json
import logging
import os
import re
from datetime import datetime, timedelta

from sqlalchemy import (
    Column,
    MetaData,
    String,
    Table,
    and_,
    create_engine,
    delete,
    false,
    func,
    inspect,
    or_,
    select,
)
from sqlalchemy.engine import URL
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from leadqual.analytics import QuestionEvent
from leadqual.console.decisions import LeadNote
from leadqual.leads import LeadStore, conversation_key
from leadqual.models import (
    Consent,
    Conversation,
    Erasure,
    Lead,
    LeadMerge,
    LiveChat,
    Message,
    ScoreChange,
    StageTransition,
    TrackedEvent,
    Visitor,
    new_id,
)
from leadqual.outbox import OutboxMessage
from leadqual.timeutil import iso_utc, now_or

__all__ = [
    "TRACKER_STORE_ENV",
    "TrackerStoreError",
    "apply_retention",
    "erase_person",
    "erase_tracker_conversations",
    "export_person",
    "retry_tracker_erasures",
    "tracker_store_url",
]

log = logging.getLogger(__name__)

TRACKER_STORE_ENV = "LEADQUAL_RASA_TRACKER_STORE_URL"
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
    url = os.environ.get(TRACKER_STORE_ENV)
    if url:
        return url
    host, name = os.environ.get("LEADQUAL_TRACKER_DB_HOST"), os.environ.get("LEADQUAL_TRACKER_DB_NAME")
    if not host or not name:
        return None
    port = os.environ.get("LEADQUAL_TRACKER_DB_PORT") or None
    return URL.create(
        "postgresql+psycopg",
        username=os.environ.get("LEADQUAL_TRACKER_DB_USER") or None,
        password=os.environ.get("LEADQUAL_TRACKER_DB_PASSWORD") or None,
        host=host,
        port=int(port) if port and port.isdigit() else None,
        database=name,
    ).render_as_string(hide_password=False)


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
        self.lead_ids = sorted({lead.id} | {m.source_id for m in self.merges})
        self.visitor_ids = list(session.scalars(select(Visitor.anonymous_id).where(Visitor.lead_id == lead.id)))
        conversation_filter = Conversation.lead_id == lead.id
        if self.visitor_ids:  # their browsers' conversations that never got a lead
            conversation_filter = or_(
                conversation_filter,
                and_(Conversation.lead_id.is_(None), Conversation.anonymous_id.in_(self.visitor_ids)),
            )
        self.conversation_ids = list(session.scalars(select(Conversation.id).where(conversation_filter)))
        event_filter = [TrackedEvent.lead_id == lead.id]
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
    lead = store._by_email(session, email)
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
        data = store._lead_json(session, lead)
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


def _scrub(text: str, emails: set[str]) -> str:
    """The operator's reason without the person's email addresses in it."""
    text = (text or "").strip()[:MAX_REASON]
    for email in sorted(emails, key=len, reverse=True):
        text = re.sub(re.escape(email), "[erased]", text, flags=re.IGNORECASE)
    return text


def _delete(session: Session, statement) -> int:
    return session.execute(statement.execution_options(synchronize_session=False)).rowcount or 0


def erase_person(
    store: LeadStore,
    email: str,
    by: str,
    reason: str,
    now: datetime | None = None,
    tracker_url: str | None = None,
) -> dict:
    """Delete everything held about the person with this email (GDPR art. 17); see the module.

    Returns {"erasure_id", "found", "counts": {table: rows}, "tracker_store": {"status", ...}}.
    Erasing someone already erased finds nothing and is recorded as such. `tracker_url` defaults
    to $LEADQUAL_RASA_TRACKER_STORE_URL."""
    if not (by or "").strip():
        raise ValueError("say who erases (by)")
    if not (reason or "").strip():
        raise ValueError("give the reason for the erasure")
    now = now_or(now)
    tracker_url = tracker_url if tracker_url is not None else tracker_store_url()

    emails = {email.strip().lower()}

    def work(session: Session) -> tuple[str, bool, dict, list[str]]:
        person = _find(session, store, email)
        counts: dict[str, int] = {}
        sender_ids: list[str] = []
        if person is not None:
            emails.update(person.email_keys)
            conv = person.in_conversations
            lead_ids = person.lead_ids
            counts["messages"] = _delete(session, delete(Message).where(conv(Message.conversation_id)))
            counts["question_events"] = sum(
                _delete(session, delete(QuestionEvent).where(QuestionEvent.conversation_id.in_(chunk)))
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
        erasure = Erasure(
            id=new_id(),
            at=now,
            by=by.strip()[:320],
            reason=_scrub(reason, emails),
            counts=counts,
            tracker_store=status,
            pending_sender_ids=sender_ids if status == "pending" else [],
        )
        session.add(erasure)
        session.flush()
        return erasure.id, person is not None, counts, sender_ids

    erasure_id, found, counts, sender_ids = store._retrying(work)
    result = {"erasure_id": erasure_id, "found": found, "counts": counts}
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
    result["spooled_saves"] = _forget_spooled(sender_ids, emails)
    return result


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
    """Drop the person's answers from this host's spool of failed saves (leadqual/spool.py), so a
    retry does not bring them back. Best effort: the spool is local to the action server."""
    from leadqual.spool import DEFAULT_PATH, SaveSpool

    path = os.environ.get("LEADQUAL_SPOOL") or DEFAULT_PATH
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


def apply_retention(store: LeadStore, now: datetime | None = None, tracker_url: str | None = None) -> dict:
    """Delete what led nowhere once it is old enough (config `privacy`, run daily):

    - tracked events with no lead older than `anonymous_events_days` (and browsers with no lead
      not seen since then);
    - the transcripts (messages) of conversations whose lead never reached MQL or better, or that
      have no lead, when their last line is older than `unqualified_transcripts_days`; the same
      conversations in Rasa's tracker store when it is configured.

    Also retries tracker-store deletes of earlier erasures. Returns the counts."""
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

    counts, conversation_ids = store._retrying(work)
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
    return counts
