"""`bin/leads crm ...` (leadqual/tools/crm_cli.py) against the local HubSpot and Salesforce
servers: a dry run lists what is missing and shows one lead as the CRM gets it, connect creates
HubSpot's properties, credentials come from the environment or a file, failed deliveries are
listed and sent again."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from tests.conftest import run_cli
from tests.fakes.hubspot_api import HubSpotServer
from tests.fakes.salesforce_api import SalesforceServer
from tests.test_crm_hubspot import SDRS, hot
from tests.test_crm_salesforce import SDR_USERS
from tests.test_crm_salesforce import env as salesforce_env

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc)


@pytest.fixture
def hs():
    with HubSpotServer(owners=SDRS) as server:
        yield server


def hubspot_env(store, hs: HubSpotServer, **more) -> dict:
    return {
        "LEADQUAL_DATABASE_URL": str(store.engine.url.render_as_string(hide_password=False)),
        "LEADQUAL_HUBSPOT_TOKEN": hs.token,
        "LEADQUAL_HUBSPOT_API_URL": hs.url,
        **more,
    }


def test_a_dry_run_lists_what_is_missing_and_shows_one_lead(sqlite_store, hs):
    sqlite_store.save_conversation("chat-1", hot(), "es", None, NOW)
    done = run_cli("crm", "connect", "hubspot", "--dry-run", env=hubspot_env(sqlite_store, hs))
    assert done.returncode == 1
    assert "missing: the contact property nubilo_total_score does not exist yet" in done.stdout
    assert '"lifecyclestage": "salesqualifiedlead"' in done.stdout and '"email": "ana@acme.example"' in done.stdout
    assert hs.properties.get("nubilo_total_score") is None  # nothing was created


def test_connect_creates_the_properties_then_check_says_ready(sqlite_store, hs):
    done = run_cli("crm", "connect", "hubspot", env=hubspot_env(sqlite_store, hs))
    assert done.returncode == 0, done.stdout
    assert "created: contact property nubilo_total_score" in done.stdout and "hubspot: ready" in done.stdout
    checked = run_cli("crm", "check", env=hubspot_env(sqlite_store, hs, LEADQUAL_CRM_DESTINATION="hubspot"))
    assert checked.returncode == 0 and "created" not in checked.stdout


def test_a_missing_token_names_the_settings(sqlite_store, hs):
    environment = hubspot_env(sqlite_store, hs)
    del environment["LEADQUAL_HUBSPOT_TOKEN"]
    done = run_cli("crm", "connect", "hubspot", env=environment)
    assert done.returncode == 2
    assert "LEADQUAL_HUBSPOT_TOKEN or LEADQUAL_HUBSPOT_TOKEN_FILE" in done.stdout


def test_the_command_line_takes_no_credentials(sqlite_store, hs):
    done = run_cli("crm", "connect", "hubspot", "--token", hs.token, env=hubspot_env(sqlite_store, hs))
    assert done.returncode == 2 and "unrecognized arguments" in done.stderr


def test_salesforce_check_lists_the_fields_the_admin_must_create(sqlite_store):
    with SalesforceServer(users=SDR_USERS, custom_fields={"Nubilo_Score__c": "double"}) as sf:
        environment = {
            "LEADQUAL_DATABASE_URL": str(sqlite_store.engine.url),
            **salesforce_env(sf),
        }
        done = run_cli("crm", "check", env=environment)
    assert done.returncode == 1
    assert "missing: the Lead field Nubilo_Grade__c (for grade) does not exist" in done.stdout


def test_failed_deliveries_are_listed_and_sent_again(sqlite_store, hs):
    from leadqual.delivery import connectors
    from leadqual.delivery.outbox import DeliveryWorker, Destinations

    environment = hubspot_env(sqlite_store, hs, LEADQUAL_CRM_DESTINATION="hubspot")
    sqlite_store.save_conversation("chat-1", hot(), "es", None, NOW)
    sync = connectors.hubspot(sqlite_store.engine, sqlite_store.config, environ=environment)
    worker = DeliveryWorker(sqlite_store.engine, Destinations.from_env(environ={}).with_connector("crm", sync))
    assert worker.run_once(NOW)["dead"] == 1  # not connected: the properties do not exist
    listed = run_cli("crm", "failures", env=environment)
    assert "1 failed CRM deliveries" in listed.stdout and "does not exist" in listed.stdout
    assert run_cli("crm", "connect", "hubspot", env=environment).returncode == 0
    again = run_cli("crm", "retry", "--all", env=environment)
    assert again.returncode == 0 and "1 deliveries will be sent again" in again.stdout
    assert worker.run_once()["delivered"] == 1 and hs.contact_by_email("ana@acme.example")
