"""Re-score every lead: after a config change, and as behaviour points decay with time.

`rescore_all` gives each lead exactly what `LeadStore._rescore` would (same breakdown, scores,
grade, sales_ready, stage move and `score_changes` rows, actor `rule:rescore`), for many leads
at a time:

- this process pages through the leads' ids in primary-key order, `batch_size` at a time
  (keyset pagination);
- worker processes each read a part of a chunk (a range of ids) on their own connection, with
  the events of those scored in full, and score it, while this process writes the chunk before;
- only leads whose score, breakdown or stage changed are written, and only the columns that
  changed: a set-based UPDATE by primary key (PostgreSQL: one statement over arrays; SQLite: one
  prepared statement, executemany), and bulk INSERTs of their `score_changes` and
  `stage_transitions` rows, in one transaction per chunk. On PostgreSQL two chunks are written
  at once, by two threads on two connections (each a server process). A crash loses at most the
  chunks being written; running again at the same `now` writes nothing new.

Two ways to score a lead, with the same results:

- **Decay only** (the daily run): a lead scored under the current config version keeps its
  answer, profile and event lines; only time has passed. An event line's points (a cap counts
  event times, not `now`), rule and time do not depend on `now`; its value (points x decay) and
  the end of its reason ("decayed to ...") do. So the new breakdown is the stored one with those
  recomputed from each line's points and time, exactly as `behaviour.score_behaviour` computes
  them, and the totals, grade and `behaviour.decay` ledger row follow from it. Neither the
  answers nor the events are read or matched against the rules again. A breakdown as the store
  writes it is changed on its JSON text (one regular expression per event line, `_decay_text`);
  any other layout is decoded first. This relies on what the store guarantees: a lead's
  breakdown is rewritten whenever its answers, profile or events change, and a config version
  is never edited in place (publishing a flow makes a new one).
- **Full** (`scoring.score_lead` on the answers, profile and events, then
  `scoring.score_changes`): a lead scored under another config version or never scored, a
  breakdown that does not have the expected shape, a lead changed while it was scored, and every
  lead with `full=True`.

Leads are not locked while they are scored. Each UPDATE of the chunk's transaction also asks
for the `updated_at` read, and the leads not written are checked the same way: a lead that a
save, an event or a person changed meanwhile is left out (if an UPDATE missed, the chunk is
written again, every version checked under lock: PostgreSQL `FOR NO KEY UPDATE`, as the store
does; SQLite `BEGIN IMMEDIATE`), then read and scored again under the lock at the end
(`retried` in the figures). The store updates a lead's row whenever its answers, profile,
events or stage change.

After the score rules, the went-cold rule: an mql, sal or sql lead (whoever placed it) whose
last activity is older than `stages.recycle_after_days` goes back to "lead" (kind recycle,
reason went_cold, actor `rule:went_cold`). Opportunity and disqualified leads are never moved.

Unlike `_rescore`, a lead with nothing new keeps its `scored_at` (it is not written at all).
"""

from __future__ import annotations

import gc
import json
import math
import multiprocessing.util
import os
import re
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from multiprocessing import get_all_start_methods, get_context

from sqlalchemy import JSON, String, Text, bindparam, cast, insert, select, type_coerce
from sqlalchemy.orm import Session

from leadqual.config.marketing import QualificationConfig
from leadqual.db.tables import Lead, ScoreChange, StageTransition, TrackedEvent, utcnow
from leadqual.delivery import crm
from leadqual.delivery.handoff import follow_in_crm, hand_off
from leadqual.leads import serialize
from leadqual.leads.store import LeadStore
from leadqual.scoring import fit as scoring
from leadqual.scoring.behaviour import Event, before_decay, decayed_points, with_decay
from leadqual.scoring.stages import AUTOMATIC_STAGES, PEOPLE, Actor, advance, meets, score_stage, stage_from_score

__all__ = ["DEFAULT_BATCH_SIZE", "RECYCLABLE", "rescore_all"]

DEFAULT_BATCH_SIZE = 2000
# Stages the went-cold rule recycles to "lead".
RECYCLABLE = ("mql", "sal", "sql")
# Worker processes start with the first chunk at least this big; smaller runs score in-process.
MIN_PARALLEL = 500
# PostgreSQL: chunks written at once, each on its own connection (see _Run.write_soon).
WRITERS = 2
# SQLite while re-scoring: page cache (negative = KiB), and chunks between WAL checkpoints.
SQLITE_CACHE_KIB = -65536
CHECKPOINT_EVERY = 10

RESCORE_ACTOR = Actor.rule("rescore")
WENT_COLD_ACTOR = Actor.rule("went_cold")

_LEADS = Lead.__table__
_EVENTS = TrackedEvent.__table__
_SCORE_FIELDS = ("fit_score", "behaviour_score", "total_score", "grade", "config_version", "sales_ready")
_STAGE_FIELDS = ("stage", "stage_actor", "stage_changed_at")


def _raw(column):
    """The column as the database stores it: JSON as text, SQLite timestamps as text. Decoding
    is left to the process that scores the lead."""
    if isinstance(column.type, JSON):
        return cast(column, Text).label(column.key)
    return type_coerce(column, String).label(column.key)


# id, answers, profile, score_breakdown, fit, behaviour, total, grade, sales_ready,
# config_version, stage, stage_actor, last_activity_at, scored_at, updated_at
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
    _raw(_LEADS.c.scored_at),
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
    full: bool = False,
) -> dict:
    """Re-score every lead of `store` (a LeadStore, with its config) as of `now` (tz-aware,
    default: the current time) and apply the went-cold rule.

    `progress(n)` is called after each committed chunk with the number of leads it held
    (e.g. a tqdm bar's `update`). `workers`: processes that score (default: one per CPU, at
    most 4; 1 = this process only). `full`: score every lead from its answers, profile and
    events, even those the decay-only way would do (same results, slower).

    Returns the figures: leads (read), changed (leads written), score_changes (rows written),
    stage_moves (moves by the score rules), recycled (went-cold moves), handed_off (leads that
    became sales-ready: assigned and queued for the CRM), retried (leads changed
    by someone else while being scored, scored again), decay_only (leads scored the decay-only
    way), seconds, and phases (seconds spent reading, waiting for scores, writing and committing).
    """
    now = now or utcnow()
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    now = now.astimezone(timezone.utc)  # as the store does: SQLite would keep another offset's wall time
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    run = _Run(store, now, workers or min(os.cpu_count() or 1, 4), progress, full)
    started = time.perf_counter()
    with _no_cyclic_gc(), store.engine.connect() as conn, _SqliteTuning(conn, run.dialect) as tuning:
        run.conn, run.tuning = conn, tuning
        try:
            pending: _Chunk | None = None
            after: str | None = None
            while True:
                chunk = run.read(after, batch_size)
                if chunk is not None:
                    run.score(chunk)  # in the workers, while the chunk before is written
                    after = chunk.keys[-1]
                if pending is not None:
                    run.write_soon(pending)
                if chunk is None:
                    break
                pending = chunk
            run.wait_for_writes()
            for start in range(0, len(run.stale), batch_size):
                run.rescore_locked(run.stale[start : start + batch_size])
            for start in range(0, len(run.unexpected), batch_size):
                run.rescore_locked(run.unexpected[start : start + batch_size], retry=False)
        finally:
            run.close()
    figures = run.figures
    figures["seconds"] = round(time.perf_counter() - started, 3)
    figures["phases"] = {name: round(value, 3) for name, value in run.phases.items()}
    return figures


@contextmanager
def _no_cyclic_gc():
    """Python's cycle collector off for the run: it would walk every row and result held in
    memory each time enough of them were allocated (reference counting still frees them)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@dataclass
class _Chunk:
    keys: list[str]  # the ids that make its parts' ranges (leads may come and go before they are read)
    ids: list[str] = field(default_factory=list)  # the leads read, in id order
    versions: dict = field(default_factory=dict)  # lead id -> updated_at as read (text on SQLite)
    results: list[Future] = field(default_factory=list)  # one per part: _read_and_score's


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
    def __init__(self, store, now: datetime, workers: int, progress, full: bool = False) -> None:
        self.store = store
        self.config: QualificationConfig = store.config
        self.now, self.workers, self.progress, self.full = now, workers, progress, full
        self.dialect = store.engine.dialect.name
        self.writer = _Writer(store.engine.dialect)
        self.inline = _Inline()
        self.pool: ProcessPoolExecutor | None = None
        self.conn = self.tuning = None
        self.stale: list[str] = []  # changed by someone else while scored: again, locked
        self.unexpected: list[str] = []  # a breakdown the decay-only way cannot read: in full
        self.figures = {"leads": 0, "changed": 0, "score_changes": 0, "stage_moves": 0, "recycled": 0, "retried": 0}
        self.figures.update(handed_off=0, decay_only=0)
        self.phases = dict.fromkeys(("read", "score", "write", "commit"), 0.0)
        self.compiled: dict = {}
        self.lock = threading.Lock()  # the figures and lists, written by the writer threads
        # PostgreSQL: WRITERS chunks written at once, each on a connection of its own (one
        # server process each), when scoring is parallel too.
        self.writers: ThreadPoolExecutor | None = None
        self.writing: deque[Future] = deque()
        self.local = threading.local()
        self.connections: list = []
        # Workers read their parts on their own connections, but not a SQLite database in memory.
        url = store.engine.url
        in_memory = not url.database or url.database == ":memory:" or url.query.get("mode") == "memory"
        self.shared = not (self.dialect == "sqlite" and in_memory)

    def close(self) -> None:
        if self.writers is not None:
            self.writers.shutdown(cancel_futures=True)  # waits for the chunks being written
        for conn in self.connections:
            conn.close()
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)

    def write_soon(self, chunk: _Chunk) -> None:
        """Write the chunk: here, or on PostgreSQL with parallel scoring, in a writer thread
        (after the oldest chunk being written, if WRITERS are)."""
        if self.dialect != "postgresql" or self.workers < 2 or WRITERS < 2:
            self.write(chunk)
            return
        if self.writers is None:
            self.writers = ThreadPoolExecutor(WRITERS, thread_name_prefix="rescore-writer")
        while len(self.writing) >= WRITERS:
            self.writing.popleft().result()
        self.writing.append(self.writers.submit(self._write_on_own_connection, chunk))

    def wait_for_writes(self) -> None:
        while self.writing:
            self.writing.popleft().result()

    def _write_on_own_connection(self, chunk: _Chunk) -> None:
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = self.local.conn = self.store.engine.connect()
            with self.lock:
                self.connections.append(conn)
        self.write(chunk, conn)

    # -- reading ---------------------------------------------------------------------------

    def read(self, after: str | None, batch_size: int) -> _Chunk | None:
        """The ids of the next chunk after `after`: the leads themselves are read by whoever
        scores them (`_read_and_score`)."""
        clock = time.perf_counter()
        with self.conn.begin():
            if after is None:
                rows = self._rows("first", lambda: select(_LEADS.c.id).order_by(_LEADS.c.id).limit(batch_size))
            else:
                query = select(_LEADS.c.id).where(_LEADS.c.id > bindparam("after")).order_by(_LEADS.c.id)
                rows = self._rows("next", lambda: query.limit(batch_size), after=after)
        self.phases["read"] += time.perf_counter() - clock
        return _Chunk(keys=[row[0] for row in rows]) if rows else None

    def _rows(self, name: str, query: Callable, **params) -> list:
        """The rows of a query compiled once per run (see `_driver_rows`)."""
        return _driver_rows(self.conn, self.compiled, name, query, **params)

    # -- scoring ---------------------------------------------------------------------------

    def score(self, chunk: _Chunk) -> None:
        """Read and score the chunk: in the worker processes, a part each, or here."""
        keys = chunk.keys
        if self.pool is None and self.shared and self.workers > 1 and len(keys) >= MIN_PARALLEL:
            method = "fork" if "fork" in get_all_start_methods() else None  # fork: no re-import
            self.pool = ProcessPoolExecutor(
                self.workers,
                mp_context=get_context(method),
                initializer=_init_worker,
                initargs=(self.store.url, self.config),
            )
        if self.pool is None:
            reader = (self.conn, self.compiled, self.config)
            chunk.results = [self.inline.submit(_read_and_score, keys[0], keys[-1], self.now, self.full, reader)]
            return
        size = -(-len(keys) // self.workers)
        chunk.results = [
            self.pool.submit(_read_and_score, keys[i], keys[min(i + size, len(keys)) - 1], self.now, self.full)
            for i in range(0, len(keys), size)
        ]

    # -- writing ---------------------------------------------------------------------------

    def write(self, chunk: _Chunk, conn=None) -> None:
        """Write a scored chunk in one transaction. Leads whose `updated_at` changed since they
        were read are left out and queued for `rescore_locked`.

        First each UPDATE also asks for the `updated_at` read: when every lead to write matched,
        none of them changed meanwhile (the usual case), and only the leads not written are
        checked. Otherwise that transaction is rolled back and the chunk written again, all its
        leads' versions checked first. `conn`: the connection to write on (default: the run's)."""
        conn = conn or self.conn
        clock = time.perf_counter()
        results = [future.result() for future in chunk.results]
        waited = time.perf_counter() - clock
        for result in results:
            chunk.ids += result.pop("ids")
            chunk.versions.update(result.pop("versions"))
        with self.lock:
            self.phases["score"] += waited
            for result in results:
                self.unexpected.extend(result["unexpected"])
            self.figures["leads"] += len(chunk.ids)
        if not chunk.ids:
            return
        if not any(result["rows"] for result in results):  # nothing to write: only the check
            with conn.begin():
                self._left_out(self._changed_unwritten(conn, chunk, results))
            with self.lock:
                for result in results:
                    self._count(result)
        else:
            if not self._write_if_unchanged(conn, chunk, results):
                self._write_checked(conn, chunk, results)
            self.tuning.committed()
        if self.progress is not None:
            self.progress(len(chunk.ids))

    def _write_if_unchanged(self, conn, chunk: _Chunk, results: list[dict]) -> bool:
        clock = time.perf_counter()
        transaction = self._begin_write(conn)
        try:
            expected = matched = 0
            for result in results:
                expected += len(result["rows"])
                matched += self.writer.write(conn, result, self.now, chunk.versions)
            if matched != expected:
                return False
            self._left_out(self._changed_unwritten(conn, chunk, results))
            self._finish(conn, results, transaction, clock)
            return True
        finally:
            if transaction.is_active:
                transaction.rollback()

    def _left_out(self, stale) -> None:
        """Leads changed by someone else while they were scored: to score again, locked."""
        if stale:
            gone = set(stale)
            with self.lock:
                self.stale.extend(stale)
                self.unexpected = [i for i in self.unexpected if i not in gone]

    def _begin_write(self, conn):
        """A write transaction. SQLite: with its write lock at once. PostgreSQL: its commit does
        not wait for the disk (`synchronous_commit` off for it alone): a crash may undo the last
        chunks written, never half of one, and running again redoes them."""
        transaction = conn.begin()
        if self.dialect == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        elif self.dialect == "postgresql":
            conn.exec_driver_sql("SET LOCAL synchronous_commit = off")
        return transaction

    def _changed_unwritten(self, conn, chunk: _Chunk, results: list[dict]) -> list[str]:
        """The chunk's leads not written whose `updated_at` is no longer the one read: scored
        from what they were, they may need writing now."""
        written = {lead_id for result in results for lead_id, _ in result["rows"]}
        unwritten = [lead_id for lead_id in chunk.ids if lead_id not in written]
        if not unwritten:
            return []
        if len(unwritten) > len(chunk.ids) // 4:
            current = self._versions(conn, chunk.ids[0], chunk.ids[-1], lock=False)
        else:
            query = select(_LEADS.c.id, _raw(_LEADS.c.updated_at)).where(_LEADS.c.id.in_(unwritten))
            current = dict(conn.execute(query).all())
        return [lead_id for lead_id in unwritten if current.get(lead_id, chunk) != chunk.versions[lead_id]]

    def _write_checked(self, conn, chunk: _Chunk, results: list[dict]) -> None:
        clock = time.perf_counter()
        transaction = self._begin_write(conn)  # on SQLite the write lock, before the check
        try:
            current = self._versions(conn, chunk.ids[0], chunk.ids[-1], lock=True)
            stale = {i for i in chunk.ids if current.get(i, chunk) != chunk.versions[i]}
            if stale:
                self._left_out([i for i in chunk.ids if i in stale])
                results = [_without(result, stale) for result in results]
            for result in results:
                self.writer.write(conn, result, self.now)
            self._finish(conn, results, transaction, clock)
        finally:
            if transaction.is_active:
                transaction.rollback()

    def _finish(self, conn, results: list[dict], transaction, clock: float) -> None:
        """Hand off the leads that became sales-ready, count, and commit the chunk."""
        for result in results:
            self._hand_off(conn, result["ready"], result["transitions"])
        written = time.perf_counter()
        transaction.commit()
        with self.lock:
            for result in results:
                self._count(result)
            self.phases["write"] += written - clock
            self.phases["commit"] += time.perf_counter() - written

    def _versions(self, conn, first: str, last: str, lock: bool) -> dict:
        """{lead id: updated_at} of the leads from `first` to `last` (a range: cheaper than an
        IN list of the chunk's ids); with `lock`, PostgreSQL locks them until the commit."""
        lock = lock and self.dialect == "postgresql"

        def query():
            lead_id = _LEADS.c.id
            query = select(lead_id, _raw(_LEADS.c.updated_at))
            query = query.where(lead_id >= bindparam("first"), lead_id <= bindparam("last"))
            return query.with_for_update(key_share=True) if lock else query

        name = "locked" if lock else "versions"
        return dict(_driver_rows(conn, self.compiled, name, query, first=first, last=last))

    def _hand_off(self, conn, lead_ids: list[str], transitions: list[dict] | None = None) -> None:
        """Leads the new scores made sales-ready (e.g. a lower threshold) are assigned and their
        packet queued, as the store does, in the chunk's transaction; with a native CRM, the stage
        moves of leads already handed off (a lead gone cold) follow them there."""
        if transitions and crm.configured_system() is not None:
            with Session(bind=conn, join_transaction_mode="rollback_only") as session:
                for transition in transitions:
                    lead = session.get(Lead, transition["lead_id"])
                    if lead is not None and transition["lead_id"] not in lead_ids:
                        moved = {**transition, "at": transition["at"].isoformat()}
                        follow_in_crm(
                            session,
                            lead,
                            lambda lead=lead: serialize.lead_json(session, lead, history=False),
                            moved,
                            self.now,
                        )
                session.flush()
        if not lead_ids:
            return

        # Joins the chunk's transaction: the commit below writes the scores and the handoffs.
        with Session(bind=conn, join_transaction_mode="rollback_only") as session:
            for lead_id in lead_ids:
                lead = session.get(Lead, lead_id)
                lead_json = serialize.lead_json(session, lead, history=False)
                transcripts = serialize.transcripts(session, lead_id)
                hand_off(session, lead, {**lead_json, "transcripts": transcripts}, self.config, self.now)
            session.flush()
        with self.lock:
            self.figures["handed_off"] += len(lead_ids)

    def _count(self, result: dict) -> None:
        self.figures["changed"] += len(result["rows"])
        self.figures["score_changes"] += len(result["changes"])
        self.figures["decay_only"] += result["decay_only"]
        for transition in result["transitions"]:
            self.figures["recycled" if transition["reason"] == "went_cold" else "stage_moves"] += 1

    def rescore_locked(self, ids: list[str], retry: bool = True) -> None:
        """Leads that changed while they were scored (`retry`), or whose breakdown the decay-only
        way could not read: read, score in full and write them, locked from the read to the
        commit."""
        if retry:
            self.figures["retried"] += len(ids)
        self.figures["leads"] -= len(ids)  # read again below
        transaction = self._begin_write(self.conn)
        try:
            query = _LEAD_QUERY.where(_LEADS.c.id.in_(ids))
            if self.dialect == "postgresql":
                query = query.with_for_update(key_share=True)
            leads = self.conn.execute(query).all()
            events = self.conn.execute(_EVENT_QUERY.where(_EVENTS.c.lead_id.in_(ids))).all()
            self.figures["leads"] += len(leads)
            items, _versions = _items(leads, events, {lead[0] for lead in leads})
            result = _score_part(self.config, items, self.now)
            self.writer.write(self.conn, result, self.now)
            self._hand_off(self.conn, result["ready"], result["transitions"])
            self._count(result)
            transaction.commit()
        finally:
            if transaction.is_active:
                transaction.rollback()


def _without(result: dict, stale: set[str]) -> dict:
    return {
        "rows": [row for row in result["rows"] if row[0] not in stale],
        "changes": [row for row in result["changes"] if row[0] not in stale],
        "transitions": [row for row in result["transitions"] if row["lead_id"] not in stale],
        "ready": [lead_id for lead_id in result["ready"] if lead_id not in stale],
        "decay_only": result["decay_only"],
        "unexpected": [],
    }


class _SqliteTuning:
    """SQLite, while this connection rewrites many rows: a bigger page cache, the WAL copied
    back into the database every CHECKPOINT_EVERY chunks instead of at every commit (a page
    rewritten by several chunks is copied once) by a thread on its own connection, while this
    one goes on writing, and commits not synced to disk one by one (`synchronous=NORMAL`, as
    SQLite advises in WAL mode: a power cut may undo the last chunks, never corrupt the
    database, and re-scoring again redoes them). The settings are restored afterwards, and the
    WAL copied back before returning."""

    def __init__(self, conn, dialect: str) -> None:
        self.conn, self.active, self.chunks = conn, dialect == "sqlite", 0
        self.checkpointer: threading.Thread | None = None
        self.path = ""

    def __enter__(self) -> _SqliteTuning:
        if self.active:
            names = ("cache_size", "wal_autocheckpoint", "synchronous")
            self.previous = {name: self._pragma(name) for name in names}
            self._pragma("cache_size", SQLITE_CACHE_KIB)
            self._pragma("wal_autocheckpoint", 0)
            self._pragma("synchronous", 1)  # NORMAL
            files = self.conn.exec_driver_sql("PRAGMA database_list").all()
            self.conn.commit()
            self.path = next((row[2] for row in files if row[1] == "main"), "") or ""
        return self

    def committed(self) -> None:
        self.chunks += 1
        if self.active and self.chunks % CHECKPOINT_EVERY == 0:
            if not self.path:
                self._pragma("wal_checkpoint", "PASSIVE")
            elif self.checkpointer is None or not self.checkpointer.is_alive():
                self.checkpointer = threading.Thread(target=_checkpoint, args=(self.path,), daemon=True)
                self.checkpointer.start()

    def __exit__(self, *_exc) -> None:
        if self.active:
            if self.checkpointer is not None:
                self.checkpointer.join()
            for name, value in self.previous.items():
                self._pragma(name, value)
            self._pragma("wal_checkpoint", "PASSIVE")

    def _pragma(self, name: str, value=None):
        statement = f"PRAGMA {name}" if value is None else f"PRAGMA {name}({value})"
        result = self.conn.exec_driver_sql(statement)
        row = result.first() if result.returns_rows else None
        self.conn.commit()
        return row[0] if row else None


def _checkpoint(path: str) -> None:
    """Copy the WAL's committed pages back into the SQLite database at `path` (PASSIVE: without
    waiting for the writer)."""
    try:
        connection = sqlite3.connect(path, timeout=1)
        try:
            connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        finally:
            connection.close()
    except sqlite3.Error:  # the next one, or the one at the end, does it
        pass


# -- scoring (in this process or a worker) ------------------------------------------------


def _driver_rows(conn, compiled: dict, name: str, query: Callable, **params) -> list:
    """The rows of `query()`, compiled once into `compiled[name]`, fetched as the driver returns
    them (the JSON and timestamps are already read as text; no per-row processing)."""
    statement = compiled.get(name)
    if statement is None:
        statement = compiled[name] = query().compile(dialect=conn.dialect)
    values = statement.construct_params(params)
    args = tuple(values[key] for key in statement.positiontup) if statement.positional else values
    return conn.exec_driver_sql(str(statement), args).all()


def _read_and_score(first: str, last: str, now: datetime, full: bool, reader: tuple | None = None) -> dict:
    """Read the leads from id `first` to `last` (with the events of those scored in full) and
    score them (`_score_part`); the result also has their ids and versions. `reader`:
    (connection, compiled statements, config) in this process; a worker's own otherwise."""
    conn, compiled, config = reader or (_worker["conn"], _worker["compiled"], _worker["config"])
    lead_id = _LEADS.c.id
    with conn.begin():
        query = _LEAD_QUERY.where(lead_id >= bindparam("first"), lead_id <= bindparam("last"))
        leads = _driver_rows(conn, compiled, "leads", lambda: query, first=first, last=last)
        # version, scored_at: scored under this config version, the decay-only way
        decay_only = {lead[0] for lead in leads if not full and lead[9] == config.version and lead[13] is not None}
        in_full = {lead[0] for lead in leads} - decay_only
        events = []
        if in_full:
            # The part is a range of ids: its events are the range's (an IN list of 2000 ids
            # makes PostgreSQL scan the whole events table).
            query = _EVENT_QUERY.where(_EVENTS.c.lead_id >= bindparam("first"), _EVENTS.c.lead_id <= bindparam("last"))
            events = _driver_rows(conn, compiled, "events", lambda: query, first=min(in_full), last=max(in_full))
    items, versions = _items(leads, events, in_full)
    result = _score_part(config, items, now)
    result["ids"], result["versions"] = [lead[0] for lead in leads], versions
    return result


def _items(leads: list, events: list, in_full: set) -> tuple[list, dict]:
    """([(lead row, its events, or None to score it the decay-only way)], {lead id: updated_at})."""
    by_lead: dict[str, list[tuple]] = {lead_id: [] for lead_id in in_full}
    for row in events:
        if row[0] in by_lead:  # a lead created in the range after the leads were read waits
            by_lead[row[0]].append(tuple(row[1:]))
    # A lead scored the decay-only way needs neither its answers nor its profile.
    items = [
        (tuple(lead[:-1]), lead_events) if lead_events is not None else ((lead[0], None, None, *lead[3:-1]), None)
        for lead in leads
        for lead_events in (by_lead.get(lead[0]),)
    ]
    return items, {lead[0]: lead[-1] for lead in leads}


# A worker process's config, connection and compiled statements, for one run.
_worker: dict = {}


def _init_worker(url: str, config: QualificationConfig) -> None:
    gc.disable()  # as in the main process: a worker lives for one run
    # Its own engine and connection (one inherited from the main process is not to be used).
    store = LeadStore(url, config)
    conn = store.engine.connect()
    _worker.update(config=config, conn=conn, compiled={})
    # Closed when the worker exits (multiprocessing runs these; atexit handlers it does not).
    multiprocessing.util.Finalize(None, _close_worker, args=(conn, store.engine), exitpriority=10)


def _close_worker(conn, engine) -> None:
    conn.close()
    engine.dispose()


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


@dataclass
class _Score:
    """A lead's new score, however it was computed."""

    fit: int
    behaviour: int
    total: int
    grade: str
    qualifies: dict
    changed: bool  # the breakdown changed
    changes: list[dict]  # score_changes rows, without lead_id and at
    lines: list[dict] | None = None  # the new breakdown, when computed as a list
    text: str | None = None  # or as JSON text


def _full(answers, profile, lead_events: list, before: list, config: QualificationConfig, now: datetime) -> _Score:
    """Score a lead from its answers, profile and events, as `LeadStore._rescore` does."""
    events = [
        Event(name, _moment(at), _json(properties) or {}, url, message_id)
        for name, at, properties, url, message_id in lead_events
    ]
    score = scoring.score_lead(_json(answers) or {}, _json(profile) or {}, events, config, now)
    changes = scoring.score_changes(before, score.lines, config.version)
    changed = score.lines != before
    return _Score(score.fit, score.behaviour, score.total, score.grade, score.qualifies, changed, changes, score.lines)


_encode = json.encoder.encode_basestring_ascii  # as json.dumps encodes a string


def _decay_only(text: str, config: QualificationConfig, now: datetime, grades: dict | None = None) -> _Score | None:
    """The score `_full` would give a lead whose breakdown (JSON `text`) was scored under this
    config version from its current answers, profile and events.

    The new breakdown is the same lines with each event line's value and reason as of `now`,
    computed as `behaviour.score_behaviour` does from the line's points and time; the totals,
    grade and the one `behaviour.decay` row of `scoring.score_changes` follow from it. The new
    JSON is the old text with the changed lines' value and reason replaced. None if a line is not
    as `scoring.score_lead` makes it (the lead is then scored in full). `grades` remembers
    scoring.grade's answers for `config` across calls: (fit, behaviour) -> grade."""
    version = config.version
    fit_part = _fit_part(text, version)
    if fit_part is not None:
        fit, qualifies, offset = fit_part
        if offset == len(text):
            fast = ([], None, {})
        else:
            fast = _decay_text(text, offset, version, config.behaviour.half_life_days, now)
        if fast is not None:
            decayed, new_text, sums = fast
            score = _decay_score(fit, qualifies, decayed, sums, new_text is not None, config, grades)
            score.text = new_text
            return score
    split = _split(text, version)
    if split is not None:
        fit, qualifies, offset, events = split
        indexes = range(len(events))
    else:  # another layout: decode it all
        try:
            lines = json.loads(text)
        except ValueError:
            return None
        fit_lines = _fit_lines(lines, version, events_allowed=True)
        if fit_lines is None:
            return None
        fit, qualifies = fit_lines
        indexes = [index for index, line in enumerate(lines) if line["kind"] != "fit"]
        events = [lines[index] for index in indexes]
    decay = _decay_events(events, version, config.behaviour.half_life_days, now)
    if decay is None:
        return None
    decayed, replaced, sums = decay
    score = _decay_score(fit, qualifies, decayed, sums, bool(replaced), config, grades)
    if not replaced:
        return score
    if split is not None:
        spliced = _splice(text[offset:], events, replaced)
        if spliced is not None:
            score.text = text[:offset] + spliced
            return score
        lines = json.loads(text)
        indexes = [index for index, line in enumerate(lines) if line["kind"] != "fit"]
    replaced = {indexes[index]: new for index, new in replaced.items()}
    score.text = _splice(text, lines, replaced)
    if score.text is None:
        for index, (value, reason) in replaced.items():
            lines[index] = {**lines[index], "value": value, "reason": reason}
        score.lines = lines
    return score


def _decay_score(fit, qualifies, decayed: list, sums: dict, changed: bool, config, grades: dict | None) -> _Score:
    """The totals, grade and `behaviour.decay` ledger row from the event lines' decayed points
    and sums, as `behaviour.score_behaviour` and `scoring.score_changes` make them."""
    version = config.version
    behaviour = math.floor(sum(decayed) + 0.5)  # as behaviour.score_behaviour
    minimum = config.behaviour.minimum_total
    if minimum is not None and behaviour < minimum:
        behaviour = minimum
    total = fit + behaviour
    grade = grades.get((fit, behaviour)) if grades is not None else None
    if grade is None:
        grade = scoring.grade(fit, behaviour, config)
        if grades is not None:
            grades[fit, behaviour] = grade
    score = _Score(fit, behaviour, total, grade, qualifies, changed, [])
    if not changed:
        return score
    # scoring.score_changes: lines whose points and rule are the same only decayed; the other
    # keys' sums did not move (adding their 0.0 changes nothing).
    change = 0.0
    for old, new in sums.values():
        change += new - old
    if abs(change) > 1e-9:
        score.changes.append(
            {
                "rule": "behaviour.decay",
                "source": "decay",
                "source_ref": None,
                "delta": round(change, 4),
                "config_version": version,
                "reason": f"behaviour points decayed by {change:+.2f}",
            }
        )
    return score


# A breakdown as scoring.score_lead makes it and json.dumps writes it: the fit lines, then the
# event lines. A JSON string never holds an unescaped quote, so these are where lines start.
_EVENT_LINE = '{"kind": "behaviour"'
_NEXT_EVENT_LINE = ", " + _EVENT_LINE
# Per process: (config version, the fit lines' JSON) -> (fit, qualifies), or None if they are
# not as expected. Many leads have the same fit lines (the same answers and profile).
_fit_parts: dict[tuple, tuple | None] = {}
FIT_PARTS_MAX = 20000


def _fit_part(text: str, version: int) -> tuple | None:
    """(fit, qualifies, offset of the event lines or len(text) if none) of a breakdown laid out
    as json.dumps writes scoring.score_lead's lines; None otherwise."""
    offset = text.find(_NEXT_EVENT_LINE)
    if offset < 0:
        if text.startswith(_EVENT_LINE, 1):
            offset = 1
            prefix = "[]"
        elif '"kind": "behaviour"' in text:
            return None
        else:  # no event lines
            offset = len(text)
            prefix = text
    else:
        offset += 2
        prefix = text[: offset - 2] + "]"
    key = (version, prefix)
    fit_part = _fit_parts.get(key, _fit_parts)
    if fit_part is _fit_parts:
        try:
            fit_part = _fit_lines(json.loads(prefix), version, events_allowed=False)
        except ValueError:
            fit_part = None
        if len(_fit_parts) >= FIT_PARTS_MAX:
            _fit_parts.clear()
        _fit_parts[key] = fit_part
    if fit_part is None:
        return None
    return (*fit_part, offset)


def _split(text: str, version: int) -> tuple | None:
    """(fit, qualifies, offset of the event lines, the event lines) of a breakdown laid out as
    json.dumps writes scoring.score_lead's lines; None otherwise."""
    fit_part = _fit_part(text, version)
    if fit_part is None:
        return None
    offset = fit_part[2]
    if offset == len(text):
        return (*fit_part, [])
    try:
        events = json.loads("[" + text[offset:])
    except ValueError:
        return None
    return (*fit_part, events)


# An event line exactly as json.dumps writes scoring.score_lead's, and what follows it: kind,
# rule, source, source_ref (1), event, at (2), points (3), value (4), reason (5), criterion,
# qualifies, config_version (this version), then ", " or the closing bracket (6). A reason with
# an escape (a non-ASCII URL, a quote) is left to the JSON way.
_JSON_STRING = r'"[^"\\]*(?:\\.[^"\\]*)*"'
_EVENT_LINE_TEXT = (
    r'\{"kind": "behaviour", "rule": '
    + _JSON_STRING
    + r', "source": "event", "source_ref": ('
    + _JSON_STRING
    + r'|null), "event": (?:'
    + _JSON_STRING
    + r'|null), "at": "([0-9T:.+\-]+)", "points": (-?\d+), '
    r'"value": (-?\d+\.\d+(?:e-\d+)?), "reason": "([^"\\]*)", "criterion": null, "qualifies": null, '
    r'"config_version": VERSION\}(, |\]\Z)'
)
_event_lines: dict[int, re.Pattern] = {}  # config version -> its compiled _EVENT_LINE_TEXT


def _decay_text(text: str, offset: int, version: int, half_life: float | None, now: datetime) -> tuple | None:
    """`_decay_events` on the event lines' JSON text itself (from `offset` to the closing
    bracket), without decoding it: (decayed points, the new text or None if no line changed,
    the sums {key: [old, new]}); None if a line is not written exactly as `_EVENT_LINE_TEXT`
    says (the JSON way then decides)."""
    pattern = _event_lines.get(version)
    if pattern is None:
        pattern = _event_lines[version] = re.compile(_EVENT_LINE_TEXT.replace("VERSION", str(int(version))))
    decayed: list[float] = []
    sums: dict = {}
    pieces: list[str] = []
    last, position = 0, offset
    for line in pattern.finditer(text, offset):
        if line.start() != position:  # something else between two lines
            return None
        key, at, points_text, value_text, reason, after = line.groups()
        points, old = int(points_text), float(value_text)
        decay = _decay_line(points, at, reason, now, half_life)  # plain ASCII: its text is its JSON
        if decay is None:
            return None
        value, new_reason = decay
        decayed.append(value)
        rounded = round(value, 4)
        if rounded != old or new_reason != reason:
            pieces += (text[last : line.start(4)], repr(rounded), ', "reason": "', new_reason)
            last = line.end(5)
        entry = sums.get(key)
        if entry is None:
            sums[key] = [0.0 + old, 0.0 + rounded]
        else:
            entry[0] += old
            entry[1] += rounded
        position = line.end()
        if after == "]":
            break
    else:
        return None
    if not pieces:
        return decayed, None, sums
    pieces.append(text[last:])
    return decayed, "".join(pieces), sums


def _fit_lines(lines, version: int, events_allowed: bool) -> tuple | None:
    """(fit, qualifies) from a breakdown's fit lines (answers and profile); None if a line is
    not as scoring.score_lead makes it."""
    if type(lines) is not list:
        return None
    fit = 0
    qualifies: dict = {}
    try:
        for line in lines:
            if line["kind"] != "fit":
                if events_allowed:
                    continue
                return None
            points = line["points"]
            if type(points) is not int or line["config_version"] != version:
                return None
            fit += points
            if line["source"] == "answer":
                qualifies[line["criterion"]] = line["qualifies"]
    except (KeyError, TypeError):
        return None
    return fit, qualifies


def _decay_line(points: int, at: str, reason: str, now: datetime, half_life: float | None) -> tuple | None:
    """An event line's decayed points (unrounded) and reason as of `now`, from its points, time
    (ISO text) and reason, with `behaviour.score_behaviour`'s own functions (decayed_points,
    with_decay), so the same float and the same words. A 0-point line (capped, or a 0-point
    rule) says nothing about decay. None if the time or the reason is not as it makes them."""
    try:
        moment = datetime.fromisoformat(at)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        return None
    value = decayed_points(points, moment, now, half_life)
    if not points:
        return value, reason
    stem = before_decay(reason)
    if not stem.endswith(_POINTS_END[points] if points in _POINTS_END else f": {points:+d}"):
        return None
    return value, with_decay(stem, points, value)


def _decay_events(events: list, version: int, half_life: float | None, now: datetime) -> tuple | None:
    """The event lines' decayed points (unrounded), the lines to change {index: (value,
    reason)} and the sums scoring.score_changes makes {key: [old, new]}; None if a line is not
    as scoring.score_lead makes it."""
    decayed: list[float] = []
    replaced: dict[int, tuple[float, str]] = {}
    sums: dict = {}
    try:
        for index, line in enumerate(events):
            points, reason, old = line["points"], line["reason"], line["value"]
            if type(points) is not int or line["config_version"] != version or type(reason) is not str:
                return None
            if line["kind"] != "behaviour" or line["source"] != "event":
                return None
            decay = _decay_line(points, line["at"], reason, now, half_life)
            if decay is None:
                return None
            value, reason = decay
            decayed.append(value)
            rounded = round(value, 4)
            if rounded != old or reason != line["reason"]:
                replaced[index] = (rounded, reason)
            entry = sums.get(line["source_ref"])
            if entry is None:
                sums[line["source_ref"]] = [0.0 + old, 0.0 + rounded]
            else:
                entry[0] += old
                entry[1] += rounded
    except (KeyError, TypeError, ValueError):
        return None
    return decayed, replaced, sums


# ": +10" and the like, the end of an event line's reason before "decayed to" (points -100..100).
_POINTS_END = {points: f": {points:+d}" for points in range(-100, 101)}


def _splice(text: str, lines: list[dict], replaced: dict[int, tuple[float, str]]) -> str | None:
    """`text` (the JSON of `lines`, as json.dumps writes it) with the value and reason of the
    lines in `replaced` replaced; None if the text is not laid out as expected.

    A JSON string never holds an unescaped quote, so `"value":` in the text is a key: the n-th
    one is line n's (the lines are flat). There, the old value and reason must follow, encoded
    as json.dumps encodes them."""
    parts, start, find = [], 0, text.find
    position = 0
    for index, line in enumerate(lines):
        begin = find('"value": ', position)
        if begin < 0:
            return None
        position = begin + 9
        new = replaced.get(index)
        if new is None:
            continue
        old = f'"value": {line["value"]!r}, "reason": {_encode(line["reason"])}'
        if not text.startswith(old, begin):
            return None
        parts += (text[start:begin], f'"value": {new[0]!r}, "reason": ', _encode(new[1]))
        start = position = begin + len(old)
    if find('"value": ', position) >= 0:
        return None
    parts.append(text[start:])
    return "".join(parts)


def _score_part(config: QualificationConfig | None, part: list, now: datetime) -> dict:
    """Score leads as `LeadStore._rescore` does, then the went-cold rule; the rows to write.

    Each lead of `part` comes with its events (scored in full) or None (decay only). Returns
    rows: (lead id, {column: new value}) for the leads to write, with only the columns that
    changed (the breakdown as JSON text); changes: (lead id, rule, source, source_ref,
    delta, config_version, reason); transitions; ready (newly sales-ready lead ids);
    decay_only (how many were scored that way); unexpected (lead ids whose breakdown the decay-only
    way could not read, to score in full)."""
    config = config or _worker["config"]
    version = config.version
    rules = config.stages
    days = rules.recycle_after_days
    cold_before = now - timedelta(days=days) if days is not None else None
    rows, changes, transitions, newly_ready, unexpected = [], [], [], [], []
    decay_only = 0
    grades: dict = {}
    for lead, lead_events in part:
        (lead_id, answers, profile, breakdown, fit, behaviour, total, grade, sales_ready) = lead[:9]
        config_version, stage, stage_actor, last_activity = lead[9:13]
        if lead_events is None:
            score = _decay_only(breakdown, config, now, grades) if isinstance(breakdown, str) else None
            if score is None:
                unexpected.append(lead_id)
                continue
            decay_only += 1
        else:
            score = _full(answers, profile, lead_events, _json(breakdown) or [], config, now)
        ready = meets(rules.sql, score.total, score.qualifies)
        moves = []
        previous_total = total or 0
        stage, stage_actor = stage or "lead", stage_actor or "bot"
        move = None
        # stage_from_score leaves these alone, or finds no move when the score rules' stage is
        # the current one: asked only otherwise (it is the costlier call).
        if stage in AUTOMATIC_STAGES and not (stage == "sql" and stage_actor in PEOPLE):
            if score_stage(score.total, score.qualifies, rules) != stage:
                move = stage_from_score(
                    score.total, score.qualifies, rules, stage, stage_actor, previous_total, now, RESCORE_ACTOR
                )
        if move is not None:
            moves.append(move)
            stage, stage_actor = move.to_stage, "score"
        if cold_before is not None and stage in RECYCLABLE and last_activity:
            last_activity = _moment(last_activity)
            if last_activity < cold_before:
                note = f"no activity since {last_activity.date().isoformat()} (more than {days:g} days)"
                moves.append(advance(stage, "lead", WENT_COLD_ACTOR, "went_cold", now, note))
                stage, stage_actor = "lead", WENT_COLD_ACTOR.type
        new = (score.fit, score.behaviour, score.total, score.grade, version, ready)
        old = (fit, behaviour, previous_total, grade, config_version, bool(sales_ready))
        if not score.changes and not moves and new == old and not score.changed:
            continue
        stored = (fit, behaviour, total, grade, config_version, sales_ready)
        row = {name: value for name, value, was in zip(_SCORE_FIELDS, new, stored, strict=True) if value != was}
        if score.changed:
            row["score_breakdown"] = score.text if score.text is not None else json.dumps(score.lines)
        if moves:
            row.update(stage=stage, stage_actor=stage_actor, stage_changed_at=moves[-1].at)
        rows.append((lead_id, row))
        for change in score.changes:
            changes.append((lead_id, *(change[name] for name in _CHANGE_FIELDS)))
        for move in moves:
            transitions.append({"lead_id": lead_id, **asdict(move)})
        if ready and not sales_ready:
            newly_ready.append(lead_id)
    return {
        "rows": rows,
        "changes": changes,
        "transitions": transitions,
        "ready": newly_ready,
        "decay_only": decay_only,
        "unexpected": unexpected,
    }


# -- writing ------------------------------------------------------------------------------

_CHANGE_FIELDS = ("rule", "source", "source_ref", "delta", "config_version", "reason")
_SCORE_CHANGES = ScoreChange.__table__


class _Writer:
    """Bulk statements for one dialect, on the driver's cursor: an UPDATE by primary key for each
    set of changed columns (PostgreSQL: one statement over arrays for the whole set; SQLite: one
    prepared statement, executemany), and the ledger's INSERTs."""

    def __init__(self, dialect) -> None:
        self.postgresql = dialect.name == "postgresql"
        moment = _LEADS.c.scored_at.type.dialect_impl(dialect).bind_processor(dialect)
        self._moment = moment or (lambda value: value)
        self._updates: dict[tuple, str] = {}

    def write(self, conn, result: dict, now: datetime, versions: dict | None = None) -> int:
        """Write the result; the number of leads the UPDATEs matched. With `versions` ({lead id:
        updated_at as read}), only a lead whose `updated_at` is still that is updated."""
        written_at = utcnow()
        groups: dict[tuple, list] = {}
        for lead_id, row in result["rows"]:
            groups.setdefault(tuple(row), []).append((lead_id, row))
        matched = 0
        for columns, rows in groups.items():
            matched += self._update(conn, columns, rows, now, written_at, versions)
        if result["changes"]:
            self._ledger(conn, result["changes"], now)
        if result["transitions"]:
            conn.execute(insert(StageTransition.__table__), result["transitions"])
        return matched

    def _update(self, conn, columns: tuple, rows: list, now: datetime, written_at: datetime, versions) -> int:
        scored_at, updated_at = self._moment(now), self._moment(written_at)
        stage_changed_at = [self._moment(row["stage_changed_at"]) for _, row in rows] if "stage" in columns else None
        if self.postgresql:
            sets = [f"{name} = v.{name}" + ("::json" if name == "score_breakdown" else "") for name in columns]
            types = [_PG_TYPES[name] for name in columns]
            params = [[lead_id for lead_id, _ in rows]]
            for name in columns:
                if name == "stage_changed_at":
                    params.append(stage_changed_at)
                else:
                    params.append([row[name] for _, row in rows])
            names, check = ", ".join(columns), ""
            if versions is not None:
                types.append("timestamptz")
                params.append([versions[lead_id] for lead_id, _ in rows])
                names, check = names + ", version", " AND leads.updated_at = v.version"
            statement = (
                f"UPDATE leads SET {', '.join(sets)}, scored_at = %s, updated_at = %s"
                f" FROM unnest(%b::varchar[], {', '.join(f'%b::{t}[]' for t in types)})"
                f" AS v(id, {names}) WHERE leads.id = v.id{check}"
            )
            return conn.exec_driver_sql(statement, (scored_at, updated_at, *params)).rowcount
        checked = versions is not None
        statement = self._updates.get((columns, checked))
        if statement is None:
            sets = ", ".join(f"{name} = ?" for name in (*columns, "scored_at", "updated_at"))
            check = " AND updated_at = ?" if checked else ""
            statement = self._updates[columns, checked] = f"UPDATE leads SET {sets} WHERE id = ?{check}"
        values = []
        for index, (lead_id, row) in enumerate(rows):
            value = [row[name] for name in columns]
            if stage_changed_at is not None:
                value[columns.index("stage_changed_at")] = stage_changed_at[index]
            if checked:
                values.append((*value, scored_at, updated_at, lead_id, versions[lead_id]))
            else:
                values.append((*value, scored_at, updated_at, lead_id))
        return conn.exec_driver_sql(statement, values).rowcount

    def _ledger(self, conn, changes: list[tuple], now: datetime) -> None:
        at = self._moment(now)
        if self.postgresql:
            columns = list(zip(*changes, strict=True))
            conn.exec_driver_sql(
                "INSERT INTO score_changes (lead_id, rule, source, source_ref, delta, config_version, reason, at)"
                " SELECT *, %s FROM unnest(%b::varchar[], %b::varchar[], %b::varchar[], %b::varchar[],"
                " %b::float8[], %b::int[], %b::text[])",
                (at, *(list(column) for column in columns)),
            )
            return
        conn.exec_driver_sql(
            "INSERT INTO score_changes (lead_id, rule, source, source_ref, delta, config_version, reason, at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(*change, at) for change in changes],
        )


_PG_TYPES = {
    "fit_score": "int",
    "behaviour_score": "int",
    "total_score": "int",
    "grade": "varchar",
    "config_version": "int",
    "sales_ready": "bool",
    "score_breakdown": "text",
    "stage": "varchar",
    "stage_actor": "varchar",
    "stage_changed_at": "timestamptz",
}
