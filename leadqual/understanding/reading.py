"""What one visitor message means for the question being asked.

Kept apart from Rasa so the rules (buttons only count when offered, typed `/intent{...}`
payloads are never parsed as values, how interruptions are told from answers) are tested
on their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from leadqual.config.marketing import BANT_SLOTS, QualificationConfig
from leadqual.understanding import answers, knowledge

# Intents that leave the question to a rule ("why?", "stop", chit-chat), when the text
# does not answer the question anyway.
INTERRUPTIONS = {
    "ask_why",
    "stop",
    "correct",
    "greet",
    "goodbye",
    "thanks",
    "bot_challenge",
    "out_of_scope",
    "buying_interest",
}
# Intents that win over parsing: "ahora no" must not be read as timing "now", and
# "perdona, eran 20 mil" corrects the budget whatever question is being asked.
CONTROL = {"ask_why", "stop", "skip", "request_human", "correct"}
CONTROL_CONFIDENCE = 0.5
# Name, company and email accept what people type ("javier moreno", "Prueba SL"): a parsed
# contact answer gives way only to an intent the model is this sure of.
CONTACT_SLOTS = {"name", "company", "email"}
CONTACT_OVERRIDE_CONFIDENCE = 0.9
# Interruptions that are never capped: stopping ends the questions, so it cannot loop.
UNCAPPED = {"stop", "goodbye"}
# A visitor's question about the product: answered from marketing's knowledge file, at any point.
PRODUCT_QUESTION = "product_question"


@dataclass(frozen=True)
class Message:
    text: str
    intent: str | None = None
    confidence: float = 0.0
    option: object = None  # the `option` entity of a button payload

    @property
    def is_payload(self) -> bool:
        return self.text.lstrip().startswith("/")


@dataclass(frozen=True)
class Reading:
    """How a message relates to the question asked: kind is value/skip/human/interrupt/invalid."""

    kind: str
    value: dict | None = None


def read_answer(
    slot: str,
    message: Message,
    config: QualificationConfig,
    lang: str,
    today: date | None = None,
    can_correct: bool = True,
    kb: knowledge.KnowledgeBase | None = None,
    hemisphere: str = "north",
) -> Reading:
    """Read `message` as the answer to the question about `slot`. With `can_correct` False
    (nothing answered yet) a "correction" is just an answer: there is nothing to correct.
    Kind "question": the visitor asks something the knowledge file may answer ("¿tenéis prueba
    gratuita?" as a name, "¿el precio incluye soporte?" as a timeline), looked up in `kb` (the
    conversation's flow version's knowledge; the shipped file's by default)."""
    if message.intent == "correct" and not can_correct:
        message = Message(message.text, None, 0.0, message.option)
    if message.option is None and not message.is_payload and asks_the_knowledge(message.text, lang, kb):
        return Reading("question")
    if message.option is not None:
        value = answers.from_option(slot, message.option, config, lang)
        return Reading("value", value) if value else Reading("invalid")
    typed_button = None if message.is_payload else answers.option_by_label(slot, message.text, config)
    if typed_button is not None:  # the visitor typed a button's label: that button, not a guess
        return Reading("value", answers.from_option(slot, typed_button, config, lang))
    confident = message.confidence >= CONTROL_CONFIDENCE
    parsed_first = slot in CONTACT_SLOTS and message.confidence < CONTACT_OVERRIDE_CONFIDENCE and not message.is_payload
    if parsed_first:
        # The answer's own parser decides first: "javier moreno" is a name, not "stop".
        value = answers.parse_answer(
            slot, message.text, config, lang, requested=True, today=today, hemisphere=hemisphere
        )
        if value is not None:
            return Reading("value", value)
    if message.intent in CONTROL and confident:
        if message.intent == "skip":
            return Reading("skip", answers.skipped(message.text))
        if message.intent == "request_human":
            return Reading("human")
        return Reading("interrupt")
    if message.is_payload:
        return Reading("invalid")  # a hand-typed /intent{...}: never a value
    if not parsed_first:  # (a contact answer was parsed above already, to no value)
        value = answers.parse_answer(
            slot, message.text, config, lang, requested=True, today=today, hemisphere=hemisphere
        )
    if value is not None:
        return Reading("value", value)
    if message.intent == PRODUCT_QUESTION and confident:
        return Reading("question")  # the knowledge file may still not know: the chat says so
    if message.intent in INTERRUPTIONS and confident:
        return Reading("interrupt")
    return Reading("invalid")


def asks_the_knowledge(text: str, lang: str, kb: knowledge.KnowledgeBase | None = None) -> bool:
    """A question (not a request) that an entry of the knowledge file answers above its
    threshold: read before the answer parsers, so "¿cuánto cuesta?" is never a budget."""
    return knowledge.looks_like_question(text, lang) and knowledge.match(text, lang, kb=kb) is not None


def interruptions_on(events: list[dict], slot: str, form: str = "qualification_form") -> int:
    """How many of the visitor's turns on the question about `slot` the form handed to an
    interruption (a rule for "why?", a greeting, chit-chat...): the form's rejections since the
    question was first asked in a row. Read from the tracker's events, so it needs no state."""
    counted = pending = 0
    for event in reversed(events):
        kind = event.get("event")
        if kind == "slot" and event.get("name") == "requested_slot":
            if event.get("value") != slot:
                break
            counted, pending = counted + pending, 0  # rejections after this ask were on this question
        elif kind == "action_execution_rejected" and event.get("name") == form:
            pending += 1
    return counted


def may_interrupt(intent: str | None, spent: int, max_reasks: int) -> bool:
    """Whether a message read as an interruption still leaves the question to a rule. Every
    interruption counts toward the same cap as a failed answer (`spent` is both): past it the
    message is read as an answer attempt, which re-asks or gives the question up, so no
    interruption of any kind can loop. Stopping is never capped: it ends the questions."""
    return intent in UNCAPPED or spent < max_reasks


def read_other_answers(
    message: Message,
    filled: dict[str, object],
    requested: str | None,
    config: QualificationConfig,
    lang: str,
    today: date | None = None,
    can_correct: bool = True,
    hemisphere: str = "north",
) -> dict[str, dict]:
    """Answers to other questions in the same message; none from buttons or payloads."""
    if message.option is not None or message.is_payload:
        return {}
    correcting = message.intent == "correct" and can_correct
    if (message.intent in CONTROL - {"correct"} or correcting) and message.confidence >= CONTROL_CONFIDENCE:
        return {}
    return answers.extract_other_answers(message.text, filled, requested, config, lang, today, hemisphere)


def skip_unanswered_bant(filled: dict[str, object], reason: str = "human") -> dict[str, dict]:
    """When the visitor asks for a person: leave the BANT questions and go to contact details."""
    return {slot: answers.skipped(source=reason) for slot in BANT_SLOTS if filled.get(slot) is None}
