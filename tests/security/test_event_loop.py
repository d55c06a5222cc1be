"""One slow database call must not freeze the action server (issue 19, item 7): with the lead
database locked, a chat save waits in a worker thread while the embed scripts, the health probe
and other routes keep answering; once the lock goes, the save completes and nothing is lost.
The real action server process on a SQLite file locked by this test."""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path

import requests

from ..conftest import running_action_server

TOKEN = "event-loop-tests-" + "x" * 16
FIXTURE = Path(__file__).parents[1] / "fixtures" / "submit_hot_lead.json"


def submit_call(sender: str) -> dict:
    tracker = json.loads(FIXTURE.read_text(encoding="utf-8")) | {"sender_id": sender}
    tracker["slots"]["email"] = {
        "address": f"{sender}@acme.example",
        "text": f"{sender}@acme.example",
        "source": "text",
    }
    return {"next_action": "action_submit_qualification", "sender_id": sender, "tracker": tracker, "domain": {}}


def test_a_locked_database_holds_the_save_not_the_server(tmp_path):
    with running_action_server(tmp_path, LEADQUAL_ACTION_TOKEN=TOKEN) as (url, _log):
        # The schema and the first flow version exist (a first reply seeds it); now take the
        # write lock and keep it.
        first = requests.post(f"{url}/nlg", params={"token": TOKEN}, json={"response": "utter_greet"}, timeout=30)
        assert first.status_code == 200
        database = sqlite3.connect(tmp_path / "leads.db", isolation_level=None, check_same_thread=False)
        database.execute("BEGIN IMMEDIATE")  # a long write transaction: writers wait, readers go on
        lock_held = True
        saved: dict = {}

        def save():
            answer = requests.post(f"{url}/webhook", params={"token": TOKEN}, json=submit_call("slow-1"), timeout=60)
            saved.update(status=answer.status_code, released_first=not lock_held)

        saver = threading.Thread(target=save)
        saver.start()
        saver.join(timeout=1.5)
        assert saver.is_alive(), "the save should be waiting for the lock"
        # While it waits, the server answers everything else.
        for path in ("/health", "/embed/track.js", "/embed/chat.js"):
            assert requests.get(url + path, timeout=10).status_code == 200, path
        nlg = requests.post(f"{url}/nlg", params={"token": TOKEN}, json={"response": "utter_greet"}, timeout=10)
        assert nlg.status_code == 200 and nlg.json()["text"]
        assert saver.is_alive() and lock_held, "everything above was answered while the lock was held"
        lock_held = False
        database.execute("ROLLBACK")
        database.close()
        saver.join(timeout=60)
        assert saved == {"status": 200, "released_first": True}
        with sqlite3.connect(tmp_path / "leads.db") as db:
            assert db.execute("SELECT count(*) FROM leads WHERE email = 'slow-1@acme.example'").fetchone() == (1,)
