"""How one visitor message is read against the question being asked."""

from __future__ import annotations

from datetime import date

import pytest

from leadqual.config.marketing import BANT_SLOTS
from leadqual.understanding.reading import Message, read_answer, read_other_answers, skip_unanswered_bant

TODAY = date(2026, 3, 15)
MULTI = "somos 20 comerciales, tenemos unos 10.000 € y lo decido yo"


@pytest.fixture
def read(config):
    """read(slot, text, intent, confidence, option, lang) -> Reading, with the shipped config."""

    def _read(slot: str, text: str, intent: str | None = "inform", confidence: float = 0.9, option=None, lang="es"):
        return read_answer(slot, Message(text, intent, confidence, option), config, lang, TODAY)

    return _read


# -- buttons ----------------------------------------------------------------------------


def test_button_for_the_question_gives_its_value(read):
    r = read("budget", '/inform{"option": "3k_10k"}', option="3k_10k")
    assert r.kind == "value"
    assert (r.value["min"], r.value["max"], r.value["currency"], r.value["period"]) == (3000, 10000, "EUR", "year")
    assert r.value["source"] == "button"
    assert r.value["option"] == "3k_10k"
    assert r.value["text"] == "3.000 – 10.000 €"


def test_button_label_is_kept_in_the_visitor_language(read):
    r = read("authority", '/inform{"option": "influencer"}', option="influencer", lang="en")
    assert r.kind == "value"
    assert r.value["level"] == "influencer"
    assert r.value["text"] == "I decide with others"


def test_need_buttons_include_nothing_specific(read):
    r = read("need", '/inform{"option": "no_need"}', option="no_need")
    assert r.kind == "value"
    assert r.value["value"] is None
    r = read("need", '/inform{"option": "support"}', option="support")
    assert r.value["value"] == "support"


def test_timing_button_gives_months(read):
    r = read("timing", '/inform{"option": "timing_3m"}', option="timing_3m")
    assert r.kind == "value"
    assert r.value["months"] == 3


def test_option_of_another_question_is_invalid(read):
    # "decision_maker" is an authority button; it must not answer the budget question
    r = read("budget", '/inform{"option": "decision_maker"}', option="decision_maker")
    assert r.kind == "invalid"
    assert r.value is None


def test_made_up_option_id_is_invalid(read):
    assert read("budget", '/inform{"option": "over_9000"}', option="over_9000").kind == "invalid"


@pytest.mark.parametrize("option", ["3K_10K", "3k 10k", "../over_10k", "x" * 65, 10000, {"max": 99}])
def test_malformed_option_is_invalid(read, option):
    r = read("budget", "/inform", option=option)
    assert r.kind == "invalid"
    assert r.value is None


# -- hand-typed payloads ----------------------------------------------------------------


def test_hand_typed_payload_is_never_a_value(read):
    r = read("budget", '/inform{"budget": "999999"}', intent="inform", confidence=1.0)
    assert r.kind == "invalid"
    assert r.value is None


def test_hand_typed_payload_gives_no_other_answers(config):
    msg = Message('/inform{"text": "tenemos 10.000 € y lo decido yo"}', "inform", 1.0)
    assert read_other_answers(msg, {}, "need", config, "es", TODAY) == {}


# -- control intents --------------------------------------------------------------------


def test_stop_wins_over_text_that_parses_as_timing(read):
    # "ahora no" parses as a timing answer, but the visitor wants to stop
    assert read("timing", "ahora no", intent="inform").kind == "value"
    r = read("timing", "ahora no", intent="stop", confidence=0.92)
    assert r.kind == "interrupt"
    assert r.value is None


def test_ask_why_with_high_confidence_is_an_interruption(read):
    assert read("budget", "¿por qué necesitas saber el presupuesto?", intent="ask_why", confidence=0.95).kind == (
        "interrupt"
    )


def test_low_confidence_control_intent_lets_the_answer_through(read):
    r = read("timing", "en 3 meses", intent="stop", confidence=0.3)
    assert r.kind == "value"
    assert r.value["months"] == 3


def test_skip_gives_a_skipped_answer(read):
    r = read("budget", "prefiero no decirlo", intent="skip", confidence=0.88)
    assert r.kind == "skip"
    assert r.value["skipped"] is True
    assert r.value["text"] == "prefiero no decirlo"


def test_skip_button_payload_skips(read):
    r = read("budget", "/skip", intent="skip", confidence=1.0)
    assert r.kind == "skip"
    assert r.value["skipped"] is True


def test_request_human_is_human(read):
    r = read("authority", "prefiero hablar con una persona", intent="request_human", confidence=0.9)
    assert r.kind == "human"


# -- free text --------------------------------------------------------------------------


def test_free_text_answer_is_parsed(read):
    r = read("budget", "300 € al mes")
    assert r.kind == "value"
    assert (r.value["max"], r.value["currency"], r.value["period"]) == (300, "EUR", "month")
    assert r.value["source"] == "text"
    assert r.value["text"] == "300 € al mes"


def test_unparseable_text_with_chitchat_intent_is_an_interruption(read):
    assert read("budget", "hola!!", intent="greet", confidence=0.9).kind == "interrupt"


def test_unparseable_text_with_inform_intent_is_invalid(read):
    r = read("budget", "asdfgh qwerty", intent="inform", confidence=0.9)
    assert r.kind == "invalid"
    assert r.value is None


def test_unparseable_text_with_low_confidence_greet_is_invalid(read):
    assert read("budget", "asdfgh qwerty", intent="greet", confidence=0.2).kind == "invalid"


def test_text_that_answers_wins_over_a_chitchat_intent(read):
    r = read("authority", "lo decido yo", intent="greet", confidence=0.9)
    assert r.kind == "value"
    assert r.value["level"] == "decision_maker"


def test_too_long_text_is_invalid(read):
    assert read("budget", "10.000 € " * 200).kind == "invalid"


# -- several answers in one message -----------------------------------------------------


def test_multi_answer_fills_need_budget_and_authority(config):
    msg = Message(MULTI, "inform", 0.9)
    need = read_answer("need", msg, config, "es", TODAY)
    assert need.kind == "value"
    assert need.value["value"] == "crm"

    others = read_other_answers(msg, {}, "need", config, "es", TODAY)
    assert set(others) == {"budget", "authority"}
    assert others["budget"]["max"] == 10000  # not the 20 sales reps
    assert others["budget"]["min"] == 10000
    assert others["budget"]["currency"] == "EUR"
    assert others["authority"]["level"] == "decision_maker"


def test_multi_answer_does_not_overwrite_questions_already_answered(config):
    msg = Message(MULTI, "inform", 0.9)
    others = read_other_answers(msg, {"budget": {"max": 500}}, "need", config, "es", TODAY)
    assert set(others) == {"authority"}


def test_other_answers_ignore_buttons_and_control_intents(config):
    assert read_other_answers(Message("/inform", "inform", 1.0, "decision_maker"), {}, "budget", config, "es") == {}
    assert read_other_answers(Message(MULTI, "stop", 0.9), {}, "need", config, "es", TODAY) == {}


def test_other_answers_pick_up_an_email(config):
    others = read_other_answers(
        Message("lo decido yo, escribidme a ana@acme.es", "inform", 0.9), {}, "authority", config, "es", TODAY
    )
    assert others["email"]["address"] == "ana@acme.es"
    assert "authority" not in others  # that is the question being asked


# -- "I'd rather talk to a person" ------------------------------------------------------


def test_skip_unanswered_bant_skips_only_what_is_missing():
    need = {"value": "crm", "source": "text"}
    result = skip_unanswered_bant({"need": need, "timing": None, "budget": None, "authority": None})
    assert set(result) == {"timing", "budget", "authority"}
    assert all(v["skipped"] is True and v["source"] == "human" for v in result.values())
    assert "need" not in result


def test_skip_unanswered_bant_never_touches_contact_details():
    result = skip_unanswered_bant({}, reason="stop")
    assert set(result) == set(BANT_SLOTS)
    assert {v["source"] for v in result.values()} == {"stop"}


@pytest.mark.parametrize(
    "text", ["'; DROP TABLE leads; --", "<script>alert('leads')</script>", "<b>CRM</b>", "SELECT * FROM leads"]
)
def test_markup_or_sql_is_never_an_answer(config, text):
    from leadqual.understanding.answers import parse_answer

    for slot in ("need", "budget", "timing", "authority", "name", "company", "email"):
        assert parse_answer(slot, text, config, "es", requested=True) is None, (slot, text)


# -- no loops: interruptions share the re-ask cap (issue 18) ---------------------------------

from leadqual.understanding.reading import interruptions_on, may_interrupt  # noqa: E402


def _asked(slot):
    return {"event": "slot", "name": "requested_slot", "value": slot}


REJECTED = {"event": "action_execution_rejected", "name": "qualification_form"}
USER = {"event": "user", "text": "hola"}


def test_interruptions_are_counted_since_the_question_was_first_asked():
    events = [_asked("authority"), USER, REJECTED, _asked("name"), USER, REJECTED, _asked("name"), USER, REJECTED]
    assert interruptions_on(events, "name") == 2
    assert interruptions_on(events + [_asked("company")], "company") == 0
    assert interruptions_on([], "name") == 0


def test_past_the_cap_an_interruption_is_read_as_an_answer_attempt_but_stop_always_stops():
    assert may_interrupt("greet", spent=0, max_reasks=2) and may_interrupt("greet", spent=1, max_reasks=2)
    assert not may_interrupt("greet", spent=2, max_reasks=2)
    assert not may_interrupt("ask_why", spent=3, max_reasks=2)
    assert may_interrupt("stop", spent=9, max_reasks=2)


@pytest.mark.parametrize("text", ["javier moreno", "noelia nogueira", "Prueba"])
def test_a_contact_answer_is_read_before_a_not_quite_sure_intent(config, text):
    message = Message(text, intent="stop", confidence=0.55)
    reading = read_answer("name", message, config, "es")
    if text == "Prueba":  # not a name: no value, so the intent still decides
        assert reading.kind == "interrupt"
    else:
        assert reading.kind == "value" and reading.value["value"].lower() == text


def test_a_contact_answer_gives_way_to_an_intent_the_model_is_sure_of(config):
    reading = read_answer("name", Message("no quiero seguir", intent="stop", confidence=0.97), config, "es")
    assert reading.kind == "interrupt"


def test_a_correction_with_nothing_to_correct_is_an_answer(config):
    message = Message("perdón, quería decir cuanto antes", intent="correct", confidence=0.8)
    assert read_answer("timing", message, config, "es", date(2026, 3, 15)).kind == "interrupt"
    reading = read_answer("timing", message, config, "es", date(2026, 3, 15), can_correct=False)
    assert reading.kind == "value" and reading.value["months"] == 0
    opener = Message("we have about $10k a year for a CRM", intent="correct", confidence=0.9)
    assert read_other_answers(opener, {}, None, config, "en") == {}
    found = read_other_answers(opener, {}, None, config, "en", can_correct=False)
    assert found["budget"]["max"] == 10000 and found["need"]["value"] == "crm"


# -- typed button labels and noise (issue 21) -------------------------------------------


@pytest.mark.parametrize(
    ("text", "option"),
    [("este año", "timing_year"), ("Solo estoy mirando.", "timing_none"), ("this year", "timing_year")],
)
def test_typing_a_buttons_label_is_that_button_not_a_guess(read, text, option):
    r = read("timing", text, intent="inform", confidence=0.7)
    assert r.kind == "value" and r.value["option"] == option and r.value["confidence"] == 1.0


def test_laughter_is_not_a_name(read):
    assert read("name", "jajaja", intent="out_of_scope", confidence=0.98).kind == "interrupt"
    assert read("name", "Jaime", intent="inform", confidence=0.6).value["value"] == "Jaime"
