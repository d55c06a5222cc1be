"""socket.io rooms shared across Rasa servers through Redis (leadqual_rasa/channels.py): the
visitor's socket is on one server, the SDR's message (the console's takeover call, Rasa's HTTP
API) lands on the other, and the visitor receives it over the socket at once (issue 24)."""

from __future__ import annotations

import json
import queue
import subprocess
import threading
import time

import pytest
import requests

from .conftest import API_TOKEN, ROOT

pytestmark = pytest.mark.e2e
CLIENT = ROOT / "tests" / "production" / "socketio_client.py"


class Socket:
    """The client process, its printed lines in a queue."""

    def __init__(self, url: str) -> None:
        self.proc = subprocess.Popen(
            [str(ROOT / ".venv-rasa" / "bin" / "python"), str(CLIENT), url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(json.loads(line))

    def next(self, key: str, timeout: float = 30) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                item = self.lines.get(timeout=max(0.05, deadline - time.monotonic()))
            except queue.Empty:
                break
            if key in item:
                return item
        raise AssertionError(f"no {key} from the socket in {timeout}s")

    def say(self, text: str) -> None:
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


def test_an_sdr_message_sent_through_the_other_server_reaches_the_socket(stack):
    holder, other = stack.rasa_urls[0], stack.rasa_urls[1]
    socket = Socket(holder)
    try:
        session = socket.next("session")["session"]
        socket.say("hola")
        assert "Nubilo" in socket.next("bot")["bot"]["text"]
        while True:  # the rest of the greeting
            try:
                socket.next("bot", timeout=1.5)
            except AssertionError:
                break
        answer = requests.post(
            f"{other}/conversations/{session}/tracker/events",
            params={"output_channel": "latest", "execute_side_effects": "true", "token": API_TOKEN},
            json=[{"event": "bot", "text": "Hola, soy Lucía, del equipo comercial."}],
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
        received = socket.next("bot", timeout=5)
        assert received["bot"]["text"] == "Hola, soy Lucía, del equipo comercial."
    finally:
        socket.close()
