"""Helpers for the SDR console's tests: seeded leads (answers parsed from what a visitor typed, a
transcript, events), console users, a real console process, and a signed-in HTTP client."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

import requests

from leadqual.console import auth
from leadqual.console.decisions import LeadNote  # noqa: F401 - its table is part of the schema
from leadqual.db.tables import Lead, Message
from leadqual.leads.store import LeadStore
from leadqual.understanding.answers import parse_answer

from .conftest import free_port, stop, wait_for

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "correct horse battery staple"
XSS = "<script>alert(1)</script> quiero una demo"
T0 = datetime(2026, 7, 1, 9, 0, tzinfo=timezone.utc)


def seed_lead(
    store: LeadStore,
    email: str,
    company: str = "Acme",
    lang: str = "es",
    budget: str = "unos 20.000 € al año",
    authority: str = "lo decido yo",
    need: str = "captar leads",
    timing: str = "en 2 meses",
    visitor_text: str = "hola, quiero una demo",
    now: datetime = T0,
    **fields,
) -> str:
    """A lead as the chat leaves it (answers parsed from the visitor's words) plus its transcript;
    `fields` are set on the Lead row afterwards (owner, stage, created_at...). Returns the id."""
    config = store.config
    answers = {
        slot: parse_answer(slot, text, config, lang, requested=True)
        for slot, text in (("budget", budget), ("authority", authority), ("need", need), ("timing", timing))
        if text
    }
    answers["email"] = {"address": email, "text": email, "source": "text"}
    answers["name"] = {"value": email.split("@")[0].title(), "text": email.split("@")[0], "source": "text"}
    answers["company"] = {"value": company, "text": company, "source": "text"}
    conversation_id = "conv-" + uuid.uuid4().hex[:12]
    lead = store.save_conversation(conversation_id, {k: v for k, v in answers.items() if v}, lang, now=now)
    with store.sessions.begin() as session:
        session.add_all(
            [
                Message(conversation_id=conversation_id, at=now, sender="visitor", text=visitor_text),
                Message(
                    conversation_id=conversation_id,
                    at=now + timedelta(seconds=2),
                    sender="bot",
                    text="¿Qué presupuesto tenéis?",
                ),
                Message(conversation_id=conversation_id, at=now + timedelta(seconds=9), sender="visitor", text=budget),
            ]
        )
        row = session.get(Lead, lead["id"])
        for name, value in fields.items():
            setattr(row, name, value)
    return lead["id"]


def add_user(store: LeadStore, email: str, role: str, sdr_id: str | None = None, password: str = PASSWORD) -> int:
    with store.sessions.begin() as session:
        return auth.create_user(session, email, password, role, name=email.split("@")[0], sdr_id=sdr_id).id


def console_database(dialect: str, workdir: Path, stack, config) -> tuple[str, LeadStore]:
    """A migrated database (SQLite in `workdir`, or a fresh PostgreSQL one closed by `stack`) with
    the console's three users: admin@, lucia@ (SDR lucia) and mkt@nubilo.es (marketing)."""
    from .conftest import postgres_database

    if dialect == "sqlite":
        database_url = f"sqlite:///{workdir / 'leads.db'}"
    else:
        database_url = stack.enter_context(postgres_database())
    store = LeadStore(database_url, config=config)
    store.create_schema()
    add_user(store, "admin@nubilo.es", "admin")
    add_user(store, "lucia@nubilo.es", "sdr", sdr_id="lucia")
    add_user(store, "mkt@nubilo.es", "marketing")
    return database_url, store


@contextmanager
def console_process(database_url: str, workdir: Path, **env):
    """`python -m leadqual.console` on a free port, like bin/run starts it; yields its URL."""
    port = free_port()
    log = workdir / f"console-{port}.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "leadqual.console", "--port", str(port)],
        cwd=ROOT,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        env={**os.environ, "LEADQUAL_DATABASE_URL": database_url, "LEADQUAL_HANDOFF_DIR": str(workdir), **env},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(url + "/health", proc, log, timeout=60)
        yield url
    finally:
        stop(proc)


_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Browser:
    """A requests session that signs in through the form and posts forms with their CSRF token."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = requests.Session()
        self.csrf: str | None = None

    def get(self, path: str, **kwargs) -> requests.Response:
        answer = self.http.get(self.url + path, timeout=30, **kwargs)
        found = _CSRF.search(answer.text)
        if found:
            self.csrf = found.group(1)
        return answer

    def post(self, path: str, data: dict, csrf: bool = True, **kwargs) -> requests.Response:
        if csrf:
            data = {"csrf_token": self.csrf, **data}
        return self.http.post(self.url + path, data=data, timeout=30, **kwargs)

    def sign_in(self, email: str, password: str = PASSWORD) -> requests.Response:
        self.get("/login")
        return self.post("/login", {"email": email, "password": password}, allow_redirects=False)
