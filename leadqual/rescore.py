"""Re-score every lead: after a config change, and as behaviour points decay with time.

`rescore_all` gives each lead exactly what `LeadStore._rescore` would (same breakdown, scores,
grade, sales_ready, stage move and `score_changes` rows, actor `rule:rescore`), for many leads
at a time:

- leads are read in primary-key order, `batch_size` at a time (keyset pagination), with all
  the chunk's events in one query;
- they are scored with `scoring.score_lead`, `scoring.score_changes` and
  `stages.stage_from_score` in worker processes, while this process writes the chunk before;
- only leads whose score, breakdown or stage changed are written: one executemany UPDATE by
  primary key, and bulk INSERTs of their `score_changes` and `stage_transitions` rows, in one
  transaction per chunk. A crash loses at most the chunk being written; running again at the
  same `now` writes nothing new.

Leads are not locked while they are scored. The chunk's transaction locks them (PostgreSQL
`FOR NO KEY UPDATE`, as the store does; SQLite `BEGIN IMMEDIATE`) and checks that their
`updated_at` is still the one read: a lead that a save, an event or a person changed meanwhile
is left out, then read and scored again under the lock at the end (`retried` in the figures).
The store updates a lead's row whenever its answers, profile, events or stage change.

After the score rules, the went-cold rule: an mql, sal or sql lead (whoever placed it) whose
last activity is older than `stages.recycle_after_days` goes back to "lead" (kind recycle,
reason went_cold, actor `rule:went_cold`). Opportunity and disqualified leads are never moved.

Unlike `_rescore`, a lead with nothing new keeps its `scored_at` (it is not written at all).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from multiprocessing import get_all_start_methods, get_context

from sqlalchemy import JSON, String, Text, bindparam, cast, insert, select, type_coerce, update
from sqlalchemy.orm import Session

from leadqual import scoring
from leadqual.behaviour import Event
from leadqual.config import QualificationConfig
from leadqual.models import Lead, ScoreChange, StageTransition, TrackedEvent, utcnow
from leadqual.stages import Actor, advance, meets, stage_from_score

__all__ = ["DEFAULT_BATCH_SIZE", "RECYCLABLE", "rescore_all"]

DEFAULT_BATCH_SIZE = 2000
# Stages the went-cold rule recycles to "lead".
RECYCLABLE = ("mql", "sal", "sql")
# Worker processes start with the first chunk at least this big; smaller runs score in-process.
MIN_PARALLEL = 500
# SQLite while re-scoring: page cache (negative = KiB), and chunks between WAL checkpoints.
SQLITE_CACHE_KIB = -65536
CHECKPOINT_EVERY = 10

RESCORE_ACTOR = Actor.rule("rescore")
WENT_COLD_ACTOR = Actor.rule("went_cold")

_LEADS = Lead.__table__
_EVENTS = TrackedEvent.__table__
_SCORE_FIELDS = ("fit_score", "behaviour_score", "total_score", "grade", "config_version", "sales_ready")


def _raw(column):
    """The column as the database stores it: JSON as text, SQLite timestamps as text. Decoding
    is left to the process that scores the lead."""
    if isinstance(column.type, JSON):
        return cast(column, Text).label(column.key)
    return type_coerce(column, String).label(column.key)


# id, answers, profile, score_breakdown, fit, behaviour, total, grade, sales_ready,
# config_version, stage, stage_actor, last_activity_at, updated_at
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
    _raw(_LEADS.c.updated_at),
).order_by(_LEADS.c.id)
# lead_id, name, timestamp, properties, url, message_id; in arrival order.
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
    (e.g. a tqdm bar's `update`). `workers`: processes that score (default: one per CPU, at
    most 4; 1 = this process only).

    Returns the figures: leads (read), changed (leads written), score_changes (rows written),
    stage_moves (moves by the score rules), recycled (went-cold moves), handed_off (leads that
    became sales-ready: assigned and queued for the CRM), retried (leads changed
    by someone else while being scored, scored again), seconds, and phases (seconds spent
    reading, waiting for scores, writing and committing).
    """
    now = now or utcnow()
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    now = now.astimezone(timezone.utc)  # as the store does: SQLite would keep another offset's wall time
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    run = _Run(store, now, workers or min(os.cpu_count() or 1, 4), progress)
    started = time.perf_counter()
    with store.engine.connect() as conn, _SqliteTuning(conn, run.dialect) as tuning:
        run.conn, run.tuning = conn, tuning
        try:
            pending: _Chunk | None = None
            after: str | None = None
            while True:
                chunk = run.read(after, batch_size)
                if chunk is not None:
                    run.score(chunk)  # in the workers, while the chunk before is written
                    after = chunk.ids[-1]
                if pending is not None:
                    run.write(pending)
                if chunk is None:
                    break
                pending = chunk
            for start in range(0, len(run.stale), batch_size):
                run.rescore_locked(run.stale[start : start + batch_size])
        finally:
            run.close()
    figures = run.figures
    figures["seconds"] = round(time.perf_counter() - started, 3)
    figures["phases"] = {name: round(value, 3) for name, value in run.phases.items()}
    return figures


@dataclass
class _Chunk:
    ids: list[str]
    versions: dict  # lead id -> updated_at as read (text on SQLite)
    items: list[tuple]  # (lead row, its events) to score
    results: list[Future] = field(default_factory=list)


class _Inline:
    """An executor that runs the work at once, in this process."""

    def submit(self, fn, *args) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args))
        except Exception as exc:  # noqa: BLE001 - handed back through the future, like a pool does
            future.set_exception(exc)
        return future

    def shutdown(self, **_kwargs) -> None:
        pass


class _Run:
    def __init__(self, store, now: datetime, workers: int, progress) -> None:
        self.store = store
        self.config: QualificationConfig = store.config
        self.now, self.workers, self.progress = now, workers, progress
        self.dialect = store.engine.dialect.name
        self.writer = _Writer(self.dialect)
        self.inline = _Inline()
        self.pool: ProcessPoolExecutor | None = None
        self.conn = self.tuning = None
        self.stale: list[str] = []
        self.figures = {"leads": 0, "changed": 0, "score_changes": 0, "stage_moves": 0, "recycled": 0, "retried": 0}
        self.figures["handed_off"] = 0
        self.phases = dict.fromkeys(("read", "score", "write", "commit"), 0.0)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)

    # -- reading ---------------------------------------------------------------------------

    def read(self, after: str | None, batch_size: int) -> _Chunk | None:
        """The next leads after `after`, with their events (not locked)."""
        clock = time.perf_counter()
        query = _LEAD_QUERY.limit(batch_size)
        if after is not None:
            query = query.where(_LEADS.c.id > after)
        with self.conn.begin():
            leads = self.conn.execute(query).all()
            if not leads:
                return None
            # The chunk is a range of ids: its events are the range's (an IN list of 2000 ids
            # makes PostgreSQL scan the whole events table).
            lead_id = _EVENTS.c.lead_id
            events = self.conn.execute(_EVENT_QUERY.where(lead_id >= leads[0][0], lead_id <= leads[-1][0])).all()
        chunk = self._chunk(leads, events)
        self.phases["read"] += time.perf_counter() - clock
        return chunk

    def _chunk(self, leads: list, events: list) -> _Chunk:
        by_lead: dict[str, list[tuple]] = {lead[0]: [] for lead in leads}
        for row in events:
            if row[0] in by_lead:  # a lead created in the range after the leads were read waits
                by_lead[row[0]].append(tuple(row[1:]))
        self.figures["leads"] += len(leads)
        return _Chunk(
            ids=[lead[0] for lead in leads],
            versions={lead[0]: lead[-1] for lead in leads},
            items=[(tuple(lead[:-1]), by_lead[lead[0]]) for lead in leads],
        )

    # -- scoring ---------------------------------------------------------------------------

    def score(self, chunk: _Chunk) -> None:
        items, chunk.items = chunk.items, []
        if self.pool is None and self.workers > 1 and len(items) >= MIN_PARALLEL:
            method = "fork" if "fork" in get_all_start_methods() else None  # fork: no re-import
            self.pool = ProcessPoolExecutor(
                self.workers, mp_context=get_context(method), initializer=_init_worker, initargs=(self.config,)
            )
        if self.pool is None:
            chunk.results = [self.inline.submit(_score_part, self.config, items, self.now)]
            return
        size = -(-len(items) // self.workers)
        chunk.results = [
            self.pool.submit(_score_part, None, items[i : i + size], self.now) for i in range(0, len(items), size)
        ]

    # -- writing ---------------------------------------------------------------------------

    def write(self, chunk: _Chunk) -> None:
        """Write a scored chunk in one transaction. Leads whose `updated_at` changed since they
        were read (written to or not) are left out and queued for `rescore_locked`."""
        clock = time.perf_counter()
        results = [future.result() for future in chunk.results]
        self.phases["score"] += time.perf_counter() - clock
        clock = time.perf_counter()
        written = {row["b_id"] for result in results for row in result["score_rows"] + result["stage_rows"]}
        transaction = self.conn.begin()
        try:
            if written and self.dialect == "sqlite":
                self.conn.exec_driver_sql("BEGIN IMMEDIATE")  # the write lock, before the check
            current = self._versions(chunk.ids[0], chunk.ids[-1], lock=bool(written))
            stale = {i for i in chunk.ids if current.get(i, chunk) != chunk.versions[i]}
            if stale:
                self.stale.extend(i for i in chunk.ids if i in stale)
                results = [_without(result, stale) for result in results]
            for result in results:
                self.writer.write(self.conn, result, self.now)
                self._hand_off(result["ready"])
                self._count(result)
            self.phases["write"] += time.perf_counter() - clock
            clock = time.perf_counter()
            transaction.commit()
        finally:
            if transaction.is_active:
                transaction.rollback()
        if written:
            self.tuning.committed()
        self.phases["commit"] += time.perf_counter() - clock
        if self.progress is not None:
            self.progress(len(chunk.ids))

    def _versions(self, first: str, last: str, lock: bool) -> dict:
        """{lead id: updated_at} of the leads from `first` to `last` (a range: cheaper than an
        IN list of the chunk's ids); with `lock`, PostgreSQL locks them until the commit."""
        lead_id = _LEADS.c.id
        query = select(lead_id, _raw(_LEADS.c.updated_at)).where(lead_id >= first, lead_id <= last)
        if lock and self.dialect == "postgresql":
            query = query.with_for_update(key_share=True)
        return dict(self.conn.execute(query).all())

    def _hand_off(self, lead_ids: list[str]) -> None:
        """Leads the new scores made sales-ready (e.g. a lower threshold) are assigned and their
        packet queued, as the store does, in the chunk's transaction."""
        if not lead_ids:
            return
        from leadqual.handoff import hand_off

        # Joins the chunk's transaction: the commit below writes the scores and the handoffs.
        with Session(bind=self.conn, join_transaction_mode="rollback_only") as session:
            for lead_id in lead_ids:
                lead = session.get(Lead, lead_id)
                lead_json = self.store._lead_json(session, lead, history=False)
                transcripts = self.store.transcripts(session, lead_id)
                hand_off(session, lead, {**lead_json, "transcripts": transcripts}, self.config, self.now)
            session.flush()
        self.figures["handed_off"] += len(lead_ids)

    def _count(self, result: dict) -> None:
        self.figures["changed"] += len(result["score_rows"]) + len(result["stage_rows"])
        self.figures["score_changes"] += len(result["changes"])
        for transition in result["transitions"]:
            self.figures["recycled" if transition["reason"] == "went_cold" else "stage_moves"] += 1

    def rescore_locked(self, ids: list[str]) -> None:
        """Leads that changed while they were scored: read, score and write them again, locked
        from the read to the commit."""
        self.figures["retried"] += len(ids)
        self.figures["leads"] -= len(ids)  # read again below
        transaction = self.conn.begin()
        try:
            if self.dialect == "sqlite":
                self.conn.exec_driver_sql("BEGIN IMMEDIATE")
            query = _LEAD_QUERY.where(_LEADS.c.id.in_(ids))
            if self.dialect == "postgresql":
                query = query.with_for_update(key_share=True)
            leads = self.conn.execute(query).all()
            events = self.conn.execute(_EVENT_QUERY.where(_EVENTS.c.lead_id.in_(ids))).all()
            result = _score_part(self.config, self._chunk(leads, events).items, self.now)
            self.writer.write(self.conn, result, self.now)
            self._hand_off(result["ready"])
            self._count(result)
            transaction.commit()
        finally:
            if transaction.is_active:
                transaction.rollback()


def _without(result: dict, stale: set[str]) -> dict:
    return {
        "score_rows": [row for row in result["score_rows"] if row["b_id"] not in stale],
        "stage_rows": [row for row in result["stage_rows"] if row["b_id"] not in stale],
        "changes": [row for row in result["changes"] if row["lead_id"] not in stale],
        "transitions": [row for row in result["transitions"] if row["lead_id"] not in stale],
        "ready": [lead_id for lead_id in result["ready"] if lead_id not in stale],
    }


class _SqliteTuning:
    """SQLite, while this connection rewrites many rows: a bigger page cache, and the WAL copied
    back into the database every CHECKPOINT_EVERY chunks instead of at every commit (a page
    rewritten by several chunks is copied once). Both settings are restored afterwards."""

    def __init__(self, conn, dialect: str) -> None:
        self.conn, self.active, self.chunks = conn, dialect == "sqlite", 0

    def __enter__(self) -> _SqliteTuning:
        if self.active:
            self.previous = {name: self._pragma(name) for name in ("cache_size", "wal_autocheckpoint")}
            self._pragma("cache_size", SQLITE_CACHE_KIB)
            self._pragma("wal_autocheckpoint", 0)
        return self

    def committed(self) -> None:
        self.chunks += 1
        if self.active and self.chunks % CHECKPOINT_EVERY == 0:
            self._pragma("wal_checkpoint", "PASSIVE")

    def __exit__(self, *_exc) -> None:
        if self.active:
            for name, value in self.previous.items():
                self._pragma(name, value)
            self._pragma("wal_checkpoint", "PASSIVE")

    def _pragma(self, name: str, value=None):
        statement = f"PRAGMA {name}" if value is None else f"PRAGMA {name}({value})"
        result = self.conn.exec_driver_sql(statement)
        row = result.first() if result.returns_rows else None
        self.conn.commit()
        return row[0] if row else None


# -- scoring (in this process or a worker) ------------------------------------------------

_worker_config: QualificationConfig | None = None


def _init_worker(config: QualificationConfig) -> None:
    global _worker_config
    _worker_config = config


def _json(value: str | dict | list | None):
    if value is None or not isinstance(value, str):
        return value
    return {} if value == "{}" else json.loads(value)


def _moment(value: str | datetime | None) -> datetime | None:
    """A timestamp as SQLAlchemy would hand it back, made aware as leads._aware does."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)


def _score_part(config: QualificationConfig | None, part: list, now: datetime) -> dict:
    """Score leads as `LeadStore._rescore` does, then the went-cold rule; the rows to write."""
    config = config or _worker_config
    version = config.version
    rules = config.stages
    days = rules.recycle_after_days
    cold_before = now - timedelta(days=days) if days is not None else None
    score_rows, stage_rows, changes, transitions, newly_ready = [], [], [], [], []
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
        last_activity = _moment(last_activity)
        if cold_before is not None and stage in RECYCLABLE and last_activity and last_activity < cold_before:
            note = f"no activity since {last_activity.date().isoformat()} (more than {days:g} days)"
            moves.append(advance(stage, "lead", WENT_COLD_ACTOR, "went_cold", now, note))
            stage, stage_actor = "lead", WENT_COLD_ACTOR.type
        new = (score.fit, score.behaviour, score.total, score.grade, version, ready)
        old = (fit, behaviour, previous_total, grade, config_version, bool(sales_ready))
        if not lead_changes and not moves and new == old and score.lines == before:
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
            transitions.append({"lead_id": lead_id, **asdict(move)})
        if ready and not sales_ready:
            newly_ready.append(lead_id)
    return {
        "score_rows": score_rows,
        "stage_rows": stage_rows,
        "changes": changes,
        "transitions": transitions,
        "ready": newly_ready,
    }


# -- writing ------------------------------------------------------------------------------


class _Writer:
    """Bulk statements for one dialect: UPDATE by primary key (executemany) and INSERTs."""

    def __init__(self, dialect: str) -> None:
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
