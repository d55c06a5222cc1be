"""Tracked events (Segment-spec page/track/identify calls from the intake) into leads: each
event joins its visitor's lead, an identify call with an email stitches the visitor to that
person's lead, and the leads whose events changed are re-scored, in one transaction per batch.

A part of LeadStore (leadqual/leads/store.py), kept apart because it is the intake's hot path:
bulk inserts that skip duplicates, and one re-score per lead per batch."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Text,
    bindparam,
    cast,
    func,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key
from sqlalchemy.types import NullType

from leadqual.db.tables import (
    Lead,
    TrackedEvent,
    Visitor,
)
from leadqual.leads import serialize
from leadqual.scoring.stages import Actor
from leadqual.timeutil import as_utc, aware, now_or

# What an identify call may set in a lead's profile (its traits; the email is the identity).
PROFILE_FIELDS = ("country", "company_size", "job_title")


def _pg_text_array(values: list[str]) -> str:
    """A PostgreSQL text[] literal, sent as one string: psycopg adapts a Python list element by
    element, which costs more than the query."""
    quoted = ('"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"' for value in values)
    return "{" + ",".join(quoted) + "}"


_RECORDSET_SQL: dict[tuple, object] = {}


_write_locks: dict[str, threading.Lock] = {}
_write_locks_guard = threading.Lock()


def _event_row(item: dict, lead_id: str | None, now: datetime) -> dict:
    """The `events` row of a normalized tracking event."""
    return {
        "message_id": item["message_id"],
        "type": item["type"],
        "name": item["name"],
        "url": item.get("url"),
        "anonymous_id": item.get("anonymous_id"),
        "user_id": item.get("user_id"),
        "lead_id": lead_id,
        "properties": item.get("properties") or {},
        "timestamp": item["timestamp"],
        "received_at": item.get("received_at") or now,
        "source": item.get("source", "server"),
    }


def _touch(lead: Lead, moment: datetime) -> None:
    """The lead was active at `moment` (an event): its last activity is never moved back."""
    last = aware(lead.last_activity_at)
    lead.last_activity_at = max(last, moment) if last else moment


def _bulk_insert(dialect: str) -> str | None:
    """The dialect when it can insert many rows with ON CONFLICT DO NOTHING RETURNING
    (PostgreSQL, SQLite), else None: events are then stored one by one, and a concurrent
    duplicate is retried as a lost race."""
    return dialect if dialect in ("postgresql", "sqlite") else None


def _among(column, values: list[str], dialect: str | None):
    """`column IN values`. On PostgreSQL `IN (SELECT unnest(array))`: one parameter, so one
    statement psycopg prepares once, and a plan (an index probe per value, or a hash join) that
    stays good as a generic plan; `= ANY($1)` then compares each row with every value."""
    if dialect == "postgresql":
        # Untyped, so the parameter itself is the text[] (not a cast evaluated per row).
        array = cast(literal(_pg_text_array(values), NullType()), ARRAY(Text))
        return column.in_(select(func.unnest(array)).scalar_subquery())
    return column.in_(values)


def _insert_new(session: Session, dialect: str, table, rows: list[dict], key: str) -> set:
    """Insert `rows` (dicts of the same columns) in one statement, skipping those that collide
    with a stored row (ON CONFLICT DO NOTHING: also one a concurrent transaction is inserting,
    which PostgreSQL waits for); returns the `key` of the rows inserted."""
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert

        return set(session.scalars(insert(table).on_conflict_do_nothing().returning(table.c[key]), rows))
    # PostgreSQL: the rows as one JSON document, read back with json_to_recordset. One short
    # statement that psycopg prepares once (a VALUES row per event is parsed and planned on
    # every call) and one parameter that json.dumps writes in C.
    names = list(rows[0])
    statement = _RECORDSET_SQL.get((table.name, *names, key))
    if statement is None:
        types = {
            name: "timestamptz" if isinstance(kind, DateTime) else "json" if isinstance(kind, JSON) else "text"
            for name in names
            for kind in [table.c[name].type]
        }
        quoted = ", ".join(f'"{name}"' for name in names)
        record = ", ".join(f'"{name}" {types[name]}' for name in names)
        statement = text(
            f"INSERT INTO {table.name} ({quoted}) SELECT {quoted} FROM json_to_recordset(CAST(:rows AS json)) "
            f'AS r({record}) ON CONFLICT DO NOTHING RETURNING "{key}"'
        )
        _RECORDSET_SQL[(table.name, *names, key)] = statement
    moments = [name for name in names if isinstance(table.c[name].type, DateTime)]
    document = json.dumps([{**row, **{m: row[m].isoformat() for m in moments}} for row in rows])
    return set(session.scalars(statement, {"rows": document}))


def _write_lock(url: str) -> threading.Lock:
    """One lock per SQLite database in this process: its event batches are written one at a time."""
    with _write_locks_guard:
        return _write_locks.setdefault(url, threading.Lock())


class EventIngest:
    """LeadStore's tracked-event methods (a mixin: the store's engine, transaction and scoring)."""

    # Provided by LeadStore.
    url: str
    engine: Engine
    transaction: Callable[..., Any]
    _attach_visitor: Callable[..., Any]
    _merge_into: Callable[..., Any]
    _rescore: Callable[..., Any]

    def ingest_events(self, events: list[dict], now: datetime | None = None) -> dict:
        """Store validated tracking events (see tracking.normalize) and re-score their leads.

        Idempotent on `message_id`: one already stored (or twice in `events`) is counted as a
        duplicate and ignored, also when a concurrent call stores it first. `identify` events
        find or create the person's lead (by user id, then email) and tie the browser to it.
        Returns {"accepted": n, "duplicates": n, "leads": [ids re-scored]}.

        Events are taken in time order. A run of events that cannot change who a browser is
        (no `identify`, no user id) is stored in bulk: its visitors in one query, its events in
        one multi-row insert; the others one by one, so later events follow what they decide.
        Each affected lead is re-scored once, after the whole batch.
        """
        return self.ingest_calls([events], now)[0]

    def ingest_calls(self, calls: list[list[dict]], now: datetime | None = None) -> list[dict]:
        """The events of several intake calls in one transaction (the intake's group commit:
        one commit, one re-score per lead), as if sent as one batch; each call's own result,
        as ingest_events gives it, in order. An event two calls share is accepted for the one
        whose copy comes first in time (then in call order) and a duplicate for the other."""
        now = now_or(now)
        # Stable: events with the same timestamp keep their order in the call.
        events = sorted(
            ({**e, "timestamp": as_utc(e["timestamp"]), "_call": i} for i, call in enumerate(calls) for e in call),
            key=lambda e: e["timestamp"],
        )
        bulk = _bulk_insert(self.engine.dialect.name)

        def work(session: Session) -> list[dict]:
            results = [{"accepted": 0, "duplicates": 0, "leads": set()} for _ in calls]
            ids = list({e["message_id"] for e in events})
            seen = set(
                session.scalars(select(TrackedEvent.message_id).where(_among(TrackedEvent.message_id, ids, bulk)))
            )
            affected: dict[str, Lead] = {}
            run: list[dict] = []
            for item in events:
                if item["message_id"] in seen:
                    results[item["_call"]]["duplicates"] += 1
                    continue
                seen.add(item["message_id"])
                if bulk is not None and item["type"] != "identify" and not item.get("user_id"):
                    run.append(item)
                    continue
                if run:
                    self._ingest_run(session, bulk, run, now, affected, results)
                    run = []
                lead = self._lead_for_event(session, item, now)
                session.add(TrackedEvent(**_event_row(item, lead.id if lead else None, now)))
                results[item["_call"]]["accepted"] += 1
                if lead is not None:
                    _touch(lead, item["timestamp"])
                    affected[lead.id] = lead
                    results[item["_call"]]["leads"].add(lead.id)
                session.flush()
            if run:
                self._ingest_run(session, bulk, run, now, affected, results)
            for lead_id in list(affected):
                lead = session.get(Lead, lead_id)
                if lead is not None:  # may have been merged away by a later identify
                    self._rescore(session, lead, now, Actor.rule("behaviour"))
            return [{**result, "leads": sorted(result["leads"])} for result in results]

        if self.engine.dialect.name == "sqlite":
            # One writer at a time anyway: wait here, not in SQLite's sleeping busy handler.
            with _write_lock(self.url):
                return self.transaction(work)
        return self.transaction(work)

    def _ingest_run(
        self, session: Session, bulk: str, run: list[dict], now: datetime, affected: dict, results: list[dict]
    ) -> None:
        """Store events that change no identity (in time order, message ids not seen in this
        transaction): each joins its browser's lead, if the browser has one. One that a
        concurrent call stored meanwhile is counted as a duplicate in `results`."""
        session.flush()
        first_seen: dict[str, datetime] = {}
        for item in run:
            if item.get("anonymous_id"):
                first_seen.setdefault(item["anonymous_id"], item["timestamp"])  # the earliest: in time order
        lead_of: dict[str, str | None] = {}
        if first_seen:
            table = Visitor.__table__
            found = session.execute(
                select(table.c.anonymous_id, table.c.lead_id, table.c.first_seen_at).where(
                    _among(table.c.anonymous_id, list(first_seen), bulk)
                )
            ).all()
            lead_of = {anonymous_id: lead_id for anonymous_id, lead_id, _first in found}
            known_first = {anonymous_id: aware(first) for anonymous_id, _lead, first in found}
            new = [
                {"anonymous_id": a, "lead_id": None, "first_seen_at": t, "last_seen_at": now}
                for a, t in first_seen.items()
                if a not in lead_of
            ]
            created = _insert_new(session, bulk, table, new, "anonymous_id") if new else set()
            raced = [row["anonymous_id"] for row in new if row["anonymous_id"] not in created]
            if raced:  # created by a concurrent call meanwhile: it may know the lead already
                query = select(table.c.anonymous_id, table.c.lead_id).where(_among(table.c.anonymous_id, raced, bulk))
                lead_of.update(dict(session.execute(query).all()))
            earlier = [
                {"b_id": a, "b_first": t}
                for a, t in first_seen.items()
                if a not in created and (a not in known_first or t < known_first[a])
            ]
            if earlier:
                # In SQL, so a concurrent batch's earlier time is never overwritten with a later one;
                # only when it changes: a busy visitor's row is not rewritten (and locked) per batch.
                first = bindparam("b_first", type_=table.c.first_seen_at.type)
                session.execute(
                    update(table)
                    .where(table.c.anonymous_id == bindparam("b_id"), table.c.first_seen_at > first)
                    .values(first_seen_at=first),
                    earlier,
                )
                for row in earlier:  # this session's copy, if it has one, is out of date
                    visitor = session.identity_map.get(identity_key(Visitor, row["b_id"]))
                    if visitor is not None:
                        session.expire(visitor, ["first_seen_at"])
        lead_of = {a: lead_id for a, lead_id in lead_of.items() if lead_id}
        rows = [_event_row(item, lead_of.get(item.get("anonymous_id")), now) for item in run]
        stored = _insert_new(session, bulk, TrackedEvent.__table__, rows, "message_id")
        latest: dict[str, datetime] = {}
        for item, row in zip(run, rows, strict=True):
            result = results[item["_call"]]
            if row["message_id"] not in stored:
                result["duplicates"] += 1
                continue
            result["accepted"] += 1
            if row["lead_id"]:
                latest[row["lead_id"]] = row["timestamp"]  # in time order: the last is the latest
                result["leads"].add(row["lead_id"])
        if latest:
            for lead in session.scalars(select(Lead).where(_among(Lead.id, list(latest), bulk))):
                _touch(lead, latest[lead.id])
                affected[lead.id] = lead

    def _lead_for_event(self, session: Session, item: dict, now: datetime) -> Lead | None:
        anonymous_id = item.get("anonymous_id")
        visitor = None
        if anonymous_id:
            visitor = session.get(Visitor, anonymous_id)
            if visitor is None:
                visitor = Visitor(anonymous_id=anonymous_id, first_seen_at=item["timestamp"], last_seen_at=now)
                session.add(visitor)
            elif item["timestamp"] < aware(visitor.first_seen_at):
                # Only when it changes: a busy visitor's row is not rewritten (and locked) per event.
                visitor.first_seen_at = item["timestamp"]
            session.flush()
        if item["type"] == "identify":
            return self._identify(session, item, now)
        if item.get("user_id"):
            lead = session.scalars(select(Lead).where(Lead.user_id == item["user_id"])).first()
            if lead is not None:
                if anonymous_id:
                    self._attach_visitor(session, anonymous_id, lead, now)
                return session.get(Lead, lead.id)
        if visitor is not None and visitor.lead_id:
            return session.get(Lead, visitor.lead_id)
        return None

    def _identify(self, session: Session, item: dict, now: datetime) -> Lead | None:
        traits = item.get("traits") or {}
        email = traits.get("email")
        user_id = item.get("user_id")
        by_user = session.scalars(select(Lead).where(Lead.user_id == user_id)).first() if user_id else None
        by_email = serialize.find_by_email(session, email) if email else None
        lead = by_user or by_email
        if by_user is not None and by_email is not None and by_user.id != by_email.id:
            lines = self._merge_into(session, source=by_email, target=by_user, reason="identify: same user id")
            self._rescore(session, by_user, now, Actor.rule("identify"), lines)
        if lead is None and item.get("anonymous_id"):
            visitor = session.get(Visitor, item["anonymous_id"])
            candidate = session.get(Lead, visitor.lead_id) if visitor and visitor.lead_id else None
            if candidate is not None and (candidate.email_key is None or not email):
                lead = candidate  # the browser's anonymous lead learns who it is
        if lead is None:
            if not (email or user_id):
                return None
            lead = Lead(language=traits.get("language") or "es")
            session.add(lead)
        if email and lead.email_key is None:
            lead.email, lead.email_key = email, email.lower()
        if user_id and lead.user_id is None:
            lead.user_id = user_id

        lead.name = lead.name or traits.get("name")
        lead.company = lead.company or traits.get("company")
        profile = dict(lead.profile or {})
        profile.update({k: traits[k] for k in PROFILE_FIELDS if traits.get(k) is not None})
        lead.profile = profile
        session.flush()
        if user_id:  # events sent with this user id before anyone knew whose it was
            session.execute(
                update(TrackedEvent)
                .where(TrackedEvent.user_id == user_id, TrackedEvent.lead_id.is_(None))
                .values(lead_id=lead.id)
            )
        if item.get("anonymous_id"):
            self._attach_visitor(session, item["anonymous_id"], lead, now)
        return session.get(Lead, lead.id)
