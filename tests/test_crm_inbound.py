"""Changes made in the CRM come back (leadqual/leads/crm_sync.py): HubSpot's signed webhooks,
through the real action server, move a lead's stage and owner with actor `crm` and erase a person
deleted there for privacy; forged, stale and replayed webhooks change nothing. Salesforce's
changes are polled. The product never sends a CRM's own change back to it."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone

import pytest
import requests
from sqlalchemy import select

from leadqual.db.tables import CrmRecord, OutboxMessage, StageTransition
from leadqual.delivery.outbox import DeliveryWorker, Destinations
from leadqual.leads import crm_sync
from leadqual.leads.store import LeadStore
from tests.conftest import running_action_server
from tests.fakes.hubspot_api import HubSpotServer
from tests.fakes.salesforce_api import SalesforceServer
from tests.test_crm_hubspot import SDRS, hot
from tests.test_crm_salesforce import SDR_USERS
from tests.test_crm_salesforce import env as salesforce_env

SECRET = "hubspot-app-secret-for-tests"


@pytest.fixture(scope="module")
def hubspot_stack(tmp_path_factory):
    """The fake HubSpot, and the action server delivering to it and receiving its webhooks, on
    one SQLite database the test also reads."""
    workdir = tmp_path_factory.mktemp("crm-inbound")
    url = f"sqlite:///{workdir / 'leads.db'}"
    store = LeadStore(url)
    store.create_schema()
    with HubSpotServer(owners=SDRS, app_secret=SECRET) as hs:
        with running_action_server(
            workdir,
            LEADQUAL_DATABASE_URL=url,
            LEADQUAL_CRM_DESTINATION="hubspot",
            LEADQUAL_HUBSPOT_TOKEN=hs.token,
            LEADQUAL_HUBSPOT_API_URL=hs.url,
            LEADQUAL_HUBSPOT_APP_SECRET=SECRET,
            LEADQUAL_DELIVERY_SECONDS="0.2",
        ) as (base, log):
            hs.webhook_target = f"{base}/crm/hubspot/webhook"
            from leadqual.delivery import connectors

            sync = connectors.hubspot(store.engine, store.config, environ={
                "LEADQUAL_HUBSPOT_TOKEN": hs.token, "LEADQUAL_HUBSPOT_API_URL": hs.url})  # fmt: skip
            assert sync.check(create=True).ok
            yield store, hs, base, log


def wait_until(check, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out")


def synced_lead(store: LeadStore, hs: HubSpotServer, email: str) -> tuple[dict, dict]:
    """A sales-ready lead, delivered to HubSpot by the action server's own delivery loop."""
    lead = store.save_conversation(f"chat-{email}", hot(email), "es", None, datetime.now(timezone.utc))
    contact = wait_until(lambda: hs.contact_by_email(email))
    wait_until(lambda: (r := _record(store, lead["id"])) is not None and r.status == "synced")
    return lead, contact


def _record(store: LeadStore, lead_id: str) -> CrmRecord | None:
    with store.sessions() as session:
        return session.get(CrmRecord, (lead_id, "hubspot"))


def crm_messages(store: LeadStore, lead_id: str) -> list[OutboxMessage]:
    with store.sessions() as session:
        return list(session.scalars(select(OutboxMessage).where(OutboxMessage.lead_id == lead_id)))


def test_a_salesperson_moving_the_lifecycle_stage_moves_the_lead_and_it_is_not_sent_back(hubspot_stack):
    store, hs, _, _ = hubspot_stack
    lead, contact = synced_lead(store, hs, "opp@acme.example")
    hs.set_property(contact["id"], "lifecyclestage", "opportunity")
    (delivery,) = [d for d in hs.webhook_deliveries if '"opportunity"' in d["body"]]
    assert delivery["status"] == 200
    assert store.get(lead["id"])["stage"] == "opportunity"
    with store.sessions() as session:
        last = session.scalars(
            select(StageTransition).where(StageTransition.lead_id == lead["id"]).order_by(StageTransition.id.desc())
        ).first()
    assert (last.actor_type, last.actor_id, last.reason) == ("crm", "hubspot", "crm_update")
    time.sleep(0.5)  # a delivery round or two
    assert [m.payload.get("type") for m in crm_messages(store, lead["id"])] == [None]  # only the handoff


def test_a_salesperson_reassigning_the_contact_changes_the_leads_sdr(hubspot_stack):
    store, hs, _, _ = hubspot_stack
    lead, contact = synced_lead(store, hs, "owner@acme.example")
    other = next(o for o in hs.owners if o["id"] != contact["properties"].get("hubspot_owner_id"))
    hs.set_property(contact["id"], "hubspot_owner_id", other["id"])
    sdr = next(s for s in store.config.handoff.sdrs if s.email == other["email"])
    owner = store.get(lead["id"])["owner"]
    assert (owner["sdr"], owner["rule"], owner["reason"]) == (sdr.id, "crm", "reassigned in hubspot")


def test_forged_stale_and_replayed_webhooks_change_nothing(hubspot_stack):
    store, hs, base, _ = hubspot_stack
    lead, contact = synced_lead(store, hs, "forged@acme.example")
    target = f"{base}/crm/hubspot/webhook"
    event = {"eventId": 9_000_001, "subscriptionType": "contact.propertyChange", "objectId": int(contact["id"]),
             "propertyName": "lifecyclestage", "propertyValue": "customer", "changeSource": "CRM_UI",
             "portalId": hs.portal_id, "occurredAt": int(time.time() * 1000), "attemptNumber": 0}  # fmt: skip
    body = json.dumps([event])
    now_ms = int(time.time() * 1000)
    forged = {"X-HubSpot-Request-Timestamp": str(now_ms), "X-HubSpot-Signature-v3": "AAAA"}
    answer = requests.post(target, data=body, headers=forged, timeout=10)
    assert answer.status_code == 401 and "does not match" in answer.json()["error"]
    old = now_ms - 6 * 60 * 1000
    stale = {"X-HubSpot-Request-Timestamp": str(old), "X-HubSpot-Signature-v3": hs.sign("POST", target, body, old)}
    answer = requests.post(target, data=body, headers=stale, timeout=10)
    assert answer.status_code == 401 and "5 minutes" in answer.json()["error"]
    unsigned = requests.post(target, data=body, timeout=10)
    assert unsigned.status_code == 401
    assert store.get(lead["id"])["stage"] == "sql"
    hs.set_property(contact["id"], "lifecyclestage", "opportunity")
    (delivery,) = [d for d in hs.webhook_deliveries if f'"objectId":{contact["id"]}' in d["body"]][-1:]
    assert store.get(lead["id"])["stage"] == "opportunity"
    # The same signed request again, within the window: refused as a replay.
    store.move_stage(lead["id"], "sql", _person(), "bad_timing")
    again = requests.post(delivery["url"], data=delivery["body"], headers=delivery["headers"], timeout=10)
    assert again.status_code == 200
    assert [e["outcome"] for e in again.json()["events"]] == ["replay"]
    assert store.get(lead["id"])["stage"] == "sql"


def _person():
    from leadqual.scoring.stages import Actor

    return Actor.person("lucia")


def test_a_body_that_is_not_events_is_a_400_naming_it(hubspot_stack):
    _, hs, base, _ = hubspot_stack
    target = f"{base}/crm/hubspot/webhook"
    body = '{"not": "a list"}'
    stamp = int(time.time() * 1000)
    headers = {
        "X-HubSpot-Request-Timestamp": str(stamp),
        "X-HubSpot-Signature-v3": hs.sign("POST", target, body, stamp),
    }
    answer = requests.post(target, data=body, headers=headers, timeout=10)
    assert answer.status_code == 400 and "JSON array of events" in answer.json()["error"]


def test_a_privacy_deletion_in_hubspot_erases_the_person_here(hubspot_stack):
    store, hs, _, _ = hubspot_stack
    lead, contact = synced_lead(store, hs, "gone@acme.example")
    hs.privacy_delete(contact["id"])
    assert store.get(lead["id"]) is None and store.get_by_email("gone@acme.example") is None
    with store.sessions() as session:
        assert session.get(CrmRecord, (lead["id"], "hubspot")) is None
    # Nothing is sent back: HubSpot deleted it already.
    time.sleep(0.5)
    assert not [r for r in hs.requests if r["path"].endswith("/gdpr-delete")]


def test_events_from_our_own_writes_are_not_applied(hubspot_stack):
    store, hs, _, _ = hubspot_stack
    lead, _ = synced_lead(store, hs, "echo@acme.example")
    responses = hs.deliver_pending()  # what HubSpot sends after the product's own upsert
    assert responses and all(r.status_code == 200 for r in responses)
    outcomes = {e["outcome"] for r in responses for e in r.json()["events"]}
    assert outcomes <= {"unchanged", "unknown"}
    assert store.get(lead["id"])["stage"] == "sql"


def test_salesforce_changes_are_polled_once_each(store):
    with SalesforceServer(users=SDR_USERS) as sf:
        from leadqual.delivery import salesforce

        sync = salesforce.from_env(store.engine, store.config, environ=salesforce_env(sf))
        worker = DeliveryWorker(store.engine, Destinations.from_env(environ={}).with_connector("crm", sync))
        now = datetime.now(timezone.utc)
        lead = store.save_conversation("chat-sf", hot("sf@acme.example"), "es", None, now)
        worker.run_once(now)
        assert [a.outcome for a in crm_sync.poll_salesforce(store, sync, now - timedelta(minutes=1))] == ["unchanged"]
        there = sf.lead_by_external_id(lead["id"])
        sf.set_field(there["Id"], "OwnerId", sf.user_ids["emma.clarke@nubilo.es"])
        sf.convert_lead(there["Id"])
        applied = crm_sync.poll_salesforce(store, sync, now)
        assert [a.outcome for a in applied if a.lead_id == lead["id"]][-1] in ("owner+moved", "moved")
        after = store.get(lead["id"])
        assert after["stage"] == "opportunity" and after["owner"]["sdr"] == "emma"
        # Polled again (the cursor has whole seconds: the same change may come back): applied once.
        assert {a.outcome for a in crm_sync.poll_salesforce(store, sync, now)} <= {"unchanged", "replay"}
        assert store.get(lead["id"])["stage"] == "opportunity"
