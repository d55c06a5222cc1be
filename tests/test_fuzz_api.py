"""Fuzzing the tracking intake from its own OpenAPI document (schemathesis): generated calls, valid
and not, never get a 5xx, and every answer matches the document. A real server on SQLite."""

from __future__ import annotations

import base64
import subprocess
import sys
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from .conftest import free_port, stop, wait_for

ROOT = Path(__file__).resolve().parents[1]
KEY = "fuzz-server-key"


@pytest.fixture(scope="module")
def intake_schema(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("fuzz")
    port = free_port()
    log = workdir / "actions.log"
    env = {
        "PATH": "/usr/bin:/bin",
        "LEADQUAL_DATABASE_URL": f"sqlite:///{workdir / 'leads.db'}",
        "LEADQUAL_WRITE_KEY": KEY,
        "LEADQUAL_BROWSER_WRITE_KEY": "pub_fuzz",
        "LEADQUAL_INTAKE_SERVER_RATE": "100000",
        "LEADQUAL_INTAKE_SERVER_BURST": "100000",
        "LEADQUAL_INTAKE_UNKNOWN_RATE": "100000",  # the rate limits have their own tests
        "LEADQUAL_INTAKE_UNKNOWN_BURST": "100000",
        "LEADQUAL_SPOOL": str(workdir / "spool.jsonl"),
        "LEADQUAL_HANDOFF_DIR": str(workdir),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "actions.server", "--port", str(port)],
        cwd=ROOT,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        env=env,
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/health", proc, log, timeout=60)
        schema = schemathesis.openapi.from_url(f"http://127.0.0.1:{port}/v1/openapi.json")
        # The intake refuses NUL and lone UTF-16 surrogates anywhere in a call (400: PostgreSQL
        # cannot store them), which JSON Schema cannot express: valid text only.
        schema.config.generation.update(allow_x00=False, codec="utf-8")
        yield schema
    finally:
        stop(proc)


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
