"""Two Rasa servers sharing the SQL tracker store (PostgreSQL) and the Redis lock store: one
conversation whose messages alternate between them goes through a whole qualification."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from leadqual.config.marketing import load_messages

from .conftest import Visitor, texts, wait_until

pytestmark = pytest.mark.e2e
M = load_messages()


def ask(slot: str) -> str:
    return M.questions[slot].ask.es


# (message, the question the reply must ask, or None)
QUALIFICATION = [
    ("quiero pedir una demo", "need"),
    ("gestionar el equipo comercial", "timing"),
    ("dentro de tres meses", "budget"),
    ("unos 12.000 € al año", "authority"),
    ("soy el CEO", "name"),
    ("me llamo Lucía Gómez", "company"),
    ("Trabajo en Construcciones Gómez S.L.", "email"),
]


def assert_turns_in_order(events: list[dict]) -> None:
    """Each visitor message was processed whole before the next one: after every user event the
    bot acted, and listened, before the next user event (what the shared lock guarantees)."""
    since_user: list[str] | None = None
    for event in events:
        if event["event"] == "user":
            assert since_user is None or since_user[-1:] == ["action_listen"], since_user
            since_user = []
        elif event["event"] == "action" and since_user is not None:
            since_user.append(event["name"])
    assert since_user and since_user[-1] == "action_listen"


def test_one_conversation_alternating_between_two_rasa_servers(stack):
    v = Visitor(stack.rasa_urls)
    email = f"lucia.{uuid.uuid4().hex[:8]}@gomez.es"

    # Two messages at once, one to each server: the shared Redis lock makes them take turns
    # (with Rasa's stock RedisLockStore both ran at once and one message vanished from the tracker).
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(v.say, "hola", 0)
        second = pool.submit(v.say, "¿eres un bot?", 1)
        assert "Nubilo" in texts(first.result())
        assert texts(second.result()).strip()
    for message, question in QUALIFICATION:
        replies = v.say(message)
        assert ask(question) in texts(replies), (message, replies)
    replies = v.say(email)
    assert "Lucía Gómez" in texts(replies) and "encaja muy bien con Construcciones Gómez S.L." in texts(replies)
    assert set(v.servers) == set(stack.rasa_urls)

    lead = stack.store.get_by_email(email)
    assert lead["stage"] == "sql" and lead["sales_ready"]
    assert (lead["name"], lead["company"]) == ("Lucía Gómez", "Construcciones Gómez S.L.")
    budget = lead["bant"]["budget"]
    assert (budget["max"], budget["currency"], budget["period"]) == (12000, "EUR", "year")
    assert lead["bant"]["authority"]["level"] == "decision_maker"
    assert lead["bant"]["need"]["value"] == "crm"
    assert lead["bant"]["timing"]["months"] == 3
    assert v.sender in lead["conversations"]

    # Every turn is in the shared tracker, the same from either server, in order.
    expected = ["hola", "¿eres un bot?"] + [m for m, _ in QUALIFICATION] + [email]
    for server in (0, 1):
        messages = v.user_messages(server)
        assert sorted(messages[:2]) == sorted(expected[:2]) and messages[2:] == expected[2:], messages
        assert_turns_in_order(v.tracker(server)["events"])
    # The handoff packet reached the CRM (local mode) once.
    assert len(wait_until(lambda: stack.packets(lead["id"]))) == 1
