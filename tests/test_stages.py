"""The lead stage machine: allowed moves, who may make them, reason codes, score-driven moves."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from leadqual.scoring import stages
from leadqual.scoring.stages import (
    FUNNEL,
    MOVES,
    REASON_CODES,
    STAGES,
    Actor,
    StageError,
    StageMachine,
    Transition,
    advance,
    stage_from_score,
)

AT = datetime(2026, 3, 15, 10, 30, tzinfo=timezone.utc)
ANA = Actor.person("ana@nubilo.example")
RULE = Actor.rule("stale_after_90_days")
BOT = Actor.bot("chat")
ALL = {"budget": True, "authority": True, "need": True, "timing": True}


def refused(code: str, *args, **kwargs) -> str:
    with pytest.raises(StageError) as info:
        advance(*args, **kwargs)
    assert info.value.code == code, str(info.value)
    return str(info.value)


# -- forward moves -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "current, target, actor, reason, kind",
    [
        ("lead", "mql", BOT, "score_threshold", "advance"),
        ("lead", "mql", RULE, "score_threshold", "advance"),
        ("lead", "mql", ANA, "marketing_review", "advance"),
        ("lead", "sal", ANA, "sales_accepted", "accept"),
        ("mql", "sal", ANA, "sales_accepted", "accept"),
        ("sal", "sql", ANA, "meeting_held", "qualify"),
        ("sal", "sql", ANA, "sales_qualified", "qualify"),
        ("sql", "opportunity", ANA, "deal_created", "convert"),
    ],
)
def test_every_forward_move_with_the_right_actor(current, target, actor, reason, kind):
    t = advance(current, target, actor, reason, AT, note="ok")
    assert t == Transition(current, target, kind, actor.type, actor.id, reason, "ok", AT)


@pytest.mark.parametrize(
    "current, target, default",
    [("lead", "mql", "score_threshold"), ("mql", "sal", "sales_accepted"), ("sal", "sql", "meeting_held")],
)
def test_forward_move_without_reason_gets_its_usual_reason(current, target, default):
    assert advance(current, target, ANA, at=AT).reason == default


def test_whole_funnel_in_order():
    history = [
        advance("lead", "mql", "rule", at=AT),
        advance("mql", "sal", ANA, at=AT),
        advance("sal", "sql", ANA, at=AT),
        advance("sql", "opportunity", ANA, at=AT),
    ]
    assert StageMachine().replay(history) == "opportunity"


@pytest.mark.parametrize(
    "current, target",
    [("mql", "sal"), ("lead", "sal"), ("sal", "sql"), ("sql", "opportunity"), ("mql", "disqualified")],
)
@pytest.mark.parametrize("actor", [BOT, RULE], ids=["bot", "rule"])
def test_person_only_moves_are_refused_for_bot_and_rule(current, target, actor):
    message = refused("actor_not_allowed", current, target, actor, None, AT)
    assert f"{current} -> {target}" in message
    assert "only a person or the CRM can" in message
    assert ("the bot" if actor.type == "bot" else "a rule") in message


@pytest.mark.parametrize(
    "current, target, kind",
    [("mql", "sal", "accept"), ("sql", "opportunity", "convert"), ("sql", "mql", "demote"), ("sal", "lead", "recycle")],
)
def test_a_salesperson_in_the_crm_makes_the_moves_a_person_makes(current, target, kind):
    move = advance(current, target, Actor.crm("hubspot"), "crm_update", AT)
    assert (move.kind, move.actor_type, move.actor_id, move.reason) == (kind, "crm", "hubspot", "crm_update")
    assert move.to_dict()["reason_text"] == "changed by a salesperson in the CRM"


def test_the_bot_cannot_claim_a_crm_change():
    message = refused("reason_not_allowed", "sql", "mql", BOT, "crm_update", AT)
    assert "crm_update" in message


def test_a_person_needs_an_id():
    message = refused("actor_id_required", "mql", "sal", "person", at=AT)
    assert "person's id" in message


def test_unknown_actor_type():
    assert "robot" in refused("unknown_actor", "lead", "mql", "robot", at=AT)


@pytest.mark.parametrize("current, target", [("lead", "opportunity"), ("mql", "opportunity"), ("sal", "opportunity")])
def test_skipping_stages_is_illegal(current, target):
    message = refused("illegal_move", current, target, ANA, "deal_created", AT)
    assert f"from {current} to {target}" in message


@pytest.mark.parametrize("current", ["lead", "mql"])
def test_the_chat_or_a_person_can_qualify_straight_to_sql(current):
    assert advance(current, "sql", BOT, at=AT).reason == "score_threshold"
    assert advance(current, "sql", ANA, "sales_qualified", AT).kind == "qualify"
    refused("reason_not_allowed", current, "sql", ANA, "score_threshold", AT)


@pytest.mark.parametrize("bad", ["customer", "", "MQL"])
def test_unknown_stage(bad):
    assert repr(bad) in refused("unknown_stage", "lead", bad, ANA, at=AT)
    assert repr(bad) in refused("unknown_stage", bad, "lead", ANA, at=AT)


def test_forward_reason_must_fit_the_move():
    message = refused("reason_not_allowed", "sql", "opportunity", ANA, "sales_accepted", AT)
    assert "deal_created" in message
    refused("reason_not_allowed", "lead", "mql", RULE, "marketing_review", AT)


# -- back-moves ----------------------------------------------------------------------------

BACK_PAIRS = [(s, t) for i, s in enumerate(FUNNEL) for t in FUNNEL[:i]]


@pytest.mark.parametrize("current, target", BACK_PAIRS)
def test_a_person_can_move_back_any_number_of_stages_with_a_reason(current, target):
    t = advance(current, target, ANA, "bad_timing", AT)
    assert (t.from_stage, t.to_stage, t.reason) == (current, target, "bad_timing")
    assert t.kind == ("recycle" if target == "lead" else "demote")


@pytest.mark.parametrize("current, target", BACK_PAIRS)
def test_back_moves_need_a_reason(current, target):
    message = refused("reason_required", current, target, ANA, None, AT)
    assert "needs a reason code" in message and "bad_timing" in message
    refused("reason_required", current, target, ANA, "", AT)


def test_back_move_with_unknown_reason():
    message = refused("unknown_reason", "sql", "sal", ANA, "because", AT)
    assert "'because'" in message and "no_budget" in message


def test_back_move_with_a_reason_that_does_not_fit():
    message = refused("reason_not_allowed", "sql", "lead", ANA, "spam", AT)
    assert "'spam'" in message and "went_cold" in message
    refused("reason_not_allowed", "sal", "mql", ANA, "deal_created", AT)


def test_a_rule_recycles_a_lead_that_went_cold():
    for current in ("mql", "sal", "sql"):
        t = advance(current, "lead", RULE, "went_cold", AT)
        assert (t.kind, t.actor_type, t.actor_id, t.reason) == ("recycle", "rule", RULE.id, "went_cold")


def test_a_rule_recycles_only_for_went_cold_and_never_an_opportunity():
    assert "went_cold" in refused("reason_not_allowed", "sal", "lead", RULE, "no_budget", AT)
    assert "only a person" in refused("actor_not_allowed", "opportunity", "lead", RULE, "went_cold", AT)
    refused("actor_not_allowed", "sql", "sal", RULE, "went_cold", AT)
    refused("actor_not_allowed", "sal", "lead", BOT, "went_cold", AT)


@pytest.mark.parametrize("current", FUNNEL)
@pytest.mark.parametrize("reason", ["spam", "student", "competitor", "duplicate", "no_need"])
def test_a_person_disqualifies_from_any_funnel_stage_with_a_reason(current, reason):
    t = advance(current, "disqualified", ANA, reason, AT)
    assert (t.kind, t.to_stage, t.reason) == ("disqualify", "disqualified", reason)


def test_disqualify_needs_a_disqualify_reason():
    refused("reason_required", "mql", "disqualified", ANA, None, AT)
    refused("reason_not_allowed", "mql", "disqualified", ANA, "bad_timing", AT)


def test_a_disqualified_lead_is_reopened_by_a_person_to_lead_only():
    t = advance("disqualified", "lead", ANA, "reopened", AT, note="was not spam after all")
    assert (t.kind, t.to_stage, t.note) == ("reopen", "lead", "was not spam after all")
    refused("reason_required", "disqualified", "lead", ANA, None, AT)
    refused("reason_not_allowed", "disqualified", "lead", ANA, "went_cold", AT)
    refused("actor_not_allowed", "disqualified", "lead", RULE, "reopened", AT)
    for target in FUNNEL[1:]:
        refused("illegal_move", "disqualified", target, ANA, "reopened", AT)


def test_recycle_disqualify_reopen_history_replays():
    history = [
        advance("lead", "mql", "bot", at=AT),
        advance("mql", "sal", ANA, at=AT),
        advance("sal", "lead", ANA, "bad_timing", AT),
        advance("lead", "mql", "rule", at=AT),
        advance("mql", "disqualified", ANA, "competitor", AT),
        advance("disqualified", "lead", ANA, "reopened", AT),
    ]
    assert StageMachine().replay(history) == "lead"
    with pytest.raises(StageError, match="transition 1 starts at mql but the lead was at lead"):
        StageMachine().replay(history[1:])


# -- same stage, time, to_dict -------------------------------------------------------------


@pytest.mark.parametrize("stage", STAGES)
def test_same_stage_is_a_no_op(stage):
    assert advance(stage, stage, RULE, None, AT) is None
    assert advance(stage, stage, ANA, "went_cold", AT) is None


def test_time_must_be_timezone_aware_and_defaults_to_now():
    refused("naive_time", "lead", "mql", RULE, at=datetime(2026, 3, 15, 10, 30))
    before = datetime.now(timezone.utc)
    t = advance("lead", "mql", RULE)
    assert t.at.tzinfo is not None and before <= t.at <= datetime.now(timezone.utc)


def test_transition_to_dict_has_iso_time_and_every_field():
    madrid = timezone(timedelta(hours=1))
    t = advance("sql", "sal", ANA, "no_authority", AT.astimezone(madrid), note="CFO decides")
    assert t.to_dict() == {
        "from_stage": "sql",
        "to_stage": "sal",
        "kind": "demote",
        "actor_type": "person",
        "actor_id": "ana@nubilo.example",
        "reason": "no_authority",
        "reason_text": REASON_CODES["no_authority"],
        "note": "CFO decides",
        "at": "2026-03-15T11:30:00+01:00",
    }
    assert datetime.fromisoformat(t.to_dict()["at"]) == AT


def test_allowed_targets_for_a_console():
    machine = StageMachine()
    assert machine.allowed_targets("mql", "person") == ["sal", "sql", "lead", "disqualified"]
    assert machine.allowed_targets("mql", "rule") == ["sql", "lead"]
    assert machine.allowed_targets("opportunity", "rule") == []
    assert machine.allowed_targets("disqualified", "person") == ["lead"]


def test_every_reason_in_the_move_table_is_a_known_code():
    for move in MOVES.values():
        for reasons in move.reasons.values():
            assert reasons <= REASON_CODES.keys()
        assert move.default_reason is None or move.default_reason in REASON_CODES


# -- score-driven moves --------------------------------------------------------------------


@pytest.fixture
def rules(config):
    return config.stages


def test_score_at_the_mql_threshold_moves_lead_to_mql(rules):
    t = stage_from_score(60, ALL, rules, "lead", at=AT)
    assert (t.from_stage, t.to_stage, t.actor_type, t.reason) == ("lead", "mql", "rule", "score_threshold")
    assert t.note == "score 60 >= mql threshold 60"


def test_a_lead_meeting_the_sql_rule_goes_straight_to_sql(rules):
    t = stage_from_score(95, ALL, rules, "lead", at=AT, actor=BOT)
    assert (t.to_stage, t.kind, t.actor_type) == ("sql", "qualify", "bot")
    assert t.note == "score 95 >= sql threshold 80; budget, authority, need qualified"
    assert stage_from_score(95, ALL, rules, "mql", at=AT).to_stage == "sql"


def test_enough_points_without_the_required_bant_only_make_an_mql(rules):
    t = stage_from_score(95, ALL | {"authority": False}, rules, "lead", at=AT)
    assert t.to_stage == "mql"


def test_with_automatic_sql_off_the_lead_stays_mql_marked_sales_ready(config):
    manual = config.stages.model_copy(update={"sql": config.stages.sql.model_copy(update={"automatic": False})})
    t = stage_from_score(95, ALL, manual, "lead", at=AT)
    assert t.to_stage == "mql"
    assert "sales-ready" in t.note
    assert stage_from_score(95, ALL, manual, "mql", at=AT) is None


def test_score_drop_moves_back(rules):
    t = stage_from_score(59, ALL, rules, "mql", at=AT)
    assert (t.to_stage, t.kind, t.reason) == ("lead", "recycle", "score_dropped")
    assert t.note == "score 59 < mql threshold 60"
    t = stage_from_score(70, ALL | {"need": False}, rules, "sql", at=AT)
    assert (t.to_stage, t.kind, t.reason) == ("mql", "demote", "score_dropped")
    assert "need not qualified" in t.note


@pytest.mark.parametrize("current, total", [("lead", 59), ("lead", 0), ("mql", 60), ("mql", 79), ("sql", 80)])
def test_score_that_keeps_the_stage_gives_none(rules, current, total):
    assert stage_from_score(total, ALL, rules, current, at=AT) is None


@pytest.mark.parametrize("current", ["sal", "opportunity", "disqualified"])
@pytest.mark.parametrize("total", [0, 59, 60, 100])
def test_scores_never_move_a_lead_a_person_placed_further(rules, current, total):
    assert stage_from_score(total, ALL, rules, current, placed_by="person", at=AT) is None
    assert stage_from_score(total, ALL, rules, current, at=AT) is None


@pytest.mark.parametrize("total", [0, 59, 100])
def test_an_sql_a_person_qualified_is_never_moved_by_scores(rules, total):
    assert stage_from_score(total, ALL, rules, "sql", placed_by="person", at=AT) is None


def test_a_recycled_lead_comes_back_only_when_its_score_crosses_a_threshold_again(rules):
    # A person recycled an mql with 70 points: staying at 70 or dropping does nothing ...
    assert stage_from_score(70, ALL, rules, "lead", placed_by="person", previous_total=70, at=AT) is None
    assert stage_from_score(65, ALL, rules, "lead", placed_by="rule", previous_total=70, at=AT) is None
    # ... new activity that crosses a threshold moves it forward again.
    assert stage_from_score(85, ALL, rules, "lead", placed_by="person", previous_total=70, at=AT).to_stage == "sql"
    t = stage_from_score(62, ALL, rules, "lead", placed_by="rule", previous_total=40, at=AT)
    assert t.to_stage == "mql"


def test_score_move_can_be_made_by_the_bot(rules):
    t = stage_from_score(70, ALL, rules, "lead", at=AT, actor=BOT)
    assert (t.actor_type, t.actor_id) == ("bot", "chat")


def test_score_rules_and_stage_are_checked(rules):
    with pytest.raises(StageError, match="'mql'") as info:
        stage_from_score(70, ALL, object(), "lead")
    assert info.value.code == "bad_thresholds"
    with pytest.raises(StageError) as info:
        stage_from_score(70, ALL, rules, "nurture")
    assert info.value.code == "unknown_stage"


def test_module_has_no_database_or_rasa_imports():
    with open(stages.__file__, encoding="utf-8") as f:
        imports = [line for line in f if line.startswith(("import ", "from "))]
    assert imports and not [line for line in imports if "sqlalchemy" in line or "rasa" in line]
