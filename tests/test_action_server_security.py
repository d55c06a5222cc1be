"""The action server's Rasa routes need the shared secret, and its errors never echo what Rasa
sent (rasa-sdk's own 500 handler returns the whole tracker). A real server process."""

from __future__ import annotations

import http.client
import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from actions.server import rasa_route

from .conftest import ROOT, running_action_server

TOKEN = "action-secret-for-tests"


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("actions")


@pytest.fixture(scope="module")
def server(workdir):
    with running_action_server(workdir, LEADQUAL_ACTION_TOKEN=TOKEN) as running:
        yield running


SECRET_SLOT = "ana.secret@acme.example"
CALL = {
    "next_action": "action_greet",
    "sender_id": "visitor-1",
    "tracker": "not a tracker",  # makes the action fail: rasa-sdk would answer with this whole body
    "domain": {"slots": {"email": {"initial_value": SECRET_SLOT}}},
    "version": "3.6.21",
}


def test_rasa_routes_need_the_shared_secret(server):
    url, _log = server
    for path, body in (("/webhook", CALL), ("/nlg", {"response": "utter_greet", "tracker": {}})):
        assert requests.post(url + path, json=body, timeout=10).status_code == 401
        assert requests.post(url + path, params={"token": "wrong"}, json=body, timeout=10).status_code == 401
    greeting = requests.post(url + "/nlg", params={"token": TOKEN}, json={"response": "utter_greet"}, timeout=10)
    assert greeting.status_code == 200 and greeting.json()["text"]
    assert requests.get(url + "/health", timeout=10).status_code == 200  # probes need no secret


def test_the_start_of_the_questions_after_the_result_says_nothing_is_asked_again(server):
    url, _log = server

    def start(slots: dict) -> str:
        body = {"response": "utter_start_qualification", "tracker": {"slots": {"language": "es", **slots}}}
        return requests.post(url + "/nlg", params={"token": TOKEN}, json=body, timeout=10).json()["text"]

    assert start({}).startswith("¡Genial! Te hago unas preguntas")
    assert start({"qualification": {"stage": "sql", "sales_ready": True}}) == "Ya tengo todo lo que necesito, ¡gracias!"


def test_an_error_never_echoes_the_conversation(server):
    url, log = server
    failed = requests.post(url + "/webhook", params={"token": TOKEN}, json=CALL, timeout=10)
    assert failed.status_code == 500
    body = failed.json()
    assert set(body) == {"error", "error_id"} and SECRET_SLOT not in failed.text
    # The details are in the log, under that id (the server may write the line just after answering).
    deadline = time.monotonic() + 10
    while body["error_id"] not in log.read_text(encoding="utf-8") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert body["error_id"] in log.read_text(encoding="utf-8")


FIXTURES = Path(__file__).parent / "fixtures"
# The attack an outside test made: a forged tracker of a sales-ready lead with a huge budget,
# sent to the submit action without the secret.
FORGED = {
    "next_action": "action_submit_qualification",
    "sender_id": "attacker-1",
    "tracker": {
        **json.loads((FIXTURES / "submit_hot_lead.json").read_text(encoding="utf-8")),
        "sender_id": "attacker-1",
    },
    "domain": {},
    "version": "3.6.21",
}
FORGED["tracker"]["slots"]["budget"] |= {"min": 999_999_999, "max": 999_999_999}
FORGED["tracker"]["slots"]["email"] = {
    "address": "forged@attacker.example",
    "text": "forged@attacker.example",
    "source": "text",
}

# Every spelling of the two Rasa-only routes that a router, a proxy or a client may produce.
SPELLINGS = [
    "/webhook",
    "/webhook/",
    "//webhook",
    "//webhook//",
    "/webhook//",
    "/./webhook",
    "/WEBHOOK",
    "/WebHook/",
    "/%77ebhook",
    "/webhook%2F",
    "/%2Fwebhook",
    "/%2577ebhook",
    "/webhook?x=1",
    "/webhook/?token=",
    "/nlg",
    "/nlg/",
    "//nlg",
    "/NLG",
    "/%6Elg",
    "/nlg%2F",
]


def raw_post(base: str, path: str, body: dict) -> tuple[int, str]:
    """POST with the request line exactly as given (requests would normalise some spellings)."""
    address = urlsplit(base)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
    try:
        connection.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
        answer = connection.getresponse()
        return answer.status, answer.read().decode("utf-8", "replace")
    finally:
        connection.close()


def stored_leads(workdir: Path) -> list[tuple]:
    database = workdir / "leads.db"
    if not database.exists():
        return []
    with sqlite3.connect(database) as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        return list(db.execute("SELECT id, email FROM leads")) if "leads" in tables else []


@pytest.mark.parametrize("path", SPELLINGS)
def test_every_spelling_of_a_rasa_route_needs_the_secret(server, workdir, path):
    url, _log = server
    body = FORGED if "webhook" in path.lower() or "77" in path else {"response": "utter_greet", "tracker": {}}
    status, text = raw_post(url, path, body)
    # 401 where the route is served; a spelling no route matches may also be 404 — never 200.
    assert status in (401, 404), (path, status, text[:200])
    assert "forged@attacker.example" not in text
    assert not [lead for lead in stored_leads(workdir) if lead[1] == "forged@attacker.example"]


def test_the_trailing_slash_spellings_are_refused_not_just_unrouted(server):
    url, _log = server
    for path in ("/webhook/", "/nlg/", "//webhook", "/webhook//"):
        assert raw_post(url, path, FORGED)[0] == 401, path


def test_with_the_secret_the_same_forged_call_reaches_the_action(server, workdir):
    """The control: the checks above fail for the token, not because the call is malformed."""
    url, _log = server
    status, text = raw_post(url, f"/webhook?token={TOKEN}", FORGED)
    assert status == 200, text[:500]
    assert [lead for lead in stored_leads(workdir) if lead[1] == "forged@attacker.example"]


@pytest.mark.parametrize(
    ("path", "protected"),
    [
        ("/webhook", True),
        ("/webhook/", True),
        ("//WebHook//", True),
        ("/%77ebhook", True),
        ("/%2577ebhook", True),
        ("/nlg/x", True),
        ("/health", False),
        ("/embed/track.js", False),
        ("/v1/track", False),
        ("/webhooks", False),
    ],
)
def test_which_paths_count_as_rasa_routes(path, protected):
    assert rasa_route(path) is protected


@pytest.mark.parametrize("token", ["", "short"])
def test_the_server_does_not_start_without_a_real_secret(tmp_path, token):
    env = {"PATH": "/usr/bin:/bin", "LEADQUAL_DATABASE_URL": f"sqlite:///{tmp_path / 'leads.db'}"}
    if token:
        env["LEADQUAL_ACTION_TOKEN"] = token
    done = subprocess.run(
        [sys.executable, "-m", "actions.server", "--port", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "LEADQUAL_ACTION_TOKEN must be set" in done.stderr
