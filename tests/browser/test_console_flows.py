"""Marketing edits the flow in the console and publishes it, in headless Chromium, against the real
widget, Rasa and action server: a visitor's chat started before the change keeps the old budget
question, while a chat started after it gets the new text within seconds (no retraining, no
restart). The console runs on the stack's database, as bin/run starts it."""

from __future__ import annotations

import time

import pytest

from leadqual.conversation.flows import FlowStore

from ..console_support import PASSWORD, add_user, console_process
from .conftest import RASA_TOKEN
from .test_website_chat import bot_says, click_button, messages, type_message

pytestmark = pytest.mark.e2e
NEW_TEXT = "¿Cuánto pensáis invertir en Nubilo este año?"


@pytest.fixture(scope="module")
def console(stack, database_url, tmp_path_factory):
    """The console on the stack's database with a marketer; afterwards the flow the other browser
    tests expect is restored (they share the database)."""
    from leadqual.leads.store import LeadStore

    store = LeadStore(database_url)
    store.create_schema()
    add_user(store, "marta.flows@nubilo.es", "marketing")
    flows = FlowStore(store.engine, refresh_seconds=0)
    start = flows.current().version
    workdir = tmp_path_factory.mktemp("console-flows-browser")
    with console_process(database_url, workdir, RASA_URL=stack["rasa"], RASA_AUTH_TOKEN=RASA_TOKEN) as url:
        yield {"url": url, "flows": flows, "start": start}
    if flows.current().version != start:
        flows.restore(start, by="tests/browser/test_console_flows.py")
        time.sleep(2.5)  # LEADQUAL_FLOW_REFRESH_SECONDS: the action server reads it again
    store.engine.dispose()


def start_chat(page, site: str) -> None:
    page.goto(site + "/")
    page.locator(".rw-launcher").click()
    bot_says(page, "Hola")
    type_message(page, "quiero una demo")
    page.locator(".rw-replies .rw-reply", has_text="Gestionar clientes y ventas").wait_for()


def reach_budget_question(page) -> None:
    click_button(page, "Gestionar clientes y ventas")
    page.locator(".rw-replies .rw-reply", has_text="Cuanto antes").wait_for()
    click_button(page, "Cuanto antes")


def test_a_published_question_text_reaches_new_chats_while_an_older_chat_keeps_its_own(stack, console, new_page, shot):
    old_text = console["flows"].current().messages.questions["budget"].ask.es
    assert old_text != NEW_TEXT

    # A visitor starts chatting before the change: the first question.
    older = new_page()
    start_chat(older, stack["site"])
    shot(older, "older-chat-first-question")

    # Marketing signs in, makes a draft, edits the budget question's Spanish text, publishes.
    marta = new_page(viewport=(1280, 1000), locale="es-ES")
    marta.goto(console["url"] + "/flow")
    assert marta.url.startswith(console["url"] + "/login")
    marta.fill("input[name=email]", "marta.flows@nubilo.es")
    marta.fill("input[name=password]", PASSWORD)
    marta.click("button.primary")
    assert marta.url == console["url"] + "/flow"
    marta.click("button[data-action=new-draft]")
    box = marta.locator('textarea[name="f.messages.questions.budget.ask.es"]')
    assert box.input_value() == old_text
    box.fill(NEW_TEXT)
    shot(marta, "editor-budget-text")
    marta.locator("button[data-action=save]").first.click()
    marta.locator("[data-testid=saved]").wait_for()
    assert marta.locator("[data-testid=problems]").count() == 0
    marta.fill("input[name=note]", "budget question, new wording")
    marta.click("button[data-action=publish]")
    marta.locator("[data-testid=published]").wait_for()
    version = console["flows"].current().version
    row = marta.locator(f"tr[data-version='{version}']")
    assert "budget question, new wording" in row.inner_text() and "marta.flows@nubilo.es" in row.inner_text()
    row.locator("summary").click()
    assert "messages.questions.budget.ask.es" in row.inner_text()
    shot(marta, "published")

    # Within a few seconds a new chat asks the new text...
    time.sleep(2.5)  # LEADQUAL_FLOW_REFRESH_SECONDS on the action server
    newer = new_page()
    start_chat(newer, stack["site"])
    reach_budget_question(newer)
    bot_says(newer, NEW_TEXT)
    shot(newer, "new-chat-new-text")

    # ...while the older chat, continuing, still gets the version it started with.
    reach_budget_question(older)
    bot_says(older, old_text)
    assert NEW_TEXT not in messages(older)
    shot(older, "older-chat-old-text")
