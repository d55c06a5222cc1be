"""Handing a sales-ready lead to sales: pick its SDR (routing.py), record who and by which rule,
and queue the handoff packet for the CRM (outbox.py) in the same transaction as the score that
made the lead sales-ready, so a lead cannot become sales-ready without its packet being queued.

Called by the lead store when a lead's `sales_ready` turns true (the chat's answers or events
met `stages.sql`). A lead that drops and qualifies again is handed off again, with a new
idempotency key; re-saving a lead that is still sales-ready queues nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from leadqual import settings
from leadqual.config.marketing import QualificationConfig
from leadqual.db.tables import CrmRecord, RoutingState
from leadqual.delivery import crm, outbox, routing

# Event lines shown in the packet's behaviour highlights, highest value first.
HIGHLIGHTS = 5


def packet(lead: dict, assignment: routing.Assignment) -> dict:
    """What the CRM receives: contact, BANT as said and as parsed, the score line by line, what the
    visitor did, the owner and a link back."""
    events = [line for line in lead["score_breakdown"] if line["source"] == "event"]
    console = settings.CONSOLE_URL.get().rstrip("/")
    return {
        "lead_id": lead["id"],
        "contact": {k: lead[k] for k in ("email", "name", "company", "language", "user_id")},
        "profile": lead["profile"],
        "stage": lead["stage"],
        "grade": lead["grade"],
        "scores": lead["scores"],
        "bant": lead["bant"],
        "score_breakdown": lead["score_breakdown"],
        "behaviour_highlights": sorted(events, key=lambda line: -line["value"])[:HIGHLIGHTS],
        "owner": {"sdr": assignment.sdr_id, "queue": assignment.queue, "rule": assignment.rule},
        "conversations": lead["conversations"],
        # Every conversation's lines (visitor, bot, SDR) with times: the rep reads what was said.
        "transcripts": lead.get("transcripts", []),
        "links": {"lead": f"{console}/leads/{lead['id']}"} if console else {},
    }


def hand_off(session: Session, lead, lead_json: dict, config: QualificationConfig, now: datetime) -> None:
    """Assign `lead` (a Lead row, being re-scored in `session`) and queue its packet."""
    state = session.get(RoutingState, 1, with_for_update=True)
    if state is None:
        state = RoutingState(id=1, state={})
        session.add(state)
        session.flush()
    assignment, state.state = routing.route({**lead_json, "owner": lead.owner}, config, now, state.state)
    lead.owner, lead.owner_queue = assignment.sdr_id, assignment.queue
    lead.owner_rule, lead.owner_reason, lead.assigned_at = assignment.rule, assignment.reason, now
    lead_json = {**lead_json, "owner": assignment.sdr_id}
    outbox.enqueue(
        session, "crm", packet(lead_json, assignment), lead_id=lead.id, key=_next_key(session, lead, "crm"), now=now
    )


def stage_packet(lead: dict, previous_stage: str | None, transition: dict | None = None) -> dict:
    """What a native CRM receives when a handed-off lead changes stage (or owner): the lead as it
    is now, the stage it left (HubSpot needs it to move a lifecycle stage back) and why."""
    console = settings.CONSOLE_URL.get().rstrip("/")
    owner = lead.get("owner") or {}
    return {
        "type": "stage",
        "lead_id": lead["id"],
        "contact": {k: lead[k] for k in ("email", "name", "company", "language", "user_id")},
        "profile": lead["profile"],
        "stage": lead["stage"],
        "previous_stage": previous_stage,
        "transition": transition or {},
        "grade": lead["grade"],
        "scores": lead["scores"],
        "bant": lead["bant"],
        "score_breakdown": lead["score_breakdown"],
        "owner": {"sdr": owner.get("sdr") if isinstance(owner, dict) else owner, "queue": owner.get("queue")},
        "links": {"lead": f"{console}/leads/{lead['id']}"} if console else {},
    }


def in_crm(session: Session, lead_id: str) -> bool:
    """Whether a lead was handed to the CRM (so its later changes must follow it there)."""
    return bool(
        session.scalar(
            select(func.count())
            .select_from(outbox.OutboxMessage)
            .where(outbox.OutboxMessage.lead_id == lead_id, outbox.OutboxMessage.kind == "crm")
        )
        or session.scalar(select(func.count()).select_from(CrmRecord).where(CrmRecord.lead_id == lead_id))
    )


def follow_in_crm(session: Session, lead, lead_json_of, transition: dict, now: datetime) -> None:
    """Queue a handed-off lead's stage change for the native CRM (LEADQUAL_CRM_DESTINATION), a
    demotion included. A change that came from the CRM is not sent back to it. `lead_json_of()`
    builds the lead's JSON, only when something is sent."""
    if crm.configured_system() is None or transition.get("actor_type") == "crm" or not in_crm(session, lead.id):
        return
    outbox.enqueue(
        session,
        "crm",
        stage_packet(lead_json_of(), transition.get("from_stage"), transition),
        lead_id=lead.id,
        key=_next_key(session, lead, "crm"),
        now=now,
    )


CONTACT = ("email", "name", "company")


def follow_contact(session: Session, lead, lead_json_of, now: datetime, transcripts) -> None:
    """A handed-off lead whose contact details changed since its last CRM message is sent again
    (the chat asks name, company and email after the BANT answers made it sales-ready): in full,
    with its transcript (`transcripts()`), when the CRM could not make a record of it before, else
    as an update. Compared on the Lead row: `lead_json_of()` is built only when something is sent
    (this runs on every save of an owned lead)."""
    system = crm.configured_system()
    if system is None:
        return
    # The lead's CRM messages, newest first: the last one says what the CRM was told.
    payloads = [
        payload or {}
        for payload in session.scalars(
            select(outbox.OutboxMessage.payload)
            .where(outbox.OutboxMessage.lead_id == lead.id, outbox.OutboxMessage.kind == "crm")
            .order_by(outbox.OutboxMessage.created_at.desc())
        )
    ]
    if not payloads:
        return
    sent = payloads[0].get("contact") or {}
    if all((sent.get(k) or None) == (getattr(lead, k) or None) for k in CONTACT):
        return
    # The first packet made the record (Salesforce: a Lead by our id, with its Task) unless it had
    # no email for HubSpot to match; then the first one with an email is sent in full, note and all.
    emailed_before = any((payload.get("contact") or {}).get("email") for payload in payloads)
    if system == "hubspot" and not emailed_before and not lead.email:
        return  # nothing HubSpot can match yet
    lead_json = lead_json_of()
    if system == "hubspot" and not emailed_before:
        owner = lead_json.get("owner") or {}
        assignment = routing.Assignment(owner.get("sdr"), owner.get("queue"), owner.get("rule") or "", "")
        payload = packet({**lead_json, "transcripts": transcripts()}, assignment)
    else:
        payload = {**stage_packet(lead_json, None, {"reason": "contact details"}), "type": "update"}
    outbox.enqueue(session, "crm", payload, lead_id=lead.id, key=_next_key(session, lead, "crm"), now=now)


def _next_key(session: Session, lead, kind: str) -> str:
    """The idempotency key of a lead's next message of `kind`: `<kind>-<lead>-<n>`, n counting
    the ones queued before (a lead handed off or nurtured again gets a new key)."""
    earlier = session.scalar(
        select(func.count())
        .select_from(outbox.OutboxMessage)
        .where(outbox.OutboxMessage.lead_id == lead.id, outbox.OutboxMessage.kind == kind)
    )
    return f"{kind}-{lead.id}-{earlier + 1}"


def nurture_reason(lead: dict, config: QualificationConfig) -> dict:
    """Why a lead goes to nurturing instead of sales: the score short of the sql threshold and
    the required BANT criteria that did not qualify, as codes and as a sentence."""
    rule = config.stages.sql
    total = lead["scores"]["total"]
    failed = [c for c in rule.requires if not lead["bant"][c]["qualifies"]]
    parts = []
    if total < rule.min_score:
        parts.append(f"score {total} below the sales threshold {rule.min_score}")
    parts += [f"{criterion} does not qualify" for criterion in failed]
    return {
        "code": "below_threshold" if total < rule.min_score else "criteria_not_met",
        "score": total,
        "threshold": rule.min_score,
        "failed_criteria": failed,
        "text": "; ".join(parts) or "not sales-ready",
    }


def nurture_packet(lead: dict, config: QualificationConfig, consent: dict) -> dict:
    """What marketing automation receives for a lead that consented but is not for sales yet."""
    return {
        "lead_id": lead["id"],
        "contact": {k: lead[k] for k in ("email", "name", "company", "language", "user_id")},
        "stage": lead["stage"],
        "grade": lead["grade"],
        "scores": lead["scores"],
        "reason": nurture_reason(lead, config),
        "bant": lead["bant"],
        "consent": consent,
    }


def nurture(
    session: Session, lead, lead_json: dict, config: QualificationConfig, consent: dict, now: datetime | None = None
) -> bool:
    """Queue a consenting, not sales-ready lead for nurturing; False when it does not apply."""
    if not lead.marketing_consent or lead.sales_ready or not lead.email:
        return False
    outbox.enqueue(
        session,
        "nurture",
        nurture_packet(lead_json, config, consent),
        lead_id=lead.id,
        key=_next_key(session, lead, "nurture"),
        now=now,
    )
    return True
