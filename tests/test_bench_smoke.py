"""Each benchmark under bench/ runs for a few seconds, so none of them rots. The figures are
not checked here (they are measurements, printed with their command): only that each run
completes and prints them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str, timeout: float = 600) -> str:
    result = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


def test_rescore_bench(tmp_path):
    out = run(
        "bench/rescore.py", "--leads", "300", "--database-url", f"sqlite:///{tmp_path / 'r.db'}", "--workers", "1"
    )
    assert "command:" in out.lower() or "bench/rescore.py" in out


def test_console_list_bench(tmp_path):
    out = run(
        "bench/console_list.py", "--leads", "300", "--runs", "1", "--database-url", f"sqlite:///{tmp_path / 'c.db'}"
    )
    assert "bench/console_list.py" in out


def test_intake_bench():
    out = run("bench/intake.py", "--smoke")
    assert "events/s" in out and "command:" in out


@pytest.mark.e2e
def test_chat_load_bench(model):
    out = run("bench/chat_load.py", "--smoke", "--model", model, timeout=900)
    assert "turns/s" in out and "Rasa answering" in out


def test_crm_sync_bench(tmp_path):
    out = run("bench/crm_sync.py", "--leads", "150", "--database-url", f"sqlite:///{tmp_path / 'crm.db'}")
    assert "delivered: 150" in out and "429 answers: 0" in out and "command:" in out
