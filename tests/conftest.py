"""Shared fixtures: the shipped qualification config and lead stores on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from io import StringIO
from pathlib import Path
from types import SimpleNamespace
from unittest import mock

import pytest
import requests
import yaml

ROOT = Path(__file__).resolve().parents[1]
# How bin/run starts Rasa: `rasa` with the start-up cost removed (leadqual_rasa/serve.py).
RASA_SERVE = [str(ROOT / ".venv-rasa" / "bin" / "python"), "-m", "leadqual_rasa.serve"]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from leadqual.config.marketing import WEEKDAYS, load_qualification  # noqa: E402
from leadqual.leads.store import LeadStore  # noqa: E402

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
POSTGRES_URL = os.environ.get("LEADQUAL_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)


@contextmanager
def postgres_database(prefix: str = "leadqual_test"):
    """The URL of a fresh database on LEADQUAL_TEST_POSTGRES_URL, dropped afterwards.
    Skips the test, with the reason, when no server is reachable."""
    # pool_pre_ping: the database is dropped even after PostgreSQL restarted (tests/production).
    admin = create_engine(
        POSTGRES_URL, isolation_level="AUTOCOMMIT", pool_pre_ping=True, connect_args={"connect_timeout": 3}
    )
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - any connection problem means "no server here"
        admin.dispose()
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}: {exc}".splitlines()[0])
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# Rasa's REST channel (leadqual_rasa/channels.py GuardedRestInput) needs a token: every Rasa
# the tests start inherits this one, and every REST call sends it.
os.environ.setdefault("LEADQUAL_REST_TOKEN", "tests-rest-" + uuid.uuid4().hex)
REST_HEADERS = {"Authorization": f"Bearer {os.environ['LEADQUAL_REST_TOKEN']}"}

# bin/test's clock-ahead pass (tests/clock_ahead/sitecustomize.py) must reach the servers the
# tests start with an environment of their own.
CLOCK_AHEAD = "LEADQUAL_TEST_CLOCK_AHEAD_DAYS"


def with_test_clock(env: dict) -> dict:
    """`env` plus what moves a child process's clock when this run's clock is moved."""
    if not os.environ.get(CLOCK_AHEAD):
        return env
    paths = [p for p in (os.environ.get("PYTHONPATH"), env.get("PYTHONPATH")) if p]
    return {**env, CLOCK_AHEAD: os.environ[CLOCK_AHEAD], "PYTHONPATH": os.pathsep.join(paths)}


def pytest_report_header(config):
    if os.environ.get(CLOCK_AHEAD):
        return f"clock: {os.environ[CLOCK_AHEAD]} days ahead of the real date (bin/test's clock-ahead pass)"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(proc: subprocess.Popen) -> None:
    """Stop a server started by a test: politely, then for sure."""
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()


def wait_for(url: str, proc: subprocess.Popen, log: Path, timeout: float = 240) -> None:
    """Wait until `url` answers 2xx; fail with the end of the server's log if it dies or hangs."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url} exited early:\n{log.read_text()[-3000:]}")
        try:
            if requests.get(url, timeout=2).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not come up in {timeout}s:\n{log.read_text()[-3000:]}")


@contextmanager
def action_server_process(port: int, log: Path, env: dict, log_mode: str = "w"):
    """`python -m actions.server` on `port` with exactly `env`, its output in `log`; yields the
    process once /health answers, and stops it afterwards."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "actions.server", "--port", str(port)],
        cwd=ROOT,
        stdout=log.open(log_mode),
        stderr=subprocess.STDOUT,
        env=with_test_clock(env),
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/health", proc, log, timeout=60)
        yield proc
    finally:
        stop(proc)


@contextmanager
def running_action_server(workdir: Path, **env: str):
    """The action server as a real process on a free port, with only the environment given (on
    a SQLite file in `workdir` unless LEADQUAL_DATABASE_URL is set); yields (base URL, log)."""
    port = free_port()
    log = workdir / f"actions-{port}.log"
    environment = {
        "PATH": "/usr/bin:/bin",
        "LEADQUAL_DATABASE_URL": f"sqlite:///{workdir / 'leads.db'}",
        "LEADQUAL_SPOOL": str(workdir / "spool.jsonl"),
        "LEADQUAL_HANDOFF_DIR": str(workdir),
        "LEADQUAL_ACTION_TOKEN": "tests-" + uuid.uuid4().hex,
        **env,
    }
    with action_server_process(port, log, environment):
        yield f"http://127.0.0.1:{port}", log


@pytest.fixture(scope="session")
def config():
    """The shipped config/qualification.yml."""
    return load_qualification()


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory, config) -> Path:
    """A SQLite file migrated once per run: each test copies it rather than migrating its own."""
    path = tmp_path_factory.mktemp("sqlite-template") / "leads.db"
    template = LeadStore(f"sqlite:///{path}", config=config)
    template.create_schema()
    template.engine.dispose()  # the last connection's close folds the WAL back into the file
    return path


@pytest.fixture
def sqlite_store(tmp_path, config, _sqlite_template):
    """A LeadStore on a fresh SQLite file with the newest schema."""
    path = tmp_path / "leads.db"
    shutil.copyfile(_sqlite_template, path)
    store = LeadStore(f"sqlite:///{path}", config=config)
    yield store
    store.engine.dispose()


# This test process's migrated PostgreSQL database, emptied for each test that takes it: creating
# and migrating a database costs half a second, emptying it a tenth.
_shared_postgres: dict = {}


def _empty(url: str) -> None:
    """Every row of every product table gone and the sequences restarted, as in a new database;
    connections a finished test left open (a server it started, a thread) are closed first."""
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
            tables = conn.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'")
            ).scalars()
            quoted = ", ".join(f'"{table}"' for table in tables)
            conn.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
    finally:
        engine.dispose()


@contextmanager
def migrated_postgres_database(config):
    """The URL of an empty PostgreSQL database with the newest schema, for one test: this run's
    shared one, emptied, or a fresh one when a test takes a second. Skips, with the reason, when
    no server is reachable."""
    if _shared_postgres.get("in_use"):
        with postgres_database() as url:
            store = LeadStore(url, config=config)
            store.create_schema()
            store.engine.dispose()
            yield url
        return
    if "url" not in _shared_postgres:
        database = postgres_database("leadqual_shared")
        url = database.__enter__()  # skips the test when no server is reachable
        _shared_postgres.update(url=url, database=database)
        store = LeadStore(url, config=config)
        store.create_schema()
        store.engine.dispose()
    _empty(_shared_postgres["url"])
    _shared_postgres["in_use"] = True
    try:
        yield _shared_postgres["url"]
    finally:
        _shared_postgres["in_use"] = False


def pytest_sessionfinish(session, exitstatus):
    if "database" in _shared_postgres:
        _shared_postgres.pop("database").__exit__(None, None, None)


@pytest.fixture
def pg_store(config):
    """A LeadStore on an empty PostgreSQL database with the newest schema."""
    with migrated_postgres_database(config) as url:
        store = LeadStore(url, config=config)
        try:
            yield store
        finally:
            store.engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request):
    """Every store test runs on SQLite and on PostgreSQL."""
    return request.getfixturevalue({"sqlite": "sqlite_store", "postgresql": "pg_store"}[request.param])


@pytest.fixture(scope="session", autouse=True)
def _cheap_password_hashes():
    """Console users the tests create in this process get Argon2id hashes of the lowest cost (the
    library's default costs 0.14 s a hash, and the tests make hundreds). A console process the
    tests start keeps the real cost: it verifies these and rehashes them at the first sign-in."""
    from argon2 import PasswordHasher

    from leadqual.console import auth

    real = auth._hasher
    auth._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    yield
    auth._hasher = real


@pytest.fixture(autouse=True)
def _private_spool(tmp_path, monkeypatch):
    """Failed saves go to a per-test spool file, never to the repository's var/."""
    monkeypatch.setenv("LEADQUAL_SPOOL", str(tmp_path / "pending-saves.jsonl"))
    try:
        import actions.actions as adapters
    except ImportError:  # rasa-sdk missing: the adapters' tests skip themselves
        return
    monkeypatch.setattr(adapters, "_spool", None)


@pytest.fixture(scope="session")
def model() -> str:
    """The trained model: $LEADQUAL_MODEL (set by bin/test), else bin/train's (trains only if needed)."""
    import subprocess

    path = os.environ.get("LEADQUAL_MODEL")
    if path and Path(path).exists():
        # Absolute: Rasa runs in a temporary folder, where a relative path finds no model.
        return str(Path(path).resolve())
    root = Path(__file__).resolve().parent.parent
    out = subprocess.run(["bash", str(root / "bin" / "train")], capture_output=True, text=True, check=True)
    return out.stdout.strip().splitlines()[-1]


def run_cli(*argv: str, stdin: str = "", env: dict[str, str] | None = None) -> SimpleNamespace:
    """`bin/leads ARGV` run in this process (leadqual.tools.cli.main): its exit code, stdout and stderr,
    like subprocess.run(..., capture_output=True, text=True) gives them. `env` replaces the whole
    environment for the call. The same code as the command, without a Python start-up and its
    imports per call (a second of CPU each); tests/test_console_auth.py runs the real process."""
    from leadqual.tools import cli

    out, err = StringIO(), StringIO()
    environment = mock.patch.dict(os.environ, env, clear=True) if env is not None else mock.patch.dict(os.environ)
    with environment, mock.patch.object(sys, "stdin", StringIO(stdin)), redirect_stdout(out), redirect_stderr(err):
        try:
            code = cli.main(list(argv))
        except SystemExit as exc:  # argparse's errors and --help
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    return SimpleNamespace(returncode=code or 0, stdout=out.getvalue(), stderr=err.getvalue())


def always_open_config() -> Path:
    """The shipped config with the SDRs in business hours all week: what the chat offers after
    qualifying (talk now, or the SLA) must not depend on when the tests run."""
    config = yaml.safe_load((ROOT / "config" / "qualification.yml").read_text(encoding="utf-8"))
    config["handoff"]["business_hours"] = {day: "00:00-24:00" for day in WEEKDAYS}
    artifacts = ROOT / "tests" / "artifacts"
    artifacts.mkdir(parents=True, exist_ok=True)
    path = artifacts / f"qualification-always-open-{uuid.uuid4().hex[:8]}.yml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path
