"""Nobody can join or write into another visitor's chat by guessing or copying its session id:
the socket.io channel issues signed ids and ignores any other (leadqual_rasa/channels.py).
The widget in Chromium gets a signed id; a socket.io client (python-socketio, from Rasa's
environment) that claims another id gets a new conversation, and its messages with a forged id
get no answer."""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from ..conftest import RASA_SERVE
from .test_website_chat import bot_says, type_message

pytestmark = pytest.mark.e2e

CLIENT = """
import asyncio, json, sys
import socketio

async def main(url, claimed, forged):
    sio = socketio.AsyncClient()
    confirmed, replies = asyncio.get_event_loop().create_future(), []
    sio.on("session_confirm", lambda data: confirmed.done() or confirmed.set_result(data))
    sio.on("bot_uttered", lambda data: replies.append(data.get("text")))
    await sio.connect(url, socketio_path="/socket.io", transports=["polling"])
    await sio.emit("session_request", {"session_id": claimed})
    session_id = await asyncio.wait_for(confirmed, 15)
    await sio.emit("user_uttered", {"message": "hola", "session_id": forged, "customData": {"lang": "es"}})
    await asyncio.sleep(4)
    forged_replies = list(replies)
    await sio.emit("user_uttered", {"message": "hola", "session_id": session_id, "customData": {"lang": "es"}})
    for _ in range(60):
        if len(replies) > len(forged_replies):
            break
        await asyncio.sleep(0.25)
    await sio.disconnect()
    print(json.dumps({"session_id": session_id, "forged_replies": forged_replies, "replies": replies}))

asyncio.run(main(*sys.argv[1:4]))
"""


def test_session_ids_are_issued_signed_and_others_are_refused(stack, new_page):
    page = new_page()
    page.goto(stack["site"] + "/")
    page.locator(".rw-launcher").click()
    bot_says(page, "Hola")
    type_message(page, "hola")
    page.wait_for_function("document.querySelectorAll('.rw-response').length >= 2", timeout=30_000)
    victim = page.evaluate("JSON.parse(localStorage.getItem('chat_session') || '{}').session_id")
    assert re.fullmatch(r"[0-9a-f]{32}\.[0-9a-f]{32}", victim)

    token, signature = victim.split(".")
    tampered = f"{token}.{'0' * 32}"
    python = RASA_SERVE[0]  # Rasa's own Python
    result = subprocess.run(
        [str(python), "-c", CLIENT, stack["rasa"], token, tampered],  # claims the victim's id, unsigned
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["session_id"] != victim and seen["session_id"].split(".")[0] != token  # a new conversation
    assert seen["forged_replies"] == []  # the forged id was not answered
    assert len(seen["replies"]) >= 1  # its own, signed id works


COPIER = """
import asyncio, json, sys
import socketio

async def client(url):
    sio = socketio.AsyncClient()
    state = {"confirmed": asyncio.get_event_loop().create_future(), "replies": []}
    sio.on("session_confirm", lambda data: state["confirmed"].done() or state["confirmed"].set_result(data))
    sio.on("bot_uttered", lambda data: state["replies"].append(data.get("text")))
    await sio.connect(url, socketio_path="/socket.io", transports=["polling"])
    return sio, state

async def wait_replies(state, more_than, seconds=15):
    for _ in range(int(seconds * 4)):
        if len(state["replies"]) > more_than:
            return
        await asyncio.sleep(0.25)

async def main(url):
    first, a = await client(url)
    await first.emit("session_request", {"session_id": None})
    session_id = await asyncio.wait_for(a["confirmed"], 15)
    await first.emit("user_uttered", {"message": "hola", "session_id": session_id, "customData": {"lang": "es"}})
    await wait_replies(a, 0)
    # A second browser with the copied (validly signed) id, while the first is connected.
    second, b = await client(url)
    await second.emit("session_request", {"session_id": session_id})
    copied = await asyncio.wait_for(b["confirmed"], 15)
    demo = {"message": "quiero una demo", "session_id": session_id, "customData": {"lang": "es"}}
    await second.emit("user_uttered", demo)
    await asyncio.sleep(4)
    first_before = len(a["replies"])
    # A message far over the limit gets a short answer and is not parsed.
    await first.emit("user_uttered", {"message": "x" * 10000, "session_id": session_id, "customData": {"lang": "es"}})
    await wait_replies(a, first_before)
    await second.disconnect(); await first.disconnect()
    print(json.dumps({"session_id": session_id, "copied": copied, "second_replies": b["replies"],
                      "first_replies": a["replies"], "after_huge": a["replies"][first_before:]}))

asyncio.run(main(sys.argv[1]))
"""


def test_a_copied_session_id_does_not_join_a_live_conversation_and_huge_messages_are_refused(stack):
    result = subprocess.run(
        [str(RASA_SERVE[0]), "-c", COPIER, stack["rasa"]], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["copied"] != seen["session_id"]  # the copier got a conversation of its own
    assert seen["second_replies"] == []  # and nothing of the first visitor's, nor answers for it
    assert seen["first_replies"], "the first visitor is answered as usual"
    assert len(seen["after_huge"]) == 1 and "demasiado largo" in seen["after_huge"][0]
