"""Browser harness: the demo website (leadqual.http.website) on its own origin, the trained model in Rasa
with the socket.io channel and CORS for that origin, the real action server (intake, embed assets)
on SQLite, and Debian's Chromium driven by Playwright. No browser is ever downloaded: without
/usr/bin/chromium (bin/test installs it when it can) or without playwright, these tests skip."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest

from leadqual.leads.store import LeadStore

from ..conftest import RASA_SERVE, always_open_config, free_port, stop, wait_for

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
SHOTS = ARTIFACTS / "screenshots"
CHROMIUM = os.environ.get("LEADQUAL_CHROMIUM", "/usr/bin/chromium")
WRITE_KEY = "browser-test-server-" + uuid.uuid4().hex
BROWSER_KEY = "pub_browser_test_" + uuid.uuid4().hex[:16]
RASA_TOKEN = "browser-test-rasa-" + uuid.uuid4().hex
ACTION_TOKEN = "browser-test-action-" + uuid.uuid4().hex
SESSION_SECRET = "browser-test-sessions-" + uuid.uuid4().hex
PROACTIVE_SECONDS = 3
# Debian's Chromium on this closed network: no background connections, no sandbox (root).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def ports() -> dict[str, int]:
    return {"site": free_port(), "actions": free_port(), "rasa": free_port()}


@pytest.fixture(scope="session")
def site_origin(ports) -> str:
    return f"http://127.0.0.1:{ports['site']}"


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"no Chromium at {CHROMIUM}: apt-get install chromium (bin/test does it when run as root)")
    if not (ROOT / "web" / "node_modules" / "rasa-webchat" / "lib" / "index.js").is_file():
        pytest.skip("the chat widget is not in web/node_modules (bin/test and bin/run install it with npm ci)")
    pytest.importorskip("playwright.sync_api", reason="playwright (requirements/app.lock) is not installed")
    return CHROMIUM


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('browser-db') / 'leads.db'}"


@pytest.fixture(scope="session")
def stack(chromium_path, model, ports, site_origin, database_url, tmp_path_factory):
    """Action server, Rasa (socket.io, CORS for the site) and the website, like bin/run starts them:
    started once for all the browser tests (a Rasa server costs about 10 s of CPU to start), which
    share its database; each test starts its own visitors in fresh browser profiles."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    workdir = tmp_path_factory.mktemp("browser-rasa")
    endpoints = workdir / "endpoints.yml"
    endpoints.write_text(
        f'action_endpoint:\n  url: "http://127.0.0.1:{ports["actions"]}/webhook"\n  token: "{ACTION_TOKEN}"\n'
        f'nlg:\n  url: "http://127.0.0.1:{ports["actions"]}/nlg"\n  token: "{ACTION_TOKEN}"\n'
    )
    env = {
        **os.environ,
        "RASA_TELEMETRY_ENABLED": "false",
        "PYTHONPATH": str(ROOT),  # Rasa loads leadqual_rasa.channels (credentials.yml) from the checkout
        "LEADQUAL_SESSION_SECRET": SESSION_SECRET,
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
        "LEADQUAL_DATABASE_URL": database_url,
        "LEADQUAL_SPOOL": str(workdir / "pending-saves.jsonl"),
        "LEADQUAL_WRITE_KEY": WRITE_KEY,
        "LEADQUAL_BROWSER_WRITE_KEY": BROWSER_KEY,
        "LEADQUAL_ACTION_TOKEN": ACTION_TOKEN,
        "LEADQUAL_CORS_ORIGINS": site_origin,
        "LEADQUAL_PUBLIC_ACTIONS_URL": f"http://127.0.0.1:{ports['actions']}",
        "LEADQUAL_PUBLIC_RASA_URL": f"http://127.0.0.1:{ports['rasa']}",
        "LEADQUAL_PROACTIVE_SECONDS": str(PROACTIVE_SECONDS),
        # The SDRs are online all week: what the chat offers after qualifying does not depend on the hour.
        "LEADQUAL_QUALIFICATION": str(always_open_config()),
    }
    procs = []
    try:
        specs = [
            ("browser-actions", [sys.executable, "-m", "actions.server", "--port", str(ports["actions"])], ROOT),
            (
                "browser-rasa",
                [
                    *[*RASA_SERVE, "run", "--model", model, "--endpoints", str(endpoints)],
                    *["--credentials", str(ROOT / "credentials.yml"), "--port", str(ports["rasa"])],
                    *["--interface", "127.0.0.1", "--cors", site_origin],
                    *["--enable-api", "--auth-token", RASA_TOKEN],
                ],
                workdir,
            ),
            ("browser-site", [sys.executable, "-m", "leadqual.http.website", "--port", str(ports["site"])], ROOT),
        ]
        logs = {}
        for name, cmd, cwd in specs:
            logs[name] = ARTIFACTS / f"{name}.log"
            procs.append(subprocess.Popen(cmd, cwd=cwd, stdout=logs[name].open("w"), stderr=subprocess.STDOUT, env=env))
        wait_for(f"http://127.0.0.1:{ports['actions']}/health", procs[0], logs["browser-actions"], timeout=60)
        wait_for(f"http://127.0.0.1:{ports['rasa']}/", procs[1], logs["browser-rasa"])
        wait_for(site_origin + "/", procs[2], logs["browser-site"], timeout=30)
        yield {
            "site": site_origin,
            "actions": f"http://127.0.0.1:{ports['actions']}",
            "rasa": f"http://127.0.0.1:{ports['rasa']}",
        }
    finally:
        for proc in procs:
            stop(proc)


@pytest.fixture(scope="module")
def browser(stack, chromium_path):
    """Module-scoped: Playwright's sync API runs an event loop in this thread while it is started, so it
    must be stopped before other tests call asyncio.run()."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser, request):
    """A fresh browser profile (its own localStorage) with a page; console errors are kept for the report."""
    contexts = []

    def make(viewport=(1280, 800), **kwargs):
        context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]}, **kwargs)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(30_000)
        return page

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def shot(request):
    """shot(page, "step"): a screenshot in tests/artifacts/screenshots/<test>-<n>-<step>.png."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    counter = iter(range(1, 100))
    test = request.node.name.replace("[", "-").replace("]", "")

    def take(page, step: str) -> Path:
        path = SHOTS / f"{test}-{next(counter):02d}-{step}.png"
        page.screenshot(path=str(path))
        return path

    return take


@pytest.fixture
def leads(stack, database_url) -> LeadStore:
    store = LeadStore(database_url)
    yield store
    store.engine.dispose()


@contextmanager
def console_context(width: int = 1400, height: int = 1000, locale: str = "es-ES"):
    """A Chromium context for the console's pages (no website stack needed): desktop, Spanish."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium.new_context(viewport={"width": width, "height": height}, locale=locale)
        chromium.close()
