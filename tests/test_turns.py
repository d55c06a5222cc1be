"""The dialogue policy (leadqual/conversation/turns.py) on its own: what a turn on a question
sets and says, the cap that counts failures and interruptions alike, and what follows the result."""

from __future__ import annotations

from datetime import date

import pytest

from leadqual.conversation import turns
from leadqual.understanding.reading import Message, Reading, read_answer

TODAY = date(2026, 3, 15)


@pytest.fixture
def turn(config):
    """turn(slot, text, intent=..., pending=..., failures=..., interruptions=...) -> Step, with the
    text read by the product's own reader."""

    def _turn(slot, text, intent="inform", confidence=0.9, pending=None, failures=None, interruptions=0, answers=None):
        reading = read_answer(slot, Message(text, intent, confidence), config, "es", TODAY)
        return turns.read_requested(
            slot,
            reading,
            intent=intent,
            text=text,
            pending=pending or {},
            failures=failures or {},
            interruptions=interruptions,
            answers=answers or {},
            price_dependent=text.startswith("depende del precio"),
            config=config,
        )

    return _turn


def test_a_clear_answer_is_kept_and_counted_as_answered(turn):
    step = turn("budget", "unos 20.000 euros al año")
    assert step.slots["budget"]["min"] == 20000 and step.note == "answered" and step.say == []


def test_an_answer_that_is_not_one_is_asked_again_with_the_reask_text(turn):
    step = turn("timing", "mmm", intent=None)
    assert step.slots == {"timing": None, "failures": {"timing": 1}}
    assert step.say == ["reask"] and step.note == "reasked"


def test_after_max_reasks_the_question_is_left_with_a_way_out(turn, config):
    # Failures and interruptions count toward the same cap.
    step = turn("timing", "mmm", intent=None, failures={"timing": config.max_reasks - 1}, interruptions=1)
    assert step.slots["timing"] == {"skipped": True, "text": "mmm", "source": "gave_up"}
    assert step.say == ["utter_gave_up_question"] and step.note == "gave_up"


def test_a_doubtful_reading_is_read_back_and_yes_keeps_it(turn, config):
    doubtful = {"source": "text", "confidence": config.confirm_below - 0.1, "min": 5000}
    reading = Reading("value", doubtful)
    step = turns.read_requested(
        "budget",
        reading,
        intent="inform",
        text="5k",
        pending={},
        failures={},
        interruptions=0,
        answers={},
        price_dependent=False,
        config=config,
    )
    assert step.slots == {"budget": None, "pending_confirmation": {"slot": "budget", "value": doubtful}}
    pending = step.slots["pending_confirmation"]
    yes = turn("budget", "sí", intent="affirm", pending=pending)
    assert yes.slots == {"budget": doubtful | {"confirmed": True}, "pending_confirmation": None}
    no = turn("budget", "no", intent="deny", pending=pending)
    assert no.slots == {"budget": None, "pending_confirmation": None} and no.say == []


def test_depends_on_the_price_tells_the_band_and_asks_again_until_the_cap(turn, config):
    first = turn("budget", "depende del precio", intent=None)
    assert first.price_band and first.slots == {"budget": None, "failures": {"budget": 1}} and first.say == []
    # Past the cap the band is still told, and the budget is kept as not known yet.
    last = turn("budget", "depende del precio", intent=None, failures={"budget": config.max_reasks})
    assert last.price_band and last.slots["budget"]["unknown"] is True and "failures" not in last.slots


def test_a_product_question_is_answered_and_counts_toward_the_cap(config):
    step = turns.read_requested(
        "timing",
        Reading("question"),
        intent="product_question",
        text="¿tenéis prueba gratuita?",
        pending={},
        failures={"timing": 1},
        interruptions=0,
        answers={},
        price_dependent=False,
        config=config,
    )
    assert step.answer_question and step.slots == {"timing": None, "failures": {"timing": 2}}


def test_asking_for_a_person_skips_the_unanswered_bant_questions(config):
    step = turns.read_requested(
        "budget",
        Reading("human"),
        intent="request_human",
        text="quiero hablar con una persona",
        pending={},
        failures={},
        interruptions=0,
        answers={"need": {"value": "crm"}},
        price_dependent=False,
        config=config,
    )
    assert step.say == ["utter_handoff_contact"]
    assert step.slots["budget"]["source"] == "human" and step.slots["timing"]["source"] == "human"
    assert "need" not in step.slots


def test_with_the_database_down_the_result_comes_from_the_answers_alone(config):
    answers = {
        "need": {"value": "crm"},
        "budget": {"min": 20000, "max": 20000, "currency": "EUR", "period": "year", "amount_eur_year": 20000},
        "authority": {"level": "decision_maker"},
        "timing": {"months": 1, "window": "this_quarter"},
    }
    result = turns.outcome(None, answers, config)
    assert result["behaviour"] == 0 and result["total"] == result["fit"] > 0
    assert turns.result_response(result) in ("utter_result_sql", "utter_result_mql")
    assert turns.result_response({"sales_ready": False, "stage": "lead"}) == "utter_result_nurture"


def test_what_follows_the_result(config):
    ready, cold = {"sales_ready": True}, {"sales_ready": False}
    asked = {"marketing_consent": None}
    assert turns.after_result(ready, None, has_email=False, previewing=False, config=config) == "next_steps"
    assert turns.after_result(cold, asked, has_email=True, previewing=False, config=config) == "consent"
    assert turns.after_result(cold, {"marketing_consent": True}, has_email=True, previewing=False, config=config) == (
        "nurture"
    )
    assert turns.after_result(cold, asked, has_email=False, previewing=False, config=config) is None


def test_a_mistyped_providers_domain_is_read_back_not_assumed(turn, config):
    from leadqual.config.marketing import load_messages
    from leadqual.conversation.texts import Texts

    step = turn("email", "ana.lopez@gmal.com")
    pending = step.slots["pending_confirmation"]
    assert step.slots["email"] is None and pending["value"]["address"] == "ana.lopez@gmail.com"
    asked = Texts(load_messages(), config).confirmation("email", pending["value"], "es")["text"]
    assert asked == "Para asegurarme: ¿tu email es ana.lopez@gmail.com?"
    yes = turn("email", "sí", intent="affirm", pending=pending)
    assert yes.slots["email"]["address"] == "ana.lopez@gmail.com" and yes.slots["email"]["confirmed"] is True
    assert turn("email", "ana.lopez@gmail.com").slots["email"]["address"] == "ana.lopez@gmail.com"  # no read-back
