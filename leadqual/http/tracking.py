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
- The browser key's page URLs (a page's `properties.url`, else `context.page.url`; a track
  event's `context.page.url`) must be on one of the site's origins (LEADQUAL_SITE_ORIGINS,
  by default LEADQUAL_CORS_ORIGINS): others are refused (403) naming the field.
- The browser key cannot say when something happened: its times are kept only within
  BROWSER_MAX_DELAY before they were received (earlier ones are moved up to that). A page could
  otherwise backdate a hundred visits, one per week, past every weekly cap.
- Idempotency is per sender: the browser key's message ids are stored apart from the server
  key's (`stored_message_id`), so a page cannot take an id the server will use. The same id
  again with the same content is a duplicate; with other content (type, event, URL,
  properties, anonymousId, userId) it is refused (409).
- Sizes: 32 KB per call, 500 KB per batch, 500 calls per batch (Segment's own limits);
  `properties` and `traits` at most 5,000 values each (keys and items, at any depth); objects
  and arrays nested at most 10 deep in any field of a call (400 naming the field).
- A batch's own `sentAt` and `context` apply to each of its calls.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

from leadqual.config.marketing import ConfigError, QualificationConfig
from leadqual.timeutil import aware

MAX_CALL_BYTES = 32 * 1024
MAX_BATCH_BYTES = 500 * 1024
MAX_BATCH_CALLS = 500
# Values (keys and items, at any depth) in a call's `properties` or `traits`, and nesting of
# objects and arrays in any field of a call (the field itself is level 1). Their bytes are
# bounded by the call's 32 KB.
MAX_PROPERTIES_VALUES = 5000
MAX_DEPTH = 10
# How long before it was received the browser key may say an event happened (a queue that was
# flushed late, a clock a little off); an earlier time is moved up to this.
BROWSER_MAX_DELAY = timedelta(minutes=10)

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


_DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin_parts(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an http(s) URL, lower-case, the port made explicit; None for
    anything else (a relative path, another scheme, an unreadable port)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme, host = parts.scheme.lower(), parts.hostname
    if scheme not in _DEFAULT_PORTS or not host:
        return None
    return scheme, host, port if port is not None else _DEFAULT_PORTS[scheme]


def origin_of(url: str) -> str | None:
    """`scheme://host[:port]` of an http(s) URL (no default port), or None."""
    parts = _origin_parts(url)
    if parts is None:
        return None
    scheme, host, port = parts
    host = f"[{host}]" if ":" in host else host
    return f"{scheme}://{host}" + ("" if port == _DEFAULT_PORTS[scheme] else f":{port}")


def _walk(value: Any, where: str, most: int | None = None) -> tuple[str | None, str | None]:
    """Where `value` nests objects or arrays more than MAX_DEPTH deep (a container is level 1),
    and whether it holds more than `most` values (keys and items, at any depth): (path or
    None, `where` or None)."""
    stack: list[tuple[str, Any, int]] = [(where, value, 1)]
    count = 0
    while stack:
        path, item, depth = stack.pop()
        if depth > MAX_DEPTH:
            return path, None
        children = item.items() if isinstance(item, dict) else enumerate(item)
        count += len(item)
        if most is not None and count > most:
            return None, where
        for key, child in children:
            if isinstance(child, (dict, list)):
                stack.append((f"{path}.{key}" if isinstance(item, dict) else f"{path}[{key}]", child, depth + 1))
    return None, None


_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}:,]')


def _deep_field(raw: bytes, batch: bool) -> str:
    """Where the first object or array nested more than MAX_DEPTH deep in a call is, named as
    _walk names it, from the body's text (for bodies too deep for json.loads); "(body)" if it
    cannot be told."""
    try:
        text = raw.decode(json.detect_encoding(raw), "surrogatepass")
    except (UnicodeDecodeError, LookupError):
        return "(body)"
    # One frame per open container: [is_object, path, key (objects) or index (arrays), level].
    stack: list[list] = []
    for token in _JSON_TOKEN.finditer(text):
        tok = token.group()
        top = stack[-1] if stack else None
        if tok[0] == '"':
            if top is not None and top[0] and top[2] is None:
                try:
                    top[2] = json.loads(tok)
                except ValueError:
                    return "(body)"
        elif tok == ",":
            if top is not None:
                if top[0]:
                    top[2] = None
                else:
                    top[2] += 1
        elif tok in "{[":
            if top is None:
                path, level = "", 0
            else:
                child = top[2] if top[0] else f"[{top[2]}]"
                if top[0]:
                    path = f"{top[1]}.{child}" if top[1] else str(child)
                else:
                    path = top[1] + child
                level = top[3] + 1
            relative = level - 2 if batch and path.startswith("batch[") else level
            if relative > MAX_DEPTH:
                return path
            stack.append([tok == "{", path, None if tok == "{" else 0, level])
        elif tok in "}]":
            if stack:
                stack.pop()
    return "(body)"


def _check_depth(fields: dict, prefix: str = "") -> None:
    """400 naming the field when a field of a call nests deeper than MAX_DEPTH."""
    for key, value in fields.items():
        if isinstance(value, (dict, list)):
            deep, _ = _walk(value, f"{prefix}{key}")
            if deep is not None:
                message = f"objects and arrays may be nested at most {MAX_DEPTH} deep"
                raise IntakeError(400, f"{deep}: {message}", [{"field": deep, "message": message}])


def _check_values(call: Any, prefix: str = "") -> None:
    """400 naming the field when a call's `properties` or `traits` hold more than
    MAX_PROPERTIES_VALUES values."""
    if not isinstance(call, dict):
        return
    for key in ("properties", "traits"):
        value = call.get(key)
        if isinstance(value, (dict, list)) and len(value) <= MAX_PROPERTIES_VALUES:
            _, big = _walk(value, f"{prefix}{key}", MAX_PROPERTIES_VALUES)
        else:
            big = f"{prefix}{key}" if isinstance(value, (dict, list)) else None
        if big is not None:
            message = f"may hold at most {MAX_PROPERTIES_VALUES} values (keys and items, at any depth)"
            raise IntakeError(400, f"{big}: {message}", [{"field": big, "message": message}])


@dataclass(frozen=True)
class Origins:
    """The site's origins: exact ones, and `scheme://*.domain[:port]` for its subdomains."""

    exact: frozenset[tuple[str, str, int]]
    subdomains: frozenset[tuple[str, str, int]] = frozenset()  # (scheme, domain, port)

    def allow(self, url: str) -> bool:
        parts = _origin_parts(url)
        if parts is None:
            return False
        if parts in self.exact:
            return True
        scheme, host, port = parts
        return any(scheme == s and port == p and host.endswith("." + domain) for s, domain, p in self.subdomains)


@lru_cache(maxsize=8)
def parse_origins(text: str, setting: str = "LEADQUAL_SITE_ORIGINS") -> Origins | None:
    """The origins of a space- or comma-separated list (`https://www.example.com`,
    `https://*.example.com`); None (any origin) for an empty list or `*`. ConfigError for an
    entry that is not an origin."""
    entries = text.replace(",", " ").split()
    if not entries or "*" in entries:
        return None
    exact, subdomains = set(), set()
    for entry in entries:
        candidate = entry.rstrip("/")
        wildcard = "://*." in candidate
        parts = _origin_parts(candidate.replace("://*.", "://", 1) if wildcard else candidate)
        if parts is None or urlsplit(candidate).path or "*" in parts[1]:
            raise ConfigError(f"{setting}: {entry!r} is not an origin such as https://www.example.com")
        (subdomains if wildcard else exact).add(parts)
    return Origins(frozenset(exact), frozenset(subdomains))


@dataclass(frozen=True)
class Scope:
    """What a write key may send: everything (server) or the page's own events (browser)."""

    name: str  # "server" or "browser"
    track_events: frozenset[str] | None = None  # None = any
    # The browser key's page URLs must be on these origins; None = any.
    origins: Origins | None = None
    # How long before receipt an event may say it happened; None = any time (the server key).
    max_delay: timedelta | None = None

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
        if self.origins is not None:
            field, url = _url_field(call)
            if url is not None and not self.origins.allow(url):
                return {
                    "field": prefix + field,
                    "message": "the browser write key only sends pages of the site's own origins"
                    " (LEADQUAL_SITE_ORIGINS); this URL is on another",
                }
        return None


def _url_field(call: BaseModel) -> tuple[str, str | None]:
    """Where the URL the event is stored with comes from, and the URL."""
    if isinstance(call, PageCall) and _text(call.properties.get("url"), 2000):
        return "properties.url", _text(call.properties.get("url"), 2000)
    return "context.page.url", _context_url(call)


def server_scope() -> Scope:
    return Scope("server")


def browser_scope(config: QualificationConfig, origins: Origins | None = None) -> Scope:
    return Scope("browser", frozenset(config.behaviour.browser_events), origins, BROWSER_MAX_DELAY)


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
    except RecursionError as exc:  # too deep for the parser itself: say where, without parsing it
        where = _deep_field(raw, kind == "batch")
        message = (
            f"the body is not valid JSON: {exc}; objects and arrays may be nested at most {MAX_DEPTH} deep"
            f" (too deep from {where})"
        )
        raise IntakeError(400, message, [{"field": "(body)", "message": message}]) from None
    except ValueError as exc:  # UnicodeDecodeError is a ValueError
        message = f"the body is not valid JSON: {exc}"
        raise IntakeError(400, message, [{"field": "(body)", "message": message}]) from None
    if not isinstance(body, dict):
        message = f"the body must be a JSON object, not {type(body).__name__}"
        raise IntakeError(400, message, [{"field": "(body)", "message": message}])
    where = _unstorable_field(body) if _may_be_unstorable(raw) else None
    if where is not None:
        message = "contains a NUL character or a lone UTF-16 surrogate"
        raise IntakeError(400, f"{where}: {message}", [{"field": where, "message": message}])
    _check_depth({k: v for k, v in body.items() if k != "batch"} if kind == "batch" else body)
    if kind == "batch" and isinstance(body.get("batch"), list):
        for i, call in enumerate(body["batch"]):
            if isinstance(call, dict):
                _check_depth(call, f"batch[{i}].")
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
                _check_values(body["batch"][i], f"batch[{i}].")
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
        _check_values(body)
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


def when(call: _Call, received_at: datetime, max_delay: timedelta | None = None) -> datetime:
    """When the event happened (in UTC), corrected for the sender's clock and never in the
    future; with `max_delay` (the browser key), never earlier than that before `received_at`."""
    received_at = received_at.astimezone(timezone.utc)
    earliest = received_at - max_delay if max_delay is not None else None
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
    if earliest is not None and happened < earliest:
        return earliest
    return min(happened, received_at)


def _message_id(call: BaseModel) -> str:
    if call.messageId:
        return call.messageId
    content = json.dumps(call.model_dump(mode="json", exclude={"sentAt"}), sort_keys=True)
    return "h:" + hashlib.sha256(content.encode()).hexdigest()[:40]


# Stored message ids (events.message_id, unique, 100 characters) by sender: the browser key's
# start with "b:" (or "b#" and a hash when too long); the server key's are kept as sent, except
# the few that start like that, which are escaped ("s:" + the id, or "s#" and a hash). So no id
# a page sends can ever be one the server sends, and the ids the server sends look as they did.
_RESERVED = ("b:", "b#", "s:", "s#")
MESSAGE_ID_COLUMN = 100


def stored_message_id(source: str, message_id: str) -> str:
    """The message id as stored for `source` ("server" or "browser"): one namespace each."""
    if source == "server":
        if not message_id.startswith(_RESERVED):
            return message_id
        prefix = "s"
    else:
        prefix = "b"
    if len(message_id) + 2 <= MESSAGE_ID_COLUMN:
        return f"{prefix}:{message_id}"
    return f"{prefix}#" + hashlib.sha256(message_id.encode("utf-8", "surrogatepass")).hexdigest()


def content_key(
    source: str, type_: str, name: str, url: str | None, anonymous_id: str | None, user_id: str | None, properties
) -> str:
    """What must match for a second event with the same message id to be a duplicate (its
    time may differ: a retry is stamped when it is received, or corrected by its sentAt)."""
    return json.dumps(
        [source, type_, name, url, anonymous_id, user_id, properties or {}],
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )


def event_content_key(event: dict) -> str:
    return content_key(
        event["source"],
        event["type"],
        event["name"],
        event.get("url"),
        event.get("anonymous_id"),
        event.get("user_id"),
        event.get("properties"),
    )


def message_id_field(index: int, batch: bool) -> str:
    return f"batch[{index}].messageId" if batch else "messageId"


def conflict(field: str) -> IntakeError:
    """409: a message id already used by an event with other content, from the same sender."""
    message = "this messageId was already used for an event with other content; use a new messageId"
    return IntakeError(409, f"{field}: {message}", [{"field": field, "message": message}])


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
            "message_id": stored_message_id(scope.name, _message_id(call)),
            "type": call.type,
            "anonymous_id": call.anonymousId,
            # From the browser a userId is only a claim: the server key's identify says who it is.
            "user_id": call.userId if scope.name == "server" else None,
            "timestamp": when(call, received_at, scope.max_delay),
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
                    "409": {"description": "a messageId already used for other content", **error},
                    "413": {
                        "description": "call or batch too large (or more events than the key may send at once)",
                        **error,
                    },
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
