"""The intake's bulk path (LeadStore.ingest_events), on SQLite and PostgreSQL: a batch stores
the same rows and scores as the same events sent one by one, duplicates inside a batch, across
calls and from racing clients are counted and stored once, and the one-by-one path of
databases without ON CONFLICT gives the same result."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import select

from leadqual import timeutil
from leadqual.db.tables import Lead, TrackedEvent, Visitor
from leadqual.leads import ingest
from leadqual.leads.store import LeadStore

from .conftest import postgres_database
from .test_identity import NOW
from .test_identity import event as identity_event

PRICING = "https://nubilo.example/precios/"


def event(message_id, name="page", minutes=60, anonymous_id=None, user_id=None, url=None, **extra) -> dict:
    """A normalized tracking event `minutes` before NOW, its properties naming it."""
    at = NOW - timedelta(minutes=minutes)
    return identity_event(
        message_id, name, at, anonymous_id, user_id, url, **{"properties": {"n": message_id}, **extra}
    )


def identify(message_id, minutes, browser=None, user_id=None, **traits) -> dict:
    return event(message_id, "identify", minutes, browser, user_id, traits=traits, properties={})


def mixed_events() -> list[dict]:
    """Anonymous page views, an identify in the middle, clicks after it, a userId's events before
    and after its identify, a browser joining an existing lead, and repeated message ids."""
    return [
        event("p1", minutes=90, anonymous_id="browser-aaaa", url=PRICING),
        event("p2", minutes=80, anonymous_id="browser-bbbb"),
        event("w1", "webinar_attended", minutes=75, user_id="crm-7"),
        event("p3", minutes=70, anonymous_id="browser-aaaa"),
        identify("i1", 65, "browser-aaaa", email="ana@acme.es", name="Ana"),
        event("p4", minutes=60, anonymous_id="browser-aaaa", url=PRICING),
        event("c1", "cta_click", minutes=55, anonymous_id="browser-aaaa"),
        event("p1", minutes=50, anonymous_id="browser-aaaa"),  # a retry of p1: a duplicate
        event("p5", minutes=45, anonymous_id="browser-bbbb", url=PRICING),
        identify("i2", 40, "browser-cccc", user_id="crm-7", email="bea@acme.es"),
        event("d1", "demo_request", minutes=35, user_id="crm-7"),
        event("p6", minutes=30, anonymous_id="browser-cccc", url=PRICING),
        event("p7", minutes=25, anonymous_id="browser-dddd"),
        event("p8", minutes=20, anonymous_id="browser-aaaa"),
        identify("i3", 15, "browser-dddd", email="ana@acme.es"),
        event("p9", minutes=10, anonymous_id="browser-dddd", url=PRICING),
        event("p9", minutes=10, anonymous_id="browser-dddd", url=PRICING),
        event("p10", minutes=95, anonymous_id="browser-bbbb"),  # late: bbbb was first seen earlier
        # Text that quoting gets wrong: in a message id (an array literal on PostgreSQL) and properties.
        event('q"\\,}{ 1', minutes=5, anonymous_id="browser-eeee", url='https://x.example/?q="ñ"\\'),
        event('q"\\,}{ 1', minutes=5, anonymous_id="browser-eeee"),
        event("q2", minutes=4, anonymous_id="browser-eeee", properties={"q": 'dijo "sí" \\ 😀', "n": [1, 2.5, None]}),
    ]


def snapshot(store: LeadStore) -> dict:
    """What is stored, with each lead named by its email or user id (lead ids are random)."""
    with store.sessions() as session:
        people = {lead.id: lead.email_key or lead.user_id for lead in session.scalars(select(Lead))}
        rows = session.scalars(select(TrackedEvent).order_by(TrackedEvent.id))
        events = [
            (e.message_id, e.type, e.name, e.url, e.anonymous_id, e.user_id, people.get(e.lead_id), e.properties)
            + (timeutil.aware(e.timestamp), timeutil.aware(e.received_at), e.source)
            for e in rows
        ]
        visitors = {
            v.anonymous_id: (people.get(v.lead_id), timeutil.aware(v.first_seen_at), timeutil.aware(v.last_seen_at))
            for v in session.scalars(select(Visitor))
        }
        scores = {
            people[lead.id]: (
                lead.email_key,
                lead.user_id,
                lead.name,
                lead.fit_score,
                lead.behaviour_score,
                lead.total_score,
                lead.stage,
                timeutil.aware(lead.last_activity_at),
                sorted(line["rule"] for line in lead.score_breakdown or []),
            )
            for lead in session.scalars(select(Lead))
        }
    return {"events": events, "visitors": visitors, "leads": scores}


@pytest.fixture
def second_store(request, tmp_path, config):
    """Another empty store of the same kind as `store`, to compare two ways of ingesting."""
    with _fresh(request.node.callspec.params["store"], tmp_path / "second.db", config) as other:
        yield other


@contextmanager
def _fresh(kind: str, path, config):
    if kind == "sqlite":
        other = LeadStore(f"sqlite:///{path}", config=config)
        other.create_schema()
        try:
            yield other
        finally:
            other.engine.dispose()
        return
    with postgres_database() as url:
        other = LeadStore(url, config=config)
        other.create_schema()
        try:
            yield other
        finally:
            other.engine.dispose()


def test_a_mixed_batch_stores_and_scores_as_the_same_events_one_by_one(store, second_store):
    events = mixed_events()
    batch = store.ingest_events(events, NOW)
    single = [second_store.ingest_events([item], NOW) for item in sorted(events, key=lambda e: e["timestamp"])]

    assert batch["accepted"] == sum(r["accepted"] for r in single) == 18
    assert batch["duplicates"] == sum(r["duplicates"] for r in single) == 3
    assert snapshot(store) == snapshot(second_store)
    stored = snapshot(store)
    ana = stored["leads"]["ana@acme.es"]
    assert ana[4] > 0 and ana[7] == NOW - timedelta(minutes=10)  # behaviour points, latest activity
    assert stored["visitors"]["browser-bbbb"] == (None, NOW - timedelta(minutes=95), NOW)


def test_the_one_by_one_path_gives_the_same_result(store, second_store, monkeypatch):
    """Databases without INSERT ... ON CONFLICT store each event with the ORM."""
    store.ingest_events(mixed_events(), NOW)
    monkeypatch.setattr(ingest, "_bulk_insert", lambda dialect: None)
    second_store.ingest_events(mixed_events(), NOW)
    assert snapshot(store) == snapshot(second_store)


def test_duplicates_inside_a_batch_and_across_calls_are_counted_and_stored_once(store):
    first = [event("a1", anonymous_id="browser-aaaa"), event("a2", anonymous_id="browser-aaaa"), event("a1")]
    assert store.ingest_events(first, NOW) == {"accepted": 2, "duplicates": 1, "leads": []}
    second = [event("a2", anonymous_id="browser-aaaa"), event("a3", minutes=5, anonymous_id="browser-aaaa")]
    assert store.ingest_events(second, NOW)["accepted"] == 1
    assert store.ingest_events(second, NOW) == {"accepted": 0, "duplicates": 2, "leads": []}
    assert [e[0] for e in snapshot(store)["events"]] == ["a1", "a2", "a3"]


def test_a_known_browser_s_batch_joins_its_lead_which_is_scored_once(store):
    store.ingest_events([identify("i1", 120, "browser-aaaa", email="ana@acme.es")], NOW)
    before = store.get_by_email("ana@acme.es")
    batch = [event(f"p{i}", minutes=60 - i, anonymous_id="browser-aaaa", url=PRICING) for i in range(5)]
    batch.append(event("late", minutes=600, anonymous_id="browser-aaaa"))
    result = store.ingest_events(batch, NOW)
    assert result == {"accepted": 6, "duplicates": 0, "leads": [before["id"]]}
    stored = snapshot(store)
    assert {e[0]: e[6] for e in stored["events"]} == {
        "i1": "ana@acme.es",
        **{f"p{i}": "ana@acme.es" for i in range(5)},
        "late": "ana@acme.es",
    }
    # The late event moves first_seen_at back, never the lead's last activity.
    assert stored["visitors"]["browser-aaaa"][1] == NOW - timedelta(minutes=600)
    assert stored["leads"]["ana@acme.es"][7] == NOW - timedelta(minutes=56)
    after = store.get_by_email("ana@acme.es")
    assert after["scores"]["behaviour"] > before["scores"]["behaviour"]


def test_concurrent_identical_batches_store_each_event_once(store):
    """Racing clients retrying the same batch: every event stored once, the rest duplicates."""
    store.ingest_events([identify("i1", 120, "browser-0000", email="ana@acme.es")], NOW)
    batch = [event(f"m{i}", minutes=i % 50, anonymous_id=f"browser-{i % 7:04d}", url=PRICING) for i in range(100)]
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda _: store.ingest_events(batch, NOW), range(6)))
    assert sum(r["accepted"] for r in results) == 100
    assert sum(r["duplicates"] for r in results) == 500
    stored = snapshot(store)
    assert sorted(e[0] for e in stored["events"] if e[0] != "i1") == sorted(f"m{i}" for i in range(100))
    assert len(stored["visitors"]) == 7
    lead = store.get_by_email("ana@acme.es")
    assert len(lead["events"]) == 1 + len([i for i in range(100) if i % 7 == 0])


def test_concurrent_batches_on_new_browsers_create_each_visitor_once(store):
    batches = [[event(f"b{k}-{i}", minutes=k, anonymous_id=f"browser-{i:04d}") for i in range(30)] for k in range(6)]
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda b: store.ingest_events(b, NOW), batches))
    assert [r["accepted"] for r in results] == [30] * 6
    visitors = snapshot(store)["visitors"]
    assert len(visitors) == 30
    assert all(first == NOW - timedelta(minutes=5) for _lead, first, _last in visitors.values())


# -- group commit: calls that arrive together share a transaction -----------------------------


class Counting:
    """A LeadStore that counts its transactions and fails the ones `fail(calls)` says."""

    def __init__(self, store: LeadStore, fail=lambda calls: None) -> None:
        self.store, self.fail, self.transactions = store, fail, []
        self.engine, self.url, self.config = store.engine, store.url, store.config

    def ingest_calls(self, calls, now):
        self.transactions.append(len(calls))
        error = self.fail(calls)
        if error is not None:
            raise error
        return self.store.ingest_calls(calls, now)


def send_together(counting: Counting, calls: list[list[dict]]) -> list:
    from leadqual.http.intake import GroupCommit

    committer = GroupCommit()

    async def all_at_once():
        jobs = [committer.store(counting, events, NOW) for events in calls]
        return await asyncio.gather(*jobs, return_exceptions=True)

    return asyncio.run(all_at_once())


def test_calls_arriving_together_share_one_transaction_and_keep_their_own_results(store):
    counting = Counting(store)
    calls = [[event(f"g{i}", anonymous_id=f"browser-{i % 3:04d}"), event("shared", minutes=90)] for i in range(10)]
    calls.append([identify("i1", 30, "browser-0001", email="ana@acme.es"), event("g0")])
    results = send_together(counting, calls)
    assert counting.transactions == [11]
    assert [r["accepted"] for r in results] == [2] + [1] * 9 + [1]
    assert [r["duplicates"] for r in results] == [0] + [1] * 9 + [1]
    assert results[10]["leads"] == [store.get_by_email("ana@acme.es")["id"]] and results[1]["leads"] == []
    stored = {e[0]: e[6] for e in snapshot(store)["events"]}
    assert len(stored) == 12 and stored["g1"] == stored["g4"] == "ana@acme.es"  # browser-0001's page views


def test_one_failing_call_fails_alone_and_a_database_that_is_down_fails_each(store):
    from sqlalchemy.exc import DataError, OperationalError

    def poison(calls):
        if any(e["message_id"] == "bad" for call in calls for e in call):
            return DataError("INSERT", {}, Exception("value too long"))
        return None

    counting = Counting(store, poison)
    results = send_together(counting, [[event("ok1")], [event("bad")], [event("ok2")]])
    assert counting.transactions == [3, 1, 1, 1]
    assert results[0]["accepted"] == results[2]["accepted"] == 1
    assert isinstance(results[1], DataError)

    down = Counting(store, lambda calls: OperationalError("connect", {}, Exception("connection refused")))
    results = send_together(down, [[event("x1")], [event("x2")]])
    assert all(isinstance(r, OperationalError) for r in results)
    assert [e[0] for e in snapshot(store)["events"]] == ["ok1", "ok2"]


def test_a_database_that_goes_away_is_503_with_retry_after_and_nothing_is_lost(tmp_path):
    """The real server on PostgreSQL; the database is dropped under it, then the calls retried."""
    import requests
    from sqlalchemy import create_engine, text

    from .conftest import POSTGRES_URL, running_action_server

    key = "srv-bulk-test"
    body = {"batch": [{"type": "page", "anonymousId": "browser-aaaa", "messageId": f"m{i}"} for i in range(20)]}
    with (
        postgres_database() as url,
        running_action_server(tmp_path, LEADQUAL_DATABASE_URL=url, LEADQUAL_WRITE_KEY=key) as (base, _log),
    ):
        first = requests.post(f"{base}/v1/batch", json={"batch": body["batch"][:5]}, auth=(key, ""), timeout=30)
        assert first.json() == {"success": True, "accepted": 5, "duplicates": 0}
        admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        name = url.rsplit("/", 1)[1]
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()
        replies = [requests.post(f"{base}/v1/batch", json=body, auth=(key, ""), timeout=30) for _ in range(3)]
        assert [r.status_code for r in replies] == [503] * 3
        assert all(r.headers["Retry-After"] == "5" and r.json()["success"] is False for r in replies)
        assert "retry with the same messageId" in replies[0].json()["error"]


# -- the parser's shortcuts keep its checks ----------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        b'{"anonymousId": "browser-aaaa", "name": "a\\u0000b"}',
        b'{"anonymousId": "browser-aaaa", "name": "\\ud800"}',
        b'{"anonymousId": "browser-aaaa", "name": "\xed\xa0\x80"}',  # a surrogate encoded as UTF-8
        '{"anonymousId": "browser-aaaa", "name": "a\\u0000"}'.encode("utf-16"),
    ],
)
def test_unstorable_text_is_still_found_however_it_is_written(raw):
    from leadqual.http import tracking

    with pytest.raises(tracking.IntakeError) as refused:
        tracking.parse_body(raw, "page")
    assert refused.value.status == 400 and "NUL" in str(refused.value)


def test_a_call_that_prints_longer_than_it_was_written_is_still_measured():
    """Floats print longer (1e15 -> 1000000000000000.0): a 15 KB batch can hold a 57 KB call."""
    import json

    from leadqual.http import tracking

    call = {"type": "track", "event": "x", "anonymousId": "browser-aaaa", "properties": {"v": [1e15] * 3000}}
    raw = json.dumps({"batch": [call]}).replace("1000000000000000.0", "1e15").encode()
    assert len(raw) < tracking.MAX_CALL_BYTES
    with pytest.raises(tracking.IntakeError) as refused:
        tracking.parse_body(raw, "batch")
    assert refused.value.status == 413 and refused.value.problems[0]["field"] == "batch[0]"
    assert len(tracking.parse_body(raw.replace(b"1e15", b"1"), "batch")) == 1
