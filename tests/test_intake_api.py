"""The tracking intake over real HTTP: the real action server (`python -m actions.server`) on a
real database, SQLite and PostgreSQL, talked to like a Segment/RudderStack sender would.

One server per database for the whole module; every test uses its own visitor ids and emails."""

from __future__ import annotations

import json
import os
import uuid
from contextlib import ExitStack
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from leadqual.db.tables import TrackedEvent
from leadqual.http import tracking
from leadqual.leads.store import LeadStore

from .conftest import action_server_process, free_port, postgres_database

ROOT = Path(__file__).resolve().parents[1]
SERVER_KEY = "srv-" + uuid.uuid4().hex
BROWSER_KEY = "pub-" + uuid.uuid4().hex
PRICING = "behaviour.rules.pricing_page"


class Intake:
    """The running server and a LeadStore on its database, to check what was stored."""

    def __init__(self, url: str, store: LeadStore) -> None:
        self.url = url
        self.store = store

    def post(self, kind: str, body, key: str | None = SERVER_KEY, **kwargs) -> requests.Response:
        auth = (key, "") if key else None
        if isinstance(body, (bytes, str)):
            return requests.post(f"{self.url}/v1/{kind}", data=body, auth=auth, timeout=30, **kwargs)
        return requests.post(f"{self.url}/v1/{kind}", json=body, auth=auth, timeout=30, **kwargs)

    def stored(self, anonymous_id: str) -> list[TrackedEvent]:
        with self.store.sessions() as session:
            return list(session.scalars(select(TrackedEvent).where(TrackedEvent.anonymous_id == anonymous_id)))


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def intake(request, tmp_path_factory, config):
    workdir = tmp_path_factory.mktemp("intake")
    with ExitStack() as stack:
        if request.param == "sqlite":
            database_url = f"sqlite:///{workdir / 'leads.db'}"
        else:
            database_url = stack.enter_context(postgres_database())
        yield from _serve(workdir, database_url, config)


def _serve(workdir, database_url: str, config):
    port = free_port()
    env = {
        **os.environ,
        "LEADQUAL_DATABASE_URL": database_url,
        "LEADQUAL_WRITE_KEY": SERVER_KEY,
        "LEADQUAL_BROWSER_WRITE_KEY": BROWSER_KEY,
        "LEADQUAL_SPOOL": str(workdir / "pending-saves.jsonl"),
        "LEADQUAL_ACTION_TOKEN": "intake-tests-" + uuid.uuid4().hex,
    }
    with action_server_process(port, workdir / "actions.log", env):
        store = LeadStore(database_url, config=config)
        try:
            yield Intake(f"http://127.0.0.1:{port}", store)
        finally:
            store.engine.dispose()


def visitor() -> str:
    return "anon-" + uuid.uuid4().hex


def email() -> str:
    return f"lead-{uuid.uuid4().hex[:10]}@acme.es"


def ago(**delta) -> str:
    return (datetime.now(timezone.utc) - timedelta(**delta)).isoformat()


def page(anonymous_id: str, url: str, **fields) -> dict:
    return {"type": "page", "anonymousId": anonymous_id, "properties": {"url": url}, **fields}


def identify(anonymous_id: str, address: str, **traits) -> dict:
    return {"type": "identify", "anonymousId": anonymous_id, "traits": {"email": address, **traits}}


def lines(lead: dict, rule: str) -> list[dict]:
    return [line for line in lead["score_breakdown"] if line["rule"] == rule]


# -- success and idempotency -------------------------------------------------------------------


def test_a_call_is_answered_with_what_was_accepted_and_what_was_a_duplicate(intake):
    call = {"event": "cta_click", "anonymousId": visitor(), "messageId": "m-" + uuid.uuid4().hex}
    first = intake.post("track", call)
    assert first.status_code == 200, first.text
    assert first.json() == {"success": True, "accepted": 1, "duplicates": 0}
    again = intake.post("track", call)
    assert again.status_code == 200
    assert again.json() == {"success": True, "accepted": 0, "duplicates": 1}
    assert len(intake.stored(call["anonymousId"])) == 1


def test_the_same_batch_sent_twice_is_stored_and_scored_once(intake):
    anonymous_id, address = visitor(), email()
    batch = {
        "batch": [
            identify(anonymous_id, address, firstName="Ana", lastName="Gil"),
            page(anonymous_id, "https://nubilo.io/pricing", messageId="p-" + uuid.uuid4().hex),
            # No messageId: the content's hash makes the retry a duplicate too.
            page(anonymous_id, "https://nubilo.io/blog/crm", timestamp=ago(minutes=5)),
        ]
    }
    first = intake.post("batch", batch)
    assert first.status_code == 200, first.text
    assert first.json() == {"success": True, "accepted": 3, "duplicates": 0}
    lead = intake.store.get_by_email(address)
    second = intake.post("batch", batch)
    assert second.json() == {"success": True, "accepted": 0, "duplicates": 3}

    again = intake.store.get_by_email(address)
    assert again["name"] == "Ana Gil"
    assert sorted(e["url"] or "" for e in again["events"]) == [
        "",
        "https://nubilo.io/blog/crm",
        "https://nubilo.io/pricing",
    ]
    assert len(lines(again, PRICING)) == 1
    assert len(lines(again, "behaviour.rules.page_view")) == 1
    assert again["scores"]["behaviour"] == lead["scores"]["behaviour"] == 11
    assert len(intake.stored(anonymous_id)) == 3


# -- write keys --------------------------------------------------------------------------------


def test_http_basic_with_the_key_as_user_name_is_accepted(intake):
    response = intake.post("page", page(visitor(), "https://nubilo.io/"))
    assert response.status_code == 200, response.text


def test_the_write_key_may_come_in_the_body(intake):
    anonymous_id = visitor()
    response = intake.post("page", {**page(anonymous_id, "https://nubilo.io/"), "writeKey": SERVER_KEY}, key=None)
    assert response.status_code == 200, response.text
    assert len(intake.stored(anonymous_id)) == 1
    batch = {"writeKey": SERVER_KEY, "batch": [{"type": "track", "event": "demo_request", "anonymousId": anonymous_id}]}
    assert intake.post("batch", batch, key=None).json()["accepted"] == 1


def test_analytics_js_short_paths_and_text_plain_bodies_work(intake):
    # analytics.js posts to /v1/p, /v1/t... with text/plain (no CORS preflight) and the key in the body.
    anonymous_id = visitor()
    body = json.dumps({**page(anonymous_id, "https://nubilo.io/precios"), "writeKey": BROWSER_KEY})
    response = intake.post("p", body, key=None, headers={"content-type": "text/plain"})
    assert response.status_code == 200, response.text
    assert [e.url for e in intake.stored(anonymous_id)] == ["https://nubilo.io/precios"]


def test_a_call_without_a_key_is_401_asking_for_basic_auth(intake):
    anonymous_id = visitor()
    response = intake.post("page", page(anonymous_id, "https://nubilo.io/"), key=None)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Basic")
    assert response.json()["success"] is False
    assert "write key" in response.json()["error"]
    assert intake.stored(anonymous_id) == []


def test_a_wrong_key_is_401(intake):
    anonymous_id = visitor()
    for response in (
        intake.post("page", page(anonymous_id, "https://nubilo.io/"), key="not-" + SERVER_KEY),
        intake.post("page", {**page(anonymous_id, "https://nubilo.io/"), "writeKey": "nope"}, key=None),
        intake.post("page", {**page(anonymous_id, "https://nubilo.io/"), "writeKey": "\ud800"}, key=None),
    ):
        assert response.status_code == 401
        assert response.json()["error"] == "unknown write key"
        assert "WWW-Authenticate" in response.headers
    assert intake.stored(anonymous_id) == []


def test_the_browser_key_sends_page_views_and_allowed_clicks(intake):
    anonymous_id = visitor()
    assert intake.post("page", page(anonymous_id, "https://nubilo.io/"), key=BROWSER_KEY).status_code == 200
    click = {"event": "cta_click", "anonymousId": anonymous_id}
    assert intake.post("track", click, key=BROWSER_KEY).status_code == 200
    assert sorted((e.name, e.source) for e in intake.stored(anonymous_id)) == [
        ("cta_click", "browser"),
        ("page", "browser"),
    ]


def test_the_browser_key_cannot_send_a_demo_request_and_nothing_is_stored(intake):
    anonymous_id = visitor()
    response = intake.post("track", {"event": "demo_request", "anonymousId": anonymous_id}, key=BROWSER_KEY)
    assert response.status_code == 403
    assert "'demo_request'" in response.json()["error"]
    assert "cta_click" in response.json()["error"]
    assert [p["field"] for p in response.json()["problems"]] == ["event"]
    # Hidden in a batch with an allowed page view, the whole batch is refused.
    batch = {
        "batch": [
            page(anonymous_id, "https://nubilo.io/"),
            {"type": "track", "event": "demo_request", "anonymousId": anonymous_id},
        ]
    }
    response = intake.post("batch", batch, key=BROWSER_KEY)
    assert response.status_code == 403
    assert [p["field"] for p in response.json()["problems"]] == ["batch[1].event"]
    assert intake.stored(anonymous_id) == []
    assert intake.store.visitor_context(anonymous_id)["behaviour"] == 0


def test_the_browser_key_cannot_identify(intake):
    anonymous_id, address = visitor(), email()
    response = intake.post("identify", {"anonymousId": anonymous_id, "traits": {"email": address}}, key=BROWSER_KEY)
    assert response.status_code == 403
    assert intake.store.get_by_email(address) is None


def test_a_browser_cannot_join_someone_elses_lead_by_claiming_their_user_id(intake):
    user_id, address = "u-" + uuid.uuid4().hex, email()
    ok = intake.post(
        "identify", {"userId": user_id, "anonymousId": visitor(), "traits": {"email": address, "name": "Ana"}}
    )
    assert ok.status_code == 200, ok.text
    stranger = visitor()
    response = intake.post("page", {**page(stranger, "https://nubilo.io/pricing"), "userId": user_id}, key=BROWSER_KEY)
    assert response.status_code == 200
    context = intake.store.visitor_context(stranger)
    assert context["known"] is False
    assert context["name"] is None
    assert intake.store.get_by_email(address)["scores"]["behaviour"] == 0


# -- refused bodies ----------------------------------------------------------------------------


def test_an_invalid_call_is_400_naming_the_field(intake):
    response = intake.post("track", {"anonymousId": visitor()})
    assert response.status_code == 400
    assert response.json()["success"] is False
    assert [p["field"] for p in response.json()["problems"]] == ["event"]

    anonymous_id = visitor()
    batch = {"batch": [page(anonymous_id, "https://nubilo.io/"), {"type": "track", "anonymousId": anonymous_id}]}
    response = intake.post("batch", batch)
    assert response.status_code == 400
    assert [p["field"] for p in response.json()["problems"]] == ["batch[1].event"]
    assert intake.stored(anonymous_id) == []  # nothing of a refused batch is kept

    response = intake.post("identify", {"anonymousId": visitor(), "traits": {"email": "ana@@acme"}})
    assert response.status_code == 400
    assert [p["field"] for p in response.json()["problems"]] == ["traits.email"]

    response = intake.post("page", b"{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["error"]


def test_values_postgresql_cannot_store_are_400_not_503(intake):
    # A 503 tells the sender to retry: these would fail on every retry.
    anonymous_id = visitor()
    nan = b'{"event": "cta_click", "anonymousId": "' + anonymous_id.encode() + b'", "properties": {"x": NaN}}'
    assert intake.post("track", nan, headers={"Content-Type": "application/json"}).status_code == 400
    response = intake.post("track", {"event": "cta\x00click", "anonymousId": anonymous_id})
    assert response.status_code == 400
    assert [p["field"] for p in response.json()["problems"]] == ["event"]
    response = intake.post("page", page(anonymous_id, "https://nubilo.io/\ud800"))
    assert response.status_code == 400
    assert [p["field"] for p in response.json()["problems"]] == ["properties.url"]
    assert intake.stored(anonymous_id) == []


def test_odd_page_contexts_are_stored_without_a_url(intake):
    anonymous_id = visitor()
    for context in ({"page": {"url": {"href": "https://nubilo.io/"}}}, {"page": "home"}):
        response = intake.post("track", {"event": "cta_click", "anonymousId": anonymous_id, "context": context})
        assert response.status_code == 200, response.text
    assert [e.url for e in intake.stored(anonymous_id)] == [None, None]


def test_oversized_calls_and_batches_are_413(intake):
    anonymous_id = visitor()
    call = {"event": "cta_click", "anonymousId": anonymous_id, "properties": {"blob": "x" * tracking.MAX_CALL_BYTES}}
    response = intake.post("track", call)
    assert response.status_code == 413
    assert "32 KB" in response.json()["error"]
    batch = {"batch": [{"type": "track", **call, "properties": {"blob": "x" * 20_000}}] * 30}
    response = intake.post("batch", batch)
    assert response.status_code == 413
    assert "500 KB" in response.json()["error"]
    assert intake.stored(anonymous_id) == []


def test_the_openapi_document_is_served(intake):
    response = requests.get(intake.url + "/v1/openapi.json", timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    doc = response.json()
    assert doc["openapi"].startswith("3.1")
    assert set(doc["paths"]) == {"/v1/track", "/v1/page", "/v1/identify", "/v1/batch"}
    assert doc == tracking.openapi()


# -- identity stitching and scoring ------------------------------------------------------------


def test_page_views_before_identify_join_the_lead_and_score(intake):
    anonymous_id, address = visitor(), email()
    for url, minutes in (("https://nubilo.io/", 30), ("https://nubilo.io/pricing", 20)):
        response = intake.post("page", page(anonymous_id, url, timestamp=ago(minutes=minutes)))
        assert response.json()["accepted"] == 1
    assert intake.store.get_by_email(address) is None
    assert intake.store.visitor_context(anonymous_id)["known"] is False

    response = intake.post("identify", {"anonymousId": anonymous_id, "traits": {"email": address, "country": "es"}})
    assert response.status_code == 200, response.text

    lead = intake.store.get_by_email(address)
    assert lead["visitors"] == [anonymous_id]
    assert [e["url"] for e in lead["events"] if e["type"] == "page"] == [
        "https://nubilo.io/",
        "https://nubilo.io/pricing",
    ]
    assert lead["scores"]["behaviour"] > 0
    [pricing] = lines(lead, PRICING)
    assert pricing["source"] == "event"
    assert pricing["points"] == 10
    assert lead["profile"]["country"] == "ES"

    # Later page views of that browser follow the lead.
    intake.post("page", page(anonymous_id, "https://nubilo.io/precios"))
    later = intake.store.get_by_email(address)
    assert later["scores"]["behaviour"] > lead["scores"]["behaviour"]
    assert len(lines(later, "behaviour.rules.pricing_page_es")) == 1


def test_a_late_event_keeps_its_time_and_scores_less_than_a_fresh_one(intake):
    old_visitor, old_email = visitor(), email()
    new_visitor, new_email = visitor(), email()
    forty_days_ago = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(days=40)
    batch = [
        identify(old_visitor, old_email),
        page(old_visitor, "https://nubilo.io/pricing", timestamp=forty_days_ago.isoformat()),
        identify(new_visitor, new_email),
        page(new_visitor, "https://nubilo.io/pricing"),
    ]
    assert intake.post("batch", {"batch": batch}).json()["accepted"] == 4
    old, new = intake.store.get_by_email(old_email), intake.store.get_by_email(new_email)

    [old_page] = [e for e in old["events"] if e["type"] == "page"]
    assert datetime.fromisoformat(old_page["timestamp"]) == forty_days_ago
    [old_line], [new_line] = lines(old, PRICING), lines(new, PRICING)
    # Half-life 30 days: 10 points 40 days ago are worth 10 * 0.5 ** (40 / 30), about 4.
    assert old_line["value"] == pytest.approx(10 * 0.5 ** (40 / 30), abs=0.01)
    assert new_line["value"] == pytest.approx(10, abs=0.01)
    assert old["scores"]["behaviour"] == 4
    assert new["scores"]["behaviour"] == 10


def test_a_timestamp_with_an_offset_is_stored_at_the_right_moment(intake):
    anonymous_id, address = visitor(), email()
    moment = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(days=2)
    local = moment.astimezone(timezone(timedelta(hours=5))).isoformat()
    intake.post(
        "batch", {"batch": [identify(anonymous_id, address), page(anonymous_id, "https://nubilo.io/", timestamp=local)]}
    )
    [event] = [e for e in intake.store.get_by_email(address)["events"] if e["type"] == "page"]
    assert datetime.fromisoformat(event["timestamp"]) == moment
