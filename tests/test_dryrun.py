"""The dry run: sample visitors scored under the current flow and a draft, side by side."""

from __future__ import annotations

import copy
from datetime import datetime, timezone

import pytest

from leadqual.config.marketing import ConfigError
from leadqual.conversation.dryrun import dry_run, knowledge_dry_run, load_sample_questions, load_samples
from leadqual.conversation.flows import build, files_content, knowledge_file_content

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def current():
    return build(*files_content(), version=1)


def draft_with(change) -> object:
    qualification, messages = copy.deepcopy(files_content())
    change(qualification)
    return build(qualification, messages, version=2)


def test_a_points_change_shows_per_sample_and_per_rule(current):
    def fewer_budget_points(q):
        q["budget"]["points"]["qualifies"] = q["budget"]["points"]["qualifies"] - 10

    rows = {r["name"]: r for r in dry_run(current, draft_with(fewer_budget_points), load_samples(), NOW)}
    ceo = rows["Directora de una pyme, con prisa y presupuesto"]
    assert ceo["draft"]["fit"] == ceo["current"]["fit"] - 10
    assert ceo["changed"] == ["fit", "total"]
    (rule, (before, after)), *_ = ceo["points_changed"].items()
    assert rule == "budget.points.qualifies" and after == before - 10
    student = rows["Estudiante"]
    assert student["changed"] == [] and student["points_changed"] == {}  # no budget, no change


def test_a_higher_threshold_shows_who_stops_being_sales_ready(current):
    def stricter(q):
        q["stages"]["sql"]["min_score"] = 100

    rows = dry_run(current, draft_with(stricter), load_samples(), NOW)
    flipped = [r["name"] for r in rows if "sales_ready" in r["changed"]]
    assert "Responsable de marketing que recomienda" in flipped
    assert all(r["current"]["sales_ready"] and not r["draft"]["sales_ready"] for r in rows if r["name"] in flipped)
    assert "Directora de una pyme, con prisa y presupuesto" not in flipped  # 124 points: still in


def test_answers_are_read_by_each_version_own_parsers(current):
    rows = {r["name"]: r for r in dry_run(current, current, load_samples(), NOW)}
    uk = rows["Head of sales, UK, next quarter"]["current"]["answers"]["budget"]
    assert (uk["min"], uk["currency"], uk["period"]) == (20000.0, "GBP", "year")
    assert all(r["changed"] == [] for r in rows.values())


def test_broken_sample_files_name_the_entry(tmp_path):
    path = tmp_path / "samples.yml"
    path.write_text("visitors:\n  - name: x\n    answers: [not, a, mapping]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"visitors\.0\.answers"):
        load_samples(path)


def test_the_sample_questions_show_an_edited_answer_and_one_no_longer_answered():
    current = build(*files_content(), version=1, knowledge=knowledge_file_content())
    knowledge = copy.deepcopy(knowledge_file_content())
    trial = next(e for e in knowledge["entries"] if e["id"] == "trial_free")
    trial["answer"]["es"] = "Sí: 30 días gratis."
    knowledge["entries"] = [e for e in knowledge["entries"] if e["id"] != "integrations_crm"]
    draft = build(*files_content(), version=2, knowledge=knowledge)
    rows = {row["question"]: row for row in knowledge_dry_run(current, draft, load_sample_questions())}
    trial_row = rows["¿Tenéis prueba gratuita?"]
    assert trial_row["changed"] and trial_row["draft"] == {
        "known": True,
        "entry": "trial_free",
        "text": "Sí: 30 días gratis.",
    }
    crm_row = rows["¿Se integra con Salesforce?"]
    assert crm_row["current"]["entry"] == "integrations_crm" and crm_row["draft"]["entry"] != "integrations_crm"
    assert not rows["How much is the basic plan?"]["changed"]


def test_a_sample_question_without_text_names_its_place(tmp_path):
    path = tmp_path / "samples.yml"
    path.write_text("visitors: []\nquestions:\n  - {language: es}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"questions\.0\.text"):
        load_sample_questions(path)
