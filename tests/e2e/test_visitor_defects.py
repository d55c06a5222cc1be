"""What visitors met in a real browser (issue 21), over REST with the real model, Rasa, the action
server and a database: each checked by the bot's replies and what the console and the lead hold."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from leadqual.config.marketing import load_messages
from leadqual.db.tables import LiveChat

from .conftest import buttons, texts

pytestmark = pytest.mark.e2e
M = load_messages()


def say(name: str, lang: str = "es") -> str:
    return getattr(M.responses[name], lang)


def ask(slot: str) -> str:
    return M.questions[slot].ask.es


def live_chats(leads, conversation_id: str) -> list[tuple[str, str | None]]:
    with leads.sessions() as session:
        rows = session.scalars(select(LiveChat).where(LiveChat.conversation_id == conversation_id))
        return [(chat.status, chat.lead_id) for chat in rows]


def qualify(v, email: str) -> list[dict]:
    v.answer("quiero una demo", "gestionar el equipo comercial", "este mes", "unos 15.000 € al año", "soy la CEO")
    v.answer("Marta Ruiz", "Ruiz Logística")
    return v.say(email)


def test_a_first_request_for_a_person_reaches_the_console_and_is_answered_after_the_details(visitor, leads):
    v = visitor("es")
    v.say("/greet")
    replies = v.say("quiero hablar con una persona")
    assert say("utter_handoff_contact") in texts(replies) and ask("name") in texts(replies)
    # In /live at once, before any detail: an SDR sees it even if no email ever comes.
    assert live_chats(leads, v.sender) == [("requested", None)]
    v.answer("Ana Torres", "Torres SL")
    replies = v.say("ana@torres-person.example")
    said = texts(replies)
    assert "te escribirá aquí en unos minutos" in said or "te contactará en menos de" in said
    assert "Me lo apunto todo" not in said and not buttons(replies)  # no nurture result, no consent question
    lead = leads.get_by_email("ana@torres-person.example")
    assert live_chats(leads, v.sender) == [("requested", lead["id"])]


def test_not_now_to_talking_now_gives_the_booking_link_and_when_sales_will_write(visitor, leads):
    v = visitor("es")
    replies = qualify(v, "marta@notnow.example")
    assert buttons(replies) == ["Sí, hablar ahora", "Ahora no, gracias"]
    reply = texts(v.say("Ahora no, gracias"))
    sdr = leads.config.handoff.sdr(leads.get_by_email("marta@notnow.example")["owner"]["sdr"])
    assert sdr.name in reply and sdr.scheduling_url in reply and f"{leads.config.handoff.sla_hours} horas" in reply
    assert reply != say("utter_goodbye")


def test_a_buying_message_after_the_result_asks_and_thanks_nothing_again(visitor):
    v = visitor("es")
    qualify(v, "marta@again.example")
    said = texts(v.say("quiero una demo"))
    assert say("utter_already_qualified") in said
    assert "¡Gracias, Marta!" not in said and say("utter_known_answers") not in said
    assert not any(ask(slot) in said for slot in ("need", "timing", "budget", "authority", "name"))


def test_typing_a_buttons_label_is_that_button(visitor):
    v = visitor("es")
    v.answer("quiero una demo", "gestionar el equipo comercial")
    replies = v.say("este año")
    assert "Para asegurarme" not in texts(replies) and ask("budget") in texts(replies)


def test_a_first_answer_said_like_a_correction_is_an_answer(visitor):
    v = visitor("es")
    v.answer("quiero una demo", "gestionar el equipo comercial")
    replies = v.say("perdona, mejor en dos meses")
    assert "he cambiado" not in texts(replies) and ask("budget") in texts(replies)


def test_laughter_is_not_taken_as_a_name_and_the_transcript_keeps_the_last_turn(visitor, leads):
    v = visitor("es")
    v.say("/greet")
    v.answer("quiero una demo", "gestionar el equipo comercial", "este mes", "unos 15.000 € al año", "soy la CEO")
    replies = v.say("jajaja")
    assert ask("company") not in texts(replies) and ask("name") in texts(replies)
    v.answer("Marta Ruiz", "Ruiz Logística")
    last = v.say("marta@transcript.example")
    lead = leads.get_by_email("marta@transcript.example")
    assert lead["name"] == "Marta Ruiz"
    lines = [m["text"] for t in lead["transcripts"] for m in t["messages"]]
    assert "/greet" not in lines  # the widget opening is not something the visitor typed
    assert all(r["text"] in lines for r in last if r.get("text"))  # the result and next steps, stored
