"""Contact answers: name, company and email, accepting what people type."""

from __future__ import annotations

import re
import unicodedata

from email_validator import EmailNotValidError, validate_email

from leadqual.understanding.parsing.common import WHITESPACE, Email, fold_map, never_raises, normalize, within_one_edit

_EMAIL_CANDIDATE = re.compile(r"(?<![\w.!#$%&'*+/=?^`{|}~@-])[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+(?![\w@-])")

# An address said or spaced out: "ana punto ruiz arroba gmail punto com", "chris at acme dot
# com", "ana @ acme.es", "ana(at)acme(dot)co(dot)uk". Each separator is a symbol (spaces around
# it allowed), a word between spaces, or a word in brackets. A dot followed by a space and no
# space before it ends a sentence ("trabajo at home. Then"), so it is not a separator. At most
# five parts a side keeps each try short on long runs of "dot".
_BRACKETED = r"\s*[(\[{<]\s*(?:WORDS)\s*[)\]}>]\s*"
_SPOKEN_AT = r"(?:\s*@\s*|\s+(?:at|arroba)\s+|" + _BRACKETED.replace("WORDS", r"at|arroba|@") + ")"
_SPOKEN_DOT = r"(?:\.(?!\s)|\s+\.\s*|\s+(?:dot|punto)\s+|" + _BRACKETED.replace("WORDS", r"dot|punto|\.") + ")"
_LOCAL_ATOM = r"[\w!#$%&'*+/=?^`{|}~-]+"
_SPOKEN_EMAIL = re.compile(
    rf"(?<![\w.@-]){_LOCAL_ATOM}(?:{_SPOKEN_DOT}{_LOCAL_ATOM}){{0,4}}{_SPOKEN_AT}[\w-]+(?:{_SPOKEN_DOT}[\w-]+){{1,5}}"
    r"(?![\w@-])",
    re.IGNORECASE,
)
# Words a bare English "at" follows that are no local part: "find us at acme dot com".
_NOT_LOCAL_PARTS = frozenset(
    "i i'm im me us we we're you it it's they them he she him her work works working based located live lives find"
    " reach contact email mail write is am are be here there available team office found".split()
)
_BARE_AT = re.compile(r"\s+at\s+", re.IGNORECASE)
_SPOKEN_AT_SUB = re.compile(_SPOKEN_AT, re.IGNORECASE)
_SPOKEN_DOT_SUB = re.compile(_SPOKEN_DOT, re.IGNORECASE)
# A said address must end in a top-level domain people use: any two letters (a country) or one
# of these, so "we meet at noon dot then" is no address.
_SAID_TLDS = frozenset(
    "com net org edu gov info biz pro name mobi app dev io ai tech online store shop site web cloud agency digital"
    " email studio design media group company solutions consulting services global world life live news blog"
    " xyz club team work jobs law legal health care travel bio eco lat page space today tv".split()
)

# Free mail providers' domains. A domain one edit away from one of them ("gmal.com",
# "hotmial.co.uk", "gmail.con") is a typo of it; a domain in this list is never corrected.
_PROVIDER_DOMAINS = (
    "gmail.com",
    "hotmail.com",
    "outlook.com",
    "yahoo.com",
    "icloud.com",
    "live.com",
    "hotmail.es",
    "outlook.es",
    "yahoo.es",
    "hotmail.co.uk",
    "outlook.co.uk",
    "yahoo.co.uk",
    "live.co.uk",
    "hotmail.com.mx",
    "outlook.com.mx",
    "yahoo.com.mx",
    "live.com.mx",
    "hotmail.com.ar",
    "yahoo.com.ar",
    "live.com.ar",
    "outlook.com.ar",
    "hotmail.cl",
    "outlook.cl",
    "yahoo.cl",
    "hotmail.com.co",
    "outlook.com.co",
    "yahoo.com.co",
    "hotmail.com.pe",
    "outlook.com.pe",
    "yahoo.com.pe",
    "hotmail.fr",
    "hotmail.it",
    "hotmail.de",
    "live.com.pe",
    "googlemail.com",
    "proton.me",
    "protonmail.com",
    "pm.me",
    "me.com",
    "mac.com",
    "msn.com",
    "aol.com",
)
# Other real domains one edit from a provider's: never corrected.
_KNOWN_DOMAINS = frozenset(
    (*_PROVIDER_DOMAINS, "mail.com", "email.com", "ymail.com", "rocketmail.com", "gmx.com", "gmx.es", "gmx.net")
)
# A corrected address is read back for the visitor to confirm (below config's confirm_below).
TYPO_CONFIDENCE = 0.6
SAID_CONFIDENCE = 0.9


def _provider_for_typo(domain: str) -> str | None:
    """The provider's domain one edit away from `domain`, if `domain` is not a known one. A
    typo in a short name ("lve.com", "aon.com") is too likely another real domain: only the
    top-level part of those is corrected ("live.con")."""
    if domain in _KNOWN_DOMAINS:
        return None
    for provider in _PROVIDER_DOMAINS:
        if not within_one_edit(domain, provider):
            continue
        name, typed_name = provider.split(".", 1)[0], domain.split(".", 1)[0]
        if name == typed_name or len(name) >= 5:
            return provider
    return None


def _validated(candidate: str) -> tuple[str, str, str] | None:
    """(normalized, local part, domain) when email-validator accepts the address."""
    candidate = candidate.strip(".")
    if len(candidate) > 254:
        return None
    try:
        result = validate_email(candidate, check_deliverability=False)
    except EmailNotValidError:
        return None
    return result.normalized, result.local_part, result.ascii_domain.lower()


def _unspoken(said: str) -> str:
    """ "ana punto ruiz arroba gmail punto com" -> "ana.ruiz@gmail.com"."""
    return _SPOKEN_DOT_SUB.sub(".", _SPOKEN_AT_SUB.sub("@", said))


def _candidates(text: str):
    """(address, confidence) for each address written plainly, then each said or spaced out."""
    for m in _EMAIL_CANDIDATE.finditer(text):
        yield m.group(), 1.0
    if not re.search(r"@|\b(?:at|arroba)\b", text, re.IGNORECASE):
        return
    position = 0
    while (spoken := _SPOKEN_EMAIL.search(text, position)) is not None:
        # A rejected match is retried from its next character, so "reach me at liam dot cole
        # at acme dot io" still finds "liam dot cole at acme dot io".
        position = spoken.start() + 1
        said = spoken.group()
        bare_at = _BARE_AT.search(said)
        if bare_at:  # English "at" is also a preposition: the rest must be said too ("dot")
            local, domain = said[: bare_at.start()], said[bare_at.end() :]
            if local.lower() in _NOT_LOCAL_PARTS or "." in domain:
                continue
        address = _unspoken(said)
        tld = address.rsplit(".", 1)[-1].lower()
        if len(tld) == 2 or tld in _SAID_TLDS:
            yield address, SAID_CONFIDENCE


@never_raises
def parse_email_answer(text: str) -> Email | None:
    """The first valid address in the text, written ("ana@acme.es"), spaced ("ana @ acme.es") or
    said ("ana arroba acme punto es", "ana at acme dot es"), domain lower-cased. A typo of a big
    provider's domain ("gmal.com") is corrected with a low confidence, so the chat reads it back;
    `typed_domain` is then the domain as written."""
    for candidate, confidence in _candidates(text):
        valid = _validated(candidate)
        if valid is None:
            continue
        address, local, domain = valid
        provider = _provider_for_typo(domain)
        if provider is not None:
            corrected = _validated(f"{local}@{provider}")
            if corrected is not None:
                return Email(corrected[0], min(confidence, TYPO_CONFIDENCE), typed_domain=domain)
        return Email(address, confidence)
    return None


@never_raises
def parse_email(text: str) -> str | None:
    """The address of parse_email_answer (a provider's typo corrected), or None."""
    email = parse_email_answer(text)
    return email.address if email else None


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


# Titles before a name: "el ing. Ramón Torres", "la Dra. Ruiz", "Mr. Smith".
_NAME_TITLE = re.compile(
    r"^(?:(?:el|la) )?(?:ing|ingeniero|ingeniera|lic|licenciado|licenciada|dr|dra|doctor|doctora|sr|sra|srta"
    r"|senor|senora|senorita|arq|prof|mr|mrs|ms|miss|mx)(?:\.\s*|\s+)(?=[^\W\d_])"
)


# Words that are also surnames: "No" (Korean), taken as one when capitalized after the first name.
_SURNAME_WORDS = {"no"}


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
    if parse_email_answer(raw) is not None:  # an address said in words: "ana arroba acme punto es"
        return None
    raw = _cut_prefix(raw, _GREETING, 1)
    raw = _cut_prefix(raw, _NAME_PREFIX, 1)
    raw = _cut_prefix(raw, _NAME_TITLE, 1)
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
    surnames = {i for i, w in enumerate(words) if i > 0 and folded_words[i] in _SURNAME_WORDS and w[:1].isupper()}
    if any(w in _NOT_NAMES for i, w in enumerate(folded_words) if w not in _NAME_CONNECTORS and i not in surnames):
        return None
    if any(_looks_like_filler(w, min_run=5) for w in words):
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
    r"|soy de|vengo de|somos|(?:mi|nuestra|la) (?:empresa|compania|organizacion)(?: es| se llama|:)"
    r"|(?:el )?nombre de (?:la|mi|nuestra) (?:empresa|compania)(?: es|:)|se llama|empresa:|compania:"
    r"|i work (?:at|for|with|in)|we work (?:at|for)|i'?m (?:at|with|from)|we are|we're"
    r"|(?:the|my|our) (?:company|organization|organisation|business)(?: name)?(?: is|:)|company(?: name)? is"
    r"|company(?: name)?:|it's|it is|at|for|from|en|de|para|la empresa|una empresa llamada|the company"
    r"|a company called|empresa|company)\s+"
)


_COMPANY_NONE = re.compile(
    r"^(?:no|ninguna|ninguno|none|n/?a|nada|nothing|nope|-)[\s.!]*$|\bno tengo (?:empresa|compania)\b"
    r"|\bno trabajo\b|\bprefiero no\b|\bno (?:te |se |le |les |os )?(?:lo )?(?:quiero|puedo|podemos|queremos)"
    r" (?:decir|compartir|dar)\b|\bno quiero\b|\brather not\b|\b(?:can'?t|cannot|won'?t) (?:say|tell|share"
    r"|disclose)\b|\bconfidencial\b|\bconfidential\b"
    r"|\b(?:don'?t|do not) (?:want|wish) to\b|\bautonom[oa]\b|\bfreelanc\w*|\bpor mi cuenta\b"
    r"|\bself[- ]employed\b|\bestudiante\b|\bstudent\b|\bparticular\b|\bunemployed\b|\bparo\b"
    r"|\bninguna empresa\b|\bno company\b|\bi don'?t work\b"
    # a company not named yet, or the visitor alone
    r"|\bsin nombre\b|\b(?:aun|todavia) no (?:tiene|tenemos) nombre\b|\bno (?:tiene|tenemos) nombre\b"
    r"|\bno name\b|\bunnamed\b|\bnot named\b|\b(?:just|only) me\b|\bmyself\b|\bsolo yo\b|\byo sol[oa]\b"
    r"|\byo mism[oa]\b|\bsoy yo\b"
)


_LEGAL_SUFFIX = (
    r"(?:s\.?\s?l\.?u?|s\.?\s?a\.?(?:\s?de\s?c\.?\s?v\.?)?|s\.?a\.?s|inc|ltd|llc|gmbh|plc|corp|co|cia|sarl|bv|ag)\b"
)


_COMPANY_CUT = re.compile(
    rf",\s+(?!{_LEGAL_SUFFIX})|(?<=[a-z0-9)]{{2}})\.\s+(?=\w)"
    r"|\s+(?:y|and)\s+(?:somos|soy|tenemos|trabajo|estamos|we|i|our)\b|\s+(?P<relative>donde|where|como|as|que"
    r"|which)\s+|\s+-\s+|[!?¿¡(]"
)


_TRAILING_ABBREV = re.compile(r"(?:\b[a-z]\.)+$|\b(?:inc|ltd|corp|co|cia|jr|bros)\.$")


# A lower-case article left after "trabajo en": "trabajo en la Viña Sur" is "Viña Sur"
# (a capital one is the name's: "La Tahona").
_LEADING_ARTICLE = re.compile(r"(?:la|el|los|las|the) (?=[^\W\d_])")


# What people type to get past a question: a run of keys along one keyboard row ("asdfgh",
# "qwerty"), a few such keys repeated ("asdasd") or a test word, digits allowed ("prueba123").
_KEYBOARD_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_TEST_WORDS = frozenset({"test", "testing", "prueba", "pruebas", "ejemplo", "example", "foo", "foobar", "xxx"})
_REPEATED_UNIT = re.compile(r"^([a-z]{3,5})\1+[a-z]{0,4}$")


def _keyboard_run(letters: str) -> bool:
    return len(letters) >= 3 and any(letters in row or letters in row[::-1] for row in _KEYBOARD_ROWS)


def _looks_like_filler(word: str, min_run: int = 4) -> bool:
    """A word typed to get past a question rather than a name. Names ask for longer key runs
    (`min_run`): "Wert" and "Trew" are surnames."""
    letters = normalize(word).rstrip("0123456789")
    if not letters.isalpha() or not letters.isascii():
        return False
    if letters in _TEST_WORDS:
        return True
    if len(letters) >= min_run and _keyboard_run(letters):
        return True
    repeated = _REPEATED_UNIT.match(letters)
    return bool(repeated and _keyboard_run(repeated.group(1)))


def _without_symbols(text: str) -> str:
    """Emoji and other pictographs dropped: "Agencia Pulpo 🐙" is "Agencia Pulpo"."""
    kept = "".join(
        " " if unicodedata.category(c) in ("So", "Sk", "Cs", "Co") or c in "\u200d\ufe0f\ufe0e" else c for c in text
    )
    return WHITESPACE.sub(" ", kept).strip()


def _greeting_is_name(raw: str) -> bool:
    """ "Hola Studio", "Hi There Design": a capitalized greeting run into capitalized words, with no
    comma or stop after it, starts the name instead of greeting."""
    folded, index = fold_map(raw)
    m = _GREETING.match(folded)
    if not m or m.end() >= len(index) or not raw[:1].isupper():
        return False
    if re.search(r"[,!.]", folded[: m.end()]):
        return False
    rest = raw[index[m.end()] :]
    return rest[:1].isupper() and not _COMPANY_PREFIX.match(normalize(rest) + " ")


@never_raises
def parse_company(text: str, lang: str = "es") -> str | None:
    """The company name from "Trabajo en Acme S.L.", "I work at Acme Inc" or just "Acme"."""
    raw = _without_symbols(_CONTROL.sub(" ", text))
    if len(raw) > 100 or re.search(r"[<>{};`=*\\]|--|@|https?:", raw) or _SQL.search(raw):
        return None
    if parse_email_answer(raw) is not None:  # an address said in words
        return None
    folded = normalize(raw)
    if _COMPANY_NONE.search(folded):
        return None
    if not _greeting_is_name(raw):
        raw = _cut_prefix(raw, _GREETING, 1)
    before = raw
    raw = _cut_prefix(raw, _COMPANY_PREFIX, 3)
    if raw != before and _LEADING_ARTICLE.match(raw):
        raw = _LEADING_ARTICLE.sub("", raw, count=1)
    folded, index = fold_map(raw)
    for cut in _COMPANY_CUT.finditer(folded):
        if cut.group("relative") and raw[index[cut.start("relative")]].isupper():
            continue  # "Nada Que Ver Producciones": a capitalized word is the name's
        if cut.start() > 0:
            raw = raw[: index[cut.start()]]
        break
    raw = raw.strip().strip("\"'«»“”").strip()
    raw = raw.rstrip(",;:")
    if raw.endswith(".") and not _TRAILING_ABBREV.search(normalize(raw)):
        raw = raw.rstrip(".").rstrip()
    if not raw or not re.search(r"[^\W_]", raw) or len(raw.split()) > 10:
        return None
    if len(raw.split()) == 1 and _looks_like_filler(raw):
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
