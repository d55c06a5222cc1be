"""Odd input to the tracking intake is a 400 naming the field, never a 5xx (the security test's
finding 15, in part): event properties nested hundreds deep made the intake answer 500. Objects
and arrays may now nest at most tracking.MAX_DEPTH deep in any field of a call, and a call's
properties or traits hold at most tracking.MAX_PROPERTIES_VALUES values. Over HTTP against the
real action server on SQLite and PostgreSQL, and in tracking.parse_body."""

from __future__ import annotations

import json
import uuid
from contextlib import ExitStack

import pytest
import requests
from sqlalchemy import select

from leadqual.db.tables import TrackedEvent
from leadqual.http import tracking
from leadqual.leads.store import LeadStore

from ..conftest import postgres_database, running_action_server

KEY = "srv-" + uuid.uuid4().hex


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def intake(request, tmp_path_factory, config):
    workdir = tmp_path_factory.mktemp("odd-intake")
    with ExitStack() as stack:
        database_url = (
            f"sqlite:///{workdir / 'leads.db'}"
            if request.param == "sqlite"
            else stack.enter_context(postgres_database())
        )
        unlimited = {f"LEADQUAL_INTAKE_SERVER_{part}": "100000" for part in ("RATE", "BURST")}
        url, _log = stack.enter_context(
            running_action_server(workdir, LEADQUAL_DATABASE_URL=database_url, LEADQUAL_WRITE_KEY=KEY, **unlimited)
        )
        store = LeadStore(database_url, config=config)
        stack.callback(store.engine.dispose)
        yield url, store


DEEP = "__deep__"


def nested(depth: int, kind: str = "object"):
    """A value whose objects (or arrays) nest `depth` deep: nested(1) is {"a": 1} (or [1])."""
    value = 1
    for _ in range(depth):
        value = {"a": value} if kind == "object" else [value]
    return value


def with_nested(call: dict, depth: int, kind: str) -> str:
    """`call` as JSON with the nested value where it says DEEP (written out as text: json.dumps
    itself cannot nest that deep)."""
    opening, closing = ('{"a":', "}") if kind == "object" else ("[", "]")
    return json.dumps(call).replace(json.dumps(DEEP), opening * depth + "1" + closing * depth)


def path(field: str, shape: str = "object", above: int = 0) -> str:
    """Where the first level past MAX_DEPTH is, for a nested value at `field`, which is `above`
    levels below the call's own field."""
    return field + (".a" if shape == "object" else "[0]") * (tracking.MAX_DEPTH - above)


def post(intake, kind: str, body: dict | str) -> requests.Response:
    url, _store = intake
    data = body if isinstance(body, str) else json.dumps(body)
    return requests.post(f"{url}/v1/{kind}", data=data, auth=(KEY, ""), timeout=30)


def stored(intake, anonymous_id: str) -> list[TrackedEvent]:
    _url, store = intake
    with store.sessions() as session:
        return list(session.scalars(select(TrackedEvent).where(TrackedEvent.anonymous_id == anonymous_id)))


def visitor() -> str:
    return "anon-" + uuid.uuid4().hex


# (endpoint, the call with a nested value, where the value is, levels above it within its field)
CASES = [
    ("track", lambda v, deep: {"event": "cta_click", "anonymousId": v, "properties": deep}, "properties", 0),
    ("page", lambda v, deep: {"anonymousId": v, "properties": deep}, "properties", 0),
    ("identify", lambda v, deep: {"anonymousId": v, "traits": {"email": "a@acme.es", "x": deep}}, "traits.x", 1),
    ("track", lambda v, deep: {"event": "cta_click", "anonymousId": v, "context": {"page": deep}}, "context.page", 1),
    ("track", lambda v, deep: {"event": "cta_click", "anonymousId": v, "integrations": deep}, "integrations", 0),
    (
        "batch",
        lambda v, deep: {
            "batch": [{"type": "page", "anonymousId": v}, {"type": "page", "anonymousId": v, "properties": deep}]
        },
        "batch[1].properties",
        0,
    ),
    ("batch", lambda v, deep: {"context": deep, "batch": [{"type": "page", "anonymousId": v}]}, "context", 0),
]


@pytest.mark.parametrize(("kind", "body", "field", "above"), CASES, ids=[f"{c[0]}-{c[2]}" for c in CASES])
@pytest.mark.parametrize("shape", ["object", "array"])
def test_deeply_nested_fields_are_400_naming_the_field(intake, kind, body, field, above, shape):
    for depth in (tracking.MAX_DEPTH + 1, 50, 500, 990, 5000):  # from about 990: too deep for json.loads
        anonymous_id = visitor()
        for extra in ({}, {"messageId": uuid.uuid4().hex}):
            call = {**body(anonymous_id, DEEP), **(extra if kind != "batch" else {})}
            response = post(intake, kind, with_nested(call, depth - above, shape))
            assert response.status_code == 400, (depth, response.status_code, response.text[:300])
            [problem] = response.json()["problems"]
            assert f"nested at most {tracking.MAX_DEPTH} deep" in problem["message"]
            if problem["field"] == "(body)":  # too deep for json.loads itself: named in the message
                assert problem["message"].endswith(f"(too deep from {path(field, shape, above)})"), problem
            else:
                assert problem["field"] == path(field, shape, above), problem
        assert stored(intake, anonymous_id) == []


def test_ten_levels_are_taken_and_eleven_are_not(intake):
    anonymous_id = visitor()
    ten = {"event": "cta_click", "anonymousId": anonymous_id, "properties": nested(tracking.MAX_DEPTH)}
    response = post(intake, "track", ten)
    assert response.status_code == 200, response.text
    [row] = stored(intake, anonymous_id)
    assert row.properties == nested(tracking.MAX_DEPTH)
    eleven = {**ten, "properties": nested(tracking.MAX_DEPTH + 1)}
    response = post(intake, "track", eleven)
    assert response.status_code == 400
    assert response.json()["problems"][0]["field"] == path("properties")


def test_properties_with_too_many_values_are_400_naming_them(intake):
    anonymous_id = visitor()
    many = {"a": [0] * tracking.MAX_PROPERTIES_VALUES}  # the key and its items: one value too many
    response = post(intake, "track", {"event": "cta_click", "anonymousId": anonymous_id, "properties": many})
    assert response.status_code == 400, response.text
    assert [p["field"] for p in response.json()["problems"]] == ["properties"]
    spread = {"a": [[0] * 10 for _ in range(tracking.MAX_PROPERTIES_VALUES // 10)]}  # values at any depth count
    batch = {"batch": [{"type": "track", "event": "x", "anonymousId": anonymous_id, "properties": spread}]}
    response = post(intake, "batch", batch)
    assert response.status_code == 400 and response.json()["problems"][0]["field"] == "batch[0].properties"
    traits = {"email": "a@acme.es", "x": [0] * tracking.MAX_PROPERTIES_VALUES}
    response = post(intake, "identify", {"anonymousId": anonymous_id, "traits": traits})
    assert response.status_code == 400 and response.json()["problems"][0]["field"] == "traits"
    assert stored(intake, anonymous_id) == []


def test_the_parser_names_the_deep_field_without_a_server():
    body = {"batch": [{"type": "track", "event": "x", "anonymousId": "anon-12345678", "properties": DEEP}]}
    with pytest.raises(tracking.IntakeError) as refused:
        tracking.parse_body(with_nested(body, 700, "object").encode(), "batch")
    assert refused.value.status == 400
    assert refused.value.problems[0]["field"] == path("batch[0].properties")
    # Too deep for json.loads: still a 400, the field named in the message.
    with pytest.raises(tracking.IntakeError) as refused:
        tracking.parse_body(with_nested(body, 20_000, "array").encode(), "batch")
    assert refused.value.status == 400 and refused.value.problems[0]["field"] == "(body)"
    assert str(refused.value).endswith(f"(too deep from {path('batch[0].properties', 'array')})")
