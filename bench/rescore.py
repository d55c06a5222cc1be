"""Time `rescore_all` on many leads: seed N scored leads with answers and events, then re-score
them a week later (decay) and print leads, seconds and leads/s.

Run:  .venv/bin/python bench/rescore.py [--leads 100000] [--database-url URL] [--profile]
Without --database-url the leads go to a fresh SQLite file, var/bench-rescore.db (replaced).
With one (e.g. a PostgreSQL database made for the run) the leads tables must be empty or
absent. Seeding uses bulk inserts, not the store API, and is not timed.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import random
import resource
import shlex
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, select  # noqa: E402

from leadqual.db.tables import Lead, ScoreChange, StageTransition, TrackedEvent, new_id  # noqa: E402
from leadqual.leads.rescore import rescore_all  # noqa: E402
from leadqual.leads.store import LeadStore  # noqa: E402
from leadqual.scoring import fit as scoring  # noqa: E402
from leadqual.scoring.behaviour import Event  # noqa: E402
from leadqual.scoring.stages import meets, score_stage  # noqa: E402

SEEDED_AT = datetime(2026, 6, 1, tzinfo=timezone.utc)
DEFAULT_SQLITE = ROOT / "var" / "bench-rescore.db"

BUDGETS = [
    None,
    {"min": 10000.0, "max": 10000.0, "currency": "EUR", "period": "year", "none": False, "unknown": False},
    {"min": None, "max": 3000.0, "currency": "EUR", "period": "year", "none": False, "unknown": False},
    {"min": 500.0, "max": 800.0, "currency": "USD", "period": "month", "none": False, "unknown": False},
    {"none": True, "unknown": False},
]
AUTHORITIES = [None, {"level": "decision_maker"}, {"level": "influencer"}, {"level": "none"}]
NEEDS = [None, {"value": "crm"}, {"value": "something-else"}]
TIMINGS = [None, {"months": 0, "no_rush": False}, {"months": 4, "no_rush": False}, {"no_rush": True}]
PROFILES = [
    {},
    {"country": "ES", "company_size": 40, "job_title": "Director de ventas"},
    {"country": "MX", "company_size": 300},
    {"country": "JP", "job_title": "CEO"},
]
PAGES = [
    ("page", "https://nubilo.es/precios"),
    ("page", "https://nubilo.es/blog/crm-para-pymes"),
    ("page", "https://nubilo.es/lp/demo"),
    ("page", "https://nubilo.es/pricing"),
    ("demo_request", None),
    ("cta_click", None),
    ("email_reply", None),
    ("newsletter_signup", None),
]


def seed(store: LeadStore, count: int, rng: random.Random, chunk: int = 5000) -> int:
    """Insert `count` leads scored as of SEEDED_AT, each with 1-6 events; the number of events."""
    config = store.config
    events_total = 0
    for start in range(0, count, chunk):
        leads, events = [], []
        for i in range(start, min(count, start + chunk)):
            lead_id = new_id()
            answers = {}
            for slot, options in (
                ("budget", BUDGETS),
                ("authority", AUTHORITIES),
                ("need", NEEDS),
                ("timing", TIMINGS),
            ):
                value = rng.choice(options)
                if value is not None:
                    answers[slot] = {**value, "text": slot, "source": "text"}
            profile = rng.choice(PROFILES)
            lead_events = []
            for n in range(rng.randint(1, 6)):
                name, url = rng.choice(PAGES)
                at = SEEDED_AT - timedelta(days=rng.uniform(0, 120))
                lead_events.append(Event(name, at, {}, url, f"bench-{i}-{n}"))
            score = scoring.score_lead(answers, profile, lead_events, config, SEEDED_AT)
            last_activity = max(e.timestamp for e in lead_events)
            leads.append(
                {
                    "id": lead_id,
                    "email": f"lead{i}@bench.example",
                    "email_key": f"lead{i}@bench.example",
                    "language": "es",
                    "answers": answers,
                    "profile": profile,
                    "stage": score_stage(score.total, score.qualifies, config.stages),
                    "stage_actor": "bot",
                    "sales_ready": meets(config.stages.sql, score.total, score.qualifies),
                    "fit_score": score.fit,
                    "behaviour_score": score.behaviour,
                    "total_score": score.total,
                    "grade": score.grade,
                    "score_breakdown": score.lines,
                    "config_version": config.version,
                    "scored_at": SEEDED_AT,
                    "last_activity_at": last_activity,
                    "created_at": SEEDED_AT - timedelta(days=120),
                    "updated_at": SEEDED_AT,
                }
            )
            events.extend(event_row(lead_id, e) for e in lead_events)
        with store.engine.begin() as conn:
            conn.execute(insert(Lead.__table__), leads)
            conn.execute(insert(TrackedEvent.__table__), events)
        events_total += len(events)
    return events_total


def event_row(lead_id: str, event: Event) -> dict:
    """The `tracked_events` row of a lead's scored event, for bulk seeding."""
    return {
        "message_id": event.message_id,
        "type": "page" if event.name == "page" else "track",
        "name": event.name,
        "url": event.url,
        "anonymous_id": None,
        "user_id": None,
        "lead_id": lead_id,
        "properties": {},
        "timestamp": event.timestamp,
        "received_at": event.timestamp,
        "source": "server",
    }


def settle(store: LeadStore) -> None:
    """Bring the just-seeded database to rest, as a live one is between two daily runs: its
    writes flushed to disk (the seeding leaves hundreds of MB for the kernel to write while the
    run is timed), SQLite's WAL copied back, PostgreSQL's tables vacuumed and analyzed (as
    autovacuum would have done) and checkpointed."""
    started = time.perf_counter()
    with store.engine.connect() as conn:
        if store.engine.dialect.name == "postgresql":
            # VACUUM runs outside a transaction. SQLAlchemy's option (not the driver's attribute)
            # is undone when the connection goes back to the pool, for the timed run to reuse.
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            conn.exec_driver_sql("VACUUM ANALYZE")
            conn.exec_driver_sql("CHECKPOINT")
        else:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").all()
            conn.commit()
    os.sync()
    print(f"settled (vacuum, checkpoint, sync) in {time.perf_counter() - started:.1f} s", file=sys.stderr)


def _cpu() -> tuple[float, float]:
    """CPU seconds (user + system) of this process and of its finished child processes."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def _server_cpu(dialect: str) -> float | None:
    """CPU seconds used so far by the local PostgreSQL server's processes (from /proc; None
    elsewhere, or for SQLite, which runs in this process)."""
    if dialect != "postgresql" or not Path("/proc").is_dir():
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # gone meanwhile
            continue
        name, fields = text[text.index("(") + 1 : text.rindex(")")], text[text.rindex(")") + 2 :].split()
        if name.startswith("postgres"):
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def _load(load: tuple[float, float, float]) -> str:
    return " ".join(f"{value:.2f}" for value in load)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--database-url", help=f"SQLAlchemy URL of an empty database (default: {DEFAULT_SQLITE})")
    parser.add_argument("--batch-size", type=int, default=2000)
    parser.add_argument("--days", type=float, default=7, help="re-score this many days after seeding (decay)")
    parser.add_argument("--workers", type=int, help="scoring processes (default: one per CPU, at most 4)")
    parser.add_argument("--profile", action="store_true", help="print the top cProfile entries of the timed run")
    parser.add_argument("--full", action="store_true", help="score every lead in full, as after a config change")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--no-settle", action="store_true", help="time the run right after seeding, without flushing or vacuuming"
    )
    args = parser.parse_args(argv)
    command = shlex.join([".venv/bin/python", "bench/rescore.py", *(sys.argv[1:] if argv is None else argv)])

    url = args.database_url
    if url is None:
        DEFAULT_SQLITE.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{DEFAULT_SQLITE}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{DEFAULT_SQLITE}"
    store = LeadStore(url)
    store.create_schema()
    with store.sessions() as session:
        if session.scalar(select(func.count()).select_from(Lead)):
            parser.error("the database already has leads; give an empty one")

    started = time.perf_counter()
    events = seed(store, args.leads, random.Random(args.seed))
    print(f"seeded {args.leads} leads and {events} events in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    if not args.no_settle:
        settle(store)

    now = SEEDED_AT + timedelta(days=args.days)
    profiler = cProfile.Profile() if args.profile else None
    load_before = os.getloadavg()
    cpu_before = _cpu()
    dialect = store.engine.dialect.name
    server_before = _server_cpu(dialect)
    if profiler:
        profiler.enable()
    figures = rescore_all(store, now=now, batch_size=args.batch_size, workers=args.workers, full=args.full)
    if profiler:
        profiler.disable()
    cpu = [after - before for after, before in zip(_cpu(), cpu_before, strict=True)]
    server_after = _server_cpu(dialect)
    load_after = os.getloadavg()
    with store.sessions() as session:
        changes = session.scalar(select(func.count()).select_from(ScoreChange))
        transitions = session.scalar(select(func.count()).select_from(StageTransition))
    rerun = rescore_all(store, now=now, batch_size=args.batch_size, workers=args.workers)
    store.engine.dispose()

    seconds = figures["seconds"]
    print(f"database:    {store.engine.url.render_as_string(hide_password=True)} ({store.engine.dialect.name})")
    print(f"leads:       {figures['leads']} ({events} events), re-scored {args.days:g} days after seeding")
    print(f"seconds:     {seconds:.2f}")
    print(f"leads/s:     {figures['leads'] / seconds:,.0f}")
    print("phases (s):  " + ", ".join(f"{name} {value:.2f}" for name, value in figures["phases"].items()))
    server = (
        f"the database server {server_after - server_before:.1f}"
        if server_before is not None and server_after is not None
        else "the database server not counted (SQLite runs in these processes)"
    )
    print(f"cpu (s):     this process {cpu[0]:.1f}, scoring processes {cpu[1]:.1f}, {server}")
    print(f"load avg:    {_load(load_before)} before, {_load(load_after)} after (1, 5, 15 min; {os.cpu_count()} CPUs)")
    print(f"decay only:  {figures['decay_only']} leads scored from their breakdown, the rest in full")
    print(
        f"written:     {figures['changed']} leads, {changes} score changes, {transitions} stage transitions "
        f"({figures['stage_moves']} score moves, {figures['recycled']} went cold), {figures['retried']} retried"
    )
    print(f"rerun:       {rerun['seconds']:.2f} s at the same time, {rerun['changed']} leads written")
    print(f"command:     {command}")
    if profiler:
        pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(25)
    return 0


if __name__ == "__main__":
    sys.exit(main())
