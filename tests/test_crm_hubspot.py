"""HubSpot as the CRM (leadqual/delivery/hubspot.py), through the outbox, against a local server
that behaves as HubSpot's API reference says (tests/fakes/hubspot_api.py): connect, the contact
a sales-ready lead becomes (properties, lifecycle stage, owner, note), batching, rate limits,
failures, demotions and GDPR deletes; on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from leadqual.db.tables import CrmRecord, OutboxMessage
from leadqual.delivery import connectors
from leadqual.delivery.outbox import DeliveryWorker, Destinations
from leadqual.scoring.stages import Actor
from leadqual.timeutil import aware
from tests.fakes.hubspot_api import DEFAULT_TOKEN, HubSpotServer

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc)  # a Tuesday, in business hours in Madrid
SDRS = [
    {"email": "lucia.fernandez@nubilo.es", "firstName": "Lucía", "lastName": "Fernández"},
    {"email": "diego.ramirez@nubilo.es", "firstName": "Diego", "lastName": "Ramírez"},
    {"email": "emma.clarke@nubilo.es", "firstName": "Emma", "lastName": "Clarke"},
]


def hot(email: str = "ana@acme.example", name: str = "Ana García Pérez") -> dict:
    return {
        "need": {"value": "crm", "text": "gestionar a los comerciales"},
        "timing": {"months": 0},
        "budget": {"min": 10000, "currency": "EUR", "period": "year", "text": "más de 10.000 €"},
        "authority": {"level": "decision_maker"},
        "name": {"value": name},
        "company": {"value": "Acme <Ibérica>"},
        "email": {"address": email},
    }


@pytest.fixture
def hs():
    with HubSpotServer(owners=SDRS) as server:
        yield server


@pytest.fixture
def native(monkeypatch):
    """The deployment sends leads to HubSpot (so stage changes follow them there)."""
    monkeypatch.setenv("LEADQUAL_CRM_DESTINATION", "hubspot")


def env(hs: HubSpotServer) -> dict:
    return {
        "LEADQUAL_CRM_DESTINATION": "hubspot",
        "LEADQUAL_HUBSPOT_TOKEN": hs.token,
        "LEADQUAL_HUBSPOT_API_URL": hs.url,
    }


def worker_for(store, hs: HubSpotServer, rate: tuple[int, float] = (100, 10.0), **kwargs) -> DeliveryWorker:
    sync = connectors.hubspot(store.engine, store.config, environ=env(hs), rate=rate)
    destinations = Destinations.from_env(environ={}).with_connector("crm", sync)
    return DeliveryWorker(store.engine, destinations, rng=random.Random(1), **kwargs)


def connected(store, hs: HubSpotServer, **kwargs) -> DeliveryWorker:
    worker = worker_for(store, hs, **kwargs)
    report = worker.destinations.get("crm").connector.check(create=True)
    assert report.ok, report.problems
    return worker


def messages(store, status: str | None = None) -> list[OutboxMessage]:
    with store.sessions() as session:
        query = select(OutboxMessage).where(OutboxMessage.kind == "crm")
        if status:
            query = query.where(OutboxMessage.status == status)
        return list(session.scalars(query))


def note_lines(body: str) -> list[str]:
    return body.split("<ul>", 1)[1].split("</ul>", 1)[0].split("<li>")[1:]


def record(store, lead_id: str) -> CrmRecord | None:
    with store.sessions() as session:
        return session.get(CrmRecord, (lead_id, "hubspot"))


def test_connect_creates_the_products_properties_in_their_own_group_once(store, hs):
    sync = worker_for(store, hs).destinations.get("crm").connector
    before = sync.check(create=False)
    assert not before.ok
    assert any("nubilo_fit_score does not exist" in p for p in before.problems)
    report = sync.check(create=True)
    assert report.ok and "property group nubilo_qualification" in report.created
    assert hs.properties["nubilo_total_score"]["groupName"] == "nubilo_qualification"
    assert hs.properties["nubilo_total_score"]["type"] == "number"
    assert sync.check(create=True).created == []  # connecting again creates nothing


def test_a_token_without_a_scope_is_a_clear_error_at_connect_time(store):
    scopes = ("crm.objects.contacts.read", "crm.objects.contacts.write", "crm.objects.owners.read")
    with HubSpotServer(owners=SDRS, scopes=scopes) as hs:
        report = worker_for(store, hs).destinations.get("crm").connector.check(create=True)
    assert not report.ok
    assert report.problems == [
        "the private app lacks the scopes: crm.schemas.contacts.read, crm.schemas.contacts.write"
    ]


def test_an_sdr_without_a_hubspot_user_is_named_at_connect_time(store):
    with HubSpotServer(owners=SDRS[:2]) as hs:
        report = worker_for(store, hs).destinations.get("crm").connector.check(create=True)
    assert report.problems == ["SDR emma (emma.clarke@nubilo.es) has no HubSpot user: their leads get no owner"]


def test_a_sales_ready_lead_becomes_a_contact_with_its_score_owner_and_a_note(store, hs, native):
    worker = connected(store, hs)
    lead = store.save_conversation("chat-1", hot(), "es", None, NOW)
    assert worker.run_once(NOW)["delivered"] == 1
    contact = hs.contact_by_email("ana@acme.example")
    properties = contact["properties"]
    assert (properties["firstname"], properties["lastname"], properties["company"]) == (
        "Ana",
        "García Pérez",
        "Acme <Ibérica>",
    )
    assert properties["lifecyclestage"] == "salesqualifiedlead" and properties["hs_lead_status"] == "IN_PROGRESS"
    assert properties["nubilo_total_score"] == str(lead["scores"]["total"])
    assert properties["nubilo_grade"] == lead["grade"] and properties["nubilo_need"] == "crm"
    assert properties["nubilo_budget"] == "from 10000 EUR/year"
    sdr = store.config.handoff.sdr(lead["owner"]["sdr"])
    owner = next(o for o in hs.owners if o["email"] == sdr.email)
    assert properties["hubspot_owner_id"] == owner["id"]
    (note,) = hs.notes_for(contact["id"])
    body = note["properties"]["hs_note_body"]
    assert f"Puntuación: {lead['scores']['total']}" in body  # in the lead's language
    assert len(note_lines(body)) == len(lead["score_breakdown"])  # the score, line by line
    row = record(store, lead["id"])
    assert (row.status, row.record_id, row.error) == ("synced", contact["id"], None)
    assert row.url.endswith(f"/contacts/{hs.portal_id}/record/0-1/{contact['id']}")


def test_visitor_text_in_the_note_is_escaped(store, hs):
    sync = connected(store, hs).destinations.get("crm").connector
    packet = {
        "lead_id": "l1",
        "contact": {"email": "x@y.example", "name": "<script>alert(1)</script>", "language": "en"},
        "scores": {"total": 90},
        "score_breakdown": [{"value": 30, "reason": "<img src=x onerror=alert(1)>"}],
        "transcripts": [{"messages": [{"sender": "user", "text": "<script>steal()</script>"}]}],
    }
    (result,) = sync.deliver([{"key": "k1", "payload": packet, "created_at": NOW}])
    (note,) = hs.notes_for(result.record_id)
    body = note["properties"]["hs_note_body"]
    assert "<script>" not in body and "<img" not in body
    assert "&lt;script&gt;steal()&lt;/script&gt;" in body


def test_the_same_delivery_twice_is_one_contact(store, hs):
    worker = connected(store, hs)
    lead = store.save_conversation("chat-1", hot(), "es", None, NOW)
    (message,) = messages(store)
    assert worker.run_once(NOW)["delivered"] == 1
    assert worker.retry(message.id, NOW) is False  # delivered: nothing to put back
    with store.sessions.begin() as session:  # as if a worker died after HubSpot answered
        session.get(OutboxMessage, message.id).status = "pending"
    assert worker.run_once(NOW + timedelta(seconds=1))["delivered"] == 1
    assert len(hs.contacts) == 1 and record(store, lead["id"]).status == "synced"


def test_many_leads_go_in_batches_of_at_most_100(store, hs):
    worker = connected(store, hs)
    for i in range(150):
        store.save_conversation(f"chat-{i}", hot(f"lead{i}@acme.example"), "es", None, NOW)
    calls_before = len(hs.requests)
    first = worker.run_once(NOW)
    second = worker.run_once(NOW)
    assert (first["delivered"], second["delivered"]) == (100, 50)
    upserts = [r for r in hs.requests[calls_before:] if r["path"].endswith("/contacts/batch/upsert")]
    assert [len(r["json"]["inputs"]) for r in upserts] == [100, 50]
    notes = [r for r in hs.requests[calls_before:] if r["path"].endswith("/notes/batch/create")]
    assert [len(r["json"]["inputs"]) for r in notes] == [100, 50]
    assert len(hs.contacts) == 150


def test_a_rate_limited_worker_waits_instead_of_tripping_429s(store):
    with HubSpotServer(owners=SDRS, rate_limit=(4, 1.0)) as hs:
        worker = connected(store, hs, rate=(4, 1.0))
        for i in range(6):
            store.save_conversation(f"chat-{i}", hot(f"lead{i}@acme.example"), "es", None, NOW)
        worker.batch_size = 1  # one contact a call: more calls than the window allows
        for connector in [worker.destinations.get("crm").connector]:
            connector.batch_limit = 1
        delivered = sum(worker.run_once(NOW)["delivered"] for _ in range(6))
        assert delivered == 6
        assert [r for r in hs.requests if r["status"] == 429] == []
        assert worker.destinations.get("crm").connector.client.budget.waited > 0


def test_a_429_is_retried_after_what_hubspot_says(store, hs):
    worker = connected(store, hs)
    budget = worker.destinations.get("crm").connector.client.budget
    clock = [budget.clock()]
    budget.clock, budget.sleep = (lambda: clock[0]), (lambda seconds: clock.__setitem__(0, clock[0] + seconds))
    store.save_conversation("chat-1", hot(), "es", None, NOW)
    hs.fail_next(1, status=429)
    assert worker.run_once(NOW)["retrying"] == 1
    (message,) = messages(store)
    assert message.last_status == 429 and "rate limit" in message.last_error
    assert worker.run_once(aware(message.next_attempt_at))["delivered"] == 1


def test_a_5xx_is_retried_and_the_lead_page_shows_pending_with_the_reason(store, hs):
    worker = connected(store, hs)
    lead = store.save_conversation("chat-1", hot(), "es", None, NOW)
    hs.fail_next(1, status=503)
    assert worker.run_once(NOW)["retrying"] == 1
    row = record(store, lead["id"])
    assert row.status == "pending" and "503" in row.error
    (message,) = messages(store)
    assert worker.run_once(aware(message.next_attempt_at))["delivered"] == 1
    assert record(store, lead["id"]).status == "synced"


def test_a_refusal_that_would_fail_again_is_a_dead_letter_with_the_reason(store, hs):
    worker = worker_for(store, hs)  # never connected: the product's properties do not exist
    lead = store.save_conversation("chat-1", hot(), "es", None, NOW)
    assert worker.run_once(NOW)["dead"] == 1
    (dead,) = worker.dead_letters()
    assert "nubilo_" in dead["last_error"] and "does not exist" in dead["last_error"]
    assert record(store, lead["id"]).status == "failed"
    # Connected, "send again" delivers it.
    assert worker.destinations.get("crm").connector.check(create=True).ok
    assert worker.retry(dead["id"], NOW) and worker.run_once(NOW)["delivered"] == 1


def test_one_bad_contact_does_not_hold_back_the_batch(store, hs):
    worker = connected(store, hs)
    sync = worker.destinations.get("crm").connector
    good = {"contact": {"email": "good2@acme.example", "name": "Bea"}, "stage": "sql", "scores": {}}
    bad = {"contact": {"email": "not-an-email", "name": "Bad"}, "stage": "sql", "scores": {}}
    results = sync.deliver(
        [{"key": "a", "payload": good, "created_at": NOW}, {"key": "b", "payload": bad, "created_at": NOW}]
    )
    assert results[0].record_id and hs.contact_by_email("good2@acme.example")
    assert not results[1].retry and "INVALID_EMAIL" in str(results[1])


def test_an_sdr_without_a_hubspot_user_delivers_without_owner_and_says_so(store, native):
    with HubSpotServer(owners=[]) as hs:
        worker = connected_without_owner_check(store, hs)
        lead = store.save_conversation("chat-1", hot(), "es", None, NOW)
        assert worker.run_once(NOW)["delivered"] == 1
        contact = hs.contact_by_email("ana@acme.example")
    assert "hubspot_owner_id" not in contact["properties"]
    row = record(store, lead["id"])
    assert row.status == "synced" and "has no HubSpot user" in row.error


def connected_without_owner_check(store, hs: HubSpotServer) -> DeliveryWorker:
    worker = worker_for(store, hs)
    report = worker.destinations.get("crm").connector.check(create=True)
    assert all("has no HubSpot user" in p for p in report.problems)
    return worker


def test_a_demotion_reaches_hubspot_though_it_never_moves_a_stage_back_by_itself(store, hs, native):
    worker = connected(store, hs)
    lead = store.save_conversation("chat-1", hot(), "es", None, NOW)
    worker.run_once(NOW)
    later = NOW + timedelta(hours=1)
    store.move_stage(lead["id"], "mql", Actor.person("lucia"), "bad_timing", now=later)
    assert worker.run_once(later)["delivered"] == 1
    properties = hs.contact_by_email("ana@acme.example")["properties"]
    assert properties["lifecyclestage"] == "marketingqualifiedlead"
    assert properties["nubilo_stage"] == "mql"


def test_a_change_made_in_hubspot_is_not_sent_back(store, hs, native):
    worker = connected(store, hs)
    lead = store.save_conversation("chat-1", hot(), "es", None, NOW)
    worker.run_once(NOW)
    store.move_stage(lead["id"], "opportunity", Actor.crm("hubspot"), "crm_update", now=NOW + timedelta(hours=1))
    assert len(messages(store)) == 1  # only the handoff


def test_an_older_packet_retried_after_a_newer_one_does_not_overwrite_it(store, hs, native):
    worker = connected(store, hs)
    lead = store.save_conversation("chat-1", hot(), "es", None, NOW)
    hs.fail_next(1, status=503)
    assert worker.run_once(NOW)["retrying"] == 1  # the handoff waits for its retry
    later = NOW + timedelta(hours=1)
    store.move_stage(lead["id"], "mql", Actor.person("lucia"), "bad_timing", now=later)
    with store.sessions.begin() as session:  # the demotion is sent first
        for message in session.scalars(select(OutboxMessage)):
            message.next_attempt_at = later if message.payload.get("type") == "stage" else later + timedelta(hours=1)
    assert worker.run_once(later)["delivered"] == 1
    assert worker.run_once(later + timedelta(hours=2))["delivered"] == 1  # the old handoff: not sent
    assert hs.contact_by_email("ana@acme.example")["properties"]["lifecyclestage"] == "marketingqualifiedlead"


def test_an_expired_token_is_a_dead_letter_naming_the_setting(store, hs):
    worker = connected(store, hs)
    store.save_conversation("chat-1", hot(), "es", None, NOW)
    hs.expire_token()
    assert worker.run_once(NOW)["dead"] == 1
    (dead,) = worker.dead_letters()
    assert "LEADQUAL_HUBSPOT_TOKEN" in dead["last_error"]


def test_the_token_comes_from_a_file_and_never_from_the_command_line(store, hs, tmp_path):
    path = tmp_path / "hubspot-token"
    path.write_text(DEFAULT_TOKEN + "\n", encoding="utf-8")
    environ = {"LEADQUAL_HUBSPOT_TOKEN_FILE": str(path), "LEADQUAL_HUBSPOT_API_URL": hs.url}
    assert connectors.hubspot(store.engine, store.config, environ=environ).check(create=True).ok


def test_erasing_a_person_here_deletes_the_contact_in_hubspot(store, hs):
    from leadqual.leads.privacy import erase_person

    worker = connected(store, hs)
    lead = store.save_conversation("chat-1", hot(), "es", None, NOW)
    worker.run_once(NOW)
    contact_id = record(store, lead["id"]).record_id
    receipt = erase_person(
        store,
        "ana@acme.example",
        by="dpo@nubilo.es",
        reason="art. 17 request 42",
        now=NOW,
        rasa=False,
        destinations=worker.destinations,
        log_paths=[],
    )
    assert receipt["counts"]["crm_records"] == 1 and record(store, lead["id"]) is None
    (queued,) = receipt["destinations"]["messaged"]
    assert queued["destination"] == "crm" and queued["how"] == "outbox"
    assert worker.run_once(NOW + timedelta(minutes=2))["delivered"] == 1
    assert hs.contact_by_email("ana@acme.example") is None and contact_id not in hs.contacts
    assert "ana@acme.example" in hs.gdpr_deleted


def test_a_lead_sales_ready_before_its_email_reaches_hubspot_once_the_email_is_given(store, hs, native):
    # The chat asks name, company and email after the BANT answers that make a lead sales-ready.
    worker = connected(store, hs)
    answers = {k: v for k, v in hot().items() if k not in ("email", "name", "company")}
    lead = store.save_conversation("chat-1", answers, "es", None, NOW)
    assert lead["sales_ready"] and worker.run_once(NOW)["delivered"] == 1
    row = record(store, lead["id"])
    assert row.status == "pending" and "waiting for the visitor's email" in row.error
    assert hs.contacts == {}
    later = NOW + timedelta(minutes=1)
    store.save_conversation("chat-1", hot(), "es", None, later)
    assert worker.run_once(later)["delivered"] == 1
    contact = hs.contact_by_email("ana@acme.example")
    assert contact["properties"]["lastname"] == "García Pérez" and len(hs.notes_for(contact["id"])) == 1
    assert record(store, lead["id"]).status == "synced"
    store.save_conversation("chat-1", hot(), "es", None, later + timedelta(minutes=1))
    assert worker.run_once(later + timedelta(minutes=1))["claimed"] == 0  # nothing changed: nothing sent


def test_a_worker_killed_mid_batch_leaves_the_batch_to_another_and_each_contact_once(store, hs):
    first = connected(store, hs)
    for i in range(30):
        store.save_conversation(f"chat-{i}", hot(f"lead{i}@acme.example"), "es", None, NOW)
    claims = first.claim(NOW, limit=100)
    connector = first.destinations.get("crm").connector
    half = claims[:15]
    connector.deliver([{"key": c.key, "payload": c.payload, "created_at": c.created_at} for c in half])
    # ... and the process dies here: HubSpot has 15 contacts, the outbox knows nothing of it.
    assert len(hs.contacts) == 15
    second = worker_for(store, hs)
    assert second.run_once(NOW)["claimed"] == 0  # the dead worker's lease still holds them
    after_lease = NOW + timedelta(seconds=first.lease + 1)
    assert second.run_once(after_lease)["delivered"] == 30
    emails = sorted(c["properties"]["email"] for c in hs.contacts.values())
    assert emails == sorted(f"lead{i}@acme.example" for i in range(30))  # each once
