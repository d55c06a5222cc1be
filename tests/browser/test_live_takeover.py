"""An SDR takes over a live chat on the website: their messages appear at once in the visitor's
widget (socket.io), the bot stays silent while they are in, and answers again once they hand
the conversation back. Headless Chromium, the real widget, Rasa and action server."""

from __future__ import annotations

import time

import pytest

from leadqual.leads.takeover import LiveChats, RasaAPI

from .conftest import RASA_TOKEN
from .test_website_chat import bot_says, type_message

pytestmark = pytest.mark.e2e


def responses(page) -> list[str]:
    return page.locator(".rw-response").all_inner_texts()


def test_an_sdr_takes_over_the_widget_and_hands_it_back(stack, new_page, leads, shot):
    page = new_page()
    page.goto(stack["site"] + "/")
    page.locator(".rw-launcher").click()
    bot_says(page, "Hola")
    type_message(page, "¿tenéis app para el móvil?")
    page.wait_for_function("document.querySelectorAll('.rw-response').length >= 2", timeout=30_000)
    session_id = page.evaluate("JSON.parse(localStorage.getItem('chat_session') || '{}').session_id")
    assert session_id

    chats = LiveChats(leads, RasaAPI(stack["rasa"], RASA_TOKEN, timeout=30))
    chats.take_over(session_id, "lucia")
    bot_says(page, "Hola, soy Lucía Fernández, del equipo comercial de Nubilo.")
    shot(page, "sdr-joined")

    # The visitor writes; nobody but the SDR answers.
    before = len(responses(page))
    type_message(page, "¿Y cuánto cuesta para 5 personas?")
    time.sleep(3)
    assert len(responses(page)) == before
    chats.say(session_id, "lucia", "Para 5 personas, el plan Equipo: 145 € al mes.")
    bot_says(page, "Para 5 personas, el plan Equipo: 145 € al mes.")
    shot(page, "sdr-answer")

    chats.hand_back(session_id, by="lucia")
    bot_says(page, "Te dejo de nuevo con el asistente.")
    type_message(page, "gracias")
    page.wait_for_function(f"document.querySelectorAll('.rw-response').length >= {before + 3}", timeout=30_000)
    assert responses(page)[-1] != "Te dejo de nuevo con el asistente. ¡Gracias por tu tiempo!"

    with leads.sessions() as session:
        from sqlalchemy import select

        from leadqual.db.tables import Message

        lines = [
            (m.sender, m.text)
            for m in session.scalars(select(Message).where(Message.conversation_id == session_id).order_by(Message.at))
        ]
    assert ("visitor", "¿Y cuánto cuesta para 5 personas?") in lines
    assert ("sdr", "Para 5 personas, el plan Equipo: 145 € al mes.") in lines
