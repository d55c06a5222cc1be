"""Changes made in the CRM, applied here: a salesperson moves a contact's lifecycle stage or a
Lead's Status, converts it, gives it to another owner, or deletes the person for privacy.

HubSpot tells by webhook (`handle_hubspot_events`, after leadqual/http/crm_webhooks.py checked the
signature); Salesforce is polled for Leads whose `SystemModstamp` moved (`poll_salesforce`).
Either way a change is applied once (`crm_inbound_events` remembers what was applied, so a
replayed or re-polled change is refused), with actor `crm`, which the product never sends back.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from leadqual.db.tables import DEAD, PENDING, CrmInboundEvent, CrmRecord, CrmState, Lead, OutboxMessage
from leadqual.delivery import handoff, outbox
from leadqual.delivery.crm import CrmError
from leadqual.leads import serialize
from leadqual.leads.store import LeadStore
from leadqual.scoring.stages import Actor, StageError
from leadqual.timeutil import now_or

log = logging.getLogger(__name__)

# HubSpot's events that concern the sync: the properties the stage and the owner are made of.
HUBSPOT_PROPERTIES = ("lifecyclestage", "hs_lead_status", "hubspot_owner_id")


@dataclass
class Applied:
    """What one CRM change did here: moved, owner, erased, unchanged, replay, unknown, refused."""

    outcome: str
    lead_id: str | None = None
    detail: str = ""


def _first_time(store: LeadStore, event_id: str, now: datetime) -> bool:
    """Record `event_id` as applied; False if it was already (a replay)."""
    try:
        with store.sessions.begin() as session:
            session.add(CrmInboundEvent(id=event_id[:120], received_at=now))
    except IntegrityError:
        return False
    return True


def lead_of_record(store: LeadStore, system: str, record_id: str) -> str | None:
    with store.sessions() as session:
        return session.scalar(
            select(CrmRecord.lead_id).where(CrmRecord.system == system, CrmRecord.record_id == str(record_id))
        )


def apply_change(
    store: LeadStore,
    system: str,
    lead_id: str | None,
    *,
    stage: str | None = None,
    owner_email: str | None = None,
    erase: bool = False,
    event_id: str,
    now: datetime | None = None,
    remote_stage: str | None = None,
    remote_owner: str | None = None,
) -> Applied:
    """Apply one change the CRM reports for one of our leads (see the module). `remote_stage` and
    `remote_owner` are the CRM's own values (a Status, an owner id), kept to tell our own writes
    from a salesperson's next time."""
    now = now_or(now)
    if lead_id is None:
        return Applied("unknown", None, "no lead here has this CRM record")
    if not _first_time(store, f"{system}:{event_id}", now):
        return Applied("replay", lead_id, "already applied")
    if erase:
        return _erase(store, system, lead_id, now)
    lead = store.get(lead_id)
    if lead is None:
        return Applied("unknown", lead_id, "the lead is gone here")
    done: list[str] = []
    if owner_email:
        sdr = next((s for s in store.config.handoff.sdrs if s.email and s.email.lower() == owner_email.lower()), None)
        if sdr is None:
            log.warning("%s gave lead %s to %s, who is not an SDR in qualification.yml", system, lead_id, owner_email)
        elif (lead.get("owner") or {}).get("sdr") != sdr.id:
            _set_owner(store, lead_id, sdr.id, system, now)
            done.append("owner")
    if stage and stage != lead["stage"]:
        try:
            store.move_stage(lead_id, stage, Actor.crm(system), "crm_update", note=f"changed in {system}", now=now)
        except StageError as exc:
            return Applied("refused", lead_id, str(exc))
        done.append("moved")
    _remember(store, system, lead_id, remote_stage, remote_owner)
    return Applied("+".join(done) or "unchanged", lead_id)


def _set_owner(store: LeadStore, lead_id: str, sdr_id: str, system: str, now: datetime) -> None:
    def work(session) -> None:
        lead = session.get(Lead, lead_id)
        lead.owner, lead.owner_queue = sdr_id, None
        lead.owner_rule, lead.owner_reason, lead.assigned_at = "crm", f"reassigned in {system}", now

    store.transaction(work)


def _remember(store: LeadStore, system: str, lead_id: str, stage: str | None, owner: str | None) -> None:
    def work(session) -> None:
        row = session.get(CrmRecord, (lead_id, system))
        if row is not None:
            row.remote_stage = stage or row.remote_stage
            row.remote_owner = owner or row.remote_owner

    store.transaction(work)


def _erase(store: LeadStore, system: str, lead_id: str, now: datetime) -> Applied:
    from leadqual.leads.privacy import erase_person  # noqa: PLC0415 - privacy imports the store, as we do

    lead = store.get(lead_id)
    if lead is None or not lead.get("email"):
        return Applied("unknown", lead_id, "nothing to erase here")
    with store.sessions.begin() as session:  # the CRM deleted it already: nothing to send back
        session.query(CrmRecord).filter(CrmRecord.lead_id == lead_id, CrmRecord.system == system).delete()
    erase_person(
        store, lead["email"], by=f"{system} privacy deletion", reason=f"deleted for privacy in {system}", now=now
    )
    return Applied("erased", lead_id)


def send_again(store: LeadStore, lead_id: str, now: datetime | None = None) -> int:
    """The lead page's "send again": its failed CRM deliveries are put back, due now; with none
    failed, the lead as it is now is queued for the CRM. Returns how many messages will go."""
    now = now_or(now)

    def work(session) -> int:
        lead = session.get(Lead, lead_id)
        if lead is None:
            raise KeyError(lead_id)
        dead = session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.lead_id == lead_id, OutboxMessage.kind == "crm", OutboxMessage.status == DEAD
            )
        ).all()
        for message in dead:
            message.status, message.attempts, message.next_attempt_at = PENDING, 0, now
            message.locked_until = message.locked_by = None
        if dead:
            return len(dead)
        lead_json = serialize.lead_json(session, lead, history=False)
        outbox.enqueue(
            session,
            "crm",
            handoff.stage_packet(lead_json, None, {"reason": "sent again from the console"}),
            lead_id=lead_id,
            now=now,
        )
        return 1

    return store.transaction(work)


# -- HubSpot --------------------------------------------------------------------------------


def handle_hubspot_events(store: LeadStore, sync, events: list[Mapping], now: datetime | None = None) -> list[Applied]:
    """Apply a webhook delivery's events. The stage and owner are read from the contact as it is
    now (several property events arrive for one change, in any order), so an event's own value is
    a hint, not what is applied. Events our own writes cause are ignored."""
    now = now_or(now)
    results = []
    try:
        sync.identify()
    except CrmError as exc:
        log.warning("cannot tell HubSpot's app id (%s): events from our own writes are applied as no-ops", exc)
    own_app = str(getattr(sync, "app_id", "") or "")
    for event in events:
        kind = event.get("subscriptionType")
        contact_id = str(event.get("objectId") or "")
        event_id = str(event.get("eventId") or "")
        if not contact_id or not event_id:
            results.append(Applied("refused", None, "an event without objectId or eventId"))
            continue
        lead_id = lead_of_record(store, "hubspot", contact_id)
        if kind in ("contact.privacyDeletion", "contact.deletion"):
            if kind == "contact.deletion":  # archived, not erased: the lead stays, unlinked
                results.append(_unlink(store, lead_id, contact_id))
                continue
            results.append(apply_change(store, "hubspot", lead_id, erase=True, event_id=event_id, now=now))
            continue
        if kind != "contact.propertyChange" or event.get("propertyName") not in HUBSPOT_PROPERTIES:
            results.append(Applied("unchanged", lead_id, f"{kind} {event.get('propertyName')}: not synced"))
            continue
        if own_app and event.get("changeSource") == "INTEGRATION" and str(event.get("sourceId")) == own_app:
            results.append(Applied("unchanged", lead_id, "our own write"))
            continue
        if lead_id is None:
            results.append(Applied("unknown", None, f"contact {contact_id} is not one of ours"))
            continue
        try:
            state = sync.contact_state(contact_id)
        except CrmError as exc:
            results.append(Applied("refused", lead_id, f"could not read the contact: {exc}"))
            continue
        results.append(
            apply_change(
                store,
                "hubspot",
                lead_id,
                stage=state.stage,
                owner_email=state.owner_email,
                event_id=event_id,
                now=now,
                remote_stage=state.lifecyclestage,
                remote_owner=state.owner_id,
            )
        )
    return results


def _unlink(store: LeadStore, lead_id: str | None, contact_id: str) -> Applied:
    if lead_id is None:
        return Applied("unknown", None, f"contact {contact_id} is not one of ours")
    with store.sessions.begin() as session:
        row = session.get(CrmRecord, (lead_id, "hubspot"))
        if row is not None:
            row.status, row.error, row.record_id = "failed", "the contact was deleted in HubSpot", None
    return Applied("unlinked", lead_id, "deleted in HubSpot: sent again as a new contact on its next change")


# -- Salesforce -----------------------------------------------------------------------------

POLL_KEY = "salesforce:poll"


def poll_salesforce(store: LeadStore, sync, now: datetime | None = None, limit: int = 200) -> list[Applied]:
    """Read the Leads changed since the last poll and apply them; the cursor (the newest
    SystemModstamp seen) is shared by every process, and a change seen twice is applied once."""
    now = now_or(now)
    with store.sessions() as session:
        state = session.get(CrmState, POLL_KEY)
        since = datetime.fromisoformat(state.value["since"]) if state is not None else now - timedelta(minutes=5)
    changes = sync.changes_since(since, limit=limit)
    results = []
    newest = since
    for change in changes:
        at = datetime.fromisoformat(change.at.replace("Z", "+00:00").replace("+0000", "+00:00"))
        newest = max(newest, at)
        with store.sessions() as session:
            known = session.get(CrmRecord, (change.lead_id, "salesforce"))
        if known is None:
            results.append(Applied("unknown", change.lead_id, "not a lead this product sent"))
            continue
        if (change.status, change.owner_id) == (known.remote_stage, known.remote_owner or change.owner_id):
            results.append(Applied("unchanged", change.lead_id, "as we last wrote it"))
            continue
        results.append(
            apply_change(
                store,
                "salesforce",
                change.lead_id,
                stage=change.stage,
                owner_email=change.owner_email,
                event_id=f"{change.record_id}:{change.at}",
                now=now,
                remote_stage=change.status,
                remote_owner=change.owner_id,
            )
        )
    if newest > since:
        with store.sessions.begin() as session:
            state = session.get(CrmState, POLL_KEY, with_for_update=True)
            if state is None:
                session.add(CrmState(key=POLL_KEY, value={"since": newest.isoformat()}))
            elif datetime.fromisoformat(state.value["since"]) < newest:
                state.value = {"since": newest.isoformat()}
    return results
