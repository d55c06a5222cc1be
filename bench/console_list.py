"""Time the SDR console's lead list on many leads: seed N leads (bulk inserts, not timed), then time
the queries the list page makes (first page, a deep page, each filter, search) and print the median
of several runs, with the command that produced them.

Run:  .venv/bin/python bench/console_list.py [--leads 100000] [--database-url URL] [--runs 7]
Without --database-url the leads go to a fresh SQLite file, var/bench-console.db (replaced). With
one (e.g. a PostgreSQL database made for the run) the leads table must be empty or absent.
"""

from __future__ import annotations

import argparse
import random
import shlex
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, text  # noqa: E402

import leadqual.console.app  # noqa: E402, F401 - the console's tables are part of the schema
from leadqual.console.queries import LeadFilter, list_leads  # noqa: E402
from leadqual.db.tables import Lead, new_id  # noqa: E402
from leadqual.leads.store import LeadStore  # noqa: E402

DEFAULT_SQLITE = ROOT / "var" / "bench-console.db"
START = datetime(2026, 1, 1, tzinfo=timezone.utc)
COMPANIES = ["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark", "Wayne", "Wonka", "Tyrell", "Cyberdyne"]


def seed(store: LeadStore, count: int, rng: random.Random) -> None:
    stages = ["lead"] * 6 + ["mql"] * 3 + ["sal", "sql", "opportunity", "disqualified"]
    owners = [None, None, "lucia", "diego", "emma"]
    rows = []
    with store.engine.begin() as conn:
        for i in range(count):
            rows.append(
                {
                    "id": new_id(),
                    "email": f"person{i}@{rng.choice(COMPANIES).lower()}{i % 997}.com",
                    "email_key": None,
                    "name": f"Person {i}",
                    "company": f"{rng.choice(COMPANIES)} {i % 997}",
                    "language": rng.choice(["es", "es", "en"]),
                    "stage": rng.choice(stages),
                    "grade": rng.choice("ABCD") + rng.choice("123"),
                    "total_score": rng.randint(0, 120),
                    "fit_score": 0,
                    "behaviour_score": 0,
                    "owner": rng.choice(owners),
                    "created_at": START + timedelta(minutes=rng.randint(0, 60 * 24 * 300)),
                    "profile": {},
                    "answers": {},
                    "score_breakdown": [],
                }
            )
            rows[-1]["email_key"] = rows[-1]["email"]
            if len(rows) == 5000:
                conn.execute(insert(Lead), rows)
                rows = []
        if rows:
            conn.execute(insert(Lead), rows)
    if store.engine.dialect.name == "postgresql":
        with store.engine.begin() as conn:
            conn.execute(text("ANALYZE leads"))


def timed(runs: int, work) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--database-url")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    url = args.database_url
    if not url:
        DEFAULT_SQLITE.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(str(DEFAULT_SQLITE) + suffix).unlink(missing_ok=True)
        url = f"sqlite:///{DEFAULT_SQLITE}"
    store = LeadStore(url)
    store.create_schema()
    started = time.perf_counter()
    seed(store, args.leads, random.Random(7))
    print(f"seeded {args.leads} leads in {time.perf_counter() - started:.1f} s ({store.engine.dialect.name})")

    deep = None
    page = list_leads(store, LeadFilter())
    for _ in range(40):  # 40 pages in: keyset pages cost what the first does
        page = list_leads(store, LeadFilter(), after=page.next_cursor, count=False)
    deep = page.next_cursor
    cases = [
        ("first page (50, with count)", LeadFilter(), None),
        ("page 41 (keyset)", LeadFilter(), deep),
        ("stage=mql", LeadFilter(stage="mql"), None),
        ("grade=A1", LeadFilter(grade="A1"), None),
        ("owner=lucia", LeadFilter(owner="lucia"), None),
        ("owner=unassigned", LeadFilter(owner="-"), None),
        ("language=en", LeadFilter(language="en"), None),
        ("created in March", LeadFilter.parse({"created_from": "2026-03-01", "created_to": "2026-03-31"}), None),
        ("stage+owner+language", LeadFilter(stage="sql", owner="emma", language="en"), None),
        ("search 'globex 12'", LeadFilter(q="globex 12"), None),
        ("search email 'person4242@'", LeadFilter(q="person4242@"), None),
    ]
    print(f"{'query':<32} {'median ms':>10} {'matches':>8}")
    for label, lead_filter, after in cases:
        result = list_leads(store, lead_filter, after=after)
        ms = timed(args.runs, lambda lf=lead_filter, a=after: list_leads(store, lf, after=a))
        print(f"{label:<32} {ms:>10.1f} {result.total:>8}")
    # The inbox (an SDR's landing view): waiting chats, new and unaccepted leads first, then by grade.
    since = START + timedelta(days=200)
    inbox = list_leads(store, LeadFilter(), view="inbox", sdr_id="lucia", new_since=since)
    for _ in range(40):
        inbox = list_leads(store, LeadFilter(), after=inbox.next_cursor, count=False, view="inbox", sdr_id="lucia")
    inbox_cases = [
        ("inbox of lucia, first page", None),
        ("inbox of lucia, page 41", inbox.next_cursor),
    ]
    for label, after in inbox_cases:
        result = list_leads(store, LeadFilter(), after=after, view="inbox", sdr_id="lucia", new_since=since)
        ms = timed(
            args.runs,
            lambda a=after: list_leads(store, LeadFilter(), after=a, view="inbox", sdr_id="lucia", new_since=since),
        )
        print(f"{label:<32} {ms:>10.1f} {result.total:>8}")
    print("command: " + shlex.join([Path(sys.executable).name, *sys.argv]))
    store.engine.dispose()


if __name__ == "__main__":
    main()
