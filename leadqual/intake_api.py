"""HTTP routes of the tracking intake (Segment HTTP API paths), as a Sanic blueprint.

POST /v1/track, /v1/page, /v1/identify, /v1/batch; GET /v1/openapi.json. Write keys come from
the environment: LEADQUAL_WRITE_KEY (server: any call) and LEADQUAL_BROWSER_WRITE_KEY (public,
in the website's snippet: page views and the track events marketing allows for browsers).
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import json
import logging
import math
import os
from datetime import datetime, timezone

from sanic import Blueprint, response
from sqlalchemy.exc import SQLAlchemyError

from leadqual import tracking
from leadqual.ratelimit import RateLimiter
from leadqual.tracking import IntakeError

log = logging.getLogger(__name__)


def write_keys() -> dict[str, str]:
    """Configured write keys -> the scope each grants ("server" or "browser")."""
    keys = {}
    if os.environ.get("LEADQUAL_BROWSER_WRITE_KEY"):
        keys[os.environ["LEADQUAL_BROWSER_WRITE_KEY"]] = "browser"
    if os.environ.get("LEADQUAL_WRITE_KEY"):
        keys[os.environ["LEADQUAL_WRITE_KEY"]] = "server"
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
            return tracking.server_scope() if scope == "server" else tracking.browser_scope(config)
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


def tracking_blueprint(store_factory, config_factory) -> Blueprint:
    """Routes over the lead store returned by `store_factory()` (created lazily, per process)."""
    bp = Blueprint("tracking", url_prefix="/v1")
    limiter = RateLimiter()

    def limit(request, kind: str) -> None:
        # The address the proxy saw (Sanic honours X-Forwarded-For when configured to trust it).
        client = request.remote_addr or request.ip or "?"
        wait = limiter.take(kind, client)
        if wait:
            raise IntakeError(429, f"too many calls from this client; retry in {wait:.1f} s", retry_after=wait)

    async def handle(request, kind: str):
        config = config_factory()
        raw = request.body or b""
        try:
            tracking.check_size(raw, kind)  # before reading a key from the body
            try:
                scope = _scope_for(_presented_key(request) or _body_key(raw), config)
            except IntakeError as exc:
                if exc.status == 401:
                    limit(request, "unknown")  # guessing keys is slowed down too
                raise
            limit(request, scope.name)
            calls = tracking.parse_body(raw, kind)
            tracking.check_scope(calls, scope, batch=kind == "batch")
            received_at = datetime.now(timezone.utc)
            events = tracking.normalize(calls, scope, received_at, config.behaviour.page_event, kind == "batch")
            try:
                result = await asyncio.to_thread(store_factory().ingest_events, events, received_at)
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
