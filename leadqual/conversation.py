"""What one visitor message means for the question being asked.

Kept apart from Rasa so the rules (buttons only count when offered, typed `/intent{...}`
payloads are never parsed as values, how interruptions are told from answers) are tested
on their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from leadqual import answers
from leadqual.config import BANT_SLOTS, QualificationConfig

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
) -> Reading:
    """Read `message` as the answer to the question about `slot`."""
    if message.option is not None:
        value = answers.from_option(slot, message.option, config, lang)
        return Reading("value", value) if value else Reading("invalid")
    confident = message.confidence >= CONTROL_CONFIDENCE
    if message.intent in CONTROL and confident:
        if message.intent == "skip":
            return Reading("skip", answers.skipped(message.text))
        if message.intent == "request_human":
            return Reading("human")
        return Reading("interrupt")
    if message.is_payload:
        return Reading("invalid")  # a hand-typed /intent{...}: never a value
    value = answers.parse_answer(slot, message.text, config, lang, requested=True, today=today)
    if value is not None:
        return Reading("value", value)
    if message.intent in INTERRUPTIONS and confident:
        return Reading("interrupt")
    return Reading("invalid")


def read_other_answers(
    message: Message,
    filled: dict[str, object],
    requested: str | None,
    config: QualificationConfig,
    lang: str,
    today: date | None = None,
) -> dict[str, dict]:
    """Answers to other questions in the same message; none from buttons or payloads."""
    if message.option is not None or message.is_payload:
        return {}
    if message.intent in CONTROL and message.confidence >= CONTROL_CONFIDENCE:
        return {}
    return answers.extract_other_answers(message.text, filled, requested, config, lang, today)


def skip_unanswered_bant(filled: dict[str, object], reason: str = "human") -> dict[str, dict]:
    """When the visitor asks for a person: leave the BANT questions and go to contact details."""
    return {slot: answers.skipped(source=reason) for slot in BANT_SLOTS if filled.get(slot) is None}
