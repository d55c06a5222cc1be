"""HTTP routes of the tracking intake (Segment HTTP API paths), as a Sanic blueprint.

POST /v1/track, /v1/page, /v1/identify, /v1/batch; GET /v1/openapi.json. Write keys come from
the environment: LEADQUAL_WRITE_KEY (server: any call) and LEADQUAL_BROWSER_WRITE_KEY (public,
in the website's snippet: page views and the track events marketing allows for browsers).

- The browser key's page URLs must be on LEADQUAL_SITE_ORIGINS (space- or comma-separated
  origins, `https://*.example.com` for subdomains; by default LEADQUAL_CORS_ORIGINS, the sites
  the chat is embedded in). Neither set, or `*`: any origin (a warning is logged at start-up).
- Rate limits (leadqual/http/ratelimit.py) are charged per event, to the client address behind
  LEADQUAL_TRUSTED_PROXIES (leadqual/http/clientaddr.py).
- Registering the blueprint caps the size of every request the app reads at
  MAX_REQUEST_BYTES (Sanic's REQUEST_MAX_SIZE, checked against Content-Length before the body
  is read): a larger body is a 413 at once, not 100 MB read first.
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import json
import logging
import math
from datetime import datetime

from sanic import Blueprint, response
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from leadqual import settings, timeutil
from leadqual.db.tables import TrackedEvent
from leadqual.http import clientaddr, tracking
from leadqual.http.ratelimit import RateLimiter
from leadqual.http.tracking import IntakeError

log = logging.getLogger(__name__)

# The largest request body the action server reads (the intake's largest call is a 500 KB
# batch; Rasa's /webhook calls carry a conversation): nginx's client_max_body_size 1m.
MAX_REQUEST_BYTES = 1024 * 1024


def site_origins() -> tracking.Origins | None:
    """The origins the browser key's pages must be on (None: any)."""
    if settings.SITE_ORIGINS.get().strip():
        return tracking.parse_origins(settings.SITE_ORIGINS.get(), "LEADQUAL_SITE_ORIGINS")
    return tracking.parse_origins(settings.CORS_ORIGINS.get(), "LEADQUAL_CORS_ORIGINS")


def write_keys() -> dict[str, str]:
    """Configured write keys -> the scope each grants ("server" or "browser")."""
    keys = {}
    if settings.BROWSER_WRITE_KEY.get():
        keys[settings.BROWSER_WRITE_KEY.get()] = "browser"
    if settings.WRITE_KEY.get():
        keys[settings.WRITE_KEY.get()] = "server"
    return keys


def _presented_key(request) -> str | None:
    header = request.headers.get("authorization") or ""
    if header.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return None
        return decoded.split(":", 1)[0] or None
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return None


def _scope_for(key: str | None, config) -> tracking.Scope:
    keys = write_keys()
    if not keys:
        raise IntakeError(503, "the tracking intake is not configured: set LEADQUAL_WRITE_KEY")
    if not key:
        raise IntakeError(401, "a write key is required: HTTP Basic with the key as user name, or writeKey in the body")
    for known, scope in keys.items():
        # surrogatepass: a key from a JSON body may hold a lone surrogate ("\ud800").
        if hmac.compare_digest(known.encode(), key.encode("utf-8", "surrogatepass")):
            return tracking.server_scope() if scope == "server" else tracking.browser_scope(config, site_origins())
    raise IntakeError(401, "unknown write key")


def _body_key(raw: bytes) -> str | None:
    try:
        body = json.loads(raw or b"null")
    except (ValueError, RecursionError):
        return None
    key = body.get("writeKey") if isinstance(body, dict) else None
    return key if isinstance(key, str) and key else None


def _error(exc: IntakeError):
    headers = {"WWW-Authenticate": 'Basic realm="tracking"'} if exc.status == 401 else {}
    if exc.status == 503:
        headers["Retry-After"] = "5"
    if exc.status == 429:
        headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after)))
    return response.json(exc.to_dict(), status=exc.status, headers=headers)


class GroupCommit:
    """Store the events of calls that arrive together in one transaction (group commit).

    A call's events are stored at once when a writer is free; calls arriving while `writers`
    transactions (one on SQLite) are under way wait, then go in together (up to `max_events`),
    so under load one commit and one re-score per lead serve many calls. Each call gets its
    own result. If a group fails, its calls are tried one by one, so one call's error is never
    another's: a database that is down still fails each (503), and nothing is reported stored
    that was not.

    Before a group is stored, `check(store, [(events, batch), ...])` (if given) may refuse some
    of its calls: it returns an IntakeError or None for each, and the refused ones get their
    error and are left out of the group.
    """

    def __init__(self, writers: int = 2, max_events: int = 1000, check=None) -> None:
        self.writers = writers
        self.max_events = max_events
        self.check = check
        self._queue: list[tuple] = []
        self._running = 0
        self._tasks: set[asyncio.Task] = set()  # referenced until done (asyncio keeps weak ones)

    async def store(self, store, events: list[dict], received_at: datetime, batch: bool = False) -> dict:
        future = asyncio.get_running_loop().create_future()
        self._queue.append((store, events, received_at, future, batch))
        # SQLite has one writer at a time: a second transaction would only wait for the lock.
        if self._running < (1 if store.engine.dialect.name == "sqlite" else self.writers):
            self._running += 1
            task = asyncio.ensure_future(self._drain())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        # shield: a caller that goes away does not cancel what is being stored for others.
        return await asyncio.shield(future)

    def _take(self) -> list[tuple]:
        """The oldest call and those after it for the same store and config, up to max_events."""
        first = self._queue[0]
        group, rest, size = [], [], 0
        for entry in self._queue:
            same = entry[0].url == first[0].url and entry[0].config is first[0].config
            if same and (not group or size + len(entry[1]) <= self.max_events):
                group.append(entry)
                size += len(entry[1])
            else:
                rest.append(entry)
        self._queue = rest
        return group

    async def _drain(self) -> None:
        try:
            while self._queue:
                await self._commit(self._take())
        finally:
            self._running -= 1

    async def _commit(self, group: list[tuple]) -> None:
        store = group[0][0]
        if self.check is not None:
            try:
                refusals = await asyncio.to_thread(self.check, store, [(entry[1], entry[4]) for entry in group])
            except Exception:  # noqa: BLE001 - storing them then fails (503) or succeeds on its own
                log.warning("checking message ids before storing failed", exc_info=True)
                refusals = [None] * len(group)
            for entry, refusal in zip(group, refusals, strict=True):
                if refusal is not None:
                    _settle(entry[3], exc=refusal)
            group = [entry for entry, refusal in zip(group, refusals, strict=True) if refusal is None]
            if not group:
                return
        try:
            results = await asyncio.to_thread(
                store.ingest_calls, [entry[1] for entry in group], max(entry[2] for entry in group)
            )
        except Exception as exc:  # noqa: BLE001 - each call is tried alone below, or gets the error
            if len(group) == 1:
                _settle(group[0][3], exc=exc)
                return
            for entry in group:
                try:
                    [result] = await asyncio.to_thread(entry[0].ingest_calls, [entry[1]], entry[2])
                except Exception as alone:  # noqa: BLE001 - handed to the caller
                    _settle(entry[3], exc=alone)
                else:
                    _settle(entry[3], result)
            return
        for entry, result in zip(group, results, strict=True):
            _settle(entry[3], result)


def _settle(future: asyncio.Future, result: dict | None = None, exc: BaseException | None = None) -> None:
    """Hand a call its result or error (unless its caller went away)."""
    if future.done():
        return
    if exc is not None:
        future.set_exception(exc)
    else:
        future.set_result(result)


def message_id_conflicts(store, calls: list[tuple[list[dict], bool]]) -> list[IntakeError | None]:
    """For each call (its events, whether it is a batch): a 409 when one of its message ids is
    already stored, or used earlier in the same call or by an earlier call of `calls`, for an
    event with other content; else None. (Two such calls racing in separate transactions: the
    second is counted as a duplicate.)"""
    ids = list({event["message_id"] for events, _batch in calls for event in events})
    known: dict[str, str] = {}
    columns = (
        TrackedEvent.message_id,
        TrackedEvent.source,
        TrackedEvent.type,
        TrackedEvent.name,
        TrackedEvent.url,
        TrackedEvent.anonymous_id,
        TrackedEvent.user_id,
        TrackedEvent.properties,
    )
    with store.sessions() as session:
        for start in range(0, len(ids), 500):
            query = select(*columns).where(TrackedEvent.message_id.in_(ids[start : start + 500]))
            for message_id, *content in session.execute(query):
                known[message_id] = tracking.content_key(*content)
    refusals: list[IntakeError | None] = []
    for events, batch in calls:
        mine: dict[str, str] = {}
        refusal = None
        for i, event in enumerate(events):
            key = tracking.event_content_key(event)
            if known.get(event["message_id"], key) != key or mine.setdefault(event["message_id"], key) != key:
                refusal = tracking.conflict(tracking.message_id_field(i, batch))
                break
        if refusal is None:
            known.update(mine)
        refusals.append(refusal)
    return refusals


def tracking_blueprint(store_factory, config_factory) -> Blueprint:
    """Routes over the lead store returned by `store_factory()` (created lazily, per process)."""
    bp = Blueprint("tracking", url_prefix="/v1")
    limiter = RateLimiter()
    committer = GroupCommit(check=message_id_conflicts)
    clientaddr.trusted_proxies()  # a bad LEADQUAL_TRUSTED_PROXIES fails at start-up, named
    if site_origins() is None and settings.BROWSER_WRITE_KEY.get():
        log.warning(
            "LEADQUAL_SITE_ORIGINS (or LEADQUAL_CORS_ORIGINS) is not set: the browser write key is "
            "taken for pages of any site; set it to the website's origins"
        )

    @bp.listener("before_server_start")
    async def cap_request_size(app, _loop=None):
        # Read by each connection when it opens: bodies over it are refused (413) from their
        # Content-Length, before they are read.
        app.config.REQUEST_MAX_SIZE = min(app.config.REQUEST_MAX_SIZE, MAX_REQUEST_BYTES)

    def limit(client: str, kind: str, events: int = 1) -> None:
        """Charge `events` to the client's bucket for `kind`: 429 when it is empty."""
        wait = limiter.take(kind, client, events)
        if wait:
            raise IntakeError(
                429, f"too many calls from this client (each event counts); retry in {wait:.1f} s", retry_after=wait
            )

    async def handle(request, kind: str):
        config = config_factory()
        raw = request.body or b""
        client = clientaddr.rate_key(clientaddr.of_request(request))
        try:
            tracking.check_size(raw, kind)  # before reading a key from the body
            try:
                scope = _scope_for(_presented_key(request) or _body_key(raw), config)
            except IntakeError as exc:
                if exc.status == 401:
                    limit(client, "unknown")  # guessing keys is slowed down too
                raise
            limit(client, scope.name)  # the call's first event, before it is parsed
            calls = tracking.parse_body(raw, kind)
            most = limiter.limits[scope.name].burst
            if len(calls) > most:
                message = f"this write key may send at most {most:g} events per call; this one has {len(calls)}"
                raise IntakeError(413, message, [{"field": "batch", "message": message}])
            if len(calls) > 1:
                limit(client, scope.name, len(calls) - 1)  # and every other event
            tracking.check_scope(calls, scope, batch=kind == "batch")
            received_at = timeutil.now()
            events = tracking.normalize(calls, scope, received_at, config.behaviour.page_event, kind == "batch")
            try:
                result = await committer.store(store_factory(), events, received_at, kind == "batch")
            except SQLAlchemyError:
                log.exception("storing %d tracking event(s) failed", len(events))
                raise IntakeError(503, "events could not be stored now; retry with the same messageId") from None
        except IntakeError as exc:
            return _error(exc)
        return response.json({"success": True, "accepted": result["accepted"], "duplicates": result["duplicates"]})

    def route(kind: str):
        async def endpoint(request):
            return await handle(request, kind)

        return endpoint

    # Segment's paths, and the short ones analytics.js posts to.
    for kind in ("track", "page", "identify", "batch"):
        bp.add_route(route(kind), f"/{kind}", methods=["POST"], name=kind)
        bp.add_route(route(kind), f"/{kind[0]}", methods=["POST"], name=f"{kind}_short")

    @bp.get("/openapi.json")
    async def openapi(request):
        return response.json(tracking.openapi())

    return bp
