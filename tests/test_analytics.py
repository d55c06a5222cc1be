"""Per-question figures, the funnel over time and score calibration; SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from leadqual.conversation import analytics
from leadqual.scoring.stages import Actor

T0 = datetime(2026, 11, 2, 10, 0, tzinfo=timezone.utc)  # a Monday
MINUTE = timedelta(minutes=1)
HOT = {
    "need": {"value": "crm"},
    "timing": {"months": 0},
    "budget": {"min": 10000, "currency": "EUR", "period": "year"},
    "authority": {"level": "decision_maker"},
}
COLD = {"need": {"value": "crm"}, "timing": {"no_rush": True}, "budget": {"none": True}, "authority": {"level": "none"}}


@pytest.fixture
def engine(store):
    store.create_schema()
    return store.engine


def test_per_question_figures_by_version_and_language(engine):
    def happen(conversation, *kinds, question="budget", version=1, lang="es", start=T0):
        for i, kind in enumerate(kinds):
            analytics.record(engine, conversation, version, lang, question, kind, at=start + i * MINUTE)

    happen("c1", "asked", "answered")
    happen("c2", "asked", "reasked", "explained")  # then the visitor left
    happen("c3", "asked", "skipped")
    happen("c4", "asked", "reasked", "reasked", "gave_up")
    happen("c5", "asked", "stopped")
    happen("c6", "asked", "answered", lang="en")
    happen("c7", "asked", version=2, start=T0 + timedelta(hours=2))  # asked just now: not abandoned yet
    figures = {
        (f["flow_version"], f["language"], f["question"]): f
        for f in analytics.question_figures(engine, now=T0 + timedelta(hours=2, minutes=10))
    }
    budget = figures[(1, "es", "budget")]
    assert {k: budget[k] for k in (*analytics.KINDS, "abandoned")} == {
        "asked": 5,
        "answered": 1,
        "reasked": 2,
        "explained": 1,
        "skipped": 1,
        "gave_up": 1,
        "stopped": 1,
        "abandoned": 1,
    }
    assert (budget["answer_rate"], budget["abandon_rate"]) == (0.2, 0.2)
    assert figures[(1, "en", "budget")]["answered"] == 1
    assert figures[(2, "es", "budget")]["abandoned"] == 0


def test_unknown_kinds_are_refused(engine):
    with pytest.raises(ValueError):
        analytics.record(engine, "c1", 1, "es", "budget", "liked")


def test_the_funnel_counts_visitors_leads_and_first_arrivals_per_week(store, engine):
    events = [
        {
            "message_id": f"p{i}",
            "type": "page",
            "name": "page",
            "url": "https://nubilo.example/",
            "anonymous_id": f"browser-{i:04d}",
            "user_id": None,
            "properties": {},
            "timestamp": T0,
            "received_at": T0,
            "source": "browser",
        }
        for i in range(20)
    ]
    store.ingest_events(events, now=T0)
    hot = store.save_conversation("chat-hot", {**HOT, "email": {"address": "a@x.example"}}, "es", "browser-0001", T0)
    store.save_conversation("chat-cold", {**COLD, "email": {"address": "b@x.example"}}, "es", "browser-0002", T0)
    store.save_conversation("chat-new", {"need": {"value": "crm"}}, "es", None, T0 + timedelta(days=7))
    store.move_stage(hot["id"], "opportunity", Actor.person("ana"), "deal_created", now=T0 + timedelta(days=8))
    result = analytics.funnel(engine)
    weeks = {w["week"]: w for w in result["weeks"]}
    assert weeks["2026-11-02"]["visitors"] == 20 and weeks["2026-11-02"]["leads"] == 2
    assert weeks["2026-11-09"]["visitors"] == 1  # a chat with no tracked browser is a visitor too
    assert weeks["2026-11-09"]["opportunity"] == 1
    assert result["totals"] == {"visitors": 21, "leads": 3, "mql": 1, "sal": 1, "sql": 1, "opportunity": 1}
    assert result["rates"]["visitor_to_mql"] == round(1 / 21, 3)
    assert result["benchmark"] == {"visitor_to_mql": 0.05, "mql_to_sal": 0.6, "sal_to_sql": 0.5}


def test_calibration_shows_which_bands_grades_and_rules_convert(store, engine):
    def lead(n: int, answers: dict, outcome: str | None) -> None:
        saved = store.save_conversation(
            f"chat-{n}", {**answers, "email": {"address": f"l{n}@x.example"}}, "es", None, T0
        )
        if outcome == "won":
            store.move_stage(saved["id"], "opportunity", Actor.person("ana"), "deal_created", now=T0 + MINUTE)
        elif outcome == "lost":
            store.move_stage(saved["id"], "disqualified", Actor.person("ana"), "no_budget", now=T0 + MINUTE)

    lead(1, HOT, "won")
    lead(2, HOT, "won")
    lead(3, HOT, "lost")
    lead(4, COLD, "lost")
    lead(5, COLD, None)  # outcome unknown: not counted
    result = analytics.calibration(engine)
    assert result["leads"] == 4 and result["won"] == 2

    def band(email: str) -> str:
        total = store.get_by_email(email)["scores"]["total"]
        return analytics._band_name(max(b for b in analytics.SCORE_BANDS if total >= b))

    assert band("l1@x.example") != band("l4@x.example")
    assert result["bands"][band("l1@x.example")] == {"won": 2, "lost": 1, "leads": 3, "rate": 0.667}
    assert result["bands"][band("l4@x.example")] == {"won": 0, "lost": 1, "leads": 1, "rate": 0.0}
    budget_rule = next(r for r in result["rules"] if r.startswith("budget.") and result["rules"][r]["with"]["won"])
    assert result["rules"][budget_rule]["with"]["rate"] == 0.667
    assert result["rules"][budget_rule]["without"]["rate"] == 0.0


def test_an_answer_given_before_its_question_or_twice_never_makes_a_rate_pass_100_percent(engine):
    """What marketing met: "Plazo: 101.9 % contesta". A visitor who says "somos 40 y lo
    queremos este trimestre" while asked the need answers the timing before it is asked; a
    visitor who corrects an answer answers twice; one who switches to English mid-chat had the
    ask counted in Spanish and the answer in English. Each is one conversation that reached the
    question and answered it."""

    def happen(conversation, question, *kinds, lang="es", start=T0):
        for i, kind in enumerate(kinds):
            analytics.record(engine, conversation, 1, lang, question, kind, at=start + i * MINUTE)

    happen("asked-and-answered", "need", "asked", "answered")
    happen("asked-and-answered", "timing", "asked", "answered", start=T0 + 5 * MINUTE)
    for conversation in ("volunteered", "volunteered-2", "volunteered-3"):
        happen(conversation, "need", "asked", "answered")
        happen(conversation, "timing", "answered")  # given with the need, never asked
    happen("corrected", "need", "asked", "answered")
    happen("corrected", "timing", "asked", "answered", "answered", start=T0 + 5 * MINUTE)
    happen("switched", "need", "asked", "answered")
    happen("switched", "timing", "asked", start=T0 + 5 * MINUTE)
    happen("switched", "timing", "answered", lang="en", start=T0 + 6 * MINUTE)
    happen("left", "need", "asked", "answered")
    happen("left", "timing", "asked", start=T0 + 5 * MINUTE)  # and never came back
    figures = analytics.question_figures(engine, now=T0 + timedelta(hours=3))
    by = {(f["language"], f["question"]): f for f in figures}
    assert set(by) == {("es", "need"), ("es", "timing")}  # "switched" counts once, where it started
    timing = by[("es", "timing")]
    # Counted kind by kind, as before, 5 answered of 4 asked made 125 %.
    assert (timing["reached"], timing["asked"], timing["answered"], timing["volunteered"]) == (7, 4, 6, 3)
    assert timing["abandoned"] == 1
    assert (timing["answer_rate"], timing["abandon_rate"], timing["reach_rate"]) == (0.857, 0.143, 1.0)
    assert by[("es", "need")]["answer_rate"] == 1.0 and by[("es", "need")]["conversations"] == 7
    assert all(0 <= f[rate] <= 1 for f in figures for rate in ("answer_rate", "abandon_rate", "reach_rate"))


def test_questions_are_listed_in_the_order_the_flow_asks_them(engine):
    """Extra questions come right after their anchor, one anchored on another after that one."""
    extras = [("extra_1", "team_size", "need"), ("extra_2", "tool", "team_size"), ("extra_3", "why_now", "budget")]
    order = analytics.flow_order(["timing", "need", "budget", "authority", "email"], extras)
    assert order == ["timing", "need", "extra_1", "extra_2", "budget", "extra_3", "authority", "email"]
