"""The fake Salesforce (tests/fakes/salesforce_api.py) behaves as the REST API Developer Guide says:
each test is one documented behaviour, spoken to over HTTPS with `requests` (and simple-salesforce
where it is installed). Nothing here reaches the internet."""

from __future__ import annotations

import base64
import hashlib
import hmac
import shutil
from datetime import datetime, timedelta, timezone

import pytest
import requests

from tests.fakes import salesforce_api
from tests.fakes.salesforce_api import SalesforceServer, parse_sf_datetime, to_18

EXT = "Nubilo_Lead_Id__c"


@pytest.fixture
def sf():
    with SalesforceServer() as server:
        yield server


def call(sf, method, path, *, token=None, headers=None, **kwargs):
    """One REST call: `path` is relative to /services/data/v60.0; `verify=sf.ca_path` is passed on
    each request (a Session's own `verify` loses to REQUESTS_CA_BUNDLE, see SalesforceServer.session)."""
    all_headers = {"Authorization": f"Bearer {token or sf.access_token}"}
    all_headers.update(headers or {})
    return requests.request(method, sf.base_url + path, headers=all_headers, verify=sf.ca_path, timeout=10, **kwargs)


def upsert(sf, external_id, body, **kwargs):
    return call(sf, "PATCH", f"/sobjects/Lead/{EXT}/{external_id}", json=body, **kwargs)


def query(sf, soql, **kwargs):
    return call(sf, "GET", "/query", params={"q": soql}, **kwargs)


def error_codes(response):
    return [e["errorCode"] for e in response.json()]


LEAD = {"FirstName": "Lucía", "LastName": "Ruiz", "Company": "Acme", "Email": "lucia@acme.example"}


# -- authentication -----------------------------------------------------------------------------


def test_a_request_without_a_valid_session_is_401_invalid_session_id(sf):
    no_header = requests.get(f"{sf.base_url}/sobjects/Lead/describe", verify=sf.ca_path, timeout=10)
    wrong = call(sf, "GET", "/sobjects/Lead/describe", token="00Dfake!nope")
    assert no_header.status_code == wrong.status_code == 401
    assert no_header.json() == [
        {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID", "fields": []}
    ]
    assert error_codes(wrong) == ["INVALID_SESSION_ID"]
    assert call(sf, "GET", "/sobjects/Lead/describe").status_code == 200
    sf.expire_token()
    assert error_codes(call(sf, "GET", "/sobjects/Lead/describe")) == ["INVALID_SESSION_ID"]


def test_the_refresh_token_grant_gives_a_new_access_token_after_the_session_expires(sf):
    old = sf.access_token
    sf.expire_token()
    assert call(sf, "GET", "/limits", token=old).status_code == 401
    form = {
        "grant_type": "refresh_token",
        "refresh_token": sf.refresh_token,
        "client_id": sf.client_id,
        "client_secret": sf.client_secret,
    }
    response = requests.post(sf.token_url, data=form, verify=sf.ca_path, timeout=10)
    assert response.status_code == 200
    token = response.json()
    assert token["token_type"] == "Bearer" and token["instance_url"] == sf.url
    assert token["access_token"] != old and token["id"].endswith(f"/{sf.org_id}/{sf.api_user_id}")
    assert int(token["issued_at"]) > 0
    # signature: base64 HMAC-SHA256 of id + issued_at, keyed with the consumer secret.
    expected = hmac.new(sf.client_secret.encode(), (token["id"] + token["issued_at"]).encode(), hashlib.sha256)
    assert token["signature"] == base64.b64encode(expected.digest()).decode()
    assert call(sf, "GET", "/limits", token=token["access_token"]).status_code == 200


def test_the_client_credentials_grant_in_the_form_or_basic_auth(sf):
    form = {"grant_type": "client_credentials", "client_id": sf.client_id, "client_secret": sf.client_secret}
    assert requests.post(sf.token_url, data=form, verify=sf.ca_path, timeout=10).status_code == 200
    basic = requests.post(
        sf.token_url,
        data={"grant_type": "client_credentials"},
        auth=(sf.client_id, sf.client_secret),
        verify=sf.ca_path,
        timeout=10,
    )
    assert basic.status_code == 200 and call(sf, "GET", "/limits", token=basic.json()["access_token"]).ok
    bad = requests.post(sf.token_url, data={**form, "client_secret": "wrong"}, verify=sf.ca_path, timeout=10)
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_client"


def test_a_revoked_refresh_token_is_invalid_grant(sf):
    sf.revoke_refresh_token()
    form = {"grant_type": "refresh_token", "refresh_token": sf.refresh_token, "client_id": sf.client_id}
    response = requests.post(sf.token_url, data=form, verify=sf.ca_path, timeout=10)
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_grant", "error_description": "expired access/refresh token"}
    assert call(sf, "GET", "/limits").status_code == 401  # its access tokens went with it


# -- upsert by external id ------------------------------------------------------------------------


def test_upsert_creates_with_201_then_updates_the_same_record_with_200(sf):
    created = upsert(sf, "L-1", LEAD)
    assert created.status_code == 201
    body = created.json()
    assert body == {"id": body["id"], "success": True, "errors": [], "created": True}
    assert len(body["id"]) == 18 and body["id"].startswith("00Q") and to_18(body["id"][:15]) == body["id"]
    updated = upsert(sf, "L-1", {"Title": "CTO", "Nubilo_Score__c": 72})
    assert updated.status_code == 200
    assert updated.json() == {"id": body["id"], "success": True, "errors": [], "created": False}
    lead = sf.lead_by_external_id("L-1")
    assert lead["Id"] == body["id"] and list(sf.leads) == [body["id"]]
    assert (lead["Title"], lead["Nubilo_Score__c"], lead["Company"], lead["Status"]) == (
        "CTO",
        72.0,
        "Acme",
        "Open - Not Contacted",
    )
    assert lead["Name"] == "Lucía Ruiz"


def test_before_api_46_an_upsert_that_updates_answers_204(sf):
    old = f"{sf.url}/services/data/v45.0/sobjects/Lead/{EXT}/L-1"
    kwargs = {"headers": sf.auth_headers(), "verify": sf.ca_path, "timeout": 10}
    assert requests.patch(old, json=LEAD, **kwargs).status_code == 201
    second = requests.patch(old, json={"Title": "CEO"}, **kwargs)
    assert second.status_code == 204 and second.content == b""


def test_the_body_of_an_upsert_may_not_name_the_external_id_or_id(sf):
    response = upsert(sf, "L-1", {**LEAD, EXT: "L-1"})
    assert response.status_code == 400 and response.json()[0]["fields"] == [EXT]
    assert sf.leads == {}


def test_an_external_id_matching_two_records_answers_300_with_their_urls(sf):
    ids = sf.add_duplicate_external_id("L-2")
    response = upsert(sf, "L-2", {"Title": "CTO"})
    assert response.status_code == 300
    assert response.json() == [f"/services/data/v60.0/sobjects/Lead/{i}" for i in ids]
    assert all(sf.leads[i]["Title"] is None for i in ids)


def test_a_field_that_is_not_an_external_id_answers_404(sf):
    response = call(sf, "PATCH", "/sobjects/Lead/Email/lucia@acme.example", json={"LastName": "Ruiz"})
    assert response.status_code == 404 and error_codes(response) == ["NOT_FOUND"]


def test_update_only_never_creates(sf):
    response = call(sf, "PATCH", f"/sobjects/Lead/{EXT}/L-404", params={"updateOnly": "true"}, json=LEAD)
    assert response.status_code == 404 and sf.leads == {}


# -- assignment rules -----------------------------------------------------------------------------


def test_assignment_rules_run_unless_sforce_auto_assign_is_false(sf):
    ana = sf.user_ids["ana.garcia@nubilo.example"]
    absent = upsert(sf, "L-1", {**LEAD, "OwnerId": ana, "Email": "one@acme.example"})
    true = upsert(
        sf, "L-2", {**LEAD, "OwnerId": ana, "Email": "two@acme.example"}, headers={"Sforce-Auto-Assign": "TRUE"}
    )
    false = upsert(
        sf, "L-3", {**LEAD, "OwnerId": ana, "Email": "three@acme.example"}, headers={"Sforce-Auto-Assign": "false"}
    )
    assert sf.leads[absent.json()["id"]]["OwnerId"] == sf.assignment_queue_id
    assert sf.leads[true.json()["id"]]["OwnerId"] == sf.assignment_queue_id
    assert sf.leads[false.json()["id"]]["OwnerId"] == ana
    # The header applies to updates too: without FALSE the rule takes the Lead back to the queue.
    upsert(sf, "L-3", {"Title": "CTO"}, headers={"Sforce-Auto-Assign": "FALSE"})
    assert sf.lead_by_external_id("L-3")["OwnerId"] == ana
    upsert(sf, "L-3", {"Title": "CEO"})
    assert sf.lead_by_external_id("L-3")["OwnerId"] == sf.assignment_queue_id


def test_owner_id_must_be_an_active_user(sf):
    no_rules = {"Sforce-Auto-Assign": "FALSE"}
    unknown = upsert(sf, "L-1", {**LEAD, "OwnerId": to_18("005000000000001")}, headers=no_rules)
    malformed = upsert(sf, "L-1", {**LEAD, "OwnerId": "ana@nubilo.example"}, headers=no_rules)
    assert error_codes(unknown) == ["INVALID_CROSS_REFERENCE_KEY"] and unknown.json()[0]["fields"] == ["OwnerId"]
    assert error_codes(malformed) == ["MALFORMED_ID"]
    gone = sf.add_user("gone@nubilo.example", "Gone Person", active=False)
    assert error_codes(upsert(sf, "L-1", {**LEAD, "OwnerId": gone}, headers=no_rules)) == ["INACTIVE_OWNER_OR_USER"]


# -- validation -----------------------------------------------------------------------------------


def test_lead_needs_last_name_and_company(sf):
    response = upsert(sf, "L-1", {"FirstName": "Lucía", "Email": "lucia@acme.example"})
    assert response.status_code == 400
    assert response.json() == [
        {
            "message": "Required fields are missing: [LastName, Company]",
            "errorCode": "REQUIRED_FIELD_MISSING",
            "fields": ["LastName", "Company"],
        }
    ]
    upsert(sf, "L-1", LEAD)
    blanked = upsert(sf, "L-1", {"Company": ""})  # an empty string is null to Salesforce
    assert error_codes(blanked) == ["REQUIRED_FIELD_MISSING"] and blanked.json()[0]["fields"] == ["Company"]


def test_a_new_lead_with_another_leads_email_is_duplicates_detected(sf):
    first = upsert(sf, "L-1", LEAD).json()["id"]
    response = upsert(sf, "L-2", {**LEAD, "Email": "LUCIA@acme.example"})
    assert response.status_code == 400
    error = response.json()[0]
    assert error["errorCode"] == "DUPLICATES_DETECTED"
    result = error["duplicateResult"]
    assert result["allowSave"] is False and result["duplicateRuleEntityType"] == "Lead"
    [match] = result["matchResults"]
    assert match["size"] == 1 and match["matchRecords"][0]["record"]["Id"] == first
    assert sf.lead_by_external_id("L-2") is None
    assert upsert(sf, "L-1", {**LEAD, "Title": "CTO"}).status_code == 200  # the same lead is no duplicate


def test_unknown_read_only_and_badly_typed_fields_are_refused(sf):
    unknown = upsert(sf, "L-1", {**LEAD, "Nubilo_Colour__c": "blue"})
    assert unknown.status_code == 400 and unknown.json() == [
        {
            "message": "No such column 'Nubilo_Colour__c' on sobject of type Lead",
            "errorCode": "INVALID_FIELD",
            "fields": [],
        }
    ]
    read_only = upsert(sf, "L-1", {**LEAD, "IsConverted": True})
    assert error_codes(read_only) == ["INVALID_FIELD_FOR_INSERT_UPDATE"]
    status = upsert(sf, "L-1", {**LEAD, "Status": "Qualified"})
    assert status.json() == [
        {
            "message": "Lead Status: bad value for restricted picklist field: Qualified",
            "errorCode": "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
            "fields": ["Status"],
        }
    ]
    assert error_codes(upsert(sf, "L-1", {**LEAD, "LeadSource": "Chatbot"})) == [
        "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    ]
    assert error_codes(upsert(sf, "L-1", {**LEAD, "Nubilo_Score__c": "high"})) == ["JSON_PARSER_ERROR"]
    assert error_codes(upsert(sf, "L-1", {**LEAD, "Company": "x" * 256})) == ["STRING_TOO_LONG"]
    assert error_codes(upsert(sf, "L-1", {**LEAD, "Email": "not-an-email"})) == ["INVALID_EMAIL_ADDRESS"]
    assert sf.leads == {}
    assert upsert(sf, "L-1", {**LEAD, "LeadSource": "Web Chat", "lastname": "Ruiz"}).status_code == 201


def test_the_api_version_is_part_of_the_path(sf):
    unknown = requests.get(f"{sf.url}/services/data/v99.0/limits", headers=sf.auth_headers(), verify=sf.ca_path)
    assert unknown.status_code == 404 and error_codes(unknown) == ["NOT_FOUND"]
    versions = requests.get(f"{sf.url}/services/data", verify=sf.ca_path, timeout=10).json()
    assert {"label": "API 60.0", "url": "/services/data/v60.0", "version": "60.0"} in versions


# -- limits ---------------------------------------------------------------------------------------


def test_every_response_says_the_api_usage_and_the_daily_limit_is_403(sf):
    sf.daily_limit, sf.api_usage = 3, 1
    first = call(sf, "GET", "/sobjects/Lead/describe")
    assert first.headers["Sforce-Limit-Info"] == "api-usage=2/3"
    assert call(sf, "GET", "/limits").headers["Sforce-Limit-Info"] == "api-usage=3/3"
    refused = call(sf, "GET", "/limits")
    assert refused.status_code == 403
    assert refused.json() == [
        {"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED", "fields": []}
    ]
    assert refused.headers["Sforce-Limit-Info"] == "api-usage=3/3"


# -- query ----------------------------------------------------------------------------------------


def test_a_query_by_system_modstamp_sees_a_salespersons_change(sf):
    lead_id = upsert(sf, "L-1", LEAD).json()["id"]
    upsert(sf, "L-2", {**LEAD, "Email": "other@acme.example"})
    seen = max(parse_sf_datetime(lead["SystemModstamp"]) for lead in sf.leads.values())
    # A SOQL dateTime literal has whole seconds: the next second after everything seen so far.
    since = (seen + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    soql = (
        f"SELECT Id, {EXT}, Status, SystemModstamp FROM Lead WHERE SystemModstamp > {since} "
        "ORDER BY SystemModstamp LIMIT 10"
    )
    assert query(sf, soql).json() == {"totalSize": 0, "done": True, "records": []}

    later = datetime.now(timezone.utc) + timedelta(seconds=5)
    sf.clock = lambda: later
    sf.set_field(lead_id, "Status", "Working - Contacted")
    result = query(sf, soql).json()
    assert result["totalSize"] == 1 and result["done"] is True
    [record] = result["records"]
    assert record["attributes"] == {"type": "Lead", "url": f"/services/data/v60.0/sobjects/Lead/{lead_id}"}
    assert (record["Id"], record[EXT], record["Status"]) == (lead_id, "L-1", "Working - Contacted")
    assert parse_sf_datetime(record["SystemModstamp"]) > seen

    with_and = query(sf, f"SELECT Id FROM Lead WHERE SystemModstamp > {since} AND Status = 'Open - Not Contacted'")
    assert with_and.json()["totalSize"] == 0
    by_external_id = query(sf, f"SELECT Id FROM Lead WHERE {EXT} = 'L-1'").json()
    assert [r["Id"] for r in by_external_id["records"]] == [lead_id]


def test_soql_datetimes_are_unquoted_and_the_rest_is_malformed(sf):
    quoted = query(sf, "SELECT Id FROM Lead WHERE SystemModstamp > '2026-12-04T10:00:00Z'")
    assert quoted.status_code == 400 and error_codes(quoted) == ["INVALID_FIELD"]
    assert "should not be enclosed in quotes" in quoted.json()[0]["message"]
    for bad in (
        "SELECT Id FRM Lead",
        "SELECT Id FROM Lead WHERE Email = 'a' OR Email = 'b'",
        "SELECT Id FROM Lead WHERE Email = lucia",
        "SELECT COUNT() FROM Lead",
    ):
        assert error_codes(query(sf, bad)) == ["MALFORMED_QUERY"], bad
    assert error_codes(query(sf, "SELECT Id, Colour FROM Lead")) == ["INVALID_FIELD"]
    assert error_codes(query(sf, "SELECT Id FROM Leed")) == ["INVALID_TYPE"]
    offset = query(sf, "SELECT Id FROM Lead WHERE SystemModstamp > 2026-12-04T10:00:00+01:00")
    assert offset.status_code == 200  # requests percent-encodes the "+"


def test_users_are_found_by_email(sf):
    soql = "SELECT Id, Email, Name FROM User WHERE Email = 'Ana.Garcia@nubilo.example' AND IsActive = true"
    [user] = query(sf, soql).json()["records"]
    assert user["Id"] == sf.user_ids["ana.garcia@nubilo.example"] and user["Id"].startswith("005")
    assert user["Name"] == "Ana García"
    sf.add_user("gone@nubilo.example", "Gone Person", active=False)
    assert (
        query(sf, "SELECT Id FROM User WHERE Email = 'gone@nubilo.example' AND IsActive = true").json()["totalSize"]
        == 0
    )


# -- converted and deleted leads ------------------------------------------------------------------


def test_a_converted_lead_cannot_be_updated(sf):
    lead_id = upsert(sf, "L-1", LEAD).json()["id"]
    before = sf.leads[lead_id]["SystemModstamp"]
    opportunity_id = sf.convert_lead(lead_id)
    lead = sf.leads[lead_id]
    assert opportunity_id.startswith("006") and lead["ConvertedOpportunityId"] == opportunity_id
    assert lead["IsConverted"] is True and lead["Status"] == "Closed - Converted"
    assert lead["ConvertedDate"] == datetime.now(timezone.utc).date().isoformat()
    assert lead["SystemModstamp"] > before
    for response in (
        upsert(sf, "L-1", {"Title": "CTO"}),
        call(sf, "PATCH", f"/sobjects/Lead/{lead_id}", json={"Title": "CTO"}),
    ):
        assert response.status_code == 400
        assert response.json() == [
            {"message": "cannot reference converted lead", "errorCode": "CANNOT_UPDATE_CONVERTED_LEAD", "fields": []}
        ]
    fields = "Id,IsConverted,ConvertedOpportunityId,Status"
    read = call(sf, "GET", f"/sobjects/Lead/{EXT}/L-1", params={"fields": fields}).json()
    assert read["IsConverted"] is True and read["ConvertedOpportunityId"] == opportunity_id


def test_delete_is_204_then_the_lead_is_entity_is_deleted(sf):
    lead_id = upsert(sf, "L-1", LEAD).json()["id"]
    deleted = call(sf, "DELETE", f"/sobjects/Lead/{lead_id}")
    assert deleted.status_code == 204 and deleted.content == b""
    assert sf.deleted_ids == [lead_id] and lead_id not in sf.leads
    again = call(sf, "DELETE", f"/sobjects/Lead/{lead_id}")
    assert again.status_code == 404
    assert again.json() == [{"message": "entity is deleted", "errorCode": "ENTITY_IS_DELETED", "fields": []}]
    assert error_codes(call(sf, "PATCH", f"/sobjects/Lead/{lead_id}", json={"Title": "CTO"})) == ["ENTITY_IS_DELETED"]
    assert call(sf, "GET", f"/sobjects/Lead/{lead_id}").status_code == 404
    assert query(sf, "SELECT Id FROM Lead").json()["totalSize"] == 0
    [gone] = call(sf, "GET", "/queryAll", params={"q": "SELECT Id, IsDeleted FROM Lead"}).json()["records"]
    assert gone["IsDeleted"] is True
    # The deleted record no longer matches its external id: an upsert makes a new Lead.
    assert upsert(sf, "L-1", LEAD).status_code == 201


def test_a_salesperson_deleting_a_lead(sf):
    lead_id = upsert(sf, "L-1", LEAD).json()["id"]
    sf.delete_lead(lead_id)
    assert sf.deleted_ids == [lead_id] and sf.lead_by_external_id("L-1") is None


# -- tasks and describe ---------------------------------------------------------------------------


def test_a_task_on_a_lead(sf):
    lead_id = upsert(sf, "L-1", LEAD).json()["id"]
    task = {
        "WhoId": lead_id,
        "Subject": "Call back",
        "Description": "Wants a demo",
        "Status": "Not Started",
        "Priority": "High",
    }
    created = call(sf, "POST", "/sobjects/Task", json=task)
    assert created.status_code == 201
    task_id = created.json()["id"]
    assert task_id.startswith("00T") and created.json() == {"id": task_id, "success": True, "errors": []}
    stored = sf.tasks[task_id]
    assert (stored["WhoId"], stored["Subject"], stored["OwnerId"]) == (lead_id, "Call back", sf.api_user_id)
    assert sf.requests_to("/sobjects/Task", "POST")[0].json == task
    defaults = call(sf, "POST", "/sobjects/Task", json={"WhoId": lead_id, "Subject": "Email"}).json()["id"]
    assert (sf.tasks[defaults]["Status"], sf.tasks[defaults]["Priority"]) == ("Not Started", "Normal")
    assert error_codes(call(sf, "POST", "/sobjects/Task", json={**task, "Priority": "Urgent"})) == [
        "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    ]
    nobody = call(sf, "POST", "/sobjects/Task", json={**task, "WhoId": to_18("00Q000000000001")})
    assert error_codes(nobody) == ["INVALID_CROSS_REFERENCE_KEY"]


def test_lead_describe(sf):
    described = call(sf, "GET", "/sobjects/Lead/describe").json()
    assert described["name"] == "Lead" and described["keyPrefix"] == "00Q"
    fields = {f["name"]: f for f in described["fields"]}
    assert fields[EXT]["externalId"] is True and fields["Email"]["externalId"] is False
    assert [v["value"] for v in fields["Status"]["picklistValues"]] == list(salesforce_api.DEFAULT_LEAD_STATUSES)
    assert fields["LastName"]["nillable"] is False and fields["SystemModstamp"]["updateable"] is False
    assert fields["Nubilo_Score__c"]["type"] == "double" and fields["Nubilo_Grade__c"]["custom"] is True


# -- fault injection and transport ----------------------------------------------------------------


def test_injected_failures_and_delays(sf):
    sf.fail_next(2, status=503)
    assert [call(sf, "GET", "/limits").status_code for _ in range(3)] == [503, 503, 200]
    assert [r.status for r in sf.requests_to("/limits")] == [503, 503, 200]
    sf.delay_next(0.5)
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.get(f"{sf.base_url}/limits", headers=sf.auth_headers(), verify=sf.ca_path, timeout=0.2)
    assert call(sf, "GET", "/limits").status_code == 200


def test_plain_http_when_asked():
    with SalesforceServer(tls=False) as sf:
        assert sf.url.startswith("http://") and sf.ca_path is None
        assert requests.get(f"{sf.base_url}/limits", headers=sf.auth_headers(), timeout=10).status_code == 200


@pytest.mark.skipif(shutil.which("openssl") is None, reason="no openssl command")
def test_https_with_the_openssl_command_when_cryptography_is_missing(monkeypatch):
    def no_cryptography(*args):
        raise ImportError("cryptography")

    monkeypatch.setattr(salesforce_api, "_certificates_with_cryptography", no_cryptography)
    with SalesforceServer() as sf:
        assert requests.get(f"{sf.base_url}/limits", headers=sf.auth_headers(), verify=sf.ca_path, timeout=10).ok
        with pytest.raises(requests.exceptions.SSLError):
            requests.Session().get(f"{sf.base_url}/limits", verify=True, timeout=10)


def test_simple_salesforce_speaks_to_it_over_https(sf):
    simple_salesforce = pytest.importorskip("simple_salesforce")
    session = requests.Session()
    session.verify = sf.ca_path
    session.trust_env = False  # else REQUESTS_CA_BUNDLE overrides session.verify
    client = simple_salesforce.Salesforce(
        instance_url=sf.url, session_id=sf.access_token, session=session, version="60.0"
    )
    assert client.base_url == f"{sf.base_url}/"
    assert client.Lead.upsert(f"{EXT}/L-1", LEAD) == 201
    assert client.Lead.upsert(f"{EXT}/L-1", {"Title": "CTO"}) == 200
    [record] = client.query(f"SELECT Id, Title FROM Lead WHERE {EXT} = 'L-1'")["records"]
    assert record["Title"] == "CTO"
    assert client.api_usage["api-usage"].used == sf.api_usage
    assert client.Lead.describe()["keyPrefix"] == "00Q"
    sf.add_duplicate_external_id("L-2")
    with pytest.raises(simple_salesforce.exceptions.SalesforceMoreThanOneRecord):
        client.Lead.upsert(f"{EXT}/L-2", {"Title": "CTO"})
    with pytest.raises(simple_salesforce.exceptions.SalesforceMalformedRequest):
        client.Lead.create({"FirstName": "No", "Email": "no@acme.example"})
    sf.expire_token()
    with pytest.raises(simple_salesforce.exceptions.SalesforceExpiredSession):
        client.query("SELECT Id FROM Lead")


def test_a_client_that_never_speaks_tls_holds_up_no_one(sf):
    import socket

    with socket.create_connection(("127.0.0.1", sf.port)):
        assert call(sf, "GET", "/limits").status_code == 200
