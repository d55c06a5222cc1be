"""Visitors' questions answered from marketing's knowledge file (config/knowledge.yml), before,
during and after the questions; "I don't know" plus a person below the threshold, and the
question kept for marketing; "depende del precio" gets the price band (issue 18, item 3)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from leadqual.config.marketing import load_messages
from leadqual.conversation.analytics import UnansweredQuestion
from leadqual.understanding.knowledge import continue_prompt, knowledge, price_band

from .conftest import buttons, texts

pytestmark = pytest.mark.e2e
M = load_messages()
KB = knowledge()


def ask(slot: str, lang: str = "es") -> str:
    return getattr(M.questions[slot].ask, lang)


def answer_of(entry_id: str, lang: str = "es") -> str:
    return KB.entry(entry_id).answer.get(lang)


def entry_for(topic: str):
    return next(entry for entry in KB.entries if entry.topic == topic)


def test_a_question_before_the_questions_is_answered(visitor):
    v = visitor("es")
    v.say("hola")
    trial = entry_for("trial")
    replies = v.say("¿tenéis prueba gratuita?")
    assert answer_of(trial.id) in texts(replies)
    assert ask("need") not in texts(replies)


def test_a_question_during_the_questions_is_answered_then_the_chat_asks_to_go_on(visitor, leads):
    v = visitor("es")
    v.answer("quiero una demo", "un CRM para el equipo comercial")
    replies = v.say("¿se integra con Salesforce?")
    shown = texts(replies)
    assert continue_prompt("es") in shown and ask("timing") not in shown
    assert buttons(replies) == ["Sí, sigamos", "Ahora no"]
    assert any(word in shown for word in ("Salesforce", "salesforce"))
    replies = v.click(replies, "Sí, sigamos")
    assert ask("timing") in texts(replies)
    v.answer("cuanto antes", "unos 10.000 € al año", "soy el CEO", "Ana Torres", "Torres SL")
    v.say("ana@torres-sl.example")
    lead = leads.get_by_email("ana@torres-sl.example")
    assert lead["bant"]["timing"]["months"] == 0 and lead["bant"]["need"]["value"] == "crm"


def test_no_to_going_on_stops_the_questions_and_keeps_the_answers(visitor):
    v = visitor("es")
    v.answer("quiero una demo", "un CRM para el equipo comercial")
    replies = v.say("¿cuánto cuesta el plan básico?")
    assert continue_prompt("es") in texts(replies)
    replies = v.click(replies, "Ahora no")
    assert ask("timing") not in texts(replies)
    slots = v.tracker()["slots"]
    assert slots["need"]["value"] == "crm" and slots["requested_slot"] is None


def test_depends_on_the_price_gets_the_price_band_and_the_budget_question_again(visitor):
    v = visitor("es")
    v.answer("quiero una demo", "un CRM para el equipo comercial", "cuanto antes")
    replies = v.say("depende del precio")
    assert price_band("es") in texts(replies)
    assert ask("budget") in texts(replies)
    assert v.tracker()["slots"]["budget"] is None
    replies = v.say("unos 6.000 € al año")
    assert ask("authority") in texts(replies)


def test_a_question_nobody_wrote_an_answer_for_offers_a_person_and_is_kept_for_marketing(visitor, leads):
    v = visitor("en")
    v.say("hi")
    replies = v.say("do you offer an on-premise version we can install on our own servers?")
    assert KB.fallback.get("en") in texts(replies)
    assert "Talk to a person" in buttons(replies)
    with leads.engine.connect() as conn:
        kept = conn.execute(select(UnansweredQuestion.text).where(UnansweredQuestion.conversation_id == v.sender)).all()
    assert [row[0] for row in kept] == ["do you offer an on-premise version we can install on our own servers?"]
