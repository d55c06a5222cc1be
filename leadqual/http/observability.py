"""Readiness, Prometheus metrics and logs for the product's servers (action server, console).

- `GET /ready`: 200 `{"ready": true, "revision": ...}` when the database answers and its schema is
  at the newest Alembic revision; otherwise 503 with `{"ready": false, "reason": ...}`. (`/health`
  only says the process is up: a probe that restarts on it must not depend on the database.)
- `GET /metrics` (action server): the Prometheus text format, only with `LEADQUAL_METRICS_TOKEN`
  set (16 characters or more), and only to a request sending it as `Authorization: Bearer <token>`
  (401 otherwise); without the variable /metrics answers 404. Counters and latency histograms
  of custom action runs (one `action_read_message` run per visitor message, so that action's
  count is the number of turns), NLG calls and tracking-intake calls and events; gauges computed
  at scrape time with one GROUP BY each: leads by stage, outbox messages pending or dead by kind,
  and conversations waiting in the spool file.
- Logs: `LEADQUAL_LOG_FORMAT=json` writes one JSON object per line (time, level, logger,
  message, service, exception); any other value keeps plain text. Either way a filter masks
  email addresses and phone numbers in every message and traceback before it is written.
- Files: a server process that configures its logging here (`configure_logging`: the action
  server, the console) creates every file readable by its own user only (umask 077): the SQLite
  database, the handoff files, the spool hold visitors' personal data.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import os
import time
import traceback
import zlib
from collections.abc import Callable
from datetime import datetime, timezone
from functools import lru_cache

from prometheus_client import CollectorRegistry, Counter, Histogram, PlatformCollector, ProcessCollector
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from leadqual import settings
from leadqual.db import schema
from leadqual.delivery.outbox import DEAD, KINDS, PENDING
from leadqual.masking import EMAIL, EMAIL_MASK, NOT_PHONE, PHONE, PHONE_MASK, mask  # noqa: F401 (re-exported)
from leadqual.scoring.stages import STAGES

log = logging.getLogger(__name__)

# -- logs ----------------------------------------------------------------------------------


class MaskingFilter(logging.Filter):
    """Masks personal data in a record's message, its traceback and its extra string fields."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format string is logged as it is
            return True
        masked = mask(message)
        if masked != message or record.args:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        if record.exc_text:
            record.exc_text = mask(record.exc_text)
        if record.stack_info:
            record.stack_info = mask(record.stack_info)
        for key, value in list(vars(record).items()):
            if key not in _STANDARD and isinstance(value, str):
                setattr(record, key, mask(value))
        return True


_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, service, and
    `exception` / extra fields when present."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "service": self.service,
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in entry:
                entry[key] = value
        return json.dumps(entry, ensure_ascii=False, default=str)


PRIVATE_UMASK = 0o077


def private_files() -> None:
    """Files this process creates from now on are readable and writable by its user only (0600,
    directories 0700): var/leads.db (created by SQLite), var/handoff-*.jsonl, the spool."""
    os.umask(PRIVATE_UMASK)


def configure_logging(service: str) -> None:
    """Set-up of a server process: root logging (level from LEADQUAL_LOG_LEVEL, INFO; format from
    LEADQUAL_LOG_FORMAT, `json` or plain text; personal data masked either way), and the files it
    creates private to its user (`private_files`). Call it first, before anything opens a file."""
    private_files()
    handler = logging.StreamHandler()
    as_json = settings.LOG_FORMAT.get().lower() == "json"
    handler.setFormatter(JsonFormatter(service) if as_json else logging.Formatter(logging.BASIC_FORMAT))
    handler.addFilter(MaskingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.LOG_LEVEL.get().upper())
    adopt_library_loggers()


def adopt_library_loggers() -> None:
    """Loggers that libraries gave handlers of their own (Sanic's) write through the root
    handler in JSON mode, and are masked in any mode. Call again after creating a Sanic app."""
    root = logging.getLogger()
    as_json = any(isinstance(h.formatter, JsonFormatter) for h in root.handlers)
    for logger in list(logging.root.manager.loggerDict.values()):
        if not isinstance(logger, logging.Logger) or not logger.handlers:
            continue
        if as_json:
            logger.handlers.clear()
            logger.propagate = True
        else:
            for handler in logger.handlers:
                if not any(isinstance(f, MaskingFilter) for f in handler.filters):
                    handler.addFilter(MaskingFilter())


# -- readiness -----------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _head() -> str:
    return schema.head()


def readiness(engine) -> tuple[bool, dict]:
    """(ready, body): the database answers and is at the newest revision."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        revision = schema.current(engine)
    except Exception as exc:  # noqa: BLE001 - whatever the driver raises, the answer is "not ready"
        detail = mask(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)
        return False, {"ready": False, "reason": "database unreachable", "detail": detail}
    head = _head()
    if revision != head:
        return False, {
            "ready": False,
            "reason": f"database schema at revision {revision}, expected {head}",
            "revision": revision,
            "head": head,
        }
    return True, {"ready": True, "revision": revision}


def add_readiness(app, engine: Callable[[], object]) -> None:
    """GET /ready on a Sanic app; `engine()` gives the SQLAlchemy engine (it may raise)."""
    from sanic import response

    def check() -> tuple[bool, dict]:
        try:
            return readiness(engine())
        except Exception as exc:  # noqa: BLE001 - e.g. the store could not be opened
            return False, {"ready": False, "reason": "database unreachable", "detail": mask(str(exc))[:300]}

    @app.get("/ready")
    async def ready(request):
        ok, body = await asyncio.to_thread(check)
        return response.json(body, status=200 if ok else 503)


# -- metrics -------------------------------------------------------------------------------

REGISTRY = CollectorRegistry(auto_describe=True)
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
ACTION_RUNS = Counter(
    "leadqual_action_runs",
    "Custom action runs for Rasa by action and outcome (ok, rejected, unknown, error); "
    "action_read_message runs once per visitor message: its count is the number of turns",
    ["action", "outcome"],
    registry=REGISTRY,
)
ACTION_SECONDS = Histogram(
    "leadqual_action_duration_seconds",
    "Time to run a custom action, by action",
    ["action"],
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)
TURNS = Counter("leadqual_turns", "Visitor messages processed (runs of action_read_message)", registry=REGISTRY)
NLG_CALLS = Counter("leadqual_nlg_requests", "NLG calls (a rendered reply) by outcome", ["outcome"], registry=REGISTRY)
NLG_SECONDS = Histogram(
    "leadqual_nlg_duration_seconds", "Time to render a reply", buckets=LATENCY_BUCKETS, registry=REGISTRY
)
INTAKE_CALLS = Counter(
    "leadqual_intake_requests", "Tracking intake calls by call and HTTP status", ["call", "status"], registry=REGISTRY
)
INTAKE_EVENTS = Counter(
    "leadqual_intake_events", "Tracking events received, by result (accepted, duplicate)", ["result"], registry=REGISTRY
)
INTAKE_CALL_NAMES = {"track": "track", "page": "page", "identify": "identify", "batch": "batch"}
INTAKE_CALL_NAMES |= {name[0]: name for name in list(INTAKE_CALL_NAMES)}
OUTCOMES = {200: "ok", 400: "rejected", 404: "unknown"}
# At most this many distinct action names become labels (the registered actions are fewer).
MAX_ACTION_LABELS = 200


class StoreCollector:
    """Gauges read from the database at scrape time: leads by stage, outbox depth by kind and
    state, and conversations waiting in the spool (`leadqual_database_up` 0 if unreadable)."""

    def __init__(self, engine: Callable[[], object], spool: Callable[[], object] | None = None) -> None:
        self.engine, self.spool = engine, spool

    def describe(self):
        return []

    def collect(self):
        up = GaugeMetricFamily("leadqual_database_up", "1 when this scrape could read the product's database")
        if self.spool is not None:
            waiting = GaugeMetricFamily(
                "leadqual_spool_pending", "Conversations whose answers wait in the spool file for the database"
            )
            try:
                waiting.add_metric([], len(self.spool().pending()))
                yield waiting
            except Exception:  # noqa: BLE001 - a scrape never fails for one figure
                log.warning("metrics: reading the spool failed", exc_info=True)
        try:
            with self.engine().connect() as connection:
                stages = dict(connection.execute(text("SELECT stage, count(*) FROM leads GROUP BY stage")).all())
                outbox = connection.execute(
                    text(
                        "SELECT kind, status, count(*) FROM outbox_messages "
                        "WHERE status IN (:pending, :dead) GROUP BY kind, status"
                    ),
                    {"pending": PENDING, "dead": DEAD},
                ).all()
        except Exception as exc:  # noqa: BLE001 - the database may be down: say so, don't fail
            log.warning("metrics: reading the database failed: %s", str(exc).splitlines()[0] if str(exc) else exc)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        leads = GaugeMetricFamily("leadqual_leads", "Leads by stage", labels=["stage"])
        for stage in list(STAGES) + sorted(set(stages) - set(STAGES)):
            leads.add_metric([stage], stages.get(stage, 0))
        yield leads
        depth = GaugeMetricFamily(
            "leadqual_outbox_messages", "Outbox messages not delivered, by kind and state", labels=["kind", "state"]
        )
        counts = {(kind, status): count for kind, status, count in outbox}
        for kind in sorted(set(KINDS) | {k for k, _ in counts}):
            for state in (PENDING, DEAD):
                depth.add_metric([kind, state], counts.get((kind, state), 0))
        yield depth


def _action_name(request) -> str | None:
    try:
        body = request.body or b""
        if request.headers.get("content-encoding") == "deflate":
            body = zlib.decompress(body)
        name = json.loads(body).get("next_action")
    except Exception:  # noqa: BLE001 - a bad body is the webhook's business, not the metrics'
        return None
    return name if isinstance(name, str) else None


MIN_METRICS_TOKEN_LENGTH = 16


class WeakMetricsToken(SystemExit):
    """LEADQUAL_METRICS_TOKEN is set but too short to be a secret: the server does not start."""


def metrics_token(environ=None) -> str:
    """LEADQUAL_METRICS_TOKEN ("" when unset: /metrics is off); a short one stops the start."""
    token = settings.METRICS_TOKEN.get(environ=environ).strip()
    if token and len(token) < MIN_METRICS_TOKEN_LENGTH:
        raise WeakMetricsToken(
            f"LEADQUAL_METRICS_TOKEN must be at least {MIN_METRICS_TOKEN_LENGTH} characters (or unset to turn "
            "/metrics off); generate one: python3 -c 'import secrets; print(secrets.token_urlsafe(24))'"
        )
    return token


def bearer_matches(header: str | None, token: str) -> bool:
    """An `Authorization: Bearer <token>` header with exactly this token (compared in constant time)."""
    scheme, _, given = (header or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not token:
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())


def install(app, engine: Callable[[], object], spool: Callable[[], object] | None = None) -> None:
    """On the action server's Sanic app: GET /ready, GET /metrics, and the timing of /webhook
    (custom actions), /nlg and /v1/* (tracking intake)."""
    from sanic import response

    add_readiness(app, engine)
    scraped = CollectorRegistry(auto_describe=False)
    scraped.register(StoreCollector(engine, spool))
    known_actions: set[str] = set()

    token = metrics_token()

    @app.get("/metrics")
    async def metrics(request):
        # Lead counts by stage, outbox depth and traffic are business figures: served only to a
        # scraper sending LEADQUAL_METRICS_TOKEN (`authorization: {credentials: ...}` in
        # Prometheus' scrape config), and not at all without one.
        if not token:
            return response.json({"error": "not found"}, status=404)
        if not bearer_matches(request.headers.get("authorization"), token):
            return response.json(
                {"error": "send Authorization: Bearer <LEADQUAL_METRICS_TOKEN>"},
                status=401,
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            )
        body = generate_latest(REGISTRY) + await asyncio.to_thread(generate_latest, scraped)
        return response.raw(body, content_type=CONTENT_TYPE_LATEST)

    @app.on_request
    async def _start_timer(request):
        request.ctx.metrics_started = time.perf_counter()

    @app.on_response
    async def _observe(request, resp):
        started = getattr(request.ctx, "metrics_started", None)
        if started is None or request.method != "POST":
            return
        elapsed = time.perf_counter() - started
        path = request.path
        if path == "/webhook":
            name = _action_name(request) or "other"
            if resp.status == 200 and len(known_actions) < MAX_ACTION_LABELS:
                known_actions.add(name)
            label = name if name in known_actions else "other"
            ACTION_RUNS.labels(label, OUTCOMES.get(resp.status, "error")).inc()
            ACTION_SECONDS.labels(label).observe(elapsed)
            if name == "action_read_message" and resp.status == 200:
                TURNS.inc()
        elif path == "/nlg":
            NLG_CALLS.labels(OUTCOMES.get(resp.status, "error")).inc()
            NLG_SECONDS.observe(elapsed)
        elif path.startswith("/v1/") and path[4:] in INTAKE_CALL_NAMES:
            INTAKE_CALLS.labels(INTAKE_CALL_NAMES[path[4:]], str(resp.status)).inc()
            if resp.status == 200:
                try:
                    result = json.loads(resp.body)
                    INTAKE_EVENTS.labels("accepted").inc(int(result.get("accepted", 0)))
                    INTAKE_EVENTS.labels("duplicate").inc(int(result.get("duplicates", 0)))
                except (ValueError, TypeError, AttributeError):
                    pass
