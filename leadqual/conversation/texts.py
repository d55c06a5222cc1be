"""Render what the visitor reads, in their language, from config/messages.yml.

Used by the NLG endpoint (for Rasa's utter_* responses) and by the custom actions, so every
visitor-facing text comes from one file that marketing edits without retraining.
"""

from __future__ import annotations

import json
import random
import re

from leadqual.config.marketing import Localized, Messages, QualificationConfig, messages, qualification
from leadqual.understanding.language import DEFAULT, normalize_code

_PLACEHOLDER = re.compile(r"\{(\w+)\}")
CURRENCY_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£"}


def _pick(text: Localized, lang: str) -> str:
    value = text.en if lang == "en" else text.es
    return random.choice(value) if isinstance(value, list) else value


class Rendered(str):
    """A text rendered here: the template's own markdown plus values already made literal. Put
    into another template as it is (not made literal twice)."""

    __slots__ = ()


# The chat widget (rasa-webchat 1.0.1) renders bot messages as markdown (react-markdown 4, remark-
# parse 5, GFM). A value the visitor gave (name, company, email, an answer) is shown as typed:
# its markdown is backslash-escaped (characters remark-parse 5 unescapes), <, > and & become
# entities (so no HTML or <autolink>), bare http(s):// and mailto: lose their autolink, and line
# breaks become spaces (no block of its own: heading, list, quote, link definition).
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]()!~|#])")
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_AUTOLINK = re.compile(r"(https?|mailto)(:)", re.IGNORECASE)
# A value at the start of a message could open a list ("1. ", "- ") or a heading / quote (escaped above).
_LIST_MARKER = re.compile(r"^(\s*)([-+]|\d{1,9}[.)])(?=\s|$)")
_BREAKS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
# Placeholders whose values come from the flow's config and sit inside the template's markdown:
# {url} is the booking link in "[pick a time]({url})".
LINK_PLACEHOLDERS = frozenset({"url"})


def literal(value: object, line_start: bool = False) -> str:
    """`value` as text the widget shows literally: no image, link, HTML or formatting (and, with
    `line_start`, no list either: the value begins the message)."""
    text = _BREAKS.sub(" ", str(value))
    text = "".join(_ENTITIES.get(char, char) for char in text)
    text = _MARKDOWN_SPECIAL.sub(r"\\\1", text)
    text = _AUTOLINK.sub(lambda m: m.group(1) + "&#58;", text)
    if line_start:
        text = _LIST_MARKER.sub(lambda m: m.group(1) + m.group(2)[:-1] + "\\" + m.group(2)[-1], text)
    return text


def link_target(value: object) -> str:
    """A link's URL that cannot end the markdown link early: blanks, parentheses, angle brackets
    and backslashes percent-encoded."""
    return re.sub(r"[\s()<>\\]", lambda m: f"%{ord(m.group(0)):02X}", str(value))


def _shown(name: str, value: object, line_start: bool) -> str:
    if not value:
        return ""
    if isinstance(value, Rendered):
        return value
    return link_target(value) if name in LINK_PLACEHOLDERS else literal(value, line_start)


def _capitalized(text: str) -> str:
    """First letter upper case, keeping a Rendered text Rendered."""
    out = text[:1].upper() + text[1:]
    return Rendered(out) if isinstance(text, Rendered) else out


def _fill(template: str, values: dict[str, object]) -> Rendered:
    """Fill {placeholders} with their values made literal; a missing name drops its ", {name}"
    so no blank shows."""
    if not values.get("name"):
        template = template.replace(", {name}", "")
    text = _PLACEHOLDER.sub(
        lambda m: _shown(m.group(1), values.get(m.group(1)), m.start() == 0 or template[m.start() - 1] == "\n"),
        template,
    )
    return Rendered(re.sub(r"(?<!\.)\.\.(?!\.)", ".", text))  # "Acme S.L." + "." -> one period


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
        return {"text": str(_fill(_pick(localized, lang), values))}

    def question(self, slot: str, lang: str, failures: int = 0) -> dict:
        """The question for `slot` with its buttons; after too many failures, a way out."""
        extra = self.config.extra_for_slot(slot)
        if extra is not None:  # marketing's extra question: its texts are in the flow config
            ask = extra.ask.get(lang)
            options = [(o.id, o.label.get(lang)) for o in extra.options]
        else:
            ask = _pick(self.messages.questions[slot].ask, lang)
            options = [(o.id, o.label.get(lang)) for o in self.config.options_for(slot)]
        buttons = [{"title": title, "payload": option_payload(option_id)} for option_id, title in options]
        if failures >= self.config.max_reasks:
            buttons += [
                {"title": self.messages.buttons["skip"].get(lang), "payload": "/skip"},
                {"title": self.messages.buttons["human"].get(lang), "payload": "/request_human"},
            ]
        message: dict = {"text": ask}
        if buttons:
            message["buttons"] = buttons
        return message

    def offer_sales(self, lang: str) -> dict:
        """The offer of a salesperson to an engaged visitor, with yes / not now buttons."""
        return {
            **self.response("utter_offer_sales", lang),
            "buttons": [
                {"title": self.messages.buttons["talk_to_sales"].get(lang), "payload": "/request_human"},
                {"title": self.messages.buttons["not_now"].get(lang), "payload": "/deny"},
            ],
        }

    def next_steps(self, steps: list[dict], lang: str) -> list[dict]:
        """The messages for routing.next_steps: a booking link, talking now (with yes / not now
        buttons), and the SLA promise ("if you'd rather" when a booking link came first)."""
        messages: list[dict] = []
        for step in steps:
            if step["kind"] == "meeting":
                messages.append(self.response("utter_next_meeting", lang, sdr_name=step["sdr_name"], url=step["url"]))
            elif step["kind"] == "talk_now":
                messages.append(
                    {
                        **self.response("utter_next_talk_now", lang, sdr_name=step["sdr_name"]),
                        "buttons": [
                            {"title": self.messages.buttons["talk_now"].get(lang), "payload": "/request_human"},
                            {"title": self.messages.buttons["not_now"].get(lang), "payload": "/deny"},
                        ],
                    }
                )
            elif step["kind"] == "sla":
                name = "utter_next_sla_otherwise" if messages else "utter_next_sla"
                who = step.get("sdr_name") or self.response("sales_team", lang)["text"]
                text = self.response(name, lang, who=who, hours=step["hours"])["text"]
                messages.append({"text": _capitalized(text)})
        return messages

    def not_now(self, steps: list[dict], hours: int, lang: str) -> dict:
        """ "Ahora no" to talking now (routing.next_steps as offered): the booking link when the
        SDR has one, and when they will write."""
        meeting = next((step for step in steps if step["kind"] == "meeting"), None)
        if meeting is not None:
            return self.response(
                "utter_not_now_meeting", lang, sdr_name=meeting["sdr_name"], url=meeting["url"], hours=hours
            )
        named = next((step.get("sdr_name") for step in steps if step.get("sdr_name")), None)
        who = named or self.response("sales_team", lang)["text"]
        return self.response("utter_not_now", lang, who=_capitalized(who), hours=hours)

    def person_request(self, kind: str, sdr_name: str | None, hours: int, lang: str) -> dict:
        """The answer to "I want to talk to a person" once their details are known."""
        if kind == "live":
            return self.response("utter_person_live", lang, sdr_name=sdr_name)
        who = sdr_name or self.response("sales_team", lang)["text"]
        return self.response("utter_person_later", lang, who=_capitalized(who), hours=hours)

    def consent_question(self, lang: str) -> dict:
        return {
            **self.response("utter_ask_consent", lang),
            "buttons": [
                {"title": self.messages.buttons["consent_yes"].get(lang), "payload": "/affirm"},
                {"title": self.messages.buttons["consent_no"].get(lang), "payload": "/deny"},
            ],
        }

    def reask(self, slot: str, lang: str) -> dict:
        extra = self.config.extra_for_slot(slot)
        if extra is not None:
            return {"text": extra.reask.get(lang)}
        return {"text": _pick(self.messages.questions[slot].reask, lang)}

    def why(self, slot: str | None, lang: str) -> dict:
        extra = self.config.extra_for_slot(slot or "")
        if extra is not None:
            return {"text": extra.why.get(lang)}
        if slot in self.messages.questions:
            return {"text": _pick(self.messages.questions[slot].why, lang)}
        return self.response("utter_default", lang)

    def value(self, key: str, lang: str, **values: object) -> str:
        return _fill(_pick(self.messages.values[key], lang), values)

    def money(self, amount: float, currency: str, lang: str) -> str:
        symbol = CURRENCY_SYMBOLS.get(currency)
        if lang == "en":
            number = f"{amount:,.2f}".removesuffix(".00")
            return f"{symbol}{number}" if symbol else f"{number} {currency}"
        number = f"{amount:,.2f}".removesuffix(".00").replace(",", "_").replace(".", ",").replace("_", ".")
        return f"{number} {symbol or currency}"

    def describe(self, slot: str, value: dict, lang: str) -> str:
        """An answer as the visitor would say it: "unos 10.000 € al año" -> "10.000 € al año"."""
        if slot == "budget":
            if value.get("none"):
                return self.value("budget_none", lang)
            if value.get("unknown"):
                return self.value("budget_unknown", lang)
            currency = value.get("currency") or self.config.currency
            period = value.get("period") or self.config.budget.default_period
            period_text = self.value(f"period_{period}", lang)
            low, high = value.get("min"), value.get("max")
            if low is not None and high is not None and low == high:
                return self.value("budget_exact", lang, amount=self.money(low, currency, lang), period=period_text)
            if low is not None and high is not None:
                return self.value(
                    "budget_range",
                    lang,
                    min=self.money(low, currency, lang),
                    max=self.money(high, currency, lang),
                    period=period_text,
                )
            if high is not None:
                return self.value("budget_up_to", lang, max=self.money(high, currency, lang), period=period_text)
            if low is not None:
                return self.value("budget_from", lang, min=self.money(low, currency, lang), period=period_text)
            return self.value("budget_unknown", lang)
        if slot == "timing":
            months = value.get("months")
            if value.get("no_rush") and months is None:
                return self.value("timing_no_rush", lang)
            if value.get("unknown") or months is None:
                return self.value("timing_unknown", lang)
            if months == 0:
                return self.value("timing_now", lang)
            if months < 1:
                return self.value("timing_weeks", lang)
            if months == 1:
                return self.value("timing_one_month", lang)
            return self.value("timing_months", lang, months=f"{months:g}")
        if slot == "authority":
            return self.value(f"authority_{value.get('level', 'none')}", lang)
        if slot == "need":
            need = self.config.need.get(value.get("value") or "")
            return need.label.get(lang).lower() if need else self.value("need_none", lang)
        return str(value.get("value") or value.get("address") or "")

    def confirmation(self, slot: str, value: dict, lang: str) -> dict:
        """The yes/no read-back of a low-confidence answer."""
        template = self.messages.confirm
        if slot == "email" and "utter_confirm_email" in self.messages.responses:  # "¿tu email es …?", not "¿serían …?"
            template = self.messages.responses["utter_confirm_email"]
        return {
            "text": str(_fill(_pick(template, lang), {"value": self.describe(slot, value, lang)})),
            "buttons": [
                {"title": self.messages.buttons["yes"].get(lang), "payload": "/affirm"},
                {"title": self.messages.buttons["no"].get(lang), "payload": "/deny"},
            ],
        }

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
