"""What every parser shares: the result types, the input guard, text folding, number words and
fuzzy word matching."""

from __future__ import annotations

import functools
import logging
import re
import unicodedata
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, TypeVar

from price_parser import Price

log = logging.getLogger(__name__)


log = logging.getLogger(__name__)


# Longer messages are not answers to a question; refusing them keeps every parser fast
# and bounded (regexes, edit distances) on hostile input.
MAX_INPUT = 1000


_T = TypeVar("_T")


def never_raises(fn: Callable[..., _T]) -> Callable[..., _T | None]:
    """Wrap a parser so odd input yields None instead of an exception in the chat."""

    @functools.wraps(fn)
    def wrapper(text: Any, *args: Any, **kwargs: Any) -> _T | None:
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_INPUT:
            return None
        try:
            return fn(text, *args, **kwargs)
        except Exception:  # a parser must never break the conversation
            log.exception("parser %s failed", fn.__name__)
            return None

    return wrapper


@dataclass(frozen=True)
class Budget:
    """Amount range in `currency` units; min == max for one amount, None for open ends."""

    min: float | None = None
    max: float | None = None
    currency: str | None = None
    period: str | None = None
    none: bool = False
    unknown: bool = False
    confidence: float = 1.0

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Timing:
    """Months until the visitor wants to start (0 = now); None when no rush/unknown."""

    months: float | None = None
    no_rush: bool = False
    unknown: bool = False
    confidence: float = 1.0

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Authority:
    """Buying role: "decision_maker", "influencer", "user" or "none"."""

    level: str
    confidence: float = 1.0

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Need:
    """Id of the configured need (None: the visitor has no specific need)."""

    value: str | None
    matched: str = ""
    confidence: float = 1.0

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Email:
    """An address; `typed_domain` is the domain as written when a provider's typo was corrected
    ("gmal.com" -> "gmail.com"), with a confidence low enough for the chat to read it back."""

    address: str
    confidence: float = 1.0
    typed_domain: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


WHITESPACE = re.compile(r"\s+")


def normalize(text: str) -> str:
    """Lower-case, accent-free, single-spaced text, so patterns need one spelling only."""
    if not isinstance(text, str):
        return ""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return WHITESPACE.sub(" ", stripped.lower()).strip()


def fold(text: str) -> str:
    """normalize() plus typographic apostrophes, which English contractions need."""
    return normalize(text.replace("\u2019", "'").replace("\u00b4", "'"))


def fold_map(text: str) -> tuple[str, list[int]]:
    """Accent-free lower-case text and, per output char, its index in `text`.

    Lets a pattern written without accents cut the visitor's original words
    ("Me llamo Ana Pérez" -> "Ana Pérez").
    """
    out: list[str] = []
    index: list[int] = []
    for i, ch in enumerate(text):
        for c in unicodedata.normalize("NFKD", ch):
            if unicodedata.combining(c):
                continue
            for low in c.lower():
                out.append(low)
                index.append(i)
    return "".join(out), index


def rounded(x: float) -> float:
    return round(float(x), 2)


# Small number words, for "entre tres y cinco mil" (scale shared by both ends) and timing.
SMALL_NUMBERS = {
    "un": 1,
    "uno": 1,
    "una": 1,
    "one": 1,
    "a": 1,
    "an": 1,
    "dos": 2,
    "two": 2,
    "tres": 3,
    "three": 3,
    "cuatro": 4,
    "four": 4,
    "cinco": 5,
    "five": 5,
    "seis": 6,
    "six": 6,
    "siete": 7,
    "seven": 7,
    "ocho": 8,
    "eight": 8,
    "nueve": 9,
    "nine": 9,
    "diez": 10,
    "ten": 10,
    "once": 11,
    "eleven": 11,
    "doce": 12,
    "twelve": 12,
    "quince": 15,
    "fifteen": 15,
    "dieciocho": 18,
    "eighteen": 18,
    "veinte": 20,
    "twenty": 20,
    "veinticuatro": 24,
    "treinta": 30,
    "thirty": 30,
    "cuarenta": 40,
    "forty": 40,
    "cincuenta": 50,
    "fifty": 50,
    "cien": 100,
    "hundred": 100,
}


# Addresses, links and HTML tags carry digits that are never amounts or dates.
EMAIL_OR_URL = re.compile(
    r"\S+@\S+|https?://\S+|www\.\S+|<(script|style)\b.*?</\1\s*>|<[^<>]{0,300}>",
    re.DOTALL,
)


UNKNOWN = re.compile(
    r"\b(?:no (?:lo )?se|no sabria|no sabemos|no lo sabemos|ni idea|depende|no estoy segur[oa]"
    r"|no lo (?:tengo|tenemos) (?:muy )?claro|no (?:esta|es|queda) (?:muy )?claro"
    r"|por definir|sin definir|a definir|por ver"
    r"|no lo (?:hemos|he) (?:decidido|definido|pensado|calculado)|todavia no (?:lo )?sabemos"
    r"|aun no (?:lo )?sabemos|not sure|no idea|(?:don'?t|dont|do not) know|it depends"
    r"|depends|unsure|unclear|not clear|tbd|to be (?:determined|defined|decided)|no clue"
    r"|(?:haven'?t|have not|not) (?:yet )?decided|undecided|not decided)\b"
)


def to_number(raw: str) -> float | None:
    """price_parser guesses the decimal separator ('1.000,50', '1,000.50', '1,5')."""
    amount = Price.fromstring(raw).amount_float
    return None if amount is None else float(amount)


def plural_equal(a: str, b: str) -> bool:
    if a == b:
        return True
    for x, y in ((a, b), (b, a)):
        if x + "s" == y or x + "es" == y or (x.endswith("y") and x[:-1] + "ies" == y):
            return True
    return False


def within_one_edit(a: str, b: str) -> bool:
    """Damerau distance <= 1 (one substitution, insertion, deletion or swap)."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    if la == lb:
        diff = [i for i in range(la) if a[i] != b[i]]
        if len(diff) == 1:
            return True
        return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]
    if la > lb:
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    return a[i:] == b[i + 1 :]
