"""Turn one visitor message into typed answers for the qualification questions.

The slot value of every question is a plain dict (JSON-able, readable through Rasa's tracker
API): the parsed fields, the visitor's own words under "text", and how it was given
("source": "text" | "button" | "skip"). A skipped question is {"skipped": true}.
"""

from __future__ import annotations

import re
from datetime import date

from leadqual.config.marketing import BANT_SLOTS, QualificationConfig
from leadqual.understanding import parsing

# Button payloads look like /inform{"option": "<id>"}; only ids that exist for the
# question being asked are accepted, so a hand-typed payload cannot inject a value.
OPTION_ID = re.compile(r"^[a-z0-9_]{1,64}$")
MAX_TEXT = 1000
# Markup or SQL is never an answer, even when a word in it ("leads") matches a need.
LOOKS_LIKE_CODE = re.compile(
    r"<\s*/?\s*[a-z!]|;\s*--|\b(drop|delete|insert|update|select|alter)\b.{0,40}\b(table|from|into|set)\b",
    re.IGNORECASE,
)


def skipped(text: str = "", source: str = "skip") -> dict:
    return {"skipped": True, "text": text[:MAX_TEXT], "source": source}


def is_skipped(value: object) -> bool:
    return isinstance(value, dict) and bool(value.get("skipped"))


def option_by_label(slot: str, text: str, config: QualificationConfig) -> str | None:
    """The id of the button for `slot` whose label the visitor typed ("este año" for "Este año"),
    in either language, ignoring case, accents and end punctuation; None when it is not one."""
    typed = parsing.normalize(text).strip(" .!?¡¿")
    if not typed:
        return None
    for option in config.options_for(slot):
        if typed in {parsing.normalize(label).strip(" .!?¡¿") for label in (option.label.es, option.label.en) if label}:
            return option.id
    return None


def from_option(slot: str, option_id: object, config: QualificationConfig, lang: str) -> dict | None:
    """The typed value of a button, or None when the id is not one offered for `slot`."""
    if not isinstance(option_id, str) or not OPTION_ID.match(option_id):
        return None
    option = config.option(slot, option_id)
    if option is None:
        return None
    value = dict(option.value)
    if slot == "need":
        value.setdefault("matched", "")
    value.update(text=option.label.get(lang), source="button", option=option.id, confidence=1.0)
    return value


def parse_answer(
    slot: str,
    text: str,
    config: QualificationConfig,
    lang: str,
    *,
    requested: bool,
    today: date | None = None,
    hemisphere: str = "north",
) -> dict | None:
    """Parse free text as the answer to `slot`; None when it does not answer it. `hemisphere`
    places the seasons of a timing answer (`calendar_terms.hemisphere_of_locale`).

    `requested` is True when the visitor is answering that very question; otherwise only
    clear signals count (the multi-answer case: "somos 20, tenemos 10.000 € y lo decido yo").
    """
    text = (text or "").strip()
    if not text or len(text) > MAX_TEXT or LOOKS_LIKE_CODE.search(text):
        return None
    parsed: object | None
    if slot == "budget":
        parsed = parsing.parse_budget(text, lang, requested=requested)
    elif slot == "timing":
        parsed = parsing.parse_timing(
            text,
            lang,
            today=today,
            requested=requested,
            fiscal_year_start=config.fiscal_year_start,
            hemisphere=hemisphere,
        )
    elif slot == "authority":
        parsed = parsing.parse_authority(text, lang, requested=requested)
    elif slot == "need":
        parsed = parsing.parse_need(text, config.need.synonyms(), lang, requested=requested)
    elif slot == "email":
        email = parsing.parse_email_answer(text)
        parsed = {"address": email.address} if email else None
        if email is not None and email.typed_domain:  # "gmal.com" read as gmail.com: asked back, not assumed
            parsed = {**(parsed or {}), "confidence": email.confidence, "typed_domain": email.typed_domain}
    elif slot == "name":
        if not requested:
            return None
        name = parsing.parse_name(text, lang)
        parsed = {"value": name} if name else None
    elif slot == "company":
        if not requested:
            return None
        company = parsing.parse_company(text, lang)
        parsed = {"value": company} if company else None
    else:
        raise ValueError(f"unknown question {slot!r}")
    if parsed is None:
        return None
    value = parsed if isinstance(parsed, dict) else parsed.to_dict()
    value = dict(value)
    value.update(text=text, source="text")
    return value


def extract_other_answers(
    text: str,
    filled: dict[str, object],
    requested: str | None,
    config: QualificationConfig,
    lang: str,
    today: date | None = None,
    hemisphere: str = "north",
) -> dict[str, dict]:
    """Answers to questions other than the one being asked, found in the same message."""
    found: dict[str, dict] = {}
    for slot in (*BANT_SLOTS, "email"):
        if slot == requested or filled.get(slot) is not None:
            continue
        value = parse_answer(slot, text, config, lang, requested=False, today=today, hemisphere=hemisphere)
        if value is not None:
            found[slot] = value
    return found
