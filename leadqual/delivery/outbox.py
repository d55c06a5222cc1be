"""Delivery to the CRM and the nurture tool that never loses a lead: a transactional outbox and
a delivery worker.

Whatever must reach another system is first written as an `OutboxMessage` in the same database
transaction as the change that caused it (`enqueue(session, ...)`): if that transaction rolls
back nothing is sent, and if it commits the message is stored as durably as the lead itself.

A `DeliveryWorker` then claims due messages and POSTs them, signed Standard Webhooks style
(`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256>`). A 2xx marks a
message delivered; a 5xx, 408, 429, a timeout or a refused connection is retried later with
exponential backoff and full jitter (Retry-After is honoured); any other answer parks it as a
dead letter, as does running out of attempts. An admin puts a dead letter back with `retry`.

Claims are leases (`locked_until`): a worker killed mid-delivery leaves a message whose lease
expires, and another worker sends it again. Delivery is therefore at-least-once; the receiver
dedupes on `webhook-id`, the message's idempotency key, which is the same on every attempt.

With no webhook URL configured (local mode) messages are appended as JSON lines to
`var/handoff-<kind>.jsonl` and marked delivered.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import random
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path

import requests
from sqlalchemy import Engine, create_engine, event, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from leadqual import settings, timeutil
from leadqual.db.tables import DEAD, DELIVERED, PENDING, CrmRecord, OutboxMessage, new_id
from leadqual.delivery import crm
from leadqual.delivery.crm import Connector, CrmError, Record
from leadqual.settings import VAR
from leadqual.timeutil import aware, now_or

__all__ = [
    "DeliveryWorker",
    "Destination",
    "Destinations",
    "InvalidSignature",
    "KINDS",
    "OutboxMessage",
    "enqueue",
    "sign",
    "signed_headers",
    "verify",
]

log = logging.getLogger(__name__)

# crm: sales-ready leads; nurture: consenting leads for marketing automation; live: a visitor
# waiting for a person in the chat (an alert for the SDRs, e.g. a chat-tool webhook).
KINDS = ("crm", "nurture", "live")
# Rows SQLite claims per write transaction.
SQLITE_CLAIM_CHUNK = 25
DEFAULT_HANDOFF_DIR = VAR


def enqueue(
    session: Session,
    kind: str,
    payload: dict,
    lead_id: str | None = None,
    key: str | None = None,
    destination: str | None = None,
    now: datetime | None = None,
) -> OutboxMessage:
    """Add a message to the outbox in the caller's transaction: it is sent only if that commits.

    `key` is the idempotency key (a new one if not given); enqueueing a key already in the
    outbox returns the stored message instead of adding a second one. It is due at `now` (the
    time of the change that caused it; the clock's now by default)."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; expected one of {KINDS}")
    if key is not None:
        existing = session.scalars(select(OutboxMessage).where(OutboxMessage.key == key)).first()
        if existing is not None:
            return existing
    due = now_or(now)
    message = OutboxMessage(
        id=new_id(),
        key=key or f"msg_{new_id()}",
        kind=kind,
        destination=destination or kind,
        payload=json.loads(json.dumps(payload, default=str)),  # what the JSON column can hold
        status=PENDING,
        attempts=0,
        next_attempt_at=due,
        created_at=due,
        lead_id=lead_id,
    )
    session.add(message)
    return message


# -- signing (Standard Webhooks) -----------------------------------------------------------


class InvalidSignature(ValueError):
    """A webhook whose signature is missing, wrong, or too old."""


def _secret_bytes(secret: str | bytes) -> bytes:
    if isinstance(secret, bytes):
        return secret
    if secret.startswith("whsec_"):
        return base64.b64decode(secret[len("whsec_") :])
    return secret.encode("utf-8")


def _body_bytes(body: str | bytes) -> bytes:
    return body.encode("utf-8") if isinstance(body, str) else body


def sign(secret: str | bytes, msg_id: str, timestamp: int, body: str | bytes) -> str:
    """`v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`."""
    signed = f"{msg_id}.{int(timestamp)}.".encode() + _body_bytes(body)
    digest = hmac.new(_secret_bytes(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def signed_headers(secret: str | bytes | None, msg_id: str, body: str | bytes, timestamp: int | None = None) -> dict:
    """The webhook-* headers of a delivery (no signature when there is no secret)."""
    timestamp = int(timeutil.timestamp()) if timestamp is None else int(timestamp)
    headers = {"webhook-id": msg_id, "webhook-timestamp": str(timestamp)}
    if secret:
        headers["webhook-signature"] = sign(secret, msg_id, timestamp, body)
    return headers


def verify(
    secret: str | bytes, headers: Mapping[str, str], body: str | bytes, tolerance: int = 300, now: float | None = None
) -> None:
    """Check a received webhook; raise InvalidSignature unless one of its `v1` signatures is
    right and its timestamp is within `tolerance` seconds of now (either way)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    msg_id = lowered.get("webhook-id")
    timestamp = lowered.get("webhook-timestamp")
    signatures = lowered.get("webhook-signature")
    if not msg_id or not timestamp or not signatures:
        raise InvalidSignature("missing webhook-id, webhook-timestamp or webhook-signature")
    try:
        stamp = int(timestamp)
    except ValueError:
        raise InvalidSignature("webhook-timestamp is not a number") from None
    now = timeutil.timestamp() if now is None else now
    if abs(now - stamp) > tolerance:
        raise InvalidSignature("webhook-timestamp is too old or in the future")
    expected = sign(secret, msg_id, stamp, body).split(",", 1)[1]
    for candidate in signatures.split():
        version, _, value = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(value, expected):
            return
    raise InvalidSignature("no matching signature")


# -- destinations --------------------------------------------------------------------------


@dataclass(frozen=True)
class Destination:
    """A webhook URL and its secret, (no URL) a local JSON-lines file, or a native CRM connector
    (hubspot.py, salesforce.py) that sends batches through the CRM's own API."""

    name: str
    url: str | None = None
    secret: str | None = None
    path: Path | None = None
    connector: Connector | None = None
    # "hubspot" / "salesforce" when LEADQUAL_CRM_DESTINATION names a native CRM (the connector
    # itself is attached by the process that delivers: `with_connector`).
    native: str | None = None

    @property
    def local(self) -> bool:
        return not self.url and self.connector is None and self.native is None


@dataclass
class Destinations:
    by_name: dict[str, Destination] = field(default_factory=dict)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, handoff_dir: str | Path | None = None) -> Destinations:
        """LEADQUAL_<KIND>_WEBHOOK_URL / _SECRET for crm and nurture; a kind without a URL is
        written to <handoff_dir or LEADQUAL_HANDOFF_DIR or var/>/handoff-<kind>.jsonl."""
        environ = os.environ if environ is None else environ
        folder = Path(handoff_dir or settings.HANDOFF_DIR.get(environ=environ) or DEFAULT_HANDOFF_DIR)
        found = {}
        for kind in KINDS:
            prefix = f"LEADQUAL_{kind.upper()}_WEBHOOK_"
            found[kind] = Destination(
                name=kind,
                url=settings.named(prefix + "URL").get(environ=environ) or None,
                secret=settings.named(prefix + "SECRET").get(environ=environ) or None,
                path=folder / f"handoff-{kind}.jsonl",
                native=crm.configured_system(environ) if kind == "crm" else None,
            )
        return cls(found)

    def get(self, name: str) -> Destination:
        try:
            return self.by_name[name]
        except KeyError:
            raise KeyError(f"no destination named {name!r}") from None

    def with_connector(self, name: str, connector: Connector | None) -> Destinations:
        """The same destinations with `name` (crm) sent through a CRM connector instead."""
        if connector is None:
            return self
        return Destinations(
            {**self.by_name, name: Destination(name=name, connector=connector, native=connector.system)}
        )


# -- the worker ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    """A message a worker holds until `locked_until`, under the claim token `token`."""

    id: str
    key: str
    kind: str
    destination: str
    payload: dict
    lead_id: str | None
    created_at: datetime
    attempts: int
    token: str


@dataclass(frozen=True)
class Outcome:
    ok: bool
    retry: bool = False
    status: int | None = None
    error: str | None = None
    retry_after: float | None = None
    record: Record | None = None  # what a CRM connector wrote (crm_records)


def _retry_after(value: str | None, now: datetime) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return max(0.0, (moment - now).total_seconds())


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


class DeliveryWorker:
    """Claims due outbox messages and delivers them; see the module's docstring.

    `engine_or_store_url` is an Engine, anything with an `.engine` (a LeadStore), or a URL.
    Timeouts are `(connect, read)` seconds; the lease (how long a claim keeps other workers
    off) defaults to both timeouts plus 30 s, so it outlives any single delivery."""

    def __init__(
        self,
        engine_or_store_url,
        destinations: Destinations | None = None,
        session: requests.Session | None = None,
        *,
        timeout: tuple[float, float] = (3.0, 10.0),
        backoff_base: float = 2.0,
        backoff_cap: float = 3600.0,
        max_attempts: int = 12,
        lease: float | None = None,
        batch_size: int = 20,
        rng: random.Random | None = None,
        worker_id: str | None = None,
    ) -> None:
        if isinstance(engine_or_store_url, Engine):
            self.engine = engine_or_store_url
        elif hasattr(engine_or_store_url, "engine"):
            self.engine = engine_or_store_url.engine
        else:
            url = str(engine_or_store_url)
            kwargs: dict = {"pool_pre_ping": True}
            if url.startswith("sqlite"):
                kwargs["connect_args"] = {"timeout": 15}
            self.engine = create_engine(url, **kwargs)
            if url.startswith("sqlite"):
                event.listen(self.engine, "connect", _sqlite_pragmas)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.destinations = destinations or Destinations.from_env()
        self.http = session or requests.Session()
        self.timeout = timeout
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.max_attempts = max_attempts
        self.lease = lease if lease is not None else sum(timeout) + 30.0
        self.batch_size = batch_size
        self.rng = rng or random.Random()
        self.worker_id = worker_id or uuid.uuid4().hex[:12]
        self._file_lock = threading.Lock()

    # -- scheduling

    def backoff(self, attempts: int) -> float:
        """Seconds before the next try after `attempts` failed ones: full jitter, uniform in
        [0, min(cap, base * 2^(attempts-1))]."""
        ceiling = min(self.backoff_cap, self.backoff_base * (2 ** max(0, attempts - 1)))
        return self.rng.uniform(0, ceiling)

    def _due(self, now: datetime):
        return (
            (OutboxMessage.status == PENDING)
            & (OutboxMessage.next_attempt_at <= now)
            & or_(OutboxMessage.locked_until.is_(None), OutboxMessage.locked_until < now)
        )

    def claim(self, now: datetime | None = None, limit: int | None = None) -> list[Claim]:
        """Take up to `limit` due messages for `lease` seconds; each claim counts as an attempt.
        PostgreSQL skips rows another worker is claiming (FOR UPDATE SKIP LOCKED); SQLite claims
        each row by a conditional UPDATE that only one worker can win."""
        now = now_or(now)
        limit = limit or self.batch_size
        until = now + timedelta(seconds=self.lease)
        query = select(OutboxMessage.id).where(self._due(now)).order_by(OutboxMessage.next_attempt_at).limit(limit)
        claims: list[Claim] = []
        if self.engine.dialect.name == "postgresql":
            with self.sessions.begin() as session:
                ids = list(session.scalars(query.with_for_update(skip_locked=True)))
                self._take(session, ids, now, until, claims)
        else:
            with self.sessions() as session:
                ids = list(session.scalars(query))
            # Short write transactions of a few rows each: SQLite has one writer, and the chat's
            # saves wait for it.
            for start in range(0, len(ids), SQLITE_CLAIM_CHUNK):
                with self.sessions.begin() as session:
                    self._take(session, ids[start : start + SQLITE_CLAIM_CHUNK], now, until, claims)
        return claims

    def _take(self, session: Session, ids: list[str], now: datetime, until: datetime, claims: list[Claim]) -> None:
        """Lease the messages of `ids` that are still due, in one conditional UPDATE: a row
        another worker took meanwhile no longer matches, so each message has one owner."""
        if not ids:
            return
        token = uuid.uuid4().hex
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids), self._due(now))
            .values(locked_until=until, locked_by=token, attempts=OutboxMessage.attempts + 1)
            .execution_options(synchronize_session=False)
        )
        rows = session.execute(
            select(
                OutboxMessage.id,
                OutboxMessage.key,
                OutboxMessage.kind,
                OutboxMessage.destination,
                OutboxMessage.payload,
                OutboxMessage.lead_id,
                OutboxMessage.created_at,
                OutboxMessage.attempts,
            ).where(OutboxMessage.id.in_(ids), OutboxMessage.locked_by == token)
        ).all()
        order = {message_id: i for i, message_id in enumerate(ids)}  # the due order of the query
        for row in sorted(rows, key=lambda r: order[r.id]):
            claims.append(
                Claim(
                    id=row.id,
                    key=row.key,
                    kind=row.kind,
                    destination=row.destination,
                    payload=row.payload,
                    lead_id=row.lead_id,
                    created_at=aware(row.created_at),
                    attempts=row.attempts,
                    token=token,
                )
            )

    # -- sending

    def body(self, claim: Claim) -> bytes:
        envelope = {
            "id": claim.key,
            "type": f"lead.{claim.kind}",
            "lead_id": claim.lead_id,
            "created_at": claim.created_at.isoformat() if claim.created_at else None,
            "data": claim.payload,
        }
        return json.dumps(envelope, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")

    def send(self, claim: Claim, now: datetime | None = None) -> Outcome:
        """One attempt at delivering a claimed message; never raises for the receiver's faults."""
        now = now_or(now)
        try:
            destination = self.destinations.get(claim.destination)
        except KeyError as exc:
            return Outcome(ok=False, error=str(exc))
        body = self.body(claim)
        if destination.local:
            return self._write_local(destination, body)
        if destination.native and destination.connector is None:
            return Outcome(ok=False, retry=True, error=f"no {destination.native} connector in this process")
        headers = {"content-type": "application/json", "user-agent": "leadqual-outbox/1"}
        headers.update(signed_headers(destination.secret, claim.key, body))
        try:
            response = self.http.post(
                destination.url, data=body, headers=headers, timeout=self.timeout, allow_redirects=False
            )
        except requests.Timeout as exc:
            return Outcome(ok=False, retry=True, error=f"timeout: {type(exc).__name__}")
        except requests.ConnectionError as exc:
            return Outcome(ok=False, retry=True, error=f"connection error: {str(exc)[:200]}")
        except requests.RequestException as exc:
            return Outcome(ok=False, retry=True, error=f"{type(exc).__name__}: {str(exc)[:200]}")
        status = response.status_code
        if 200 <= status < 300:
            return Outcome(ok=True, status=status)
        error = f"HTTP {status}: {response.text[:200]}".strip()
        if status >= 500 or status in (408, 429):
            return Outcome(
                ok=False,
                retry=True,
                status=status,
                error=error,
                retry_after=_retry_after(response.headers.get("retry-after"), now),
            )
        return Outcome(ok=False, retry=False, status=status, error=error)

    def _write_local(self, destination: Destination, body: bytes) -> Outcome:
        path = destination.path or DEFAULT_HANDOFF_DIR / f"handoff-{destination.name}.jsonl"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with self._file_lock, open(path, "ab") as out:
                out.write(body + b"\n")
                out.flush()
                os.fsync(out.fileno())
        except OSError as exc:
            return Outcome(ok=False, retry=True, error=f"cannot write {path}: {exc}")
        return Outcome(ok=True)

    def record(self, claim: Claim, outcome: Outcome, now: datetime | None = None) -> str:
        """Store an attempt's outcome; returns the message's new state ("delivered", "retrying",
        "dead", or "lost" when the claim had expired and another worker owns the message)."""
        return self.record_many([(claim, outcome)], now)[0]

    def record_many(self, results: list[tuple[Claim, Outcome]], now: datetime | None = None) -> list[str]:
        """`record` for a batch's outcomes, in one transaction (a CRM batch of 100 is one write)."""
        now = now_or(now)
        with self.sessions.begin() as session:
            lead_ids = sorted({claim.lead_id for claim, _ in results if claim.lead_id})
            if len(results) > 1 and lead_ids:  # loaded once: _record_crm then finds them in the session
                session.scalars(select(CrmRecord).where(CrmRecord.lead_id.in_(lead_ids))).all()
            delivered = self._delivered_together(session, results, now)
            states = [
                ((DELIVERED if claim.id in delivered else "lost"), None)
                if delivered is not None and outcome.ok
                else self._record_in(session, claim, outcome, now)
                for claim, outcome in results
            ]
            if delivered is not None:
                for (claim, outcome), (state, _) in zip(results, states, strict=True):
                    if outcome.ok and state == DELIVERED:
                        self._record_crm(session, claim, outcome, state, now)
        for (claim, _), (state, error) in zip(results, states, strict=True):
            if state == DEAD:
                log.warning("outbox message %s (%s) parked as dead: %s", claim.key, claim.kind, error)
        return [state for state, _ in states]

    def _delivered_together(self, session: Session, results: list[tuple[Claim, Outcome]], now: datetime):
        """A batch's delivered messages marked in one UPDATE per status code; the set of those
        still pending (the others are "lost"), or None for a single result (`_record_in` does it)."""
        ok = [(claim, outcome) for claim, outcome in results if outcome.ok]
        if len(ok) < 2:
            return None
        ids = [claim.id for claim, _ in ok]
        pending = set(
            session.scalars(select(OutboxMessage.id).where(OutboxMessage.id.in_(ids), OutboxMessage.status == PENDING))
        )
        for status in {outcome.status for _, outcome in ok}:
            chosen = [claim.id for claim, outcome in ok if outcome.status == status and claim.id in pending]
            if chosen:
                session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id.in_(chosen))
                    .values(
                        status=DELIVERED,
                        delivered_at=now,
                        last_status=status,
                        last_error=None,
                        locked_until=None,
                        locked_by=None,
                    )
                    .execution_options(synchronize_session=False)
                )
        return pending

    def _record_in(self, session: Session, claim: Claim, outcome: Outcome, now: datetime) -> tuple[str, str | None]:
        if outcome.ok:
            # Delivered is delivered, even if our lease ran out meanwhile.
            values = dict(
                status=DELIVERED,
                delivered_at=now,
                last_status=outcome.status,
                last_error=None,
                locked_until=None,
                locked_by=None,
            )
            where = [OutboxMessage.id == claim.id, OutboxMessage.status == PENDING]
            state = DELIVERED
        else:
            where = [OutboxMessage.id == claim.id, OutboxMessage.locked_by == claim.token]
            values = dict(last_status=outcome.status, last_error=(outcome.error or "")[:500], locked_until=None)
            if outcome.retry and claim.attempts < self.max_attempts:
                delay = self.backoff(claim.attempts)
                if outcome.retry_after is not None:
                    delay = max(delay, min(outcome.retry_after, self.backoff_cap))
                values.update(next_attempt_at=now + timedelta(seconds=delay))
                state = "retrying"
            else:
                if outcome.retry:
                    values["last_error"] = f"gave up after {claim.attempts} attempts: {outcome.error}"[:500]
                values.update(status=DEAD)
                state = DEAD
        changed = session.execute(
            update(OutboxMessage).where(*where).values(**values).execution_options(synchronize_session=False)
        ).rowcount
        if changed == 1:
            self._record_crm(session, claim, outcome, state, now)
        if changed != 1:
            return "lost", None
        error = values.get("last_error")
        return state, error if isinstance(error, str) else None

    def _record_crm(self, session: Session, claim: Claim, outcome: Outcome, state: str, now: datetime) -> None:
        """Keep the lead's CRM record (its page shows synced / pending / failed, with the reason)."""
        destination = self.destinations.by_name.get(claim.destination)
        if destination is None or destination.connector is None or not claim.lead_id:
            return
        system = destination.connector.system
        row = session.get(CrmRecord, (claim.lead_id, system))
        if claim.payload.get("type") in crm.ERASE_TYPES:
            if row is not None and state == DELIVERED:
                session.delete(row)
            return
        if row is None:
            row = CrmRecord(lead_id=claim.lead_id, system=system)
            session.add(row)
        if state == DELIVERED and outcome.record is not None and not (outcome.record.record_id or row.record_id):
            row.status, row.error = PENDING, outcome.record.warning  # nothing written there yet
        elif state == DELIVERED and outcome.record is not None:
            record = outcome.record
            row.record_id = record.record_id or row.record_id
            row.url = record.url or row.url
            row.remote_stage = record.remote_stage or row.remote_stage
            row.remote_owner = record.remote_owner or row.remote_owner
            row.status, row.error = "synced", record.warning
            row.synced_at = now
            if row.packet_at is None or (aware(row.packet_at) or claim.created_at) < claim.created_at:
                row.packet_at = claim.created_at
        elif state == DELIVERED:
            row.status = row.status if row.status == "synced" else "synced"
        else:
            row.status = "failed" if state == DEAD else PENDING
            row.error = (outcome.error or "")[:500]

    def run_once(self, now: datetime | None = None) -> dict:
        """Claim one batch of due messages and deliver them; returns the figures. Messages for a
        CRM connector go to it together, as one batch (HubSpot takes 100 contacts a call)."""
        figures = {"claimed": 0, "delivered": 0, "retrying": 0, "dead": 0, "lost": 0}
        limit = max([self.batch_size] + [d.connector.batch_limit for d in self._connected() if d.connector])
        claims = self.claim(now, limit=limit)
        figures["claimed"] = len(claims)
        batches: dict[str, list[Claim]] = {}
        for claim in claims:
            destination = self.destinations.by_name.get(claim.destination)
            if destination is not None and destination.connector is not None:
                batches.setdefault(claim.destination, []).append(claim)
                continue
            outcome = self.send(claim, now)
            figures[self.record(claim, outcome, now)] += 1
        for name, batch in batches.items():
            outcomes = self.send_batch(self.destinations.get(name), batch, now)
            for state in self.record_many(list(zip(batch, outcomes, strict=True)), now):
                figures[state] += 1
        return figures

    def _connected(self) -> list[Destination]:
        return [d for d in self.destinations.by_name.values() if d.connector is not None]

    def send_batch(self, destination: Destination, claims: list[Claim], now: datetime | None = None) -> list[Outcome]:
        """Deliver claimed messages through a CRM connector; a message older than the lead's last
        synced one is not sent (a retried packet must not overwrite a newer one)."""
        connector = destination.connector
        assert connector is not None
        outcomes: list[Outcome | None] = [None] * len(claims)
        fresh: list[int] = []
        with self.sessions() as session:
            lead_ids = sorted({c.lead_id for c in claims if c.lead_id})
            known = {
                row.lead_id: row
                for row in session.scalars(
                    select(CrmRecord).where(CrmRecord.system == connector.system, CrmRecord.lead_id.in_(lead_ids))
                )
            }
            for i, claim in enumerate(claims):
                synced = known.get(claim.lead_id) if claim.lead_id else None
                if (
                    synced is not None
                    and synced.packet_at is not None
                    and claim.payload.get("type") not in crm.ERASE_TYPES
                    and (aware(synced.packet_at) or claim.created_at) > claim.created_at
                ):
                    outcomes[i] = Outcome(ok=True, error="superseded by a newer change already in the CRM")
                else:
                    fresh.append(i)
        if fresh:
            messages: list[Mapping] = [
                {"key": claims[i].key, "payload": claims[i].payload, "created_at": claims[i].created_at} for i in fresh
            ]
            try:
                results = connector.deliver(messages)
            except CrmError as exc:
                results = [exc] * len(fresh)
            except Exception as exc:  # noqa: BLE001 - a connector's bug must not lose the batch
                log.exception("the %s connector failed", connector.system)
                results = [CrmError(f"{type(exc).__name__}: {exc}", retry=True)] * len(fresh)
            for i, result in zip(fresh, results, strict=True):
                if isinstance(result, CrmError):
                    outcomes[i] = Outcome(
                        ok=False,
                        retry=result.retry,
                        status=result.status,
                        error=str(result),
                        retry_after=result.retry_after,
                    )
                else:
                    outcomes[i] = Outcome(ok=True, status=200, record=result)
        return [o or Outcome(ok=False, retry=True, error="not sent") for o in outcomes]

    def run_forever(self, stop_event: threading.Event, idle: float = 1.0) -> None:
        """Deliver until `stop_event` is set; sleeps `idle` seconds when nothing is due or the
        database is unreachable."""
        while not stop_event.is_set():
            try:
                figures = self.run_once()
            except Exception:  # noqa: BLE001 - a database hiccup must not end the worker
                log.exception("outbox delivery round failed; trying again")
                stop_event.wait(idle)
                continue
            if not figures["claimed"]:
                stop_event.wait(idle)

    # -- admin

    def dead_letters(self, limit: int = 100) -> list[dict]:
        """Parked messages, newest first, for an admin to look at and retry."""
        with self.sessions() as session:
            rows = session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.status == DEAD)
                .order_by(OutboxMessage.created_at.desc())
                .limit(limit)
            )
            return [
                {
                    "id": row.id,
                    "key": row.key,
                    "kind": row.kind,
                    "destination": row.destination,
                    "lead_id": row.lead_id,
                    "attempts": row.attempts,
                    "last_status": row.last_status,
                    "last_error": row.last_error,
                    "created_at": aware(row.created_at).isoformat(),
                    "payload": row.payload,
                }
                for row in rows
            ]

    def retry(self, message_id: str, now: datetime | None = None) -> bool:
        """Put a dead letter back to pending, due now, with a fresh set of attempts. False if
        there is no such dead message."""
        now = now_or(now)
        with self.sessions.begin() as session:
            changed = session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == message_id, OutboxMessage.status == DEAD)
                .values(status=PENDING, attempts=0, next_attempt_at=now, locked_until=None, locked_by=None)
                .execution_options(synchronize_session=False)
            ).rowcount
        return changed == 1
