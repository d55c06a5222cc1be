"""Tracking intake throughput: events/s stored by the action server's /v1 intake, one call per
event and in batches, on SQLite and PostgreSQL (a real server process, HTTP keep-alive clients).

    .venv/bin/python bench/intake.py --events 20000 --clients 8 --batch 100
    .venv/bin/python bench/intake.py --smoke     # a few seconds, as CI runs it

Every event is a distinct page view of one of many anonymous visitors (so each is stored and
scored, not dropped as a duplicate); the figures count accepted events only.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import shlex
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import postgres_database, running_action_server  # noqa: E402

KEY = "bench-server-key"


def action_server(database_url: str, workdir: Path):
    """The action server on `database_url`, with the server key's rate limit out of the way."""
    return running_action_server(
        workdir,
        LEADQUAL_DATABASE_URL=database_url,
        LEADQUAL_WRITE_KEY=KEY,
        LEADQUAL_BROWSER_WRITE_KEY="pub_bench",
        LEADQUAL_INTAKE_SERVER_RATE="1000000",
        LEADQUAL_INTAKE_SERVER_BURST="1000000",
        LEADQUAL_LOG_LEVEL="WARNING",
    )


def page(n: int, run: str) -> dict:
    return {
        "type": "page",
        "anonymousId": f"bench-{run}-{n % 5000:05d}",
        "messageId": f"{run}-{n}",
        "properties": {"url": f"https://nubilo.example/{'precios' if n % 7 == 0 else 'blog'}/"},
    }


def send(url: str, events: int, clients: int, batch: int) -> dict:
    """Post `events` page views, one per call or `batch` per call, from `clients` keep-alive
    connections. The bodies are encoded beforehand and sent with http.client: on a 2-core
    machine, a heavier client (requests) takes as much CPU per call as the server does."""
    run = uuid.uuid4().hex[:8]
    calls = (
        [[page(n, run)] for n in range(events)]
        if batch == 1
        else [[page(n, run) for n in range(i, min(i + batch, events))] for i in range(0, events, batch)]
    )
    bodies = [json.dumps(body[0] if batch == 1 else {"batch": body}).encode() for body in calls]
    target = urlsplit(url)
    path = target.path + ("/page" if batch == 1 else "/batch")
    headers = {
        "Authorization": "Basic " + base64.b64encode(f"{KEY}:".encode()).decode(),
        "Content-Type": "application/json",
    }
    local = threading.local()

    def post(i: int) -> int:
        connection = getattr(local, "connection", None)
        if connection is None:
            connection = local.connection = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
        connection.request("POST", path, body=bodies[i], headers=headers)
        reply = connection.getresponse()
        data = reply.read()
        return json.loads(data).get("accepted", 0) if reply.status == 200 else 0

    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        accepted = sum(pool.map(post, range(len(calls))))
    seconds = time.perf_counter() - began
    return {
        "events": events,
        "accepted": accepted,
        "seconds": round(seconds, 2),
        "events_per_s": round(accepted / seconds),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--batch", type=int, default=100, help="events per batch call")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--smoke", action="store_true", help="a few hundred events on SQLite (CI)")
    args = parser.parse_args(argv)
    if args.smoke:
        args.events, args.clients, args.databases = 300, 2, "sqlite"
    print("command:", shlex.join([sys.executable, *sys.argv]))
    workdir = ROOT / "bench" / "out" / f"intake-{uuid.uuid4().hex[:8]}"
    workdir.mkdir(parents=True, exist_ok=True)
    failed = False
    for database in args.databases.split(","):
        with ExitStack() as resources:
            if database == "postgresql":
                url = resources.enter_context(postgres_database("leadqual_bench"))
            else:
                url = f"sqlite:///{workdir / 'intake.db'}"
            base, _log = resources.enter_context(action_server(url, workdir))
            intake = base + "/v1"
            send(intake, 50, 1, 1)  # warm-up
            for batch in (1, args.batch):
                figures = send(intake, args.events if batch > 1 else max(args.events // 4, 50), args.clients, batch)
                label = "single calls" if batch == 1 else f"batches of {batch}"
                load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
                print(
                    f"{database:<10} {label:<16} {figures['events_per_s']:>7} events/s "
                    f"({figures['accepted']}/{figures['events']} in {figures['seconds']} s, {args.clients} clients; "
                    f"load average {load})",
                    flush=True,
                )
                failed |= figures["accepted"] != figures["events"]
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
