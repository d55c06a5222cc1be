"""The score explained in sentences (leadqual/console/explain.py), in Spanish and English: every
kind of line the scoring writes (BANT answers, extra questions, the profile, behaviour events with
caps and decay), the stage machine's notes and the thresholds. The lines come from the real
scoring code and config, so a change in how a reason is written shows here. Then the lead page:
sentences first, the rule id beside them in a <code>, visitor text escaped."""

from __future__ import annotations

import html
import re
from contextlib import ExitStack
from datetime import timedelta

import pytest
from sqlalchemy import select

from leadqual.config.marketing import ExtraOption, ExtraQuestion, Label
from leadqual.console.auth import User
from leadqual.console.explain import Explainer
from leadqual.db.tables import Lead
from leadqual.scoring.behaviour import Event
from leadqual.scoring.fit import score_lead
from leadqual.scoring.stages import Actor, advance, stage_from_score

from .console_support import T0, Browser, add_user, console_database, console_process, seed_lead

NOW = T0 + timedelta(days=1)
# What a developer reads, never an SDR: rule ids, comparison signs, the scoring's English words.
DEVELOPER_WORDS = re.compile(r"points\.|explicit\.|>=|<=| < |level:|threshold \d|window [a-z_]+,|capped \(|decayed to")


def lines_for(config, answers: dict, profile: dict | None = None, events: list | None = None) -> dict:
    """The score lines of a lead, by rule (a list when a rule gives several)."""
    score = score_lead(answers, profile or {}, events or [], config, NOW)
    found: dict[str, list[dict]] = {}
    for line in score.lines:
        found.setdefault(line["rule"], []).append(line)
    return found


def both(config, line) -> tuple[str, str]:
    return Explainer("es", config).line(line), Explainer("en", config).line(line)


def page(name: str, url: str, hours: float = 0, mid: str | None = None) -> Event:
    return Event(name, NOW - timedelta(hours=hours), url=url, message_id=mid or f"{name}-{url}-{hours}")


def event(name: str, hours: float = 0, mid: str | None = None) -> Event:
    return Event(name, NOW - timedelta(hours=hours), message_id=mid or f"{name}-{hours}")


@pytest.mark.parametrize(
    ("budget", "es", "en"),
    [
        (
            {"min": 20000, "max": 20000, "currency": "EUR", "period": "year"},
            "Presupuesto de 20.000 EUR al año: llega al mínimo de 3.000 EUR al año.",
            "Budget of 20,000 EUR a year: reaches the minimum of 3,000 EUR a year.",
        ),
        (
            {"min": 200, "max": 200, "currency": "USD", "period": "month"},
            "Presupuesto de 200 USD al mes (= 2.222 EUR al año): por debajo del mínimo de 3.000 EUR al año.",
            "Budget of 200 USD a month (= 2,222 EUR a year): below the minimum of 3,000 EUR a year.",
        ),
        (
            {"min": 10000, "currency": "EUR"},
            "Presupuesto desde 10.000 EUR, sin tope: llega al mínimo.",
            "Budget from 10,000 EUR with no upper limit: reaches the minimum.",
        ),
        ({"none": True}, "No tiene presupuesto.", "Has no budget."),
        ({"unknown": True}, "No sabemos su presupuesto.", "Their budget is not known."),
        (
            {"max": 5000, "currency": "XYZ"},
            "Dio el presupuesto en XYZ, una moneda que no sabemos convertir.",
            "Gave the budget in XYZ, a currency we cannot convert.",
        ),
    ],
)
def test_budget_lines(config, budget, es, en):
    [line] = [lines for rule, lines in lines_for(config, {"budget": budget}).items() if rule.startswith("budget.")][0]
    assert both(config, line) == (es, en)


@pytest.mark.parametrize(
    ("answers", "rule", "es", "en"),
    [
        (
            {"authority": {"level": "decision_maker"}},
            "authority.points.decision_maker",
            "Decide la compra.",
            "Makes the buying decision.",
        ),
        (
            {"authority": {"level": "influencer"}},
            "authority.points.influencer",
            "Decide la compra con otros.",
            "Decides the purchase with others.",
        ),
        (
            {"authority": {"level": "user"}},
            "authority.points.user",
            "La compra la decide otra persona.",
            "Someone else makes the buying decision.",
        ),
        ({}, "authority", "No sabemos si decide la compra.", "We do not know whether they decide the purchase."),
        (
            {"need": {"value": "crm"}},
            "need.points.match",
            "Necesita «Gestionar clientes y ventas», algo que cubrimos.",
            "Needs “Manage customers and sales”, which we cover.",
        ),
        (
            {"need": {"value": "cooking"}},
            "need.points.none",
            "No tiene una necesidad que cubramos.",
            "Has no need we cover.",
        ),
        (
            {"timing": {"months": 2}},
            "timing.windows.quarter",
            "Quiere empezar en 2 meses (plazo de hasta 3 meses).",
            "Wants to start within 2 months (window of up to 3 months).",
        ),
        (
            {"timing": {"months": 0}},
            "timing.windows.now",
            "Quiere empezar cuanto antes (plazo de hasta 1 mes).",
            "Wants to start as soon as possible (window of up to 1 month).",
        ),
        (
            {"timing": {"months": 1.5}},
            "timing.windows.quarter",
            "Quiere empezar en 1,5 meses (plazo de hasta 3 meses).",
            "Wants to start within 1.5 months (window of up to 3 months).",
        ),
        (
            {"timing": {"months": 18}},
            "timing.later_points",
            "Quiere empezar en 18 meses: más tarde que cualquier plazo.",
            "Wants to start in 18 months: later than every window.",
        ),
        (
            {"timing": {"no_rush": True}},
            "timing.later_points",
            "Sin fecha: solo está mirando.",
            "No date: just looking.",
        ),
        ({}, "timing.unknown_points", "No sabemos cuándo quiere empezar.", "We do not know when they want to start."),
    ],
)
def test_authority_need_and_timing_lines(config, answers, rule, es, en):
    [line] = lines_for(config, answers)[rule]
    assert both(config, line) == (es, en)


def test_extra_question_lines_use_marketings_own_words(config):
    label = Label(es="x", en="x")
    users = ExtraQuestion(
        id="users",
        after="need",
        ask=Label(es="¿Cuántas personas lo usaríais?", en="How many people would use it?"),
        why=label,
        reask=label,
        options=[
            ExtraOption(id="over_50", label=Label(es="Más de 50", en="Over 50"), points=10),
            ExtraOption(id="few", label=Label(es="Menos de 10", en="Under 10"), points=0),
        ],
    )
    tools = ExtraQuestion(
        id="tools",
        after="users",
        kind="text",
        ask=Label(es="¿Qué herramienta usáis hoy?", en="Which tool do you use today?"),
        why=label,
        reask=label,
        points_if_answered=3,
    )
    config = config.model_copy(update={"extra_questions": [users, tools]})
    found = lines_for(config, {"extra:users": {"option": "over_50"}, "extra:tools": {"value": "Excel"}})
    assert both(config, found["extra_questions.users.options.over_50"][0]) == (
        "Pregunta extra «¿Cuántas personas lo usaríais?»: contestó «Más de 50».",
        "Extra question “How many people would use it?”: answered “Over 50”.",
    )
    assert both(config, found["extra_questions.tools.points_if_answered"][0]) == (
        "Contestó la pregunta extra «¿Qué herramienta usáis hoy?».",
        "Answered the extra question “Which tool do you use today?”.",
    )


def test_profile_lines(config):
    found = lines_for(config, {}, {"country": "ES", "company_size": 1200, "job_title": "Directora de Ventas"})
    assert both(config, found["behaviour.explicit.territory"][0]) == (
        "País ES: dentro de nuestro territorio.",
        "Country ES: in our territory.",
    )
    assert both(config, found["behaviour.explicit.company_size.large"][0]) == (
        "Empresa de 1.200 empleados: tamaño «grande».",
        "A company of 1,200 employees: size “large”.",
    )
    assert both(config, found["behaviour.explicit.personas"][0]) == (
        "Su cargo «Directora de Ventas» encaja con el perfil «ventas».",
        "Their job title “Directora de Ventas” matches the persona “ventas”.",
    )
    far = lines_for(config, {}, {"country": "JP", "company_size": 30})
    assert both(config, far["behaviour.explicit.far_away"][0]) == (
        "País JP: lejos de nuestro territorio.",
        "Country JP: far from our territory.",
    )
    assert Explainer("es", config).line(far["behaviour.explicit.company_size.small"][0]) == (
        "Empresa de 30 empleados: tamaño «pequeña»."
    )


def test_behaviour_lines_with_caps_and_decay(config):
    events = [page("page", "https://nubilo.es/pricing", hours=h) for h in (4, 3, 2, 1)]
    events += [
        page("page", "https://nubilo.es/lp/crm"),
        page("page", "https://nubilo.es/blog/novedades"),
        event("demo_request", hours=24 * 30),  # a month ago: half its points are left
        event("webinar_attended"),
        event("email_reply"),
        event("unsubscribed"),
        event("meeting_no_show"),
    ]
    found = lines_for(config, {}, events=events)
    pricing = found["behaviour.rules.pricing_page"]
    assert both(config, pricing[0]) == (
        "Vio la página de precios (https://nubilo.es/pricing).",
        "Viewed the pricing page (https://nubilo.es/pricing).",
    )
    assert both(config, pricing[3]) == (
        "Vio la página de precios (https://nubilo.es/pricing). No suma: ya contaban 3 como este en 7 días"
        " (habría sumado +10).",
        "Viewed the pricing page (https://nubilo.es/pricing). Adds nothing: 3 like it already counted in 7 days"
        " (it would have added +10).",
    )
    expected = {
        "landing_page": ("Visitó una landing page (https://nubilo.es/lp/crm).", "Visited a landing page"),
        "page_view": ("Vio una página de la web (https://nubilo.es/blog/novedades).", "Viewed a page of the site"),
        "demo_request": ("Pidió una demo. Sumó +15; con el paso del tiempo ahora vale +7,5.", "Asked for a demo. It"),
        "webinar_attended": ("Asistió a un webinar.", "Attended a webinar."),
        "email_reply": ("Respondió a un email.", "Replied to an email."),
        "unsubscribed": ("Se dio de baja de los emails.", "Unsubscribed from emails."),
        "meeting_no_show": ("No se presentó a una reunión.", "Did not show up for a meeting."),
    }
    for rule, (es, en) in expected.items():
        spanish, english = both(config, found[f"behaviour.rules.{rule}"][0])
        assert spanish == es and english.startswith(en), rule
    assert both(config, found["behaviour.rules.demo_request"][0])[1] == (
        "Asked for a demo. It added +15; with time it is now worth +7.5."
    )


def test_the_window_cap_is_said_too(config):
    events = [page("page", "https://nubilo.es/precios", hours=h) for h in (5, 4, 3)]  # 30 points
    events += [event("demo_request", hours=2), event("webinar_attended", hours=1)]  # 15 and 5 more
    found = lines_for(config, {}, events=events)
    assert both(config, found["behaviour.rules.demo_request"][0]) == (
        "Pidió una demo. Suma solo +10 por el tope de 40 puntos cada 7 días (habría sumado +15).",
        "Asked for a demo. Adds only +10 because of the cap of 40 points per 7 days (it would have added +15).",
    )
    assert both(config, found["behaviour.rules.webinar_attended"][0]) == (
        "Asistió a un webinar. No suma: ya se llegó al tope de 40 puntos cada 7 días (habría sumado +5).",
        "Attended a webinar. Adds nothing: the cap of 40 points per 7 days was reached (it would have added +5).",
    )


def test_no_line_reads_like_developer_speech(config):
    answers = {
        "budget": {"min": 20000, "max": 20000, "currency": "EUR", "period": "year"},
        "authority": {"level": "decision_maker"},
        "need": {"value": "reporting"},
        "timing": {"months": 6},
    }
    events = [page("page", "https://nubilo.es/pricing", hours=h) for h in range(1, 6)]
    events += [event(name) for name in ("demo_request", "cta_click", "form_submitted", "call_completed")]
    events += [event("newsletter_signup", hours=24 * 60), event("some_new_event")]
    found = lines_for(config, answers, {"country": "MX", "company_size": 5, "job_title": "CEO"}, events)
    for lang in ("es", "en"):
        explain = Explainer(lang, config)
        for rule, lines in found.items():
            for line in lines:
                sentence = explain.line(line)
                assert sentence and not DEVELOPER_WORDS.search(sentence), (lang, rule, sentence)
                assert rule not in sentence and sentence[-1] == ".", (lang, rule, sentence)


def test_stage_notes_and_thresholds(config):
    everything = {"budget": True, "authority": True, "need": True, "timing": True}
    to_sql = stage_from_score(107, everything, config.stages, "lead", at=NOW)
    assert to_sql.note == "score 107 >= sql threshold 80; budget, authority, need qualified"
    assert Explainer("es", config).stage_note(to_sql.note) == (
        "La puntuación 107 llega al umbral de SQL (80). Cumplen: presupuesto, autoridad y necesidad."
    )
    assert Explainer("en", config).stage_note(to_sql.note) == (
        "The score 107 reaches the SQL threshold (80). Qualified: budget, authority and need."
    )
    no_budget = {**everything, "budget": False}
    dropped = stage_from_score(50, no_budget, config.stages, "sql", at=NOW)
    assert Explainer("es", config).stage_note(dropped.note) == (
        "La puntuación 50 no llega al umbral de SQL (80). No cumplen: presupuesto."
    )
    manual = config.model_copy(
        update={
            "stages": config.stages.model_copy(
                update={"sql": config.stages.sql.model_copy(update={"automatic": False})}
            )
        }
    )
    ready = stage_from_score(95, everything, manual.stages, "lead", at=NOW)
    assert Explainer("en", config).stage_note(ready.note) == (
        "The score 95 reaches the MQL threshold (60). Sales-ready: waiting for an SDR to accept it."
    )
    cold = advance(
        "mql", "lead", Actor.rule("went_cold"), "went_cold", NOW, "no activity since 2026-03-01 (more than 90 days)"
    )
    assert Explainer("es", config).stage_note(cold.note) == "Sin actividad desde el 2026-03-01 (más de 90 días)."
    assert Explainer("es", config).stage_note("Llamada hecha: 3 >= 2") == "Llamada hecha: 3 >= 2"  # a person's note
    assert Explainer("es", config).stage_standing(70, {"budget": True, "authority": False, "need": True}) == [
        "La puntuación 70 llega al umbral de MQL (60).",
        "La puntuación 70 no llega al umbral de SQL (80). No cumplen: autoridad.",
    ]


# -- the lead page ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def console(tmp_path_factory, config):
    workdir = tmp_path_factory.mktemp("console-explain")
    with ExitStack() as stack:
        database_url, store = console_database("sqlite", workdir, stack, config)
        add_user(store, "emma@nubilo.es", "sdr", sdr_id="emma")
        with store.sessions.begin() as session:
            session.scalars(select(User).where(User.email == "emma@nubilo.es")).one().language = "en"
        lead_id = seed_lead(store, "ana@acme.es", owner="lucia")
        with store.sessions.begin() as session:
            session.get(Lead, lead_id).profile = {"country": "ES", "job_title": "<b>CEO</b> & founder"}
        store.rescore_lead(lead_id)
        url = stack.enter_context(console_process(database_url, workdir))
        yield {"url": url, "store": store, "lead_id": lead_id}
        store.engine.dispose()


def why_rows(answer) -> dict[str, str]:
    """The "why this score" table: rule id -> the row's cell with the sentence, as HTML."""
    table = answer.text.split('data-testid="why"')[1].split("</table>")[0]
    return dict(re.findall(r'<tr data-rule="([^"]+)"[^>]*>.*?<td class="num">[^<]*</td>\s*<td>(.*?)</td>', table, re.S))


def signed_in(console, email) -> Browser:
    browser = Browser(console["url"])
    assert browser.sign_in(email).status_code == 302
    return browser


def test_the_lead_page_explains_the_score_in_spanish(console):
    answer = signed_in(console, "lucia@nubilo.es").get(f"/leads/{console['lead_id']}")
    rows = why_rows(answer)
    assert rows["budget.points.qualifies"] == (
        '<span class="sentence">Presupuesto de 20.000 EUR al año: llega al mínimo de 3.000 EUR al año.</span>'
        ' <code class="rule-id" title="Regla">budget.points.qualifies</code>'
    )
    assert rows["authority.points.decision_maker"].startswith('<span class="sentence">Decide la compra.</span>')
    persona = rows["behaviour.explicit.personas"]
    assert "Su cargo «&lt;b&gt;CEO&lt;/b&gt; &amp; founder» encaja con el perfil" in persona  # escaped
    text = html.unescape(re.sub(r"<[^>]+>", " ", answer.text))
    assert "level: decision_maker" not in text and ">= sql threshold" not in text and ">= minimum" not in text
    assert "La puntuación 95 llega al umbral de SQL (80). Cumplen: presupuesto, autoridad y necesidad." in text
    assert "<b>CEO</b>" not in answer.text


def test_the_lead_page_explains_the_score_in_english(console):
    answer = signed_in(console, "emma@nubilo.es").get(f"/leads/{console['lead_id']}")
    rows = why_rows(answer)
    assert rows["budget.points.qualifies"].startswith(
        '<span class="sentence">Budget of 20,000 EUR a year: reaches the minimum of 3,000 EUR a year.</span>'
    )
    assert rows["behaviour.explicit.territory"].startswith('<span class="sentence">Country ES: in our territory.')
    text = html.unescape(re.sub(r"<[^>]+>", " ", answer.text))
    assert "The score 95 reaches the SQL threshold (80). Qualified: budget, authority and need." in text


def test_who_moved_the_lead_and_how_it_got_its_owner_read_as_words(console):
    answer = signed_in(console, "lucia@nubilo.es").get(f"/leads/{console['lead_id']}")
    history = answer.text.split('data-testid="history"')[1].split("</table>")[0]
    words = html.unescape(re.sub(r"<code[^>]*>.*?</code>", " ", history))
    words = re.sub(r"<[^>]+>", " ", words)
    assert "el asistente" in words or "la puntuación" in words or "Lucía Fernández" in words
    assert "bot: " not in words and "person: " not in words and "(qualify)" not in words
