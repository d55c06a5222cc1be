"""Answers whose database write failed, kept on disk until a retry succeeds.

The tracker keeps a conversation's answers too, but only a later message from the visitor
would write them; a visitor who leaves right after "we'll call you" must not be lost. The
action server retries this file in the background. Each line is a conversation's whole state,
so only the newest line per conversation matters, and a successful normal save supersedes it.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "var" / "pending-saves.jsonl"


class SaveSpool:
    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path or os.environ.get("LEADQUAL_SPOOL", DEFAULT_PATH))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    def _read(self) -> dict[str, dict]:
        entries: dict[str, dict] = {}
        if not self.path.exists():
            return entries
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                entry = json.loads(line)
                entries[entry["conversation_id"]] = entry
            except (ValueError, KeyError, TypeError):
                log.warning("skipping an unreadable line in %s", self.path)
        return entries

    def _write(self, entries: dict[str, dict]) -> None:
        tmp = self.path.with_suffix(".tmp")
        with tmp.open("w", encoding="utf-8") as handle:
            for entry in entries.values():
                handle.write(json.dumps(entry, ensure_ascii=False) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        tmp.replace(self.path)

    def add(self, conversation_id: str, answers: dict, language: str, anonymous_id: str | None = None) -> None:
        entry = {"conversation_id": conversation_id, "answers": answers, "language": language}
        if anonymous_id:
            entry["anonymous_id"] = anonymous_id
        with self._lock, self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry, ensure_ascii=False) + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    def discard(self, conversation_id: str) -> None:
        """A newer state of this conversation was saved: its spooled one is stale."""
        with self._lock:
            entries = self._read()
            if entries.pop(conversation_id, None) is not None:
                self._write(entries)

    def pending(self) -> list[str]:
        with self._lock:
            return list(self._read())

    def drain(self, save: Callable[..., object]) -> int:
        """Try every spooled conversation with `save`; keep the ones that still fail."""
        with self._lock:
            entries = self._read()
            if not entries:
                return 0
            saved = 0
            for conversation_id, entry in list(entries.items()):
                try:
                    save(conversation_id, entry["answers"], entry["language"], entry.get("anonymous_id"))
                except Exception:  # noqa: BLE001 - still failing: keep it for the next round
                    log.warning("retry of spooled answers for %s failed", conversation_id)
                    continue
                entries.pop(conversation_id)
                saved += 1
            self._write(entries)
            return saved
