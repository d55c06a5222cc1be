"""Issue 18's visitors, in the widget in headless Chromium: an opener that already answers starts
the questions with what it said, a product question in the middle is answered and followed by
"shall we go on?", a lowercase name that contains "no" is a name, and "depends on the price"
hears the price band. The stored lead is checked, as over REST in tests/e2e/."""

from __future__ import annotations

import pytest

from leadqual.config.marketing import load_messages
from leadqual.understanding import knowledge

from .test_website_chat import bot_says, click_button, messages, type_message, visitor_id

pytestmark = pytest.mark.e2e
M = load_messages()
KB = knowledge.knowledge()


def open_chat(page) -> None:
    page.locator(".rw-launcher").click()
    bot_says(page, "Hola")


def test_an_opener_with_answers_a_question_midway_and_a_name_that_looks_like_stop(stack, new_page, leads, shot):
    page = new_page()
    page.goto(stack["site"] + "/")
    aid = visitor_id(page)
    open_chat(page)
    type_message(page, "Hola, soy la fundadora de una agencia de 20 personas, tenemos unos 10.000 € al año para un CRM")
    bot_says(page, M.questions["timing"].ask.es)
    shown = messages(page)
    assert "Hecho" not in shown  # not read as a correction of nothing
    for slot in ("need", "budget", "authority"):
        assert M.questions[slot].ask.es not in shown, f"{slot} was asked although the opener answered it"
    shot(page, "opener")

    type_message(page, "¿tenéis prueba gratuita?")
    bot_says(page, KB.entry("trial_free").answer.es[:40])
    bot_says(page, KB.continue_prompt.es)
    page.locator(".rw-replies .rw-reply", has_text="Sí, sigamos").wait_for()
    shot(page, "answered-midway")
    click_button(page, "Sí, sigamos")
    page.locator(".rw-replies .rw-reply", has_text="Cuanto antes").wait_for()
    click_button(page, "Cuanto antes")
    bot_says(page, M.questions["name"].ask.es)
    type_message(page, "javier moreno")
    bot_says(page, M.questions["company"].ask.es)
    type_message(page, "Moreno Asociados")
    bot_says(page, M.questions["email"].ask.es)
    email = f"javier.{aid[:8]}@moreno-asociados.es"
    type_message(page, email)
    bot_says(page, "Javier")
    shot(page, "qualified")

    lead = leads.get_by_email(email)
    assert lead is not None, "the chat did not store a lead"
    assert lead["name"] == "Javier Moreno" and lead["company"] == "Moreno Asociados"
    bant = lead["bant"]
    assert bant["need"]["value"] == "crm" and bant["authority"]["level"] == "decision_maker"
    assert bant["budget"]["max"] == 10000 and bant["budget"]["currency"] == "EUR"
    assert bant["timing"]["months"] == 0


def test_depends_on_the_price_hears_the_price_band_and_the_budget_question_again(stack, new_page):
    page = new_page()
    page.goto(stack["site"] + "/")
    open_chat(page)
    type_message(page, "quiero una demo")
    page.locator(".rw-replies .rw-reply", has_text="Gestionar clientes y ventas").wait_for()
    click_button(page, "Gestionar clientes y ventas")
    page.locator(".rw-replies .rw-reply", has_text="Cuanto antes").wait_for()
    click_button(page, "Cuanto antes")
    bot_says(page, M.questions["budget"].ask.es)
    type_message(page, "depende del precio")
    bot_says(page, KB.price_band.es[:40])
    # Then the budget question again (a second bubble of it, after the band).
    page.locator(".rw-response", has_text=M.questions["budget"].ask.es).nth(1).wait_for(timeout=15_000)
    assert messages(page).index(KB.price_band.es[:40]) < messages(page).rindex(M.questions["budget"].ask.es)
