"""An SDR takes over a website chat from the console: a visitor chats in the real widget, the SDR
(signed into the console, which talks to the stack's Rasa over its API) opens /live/<session id>,
takes over, writes; the message appears in the visitor's widget, the visitor's answer appears in
the console's transcript when it reloads itself, and the SDR hands the chat back to the bot."""

from __future__ import annotations

import pytest

from ..console_support import PASSWORD, add_user, console_process
from .conftest import RASA_TOKEN
from .test_website_chat import bot_says, type_message

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def console(stack, database_url, tmp_path_factory):
    from leadqual.leads.store import LeadStore

    store = LeadStore(database_url)
    store.create_schema()  # the console's tables (console_support imports them)
    add_user(store, "lucia.live@nubilo.es", "sdr", sdr_id="lucia")
    workdir = tmp_path_factory.mktemp("console-live-browser")
    with console_process(database_url, workdir, RASA_URL=stack["rasa"], RASA_AUTH_TOKEN=RASA_TOKEN) as url:
        yield url
    store.engine.dispose()


def test_an_sdr_takes_over_from_the_console_and_hands_back(stack, console, new_page, shot):
    visitor = new_page()
    visitor.goto(stack["site"] + "/")
    visitor.locator(".rw-launcher").click()
    bot_says(visitor, "Hola")
    type_message(visitor, "¿tenéis app para el móvil?")
    visitor.wait_for_function("document.querySelectorAll('.rw-response').length >= 2", timeout=30_000)
    session_id = visitor.evaluate("JSON.parse(localStorage.getItem('chat_session') || '{}').session_id")
    assert session_id

    sdr = new_page(viewport=(1280, 1000), locale="es-ES")
    sdr.goto(f"{console}/live/{session_id}")
    assert sdr.url.startswith(console + "/login")  # signed out: to the sign-in form first
    sdr.fill("input[name=email]", "lucia.live@nubilo.es")
    sdr.fill("input[name=password]", PASSWORD)
    sdr.click("button.primary")
    assert sdr.url == f"{console}/live/{session_id}"
    transcript = sdr.frame_locator("iframe[data-testid=live-transcript]")
    transcript.get_by_text("¿tenéis app para el móvil?").wait_for()
    shot(sdr, "console-before-takeover")

    sdr.click("button[data-action=take-over]")
    assert sdr.locator("[data-testid=live-status]").get_attribute("data-status") == "active"
    bot_says(visitor, "Hola, soy Lucía Fernández, del equipo comercial de Nubilo.")

    # A message box that sends without reloading the page.
    composer = sdr.frame_locator("iframe[data-testid=live-composer]")
    sdr.evaluate("window.__not_reloaded = true")
    composer.locator("textarea[name=text]").fill("Sí: iOS y Android. ¿Para cuántas personas sería?")
    composer.locator("button[data-action=send]").click()
    bot_says(visitor, "Sí: iOS y Android. ¿Para cuántas personas sería?")
    composer.get_by_text("Mensaje enviado.").wait_for()
    assert composer.locator("textarea[name=text]").input_value() == ""  # the box is empty again
    assert sdr.evaluate("window.__not_reloaded === true")  # the page itself did not reload
    shot(visitor, "visitor-sees-sdr")

    # The visitor answers; the console's transcript reloads itself (every 5 s) and shows it.
    composer.locator("textarea[name=text]").fill("borrador sin enviar")
    type_message(visitor, "Somos 5 en el equipo")
    transcript.get_by_text("Somos 5 en el equipo").wait_for(timeout=20_000)
    assert composer.locator("textarea[name=text]").input_value() == "borrador sin enviar"  # the draft survives
    shot(sdr, "console-visitor-reply")

    sdr.click("button[data-action=hand-back]")
    assert sdr.locator("[data-testid=live-status]").get_attribute("data-status") == "ended"
    bot_says(visitor, "Te dejo de nuevo con el asistente.")
    shot(visitor, "visitor-back-to-bot")
    shot(sdr, "console-handed-back")
