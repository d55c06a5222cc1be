"""What marketing met in a real browser, in Spanish, in headless Chromium against the console on the
stack's database: the flow editor as one page per section they move between with links (no
script), a wrong number refused with a Spanish sentence next to its field, the overview linking
each problem to its field, "Qué cambia" with the text before and after, the published version's
changes the same way, and the analytics' questions in the order the chat asks them, as a funnel
whose rates never pass 100 %."""

from __future__ import annotations

import copy
import re
import time
import uuid

import pytest

from leadqual.conversation import analytics
from leadqual.conversation.flows import FlowStore

from ..console_support import PASSWORD, add_user, console_process
from .conftest import RASA_TOKEN

pytestmark = pytest.mark.e2e
NEW_TEXT = "¿Con qué presupuesto contáis para este proyecto, más o menos?"
MARTA = "marta.marketing@nubilo.es"


@pytest.fixture(scope="module")
def console(stack, database_url, tmp_path_factory):
    """The console on the stack's database with a marketer; the flow is restored afterwards
    (the other browser tests share the database)."""
    from leadqual.leads.store import LeadStore

    store = LeadStore(database_url)
    store.create_schema()
    add_user(store, MARTA, "marketing")
    flows = FlowStore(store.engine, refresh_seconds=0)
    start = flows.current().version
    workdir = tmp_path_factory.mktemp("console-marketing-browser")
    with console_process(database_url, workdir, RASA_URL=stack["rasa"], RASA_AUTH_TOKEN=RASA_TOKEN) as url:
        yield {"url": url, "flows": flows, "start": start, "store": store}
    if flows.current().version != start:
        flows.restore(start, by="tests/browser/test_marketing.py")
        time.sleep(2.5)  # LEADQUAL_FLOW_REFRESH_SECONDS: the action server reads it again
    store.engine.dispose()


def sign_in(page, console) -> None:
    page.goto(console["url"] + "/flow")
    page.fill("input[name=email]", MARTA)
    page.fill("input[name=password]", PASSWORD)
    page.click("button.primary")
    assert page.url == console["url"] + "/flow"


def height(page) -> int:
    return page.evaluate("document.documentElement.scrollHeight")


def test_marketing_edits_the_flow_section_by_section_and_reads_what_changed(console, new_page, shot):
    old_text = console["flows"].current().messages.questions["budget"].ask.es
    page = new_page(viewport=(1280, 900), locale="es-ES")
    sign_in(page, console)

    # A new draft opens on its first section; every section is a link away.
    page.click("button[data-action=new-draft]")
    assert re.search(r"/flow/drafts/\d+/questions$", page.url)
    draft_url = page.url.rsplit("/", 1)[0]
    nav = page.locator("nav.sections")
    assert nav.locator("a.active").inner_text().startswith("1. Preguntas y textos")
    labels = [a.strip() for a in nav.locator("a").all_inner_texts()]
    assert labels[:4] == ["Resumen", "1. Preguntas y textos", "2. Presupuesto", "3. Autoridad"]
    assert "6. Puntos y etapas" in labels and "7. Reparto a comerciales" in labels and "9. Respuestas" in labels
    shot(page, "questions-section")

    # Points and stages: a page of its own, a fraction of the old 6,000-px form.
    nav.get_by_role("link", name="6. Puntos y etapas").click()
    assert page.url == draft_url + "/scoring"
    assert height(page) < 2500
    page.fill('input[name="f.qualification.stages.sql.min_score"]', "ochenta")
    page.locator("button[data-action=save]").click()
    page.locator("[data-testid=saved]").wait_for()
    assert page.url == draft_url + "/scoring?saved=1"
    field = page.locator('[id="field-qualification.stages.sql.min_score"]')
    assert "invalid" in (field.get_attribute("class") or "")
    assert field.locator(".field-problem").inner_text() == (
        "Tiene que ser un número entero, sin decimales ni letras; pone «ochenta»."
    )
    assert page.locator('input[name="f.qualification.stages.sql.min_score"]').input_value() == "ochenta"
    assert "Input should" not in page.inner_text("main")
    assert page.locator("button[data-action=publish]").is_disabled()
    shot(page, "scoring-field-problem")

    # The overview counts it under its section and links the problem to its field.
    page.locator("nav.sections").get_by_role("link", name="Resumen").click()
    assert page.locator('li[data-section="scoring"] .count-problems').inner_text() == "1 por corregir"
    problem = page.locator('[data-testid=problems] li[data-field="qualification.stages.sql.min_score"]')
    assert problem.inner_text().startswith(
        "Umbrales de etapa › SQL › Puntuación mínima: Tiene que ser un número entero"
    )
    shot(page, "overview-problem")
    problem.locator("a").click()
    assert page.url == draft_url + "/scoring#field-qualification.stages.sql.min_score"
    page.fill('input[name="f.qualification.stages.sql.min_score"]', "85")
    page.locator("button[data-action=save]").click()
    page.locator("[data-testid=saved]").wait_for()
    assert page.locator("[data-testid=problems]").count() == 0

    # The budget question's text, then "Qué cambia": each field with before and after.
    page.locator("nav.sections").get_by_role("link", name="1. Preguntas y textos").click()
    page.locator("a[href='#q-budget']").click()
    page.fill('textarea[name="f.messages.questions.budget.ask.es"]', NEW_TEXT)
    page.locator("button[data-action=save]").click()
    page.locator("[data-testid=saved]").wait_for()
    page.locator("nav.sections").get_by_role("link", name="Resumen").click()
    changes = page.locator("[data-testid=draft-changes]")
    text_row = changes.locator('tr[data-path="messages.questions.budget.ask.es"]')
    assert text_row.locator("td.before").inner_text() == old_text
    assert text_row.locator("td.after").inner_text() == NEW_TEXT
    assert "Presupuesto › Pregunta (ES)" in text_row.inner_text()
    score_row = changes.locator('tr[data-path="qualification.stages.sql.min_score"]')
    assert (score_row.locator("td.before").inner_text(), score_row.locator("td.after").inner_text()) == ("80", "85")
    shot(page, "overview-what-changes")

    # Published: the version's "Qué cambió" reads the same way.
    page.fill("input[name=note]", "texto del presupuesto y SQL a 85")
    page.click("button[data-action=publish]")
    page.locator("[data-testid=published]").wait_for()
    version = console["flows"].current().version
    row = page.locator(f"tr[data-version='{version}']")
    row.locator("summary").click()
    published = row.locator('tr[data-path="messages.questions.budget.ask.es"]')
    assert published.locator("del").inner_text() == old_text and published.locator("ins").inner_text() == NEW_TEXT
    shot(page, "version-what-changed")


def test_analytics_lists_the_questions_in_flow_order_as_a_funnel(console, new_page, shot):
    engine = console["store"].engine
    # A version of its own, so no chat of another browser test is in these figures.
    flows = console["flows"]
    qualification, messages = flows.content(flows.current().version)
    messages = copy.deepcopy(messages)
    messages["questions"]["name"]["ask"]["es"] = "¿Cómo te llamas? (analítica)"
    qualification = {k: v for k, v in qualification.items() if k != "version"}
    flow = flows.publish(qualification, messages, by=MARTA, note="tests/browser/test_marketing.py")
    run = uuid.uuid4().hex[:8]

    def happen(conversation, question, *kinds):
        for kind in kinds:
            analytics.record(engine, f"{run}-{conversation}", flow.version, "es", question, kind)

    # Ten visitors: all asked the need; four said the timing with it (never asked), one corrected it.
    for n in range(10):
        happen(n, "need", "asked", "answered")
    for n in range(4):
        happen(n, "timing", "answered")
    for n in range(4, 9):
        happen(n, "timing", "asked", "answered")
    happen(4, "timing", "answered")  # a correction
    happen(9, "timing", "asked", "reasked", "skipped")
    for n in range(6):
        happen(n, "budget", "asked", "answered" if n < 5 else "skipped")
    page = new_page(viewport=(1400, 900), locale="es-ES")
    sign_in(page, console)
    page.goto(console["url"] + f"/analytics?version={flow.version}&language=es")
    rows = page.locator(f"[data-testid=question-figures] tbody tr[data-version='{flow.version}']")
    order = [rows.nth(i).get_attribute("data-question") for i in range(rows.count())]
    assert order[:3] == ["need", "timing", "budget"]
    assert order == [q for q in flow.config.questions if q in order]
    timing = page.locator(f"tr[data-question=timing][data-version='{flow.version}']")
    assert timing.locator("[data-kind=reached]").inner_text().startswith("10")
    assert timing.locator("[data-kind=volunteered]").inner_text() == "4"
    assert timing.locator("[data-rate=answer]").inner_text() == "90.0 %"  # 9 of 10; kind by kind: 9 of 6 asks
    rates = [
        float(r.split()[0])
        for r in page.locator("[data-testid=question-figures] [data-rate]").all_inner_texts()
        if r != "–"
    ]
    assert rates and max(rates) <= 100
    assert "nunca pasan del 100 %" in page.locator("[data-testid=question-explainer]").inner_text()
    page.locator("#questions").scroll_into_view_if_needed()
    shot(page, "analytics-funnel")
