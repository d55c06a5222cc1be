"""Turn a visitor's free-text answer into a typed BANT value (Spanish first, English too).

Pure functions: no Rasa, no config files (the configured needs are passed in), nothing
fetched at run time. Every public parser returns None instead of raising, whatever it is
given (empty, very long, emoji, HTML, SQL...), because a chat message is untrusted input
and a parsing bug must never break the conversation.

Library notes (behaviour that drove the glue below):
- text_to_num.alpha2digit("unos diez mil", "es") gives "1 10000" ("unos" is read as
  "uno"), so approximation words are replaced before calling it.
- alpha2digit("dos mil y cinco mil", "es") gives "2005 1000" (it joins across "y"), so a
  "y"/"and" between two scaled number words is rewritten as "-" first.
- alpha2digit("5 mil", "es") gives "5 1000" and ("1,5 millones") gives "1,5 1000000", so
  digits followed by a scale word are expanded by our own code before alpha2digit runs.
- alpha2digit leaves numbers below its threshold (3) alone ("dos semanas"), and "cero"
  too, which is what we want for budgets; timing uses its own small word table.
- price_parser.Price guesses the decimal separator: "1.500" -> 1500, "1,5" -> 1.5,
  "1.000,50" -> 1000.5, "1,000.50" -> 1000.5 (Spanish and English in one rule).
- dateparser is only used for absolute dates ("15 de abril", "15/04/2026"); its first
  call per language takes ~0.2 s (locale loading), later calls ~1-2 ms. It cannot parse
  "el mes que viene", "dentro de tres meses" or "en dos semanas", so relative
  expressions are handled by the regular expressions below.
"""

from __future__ import annotations

import functools
import logging
import re
import unicodedata
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any, TypeVar

from email_validator import EmailNotValidError, validate_email
from price_parser import Price
from text_to_num import alpha2digit

from leadqual import roles, timeutil

log = logging.getLogger(__name__)

# Longer messages are not answers to a question; refusing them keeps every parser fast
# and bounded (regexes, edit distances) on hostile input.
MAX_INPUT = 1000

_T = TypeVar("_T")


def _safe(fn: Callable[..., _T]) -> Callable[..., _T | None]:
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


# ---------------------------------------------------------------------------
# Result types
# ---------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------
# Text helpers
# ---------------------------------------------------------------------------

_WS = re.compile(r"\s+")


def normalize(text: str) -> str:
    """Lower-case, accent-free, single-spaced text, so patterns need one spelling only."""
    if not isinstance(text, str):
        return ""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _WS.sub(" ", stripped.lower()).strip()


def _norm(text: str) -> str:
    """normalize() plus typographic apostrophes, which English contractions need."""
    return normalize(text.replace("\u2019", "'").replace("\u00b4", "'"))


def _fold_map(text: str) -> tuple[str, list[int]]:
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


def _r(x: float) -> float:
    return round(float(x), 2)


# ---------------------------------------------------------------------------
# Budget
# ---------------------------------------------------------------------------

# (pattern on normalized text, ISO code). "" = bare pesos, "$" = dollar sign: both are
# resolved with the country words of the message.
_CURRENCIES: list[tuple[str, str]] = [
    (r"pesos?\s+mexicanos?|pesos?\s+mx|mxn|mx\s?\$|varos|varitos", "MXN"),  # "varos": pesos (MX)
    (r"pesos?\s+colombianos?|cop\$?|col\s?\$", "COP"),
    (r"pesos?\s+argentinos?|ars\$?|ar\s?\$", "ARS"),
    (r"pesos?\s+chilenos?|clp\$?|ch\$", "CLP"),
    (r"(?:nuevos\s+)?soles(?:\s+peruanos)?|pen|s/\.?", "PEN"),
    (
        (
            r"us\s?\$|u\$s|u\$d|usd|dolares?(?:\s+(?:americanos|estadounidenses))?"
            r"|dollars?|bucks|dlls?|dls|dolars?|dollares?|dolaress|dollers?"
        ),
        "USD",
    ),
    (r"libras?(?:\s+esterlinas?)?|pounds?(?:\s+sterling)?|gbp|quid|sterling|£", "GBP"),
    (r"euros?|eur|€|eurazos|euritos|pavos|euors?|eruos?|ueros?|euross", "EUR"),  # with common typos
    (r"pesos?", ""),
    (r"\$", "$"),
]
_CUR_ALT = "|".join(f"(?:{p})" for p, _ in _CURRENCIES)
_CUR = rf"(?<![a-z])(?:{_CUR_ALT})(?![a-z])"
_CUR_COMPILED = [(re.compile(rf"(?:{p})"), code) for p, code in _CURRENCIES]
_CUR_AFTER = re.compile(rf"^\s*(?:(?:de|en|in)\s+)?(?P<c>{_CUR})")
_CUR_BEFORE = re.compile(rf"(?P<c>{_CUR})\s*~?\s*$")
_CUR_ANY = re.compile(_CUR)
# Three-letter codes that are also ordinary words are only trusted next to a number.
_WEAK_CODES = {"pen", "cop", "ars"}
_COUNTRY = [
    (re.compile(r"\b(?:mexic\w*|mx|mxn)\b"), "MXN"),
    (re.compile(r"\b(?:colombi\w*|cop)\b"), "COP"),
    (re.compile(r"\b(?:argentin\w*|ars)\b"), "ARS"),
    (re.compile(r"\b(?:chile|chilen\w*|clp)\b"), "CLP"),
]


def _currency_code(token: str) -> str:
    token = token.strip()
    for rx, code in _CUR_COMPILED:
        if rx.fullmatch(token):
            return code
    return ""


def _resolve_currency(code: str, text: str) -> str | None:
    """'$' is USD unless a Latin-American country is named; bare pesos need the country."""
    if code not in ("", "$"):
        return code
    for rx, country_code in _COUNTRY:
        if rx.search(text):
            return country_code
    return "USD" if code == "$" else None


_SCALES = {
    "k": 1e3,
    "mil": 1e3,
    "thousand": 1e3,
    "grand": 1e3,
    "luca": 1e3,  # Chile/Argentina: a thousand pesos
    "lucas": 1e3,
    "palo": 1e6,  # Colombia: a million pesos
    "palos": 1e6,
    "m": 1e6,
    "mm": 1e6,
    "mio": 1e6,
    "mill": 1e6,
    "millon": 1e6,
    "millones": 1e6,
    "million": 1e6,
    "millions": 1e6,
}
_SCALE = r"(?:k|mil|thousand|grand|lucas?|palos?|millones|millon|millions?|mill|mio|mm|m)"
_NUM = r"\d+(?:[.,]\d+)*"
_SCALED = re.compile(rf"(?<![\w.,])({_NUM})\s*({_SCALE})(?![a-z0-9])")

# Small number words, for "entre tres y cinco mil" (scale shared by both ends) and timing.
_SMALL_NUMBERS = {
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
_RANGE_WORDS = [w for w in _SMALL_NUMBERS if len(w) > 2]
_NUMW = r"(?:(?<![\w.,])\d+(?:[.,]\d+)?|\b(?:" + "|".join(sorted(_RANGE_WORDS, key=len, reverse=True)) + r")\b)"
_RANGE_SCALE = re.compile(
    rf"(?P<a>{_NUMW})\s*(?P<sep>-|–|—|\by\b|\band\b|\ba\b|\bto\b|\bhasta\b|\bo\b|\bor\b)"
    rf"\s*(?P<b>{_NUMW})\s*(?P<s>{_SCALE})(?![a-z0-9])"
)
# alpha2digit joins "dos mil y cinco mil" into "2005 1000": make the "y" a dash first.
_SCALE_AND = re.compile(
    r"\b(mil|millon(?:es)?|thousand|millions?)\s+(?:y|and)\s+"
    r"(?=[a-z]+(?:\s+[a-z]+)?\s+(?:mil|millon(?:es)?|thousand|millions?)\b)"
)
_AND_A_HALF = re.compile(r"\b(\d+)\s+(?:y|and a)\s+(?:medio|half)\b")

_APPROX = re.compile(
    r"\b(?:mas o menos|more or less|unos|unas|aproximadamente|aprox\.?|approx\.?"
    r"|alrededor de(?: los| las)?|cerca de(?: los| las)?|en torno a(?: los| las)?"
    r"|sobre (?:los|las)|about|around|roughly|approximately|circa|something like)"
    r"(?=\s|$)|~|±"
)
_VAGUE = re.compile(r"^\s*(?:€|\$|£)?\s*(?:y pico|y algo|y poco|-?ish|odd|o algo asi|o asi|or so)\b")
# Addresses, links and HTML tags carry digits that are never amounts or dates.
_EMAIL_OR_URL = re.compile(
    r"\S+@\S+|https?://\S+|www\.\S+|<(script|style)\b.*?</\1\s*>|<[^<>]{0,300}>",
    re.DOTALL,
)
_PHONE = re.compile(r"\+?\d[\d \-().]{7,}\d")
_SPACE_GROUPS = re.compile(
    rf"\b(\d{{1,3}})((?: \d{{3}})+)(?=\s*(?:{_CUR_ALT}))",
)
_GLUED_CUR_AFTER = re.compile(
    r"(?<=\d)(?=(?:euros?|eur|usd|gbp|mxn|cop|ars|clp|pen|dolares|dollars|pesos|libras"
    r"|soles|bucks)\b)"
)
_GLUED_CUR_BEFORE = re.compile(r"\b(usd|eur|gbp|mxn|cop|ars|clp|pen)(?=\d)")
_PEN_SYMBOL = re.compile(r"(?<![a-z])s/\.?\s*(?=\d)")
_TOKEN = re.compile(rf"(?<![\w.,]){_NUM}(?!\w)")

_UNITS = re.compile(
    r"^\s*(?:de\s+|more\s+|mas\s+)?(?:comerciales|vendedor(?:es|as)?|personas?|empleados?"
    r"|empleadas?|trabajador(?:es|as)?|usuari(?:os|as)|licencias?|clientes?|agentes?"
    r"|tiendas?|oficinas?|sedes?|sucursales?|equipos?|meses|mes|anos?|semanas?|dias?"
    r"|horas?|minutos?|veces|socios?|miembros?|locales|paises|contactos?|llamadas?"
    r"|tickets?|productos?|leads?|correos?|emails?|people|persons?|employees?|staff"
    r"|users?|seats?|licen[cs]es?|customers?|clients?|agents?|reps?|salespeople"
    r"|stores?|shops?|offices?|months?|years?|weeks?|days?|hours?|minutes?|times"
    r"|partners?|members?|countries|calls?|products?|deals?|%|por ?ciento|percent)(?![a-z])"
)
_YEAR_PREFIX = re.compile(
    r"(?:\ben|\bin|\bdel|\bano|\byear|\bpara(?: el)?|\bfor|\bby|\bantes de|\bbefore"
    r"|\bdesde|\bsince|\buntil|\bhasta(?: el)?)\s*$"
)
_BUDGET_WORDS = re.compile(
    r"\b(?:presupuestos?|presupuestad[oa]|budget\w*|invertir|inversion|invest\w*"
    r"|gastar|gasto|gastamos|gastariamos|spend\w*|pagar|pagamos|pagariamos|pay"
    r"|paying|afford|dinero|money|costo|coste|cost|precio|price|cuota|fee|importe"
    r"|partida|plata|pasta|lana|guita|dispuestos a|willing to)\b"
)

_MAX_QUAL = (
    r"no mas de|no mas que|no superior a|sin pasar de|sin superar|que no pase de"
    r"|menos de|menos que|como mucho|como maximo|a lo sumo|maximo de|maximo|max\.?"
    r"|hasta|tope de|(?:el )?tope (?:es|son|seria|serian|esta en)(?: de)?|tope|por debajo de|inferior a"
    r"|no (?:\w+ )?pasar(?:nos)? de|no (?:\w+ )?superar|no (?:\w+ )?gastar mas de|under|below|less than|up to|upto"
    r"|no more than|not more than|at most|a maximum of|maximum of|maximum|max of"
    r"|capped at|cap of|within|<=|<|≤"
)
_MIN_QUAL = (
    r"no menos de|mas de|mas que|a partir de|desde|como minimo|minimo de|minimo|min\.?"
    r"|al menos|por lo menos|superior a|por encima de|over|above|more than|at least"
    r"|starting at|starting from|from|upwards of|in excess of|north of|>=|>|≥|\+"
)
_PRE_QUAL = re.compile(
    rf"(?:^|(?<=[^\w]))(?:(?P<max>{_MAX_QUAL})|(?P<min>{_MIN_QUAL}))"
    rf"\s*(?:(?:unos|unas|los|las|el|the|a|an|de|~)\s*)*(?:{_CUR})?\s*~?\s*$"
)
_PERIOD_WORDS = r"(?:(?:al|por|a|per|cada|/)\s*(?:mes|ano|month|year)\s*)?"
_POST_MAX = re.compile(
    r"^\s*(?:(?:per|por|a|al|x) (?:user|usuario|seat|persona|licencia)\s*)?"
    rf"{_PERIOD_WORDS},?\s*(?:o menos|or less|or under|or below|como mucho|no mas|not more"
    r"|como maximo|maximo|max|tops|at most|at the most|como tope|de tope|top)\b"
)
_POST_MIN = re.compile(
    rf"^\s*{_PERIOD_WORDS},?\s*(?:\+|(?:o mas|or more|or above|and up|and above"
    r"|en adelante|para arriba|hacia arriba|o superior|como minimo|minimo|al menos"
    r"|at least|at minimum|plus)\b)"
)
_RANGE_SEP = re.compile(
    r"^\s*(?P<sep>-|–|—|a|al|y|and|to|hasta|till|until|o|or)\s*$",
)
_RANGE_INTRO = re.compile(r"(?:\bentre|\bbetween|\bde|\bfrom|\bdesde)\s*(?:~\s*)?$")

_PERIODS = [
    (
        "month",
        re.compile(
            r"(?:\bal mes|\bpor mes|\bcada mes|\bx mes|\bmensual(?:es|mente)?|/\s*mes\b"
            r"|\bper month|\ba month|\bmonthly|\bevery month|\beach month|/\s*mo(?:nth)?\b"
            r"|\bp/?m\b|(?<=\d)pm\b|\bpcm\b|\bmes a mes)"
        ),
    ),
    (
        "year",
        re.compile(
            r"(?:\bal ano|\bpor ano|\bcada ano|\bx ano|\banual(?:es|mente)?|/\s*ano\b"
            r"|\bper year|\ba year|\byearly|\bannual(?:ly)?|\bper annum|\bp\.a\."
            r"|/\s*y(?:ea)?r\b|\bevery year|\beach year|\btodo el ano\b|\bel ano (?:entero|completo)\b"
            r"|\bpara el ano\b|\bfor (?:this|the|next) (?:fiscal |financial )?year\b|\bpara este ano\b"
            r"|\b(?:the )?(?:whole|entire|full) year\b|\bfor the year\b)"
        ),
    ),
    (
        "one_off",
        re.compile(
            r"(?:\bpago unico|\bun (?:solo|unico) pago|\buna (?:sola )?vez|\bde una vez"
            r"|\ben un pago|\bde golpe|\bone[- ]off|\bone[- ]time|\bsingle payment"
            r"|\bupfront|\blump sum|\b(?:para|por|en) (?:todo el|el) proyecto(?: completo| entero)?\b"
            r"|\b(?:for|on) the (?:whole|entire|full) project\b|\bfor the project as a whole\b)"
        ),
    ),
]

_BUDGET_NONE = re.compile(
    r"\b(?:no|sin|ni)\s+(?:(?:tenemos|tengo|hay|contamos con|disponemos de|existe|tiene"
    r"|un|una|ningun|ninguna|nada de|todavia|aun|de momento|por ahora)\s+)*"
    r"(?:presupuesto|dinero|plata|pasta|lana|guita|budget)\b"
    r"|\b(?:presupuesto|budget)\s*(?:es\s+|is\s+|de\s+|of\s+)?(?:cero|zero|nulo|ninguno|nada|none)\b"
    r"|\bno (?:money|funds)\b|\b(?:don'?t|do not|haven'?t|have not|dont) (?:have|got)"
    r"(?: a| any)? (?:budget|money)\b|\bzero budget\b|\bnothing allocated\b"
    r"|\bno podemos (?:pagar|gastar|invertir)\b|\bcan'?t afford\b"
    # Nothing for now: free tools, bootstrapped.
    r"|\b(?:nada|nothing)\s+(?:por ahora|de momento|ahorita|right now|for now|at the moment|yet)\b"
    r"|\b(?:ahorita|ahora|de momento|por ahora) nada\b|\b(?:opciones|algo|herramientas?|cosas) gratis\b"
    r"|\bfree (?:options|tools|stuff)\b|\bbootstrapp?(?:ed|ing)\b"
    r"|\bpresupuesto no hay\b|\bno (?:tenemos|hay) nada asignado\b|\bno manejamos presupuesto\b"
    r"|\bnil budget\b|\bsomething free\b|\bbasically (?:\$|€|£)?0\b"
)
_BUDGET_NONE_SHORT = re.compile(
    r"^(?:nada|ninguno|ninguna|cero|zero|none|nothing|nil|0|no hay|nope, none)[\s.!]*"
    r"(?:(?:lol|jaja\w*|xd|haha\w*|😅|🙃)[\s.!]*)?$"
)
# Someone else knows the figure: the budget is not known yet (not "no budget").
_BUDGET_ASK_SOMEONE = re.compile(
    r"\b(?:preguntar(?:lo|le)?|consultar(?:lo|le)?|hablar(?:lo)?|ver(?:lo)?) (?:a|con) (?:finanzas|contabilidad"
    r"|mi jef[ae]|el jef[ae]|la jef[ae]|direccion|gerencia|mi socio|mi socia|el dueno|la duena)\b"
    r"|\blo que (?:diga|decida|apruebe) (?:el|la|mi) (?:jef[ae]|gerente|direccion|dueno|duena|socio)\b"
    r"|\blo que cueste\b|\bwhatever it costs\b|\bfinance (?:hasn'?t|has not|haven'?t) (?:told|said|decided)\b"
    r"|\b(?:working (?:it|that) out|checking|check) with (?:finance|my boss|management|the board)\b"
    r"|\b(?:until|till|before) (?:we|i) (?:see|get) (?:a|the|your) (?:quote|price|prices|proposal)\b"
    r"|\b(?:haven'?t|have not) got a clue\b|\bfinance (?:director|team|department) handles\b"
    r"|\bstill (?:figuring|working) (?:that|it) out\b"
)
_BUDGET_NOT_SET = re.compile(
    r"\b(?:presupuesto|budget)\s+(?:\w+\s+)?(?:definido|cerrado|fijo|claro|asignado"
    r"|aprobado|set|defined|approved|allocated|fixed)\b"
)
_UNKNOWN = re.compile(
    r"\b(?:no (?:lo )?se|no sabria|no sabemos|no lo sabemos|ni idea|depende|no estoy segur[oa]"
    r"|no lo (?:tengo|tenemos) (?:muy )?claro|no (?:esta|es|queda) (?:muy )?claro"
    r"|por definir|sin definir|a definir|por ver"
    r"|no lo (?:hemos|he) (?:decidido|definido|pensado|calculado)|todavia no (?:lo )?sabemos"
    r"|aun no (?:lo )?sabemos|not sure|no idea|(?:don'?t|dont|do not) know|it depends"
    r"|depends|unsure|unclear|not clear|tbd|to be (?:determined|defined|decided)|no clue"
    r"|(?:haven'?t|have not|not) (?:yet )?decided|undecided|not decided)\b"
)


def _to_number(raw: str) -> float | None:
    """price_parser guesses the decimal separator ('1.000,50', '1,000.50', '1,5')."""
    amount = Price.fromstring(raw).amount_float
    return None if amount is None else float(amount)


def _fmt(value: float) -> str:
    if value == int(value):
        return str(int(value))
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _fmt_amount(value: float) -> str:
    """_fmt, but 1900-2099 written "2.000" so that "hasta 2k" is not read as a year."""
    out = _fmt(value)
    if re.fullmatch(r"(?:19|20)\d\d", out):
        return f"{out[0]}.{out[1:]}"
    return out


def _expand_scaled(text: str) -> str:
    def repl(m: re.Match) -> str:
        value = _to_number(m.group(1))
        if value is None:
            return m.group(0)
        word = m.group(2)
        out = _fmt_amount(value * _SCALES[word])
        return f"{out} pesos" if word.startswith(("luca", "palo")) else out

    return _SCALED.sub(repl, text)


def _word_or_number(token: str) -> float | None:
    if token in _SMALL_NUMBERS:
        return float(_SMALL_NUMBERS[token])
    return _to_number(token)


def _share_range_scale(text: str) -> str:
    """'entre 3 y 5 mil' means 3000-5000: give the first end the scale of the second."""

    def repl(m: re.Match) -> str:
        a, b = _word_or_number(m.group("a")), _word_or_number(m.group("b"))
        if a is None or b is None or not a < b:
            return m.group(0)
        scale = _SCALES[m.group("s")]
        sep = m.group("sep")
        return f"{_fmt_amount(a * scale)} {sep} {_fmt_amount(b * scale)}"

    return _RANGE_SCALE.sub(repl, text)


def _words_to_digits(text: str, lang: str) -> str:
    other = "en" if lang == "es" else "es"
    primary = lang if lang in ("es", "en") else "es"
    text = alpha2digit(text, primary)
    # Mixed-language messages: only run the other language when it names a big number,
    # because Spanish alpha2digit would read the English word "once" as 11.
    hint = r"\b(?:thousand|million|hundred)\b" if other == "en" else r"\b(?:mil|millon|millones|cien|cientos)\b"
    if re.search(hint, text):
        text = alpha2digit(text, other)
    return text


def _prepare_budget_text(text: str, lang: str) -> str:
    """Normalized text with every amount written as plain digits ("5 mil" -> "5000")."""
    t = _norm(text)
    t = _EMAIL_OR_URL.sub(" ", t)
    t = _PHONE.sub(lambda m: " " if sum(c.isdigit() for c in m.group()) >= 9 else m.group(), t)
    t = _APPROX.sub(" ~ ", t)
    # "medio millón", "medio palo" are half a million; "un palo" one (alpha2digit leaves them).
    t = re.sub(r"\bmedio (?:millon|palo)\b", " 500000 ", t)
    t = re.sub(r"\bun (palo|millon)\b", r"1 \1", t)
    t = _PEN_SYMBOL.sub("pen ", t)
    t = _GLUED_CUR_AFTER.sub(" ", t)
    t = _GLUED_CUR_BEFORE.sub(r"\1 ", t)
    t = _SPACE_GROUPS.sub(lambda m: m.group(1) + m.group(2).replace(" ", ""), t)
    t = _share_range_scale(t)
    t = _expand_scaled(t)
    t = _SCALE_AND.sub(r"\1 - ", t)
    t = _words_to_digits(t, lang)
    t = _share_range_scale(t)
    t = _expand_scaled(t)

    def half(m: re.Match) -> str:
        n = int(m.group(1))
        if n >= 1_000_000 and n % 1_000_000 == 0:
            return str(n + 500_000)
        if n >= 1000 and n % 1000 == 0:
            return str(n + 500)
        return m.group(0)

    t = _AND_A_HALF.sub(half, t)
    return _WS.sub(" ", t).strip()


@dataclass
class _Amount:
    start: int
    end: int
    value: float
    currency: str | None  # raw code from _currency_code, None if no currency nearby
    strength: int  # 3 currency, 2 budget word nearby, 1 bare number
    qualifier: str | None  # "min" | "max"
    approx: bool
    vague: bool


def _find_amounts(t: str) -> list[_Amount]:
    found: list[_Amount] = []
    prev_end = 0
    for m in _TOKEN.finditer(t):
        start, end = m.start(), m.end()
        before, after = t[max(0, start - 1) : start], t[end : end + 1]
        nxt2 = t[end : end + 2]
        if before in ("/", ":", "#", "=") or after in ("%", "º", "ª") or re.match(r"[:/]\d", nxt2):
            prev_end = end
            continue
        post = t[end : end + 40]
        pre = t[max(prev_end, start - 40) : start]
        value = _to_number(m.group())
        if value is None or _UNITS.match(post):
            prev_end = end
            continue
        cur = None
        cm = _CUR_AFTER.match(post)
        cur_end = end
        if cm:
            cur = _currency_code(cm.group("c"))
            cur_end = end + cm.end()
        else:
            cb = _CUR_BEFORE.search(t[max(0, start - 10) : start])
            if cb:
                cur = _currency_code(cb.group("c"))
        is_year = (
            cur is None
            and re.fullmatch(r"(?:19|20)\d\d", m.group()) is not None
            and _YEAR_PREFIX.search(t[max(0, start - 12) : start]) is not None
        )
        if is_year or value > 1e10:
            prev_end = end
            continue
        if cur is not None:
            strength = 3
        elif _BUDGET_WORDS.search(t[max(0, start - 60) : min(len(t), end + 30)]):
            strength = 2
        else:
            strength = 1
        qualifier = None
        q = _PRE_QUAL.search(pre)
        rest = t[cur_end : cur_end + 40]
        if q:
            qualifier = "max" if q.group("max") else "min"
        elif _POST_MAX.match(rest):
            qualifier = "max"
        elif _POST_MIN.match(rest):
            qualifier = "min"
        approx = bool(re.search(r"~\s*(?:[€$£]|" + _CUR + r")?\s*$", t[max(0, start - 12) : start]))
        found.append(
            _Amount(
                start,
                end,
                value,
                cur,
                strength,
                qualifier,
                approx,
                bool(_VAGUE.match(rest)),
            )
        )
        prev_end = end
    return found


def _strip_currency(between: str) -> str:
    return _CUR_ANY.sub(" ", between).replace("~", " ")


def _group_amounts(t: str, amounts: list[_Amount]) -> list[list[_Amount]]:
    """Pair 'entre 3000 y 5000', '3000-5000', 'from 3k to 5k' into ranges."""
    units: list[list[_Amount]] = []
    i = 0
    while i < len(amounts):
        a = amounts[i]
        if i + 1 < len(amounts):
            b = amounts[i + 1]
            sep = _RANGE_SEP.match(_strip_currency(t[a.end : b.start]))
            if sep:
                word = sep.group("sep")
                intro = _RANGE_INTRO.search(_strip_currency(t[max(0, a.start - 16) : a.start]).rstrip())
                if word not in ("y", "and") or intro:
                    units.append([a, b])
                    i += 2
                    continue
        units.append([a])
        i += 1
    return units


def _period(t: str) -> str | None:
    best: tuple[int, str] | None = None
    for name, rx in _PERIODS:
        m = rx.search(t)
        if m and (best is None or m.start() < best[0]):
            best = (m.start(), name)
    return best[1] if best else None


@_safe
def parse_budget(text: str, lang: str = "es", *, requested: bool = True) -> Budget | None:
    """Amount range, currency and period of a budget answer.

    `requested` is False when the visitor is answering another question: then only an
    amount with a clear money signal counts, so "somos 20 comerciales" is no budget.
    """
    t = _prepare_budget_text(text, lang)
    if not t:
        return None
    units = _group_amounts(t, _find_amounts(t))
    units = [u for u in units if max(a.strength for a in u) >= (1 if requested else 2)]
    if units:
        unit = max(units, key=lambda u: max(a.strength for a in u))
        strength = max(a.strength for a in unit)
        raw_cur = next((a.currency for a in unit if a.currency is not None), None)
        if raw_cur is None:
            for cm in _CUR_ANY.finditer(t):
                if cm.group().strip() not in _WEAK_CODES:
                    raw_cur = _currency_code(cm.group())
                    break
        currency = None if raw_cur is None else _resolve_currency(raw_cur, t)
        # "15 palos" is a million each wherever it is said (CO, AR, CL): the currency stays
        # unknown unless the text names the country or the peso.
        if strength == 3:
            confidence = 0.95
        elif strength == 2:
            confidence = 0.9
        else:
            confidence = 0.7 if max(a.value for a in unit) >= 100 else 0.5
        period = _period(t)
        if len(unit) == 2:
            lo, hi = sorted((unit[0].value, unit[1].value))
            if re.search(r"^\s*(?:o|or)\s*$", _strip_currency(t[unit[0].end : unit[1].start])):
                confidence -= 0.1
            return Budget(
                min=lo,
                max=hi,
                currency=currency,
                period=period,
                confidence=_r(confidence),
            )
        a = unit[0]
        if a.value == 0:  # "$0", "cero euros": no budget, and nothing else to record
            return Budget(none=True, confidence=0.9)
        if a.approx:
            confidence -= 0.05
        if a.vague:
            confidence = min(confidence, 0.6)
        lo = None if a.qualifier == "max" else a.value
        hi = None if a.qualifier == "min" else a.value
        return Budget(min=lo, max=hi, currency=currency, period=period, confidence=_r(confidence))
    if _BUDGET_NOT_SET.search(t) and re.search(r"\b(?:no|sin|not|without)\b", t):
        # "no tenemos un presupuesto definido": there may be money, the amount is open.
        return Budget(unknown=True, confidence=0.8)
    if _BUDGET_NONE.search(t):
        return Budget(none=True, confidence=0.9)
    if requested and _BUDGET_NONE_SHORT.match(t):
        return Budget(none=True, confidence=0.8)
    if _UNKNOWN.search(t) and (requested or _BUDGET_WORDS.search(t)):
        return Budget(unknown=True, confidence=0.9)
    if requested and _BUDGET_ASK_SOMEONE.search(t):
        return Budget(unknown=True, confidence=0.85)
    return None


# ---------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------

_MONTHS = {
    "enero": 1,
    "febrero": 2,
    "marzo": 3,
    "abril": 4,
    "mayo": 5,
    "junio": 6,
    "julio": 7,
    "agosto": 8,
    "septiembre": 9,
    "setiembre": 9,
    "octubre": 10,
    "noviembre": 11,
    "diciembre": 12,
    "january": 1,
    "february": 2,
    "march": 3,
    "april": 4,
    "may": 5,
    "june": 6,
    "july": 7,
    "august": 8,
    "september": 9,
    "october": 10,
    "november": 11,
    "december": 12,
    "jan": 1,
    "feb": 2,
    "apr": 4,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "sept": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
}
# The English names: the dict lists them after "diciembre".
_EN_MONTHS = set(list(_MONTHS)[list(_MONTHS).index("diciembre") + 1 :])
# English words that are also common verbs/words need a preposition before them.
_AMBIGUOUS_MONTHS = {
    "may",
    "march",
    "jan",
    "sep",
    "oct",
    "nov",
    "dec",
    "jun",
    "jul",
    "feb",
    "apr",
    "aug",
    "sept",
}
_MONTH_ALT = "|".join(sorted(_MONTHS, key=len, reverse=True))
_MONTH_PREP = (
    r"(?:en|para|a partir de|desde|hacia|antes de|a principios de|a mediados de"
    r"|a finales de|principios de|mediados de|finales de|fin de|in|by|for|until|till"
    r"|before|after|from|early|mid|late|end of|start of|beginning of|the end of"
    r"|el proximo|next|this|este)"
)
_MONTH_RE = re.compile(
    rf"(?:\b(?P<prep>{_MONTH_PREP})\s+(?:(?:el\s+)?mes\s+de\s+)?)?\b(?P<m>{_MONTH_ALT})\b"
    r"(?:\s+(?:de\s+|del\s+|of\s+)?(?P<y>20\d\d)\b)?"
)
_DAY_MONTH = re.compile(
    rf"\b\d{{1,2}}(?:st|nd|rd|th|º|ª)?\s*(?:de\s+|of\s+)?(?:{_MONTH_ALT})\b(?:\s*(?:de|del|,)?\s*20\d\d\b)?"
    rf"|\b(?:{_MONTH_ALT})\s+\d{{1,2}}(?:st|nd|rd|th)?\b(?:,?\s*20\d\d\b)?"
)
# A day/month without a year needs a preposition: "24/7" is not the 24th of July.
_NUM_DATE = re.compile(
    r"\b\d{1,2}/\d{1,2}/\d{2,4}\b|\b\d{1,2}[.-]\d{1,2}[.-]\d{2,4}\b"
    r"|(?<=\b(?:el|on|by) )\d{1,2}/\d{1,2}\b|(?<=\bantes del )\d{1,2}/\d{1,2}\b"
)

_TIME_NUMBERS = {
    **{k: v for k, v in _SMALL_NUMBERS.items() if v <= 24},
    "un par de": 2,
    "par de": 2,
    "a couple of": 2,
    "a couple": 2,
    "couple of": 2,
    "unos pocos": 3,
    "unas pocas": 3,
    "unos cuantos": 3,
    "unas cuantas": 3,
    "pocos": 3,
    "pocas": 3,
    "algunos": 3,
    "algunas": 3,
    "varios": 3,
    "varias": 3,
    "a few": 3,
    "few": 3,
    "several": 3,
    "unos": 3,
    "unas": 3,
}
_VAGUE_TIME_NUMBERS = {
    k for k, v in _TIME_NUMBERS.items() if v == 3 and not k.startswith("tres") and k not in ("three", "tres")
}
_TNUM = r"(?:\d+(?:[.,]\d+)?|" + "|".join(re.escape(k) for k in sorted(_TIME_NUMBERS, key=len, reverse=True)) + r")"
_DURATION_PRE = (
    r"en un plazo de|en el plazo de|plazo de|de aqui a|d?aqui a|dentro de|en menos de"
    r"|menos de|antes de|en los proximos|en las proximas|los proximos|las proximas"
    r"|proximos|proximas|over the next|in the next|in less than|less than|the next"
    r"|in about|in around|within|despues de|tras|after|before|next|en|in"
)
_DURATION = re.compile(
    rf"(?:\b(?P<pre>{_DURATION_PRE})\s+)?"
    r"(?:(?:unos|unas|about|around|approximately|roughly|aproximadamente|~|los|las|the)\s+)*"
    rf"(?<![\w.,])(?P<n>{_TNUM})(?:\s*(?:-|–|a|o|or|to|y|and)\s*(?P<n2>{_TNUM}))?"
    r"(?P<half1>\s+and\s+a\s+half)?"
    r"\s*(?P<u>dias?|diitas?|semanas?|semanitas?|meses|mes|mesecitos?|anos?|anitos?|trimestres?|days?"
    r"|weeks?|wks?|months?|mos?|years?|yrs?|quarters?)\b"
    r"(?P<half2>\s+(?:y\s+medi[oa]|and\s+a\s+half))?"
)
# Diminutives ("dos semanitas", "un añito") are the same units.
_UNIT_ALIASES = {
    "meses": "mes",
    "mesecito": "mes",
    "diita": "dia",
    "semanita": "semana",
    "anito": "ano",
}
# "a year from now", "dos meses a partir de hoy": a duration without "en"/"in" before it.
_FROM_NOW = re.compile(
    r"\s+(?:from (?:now|today)|desde (?:hoy|ahora)|a partir de (?:hoy|ahora)|de (?:hoy|ahora) en adelante)\b"
)
_UNIT_MONTHS = {
    "dia": 1 / 30,
    "day": 1 / 30,
    "semana": 0.25,
    "week": 0.25,
    "wk": 0.25,
    "mes": 1,
    "month": 1,
    "mo": 1,
    "ano": 12,
    "year": 12,
    "yr": 12,
    "trimestre": 3,
    "quarter": 3,
}

_T_HALF_YEAR = re.compile(r"\b(?:medio ano|half a year|half year|six months|seis meses)\b")
_T_YEAR_AND_HALF = re.compile(
    r"\b(?:(?:un|1) ano y medio|(?:a|one|1) year and a half|(?:1[.,]5|one and a half) years?)\b"
)
_T_MONTH_AND_HALF = re.compile(r"\b(?:(?:un|1) )?mes y medio\b|\b(?:a|one|1) month and a half\b")
_T_FORTNIGHT = re.compile(r"\b(?:a |one |in a |en una )?(?:fortnight|quincena)\b")
_T_MID_NEXT_YEAR = re.compile(
    r"\b(?:mediados|mitad) del? (?:ano que viene|proximo ano|ano proximo)\b|\bmid[- ]?next[- ]year\b"
    r"|\bmiddle of next year\b|\bmid[- ]?(?:20\d\d)\b"
)
# A month said with "next year" after it ("May next year", "septiembre del año que viene").
_T_OF_NEXT_YEAR = re.compile(
    r"\s*(?:,\s*)?(?:de |del |of )?(?:next year|the following year|el ano que viene|ano que viene"
    r"|el proximo ano|proximo ano|el ano proximo)\b"
)
_T_NEXT_QUARTER = re.compile(
    r"\b(?:proximo|siguiente|next|following|coming)\s+(?:trimestre|quarter)\b"
    r"|\btrimestre\s+(?:que viene|proximo|siguiente|entrante)\b"
)
_T_THIS_QUARTER = re.compile(r"\b(?:este|this|current|el actual)\s+(?:trimestre|quarter)\b")
_T_NEXT_SEMESTER = re.compile(r"\b(?:proximo|siguiente|next)\s+(?:semestre|semester)\b")
_T_END_NEXT_YEAR = re.compile(
    r"\b(?:finales|final|fin|fines)\s+del?\s+(?:ano\s+que\s+viene|proximo\s+ano)\b|\bend of next year\b"
)
_T_END_YEAR = re.compile(
    r"\b(?:finales|final|fin|fines)\s+(?:de|del)\s+(?:este\s+)?ano\b|\bfin de ano\b"
    r"|\bend of (?:the |this )?year\b|\byear[- ]end\b|\beoy\b|\bbefore the year (?:is out|ends)\b"
    r"|\bantes de que (?:acabe|termine) el ano\b|\bnavidad(?:es)?\b|\bchristmas\b"
)
_T_MID_YEAR = re.compile(r"\b(?:mediados|mitad) del? (?:este )?ano\b|\bmid[- ]?year\b|\bmiddle of the year\b")
_T_THIS_YEAR = re.compile(r"\beste ano\b|\bthis year\b|\blater this year\b|\b(?:en )?lo que (?:queda|resta) de ano\b")
_T_START_YEAR = re.compile(
    r"\b(?:principios|comienzos|inicios|inicio|principio|comienzo)\s+(?:de|del)\s+"
    r"(?:proximo\s+)?ano(?:\s+que\s+viene|\s+proximo)?\b"
    r"|\b(?:early|beginning of|start of) (?:next|the new) year\b|\bano nuevo\b|\bnew year\b"
)
_T_NEXT_YEAR = re.compile(
    r"\b(?:el\s+)?ano\s+que\s+viene\b|\b(?:el\s+)?(?:proximo|siguiente)\s+ano\b"
    r"|\bel\s+ano\s+(?:proximo|siguiente|entrante)\b|\bel otro ano\b|\bnext year\b"
)
_T_YEAR_NUM = re.compile(
    r"\b(?:en|para|in|by|for|durante|during|hacia|a lo largo de|desde|en el|del)\s+"
    r"(?:el\s+)?(?:ano\s+)?(?P<y>20\d\d)\b"
)
_T_NEXT_MONTH = re.compile(
    r"\b(?:el\s+)?mes\s+que\s+viene\b|\b(?:el\s+)?(?:proximo|siguiente)\s+mes\b"
    r"|\bel\s+mes\s+(?:proximo|siguiente|entrante)\b|\bel otro mes\b|\bnext month\b"
    r"|\bfollowing month\b"
)
_T_THIS_MONTH = re.compile(
    r"\beste (?:mismo )?mes\b|\bthis (?:very |same )?month\b|\bfin(?:ales)? de(?: este)? mes\b"
    r"|\bend of (?:the |this )?month\b"
)
_T_NEXT_WEEK = re.compile(
    r"\b(?:la\s+)?semana\s+que\s+viene\b|\b(?:la\s+)?(?:proxima|siguiente)\s+semana\b"
    r"|\bla\s+semana\s+(?:proxima|siguiente|entrante)\b|\bla otra semana\b|\bnext week\b"
)
_T_WEEKDAY = re.compile(
    r"\b(?:el|este|el proximo|next|this|on|this coming)\s+(?:lunes|martes|miercoles|jueves"
    r"|viernes|sabado|domingo|monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b"
)
_T_THIS_WEEK = re.compile(r"\besta (?:misma )?semana\b|\bthis (?:very |same )?week\b|\bhoy mismo\b|\bmanana mismo\b")
_T_COMING_MONTHS = re.compile(
    r"\b(?:en\s+)?(?:los|the)?\s*(?:proximos|coming|next few|siguientes)\s+(?:meses|months)\b"
)

_T_NO_RUSH = re.compile(
    r"\bno (?:hay|tenemos|tengo) (?:ninguna )?(?:prisa|urgencia|apuro)\b|\bsin (?:prisa|apuros?|urgencia)\b"
    r"|\bno (?:nos |me )?corre prisa\b|\bno es urgente\b|\bno urge\b|\bno rush\b|\bno hurry\b"
    r"|\bnot urgent\b|\bin no (?:rush|hurry)\b|\bnot in a (?:rush|hurry)\b|\bno timeline\b"
    r"|\bno deadline\b|\bsin plazo\b|\bsin afan\b|\bno hay afan\b"
)
# Waiting on someone else or still deciding: the start is not known, rather than "no rush".
_T_UNKNOWN = re.compile(
    r"\bcuando (?:nos |me )?(?:aprueben|apruebe|den|de|diga|digan|decida|decidan|autorice|autoricen)\b"
    r"|\b(?:no tenemos|no hay|sin) (?:una )?fecha\b|\bno (?:tenemos|hay) (?:un )?plazo\b"
    r"|\bstill (?:scoping|figuring|working (?:it|that) out|evaluating|deciding)\b"
    r"|\bwhen (?:the )?(?:budget|board|boss|management|finance) (?:is |gets )?(?:approved|approves|decides|says)\b"
    r"|\bwhenever (?:the |my )?(?:boss|board|management) (?:says|decides)\b"
    r"|\bcuando (?:el |la |mi |los |las )?(?:jef[ae]s?|direccion|gerencia|directorio|consejo|duen[oa]s?|socios)"
    r" (?:lo )?(?:diga|digan|decida|decidan|apruebe|aprueben|autorice|autoricen)\b"
)
_T_NOW = re.compile(
    r"\bcuanto antes\b|\blo (?:antes|mas pronto|mas rapido) posible\b|\bde inmediato\b"
    r"|\binmediatamente\b|\burgente(?:mente)?\b|\burge\b|\bcon urgencia\b|\basap\b|\ba\.s\.a\.p\b"
    r"|\bas soon as (?:possible|we can)\b|\bright away\b|\bstraight away\b|\bimmediately\b"
    r"|\burgent(?:ly)?\b|\bpara ayer\b|\bdesde ya\b|\bya mismo\b|\bat once\b|\bpara ya\b"
    r"|\bthe sooner the better\b|\ben cuanto (?:podamos|se pueda|sea posible)\b"
    # Regional: "altiro"/"al tiro" (CL), "al toque" (AR, PE, UY), "de una" (CO), "ya mismito".
    r"|\bal ?tiro\b|\bal toque\b|\bde una(?=\s*(?:[,.!;]|$))|\bya mismito\b|\bahoritita\b"
    r"|\bahorita (?:ya|mismo)\b|\b(?:today|hoy mismo|this week) if (?:possible|we can)\b"
)
_T_NOW_WEAK = re.compile(
    r"^(?:pues\s+|bueno\s+|lo\s+|yes,?\s+|si,?\s+)?(?:ya|ahora|ahorita|ahora mismo|now|right now"
    r"|today|hoy|manana|tomorrow|enseguida|en seguida|ya ya|de una)[\s!.]*$"
    r"|\b(?:lo |la )?(?:necesito|necesitamos|queremos|quiero|quisiera|quisieramos|empezar"
    r"|empezamos|arrancar|arrancamos|start|starting|begin|need it|want it|implementar"
    r"|implantar)\s+(?:ya|ahora|ahorita|enseguida|now|right now|today|hoy|manana|tomorrow)\b"
)
_T_SOON = re.compile(
    r"\b(?:muy pronto|pronto|en breve|soon|shortly|proximamente|en poco tiempo"
    r"|en (?:unas|pocas) semanas|in a few weeks)\b"
)
_T_NO_RUSH_WEAK = re.compile(
    r"\bsolo (?:estoy |estamos )?(?:mirando|curioseando|viendo|informandome)\b|\bsolo miro\b"
    r"|\bcurioseando\b|\bjust (?:browsing|looking|curious|researching)\b|\bonly looking\b"
    r"|\bcuando sea\b|\bcuando se pueda\b|\bwhenever\b|\balgun dia\b|\bsome ?day\b"
    r"|\bmas adelante\b|\blater\b|\ba largo plazo\b|\blong[- ]term\b|\ben el futuro\b"
    r"|\bin the future\b|\beventually\b|\b(?:ahora|todavia|aun|de momento|por ahora) no\b"
    r"|\bnot (?:right )?now\b|\bnot yet\b|\bno todavia\b"
)

from leadqual import calendar_terms as cal  # noqa: E402  (the tables of the patterns below)

# Seasons, holidays, vacations, quarters, halves and fiscal years ("antes del verano",
# "Q1 next year", "después de Navidad", "el próximo ejercicio"). The tables and the month
# arithmetic are in leadqual/calendar_terms.py. Each pattern is: an optional preposition (its
# kind: before, in, after, start, mid, end), an optional "next"/"this" word, the term, an
# optional "que viene"/"actual" and an optional year ("de 2027", "del año que viene").
_CAL_PRE = (
    r"(?P<p_end>antes\s+de\s+que\s+(?:acabe|termine|cierre|se\s+cierre|finalice|concluya)n?"
    r"|antes\s+del?\s+(?:cierre|final|fin)\s+del?|(?:at|by|until|till|before)\s+the\s+(?:end|close)\s+of"
    r"|a\s+(?:finales|fines|final|fin)\s+del?|al\s+(?:final|cierre)\s+del?|(?:finales|fines|final|fin|cierre)\s+del?"
    r"|(?:the\s+)?(?:end|close)\s+of|late)"
    r"|(?P<p_start>a\s+(?:principios|comienzos|inicios)\s+del?|(?:principios|comienzos|inicios)\s+del?"
    r"|al\s+(?:inicio|comienzo|principio|arranque)\s+del?|(?:inicio|comienzo|principio|arranque)\s+del?"
    r"|cuando\s+(?:empiece|comience|arranque|inicie)n?|(?:at|by|from)\s+the\s+(?:start|beginning)\s+of"
    r"|(?:the\s+)?(?:start|beginning)\s+of|early)"
    r"|(?P<p_mid>a\s+mediados\s+del?|mediados\s+del?|a\s+(?:la\s+)?mitad\s+del?|(?:in\s+)?the\s+middle\s+of"
    r"|middle\s+of|mid)"
    r"|(?P<p_after>(?:justo\s+)?despues\s+del?|luego\s+del?|tras|una\s+vez\s+(?:pasad|terminad|acabad)[oa]s?"
    r"|(?:pasad|terminad|acabad)[oa]s?|cuando\s+(?:acabe|termine|pase|finalice)n?|al\s+(?:acabar|terminar|finalizar)"
    r"|(?:right\s+|just\s+|sometime\s+|some\s+time\s+)?after|post|once|a\s+la\s+(?:vuelta|salida)\s+del?"
    r"|(?:when\s+we(?:'re|\s+are)\s+)?back\s+from|de\s+vuelta\s+de|a\s+la\s+vuelta\s+de"
    r"|(?:cuando|al)\s+(?:volvamos|vuelva|volvemos|regresemos|regrese|volver|regresar)\s+del?|de\s+regreso\s+del?)"
    r"|(?P<p_before>(?:justo\s+)?antes\s+del?|(?:right\s+|just\s+)?before|ahead\s+of|prior\s+to|previo\s+al?"
    r"|no\s+mas\s+tarde\s+del?|no\s+later\s+than)"
    r"|(?P<p_in>a\s+partir\s+del?|desde|starting(?:\s+in)?|from|durante|a\s+lo\s+largo\s+del?|en|para|por|hacia"
    r"|hasta|until|till|sometime\s+in|some\s+time\s+in|in|during|over|for|by|around|come"
    r"|cuando\s+(?:llegue|lleguen)|when)"
)
_CAL_DET = (
    r"(?:(?P<d_next>(?:el\s+|la\s+)?(?:proxim[oa]|siguiente|nuev[oa])|(?:the\s+)?(?:next|coming|new)"
    r"|this\s+coming|upcoming)"
    r"|(?P<d_this>est[eao]s?|this|(?:the\s+)?current|(?:el\s+|la\s+)?actual))\s+"
)
_CAL_ARTICLE = r"(?:(?:el|la|los|las|the|our|my|nuestr[oa]s?|mis?)\s+)?"
_CAL_HEAD = rf"(?:\b(?:{_CAL_PRE})(?:\s+|(?<=mid)-?)|\b){_CAL_ARTICLE}(?:{_CAL_DET})?"
_CAL_POST = r"(?:\s+(?:(?P<post_next>que\s+viene|proxim[oa]|siguiente|entrante)|(?P<post_this>actual|en\s+curso))\b)?"
_CAL_YEAR = (
    r"(?:\s+(?:(?:de|del|of|in)\s+)?(?:(?P<y>20\d\d)\b|(?:el\s+|the\s+)?(?P<ny>ano\s+que\s+viene|proximo\s+ano"
    r"|ano\s+proximo|siguiente\s+ano|ano\s+siguiente|next\s+year|following\s+year)\b"
    r"|(?P<ty>este\s+ano|this\s+year|ano\s+en\s+curso|current\s+year)\b)"
    r"|\s+(?:del|de\s+este|of\s+the|of\s+this)\s+(?P<gy>ano|year)\b)?"
)
_CAL_OVER = r"(?P<over>\s+(?:is\s+over|ends|is\s+done|has\s+passed|wraps\s+up|closes|is\s+closed|se\s+cierre|cierre))?"
_CAL_FISCAL_SUFFIX = (
    r"(?P<fsuf>\s+(?:fiscal(?:es)?|fy|(?:(?:del|de\s+nuestro|de\s+su|of\s+the|of\s+our|of)\s+)?"
    r"(?:(?P<fsuf_next>proximo|siguiente|next|nuevo|new|coming)\s+)?(?:ano\s+fiscal|ejercicio(?:\s+fiscal)?"
    r"|fiscal\s+year|financial\s+year|fy)(?P<fsuf_next2>\s+(?:que\s+viene|proximo|siguiente|entrante))?)\b)?"
)
_CAL_SEASON = re.compile(
    rf"{_CAL_HEAD}(?P<season>primavera|verano|otono|invierno|springtime"
    r"|spring(?!\s+(?:boot|framework|cloud|mvc|security)\b)|summertime|summer|autumn|fall|wintertime|winter)\b"
    rf"{_CAL_POST}{_CAL_YEAR}{_CAL_OVER}"
)
_CAL_HOLIDAY = re.compile(
    rf"{_CAL_HEAD}(?:(?P<h_christmas>navidad(?:es)?|noche\s?buena|christmas(?:\s+(?:eve|day|time))?|xmas|x-mas"
    r"|fiestas\s+navidenas|fiestas\s+de\s+(?:navidad|fin\s+de\s+ano)|fiestas\s+decembrinas|holiday\s+season"
    r"|festive\s+season|pascua\s+de\s+navidad|(?:temporada|epoca)\s+(?:navidena|de\s+navidad|decembrina))"
    r"|(?P<h_reyes>(?:el\s+)?dia\s+de\s+(?:los\s+)?reyes(?:\s+magos)?|(?:los\s+)?reyes\s+magos|reyes|epiphany)"
    r"|(?P<h_thanksgiving>thanks\s?giving(?:\s+day)?|(?:el\s+)?dia\s+de\s+accion\s+de\s+gracias|accion\s+de\s+gracias"
    r"|turkey\s+day)"
    r"|(?P<h_black_friday>black\s+friday)|(?P<h_buen_fin>(?:el\s+)?buen\s+fin)"
    r"|(?P<h_easter>semana\s+santa|easter(?:\s+(?:sunday|weekend|week|break|holidays?))?|holy\s+week"
    r"|pascua\s+(?:de\s+resurreccion|florida)|semana\s+de\s+pascua|semana\s+mayor|(?P<pascua>pascuas?))"
    r"|(?P<h_carnival>carnavale?s?|carnival|mardi\s+gras)"
    r"|(?P<h_fiestas_patrias>fiestas\s+patrias(?:\s+(?P<fp_country>chilenas|peruanas|mexicanas))?)"
    r"|(?P<h_memorial_day>memorial\s+day)|(?P<h_labor_day>labou?r\s+day))\b"
    rf"{_CAL_POST}{_CAL_YEAR}{_CAL_OVER}"
)
_CAL_VACATION = re.compile(
    rf"{_CAL_HEAD}(?:(?P<v_summer>summer\s+(?:vacations?|holidays?|break|recess)|vacaciones\s+(?:de\s+verano|estivales)"
    r"|paron\s+(?:de\s+agosto|estival|de\s+verano)|receso\s+de\s+verano)"
    r"|(?P<v_winter>winter\s+(?:vacations?|holidays?|break|recess)|vacaciones\s+de\s+invierno|receso\s+invernal"
    r"|receso\s+de\s+invierno)"
    r"|(?P<v_christmas>(?:christmas|xmas)\s+(?:vacations?|holidays?|break)|vacaciones\s+(?:de\s+navidad(?:es)?"
    r"|de\s+fin\s+de\s+ano|navidenas))"
    r"|(?P<v_easter>easter\s+(?:vacations?|holidays?|break)|vacaciones\s+de\s+(?:semana\s+santa|pascua))"
    r"|(?:(?P<v_bare>vacaciones|vacations?|holidays?)|(?P<v_fiestas>fiestas(?!\s+patrias))|(?P<v_feriado>feriados?))"
    r"(?P<v_december>\s+(?:de|en|in|of)\s+(?:diciembre|december|navidad|fin\s+de\s+ano))?)\b"
    rf"{_CAL_POST}{_CAL_YEAR}{_CAL_OVER}"
)
_CAL_QUARTER = re.compile(
    rf"{_CAL_HEAD}(?P<fpre>(?:fiscal|fy)\s*)?(?P<calendar>calendar\s+)?"
    r"(?:q(?P<qa>[1-4])|(?P<qb>[1-4])q|t(?P<qc>[1-4])"
    r"|(?P<qd>[1-4])\s*(?:er|ero|ro|do|o|to|st|nd|rd|th)\s*(?:trimestre|quarter)"
    r"|(?P<qe>primer|primero|segundo|tercer|tercero|cuarto|ultimo|first|second|third|fourth|final|last)"
    r"\s+(?:trimestre|quarter)|(?P<qx>trimestre|quarter))\b(?P<natural>\s+(?:natural|calendario)\b)?"
    rf"{_CAL_FISCAL_SUFFIX}{_CAL_POST}{_CAL_YEAR}{_CAL_OVER}"
)
_QUARTER_WORDS = {
    "primer": 1,
    "primero": 1,
    "first": 1,
    "segundo": 2,
    "second": 2,
    "tercer": 3,
    "tercero": 3,
    "third": 3,
    "cuarto": 4,
    "fourth": 4,
    "ultimo": 4,
    "final": 4,
    "last": 4,
}
_CAL_HALF = re.compile(
    rf"{_CAL_HEAD}(?P<fpre>(?:fiscal|fy)\s*)?"
    r"(?:(?P<hw>segund[oa]|2(?:d[oa]|o|a|nd)|primer[oa]?|1(?:er|r[oa]|o|a|st)|second|first|latter|back|front)"
    r"\s+(?P<hu>semestre|half|mitad)|h(?P<hn>[12])|(?P<hx>semestre))\b"
    r"(?!\s+(?:of|del?)\s+(?:the\s+|this\s+|next\s+|este\s+|la\s+|el\s+)?(?:month|week|day|mes|semana|dia"
    r"|hour|hora|meeting|game|match|call|season|temporada|partido|reunion)\b)"
    rf"{_CAL_FISCAL_SUFFIX}{_CAL_POST}{_CAL_YEAR}{_CAL_OVER}"
)
_CAL_FISCAL_YEAR = re.compile(
    rf"{_CAL_HEAD}(?:(?P<fy>(?:ano|anio)\s+(?:fiscal|contable)|ejercicio(?:\s+(?:fiscal|contable|economico))?"
    r"|fiscal\s+year|financial\s+year|fiscal|fy)|(?P<fy_close>cierre\s+(?:fiscal|contable"
    r"|del?\s+(?:ano\s+fiscal|ejercicio(?:\s+fiscal)?))))\b(?P<fy_end>\s*-\s*end\b|\s+end\b|\s+close\b)?"
    rf"{_CAL_POST}{_CAL_YEAR}{_CAL_OVER}"
)
_CAL_PAST_AFTER = re.compile(r"\s+(?:pasad[oa]s?|anterior(?:es)?|ago)\b")
_CAL_PAST_BEFORE = re.compile(r"\b(?:last|past|previous)\s+$")
# Words each family needs, to skip its (slower) pattern on messages without any.
_CAL_KEYWORDS = {
    "season": re.compile(r"primavera|verano|otono|invierno|spring|summer|autumn|fall|winter"),
    "holiday": re.compile(
        r"navid|decembrin|buena|christmas|xmas|fiestas|season|pascua|reyes|epiphany|thanks|gracias|turkey|friday"
        r"|buen fin|santa|easter|holy|mayor|carnaval|carnival|mardi|memorial|labou?r"
    ),
    "vacation": re.compile(r"vacacion|vacation|holiday|fiestas|feriado|paron|receso|break|recess"),
    "quarter": re.compile(r"q[1-4]|[1-4]q|t[1-4]|trimestre|quarter"),
    "half": re.compile(r"semestre|half|mitad|h[12]"),
    "fiscal": re.compile(r"fiscal|fy|ejercicio|financial|contable"),
}
# A one-letter typo must not hide a calendar word ("berano", "navidaad", "vacasiones"); real
# words one edit away from one ("invierto", "sprint", "winner") are never touched.
_CAL_TYPO_TARGETS = (
    "primavera",
    "verano",
    "invierno",
    "navidad",
    "navidades",
    "vacaciones",
    "semestre",
    "trimestre",
    "ejercicio",
    "fiscal",
    "summer",
    "autumn",
    "winter",
    "christmas",
    "thanksgiving",
    "holidays",
    "vacation",
)
_CAL_TYPO_KEEP = {
    "invierto",
    "infierno",
    "sprint",
    "string",
    "winner",
    "winder",
    "simmer",
    "summed",
    "summit",
    "vocation",
    "vocaciones",
    "semestral",
    "trimestral",
    "verona",
    "serano",
    "fiscales",
    "fiscala",
}


def _fix_calendar_typos(t: str) -> str:
    words = t.split(" ")
    for i, word in enumerate(words):
        if len(word) < 5 or not word.isalpha() or word in _CAL_TYPO_KEEP or word in _CAL_TYPO_TARGETS:
            continue
        if word in _MONTHS or word in _TIME_TYPO_KEEP:
            continue
        for target in _CAL_TYPO_TARGETS:
            if _within_one_edit(word, target) and not _plural_equal(word, target):
                words[i] = target
                break
    return " ".join(words)


def _cal_kind(m: re.Match) -> str | None:
    """The preposition's kind (before, in, after, start, mid, end), None without one."""
    for kind in ("end", "start", "mid", "after", "before", "in"):
        if m.group("p_" + kind):
            if m.group("over"):  # "before the fiscal year closes", "once summer is over"
                return "end" if kind in ("before", "end") else "after"
            return kind
    return "after" if m.group("over") else None


def _cal_which(m: re.Match) -> str | None:
    """ "next" or "this", from the word before or after the term."""
    if m.group("d_next") or m.group("post_next"):
        return "next"
    if m.group("d_this") or m.group("post_this"):
        return "this"
    return None


def _cal_year(m: re.Match, today: date) -> int | None:
    if m.group("y"):
        return int(m.group("y"))
    if m.group("ny"):
        return today.year + 1
    if m.group("ty"):
        return today.year
    return None


def _cal_target(p: cal.Period, kind: str) -> int:
    return {
        "start": p.start,
        "mid": p.start + p.length // 2,
        "end": p.end,
        "before": p.before,
        "after": p.after,
    }[kind]


def _cal_one(p: cal.Period, kind: str, now: int) -> float:
    """Months from `now` (a month index) to what `kind` means for `p`; 0 when already past.

    "in" (and "this", "next") is 0 while the period lasts, else its first month.
    """
    if kind in ("in", "this", "next"):
        return 0.0 if p.start <= now < p.start + p.length else float(max(0, p.start - now))
    return float(max(0, _cal_target(p, kind) - now))


def _cal_nearest(periods: list[cal.Period], kind: str, now: int) -> float | None:
    """The same for the first of `periods` (one per year) that is not past for `kind`."""
    for p in sorted(periods):
        if kind in ("in", "this") and p.start <= now < p.start + p.length:
            return 0.0
        if kind in ("in", "this", "next"):
            if p.start > now:
                return float(p.start - now)
        elif _cal_target(p, kind) >= now:
            return float(_cal_target(p, kind) - now)
    return None


def _cal_resolve(
    m: re.Match, make: Callable[[int], cal.Period], today: date, conf: float
) -> tuple[int, int, float, float] | None:
    """A yearly period (a season, a quarter, a holiday...) read with its preposition and year."""
    kind, which = _cal_kind(m), _cal_which(m)
    mode = (which or "in") if kind in (None, "in") else kind
    now = cal.month_index(today.year, today.month)
    year = _cal_year(m, today)
    if year is not None:
        months = _cal_one(make(year), mode, now)
    else:
        periods = [make(y) for y in range(today.year - 1, today.year + 3)]
        if which == "next":  # "el próximo verano" said in July is next year's
            periods = [p for p in periods if p.start > now]
        months = _cal_nearest(periods, mode, now)
    if months is None:
        return None
    return (m.start(), m.end(), _r(months), conf)


def _cal_parts(m: re.Match, today: date, size: int, n: int | None, fiscal_start: tuple[int, int] | None):
    """One quarter (size 3) or half (size 6): named (`n`) or "this"/"next" one (`n` None)."""
    kind, which = _cal_kind(m), _cal_which(m)
    now = cal.month_index(today.year, today.month)
    years = range(today.year - 1, today.year + 3)
    if fiscal_start is None:
        if n is not None:
            make = functools.partial(cal.calendar_quarter if size == 3 else cal.calendar_half, n)
            return _cal_resolve(m, make, today, 0.9)
        parts = [cal.period(cal.month_index(y, 1) + size * k, size) for y in years for k in range(12 // size)]
    else:
        fy_now = cal.fiscal_year_containing(today, fiscal_start)
        if n is not None:
            if m.group("fsuf_next") or m.group("fsuf_next2"):  # "Q2 of next fiscal year"
                p = cal.fiscal_part(fy_now + 1, fiscal_start, n, size)
                return (m.start(), m.end(), _r(_cal_one(p, kind or "in", now)), 0.9)
            return _cal_resolve(m, lambda y: cal.fiscal_part(y, fiscal_start, n, size), today, 0.9)
        parts = [cal.fiscal_part(y, fiscal_start, k, size) for y in years for k in range(1, 12 // size + 1)]
    # "this quarter" / "end of this semester" / "the next fiscal quarter".
    parts.sort()
    current = next(p for p in parts if p.start <= now < p.start + p.length)
    target = next(p for p in parts if p.start > current.start) if which == "next" else current
    return (m.start(), m.end(), _r(_cal_one(target, kind or "in", now)), 0.9)


def _cal_fiscal_year(m: re.Match, today: date, fiscal_start: tuple[int, int]) -> tuple[int, int, float, float] | None:
    """ "next fiscal year" (its first month), "this fiscal year" / "antes del cierre del
    ejercicio" (the last month of the current one), "Q1 fiscal" is in _cal_parts."""
    kind, which = _cal_kind(m), _cal_which(m)
    word = m.group("fy") or ""
    closing = m.group("fy_close") or m.group("fy_end")
    if closing:
        kind = "after" if kind == "after" else "end"
    if (word in ("fiscal", "fy") or word.startswith("ejercicio")) and not (kind or which or m.group("y") or closing):
        return None  # "asesor fiscal", "hacer ejercicio"
    now = cal.month_index(today.year, today.month)
    fy_now = cal.fiscal_year_containing(today, fiscal_start)
    if m.group("y"):
        if fiscal_start != (1, 1):  # "ejercicio 2027" is only clear when it is the calendar year
            return None
        p = cal.fiscal_year(int(m.group("y")), fiscal_start)
        if kind in (None, "in") and p.start <= now:  # like "en 2026": the rest of this year
            months = float(max(0, p.end - now))
        else:
            months = _cal_one(p, kind or "in", now)
        return (m.start(), m.end(), _r(months), 0.9)
    upcoming = which == "next" or bool(m.group("ny"))
    p = cal.fiscal_year(fy_now + 1 if upcoming else fy_now, fiscal_start)
    if kind == "start" and not upcoming:  # "a principios del año fiscal": now, or the next one
        nxt = cal.fiscal_year(fy_now + 1, fiscal_start)
        months = 0.0 if p.start == now else float(nxt.start - now)
    elif upcoming and kind in (None, "in", "start"):
        months = float(p.start - now)  # "next fiscal year", "a partir del próximo ejercicio"
    elif kind in (None, "in", "end") or (kind == "before" and not upcoming):
        months = float(p.end - now)  # "this fiscal year", "before the fiscal year closes"
    else:
        months = _cal_one(p, kind, now)  # "before next fiscal year", "after the fiscal year"
    return (m.start(), m.end(), _r(max(0.0, months)), 0.9)


def _calendar_times(
    t: str, today: date, requested: bool, hemisphere: str, fiscal_start: tuple[int, int]
) -> tuple[list[tuple[int, int, float, float]], bool]:
    """(start, end, months, confidence) of each calendar expression, and whether one was unclear
    ("después de vacaciones" said when it is not obvious which vacation is meant). Months -1:
    an expression about the past ("el verano pasado"), no timeline but not to be read otherwise."""
    found: list[tuple[int, int, float, float] | None] = []
    unclear = False
    now = cal.month_index(today.year, today.month)
    # The hemisphere given (the lead's country) unless the message names places of the other.
    hemisphere = cal.hemisphere_named(t) or (hemisphere if hemisphere in cal.SEASON_START else "north")

    def said(m: re.Match) -> bool:
        """Bare words ("verano", "Semana Santa") only answer the timing question itself."""
        return requested or bool(_cal_kind(m) or _cal_which(m))

    for m in _CAL_SEASON.finditer(t) if _CAL_KEYWORDS["season"].search(t) else ():
        word = m.group("season")
        if not said(m) or (word == "fall" and not (_cal_kind(m) or _cal_which(m))):
            continue
        name = cal.SEASON_WORDS[word]
        back = m.group("p_after") and re.match(
            r"a la vuelta|de vuelta|de regreso|back|when|(?:cuando|al) (?:volv|vuelv|regres)", m.group("p_after")
        )
        if back and name == "summer":  # "a la vuelta del verano": back from the summer vacation
            found.append(_cal_resolve(m, functools.partial(cal.summer_vacation, hemisphere=hemisphere), today, 0.85))
        else:
            found.append(_cal_resolve(m, functools.partial(cal.season, name, hemisphere=hemisphere), today, 0.85))

    country = cal.country_named(t)
    for m in _CAL_HOLIDAY.finditer(t) if _CAL_KEYWORDS["holiday"].search(t) else ():
        name = next(k for k, v in m.groupdict().items() if k.startswith("h_") and v)[2:]
        if not said(m) or (name == "reyes" and _cal_kind(m) is None):
            continue
        if m.group("pascua") and country == "chile":  # in Chile "Pascua" is Christmas
            name = "christmas"
        place = {"chilenas": "chile", "peruanas": "peru", "mexicanas": "mexico"}.get(m.group("fp_country"), country)
        found.append(_cal_resolve(m, functools.partial(cal.holiday, name, country=place), today, 0.9))

    for m in _CAL_VACATION.finditer(t) if _CAL_KEYWORDS["vacation"].search(t) else ():
        bare = m.group("v_bare") or m.group("v_fiestas") or m.group("v_feriado")
        if not said(m) or (bare and not m.group("v_december") and _cal_kind(m) is None):
            continue
        if m.group("v_summer"):
            make: Callable[[int], cal.Period] = functools.partial(cal.summer_vacation, hemisphere=hemisphere)
        elif m.group("v_winter"):
            make = functools.partial(cal.winter_vacation, hemisphere=hemisphere)
        elif m.group("v_christmas") or m.group("v_december"):
            make = functools.partial(cal.holiday, "christmas")
        elif m.group("v_easter"):
            make = functools.partial(cal.holiday, "easter")
        elif m.group("v_fiestas") and (today.month in (11, 12, 1) or (today.month in (8, 9) and country == "chile")):
            # "después de las fiestas": Christmas and New Year around December; in Chile in
            # August-September, the fiestas patrias. Any other time it is unclear.
            name = "christmas" if today.month in (11, 12, 1) else "fiestas_patrias"
            make = functools.partial(cal.holiday, name, country=country)
        elif m.group("v_fiestas") or m.group("v_feriado"):  # which fiestas, which long weekend?
            unclear = True
            continue
        else:
            around = cal.vacation_around(today, hemisphere)
            if around is None:
                unclear = True
            else:
                found.append((m.start(), m.end(), _r(_cal_one(around, _cal_kind(m) or "in", now)), 0.85))
            continue
        found.append(_cal_resolve(m, make, today, 0.85))

    for m in _CAL_QUARTER.finditer(t) if _CAL_KEYWORDS["quarter"].search(t) else ():
        fiscal = fiscal_start if m.group("fpre") or m.group("fsuf") else None
        kind, which = _cal_kind(m), _cal_which(m)
        word = m.group("qe")
        if word == "last" and not (m.group("gy") or _cal_year(m, today)):
            continue  # "last quarter we grew" is the past; "the last quarter of the year" is Q4
        if word == "ultimo" and not (requested or kind or m.group("gy") or _cal_year(m, today)):
            continue
        if m.group("qx"):
            # "this quarter" is now; "next quarter" is the first month of the next quarter (in
            # September: October), as a sales rep records it.
            if which is None and kind in (None, "in", "before", "after"):
                continue
            found.append(_cal_parts(m, today, 3, None, fiscal))
            continue
        raw = m.group("qa") or m.group("qb") or m.group("qc") or m.group("qd") or word
        found.append(_cal_parts(m, today, 3, _QUARTER_WORDS.get(raw) or int(raw), fiscal))

    for m in _CAL_HALF.finditer(t) if _CAL_KEYWORDS["half"].search(t) else ():
        fiscal = fiscal_start if m.group("fpre") or m.group("fsuf") else None
        kind, which = _cal_kind(m), _cal_which(m)
        word = m.group("hw") or m.group("hn") or ""
        year_said = m.group("gy") or _cal_year(m, today)
        if (m.group("hu") == "mitad" or word in ("latter", "back", "front")) and not (year_said or fiscal):
            continue  # "la segunda mitad", "back half an hour": only "... del año" is a half-year
        if m.group("hx"):  # "este semestre"; "el próximo semestre" stays six months
            if (which is None and kind in (None, "in", "before", "after")) or (which == "next" and kind is None):
                continue
            found.append(_cal_parts(m, today, 6, None, fiscal))
            continue
        n = 2 if word[0] in "2sl" or word == "back" else 1
        found.append(_cal_parts(m, today, 6, n, fiscal))

    for m in _CAL_FISCAL_YEAR.finditer(t) if _CAL_KEYWORDS["fiscal"].search(t) else ():
        found.append(_cal_fiscal_year(m, today, fiscal_start))

    # Overlapping matches ("vacaciones de verano" is also "verano"): the earliest, then longest.
    # The past ("el verano pasado", "last summer") is no timeline, and it hides what it overlaps.
    kept: list[tuple[int, int, float, float]] = []
    for f in sorted((f for f in found if f is not None), key=lambda f: (f[0], f[0] - f[1])):
        if _CAL_PAST_AFTER.match(t, f[1]) or _CAL_PAST_BEFORE.search(t, 0, f[0]):
            kept.append((f[0], f[1], -1.0, 0.0))
        elif not any(k[0] <= f[0] < k[1] or f[0] <= k[0] < f[1] for k in kept):
            kept.append(f)
    return kept, unclear and not kept


_DATEPARSER_LANGS: dict[str, list[str]] = {"es": ["es"], "en": ["en"]}


# Spoken "pa'" / "pa" / "pal" (Latin America) for "para" / "para el".
_PA = re.compile(r"\bpa(l)?'?(?=\s)")
# Words of the time expressions that a one-letter typo must not hide ("en tres mese",
# "lo antes posble"). Unit words are only corrected right after a number or "de"/"of",
# and real words that are one edit away from them ("mesa", "veces") are never touched.
_TIME_UNIT_WORDS = ("meses", "semana", "semanas", "months", "month", "weeks", "years", "trimestre", "trimestres")
_TIME_PHRASE_WORDS = (
    "posible",
    "possible",
    "inmediato",
    "inmediatamente",
    "immediately",
    "urgente",
)
_TIME_TYPO_KEEP = {
    "mesa",
    "mesas",
    "veces",
    "veses",
    "pesos",
    "mejor",
    "mismo",
    "misma",
    "cuando",
    "cuantos",
    "cuantas",
}
_TIME_NUMBER_WORDS = {w for k in _TIME_NUMBERS for w in k.split()} | {"de", "of"}


def _fix_time_typos(t: str) -> str:
    words = t.split(" ")
    for i, word in enumerate(words):
        if len(word) < 4 or word in _TIME_TYPO_KEEP or not word.isalpha():
            continue
        targets = _TIME_PHRASE_WORDS
        prev = words[i - 1] if i else ""
        if prev in _TIME_NUMBER_WORDS or prev.isdigit():
            targets = targets + _TIME_UNIT_WORDS
        if word in targets:
            continue
        for target in targets:
            if len(target) >= 5 and _within_one_edit(word, target):
                words[i] = target
                break
    return " ".join(words)


def _months_until(month: int, today: date, year: int | None = None) -> float:
    if year is not None:
        return float(max(0, (year - today.year) * 12 + month - today.month))
    return float((month - today.month) % 12)


def _dateparser_months(fragment: str, lang: str, today: date) -> float | None:
    """Absolute dates through dateparser, pinned to `today` so results are deterministic."""
    import dateparser  # imported lazily: ~0.2 s, only needed for explicit dates

    base = datetime(today.year, today.month, today.day)
    settings = {
        "PREFER_DATES_FROM": "future",
        "RELATIVE_BASE": base,
        "RETURN_AS_TIMEZONE_AWARE": False,
    }
    words = set(re.findall(r"[a-z]+", fragment))
    language = "en" if words & _EN_MONTHS else lang if lang in _DATEPARSER_LANGS else "es"
    parsed = dateparser.parse(fragment, languages=_DATEPARSER_LANGS[language], settings=settings)
    if parsed is None:
        return None
    return max(0.0, round((parsed.date() - today).days / 30.44, 1))


def _time_number(token: str) -> tuple[float | None, bool]:
    token = token.strip()
    if token in _TIME_NUMBERS:
        return float(_TIME_NUMBERS[token]), token in _VAGUE_TIME_NUMBERS
    value = _to_number(token)
    return value, False


def _explicit_times(t: str, lang: str, today: date, requested: bool) -> list[tuple[int, int, float, float]]:
    """(position, priority, months, confidence) of each explicit time expression."""
    found: list[tuple[int, int, float, float]] = []
    month = today.month

    def add(m: re.Match | None, prio: int, months: float, conf: float = 0.95) -> None:
        if m is not None:
            found.append((m.start(), prio, _r(max(0.0, months)), conf))

    add(_T_END_NEXT_YEAR.search(t), 0, 12 - month + 12)
    add(_T_END_YEAR.search(t), 1, 12 - month)
    add(_T_START_YEAR.search(t), 2, (12 - month + 1) % 12)
    add(_T_MID_NEXT_YEAR.search(t), 1, 12 - month + 6)
    add(_T_MID_YEAR.search(t), 2, (6 - month) % 12)
    # "next year" is its January (in September: 4 months), as "el año que viene" is said of a start.
    add(_T_NEXT_YEAR.search(t), 3, 12 - month + 1)
    add(_T_YEAR_AND_HALF.search(t), 4, 18)
    add(_T_MONTH_AND_HALF.search(t), 4, 1.5)
    add(_T_HALF_YEAR.search(t), 5, 6)
    add(_T_NEXT_QUARTER.search(t), 6, ((month - 1) // 3 + 1) * 3 + 1 - month)
    add(_T_FORTNIGHT.search(t), 5, 0.5)
    add(_T_THIS_QUARTER.search(t), 6, 0)
    add(_T_NEXT_SEMESTER.search(t), 6, 6)
    add(_T_NEXT_MONTH.search(t), 8, 1)
    add(_T_THIS_MONTH.search(t), 8, 0)
    add(_T_NEXT_WEEK.search(t), 8, 0.25)
    add(_T_THIS_WEEK.search(t), 8, 0)
    if requested:  # "this year we grew...", "el lunes te llamo" are no timeline
        add(_T_WEEKDAY.search(t), 8, 0, 0.85)
        add(_T_THIS_YEAR.search(t), 9, 12 - month, 0.7)
    add(_T_COMING_MONTHS.search(t), 10, 3, 0.6)
    for m in _T_YEAR_NUM.finditer(t):
        year = int(m.group("y"))
        if year == today.year:
            add(m, 9, 12 - month, 0.7)
        elif today.year < year <= today.year + 10:
            add(m, 9, (year - today.year) * 12 - (month - 1), 0.8)
    for m in _DURATION.finditer(t):
        if re.search(r"\bhace\s*$|\bago\b", t[max(0, m.start() - 6) : m.start()]) or re.match(
            r"\s*ago\b", t[m.end() :]
        ):
            continue
        n_token = m.group("n")
        from_now = _FROM_NOW.match(t, m.end())
        if (
            m.group("pre") is None
            and not from_now
            and (not requested or n_token in ("a", "an", "un", "una", "uno", "one"))
        ):
            continue
        if re.match(r"\s*(?:de|of)\s+(?:prueba|trial|contrato|contract)", t[m.end() :]):
            continue
        n, vague = _time_number(n_token)
        if m.group("n2"):
            n2, vague2 = _time_number(m.group("n2"))
            if n2 is not None and (n is None or n2 > n):
                n, vague = n2, vague2
        if n is None:
            continue
        unit = m.group("u")
        unit = "mes" if unit in ("mes", "meses") else unit.removesuffix("s")
        unit = _UNIT_ALIASES.get(unit, unit)
        factor = _UNIT_MONTHS.get(unit)
        if factor is None:
            continue
        if m.group("half1") or m.group("half2"):
            n += 0.5
        pos = m.start("pre") if m.group("pre") else m.start("n")
        found.append((pos, 5, _r(n * factor), 0.6 if vague else 0.95))
    for m in _MONTH_RE.finditer(t):
        name = m.group("m")
        next_year = _T_OF_NEXT_YEAR.match(t, m.end())
        dated = bool(m.group("y") or next_year)  # "May next year", "March 2027": a month, not a verb
        if m.group("prep") is None and (not requested or (name in _AMBIGUOUS_MONTHS and not dated)):
            continue
        year = int(m.group("y")) if m.group("y") else (today.year + 1 if next_year else None)
        months = _months_until(_MONTHS[name], today, year)
        if m.group("prep") in ("el proximo", "next") and months == 0:
            months = 12
        if next_year:
            found.append((m.start(), 2, _r(max(0.0, months)), 0.9))  # before "next year" itself
            continue
        add(m, 9, months, 0.9)
    for rx in (_DAY_MONTH, _NUM_DATE):
        for m in rx.finditer(t):
            months = _dateparser_months(m.group(), lang, today)
            if months is not None:
                # Before the month-name match at a similar position: the day is more precise.
                found.append((m.start(), 4, months, 0.9))
    return found


def warm_up() -> None:
    """Load dateparser's Spanish and English data now (~0.3 s) instead of mid-chat."""
    for lang in _DATEPARSER_LANGS:
        _dateparser_months("1/1/2030", lang, date(2026, 1, 1))


@_safe
def parse_timing(
    text: str,
    lang: str = "es",
    *,
    today: date | None = None,
    requested: bool = True,
    hemisphere: str = "north",
    fiscal_year_start: tuple[int, int] | None = None,
) -> Timing | None:
    """Months until the visitor wants to start, from relative or absolute expressions.

    Deterministic given `today`. With `requested` False only explicit time expressions
    count, so "ahora no" or a lone "ya" inside another answer is not a timeline.
    `hemisphere` ("north"/"south") places the seasons, unless the message names a place;
    `fiscal_year_start` (month, day), default January 1, anchors "next fiscal year", "Q1 fiscal".
    """
    today = today or timeutil.today()
    fiscal = _fiscal_start(fiscal_year_start)
    t = _norm(text)
    t = _EMAIL_OR_URL.sub(" ", t)
    t = _PA.sub(lambda m: "para el" if m.group(1) else "para", t)
    t = _fix_calendar_typos(_fix_time_typos(t))
    calendar_found, unclear = _calendar_times(t, today, requested, hemisphere, fiscal)
    # A calendar expression replaces what other patterns read inside it ("el próximo año
    # fiscal" is not "el próximo año", "Q1 next year" not "next year").
    found = [
        f for f in _explicit_times(t, lang, today, requested) if not any(s <= f[0] < e for s, e, *_ in calendar_found)
    ]
    found += [(start, -1, months, conf) for start, _end, months, conf in calendar_found if months >= 0]
    if found:
        _pos, _prio, months, conf = min(found, key=lambda f: (f[0], f[1]))
        # "para enero, pero sin prisa": the month, and that it is not pressing.
        return Timing(months=months, no_rush=bool(_T_NO_RUSH.search(t)), confidence=conf)
    if _T_UNKNOWN.search(t):
        return Timing(unknown=True, confidence=0.85)
    if _T_NO_RUSH.search(t):
        return Timing(no_rush=True, confidence=0.9)
    if _T_NOW.search(t):
        return Timing(months=0.0, confidence=0.9)
    if not requested:
        return None
    if unclear:  # "después de vacaciones" in April: which vacation? Better unknown than a guess.
        return Timing(unknown=True, confidence=0.8)
    if _T_NOW_WEAK.search(t):
        return Timing(months=0.0, confidence=0.8)
    if _T_SOON.search(t):
        return Timing(months=1.0, confidence=0.6)
    # Before the weak no-rush words: "aún no lo tenemos claro" is not knowing, not "later".
    if _UNKNOWN.search(t):
        return Timing(unknown=True, confidence=0.9)
    if _T_NO_RUSH_WEAK.search(t):
        return Timing(no_rush=True, confidence=0.7)
    return None


def _fiscal_start(value: object) -> tuple[int, int]:
    """(month, day) of the fiscal year's first day; January 1 when missing or invalid."""
    if isinstance(value, (tuple, list)) and len(value) == 2 and all(isinstance(v, int) for v in value):
        month, day = value
        if 1 <= month <= 12 and 1 <= day <= 31:
            return (month, day)
    return (1, 1)


# ---------------------------------------------------------------------------
# Authority
# ---------------------------------------------------------------------------

_A_NONE = re.compile(
    r"\bsoy (?:un |una )?estudiante\b|\bestudiante\b|\bestoy estudiando\b"
    r"|\b(?:trabajo|proyecto|tarea|practica)s? (?:de|para) (?:clase|la uni|la universidad|fin de grado"
    r"|fin de master|el instituto|la escuela|el master|la facultad)\b|\b(?:tfg|tfm|tesis|deberes)\b"
    r"|\bpor curiosidad\b|\bsolo curiosidad\b|\bsolo (?:estoy )?curioseando\b"
    r"|\bno trabajo (?:en|para) (?:ninguna|una|la) empresa\b|\bno tengo empresa\b"
    r"|\b(?:actualmente|ahora) no trabajo\b|\bestoy en (?:el )?paro\b|\bdesemplead[oa]\b"
    r"|\bjubilad[oa]\b|\bsoy (?:un |una )?particular\b|\bcomo particular\b"
    r"|\bstudent\b|\bfor (?:a |my )?(?:class|school|college|university|uni|homework|thesis"
    r"|assignment|course)\b|\bschool project\b|\bhomework\b|\bjust curious\b|\bout of curiosity\b"
    r"|\bi (?:don'?t|do not) work (?:for|at|in) (?:a|any) company\b|\bunemployed\b|\bretired\b"
    r"|\bnot (?:currently )?(?:working|employed)\b|\bfor (?:a )?research (?:paper|project)\b"
    r"|\bno es para (?:ninguna|una) empresa\b|\bsin empresa\b|\b(?:isn'?t|is not"
    r"|not) for (?:a|any) (?:company|business)\b"
    r"|\bpara un (?:articulo|reportaje|ejercicio|trabajo de clase)\b"
    r"|\bfor an? (?:article|class exercise|blog post|review)\b"
    r"|\bsolo (?:miraba|estoy mirando|mirando|estaba mirando|vengo a mirar|chusmeando|vitrineando)\b"
    r"(?!.*\b(?:me lo pidio|me pidio|mi jefe|mi jefa|for my (?:boss|manager)))"
    r"|\bjust (?:browsing|looking around|having a look|window shopping)\b"
    r"|\b(?:entre|llegue|vine) (?:aqui |aca )?por error\b"
    r"|\b(?:clicked|ended up here|came here) by (?:mistake|accident)\b"
    r"|\bno company\b|\bnada que ver\b"
    r"|\bentre de curios[oa]\b|\b(?:nomas|solo) (?:estoy )?viendo\b(?!.*\b(?:jefe|jefa|gerente|dueno|duena)\b)"
    r"|\b(?:no compro|no compramos|not buying) (?:nada|anything)\b|\bnosing around\b|\ba friend sent me\b"
    r"|\b(?:entrevista de trabajo|vacante|aplicando a|postulando a|postulo a)\b|\brecruiter\b|\breclutador[a]?\b"
    r"|\b(?:escribo|tengo) un blog\b|\b(?:writing|write) a (?:comparison |review )?(?:blog|article|post)\b"
    r"|\breviews? de software\b|\bsoftware reviews?\b|\bresearching the (?:\w+ )?market\b"
    r"|\bviendo como lo hacen\b|\bde otra empresa de software\b"
    r"|^estudio (?:administracion|derecho|marketing|ingenieria|economia|informatica|empresariales|publicidad)\b"
)
# Someone else decides (negated self-decision included: it must be checked first).
_A_OTHER = re.compile(
    r"\bno (?:lo |la )?decido yo\b|\bno (?:lo |la )?decido\b|\bno soy (?:yo )?(?:el|la|quien) (?:que )?decid"
    r"|\bno depende de mi\b|\bno es (?:mi decision|cosa mia)\b|\bno soy yo\b|\bno yo\b"
    r"|\b(?:lo |la )?(?:decide|decidira|decidiran|deciden|aprueba|aprobara|aprueban|firma|firman"
    r"|autoriza|autorizan|tiene la ultima palabra|toma la decision)"
    r"\s+(?:mi|mis|el|la|los|las|nuestro|nuestra|otra|otro|otros|alguien|un|una|ellos|gerencia"
    r"|direccion|arriba|compras|finanzas)\b"
    # "eso lo ve el dueño", "lo lleva mi jefe": the object pronoun makes "ve"/"lleva" a decision.
    r"|\b(?:lo|la|eso lo|eso la|esto lo) (?:ve|ven|vera|veran|lleva|llevan|maneja|manejan|define|definen"
    r"|resuelve|resuelven|revisa|revisan|valida|validan)\s+(?:mi|mis|el|la|los|las|nuestro|nuestra|otra|otro"
    r"|alguien|gerencia|direccion|arriba|compras|finanzas)\b"
    r"|\b(?:mi|mis|el|la|nuestro|nuestra|los)\s+(?:jefe|jefa|jefes|superior|superiores|responsable"
    r"|director|directora|gerente|dueno|duena|ceo|cfo|consejo|comite|direccion|socio|socia|propietario"
    r"|manager)(?:\s+\w+)?\s+(?:(?:lo|la) (?:ve|ven|lleva|maneja|define|valida)\b|(?:lo |la )?(?:decide|deciden"
    r"|aprueba|aprueban|firma|tiene la ultima palabra|toma la decision|manda)\b)"
    r"|\bla decision (?:la toma|es de|corresponde a|depende de) (?!mi\b)\w+"
    r"|\bdepende de (?:mi|mis) (?:jefe|jefa|jefes|superior|responsable|socio|socia|director|directora)\b"
    r"|\bdepende de (?:el|la|los|direccion|gerencia|otra|otro)\b"
    r"|\botra persona\b|\balguien (?:mas|de arriba)\b"
    r"|\b(?:lo |la )?tiene(?:n)? que (?:aprobar|firmar|autorizar|validar)\s+(?:el|la|los|las|mi|nuestro|nuestra)\b"
    r"|\b(?:el|la) que (?:decide|firma|aprueba|manda|elige|escoge) es (?:mi|el|la|nuestro|nuestra) \w+"
    r"|\blo va(?:n)? a decidir (?:el|ella|ellos|mi|la|los)\b"
    r"|\b(?:he|she|they) (?:decides?|picks?|chooses?|approves?|signs?|has the final say)\b"
    r"|(?<!\bi )(?<!\bwe )\b(?:make|makes) the (?:final|last) (?:call|decision|say)\b"
    r"|\b(?:needs?|has|have) to be (?:approved|signed off|signed) by\b"
    r"|\b(?:has|have|gets?) (?:the )?final (?:approval|sign[- ]off|say)\b"
    r"|\b(?:approve|approves) (?:any|all|every) (?:spend|purchase)"
    r"|\b(?:le |les )?present[oa] (?:las )?opciones a (?:la|el|los|mi)\b|\bthe (?:partners|owners|board) vote\b"
    r"|\bpass (?:your|the) (?:info|details) (?:up )?to\b|\bal final (?:el|ella) (?:dice|decide|elige)\b"
    r"|\b(?:el|ella) (?:elige|decide|escoge)\b|\b(?:he|she)'?ll decide\b"
    r"|\bnot (?:my (?:call|decision)|up to me|me)\b|\bi (?:don'?t|do not) (?:decide|make the decision)"
    r"|\bi'?m not the (?:decision[- ]maker|one who decides|one deciding)\b"
    r"|\bsome(?:one|body) else\b|\banother person\b"
    r"|\b(?:my|the|our)\s+(?:boss|manager|supervisor|director|ceo|cfo|cto|owner|founder|partner"
    r"|board|management|team lead|lead|head|superior|vp|client)(?:\s+\w+)?\s+"
    r"(?:decides|approves|signs|makes|has|will decide|will approve|calls the shots)\b"
    r"|\b(?:decided|approved|signed off) by (?:my|the|our)\b|\bit'?s up to (?:my|the|our)\b"
    r"|\b(?:upper )?management (?:decides|approves)\b"
    # "el CEO es quien escoge", "quien firma es el CFO", "lo decide la junta", "the final call is the CEO's"
    r"|\b(?!yo\b)\w+ (?:es|son) (?:quien|quienes|el que|la que|los que) (?:decide|deciden|elige|eligen|escoge|escogen"
    r"|firma|firman|aprueba|aprueban|manda|mandan)\b|\bquien (?:firma|decide"
    r"|aprueba|elige|escoge) (?:es|son) (?!yo\b)\w+"
    r"|\b(?:lo |la |esto lo |eso lo )?(?:decide|deciden|aprueba|aprueban|firma|firman|elige|eligen|escoge|escogen)"
    r" (?:la junta|el consejo|el directorio|la gerencia|el board|los socios|el dueno|la duena|el jefe|la jefa|el ceo"
    r"|el cfo|la matriz|casa matriz|mi jefe|mi jefa)\b"
    r"|\b(?:the )?(?:board|investors|parent company|head office|hq|procurement|finance|owner|ceo|cfo|director|boss"
    r"|manager|vp)(?: and (?:the )?\w+)? (?:has|have|gets?) the (?:final|last) (?:say|word|call)\b"
    r"|\b(?:the )?(?:final|last) (?:call|say|word|decision) (?:is|will be|'s|lies with"
    r"|rests with) (?:the |my |our )?(?!mine\b|me\b)\w+"
    r"|\b(?:the )?(?:board|investors|procurement|finance|ceo|cfo|owner|director|boss|manager|parent company)"
    r"(?: and (?:the )?\w+)? (?:approves?|signs? off|picks?|chooses?|decides?|selects?)\b"
    r"|\b(?:my|our|the) (?:boss|manager|director|owner|ceo|lead)(?:'s"
    r"| is) (?:the one|who) (?:who )?(?:picks|chooses|decides"
    r"|signs)\b|\bapprove[sd]? all (?:new )?(?:spend|spending|purchases)\b"
)
_A_USER_ONLY = re.compile(
    r"\b(?:yo )?solo (?:lo )?(?:usaria|usare|uso|voy a usar|lo voy a usar|seria usuari[oa])\b"
    r"|\b(?:yo )?(?:lo )?usaria yo\b|\bsoy (?:solo )?(?:un |una )?usuari[oa]\b"
    r"|\bi'?d (?:just|only) use it\b|\bi would (?:just|only) use it\b|\bi'?d use it\b|\blo usariamos\b"
    r"|\b(?:uno|una) de (?:los|las) que lo (?:va|vamos) a usar\b|\bsoy del equipo\b"
    r"|\bsoy (?:la|el) (?:de|que) (?:atencion al cliente|soporte|ventas|contesta|carga|atiende|hace los"
    r"|lleva las cuentas)\b"
    r"|\b(?:enfermer[oa]|recepcion|dispatcher|warehouse|bodeguer[oa]|chofer|driver|cociner[oa]|mesero|camarer[oa])\b"
    r"|\bi'?ll (?:just|only) (?:be )?us(?:e|ing) it\b|\bi'?m (?:just )?(?:a|an|the)? ?(?:end )?user\b"
    r"|\bjust a user\b|\bsoy (?:un |una )?(?:emplead[oa]|becari[oa]|comercial|tecnic[oa]|administrativ[oa]"
    r"|asistente|analista|vendedor[a]?)\b|\bi'?m (?:an? )?(?:employee|intern|assistant|sales rep|analyst)\b"
)
_A_SELF_DECIDES = re.compile(
    r"\b(?:lo |la )?decido yo\b|\byo (?:lo |la )?decido\b|\bdecido yo\b"
    r"|\b(?:yo )?soy (?:yo )?(?:el|la|quien) (?:que )?(?:decide|firma|manda|aprueba)\b"
    r"|\bsoy yo (?:quien|el que|la que) decid\w*|\b(?:quien|el que|la que) decide soy yo\b"
    r"|\bla (?:ultima |final )?decision(?: final| ultima)? (?:es|sera|va a ser) (?:mia|mio)\b|\bdecision mia\b"
    r"|\b(?:me toca|me corresponde)(?: a mi)? (?:decidir|la decision|aprobar|firmar)\b"
    r"|\b(?:decidir|la decision|aprobarlo|decidirlo) me (?:toca|corresponde)\b"
    r"|\b(?:quien|el que|la que) (?:decide|manda|firma|aprueba) soy yo\b"
    r"|\bdepende de mi(?=\s*(?:$|[.,;!]|y\b|pero\b|solo\b))"
    r"|\b(?:yo )?tomo (?:yo )?(?:la|las) decision(?:es)?\b|\byo mando\b|\bmando yo\b|\bfirmo yo\b|\byo firmo\b"
    r"|\btengo la ultima palabra\b|\bla ultima palabra (?:la tengo yo|es mia)\b|\byo apruebo\b|\bapruebo yo\b"
    r"|\bsoy (?:el|la) responsable de (?:la )?(?:compra|decision)\b"
    r"|\bi decide\b|\bi(?: will|'ll)? make the (?:final )?(?:decision|call)\b|\bi make (?:the )?decisions?\b"
    r"|\bit'?s my (?:call|decision)\b|\bmy (?:call|decision)\b|\bi'?m the (?:decision[- ]maker|one who decides"
    r"|one deciding|budget holder|buyer)\b|\bi (?:have|hold) the final say\b|\bfinal say is mine\b"
    r"|\bi sign off\b|\bi approve\b|\bthe buck stops with me\b|\bup to me\b|\bi call the shots\b"
    r"|\bthe (?:final )?(?:decision|call|say)(?: is| will be|'s) (?:mine|with me|on me)\b|\bthe decision'?s mine\b"
    r"|\b(?:the )?budget (?:is|'s) mine\b|\bi (?:hold|own|control|manage) the budget\b|\bbudget holder\b"
    r"|\bi(?: have|'ve got)? (?:final )?sign[- ]off\b|\bi(?:'m| am) the one who signs\b"
    r"|\bi sign (?:the )?(?:contracts?|checks?|cheques?)\b"
    r"|\bsole decision[- ]maker\b|\bi (?:choose|pick|select)(?: the tools?)?\b"
    r"|\bel presupuesto es mio\b|\b(?:manejo|controlo|administro|tengo) (?:yo )?el presupuesto\b|\bcarta blanca\b"
    r"|\b(?:yo elijo|elijo yo|yo escojo|escojo yo|yo pago|pago yo)\b|\b(?:la )?firma (?:es )?mia\b"
    r"|\bel presupuesto (?:lo )?(?:manejo|controlo|llevo|decido|tengo) yo\b"
    r"|\b(?:el|la) que (?:aprueba|firma|decide|autoriza|paga)(?: \w+){0,3} soy yo\b"
    r"|\bla decision(?: de compra| final)? es mia\b"
    r"|\bi'?m the one who (?:approves|signs|decides|okays|pays)\b|\bi (?:approve|sign off on) (?:the )?spend\w*\b"
    # Authority handed to the visitor: "me delegó la decisión", "the owner handed this decision to me".
    r"|\bme (?:dio|dieron|ha dado|han dado|delego|delegaron|ha delegado|han delegado|paso|pasaron|cedio|confio)"
    r" (?:el ok|luz verde|la decision|autorizacion|autoridad|permiso|carta blanca|el presupuesto)\b"
    r"|\b(?:tengo|con) (?:autonomia|autoridad|libertad) (?:total |completa |plena )?(?:para|de)"
    r" (?:elegir|decidir|comprar|contratar)\b"
    r"|\b(?:quien|el que|la que) tiene la ultima palabra(?: \w+){0,3} soy yo\b"
    r"|\bel presupuesto (?:del area |del departamento |de \w+ )?es mio\b"
    r"|\b(?:handed|delegated|gave|left) (?:this |the )?(?:decision|call|budget) (?:to me|over to me)\b"
    r"|\b(?:told|asked) me to (?:pick|choose|buy|sign)(?: \w+){0,3} and (?:buy|sign|pay)\b"
    r"|\bi have (?:the )?(?:company card|budget authority|purchasing authority|sign-?off authority)\b"
)
_DM_TITLES = (
    r"ceo|consejer[oa] delegad[oa]|director[a]? general|director[a]? ejecutiv[oa]|gerente general"
    r"|gerente(?! de (?!la empresa|la compania|la tienda))"
    r"|duen[oa]|propietari[oa]|fundador[a]?|co-?fundador[a]?|socio (?:fundador|director|gerente)"
    r"|socia (?:fundadora|directora|gerente)|presidente|presidenta|administrador[a]? unic[oa]"
    r"|owner|founder|co-?founder|managing director|md|president|general manager|chief executive"
    r"|cfo|cto|coo|cmo|cio|cro|mer[oa] mer[oa]"
)
_MID_TITLES = (
    r"director[a]?(?: de \w+)?|jefe(?: de \w+)?|jefa(?: de \w+)?|responsable(?: de \w+)?"
    r"|head of \w+|vp(?: of \w+)?|vice ?president(?: of \w+)?|\w+ manager|manager|director"
    r"|socio|socia|partner|administrador[a]?"
)
_SELF = r"\b(?:soy|yo soy|como|i'?m|i am|as|im)\s+(?:el |la |un |una |the |a |an )?(?:propi[oa] )?"
_A_DM_TITLE = re.compile(rf"{_SELF}(?:{_DM_TITLES})\b")
_A_MID_TITLE = re.compile(rf"{_SELF}(?:{_MID_TITLES})\b")
_A_OWN_BUSINESS = re.compile(
    r"\b(?:la|lo) funde yo\b|\bfunde (?:la|el) (?:empresa|negocio|estudio|agencia|tienda)\b|\bsoy (?:el |la )?titular\b"
    r"|\b(?:la |el )?jef[ae] de todo(?: esto)? soy yo\b|\bes mi[oa]\b(?=.*\b(?:llevo|tengo|dirijo|manejo)\b)"
    r"|\brepresentante legal\b|\btengo (?:una |mi )?(?:tiendita|tienda|empresita|negocito|pyme)\b"
    r"|\b(?:soy|i'?m|i am) (?:un |una |a |an )?(?:autonom[oa]|freelance|freelancer|self[- ]employed"
    r"|emprendedor[a]?|entrepreneur|independiente|solopreneur)\b|\btrabajo por mi cuenta\b"
    r"|\bmi propia empresa\b|\bmy own (?:company|business)\b|\bi own (?:the|a|my|this) (?:company|business)\b"
    r"|\bes mi (?:empresa|negocio)\b|\btengo (?:una|mi) (?:empresa|negocio|tienda|agencia|startup)\b"
    r"|\b(?:it'?s|is) my (?:company|business)\b"
)
_A_SHARED_STRONG = re.compile(
    r"\b(?:lo |la )?(?:decido|decidimos|decidiremos|decidire|decidiriamos)\s+(?:yo\s+)?(?:con|junto con|entre"
    r"|en equipo|juntos|conjuntamente)\b|\b(?:lo |la )?decidimos entre\b"
    r"|\b(?:decide|decidir|decision)\w* (?:con|junto a|junto con) mi\b"
    r"|\bwe (?:all )?decide (?:together|as a team|jointly)\b|\bi decide with\b|\bdecide (?:it )?with my\b"
    r"|\bpart of the decision\b|\bjoint decision\b|\bshared decision\b"
    r"|\b(?:mi socio|mi socia|mis socios|mi jefe|mi jefa) y yo\b|\byo y mi (?:socio|socia|jefe|jefa|equipo)\b"
    r"|\b(?:my (?:partner|cofounder|co-founder|boss|manager)) and i\b|\bme and my (?:partner|boss|team|manager)\b"
)
# Owners or partners deciding together are decision makers ("lo decidimos entre los socios").
# "la que firma los contratos soy yo": the visitor names themself as the one who signs, whatever
# the sentence says of others on the way.
_A_SELF_CLAIM = re.compile(
    r"\b(?:el|la|quien) que (?:aprueba|firma|decide|autoriza|paga|manda)(?: \w+){0,4} soy yo\b"
    r"|\bsoy yo (?:quien|el que|la que) (?:aprueba|firma|decide|autoriza|paga|manda)\b"
)
_A_CO_OWNERS = re.compile(
    r"\b(?:decidimos|decide(?:mos)?|lo vemos) entre (?:los|mis|nosotros los) socios\b"
    r"|\b(?:my|mi) (?:business )?(?:partner|socio|socia|cofounder|co-founder) (?:and i|y yo)\b"
    r"|\bme and my (?:business )?(?:partner|cofounder|co-founder)\b"
    r"|\b(?:somos|we are|we'?re) (?:los |las |the )?(?:duenos|duenas|owners|co-?owners|socios|founders|cofundadores)\b"
    r"|\bsomos (?:dos|tres|\d) socios\b|\b(?:con|junto con) mi soci[oa] (?:lo )?decidimos\b"
    r"|\b(?:lo decidimos|decidimos) entre (?:los dos|las dos|ambos|ambas)\b"
    r"|\bthe partners decide\b|\bone of the (?:partners|owners|founders)\b"
    r"|\b(?:and i|y yo) (?:own|are (?:the )?(?:co-?owners|owners)|somos (?:los )?(?:duenos|duenas|socios))\b"
    r"|\bown the \w+,? we decide\b|\b(?:i|we) (?:are|'re) co-?owners\b"
    r"|\b(?:la|lo) (?:manejamos|llevamos|dirigimos) (?:mi|con mi)"
    r" (?:hermano|hermana|socio|socia|esposo|esposa|marido|mujer|padre|madre)\b"
)
_A_INVOLVED = re.compile(
    r"\b(?:lo )?decidimos\b|\bentre (?:varios|todos|los socios|el equipo)\b|\bsomos varios\b"
    r"|\bvarias personas\b|\bcon mi (?:socio|socia|equipo|jefe|jefa|responsable)\b|\bjunto con\b"
    r"|\ben equipo\b|\bcomite\b|\bcompartid[ao]\b|\bconjunta(?:mente)?\b|\bparticipo\b|\bformo parte\b"
    r"|\binfluyo\b|\brecomiendo\b|\brecomendare\b|\bpropongo\b|\bpreparo\b|\bevaluo\b|\bestoy evaluando\b"
    r"|\basesoro\b|\bdoy mi opinion\b|\btengo voz\b|\bopino\b|\bconsultar(?:lo)? con\b"
    r"|\btengo que (?:hablar|consultar|comentar)(?:lo)?\b|\bnecesito (?:la )?aprobacion\b"
    r"|\b(?:se lo|lo) (?:paso|presento|traslado|propongo)\b|\bi recommend\b|\bi'?ll recommend\b"
    r"|\bi make (?:a |the )?recommendations?\b|\bi'?m (?:involved|part of)\b|\bwith my (?:team|partner"
    r"|boss|manager|cofounder|co-founder|colleagues)\b|\bwe decide\b|\btogether\b|\bi have a say\b"
    r"|\bi influence\b|\bi'?m evaluating\b|\bi evaluate\b|\bi (?:need|have) to (?:check|consult|talk to"
    r"|ask)\b|\brun it by\b|\bneeds? (?:approval|sign[- ]off)\b|\bcommittee\b|\bseveral (?:of us|people)\b"
    r"|\ba few of us\b|\bthe team\b|\bprepare the proposal\b|\bi propose\b"
    r"|\bshort ?list\w*\b|\bgather(?:ing)? quotes\b|\bcollect(?:ing)? quotes\b|\bcomparing (?:vendors|options|quotes)\b"
    r"|\bcotiza(?:r|ndo|ciones)\b|\bjuntando (?:cotizaciones|presupuestos|propuestas)\b|\brecomendacion\b"
    r"|\brecommendation\b|\bevaluating (?:tools|vendors|options)\b|\bevaluando (?:herramientas|proveedores|opciones)\b"
    r"|\bon behalf of (?:a |my |our )?client\b|\bpara un cliente\b|\bpara (?:mi|nuestro) cliente\b"
    r"|\bpreseleccion\w*\b|\bse la paso\b|\bcomparativa\b|\bhelping (?:my|the|our) \w+ (?:pick|choose|decide)\b"
    r"|\blista corta\b|\bbenchmark\b|\ble ayudo a (?:escoger|elegir|decidir)\b|\ble digo (?:que|lo que) conviene\b"
    r"|\b(?:do|doing) the research\b|\bpresent (?:the )?options\b"
)
_A_ANSWER_ME = re.compile(
    r"^(?:si|yes|yep|yeah|claro|of course|por supuesto)?[\s,.!]*(?:yo|yo mismo|yo misma|yo mer[oa]|me|myself|i do"
    r"|i|mine|si|yes|yep|yeah|claro|of course|por supuesto)[\s.!]*$"
)
_A_ANSWER_WE = re.compile(r"^(?:nosotros|nosotras|we|us|we do|the team|el equipo|todos|all of us)[\s.!]*$")
_A_ANSWER_OTHER = re.compile(
    r"^(?:(?:pues|well|bueno)\s+)?(?:mi|mis|el|la|los|las|nuestro|nuestra|my|the|our)\s+(?:jefe|jefa|jefes"
    r"|superior|responsable|director|directora|gerente|dueno|duena|ceo|cfo|cto|consejo|comite|direccion"
    r"|gerencia|propietario|boss|manager|owner|board|management|founder|supervisor|president|presidente"
    r"|director general|managing director)(?:\s+\w+){0,3}[\s.!]*$|^(?:gerencia|direccion|no|nope|ceo|cfo)[\s.!]*$"
)


@_safe
def parse_authority(text: str, lang: str = "es", *, requested: bool = True) -> Authority | None:
    """Buying role: decision_maker, influencer, user or none.

    Phrases are combined, not just matched: "preparo la propuesta pero aprueba el CFO"
    names a decider (the CFO) and the visitor's part in it, so it is an influencer.
    """
    t = _norm(text)
    if _A_NONE.search(t):
        return Authority("none", 0.9)
    if _A_SELF_CLAIM.search(t):
        return Authority("decision_maker", 0.9)
    other = _A_OTHER.search(t)
    t_self = _A_OTHER.sub(" ", t) if other else t
    # The visitor's own title, from the role taxonomy (leadqual/roles.py).
    role = roles.title_level(t, claimed_only=not requested)
    if role is not None and role.level == "none":
        return Authority("none", 0.85)
    self_decides = _A_SELF_DECIDES.search(t_self)
    dm_title = _A_DM_TITLE.search(t_self) or _A_OWN_BUSINESS.search(t_self)
    mid_title = _A_MID_TITLE.search(t_self)
    shared = _A_SHARED_STRONG.search(t)
    involved = _A_INVOLVED.search(t)
    senior = role is not None and role.level in ("decision_maker", "influencer")
    if _A_CO_OWNERS.search(t):
        return Authority("decision_maker", 0.85)
    if shared:
        return Authority("influencer", 0.9)
    # Someone else decides or signs: the title says how much the visitor weighs in it.
    if other and (self_decides or dm_title or mid_title or involved or senior):
        return Authority("influencer", 0.85)
    if other:
        return Authority("user", 0.9)
    if self_decides and involved and requested:
        return Authority("influencer", 0.75)
    if self_decides:  # "just an analyst, but the budget is mine": the clause beats the title
        return Authority("decision_maker", 0.95)
    if dm_title:
        return Authority("decision_maker", 0.9)
    if not requested:
        return Authority(role.level, 0.8) if role is not None else None
    if involved:
        return Authority("influencer", 0.8)
    if role is not None:
        return Authority(role.level, 0.85)
    if mid_title:
        return Authority("decision_maker", 0.7)
    if _A_USER_ONLY.search(t):
        return Authority("user", 0.8)
    if _A_ANSWER_ME.match(t):
        return Authority("decision_maker", 0.8)
    if _A_ANSWER_WE.match(t):
        return Authority("influencer", 0.6)
    if _A_ANSWER_OTHER.match(t):
        return Authority("user", 0.7)
    return None


# ---------------------------------------------------------------------------
# Need
# ---------------------------------------------------------------------------

_WORD_TOKEN = re.compile(r"[^\W_]+")
_NEED_NONE = re.compile(
    r"\bnada en (?:concreto|especial|particular)\b|\bnada concreto\b|\bnada especial\b"
    r"|^(?:nada|ninguna|ninguno|nothing|none)[\s.!]*$|\bsolo (?:estoy |estamos )?(?:curioseando|mirando"
    r"|viendo|echando un vistazo|informandome)\b|\bcurioseando\b|\bsolo miro\b|\bno (?:necesito|busco"
    r"|necesitamos|buscamos) nada\b|\bde momento nada\b|\bnothing (?:in particular|specific|really)\b"
    r"|\bjust (?:looking|browsing|curious|checking)\b|\bonly looking\b|\bnot looking for anything\b"
)


# Words that name whose data or which team, not what to do with it: "informes de ventas"
# is reporting, "customer complaints" is support. Such a word attached to another need's
# word counts half (see parse_need).
_GENERIC_NEED_WORDS = frozenset(
    {
        "cliente",
        "clientes",
        "venta",
        "ventas",
        "comercial",
        "comerciales",
        "usuario",
        "usuarios",
        "customer",
        "customers",
        "client",
        "clients",
        "sale",
        "sales",
        "user",
        "users",
    }
)
# Between a need's word and a generic word that completes it: "incidencias de los clientes",
# "reports for our sales team", "informes comerciales".
_NEED_COMPLEMENT_GAP = re.compile(
    r"\s+(?:(?:de|del|para|a|al|con|of|from|for|on|about|by|with)\s+"
    r"(?:(?:los|las|la|el|nuestros|nuestras|nuestro|nuestra|mis|mi|sus|su|the|our|my|their|your)\s+)?)?"
)
_NEED_ADJUNCT_GAP = re.compile(r"(?:'s|')?\s+")


def _plural_equal(a: str, b: str) -> bool:
    if a == b:
        return True
    for x, y in ((a, b), (b, a)):
        if x + "s" == y or x + "es" == y or (x.endswith("y") and x[:-1] + "ies" == y):
            return True
    return False


def _within_one_edit(a: str, b: str) -> bool:
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


def _token_match(word: str, syn: str) -> int:
    """2 exact or plural/singular, 1 one-letter typo (long words only), 0 no match."""
    if _plural_equal(word, syn):
        return 2
    if len(syn) >= 6 and len(word) >= 5 and abs(len(word) - len(syn)) <= 3:
        forms = {syn, syn + "s", syn + "es"}
        if syn.endswith("es"):
            forms.add(syn[:-2])
        if syn.endswith("s"):
            forms.add(syn[:-1])
        if any(_within_one_edit(word, f) for f in forms):
            return 1
    return 0


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def _typo_forms(word: str) -> set[str]:
    forms = {word, word + "s", word + "es"}
    if word.endswith("es"):
        forms.add(word[:-2])
    if word.endswith("s"):
        forms.add(word[:-1])
    return forms


@dataclass(frozen=True)
class _CompiledNeeds:
    entries: list[tuple[int, str, tuple[str, ...]]]  # longest synonyms first
    # Index of single-deletion variants of every long synonym word (and its plural
    # forms): a token within one edit of a word shares a variant with it, so only those
    # few words need the exact edit check, not every synonym.
    deletion_index: dict[str, set[str]]
    words: frozenset[str]
    # Synonym words that only say whose data it is ("clientes", "ventas", "customers"):
    # the built-in list plus any word configured for one need that also appears in a
    # synonym of another need ("clientes" / "atención al cliente").
    generic: frozenset[str]


@functools.lru_cache(maxsize=32)
def _compile_needs(key: tuple) -> _CompiledNeeds:
    """Synonym entries (need order, need id, words) and the typo index."""
    entries: list[tuple[int, str, tuple[str, ...]]] = []
    for order, (need_id, by_lang) in enumerate(key):
        seen: set[tuple[str, ...]] = set()
        for _lang, synonyms in by_lang:
            for syn in synonyms:
                words = tuple(_WORD_TOKEN.findall(normalize(syn)))
                if words and words not in seen:
                    seen.add(words)
                    entries.append((order, need_id, words))
    entries.sort(key=lambda e: (-len(e[2]), e[0]))
    all_words = frozenset(w for _, _, words in entries for w in words)
    words_by_need: dict[str, set[str]] = {}
    for _, need_id, words in entries:
        words_by_need.setdefault(need_id, set()).update(words)
    generic = {w for w in all_words if w in _GENERIC_NEED_WORDS}
    for need_id, own in words_by_need.items():
        others = {w for other_id, ws in words_by_need.items() if other_id != need_id for w in ws}
        generic |= {w for w in own if len(w) > 3 and any(_plural_equal(w, o) for o in others)}
    index: dict[str, set[str]] = {}
    for word in all_words:
        if len(word) >= 6:
            for form in _typo_forms(word):
                for variant in _deletions(form) | {form}:
                    index.setdefault(variant, set()).add(word)
    return _CompiledNeeds(entries, index, all_words, frozenset(generic))


def _token_scores(token: str, compiled: _CompiledNeeds) -> dict[str, int]:
    """Synonym word -> _token_match score, for the few words that can match `token`."""
    plural_forms = (token, token + "s", token + "es", token[:-1], token[:-2])
    candidates = {form for form in plural_forms if form in compiled.words}
    if token.endswith("ies"):
        candidates.add(token[:-3] + "y")
    if token.endswith("y"):
        candidates.add(token[:-1] + "ies")
    if len(token) >= 5:
        for variant in _deletions(token) | {token}:
            candidates |= compiled.deletion_index.get(variant, set())
    scores = {}
    for word in candidates & compiled.words:
        score = _token_match(token, word)
        if score:
            scores[word] = score
    return scores


def _needs_key(needs: dict) -> tuple:
    key = []
    for need_id, by_lang in needs.items():
        if not isinstance(need_id, str) or not isinstance(by_lang, dict):
            continue
        langs = []
        for lang, synonyms in by_lang.items():
            if isinstance(synonyms, (list, tuple)):
                langs.append((str(lang), tuple(s for s in synonyms if isinstance(s, str))))
        key.append((need_id, tuple(langs)))
    return tuple(key)


@_safe
def parse_need(
    text: str,
    needs: dict[str, dict[str, list[str]]],
    lang: str = "es",
    *,
    requested: bool = True,
) -> Need | None:
    """The configured need the visitor describes, matched on synonyms of both languages.

    Longer synonyms are matched first and consume their words, so "atención al cliente"
    counts for support and not also for "clientes" (CRM).
    """
    if not isinstance(needs, dict):
        return None
    folded, index = _fold_map(text)
    tokens = [(m.group(), m.start(), m.end()) for m in _WORD_TOKEN.finditer(folded)]
    compiled = _compile_needs(_needs_key(needs))
    token_scores: dict[str, dict[str, int]] = {}
    for token, _, _ in tokens:
        if token not in token_scores:
            token_scores[token] = _token_scores(token, compiled)
    reachable = {word for scores in token_scores.values() for word in scores}
    used = [False] * len(tokens)
    matches: list[tuple[str, int, int, int, int]] = []  # need id, order, first token, last token, typos
    for order, need_id, words in compiled.entries:
        if not reachable.issuperset(words):
            continue
        n = len(words)
        for i in range(len(tokens) - n + 1):
            if any(used[i : i + n]):
                continue
            scores = [token_scores[tokens[i + k][0]].get(words[k], 0) for k in range(n)]
            if min(scores) == 0 or (not requested and min(scores) < 2):
                continue
            for k in range(n):
                used[i + k] = True
            generic = all(w in compiled.generic for w in words)
            matches.append((need_id, order if not generic else -1 - order, i, i + n - 1, scores.count(1)))
    counts: dict[str, list] = {}  # need id -> [weight, order, typos, spans]
    for need_id, order, first, last, typos in matches:
        weight = 1.0
        if order < 0:  # a generic word: half when it completes another need's word
            order = -1 - order
            for other_id, _, o_first, o_last, _ in matches:
                if other_id == need_id:
                    continue
                if o_last < first:
                    gap = folded[tokens[o_last][2] : tokens[first][1]]
                    attached = _NEED_COMPLEMENT_GAP.fullmatch(gap) is not None
                elif last < o_first:
                    attached = _NEED_ADJUNCT_GAP.fullmatch(folded[tokens[last][2] : tokens[o_first][1]]) is not None
                else:
                    attached = False
                if attached:
                    weight = 0.5
                    break
        entry = counts.setdefault(need_id, [0.0, order, 0, []])
        entry[0] += weight
        entry[2] += typos
        entry[3].append((tokens[first][1], tokens[last][2]))
    if counts:
        best_id, (score, _, typos, spans) = min(counts.items(), key=lambda kv: (-kv[1][0], kv[1][1]))
        tie = sum(1 for v in counts.values() if v[0] == score) > 1
        spans.sort()
        matched = ", ".join(text[index[s] : index[e - 1] + 1] for s, e in spans)
        confidence = 0.9 if not typos else 0.75
        if tie:
            confidence = min(confidence, 0.6)
        return Need(value=best_id, matched=matched, confidence=confidence)
    if requested:
        m = _NEED_NONE.search(folded)
        if m:
            return Need(
                value=None,
                matched=text[index[m.start()] : index[m.end() - 1] + 1].strip(),
                confidence=0.85,
            )
    return None


# ---------------------------------------------------------------------------
# Contact details
# ---------------------------------------------------------------------------

_EMAIL_CANDIDATE = re.compile(r"(?<![\w.!#$%&'*+/=?^`{|}~@-])[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+(?![\w@-])")


@_safe
def parse_email(text: str) -> str | None:
    """First valid address in the text, normalized (domain lower-cased), or None."""
    for m in _EMAIL_CANDIDATE.finditer(text):
        candidate = m.group().strip(".")
        if len(candidate) > 254:
            continue
        try:
            return validate_email(candidate, check_deliverability=False).normalized
        except EmailNotValidError:
            continue
    return None


_SQL = re.compile(
    r"\b(?:select|insert|update|delete|drop|union)\b.*\b(?:from|into|table|set|where)\b",
    re.IGNORECASE | re.DOTALL,
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\ufeff]")
_GREETING = re.compile(
    r"^(?:hola|hi|hello|hey|buenas(?: tardes| noches)?|buenos dias|good (?:morning|afternoon|evening))\b[\s,!.]*"
)
_NAME_PREFIX = re.compile(
    r"^(?:me llamo|mi nombre es|mi nombre:|nombre:|yo soy|soy|puedes llamarme|puede llamarme|llamame"
    r"|me dicen|my name is|my name's|name is|name:|i am|i'm|im|call me|it's|this is|you can call me)\s+"
)
_NAME_CUT = re.compile(
    r"\s*(?:[,;(]|\s-\s|\.\s|!|\?)|\s+(?:y|and|from|desde|at|en|of|trabajo|work|soy|i'm|pero|but"
    r"|de la empresa|del equipo|mucho gusto|encantad[oa]|nice|gracias|thanks)\b"
)
_NAME_WORD = re.compile(r"^[^\W\d_]+(?:['’.-][^\W\d_]+)*\.?$")
_NAME_CONNECTORS = {
    "de",
    "del",
    "la",
    "las",
    "los",
    "da",
    "das",
    "do",
    "dos",
    "van",
    "von",
    "y",
    "di",
    "le",
}
_NOT_NAMES = {
    "no",
    "si",
    "yes",
    "nope",
    "quiero",
    "prefiero",
    "decirlo",
    "decir",
    "rather",
    "prefer",
    "not",
    "say",
    "anonimo",
    "anonima",
    "anonymous",
    "nadie",
    "nobody",
    "ninguno",
    "none",
    "nada",
    "nothing",
    "hola",
    "hello",
    "hi",
    "gracias",
    "thanks",
    "ok",
    "okay",
    "vale",
    "bueno",
    "test",
    "prueba",
    "asdf",
    "usuario",
    "user",
    "ceo",
    "cliente",
    "empresa",
    "company",
    "el",
    "la",
    "the",
    "un",
    "una",
    "a",
    "an",
    "estudiante",
    "student",
    "trabajo",
    "work",
    "busco",
    "necesito",
    "tengo",
    "estoy",
    "somos",
    "soy",
    "es",
    "is",
    "me",
    "my",
    "mi",
    "yo",
    "i",
    "we",
    "secreto",
    "secret",
    "pasar",
    "paso",
    "skip",
    "saltar",
    "null",
    "undefined",
    "select",
    "drop",
    "delete",
    "insert",
    "from",
    "where",
    "script",
    "director",
    "gerente",
    "dueno",
    "owner",
    "founder",
    "manager",
    "sales",
    "ventas",
    "crm",
    "marketing",
    "precio",
    "precios",
    "price",
    "demo",
    "ayuda",
    "help",
    "dont",
    "don't",
    "want",
    "what",
    "que",
    "porque",
    "why",
    "para",
}


def _title_word(word: str, first: bool) -> str:
    if not first and word.lower() in _NAME_CONNECTORS:
        return word.lower()
    parts = re.split(r"(['’-])", word)
    return "".join(p[:1].upper() + p[1:].lower() if p not in ("'", "’", "-") else p for p in parts)


def _cut_prefix(text: str, rx: re.Pattern, repeat: int = 3) -> str:
    """Remove a leading pattern written without accents from the original text."""
    for _ in range(repeat):
        folded, index = _fold_map(text)
        m = rx.match(folded)
        if not m or m.end() == 0:
            break
        text = text[index[m.end()] :] if m.end() < len(index) else ""
        text = text.lstrip(" ,.:;-")
    return text


@_safe
def parse_name(text: str, lang: str = "es") -> str | None:
    """The visitor's name from "Me llamo Ana Pérez", "I'm John", "Ana"; None if not a name."""
    raw = _CONTROL.sub(" ", text).strip().strip("\"'«»“”")
    if len(raw) > 100 or re.search(r"[\d@<>{}\[\]=;:/\\|#$%^*_~`]|http", raw):
        return None
    raw = _cut_prefix(raw, _GREETING, 1)
    raw = _cut_prefix(raw, _NAME_PREFIX, 1)
    folded, index = _fold_map(raw)
    cut = _NAME_CUT.search(folded)
    if cut:
        raw = raw[: index[cut.start()]] if cut.start() < len(index) else raw
    raw = raw.strip().strip(".!¡¿?\"'«»“” ")
    words = raw.split()
    folded_words = [normalize(w).strip(".") for w in words]
    # One to five name words, plus the particles of compound surnames ("García de la Fuente").
    particles = _NAME_CONNECTORS - {"do", "dos", "das"}  # "dos" is also a number word
    if not 1 <= len([w for w in folded_words if w not in particles]) <= 5 or len(words) > 9:
        return None
    if folded_words[0] in _NAME_CONNECTORS:
        return None
    if any(w in _NOT_NAMES for w in folded_words if w not in _NAME_CONNECTORS):
        return None
    if not all(_NAME_WORD.match(w) and len(w) <= 40 for w in words):
        return None
    if len(folded_words) == 1 and len(folded_words[0]) < 2:
        return None
    name = " ".join(words)
    if name == name.lower() or name == name.upper():
        name = " ".join(_title_word(w, i == 0) for i, w in enumerate(words))
    return name


_COMPANY_PREFIX = re.compile(
    r"^(?:pues|bueno|well)?[\s,]*(?:(?:yo\s+)?trabajo (?:en|para|con)|trabajamos (?:en|para)|estoy (?:en|con)"
    r"|soy de|vengo de|somos|mi empresa (?:es|se llama)|la empresa (?:es|se llama)|nuestra empresa"
    r" (?:es|se llama)|se llama|empresa:|compania:|i work (?:at|for|with|in)|we work (?:at|for)|i'?m (?:at"
    r"|with|from)|we are|we're|the company is|my company is|our company is|company is|company:|it's"
    r"|it is|at|for|from|en|de|para|la empresa|una empresa llamada|the company|a company called|empresa"
    r"|company)\s+"
)
_COMPANY_NONE = re.compile(
    r"^(?:no|ninguna|ninguno|none|n/?a|nada|nothing|nope|-)[\s.!]*$|\bno tengo (?:empresa|compania)\b"
    r"|\bno trabajo\b|\bprefiero no\b|\bno (?:te )?(?:lo )?quiero decir\b|\bno quiero\b|\brather not\b"
    r"|\b(?:don'?t|do not) (?:want|wish) to\b|\bautonom[oa]\b|\bfreelanc\w*|\bpor mi cuenta\b"
    r"|\bself[- ]employed\b|\bestudiante\b|\bstudent\b|\bparticular\b|\bunemployed\b|\bparo\b"
    r"|\bninguna empresa\b|\bno company\b|\bi don'?t work\b"
)
_LEGAL_SUFFIX = (
    r"(?:s\.?\s?l\.?u?|s\.?\s?a\.?(?:\s?de\s?c\.?\s?v\.?)?|s\.?a\.?s|inc|ltd|llc|gmbh|plc|corp|co|cia|sarl|bv|ag)\b"
)
_COMPANY_CUT = re.compile(
    rf",\s+(?!{_LEGAL_SUFFIX})|(?<=[a-z0-9)]{{2}})\.\s+(?=\w)"
    r"|\s+(?:y|and)\s+(?:somos|soy|tenemos|trabajo|estamos|we|i|our)\b|\s+(?:donde|where|como|as|que|which)\s+"
    r"|\s+-\s+|[!?¿¡(]"
)
_TRAILING_ABBREV = re.compile(r"(?:\b[a-z]\.)+$|\b(?:inc|ltd|corp|co|cia|jr|bros)\.$")


@_safe
def parse_company(text: str, lang: str = "es") -> str | None:
    """The company name from "Trabajo en Acme S.L.", "I work at Acme Inc" or just "Acme"."""
    raw = _CONTROL.sub(" ", text).strip()
    if len(raw) > 100 or re.search(r"[<>{};`=*\\]|--|@|https?:", raw) or _SQL.search(raw):
        return None
    folded = normalize(raw)
    if _COMPANY_NONE.search(folded):
        return None
    raw = _cut_prefix(raw, _GREETING, 1)
    raw = _cut_prefix(raw, _COMPANY_PREFIX, 3)
    folded, index = _fold_map(raw)
    cut = _COMPANY_CUT.search(folded)
    if cut and cut.start() > 0:
        raw = raw[: index[cut.start()]]
    raw = raw.strip().strip("\"'«»“”").strip()
    raw = raw.rstrip(",;:")
    if raw.endswith(".") and not _TRAILING_ABBREV.search(normalize(raw)):
        raw = raw.rstrip(".").rstrip()
    if not raw or not re.search(r"[^\W_]", raw) or len(raw.split()) > 10:
        return None
    if normalize(raw) in {
        "la empresa",
        "empresa",
        "company",
        "the company",
        "mi empresa",
        "my company",
    }:
        return None
    return raw
