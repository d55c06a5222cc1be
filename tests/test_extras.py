"""Marketing's extra questions: validated config, asked only when their condition holds, read
from buttons and text, stored on the lead and scored; through the actions too."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from rasa_sdk import Tracker

from actions import actions
from leadqual.config.marketing import ConfigError, QualificationConfig
from leadqual.conversation import questions
from leadqual.conversation.flows import FlowInvalid, build, files_content
from leadqual.scoring import extras
from leadqual.scoring import fit as scoring
from leadqual.understanding.reading import Message

from .test_actions import run, slot_events, texts_of

FIXTURES = Path(__file__).resolve().parent / "fixtures"
TEAM_SIZE = {
    "id": "team_size",
    "after": "need",
    "kind": "choice",
    "when": {"need": ["crm"]},
    "ask": {"es": "¿Cuántas personas usarían Nubilo?", "en": "How many people would use Nubilo?"},
    "why": {"es": "Para recomendarte el plan adecuado.", "en": "So we suggest the right plan."},
    "reask": {"es": "Elige una de las opciones, por favor.", "en": "Please pick one of the options."},
    "options": [
        {"id": "small", "label": {"es": "1 a 5", "en": "1 to 5"}, "points": 0},
        {"id": "medium", "label": {"es": "6 a 50", "en": "6 to 50"}, "points": 5},
        {"id": "large", "label": {"es": "Más de 50", "en": "More than 50"}, "points": 10},
    ],
}
TOOLS = {
    "id": "current_tool",
    "after": "team_size",
    "kind": "text",
    "when": {"team_size": ["large"]},
    "ask": {"es": "¿Qué herramienta usáis ahora?", "en": "What tool do you use now?"},
    "why": {"es": "Para preparar la migración.", "en": "To plan the migration."},
    "reask": {"es": "Dime el nombre de la herramienta.", "en": "Tell me the tool's name."},
    "points_if_answered": 2,
}


def flow_with(*extra_questions):
    qualification, messages = copy.deepcopy(files_content())
    qualification["extra_questions"] = list(extra_questions)
    return build(qualification, messages, version=2)


def test_extra_questions_are_validated_and_errors_name_the_field():
    broken = [
        ({**TEAM_SIZE, "after": "colour"}, "qualification.extra_questions.0.after"),
        ({**TEAM_SIZE, "when": {"need": ["yachts"]}}, "qualification.extra_questions.0.when.need"),
        ({**TEAM_SIZE, "options": TEAM_SIZE["options"][:1]}, "qualification.extra_questions.0.options"),
        ({**TEAM_SIZE, "id": "budget"}, "qualification.extra_questions.0.id"),
    ]
    for question, field in broken:
        with pytest.raises(FlowInvalid) as invalid:
            flow_with(question)
        assert field in {p["field"] for p in invalid.value.problems}, question
    with pytest.raises(FlowInvalid):
        flow_with(TEAM_SIZE, TOOLS, {**TOOLS, "id": "a"}, {**TOOLS, "id": "b"})  # at most three


def test_an_extra_question_is_asked_after_its_question_only_when_the_condition_holds():
    config = flow_with(TEAM_SIZE, TOOLS).config
    assert questions.ordered_questions(config, {}) == config.questions
    crm = {"need": {"value": "crm"}}
    assert questions.ordered_questions(config, crm)[:3] == ["need", "extra_1", "timing"]
    large = {**crm, "extra:team_size": {"option": "large"}}
    assert questions.ordered_questions(config, large)[:4] == ["need", "extra_1", "extra_2", "timing"]
    assert "extra_1" not in questions.ordered_questions(config, {"need": {"value": "support"}})


def test_answers_are_read_from_buttons_labels_numbers_and_text():
    config = flow_with(TEAM_SIZE, TOOLS).config
    team, tools = config.extra_questions

    def read(question, text, option=None, intent=None):
        return extras.read_extra(question, Message(text, intent=intent, confidence=0.9, option=option), "es")

    assert read(team, '/inform{"option": "medium"}', option="medium").value["option"] == "medium"
    assert read(team, '/inform{"option": "huge"}', option="huge").kind == "invalid"  # not offered here
    assert read(team, "más de 50").value["option"] == "large"
    assert read(team, "More than 50").value["option"] == "large"
    assert read(team, "2").value["option"] == "medium"
    assert read(team, "muchos").kind == "invalid"
    assert read(team, '/inform{"option": "large"}').kind == "invalid"  # typed payload, no entity
    assert read(team, "sáltala", intent="skip").kind == "skip"
    assert read(tools, "  HubSpot y Excel ").value == {
        "value": "HubSpot y Excel",
        "text": "HubSpot y Excel",
        "source": "text",
    }


def test_an_extra_answer_carries_its_points_and_is_kept_on_the_lead(store):
    config = flow_with(TEAM_SIZE, TOOLS).config
    answers = {
        "need": {"value": "crm"},
        "extra:team_size": {"option": "large"},
        "extra:current_tool": {"value": "Excel"},
    }
    fit = scoring.fit_score(answers, config)
    lines = {c.rule: c.points for c in fit.criteria if c.criterion.startswith("extra:")}
    assert lines == {
        "extra_questions.team_size.options.large": 10,
        "extra_questions.current_tool.points_if_answered": 2,
    }
    assert fit.fit == scoring.fit_score({"need": {"value": "crm"}}, config).fit + 12

    lead = store.with_config(config).save_conversation("chat-1", {**answers, "email": {"address": "x@y.example"}}, "es")
    assert lead["extra"] == {"team_size": {"option": "large"}, "current_tool": {"value": "Excel"}}
    assert any(line["rule"] == "extra_questions.team_size.options.large" for line in lead["score_breakdown"])


def test_the_form_asks_and_stores_the_extra_question(sqlite_store, monkeypatch):
    monkeypatch.setattr(actions, "_store", sqlite_store)
    monkeypatch.setattr(actions, "_flows", None)
    qualification, messages = copy.deepcopy(files_content())
    qualification["extra_questions"] = [TEAM_SIZE]
    actions.flows().publish(qualification, messages, by="marketing@nubilo.es")

    state = json.loads((FIXTURES / "form_need_free_text.json").read_text(encoding="utf-8"))
    state["slots"].update(flow_version=2, need={"value": "crm", "text": "un CRM"}, requested_slot="extra_1")
    state["latest_message"] = {"text": "6 a 50", "intent": {"name": "inform", "confidence": 0.9}, "entities": []}
    tracker = Tracker.from_dict(state)
    form = actions.ValidateQualificationForm()
    assert asyncio_run(form.required_slots([], None, tracker, {}))[:3] == ["need", "extra_1", "timing"]
    events, _ = run(form, tracker)
    assert slot_events(events)["extra_1"]["option"] == "medium"
    saved = sqlite_store.get_by_conversation(tracker.sender_id)
    assert saved["extra"]["team_size"]["option"] == "medium"

    state["slots"]["extra_1"] = None
    _events, asked = run(actions.AskExtra1(), Tracker.from_dict(state))
    assert texts_of(asked) == ["¿Cuántas personas usarían Nubilo?"]
    assert [b["title"] for b in asked[0]["buttons"]] == ["1 a 5", "6 a 50", "Más de 50"]


def asyncio_run(coroutine):
    import asyncio

    return asyncio.run(coroutine)


def test_the_shipped_flow_has_no_extra_question_and_a_bad_one_fails_to_load(tmp_path):
    assert QualificationConfig(**files_content()[0]).extra_questions == []
    from leadqual.config.marketing import load_qualification

    qualification = files_content()[0] | {"extra_questions": [{**TEAM_SIZE, "kind": "quiz"}]}
    path = tmp_path / "qualification.yml"
    path.write_text(json.dumps(qualification), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"extra_questions\.0\.kind"):
        load_qualification(path)
