"""The outbox and its delivery worker against a real HTTP server standing in for the CRM, on
SQLite and PostgreSQL: every lead arrives exactly once at a receiver that dedupes on
`webhook-id`, whatever the CRM does (fails, is down, answers slowly, rejects)."""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from leadqual.db.tables import Base, Lead, utcnow
from leadqual.delivery.outbox import (
    DEAD,
    DELIVERED,
    PENDING,
    DeliveryWorker,
    Destination,
    Destinations,
    InvalidSignature,
    OutboxMessage,
    enqueue,
    sign,
    signed_headers,
    verify,
)
from tests.conftest import free_port

SECRET = "whsec_c2VjcmV0LWZvci10aGUtdGVzdHMtMTIzNDU2Nzg5MA=="
READ_TIMEOUT = 0.3


class FakeCRM:
    """A webhook receiver on a real port. `plan` scripts the answers to the next requests (a
    status, `(status, headers)`, or `"slow"`: accept, then answer after the client's read
    timeout); after the plan it accepts. It records every request, verifies signatures and
    processes each `webhook-id` once (`accepted`), counting the duplicates it dropped."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/hooks/leads"
        self.plan: list = []
        self.requests: list[dict] = []
        self.accepted: dict[str, dict] = {}
        self.duplicates = 0
        self.bad_signatures = 0
        self.lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None

    def start(self) -> None:
        crm = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                with crm.lock:
                    crm.requests.append({"headers": dict(self.headers), "body": body, "path": self.path})
                    action = crm.plan.pop(0) if crm.plan else 200
                if action == "slow":
                    crm.process(self.headers, body)
                    time.sleep(READ_TIMEOUT * 2)
                    action = 200
                elif action == 200 and not crm.process(self.headers, body):
                    action = 401
                status, headers = action if isinstance(action, tuple) else (action, {})
                try:
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("content-length", "2")
                    self.end_headers()
                    self.wfile.write(b"{}")
                except OSError:
                    pass  # the client gave up waiting

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def process(self, headers, body: bytes) -> bool:
        try:
            verify(SECRET, headers, body)
        except InvalidSignature:
            with self.lock:
                self.bad_signatures += 1
            return False
        with self.lock:
            if headers["webhook-id"] in self.accepted:
                self.duplicates += 1
            else:
                self.accepted[headers["webhook-id"]] = json.loads(body)
        return True


class MaxJitter:
    """An rng whose "full jitter" is always the ceiling, to see the backoff's growth."""

    def uniform(self, _low: float, high: float) -> float:
        return high


@pytest.fixture
def crm():
    server = FakeCRM()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def engine(store):
    Base.metadata.create_all(store.engine)
    return store.engine


def worker_for(engine, crm: FakeCRM, **kwargs) -> DeliveryWorker:
    destinations = Destinations(
        {
            "crm": Destination("crm", crm.url, SECRET),
            "nurture": Destination("nurture", crm.url + "/nurture", SECRET),
        }
    )
    kwargs.setdefault("timeout", (0.5, READ_TIMEOUT))
    kwargs.setdefault("lease", 5)
    return DeliveryWorker(engine, destinations, **kwargs)


def enqueue_many(store, count: int, kind: str = "crm") -> list[str]:
    keys = []
    with store.sessions.begin() as session:
        for i in range(count):
            lead = Lead(email=f"p{i}@example.com", email_key=f"p{i}@example.com", stage="sql")
            session.add(lead)
            session.flush()
            keys.append(enqueue(session, kind, {"email": lead.email, "stage": "sql"}, lead_id=lead.id).key)
    return keys


def statuses(engine) -> dict[str, str]:
    with engine.connect() as conn:
        return dict(conn.execute(select(OutboxMessage.key, OutboxMessage.status)).all())


def message(engine, key: str):
    with engine.connect() as conn:
        return conn.execute(select(OutboxMessage).where(OutboxMessage.key == key)).one()


def drain(worker: DeliveryWorker, engine, start, rounds: int = 30, step: float = 3600) -> None:
    """Run the worker, jumping the clock past every backoff, until nothing is pending."""
    now = start
    for _ in range(rounds):
        worker.run_once(now)
        if PENDING not in statuses(engine).values():
            return
        now += timedelta(seconds=step)
    raise AssertionError(f"still pending after {rounds} rounds: {statuses(engine)}")


# -- signing -------------------------------------------------------------------------------


def test_signature_matches_the_standard_webhooks_reference_vector():
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    signature = sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, '{"test": 2432232314}')
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


@pytest.mark.parametrize("secret", [SECRET, "a raw shared secret"])
def test_verify_accepts_good_and_rejects_bad_missing_and_old_signatures(secret):
    body = b'{"lead": 1}'
    headers = signed_headers(secret, "msg_1", body)
    verify(secret, headers, body)
    verify(secret, {k.upper(): v for k, v in headers.items()}, body.decode())  # any header case, str body
    rotated = dict(headers, **{"webhook-signature": "v1,bm90IGl0 " + headers["webhook-signature"]})
    verify(secret, rotated, body)  # one of several signatures matches
    with pytest.raises(InvalidSignature):
        verify(secret, headers, b'{"lead": 2}')
    with pytest.raises(InvalidSignature):
        verify("whsec_b3RoZXI=", headers, body)
    with pytest.raises(InvalidSignature):
        verify(secret, {k: v for k, v in headers.items() if k != "webhook-signature"}, body)
    old = signed_headers(secret, "msg_1", body, timestamp=int(time.time()) - 301)
    with pytest.raises(InvalidSignature):
        verify(secret, old, body)
    verify(secret, old, body, tolerance=600)


def test_destinations_from_env(tmp_path):
    env = {
        "LEADQUAL_CRM_WEBHOOK_URL": "https://crm.example/hook",
        "LEADQUAL_CRM_WEBHOOK_SECRET": SECRET,
        "LEADQUAL_HANDOFF_DIR": str(tmp_path),
    }
    found = Destinations.from_env(env)
    assert found.get("crm").url == "https://crm.example/hook" and found.get("crm").secret == SECRET
    assert not found.get("crm").local
    assert found.get("nurture").local and found.get("nurture").path == tmp_path / "handoff-nurture.jsonl"


# -- delivery ------------------------------------------------------------------------------


def test_every_message_arrives_exactly_once_through_failures_downtime_and_slowness(store, engine, crm):
    keys = enqueue_many(store, 6)
    crm.stop()  # the CRM is down at first: connection refused
    worker = worker_for(engine, crm)
    start = utcnow()
    figures = worker.run_once(start)
    assert figures["claimed"] == 6 and figures["retrying"] == 6 and crm.requests == []
    assert "connection error" in message(engine, keys[0]).last_error

    crm.start()
    crm.plan = [500, 500, 503, "slow", 502]
    drain(worker, engine, start + timedelta(hours=1))

    assert set(statuses(engine).values()) == {DELIVERED}
    assert sorted(crm.accepted) == sorted(keys)  # each exactly once at the deduping receiver
    assert crm.bad_signatures == 0
    assert crm.duplicates == 1  # the slow answer timed out after the CRM had processed it
    assert len(crm.requests) == 6 + 5  # one per message, one more per scripted failure
    for request in crm.requests:
        verify(SECRET, request["headers"], request["body"])  # every attempt was signed
    delivered = crm.accepted[keys[0]]
    assert delivered["type"] == "lead.crm" and delivered["data"] == {"email": "p0@example.com", "stage": "sql"}
    assert delivered["id"] == keys[0] and delivered["lead_id"]


def test_a_4xx_is_parked_as_dead_and_an_admin_retry_sends_it_again(store, engine, crm):
    (key,) = enqueue_many(store, 1)
    crm.plan = [422]
    worker = worker_for(engine, crm)
    now = utcnow()
    assert worker.run_once(now)["dead"] == 1
    (dead,) = worker.dead_letters()
    assert dead["key"] == key and dead["last_status"] == 422 and dead["last_error"].startswith("HTTP 422")
    assert worker.run_once(now + timedelta(days=1))["claimed"] == 0  # parked: never retried on its own

    assert worker.retry(dead["id"]) is True
    assert worker.retry(dead["id"]) is False  # no longer dead
    assert worker.run_once()["delivered"] == 1
    assert list(crm.accepted) == [key] and len(crm.requests) == 2
    assert worker.dead_letters() == [] and statuses(engine) == {key: DELIVERED}


@pytest.mark.parametrize("answer", [408, (429, {"Retry-After": "120"})])
def test_408_and_429_are_retried_honouring_retry_after(store, engine, crm, answer):
    (key,) = enqueue_many(store, 1)
    crm.plan = [answer]
    worker = worker_for(engine, crm, backoff_base=1)
    now = utcnow()
    assert worker.run_once(now)["retrying"] == 1
    wait = (message(engine, key).next_attempt_at.replace(tzinfo=None) - now.replace(tzinfo=None)).total_seconds()
    if isinstance(answer, tuple):
        assert 120 <= wait <= 121
        assert worker.run_once(now + timedelta(seconds=60))["claimed"] == 0
        assert worker.run_once(now + timedelta(seconds=121))["delivered"] == 1
    else:
        assert 0 <= wait <= 1
        assert worker.run_once(now + timedelta(seconds=2))["delivered"] == 1
    assert list(crm.accepted) == [key]


def test_backoff_grows_exponentially_to_the_cap_then_gives_up(store, engine, crm):
    (key,) = enqueue_many(store, 1)
    crm.plan = [500] * 10
    worker = worker_for(engine, crm, rng=MaxJitter(), backoff_base=2, backoff_cap=20, max_attempts=6)
    now = utcnow()
    waits = []
    for _ in range(5):
        assert worker.run_once(now)["retrying"] == 1
        due = message(engine, key).next_attempt_at
        waits.append(round((due.replace(tzinfo=None) - now.replace(tzinfo=None)).total_seconds()))
        assert worker.run_once(now + timedelta(seconds=waits[-1] - 1))["claimed"] == 0  # not before it is due
        now += timedelta(seconds=waits[-1])
    assert waits == [2, 4, 8, 16, 20]
    assert worker.run_once(now)["dead"] == 1
    row = message(engine, key)
    assert row.status == DEAD and row.attempts == 6 and row.last_status == 500
    assert row.last_error.startswith("gave up after 6 attempts: HTTP 500")

    jittered = worker_for(engine, crm, backoff_base=2, backoff_cap=3600)
    for attempt in range(1, 16):
        assert 0 <= jittered.backoff(attempt) <= min(3600, 2 * 2 ** (attempt - 1))


def test_a_worker_killed_mid_delivery_is_replaced_after_its_lease_and_the_receiver_sees_it_once(store, engine, crm):
    (key,) = enqueue_many(store, 1)
    doomed = worker_for(engine, crm, lease=30)
    now = utcnow()
    (claim,) = doomed.claim(now)
    assert doomed.send(claim, now).ok  # the CRM got it ... and the worker dies before recording it

    other = worker_for(engine, crm, lease=30)
    assert other.run_once(now + timedelta(seconds=10))["claimed"] == 0  # the lease still holds
    assert other.run_once(now + timedelta(seconds=31))["delivered"] == 1
    assert len(crm.requests) == 2 and crm.duplicates == 1  # at least once on the wire ...
    assert list(crm.accepted) == [key]  # ... exactly once at the deduping receiver
    assert doomed.record(claim, doomed.send(claim, now), now) == "lost"  # a zombie changes nothing
    assert message(engine, key).attempts == 2 and statuses(engine) == {key: DELIVERED}


def test_two_workers_at_once_never_send_the_same_message(store, engine, crm):
    keys = enqueue_many(store, 30)
    workers = [worker_for(engine, crm, batch_size=4) for _ in range(3)]
    errors = []

    def run(worker):
        try:
            while PENDING in statuses(engine).values():
                worker.run_once()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    sent = [r["headers"]["webhook-id"] for r in crm.requests]
    assert sorted(sent) == sorted(keys)  # no message went out twice
    assert crm.duplicates == 0 and set(statuses(engine).values()) == {DELIVERED}


def test_an_enqueue_in_a_rolled_back_transaction_sends_nothing(store, engine, crm):
    with pytest.raises(RuntimeError), store.sessions.begin() as session:
        lead = Lead(email="gone@example.com", email_key="gone@example.com", stage="sql")
        session.add(lead)
        session.flush()
        enqueue(session, "crm", {"email": lead.email}, lead_id=lead.id, key="handoff-gone")
        session.flush()
        raise RuntimeError("the stage change failed")
    worker = worker_for(engine, crm)
    assert worker.run_once()["claimed"] == 0
    assert statuses(engine) == {} and crm.requests == []

    with store.sessions.begin() as session:  # committed: sent, and a second enqueue of the key is a no-op
        first = enqueue(session, "nurture", {"email": "kept@example.com"}, key="handoff-kept")
        assert enqueue(session, "nurture", {"email": "kept@example.com"}, key="handoff-kept") is first
    assert worker.run_once()["delivered"] == 1
    assert list(crm.accepted) == ["handoff-kept"] and crm.requests[0]["path"].endswith("/nurture")
    with pytest.raises(ValueError), store.sessions.begin() as session:
        enqueue(session, "fax", {})


def test_local_mode_appends_json_lines_and_marks_delivered(store, engine, tmp_path):
    keys = enqueue_many(store, 2) + enqueue_many_nurture(store)
    worker = DeliveryWorker(engine, Destinations.from_env({}, handoff_dir=tmp_path / "out"))
    assert worker.run_once() == {"claimed": 3, "delivered": 3, "retrying": 0, "dead": 0, "lost": 0}
    crm_lines = [json.loads(line) for line in (tmp_path / "out" / "handoff-crm.jsonl").read_text().splitlines()]
    nurture_lines = (tmp_path / "out" / "handoff-nurture.jsonl").read_text().splitlines()
    assert sorted(line["id"] for line in crm_lines) == sorted(keys[:2])
    assert crm_lines[0]["type"] == "lead.crm" and crm_lines[0]["data"]["stage"] == "sql"
    assert [json.loads(line)["id"] for line in nurture_lines] == keys[2:]
    assert set(statuses(engine).values()) == {DELIVERED}


def enqueue_many_nurture(store) -> list[str]:
    with store.sessions.begin() as session:
        return [enqueue(session, "nurture", {"email": "n@example.com"}).key]


def test_run_forever_delivers_until_stopped(store, engine, crm):
    keys = enqueue_many(store, 3)
    crm.plan = [500]
    worker = worker_for(engine, crm, backoff_base=0.05, backoff_cap=0.1)
    stop = threading.Event()
    thread = threading.Thread(target=worker.run_forever, args=(stop,), kwargs={"idle": 0.05})
    thread.start()
    deadline = time.monotonic() + 10
    while PENDING in statuses(engine).values() and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    thread.join(5)
    assert not thread.is_alive()
    assert sorted(crm.accepted) == sorted(keys)
