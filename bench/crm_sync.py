"""Backfill N sales-ready leads into the local HubSpot server (tests/fakes/hubspot_api.py) at its
rate limit, through the outbox and the real HubSpot connector: the time it takes, the calls used
against the limit, how much of the allowed throughput the batching used, and the 429s.

Run:  .venv/bin/python bench/crm_sync.py [--leads 10000] [--rate 100/10] [--workers 1] [--database-url URL]

The leads' packets are written to the outbox with bulk inserts (not timed), as a handoff leaves
them; then `--workers` delivery workers (threads, one shared rate budget in the database) send
them until the outbox is empty. HubSpot's limit for a private app on the lowest tiers is 100
calls per 10 seconds; each batch of 100 contacts takes two calls (the upsert and its notes).
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import shlex
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, select  # noqa: E402

from leadqual.config.marketing import load_qualification  # noqa: E402
from leadqual.db import schema  # noqa: E402
from leadqual.db.tables import DELIVERED, PENDING, OutboxMessage, new_id  # noqa: E402
from leadqual.delivery import connectors  # noqa: E402
from leadqual.delivery.outbox import DeliveryWorker, Destinations  # noqa: E402
from leadqual.leads.store import LeadStore  # noqa: E402
from tests.fakes.hubspot_api import HubSpotServer  # noqa: E402

SDRS = [
    {"email": "lucia.fernandez@nubilo.es", "firstName": "Lucía", "lastName": "Fernández"},
    {"email": "diego.ramirez@nubilo.es", "firstName": "Diego", "lastName": "Ramírez"},
    {"email": "emma.clarke@nubilo.es", "firstName": "Emma", "lastName": "Clarke"},
]


def packet(i: int, rng: random.Random) -> dict:
    total = rng.randint(80, 140)
    return {
        "lead_id": f"bench{i:07d}",
        "contact": {
            "email": f"lead{i}@bench.example",
            "name": f"Lead {i} Bench",
            "company": f"Company {i % 997}",
            "language": "es" if i % 3 else "en",
        },  # fmt: skip
        "profile": {},
        "stage": "sql",
        "grade": "A1",
        "scores": {"fit": total - 20, "behaviour": 20, "total": total},
        "bant": {
            "budget": {"min": 10000, "max": None, "currency": "EUR", "period": "year"},
            "authority": {"level": "decision_maker"},
            "need": {"value": "crm"},
            "timing": {"months": 3},
        },
        "score_breakdown": [
            {"value": 30, "reason": "budget 10000 EUR/year >= minimum 5000 EUR/year"},
            {"value": 30, "reason": "decision_maker"},
            {"value": 20, "reason": "need crm"},
        ],
        "owner": {"sdr": ("lucia", "diego", "emma")[i % 3], "queue": None, "rule": "handoff.round_robin"},
        "transcripts": [
            {"messages": [{"sender": "user", "text": "quiero una demo"}, {"sender": "bot", "text": "¡Claro!"}]}
        ],
        "links": {},
    }


def serve(rate: tuple[int, float], commands, answers) -> None:
    """The HubSpot server's process: its address, then counts of calls and 429s on request."""
    with HubSpotServer(owners=SDRS, rate_limit=rate, daily_limit=10**9) as hs:
        answers.put((hs.url, hs.token))
        while True:
            command = commands.get()
            if command == "reset":
                hs.requests.clear()
                answers.put("ok")
            elif command == "stats":
                answers.put((len(hs.requests), sum(1 for r in hs.requests if r["status"] == 429)))
            else:
                return


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=10000)
    parser.add_argument("--rate", default="100/10", help="calls/seconds, HubSpot's limit (default 100/10)")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--database-url", help="default: a fresh SQLite file, var/bench-crm.db")
    args = parser.parse_args()
    calls, seconds = (float(x) for x in args.rate.split("/"))
    rate = (int(calls), seconds)
    url = args.database_url
    if url is None:
        path = ROOT / "var" / "bench-crm.db"
        path.parent.mkdir(exist_ok=True)
        path.unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    config = load_qualification()
    store = LeadStore(url, config=config)
    schema.upgrade(store.engine)
    rng = random.Random(7)
    now = datetime.now(timezone.utc)
    rows = [
        {"id": new_id(), "key": f"crm-bench-{i}", "kind": "crm", "destination": "crm", "payload": packet(i, rng),
         "status": PENDING, "attempts": 0, "next_attempt_at": now, "created_at": now, "lead_id": f"bench{i:07d}"}
        for i in range(args.leads)
    ]  # fmt: skip
    with store.engine.begin() as conn:
        for start in range(0, len(rows), 2000):
            conn.execute(insert(OutboxMessage), rows[start : start + 2000])

    # The HubSpot server runs in a process of its own, as HubSpot does: in this one it would take
    # the workers' interpreter lock and slow them down.
    context = multiprocessing.get_context("spawn")
    to_server, from_server = context.Queue(), context.Queue()
    server = context.Process(target=serve, args=(rate, to_server, from_server), daemon=True)
    server.start()
    url, token = from_server.get(timeout=60)
    try:
        environ = {"LEADQUAL_HUBSPOT_TOKEN": token, "LEADQUAL_HUBSPOT_API_URL": url}
        syncs = [connectors.hubspot(store.engine, config, environ=environ, rate=rate) for _ in range(args.workers)]
        assert syncs[0].check(create=True).ok
        to_server.put("reset")
        from_server.get(timeout=60)
        workers = [
            DeliveryWorker(store.engine, Destinations.from_env(environ={}).with_connector("crm", sync))
            for sync in syncs
        ]
        started = time.perf_counter()

        def drain(worker: DeliveryWorker) -> None:
            while worker.run_once()["claimed"]:
                pass

        if len(workers) == 1:
            drain(workers[0])
        else:
            threads = [threading.Thread(target=drain, args=(w,)) for w in workers]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        elapsed = time.perf_counter() - started
        to_server.put("stats")
        calls_made, too_many = from_server.get(timeout=60)
    finally:
        to_server.put("stop")
        server.join(timeout=30)
    with store.sessions() as session:
        delivered = session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == DELIVERED)
        )
    allowed = rate[0] / rate[1]
    used = calls_made / elapsed
    waited = sum(s.client.budget.waited for s in syncs)
    print(
        f"leads: {args.leads}  delivered: {delivered}  workers: {args.workers}  limit: {rate[0]} calls / {rate[1]:g} s"
    )
    print(f"time: {elapsed:.1f} s  ({delivered / elapsed:.0f} leads/s)")
    print(f"calls: {calls_made}  ({used:.2f}/s of {allowed:.2f}/s allowed: {100 * used / allowed:.0f}%)")
    print(f"429 answers: {too_many}  time waiting for the shared budget: {waited:.1f} s")
    print("command: .venv/bin/python " + " ".join(shlex.quote(a) for a in sys.argv))
    return 0 if delivered == args.leads else 1


if __name__ == "__main__":
    raise SystemExit(main())
