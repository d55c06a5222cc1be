"""Behaviour score engine: rules, caps, decay, late and duplicate events, explicit criteria."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta, timezone

import pytest
import yaml

from leadqual.config.marketing import DEFAULT_QUALIFICATION, QualificationConfig, load_qualification
from leadqual.scoring.behaviour import Event, explicit_fit, score_behaviour

from .test_config import broken_qualification

QUALIFICATION = yaml.safe_load(DEFAULT_QUALIFICATION.read_text(encoding="utf-8"))
NOW = datetime(2026, 3, 15, 12, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def config() -> QualificationConfig:
    return load_qualification()


def no_decay(config: QualificationConfig) -> QualificationConfig:
    behaviour = config.behaviour.model_copy(update={"half_life_days": None})
    return config.model_copy(update={"behaviour": behaviour})


def ev(name: str, days_ago: float = 0, url: str | None = None, message_id: str | None = None) -> Event:
    return Event(name, NOW - timedelta(days=days_ago), {}, url=url, message_id=message_id)


def page(url: str, days_ago: float = 0, message_id: str | None = None) -> Event:
    return ev("page", days_ago, url=url, message_id=message_id)


# -- the shipped rules ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "rule", "points"),
    [
        (page("https://nubilo.com/pricing"), "pricing_page", 10),
        (page("https://nubilo.com/es/pricing?plan=pro"), "pricing_page", 10),
        (ev("demo_request"), "demo_request", 15),
        (ev("webinar_attended"), "webinar_attended", 5),
        (page("https://nubilo.com/blog/crm-para-pymes"), "page_view", 1),
        (page("https://nubilo.com/lp/crm-2026"), "landing_page", 2),
        (ev("email_reply"), "email_reply", 2),
        (ev("newsletter_signup"), "newsletter_signup", 1),
        (ev("call_completed"), "call_completed", 5),
        (ev("form_submitted"), "form_submitted", 2),
        (ev("unsubscribed"), "unsubscribed", -3),
        (ev("meeting_no_show"), "meeting_no_show", -10),
    ],
)
def test_each_default_rule(config, event, rule, points):
    score = score_behaviour([event], config, NOW)
    assert score.total == points
    [line] = score.lines
    assert line["rule"] == f"behaviour.rules.{rule}"
    assert line["points"] == points
    assert line["decayed"] == pytest.approx(points)
    assert line["source"] == "event"
    assert line["config_version"] == config.version
    assert line["event"] == event.name
    assert line["at"] == NOW.isoformat()


def test_unknown_event_scores_nothing_and_gives_no_line(config):
    score = score_behaviour([ev("chat_opened")], config, NOW)
    assert (score.total, score.lines) == (0, [])


def test_negative_points_add_up_with_positive_ones(config):
    events = [ev("demo_request"), ev("meeting_no_show"), ev("unsubscribed"), ev("email_reply")]
    score = score_behaviour(events, config, NOW)
    assert [line["points"] for line in score.lines] == [15, -10, -3, 2]
    assert score.total == 4


def test_a_net_negative_total_is_kept_without_a_floor(config):
    score = score_behaviour([ev("meeting_no_show"), ev("unsubscribed")], config, NOW)
    assert score.total == -13
    assert not score.floored


def test_minimum_total_floors_the_total_but_keeps_the_lines(config):
    floored = config.model_copy(update={"behaviour": config.behaviour.model_copy(update={"minimum_total": -5})})
    score = score_behaviour([ev("meeting_no_show"), ev("unsubscribed")], floored, NOW)
    assert score.total == -5
    assert score.floored
    assert sum(line["decayed"] for line in score.lines) == pytest.approx(-13)


def test_line_has_the_documented_shape(config):
    [line] = score_behaviour([ev("email_reply", message_id="m-1")], config, NOW).lines
    assert set(line) == {
        "rule",
        "event",
        "message_id",
        "at",
        "points",
        "decayed",
        "config_version",
        "source",
        "reason",
    }
    assert line["message_id"] == "m-1"


# -- URL patterns ------------------------------------------------------------------------


def test_url_glob_ignores_case_and_only_applies_to_page_events(config):
    score = score_behaviour([page("https://NUBILO.com/PRICING")], config, NOW)
    assert score.lines[0]["rule"] == "behaviour.rules.pricing_page"
    # A non-page event carrying a pricing URL is not a page visit.
    assert score_behaviour([ev("demo_request", url="https://nubilo.com/pricing")], config, NOW).total == 15
    assert score_behaviour([ev("chat_opened", url="https://nubilo.com/pricing")], config, NOW).lines == []


def test_url_can_come_from_the_event_properties(config):
    event = Event("page", NOW, {"url": "https://nubilo.com/pricing"})
    assert score_behaviour([event], config, NOW).total == 10


def test_page_event_without_url_scores_nothing(config):
    assert score_behaviour([Event("page", NOW, {})], config, NOW).lines == []


def test_first_matching_rule_wins(config):
    # The pricing page also matches the catch-all page view, which comes later.
    lines = score_behaviour([page("https://nubilo.com/pricing")], config, NOW).lines
    assert [line["rule"] for line in lines] == ["behaviour.rules.pricing_page"]


def test_url_regex_rule(config):
    data = copy.deepcopy(QUALIFICATION)
    data["behaviour"]["rules"].insert(0, {"id": "case_study", "url_regex": r"/casos?/\d+$", "points": 4})
    custom = QualificationConfig(**data)
    assert score_behaviour([page("https://nubilo.com/casos/12")], custom, NOW).lines[0]["points"] == 4
    assert score_behaviour([page("https://nubilo.com/casos/12/x")], custom, NOW).lines[0]["rule"] == (
        "behaviour.rules.page_view"
    )


# -- caps ---------------------------------------------------------------------------------


def test_pricing_visits_capped_at_three_per_week(config):
    cfg = no_decay(config)
    events = [page("https://nubilo.com/pricing", days_ago=d) for d in (6, 5, 4, 3, 2)]
    score = score_behaviour(events, cfg, NOW)
    assert [line["points"] for line in score.lines] == [10, 10, 10, 0, 0]
    assert all("capped" in line["reason"] for line in score.lines[3:])
    assert all(line["rule"] == "behaviour.rules.pricing_page" for line in score.lines)
    assert score.total == 30


def test_cap_is_a_rolling_window(config):
    cfg = no_decay(config)
    # The first three (days 20, 19, 18 ago) count; 6.9 days after the first is inside its week
    # -> capped; exactly 7 days after the first, only two counted visits are in the week -> counts.
    days = [20, 19, 18, 20 - 6.9, 13]
    events = [page("https://nubilo.com/pricing", days_ago=d) for d in days]
    score = score_behaviour(events, cfg, NOW)
    assert [line["points"] for line in score.lines] == [10, 10, 10, 0, 10]
    assert score.total == 40


def test_caps_in_separate_weeks_each_count(config):
    cfg = no_decay(config)
    events = [page("https://nubilo.com/pricing", days_ago=d) for d in (30, 29.5, 29, 28.5, 10, 9.5, 9, 8.5)]
    score = score_behaviour(events, cfg, NOW)
    assert [line["points"] for line in score.lines] == [10, 10, 10, 0, 10, 10, 10, 0]
    assert score.total == 60


def test_page_views_capped_at_ten_per_week(config):
    cfg = no_decay(config)
    events = [page(f"https://nubilo.com/blog/{i}", days_ago=1 + i / 100) for i in range(12)]
    score = score_behaviour(events, cfg, NOW)
    assert score.total == 10
    assert sum(1 for line in score.lines if "capped" in line["reason"]) == 2


def test_caps_are_per_rule(config):
    cfg = no_decay(config)
    pricing = [page("https://nubilo.com/pricing", days_ago=1) for _ in range(4)]
    blog = [page("https://nubilo.com/blog", days_ago=1) for _ in range(2)]
    assert score_behaviour(pricing + blog, cfg, NOW).total == 32


# -- decay ---------------------------------------------------------------------------------


def test_event_exactly_one_half_life_old_counts_half(config):
    [line] = score_behaviour([ev("demo_request", days_ago=30)], config, NOW).lines
    assert line["points"] == 15
    assert line["decayed"] == pytest.approx(7.5)


def test_two_half_lives_count_a_quarter_and_total_rounds(config):
    score = score_behaviour([ev("demo_request", days_ago=60)], config, NOW)
    assert score.lines[0]["decayed"] == pytest.approx(3.75)
    assert score.total == 4
    assert score.decayed_sum == pytest.approx(3.75)


def test_negative_points_decay_too(config):
    score = score_behaviour([ev("meeting_no_show", days_ago=30)], config, NOW)
    assert score.lines[0]["decayed"] == pytest.approx(-5)
    assert score.total == -5


def test_future_event_counts_as_age_zero(config):
    [line] = score_behaviour([ev("demo_request", days_ago=-2)], config, NOW).lines
    assert line["decayed"] == pytest.approx(15)


def test_half_life_can_be_configured(config):
    cfg = config.model_copy(update={"behaviour": config.behaviour.model_copy(update={"half_life_days": 10})})
    assert score_behaviour([ev("demo_request", days_ago=20)], cfg, NOW).lines[0]["decayed"] == pytest.approx(3.75)


# -- late and duplicate events -------------------------------------------------------------


def test_late_event_decays_from_its_own_time(config):
    # Arrives last, but happened 30 days ago: half its points.
    events = [ev("email_reply", days_ago=1), ev("demo_request", days_ago=30)]
    score = score_behaviour(events, config, NOW)
    by_rule = {line["rule"]: line for line in score.lines}
    assert by_rule["behaviour.rules.demo_request"]["decayed"] == pytest.approx(7.5)
    assert by_rule["behaviour.rules.demo_request"]["at"] == (NOW - timedelta(days=30)).isoformat()
    # The lines are in the order things happened.
    assert [line["event"] for line in score.lines] == ["demo_request", "email_reply"]


def test_late_event_takes_its_place_in_the_cap_window(config):
    cfg = no_decay(config)
    # Three visits this week arrive first, then one from last month: the old one is not capped.
    recent = [page("https://nubilo.com/pricing", days_ago=d) for d in (3, 2, 1)]
    old = page("https://nubilo.com/pricing", days_ago=40)
    score = score_behaviour(recent + [old], cfg, NOW)
    assert score.total == 40
    # And a late one inside the week takes a slot as of when it happened: the last one is capped.
    late = page("https://nubilo.com/pricing", days_ago=4)
    score = score_behaviour(recent + [late], cfg, NOW)
    assert [line["points"] for line in score.lines] == [10, 10, 10, 0]
    assert score.lines[0]["at"] == late.timestamp.isoformat()


def test_duplicate_message_id_counted_once(config):
    events = [ev("email_reply", message_id="m-1"), ev("email_reply", message_id="m-1"), ev("email_reply")]
    score = score_behaviour(events, config, NOW)
    assert score.total == 4
    assert [line["message_id"] for line in score.lines] == ["m-1", None]


def test_duplicate_message_id_keeps_the_earliest(config):
    events = [ev("demo_request", days_ago=0, message_id="m-9"), ev("demo_request", days_ago=30, message_id="m-9")]
    [line] = score_behaviour(events, config, NOW).lines
    assert line["decayed"] == pytest.approx(7.5)


def test_naive_timestamps_are_rejected(config):
    with pytest.raises(ValueError, match="timezone-aware"):
        Event("page", datetime(2026, 3, 1), {})
    with pytest.raises(ValueError, match="timezone-aware"):
        score_behaviour([], config, datetime(2026, 3, 1))


def test_no_events_score_zero(config):
    score = score_behaviour([], config, NOW)
    assert (score.total, score.lines) == (0, [])


# -- explicit criteria ------------------------------------------------------------------


def test_country_in_territory(config):
    [line] = explicit_fit({"country": "mx"}, config)
    assert line["rule"] == "behaviour.explicit.territory"
    assert (line["points"], line["decayed"], line["source"]) == (8, 8.0, "profile")
    assert line["event"] == "country"
    assert line["config_version"] == config.version
    assert line["message_id"] is None and line["at"] is None


def test_country_far_away(config):
    [line] = explicit_fit({"country": "JP"}, config)
    assert (line["rule"], line["points"]) == ("behaviour.explicit.far_away", -5)


def test_country_in_neither_list_gives_no_line(config):
    assert explicit_fit({"country": "FR"}, config) == []
    assert explicit_fit({}, config) == []


@pytest.mark.parametrize(
    ("employees", "band", "points"),
    [(1, "micro", 0), (9, "micro", 0), (10, "small", 3), (249, "medium", 5), (5000, "large", 5)],
)
def test_company_size_bands(config, employees, band, points):
    [line] = explicit_fit({"company_size": employees}, config)
    assert line["rule"] == f"behaviour.explicit.company_size.{band}"
    assert line["points"] == points


def test_persona_five_points_per_matching_keyword(config):
    lines = explicit_fit({"job_title": "CEO & Founder"}, config)
    assert [line["points"] for line in lines] == [5, 5]
    assert all(line["rule"] == "behaviour.explicit.personas" for line in lines)
    [line] = explicit_fit({"job_title": "Directora Comercial"}, config)
    assert "comercial" in line["reason"]


def test_persona_matches_whole_words_ignoring_accents(config):
    assert explicit_fit({"job_title": "Salesforce administrator"}, config) == []
    assert len(explicit_fit({"job_title": "Jefe de VENTAS y Márketing"}, config)) == 2


def test_all_explicit_criteria_together(config):
    lines = explicit_fit({"country": "ES", "company_size": 30, "job_title": "Head of Sales"}, config)
    assert [line["points"] for line in lines] == [8, 3, 5]
    assert {line["source"] for line in lines} == {"profile"}


# -- config --------------------------------------------------------------------------------


def test_shipped_config_loads_with_the_behaviour_section(config):
    behaviour = config.behaviour
    assert behaviour.half_life_days == 30
    assert behaviour.minimum_total is None
    points = {rule.id: rule.points for rule in behaviour.rules}
    assert points == {
        "pricing_page": 10,
        "pricing_page_es": 10,
        "demo_request": 15,
        "cta_click": 3,
        "landing_page": 2,
        "page_view": 1,
        "webinar_attended": 5,
        "email_reply": 2,
        "newsletter_signup": 1,
        "call_completed": 5,
        "form_submitted": 2,
        "unsubscribed": -3,
        "meeting_no_show": -10,
    }
    caps = {rule.id: (rule.cap.max, rule.cap.per_days) for rule in behaviour.rules if rule.cap}
    assert caps["pricing_page"] == (3, 7)
    assert caps["page_view"] == (10, 7)
    assert behaviour.explicit.territory.countries == ["ES", "MX", "CO", "AR", "CL", "PE"]
    assert behaviour.explicit.territory.points == 8
    assert behaviour.explicit.far_away.points == -5
    assert behaviour.explicit.personas.points_each == 5


def test_config_without_behaviour_section_still_loads(tmp_path):
    data = copy.deepcopy(QUALIFICATION)
    data.pop("behaviour")
    config = QualificationConfig(**data)
    assert config.behaviour.rules == []
    assert config.behaviour.half_life_days == 30
    assert score_behaviour([ev("demo_request")], config, NOW).total == 0


def rule(data: dict, rule_id: str) -> dict:
    return next(r for r in data["behaviour"]["rules"] if r["id"] == rule_id)


def test_rule_with_neither_event_nor_url_names_the_rule(tmp_path):
    msg = broken_qualification(tmp_path, lambda d: rule(d, "email_reply").pop("event"))
    assert "behaviour.rules.7" in msg
    assert "'email_reply'" in msg
    assert "exactly one of event, url or url_regex" in msg


def test_rule_with_both_event_and_url_is_rejected(tmp_path):
    msg = broken_qualification(tmp_path, lambda d: rule(d, "email_reply").update(url="*/x"))
    assert "behaviour.rules.7" in msg
    assert "exactly one of" in msg


def test_negative_half_life_names_the_field(tmp_path):
    msg = broken_qualification(tmp_path, lambda d: d["behaviour"].update(half_life_days=-3))
    assert "behaviour.half_life_days" in msg
    assert "greater than 0" in msg


def test_cap_without_window_names_the_field(tmp_path):
    msg = broken_qualification(tmp_path, lambda d: rule(d, "pricing_page").update(cap={"max": 3}))
    assert "behaviour.rules.0.cap.per_days" in msg
    assert "Field required" in msg


def test_cap_of_zero_names_the_field(tmp_path):
    msg = broken_qualification(tmp_path, lambda d: rule(d, "pricing_page").update(cap={"max": 0, "per_days": 7}))
    assert "behaviour.rules.0.cap.max" in msg


def test_typo_in_a_rule_key_is_rejected(tmp_path):
    msg = broken_qualification(tmp_path, lambda d: rule(d, "pricing_page").update(pts=3))
    assert "behaviour.rules.0.pts" in msg
    assert "Extra inputs are not permitted" in msg


def test_non_integer_points_names_the_field(tmp_path):
    msg = broken_qualification(tmp_path, lambda d: rule(d, "demo_request").update(points="high"))
    assert "behaviour.rules.2.points" in msg


def test_invalid_url_regex_names_the_rule(tmp_path):
    msg = broken_qualification(
        tmp_path, lambda d: d["behaviour"]["rules"].append({"id": "bad", "url_regex": "(", "points": 1})
    )
    assert "behaviour.rules.13" in msg
    assert "url_regex is not a valid regular expression" in msg


def test_duplicate_rule_ids_are_rejected(tmp_path):
    msg = broken_qualification(
        tmp_path, lambda d: d["behaviour"]["rules"].append(copy.deepcopy(d["behaviour"]["rules"][0]))
    )
    assert "behaviour:" in msg
    assert "rules ids must be unique: pricing_page" in msg


def test_overlapping_territory_and_far_away_names_both(tmp_path):
    msg = broken_qualification(tmp_path, lambda d: d["behaviour"]["explicit"]["far_away"]["countries"].append("ES"))
    assert "behaviour.explicit" in msg
    assert "overlap: ES" in msg


def test_lowercase_country_code_names_the_field(tmp_path):
    msg = broken_qualification(tmp_path, lambda d: d["behaviour"]["explicit"]["territory"]["countries"].append("es"))
    assert "behaviour.explicit.territory" in msg
    assert "'es'" in msg


def test_company_size_bands_out_of_order_are_rejected(tmp_path):
    msg = broken_qualification(tmp_path, lambda d: d["behaviour"]["explicit"]["company_size"].reverse())
    assert "behaviour.explicit" in msg
    assert "company_size" in msg
