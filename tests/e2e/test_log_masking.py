"""No email or phone number in Rasa's log (issue 19, item 12), even at --debug, where Rasa logs
every message it parses: the launcher masks every log record (leadqual_rasa/logmask.py)."""

from __future__ import annotations

import time

import pytest
import requests

from ..conftest import RASA_SERVE, REST_HEADERS, ROOT, free_port, stop, wait_for

pytestmark = pytest.mark.e2e
EMAIL = "secret.person@masked.example"
PHONE = "+34 612 345 678"


def test_rasa_at_debug_logs_the_message_without_its_email_or_phone(model, tmp_path):
    import os
    import subprocess

    port = free_port()
    log = tmp_path / "rasa.log"
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "PYTHONPATH": str(ROOT)}
    command = [*RASA_SERVE, "run", "--model", model, "--credentials", str(ROOT / "credentials.yml")]
    command += ["--port", str(port), "--interface", "127.0.0.1", "--debug"]
    proc = subprocess.Popen(command, cwd=tmp_path, stdout=log.open("w"), stderr=subprocess.STDOUT, env=env)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for(url + "/", proc, log)
        body = {"sender": "masking-1", "message": f"mi correo es {EMAIL} y mi móvil {PHONE}"}
        requests.post(url + "/webhooks/rest/webhook", json=body, headers=REST_HEADERS, timeout=60)
        deadline = time.monotonic() + 20
        while "[email]" not in log.read_text(encoding="utf-8", errors="replace") and time.monotonic() < deadline:
            time.sleep(0.3)
    finally:
        stop(proc)
    text = log.read_text(encoding="utf-8", errors="replace")
    assert "[email]" in text, "Rasa logged the message (at --debug it does), masked"
    assert EMAIL not in text and "612 345 678" not in text
