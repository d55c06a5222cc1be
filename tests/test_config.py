"""The marketing-owned files are validated on load and every error names the field."""

from __future__ import annotations

import copy

import pytest
import yaml

from leadqual.config.marketing import (
    DEFAULT_MESSAGES,
    DEFAULT_QUALIFICATION,
    QUESTION_SLOTS,
    ConfigError,
    load_messages,
    load_qualification,
)

QUALIFICATION = yaml.safe_load(DEFAULT_QUALIFICATION.read_text(encoding="utf-8"))
MESSAGES = yaml.safe_load(DEFAULT_MESSAGES.read_text(encoding="utf-8"))


def broken_qualification(tmp_path, change) -> str:
    """Load a copy of the shipped qualification.yml after `change(data)`; return the error."""
    data = copy.deepcopy(QUALIFICATION)
    change(data)
    path = tmp_path / "qualification.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_qualification(path)
    return str(err.value)


def broken_messages(tmp_path, change) -> str:
    data = copy.deepcopy(MESSAGES)
    change(data)
    path = tmp_path / "messages.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_messages(path)
    return str(err.value)


def option(data: dict, section: str, option_id: str) -> dict:
    return next(o for o in data[section]["options"] if o["id"] == option_id)


# -- the shipped files ------------------------------------------------------------------


def test_shipped_qualification_loads_with_its_values():
    config = load_qualification()
    assert list(config.questions) == ["need", "timing", "budget", "authority", "name", "company", "email"]
    assert config.currency == "EUR"
    assert config.budget.minimum_price.amount == 3000
    assert (config.stages.mql.min_score, config.stages.sql.min_score) == (60, 80)
    assert config.stages.sql.requires == ["budget", "authority", "need"]
    assert config.grades.fit == {"A": 75, "B": 55, "C": 35}
    assert config.max_reasks == 2
    assert [n.id for n in config.need.needs] == ["crm", "marketing_automation", "support", "reporting"]


def test_shipped_messages_load_with_every_question_in_both_languages():
    msgs = load_messages()
    assert set(msgs.questions) == set(QUESTION_SLOTS)
    assert msgs.questions["email"].ask.en == "Which email can we reach you at?"
    assert msgs.buttons["skip"].es == "Saltar esta pregunta"


def test_environment_variable_points_at_another_qualification_file(tmp_path, monkeypatch):
    data = copy.deepcopy(QUALIFICATION)
    data["max_reasks"] = 4
    path = tmp_path / "custom.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("LEADQUAL_QUALIFICATION", str(path))
    assert load_qualification().max_reasks == 4


# -- qualification.yml errors name the field --------------------------------------------


def test_wrong_type_for_budget_points_names_the_field(tmp_path):
    msg = broken_qualification(tmp_path, lambda d: d["budget"]["points"].update(qualifies="thirty"))
    assert "qualification.yml" in msg
    assert "budget.points.qualifies" in msg
    assert "integer" in msg


def test_missing_stages_sql_names_the_field(tmp_path):
    msg = broken_qualification(tmp_path, lambda d: d["stages"].pop("sql"))
    assert "stages.sql" in msg
    assert "Field required" in msg


def test_stages_out_of_order_names_stages(tmp_path):
    msg = broken_qualification(tmp_path, lambda d: d["stages"]["mql"].update(min_score=90))
    assert "stages:" in msg
    assert "nurture_below <= mql.min_score <= sql.min_score" in msg


def test_unknown_bant_requirement_names_the_field(tmp_path):
    msg = broken_qualification(tmp_path, lambda d: d["stages"]["sql"].update(requires=["budget", "money"]))
    assert "stages.sql.requires.1" in msg


def test_grades_out_of_order_name_grades(tmp_path):
    msg = broken_qualification(tmp_path, lambda d: d["grades"]["fit"].update(A=10))
    assert "grades" in msg and "A >= B >= C" in msg


def test_duplicate_need_id_names_need(tmp_path):
    msg = broken_qualification(tmp_path, lambda d: d["need"]["needs"].append(copy.deepcopy(d["need"]["needs"][0])))
    assert "need:" in msg
    assert "need ids must be unique" in msg


def test_unknown_authority_level_in_an_option_names_section_and_option(tmp_path):
    msg = broken_qualification(tmp_path, lambda d: option(d, "authority", "influencer")["value"].update(level="boss"))
    assert "authority:" in msg
    assert "'influencer'" in msg
    assert "unknown level" in msg


def test_the_email_question_cannot_be_removed(tmp_path):
    msg = broken_qualification(tmp_path, lambda d: d["questions"].remove("email"))
    assert "questions: the email question is always asked" in msg


def test_a_question_listed_twice_names_its_position(tmp_path):
    msg = broken_qualification(tmp_path, lambda d: d["questions"].append("budget"))
    assert "questions.7: 'budget' is listed twice" in msg


def test_a_question_that_is_not_asked_cannot_be_required_for_a_stage(tmp_path):
    def drop_budget(d):
        d["questions"].remove("budget")
        d["stages"]["sql"]["requires"] = ["budget", "need"]

    msg = broken_qualification(tmp_path, drop_budget)
    assert "stages.sql.requires: 'budget' is required but not asked" in msg


def test_marketing_can_leave_a_bant_question_out(tmp_path, config):
    from leadqual.config.marketing import QualificationConfig

    data = config.model_dump()
    data["questions"] = ["need", "timing", "name", "email"]
    data["stages"]["sql"]["requires"] = [c for c in data["stages"]["sql"]["requires"] if c in data["questions"]]
    data["stages"]["mql"]["requires"] = [c for c in data["stages"]["mql"]["requires"] if c in data["questions"]]
    assert QualificationConfig(**data).questions == ["need", "timing", "name", "email"]


def test_unknown_question_slot_names_questions(tmp_path):
    msg = broken_qualification(tmp_path, lambda d: d["questions"].append("phone"))
    assert "questions.7" in msg


def test_exchange_rate_of_base_currency_must_be_one(tmp_path):
    msg = broken_qualification(tmp_path, lambda d: d["exchange_rates"].update(EUR=1.1))
    assert "exchange_rates.EUR must be 1" in msg


def test_negative_exchange_rate_names_the_currency(tmp_path):
    msg = broken_qualification(tmp_path, lambda d: d["exchange_rates"].update(USD=-1))
    assert "exchange_rates.USD must be positive" in msg


def test_timing_windows_out_of_order_names_timing(tmp_path):
    msg = broken_qualification(tmp_path, lambda d: d["timing"]["windows"].reverse())
    assert "timing:" in msg
    assert "ordered by max_months" in msg


def test_unknown_period_for_minimum_price_names_the_field(tmp_path):
    msg = broken_qualification(
        tmp_path, lambda d: d["budget"].update(minimum_price={"amount": 3000, "period": "weekly"})
    )
    assert "budget.minimum_price.period" in msg


def test_typo_in_a_top_level_key_is_rejected(tmp_path):
    msg = broken_qualification(tmp_path, lambda d: d.update(max_reask=3))
    assert "max_reask" in msg
    assert "Extra inputs are not permitted" in msg


def test_budget_option_with_min_above_max_is_rejected(tmp_path):
    msg = broken_qualification(tmp_path, lambda d: option(d, "budget", "under_3k")["value"].update(min=5000))
    assert "budget" in msg
    assert "min is greater than max" in msg


def test_typo_in_a_budget_option_value_names_the_option(tmp_path):
    def typo(d):
        value = option(d, "budget", "under_3k")["value"]
        value["maxx"] = value.pop("max")

    msg = broken_qualification(tmp_path, typo)
    assert "budget.options" in msg or "under_3k" in msg


def test_typo_in_a_timing_option_value_fails_on_load(tmp_path):
    def typo(d):
        value = option(d, "timing", "timing_3m")["value"]
        value["month"] = value.pop("months")

    msg = broken_qualification(tmp_path, typo)
    assert "timing" in msg


def test_invalid_yaml_is_a_config_error(tmp_path):
    path = tmp_path / "qualification.yml"
    path.write_text("budget: [unclosed\n  points: {", encoding="utf-8")
    with pytest.raises(ConfigError, match="qualification.yml is not valid YAML"):
        load_qualification(path)


def test_a_list_at_the_top_level_is_a_config_error(tmp_path):
    path = tmp_path / "qualification.yml"
    path.write_text("- need\n- timing\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="must be a mapping at the top level"):
        load_qualification(path)


def test_missing_qualification_file_is_a_config_error(tmp_path):
    path = tmp_path / "nowhere.yml"
    with pytest.raises(ConfigError, match="does not exist") as err:
        load_qualification(path)
    assert str(path) in str(err.value)


# -- messages.yml errors name the field -------------------------------------------------


def test_messages_missing_a_question_names_it(tmp_path):
    msg = broken_messages(tmp_path, lambda d: d["questions"].pop("email"))
    assert "messages.yml" in msg
    assert "questions is missing: email" in msg


def test_messages_question_without_reask_names_the_field(tmp_path):
    msg = broken_messages(tmp_path, lambda d: d["questions"]["budget"].pop("reask"))
    assert "questions.budget.reask" in msg


def test_messages_text_missing_a_language_names_the_field(tmp_path):
    msg = broken_messages(tmp_path, lambda d: d["questions"]["budget"]["ask"].pop("en"))
    assert "questions.budget.ask.en" in msg


def test_messages_empty_button_label_names_the_field(tmp_path):
    msg = broken_messages(tmp_path, lambda d: d["buttons"]["skip"].update(en=""))
    assert "buttons.skip.en" in msg


def test_messages_invalid_yaml_is_a_config_error(tmp_path):
    path = tmp_path / "messages.yml"
    path.write_text("questions: {need: [\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="messages.yml is not valid YAML"):
        load_messages(path)


def test_messages_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_messages(tmp_path / "missing.yml")


def test_messages_missing_a_response_the_assistant_sends_fails_on_load(tmp_path):
    msg = broken_messages(tmp_path, lambda d: d["responses"].pop("utter_save_failed"))
    assert "utter_save_failed" in msg
