"""A whole conversation, through the trained model, Rasa and the action server, to a sales-ready
lead that the action server's own delivery loop sends to the native CRM: the contact (properties,
lifecycle stage, owner, note) in the local HubSpot server, the Lead (auto-assign off, Task) in the
local Salesforce server; on SQLite and PostgreSQL (issue 23)."""

from __future__ import annotations

import time
import uuid

import pytest

from leadqual.delivery import connectors
from tests.fakes.hubspot_api import HubSpotServer
from tests.fakes.salesforce_api import SalesforceServer
from tests.test_crm_hubspot import SDRS
from tests.test_crm_salesforce import SDR_USERS
from tests.test_crm_salesforce import env as salesforce_env

from ..conftest import action_server_process
from .conftest import ARTIFACTS, action_server_env, texts

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module", params=["hubspot", "salesforce"])
def crm(request, config):
    if request.param == "hubspot":
        with HubSpotServer(owners=SDRS) as hs:
            environ = {
                "LEADQUAL_CRM_DESTINATION": "hubspot",
                "LEADQUAL_HUBSPOT_TOKEN": hs.token,
                "LEADQUAL_HUBSPOT_API_URL": hs.url,
            }
            assert connectors.hubspot(None, config, environ=environ).check(create=True).ok
            yield "hubspot", hs, environ
    else:
        with SalesforceServer(users=SDR_USERS) as sf:
            yield "salesforce", sf, salesforce_env(sf)


@pytest.fixture(scope="module")
def action_server(database_url: str, actions_port: int, crm) -> str:
    """The e2e action server (tests/e2e/conftest.py's), delivering to the CRM server."""
    env = {**action_server_env(database_url), "LEADQUAL_DELIVERY_SECONDS": "0.3", **crm[2]}
    with action_server_process(actions_port, ARTIFACTS / "actions-crm.log", env, log_mode="a"):
        yield database_url


def wait_for(check, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError("the CRM never received the lead")


def test_a_conversation_to_a_sales_ready_lead_lands_in_the_crm(visitor, leads, crm):
    system, server, _ = crm
    email = f"marta.{uuid.uuid4().hex[:6]}@construcciones.example"
    v = visitor("es")
    v.say("hola")
    v.say("quiero pedir una demo")
    v.say("un CRM para el equipo comercial")
    v.say("dentro de tres meses")
    v.say("unos 12.000 € al año")
    v.say("soy la CEO")
    v.say("Marta Gómez Ruiz")
    v.say("Construcciones Gómez")
    replies = v.say(email)
    assert "Marta" in texts(replies)
    lead = leads.get_by_email(email)
    assert lead["sales_ready"] and lead["stage"] == "sql"
    sdr = leads.config.handoff.sdr(lead["owner"]["sdr"])
    if system == "hubspot":
        contact = wait_for(lambda: server.contact_by_email(email))
        properties = contact["properties"]
        assert (properties["firstname"], properties["lastname"], properties["company"]) == (
            "Marta",
            "Gómez Ruiz",
            "Construcciones Gómez",
        )
        assert properties["lifecyclestage"] == "salesqualifiedlead"
        assert properties["nubilo_total_score"] == str(lead["scores"]["total"]) and properties["nubilo_need"] == "crm"
        owner = next(o for o in server.owners if o["email"] == sdr.email)
        assert properties["hubspot_owner_id"] == owner["id"]
        (note,) = wait_for(lambda: server.notes_for(contact["id"]))
        body = note["properties"]["hs_note_body"]
        assert "Puntuación" in body and "unos 12.000 € al año" in body  # the transcript, in Spanish
    else:
        # Sales-ready at the authority answer, the Lead is created then; the email follows.
        there = wait_for(lambda: (found := server.lead_by_external_id(lead["id"])) and found.get("Email") and found)
        assert (there["LastName"], there["Company"], there["Email"]) == ("Gómez Ruiz", "Construcciones Gómez", email)
        assert there["OwnerId"] == server.user_ids[sdr.email]
        upserts = server.requests_to("/sobjects/Lead/", method="PATCH")
        assert upserts and all(r.headers.get("Sforce-Auto-Assign") == "FALSE" for r in upserts)
        (task,) = wait_for(lambda: [t for t in server.tasks.values() if t["WhoId"] == there["Id"]])
        assert "unos 12.000 € al año" in task["Description"]
