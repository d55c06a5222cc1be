"""Contact answers: name, company and email, accepting what people type."""

from __future__ import annotations

import re

from email_validator import EmailNotValidError, validate_email

from leadqual.understanding.parsing.common import fold_map, never_raises, normalize

_EMAIL_CANDIDATE = re.compile(r"(?<![\w.!#$%&'*+/=?^`{|}~@-])[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+(?![\w@-])")


@never_raises
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


# Laughter and chat noise typed where a name was asked: "jajaja", "jeje", "haha", "lol", "xd".
_LAUGHTER = re.compile(r"^(?:(?:[jh][aei]){2,}[jh]?|(?:ja)*(?:js){2,}j?|lo+l|x+d+|l+m+a+o+|mdr)$")
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
        folded, index = fold_map(text)
        m = rx.match(folded)
        if not m or m.end() == 0:
            break
        text = text[index[m.end()] :] if m.end() < len(index) else ""
        text = text.lstrip(" ,.:;-")
    return text


@never_raises
def parse_name(text: str, lang: str = "es") -> str | None:
    """The visitor's name from "Me llamo Ana Pérez", "I'm John", "Ana"; None if not a name."""
    raw = _CONTROL.sub(" ", text).strip().strip("\"'«»“”")
    if len(raw) > 100 or re.search(r"[\d@<>{}\[\]=;:/\\|#$%^*_~`]|http", raw):
        return None
    raw = _cut_prefix(raw, _GREETING, 1)
    raw = _cut_prefix(raw, _NAME_PREFIX, 1)
    folded, index = fold_map(raw)
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
    if any(_LAUGHTER.match(w) for w in folded_words):
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


@never_raises
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
    folded, index = fold_map(raw)
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
