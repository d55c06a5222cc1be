"""The production topology on this machine: two Rasa servers with deploy/endpoints.production.yml
(Rasa's SQL tracker store on a fresh PostgreSQL database, the Redis lock store under a fresh key
prefix), one action server on another fresh PostgreSQL database, all configured by environment
variables only. The action server can be killed and started again; PostgreSQL can be restarted.
Skips, with the reason, when PostgreSQL or Redis is not reachable."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests
from sqlalchemy.engine import make_url

from leadqual.leads.store import LeadStore

from ..conftest import RASA_SERVE, REST_HEADERS, free_port, postgres_database, stop, wait_for
from ..e2e.conftest import always_open_config

ROOT = Path(__file__).resolve().parents[2]
ENDPOINTS = ROOT / "deploy" / "endpoints.production.yml"
ARTIFACTS = ROOT / "tests" / "artifacts" / "production"
API_TOKEN = "prod-" + uuid.uuid4().hex
ACTION_TOKEN = "prod-actions-" + uuid.uuid4().hex
METRICS_TOKEN = "prod-metrics-" + uuid.uuid4().hex
REDIS_HOST = os.environ.get("LEADQUAL_TEST_REDIS_HOST", "127.0.0.1")
REDIS_PORT = int(os.environ.get("LEADQUAL_TEST_REDIS_PORT", 6379))
REDIS_DB = os.environ.get("LEADQUAL_TEST_REDIS_DB", "0")


def redis_command(*args: str) -> object:
    """One command to Redis over its wire protocol (the test environment has no Redis client)."""
    payload = f"*{len(args)}\r\n" + "".join(f"${len(a.encode())}\r\n{a}\r\n" for a in args)
    with socket.create_connection((REDIS_HOST, REDIS_PORT), timeout=3) as conn:
        conn.sendall(payload.encode())
        reader = conn.makefile("rb")

        def read():
            line = reader.readline().rstrip(b"\r\n")
            kind, rest = line[:1], line[1:].decode()
            if kind in (b"+", b":"):
                return int(rest) if kind == b":" else rest
            if kind == b"-":
                raise RuntimeError(rest)
            if kind == b"$":
                return None if rest == "-1" else reader.read(int(rest) + 2)[:-2].decode()
            if kind == b"*":
                return [read() for _ in range(int(rest))]
            raise RuntimeError(f"unexpected reply {line!r}")

        return read()


def redis_reachable() -> str | None:
    try:
        redis_command("SELECT", REDIS_DB)
        return None if redis_command("PING") == "PONG" else "no PONG"
    except (OSError, RuntimeError) as exc:
        return str(exc)


class ActionServer:
    """The action server as a process that a test may kill (SIGKILL) and start again."""

    def __init__(self, port: int, env: dict, log: Path) -> None:
        self.port, self.env, self.log = port, env, log
        self.url = f"http://127.0.0.1:{port}"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "actions.server", "--port", str(self.port)],
            cwd=ROOT,
            stdout=self.log.open("a"),
            stderr=subprocess.STDOUT,
            env=self.env,
        )
        wait_for(self.url + "/health", self.proc, self.log, timeout=60)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            stop(self.proc)


class Stack:
    def __init__(self, rasa_urls, actions, store, tracker_db_url, handoff_dir, redis_prefix):
        self.rasa_urls: list[str] = rasa_urls
        self.actions: ActionServer = actions
        self.store: LeadStore = store
        self.tracker_db_url: str = tracker_db_url
        self.handoff_dir: Path = handoff_dir
        self.redis_prefix: str = redis_prefix

    def packets(self, lead_id: str, kind: str = "crm") -> list[dict]:
        path = self.handoff_dir / f"handoff-{kind}.jsonl"
        lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
        return [p for p in (json.loads(line)["data"] for line in lines) if p["lead_id"] == lead_id]


@pytest.fixture(scope="session")
def stack(model: str, tmp_path_factory):
    reason = redis_reachable()
    if reason:
        pytest.skip(f"Redis not reachable at {REDIS_HOST}:{REDIS_PORT}: {reason}")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with postgres_database("leadqual_prod") as product_url, postgres_database("leadqual_rasa") as tracker_url:
        tracker = make_url(tracker_url)
        actions_port = free_port()
        prefix = "lqtest" + uuid.uuid4().hex[:10]
        handoff_dir = ARTIFACTS / f"handoff-{uuid.uuid4().hex[:8]}"
        base = {**os.environ, "LEADQUAL_LOG_FORMAT": "json", "LEADQUAL_ACTION_TOKEN": ACTION_TOKEN}
        actions = ActionServer(
            actions_port,
            {
                **base,
                "LEADQUAL_QUALIFICATION": str(always_open_config()),
                "LEADQUAL_DATABASE_URL": product_url,
                "LEADQUAL_SPOOL": str(ARTIFACTS / f"pending-saves-{uuid.uuid4().hex[:8]}.jsonl"),
                "LEADQUAL_SPOOL_RETRY_SECONDS": "1",
                "LEADQUAL_HANDOFF_DIR": str(handoff_dir),
                "LEADQUAL_DELIVERY_SECONDS": "0.5",
                "LEADQUAL_METRICS_TOKEN": METRICS_TOKEN,
            },
            ARTIFACTS / "actions.log",
        )
        rasa_env = {
            **base,
            "RASA_TELEMETRY_ENABLED": "false",
            # Rasa loads leadqual_rasa.stores (the repository's add-ons) from here.
            "PYTHONPATH": str(ROOT),
            # One secret for every Rasa server: a socket.io session signed by one is valid on all.
            "LEADQUAL_SESSION_SECRET": "prod-session-" + uuid.uuid4().hex,
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
            "LEADQUAL_ACTION_ENDPOINT_URL": f"{actions.url}/webhook",
            "LEADQUAL_NLG_URL": f"{actions.url}/nlg",
            "LEADQUAL_TRACKER_DB_HOST": tracker.host or "127.0.0.1",
            "LEADQUAL_TRACKER_DB_PORT": str(tracker.port or 5432),
            "LEADQUAL_TRACKER_DB_NAME": tracker.database,
            "LEADQUAL_TRACKER_DB_USER": tracker.username or "postgres",
            "LEADQUAL_TRACKER_DB_PASSWORD": tracker.password or "",
            "LEADQUAL_REDIS_HOST": REDIS_HOST,
            "LEADQUAL_REDIS_PORT": str(REDIS_PORT),
            "LEADQUAL_REDIS_DB": REDIS_DB,
            "LEADQUAL_REDIS_PASSWORD": "",
            "LEADQUAL_REDIS_KEY_PREFIX": prefix,
        }
        procs: list[subprocess.Popen] = []
        store = LeadStore(product_url)
        try:
            actions.start()
            urls = []
            for n in (1, 2):
                port = free_port()
                workdir = tmp_path_factory.mktemp(f"rasa{n}")
                log = ARTIFACTS / f"rasa{n}.log"
                procs.append(
                    subprocess.Popen(
                        [*RASA_SERVE, "run", "--model", model, "--endpoints", str(ENDPOINTS), "--credentials"]
                        + [str(ROOT / "credentials.yml"), "--port", str(port), "--interface", "127.0.0.1"]
                        + ["--enable-api", "--auth-token", API_TOKEN],
                        cwd=workdir,
                        stdout=log.open("w"),
                        stderr=subprocess.STDOUT,
                        env=rasa_env,
                    )
                )
                urls.append((f"http://127.0.0.1:{port}", procs[-1], log))
            for url, proc, log in urls:
                # /status answers once the model is loaded (the root page answers before that).
                wait_for(f"{url}/status?token={API_TOKEN}", proc, log)
            yield Stack([u for u, _, _ in urls], actions, store, tracker_url, handoff_dir, prefix)
        finally:
            for proc in procs:
                stop(proc)
            actions.stop()
            store.engine.dispose()
            shutil.rmtree(handoff_dir, ignore_errors=True)
            try:
                keys = redis_command("KEYS", prefix + "*")
                if keys:
                    redis_command("DEL", *keys)
            except (OSError, RuntimeError):
                pass


class Visitor:
    """One visitor on the REST channel whose messages go to the Rasa servers in turn."""

    def __init__(self, urls: list[str], lang: str = "es") -> None:
        self.urls = urls
        self.sender = "prod-" + uuid.uuid4().hex
        self.lang = lang
        self.sent = 0
        self.servers: list[str] = []

    def say(self, message: str, server: int | None = None) -> list[dict]:
        url = self.urls[self.sent % len(self.urls) if server is None else server]
        self.sent += 1
        self.servers.append(url)
        response = requests.post(
            url + "/webhooks/rest/webhook",
            json={"sender": self.sender, "message": message, "metadata": {"lang": self.lang}},
            headers=REST_HEADERS,
            timeout=90,
        )
        response.raise_for_status()
        return response.json()

    def tracker(self, server: int = 0) -> dict:
        response = requests.get(
            f"{self.urls[server]}/conversations/{self.sender}/tracker", params={"token": API_TOKEN}, timeout=30
        )
        response.raise_for_status()
        return response.json()

    def user_messages(self, server: int = 0) -> list[str]:
        return [e.get("text") for e in self.tracker(server)["events"] if e["event"] == "user"]


def texts(replies: list[dict]) -> str:
    return "\n".join(r.get("text") or "" for r in replies)


def wait_until(check, timeout: float = 20, step: float = 0.3):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(step)
