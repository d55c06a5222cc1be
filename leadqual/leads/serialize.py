"""A lead as JSON, the shape every reader gets (the action server, the console, the CRM packet,
exports): answers with the typed values, scores with their breakdown, stage history, transcripts."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from leadqual.db.tables import (
    Conversation,
    Lead,
    LeadMerge,
    Message,
    ScoreChange,
    StageTransition,
    TrackedEvent,
    Visitor,
)
from leadqual.timeutil import iso_utc


def transcripts(session: Session, lead_id: str) -> list[dict]:
    """Every conversation of a lead with its lines, oldest first."""
    conversations = session.scalars(
        select(Conversation).where(Conversation.lead_id == lead_id).order_by(Conversation.started_at)
    ).all()
    by_conversation: dict[str, list[dict]] = {c.id: [] for c in conversations}
    if by_conversation:
        for m in session.scalars(
            select(Message).where(Message.conversation_id.in_(list(by_conversation))).order_by(Message.at, Message.id)
        ):
            by_conversation[m.conversation_id].append(
                {"at": iso_utc(m.at), "sender": m.sender, "author": m.author, "text": m.text, "data": m.data or {}}
            )
    return [
        {
            "conversation_id": c.id,
            "started_at": iso_utc(c.started_at),
            "language": c.language,
            "messages": by_conversation[c.id],
        }
        for c in conversations
    ]


def lead_json(session: Session, lead: Lead, history: bool = True) -> dict:
    answers = lead.answers or {}
    # Whether each criterion qualifies, as scored at the last save (not re-scored per read).
    qualifies = {line["criterion"]: line["qualifies"] for line in lead.score_breakdown or [] if line.get("criterion")}

    def answer(slot: str) -> dict:
        value = answers.get(slot)
        return dict(value) if isinstance(value, dict) else {}

    budget, authority, need, timing = (answer(s) for s in ("budget", "authority", "need", "timing"))
    data = {
        "id": lead.id,
        "email": lead.email,
        # An unverified chat that gave another lead's email (leadqual/leads/identity.py).
        "identity": {
            "verified": lead.claims_lead_id is None,
            "claimed_email": lead.claimed_email,
            "claims_lead_id": lead.claims_lead_id,
        },
        "user_id": lead.user_id,
        "name": lead.name,
        "company": lead.company,
        "language": lead.language,
        "profile": lead.profile or {},
        "stage": lead.stage,
        "sales_ready": bool(lead.sales_ready),
        "marketing_consent": lead.marketing_consent,
        "owner": {
            "sdr": lead.owner,
            "queue": lead.owner_queue,
            "rule": lead.owner_rule,
            "reason": lead.owner_reason,
            "at": iso_utc(lead.assigned_at),
        },
        "grade": lead.grade,
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
        # Answers to marketing's extra questions, by question id.
        "extra": {k.removeprefix("extra:"): v for k, v in answers.items() if k.startswith("extra:")},
        "score_breakdown": lead.score_breakdown,
        "config_version": lead.config_version,
        "scored_at": iso_utc(lead.scored_at),
        "conversations": [c.id for c in lead.conversations],
        "last_activity_at": iso_utc(lead.last_activity_at),
        "created_at": iso_utc(lead.created_at),
        "updated_at": iso_utc(lead.updated_at),
    }
    if history:
        data["visitors"] = list(
            session.scalars(
                select(Visitor.anonymous_id).where(Visitor.lead_id == lead.id).order_by(Visitor.first_seen_at)
            )
        )
        data["events"] = [
            {
                "message_id": e.message_id,
                "type": e.type,
                "name": e.name,
                "url": e.url,
                "timestamp": iso_utc(e.timestamp),
                "source": e.source,
            }
            for e in session.scalars(
                select(TrackedEvent).where(TrackedEvent.lead_id == lead.id).order_by(TrackedEvent.timestamp)
            )
        ]
        data["score_changes"] = [
            {
                "at": iso_utc(c.at),
                "rule": c.rule,
                "source": c.source,
                "source_ref": c.source_ref,
                "delta": c.delta,
                "config_version": c.config_version,
                "reason": c.reason,
            }
            for c in session.scalars(select(ScoreChange).where(ScoreChange.lead_id == lead.id).order_by(ScoreChange.id))
        ]
        data["stage_history"] = [
            {
                "from_stage": t.from_stage,
                "to_stage": t.to_stage,
                "kind": t.kind,
                "actor_type": t.actor_type,
                "actor_id": t.actor_id,
                "reason": t.reason,
                "note": t.note,
                "at": iso_utc(t.at),
            }
            for t in session.scalars(
                select(StageTransition).where(StageTransition.lead_id == lead.id).order_by(StageTransition.id)
            )
        ]
        data["transcripts"] = transcripts(session, lead.id)
        data["merged"] = [
            {"lead_id": m.source_id, "email": m.source_email, "reason": m.reason, "at": iso_utc(m.at)}
            for m in session.scalars(select(LeadMerge).where(LeadMerge.target_id == lead.id).order_by(LeadMerge.id))
        ]
    return data


def find_by_email(session: Session, email: str) -> Lead | None:
    """The lead with this email, or the one a lead with this email was merged into."""
    key = email.strip().lower()
    lead = session.scalars(select(Lead).where(Lead.email_key == key)).first()
    if lead is None:
        merge = session.scalars(
            select(LeadMerge).where(func.lower(LeadMerge.source_email) == key).order_by(LeadMerge.id.desc())
        ).first()
        lead = session.get(Lead, merge.target_id) if merge else None
    return lead
