"""What the product exposes on its host: /metrics only to a scraper with LEADQUAL_METRICS_TOKEN (a
real action server); the files holding visitors' data created 0600 (the action server's SQLite
database and handoff files, the spool, bin/run's secrets, endpoints and logs); and Rasa's API
token never on a command line (`ps`): bin/run is run for real in a copy of the repository whose
two Python environments are stand-ins recording how they were started, and leadqual_rasa/serve.py
is run with Rasa replaced by a stand-in reporting its argv."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from leadqual.delivery.outbox import enqueue
from leadqual.leads.spool import SaveSpool
from leadqual.leads.store import LeadStore

from ..conftest import ROOT, running_action_server

METRICS_TOKEN = "metrics-token-for-tests-0123456789"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# -- /metrics ---------------------------------------------------------------------------------


def test_metrics_are_off_without_a_token(tmp_path):
    with running_action_server(tmp_path) as (url, _log):
        assert requests.get(url + "/metrics", timeout=10).status_code == 404
        answer = requests.get(url + "/metrics", headers={"Authorization": "Bearer anything"}, timeout=10)
        assert answer.status_code == 404 and b"leadqual_" not in answer.content


def test_metrics_need_the_bearer_token(tmp_path):
    with running_action_server(tmp_path, LEADQUAL_METRICS_TOKEN=METRICS_TOKEN) as (url, _log):
        for headers in (
            {},
            {"Authorization": "Bearer wrong-token-wrong-token-wrong"},
            {"Authorization": METRICS_TOKEN},  # not a bearer header
            {"Authorization": f"Basic {METRICS_TOKEN}"},
            {"Authorization": "Bearer " + METRICS_TOKEN[:-1]},
            {"Authorization": "Bearer "},
        ):
            answer = requests.get(url + "/metrics", headers=headers, timeout=10)
            assert answer.status_code == 401 and b"leadqual_" not in answer.content, headers
        assert requests.get(url + "/metrics", params={"token": METRICS_TOKEN}, timeout=10).status_code == 401
        scraped = requests.get(url + "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, timeout=10)
        assert scraped.status_code == 200 and b"leadqual_database_up 1.0" in scraped.content


def test_a_short_metrics_token_stops_the_start(tmp_path):
    with pytest.raises(RuntimeError, match="LEADQUAL_METRICS_TOKEN must be at least 16 characters"):
        with running_action_server(tmp_path, LEADQUAL_METRICS_TOKEN="CHANGE_ME"):
            pass


# -- files ------------------------------------------------------------------------------------


def test_the_action_servers_database_and_handoff_files_are_private(tmp_path, config):
    # Started with umask 022 like any process; the server makes its own files 0600.
    old = os.umask(0o022)
    try:
        with running_action_server(tmp_path, LEADQUAL_DELIVERY_SECONDS="0.2") as (url, _log):
            assert requests.get(url + "/ready", timeout=30).status_code == 200
            store = LeadStore(f"sqlite:///{tmp_path / 'leads.db'}", config=config)
            with store.sessions.begin() as session:
                enqueue(session, "crm", {"lead": {"email": "ana@acme.es"}}, key="exposure-1")
            store.engine.dispose()
            handoff = tmp_path / "handoff-crm.jsonl"
            deadline = time.monotonic() + 30
            while not handoff.exists() and time.monotonic() < deadline:
                time.sleep(0.2)
            assert handoff.exists(), "the delivery worker did not write the handoff file"
    finally:
        os.umask(old)
    assert mode(handoff) == 0o600
    for name in ("leads.db", "leads.db-wal", "leads.db-shm"):
        if (tmp_path / name).exists():
            assert mode(tmp_path / name) == 0o600, name


def test_the_spool_is_private_whatever_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        spool = SaveSpool(tmp_path / "spool.jsonl")
        spool.add("conv-1", {"need": {"value": "crm"}}, "es")
        spool.add("conv-2", {"need": {"value": "crm"}}, "es")
        spool.discard("conv-1")  # rewrites the file through a temporary one
    finally:
        os.umask(old)
    for name in ("spool.jsonl", "spool.jsonl.lock"):
        assert mode(tmp_path / name) == 0o600, name


# -- bin/run and the Rasa token -----------------------------------------------------------------

# Stand-ins for the two environments' pythons: they record their command line as `ps` shows it
# (/proc/PID/cmdline), their umask and the token they were given, then wait like a server.
RASA_PYTHON = """#!/bin/bash
out="$(dirname "$0")/../../started"
tr '\\0' '\\n' < /proc/$$/cmdline > "$out/rasa.cmdline"
umask > "$out/rasa.umask"
printf '%s' "${RASA_AUTH_TOKEN:-}" > "$out/rasa.env-token"
exec sleep 120
"""
APP_PYTHON = """#!/bin/bash
if [ "$1" = "-c" ]; then echo "generated-$RANDOM-$RANDOM-$RANDOM-$RANDOM"; exit 0; fi
out="$(dirname "$0")/../../started"
umask > "$out/app-$2.umask"
exec sleep 120
"""


def sandbox(tmp_path: Path) -> Path:
    """A copy of the repository as far as bin/run reads it, with stand-in environments, a model
    and the widget in place (so bin/run installs and trains nothing)."""
    repo = tmp_path / "repo"
    for name in ("bin/run", "bin/_common.sh", "endpoints.yml", "credentials.yml"):
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_bytes((ROOT / name).read_bytes())
    (repo / "bin" / "run").chmod(0o755)
    for name, text in {
        "config.yml": "x: 1\n",
        "domain.yml": "x: 1\n",
        "data/nlu.yml": "x: 1\n",
        "requirements/rasa.lock": "rasa==3.6.21\n",
        "requirements/app.lock": "sanic\n",
        "web/package-lock.json": "{}\n",
        "web/node_modules/rasa-webchat/lib/index.js": "//\n",
    }.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    (repo / "started").mkdir()
    for venv, script, lock in ((".venv-rasa", RASA_PYTHON, "rasa.lock"), (".venv", APP_PYTHON, "app.lock")):
        (repo / venv / "bin").mkdir(parents=True)
        (repo / venv / "bin" / "python").write_text(script)
        (repo / venv / "bin" / "python").chmod(0o755)
        (repo / venv / ".lock.sha256").write_text(sha256(repo / "requirements" / lock) + "\n")
    (repo / ".venv-rasa" / "lib" / "python3.10" / "site-packages").mkdir(parents=True)
    (repo / "web" / "node_modules" / ".lock.sha256").write_text(sha256(repo / "web" / "package-lock.json") + "\n")
    fingerprint = subprocess.run(
        ["bash", "-c", "source bin/_common.sh && model_fingerprint"], cwd=repo, capture_output=True, text=True
    ).stdout.strip()
    assert len(fingerprint) == 16
    (repo / "models").mkdir(exist_ok=True)
    (repo / "models" / f"nubilo-{fingerprint}.tar.gz").write_bytes(b"")
    return repo


def sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def started_by_bin_run(tmp_path):
    """bin/run in the sandbox until every server has started; yields the sandbox."""
    from ..conftest import free_port

    repo = sandbox(tmp_path)
    ports = {name: str(free_port()) for name in ("ACTIONS", "RASA", "SITE", "CONSOLE")}
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), **{f"LEADQUAL_{k}_PORT": v for k, v in ports.items()}}
    log = tmp_path / "bin-run.log"
    old = os.umask(0o022)
    try:
        run = subprocess.Popen(
            ["bash", str(repo / "bin" / "run")],
            cwd=repo,
            env=env,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    finally:
        os.umask(old)
    started = repo / "started"
    servers = ("actions.server", "leadqual.http.website", "leadqual.console")
    wanted = ["rasa.cmdline", "rasa.umask"] + [f"app-{module}.umask" for module in servers]
    try:
        deadline = time.monotonic() + 60
        while not all((started / name).exists() and (started / name).stat().st_size for name in wanted):
            assert run.poll() is None, f"bin/run stopped:\n{log.read_text()[-3000:]}"
            assert time.monotonic() < deadline, f"bin/run did not start the servers:\n{log.read_text()[-3000:]}"
            time.sleep(0.1)
        yield repo
    finally:
        os.killpg(run.pid, signal.SIGTERM)  # bin/run and the stand-ins it started
        try:
            run.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(run.pid, signal.SIGKILL)
            run.wait()


def test_bin_run_keeps_the_rasa_token_off_the_command_line(started_by_bin_run):
    repo = started_by_bin_run
    secrets = dict(line.split("=", 1) for line in (repo / "var" / "secrets.env").read_text().splitlines() if line)
    token = secrets["RASA_AUTH_TOKEN"]
    assert token.startswith("generated-")
    argv = (repo / "started" / "rasa.cmdline").read_text().splitlines()
    assert "--enable-api" in argv and "leadqual_rasa.serve" in argv
    assert not any(token in arg for arg in argv), argv
    assert argv[argv.index("--auth-token-env") + 1] == "RASA_AUTH_TOKEN" and "--auth-token" not in argv
    assert (repo / "started" / "rasa.env-token").read_text() == token  # Rasa gets it through the environment


def test_bin_run_makes_its_files_and_its_servers_files_private(started_by_bin_run):
    repo = started_by_bin_run
    for name in ("secrets.env", "endpoints.yml", "actions.log", "rasa.log", "site.log", "console.log"):
        assert mode(repo / "var" / name) == 0o600, name
    for name in (
        "rasa.umask",
        "app-actions.server.umask",
        "app-leadqual.http.website.umask",
        "app-leadqual.console.umask",
    ):
        assert (repo / "started" / name).read_text().strip() == "0077", name
    # What is built for everyone using the checkout keeps the caller's umask (a systemd unit may
    # run as another user): e.g. the line bin/run writes into the Rasa environment.
    assert mode(repo / ".venv-rasa" / "lib" / "python3.10" / "site-packages" / "leadqual-repo.pth") == 0o644


# A stand-in for Rasa: reports the argv Rasa would parse and the command line `ps` shows.
FAKE_RASA = {
    "skops/__init__.py": "",
    "skops/io.py": "",
    "rasa/__init__.py": "",
    "rasa/__main__.py": (
        "import json, sys\n"
        "def main():\n"
        "    cmdline = open('/proc/self/cmdline', 'rb').read().decode().split('\\0')\n"
        "    print(json.dumps({'argv': sys.argv, 'cmdline': cmdline}))\n"
    ),
}


def serve(tmp_path: Path, args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    for name, text in FAKE_RASA.items():
        (tmp_path / "fake" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "fake" / name).write_text(text)
    return subprocess.run(
        [sys.executable, "-m", "leadqual_rasa.serve", *args],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": f"{tmp_path / 'fake'}:{ROOT}", **env},
        capture_output=True,
        text=True,
    )


def test_the_rasa_launcher_hands_rasa_the_token_from_the_environment(tmp_path):
    token = "rasa-api-token-from-the-environment"
    args = ["run", "--enable-api", "--auth-token-env", "RASA_AUTH_TOKEN", "--port", "5005"]
    out = serve(tmp_path, args, {"RASA_AUTH_TOKEN": token})
    assert out.returncode == 0, out.stderr
    seen = json.loads(out.stdout)
    assert seen["argv"] == ["rasa", "run", "--enable-api", "--auth-token", token, "--port", "5005"]
    assert token not in " ".join(seen["cmdline"])  # what `ps` shows
    assert "RASA_AUTH_TOKEN" in seen["cmdline"]
    other = serve(tmp_path, ["run", "--auth-token-env=MY_TOKEN"], {"MY_TOKEN": token})
    assert json.loads(other.stdout)["argv"] == ["rasa", "run", "--auth-token", token]


def test_the_rasa_launcher_will_not_start_the_api_without_its_token(tmp_path):
    out = serve(tmp_path, ["run", "--enable-api", "--auth-token-env", "RASA_AUTH_TOKEN"], {})
    assert out.returncode != 0 and "RASA_AUTH_TOKEN is not set" in out.stderr and out.stdout == ""
