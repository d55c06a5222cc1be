"""One table of deployment settings (leadqual/settings.py): the code reads LEADQUAL_* variables
only through it, and deploy/env.example names exactly what a deployment may set."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from leadqual import settings

ROOT = Path(__file__).resolve().parent.parent
NAME = re.compile(r"\bLEADQUAL_[A-Z0-9_]+")


def _sources() -> list[Path]:
    paths = [
        p for folder in ("leadqual", "actions", "leadqual_rasa", "bin", "deploy") for p in (ROOT / folder).rglob("*")
    ]
    paths += [ROOT / "endpoints.yml", ROOT / "credentials.yml", ROOT / ".ci" / "run"]
    return [p for p in paths if p.is_file() and p.suffix not in (".pyc", ".png") and "__pycache__" not in p.parts]


def test_every_variable_the_product_mentions_is_in_the_table():
    unknown = set()
    for path in _sources():
        for name in NAME.findall(path.read_text(encoding="utf-8", errors="replace")):
            if name.endswith("_"):  # a family's prefix: LEADQUAL_INTAKE_, LEADQUAL_TRACKER_DB_
                if not any(known.startswith(name) for known in settings.ALL):
                    unknown.add(f"{path.relative_to(ROOT)}: {name}*")
            elif name not in settings.ALL:
                unknown.add(f"{path.relative_to(ROOT)}: {name}")
    assert sorted(unknown) == []


def test_python_code_reads_the_variables_only_through_the_table():
    direct = re.compile(r"""(?:environ(?:\.get)?\(?\s*\[?|getenv\()\s*f?["']LEADQUAL_""")
    readers = []
    for folder in ("leadqual", "actions", "leadqual_rasa"):
        for path in (ROOT / folder).rglob("*.py"):
            if path.name != "settings.py" and direct.search(path.read_text(encoding="utf-8")):
                readers.append(str(path.relative_to(ROOT)))
    assert readers == []


def _example() -> dict[str, bool]:
    """The names deploy/env.example lists: True when set, False when shown commented out."""
    listed = {}
    for line in (ROOT / "deploy" / "env.example").read_text(encoding="utf-8").splitlines():
        found = re.match(r"^(#\s*)?(LEADQUAL_[A-Z0-9_]+)=", line)
        if found:
            listed[found.group(2)] = not found.group(1)
    return listed


def test_env_example_lists_every_deployment_setting_and_nothing_else():
    listed = _example()
    deployment = {name for name, s in settings.ALL.items() if s.read_by in ("app", "rasa")}
    assert sorted(deployment - set(listed)) == []
    assert sorted(set(listed) - set(settings.ALL)) == []


def test_a_value_set_even_empty_wins_then_the_fallback_then_the_default():
    setting = settings.Setting("LEADQUAL_SOMETHING", "7", "a test setting")
    assert setting.get(environ={}) == "7"
    assert setting.get("9", environ={}) == "9"
    assert setting.get("9", environ={"LEADQUAL_SOMETHING": ""}) == ""
    assert setting.get(environ={"LEADQUAL_SOMETHING": "3"}) == "3"
    assert settings.Setting("LEADQUAL_NONE", None, "no default").get(environ={}) == ""


def test_a_name_outside_the_table_is_refused():
    with pytest.raises(KeyError):
        settings.named("LEADQUAL_NOT_A_SETTING")


def test_the_servers_read_their_ports_from_the_table(monkeypatch):
    monkeypatch.setenv("LEADQUAL_CONSOLE_PORT", "9123")
    assert settings.CONSOLE_PORT.get() == "9123"
    monkeypatch.delenv("LEADQUAL_CONSOLE_PORT")
    assert settings.CONSOLE_PORT.get() == "8090"
