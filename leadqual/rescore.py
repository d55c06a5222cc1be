"""Re-score every lead: after a config change, and as behaviour points decay with time.

`rescore_all` gives each lead exactly what `LeadStore._rescore` would (same breakdown, scores,
grade, sales_ready, stage move and `score_changes` rows, actor `rule:rescore`), but in chunks:

- leads are read in primary-key order, `batch_size` at a time (keyset pagination), with the
  chunk's events in one query;
- scores are computed in Python with `scoring.score_lead`, `scoring.score_changes` and
  `stages.stage_from_score`, on every CPU: the chunk is split between this process and
  `workers - 1` worker processes;
- only leads whose score, breakdown or stage changed are written, with one executemany UPDATE
  by primary key and bulk INSERTs of their `score_changes` and `stage_transitions` rows.

Each chunk is one transaction, with the chunk's leads locked (PostgreSQL `FOR UPDATE`, SQLite
`BEGIN IMMEDIATE`) so a save or event arriving meanwhile waits instead of interleaving. A crash
loses at most the chunk in progress, and running again at the same `now` writes nothing new.

After the score rules, the went-cold rule: an mql, sal or sql lead (whoever placed it) whose
last activity is older than `stages.recycle_after_days` goes back to "lead" (kind recycle,
reason went_cold, actor `rule:went_cold`). Opportunity and disqualified leads are never moved.

Unlike `_rescore`, a lead with nothing new keeps its `scored_at` (it is not written at all).

Speed: JSON columns and SQLite timestamps are read as text and decoded, like the new breakdown
is encoded, in the process that scores the lead; see bench/README.md for figures.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from multiprocessing import get_all_start_methods, get_context

from sqlalchemy import JSON, String, Text, bindparam, cast, insert, select, type_coerce, update

from leadqual import scoring
from leadqual.behaviour import Event
from leadqual.config import QualificationConfig
from leadqual.models import Lead, ScoreChange, StageTransition, TrackedEvent, utcnow
from leadqual.stages import Actor, advance, meets, stage_from_score

__all__ = ["DEFAULT_BATCH_SIZE", "RECYCLABLE", "rescore_all"]

DEFAULT_BATCH_SIZE = 2000
# Stages the went-cold rule recycles to "lead".
RECYCLABLE = ("mql", "sal", "sql")
# Chunks smaller than this are scored in this process only (a worker's round trip costs more).
MIN_PARALLEL = 500
# SQLite page cache while re-scoring, in KiB (negative = KiB in SQLite's terms).
SQLITE_CACHE_KIB = -65536

RESCORE_ACTOR = Actor.rule("rescore")
WENT_COLD_ACTOR = Actor.rule("went_cold")

_LEADS = Lead.__table__
_EVENTS = TrackedEvent.__table__
_TRANSITION_FIELDS = ("from_stage", "to_stage", "kind", "actor_type", "actor_id", "reason", "note", "at")
_SCORE_FIELDS = ("fit_score", "behaviour_score", "total_score", "grade", "config_version", "sales_ready")


def _raw(column):
    """The column as the database stores it: JSON as text, SQLite timestamps as text."""
    if isinstance(column.type, JSON):
        return cast(column, Text).label(column.key)
    return type_coerce(column, String).label(column.key)


# id, answers, profile, score_breakdown, fit, behaviour, total, grade, sales_ready, config_version,
# stage, stage_actor, last_activity_at
_LEAD_QUERY = select(
    _LEADS.c.id,
    _raw(_LEADS.c.answers),
    _raw(_LEADS.c.profile),
    _raw(_LEADS.c.score_breakdown),
    *(_LEADS.c[name] for name in _SCORE_FIELDS[:4]),
    _LEADS.c.sales_ready,
    _LEADS.c.config_version,
    _LEADS.c.stage,
    _LEADS.c.stage_actor,
    _raw(_LEADS.c.last_activity_at),
).order_by(_LEADS.c.id)
# lead_id, name, timestamp, properties, url, message_id; arrival order, as the store reads them.
_EVENT_QUERY = select(
    _EVENTS.c.lead_id,
    _EVENTS.c.name,
    _raw(_EVENTS.c.timestamp),
    _raw(_EVENTS.c.properties),
    _EVENTS.c.url,
    _EVENTS.c.message_id,
).order_by(_EVENTS.c.id)


def rescore_all(
    store,
    now: datetime | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Callable[[int], object] | None = None,
    workers: int | None = None,
) -> dict:
    """Re-score every lead of `store` (a LeadStore, with its config) as of `now` (tz-aware,
    default: the current time) and apply the went-cold rule.

    `progress(n)` is called after each committed chunk with the number of leads it held
    (e.g. a tqdm bar's `update`). `workers`: processes that score (default: one per CPU,
    at most 4; 1 = this process only).

    Returns the figures: leads (read), changed (leads written), score_changes (rows written),
    stage_moves (moves by the score rules), recycled (went-cold moves), seconds.
    """
    now = now or utcnow()
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    now = now.astimezone(timezone.utc)  # stored as UTC, as the store does (SQLite would drop the offset)
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    workers = workers or min(os.cpu_count() or 1, 4)
    started = time.perf_counter()
    figures = {"leads": 0, "changed": 0, "score_changes": 0, "stage_moves": 0, "recycled": 0}
    phases = dict.fromkeys(("read", "score", "write", "commit"), 0.0)
    writer = _Writer(store.engine.dialect.name)
    pool: Executor | None = None
    after: str | None = None
    with store.engine.connect() as conn, _tuned(conn, writer.dialect):
        try:
            while True:
                clock = time.perf_counter()
                transaction = conn.begin()
                try:
                    leads, events = _read_chunk(conn, writer.dialect, after, batch_size)
                    if not leads:
                        transaction.rollback()
                        break
                    phases["read"] += time.perf_counter() - clock
                    clock = time.perf_counter()
                    parts = _split([(tuple(lead), events[lead[0]]) for lead in leads], workers)
                    if len(parts) > 1 and pool is None:
                        pool = _pool(workers - 1, store.config)
                    futures = [pool.submit(_score_part, None, part, now) for part in parts[1:]] if pool else []
                    results = [_score_part(store.config, parts[0], now)] + [f.result() for f in futures]
                    phases["score"] += time.perf_counter() - clock
                    clock = time.perf_counter()
                    for result in results:
                        writer.write(conn, result, now)
                    phases["write"] += time.perf_counter() - clock
                    clock = time.perf_counter()
                    transaction.commit()
                    phases["commit"] += time.perf_counter() - clock
                except BaseException:
                    if transaction.is_active:
                        transaction.rollback()
                    raise
                for result in results:
                    for key in ("changed", "score_changes", "stage_moves", "recycled"):
                        figures[key] += result[key]
                after = leads[-1][0]
                figures["leads"] += len(leads)
                if progress is not None:
                    progress(len(leads))
        finally:
            if pool is not None:
                pool.shutdown(cancel_futures=True)
    figures["seconds"] = round(time.perf_counter() - started, 3)
    figures["phases"] = {name: round(value, 3) for name, value in phases.items()}
    return figures


def _read_chunk(conn, dialect: str, after: str | None, batch_size: int) -> tuple[list, dict[str, list[tuple]]]:
    """The next `batch_size` leads after `after` (locked), and their events by lead id."""
    if dialect == "sqlite":
        # Take the write lock before reading, so the chunk is read and written as one.
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    query = _LEAD_QUERY.limit(batch_size)
    if after is not None:
        query = query.where(_LEADS.c.id > after)
    if dialect == "postgresql":
        query = query.with_for_update()
    leads = conn.execute(query).all()
    events: dict[str, list[tuple]] = {lead[0]: [] for lead in leads}
    if leads:
        for row in conn.execute(_EVENT_QUERY.where(_EVENTS.c.lead_id.in_(list(events)))).all():
            events[row[0]].append(tuple(row[1:]))
    return leads, events


@contextmanager
def _tuned(conn, dialect: str):
    """SQLite: a bigger page cache while this connection rewrites many rows (restored after)."""
    if dialect != "sqlite":
        yield
        return
    previous = conn.exec_driver_sql("PRAGMA cache_size").scalar()
    conn.exec_driver_sql(f"PRAGMA cache_size={SQLITE_CACHE_KIB}")
    conn.commit()
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size={int(previous)}")
        conn.commit()


def _split(items: list, workers: int) -> list[list]:
    if workers < 2 or len(items) < MIN_PARALLEL:
        return [items]
    size = -(-len(items) // workers)
    return [items[i : i + size] for i in range(0, len(items), size)]


# -- scoring (in this process or a worker) ------------------------------------------------

_worker_config: QualificationConfig | None = None


def _init_worker(config: QualificationConfig) -> None:
    global _worker_config
    _worker_config = config


def _pool(size: int, config: QualificationConfig) -> ProcessPoolExecutor:
    # fork starts at once (no re-import); the workers never touch the parent's connections.
    method = "fork" if "fork" in get_all_start_methods() else None
    return ProcessPoolExecutor(size, mp_context=get_context(method), initializer=_init_worker, initargs=(config,))


def _json(value: str | dict | list | None):
    if value is None or not isinstance(value, str):
        return value
    return {} if value == "{}" else json.loads(value)


def _moment(value: str | datetime | None) -> datetime | None:
    """A timestamp as SQLAlchemy would hand it back, made aware like leads._aware does."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)


def _score_part(config: QualificationConfig | None, part: list, now: datetime) -> dict:
    """Score leads as `LeadStore._rescore` does; the rows to write and the counts."""
    config = config or _worker_config
    version = config.version
    rules = config.stages
    days = rules.recycle_after_days
    cold_before = now - timedelta(days=days) if days is not None else None
    score_rows, stage_rows, changes, transitions = [], [], [], []
    stage_moves = recycled = 0
    for lead, lead_events in part:
        (lead_id, answers, profile, breakdown, fit, behaviour, total, grade, sales_ready) = lead[:9]
        config_version, stage, stage_actor, last_activity = lead[9:]
        events = [
            Event(name, _moment(at), _json(properties) or {}, url, message_id)
            for name, at, properties, url, message_id in lead_events
        ]
        score = scoring.score_lead(_json(answers) or {}, _json(profile) or {}, events, config, now)
        before = _json(breakdown) or []
        lead_changes = scoring.score_changes(before, score.lines, version)
        ready = meets(rules.sql, score.total, score.qualifies)
        moves = []
        previous_total = total or 0
        stage, stage_actor = stage or "lead", stage_actor or "bot"
        move = stage_from_score(
            score.total, score.qualifies, rules, stage, stage_actor, previous_total, now, RESCORE_ACTOR
        )
        if move is not None:
            moves.append(move)
            stage, stage_actor = move.to_stage, "score"
            stage_moves += 1
        last_activity = _moment(last_activity)
        if (
            cold_before is not None
            and stage in RECYCLABLE
            and last_activity is not None
            and last_activity < cold_before
        ):
            note = f"no activity since {last_activity.date().isoformat()} (more than {days:g} days)"
            moves.append(advance(stage, "lead", WENT_COLD_ACTOR, "went_cold", now, note))
            stage, stage_actor = "lead", WENT_COLD_ACTOR.type
            recycled += 1
        new = (score.fit, score.behaviour, score.total, score.grade, version, ready)
        if (
            not lead_changes
            and not moves
            and new == (fit, behaviour, previous_total, grade, config_version, bool(sales_ready))
        ):
            if score.lines == before:
                continue
        row = dict(zip(_SCORE_FIELDS, new, strict=True))
        row.update(b_id=lead_id, b_breakdown=json.dumps(score.lines))
        if moves:
            row.update(stage=stage, stage_actor=stage_actor, stage_changed_at=moves[-1].at)
            stage_rows.append(row)
        else:
            score_rows.append(row)
        for change in lead_changes:
            change.update(lead_id=lead_id, at=now)
            changes.append(change)
        for move in moves:
            transitions.append({"lead_id": lead_id, **{field: getattr(move, field) for field in _TRANSITION_FIELDS}})
    return {
        "score_rows": score_rows,
        "stage_rows": stage_rows,
        "changes": changes,
        "transitions": transitions,
        "changed": len(score_rows) + len(stage_rows),
        "score_changes": len(changes),
        "stage_moves": stage_moves,
        "recycled": recycled,
    }


# -- writing ------------------------------------------------------------------------------


class _Writer:
    """Bulk statements for one dialect: UPDATE by primary key (executemany) and INSERTs."""

    def __init__(self, dialect: str) -> None:
        self.dialect = dialect
        # The other columns are SET from the rows' keys; the breakdown arrives as JSON text.
        breakdown = bindparam("b_breakdown", type_=Text)
        if dialect == "postgresql":
            breakdown = cast(breakdown, JSON)
        self.update = update(_LEADS).where(_LEADS.c.id == bindparam("b_id")).values(score_breakdown=breakdown)

    def write(self, conn, result: dict, now: datetime) -> None:
        written_at = utcnow()
        for rows in (result["score_rows"], result["stage_rows"]):
            if rows:
                for row in rows:
                    row["scored_at"], row["updated_at"] = now, written_at
                conn.execute(self.update, rows)
        if result["changes"]:
            conn.execute(insert(ScoreChange.__table__), result["changes"])
        if result["transitions"]:
            conn.execute(insert(StageTransition.__table__), result["transitions"])
