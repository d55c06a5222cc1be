"""The spool of failed saves (leadqual/leads/spool.py) loses nothing: not the entry after a line torn by a
crash, not an entry appended by another action server on the same host while a retry runs."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time

from leadqual.leads.spool import SaveSpool

from ..conftest import ROOT


class Store:
    def __init__(self) -> None:
        self.saved: dict[str, dict] = {}

    def save(self, conversation_id: str, answers: dict, language: str, anonymous_id: str | None = None) -> None:
        self.saved[conversation_id] = answers


def test_an_entry_after_a_line_torn_by_a_crash_is_retried(tmp_path):
    path = tmp_path / "spool.jsonl"
    spool = SaveSpool(path)
    spool.add("conv-1", {"need": {"value": "crm"}}, "es")
    with path.open("a", encoding="utf-8") as handle:  # the process died in the middle of an append
        handle.write('{"conversation_id": "conv-2", "answers": {"budget": {"max"')
    spool.add("conv-3", {"company": {"value": "Acme"}}, "en", "visitor-3")

    store = Store()
    assert SaveSpool(path).drain(store.save) == 2  # e.g. after a restart
    assert store.saved == {"conv-1": {"need": {"value": "crm"}}, "conv-3": {"company": {"value": "Acme"}}}
    assert SaveSpool(path).pending() == []


def test_an_entry_glued_to_a_torn_line_by_an_older_version_is_found_again(tmp_path):
    path = tmp_path / "spool.jsonl"
    path.write_text(
        '{"conversation_id": "conv-2", "answers": {"bud'
        '{"conversation_id": "conv-3", "answers": {"need": {"value": "crm"}}, "language": "es"}\n'
    )
    store = Store()
    assert SaveSpool(path).drain(store.save) == 1
    assert store.saved == {"conv-3": {"need": {"value": "crm"}}}


# Like two action servers on one host: each appends its conversations' failed saves and, like
# actions/server.py's retry loop, retries the shared spool now and then, while the other appends.
WORKER = textwrap.dedent(
    """
    import json, sys, time
    sys.path.insert(0, sys.argv[1])
    from leadqual.leads.spool import SaveSpool

    spool, name, start = SaveSpool(sys.argv[2]), sys.argv[3], float(sys.argv[4])
    saved = []

    def save(conversation_id, answers, language, anonymous_id=None):
        time.sleep(0.001)  # a database write takes a moment
        saved.append(conversation_id)

    while time.time() < start:
        time.sleep(0.001)
    for i in range(250):
        spool.add(f"{name}-{i}", {"need": {"value": "crm"}, "n": i}, "es")
        if i % 10 == 9:
            spool.drain(save)
    print(json.dumps(saved))
    """
)


def test_two_processes_appending_and_retrying_at_once_lose_nothing(tmp_path):
    path = tmp_path / "spool.jsonl"
    start = time.time() + 1.5  # both start appending at the same moment
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(ROOT), str(path), name, str(start)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("server-a", "server-b")
    ]
    saved: list[str] = []
    for worker in workers:
        out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err
        saved += json.loads(out)
    store = Store()
    SaveSpool(path).drain(store.save)  # what is left
    saved += list(store.saved)
    expected = {f"{name}-{i}" for name in ("server-a", "server-b") for i in range(250)}
    assert len(set(saved)) == 500 and set(saved) == expected, f"lost {len(expected - set(saved))} of 500"
    assert SaveSpool(path).pending() == []
