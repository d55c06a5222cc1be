"""The chat widget as visitors meet it, in headless Chromium on a desktop and on a 390×844 phone:
replies show after a short flat pause, not rasa-webchat's 30 ms a character; on the pages that
invite the visitor, a small greeting bubble appears next to the launcher instead of the chat
opening by itself over the whole phone screen, and tapping it opens the chat; an SDR who takes
over a conversation shows with their name and initials on their messages. Screenshots of each
step go to tests/artifacts/screenshots/.

Speed itself is measured by bench/widget_latency.py (docs/performance.md); the bound here only
catches a per-character delay coming back. The first test also runs the bench's measuring code."""

from __future__ import annotations

import importlib.util
import io
import json
import time
from contextlib import redirect_stdout

import pytest
import requests
import yaml

from leadqual.config.marketing import load_messages
from leadqual.http import embed
from leadqual.leads.takeover import LiveChats, RasaAPI

from .conftest import PROACTIVE_SECONDS, RASA_TOKEN, ROOT
from .test_website_chat import bot_says, type_message

pytestmark = pytest.mark.e2e

PHONE = (390, 844)
BUBBLES = ".rw-messages-container .rw-message:not(.rw-typing-indication) .rw-response"  # not the typing dots
TEASER = load_messages().responses["chat_teaser"]

_spec = importlib.util.spec_from_file_location("widget_latency", ROOT / "bench" / "widget_latency.py")
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)


def rasa_webchat_default_delay(text: str) -> float:
    """rasa-webchat 1.0.1's own delay before a bubble: 30 ms a character, between 0.8 and 3 s."""
    return min(max(len(text) * 30, 800), 3000)


def session_id(page) -> str:
    return page.evaluate("JSON.parse(localStorage.getItem('chat_session') || '{}').session_id")


# -- the reply delay ----------------------------------------------------------------------------


def test_a_burst_of_replies_shows_after_a_short_flat_pause_each(stack, new_page, shot):
    page = new_page()
    bench.instrument(page, stack["actions"], "configured")
    page.goto(stack["site"] + "/")
    page.wait_for_function("window.nubiloChat")
    delay = page.evaluate("nubiloChat.replyDelay")
    assert 100 <= delay <= 500, "the pause before each reply should be short and flat"
    start = page.evaluate("performance.now()")
    page.locator(".rw-launcher").click()
    assert bench.wait_turn(page, start)["bubbles"], "the chat did not greet"

    # "quiero una demo": two replies at once, the second a long-ish question with buttons.
    start = bench.send(page, "type", "quiero una demo")
    state = bench.wait_turn(page, start)
    frames, bubbles = state["frames"], state["bubbles"]
    assert not state.get("timeout")
    assert len(frames) >= 2 and len(bubbles) == len(frames), (frames, bubbles)
    shot(page, "burst")

    # Each bubble waits for the flat delay after it could first be shown (its reply arrived and the
    # bubble before it is shown), whatever its length. rasa-webchat's default would hold the long
    # ones 2-3 s, far above the bound.
    bound = delay + 500
    assert any(rasa_webchat_default_delay(f["text"]) > bound + 300 for f in frames), "replies too short to tell"
    previous = 0.0
    for frame, bubble in zip(frames, bubbles, strict=True):
        held = bubble["t"] - max(frame["t"], previous)
        assert delay * 0.9 <= held <= bound, (frame["text"], held)
        previous = bubble["t"]

    # The bench's figures for this turn, as it prints them.
    figures = bench.turn_figures(state, start)
    assert figures["first"] <= figures["last"] and figures["bubbles"] == len(bubbles)
    out = io.StringIO()
    with redirect_stdout(out):
        bench.report({"configured": [figures]})
    assert "first bubble" in out.getvalue() and "configured" in out.getvalue()


# -- the proactive teaser -----------------------------------------------------------------------


def test_chat_js_carries_the_teaser_of_messages_yml(stack, tmp_path, monkeypatch):
    served = requests.get(stack["actions"] + "/embed/chat.js", timeout=10)
    assert served.ok and embed.TEXTS_MARKER.decode() not in served.text
    texts = {"es": {"teaser": TEASER.es}, "en": {"teaser": TEASER.en}}
    assert "var SERVED = " + json.dumps(texts, ensure_ascii=False) + ";" in served.text

    # A messages.yml without the entry: no teaser text, so chat.js shows none (and opens nothing).
    edited = yaml.safe_load((ROOT / "config" / "messages.yml").read_text(encoding="utf-8"))
    del edited["responses"]["chat_teaser"]
    (tmp_path / "messages.yml").write_text(yaml.safe_dump(edited, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("LEADQUAL_MESSAGES", str(tmp_path / "messages.yml"))
    assert b'var SERVED = {"es": {}, "en": {}};' in embed.chat_js(embed.ASSETS["chat.js"])


def test_on_a_phone_the_invitation_is_a_small_bubble_that_opens_the_chat(stack, new_page, shot):
    page = new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    page.goto(stack["site"] + "/precios/")
    launcher = page.locator(".rw-launcher")
    launcher.wait_for()
    teaser = page.locator(".nubilo-teaser")
    assert not teaser.is_visible(), "the invitation came before its delay"

    teaser.wait_for(state="visible", timeout=(PROACTIVE_SECONDS + 15) * 1000)
    page.wait_for_timeout(400)  # its slide-in
    shot(page, "teaser")
    # The chat did not open over the page: only the bubble, in Spanish, from messages.yml.
    assert not page.evaluate("nubiloChat.isOpen()")
    assert page.locator(".rw-conversation-container").count() == 0
    assert teaser.locator(".nubilo-teaser-text").inner_text() == TEASER.es

    # Small, inside the screen, just above the launcher, not covering it.
    box, chat_button = teaser.bounding_box(), launcher.bounding_box()
    assert box and chat_button
    assert box["width"] <= 300 and box["height"] <= 120, box
    assert box["width"] * box["height"] <= 0.12 * PHONE[0] * PHONE[1]
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE[0] and box["y"] >= 0
    assert box["y"] + box["height"] <= chat_button["y"], (box, chat_button)
    assert abs((box["x"] + box["width"]) - (chat_button["x"] + chat_button["width"])) <= 4
    close = teaser.locator(".nubilo-teaser-close").bounding_box()
    assert close and close["width"] >= 28 and close["height"] >= 28, "the × is too small to tap"

    # Tapping it opens the chat, which greets; the bubble is gone.
    teaser.locator(".nubilo-teaser-text").tap()
    page.wait_for_function("nubiloChat.isOpen()", timeout=10_000)
    bot_says(page, "Hola")
    assert not teaser.is_visible()
    page.wait_for_timeout(600)  # the widget's opening animation
    shot(page, "opened")


def test_on_a_desktop_the_invitation_is_the_same_bubble_and_closing_it_keeps_it_away(stack, new_page, shot):
    page = new_page()
    page.goto(stack["site"] + "/en/pricing/")
    teaser = page.locator(".nubilo-teaser")
    teaser.wait_for(state="visible", timeout=(PROACTIVE_SECONDS + 15) * 1000)
    page.wait_for_timeout(400)
    shot(page, "teaser")
    assert not page.evaluate("nubiloChat.isOpen()")
    assert teaser.locator(".nubilo-teaser-text").inner_text() == TEASER.en
    box = teaser.bounding_box()
    assert box and box["width"] <= 300 and box["height"] <= 100, box

    # × puts it away without opening the chat, and it does not come back in this session.
    teaser.locator(".nubilo-teaser-close").click()
    assert not teaser.is_visible()
    assert not page.evaluate("nubiloChat.isOpen()")
    page.reload()
    page.locator(".rw-launcher").wait_for()
    page.wait_for_timeout((PROACTIVE_SECONDS + 2) * 1000)
    assert page.locator(".nubilo-teaser").count() == 0
    assert not page.evaluate("nubiloChat.isOpen()")
    shot(page, "dismissed")


# -- an SDR in the chat ---------------------------------------------------------------------------


def sdr_label(page, text: str) -> dict:
    """What the bubble holding `text` shows besides it: its name line and its round avatar."""
    bubble = page.locator(BUBBLES, has_text=text).last
    return bubble.evaluate(
        """(el) => {
          const name = getComputedStyle(el, '::before'), avatar = getComputedStyle(el, '::after');
          const box = el.getBoundingClientRect(), pane = el.closest('.rw-messages-container').getBoundingClientRect();
          return {name: name.content, avatar: avatar.content, size: [avatar.width, avatar.height],
                  round: avatar.borderRadius, left: box.left - pane.left};
        }"""
    )


@pytest.mark.parametrize("screen", ["desktop", "phone"])
def test_an_sdr_shows_with_their_name_and_initials(stack, new_page, leads, shot, screen):
    page = new_page(viewport=PHONE, is_mobile=True, has_touch=True) if screen == "phone" else new_page()
    page.goto(stack["site"] + "/")
    page.locator(".rw-launcher").click()
    bot_says(page, "Hola")
    type_message(page, "¿tenéis app para el móvil?")
    page.wait_for_function("document.querySelectorAll('.rw-response').length >= 2", timeout=30_000)
    conversation = session_id(page)

    chats = LiveChats(leads, RasaAPI(stack["rasa"], RASA_TOKEN, timeout=30))
    chats.take_over(conversation, "lucia")
    bot_says(page, "Hola, soy Lucía Fernández")
    chats.say(conversation, "lucia", "Sí, la app está en iOS y Android.")
    bot_says(page, "la app está en iOS y Android")
    page.wait_for_timeout(300)
    shot(page, "sdr")

    for text in ("Hola, soy Lucía Fernández", "la app está en iOS y Android"):
        label = sdr_label(page, text)
        assert label["name"] == '"Lucía Fernández"' and label["avatar"] == '"LF"', label
        assert label["size"] == ["30px", "30px"] and label["round"] == "50%", label
        assert label["left"] >= 36, "the avatar is cut off at the edge"
    # The assistant's own bubbles carry no name.
    greeting = page.locator(BUBBLES).first
    assert greeting.evaluate("(el) => getComputedStyle(el, '::before').content") in ("none", "normal")

    # After a reload the SDR's messages still say who wrote them.
    page.reload()
    page.locator(".rw-launcher").wait_for(state="attached")  # hidden on a phone while the chat is open
    page.wait_for_timeout(500)
    if not page.evaluate("nubiloChat.isOpen()"):
        page.locator(".rw-launcher").click()
    bot_says(page, "la app está en iOS y Android")
    assert sdr_label(page, "la app está en iOS y Android")["name"] == '"Lucía Fernández"'

    # Handed back: the assistant answers again, without the SDR's name.
    chats.hand_back(conversation, by="lucia")
    bot_says(page, "Te dejo de nuevo con el asistente.")
    assert sdr_label(page, "Te dejo de nuevo con el asistente.")["name"] == '"Lucía Fernández"'
    before = page.locator(BUBBLES).count()
    type_message(page, "gracias")
    page.wait_for_function(f"document.querySelectorAll({BUBBLES!r}).length > {before}", timeout=30_000)
    time.sleep(1)
    last = page.locator(BUBBLES).last
    assert last.evaluate("(el) => getComputedStyle(el, '::before').content") in ("none", "normal")
    shot(page, "handed-back")
