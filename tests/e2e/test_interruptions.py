"""No loop of any kind: every interruption during a question counts toward the same cap as a
failed answer, and a name that looks like an intent is a name (issue 18). Real model, real
Rasa, real action server and database; checked by the replies and the stored lead."""

from __future__ import annotations

import pytest

from leadqual.config.marketing import load_messages, load_qualification

from .conftest import texts

pytestmark = pytest.mark.e2e
M = load_messages()
MAX_REASKS = load_qualification().max_reasks


def ask(slot: str, lang: str = "es") -> str:
    return getattr(M.questions[slot].ask, lang)


def reach_name_question(v) -> list[dict]:
    replies = v.answer(
        "quiero pedir una demo", "un CRM para el equipo comercial", "cuanto antes", "unos 12.000 € al año"
    )
    replies = v.say("soy el CEO")
    assert ask("name") in texts(replies)
    return replies


# One message per interruption the questions have a rule for, typed again and again.
REPEATED = {
    "greet": "hola",
    "thanks": "gracias",
    "bot_challenge": "¿eres un bot?",
    "ask_why": "¿por qué me preguntas eso?",
    "buying_interest": "quiero una demo",
    "out_of_scope": "¿qué tiempo hace en Madrid?",
}


@pytest.mark.parametrize("intent", sorted(REPEATED))
def test_the_same_interruption_again_and_again_never_loops(visitor, leads, intent):
    v = visitor("es")
    reach_name_question(v)
    turns = 0
    replies: list[dict] = []
    # The cap: the question is asked at most 1 + MAX_REASKS times, then the chat moves on.
    while turns < MAX_REASKS + 3 and ask("company") not in texts(replies):
        replies = v.say(REPEATED[intent])
        turns += 1
    assert ask("company") in texts(replies), (intent, v.transcript[-turns:])
    assert turns <= MAX_REASKS + 1, f"{intent}: the name was asked {turns} times"
    # The rest goes on as normal and the lead keeps what was answered.
    v.say("Acme Ibérica")
    v.say("ceo@acme-iberica.es")
    lead = leads.get_by_email("ceo@acme-iberica.es")
    assert lead["bant"]["need"]["value"] == "crm" and lead["bant"]["authority"]["level"] == "decision_maker"
    assert lead["name"] is None


@pytest.mark.parametrize("name", ["javier moreno", "Noelia Nogueira", "ana sierra de la fuente"])
def test_a_name_that_looks_like_an_intent_is_taken_as_a_name(visitor, leads, name):
    v = visitor("es")
    reach_name_question(v)
    replies = v.say(name)
    assert ask("company") in texts(replies), v.transcript[-1]
    v.say("Moreno y Asociados")
    address = name.split()[0].lower() + "@moreno-asociados.es"
    v.say(address)
    lead = leads.get_by_email(address)
    assert lead["name"].lower() == name.lower()
    assert lead["company"] == "Moreno y Asociados"
