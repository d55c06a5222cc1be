"""The README's commands: a missing Python 3.10 is explained, and training is skipped when
nothing it depends on changed."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def find_python310(env: dict) -> subprocess.CompletedProcess:
    """Run the setup's Python 3.10 search with only `env`."""
    return subprocess.run(
        ["bash", "-c", f"source {ROOT}/bin/_common.sh; find_python310"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def test_missing_python310_stops_with_instructions(tmp_path):
    # No python3.10 on PATH and no pyenv: the setup must say how to get one.
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "LEADQUAL_PYTHON310": ""}
    result = find_python310(env)
    if result.returncode == 0:
        pytest.skip(f"this machine has a system-wide Python 3.10 at {result.stdout.strip()}")
    assert "needs Python 3.10" in result.stderr
    assert "pyenv install 3.10" in result.stderr


def test_an_explicit_python310_is_used(tmp_path):
    fake = tmp_path / "python3.10"
    fake.write_text("#!/bin/sh\nexit 0\n")
    fake.chmod(0o755)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "LEADQUAL_PYTHON310": str(fake)}
    result = find_python310(env)
    assert result.stdout.strip() == str(fake)


@pytest.mark.skipif(not (ROOT / ".venv-rasa" / "bin" / "rasa").exists(), reason="Rasa environment not installed")
def test_training_is_skipped_when_nothing_changed():
    first = subprocess.run(["bash", "bin/train"], cwd=ROOT, capture_output=True, text=True, timeout=1800, check=True)
    second = subprocess.run(["bash", "bin/train"], cwd=ROOT, capture_output=True, text=True, timeout=600, check=True)
    assert first.stdout.strip() == second.stdout.strip()
    assert Path(second.stdout.strip()).exists()
    assert "Model is up to date" in second.stderr
    assert "Training the model" not in second.stderr
    assert os.path.basename(second.stdout.strip()).startswith("nubilo-")
