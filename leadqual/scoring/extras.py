"""Marketing's extra questions (`extra_questions` in the flow): when each is asked, how its
answer is read, and where it is stored (`answers["extra:<id>"]` on the lead).

An extra question is asked right after its `after` question, only when its `when` conditions
hold on the answers so far; the chat asks it with one of the domain's spare slots extra_1..3,
so adding one needs no retraining.
"""

from __future__ import annotations

import re
import unicodedata

from leadqual.config.marketing import ExtraQuestion
from leadqual.understanding.answers import is_skipped, skipped
from leadqual.understanding.reading import CONTROL, CONTROL_CONFIDENCE, Message, Reading

MAX_TEXT = 500


def key(extra: ExtraQuestion | str) -> str:
    """Where the answer is kept in the lead's answers."""
    return f"extra:{extra if isinstance(extra, str) else extra.id}"


def _plain(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.casefold())
    return re.sub(r"[^a-z0-9]+", " ", "".join(c for c in text if not unicodedata.combining(c))).strip()


def read_extra(extra: ExtraQuestion, message: Message, lang: str) -> Reading:
    """The visitor's answer to an extra question: an option (by button, label or number) or,
    for a text question, the text itself."""
    if message.option is not None:
        option = extra.option(str(message.option))
        if option is None:
            return Reading("invalid")
        return Reading("value", {"option": option.id, "text": option.label.get(lang), "source": "button"})
    if message.intent in CONTROL and message.confidence >= CONTROL_CONFIDENCE:
        if message.intent == "skip":
            return Reading("skip", skipped(message.text))
        return Reading("human" if message.intent == "request_human" else "interrupt")
    if message.is_payload:
        return Reading("invalid")  # a typed /intent{...} is never an answer
    text = message.text.strip()
    if extra.kind == "text":
        return (
            Reading("value", {"value": text[:MAX_TEXT], "text": text[:MAX_TEXT], "source": "text"})
            if text
            else Reading("invalid")
        )
    plain = _plain(text)
    for number, option in enumerate(extra.options, start=1):
        labels = {_plain(option.label.es), _plain(option.label.en), option.id.replace("_", " ")}
        if plain in labels or plain == str(number):
            return Reading("value", {"option": option.id, "text": text, "source": "text"})
    return Reading("invalid")


def points(extra: ExtraQuestion, value: dict | None) -> tuple[int, str, str] | None:
    """(points, rule, reason) an answer gives, or None for no answer."""
    if not value or is_skipped(value):
        return None
    if extra.kind == "text":
        return extra.points_if_answered, f"extra_questions.{extra.id}.points_if_answered", f"answered {extra.id}"
    option = extra.option(value.get("option"))
    if option is None:
        return None
    return option.points, f"extra_questions.{extra.id}.options.{option.id}", f"{extra.id}: {option.label.en}"
