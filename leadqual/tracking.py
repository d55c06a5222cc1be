"""Tracking intake: validate Segment/RudderStack `track`, `page`, `identify` and `batch` calls
and turn them into the events the lead store scores.

No HTTP framework here (see intake_api.py): this module says what a valid call is, which
write key may send what, and when an event happened.

- Each call needs `anonymousId` or `userId`. `messageId` makes a retry idempotent; a call
  without one gets a hash of its content, so an identical retry is still stored once.
- When it happened: `timestamp` (else `originalTimestamp`), corrected for the sender's clock
  with `sentAt` as Segment does (receivedAt - (sentAt - originalTimestamp)); never later than
  when it was received; kept in UTC.
- The browser (public) key may send `page` and the `track` events listed in
  `behaviour.browser_events`, with an `anonymousId`; `identify` and every other `track` need
  the server key. A `userId` from the browser is ignored: anyone could claim someone else's.
- Sizes: 32 KB per call, 500 KB per batch, 500 calls per batch (Segment's own limits).
- A batch's own `sentAt` and `context` apply to each of its calls.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Annotated, Any, Literal

from email_validator import EmailNotValidError, validate_email
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

from leadqual.config import QualificationConfig
from leadqual.timeutil import aware

MAX_CALL_BYTES = 32 * 1024
MAX_BATCH_BYTES = 500 * 1024
MAX_BATCH_CALLS = 500

ANONYMOUS_ID_PATTERN = r"^[A-Za-z0-9_.:-]{8,64}$"


class IntakeError(ValueError):
    """A call that is refused: `status` is the HTTP status, `problems` name each field."""

    def __init__(self, status: int, message: str, problems: list[dict] | None = None, retry_after: float = 0.0) -> None:
        super().__init__(message)
        self.status = status
        self.problems = problems or []
        self.retry_after = retry_after  # seconds, for 429

    def to_dict(self) -> dict:
        return {"success": False, "error": str(self), "problems": self.problems}


# What `_someone` checks, in the OpenAPI document too: an anonymousId or a userId, not null.
_IDENTITY_SCHEMA = {
    "anyOf": [
        {"required": ["anonymousId"], "properties": {"anonymousId": {"type": "string"}}},
        {"required": ["userId"], "properties": {"userId": {"type": ["string", "integer"]}}},
    ]
}


class _Call(BaseModel):
    # Senders add many fields of their own (channel, integrations, version...): ignored.
    model_config = ConfigDict(extra="ignore", json_schema_extra=_IDENTITY_SCHEMA)

    messageId: str | None = Field(default=None, min_length=1, max_length=100)
    anonymousId: str | None = Field(default=None, pattern=ANONYMOUS_ID_PATTERN)
    userId: str | None = Field(default=None, min_length=1, max_length=200)
    timestamp: datetime | None = None
    originalTimestamp: datetime | None = None
    sentAt: datetime | None = None
    context: dict[str, Any] = {}

    @field_validator("userId", mode="before")
    @classmethod
    def _user_id_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @model_validator(mode="after")
    def _someone(self):
        if not (self.anonymousId or self.userId):
            raise PydanticCustomError("identity_required", "anonymousId or userId is required")
        return self


class TrackCall(_Call):
    type: Literal["track"] = "track"
    event: str = Field(min_length=1, max_length=200)
    properties: dict[str, Any] = {}


class PageCall(_Call):
    type: Literal["page"] = "page"
    name: str | None = Field(default=None, max_length=200)
    properties: dict[str, Any] = {}


class IdentifyCall(_Call):
    type: Literal["identify"] = "identify"
    traits: dict[str, Any] = {}


AnyCall = Annotated[TrackCall | PageCall | IdentifyCall, Field(discriminator="type")]


class BatchCall(BaseModel):
    model_config = ConfigDict(extra="ignore")

    batch: list[AnyCall] = Field(min_length=1, max_length=MAX_BATCH_CALLS)
    sentAt: datetime | None = None
    context: dict[str, Any] = {}


MODELS: dict[str, type[BaseModel]] = {"track": TrackCall, "page": PageCall, "identify": IdentifyCall}
_BATCH = TypeAdapter(BatchCall)


def _where(loc: tuple) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part not in ("track", "page", "identify") or not text.endswith("]"):
            text += ("." if text else "") + str(part)
    return text or "(body)"


# Errors pydantic reports on the whole call that are really about one field of it.
_ERROR_FIELD = {"identity_required": "anonymousId", "union_tag_invalid": "type", "union_tag_not_found": "type"}


def _problems(exc: ValidationError) -> list[dict]:
    problems = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        if err["type"] in _ERROR_FIELD:
            loc += (_ERROR_FIELD[err["type"]],)
        problems.append({"field": _where(loc), "message": err["msg"]})
    return problems


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"the number {text[:30]} is too large")
    return value


# NUL, and lone surrogates (\ud800 escaped in JSON): text that databases and UTF-8 cannot store.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _unstorable_field(body: Any) -> str | None:
    """Where a string (or a key) holds a character that cannot be stored as text."""
    stack: list[tuple[str, Any]] = [("", body)]
    while stack:
        where, value = stack.pop()
        if isinstance(value, str) and _UNSTORABLE.search(value):
            return where or "(body)"
        if isinstance(value, dict):
            for key, item in value.items():
                if _UNSTORABLE.search(key):
                    return where or "(body)"
                stack.append((f"{where}.{key}" if where else key, item))
        elif isinstance(value, list):
            stack.extend((f"{where}[{i}]", item) for i, item in enumerate(value))
    return None


# What can decode to a NUL or a lone surrogate: an escape, a NUL byte (also in UTF-16/32
# bodies) or a surrogate encoded as UTF-8 (json.loads decodes bytes with "surrogatepass").
_MAYBE_UNSTORABLE = re.compile(rb"\\u|\x00|\xed[\xa0-\xbf]")


def _may_be_unstorable(raw: bytes) -> bool:
    """False when no string in the body can hold what _unstorable_field looks for: most bodies
    are then not walked value by value."""
    return _MAYBE_UNSTORABLE.search(raw) is not None


@dataclass(frozen=True)
class Scope:
    """What a write key may send: everything (server) or the page's own events (browser)."""

    name: str  # "server" or "browser"
    track_events: frozenset[str] | None = None  # None = any

    def check(self, call: BaseModel, where: str) -> dict | None:
        if self.name == "server":
            return None
        prefix = f"{where}." if where else ""
        if isinstance(call, IdentifyCall):
            return {
                "field": prefix + "type",
                "message": "the browser write key cannot send identify; use the server key",
            }
        if isinstance(call, TrackCall) and call.event not in (self.track_events or frozenset()):
            allowed = ", ".join(sorted(self.track_events or ())) or "none"
            return {
                "field": prefix + "event",
                "message": f"the browser write key cannot send {call.event!r}; allowed track events: {allowed}",
            }
        if not call.anonymousId:
            # A userId from the page is only a claim: anyone could send someone else's.
            return {"field": prefix + "anonymousId", "message": "the browser write key must send anonymousId"}
        return None


def server_scope() -> Scope:
    return Scope("server")


def browser_scope(config: QualificationConfig) -> Scope:
    return Scope("browser", frozenset(config.behaviour.browser_events))


def parse_body(raw: bytes, kind: str) -> list[BaseModel]:
    """Validate one HTTP body of `kind` (track, page, identify or batch) into calls."""
    check_size(raw, kind)
    floats = 0

    def parse_float(text: str) -> float:
        nonlocal floats
        floats += 1
        return _finite(text)

    try:
        body = json.loads(raw or b"null", parse_constant=_reject_constant, parse_float=parse_float)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        message = f"the body is not valid JSON: {exc}"
        raise IntakeError(400, message, [{"field": "(body)", "message": message}]) from None
    if not isinstance(body, dict):
        message = f"the body must be a JSON object, not {type(body).__name__}"
        raise IntakeError(400, message, [{"field": "(body)", "message": message}])
    where = _unstorable_field(body) if _may_be_unstorable(raw) else None
    if where is not None:
        message = "contains a NUL character or a lone UTF-16 surrogate"
        raise IntakeError(400, f"{where}: {message}", [{"field": where, "message": message}])
    try:
        if kind == "batch":
            batch = _BATCH.validate_python(body)
            calls = list(batch.batch)
            # A call is measured as it would be sent compactly. Without floats (which may print
            # longer than they were written) no call is longer than the body it came in.
            measure = floats > 0 or len(raw) > MAX_CALL_BYTES
            for i, call in enumerate(calls):
                size = (
                    len(json.dumps(body["batch"][i], ensure_ascii=False, separators=(",", ":")).encode())
                    if measure
                    else 0
                )
                if size > MAX_CALL_BYTES:
                    message = f"a call may be at most {MAX_CALL_BYTES // 1024} KB; this one is {size // 1024} KB"
                    raise IntakeError(413, f"batch[{i}]: {message}", [{"field": f"batch[{i}]", "message": message}])
                # The batch's sentAt and context apply to each of its calls (a call's own win).
                update: dict[str, Any] = {}
                if call.sentAt is None and batch.sentAt is not None:
                    update["sentAt"] = batch.sentAt
                if batch.context:
                    update["context"] = {**batch.context, **call.context}
                if update:
                    calls[i] = call.model_copy(update=update)
            return calls
        body.setdefault("type", kind)
        if body["type"] != kind:
            message = f"type is {body['type']!r} but this endpoint takes {kind!r} calls"
            raise IntakeError(400, message, [{"field": "type", "message": message}])
        return [MODELS[kind].model_validate(body)]
    except ValidationError as exc:
        problems = _problems(exc)
        message = "invalid call: " + "; ".join(f"{p['field']}: {p['message']}" for p in problems)
        raise IntakeError(400, message, problems) from None


def check_size(raw: bytes, kind: str) -> None:
    """413 for a body over the limit of its kind: 32 KB per call, 500 KB per batch."""
    limit = MAX_BATCH_BYTES if kind == "batch" else MAX_CALL_BYTES
    if len(raw) > limit:
        message = f"a {kind} call may be at most {limit // 1024} KB; this one is {len(raw) // 1024} KB"
        raise IntakeError(413, message, [{"field": "(body)", "message": message}])


def check_scope(calls: list[BaseModel], scope: Scope, batch: bool) -> None:
    problems = [p for i, call in enumerate(calls) if (p := scope.check(call, f"batch[{i}]" if batch else ""))]
    if problems:
        raise IntakeError(403, "; ".join(f"{p['field']}: {p['message']}" for p in problems), problems)


def when(call: _Call, received_at: datetime) -> datetime:
    """When the event happened (in UTC), corrected for the sender's clock and never in the future."""
    received_at = received_at.astimezone(timezone.utc)
    happened = aware(call.timestamp or call.originalTimestamp)
    if happened is None:
        return received_at
    sent = aware(call.sentAt)
    try:
        if sent is not None and call.timestamp is None:
            happened = received_at - (sent - happened)
        # UTC: SQLite keeps a timestamp's wall time and drops its offset.
        happened = happened.astimezone(timezone.utc)
    except OverflowError:  # a clock thousands of years off: nothing to correct with
        return received_at
    return min(happened, received_at)


def _message_id(call: BaseModel) -> str:
    if call.messageId:
        return call.messageId
    content = json.dumps(call.model_dump(mode="json", exclude={"sentAt"}), sort_keys=True)
    return "h:" + hashlib.sha256(content.encode()).hexdigest()[:40]


def _text(value: Any, limit: int = 200) -> str | None:
    """A trait or URL as text: strings and numbers only (a list or an object is not a name)."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return None
    return str(value).strip()[:limit] or None


def _context_url(call: _Call) -> str | None:
    page = call.context.get("page")
    return _text(page.get("url"), 2000) if isinstance(page, dict) else None


def _page_url(call: PageCall) -> str | None:
    return _text(call.properties.get("url"), 2000) or _context_url(call)


def _country(traits: dict) -> str | None:
    address = traits.get("address")
    value = traits.get("country") or (address.get("country") if isinstance(address, dict) else None)
    return value.strip().upper() if isinstance(value, str) and re.fullmatch(r"\s*[A-Za-z]{2}\s*", value) else None


def _employees(traits: dict) -> int | None:
    company = traits.get("company") if isinstance(traits.get("company"), dict) else {}
    for value in (traits.get("employees"), traits.get("company_size"), company.get("employee_count")):
        if isinstance(value, bool):
            continue
        try:
            if value is not None and int(value) >= 0:
                return int(value)
        except (TypeError, ValueError, OverflowError):
            continue
    return None


def normalize_traits(traits: dict, where: str = "traits") -> dict:
    """The identify traits the lead keeps: email (validated), name, company, country (ISO
    alpha-2), company_size (employees), job_title, language."""
    out: dict[str, Any] = {}
    email = traits.get("email")
    if email is not None:
        try:
            out["email"] = validate_email(str(email), check_deliverability=False).normalized
        except EmailNotValidError as exc:
            raise IntakeError(
                400, f"{where}.email: {exc}", [{"field": f"{where}.email", "message": str(exc)}]
            ) from None
    full_name = " ".join(filter(None, (_text(traits.get("firstName")), _text(traits.get("lastName")))))
    out["name"] = _text(traits.get("name")) or _text(full_name)
    company = traits.get("company")
    out["company"] = _text(company.get("name") if isinstance(company, dict) else company)
    out["country"] = _country(traits)
    out["company_size"] = _employees(traits)
    out["job_title"] = _text(traits.get("title")) or _text(traits.get("job_title"))
    language = str(traits.get("language") or "")[:2].lower()
    out["language"] = language if language in ("es", "en") else None
    return {k: v for k, v in out.items() if v is not None}


def normalize(
    calls: list[BaseModel], scope: Scope, received_at: datetime, page_event: str = "page", batch: bool = False
) -> list[dict]:
    """Events for LeadStore.ingest_events."""
    events = []
    for i, call in enumerate(calls):
        item = {
            "message_id": _message_id(call),
            "type": call.type,
            "anonymous_id": call.anonymousId,
            # From the browser a userId is only a claim: the server key's identify says who it is.
            "user_id": call.userId if scope.name == "server" else None,
            "timestamp": when(call, received_at),
            "received_at": received_at,
            "source": scope.name,
            "url": None,
            "properties": {},
        }
        if isinstance(call, TrackCall):
            item.update(name=call.event, properties=call.properties, url=_context_url(call))
        elif isinstance(call, PageCall):
            properties = dict(call.properties)
            if call.name:
                properties.setdefault("name", call.name)
            item.update(name=page_event, properties=properties, url=_page_url(call))
        else:
            item.update(
                name="identify", traits=normalize_traits(call.traits, f"batch[{i}].traits" if batch else "traits")
            )
            item["properties"] = {k: v for k, v in item["traits"].items() if k != "email"}
        events.append(item)
    return events


def openapi(server_url: str = "/") -> dict:
    """The OpenAPI 3.1 description of the intake, from the same models that validate it."""
    components: dict[str, Any] = {}
    for name, model in (
        ("TrackCall", TrackCall),
        ("PageCall", PageCall),
        ("IdentifyCall", IdentifyCall),
        ("BatchCall", BatchCall),
    ):
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        for def_name, definition in schema.pop("$defs", {}).items():
            components[def_name] = definition
        components[name] = schema
    components["Result"] = {
        "type": "object",
        "properties": {
            "success": {"type": "boolean"},
            "accepted": {"type": "integer", "description": "events stored now"},
            "duplicates": {"type": "integer", "description": "events already stored (same messageId)"},
        },
        "required": ["success", "accepted", "duplicates"],
    }
    components["Error"] = {
        "type": "object",
        "properties": {
            "success": {"const": False},
            "error": {"type": "string"},
            "problems": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
                },
            },
        },
        "required": ["success", "error"],
    }

    def operation(kind: str, schema: str, summary: str) -> dict:
        error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        return {
            "post": {
                "operationId": kind,
                "summary": summary,
                "security": [{"writeKey": []}],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
                },
                "responses": {
                    "200": {
                        "description": "stored (or already stored)",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Result"}}},
                    },
                    "400": {"description": "invalid call; `problems` names each field", **error},
                    "401": {"description": "missing or unknown write key", **error},
                    "403": {"description": "the write key may not send this call", **error},
                    "413": {"description": "call or batch too large", **error},
                    "429": {"description": "too many calls from this client; see Retry-After", **error},
                    "503": {"description": "storage unavailable; retry with the same messageId", **error},
                },
            }
        }

    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Lead qualification tracking intake",
            "version": "1",
            "description": "Segment/RudderStack-compatible HTTP tracking API. Authenticate with HTTP Basic, "
            "the write key as user name and an empty password (or `writeKey` in the body).",
        },
        "servers": [{"url": server_url}],
        "paths": {
            "/v1/track": operation("track", "TrackCall", "Record what a visitor did"),
            "/v1/page": operation("page", "PageCall", "Record a page view"),
            "/v1/identify": operation("identify", "IdentifyCall", "Say who a visitor is (server key only)"),
            "/v1/batch": operation("batch", "BatchCall", f"Up to {MAX_BATCH_CALLS} calls at once"),
        },
        "components": {
            "schemas": components,
            "securitySchemes": {"writeKey": {"type": "http", "scheme": "basic"}},
        },
    }
