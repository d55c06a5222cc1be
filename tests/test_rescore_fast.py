"""The decay-only way of `rescore_all` gives exactly what scoring every lead in full gives.

Two databases get the same varied leads (caps, negative events, events after the last scoring,
very old events, multiple persona keywords, leads near the stage thresholds, placed by a person
or a rule, going cold, opportunities and disqualified leads, leads scored under another config
version or never scored, breakdowns the decay-only way cannot read). One is re-scored with
`rescore_all` as it runs by default, the other with `full=True` (every lead from its answers,
profile and events), at the same times, through decay, a rerun, a config change and going cold.
After each run every column of every lead (but `updated_at`), every `score_changes` and
`stage_transitions` row and the figures must be the same. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import random
from contextlib import ExitStack
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import insert, select

from bench.rescore import event_row
from leadqual.db.tables import Lead, ScoreChange, StageTransition, TrackedEvent
from leadqual.leads import rescore
from leadqual.leads.rescore import rescore_all
from leadqual.leads.store import LeadStore
from leadqual.scoring import fit as scoring
from leadqual.scoring.behaviour import Event
from leadqual.scoring.stages import meets, score_stage
from tests.conftest import postgres_database
from tests.test_leads import AUTHORITY, BUDGET, NEED, TIMING

SEEDED = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
DAY = timedelta(days=1)
LEADS = 160

ANSWERS = [
    {},
    {"need": NEED},
    {"need": NEED, "timing": TIMING},
    {"need": NEED, "timing": TIMING, "authority": AUTHORITY},
    {"need": NEED, "timing": TIMING, "authority": AUTHORITY, "budget": BUDGET},
    {"budget": {"none": True, "unknown": False, "text": "no", "source": "text"}, "need": NEED},
    {"budget": {**BUDGET, "max": 3000.0, "min": None}, "authority": {"level": "influencer", "text": "x"}},
]
PROFILES = [
    {},
    {"country": "ES", "company_size": 40, "job_title": "Director de ventas"},
    {"country": "MX", "company_size": 300},
    {"country": "JP", "job_title": "CEO"},
    {"country": "CO", "company_size": 5, "job_title": "CEO & Founder, Sales and Marketing"},
]
PAGES = [
    ("page", "https://nubilo.es/precios"),
    ("page", "https://nubilo.es/pricing?plan=pro"),
    ("page", "https://nubilo.es/blog/crm-para-pymes"),
    ("page", "https://nubilo.es/lp/demo"),
    ("demo_request", None),
    ("cta_click", None),
    ("email_reply", None),
    ("webinar_attended", None),
    ("newsletter_signup", None),
    ("unsubscribed", None),
    ("meeting_no_show", None),
    ("identify", None),  # matches no rule
]


def _events(rng: random.Random, i: int) -> list[Event]:
    kind = i % 8
    times: list[tuple[str, str | None, datetime]] = []
    if kind == 0:  # none
        pass
    elif kind == 1:  # a burst of pricing views and clicks: capped
        start = SEEDED - rng.uniform(1, 30) * DAY
        times += [("page", "https://nubilo.es/precios", start + n * timedelta(hours=5)) for n in range(6)]
        times += [("cta_click", None, start + n * timedelta(hours=1)) for n in range(5)]
    elif kind == 2:  # negative events
        times += [("meeting_no_show", None, SEEDED - rng.uniform(0, 20) * DAY)]
        times += [("unsubscribed", None, SEEDED - rng.uniform(0, 20) * DAY)]
        times += [("email_reply", None, SEEDED - rng.uniform(0, 20) * DAY)]
    elif kind == 3:  # stamped after the last scoring (clock skew): not decayed yet
        times += [("demo_request", None, SEEDED + rng.uniform(0.1, 3) * DAY)]
        times += [("page", "https://nubilo.es/pricing", SEEDED - rng.uniform(0, 3) * DAY)]
    elif kind == 4:  # very old: decayed to (nearly) nothing
        times += [(*rng.choice(PAGES[:9]), SEEDED - rng.uniform(300, 900) * DAY) for _ in range(3)]
    else:
        for _ in range(rng.randint(1, 7)):
            name, url = rng.choice(PAGES)
            times.append((name, url, SEEDED - rng.uniform(0, 120) * DAY))
    return [Event(name, at, {}, url, f"m-{i}-{n}") for n, (name, url, at) in enumerate(times)]


def seed(store: LeadStore, config) -> None:
    """The same leads, with the same ids, in each database: scored as of SEEDED, each with its
    ledger from zero so that the deltas add up."""
    rng = random.Random(7)
    leads, events, changes = [], [], []
    for i in range(LEADS):
        lead_id = f"lead{i:04d}"
        answers = rng.choice(ANSWERS)
        profile = rng.choice(PROFILES)
        lead_events = _events(rng, i)
        score = scoring.score_lead(answers, profile, lead_events, config, SEEDED)
        breakdown, version, scored_at = score.lines, config.version, SEEDED
        stage, actor = score_stage(score.total, score.qualifies, config.stages), "bot"
        twist = i % 13
        if twist == 1:
            stage, actor = "sal", "person"
        elif twist == 2:
            stage, actor = "opportunity", "person"
        elif twist == 3:
            stage, actor = "disqualified", "person"
        elif twist == 4:
            stage, actor = "sql", "person"
        elif twist == 5:
            stage, actor = "mql", "rule"
        elif twist == 6:
            version = config.version - 1  # scored under an older version: in full
        elif twist == 7:
            breakdown, scored_at = [], None  # never scored
        elif twist == 8:  # a reason edited by hand: the decay-only way cannot read it
            breakdown = [
                {**line, "reason": line["reason"] + " (edited)"} if line["source"] == "event" else line
                for line in breakdown
            ]
        elif twist == 9:
            stage, actor = "mql", "score"
        ledger = scoring.score_changes([], breakdown, version)
        last = max((e.timestamp for e in lead_events), default=None)
        if i % 5 == 0:
            last = SEEDED - rng.uniform(60, 100) * DAY  # goes cold on the way
        leads.append(
            {
                "id": lead_id,
                "email": f"{lead_id}@fast.example",
                "email_key": f"{lead_id}@fast.example",
                "language": "es",
                "answers": answers,
                "profile": profile,
                "stage": stage,
                "stage_actor": actor,
                "sales_ready": meets(config.stages.sql, score.total, score.qualifies) if scored_at else False,
                "fit_score": score.fit if scored_at else 0,
                "behaviour_score": score.behaviour if scored_at else 0,
                "total_score": score.total if scored_at else 0,
                "grade": score.grade if scored_at else "D3",
                "score_breakdown": breakdown,
                "config_version": version,
                "scored_at": scored_at,
                "last_activity_at": last,
                "created_at": SEEDED - 200 * DAY,
                "updated_at": SEEDED,
            }
        )
        changes += [{"lead_id": lead_id, "at": SEEDED, **change} for change in ledger]
        events += [event_row(lead_id, e) for e in lead_events]
    with store.engine.begin() as conn:
        conn.execute(insert(Lead.__table__), leads)
        conn.execute(insert(TrackedEvent.__table__), events)
        conn.execute(insert(ScoreChange.__table__), changes)
    # One lead whose breakdown was written with other separators: it cannot be spliced.
    compact = json.dumps(leads[5]["score_breakdown"], separators=(",", ":"))
    with store.engine.begin() as conn:
        if store.engine.dialect.name == "postgresql":
            conn.exec_driver_sql("UPDATE leads SET score_breakdown = %s::json WHERE id = %s", (compact, "lead0005"))
        else:
            conn.exec_driver_sql("UPDATE leads SET score_breakdown = ? WHERE id = ?", (compact, "lead0005"))


def snapshot(store: LeadStore) -> dict:
    """Every lead (but updated_at), and each lead's score changes and stage transitions in
    order, in a comparable form. (Row ids are left out: a lead the decay-only way could not
    read is scored at the end of the run, so its rows come after other leads'.)"""
    with store.engine.connect() as conn:
        leads = {row["id"]: {k: v for k, v in row.items() if k != "updated_at"} for row in _rows(conn, Lead)}
        history: dict = {lead_id: {"score_changes": [], "stage_transitions": []} for lead_id in leads}
        for model in (ScoreChange, StageTransition):
            for row in _rows(conn, model):
                history[row["lead_id"]][model.__tablename__].append({k: v for k, v in row.items() if k != "id"})
    return {"leads": leads, "history": history}


def _rows(conn, model) -> list[dict]:
    table = model.__table__
    return [dict(row._mapping) for row in conn.execute(select(table).order_by(*table.primary_key.columns))]


def same_figures(fast: dict, full: dict) -> None:
    ignore = ("seconds", "phases", "decay_only")
    assert {k: v for k, v in fast.items() if k not in ignore} == {k: v for k, v in full.items() if k not in ignore}


@pytest.fixture(params=["sqlite", "postgresql"])
def twins(request, tmp_path, config):
    """Two stores with the same leads: (fast, full)."""
    with ExitStack() as stack:
        if request.param == "sqlite":
            urls = [f"sqlite:///{tmp_path / name}.db" for name in ("fast", "full")]
        else:
            urls = [stack.enter_context(postgres_database()) for _ in range(2)]
        stores = []
        for url in urls:
            store = LeadStore(url, config=config)
            stack.callback(store.engine.dispose)
            store.create_schema()
            seed(store, config)
            stores.append(store)
        yield stores


def test_decay_only_gives_what_scoring_in_full_gives(twins, config, monkeypatch):
    monkeypatch.setattr(rescore, "MIN_PARALLEL", 1)  # the workers too
    fast, full = twins
    assert snapshot(fast) == snapshot(full)
    points = config.budget.points.model_copy(update={"qualifies": 40})
    behaviour = config.behaviour.model_copy(update={"minimum_total": 0})
    changed = config.model_copy(
        update={
            "version": config.version + 1,
            "budget": config.budget.model_copy(update={"points": points}),
            "behaviour": behaviour,
        }
    )
    runs = [
        (config, 1, 2),  # (config, days after seeding, workers)
        (config, 1, 1),  # the same time again: nothing to write
        (config, 7, 2),
        (config, 45, 1),
        (changed, 46, 2),  # a new version: every lead in full, then decay under it
        (changed, 46, 2),
        (changed, 95, 2),  # went cold
        (changed, 400, 1),
        (changed, 1200, 2),
    ]
    decay_only = 0
    for number, (run_config, days, workers) in enumerate(runs):
        now = SEEDED + days * DAY
        figures = []
        for store, whole in ((fast, False), (full, True)):
            scored = store.with_config(run_config)
            figures.append(rescore_all(scored, now=now, batch_size=7, workers=workers, full=whole))
        same_figures(*figures)
        assert figures[1]["decay_only"] == 0
        decay_only += figures[0]["decay_only"]
        assert snapshot(fast) == snapshot(full), (days, run_config.version)
        if number in (1, 5):  # the same time again
            assert (figures[0]["changed"], figures[0]["score_changes"]) == (0, 0)
        else:
            assert figures[0]["changed"] > 0
        if days == 95:
            assert figures[0]["recycled"] > 0
    assert decay_only > LEADS * 4  # most leads, most runs
    final = snapshot(fast)
    for lead_id, lead in final["leads"].items():  # the ledger adds up to the breakdown
        ledger = sum(c["delta"] for c in final["history"][lead_id]["score_changes"])
        assert ledger == pytest.approx(sum(line["value"] for line in lead["score_breakdown"]), abs=1e-3), lead_id


def test_each_kind_of_lead_is_covered(config):
    """The seed has what the comparison is meant to cover."""
    rng = random.Random(7)
    lines = []
    for i in range(LEADS):
        rng.choice(ANSWERS), rng.choice(PROFILES)
        lines += scoring.score_lead({}, {}, _events(rng, i), config, SEEDED + 30 * DAY).lines
    reasons = [line["reason"] for line in lines]
    assert any("capped" in reason for reason in reasons)
    assert any(line["points"] < 0 for line in lines)
    assert any(line["value"] == 0 and line["points"] != 0 for line in lines)  # decayed to nothing


def test_a_breakdown_the_decay_only_way_cannot_read_is_scored_in_full(config):
    now = SEEDED + 3 * DAY
    events = [Event("demo_request", SEEDED - DAY, {}, None, "m-1"), Event("cta_click", SEEDED, {}, None, "m-2")]
    lines = scoring.score_lead({"need": NEED}, {}, events, config, SEEDED).lines
    text = json.dumps(lines)
    score = rescore._decay_only(text, config, now)
    expected = scoring.score_lead({"need": NEED}, {}, events, config, now)
    assert json.loads(score.text) == expected.lines
    assert (score.fit, score.behaviour, score.total, score.grade) == (
        expected.fit,
        expected.behaviour,
        expected.total,
        expected.grade,
    )
    assert score.changes == scoring.score_changes(lines, expected.lines, config.version)
    # Compact JSON: the lines are rebuilt instead of spliced, with the same result.
    compact = rescore._decay_only(json.dumps(lines, separators=(",", ":")), config, now)
    assert compact.text is None and compact.lines == expected.lines
    for broken in (
        [{**line, "reason": "edited"} if line["source"] == "event" else line for line in lines],
        [{**line, "config_version": 0} for line in lines],
        [{**line, "at": None} if line["source"] == "event" else line for line in lines],
        [{k: v for k, v in line.items() if k != "points"} for line in lines],
        {"not": "a list"},
    ):
        assert rescore._decay_only(json.dumps(broken), config, now) is None
    assert rescore._decay_only("not json", config, now) is None


def test_the_usual_breakdown_is_decayed_on_its_text_with_the_same_result(config, monkeypatch):
    """A breakdown as the store writes it is decayed without decoding its JSON (`_decay_text`);
    one the text way cannot read exactly (a reason with an escape: a non-ASCII URL) is decoded.
    Both give what decoding every breakdown gives, and what scoring in full gives."""
    rng = random.Random(11)
    now = SEEDED + 9 * DAY
    leads = []
    for i in range(40):
        events = _events(rng, i)
        if i % 10 == 9:
            events.append(Event("page", SEEDED - 2 * DAY, {}, "https://nubilo.es/catálogo/precios", f"m-{i}-x"))
        answers, profile = rng.choice(ANSWERS), rng.choice(PROFILES)
        lines = scoring.score_lead(answers, profile, events, config, SEEDED).lines
        leads.append((json.dumps(lines), answers, profile, events))
    read_on_text = []
    for text, *_ in leads:
        offset = rescore._fit_part(text, config.version)[2]
        if offset < len(text):
            read = rescore._decay_text(text, offset, config.version, config.behaviour.half_life_days, now)
            assert (read is None) == ("\\u" in text[offset:])
            read_on_text.append(read is not None)
    assert sum(read_on_text) >= 25 and not all(read_on_text)
    on_text = [rescore._decay_only(text, config, now) for text, *_ in leads]
    monkeypatch.setattr(rescore, "_decay_text", lambda *args: None)
    decoded = [rescore._decay_only(text, config, now) for text, *_ in leads]
    for (text, answers, profile, events), fast, slow in zip(leads, on_text, decoded, strict=True):
        assert (fast.text or text) == (slow.text or text)
        same = ("fit", "behaviour", "total", "grade", "qualifies", "changes", "changed")
        assert [getattr(fast, name) for name in same] == [getattr(slow, name) for name in same]
        expected = scoring.score_lead(answers, profile, events, config, now)
        assert json.loads(fast.text or text) == expected.lines
        assert (fast.behaviour, fast.total, fast.grade) == (expected.behaviour, expected.total, expected.grade)
    assert sum(bool(fast.changes) for fast in on_text) >= 25
