"""The SDR console in Debian's headless Chromium: an SDR signs in, filters, opens a lead, reads its
transcript and accepts it; a visitor's `<script>` is shown as text; an SDR is kept out of the admin
pages; signed-out requests are refused. Needs no model or Rasa: the console and a seeded SQLite file."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from leadqual.leads.store import LeadStore

from ..console_support import PASSWORD, XSS, add_user, console_process, seed_lead
from .conftest import CHROMIUM, SHOTS, console_context


@pytest.fixture(scope="module")
def console(tmp_path_factory, config):
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"no Chromium at {CHROMIUM}: apt-get install chromium (bin/test does it when run as root)")
    pytest.importorskip("playwright.sync_api", reason="playwright (requirements/app.lock) is not installed")
    workdir = tmp_path_factory.mktemp("console-browser")
    database_url = f"sqlite:///{workdir / 'leads.db'}"
    store = LeadStore(database_url, config=config)
    store.create_schema()
    add_user(store, "lucia@nubilo.es", "sdr", sdr_id="lucia")
    ids = {
        "ana": seed_lead(store, "ana@acme.es", company="Acme Ibérica", owner="lucia", stage="mql", visitor_text=XSS),
        "bob": seed_lead(store, "bob@globex.com", company="Globex", lang="en", owner="lucia", stage="mql"),
        "cai": seed_lead(store, "cai@initech.es", company="Initech", owner="emma", stage="mql"),
    }
    with console_process(database_url, workdir) as url:
        yield {"url": url, "ids": ids, "store": store}
    store.engine.dispose()


@pytest.fixture(scope="module")
def page(console):
    with console_context() as context:
        page = context.new_page()
        page.set_default_timeout(15_000)
        dialogs = []
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        page.dialogs = dialogs
        yield page


def test_signed_out_requests_are_refused(console):
    answer = requests.get(console["url"] + "/leads", allow_redirects=False, timeout=10)
    assert answer.status_code == 302 and answer.headers["location"].startswith("/login")
    assert requests.get(console["url"] + "/api/leads", timeout=10).status_code == 401


def test_an_sdr_works_a_lead_from_sign_in_to_accepting_it(console, page):
    page.goto(console["url"] + f"/leads/{console['ids']['ana']}")
    assert page.url.startswith(console["url"] + "/login")  # signed out: to the sign-in form first
    page.fill("input[name=email]", "lucia@nubilo.es")
    page.fill("input[name=password]", PASSWORD)
    page.click("button.primary")
    page.goto(console["url"] + "/leads")
    assert page.locator("[data-testid=count]").inner_text() == "3 leads"

    page.fill("input[name=q]", "ACME")
    page.click("form.filters button.primary")
    rows = page.locator("[data-testid=leads] tbody tr")
    assert rows.count() == 1 and "ana@acme.es" in rows.first.inner_text()
    page.select_option("select[name=language]", "en")
    page.fill("input[name=q]", "")
    page.click("form.filters button.primary")
    assert rows.count() == 1 and "bob@globex.com" in rows.first.inner_text()

    page.goto(console["url"] + "/leads?q=acme")
    page.click("text=Ana")
    assert page.locator("[data-testid=stage]").inner_text() == "MQL"
    transcript = page.locator("[data-testid=transcript]").first
    assert "¿Qué presupuesto tenéis?" in transcript.inner_text()
    assert page.locator("[data-testid=bant] tr[data-slot=budget]").inner_text().count("unos 20.000 € al año") == 1
    # The visitor's <script> is shown as what they typed, and never runs.
    assert transcript.get_by_text(XSS).is_visible()
    assert page.dialogs == []
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "console-lead-page.png"), full_page=True)

    page.click("button[data-decision=accepted]")
    assert page.locator("[data-testid=stage]").inner_text() == "SAL"
    history = page.locator("[data-testid=history]").inner_text()
    assert "MQL → SAL" in history and "Lucía Fernández" in history and "person: lucia" not in history
    assert console["store"].get(console["ids"]["ana"])["stage"] == "sal"
    assert page.dialogs == []


def test_an_sdr_cannot_open_admin_pages_nor_decide_on_someone_elses_lead(console, page):
    for path in ("/admin/users", "/admin/dead-letters"):
        answer = page.goto(console["url"] + path)
        assert answer.status == 403
        assert "No tienes permiso" in page.inner_text("main")
    page.goto(console["url"] + f"/leads/{console['ids']['cai']}")
    assert page.locator("button[data-decision=accepted]").count() == 0
    assert "Solo lectura" in page.inner_text("main")


def test_english_on_request(console, page):
    page.click("header button[value=en]")
    assert page.locator("header button", has_text="Sign out").is_visible()
    page.goto(console["url"] + "/leads")
    assert page.locator("th", has_text="Owner").is_visible()
    page.click("header button[value=es]")
    assert page.locator("th", has_text="Responsable").is_visible()
