"""The knowledge form of a flow draft: marketing edits the answers the chat gives to visitors'
questions (config/knowledge.yml's content) as fields, not YAML; published with the flow.

Form fields are named by the path a validation problem names ("knowledge.entries[3].answer.en"),
so each problem is shown next to its field. Example questions and keywords are one per line.
"""

from __future__ import annotations

from leadqual.understanding.knowledge import TOPICS

LANGUAGES = ("es", "en")
TEXTS = ("price_band", "fallback", "continue_prompt", "offer_questions")
NEW = "knowledge.new"


def _lines(raw: str) -> list[str]:
    return [line.strip() for line in raw.splitlines() if line.strip()]


def _number(raw: str) -> object:
    try:
        return float(raw.replace(",", "."))
    except ValueError:
        return raw  # validation names the field: "knowledge.threshold: Input should be a valid number"


def _per_language(form, prefix: str, old: object, read) -> dict:
    """{es, en} from the form's `<prefix>.es` and `<prefix>.en`; a field the form did not send
    keeps its old value (a partial post never blanks what it did not show)."""
    old = old if isinstance(old, dict) else {}
    return {
        lang: read(form.get(f"{prefix}.{lang}"))
        if form.get(f"{prefix}.{lang}") is not None
        else old.get(lang, read(""))
        for lang in LANGUAGES
    }


def _entry_from_form(form, prefix: str, old: dict) -> dict:
    entry = {
        **old,
        "id": (form.get(f"{prefix}.id") or old.get("id") or "").strip(),
        "topic": form.get(f"{prefix}.topic") or old.get("topic") or "",
        "questions": _per_language(form, f"{prefix}.questions", old.get("questions"), _lines),
        "answer": _per_language(form, f"{prefix}.answer", old.get("answer"), str.strip),
    }
    keywords = _per_language(form, f"{prefix}.keywords", old.get("keywords"), _lines)
    entry.pop("keywords", None)
    if any(keywords.values()):
        entry["keywords"] = keywords
    return entry


def knowledge_from_form(form, old: dict) -> dict:
    """The draft's knowledge after the form: the fields it sent, the rest kept as it was. An
    entry marked for deletion goes; a new entry is added when any of its fields is filled in."""
    data = dict(old)
    if form.get("knowledge.threshold") is not None:
        data["threshold"] = _number(form.get("knowledge.threshold").strip())
    for name in TEXTS:
        data[name] = _per_language(form, f"knowledge.{name}", old.get(name), str.strip)
    entries = []
    for i, entry in enumerate(old.get("entries") or []):
        prefix = f"knowledge.entries[{i}]"
        if form.get(f"{prefix}.delete"):
            continue
        entries.append(_entry_from_form(form, prefix, entry if isinstance(entry, dict) else {}))
    new = _entry_from_form(form, NEW, {})
    if new["id"] or any(new["answer"].values()) or any(new["questions"].values()):
        entries.append(new)
    data["entries"] = entries
    return data


def knowledge_view(data: dict) -> dict:
    """What the form shows: texts per language, questions and keywords one per line."""

    def text(value, lang: str) -> str:
        return str(value.get(lang) or "") if isinstance(value, dict) else ""

    def lines(value, lang: str) -> str:
        items = value.get(lang) if isinstance(value, dict) else None
        return "\n".join(str(item) for item in items) if isinstance(items, list) else ""

    entries = []
    for i, entry in enumerate(data.get("entries") or []):
        entry = entry if isinstance(entry, dict) else {}
        entries.append(
            {
                "prefix": f"knowledge.entries[{i}]",
                "id": str(entry.get("id") or ""),
                "topic": str(entry.get("topic") or ""),
                "questions": {lang: lines(entry.get("questions"), lang) for lang in LANGUAGES},
                "keywords": {lang: lines(entry.get("keywords"), lang) for lang in LANGUAGES},
                "answer": {lang: text(entry.get("answer"), lang) for lang in LANGUAGES},
            }
        )
    return {
        "threshold": data.get("threshold", ""),
        "texts": {name: {lang: text(data.get(name), lang) for lang in LANGUAGES} for name in TEXTS},
        "entries": entries,
        "topics": TOPICS,
        "new": NEW,
    }
