"""The action server's probes and metrics, and its JSON logs, in the production topology."""

from __future__ import annotations

import json

import pytest
import requests

from .conftest import ARTIFACTS, METRICS_TOKEN, Visitor

pytestmark = pytest.mark.e2e


def figures(text: str) -> dict[str, float]:
    found = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            found[name] = float(value)
    return found


def test_ready_metrics_and_json_logs(stack):
    base = stack.actions.url
    assert requests.get(base + "/health", timeout=10).ok
    ready = requests.get(base + "/ready", timeout=10)
    assert ready.status_code == 200 and ready.json()["ready"] is True

    v = Visitor(stack.rasa_urls)
    v.say("hola")
    v.say("quiero una demo")

    assert requests.get(base + "/metrics", timeout=10).status_code == 401
    scraped = requests.get(base + "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, timeout=10)
    assert scraped.ok and scraped.headers["content-type"].startswith("text/plain")
    found = figures(scraped.text)
    assert found["leadqual_turns_total"] >= 2
    assert found['leadqual_action_runs_total{action="action_read_message",outcome="ok"}'] >= 2
    assert found['leadqual_action_duration_seconds_count{action="action_read_message"}'] >= 2
    assert found['leadqual_nlg_requests_total{outcome="ok"}'] >= 1
    assert found["leadqual_database_up"] == 1
    assert {f'leadqual_leads{{stage="{s}"}}' for s in ("lead", "mql", "sql")} <= set(found)
    assert 'leadqual_outbox_messages{kind="crm",state="pending"}' in found
    assert found["leadqual_spool_pending"] == 0

    lines = [line for line in (ARTIFACTS / "actions.log").read_text().splitlines() if line.startswith("{")]
    entries = [json.loads(line) for line in lines]
    assert entries and all({"time", "level", "logger", "message", "service"} <= set(e) for e in entries)
