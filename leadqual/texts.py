"""Render what the visitor reads, in their language, from config/messages.yml.

Used by the NLG endpoint (for Rasa's utter_* responses) and by the custom actions, so every
visitor-facing text comes from one file that marketing edits without retraining.
"""

from __future__ import annotations

import json
import random
import re

from leadqual.config import Localized, Messages, QualificationConfig, messages, qualification
from leadqual.language import DEFAULT, normalize_code

_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _pick(text: Localized, lang: str) -> str:
    value = text.en if lang == "en" else text.es
    return random.choice(value) if isinstance(value, list) else value


def _fill(template: str, values: dict[str, object]) -> str:
    """Fill {placeholders}; a missing name drops its ", {name}" so no blank shows."""
    if not values.get("name"):
        template = template.replace(", {name}", "")
    text = _PLACEHOLDER.sub(lambda m: str(values.get(m.group(1)) or ""), template)
    return re.sub(r"(?<!\.)\.\.(?!\.)", ".", text)  # "Acme S.L." + "." -> one period


def option_payload(option_id: str) -> str:
    return "/inform" + json.dumps({"option": option_id})


class Texts:
    def __init__(self, msgs: Messages | None = None, config: QualificationConfig | None = None) -> None:
        self.messages = msgs or messages()
        self.config = config or qualification()

    def response(self, name: str, lang: str, /, **values: object) -> dict:
        """A named response from `responses:` as a Rasa message dict."""
        localized = self.messages.responses.get(name)
        if localized is None:
            raise KeyError(f"no text for response {name!r} in messages.yml")
        return {"text": _fill(_pick(localized, lang), values)}

    def question(self, slot: str, lang: str, failures: int = 0) -> dict:
        """The question for `slot` with its buttons; after too many failures, a way out."""
        texts = self.messages.questions[slot]
        buttons = [
            {"title": option.label.get(lang), "payload": option_payload(option.id)}
            for option in self.config.options_for(slot)
        ]
        if failures >= self.config.max_reasks:
            buttons += [
                {"title": self.messages.buttons["skip"].get(lang), "payload": "/skip"},
                {"title": self.messages.buttons["human"].get(lang), "payload": "/request_human"},
            ]
        message: dict = {"text": _pick(texts.ask, lang)}
        if buttons:
            message["buttons"] = buttons
        return message

    def reask(self, slot: str, lang: str) -> dict:
        return {"text": _pick(self.messages.questions[slot].reask, lang)}

    def why(self, slot: str | None, lang: str) -> dict:
        if slot in self.messages.questions:
            return {"text": _pick(self.messages.questions[slot].why, lang)}
        return self.response("utter_default", lang)

    def render_nlg(self, request: dict) -> dict:
        """Answer Rasa's NLG request: {"response": name, "tracker": {...}, "arguments": {...}}."""
        name = request.get("response")
        if not isinstance(name, str):
            raise ValueError("response must be a string")
        tracker = request.get("tracker") or {}
        slots = tracker.get("slots") or {}
        lang = normalize_code(slots.get("language")) or DEFAULT
        arguments = request.get("arguments") or {}
        if name == "utter_why":
            return self.why(slots.get("requested_slot"), lang)
        return self.response(name, lang, **arguments)
