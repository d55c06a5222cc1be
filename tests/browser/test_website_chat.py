"""The chat on the demo website, in headless Chromium: the tracking snippet's page views and clicks
reach the intake with the browser's visitor id, the widget invites the visitor on the pricing page,
a qualification is completed by clicking buttons and typing, the conversation survives a reload,
and the stored lead carries the pricing visit's behaviour points. Screenshots of each step go to
tests/artifacts/screenshots/."""

from __future__ import annotations

import re
import time

import pytest
from sqlalchemy import select

from leadqual.db.tables import TrackedEvent

from .conftest import PROACTIVE_SECONDS

pytestmark = pytest.mark.e2e

PHONE = (390, 844)


def stored_events(leads, anonymous_id: str, timeout: float = 10.0) -> list[TrackedEvent]:
    """The visitor's events in the database, waiting for the beacons to arrive."""
    deadline = time.monotonic() + timeout
    while True:
        with leads.sessions() as session:
            rows = list(session.scalars(select(TrackedEvent).where(TrackedEvent.anonymous_id == anonymous_id)))
            for row in rows:
                session.expunge(row)
        if rows or time.monotonic() > deadline:
            return rows
        time.sleep(0.2)


def wait_events(leads, anonymous_id: str, predicate, timeout: float = 10.0) -> list[TrackedEvent]:
    deadline = time.monotonic() + timeout
    while True:
        rows = stored_events(leads, anonymous_id, timeout=0)
        if predicate(rows) or time.monotonic() > deadline:
            return rows
        time.sleep(0.2)


def visitor_id(page) -> str:
    page.wait_for_function("() => window.nubiloTrack && localStorage.getItem('nubilo_aid')")
    return page.evaluate("localStorage.getItem('nubilo_aid')")


def bot_says(page, text, timeout: float = 30_000) -> None:
    page.locator(".rw-response", has_text=text).last.wait_for(timeout=timeout)


def click_button(page, title: str) -> None:
    page.locator(".rw-replies .rw-reply", has_text=title).last.click()


def type_message(page, text: str) -> None:
    box = page.locator(".rw-new-message")
    box.fill(text)
    box.press("Enter")


def messages(page) -> str:
    return page.locator(".rw-messages-container").inner_text()


def test_pricing_visit_proactive_chat_qualification_and_reload(stack, new_page, leads, shot):
    page = new_page()
    page.goto(stack["site"] + "/precios/")
    aid = visitor_id(page)
    assert re.fullmatch(r"[0-9a-f-]{36}", aid)

    # The page view reached the intake, with the browser's visitor id and the pricing URL.
    rows = wait_events(leads, aid, lambda r: any(e.type == "page" for e in r))
    views = [e for e in rows if e.type == "page"]
    assert views and views[0].url == stack["site"] + "/precios/" and views[0].source == "browser"
    shot(page, "pricing-page")

    # Closed at first; after the configured delay a greeting bubble invites the visitor (the chat
    # stays closed: tests/browser/test_widget.py); clicking it opens the chat, which greets in Spanish.
    page.locator(".rw-launcher").wait_for()
    assert not page.evaluate("nubiloChat.isOpen()")
    page.locator(".nubilo-teaser").wait_for(state="visible", timeout=(PROACTIVE_SECONDS + 15) * 1000)
    page.locator(".nubilo-teaser-text").click()
    page.wait_for_function("nubiloChat.isOpen()", timeout=10_000)
    bot_says(page, "Hola")
    shot(page, "proactive-open")

    # A qualification: typed buying interest, then buttons, then typed contact details.
    type_message(page, "quiero una demo")
    # The typing state shows while the assistant's reply is on its way.
    page.locator(".rw-typing-indication").first.wait_for(timeout=10_000)
    page.locator(".rw-replies .rw-reply", has_text="Gestionar clientes y ventas").wait_for()
    shot(page, "buttons")
    click_button(page, "Gestionar clientes y ventas")
    page.locator(".rw-replies .rw-reply", has_text="Cuanto antes").wait_for()
    click_button(page, "Cuanto antes")
    page.locator(".rw-replies .rw-reply", has_text="Más de 10.000 €").wait_for()
    click_button(page, "Más de 10.000 €")
    page.locator(".rw-replies .rw-reply", has_text="Lo decido yo").wait_for()
    click_button(page, "Lo decido yo")
    bot_says(page, "llamas")
    type_message(page, "Me llamo Lucía Gómez")
    bot_says(page, "empresa")
    type_message(page, "Trabajo en Gómez Datos")
    bot_says(page, "email")
    email = f"lucia.{aid[:8]}@gomezdatos.es"
    type_message(page, email)
    bot_says(page, "Lucía")
    shot(page, "qualified")
    before = messages(page)
    assert "quiero una demo" in before and email in before

    # A reload keeps the conversation (same socket.io session, stored in localStorage).
    session_id = page.evaluate("JSON.parse(localStorage.getItem('chat_session') || '{}').session_id")
    page.reload()
    assert visitor_id(page) == aid
    page.locator(".rw-launcher").wait_for()
    if not page.evaluate("nubiloChat.isOpen()"):
        page.locator(".rw-launcher").click()
    page.locator(".rw-messages-container", has_text=email).wait_for()
    assert "quiero una demo" in messages(page)
    assert page.evaluate("JSON.parse(localStorage.getItem('chat_session') || '{}').session_id") == session_id
    page.wait_for_timeout(1000)  # the widget's opening animation
    shot(page, "after-reload")

    # The stored lead: the chat's answers, this browser, and the pricing visit's behaviour line.
    lead = leads.get_by_email(email)
    assert lead is not None, "the chat did not store a lead"
    assert lead["name"].startswith("Lucía")
    assert aid in lead["visitors"]
    assert session_id in lead["conversations"]
    pricing = [line for line in lead["score_breakdown"] if line["rule"] == "behaviour.rules.pricing_page_es"]
    assert pricing, lead["score_breakdown"]
    assert pricing[0]["source"] == "event" and pricing[0]["points"] == 10
    assert {e.message_id for e in views} >= {pricing[0]["source_ref"]}
    assert lead["scores"]["behaviour"] >= 10


def test_phone_english_pages_click_tracking_and_chat(stack, new_page, leads, shot):
    page = new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    page.goto(stack["site"] + "/en/")
    aid = visitor_id(page)
    assert page.evaluate("nubiloChat.lang") == "en"
    shot(page, "home")

    # A marked click ("Request a demo") is sent as cta_click, even though the page navigates away.
    page.locator("main [data-track='Request a demo']").first.click()
    page.wait_for_url("**/en/contact/")

    def arrived(rows):
        return len([e for e in rows if e.type == "page"]) == 2 and any(e.type == "track" for e in rows)

    rows = wait_events(leads, aid, arrived)
    clicks = [e for e in rows if e.type == "track"]
    assert [(e.name, e.properties.get("label")) for e in clicks] == [("cta_click", "Request a demo")]
    assert {e.url for e in rows if e.type == "page"} == {stack["site"] + "/en/", stack["site"] + "/en/contact/"}

    # Not the pricing page: the chat stays closed until the visitor opens it.
    page.wait_for_timeout((PROACTIVE_SECONDS + 1) * 1000)
    assert not page.evaluate("nubiloChat.isOpen()")
    page.locator(".rw-launcher").click()
    bot_says(page, re.compile("Hi!|Hello!"))
    type_message(page, "I'd like to see your pricing")
    page.locator(".rw-replies .rw-reply", has_text="Manage customers and sales").wait_for()
    # The open widget fits the phone's screen.
    box = page.locator(".rw-conversation-container").bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE[0] + 1
    shot(page, "phone-chat")
