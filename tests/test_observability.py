"""Logs without personal data, JSON log lines, readiness and the metrics read from the database."""

from __future__ import annotations

import io
import json
import logging

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from sqlalchemy import create_engine

from leadqual.db import schema
from leadqual.delivery.outbox import enqueue
from leadqual.http.observability import JsonFormatter, MaskingFilter, StoreCollector, mask, readiness


@pytest.mark.parametrize(
    "text, expected",
    [
        ("saved lead ana.garcia+web@acme.es (score 80)", "saved lead [email] (score 80)"),
        ("call +34 612 345 678 today", "call [phone] today"),
        ("phone 612345678, or (555) 123-4567", "phone [phone], or [phone]"),
        ("mobile +44 7700-900-123.", "mobile [phone]."),
    ],
)
def test_personal_data_is_masked(text, expected):
    assert mask(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-23 21:12:25 took 0.123456789 s",
        "timestamp 1795468844.7175863",
        "lead 3f9a0c1e2b7d4a6f8e5c1b2a3d4e5f60 moved to sql",
        "budget 12000 EUR, 100000 leads in 30.8 s",
        "outbox message 12 (crm) delivered",
    ],
)
def test_ids_dates_and_figures_are_kept(text):
    assert mask(text) == text


def logged(formatter: logging.Formatter, emit) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    handler.addFilter(MaskingFilter())
    logger = logging.getLogger("leadqual.test_observability")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        emit(logger)
    finally:
        logger.removeHandler(handler)
    return stream.getvalue()


def test_a_log_line_with_an_email_comes_out_masked():
    line = logged(logging.Formatter("%(message)s"), lambda log: log.warning("saving %s failed", "Ana@Acme.es"))
    assert line == "saving [email] failed\n"


def test_json_lines_mask_messages_tracebacks_and_extra_fields():
    def emit(log):
        try:
            raise ValueError("duplicate key (email)=(lucia@gomez.es), phone +34 612 345 678")
        except ValueError:
            log.exception("save of %s failed", "lucia@gomez.es", extra={"visitor": "call 612345678"})

    entry = json.loads(logged(JsonFormatter("actions"), emit))
    assert entry["message"] == "save of [email] failed"
    assert entry["level"] == "ERROR" and entry["service"] == "actions"
    assert entry["logger"] == "leadqual.test_observability" and entry["time"].endswith("+00:00")
    assert "ValueError: duplicate key (email)=([email]), phone [phone]" in entry["exception"]
    assert entry["visitor"] == "call [phone]"
    assert "gomez.es" not in json.dumps(entry) and "612" not in json.dumps(entry)


def test_ready_only_when_the_database_answers_at_the_newest_revision(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'leads.db'}")
    ok, body = readiness(engine)
    assert not ok and body["reason"] == f"database schema at revision None, expected {schema.head()}"
    schema.upgrade(engine)
    assert readiness(engine) == (True, {"ready": True, "revision": schema.head()})
    gone = create_engine(f"sqlite:///{tmp_path / 'missing' / 'leads.db'}")
    ok, body = readiness(gone)
    assert not ok and body["reason"] == "database unreachable" and body["detail"]


def scrape(collector) -> dict[str, float]:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    figures = {}
    for line in generate_latest(registry).decode().splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            figures[name] = float(value)
    return figures


def test_leads_by_stage_and_outbox_depth_are_read_at_scrape(store):
    for n in range(3):
        store.save_conversation(f"conv-{n}", {"need": {"value": "crm"}}, "es")
    with store.sessions.begin() as session:
        enqueue(session, "crm", {"n": 1}, key="a")
        enqueue(session, "crm", {"n": 2}, key="b")
        enqueue(session, "nurture", {"n": 3}, key="c")
    figures = scrape(StoreCollector(lambda: store.engine, spool=lambda: type("S", (), {"pending": lambda s: ["x"]})()))
    assert figures["leadqual_database_up"] == 1
    assert figures['leadqual_leads{stage="lead"}'] == 3 and figures['leadqual_leads{stage="sql"}'] == 0
    assert figures['leadqual_outbox_messages{kind="crm",state="pending"}'] == 2
    assert figures['leadqual_outbox_messages{kind="nurture",state="pending"}'] == 1
    assert figures['leadqual_outbox_messages{kind="live",state="dead"}'] == 0
    assert figures["leadqual_spool_pending"] == 1


def test_a_scrape_with_the_database_down_says_so(tmp_path):
    figures = scrape(StoreCollector(lambda: create_engine(f"sqlite:///{tmp_path / 'no' / 'such.db'}")))
    assert figures == {"leadqual_database_up": 0}
