"""The product's tables: leads, their conversations, visitors, tracked events, and the history
of every point and stage change.

History tables are append-only: a lead's score can be explained line by line from
`score_changes`, its funnel path from `stage_transitions`, and a merge of two leads from
`lead_merges`.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from leadqual import timeutil


def utcnow() -> datetime:
    """Column defaults: the product's clock (leadqual.timeutil), so tests can pin it."""
    return timeutil.now()


def new_id() -> str:
    return uuid.uuid4().hex


class Base(DeclarativeBase):
    pass


class Lead(Base):
    __tablename__ = "leads"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    # email as given (domain lower-cased); email_key is its lower-case form, unique.
    email: Mapped[str | None] = mapped_column(String(320))
    email_key: Mapped[str | None] = mapped_column(String(320), unique=True, index=True)
    # The company's own id for the person (Segment `userId`), when it sends one.
    user_id: Mapped[str | None] = mapped_column(String(200), unique=True, index=True)
    name: Mapped[str | None] = mapped_column(String(200))
    company: Mapped[str | None] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(5), default="es")
    # Who the lead is beyond BANT, from `identify` traits: country, company_size, job_title.
    profile: Mapped[dict] = mapped_column(JSON, default=dict)
    stage: Mapped[str] = mapped_column(String(20), default="lead")
    # "bot", "rule" or "person": who put the lead in its stage. Scores never undo a person's move.
    stage_actor: Mapped[str] = mapped_column(String(10), default="bot")
    stage_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Meets the sql rule (score and BANT requirements), whatever its stage.
    sales_ready: Mapped[bool] = mapped_column(Boolean, default=False)
    fit_score: Mapped[int] = mapped_column(Integer, default=0)
    behaviour_score: Mapped[int] = mapped_column(Integer, default=0)
    total_score: Mapped[int] = mapped_column(Integer, default=0)
    grade: Mapped[str] = mapped_column(String(2), default="D3", index=True)
    # The current score, one line per answer, profile criterion and event (see scoring.py).
    score_breakdown: Mapped[list] = mapped_column(JSON, default=list)
    config_version: Mapped[int] = mapped_column(Integer, default=1)
    scored_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    answers: Mapped[dict] = mapped_column(JSON, default=dict)
    # The SDR (or, when nobody is available, the queue) the lead was handed to, and the routing
    # rule that decided (handoff.rules.latam, handoff.round_robin...), with why.
    owner: Mapped[str | None] = mapped_column(String(50))
    owner_queue: Mapped[str | None] = mapped_column(String(50))
    owner_rule: Mapped[str | None] = mapped_column(String(120))
    owner_reason: Mapped[str | None] = mapped_column(Text)
    assigned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Opted in to marketing email (nurturing): None until asked; the history is in `consents`.
    marketing_consent: Mapped[bool | None] = mapped_column(Boolean)
    # A chat gave the email of lead `claims_lead_id` with nothing tying it to that person: the
    # email is only claimed here, the answers kept apart, until confirmed (leadqual/leads/identity.py).
    # No foreign key: erasing the claimed lead must not be blocked by a stranger's claim.
    claimed_email: Mapped[str | None] = mapped_column(String(320))
    claims_lead_id: Mapped[str | None] = mapped_column(String(32), index=True)
    # Latest answer or event, for "went cold" recycling.
    last_activity_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # not indexed: 0005
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    conversations: Mapped[list[Conversation]] = relationship(back_populates="lead", order_by="Conversation.started_at")

    # The console's list: highest score first, paged by (score, id), overall, per stage and per
    # owner; and its date filter. Fast with 100k leads (bench/console_list.py). They also answer
    # a filter on stage, owner or score alone: no single-column index repeats their first column,
    # since re-scoring rewrites the score of nearly every lead (migration 0005).
    __table_args__ = (
        Index("ix_leads_score_id", "total_score", "id"),
        Index("ix_leads_stage_score_id", "stage", "total_score", "id"),
        Index("ix_leads_owner_score_id", "owner", "total_score", "id"),
        Index("ix_leads_created_at", "created_at"),
    )


class Conversation(Base):
    __tablename__ = "conversations"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)  # Rasa sender id
    lead_id: Mapped[str | None] = mapped_column(ForeignKey("leads.id"), index=True)
    # The website's anonymous visitor id (shared with the tracking snippet), if it sent one.
    anonymous_id: Mapped[str | None] = mapped_column(String(64), index=True)
    language: Mapped[str] = mapped_column(String(5), default="es")
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    lead: Mapped[Lead | None] = relationship(back_populates="conversations")
    messages: Mapped[list[Message]] = relationship(order_by="Message.at", viewonly=True)


class Message(Base):
    """One line of a conversation's transcript: what the visitor typed (as typed: escape it when
    showing it), what the bot or an SDR answered, and when. Copied from the Rasa tracker."""

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"))
    # The Rasa event's time: copying the tracker again stores only the lines after the last one.
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # "visitor", "bot" or "sdr"; author is the SDR's id for "sdr".
    sender: Mapped[str] = mapped_column(String(10))
    author: Mapped[str | None] = mapped_column(String(50))
    text: Mapped[str] = mapped_column(Text, default="")
    # What the visitor clicked (the button's payload) or the buttons the bot offered.
    data: Mapped[dict] = mapped_column(JSON, default=dict)

    __table_args__ = (Index("ix_messages_conversation_at", "conversation_id", "at"),)


class LiveChat(Base):
    """A person talking in a conversation instead of the bot: requested by the visitor (or
    started by an SDR), active while the bot stays silent, ended when handed back."""

    __tablename__ = "live_chats"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), index=True)
    lead_id: Mapped[str | None] = mapped_column(ForeignKey("leads.id"), index=True)
    # "requested", "active" or "ended".
    status: Mapped[str] = mapped_column(String(10), index=True)
    sdr_id: Mapped[str | None] = mapped_column(String(50))
    requested_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_by: Mapped[str | None] = mapped_column(String(50))


class Consent(Base):
    """Append-only proof of a lead's marketing-email consent: what they were asked, what they
    answered, when and where (GDPR art. 7(1): the controller must be able to show it)."""

    __tablename__ = "consents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    lead_id: Mapped[str] = mapped_column(ForeignKey("leads.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(40), default="marketing_email")
    granted: Mapped[bool] = mapped_column(Boolean)
    # The question as shown, in the visitor's language, and what they answered.
    wording: Mapped[str] = mapped_column(Text, default="")
    answer: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(20), default="chat")
    conversation_id: Mapped[str | None] = mapped_column(String(255))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Which text it was: the flow version whose messages.yml held the question, and its language
    # (None on rows recorded before revision 0003).
    flow_version: Mapped[int | None] = mapped_column(Integer)
    language: Mapped[str | None] = mapped_column(String(5))


class Visitor(Base):
    """An anonymous visitor id (a browser) and the lead it turned out to be, once known."""

    __tablename__ = "visitors"

    anonymous_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    lead_id: Mapped[str | None] = mapped_column(ForeignKey("leads.id"), index=True)
    first_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class TrackedEvent(Base):
    """One `track`, `page` or `identify` call, as received (Segment spec)."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # The sender's messageId (or a hash of the payload): a retried call is stored once.
    message_id: Mapped[str] = mapped_column(String(100), unique=True)
    type: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(200), index=True)
    url: Mapped[str | None] = mapped_column(Text)
    anonymous_id: Mapped[str | None] = mapped_column(String(64), index=True)
    user_id: Mapped[str | None] = mapped_column(String(200), index=True)
    lead_id: Mapped[str | None] = mapped_column(ForeignKey("leads.id"), index=True)
    properties: Mapped[dict] = mapped_column(JSON, default=dict)
    # When it happened (the payload's timestamp, corrected for the sender's clock).
    timestamp: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # "server" or "browser": which write key sent it.
    source: Mapped[str] = mapped_column(String(10), default="server")


class ScoreChange(Base):
    """One change of a lead's points: which rule, from what (answer, profile, event, decay,
    merge), by how much, under which config version. The deltas of a lead add up to its
    current unrounded score."""

    __tablename__ = "score_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    lead_id: Mapped[str] = mapped_column(ForeignKey("leads.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    rule: Mapped[str] = mapped_column(String(120))
    source: Mapped[str] = mapped_column(String(10))
    # The answer's question, the profile field or the event's message id.
    source_ref: Mapped[str | None] = mapped_column(String(100))
    delta: Mapped[float] = mapped_column(Float)
    config_version: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text, default="")


class StageTransition(Base):
    __tablename__ = "stage_transitions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    lead_id: Mapped[str] = mapped_column(ForeignKey("leads.id"), index=True)
    from_stage: Mapped[str] = mapped_column(String(20))
    to_stage: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(20))
    actor_type: Mapped[str] = mapped_column(String(10))
    actor_id: Mapped[str | None] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(String(40))
    note: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class LeadMerge(Base):
    """Two leads found to be one person: `source` was folded into `target` (kept for lookups)."""

    __tablename__ = "lead_merges"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source_id: Mapped[str] = mapped_column(String(32), index=True)
    target_id: Mapped[str] = mapped_column(ForeignKey("leads.id"), index=True)
    source_email: Mapped[str | None] = mapped_column(String(320), index=True)
    reason: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Erasure(Base):
    """A person erased on request (GDPR art. 17), without any personal data: a random id, when,
    who did it and why, and how many rows of each kind went (leadqual/leads/privacy.py). While the
    conversations in Rasa's tracker store could not be deleted yet, their sender ids wait in
    `pending_sender_ids` (random ids, retried by `bin/leads retention`), and are cleared after."""

    __tablename__ = "erasures"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    by: Mapped[str] = mapped_column(String(320))
    reason: Mapped[str] = mapped_column(Text, default="")
    counts: Mapped[dict] = mapped_column(JSON, default=dict)
    # "deleted", "not_configured", "pending" (failed; retried), "nothing" (no conversation).
    tracker_store: Mapped[str] = mapped_column(String(20), default="nothing")
    pending_sender_ids: Mapped[list] = mapped_column(JSON, default=list)


class ErasedIdentity(Base):
    """An identity of an erased person, kept so that nothing of them comes back (leadqual/leads/privacy.py):
    one of their conversation ids (as stored, see leads.conversation_key) or emails, as a SHA-256
    hash only (`leads.erased_key`). A late save of an erased conversation, or of a conversation
    that gives an erased email and began before the erasure, stores nothing (`LeadStore.is_erased`).

    For a conversation, `rasa_reset` says whether its copy in Rasa was emptied through Rasa's HTTP
    API: "reset", "pending" (not configured or failed: retried by `bin/leads retention`; the
    sender id waits in `pending_sender_id`, a random id, cleared once reset) or "unaddressable"
    (an odd sender id the API cannot name: stored hashed with its raw form gone, or needing
    percent-escapes, which Rasa 3.6 does not decode; the refusal and the SQL store's delete remain)."""

    __tablename__ = "erased_identities"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    erasure_id: Mapped[str] = mapped_column(ForeignKey("erasures.id"), index=True)
    # "conversation" or "email".
    kind: Mapped[str] = mapped_column(String(12))
    key_hash: Mapped[str] = mapped_column(String(64), index=True)
    erased_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    rasa_reset: Mapped[str | None] = mapped_column(String(20))
    pending_sender_id: Mapped[str | None] = mapped_column(String(255))


# --- Funnel analytics (leadqual.conversation.analytics) ---


class QuestionEvent(Base):
    __tablename__ = "question_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(String(255))
    flow_version: Mapped[int] = mapped_column(Integer)
    language: Mapped[str] = mapped_column(String(5))
    question: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(10))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (
        Index("ix_question_events_conversation", "conversation_id", "at"),
        Index("ix_question_events_version", "flow_version", "language", "question"),
    )


class UnansweredQuestion(Base):
    """A visitor's question with no answer above the knowledge file's threshold: what marketing
    should add to config/knowledge.yml next. Emails and phone numbers are masked before storing."""

    __tablename__ = "unanswered_questions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(String(255))
    flow_version: Mapped[int] = mapped_column(Integer)
    language: Mapped[str] = mapped_column(String(5))
    text: Mapped[str] = mapped_column(String(500))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (Index("ix_unanswered_questions_at", "at"),)


# --- Console users and sessions (leadqual.console.auth) ---

ROLES = ("sdr", "marketing", "admin")


# What each role may do. sdr: work leads (decide, note, take over); marketing: read and export,
# edit and publish the question flow, read the analytics; admin: everything, including users and
# the outbox's dead letters.
PERMISSIONS: dict[str, frozenset[str]] = {
    "sdr": frozenset({"read", "decide"}),
    "marketing": frozenset({"read", "export", "flows", "analytics"}),
    "admin": frozenset({"read", "decide", "export", "flows", "analytics", "admin"}),
}


class User(Base):
    __tablename__ = "console_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)  # lower-case
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(10))
    password_hash: Mapped[str] = mapped_column(String(200))
    # The SDR id in config (handoff.sdrs) this user is: their leads, their decisions.
    sdr_id: Mapped[str | None] = mapped_column(String(50))
    # "es" or "en"; None = from the browser's Accept-Language.
    language: Mapped[str | None] = mapped_column(String(5))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Last request seen: the start of "new since your last visit" for the next sign-in.
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    api_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    def can(self, permission: str) -> bool:
        return not self.disabled and permission in PERMISSIONS.get(self.role, frozenset())

    @property
    def actor_id(self) -> str:
        """The id written in a lead's history for this user's moves."""
        return self.sdr_id or self.email


class SignInFailures(Base):
    """Failed sign-ins in a row to one account from one client address (an IPv4 address or an
    IPv6 /64, leadqual/clientaddr.rate_key), and until when that address is locked out."""

    __tablename__ = "console_sign_in_failures"

    user_id: Mapped[int] = mapped_column(ForeignKey("console_users.id", ondelete="CASCADE"), primary_key=True)
    address: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_failed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class WebSession(Base):
    """A signed-in browser. The cookie holds a random token; only its SHA-256 is stored."""

    __tablename__ = "console_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("console_users.id", ondelete="CASCADE"), index=True)
    # The synchronizer token every POST form of this session must carry.
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Leads created or assigned after this are marked new: the user's previous visit.
    new_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


# --- SDRs' notes on leads (leadqual.console.decisions) ---


class LeadNote(Base):
    """A note, a reassignment or a takeover on a lead: history that is not a stage move."""

    __tablename__ = "lead_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    lead_id: Mapped[str] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    # "note", "reassigned", "took_over" or "handed_back" (data: the conversation).
    kind: Mapped[str] = mapped_column(String(20))
    # The console user's history id (their SDR id, else their email).
    author: Mapped[str] = mapped_column(String(320))
    text: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


# --- Published and draft question flows (leadqual.conversation.flows) ---


class FlowVersion(Base):
    """One published version of the flow (append-only)."""

    __tablename__ = "flow_versions"

    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    qualification: Mapped[dict] = mapped_column(JSON)
    messages: Mapped[dict] = mapped_column(JSON)
    # None in versions published before migration 0010: the shipped config/knowledge.yml.
    knowledge: Mapped[dict | None] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    note: Mapped[str] = mapped_column(Text, default="")
    # Dotted paths of what changed from the version before ("messages.questions.budget.ask.es").
    changes: Mapped[list] = mapped_column(JSON, default=list)
    restored_from: Mapped[int | None] = mapped_column(Integer)


class FlowDraft(Base):
    """A version being edited in the console: saved as often as wanted, valid or not, and
    previewed in a chat before it is published."""

    __tablename__ = "flow_drafts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    qualification: Mapped[dict] = mapped_column(JSON)
    messages: Mapped[dict] = mapped_column(JSON)
    knowledge: Mapped[dict | None] = mapped_column(JSON)
    based_on: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(320))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


# --- SDR routing state (leadqual.delivery.handoff) ---


class RoutingState(Base):
    """The round-robin state routing.route needs between leads (one row, locked while used)."""

    __tablename__ = "routing_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    state: Mapped[dict] = mapped_column(JSON, default=dict)


# --- The CRM / nurture outbox (leadqual.delivery.outbox) ---

PENDING, DELIVERED, DEAD = "pending", "delivered", "dead"


class OutboxMessage(Base):
    """One message to deliver to a destination, written in the transaction that caused it."""

    __tablename__ = "outbox_messages"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    # Sent as `webhook-id` on every attempt: the receiver dedupes on it.
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    destination: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(10), default=PENDING, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    # A worker's claim: nobody else sends the message until it expires.
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    locked_by: Mapped[str | None] = mapped_column(String(32))
    last_error: Mapped[str | None] = mapped_column(Text)
    last_status: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    lead_id: Mapped[str | None] = mapped_column(String(32), index=True)


# --- Native CRM sync (leadqual.delivery.hubspot, salesforce; leadqual.leads.crm_sync) ---


class CrmRecord(Base):
    """A lead's record in a CRM: its id there, and how the last sync went (shown on the lead's
    page: synced / pending / failed with the reason)."""

    __tablename__ = "crm_records"

    lead_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    system: Mapped[str] = mapped_column(String(20), primary_key=True)  # hubspot, salesforce
    record_id: Mapped[str | None] = mapped_column(String(64), index=True)
    url: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(10), default=PENDING)  # pending, synced, failed
    error: Mapped[str | None] = mapped_column(Text)
    # The packet time of the last change sent: an older retried message does not overwrite it.
    packet_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    synced_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The CRM's own stage and owner as last seen, so a change made there is applied once.
    remote_stage: Mapped[str | None] = mapped_column(String(60))
    remote_owner: Mapped[str | None] = mapped_column(String(64))


class CrmState(Base):
    """Small shared state per CRM: the poll cursor, the rate-limit window all workers share."""

    __tablename__ = "crm_state"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[dict] = mapped_column(JSON, default=dict)


class CrmInboundEvent(Base):
    """A webhook event or polled change already applied: a replay is refused, not applied twice."""

    __tablename__ = "crm_inbound_events"

    id: Mapped[str] = mapped_column(String(120), primary_key=True)  # "<system>:<event id>"
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
