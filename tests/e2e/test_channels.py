"""The REST channel as an attacker or a careless caller would use it (issue 19, items 8 and 9):
no token, someone else's sender id, no sender at all, a sender that is not an id, a 500 KB
message. Rasa with the shipped credentials.yml (leadqual_rasa/channels.py GuardedRestInput)."""

from __future__ import annotations

import os
import time

import pytest
import requests

from ..conftest import REST_HEADERS
from .conftest import API_TOKEN, texts

pytestmark = pytest.mark.e2e
# leadqual_rasa/channels.py's limit (that module runs in Rasa's environment, not this one).
MAX_MESSAGE_CHARS = int(os.environ.get("LEADQUAL_MAX_MESSAGE_CHARS", 2000))


def post(rasa_url: str, body, headers=REST_HEADERS) -> requests.Response:
    return requests.post(rasa_url + "/webhooks/rest/webhook", json=body, headers=headers, timeout=60)


def user_turns(rasa_url: str, sender: str) -> list[str]:
    tracker = requests.get(f"{rasa_url}/conversations/{sender}/tracker", params={"token": API_TOKEN}, timeout=30)
    tracker.raise_for_status()
    return [e.get("text") for e in tracker.json().get("events", []) if e.get("event") == "user"]


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic x"}])
def test_without_the_token_nothing_reaches_a_conversation(rasa_url, action_server, headers):
    answer = post(rasa_url, {"sender": "visitor-no-token", "message": "hola"}, headers=headers)
    assert answer.status_code == 403
    assert "LEADQUAL_REST_TOKEN" in answer.text
    assert user_turns(rasa_url, "visitor-no-token") == []


@pytest.mark.parametrize(
    "body",
    [
        {"message": "hola"},
        {"sender": None, "message": "hola"},
        {"sender": "", "message": "hola"},
        {"sender": 42, "message": "hola"},
        {"sender": "a b", "message": "hola"},
        {"sender": "x" * 129, "message": "hola"},
        {"sender": "ok-sender", "message": None},
        ["not", "an", "object"],
    ],
)
def test_a_missing_or_odd_sender_is_a_400_naming_it_and_nobody_lands_in_default(rasa_url, action_server, body):
    answer = post(rasa_url, body)
    assert answer.status_code == 400, answer.text
    assert "sender" in answer.text or "message" in answer.text or "object" in answer.text
    assert user_turns(rasa_url, "default") == []


def test_a_huge_message_is_a_413_and_other_visitors_are_not_stalled(rasa_url, action_server):
    began = time.monotonic()
    answer = post(rasa_url, {"sender": "visitor-huge", "message": "a" * 500_000})
    assert answer.status_code == 413 and str(MAX_MESSAGE_CHARS) in answer.text
    assert user_turns(rasa_url, "visitor-huge") == []
    # Another visitor is answered as usual (the refusal costs no parsing).
    replies = post(rasa_url, {"sender": "visitor-after-huge", "message": "hola"}).json()
    assert "Nubilo" in texts(replies)
    assert time.monotonic() - began < 30


def test_a_message_at_the_limit_is_still_answered(rasa_url, action_server):
    replies = post(rasa_url, {"sender": "visitor-long", "message": "hola " + "x" * (MAX_MESSAGE_CHARS - 5)}).json()
    assert replies, "a message at the limit must get an answer"
