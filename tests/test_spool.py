"""Answers whose database write failed wait on disk until a retry writes them."""

from __future__ import annotations

from leadqual.leads.spool import SaveSpool


class FlakyStore:
    def __init__(self) -> None:
        self.up = False
        self.saved: dict[str, tuple[dict, str]] = {}

    def save(self, conversation_id: str, answers: dict, language: str, anonymous_id: str | None = None) -> None:
        if not self.up:
            raise ConnectionError("database is down")
        self.saved[conversation_id] = (answers, language)


def test_spooled_answers_survive_failed_retries_and_are_written_once_the_database_is_back(tmp_path):
    spool = SaveSpool(tmp_path / "spool.jsonl")
    store = FlakyStore()
    spool.add("conv-1", {"budget": {"max": 5000}}, "es")
    assert spool.drain(store.save) == 0
    assert spool.pending() == ["conv-1"]

    reopened = SaveSpool(tmp_path / "spool.jsonl")  # e.g. after a restart of the action server
    store.up = True
    assert reopened.drain(store.save) == 1
    assert store.saved["conv-1"] == ({"budget": {"max": 5000}}, "es")
    assert reopened.pending() == []


def test_only_the_newest_state_of_a_conversation_is_written(tmp_path):
    spool = SaveSpool(tmp_path / "spool.jsonl")
    spool.add("conv-1", {"budget": {"max": 5000}}, "es")
    spool.add("conv-1", {"budget": {"max": 20000}}, "es")
    store = FlakyStore()
    store.up = True
    spool.drain(store.save)
    assert store.saved["conv-1"][0] == {"budget": {"max": 20000}}


def test_a_newer_successful_save_discards_the_stale_spooled_one(tmp_path):
    spool = SaveSpool(tmp_path / "spool.jsonl")
    spool.add("conv-1", {"budget": {"max": 5000}}, "es")
    spool.add("conv-2", {"budget": {"max": 7000}}, "en")
    spool.discard("conv-1")
    assert spool.pending() == ["conv-2"]


def test_a_damaged_line_does_not_block_the_others(tmp_path):
    path = tmp_path / "spool.jsonl"
    spool = SaveSpool(path)
    spool.add("conv-1", {"need": {"value": "crm"}}, "es")
    with path.open("a") as handle:
        handle.write("{not json\n")
    store = FlakyStore()
    store.up = True
    assert spool.drain(store.save) == 1
    assert "conv-1" in store.saved
