"""The Rasa project itself: training data is consistent and the test stories pass."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RASA = ROOT / ".venv-rasa" / "bin" / "rasa"
ENV = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "SQLALCHEMY_SILENCE_UBER_WARNING": "1"}

pytestmark = pytest.mark.skipif(not RASA.exists(), reason="Rasa environment not installed (run bin/test)")


def test_rasa_data_validate_is_clean():
    result = subprocess.run(
        [str(RASA), "data", "validate", "--fail-on-warnings", "--data", "data", "--domain", "domain.yml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=ENV,
        timeout=600,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert "UserWarning" not in output, output[-4000:]


def test_test_stories_pass(model, tmp_path):
    result = subprocess.run(
        [
            str(RASA),
            "test",
            "core",
            "--model",
            model,
            "--stories",
            "tests/test_stories.yml",
            "--out",
            str(tmp_path),
            "--fail-on-prediction-errors",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=ENV,
        timeout=900,
    )
    failed = tmp_path / "failed_test_stories.yml"
    details = failed.read_text() if failed.exists() else ""
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:] + details
