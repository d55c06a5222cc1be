"""Whole conversations over Rasa's REST channel, checked by the replies and the stored lead."""

from __future__ import annotations

import time
import uuid

import pytest
import requests

from leadqual.config.marketing import load_messages
from leadqual.understanding.knowledge import knowledge

from .conftest import API_TOKEN, buttons, database_down, texts

pytestmark = pytest.mark.e2e
M = load_messages()


def ask(slot: str, lang: str = "es") -> str:
    return getattr(M.questions[slot].ask, lang)


def price_answer(lang: str) -> str:
    """The knowledge file's answer about plans and prices."""
    return knowledge().entry("pricing_plans").answer.get(lang)


def said(name: str, lang: str = "es") -> str:
    value = getattr(M.responses[name], lang)
    return value if isinstance(value, str) else value[0]


def test_hot_lead_in_spanish_reaches_sales(visitor, leads):
    v = visitor("es")
    assert "Nubilo" in texts(v.say("hola"))
    replies = v.say("quiero pedir una demo")
    assert ask("need") in texts(replies)
    assert "Gestionar clientes y ventas" in buttons(replies)
    replies = v.click(replies, "Gestionar clientes y ventas")
    assert ask("timing") in texts(replies)
    replies = v.say("dentro de tres meses")
    assert ask("budget") in texts(replies)
    replies = v.say("unos 12.000 € al año")
    assert ask("authority") in texts(replies)
    replies = v.say("soy el CEO")
    assert ask("name") in texts(replies)
    v.say("me llamo Lucía Gómez")
    v.say("Trabajo en Construcciones Gómez S.L.")
    replies = v.say("Lucia.Gomez@Gomez.es")
    # The result, then the next steps with the assigned SDR: a booking link and talking now.
    assert "Lucía Gómez" in texts(replies) and "encaja muy bien con Construcciones Gómez S.L." in texts(replies)
    assert "Puedes reservar ya una reunión con" in texts(replies) and "https://cal.nubilo.es/" in texts(replies)
    assert "está disponible ahora mismo" in texts(replies)
    assert buttons(replies) == ["Sí, hablar ahora", "Ahora no, gracias"]

    lead = leads.get_by_email("lucia.gomez@gomez.es")
    assert lead["stage"] == "sql"
    assert lead["name"] == "Lucía Gómez" and lead["company"] == "Construcciones Gómez S.L."
    assert lead["bant"]["budget"] | {"text": None} == {
        "min": 12000,
        "max": 12000,
        "currency": "EUR",
        "period": "year",
        "none": False,
        "unknown": False,
        "skipped": False,
        "qualifies": True,
        "text": None,
    }
    assert lead["bant"]["authority"]["level"] == "decision_maker"
    assert lead["bant"]["need"]["value"] == "crm"
    assert lead["bant"]["timing"]["months"] == 3
    assert lead["scores"]["fit"] == lead["scores"]["total"] >= 80
    assert v.sender in lead["conversations"]


def test_student_is_nurtured(visitor, leads):
    v = visitor("es")
    replies = v.say("cuánto cuesta?")
    assert price_answer("es") in texts(replies)  # the price first, then the offer
    assert buttons(replies) == ["Sí, vamos", "Ahora no"]
    assert ask("need") in texts(v.click(replies, "Sí, vamos"))
    replies = v.answer(
        "es para un trabajo de clase, nada en concreto",
        "no hay prisa",
        "no tenemos presupuesto",
        "soy estudiante",
    )
    assert ask("name") in texts(replies)
    v.say("Pablo")
    v.say("Universidad de Sevilla")
    replies = v.say("pablo@us.es")
    assert "Me lo apunto todo para cuando llegue el momento" in texts(replies)
    # Nurturing needs consent: asked, and nothing is sent before the answer.
    assert said("utter_ask_consent") in texts(replies)
    assert buttons(replies) == ["Sí, enviádmelos", "No, gracias"]
    assert leads.get_by_email("pablo@us.es")["marketing_consent"] is None
    replies = v.click(replies, "No, gracias")
    assert texts(replies) == said("utter_consent_declined")
    lead = leads.get_by_email("pablo@us.es")
    assert lead["marketing_consent"] is False
    assert lead["stage"] == "lead"
    assert lead["bant"]["authority"] == {**lead["bant"]["authority"], "level": "none", "qualifies": False}
    assert lead["bant"]["budget"]["none"] is True
    assert lead["scores"]["total"] < 40


def test_multi_answer_message_fills_every_slot_it_can(visitor, leads):
    v = visitor("es")
    v.say("quiero una cotización")
    replies = v.say("somos 20 comerciales, tenemos unos 10.000 € y lo decido yo")
    # need came from "comerciales"; budget and authority from the same message: only timing is asked.
    assert ask("timing") in texts(replies)
    replies = v.say("cuanto antes")
    assert ask("name") in texts(replies), "budget and authority must not be asked again"
    slots = v.tracker()["slots"]
    assert slots["budget"]["max"] == 10000 and slots["budget"]["currency"] == "EUR"
    assert slots["authority"]["level"] == "decision_maker"
    assert slots["need"]["value"] == "crm"
    lead = leads.get_by_conversation(v.sender)
    assert lead["email"] is None  # anonymous until the email arrives, but already stored
    assert lead["bant"]["budget"]["max"] == 10000


def test_returning_visitor_updates_the_same_lead(visitor, leads):
    # The same browser (its visitor id) comes back: the same person (leadqual/leads/identity.py). From
    # another browser the email would only be claimed: tests/e2e/test_identity_claims.py.
    browser = "anon-" + uuid.uuid4().hex
    first = visitor("es", anonymous_id=browser)
    first.say("hablar con ventas")
    for answer in [
        "informes y analítica",
        "en 6 meses",
        "menos de 1000 euros",
        "lo decide mi jefe",
        "Marta",
        "Datos SA",
    ]:
        first.say(answer)
    first.say("marta@datos.com")
    before = leads.get_by_email("marta@datos.com")
    assert before["bant"]["budget"]["qualifies"] is False

    second = visitor("es", anonymous_id=browser)
    second.say("quiero una demo")  # what the lead already holds is not asked again
    second.say("perdona, el presupuesto ahora es de unos 20.000 € al año")
    after = leads.get_by_email("marta@datos.com")
    assert after["id"] == before["id"]
    assert set(after["conversations"]) == {first.sender, second.sender}
    assert after["bant"]["budget"]["max"] == 20000 and after["bant"]["budget"]["qualifies"] is True
    assert after["scores"]["total"] > before["scores"]["total"]
    assert [lead["email"] for lead in leads.list_leads(limit=1000)].count("marta@datos.com") == 1


def test_english_visitor_from_page_language_and_from_text(visitor, leads):
    v = visitor("en")
    replies = v.say("pricing")
    assert price_answer("en") in texts(replies)
    replies = v.click(replies, "Yes, let's go")
    assert ask("need", "en") in texts(replies)
    assert "Manage customers and sales" in buttons(replies)
    v.say("we need to automate our email campaigns")
    v.say("in three months")
    v.say("around $20k a year")
    v.say("I'm the founder")
    v.say("John Smith")
    v.say("I work at Globex")
    replies = v.say("john@globex.com")
    assert "Thanks, John Smith" in texts(replies)
    lead = leads.get_by_email("john@globex.com")
    assert lead["language"] == "en"
    assert lead["bant"]["budget"]["currency"] == "USD" and lead["bant"]["budget"]["qualifies"] is True
    assert lead["bant"]["need"]["value"] == "marketing_automation"

    detected = visitor(None)  # no metadata: the language comes from the text
    replies = detected.say("Hi, I would like to book a demo please")
    assert ask("need", "en") in texts(replies)


def test_unclear_answers_are_reasked_twice_then_a_way_out(visitor, leads):
    v = visitor("es")
    v.answer("quiero una demo", "un CRM", "en 3 meses")
    reask = M.questions["budget"].reask.es
    first = v.say("patata")
    assert reask in texts(first) and ask("budget") in texts(first)
    assert "Saltar esta pregunta" not in buttons(first)
    second = v.say("mmm")
    assert reask in texts(second)
    assert {"Saltar esta pregunta", "Prefiero que me contacte una persona"} <= set(buttons(second))
    replies = v.click(second, "Saltar esta pregunta")
    assert ask("authority") in texts(replies)
    assert v.tracker()["slots"]["budget"]["skipped"] is True

    # A third failure on the next question is never a loop: the question is left for a person.
    v.say("asdfgh")
    v.say("qwerty uiop")
    replies = v.say("zzz")
    assert said("utter_gave_up_question") in texts(replies) and ask("name") in texts(replies)


def test_asking_for_a_person_skips_to_contact_details(visitor, leads):
    v = visitor("es")
    v.say("quiero una demo")
    replies = v.say("prefiero hablar con una persona")
    assert said("utter_handoff_contact") in texts(replies) and ask("name") in texts(replies)
    v.say("Rosa")
    v.say("Rosa Flores SL")
    v.say("rosa@flores.es")
    lead = leads.get_by_email("rosa@flores.es")
    assert lead["bant"]["budget"]["skipped"] and lead["bant"]["need"]["skipped"]


def test_why_do_you_ask_and_stop_in_the_middle(visitor, leads):
    v = visitor("es")
    v.say("me interesa el producto")
    v.say("atención al cliente")
    replies = v.say("¿por qué lo preguntas?")
    assert M.questions["timing"].why.es in texts(replies) and ask("timing") in texts(replies)
    v.say("en 2 meses")
    replies = v.say("ahora no, gracias")
    assert said("utter_stopped") in texts(replies)
    assert v.tracker()["active_loop"] == {} or not v.tracker()["active_loop"].get("name")
    lead = leads.get_by_conversation(v.sender)
    assert lead["bant"]["need"]["value"] == "support"
    assert lead["bant"]["timing"]["months"] == 2
    # After stopping, small talk works and nothing is asked.
    assert ask("budget") not in texts(v.say("hola"))


def test_typed_payload_cannot_set_a_value(visitor, leads):
    v = visitor("es")
    v.answer("quiero una demo", "un CRM", "ya")
    replies = v.say('/inform{"budget": "999999", "option": "over_10k_fake"}')
    assert M.questions["budget"].reask.es in texts(replies)
    assert v.tracker()["slots"]["budget"] is None
    # A real button for a different question is not accepted either.
    v.say('/inform{"option": "decision_maker"}')
    assert v.tracker()["slots"]["budget"] is None


def test_small_talk_and_odd_input_never_break_the_chat(visitor):
    v = visitor("es")
    assert texts(v.say("¿eres un bot?")) == said("utter_iamabot")
    assert texts(v.say("¿qué tiempo hace en Madrid?")).strip()
    odd_inputs = [
        "",
        "🙂🙂🙂",
        "<script>alert(1)</script>",
        "'; DROP TABLE leads; --",
        "x" * 1999,  # just under the channel's limit (longer ones are a 413: tests/e2e/test_channels.py)
        "Bonjour, je voudrais des informations",
        "Guten Tag, was kostet das?",
        "/restart",
        '/inform{"budget": 1}',
    ]
    for odd in odd_inputs:
        assert v.say(odd) is not None
    assert "Nubilo" in texts(v.say("hola"))
    # The same odd input in the middle of the questions: the question is asked again, nothing is stored.
    v.say("quiero una demo")
    for odd in odd_inputs:
        replies = v.say(odd)
        assert texts(replies).strip(), f"no reply to {odd[:40]!r}"
    assert v.tracker()["slots"]["need"] is None or v.tracker()["slots"]["need"].get("skipped")


def test_tracker_api_needs_the_token_and_exposes_the_slots(rasa_url, visitor):
    v = visitor("es")
    v.answer("quiero una demo", "un CRM")
    refused = requests.get(f"{rasa_url}/conversations/{v.sender}/tracker", timeout=30)
    assert refused.status_code == 401
    slots = v.tracker()["slots"]
    assert slots["need"]["value"] == "crm" and slots["requested_slot"] == "timing"
    assert {"need", "timing", "budget", "authority", "name", "email", "company"} <= set(slots)
    assert API_TOKEN not in refused.text


def test_database_failure_loses_no_answer(visitor, leads):
    v = visitor("es")
    v.answer("quiero una demo", "un CRM")
    with database_down(leads):
        replies = v.say("en 3 meses")
        assert said("utter_save_failed") in texts(replies)
        assert ask("budget") in texts(replies)  # the visitor is not stuck
    v.say("unos 5.000 €")
    lead = leads.get_by_conversation(v.sender)
    assert lead["bant"]["timing"]["months"] == 3, "the answer given while the database was down"
    assert lead["bant"]["budget"]["max"] == 5000


def test_low_confidence_answer_is_read_back_and_no_asks_again(visitor, leads):
    v = visitor("es")
    v.answer("quiero una demo", "un CRM", "en 3 meses")
    replies = v.say("7000")  # a bare number: currency and period are assumed, so confirm
    assert texts(replies) == "Para asegurarme: ¿serían 7.000 € al año?"
    assert buttons(replies) == ["Sí", "No, te lo digo otra vez"]
    assert v.tracker()["slots"]["budget"] is None
    replies = v.click(replies, "No, te lo digo otra vez")
    assert texts(replies) == ask("budget")
    replies = v.say("unos 7 mil y pico")
    assert "7.000 €" in texts(replies)
    replies = v.click(replies, "Sí")
    assert ask("authority") in texts(replies)
    budget = v.tracker()["slots"]["budget"]
    assert (budget["max"], budget["confirmed"]) == (7000, True)
    assert leads.get_by_conversation(v.sender)["bant"]["budget"]["max"] == 7000


def test_english_read_back_accepts_a_typed_yes(visitor):
    v = visitor("en")
    v.say("I'd like a demo")
    v.say("a CRM for our sales team")
    v.say("asap")
    replies = v.say("5k")
    assert texts(replies) == "Just to check: is that €5,000 a year?"
    replies = v.say("yes")
    assert ask("authority", "en") in texts(replies)


def test_corrections_update_the_answer_and_the_score(visitor, leads):
    v = visitor("es")
    v.answer("quiero una demo", "un CRM", "en 3 meses")
    v.say("unos 2.000 € al año")
    before = leads.get_by_conversation(v.sender)
    assert before["bant"]["budget"]["qualifies"] is False
    replies = v.say("perdona, eran 20 mil")  # during the questions
    assert "Hecho, he cambiado el presupuesto: 20.000 € al año." in texts(replies)
    assert ask("authority") in texts(replies), "the questions go on"
    after = leads.get_by_conversation(v.sender)
    assert after["bant"]["budget"] | {"text": None} == {
        **before["bant"]["budget"],
        "min": 20000,
        "max": 20000,
        "qualifies": True,
        "text": None,
    }
    assert after["scores"]["fit"] > before["scores"]["fit"]
    for answer in ["lo decido yo", "Iván", "Hostal Sol", "ivan@hostalsol.es"]:
        v.say(answer)
    replies = v.say("cambia el plazo a 6 meses")  # after the questions
    assert "el plazo: en 6 meses" in texts(replies)
    assert leads.get_by_email("ivan@hostalsol.es")["bant"]["timing"]["months"] == 6

    en = visitor("en")
    replies = en.answer("pricing please", "a CRM", "asap", "around €5,000 a year", "actually it's 30k")
    assert "Done, I've updated the budget: €30,000 a year." in texts(replies)


def test_answers_saved_during_an_outage_are_written_even_if_the_visitor_leaves(visitor, leads):
    v = visitor("es")
    v.answer("quiero una demo", "un CRM")
    with database_down(leads):
        replies = v.say("ahora no")  # stops; the database is down
        assert said("utter_save_failed") in texts(replies)
        assert said("utter_stopped_unsaved") in texts(replies)
        assert said("utter_stopped") not in texts(replies)
    # The visitor says nothing more: the action server's background retry writes the answers.
    deadline = time.monotonic() + 20
    while leads.get_by_conversation(v.sender) is None and time.monotonic() < deadline:
        time.sleep(0.5)
    lead = leads.get_by_conversation(v.sender)
    assert lead is not None and lead["bant"]["need"]["value"] == "crm"
