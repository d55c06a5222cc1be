"""After qualifying: talking to a person now, an SDR taking the chat over (the bot silent) and
handing it back; consent sending a lead to nurturing. Real model, action server and database."""

from __future__ import annotations

import pytest

from leadqual.leads.takeover import LiveChats, RasaAPI

from .conftest import API_TOKEN, buttons, delivered, texts

pytestmark = pytest.mark.e2e
JOINED_END = "Ya he leído lo que has hablado con el asistente; cuéntame."


def qualify_hot_lead(v, email: str) -> list[dict]:
    v.answer("quiero una demo", "gestionar el equipo comercial", "este mes", "unos 15.000 € al año", "soy la CEO")
    v.answer("Marta Ruiz", "Ruiz Logística")
    return v.say(email)


def test_talk_now_then_an_sdr_takes_over_and_hands_back(visitor, leads, rasa_url):
    v = visitor("es")
    replies = qualify_hot_lead(v, "marta@ruizlogistica.es")
    assert buttons(replies) == ["Sí, hablar ahora", "Ahora no, gracias"]
    lead = leads.get_by_email("marta@ruizlogistica.es")
    sdr_id = lead["owner"]["sdr"]
    sdr_name = leads.config.handoff.sdr(sdr_id).name
    assert sdr_name in texts(replies)

    # The visitor wants to talk now: the SDR is alerted (outbox kind "live") and the visitor told.
    replies = v.click(replies, "Sí, hablar ahora")
    assert texts(replies) == f"Aviso ahora mismo a {sdr_name}, que te escribirá aquí en unos minutos."
    alert = delivered(lead["id"], kind="live")
    assert alert["conversation_id"] == v.sender and alert["sdr"] == sdr_id and alert["available"] is True

    chats = LiveChats(leads, RasaAPI(rasa_url, API_TOKEN, timeout=30))
    assert [c["conversation_id"] for c in chats.waiting()] == [v.sender]
    chats.take_over(v.sender, sdr_id)
    assert v.tracker()["paused"] is True

    # While the SDR is in, the bot says nothing, whatever the visitor writes; it is all stored.
    assert v.say("¿Tenéis integración con Holded?") == []
    assert v.say("gracias") == []
    chats.say(v.sender, sdr_id, "Sí, con Holded y con A3. ¿Te enseño cómo en una llamada?")
    chats.hand_back(v.sender, by=sdr_id)
    assert v.tracker()["paused"] is False

    # Back with the bot, which answers again.
    assert v.say("gracias") != []

    (transcript,) = [t for t in leads.get(lead["id"])["transcripts"] if t["conversation_id"] == v.sender]
    lines = [(m["sender"], m["text"]) for m in transcript["messages"]]
    start = lines.index(("visitor", "Sí, hablar ahora"))  # the click, shown as the button's title
    assert lines[start + 2 :] == [
        ("sdr", f"Hola, soy {sdr_name}, del equipo comercial de Nubilo. " + JOINED_END),
        ("visitor", "¿Tenéis integración con Holded?"),
        ("visitor", "gracias"),
        ("sdr", "Sí, con Holded y con A3. ¿Te enseño cómo en una llamada?"),
        ("sdr", "Te dejo de nuevo con el asistente. ¡Gracias por tu tiempo!"),
    ]
    # The CRM packet delivered at qualification carried the conversation up to then.
    packet = delivered(lead["id"])
    assert ("visitor", "soy la CEO") in [(m["sender"], m["text"]) for m in packet["transcripts"][0]["messages"]]


def test_a_lead_not_for_sales_who_consents_goes_to_nurturing(visitor, leads):
    v = visitor("en")
    v.answer("how much is it?", "just browsing for a class project", "no rush", "no budget", "I'm a student")
    v.answer("Sam", "Uni of Leeds")
    replies = v.say("sam@leeds.example")
    assert buttons(replies) == ["Yes, send them", "No, thanks"]
    replies = v.click(replies, "Yes, send them")
    assert texts(replies) == "Done! We'll write to sam@leeds.example. Every email has a link to unsubscribe."
    lead = leads.get_by_email("sam@leeds.example")
    assert lead["marketing_consent"] is True and not lead["sales_ready"]
    packet = delivered(lead["id"], kind="nurture")
    assert packet["contact"]["email"] == "sam@leeds.example" and packet["grade"] == lead["grade"]
    assert packet["reason"]["code"] == "below_threshold"
    assert packet["consent"]["granted"] is True and "unsubscribe" in packet["consent"]["wording"]
