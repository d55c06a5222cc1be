"""The attack an outside test made (issue 19, item 1), on the real stack: a second browser types
an existing lead's email into the chat. The victim's lead keeps its answers, stage and name, and
the attacker's next chat is greeted with nothing of the victim's."""

from __future__ import annotations

import uuid

import pytest

from .conftest import texts

pytestmark = pytest.mark.e2e


def test_typing_someone_elses_email_neither_changes_nor_reveals_their_lead(visitor, leads):
    address = f"lucia-{uuid.uuid4().hex[:8]}@gomez.es"
    victim = visitor("es", anonymous_id="anon-" + uuid.uuid4().hex)
    victim.answer("quiero pedir una demo", "un CRM para el equipo comercial", "cuanto antes", "unos 12.000 € al año")
    victim.answer("soy el CEO", "me llamo Lucía Gómez", "Construcciones Gómez S.L.", address)
    before = leads.get_by_email(address)
    assert before["stage"] == "sql" and before["name"] == "Lucía Gómez"

    attacker_browser = "anon-" + uuid.uuid4().hex
    attacker = visitor("es", anonymous_id=attacker_browser)
    attacker.answer("quiero una demo", "nada en concreto", "no hay prisa", "no tenemos presupuesto", "soy estudiante")
    attacker.answer("Mallory", "Ninguna", address)

    after = leads.get_by_email(address)
    assert after["id"] == before["id"] and after["stage"] == "sql" and after["name"] == "Lucía Gómez"
    assert after["scores"] == before["scores"] and after["bant"]["authority"]["level"] == "decision_maker"
    assert attacker.sender not in after["conversations"]
    claim = leads.get_by_conversation(attacker.sender)
    assert claim["id"] != before["id"] and claim["identity"]["claimed_email"] == address

    # The attacker comes back from the same browser: greeted as what that browser said, never as Lucía.
    again = visitor("es", anonymous_id=attacker_browser)
    greeting = texts(again.say("hola"))
    assert "Lucía" not in greeting and "Gómez" not in greeting
