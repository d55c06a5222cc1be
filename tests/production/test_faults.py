"""Faults in the middle of a conversation: the action server killed and started again, and
PostgreSQL restarted. The conversation goes on, and no answer, lead or handoff is lost."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest
import requests
from sqlalchemy.engine import make_url

from leadqual.config.marketing import load_messages

from ..conftest import POSTGRES_URL
from .conftest import Visitor, texts, wait_until

pytestmark = pytest.mark.e2e
M = load_messages()


def ask(slot: str) -> str:
    return M.questions[slot].ask.es


def start_qualifying(v: Visitor) -> None:
    assert ask("need") in texts(v.say("quiero pedir una demo"))
    assert ask("timing") in texts(v.say("gestionar el equipo comercial"))
    assert ask("budget") in texts(v.say("dentro de tres meses"))


def finish_qualifying(v: Visitor, stack, email: str) -> dict:
    assert ask("name") in texts(v.say("soy el CEO"))
    assert ask("company") in texts(v.say("me llamo Lucía Gómez"))
    assert ask("email") in texts(v.say("Trabajo en Construcciones Gómez S.L."))
    assert "encaja muy bien con Construcciones Gómez S.L." in texts(v.say(email))
    lead = stack.store.get_by_email(email)
    assert lead["stage"] == "sql" and lead["sales_ready"] and v.sender in lead["conversations"]
    assert lead["bant"]["need"]["value"] == "crm" and lead["bant"]["timing"]["months"] == 3
    assert lead["bant"]["budget"]["max"] == 12000 and lead["bant"]["authority"]["level"] == "decision_maker"
    assert (lead["name"], lead["company"]) == ("Lucía Gómez", "Construcciones Gómez S.L.")
    return lead


def delivered_once(stack, lead_id: str) -> None:
    """The CRM packet arrives, and no second copy follows (the delivery loop runs every 0.5 s)."""
    assert len(wait_until(lambda: stack.packets(lead_id))) == 1
    time.sleep(3)
    assert len(stack.packets(lead_id)) == 1


def test_action_server_killed_and_restarted_mid_conversation(stack):
    v = Visitor(stack.rasa_urls)
    email = f"lucia.{uuid.uuid4().hex[:8]}@gomez.es"
    start_qualifying(v)

    stack.actions.kill()
    # During the outage Rasa keeps the message but can run no action and render no text.
    during = v.say("unos 12.000 € al año")
    assert during == []
    stack.actions.start()

    # No reply came, so the visitor says it again: the answer is taken and the questions go on.
    assert ask("authority") in texts(v.say("unos 12.000 € al año"))
    lead = finish_qualifying(v, stack, email)
    delivered_once(stack, lead["id"])
    messages = v.user_messages()
    assert messages.count("unos 12.000 € al año") == 2 and messages[-1] == email


def pg_cluster() -> tuple[str, str] | None:
    """(version, name) of this machine's PostgreSQL cluster, if the tests' server is it."""
    if make_url(POSTGRES_URL).host not in ("127.0.0.1", "localhost", None) or not shutil.which("pg_ctlcluster"):
        return None
    versions = sorted(p.name for p in Path("/etc/postgresql").glob("*") if (p / "main").is_dir())
    return (versions[-1], "main") if versions else None


def pg_ctl(action: str, cluster: tuple[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", *cluster, action], capture_output=True, text=True, timeout=60
    )


def test_postgresql_restarted_mid_conversation(stack):
    cluster = pg_cluster()
    if cluster is None or os.geteuid() != 0:
        pytest.skip("needs this machine's PostgreSQL cluster (pg_ctlcluster, as root) to restart it")
    v = Visitor(stack.rasa_urls)
    email = f"lucia.{uuid.uuid4().hex[:8]}@gomez.es"
    start_qualifying(v)

    try:
        restarted = pg_ctl("restart", cluster)
        assert restarted.returncode == 0, restarted.stderr
    finally:
        # Whatever happened, PostgreSQL is left running for everyone else on this machine.
        if pg_ctl("status", cluster).returncode != 0:
            pg_ctl("start", cluster)
    assert wait_until(lambda: pg_ctl("status", cluster).returncode == 0, timeout=30)

    assert ask("authority") in texts(v.say("unos 12.000 € al año"))
    lead = finish_qualifying(v, stack, email)
    delivered_once(stack, lead["id"])
    assert v.user_messages()[-1] == email
    assert requests.get(stack.actions.url + "/ready", timeout=10).ok
