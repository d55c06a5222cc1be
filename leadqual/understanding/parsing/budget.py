"""Budget answers: amounts, ranges, currencies and periods ("entre 5 y 10 mil euros al año").

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
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from text_to_num import alpha2digit

from leadqual.understanding.parsing.common import (
    EMAIL_OR_URL,
    SMALL_NUMBERS,
    UNKNOWN,
    WHITESPACE,
    Budget,
    fold,
    never_raises,
    rounded,
    to_number,
)

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


_RANGE_WORDS = [w for w in SMALL_NUMBERS if len(w) > 2]


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
        value = to_number(m.group(1))
        if value is None:
            return m.group(0)
        word = m.group(2)
        out = _fmt_amount(value * _SCALES[word])
        return f"{out} pesos" if word.startswith(("luca", "palo")) else out

    return _SCALED.sub(repl, text)


def _word_or_number(token: str) -> float | None:
    if token in SMALL_NUMBERS:
        return float(SMALL_NUMBERS[token])
    return to_number(token)


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
    t = fold(text)
    t = EMAIL_OR_URL.sub(" ", t)
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
    return WHITESPACE.sub(" ", t).strip()


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
        value = to_number(m.group())
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


@never_raises
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
                confidence=rounded(confidence),
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
        return Budget(min=lo, max=hi, currency=currency, period=period, confidence=rounded(confidence))
    if _BUDGET_NOT_SET.search(t) and re.search(r"\b(?:no|sin|not|without)\b", t):
        # "no tenemos un presupuesto definido": there may be money, the amount is open.
        return Budget(unknown=True, confidence=0.8)
    if _BUDGET_NONE.search(t):
        return Budget(none=True, confidence=0.9)
    if requested and _BUDGET_NONE_SHORT.match(t):
        return Budget(none=True, confidence=0.8)
    if UNKNOWN.search(t) and (requested or _BUDGET_WORDS.search(t)):
        return Budget(unknown=True, confidence=0.9)
    if requested and _BUDGET_ASK_SOMEONE.search(t):
        return Budget(unknown=True, confidence=0.85)
    return None
