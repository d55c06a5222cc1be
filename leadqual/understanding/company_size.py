"""How many people a visitor's company has, when they say so in the chat.

Nobody is asked this; visitors tell it unprompted ("I'm the founder of a 20-person agency",
"somos unos 50 empleados"). The figure goes into the lead's profile, where routing
(`routing.rules[].when.company_size`) and the explicit points (`behaviour.explicit.company_size`)
already read it, so an opener that says it is routed and scored as an intake profile would be.

Only a number tied to a word for people counts: "20 usuarios" (seats), "20 años" or a budget
is not a company size. A range is recorded by its middle ("entre 50 y 100 empleados" -> 75).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from text_to_num import alpha2digit

from leadqual.understanding.parsing import normalize

MAX_EMPLOYEES = 5_000_000

_PEOPLE = (
    r"(?:personas?|empleados?|empleadas?|trabajador(?:es|as)?|colaborador(?:es|as)?|profesionales|"
    r"people|persons?|employees?|staff(?:ers)?|workers?|fte?s?|headcount|heads)"
)
# A number, with thousands separators or a scale ("2k", "1,5 mil", "10 thousand"), never a part of one.
_NUMBER = r"(\d{1,3}(?:[.,]\d{3})+|\d+(?:[.,]\d+)?)(?![.,]?\d)\s*(k|mil|thousand)?"
# A whole number with no scale: "somos 20k" is not said of people.
_PLAIN = r"(\d{1,3}(?:[.,]\d{3})+|\d+)(?![.,]?\d)()"
_APPROX = r"(?:(?:unos|unas|alrededor de|cerca de|casi|mas de|menos de|about|around|roughly|nearly|almost|over|"
_APPROX += r"more than|less than|under|some|approximately|aprox(?:imadamente)?\.?)\s+)?"
_RANGE = rf"{_NUMBER}\s*(?:-|–|a|y|to|and)\s*{_NUMBER}"
# After a bare "somos 20" / "a team of 12": the end of the phrase, so "somos 3 en ventas", "un equipo
# de 8 comerciales" or "somos 10.000 euros" are not the company's size.
_PHRASE_END = r"(?=\s*(?:$|[,.;:!?)]|y\b|and\b|en (?:la empresa|total|plantilla)|in (?:total|the company)))"
_PATTERNS = [
    # "entre 50 y 100 empleados", "50-100 employees", "de 10 a 20 personas"
    re.compile(rf"(?:entre|de|between|from)?\s*{_RANGE}\s*{_PEOPLE}\b"),
    # "20 personas", "a 20-person agency", "200 employees", "unos 50 empleados", "over 1,000 staff"
    re.compile(rf"\b{_APPROX}{_NUMBER}\s*-?\s*(?:strong\s+)?{_PEOPLE}\b"),
    # "un equipo de 12", "a team of 12", "plantilla de 80", "headcount of 300"
    re.compile(
        rf"\b(?:equipo|plantilla|empresa|agencia|pyme|team|company|agency|firm|headcount|staff)\s+(?:de|of)\s+"
        rf"{_APPROX}{_PLAIN}{_PHRASE_END}"
    ),
    # "somos 20", "we are 20", "we're about 15"
    re.compile(rf"\b(?:somos|we are|we re|were)\s+{_APPROX}{_PLAIN}{_PHRASE_END}"),
]


@dataclass(frozen=True)
class CompanySize:
    """Employees, as the visitor said it (`text`: their words, for the SDR)."""

    employees: int
    text: str

    def to_dict(self) -> dict:
        return {**asdict(self), "source": "text"}


def _fold(text: str) -> str:
    """parsing.normalize, with apostrophes as spaces ("we're" -> "we re")."""
    return re.sub(r"[’']", " ", normalize(text))


def _digits(text: str, lang: str) -> str:
    try:
        return alpha2digit(text, "en" if lang == "en" else "es")
    except Exception:  # text2num on odd input: the words stay words
        return text


def _value(number: str, scale: str | None) -> float | None:
    if re.fullmatch(r"\d{1,3}(?:[.,]\d{3})+", number):
        value = float(re.sub(r"[.,]", "", number))
    else:
        try:
            value = float(number.replace(",", "."))
        except ValueError:
            return None
    if scale in ("k", "mil", "thousand"):
        value *= 1000
    return value


def parse_company_size(text: str, lang: str = "es") -> CompanySize | None:
    """The company's size in employees when `text` states it, else None."""
    if not text or len(text) > 1000 or text.lstrip().startswith("/"):
        return None
    # "1,5 mil" stays one number (alpha2digit would make it "1,5 1000").
    folded = _digits(re.sub(r"(\d)\s*(?:mil|thousand)\b", r"\1k", _fold(text)), lang)
    for pattern in _PATTERNS:
        match = pattern.search(folded)
        if match is None:
            continue
        groups = match.groups()
        values = [_value(groups[i], groups[i + 1] or None) for i in range(0, len(groups), 2) if groups[i]]
        values = [v for v in values if v is not None]
        if not values:
            continue
        employees = round(sum(values) / len(values))
        if 1 <= employees <= MAX_EMPLOYEES:
            return CompanySize(employees=employees, text=text.strip()[:200])
    return None


def stated_company_size(messages: list[str], lang: str = "es") -> dict | None:
    """The size the visitor last stated in a conversation (a later "perdón, somos 50" wins)."""
    for text in reversed(messages):
        size = parse_company_size(text, lang)
        if size is not None:
            return size.to_dict()
    return None


def valid_stated_size(value: object) -> dict | None:
    """A stated size read back from a slot or the spool: kept only when it has the shape written above."""
    if not isinstance(value, dict):
        return None
    employees = value.get("employees")
    if isinstance(employees, bool) or not isinstance(employees, int) or not 1 <= employees <= MAX_EMPLOYEES:
        return None
    return {"employees": employees, "text": str(value.get("text") or "")[:200], "source": "text"}
