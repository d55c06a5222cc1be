"""Fit score per BANT criterion with the shipped config/qualification.yml."""

from __future__ import annotations

import pytest

from leadqual.config.marketing import load_qualification
from leadqual.scoring import fit as scoring
from leadqual.scoring.stages import score_stage
from leadqual.understanding import answers


def budget(**value) -> dict:
    return {"min": None, "max": None, "currency": None, "period": None, "none": False, "unknown": False, **value}


# -- budget -----------------------------------------------------------------------------


def test_budget_over_minimum_qualifies(config):
    c = scoring.score_budget(budget(min=5000, max=5000, currency="EUR", period="year"), config)
    assert (c.points, c.qualifies, c.rule) == (30, True, "budget.points.qualifies")
    assert c.reason == "5.000 EUR/year >= minimum 3.000 EUR/year"


def test_budget_exactly_the_minimum_qualifies(config):
    c = scoring.score_budget(budget(min=3000, max=3000, currency="EUR", period="year"), config)
    assert (c.points, c.qualifies) == (30, True)


def test_up_to_just_the_minimum_does_not_qualify(config):
    # "menos de 3.000 €": an upper bound only, so the visitor is below the minimum price
    c = scoring.score_budget(budget(max=3000, currency="EUR", period="year"), config)
    assert (c.points, c.qualifies) == (5, False)


def test_budget_below_minimum_scores_below_minimum_points(config):
    c = scoring.score_budget(budget(min=2000, max=2000, currency="EUR", period="year"), config)
    assert (c.points, c.qualifies, c.rule) == (5, False, "budget.points.below_minimum")
    assert c.reason == "2.000 EUR/year < minimum 3.000 EUR/year"


def test_monthly_budget_is_converted_to_yearly_and_qualifies(config):
    # 300 EUR/month = 3.600 EUR/year >= 3.000 EUR/year
    c = scoring.score_budget(budget(min=300, max=300, currency="EUR", period="month"), config)
    assert (c.points, c.qualifies) == (30, True)
    assert "300 EUR/month = 3.600 EUR/year" in c.reason
    assert "minimum 3.000 EUR/year" in c.reason


def test_small_monthly_budget_is_below_minimum_after_conversion(config):
    c = scoring.score_budget(budget(min=200, max=200, currency="EUR", period="month"), config)
    assert (c.points, c.qualifies) == (5, False)
    assert c.reason == "200 EUR/month = 2.400 EUR/year < minimum 3.000 EUR/year"


def test_budget_without_period_uses_the_default_period_year(config):
    c = scoring.score_budget(budget(max=2500, currency="EUR"), config)
    assert c.qualifies is False
    assert c.reason.startswith("2.500 EUR/year <")


def test_budget_without_currency_is_in_the_base_currency(config):
    c = scoring.score_budget(budget(max=4000), config)
    assert c.qualifies is True
    assert c.reason == "4.000 EUR/year >= minimum 3.000 EUR/year"


def test_usd_budget_is_converted_to_eur(config):
    # 5000 USD / 1.08 = 4.630 EUR
    c = scoring.score_budget(budget(max=5000, currency="USD", period="year"), config)
    assert (c.points, c.qualifies) == (30, True)
    assert "5.000 USD/year = 4.630 EUR/year" in c.reason


def test_usd_budget_equal_in_number_to_minimum_is_below_it_in_eur(config):
    # 3000 USD = 2.778 EUR < 3.000 EUR
    c = scoring.score_budget(budget(max=3000, currency="USD", period="year"), config)
    assert (c.points, c.qualifies) == (5, False)
    assert "2.778 EUR/year" in c.reason


def test_mxn_budget_is_converted_to_eur(config):
    # 100.000 MXN / 19.5 = 5.128 EUR
    c = scoring.score_budget(budget(max=100_000, currency="MXN"), config)
    assert (c.points, c.qualifies) == (30, True)
    assert "100.000 MXN/year = 5.128 EUR/year" in c.reason


def test_small_mxn_monthly_budget_does_not_qualify(config):
    # 2.000 MXN/month * 12 / 19.5 = 1.231 EUR/year
    c = scoring.score_budget(budget(max=2000, currency="MXN", period="month"), config)
    assert (c.points, c.qualifies) == (5, False)
    assert "= 1.231 EUR/year" in c.reason


def test_yearly_in_base_returns_none_for_unknown_currency(config):
    assert scoring.yearly_in_base(100, "JPY", "year", config) is None
    assert scoring.yearly_in_base(100, "EUR", "month", config) == 1200


def test_unknown_currency_scores_as_unknown_not_as_qualified(config):
    c = scoring.score_budget(budget(max=900_000, currency="JPY"), config)
    assert (c.points, c.qualifies, c.rule) == (10, None, "budget.points.unknown")
    assert c.reason == "unknown currency JPY"


def test_open_ended_from_amount_qualifies(config):
    c = scoring.score_budget(budget(min=10000, currency="EUR"), config)
    assert (c.points, c.qualifies) == (30, True)
    assert c.reason == "open-ended budget from 10.000 EUR"


def test_no_budget_scores_zero_and_does_not_qualify(config):
    c = scoring.score_budget(budget(none=True), config)
    assert (c.points, c.qualifies, c.rule, c.reason) == (0, False, "budget.points.no_budget", "no budget")


@pytest.mark.parametrize(
    "value",
    [budget(unknown=True), answers.skipped("prefiero no decirlo"), None, {}],
    ids=["unknown", "skipped", "not-asked", "empty"],
)
def test_unknown_or_skipped_budget_gets_unknown_points(config, value):
    c = scoring.score_budget(value, config)
    assert (c.points, c.qualifies, c.rule) == (10, None, "budget.points.unknown")


def test_budget_with_no_amount_is_unknown(config):
    c = scoring.score_budget(budget(currency="EUR"), config)
    assert (c.points, c.qualifies, c.reason) == (10, None, "no amount given")


@pytest.mark.parametrize(
    ("option_id", "points", "qualifies"),
    [("3k_10k", 30, True), ("over_10k", 30, True), ("budget_unknown", 10, None)],
)
def test_budget_buttons_score_as_labelled(config, option_id, points, qualifies):
    value = answers.from_option("budget", option_id, config, "es")
    c = scoring.score_budget(value, config)
    assert (c.points, c.qualifies) == (points, qualifies)


def test_under_minimum_button_does_not_qualify(config):
    value = answers.from_option("budget", "under_3k", config, "en")
    assert value["text"] == "Under €3,000"
    c = scoring.score_budget(value, config)
    assert c.qualifies is False
    assert c.points == 5


# -- authority --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("level", "points", "qualifies"),
    [("decision_maker", 25, True), ("influencer", 15, True), ("user", 5, False), ("none", 0, False)],
)
def test_authority_levels(config, level, points, qualifies):
    c = scoring.score_authority({"level": level}, config)
    assert (c.points, c.qualifies, c.rule) == (points, qualifies, f"authority.points.{level}")
    assert c.reason == f"level: {level}"


@pytest.mark.parametrize("value", [None, answers.skipped()], ids=["not-asked", "skipped"])
def test_authority_unknown_scores_zero_and_is_undecided(config, value):
    c = scoring.score_authority(value, config)
    assert (c.points, c.qualifies) == (0, None)


# -- need -------------------------------------------------------------------------------


@pytest.mark.parametrize("need_id", ["crm", "marketing_automation", "support", "reporting"])
def test_a_configured_need_matches(config, need_id):
    c = scoring.score_need({"value": need_id, "matched": "x"}, config)
    assert (c.points, c.qualifies, c.rule, c.reason) == (25, True, "need.points.match", f"need: {need_id}")


def test_nothing_specific_is_no_need(config):
    value = answers.from_option("need", "no_need", config, "es")
    c = scoring.score_need(value, config)
    assert (c.points, c.qualifies, c.rule) == (0, False, "need.points.none")


def test_a_need_not_in_the_config_does_not_match(config):
    c = scoring.score_need({"value": "payroll"}, config)
    assert (c.points, c.qualifies) == (0, False)


def test_skipped_need_is_undecided(config):
    c = scoring.score_need(answers.skipped(), config)
    assert (c.points, c.qualifies) == (0, None)


# -- timing -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("months", "points", "qualifies", "window"),
    [
        (0, 20, True, "now"),
        (1, 20, True, "now"),
        (2, 15, True, "quarter"),
        (3, 15, True, "quarter"),
        (6, 10, True, "half_year"),
        (6.5, 5, False, "year"),
        (12, 5, False, "year"),
    ],
)
def test_timing_windows_and_qualifying_months(config, months, points, qualifies, window):
    c = scoring.score_timing({"months": months}, config)
    assert (c.points, c.qualifies, c.rule) == (points, qualifies, f"timing.windows.{window}")


def test_timing_later_than_every_window(config):
    c = scoring.score_timing({"months": 18}, config)
    assert (c.points, c.qualifies, c.rule) == (0, False, "timing.later_points")
    assert c.reason == "18 months: later than every window"


def test_no_rush_is_no_timeline(config):
    c = scoring.score_timing({"months": None, "no_rush": True}, config)
    assert (c.points, c.qualifies, c.reason) == (0, False, "no timeline")


def test_a_date_said_without_hurry_is_scored_by_its_month(config):
    # "para enero, sin prisa": the month counts; "sin prisa" alone (above) has no timeline.
    c = scoring.score_timing({"months": 3, "no_rush": True}, config)
    assert (c.points, c.qualifies, c.rule) == (15, True, "timing.windows.quarter")


@pytest.mark.parametrize("value", [None, answers.skipped(), {"unknown": True}], ids=["none", "skipped", "unknown"])
def test_unknown_timing_is_undecided(config, value):
    c = scoring.score_timing(value, config)
    assert (c.points, c.qualifies) == (0, None)


# -- total and stages -------------------------------------------------------------------

HOT = {
    "budget": budget(min=10000, max=10000, currency="EUR", period="year"),
    "authority": {"level": "decision_maker"},
    "need": {"value": "crm"},
    "timing": {"months": 0},
}


def test_fit_score_sums_every_criterion_with_one_line_each(config):
    fit = scoring.fit_score(HOT, config)
    assert fit.fit == 100
    assert [line["criterion"] for line in fit.breakdown()] == ["budget", "authority", "need", "timing"]
    assert [line["points"] for line in fit.breakdown()] == [30, 25, 25, 20]
    assert all(set(line) == {"criterion", "points", "qualifies", "rule", "reason"} for line in fit.breakdown())
    assert fit.qualifies("budget") is True


def test_fit_score_of_a_student(config):
    student = {
        "budget": budget(none=True),
        "authority": {"level": "user"},
        "need": {"value": None},
        "timing": {"no_rush": True},
    }
    fit = scoring.fit_score(student, config)
    assert fit.fit == 5
    assert stage_of(fit) == "lead"
    assert fit.qualifies("budget") is False


def test_fit_score_with_nothing_answered_is_the_unknown_budget_points(config):
    fit = scoring.fit_score({}, config)
    assert fit.fit == 10
    assert fit.qualifies("timing") is None


def stage_of(fit: scoring.FitScore) -> str:
    return score_stage(fit.fit, {c.criterion: c.qualifies for c in fit.criteria}, load_qualification().stages)


ALL_QUALIFY = {"budget": True, "authority": True, "need": True, "timing": True}


@pytest.mark.parametrize(
    ("total", "stage"),
    [(0, "lead"), (40, "lead"), (59, "lead"), (60, "mql"), (79, "mql"), (80, "sql"), (100, "sql")],
)
def test_stage_thresholds_when_bant_qualifies(config, total, stage):
    assert score_stage(total, ALL_QUALIFY, config.stages) == stage


@pytest.mark.parametrize("missing", ["budget", "authority", "need"])
def test_sql_needs_the_required_bant_criteria_not_just_points(config, missing):
    assert score_stage(100, ALL_QUALIFY | {missing: False}, config.stages) == "mql"
    assert score_stage(100, ALL_QUALIFY | {missing: None}, config.stages) == "mql"
    # timing is not in the shipped sql requirements
    assert score_stage(100, ALL_QUALIFY | {"timing": False}, config.stages) == "sql"


@pytest.mark.parametrize(
    ("fit", "behaviour", "expected"),
    [(100, 30, "A1"), (75, 25, "A1"), (74, 24, "B2"), (55, 10, "B2"), (54, 9, "C3"), (35, 0, "C3"), (34, -5, "D3")],
)
def test_grade_is_fit_letter_and_engagement_number(config, fit, behaviour, expected):
    assert scoring.grade(fit, behaviour, config) == expected


def test_mixed_answers_land_in_mql(config):
    # 30 (monthly 300 EUR) + 15 (influencer) + 25 (crm) + 5 (within the year) = 75
    answers_ = {
        "budget": budget(min=300, max=300, currency="EUR", period="month"),
        "authority": {"level": "influencer"},
        "need": {"value": "crm"},
        "timing": {"months": 12},
    }
    fit = scoring.fit_score(answers_, config)
    assert fit.fit == 75
    assert stage_of(fit) == "mql"
