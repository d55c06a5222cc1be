"""Fuzzing the tracking intake from its own OpenAPI document (schemathesis): generated calls, valid
and not, never get a 5xx, and every answer matches the document. A real server on SQLite."""

from __future__ import annotations

import base64

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from .conftest import running_action_server

KEY = "fuzz-server-key"


@pytest.fixture(scope="module")
def intake_schema(tmp_path_factory):
    unlimited = {  # the rate limits have their own tests
        f"LEADQUAL_INTAKE_{kind}_{part}": "100000" for kind in ("SERVER", "UNKNOWN") for part in ("RATE", "BURST")
    }
    keys = {"LEADQUAL_WRITE_KEY": KEY, "LEADQUAL_BROWSER_WRITE_KEY": "pub_fuzz"}
    with running_action_server(tmp_path_factory.mktemp("fuzz"), **keys, **unlimited) as (url, _log):
        schema = schemathesis.openapi.from_url(f"{url}/v1/openapi.json")
        # The intake refuses NUL and lone UTF-16 surrogates anywhere in a call (400: PostgreSQL
        # cannot store them), which JSON Schema cannot express: valid text only.
        schema.config.generation.update(allow_x00=False, codec="utf-8")
        yield schema


AUTH = {"Authorization": "Basic " + base64.b64encode(f"{KEY}:".encode()).decode()}


def test_the_intake_never_fails_and_keeps_to_its_document(intake_schema):
    # schemathesis's operations driven by hypothesis directly (its pytest plugin predates the pytest
    # this project uses).
    operations = [result.ok() for result in intake_schema.get_all_operations()]
    assert len(operations) == 4  # track, page, identify, batch (the short paths are the same routes)
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
        def call(case):
            case.call_and_validate(headers=AUTH)

        call()
