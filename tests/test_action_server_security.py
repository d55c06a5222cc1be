"""The action server's Rasa routes need the shared secret, and its errors never echo what Rasa
sent (rasa-sdk's own 500 handler returns the whole tracker). A real server process."""

from __future__ import annotations

import time

import pytest
import requests

from .conftest import running_action_server

TOKEN = "action-secret-for-tests"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_action_server(tmp_path_factory.mktemp("actions"), LEADQUAL_ACTION_TOKEN=TOKEN) as running:
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
