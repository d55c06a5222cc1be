"""The lead record: one lead per person, however many conversations, browsers and events.

A conversation's answers are saved on every turn. Before the visitor gives an email the
answers sit on an anonymous lead tied to the conversation; when the email arrives they move
to the person's lead (found case-insensitively), so a returning visitor updates one record.
Each save writes the conversation's whole state, so a save that failed is simply repeated.

Identity stitching: the chat and the tracking snippet share an anonymous visitor id. Events
of a visitor not yet known wait with no lead; when the visitor becomes a lead (the chat, or an
`identify` with an email or user id) they attach to it, and later ones follow. Two leads that
turn out to be one person are merged: answers, events, conversations and history move to one
lead, and the merge is recorded.

Every (re-)score writes what changed to `score_changes` and every stage move to
`stage_transitions`, so both can be explained line by line.
"""

from __future__ import annotations

import copy
import hashlib
import random
import re
import time
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime, timedelta

from sqlalchemy import (
    create_engine,
    event,
    func,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from leadqual import settings
from leadqual.config.marketing import QUESTION_SLOTS, QualificationConfig, qualification
from leadqual.conversation.flows import FlowVersion
from leadqual.db import schema
from leadqual.db.tables import (
    Base,
    Consent,
    Conversation,
    ErasedIdentity,
    Lead,
    LeadMerge,
    LiveChat,
    Message,
    ScoreChange,
    StageTransition,
    TrackedEvent,
    Visitor,
)
from leadqual.delivery import crm
from leadqual.delivery.handoff import follow_contact, follow_in_crm, hand_off, nurture
from leadqual.leads import identity, serialize
from leadqual.leads.ingest import EventIngest
from leadqual.scoring import fit as scoring
from leadqual.scoring.behaviour import Event, score_behaviour
from leadqual.scoring.stages import Actor, StageError, Transition, advance, meets, stage_from_score
from leadqual.settings import VAR
from leadqual.timeutil import as_utc, aware, iso_utc, now_or
from leadqual.understanding import company_size
from leadqual.understanding.answers import is_skipped

__all__ = [
    "Base",
    "Conversation",
    "Lead",
    "LeadStore",
    "conversation_key",
    "database_url",
    "erased_key",
    "valid_anonymous_id",
]

DEFAULT_DB = VAR / "leads.db"


def database_url() -> str:
    """LEADQUAL_DATABASE_URL (any SQLAlchemy URL), else a SQLite file under var/."""
    url = settings.DATABASE_URL.get()
    if url:
        return url
    DEFAULT_DB.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{DEFAULT_DB}"


_SAFE_SENDER = re.compile(r"^[A-Za-z0-9_.:@-]{1,128}$")
_ANONYMOUS_ID = re.compile(r"^[A-Za-z0-9_.:-]{8,64}$")


def conversation_key(sender_id: object) -> str:
    """The stored id of a conversation. Sender ids come from the browser: anything long or
    odd is replaced by its hash, so it can neither break a write nor be used to inject."""
    text = str(sender_id)
    if _SAFE_SENDER.match(text):
        return text
    return "h:" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:48]


def erased_key(kind: str, value: object) -> str:
    """How `erased_identities` names an erased person's conversation ("conversation": its id as
    stored) or email ("email": lower-cased): a SHA-256 hash, so the table holds neither."""
    text = conversation_key(value) if kind == "conversation" else str(value).strip().lower()
    return hashlib.sha256(f"{kind}:{text}".encode("utf-8", "surrogatepass")).hexdigest()


def valid_anonymous_id(value: object) -> str | None:
    """The visitor id if it looks like one (8-64 of letters, digits, `_.:-`), else None.
    It comes from the browser: it identifies, it never scores."""
    return value if isinstance(value, str) and _ANONYMOUS_ID.match(value) else None


def _lost_race(exc: Exception) -> bool:
    """A unique-key collision, a deadlock (40P01), a serialization failure (40001), or SQLite's
    "database is locked": worth one more try. A connection failure is not."""
    if isinstance(exc, IntegrityError):
        return True
    code = getattr(getattr(exc, "orig", None), "sqlstate", None)
    return code in ("40P01", "40001") or "database is locked" in str(exc)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _event_of(row: TrackedEvent) -> Event:
    return Event(
        name=row.name,
        timestamp=aware(row.timestamp),
        properties=row.properties or {},
        url=row.url,
        message_id=row.message_id,
    )


class LeadStore(EventIngest):
    """Repository for leads, conversations, visitors and events over any SQLAlchemy URL."""

    def __init__(self, url: str | None = None, config: QualificationConfig | None = None) -> None:
        self.url = url or database_url()
        # hide_parameters: a failing statement's error (and so a traceback in a log) names the SQL,
        # never the visitor's answers, emails or phones bound into it (issue 19, item 12).
        kwargs: dict = {"pool_pre_ping": True, "hide_parameters": True}
        if self.url.startswith("sqlite"):
            kwargs["connect_args"] = {"timeout": 15}
        self.engine = create_engine(self.url, **kwargs)
        if self.url.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.config = config or qualification()

    def with_config(self, config: QualificationConfig) -> LeadStore:
        """This store (same engine and sessions) scoring with another config: a conversation's
        flow version."""
        if config is self.config:
            return self
        other = copy.copy(self)
        other.config = config
        return other

    def create_schema(self) -> None:
        """Create or migrate the product's tables to the newest revision (leadqual/db/schema.py)."""
        schema.upgrade(self.engine)

    def transaction(self, work):
        """Run `work(session)` in a transaction, again when it lost a race: a concurrent insert
        collided (two conversations of one person creating the same email, the same event
        arriving twice at once), or the database chose it as a deadlock victim. Each attempt
        redoes the whole write, so nothing is half-applied; other errors are raised."""
        attempts = 5
        for attempt in range(attempts):
            try:
                with self.sessions.begin() as session:
                    return work(session)
            except (IntegrityError, OperationalError) as exc:
                if attempt == attempts - 1 or not _lost_race(exc):
                    raise
                time.sleep(random.uniform(0.01, 0.05) * (attempt + 1))
        raise AssertionError("unreachable")

    # -- erased people (leadqual/leads/privacy.py): nothing of them comes back -------------------

    def is_erased(self, conversation_id: str | None = None, email: str | None = None) -> datetime | None:
        """When this conversation (a Rasa sender id) or this email was last erased on request
        (GDPR art. 17, `privacy.erase_person`); None if never."""
        with self.sessions() as session:
            return self._erased_at(session, conversation_id, email)

    def _erased_at(self, session: Session, conversation_id: str | None = None, email: str | None = None):
        keys = [erased_key("conversation", conversation_id)] if conversation_id else []
        if email and str(email).strip():
            keys.append(erased_key("email", email))
        if not keys:
            return None
        query = select(func.max(ErasedIdentity.erased_at)).where(ErasedIdentity.key_hash.in_(keys))
        return aware(session.scalar(query))

    def _refusal(self, session: Session, conversation_id: str, answers: dict, transcript: list[dict] | None):
        """The marker a save gets instead of a lead when it would bring an erased person back: the
        conversation was erased, or it gives an erased email; unless every line of its transcript
        is from after the erasure (a conversation begun afresh: a new lead, consent asked again).
        A save without a transcript (a retry) cannot show that and is refused too."""
        email = (answers.get("email") or {}).get("address") if not is_skipped(answers.get("email")) else None
        by_conversation = self._erased_at(session, conversation_id=conversation_id)
        by_email = self._erased_at(session, email=email) if email else None
        erased = max((m for m in (by_conversation, by_email) if m is not None), default=None)
        if erased is None:
            return None
        if transcript and all(as_utc(line["at"]) > erased for line in transcript):
            return None
        return {
            "erased": True,
            "conversation_id": conversation_key(conversation_id),
            "because": "conversation" if by_conversation is not None else "email",
            "erased_at": iso_utc(erased),
        }

    # -- conversations --------------------------------------------------------------------

    def save_conversation(
        self,
        conversation_id: str,
        answers: dict[str, dict | None],
        language: str,
        anonymous_id: str | None = None,
        now: datetime | None = None,
        transcript: list[dict] | None = None,
    ) -> dict:
        """Write a conversation's answers (and its transcript so far, lines from
        transcripts.lines_from_events) to its lead and re-score it; returns the lead JSON.

        `anonymous_id` is the website's visitor id from the chat's metadata: the visitor's
        earlier events attach to the lead. Raises SQLAlchemyError when the database fails; the
        caller keeps the answers and calls again later (the write is idempotent).

        A conversation of an erased person stores nothing and returns the marker
        `{"erased": True, "conversation_id", "because", "erased_at"}` instead (see `_refusal`):
        the chat then starts the conversation over, empty.

        `answers["company_size"]` (company_size.stated_company_size: what the visitor said of their
        company) fills `profile.company_size` unless the intake gave one.
        """
        now = now_or(now)

        def work(session: Session) -> dict:
            refused = self._refusal(session, conversation_id, answers, transcript)
            if refused is not None:
                return refused
            if transcript:
                self._store_lines(session, conversation_key(conversation_id), transcript, language)
            lead = self._save(session, conversation_id, answers, language, valid_anonymous_id(anonymous_id), now)
            return serialize.lead_json(session, lead)

        return self.transaction(work)

    def save_transcript(
        self, conversation_id: str, lines: list[dict], language: str | None = None, replies: Sequence[dict] = ()
    ) -> int:
        """Store the lines of a conversation's transcript not stored yet; returns how many.
        `replies` are the bot's lines this action is sending, not yet in Rasa's tracker: kept as
        provisional (data.provisional) until a later copy of the tracker brings them, so the last
        turn of a conversation is in its transcript even if the visitor never writes again.
        Lines of an erased conversation from before its erasure are never stored again."""

        def work(session: Session) -> int:
            kept, pending = list(lines), list(replies)
            erased = self._erased_at(session, conversation_id=conversation_id)
            if erased is not None:
                kept = [line for line in kept if as_utc(line["at"]) > erased]
                pending = [line for line in pending if as_utc(line["at"]) > erased]
                if not kept and not pending:
                    return 0
            return self._store_lines(session, conversation_key(conversation_id), kept, language, pending)

        return self.transaction(work)

    def _store_lines(
        self,
        session: Session,
        conversation_id: str,
        lines: list[dict],
        language: str | None,
        replies: Sequence[dict] = (),
    ) -> int:
        """Append the lines after the last one stored (the tracker is copied whole each time); a
        line that a provisional reply stood for replaces it, in place, with the tracker's time."""
        conversation = session.get(Conversation, conversation_id)
        if conversation is None:
            conversation = Conversation(id=conversation_id, language=language or "es")
            session.add(conversation)
            session.flush()
        # Only the provisional lines are read (the whole transcript is not loaded on every save).
        provisional = list(
            session.scalars(
                select(Message)
                .where(Message.conversation_id == conversation_id, Message.data["provisional"].as_boolean())
                .order_by(Message.at, Message.id)
            )
        )
        confirmed = select(func.max(Message.at)).where(Message.conversation_id == conversation_id)
        if provisional:
            confirmed = confirmed.where(Message.id.not_in([m.id for m in provisional]))
        last = aware(session.scalar(confirmed))
        added = 0
        for line in lines:
            at = as_utc(line["at"])
            if last is not None and at <= last:
                continue
            text = line.get("text") or ""
            if provisional and (provisional[0].sender, provisional[0].text) == (line["sender"], text):
                standing_in = provisional.pop(0)  # the reply it stood for: now with Rasa's time
                standing_in.at, standing_in.data = at, line.get("data") or {}
                continue
            session.add(self._message(conversation_id, line, at))
            added += 1
        for reply in replies:
            reply = {**reply, "data": {**(reply.get("data") or {}), "provisional": True}}
            session.add(self._message(conversation_id, reply, as_utc(reply["at"])))
            added += 1
        return added

    @staticmethod
    def _message(conversation_id: str, line: dict, at: datetime) -> Message:
        return Message(
            conversation_id=conversation_id,
            at=at,
            sender=line.get("sender") or "bot",
            author=line.get("author"),
            text=line.get("text") or "",
            data=line.get("data") or {},
        )

    def _save(
        self, session: Session, conversation_id: str, answers: dict, language: str, anonymous_id: str | None, now
    ) -> Lead:
        conversation_id = conversation_key(conversation_id)
        conversation = session.get(Conversation, conversation_id)
        if conversation is None:
            conversation = Conversation(id=conversation_id, language=language, started_at=now)
            session.add(conversation)
        conversation.language = language
        if anonymous_id and not conversation.anonymous_id:
            conversation.anonymous_id = anonymous_id  # the first one wins: it cannot be switched later
        anonymous_id = conversation.anonymous_id

        email = (answers.get("email") or {}).get("address") if not is_skipped(answers.get("email")) else None
        lead = conversation.lead
        if lead is None and anonymous_id:
            visitor = session.get(Visitor, anonymous_id)
            if visitor is not None and visitor.lead_id:
                lead = session.get(Lead, visitor.lead_id)  # a known visitor: their own lead
        previous_lines = None
        claim = None
        if email:
            known = serialize.find_by_email(session, email)
            browser = session.get(Visitor, anonymous_id) if anonymous_id else None
            claim = identity.judge_email(
                known.id if known else None,
                conversation.lead_id,
                browser.lead_id if browser else None,
                conversation_lead_has_other_email=bool(
                    lead is not None and lead.email_key not in (None, email.lower())
                ),
            )
        if claim is not None and claim.kind == identity.UNVERIFIED_CLAIM:
            # Typing someone's email proves nothing (leadqual/leads/identity.py): this chat's answers stay
            # on a lead of its own, the email only claimed, until the person is verified.
            if lead is None or lead.id == known.id or lead.email_key is not None:
                lead = Lead(language=language, created_at=now)
                session.add(lead)
            lead.claimed_email, lead.claims_lead_id = email, known.id
        elif email:
            if known is not None and lead is not None and known.id != lead.id:
                if lead.email_key is None:
                    previous_lines = self._merge_into(session, source=lead, target=known, reason="gave their email")
                lead = known
            elif known is not None:
                lead = known
            elif lead is None or lead.email_key is not None:
                lead = Lead(email=email, email_key=email.lower(), language=language, created_at=now)
                session.add(lead)
            else:
                lead.email, lead.email_key = email, email.lower()
        elif lead is None:
            lead = Lead(language=language, created_at=now)
            session.add(lead)
        if claim is not None and claim.kind != identity.UNVERIFIED_CLAIM and lead.claimed_email:
            lead.claimed_email, lead.claims_lead_id = None, None  # an email of its own now
        conversation.lead = lead
        session.flush()

        merged = dict(lead.answers or {})
        # The seven questions and marketing's extra questions ("extra:<id>", see extras.py).
        for slot in [*QUESTION_SLOTS, *(k for k in answers if k.startswith("extra:"))]:
            value = answers.get(slot)
            if value is None:
                continue
            if is_skipped(value) and merged.get(slot) and not is_skipped(merged[slot]):
                continue  # skipping now does not erase what the person told us before
            merged[slot] = value
        lead.answers = merged
        lead.language = language
        said = company_size.valid_stated_size(answers.get("company_size"))
        profile = lead.profile or {}
        if said is not None and ("company_size" not in profile or "company_size_said" in profile):
            # What the visitor said of their company fills the profile (routing, explicit points),
            # but never replaces a size the intake gave; a later statement replaces an earlier one.
            lead.profile = {**profile, "company_size": said["employees"], "company_size_said": said["text"]}
        if merged.get("name") and not is_skipped(merged["name"]):
            lead.name = merged["name"].get("value")
        if merged.get("company") and not is_skipped(merged["company"]):
            lead.company = merged["company"].get("value")
        lead.last_activity_at = now  # a conversation is activity, new answers or not
        if anonymous_id:
            previous_lines = self._attach_visitor(session, anonymous_id, lead, now, previous_lines)
            lead = session.get(Lead, lead.id) or lead
        self._rescore(session, lead, now, Actor.bot("chat"), previous_lines)
        return lead

    # -- identity stitching ----------------------------------------------------------------

    def _attach_visitor(
        self, session: Session, anonymous_id: str, lead: Lead, now: datetime, previous_lines: list | None = None
    ) -> list | None:
        """Tie a browser to a lead: its waiting events join the lead. If the browser already
        belonged to another lead, that lead is merged in when one of the two is anonymous
        (no email): they are the same person. Two leads with different emails on one browser
        (a shared computer) stay apart; the browser follows the newest one."""
        visitor = session.get(Visitor, anonymous_id)
        if visitor is None:
            visitor = Visitor(anonymous_id=anonymous_id, first_seen_at=now, last_seen_at=now)
            session.add(visitor)
        visitor.last_seen_at = max(aware(visitor.last_seen_at) or now, now)
        other = session.get(Lead, visitor.lead_id) if visitor.lead_id and visitor.lead_id != lead.id else None
        if other is not None and (other.email_key is None or lead.email_key is None):
            source, target = (other, lead) if other.email_key is None else (lead, other)
            merged_lines = self._merge_into(session, source=source, target=target, reason="same browser")
            previous_lines = (previous_lines or []) + merged_lines if source is other else merged_lines
            lead = target
        visitor.lead_id = lead.id
        session.execute(
            update(TrackedEvent)
            .where(TrackedEvent.anonymous_id == anonymous_id, TrackedEvent.lead_id.is_(None))
            .values(lead_id=lead.id)
        )
        session.flush()
        return previous_lines

    def _merge_into(self, session: Session, source: Lead, target: Lead, reason: str) -> list:
        """Fold `source` into `target`: newer answers win, the target's profile wins, and every
        conversation, browser, event and history row moves. Returns the two leads' breakdowns
        together, so the next re-score records what the merge changed."""
        combined_lines = list(target.score_breakdown or []) + list(source.score_breakdown or [])
        answers = dict(target.answers or {})
        for slot, value in (source.answers or {}).items():
            if value is not None and not (is_skipped(value) and answers.get(slot)):
                answers[slot] = value
        target.answers = answers
        target.profile = {**(source.profile or {}), **(target.profile or {})}
        target.name = target.name or source.name
        target.company = target.company or source.company
        moved_email, moved_user = source.email_key, source.user_id
        source.email_key, source.user_id = None, None
        session.flush()
        if target.email_key is None and moved_email:
            target.email, target.email_key = source.email, moved_email
        if target.user_id is None and moved_user:
            target.user_id = moved_user
        activity = [a for a in (aware(target.last_activity_at), aware(source.last_activity_at)) if a]
        target.last_activity_at = max(activity) if activity else None
        for model in (Conversation, Visitor, TrackedEvent, ScoreChange, StageTransition, Consent, LiveChat):
            session.execute(update(model).where(model.lead_id == source.id).values(lead_id=target.id))
        latest_consent = session.scalars(
            select(Consent).where(Consent.lead_id == target.id).order_by(Consent.at.desc(), Consent.id.desc()).limit(1)
        ).first()
        if latest_consent is not None:  # the person's latest answer, whichever lead it was on
            target.marketing_consent = latest_consent.granted
        session.execute(update(LeadMerge).where(LeadMerge.target_id == source.id).values(target_id=target.id))
        session.add(LeadMerge(source_id=source.id, target_id=target.id, source_email=source.email, reason=reason))
        session.flush()
        session.expire(target, ["conversations"])
        session.delete(source)
        session.flush()
        return combined_lines

    def merge_leads(self, source_id: str, target_id: str, reason: str = "duplicate", now: datetime | None = None):
        """Merge two leads found to be one person (e.g. from the console); the target's JSON."""
        now = now_or(now)

        def work(session: Session) -> dict:
            source, target = session.get(Lead, source_id), session.get(Lead, target_id)
            if source is None or target is None or source.id == target.id:
                raise ValueError("merge needs two different existing leads")
            lines = self._merge_into(session, source, target, reason)
            self._rescore(session, target, now, Actor.rule("merge"), lines)
            return serialize.lead_json(session, target)

        return self.transaction(work)

    def _events_of(self, session: Session, lead_id: str) -> list[Event]:
        # In arrival order: events with the same timestamp are capped in the order they came.
        rows = session.scalars(select(TrackedEvent).where(TrackedEvent.lead_id == lead_id).order_by(TrackedEvent.id))
        return [_event_of(row) for row in rows]

    # -- scores and stages -----------------------------------------------------------------

    def _rescore(
        self,
        session: Session,
        lead: Lead,
        now: datetime,
        actor: Actor,
        previous_lines: list | None = None,
        events: list[Event] | None = None,
    ) -> None:
        """Re-score a lead as of `now`, recording what changed and any stage move."""
        config = self.config
        session.flush()
        # Lock the lead's row (PostgreSQL) and reload it: a concurrent save or event batch on
        # the same lead waits, so every score uses the latest answers and events, and no change
        # is recorded twice or lost. FOR NO KEY UPDATE: new rows may still reference the lead.
        session.execute(select(Lead.id).where(Lead.id == lead.id).with_for_update(key_share=True))
        session.refresh(lead)
        if events is None:
            events = self._events_of(session, lead.id)
        score = scoring.score_lead(lead.answers or {}, lead.profile or {}, events, config, now)
        before = lead.score_breakdown if previous_lines is None else previous_lines
        for change in scoring.score_changes(before or [], score.lines, config.version):
            session.add(ScoreChange(lead_id=lead.id, at=now, **change))
        previous_total = lead.total_score or 0
        was_ready = bool(lead.sales_ready)
        lead.fit_score, lead.behaviour_score, lead.total_score = score.fit, score.behaviour, score.total
        lead.grade = score.grade
        lead.score_breakdown = score.lines
        lead.config_version = config.version
        lead.scored_at = now
        lead.sales_ready = meets(config.stages.sql, score.total, score.qualifies)
        transition = stage_from_score(
            score.total,
            score.qualifies,
            config.stages,
            lead.stage or "lead",
            lead.stage_actor or "bot",
            previous_total,
            now,
            actor,
        )
        if transition is not None:
            self._record(session, lead, transition, stage_actor="score")
        if lead.sales_ready and not was_ready:
            session.flush()
            lead_json = serialize.lead_json(session, lead, history=False)
            hand_off(session, lead, {**lead_json, "transcripts": serialize.transcripts(session, lead.id)}, config, now)
        elif crm.configured_system() is not None and lead.owner is not None:
            session.flush()
            follow_contact(
                session,
                lead,
                lambda: serialize.lead_json(session, lead, history=False),
                now,
                lambda: serialize.transcripts(session, lead.id),
            )

    def _record(self, session: Session, lead: Lead, transition: Transition, stage_actor: str) -> None:
        session.add(StageTransition(lead_id=lead.id, **asdict(transition)))
        lead.stage = transition.to_stage
        lead.stage_actor = stage_actor
        lead.stage_changed_at = transition.at
        if crm.configured_system() is not None and transition.actor_type != "crm":
            session.flush()
            lead_json_of = lambda: serialize.lead_json(session, lead, history=False)  # noqa: E731
            follow_in_crm(session, lead, lead_json_of, transition.to_dict(), transition.at)

    def move_stage(
        self,
        lead_id: str,
        target: str,
        actor: Actor,
        reason: str | None = None,
        note: str = "",
        now: datetime | None = None,
        then=None,
    ) -> dict:
        """A person's (or a rule's) decision to move a lead; StageError if the move is not allowed.

        `then(session, lead, transition)` runs in the same transaction after a move (the console
        queues the decision for the CRM there), so the move and what it sends commit together."""
        now = now_or(now)

        def work(session: Session) -> dict:
            lead = session.get(Lead, lead_id)
            if lead is None:
                raise StageError("unknown_lead", f"no lead with id {lead_id!r}")
            transition = advance(lead.stage, target, actor, reason, now, note)
            if transition is not None:
                self._record(session, lead, transition, stage_actor=actor.type)
                if actor.type == "person":  # sales working the lead: it has not gone cold
                    last = aware(lead.last_activity_at)
                    lead.last_activity_at = max(last, now) if last else now
                if then is not None:
                    session.flush()
                    then(session, lead, transition)
            return serialize.lead_json(session, lead)

        return self.transaction(work)

    # -- consent and nurturing ------------------------------------------------------------

    def record_consent(
        self,
        conversation_id: str,
        granted: bool,
        wording: str,
        answer: str,
        now: datetime | None = None,
        flow_version: int | None = None,
        language: str | None = None,
    ) -> dict | None:
        """Record the marketing-email answer of the conversation's lead, with what they were
        asked (proof of consent: the text, its flow version and language), and queue the lead
        for nurturing when they said yes and are not for sales. Returns the lead JSON, None when
        the conversation has no lead yet. The flow version defaults to the newest published."""
        now = now_or(now)

        def work(session: Session) -> dict | None:
            conversation = session.get(Conversation, conversation_key(conversation_id))
            lead = session.get(Lead, conversation.lead_id) if conversation and conversation.lead_id else None
            if lead is None:
                return None
            version = flow_version
            if version is None:
                version = session.scalar(select(func.max(FlowVersion.version))) or self.config.version
            row = Consent(
                lead_id=lead.id,
                granted=granted,
                wording=wording,
                answer=answer[:500],
                source="chat",
                conversation_id=conversation.id,
                at=now,
                flow_version=version,
                language=language or conversation.language,
            )
            session.add(row)
            lead.marketing_consent = granted
            session.flush()
            consent = {
                "purpose": row.purpose,
                "granted": granted,
                "at": iso_utc(now),
                "wording": wording,
                "source": "chat",
                "flow_version": version,
                "language": row.language,
            }
            nurture(session, lead, serialize.lead_json(session, lead, history=False), self.config, consent, now)
            return serialize.lead_json(session, lead)

        return self.transaction(work)

    def nurture(self, lead_id: str) -> bool:
        """Queue a lead that consented earlier for nurturing again (a new conversation that did
        not make it sales-ready, with its new grade and reason)."""

        def work(session: Session) -> bool:
            lead = session.get(Lead, lead_id)
            if lead is None:
                return False
            last = session.scalars(
                select(Consent).where(Consent.lead_id == lead.id).order_by(Consent.id.desc()).limit(1)
            ).first()
            consent = (
                {
                    "purpose": last.purpose,
                    "granted": last.granted,
                    "at": iso_utc(last.at),
                    "wording": last.wording,
                    "flow_version": last.flow_version,
                    "language": last.language,
                }
                if last
                else {}
            )
            return nurture(session, lead, serialize.lead_json(session, lead, history=False), self.config, consent)

        return self.transaction(work)

    def rescore_lead(self, lead_id: str, now: datetime | None = None) -> dict:
        now = now_or(now)

        def work(session: Session) -> dict:
            lead = session.get(Lead, lead_id)
            if lead is None:
                raise KeyError(lead_id)
            self._rescore(session, lead, now, Actor.rule("rescore"))
            return serialize.lead_json(session, lead)

        return self.transaction(work)

    def confirm_identity(self, lead_id: str, by: str, now: datetime | None = None) -> dict:
        """An SDR (or the person, through a verified link) confirms that an unverified chat that
        claimed another lead's email is that person: its answers join that lead, newer ones win,
        as when a known visitor gives their email. Raises KeyError for a lead with no claim."""
        now = now_or(now)

        def work(session: Session) -> dict:
            source = session.get(Lead, lead_id)
            if source is None or source.claims_lead_id is None:
                raise KeyError(f"lead {lead_id} has no unverified email claim")
            target = session.get(Lead, source.claims_lead_id)
            if target is None:  # the claimed lead is gone (erased, merged away): the email is free
                source.email, source.email_key = source.claimed_email, source.claimed_email.lower()
                source.claimed_email, source.claims_lead_id = None, None
                self._rescore(session, source, now, Actor.person(by))
                return serialize.lead_json(session, source)
            source.claimed_email, source.claims_lead_id = None, None
            newer = (aware(source.last_activity_at) or now) >= (aware(target.last_activity_at) or now)
            language = source.language if newer else target.language
            lines = self._merge_into(session, source=source, target=target, reason=f"identity confirmed by {by}")
            target.language = language  # the person's latest conversation's
            self._rescore(session, target, now, Actor.person(by), lines)
            return serialize.lead_json(session, target)

        return self.transaction(work)

    # -- reads ----------------------------------------------------------------------------

    def get_by_email(self, email: str) -> dict | None:
        with self.sessions() as session:
            lead = serialize.find_by_email(session, email)
            return serialize.lead_json(session, lead) if lead else None

    def get(self, lead_id: str) -> dict | None:
        with self.sessions() as session:
            lead = session.get(Lead, lead_id)
            return serialize.lead_json(session, lead) if lead else None

    def get_by_conversation(self, conversation_id: str) -> dict | None:
        with self.sessions() as session:
            conversation = session.get(Conversation, conversation_key(conversation_id))
            if conversation is None or conversation.lead is None:
                return None
            return serialize.lead_json(session, conversation.lead)

    def visitor_context(self, anonymous_id: str | None, now: datetime | None = None) -> dict:
        """What the chat may use to greet a visitor: their first name and known answers (if the
        browser belongs to a lead), how engaged they are, and whether they came back.

        The visitor id is a bearer secret like a session cookie; nothing but the first name and
        the visitor's own answers is revealed."""
        context = {"known": False, "name": None, "answers": {}, "behaviour": 0, "engaged": False, "returning": False}
        anonymous_id = valid_anonymous_id(anonymous_id)
        if not anonymous_id:
            return context
        now = now_or(now)
        with self.sessions() as session:
            visitor = session.get(Visitor, anonymous_id)
            if visitor is None:
                return context
            lead = session.get(Lead, visitor.lead_id) if visitor.lead_id else None
            if lead is not None:
                events = self._events_of(session, lead.id)
                context.update(
                    known=True,
                    name=(lead.name or "").split(" ")[0] or None,
                    answers={k: v for k, v in (lead.answers or {}).items() if v and not is_skipped(v)},
                    returning=bool(lead.conversations) or bool(lead.email_key),
                )
            else:
                rows = session.scalars(select(TrackedEvent).where(TrackedEvent.anonymous_id == anonymous_id))
                events = [_event_of(row) for row in rows]
            context["behaviour"] = score_behaviour(events, self.config, now).total
            first_seen = aware(visitor.first_seen_at)
            context["returning"] = context["returning"] or (
                first_seen is not None and now - first_seen > timedelta(hours=1)
            )
            context["engaged"] = context["behaviour"] >= self.config.behaviour.engaged_at
        return context

    def list_leads(self, limit: int = 50, stage: str | None = None) -> list[dict]:
        with self.sessions() as session:
            query = select(Lead).order_by(Lead.total_score.desc(), Lead.updated_at.desc()).limit(limit)
            if stage:
                query = query.where(Lead.stage == stage)
            return [serialize.lead_json(session, lead, history=False) for lead in session.scalars(query)]

    def count(self) -> int:
        with self.sessions() as session:
            return session.scalar(select(func.count()).select_from(Lead)) or 0
