"""Property-based fuzzing of the answer parsers (hypothesis): whatever a visitor types, parsing
never raises and what comes back is well-formed. Runs in CI with a fixed budget of examples."""

from __future__ import annotations

from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadqual.config.marketing import BANT_SLOTS, QUESTION_SLOTS, load_qualification
from leadqual.understanding.answers import extract_other_answers, parse_answer
from leadqual.understanding.corrections import read_correction
from leadqual.understanding.reading import Message, read_answer

CONFIG = load_qualification()
TODAY = date(2026, 11, 23)
# Chat-like text: letters of both languages, digits, currency signs, punctuation, emoji.
CHAT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)) | st.sampled_from("0123456789€$£k.,-/ mil"),
    max_size=80,
)
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check(slot: str, value: dict | None) -> None:
    if value is None:
        return
    assert isinstance(value, dict)
    if slot == "budget" and value.get("min") is not None and value.get("max") is not None:
        assert value["min"] <= value["max"]
        assert value.get("currency") in set(CONFIG.exchange_rates) | {None}
    if slot == "timing" and value.get("months") is not None:
        assert value["months"] >= 0
    if slot == "authority":
        assert value.get("level") in set(CONFIG.authority.points) | {None}
    if slot == "need":
        assert value.get("value") in {n.id for n in CONFIG.need.needs} | {None}


@FUZZ
@given(text=CHAT, slot=st.sampled_from(QUESTION_SLOTS), lang=st.sampled_from(["es", "en"]))
def test_any_text_parses_to_a_well_formed_answer_or_nothing(text, slot, lang):
    check(slot, parse_answer(slot, text, CONFIG, lang, requested=True, today=TODAY))


@FUZZ
@given(text=CHAT, slot=st.sampled_from(BANT_SLOTS), lang=st.sampled_from(["es", "en"]), option=st.text(max_size=20))
def test_any_message_or_button_is_read_without_error(text, slot, lang, option):
    reading = read_answer(slot, Message(text, "inform", 0.9, option or None), CONFIG, lang, TODAY)
    assert reading.kind in {"value", "skip", "human", "interrupt", "invalid"}
    check(slot, reading.value if reading.kind == "value" else None)


@FUZZ
@given(text=CHAT, lang=st.sampled_from(["es", "en"]))
def test_other_answers_and_corrections_never_raise(text, lang):
    for slot, value in extract_other_answers(text, {}, "need", CONFIG, lang, TODAY).items():
        assert slot in QUESTION_SLOTS
        check(slot, value)
    read_correction(text, CONFIG, lang, TODAY)
