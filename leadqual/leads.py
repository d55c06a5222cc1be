"""The lead record: one lead per person, however many conversations.

A conversation's answers are saved on every turn. Before the visitor gives an email the
answers sit on an anonymous lead tied to the conversation; when the email arrives they move
to the person's lead (found case-insensitively), so a returning visitor updates one record.
Each save writes the conversation's whole state, so a save that failed is simply repeated.
"""

from __future__ import annotations

import hashlib
import os
import re
import uuid
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, create_engine, event, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship, sessionmaker

from leadqual import scoring
from leadqual.answers import is_skipped
from leadqual.config import QUESTION_SLOTS, QualificationConfig

DEFAULT_DB = Path(__file__).resolve().parent.parent / "var" / "leads.db"


def database_url() -> str:
    """LEADQUAL_DATABASE_URL (any SQLAlchemy URL), else a SQLite file under var/."""
    url = os.environ.get("LEADQUAL_DATABASE_URL")
    if url:
        return url
    DEFAULT_DB.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{DEFAULT_DB}"


def _now() -> datetime:
    return datetime.now(timezone.utc)


_SAFE_SENDER = re.compile(r"^[A-Za-z0-9_.:@-]{1,128}$")


def conversation_key(sender_id: object) -> str:
    """The stored id of a conversation. Sender ids come from the browser: anything long or
    odd is replaced by its hash, so it can neither break a write nor be used to inject."""
    text = str(sender_id)
    if _SAFE_SENDER.match(text):
        return text
    return "h:" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:48]


def _utc(moment: datetime | None) -> str | None:
    """ISO time in UTC; SQLite hands back naive datetimes for what was stored as UTC."""
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).isoformat()


def _new_id() -> str:
    return uuid.uuid4().hex


class Base(DeclarativeBase):
    pass


class Lead(Base):
    __tablename__ = "leads"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=_new_id)
    # email as given (domain lower-cased); email_key is its lower-case form, unique.
    email: Mapped[str | None] = mapped_column(String(320))
    email_key: Mapped[str | None] = mapped_column(String(320), unique=True, index=True)
    name: Mapped[str | None] = mapped_column(String(200))
    company: Mapped[str | None] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(5), default="es")
    stage: Mapped[str] = mapped_column(String(20), default="lead", index=True)
    fit_score: Mapped[int] = mapped_column(Integer, default=0)
    behaviour_score: Mapped[int] = mapped_column(Integer, default=0)
    total_score: Mapped[int] = mapped_column(Integer, default=0, index=True)
    score_breakdown: Mapped[list] = mapped_column(JSON, default=list)
    answers: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now, onupdate=_now)

    conversations: Mapped[list[Conversation]] = relationship(back_populates="lead", order_by="Conversation.started_at")


class Conversation(Base):
    __tablename__ = "conversations"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)  # Rasa sender id
    lead_id: Mapped[str | None] = mapped_column(ForeignKey("leads.id"), index=True)
    language: Mapped[str] = mapped_column(String(5), default="es")
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now, onupdate=_now)

    lead: Mapped[Lead | None] = relationship(back_populates="conversations")


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


class LeadStore:
    """Repository for leads and conversations over any SQLAlchemy URL."""

    def __init__(self, url: str | None = None, config: QualificationConfig | None = None) -> None:
        from leadqual.config import qualification

        self.url = url or database_url()
        kwargs: dict = {"pool_pre_ping": True}
        if self.url.startswith("sqlite"):
            kwargs["connect_args"] = {"timeout": 15}
        self.engine = create_engine(self.url, **kwargs)
        if self.url.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.config = config or qualification()

    def create_schema(self) -> None:
        Base.metadata.create_all(self.engine)

    # -- writes ---------------------------------------------------------------------------

    def save_conversation(self, conversation_id: str, answers: dict[str, dict | None], language: str) -> dict:
        """Write a conversation's answers to its lead and re-score it; returns the lead JSON.

        Raises SQLAlchemyError when the database fails; the caller keeps the answers and calls
        again later (the write is idempotent).
        """
        for attempt in range(2):
            try:
                with self.sessions.begin() as session:
                    lead = self._save(session, conversation_id, answers, language)
                    return self._lead_json(session, lead)
            except IntegrityError:
                # Two conversations of one person created the same email at once: the
                # second attempt finds the other's lead and merges into it.
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def _save(self, session: Session, conversation_id: str, answers: dict, language: str) -> Lead:
        conversation_id = conversation_key(conversation_id)
        conversation = session.get(Conversation, conversation_id)
        if conversation is None:
            conversation = Conversation(id=conversation_id, language=language)
            session.add(conversation)
        conversation.language = language

        email = (answers.get("email") or {}).get("address") if not is_skipped(answers.get("email")) else None
        lead = conversation.lead
        if email:
            known = session.scalars(select(Lead).where(Lead.email_key == email.lower())).first()
            if known is not None and lead is not None and known.id != lead.id:
                if lead.email_key is None:
                    self._merge_into(session, source=lead, target=known)
                lead = known
            elif known is not None:
                lead = known
            elif lead is None or lead.email_key is not None:
                lead = Lead(email=email, email_key=email.lower())
                session.add(lead)
            else:
                lead.email, lead.email_key = email, email.lower()
        elif lead is None:
            lead = Lead()
            session.add(lead)
        conversation.lead = lead

        merged = dict(lead.answers or {})
        for slot in QUESTION_SLOTS:
            value = answers.get(slot)
            if value is None:
                continue
            if is_skipped(value) and merged.get(slot) and not is_skipped(merged[slot]):
                continue  # skipping now does not erase what the person told us before
            merged[slot] = value
        lead.answers = merged
        lead.language = language
        if merged.get("name") and not is_skipped(merged["name"]):
            lead.name = merged["name"].get("value")
        if merged.get("company") and not is_skipped(merged["company"]):
            lead.company = merged["company"].get("value")
        self._rescore(lead)
        session.flush()
        return lead

    def _merge_into(self, session: Session, source: Lead, target: Lead) -> None:
        """Fold an anonymous lead into the person's lead: newer answers win."""
        answers = dict(target.answers or {})
        for slot, value in (source.answers or {}).items():
            if value is not None and not (is_skipped(value) and answers.get(slot)):
                answers[slot] = value
        target.answers = answers
        for conversation in list(source.conversations):
            conversation.lead = target
        session.flush()
        session.delete(source)

    def _rescore(self, lead: Lead) -> None:
        fit = scoring.fit_score(lead.answers or {}, self.config)
        lead.fit_score = fit.fit
        lead.score_breakdown = fit.breakdown()
        lead.total_score = lead.fit_score + (lead.behaviour_score or 0)
        lead.stage = scoring.stage_for(lead.total_score, self.config)

    # -- reads ----------------------------------------------------------------------------

    def get_by_email(self, email: str) -> dict | None:
        with self.sessions() as session:
            lead = session.scalars(select(Lead).where(Lead.email_key == email.strip().lower())).first()
            return self._lead_json(session, lead) if lead else None

    def get_by_conversation(self, conversation_id: str) -> dict | None:
        with self.sessions() as session:
            conversation = session.get(Conversation, conversation_key(conversation_id))
            if conversation is None or conversation.lead is None:
                return None
            return self._lead_json(session, conversation.lead)

    def list_leads(self, limit: int = 50, stage: str | None = None) -> list[dict]:
        with self.sessions() as session:
            query = select(Lead).order_by(Lead.total_score.desc(), Lead.updated_at.desc()).limit(limit)
            if stage:
                query = query.where(Lead.stage == stage)
            return [self._lead_json(session, lead) for lead in session.scalars(query)]

    def count(self) -> int:
        with self.sessions() as session:
            return session.scalar(select(func.count()).select_from(Lead)) or 0

    def _lead_json(self, session: Session, lead: Lead) -> dict:
        answers = lead.answers or {}
        # Whether each criterion qualifies, as scored at the last save (not re-scored per read).
        qualifies = {line["criterion"]: line["qualifies"] for line in lead.score_breakdown or []}

        def answer(slot: str) -> dict:
            value = answers.get(slot)
            return dict(value) if isinstance(value, dict) else {}

        budget, authority, need, timing = (answer(s) for s in ("budget", "authority", "need", "timing"))
        return {
            "id": lead.id,
            "email": lead.email,
            "name": lead.name,
            "company": lead.company,
            "language": lead.language,
            "stage": lead.stage,
            "scores": {"fit": lead.fit_score, "behaviour": lead.behaviour_score, "total": lead.total_score},
            "bant": {
                "budget": {
                    "min": budget.get("min"),
                    "max": budget.get("max"),
                    "currency": budget.get("currency"),
                    "period": budget.get("period"),
                    "none": bool(budget.get("none")),
                    "unknown": bool(budget.get("unknown")),
                    "skipped": bool(budget.get("skipped")),
                    "qualifies": qualifies.get("budget"),
                    "text": budget.get("text"),
                },
                "authority": {
                    "level": authority.get("level"),
                    "skipped": bool(authority.get("skipped")),
                    "qualifies": qualifies.get("authority"),
                    "text": authority.get("text"),
                },
                "need": {
                    "value": need.get("value"),
                    "skipped": bool(need.get("skipped")),
                    "qualifies": qualifies.get("need"),
                    "text": need.get("text"),
                },
                "timing": {
                    "months": timing.get("months"),
                    "no_rush": bool(timing.get("no_rush")),
                    "skipped": bool(timing.get("skipped")),
                    "qualifies": qualifies.get("timing"),
                    "text": timing.get("text"),
                },
            },
            "score_breakdown": lead.score_breakdown,
            "conversations": [c.id for c in lead.conversations],
            "created_at": _utc(lead.created_at),
            "updated_at": _utc(lead.updated_at),
        }
