"""Answers whose database write failed, kept on disk until a retry succeeds.

The tracker keeps a conversation's answers too, but only a later message from the visitor
would write them; a visitor who leaves right after "we'll call you" must not be lost. The
action server retries this file in the background. Each line is a conversation's whole state,
so only the newest line per conversation matters, and a successful normal save supersedes it.

Several action servers on one host share the file (deploy/systemd, deploy/Procfile), so every
read-modify-write and every append holds an OS lock (`fcntl.flock` on `<spool>.lock`, a file
that is never replaced), and a process that crashed in the middle of an append leaves a torn
last line that costs only itself: the next append starts on a fresh line. The retry saves
outside that lock (a database that is down must not block the chats appending to the spool),
then removes only the entries it saved and that were not replaced meanwhile. The spool and its
lock are created readable by their owner only (0600): they hold visitors' answers.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path

from leadqual import settings
from leadqual.settings import VAR

log = logging.getLogger(__name__)

DEFAULT_PATH = VAR / "pending-saves.jsonl"
FILE_MODE = 0o600
# Every entry is written by json.dumps with this key first: how a line glued to a torn one (by a
# version that did not start appends on a fresh line) is found again.
_ENTRY_START = '{"conversation_id"'


def _open_private(path: Path, flags: int) -> int:
    """os.open creating the file 0600 whatever the process umask."""
    return os.open(path, flags | os.O_CLOEXEC, FILE_MODE)


class _FileLock:
    """This process's threads and every other process using the same spool, one at a time.
    `blocking=False`: `acquire` answers False at once when someone else holds it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._threads = threading.Lock()
        self._fd: int | None = None

    def acquire(self, blocking: bool = True) -> bool:
        if not self._threads.acquire(blocking):
            return False
        try:
            fd = _open_private(self.path, os.O_RDWR | os.O_CREAT)
        except BaseException:
            self._threads.release()
            raise
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if blocking else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            self._threads.release()
            return False
        except BaseException:
            os.close(fd)
            self._threads.release()
            raise
        self._fd = fd
        return True

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # closing the descriptor releases the flock
        self._threads.release()

    def __enter__(self) -> _FileLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class SaveSpool:
    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path or settings.SPOOL.get(str(DEFAULT_PATH)))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Guards the spool file: appends, reads and rewrites (leadqual/leads/privacy.py uses it too).
        self._lock = _FileLock(self.path.with_name(self.path.name + ".lock"))
        # Held for a whole retry round: one process retries at a time, the others skip the round.
        self._drain_lock = _FileLock(self.path.with_name(self.path.name + ".drain.lock"))

    def _read(self) -> dict[str, dict]:
        """The newest entry per conversation. Call with `_lock` held."""
        entries: dict[str, dict] = {}
        try:
            text = self.path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return entries
        for line in text.splitlines():
            if not line.strip():
                continue
            for entry in self._entries_of(line):
                entries[entry["conversation_id"]] = entry
        return entries

    def _entries_of(self, line: str) -> list[dict]:
        entry = _parse(line)
        if entry is not None:
            return [entry]
        # A torn line (a crash in the middle of an append), perhaps with whole entries glued to it.
        found = []
        start = line.find(_ENTRY_START, 1)
        while start != -1:
            try:
                value, end = _DECODER.raw_decode(line, start)
            except ValueError:
                start = line.find(_ENTRY_START, start + 1)
                continue
            if _is_entry(value):
                found.append(value)
            start = line.find(_ENTRY_START, end)
        log.warning("skipping an unreadable line in %s (%d entries glued to it kept)", self.path, len(found))
        return found

    def _write(self, entries: dict[str, dict]) -> None:
        """Replace the file with these entries. Call with `_lock` held."""
        tmp = self.path.with_name(self.path.name + ".tmp")
        fd = _open_private(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            for entry in entries.values():
                handle.write(json.dumps(entry, ensure_ascii=False) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        tmp.replace(self.path)

    def add(self, conversation_id: str, answers: dict, language: str, anonymous_id: str | None = None) -> None:
        entry = {"conversation_id": conversation_id, "answers": answers, "language": language}
        if anonymous_id:
            entry["anonymous_id"] = anonymous_id
        line = (json.dumps(entry, ensure_ascii=False) + "\n").encode("utf-8")
        with self._lock:
            fd = _open_private(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT)
            try:
                size = os.fstat(fd).st_size
                if size and os.pread(fd, 1, size - 1) != b"\n":
                    line = b"\n" + line  # the last append was torn: this entry gets a line of its own
                view = memoryview(line)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            finally:
                os.close(fd)

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
        """Try every spooled conversation with `save`; keep the ones that still fail, and every
        entry appended while the retry ran. Another process already retrying: 0, nothing tried."""
        if not self._drain_lock.acquire(blocking=False):
            return 0
        try:
            with self._lock:
                entries = self._read()
            if not entries:
                return 0
            saved: dict[str, dict] = {}
            for conversation_id, entry in entries.items():
                try:
                    save(conversation_id, entry["answers"], entry["language"], entry.get("anonymous_id"))
                except Exception:  # noqa: BLE001 - still failing: keep it for the next round
                    log.warning("retry of spooled answers for %s failed", conversation_id)
                    continue
                saved[conversation_id] = entry
            if saved:
                with self._lock:
                    current = self._read()
                    for conversation_id, entry in saved.items():
                        if current.get(conversation_id) == entry:  # not replaced by a newer state meanwhile
                            del current[conversation_id]
                    self._write(current)
            return len(saved)
        finally:
            self._drain_lock.release()


_DECODER = json.JSONDecoder()


def _is_entry(value: object) -> bool:
    return (
        isinstance(value, dict)
        and isinstance(value.get("conversation_id"), str)
        and isinstance(value.get("answers"), dict)
        and "language" in value
    )


def _parse(text: str) -> dict | None:
    try:
        entry = json.loads(text)
    except ValueError:
        return None
    return entry if _is_entry(entry) else None
