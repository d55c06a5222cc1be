"""The public browser key cannot inflate a lead's behaviour, and cannot spoil the server key's
events (the security test's findings 3 and 4).

- Finding 3: backdated page views (20 weeks in one batch) escaped the weekly caps: behaviour
  533, mql, top of the console list. Now the browser key's times are kept within
  tracking.BROWSER_MAX_DELAY of when they were received, its pages must be on the site's
  origins (LEADQUAL_SITE_ORIGINS, by default LEADQUAL_CORS_ORIGINS), and behaviour.window_cap
  limits the points of any rolling window, all rules together.
- Finding 4: a page view sent with a guessed messageId made the server's later demo_request with
  that id a "duplicate", never stored. Now each key has its own message ids, and the same id
  with other content from the same key is a 409.

Over HTTP against the real action server, on SQLite and PostgreSQL; the scoring rules without.
"""

from __future__ import annotations

import hashlib
import uuid
from contextlib import ExitStack
from datetime import datetime, timedelta, timezone

import pytest
import requests
from sqlalchemy import select

from leadqual.config.marketing import ConfigError
from leadqual.db.tables import TrackedEvent
from leadqual.http import intake as intake_api
from leadqual.http import tracking
from leadqual.leads import rescore
from leadqual.leads.store import LeadStore
from leadqual.scoring.behaviour import Event, score_behaviour
from leadqual.timeutil import aware

from ..conftest import postgres_database, running_action_server
from ..test_config import broken_qualification
from ..test_intake_api import ago, email, page, visitor

SERVER_KEY = "srv-" + uuid.uuid4().hex
BROWSER_KEY = "pub-" + uuid.uuid4().hex
SITE = "https://nubilo.io"
NOW = datetime(2026, 3, 15, 12, 0, tzinfo=timezone.utc)


class Intake:
    def __init__(self, url: str, store: LeadStore) -> None:
        self.url, self.store = url, store

    def post(self, kind: str, body: dict, key: str = SERVER_KEY) -> requests.Response:
        return requests.post(f"{self.url}/v1/{kind}", json=body, auth=(key, ""), timeout=30)

    def stored(self, anonymous_id: str) -> list[TrackedEvent]:
        with self.store.sessions() as session:
            query = select(TrackedEvent).where(TrackedEvent.anonymous_id == anonymous_id).order_by(TrackedEvent.id)
            return list(session.scalars(query))


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def intake(request, tmp_path_factory, config):
    workdir = tmp_path_factory.mktemp("abuse")
    with ExitStack() as stack:
        database_url = (
            f"sqlite:///{workdir / 'leads.db'}"
            if request.param == "sqlite"
            else stack.enter_context(postgres_database())
        )
        env = {
            "LEADQUAL_DATABASE_URL": database_url,
            "LEADQUAL_WRITE_KEY": SERVER_KEY,
            "LEADQUAL_BROWSER_WRITE_KEY": BROWSER_KEY,
            "LEADQUAL_SITE_ORIGINS": f"{SITE} https://*.nubilo.io",
            # The rate limits have their own tests (test_rate_limits.py).
            **{f"LEADQUAL_INTAKE_{k}_{p}": "100000" for k in ("BROWSER", "SERVER") for p in ("RATE", "BURST")},
        }
        url, _log = stack.enter_context(running_action_server(workdir, **env))
        store = LeadStore(database_url, config=config)
        stack.callback(store.engine.dispose)
        yield Intake(url, store)


# -- finding 3: backdating, other sites' pages, the window cap -------------------------------


def test_the_browser_key_cannot_backdate_what_it_sends(intake):
    anonymous_id = visitor()
    batch = [page(anonymous_id, f"{SITE}/pricing", timestamp=ago(weeks=week)) for week in range(1, 11)]
    # Segment's clock correction says the same thing another way: sent now, happened weeks ago.
    batch += [
        page(anonymous_id, f"{SITE}/blog/{week}", originalTimestamp=ago(weeks=week), sentAt=ago(seconds=0))
        for week in range(1, 11)
    ]
    response = intake.post("batch", {"batch": batch}, key=BROWSER_KEY)
    assert response.status_code == 200, response.text
    rows = intake.stored(anonymous_id)
    assert len(rows) == 20
    for row in rows:
        received = aware(row.received_at)
        assert received - tracking.BROWSER_MAX_DELAY <= aware(row.timestamp) <= received, row.url
    # A time within BROWSER_MAX_DELAY is kept as sent; the server key's however old
    # (tests/test_intake_api.py checks that too).
    recent = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(minutes=3)
    old = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(days=40)
    other = visitor()
    assert intake.post("page", page(other, f"{SITE}/", timestamp=recent.isoformat()), key=BROWSER_KEY).ok
    assert intake.post("page", page(other, f"{SITE}/x", timestamp=old.isoformat())).ok
    assert intake.post("page", page(other, f"{SITE}/y", timestamp=old.isoformat()), key=BROWSER_KEY).ok
    stored = {row.url: aware(row.timestamp) for row in intake.stored(other)}
    assert stored[f"{SITE}/"] == recent and stored[f"{SITE}/x"] == old
    assert stored[f"{SITE}/y"] > old + timedelta(days=39)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"type": "page", "properties": {"url": "https://evil.example/pricing"}}, "properties.url"),
        ({"type": "page", "properties": {"url": "https://nubilo.io.evil.example/pricing"}}, "properties.url"),
        ({"type": "page", "properties": {"url": "https://nubilo.io@evil.example/pricing"}}, "properties.url"),
        ({"type": "page", "properties": {"url": "http://nubilo.io/pricing"}}, "properties.url"),  # another scheme
        ({"type": "page", "properties": {"url": "https://nubilo.io:8443/pricing"}}, "properties.url"),
        ({"type": "page", "properties": {"url": "/pricing"}}, "properties.url"),
        ({"type": "page", "context": {"page": {"url": "https://evil.example/precios"}}}, "context.page.url"),
        (
            {"type": "track", "event": "cta_click", "context": {"page": {"url": "https://evil.example/"}}},
            "context.page.url",
        ),
    ],
)
def test_the_browser_key_is_refused_pages_of_other_sites(intake, body, field):
    anonymous_id = visitor()
    call = {**body, "anonymousId": anonymous_id}
    response = intake.post(body["type"], call, key=BROWSER_KEY)
    assert response.status_code == 403, response.text
    assert [p["field"] for p in response.json()["problems"]] == [field]
    assert "origin" in response.json()["error"]
    # Hidden in a batch after an allowed page view: the whole batch is refused.
    batch = {"batch": [page(anonymous_id, f"{SITE}/"), call]}
    response = intake.post("batch", batch, key=BROWSER_KEY)
    assert response.status_code == 403
    assert [p["field"] for p in response.json()["problems"]] == [f"batch[1].{field}"]
    assert intake.stored(anonymous_id) == []
    # The server key sends what it likes (a CRM's own pages, say).
    assert intake.post(body["type"], call).status_code == 200


def test_the_sites_own_pages_and_subdomains_are_taken_from_the_browser_and_no_others(intake):
    anonymous_id = visitor()
    for url in (f"{SITE}/pricing", "https://NUBILO.io:443/precios", "https://www.nubilo.io/lp/crm", f"{SITE}"):
        assert intake.post("page", page(anonymous_id, url), key=BROWSER_KEY).status_code == 200, url
    click = {"event": "cta_click", "anonymousId": anonymous_id, "context": {"page": {"url": f"{SITE}/"}}}
    assert intake.post("track", click, key=BROWSER_KEY).status_code == 200
    assert len(intake.stored(anonymous_id)) == 5
    assert intake.post("page", page(anonymous_id, "https://nubilo.example/"), key=BROWSER_KEY).status_code == 403
    assert len(intake.stored(anonymous_id)) == 5


def test_the_security_tests_twenty_weeks_in_one_batch_no_longer_make_an_mql(intake):
    """The finding as reported: a page's key, many backdated views of every scored kind of page."""
    anonymous_id, address = visitor(), email()
    paths = ["/pricing", "/precios", "/lp/crm", "/blog/a", "/blog/b"]
    batch = [
        page(anonymous_id, f"{SITE}{path}?w={week}", timestamp=ago(weeks=week, minutes=n))
        for week in range(20)
        for n, path in enumerate(paths)
    ]
    batch += [
        {"type": "track", "event": "cta_click", "anonymousId": anonymous_id, "timestamp": ago(weeks=week)}
        for week in range(20)
    ]
    response = intake.post("batch", {"batch": batch}, key=BROWSER_KEY)
    assert response.status_code == 200 and response.json()["accepted"] == 120, response.text
    identify = {"anonymousId": anonymous_id, "traits": {"email": address, "country": "ES"}}
    assert intake.post("identify", identify).status_code == 200
    lead = intake.store.get_by_email(address)
    cap = intake.store.config.behaviour.window_cap
    assert lead["scores"]["behaviour"] <= cap.max_points  # was 533
    assert lead["stage"] not in ("mql", "sql"), lead["scores"]
    assert any("window cap" in line["reason"] for line in lead["score_breakdown"])


def test_site_origins_default_to_the_cors_origins(monkeypatch):
    monkeypatch.delenv("LEADQUAL_SITE_ORIGINS", raising=False)
    monkeypatch.setenv("LEADQUAL_CORS_ORIGINS", "https://www.example.com,https://shop.example.com")
    origins = intake_api.site_origins()
    assert origins.allow("https://www.example.com/pricing") and origins.allow("https://shop.example.com/")
    assert not origins.allow("https://example.com/pricing")
    monkeypatch.setenv("LEADQUAL_SITE_ORIGINS", "https://landing.example.org")
    assert intake_api.site_origins().allow("https://landing.example.org/lp/x")
    assert not intake_api.site_origins().allow("https://www.example.com/pricing")
    monkeypatch.setenv("LEADQUAL_SITE_ORIGINS", "www.example.com")
    with pytest.raises(ConfigError, match="LEADQUAL_SITE_ORIGINS"):
        intake_api.site_origins()


def no_decay(config):
    return config.model_copy(update={"behaviour": config.behaviour.model_copy(update={"half_life_days": None})})


def visits(minutes_apart: float = 1) -> list[Event]:
    """Everything the browser key may score in one burst: 85 points under the rules' own caps."""
    urls = ["/pricing"] * 3 + ["/precios"] * 3 + ["/lp/x"] * 3 + [f"/blog/{i}" for i in range(10)]
    events = [Event("page", NOW - timedelta(minutes=minutes_apart * i), url=f"{SITE}{u}") for i, u in enumerate(urls)]
    return events + [Event("cta_click", NOW - timedelta(minutes=50 + i)) for i in range(3)]


def test_the_window_cap_limits_the_points_of_any_window_all_rules_together(config):
    cfg = no_decay(config)
    uncapped = cfg.model_copy(update={"behaviour": cfg.behaviour.model_copy(update={"window_cap": None})})
    assert score_behaviour(visits(), uncapped, NOW).total == 85
    score = score_behaviour(visits(), cfg, NOW)
    assert cfg.behaviour.window_cap.max_points == 40 and cfg.behaviour.window_cap.per_days == 7
    assert score.total == 40
    assert sum(line["points"] for line in score.lines) == 40
    capped = [line for line in score.lines if "window cap" in line["reason"]]
    assert capped and all(line["points"] >= 0 for line in capped)
    # Negative points are never capped; a week later the window has room again.
    later = [Event("meeting_no_show", NOW + timedelta(hours=1)), Event("demo_request", NOW + timedelta(days=7))]
    score = score_behaviour(visits() + later, cfg, NOW + timedelta(days=7))
    assert [line["points"] for line in score.lines[-2:]] == [-10, 15]
    assert score.total == 40 - 10 + 15


def test_a_line_the_window_cap_cut_short_still_decays_in_the_daily_rescore(config):
    score = score_behaviour(visits(), config, NOW)
    [partial] = [line for line in score.lines if "window cap" in line["reason"] and line["points"] > 0]
    later = NOW + timedelta(days=3)
    value, reason = rescore._decay_line(partial["points"], partial["at"], partial["reason"], later, 30)
    [again] = [line for line in score_behaviour(visits(), config, later).lines if line["at"] == partial["at"]]
    assert (value, reason) == (again["decayed"], again["reason"])


def test_marketing_can_set_the_window_cap_and_a_wrong_one_names_the_field(tmp_path):
    def zero(data):
        data["behaviour"]["window_cap"] = {"max_points": 0, "per_days": 7}

    assert "behaviour.window_cap.max_points" in broken_qualification(tmp_path, zero)


# -- finding 4: message ids per key ----------------------------------------------------------


def lead_with_browser(intake) -> tuple[str, str]:
    anonymous_id, address = visitor(), email()
    assert intake.post("identify", {"anonymousId": anonymous_id, "traits": {"email": address}}).ok
    return anonymous_id, address


def test_a_page_cannot_take_the_message_id_of_the_servers_demo_request(intake):
    anonymous_id, address = lead_with_browser(intake)
    guessed = f"demo-{anonymous_id}"
    first = intake.post("page", page(anonymous_id, f"{SITE}/", messageId=guessed), key=BROWSER_KEY)
    assert first.json() == {"success": True, "accepted": 1, "duplicates": 0}
    demo = {"event": "demo_request", "anonymousId": anonymous_id, "messageId": guessed}
    response = intake.post("track", demo)
    assert response.json() == {"success": True, "accepted": 1, "duplicates": 0}  # was a "duplicate"
    assert sorted((row.name, row.source) for row in intake.stored(anonymous_id)) == [
        ("demo_request", "server"),
        ("identify", "server"),
        ("page", "browser"),
    ]
    lead = intake.store.get_by_email(address)
    assert [line["points"] for line in lead["score_breakdown"] if line["rule"].endswith(".demo_request")] == [15]
    # A retry of either is still a duplicate of its own.
    assert intake.post("track", demo).json()["duplicates"] == 1
    again = intake.post("page", page(anonymous_id, f"{SITE}/", messageId=guessed), key=BROWSER_KEY)
    assert again.json() == {"success": True, "accepted": 0, "duplicates": 1}


def test_a_server_message_id_that_looks_like_a_browser_one_is_kept_apart(intake):
    anonymous_id, _address = lead_with_browser(intake)
    guess = uuid.uuid4().hex
    assert intake.post("page", page(anonymous_id, f"{SITE}/", messageId=guess), key=BROWSER_KEY).json()["accepted"] == 1
    for message_id in (f"b:{guess}", f"s:b:{guess}", "b#" + "0" * 64):
        demo = {"event": "demo_request", "anonymousId": anonymous_id, "messageId": message_id}
        assert intake.post("track", demo).json() == {"success": True, "accepted": 1, "duplicates": 0}, message_id


def test_the_same_message_id_with_other_content_is_a_409(intake):
    anonymous_id, _address = lead_with_browser(intake)
    message_id = "m-" + uuid.uuid4().hex
    demo = {"event": "demo_request", "anonymousId": anonymous_id, "messageId": message_id}
    assert intake.post("track", demo).json()["accepted"] == 1
    other = intake.post("track", {**demo, "event": "webinar_attended"})
    assert other.status_code == 409, other.text
    assert [p["field"] for p in other.json()["problems"]] == ["messageId"]
    assert intake.post("track", {**demo, "properties": {"plan": "pro"}}).status_code == 409
    # The same content (at another time: a retry) is a duplicate, not a conflict.
    assert intake.post("track", {**demo, "timestamp": ago(minutes=1)}).json()["duplicates"] == 1
    # In a batch: the whole batch is refused, naming the call.
    fresh = visitor()
    batch = {"batch": [page(fresh, f"{SITE}/"), {"type": "track", **demo, "event": "email_reply"}]}
    response = intake.post("batch", batch)
    assert response.status_code == 409 and response.json()["problems"][0]["field"] == "batch[1].messageId"
    assert intake.stored(fresh) == []
    # Twice in one batch with different content.
    twice = {
        "batch": [
            page(fresh, f"{SITE}/a", messageId="t-" + message_id),
            page(fresh, f"{SITE}/b", messageId="t-" + message_id),
        ]
    }
    response = intake.post("batch", twice, key=BROWSER_KEY)
    assert response.status_code == 409 and response.json()["problems"][0]["field"] == "batch[1].messageId"
    assert intake.stored(fresh) == []
    # From the browser too.
    view = page(fresh, f"{SITE}/pricing", messageId="v-" + message_id)
    assert intake.post("page", view, key=BROWSER_KEY).json()["accepted"] == 1
    assert intake.post("page", {**view, "properties": {"url": f"{SITE}/precios"}}, key=BROWSER_KEY).status_code == 409
    assert [row.url for row in intake.stored(fresh)] == [f"{SITE}/pricing"]
    # The answer is in the intake's OpenAPI document (tests/test_fuzz_api.py holds it to that).
    assert "409" in tracking.openapi()["paths"]["/v1/track"]["post"]["responses"]


TRICKY_IDS = [
    "x",
    "b:x",
    "s:x",
    "b#x",
    "s#x",
    "s:b:x",
    "s:s:x",
    "h:" + "0" * 40,
    "y" * 98,
    "y" * 99,
    "y" * 100,
    "b:" + "y" * 98,
    "s:" + "y" * 98,
    "b#" + "0" * 64,
    "s#" + hashlib.sha256(("s:" + "y" * 98).encode()).hexdigest(),
]


def test_each_key_has_its_own_message_ids_and_they_fit_the_column():
    browser = [tracking.stored_message_id("browser", m) for m in TRICKY_IDS]
    server = [tracking.stored_message_id("server", m) for m in TRICKY_IDS]
    assert len(set(browser)) == len(set(server)) == len(TRICKY_IDS)  # no two ids of one key collide
    assert not set(browser) & set(server)  # and no id of one key is ever one of the other's
    assert all(len(i) <= tracking.MESSAGE_ID_COLUMN for i in browser + server)
    assert tracking.stored_message_id("server", "ajs-next-123") == "ajs-next-123"  # as sent
