"""The fake HubSpot (tests/fakes/hubspot_api.py) enforces what HubSpot's API reference says.

Each test drives the fake over HTTP with ``requests`` on 127.0.0.1, as the product's client would;
nothing here reaches the internet.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from tests.fakes.hubspot_api import DEFAULT_TOKEN, HubSpotServer

OWNERS = [
    {"email": "ana@example.com", "firstName": "Ana", "lastName": "Ruiz"},
    {"email": "bo@example.com", "firstName": "Bo", "lastName": "Lind"},
]
UPSERT = "/crm/v3/objects/contacts/batch/upsert"


@pytest.fixture
def hs():
    with HubSpotServer(owners=OWNERS) as server:
        yield server


def api(hs: HubSpotServer, token: str | None = DEFAULT_TOKEN) -> requests.Session:
    session = requests.Session()
    if token is not None:
        session.headers["Authorization"] = f"Bearer {token}"
    return session


def call(hs: HubSpotServer, method: str, path: str, token: str | None = DEFAULT_TOKEN, **kwargs) -> requests.Response:
    return api(hs, token).request(method, hs.url + path, timeout=10, **kwargs)


def upsert(hs: HubSpotServer, *inputs: dict, **kwargs) -> requests.Response:
    return call(hs, "POST", UPSERT, json={"inputs": list(inputs)}, **kwargs)


def by_email(email: str, **properties) -> dict:
    return {"id": email, "idProperty": "email", "properties": properties}


def assert_error_shape(response: requests.Response, status: int, category: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["status"] == "error"
    assert body["category"] == category
    assert body["message"]
    assert body["correlationId"]
    return body


def test_a_missing_wrong_or_expired_token_is_401(hs):
    assert_error_shape(call(hs, "GET", "/crm/v3/owners", token=None), 401, "INVALID_AUTHENTICATION")
    assert_error_shape(call(hs, "GET", "/crm/v3/owners", token="pat-na1-wrong"), 401, "INVALID_AUTHENTICATION")
    assert call(hs, "GET", "/crm/v3/owners").status_code == 200
    hs.expire_token()
    assert_error_shape(call(hs, "GET", "/crm/v3/owners"), 401, "EXPIRED_AUTHENTICATION")
    assert [r["status"] for r in hs.requests] == [401, 401, 200, 401]


def test_upsert_by_email_creates_then_updates_the_same_contact(hs):
    first = upsert(hs, by_email("Lead@Example.com", firstname="Lea", lifecyclestage="lead"))
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["status"] == "COMPLETE" and body["startedAt"] and body["completedAt"]
    [created] = body["results"]
    assert created["new"] is True
    assert created["properties"]["email"] == "lead@example.com"

    second = upsert(hs, by_email("lead@example.com", lastname="Lopez", hs_lead_status="OPEN"))
    [updated] = second.json()["results"]
    assert updated["new"] is False
    assert updated["id"] == created["id"]
    assert len(hs.contacts) == 1
    stored = hs.contact_by_email("LEAD@example.com")
    assert stored["id"] == created["id"]
    assert stored["properties"]["firstname"] == "Lea"
    assert stored["properties"]["lastname"] == "Lopez"
    assert stored["createdAt"] == created["createdAt"]

    read = call(hs, "GET", f"/crm/v3/objects/contacts/{created['id']}", params={"properties": "hs_lead_status,phone"})
    assert read.json()["properties"] == {"hs_lead_status": "OPEN", "phone": None}
    by_address = call(hs, "GET", "/crm/v3/objects/contacts/LEAD%40example.com", params={"idProperty": "email"})
    assert by_address.status_code == 200 and by_address.json()["id"] == created["id"]
    assert by_address.json()["properties"]["firstname"] == "Lea"


def test_more_than_100_inputs_is_400_and_writes_nothing(hs):
    inputs = [by_email(f"p{i}@example.com", firstname="P") for i in range(101)]
    assert_error_shape(upsert(hs, *inputs), 400, "VALIDATION_ERROR")
    assert hs.contacts == {}
    assert upsert(hs, *inputs[:100]).status_code == 200
    assert len(hs.contacts) == 100


def test_duplicate_ids_in_one_batch_are_400(hs):
    response = upsert(hs, by_email("a@example.com"), by_email("A@example.com", firstname="A"))
    assert "Duplicate IDs" in assert_error_shape(response, 400, "VALIDATION_ERROR")["message"]


def test_an_unknown_property_is_400_and_the_batch_writes_nothing(hs):
    response = upsert(hs, by_email("ok@example.com", firstname="Ok"), by_email("bad@example.com", budget_eur="5000"))
    body = assert_error_shape(response, 400, "VALIDATION_ERROR")
    assert body["message"].startswith("Property values were not valid: ")
    assert body["errors"][0]["code"] == "PROPERTY_DOESNT_EXIST"
    assert body["errors"][0]["context"] == {"propertyName": ["budget_eur"]}
    problems = json.loads(body["message"].removeprefix("Property values were not valid: "))
    assert problems[0]["isValid"] is False and problems[0]["name"] == "budget_eur"
    assert hs.contacts == {}
    read_only = upsert(hs, by_email("ok@example.com", hs_object_id="1"))
    assert assert_error_shape(read_only, 400, "VALIDATION_ERROR")["errors"][0]["code"] == "READ_ONLY_VALUE"


def test_enumeration_values_and_owner_ids_are_checked(hs):
    bad_stage = upsert(hs, by_email("a@example.com", lifecyclestage="hot"))
    assert assert_error_shape(bad_stage, 400, "VALIDATION_ERROR")["errors"][0]["code"] == "INVALID_OPTION"
    bad_status = upsert(hs, by_email("a@example.com", hs_lead_status="new"))
    assert assert_error_shape(bad_status, 400, "VALIDATION_ERROR")["errors"][0]["code"] == "INVALID_OPTION"
    bad_owner = upsert(hs, by_email("a@example.com", hubspot_owner_id="999"))
    assert assert_error_shape(bad_owner, 400, "VALIDATION_ERROR")["errors"][0]["code"] == "INVALID_OWNER_ID"
    # The owner's userId is not an owner id (the owners guide says it errors when used to assign).
    user_id = upsert(hs, by_email("a@example.com", hubspot_owner_id=str(hs.owners[0]["userId"])))
    assert user_id.status_code == 400
    not_an_email = upsert(hs, by_email("not-an-email", firstname="X"))
    assert assert_error_shape(not_an_email, 400, "VALIDATION_ERROR")["errors"][0]["code"] == "INVALID_EMAIL"
    assert hs.contacts == {}

    hs.add_lifecycle_stage("trial", "Trial", after="opportunity")
    good = upsert(hs, by_email("a@example.com", lifecyclestage="trial", hs_lead_status="NEW"))
    assert good.status_code == 200, good.text
    assert hs.contact_by_email("a@example.com")["properties"]["lifecyclestage"] == "trial"


def test_the_lifecycle_stage_does_not_move_backwards_until_cleared(hs):
    upsert(hs, by_email("c@example.com", lifecyclestage="customer"))
    backwards = upsert(hs, by_email("c@example.com", lifecyclestage="lead", firstname="Cy"))
    assert backwards.status_code == 200  # accepted, but the stage is kept
    props = hs.contact_by_email("c@example.com")["properties"]
    assert props["lifecyclestage"] == "customer" and props["firstname"] == "Cy"
    upsert(hs, by_email("c@example.com", lifecyclestage=""))
    assert "lifecyclestage" not in hs.contact_by_email("c@example.com")["properties"]
    upsert(hs, by_email("c@example.com", lifecyclestage="lead"))
    assert hs.contact_by_email("c@example.com")["properties"]["lifecyclestage"] == "lead"
    upsert(hs, by_email("c@example.com", lifecyclestage="salesqualifiedlead"))
    assert hs.contact_by_email("c@example.com")["properties"]["lifecyclestage"] == "salesqualifiedlead"


def test_a_note_is_associated_with_its_contact(hs):
    [contact] = upsert(hs, by_email("n@example.com")).json()["results"]
    association = {
        "to": {"id": contact["id"]},
        "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 202}],
    }
    note = {
        "properties": {"hs_timestamp": "2026-01-15T10:30:00.000Z", "hs_note_body": "Budget 20k, decides in Q1"},
        "associations": [association],
    }
    created = call(hs, "POST", "/crm/v3/objects/notes", json=note)
    assert created.status_code == 201, created.text
    [stored] = hs.notes_for(contact["id"])
    assert stored["id"] == created.json()["id"]
    assert stored["properties"]["hs_note_body"] == "Budget 20k, decides in Q1"
    assert stored["associations"][0]["associationTypeId"] == 202

    no_timestamp = call(hs, "POST", "/crm/v3/objects/notes", json={"properties": {"hs_note_body": "x"}})
    assert_error_shape(no_timestamp, 400, "VALIDATION_ERROR")
    unknown_contact = {**note, "associations": [{**association, "to": {"id": "424242"}}]}
    assert_error_shape(call(hs, "POST", "/crm/v3/objects/notes", json=unknown_contact), 400, "VALIDATION_ERROR")
    wrong_type = {
        **note,
        "associations": [
            {**association, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 1}]}
        ],
    }
    assert_error_shape(call(hs, "POST", "/crm/v3/objects/notes", json=wrong_type), 400, "VALIDATION_ERROR")
    too_long = {**note, "properties": {"hs_timestamp": "1768473000000", "hs_note_body": "x" * 65_537}}
    assert_error_shape(call(hs, "POST", "/crm/v3/objects/notes", json=too_long), 400, "VALIDATION_ERROR")
    assert len(hs.notes) == 1


def test_owners_are_looked_up_by_email_and_assign_contacts(hs):
    found = call(hs, "GET", "/crm/v3/owners", params={"email": "BO@example.com"})
    assert found.status_code == 200
    [owner] = found.json()["results"]
    assert owner["firstName"] == "Bo" and owner["id"] == hs.owner_by_email("bo@example.com")["id"]
    assert call(hs, "GET", "/crm/v3/owners", params={"email": "nobody@example.com"}).json()["results"] == []
    assert call(hs, "GET", f"/crm/v3/owners/{owner['id']}").json()["email"] == "bo@example.com"
    assert upsert(hs, by_email("o@example.com", hubspot_owner_id=owner["id"])).status_code == 200
    assert hs.contact_by_email("o@example.com")["properties"]["hubspot_owner_id"] == owner["id"]
    paged = call(hs, "GET", "/crm/v3/owners", params={"limit": 1}).json()
    assert len(paged["results"]) == 1 and paged["paging"]["next"]["after"] == "1"


def test_a_missing_scope_is_403(hs):
    with HubSpotServer(owners=OWNERS, scopes=["crm.objects.contacts.read", "crm.objects.contacts.write"]) as narrow:
        body = assert_error_shape(call(narrow, "GET", "/crm/v3/owners"), 403, "MISSING_SCOPES")
        assert body["errors"][0]["context"]["requiredGranularScopes"] == ["crm.objects.owners.read"]
        assert call(narrow, "GET", "/crm/v3/properties/contacts").status_code == 403
        assert upsert(narrow, by_email("s@example.com")).status_code == 200
    info = call(
        hs, "POST", "/oauth/v2/private-apps/get/access-token-info", token=None, json={"tokenKey": DEFAULT_TOKEN}
    )
    assert info.status_code == 200
    assert set(info.json()["scopes"]) >= {"crm.objects.contacts.write", "crm.objects.owners.read"}
    assert info.json()["hubId"] == hs.portal_id


def test_429_after_the_burst_limit_with_the_rate_limit_headers():
    with HubSpotServer(rate_limit=(3, 1.0), daily_limit=1000) as hs:
        remaining = []
        for _ in range(3):
            response = call(hs, "GET", "/crm/v3/owners")
            assert response.status_code == 200
            assert response.headers["X-HubSpot-RateLimit-Max"] == "3"
            assert response.headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "1000"
            assert response.headers["X-HubSpot-RateLimit-Daily"] == "1000"
            remaining.append(int(response.headers["X-HubSpot-RateLimit-Remaining"]))
        assert remaining == [2, 1, 0]
        limited = call(hs, "GET", "/crm/v3/owners")
        body = assert_error_shape(limited, 429, "RATE_LIMITS")
        assert body["policyName"] == "TEN_SECONDLY_ROLLING" and body["errorType"] == "RATE_LIMIT"
        assert limited.headers["X-HubSpot-RateLimit-Remaining"] == "0"
        assert limited.headers["X-HubSpot-RateLimit-Daily-Remaining"] == "997"
        assert limited.headers["Retry-After"] == "1"
        time.sleep(1.05)
        assert call(hs, "GET", "/crm/v3/owners").status_code == 200
    with HubSpotServer(daily_limit=2) as hs:
        assert [call(hs, "GET", "/crm/v3/owners").status_code for _ in range(2)] == [200, 200]
        assert assert_error_shape(call(hs, "GET", "/crm/v3/owners"), 429, "RATE_LIMITS")["policyName"] == "DAILY"


def test_the_default_burst_limit_is_the_private_app_one(hs):
    assert hs.rate_limit == (100, 10.0)
    assert call(hs, "GET", "/crm/v3/owners").headers["X-HubSpot-RateLimit-Max"] == "100"


def test_fail_next_and_delay_next(hs):
    hs.fail_next(2, status=503)
    assert upsert(hs, by_email("f@example.com")).status_code == 503
    assert upsert(hs, by_email("f@example.com")).status_code == 503
    assert hs.contacts == {}
    assert upsert(hs, by_email("f@example.com")).status_code == 200
    hs.fail_next(status=429)
    assert_error_shape(call(hs, "GET", "/crm/v3/owners"), 429, "RATE_LIMITS")

    hs.delay_next(1.0)
    with pytest.raises(requests.exceptions.ReadTimeout):
        api(hs).post(hs.url + UPSERT, json={"inputs": [by_email("slow@example.com")]}, timeout=0.2)
    deadline = time.time() + 5
    while hs.contact_by_email("slow@example.com") is None and time.time() < deadline:
        time.sleep(0.05)
    assert hs.contact_by_email("slow@example.com") is not None  # the timed-out write still landed


def test_properties_and_groups(hs):
    group = {"name": "leadqual", "label": "Lead qualification"}
    assert call(hs, "POST", "/crm/v3/properties/contacts/groups", json=group).status_code == 201
    assert_error_shape(call(hs, "POST", "/crm/v3/properties/contacts/groups", json=group), 409, "OBJECT_ALREADY_EXISTS")
    prop = {
        "name": "bant_budget",
        "label": "BANT budget",
        "type": "enumeration",
        "fieldType": "select",
        "groupName": "leadqual",
        "options": [{"label": "Yes", "value": "yes"}, {"label": "No", "value": "no"}],
    }
    created = call(hs, "POST", "/crm/v3/properties/contacts", json=prop)
    assert created.status_code == 201 and created.json()["name"] == "bant_budget"
    assert_error_shape(call(hs, "POST", "/crm/v3/properties/contacts", json=prop), 409, "OBJECT_ALREADY_EXISTS")
    no_field_type = {k: v for k, v in prop.items() if k != "fieldType"} | {"name": "other"}
    assert_error_shape(call(hs, "POST", "/crm/v3/properties/contacts", json=no_field_type), 400, "VALIDATION_ERROR")
    no_group = prop | {"name": "other", "groupName": "nope"}
    assert_error_shape(call(hs, "POST", "/crm/v3/properties/contacts", json=no_group), 400, "VALIDATION_ERROR")
    names = {p["name"] for p in call(hs, "GET", "/crm/v3/properties/contacts").json()["results"]}
    assert {"email", "lifecyclestage", "hs_lead_status", "hubspot_owner_id", "bant_budget"} <= names
    assert "leadqual" in hs.groups
    assert upsert(hs, by_email("p@example.com", bant_budget="yes")).status_code == 200
    assert upsert(hs, by_email("p@example.com", bant_budget="maybe")).status_code == 400
    assert call(hs, "GET", "/crm/v3/properties/contacts/nope").status_code == 404


def test_gdpr_delete_removes_the_contact_and_blocklists_the_email(hs):
    [contact] = upsert(hs, by_email("g@example.com")).json()["results"]
    deleted = call(
        hs, "POST", "/crm/v3/objects/contacts/gdpr-delete", json={"objectId": "G@example.com", "idProperty": "email"}
    )
    assert deleted.status_code == 204 and deleted.content == b""
    assert contact["id"] not in hs.contacts and hs.gdpr_deleted == ["g@example.com"]
    unknown = {"objectId": "never@example.com", "idProperty": "email"}
    assert call(hs, "POST", "/crm/v3/objects/contacts/gdpr-delete", json=unknown).status_code == 204
    assert hs.gdpr_deleted == ["g@example.com", "never@example.com"]
    assert upsert(hs, by_email("never@example.com")).status_code == 400
    assert call(hs, "POST", "/crm/v3/objects/contacts/gdpr-delete", json={"objectId": "999999"}).status_code == 404
    assert_error_shape(call(hs, "POST", "/crm/v3/objects/contacts/gdpr-delete", json={}), 400, "VALIDATION_ERROR")


def test_unknown_paths_and_bad_bodies(hs):
    assert call(hs, "GET", "/crm/v3/objects/unicorns").status_code == 404
    assert call(hs, "GET", "/crm/v3/objects/contacts/424242").status_code == 404
    bad_json = call(hs, "POST", UPSERT, data=b"{not json", headers={"Content-Type": "application/json"})
    assert_error_shape(bad_json, 400, "VALIDATION_ERROR")
    assert_error_shape(call(hs, "POST", UPSERT, json={"inputs": "x"}), 400, "VALIDATION_ERROR")
    assert_error_shape(call(hs, "POST", UPSERT, json={"inputs": [{"properties": {}}]}), 400, "VALIDATION_ERROR")
    entry = hs.requests[-1]
    assert entry["method"] == "POST" and entry["path"] == UPSERT and entry["status"] == 400
    assert entry["json"] == {"inputs": [{"properties": {}}]}
    assert entry["headers"]["Authorization"] == f"Bearer {DEFAULT_TOKEN}"


class _Receiver:
    """A webhook endpoint that records what HubSpot posts to it."""

    def __init__(self):
        received = self.received = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append({"path": self.path, "headers": dict(self.headers.items()), "body": body})
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hubspot/webhooks?source=test"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def documented_signature(secret: str, method: str, uri: str, body: bytes, timestamp: str) -> str:
    """The v3 algorithm as the request-validation page states it, written independently of the fake."""
    source = method.encode() + uri.encode() + body + timestamp.encode()
    return base64.b64encode(hmac.new(secret.encode(), source, hashlib.sha256).digest()).decode()


def test_salesperson_actions_send_signed_webhooks():
    receiver = _Receiver()
    try:
        with HubSpotServer(owners=OWNERS, app_secret="s3cret", portal_id=777) as hs:
            [contact] = upsert(hs, by_email("w@example.com", lifecyclestage="opportunity")).json()["results"]
            hs.set_property(contact["id"], "lifecyclestage", "lead")  # silently sent before anyone listens
            assert hs.webhook_deliveries == []
            hs.webhook_target = receiver.url
            hs.set_property(contact["id"], "hs_lead_status", "UNQUALIFIED")
            assert hs.contacts[contact["id"]]["properties"]["lifecyclestage"] == "lead"  # the UI may go back

            [delivery] = receiver.received
            headers, body = delivery["headers"], delivery["body"]
            stamp = headers["X-HubSpot-Request-Timestamp"]
            assert abs(time.time() * 1000 - int(stamp)) < 5 * 60 * 1000
            expected = documented_signature("s3cret", "POST", receiver.url, body, stamp)
            assert headers["X-HubSpot-Signature-v3"] == expected
            assert hs.sign("POST", receiver.url, body, stamp) == expected
            assert hs.verify_signature("POST", receiver.url, body, expected, stamp)
            assert not hs.verify_signature("POST", receiver.url, body + b" ", expected, stamp)  # tampered
            old = str(int(stamp) - 6 * 60 * 1000)
            assert not hs.verify_signature("POST", receiver.url, body, hs.sign("POST", receiver.url, body, old), old)

            [event] = json.loads(body)
            assert event["subscriptionType"] == "contact.propertyChange"
            assert event["objectId"] == int(contact["id"])
            assert (event["propertyName"], event["propertyValue"], event["changeSource"]) == (
                "hs_lead_status",
                "UNQUALIFIED",
                "CRM_UI",
            )
            assert event["portalId"] == 777 and event["attemptNumber"] == 0
            assert {"eventId", "subscriptionId", "appId", "occurredAt"} <= set(event)
            with pytest.raises(ValueError):
                hs.set_property(contact["id"], "hs_lead_status", "MAYBE")

            hs.delete_contact(contact["id"])
            assert json.loads(receiver.received[-1]["body"])[0]["subscriptionType"] == "contact.deletion"
            assert contact["id"] not in hs.contacts

            [other] = upsert(hs, by_email("x@example.com")).json()["results"]
            hs.privacy_delete(other["id"])
            assert json.loads(receiver.received[-1]["body"])[0]["subscriptionType"] == "contact.privacyDeletion"
            assert hs.gdpr_deleted == ["x@example.com"]

            assert {e["changeSource"] for e in hs.pending_events} == {"INTEGRATION"}  # the API's own writes
            hs.pending_events.clear()
            hs.webhook_properties = {"lifecyclestage"}
            upsert(hs, by_email("y@example.com", firstname="Y", lifecyclestage="lead"))
            [queued] = hs.pending_events
            assert (queued["propertyName"], queued["changeSource"]) == ("lifecyclestage", "INTEGRATION")
            before = len(receiver.received)
            hs.deliver_pending()
            assert json.loads(receiver.received[before]["body"]) == [queued] and hs.pending_events == []

            many = [
                hs._event("contact.propertyChange", "1", propertyName="firstname", propertyValue=str(i))
                for i in range(150)
            ]
            before = len(receiver.received)
            hs.send_events(many)
            assert [len(json.loads(r["body"])) for r in receiver.received[before:]] == [100, 50]
    finally:
        receiver.close()
