"""An SDR's morning in Debian's headless Chromium, in Spanish: she lands on her inbox (what waits
for her first, not the inflated high score), opens the sales-ready lead the chat already made SQL,
reads why it scored in sentences, accepts it (it stays SQL and becomes hers), and, from a tab left
open, is told in Spanish why accepting again does nothing, with her note still there. Needs no
model or Rasa: the console and a seeded SQLite file. Screenshots: tests/artifacts/screenshots."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from leadqual.console.auth import User
from leadqual.db.tables import Lead
from leadqual.leads.store import LeadStore

from ..console_support import PASSWORD, T0, add_user, console_process, seed_lead
from .conftest import CHROMIUM, SHOTS, console_context

LAST_VISIT = T0 + timedelta(days=10)


@pytest.fixture(scope="module")
def console(tmp_path_factory, config):
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"no Chromium at {CHROMIUM}: apt-get install chromium (bin/test does it when run as root)")
    pytest.importorskip("playwright.sync_api", reason="playwright (requirements/app.lock) is not installed")
    workdir = tmp_path_factory.mktemp("console-sdr-browser")
    database_url = f"sqlite:///{workdir / 'leads.db'}"
    store = LeadStore(database_url, config=config)
    store.create_schema()
    add_user(store, "lucia@nubilo.es", "sdr", sdr_id="lucia")
    ids = {
        "inflated": seed_lead(store, "bots@spam.example", company="Spam Inc", owner="lucia"),
        "new": seed_lead(store, "marta@nuevaco.es", company="NuevaCo", owner="lucia"),
        "ready": seed_lead(store, "sara@acme.es", company="Acme Ibérica", owner=None, owner_queue="sales-inbox"),
    }
    with store.sessions.begin() as session:
        shapes = {  # total, fit, grade, stage, sales-ready, created
            "inflated": (120, 5, "D1", "mql", False, T0),
            "new": (91, 70, "A2", "mql", False, LAST_VISIT + timedelta(hours=2)),
        }
        for key, (total, fit, grade, stage, ready, created) in shapes.items():
            row = session.get(Lead, ids[key])
            row.total_score, row.fit_score, row.behaviour_score, row.grade = total, fit, total - fit, grade
            row.stage, row.sales_ready, row.created_at, row.assigned_at = stage, ready, created, created
        session.get(Lead, ids["ready"]).created_at = T0
        for n in range(55):  # a page and more of lucia's older leads scoring above the new one
            email = f"antiguo{n:02d}@acme.es"
            session.add(
                Lead(
                    email=email,
                    email_key=email,
                    name=f"Antiguo {n:02d}",
                    company="Acme",
                    owner="lucia",
                    stage="mql",
                    total_score=100,
                    fit_score=40,
                    behaviour_score=60,
                    grade="C1",
                    created_at=T0,
                    assigned_at=T0,
                )
            )
        for user in session.scalars(select(User)):
            user.last_seen_at = user.last_login_at = LAST_VISIT
    assert store.get(ids["ready"])["stage"] == "sql"  # the chat qualified it: stages.sql.automatic
    with console_process(database_url, workdir) as url:
        yield {"url": url, "ids": ids, "store": store}
    store.engine.dispose()


@pytest.fixture(scope="module")
def browser(console):
    with console_context() as context:
        yield context


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"console-sdr-{name}.png"), full_page=True)


def test_an_sdr_lands_on_her_inbox_accepts_a_sales_ready_lead_and_a_stale_tab_says_why(console, browser):
    url, ids, store = console["url"], console["ids"], console["store"]
    page = browser.new_page()
    page.set_default_timeout(15_000)
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(url + "/login")
    page.fill("input[name=email]", "lucia@nubilo.es")
    page.fill("input[name=password]", PASSWORD)
    page.click("button.primary")

    # She lands on her inbox: the sales-ready lead nobody accepted and her new lead first.
    assert page.url == url + "/leads"
    assert page.locator("[data-testid=views] a.active").inner_text() == "Bandeja de entrada"
    rows = page.locator("[data-testid=leads] tbody tr")
    first_two = [rows.nth(i).get_attribute("data-lead") for i in range(2)]
    assert first_two == [ids["new"], ids["ready"]]  # both wait for her: by grade, A2 before A3
    assert "Nuevo" in rows.nth(0).inner_text() and "sin aceptar" in rows.nth(1).inner_text()
    assert page.locator(f"tr[data-lead='{ids['inflated']}']").count() == 0  # not on page 1
    shot(page, "01-inbox")

    # "Mine": her own leads, the new 91-point one on top (by score it was not even on page 1).
    page.click("[data-testid=views] a[data-view=mine]")
    assert rows.first.get_attribute("data-lead") == ids["new"]
    page.click("[data-testid=views] a[data-view=score]")
    assert rows.first.get_attribute("data-lead") == ids["inflated"]
    page.click("[data-testid=views] a[data-view=inbox]")

    # The sales-ready lead: the score in Spanish sentences, the rule ids beside them, small.
    page.click(f"tr[data-lead='{ids['ready']}'] a")
    assert page.locator("[data-testid=stage]").inner_text() == "SQL"
    why = page.locator("[data-testid=why]")
    budget = why.locator("tr[data-rule='budget.points.qualifies']")
    assert budget.locator(".sentence").inner_text() == (
        "Presupuesto de 20.000 EUR al año: llega al mínimo de 3.000 EUR al año."
    )
    assert budget.locator("code.rule-id").inner_text() == "budget.points.qualifies"
    assert why.locator("tr[data-rule='authority.points.decision_maker'] .sentence").inner_text() == "Decide la compra."
    main = page.inner_text("main")
    assert "level: decision_maker" not in main and "threshold" not in main
    accept = page.locator("button[data-decision=accepted]")
    assert accept.inner_text() == "Aceptar (sigue en SQL)"
    assert page.locator("button[data-decision=qualified]").count() == 0
    # Who moved it and how it got its owner read as words, not as developer ids.
    history = page.locator("[data-testid=history]").inner_text()
    assert "bot: chat" not in history and "el asistente" in history
    assert "asignado por handoff." not in page.inner_text("main")
    shot(page, "02-lead-why")
    # At 1440 px wide the lead page does not scroll sideways.
    page.set_viewport_size({"width": 1440, "height": 900})
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    page.set_viewport_size({"width": 1400, "height": 1000})

    # A second tab, left open on the same lead.
    stale = browser.new_page()
    stale.goto(page.url)

    page.locator("form:has(button[data-decision=accepted]) input[name=note]").fill("Demo el jueves a las 10")
    accept.click()
    assert page.locator("p.notice").inner_text() == "Hecho: Aceptar (sigue en SQL)."
    assert page.locator("[data-testid=stage]").inner_text() == "SQL"
    assert page.locator("[data-testid=owner]").inner_text() == "Lucía Fernández"
    history = page.locator("[data-testid=history]").inner_text()
    assert "Aceptado por ventas (sigue en SQL)" in history and "Demo el jueves a las 10" in history
    assert "Pasa a ser suyo: sales-inbox → Lucía Fernández" in history
    assert page.locator("button[data-decision=accepted]").count() == 0
    shot(page, "03-accepted")
    lead = store.get(ids["ready"])
    assert (lead["stage"], lead["owner"]["sdr"]) == ("sql", "lucia")

    # The stale tab still offers it: she types a note and clicks. Refused in Spanish, note kept.
    stale.locator("form:has(button[data-decision=accepted]) input[name=note]").fill("Enviar precios <por email>")
    stale.click("button[data-decision=accepted]")
    assert stale.locator("p.error").inner_text() == (
        "Este lead ya estaba aceptado: no se ha cambiado nada."
        " Tu nota no se ha perdido: está en «Notas», para guardarla desde ahí."
    )
    assert stale.locator("textarea[name=note]").input_value() == "Enviar precios <por email>"
    shot(stale, "04-refused-note-kept")
    stale.click("button[data-decision=noted]")  # she saves it as a note instead
    assert "Enviar precios <por email>" in stale.locator("[data-testid=note]").last.inner_text()
    assert dialogs == []
