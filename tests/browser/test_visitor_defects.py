"""Issue 21's visitors, in the widget in headless Chromium: a first request for a person reaches
the console and is answered after the details; "Ahora no, gracias" to talking now gives the booking
link and when sales will write; a new buying message after the result asks nothing again; a typed
button label and laughter are read as a person means them.
The stored lead and the console's live-chat queue are checked, as over REST in tests/e2e/."""

from __future__ import annotations

import time

import pytest
import yaml
from sqlalchemy import select

from leadqual import settings
from leadqual.config.marketing import load_messages
from leadqual.conversation.flows import FlowStore
from leadqual.db.tables import LiveChat

from ..conftest import ROOT, always_open_config
from .test_visitor_kinds import open_chat
from .test_website_chat import bot_says, messages, type_message, visitor_id

pytestmark = pytest.mark.e2e
M = load_messages()


def chats_of(leads, lead_id: str) -> list[str]:
    with leads.sessions() as session:
        return [chat.status for chat in session.scalars(select(LiveChat).where(LiveChat.lead_id == lead_id))]


def test_asking_for_a_person_first_reaches_the_console_and_is_answered_after_the_details(stack, new_page, leads, shot):
    page = new_page()
    page.goto(stack["site"] + "/")
    aid = visitor_id(page)
    open_chat(page)
    type_message(page, "quiero hablar con una persona")
    bot_says(page, M.responses["utter_handoff_contact"].es)
    bot_says(page, M.questions["name"].ask.es)
    type_message(page, "jajaja")  # laughter is not a name: asked again
    bot_says(page, M.responses["utter_out_of_scope"].es[:30])
    type_message(page, "Elena Vidal")
    bot_says(page, M.questions["company"].ask.es)
    type_message(page, "Vidal Reformas")
    bot_says(page, M.questions["email"].ask.es)
    email = f"elena.{aid[:8]}@vidal-reformas.es"
    type_message(page, email)
    page.wait_for_function(
        "document.body.innerText.includes('te escribirá aquí') || document.body.innerText.includes('te contactará')",
        timeout=30_000,
    )
    shown = messages(page)
    assert "Me lo apunto todo" not in shown and M.responses["utter_ask_consent"].es[:30] not in shown
    shot(page, "person-after-details")
    lead = leads.get_by_email(email)
    assert lead["name"] == "Elena Vidal" and chats_of(leads, lead["id"]) == ["requested"]
    # What the SDR reads: not the widget's "/greet" as if typed, and the last reply too.
    lines = [m["text"] for t in lead["transcripts"] for m in t["messages"]]
    assert "/greet" not in lines and "quiero hablar con una persona" in lines
    assert any("te escribirá aquí" in line or "te contactará" in line for line in lines)


def publish_always_open_flow(leads) -> None:
    """The shipped flow with the SDRs online all week, published as the newest version: other
    browser tests publish flows of their own into the shared database, with business hours."""
    qualification = yaml.safe_load(always_open_config().read_text(encoding="utf-8"))
    messages = yaml.safe_load((ROOT / "config" / "messages.yml").read_text(encoding="utf-8"))
    FlowStore(leads.engine).publish(qualification, messages, by="browser-tests", note="SDRs online all week")
    time.sleep(float(settings.FLOW_REFRESH_SECONDS.get()) + 1)  # the action server re-reads it this often


def test_a_typed_button_label_not_now_to_talking_now_and_buying_again(stack, new_page, leads, shot):
    publish_always_open_flow(leads)
    page = new_page()
    page.goto(stack["site"] + "/")
    aid = visitor_id(page)
    open_chat(page)
    type_message(page, "quiero una demo")
    bot_says(page, M.questions["need"].ask.es)
    type_message(page, "gestionar el equipo comercial")
    bot_says(page, M.questions["timing"].ask.es)
    type_message(page, "cuanto antes")  # a button's label, typed: that button, no read-back
    bot_says(page, M.questions["budget"].ask.es)
    assert "Para asegurarme" not in messages(page)
    type_message(page, "perdona, eran unos 15.000 € al año")  # a first answer said like a correction
    bot_says(page, M.questions["authority"].ask.es)
    assert "he cambiado" not in messages(page)
    type_message(page, "soy la CEO")
    bot_says(page, M.questions["name"].ask.es)
    type_message(page, "Marta Ruiz")
    bot_says(page, M.questions["company"].ask.es)
    type_message(page, "Ruiz Logística")
    bot_says(page, M.questions["email"].ask.es)
    email = f"marta.{aid[:8]}@ruizlogistica.es"
    type_message(page, email)
    bot_says(page, "Puedes reservar ya una reunión")
    lead = leads.get_by_email(email)
    assert lead["bant"]["timing"]["months"] == 0
    # The SDRs are online (the browser stack's config): "talk now?"; not now gets the link and the SLA.
    bot_says(page, "¿Quieres hablar por este chat?")
    type_message(page, "Ahora no, gracias")
    bot_says(page, "Sin problema. Cuando te venga bien")
    shown = messages(page)
    sdr = leads.config.handoff.sdr(lead["owner"]["sdr"])
    assert sdr.name in shown and f"{leads.config.handoff.sla_hours} horas" in shown
    assert M.responses["utter_goodbye"].es not in shown
    shot(page, "not-now")

    # A new buying message after the result asks and thanks nothing again.
    type_message(page, "quiero una demo")
    bot_says(page, M.responses["utter_already_qualified"].es)
    assert messages(page).count("¡Gracias, Marta") == 1  # the result once, not thanked again
