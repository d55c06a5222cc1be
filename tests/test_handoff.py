"""A lead that becomes sales-ready is assigned to an SDR and its packet queued for the CRM, in the
same transaction; on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from sqlalchemy import select

from leadqual.delivery.outbox import DeliveryWorker, Destinations, OutboxMessage

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc)  # a Tuesday, in business hours in Madrid
HOT = {
    "need": {"value": "crm", "text": "gestionar a los comerciales"},
    "timing": {"months": 0},
    "budget": {"min": 10000, "currency": "EUR", "period": "year", "text": "más de 10.000 €"},
    "authority": {"level": "decision_maker"},
    "name": {"value": "Ana García"},
    "email": {"address": "ana@acme.example"},
}


def crm_messages(store) -> list[OutboxMessage]:
    with store.sessions() as session:
        return list(session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "crm")))


def test_a_sales_ready_lead_is_assigned_and_its_packet_queued_once(store):
    lead = store.save_conversation("chat-1", HOT, "es", None, NOW)
    assert lead["sales_ready"] and lead["stage"] == "sql"
    owner = lead["owner"]
    assert owner["sdr"] in ("lucia", "diego", "emma") and owner["rule"] == "handoff.round_robin"
    assert "round robin" in owner["reason"]
    (message,) = crm_messages(store)
    packet = message.payload
    assert message.lead_id == lead["id"] and message.key == f"crm-{lead['id']}-1"
    assert packet["contact"]["email"] == "ana@acme.example"
    assert packet["bant"]["budget"]["text"] == "más de 10.000 €" and packet["bant"]["budget"]["qualifies"] is True
    assert packet["owner"] == {"sdr": owner["sdr"], "queue": None, "rule": "handoff.round_robin"}
    assert sum(line["points"] for line in packet["score_breakdown"]) == packet["scores"]["fit"]
    # Saving again while still sales-ready queues nothing more.
    store.save_conversation("chat-1", HOT | {"company": {"value": "Acme"}}, "es", None, NOW)
    assert len(crm_messages(store)) == 1


def test_routing_rules_decide_the_owner(store):
    lead = store.save_conversation("chat-1", HOT | {"need": {"value": "support"}}, "es", None, NOW)
    assert (lead["owner"]["sdr"], lead["owner"]["rule"]) == ("emma", "handoff.rules.support")


def test_a_lead_that_drops_and_qualifies_again_is_handed_off_again_to_the_same_owner(store):
    first = store.save_conversation("chat-1", HOT, "es", None, NOW)
    store.save_conversation("chat-1", HOT | {"authority": {"level": "user"}}, "es", None, NOW)
    again = store.save_conversation("chat-1", HOT, "es", None, NOW)
    keys = sorted(m.key for m in crm_messages(store))
    assert keys == [f"crm-{first['id']}-1", f"crm-{first['id']}-2"]
    assert (again["owner"]["sdr"], again["owner"]["rule"]) == (first["owner"]["sdr"], "handoff.owner")


def test_the_behaviour_that_made_the_lead_hot_travels_with_it(store):
    store.save_conversation("chat-1", {"need": {"value": "crm"}}, "es", "browser-aaaa", NOW)
    demo = {"message_id": "d1", "type": "track", "name": "demo_request", "anonymous_id": "browser-aaaa"}
    store.ingest_events([demo | {"timestamp": NOW, "received_at": NOW, "user_id": None, "url": None}], NOW)
    store.save_conversation("chat-1", HOT, "es", "browser-aaaa", NOW)
    (message,) = crm_messages(store)
    (highlight,) = message.payload["behaviour_highlights"]
    assert (highlight["rule"], highlight["source_ref"], highlight["points"]) == (
        "behaviour.rules.demo_request",
        "d1",
        15,
    )


def test_without_a_crm_configured_the_worker_writes_the_packet_to_a_file(store, tmp_path):
    store.save_conversation("chat-1", HOT, "es", None, NOW)
    worker = DeliveryWorker(store.engine, Destinations.from_env(environ={}, handoff_dir=tmp_path))
    assert worker.run_once(NOW)["delivered"] == 1
    (line,) = (tmp_path / "handoff-crm.jsonl").read_text(encoding="utf-8").splitlines()
    assert json.loads(line)["data"]["contact"]["email"] == "ana@acme.example"
