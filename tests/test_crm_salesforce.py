"""Salesforce as the CRM (leadqual/delivery/salesforce.py), through the outbox, against a local
HTTPS server that behaves as Salesforce's REST API reference says (tests/fakes/salesforce_api.py):
the Lead upserted by our id with auto-assignment off, its Task, the answers Salesforce really gives
(300, DUPLICATES_DETECTED, REQUIRED_FIELD_MISSING, REQUEST_LIMIT_EXCEEDED, an expired token, 5xx),
erasure, and the changes polled back; on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from leadqual.db.tables import CrmRecord, OutboxMessage
from leadqual.delivery import salesforce
from leadqual.delivery.outbox import DeliveryWorker, Destinations
from leadqual.timeutil import aware
from tests.fakes.salesforce_api import SalesforceServer

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc)  # a Tuesday, in business hours in Madrid
SDR_USERS = [
    {"Email": "lucia.fernandez@nubilo.es", "Name": "Lucía Fernández"},
    {"Email": "diego.ramirez@nubilo.es", "Name": "Diego Ramírez"},
    {"Email": "emma.clarke@nubilo.es", "Name": "Emma Clarke"},
]
EXT = "Nubilo_Lead_Id__c"


def hot(email: str = "ana@acme.example", name: str | None = "Ana García", company: str | None = "Acme") -> dict:
    answers = {
        "need": {"value": "crm", "text": "gestionar a los comerciales"},
        "timing": {"months": 0},
        "budget": {"min": 10000, "currency": "EUR", "period": "year", "text": "más de 10.000 €"},
        "authority": {"level": "decision_maker"},
        "email": {"address": email},
    }
    if name:
        answers["name"] = {"value": name}
    if company:
        answers["company"] = {"value": company}
    return answers


@pytest.fixture
def sf():
    with SalesforceServer(users=SDR_USERS) as server:
        yield server


def env(sf: SalesforceServer) -> dict:
    return {
        "LEADQUAL_CRM_DESTINATION": "salesforce",
        "LEADQUAL_SALESFORCE_LOGIN_URL": sf.url,
        "LEADQUAL_SALESFORCE_CLIENT_ID": sf.client_id,
        "LEADQUAL_SALESFORCE_CLIENT_SECRET": sf.client_secret,
        "LEADQUAL_SALESFORCE_REFRESH_TOKEN": sf.refresh_token,
        "LEADQUAL_CRM_CA_BUNDLE": sf.ca_path,
    }


def worker_for(store, sf: SalesforceServer) -> DeliveryWorker:
    sync = salesforce.from_env(store.engine, store.config, environ=env(sf))
    destinations = Destinations.from_env(environ={}).with_connector("crm", sync)
    return DeliveryWorker(store.engine, destinations, rng=random.Random(1))


def sync_of(worker: DeliveryWorker) -> salesforce.SalesforceSync:
    return worker.destinations.get("crm").connector


def dead_letter(worker: DeliveryWorker) -> dict:
    (dead,) = worker.dead_letters()
    return dead


def record(store, lead_id: str) -> CrmRecord | None:
    with store.sessions() as session:
        return session.get(CrmRecord, (lead_id, "salesforce"))


def test_check_lists_what_the_salesforce_admin_must_add(store):
    with SalesforceServer(users=SDR_USERS[:2], custom_fields={"Nubilo_Score__c": "double"}) as sf:
        report = sync_of(worker_for(store, sf)).check()
    assert not report.ok
    assert "the Lead field Nubilo_Fit__c (for fit_score) does not exist" in report.problems
    assert "SDR emma (emma.clarke@nubilo.es) has no active Salesforce user: their leads keep the default owner" in (
        report.problems
    )


def test_a_sales_ready_lead_becomes_a_lead_with_auto_assign_off_and_a_task(store, sf):
    worker = worker_for(store, sf)
    assert sync_of(worker).check().ok
    lead = store.save_conversation("chat-1", hot(), "es", None, NOW)
    assert worker.run_once(NOW)["delivered"] == 1
    there = sf.lead_by_external_id(lead["id"])
    assert (there["FirstName"], there["LastName"], there["Company"], there["Email"]) == (
        "Ana",
        "García",
        "Acme",
        "ana@acme.example",
    )
    assert there["LeadSource"] == "Web Chat" and there["Status"] == "Working - Contacted"
    assert there["Nubilo_Score__c"] == lead["scores"]["total"] and there["Nubilo_Stage__c"] == "sql"
    sdr = store.config.handoff.sdr(lead["owner"]["sdr"])
    assert there["OwnerId"] == sf.user_ids[sdr.email]  # the product's routing, not the assignment rule
    (upsert,) = sf.requests_to("/sobjects/Lead/", method="PATCH")
    assert upsert.headers.get("Sforce-Auto-Assign") == "FALSE"
    (task,) = [t for t in sf.tasks.values() if t["WhoId"] == there["Id"]]
    assert task["Subject"].startswith("Lead cualificado en el chat") and "Puntuación" in task["Description"]
    row = record(store, lead["id"])
    assert (row.status, row.record_id) == ("synced", there["Id"])
    assert row.url == f"{sf.url}/lightning/r/Lead/{there['Id']}/view"


def test_a_visitor_with_no_name_or_company_gets_the_configured_stand_ins(store, sf):
    worker = worker_for(store, sf)
    lead = store.save_conversation("chat-1", hot(name=None, company=None), "es", None, NOW)
    assert worker.run_once(NOW)["delivered"] == 1
    there = sf.lead_by_external_id(lead["id"])
    assert (there["LastName"], there["Company"]) == ("(not given)", "(not given)")


def test_the_same_delivery_twice_is_one_lead(store, sf):
    worker = worker_for(store, sf)
    lead = store.save_conversation("chat-1", hot(), "es", None, NOW)
    assert worker.run_once(NOW)["delivered"] == 1
    with store.sessions.begin() as session:  # as if the worker died after Salesforce answered
        for message in session.scalars(select(OutboxMessage)):
            message.status = "pending"
    assert worker.run_once(NOW + timedelta(seconds=1))["delivered"] == 1
    assert [lead_ for lead_ in sf.leads.values() if lead_[EXT] == lead["id"]] == [sf.lead_by_external_id(lead["id"])]


def test_an_external_id_on_several_leads_is_a_dead_letter_saying_to_merge(store, sf):
    worker = worker_for(store, sf)
    lead = store.save_conversation("chat-1", hot(), "es", None, NOW)
    sf.add_duplicate_external_id(lead["id"])
    assert worker.run_once(NOW)["dead"] == 1
    assert "several Salesforce Leads" in dead_letter(worker)["last_error"]
    assert record(store, lead["id"]).status == "failed"


def test_a_duplicate_rule_refusal_names_the_existing_lead(store, sf):
    worker = worker_for(store, sf)
    existing = sf.session(authorized=True).post(
        f"{sf.base_url}/sobjects/Lead/",
        json={"LastName": "Ruiz", "Company": "Acme", "Email": "ana@acme.example"},
        verify=sf.ca_path,
    )
    assert existing.status_code == 201, existing.text
    store.save_conversation("chat-1", hot(), "es", None, NOW)
    assert worker.run_once(NOW)["dead"] == 1
    error = dead_letter(worker)["last_error"]
    assert "duplicate rules" in error and existing.json()["id"] in error


def test_a_required_field_refusal_is_named_and_not_retried(store, sf):
    # A decision (only the stage) for a lead Salesforce has not received yet: creating it needs
    # LastName and Company, and Salesforce says so.
    sync = sync_of(worker_for(store, sf))
    payload = {"type": "decision", "lead_id": "L2", "contact": {"email": "x@y.example"}, "stage": "sal"}
    (result,) = sync.deliver([{"key": "k", "payload": payload, "created_at": NOW}])
    assert "Salesforce requires" in str(result) and "LastName" in str(result)
    assert not result.retry


def test_the_daily_api_limit_is_retried_in_an_hour(store):
    with SalesforceServer(users=SDR_USERS, daily_limit=1) as sf:
        worker = worker_for(store, sf)
        store.save_conversation("chat-1", hot(), "es", None, NOW)
        assert worker.run_once(NOW)["retrying"] == 1
    with store.sessions() as session:
        (message,) = session.scalars(select(OutboxMessage))
    assert "daily API limit" in message.last_error
    assert aware(message.next_attempt_at) - NOW >= timedelta(minutes=59)


def test_an_expired_token_is_refreshed_once_and_the_lead_delivered(store, sf):
    worker = worker_for(store, sf)
    assert sync_of(worker).check().ok
    sf.expire_token()
    store.save_conversation("chat-1", hot(), "es", None, NOW)
    assert worker.run_once(NOW)["delivered"] == 1
    assert len(sf.requests_to("/services/oauth2/token")) == 2  # the first token, then one refresh


def test_a_revoked_refresh_token_is_an_error_a_person_can_act_on(store, sf):
    worker = worker_for(store, sf)
    assert sync_of(worker).check().ok
    sf.revoke_refresh_token()
    store.save_conversation("chat-1", hot(), "es", None, NOW)
    assert worker.run_once(NOW)["dead"] == 1
    assert "LEADQUAL_SALESFORCE_REFRESH_TOKEN" in dead_letter(worker)["last_error"]


def test_a_5xx_is_retried(store, sf):
    worker = worker_for(store, sf)
    assert sync_of(worker).check().ok
    lead = store.save_conversation("chat-1", hot(), "es", None, NOW)
    sf.fail_next(1, status=503)
    assert worker.run_once(NOW)["retrying"] == 1
    with store.sessions() as session:
        (message,) = session.scalars(select(OutboxMessage))
    assert worker.run_once(aware(message.next_attempt_at))["delivered"] == 1
    assert sf.lead_by_external_id(lead["id"]) is not None


def test_a_salesperson_converting_the_lead_is_polled_as_an_opportunity(store, sf):
    worker = worker_for(store, sf)
    lead = store.save_conversation("chat-1", hot(), "es", None, NOW)
    worker.run_once(NOW)
    there = sf.lead_by_external_id(lead["id"])
    since = datetime.now(timezone.utc) - timedelta(minutes=5)
    sf.convert_lead(there["Id"])
    (change,) = [c for c in sync_of(worker).changes_since(since) if c.lead_id == lead["id"]]
    assert (change.stage, change.record_id) == ("opportunity", there["Id"])
