"""End-to-end harness: a trained model, Rasa 3.6 on the REST channel with its HTTP API
protected by a token, the real action server, and a real database (SQLite, and PostgreSQL
when reachable). Each test talks to it like the website would."""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from sqlalchemy import text

from leadqual.leads.store import LeadStore

from ..conftest import (
    RASA_SERVE,
    REST_HEADERS,
    action_server_process,
    always_open_config,
    free_port,
    postgres_database,
    stop,
    wait_for,
)

ROOT = Path(__file__).resolve().parents[2]
API_TOKEN = "e2e-" + uuid.uuid4().hex
# The secret Rasa sends the action server (endpoints.yml `token:`), as bin/run sets it up.
ACTION_TOKEN = "e2e-action-" + uuid.uuid4().hex
# Signs the console's previews of draft flows (shared with the action server).
PREVIEW_SECRET = "e2e-preview-" + uuid.uuid4().hex
WRITE_KEY = "e2e-server-" + uuid.uuid4().hex
BROWSER_KEY = "e2e-browser-" + uuid.uuid4().hex
ARTIFACTS = ROOT / "tests" / "artifacts"
# No CRM configured: the action server writes handoff packets here (local mode).
HANDOFF_DIR = ARTIFACTS / f"handoff-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="session")
def actions_port() -> int:
    return free_port()


@pytest.fixture(scope="session")
def rasa_url(model: str, actions_port: int, tmp_path_factory) -> str:
    workdir = tmp_path_factory.mktemp("rasa")
    endpoints = workdir / "endpoints.yml"
    endpoints.write_text(
        f'action_endpoint:\n  url: "http://127.0.0.1:{actions_port}/webhook"\n  token: "{ACTION_TOKEN}"\n'
        f'nlg:\n  url: "http://127.0.0.1:{actions_port}/nlg"\n  token: "{ACTION_TOKEN}"\n'
    )
    port = free_port()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = ARTIFACTS / "rasa.log"
    env = {
        **os.environ,
        "RASA_TELEMETRY_ENABLED": "false",
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
        "PYTHONPATH": str(ROOT),
    }
    proc = subprocess.Popen(
        [
            *RASA_SERVE,
            "run",
            "--model",
            model,
            "--endpoints",
            str(endpoints),
            "--credentials",
            str(ROOT / "credentials.yml"),
            "--port",
            str(port),
            "--interface",
            "127.0.0.1",
            "--enable-api",
            "--auth-token",
            API_TOKEN,
        ],
        cwd=workdir,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(url + "/", proc, log)
        yield url
    finally:
        stop(proc)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def database_url(request, tmp_path_factory) -> str:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'leads.db'}"
        return
    with postgres_database("leadqual_e2e") as url:
        yield url


def action_server_env(database_url: str) -> dict:
    """The e2e action server's environment (a module that needs more settings adds them)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return {
        **os.environ,
        "LEADQUAL_QUALIFICATION": str(always_open_config()),
        "LEADQUAL_ACTION_TOKEN": ACTION_TOKEN,
        "LEADQUAL_PREVIEW_SECRET": PREVIEW_SECRET,
        "LEADQUAL_DATABASE_URL": database_url,
        "LEADQUAL_SPOOL": str(ARTIFACTS / f"pending-saves-{uuid.uuid4().hex[:8]}.jsonl"),
        "LEADQUAL_SPOOL_RETRY_SECONDS": "1",
        "LEADQUAL_WRITE_KEY": WRITE_KEY,
        "LEADQUAL_BROWSER_WRITE_KEY": BROWSER_KEY,
        "LEADQUAL_HANDOFF_DIR": str(HANDOFF_DIR),
        "LEADQUAL_DELIVERY_SECONDS": "0.5",
    }


@pytest.fixture(scope="module")
def action_server(database_url: str, actions_port: int) -> str:
    log = ARTIFACTS / "actions.log"
    env = action_server_env(database_url)
    with action_server_process(actions_port, log, env, log_mode="a"):
        yield database_url


class Visitor:
    """One website visitor talking over the REST channel."""

    def __init__(self, rasa_url: str, lang: str | None = None, anonymous_id: str | None = None) -> None:
        self.url = rasa_url
        self.sender = "e2e-" + uuid.uuid4().hex
        self.lang = lang
        # The website's visitor id, shared with the tracking snippet (sent as chat metadata).
        self.anonymous_id = anonymous_id
        self.transcript: list[tuple[str, list[dict]]] = []

    def say(self, message: str) -> list[dict]:
        metadata = {"lang": self.lang} if self.lang else {}
        if self.anonymous_id:
            metadata["anonymous_id"] = self.anonymous_id
        response = requests.post(
            self.url + "/webhooks/rest/webhook",
            json={"sender": self.sender, "message": message, "metadata": metadata},
            headers=REST_HEADERS,
            timeout=60,
        )
        response.raise_for_status()
        replies = response.json()
        self.transcript.append((message, replies))
        return replies

    def answer(self, *messages: str) -> list[dict]:
        """Say several messages in turn; the replies to the last one."""
        replies: list[dict] = []
        for message in messages:
            replies = self.say(message)
        return replies

    def click(self, replies: list[dict], title: str) -> list[dict]:
        buttons = [b for r in replies for b in r.get("buttons", [])]
        button = next((b for b in buttons if b["title"] == title), None)
        assert button, f"no button {title!r} in {[b['title'] for b in buttons]}"
        return self.say(button["payload"])

    def tracker(self) -> dict:
        response = requests.get(
            f"{self.url}/conversations/{self.sender}/tracker", params={"token": API_TOKEN}, timeout=30
        )
        response.raise_for_status()
        return response.json()


@contextmanager
def database_down(store: LeadStore):
    """A real database failure for the action server: a table it writes disappears."""
    with store.engine.begin() as conn:
        conn.execute(text("ALTER TABLE conversations RENAME TO conversations_away"))
    try:
        yield
    finally:
        with store.engine.begin() as conn:
            conn.execute(text("ALTER TABLE conversations_away RENAME TO conversations"))


def texts(replies: list[dict]) -> str:
    return "\n".join(r.get("text") or "" for r in replies)


def buttons(replies: list[dict]) -> list[str]:
    return [b["title"] for r in replies for b in r.get("buttons", [])]


@pytest.fixture
def visitor(rasa_url, action_server):
    def make(lang: str | None = None, anonymous_id: str | None = None) -> Visitor:
        return Visitor(rasa_url, lang, anonymous_id)

    return make


@pytest.fixture
def intake(actions_port, action_server):
    """POST a Segment call to the tracking intake: intake(kind, body, key=WRITE_KEY)."""

    def send(kind: str, body: dict, key: str = WRITE_KEY) -> requests.Response:
        return requests.post(f"http://127.0.0.1:{actions_port}/v1/{kind}", json=body, auth=(key, ""), timeout=30)

    return send


@pytest.fixture
def leads(action_server) -> LeadStore:
    store = LeadStore(action_server)
    yield store
    store.engine.dispose()


def delivered(lead_id: str, kind: str = "crm", timeout: float = 15) -> dict:
    """The latest packet of `kind` the action server delivered for `lead_id` (local mode: a
    JSON-lines file per kind in HANDOFF_DIR)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        path = HANDOFF_DIR / f"handoff-{kind}.jsonl"
        lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
        packets = [json.loads(line)["data"] for line in lines]
        found = [p for p in packets if p["lead_id"] == lead_id]
        if found:
            return found[-1]
        time.sleep(0.3)
    raise AssertionError(f"no {kind} packet for lead {lead_id} in {HANDOFF_DIR}")
