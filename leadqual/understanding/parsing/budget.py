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
- alpha2digit leaves digits mixed with words ("4 mil quinientos" -> "4 1500"), so the words
  after a digit scale are read with text2num on their own.
- price_parser.Price guesses the decimal separator: "1.500" -> 1500, "1,5" -> 1.5,
  "1.000,50" -> 1000.5, "1,000.50" -> 1000.5 (Spanish and English in one rule).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from text_to_num import alpha2digit, text2num

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


def _resolve_currency(code: str, text: str, lang: str) -> str | None:
    """A named Latin-American country fixes '$' and bare pesos; otherwise '$' is USD in
    English only (in Spanish it is also the peso sign) and bare pesos stay unknown."""
    if code not in ("", "$"):
        return code
    for rx, country_code in _COUNTRY:
        if rx.search(text):
            return country_code
    return "USD" if code == "$" and lang == "en" else None


_SCALES = {
    "hundred": 1e2,
    "k": 1e3,
    "mil": 1e3,
    "miles": 1e3,
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


_SCALE = r"(?:k|mil|miles|hundred|thousand|grand|lucas?|palos?|millones|millon|millions?|mill|mio|mm|m)"


_NUM = r"\d+(?:[.,]\d+)*"


_SCALED = re.compile(rf"(?<![\w.,])({_NUM})\s*({_SCALE})(?![a-z0-9])")


# Peru: a luca is one sol, not a thousand pesos; Peruvian answers with lucas name the soles.
_SOLES = re.compile(r"\b(?:soles?|pen)\b")


def _scale(word: str, text: str) -> tuple[float, str]:
    """Factor of a scale word and the currency word it implies ("lucas", "palos": pesos)."""
    if word.startswith("luca"):
        return (1.0, "") if _SOLES.search(text) else (1e3, " pesos")
    if word.startswith("palo"):
        return 1e6, " pesos"
    return _SCALES[word], ""


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


# "un palo y medio", "2 millones y medio", "a million and a half" (after the expansion).
_AND_A_HALF = re.compile(r"\b(\d+(?:\.\d{3})*)(\s+pesos)?\s+(?:y|and a)\s+(?:medio|media|half)\b")


# "two and a half million", "2 y medio millones": the half comes before the scale.
_HALF_BEFORE_SCALE = re.compile(
    r"(?<![\w.,])(\d+|" + "|".join(sorted(SMALL_NUMBERS, key=len, reverse=True)) + r")"
    r"\s+(?:and a|y)\s+(?:half|medi[oa])\s+(?=(?:millones|millon|millions?|mil|thousand|grand|k|palos|lucas)\b)"
)


# Half of a scale: "medio millón", "media luca", "half a million" -> "0.5 millon".
_HALF_OF = re.compile(r"\b(?:medi[oa]|half an?)\s+(?=(?:millon|palo|luca|million|grand|thousand|mil)\b)")


# Number words the converter leaves alone before a slang scale: "two grand", "una luca", "dos palos".
_WORD_SCALED = re.compile(
    r"\b(" + "|".join(sorted(SMALL_NUMBERS, key=len, reverse=True)) + r")\s+(?=(?:grand|lucas?|palos?|millon)\b)"
)


# "a couple hundred", "un par de millones": two of the scale.
_COUPLE_OF = re.compile(
    r"\b(?:a couple(?: of)?|couple of|un par de)\s+"
    r"(?=(?:hundred|thousand|grand|k|millions?|millones|mil|miles|lucas|palos)\b)"
)


# "4 mil quinientos", "3 thousand five hundred", "4 mil 500": digits, scale, then the rest.
_SCALE_THEN_WORDS = re.compile(r"(?<![\w.,])(\d+)\s*(mil|thousand)\s+(\d{1,3}(?![\d.,])|[a-z]+(?:\s+[a-z]+){0,3})")


# "2 millones 500 mil" once expanded: "2000000 500000" is one amount.
_MILLIONS_THOUSANDS = re.compile(r"(?<![\w.,])(\d+000000) (\d{1,3}(?:\.?000))(?![\w.,])")


_APPROX = re.compile(
    r"\b(?:mas o menos|more or less|unos|unas|aproximadamente|aprox\.?|approx\.?"
    r"|alrededor de(?: los| las)?|cerca de(?: los| las)?|en torno a(?: los| las)?"
    r"|sobre (?:los|las)|about|around|roughly|approximately|circa|something like)"
    r"(?=\s|$)|~|±"
)


_VAGUE = re.compile(r"^\s*(?:€|\$|£)?\s*(?:y pico|y algo|y poco|-?ish|odd|o algo asi|o asi|or so)\b")


_PHONE = re.compile(r"\+?\d[\d \-().]{7,}\d")


# "10 000 €", "$ 30 000": thousands grouped with spaces, next to a currency on either side.
_SPACE_GROUPS = re.compile(
    rf"\b(\d{{1,3}})((?: \d{{3}})+)(?=\s*(?:{_CUR_ALT}))",
)
_SPACE_GROUPS_AFTER_CUR = re.compile(
    r"(?<![a-z])((?:[$€£]|us\$|usd|eur|gbp|mxn|cop|ars|clp)\s*)(\d{1,3})((?: \d{3})+)\b"
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


# A count said before its number: "a team of 8", "equipo de 5", "somos 12".
_UNITS_BEFORE = re.compile(
    r"(?:\b(?:team|equipo|grupo|group|plantilla|staff|crew|company|empresa|startup|agency|agencia|family|familia)"
    r"\s+(?:of|de)|\bsomos)\s*~?\s*$"
)


# What they pay now or paid before, or were quoted: another amount in the message is the budget
# ("pagamos 200 al mes, podríamos subir a 350").
_CURRENT_SPEND = re.compile(
    r"\b(?:currently|right now we|at the moment we|now we|we pay|we'?re paying|paying|we spend|we'?re spending"
    r"|last year|we'?ve been quoted|were quoted|quoted us|actualmente|ahora (?:pagamos|gastamos|mismo pagamos)"
    r"|pagamos|gastamos|el ano pasado|nos cotizaron|nos pasaron)\b"
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
    r"|ni (?:un|una) \w+ mas (?:de|que)|not (?:a|one) (?:\w+ )?\w+ (?:more than|over|above)"  # "ni un euro más de"
    # A ceiling, or as far as they could go: "el techo es de", "podríamos llegar a", "stretch to".
    r"|(?:el )?(?:techo|limite)(?: (?:es|son|seria|serian|esta en))?(?: de)?"
    r"|(?:the |our )?(?:ceiling|limit)(?: is| of)?"
    r"|(?:(?:como mucho|como maximo|a lo sumo|at most|at the most) )?(?:podriamos |podemos |could |can |would |we'?d )?"
    r"(?:llegar|llegariamos|llegamos|subir|subiriamos|estirar(?:nos)?|stretch|go|get)(?: (?:a|hasta|to|up to))"
)


_MIN_QUAL = (
    r"no menos de|mas de|mas que|a partir de|desde|como minimo|minimo de|minimo|min\.?"
    r"|al menos|por lo menos|superior a|por encima de|over|above|more than|at least"
    r"|starting at|starting from|from|upwards of|in excess of|north of|no less than|not less than"
    r"|a minimum of|minimum of|minimum|>=|>|≥|\+"
)


_PRE_QUAL = re.compile(
    rf"(?:^|(?<=[^\w]))(?:(?P<max>{_MAX_QUAL})|(?P<min>{_MIN_QUAL}))"
    rf"\s*(?:(?:unos|unas|los|las|el|the|a|an|de|~)\s*)*(?:{_CUR})?\s*~?\s*$"
)


# What may stand between an amount and a trailing "max"/"or more": its period and the unit it
# is paid per, in either order ("50 €/mes por usuario como máximo", "$99/mo tops").
_PERIOD_WORDS = (
    r"(?:(?:(?:al|por|a|per|cada|x|/)\s*(?:mes|ano|month|year|mo|yr)\b|mensual(?:es|mente)?|anual(?:es|mente)?"
    r"|monthly|yearly|annually|pcm|pm"
    r"|(?:per|por|a|al|x)\s+(?:user|usuario|seat|persona|licencia|head|cabeza)s?)\b\s*){0,3}"
)


_POST_MAX = re.compile(
    rf"^\s*{_PERIOD_WORDS},?\s*(?:o menos|or less|or under|or below|como mucho|no mas|not more"
    r"|como maximo|maximo|max|tops|at most|at the most|como tope|de tope|top)\b"
)


_POST_MIN = re.compile(
    rf"^\s*{_PERIOD_WORDS},?\s*(?:\+|(?:o mas|or more|or above|and up|and above"
    r"|en adelante|para arriba|hacia arriba|o superior|como minimo|minimo|al menos"
    r"|at least|at minimum|minimum|plus)\b)"
)


_RANGE_SEP = re.compile(
    r"^\s*(?P<sep>-|–|—|a|al|y|and|to|up to|upto|hasta|till|until|o|or)(?:\s+an?)?\s*$",
)


_RANGE_INTRO = re.compile(r"(?:\bentre|\bbetween|\bde|\bfrom|\bdesde)\s*(?:~\s*)?$")


_PERIODS = [
    (
        "month",
        re.compile(
            r"(?:\bal mes|\bpor mes|\bcada mes|\bx mes|\bmensual(?:es|mente)?|/\s*mes\b"
            r"|\bper month|\ba month|\bmonthly|\bevery month|\beach month|/\s*mo(?:nth)?\b"
            r"|\b(?:a|per) mo\b|(?<=\d)\s?/\s?m\b"
            r"|\bp/?m\b|(?<=\d)pm\b|\bpcm\b|\bmes a mes)"
        ),
    ),
    (
        "year",
        re.compile(
            r"(?:\bal ano|\bpor ano|\bcada ano|\bx ano|\banual(?:es|mente)?|/\s*ano\b"
            r"|\bper year|\ba year|\byearly|\bannual(?:ly)?|\bper annum|\bp\.a\.|\bp/a\b"
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
    r"(?:presupuesto|dinero|plata|pasta|lana|guita|fondos|budget)\b"
    r"|\b(?:presupuesto|budget)\s*(?:es\s+|is\s+|de\s+|of\s+)?(?:cero|zero|nulo|ninguno|nada|none)\b"
    r"|\bno (?:money|funds)\b|\b(?:don'?t|do not|haven'?t|have not|dont) (?:really |actually |yet )?(?:have|got)"
    r"(?: a| any)? (?:budget|money)\b|\bzero budget\b|\bnothing allocated\b"
    r"|\bno podemos (?:pagar|gastar|invertir)\b|\bcan'?t afford\b|\b(?:can'?t|cannot) (?:spend|pay|invest)\b"
    # Nothing for now: free tools, bootstrapped.
    r"|\b(?:nada|nothing)\s+(?:por ahora|de momento|ahorita|right now|for now|at the moment|yet)\b"
    r"|\b(?:ahorita|ahora|de momento|por ahora) nada\b|\b(?:opciones|algo|herramientas?|cosas) gratis\b"
    r"|\bfree (?:options|tools|stuff|only)\b|\bbootstrapp?(?:ed|ing)\b|\b(?:only|just) free\b"
    r"|\b(?:algo|opciones|herramientas?|cosas|solo|solamente) (?:lo )?gratuit[oa]s?\b|\bsolo (?:lo )?gratis\b"
    r"|\bpresupuesto no hay\b|\bno (?:tenemos|hay) nada asignado\b|\bno manejamos presupuesto\b"
    r"|\bnil budget\b|\bsomething free\b|\bbasically (?:\$|€|£)?0\b"
)


# No budget, in words that only mean it in answer to the budget question ("I don't have one",
# "todavía nada", "we're broke", "nothing allocated").
_BUDGET_NONE_REQUESTED = re.compile(
    r"\b(?:don'?t|do not|haven'?t|have not|dont) (?:really |actually |yet )?(?:have|got) (?:one|any)\b"
    r"|\b(?:todavia|aun) nada\b|\bnada (?:todavia|aun)\b|^nada de nada\b|\b(?:we'?re|we are|i'?m|i am) broke\b"
    r"|\bestamos (?:pelados|quebrados|en la ruina)\b"
    # Nothing set aside: "we haven't allocated anything", "no hemos reservado nada".
    r"|\b(?:haven'?t|have not|hasn'?t|has not|not|no|nothing(?:'s)?|never)(?: (?:yet|been|has|have))*"
    r" (?:allocated|set aside|earmarked|assigned|reserved)\b"
    r"|\bno (?:hemos|he|han) (?:asignado|reservado|apartado|destinado|separado) (?:nada|dinero|presupuesto|plata)\b"
)


# "cero", "none yet", "nada, somos estudiantes": the answer is the first word; the rest is chatter.
_BUDGET_NONE_SHORT = re.compile(
    r"^(?:nada|ninguno|ninguna|cero|zero|none|nothing|nil|0|no hay|nope, none)"
    r"(?:\s+(?:yet|todavia|aun|for now|por ahora|de momento|ahorita|right now|at the moment|really|la verdad"
    r"|honestly|so far|hasta ahora))?"
    r"(?:[\s.!]*(?:(?:lol|jaja\w*|xd|haha\w*|😅|🙃)[\s.!]*)?$|\s*[,;:!.-]\s*\S)"
)


# Who else may hold the figure (boss, finance, partners...), in both languages.
_SOMEONE_ES = (
    r"(?:(?:mi|mis|el|la|los|las|nuestro|nuestra) (?:jef[ae]s?|gerente|director[a]?(?: financier[oa])?"
    r"|soci[oa]s?|duen[oa]s?|contador[a]?|ceo|cfo|directiva|junta|administrador[a]?)"
    r"|finanzas|contabilidad|direccion|gerencia|administracion|compras)"
)
_SOMEONE_EN = (
    r"(?:(?:my|the|our) (?:boss|manager|cfo|ceo|coo|md|owner|partners?|board|director|founder|co-?founder"
    r"|accountant|head office|finance (?:team|director|department|people))"
    r"|finance|management|accounting|procurement|purchasing)"
)


# Someone else knows the figure: the budget is not known yet (not "no budget").
_BUDGET_ASK_SOMEONE = re.compile(
    r"\b(?:preguntar(?:lo|le)?|consultar(?:lo|le)?|hablar(?:lo)?|ver(?:lo)?|confirmar(?:lo)?|revisar(?:lo)?)"
    rf" (?:a|con) {_SOMEONE_ES}\b"
    rf"|\blo que (?:diga|decida|apruebe|digan|decidan) {_SOMEONE_ES}\b"
    rf"|\blo (?:ve|decide|lleva|maneja|aprueba|sabe|define)n? {_SOMEONE_ES}\b"
    r"|\blo que cueste\b|\bwhatever it costs\b|\bfinance (?:hasn'?t|has not|haven'?t) (?:told|said|decided)\b"
    r"|\b(?:working (?:it|that) out|checking|check|ask|asking|speak|talk|confirm|run (?:it|this) by)"
    rf"(?: with| to)? {_SOMEONE_EN}\b"
    rf"|\b(?:that'?s|it'?s) {_SOMEONE_EN}'?s? (?:call|decision|department)\b"
    rf"|\b{_SOMEONE_EN} (?:decides|handles|sets|knows|deals with|will decide|has to approve)\b"
    r"|\b(?:until|till|before) (?:we|i) (?:see|get) (?:a|the|your) (?:quote|price|prices|proposal)\b"
    r"|\b(?:haven'?t|have not) got a clue\b"
    r"|\bstill (?:figuring|working) (?:that|it) out\b"
)


# Not a single coin: "ni un peso", "sin un duro", "not a penny". Read before the amounts,
# which would take "un centavo" for 0.01.
_NOT_A_COIN = re.compile(
    r"(?:\b(?:ni|sin|no (?:tenemos|tengo|hay)(?: ni)?) (?:un|una|1)"
    r" (?:peso|euro|dolar|duro|centavo|centimo|sol|quinto|mango|varo|libra)"
    r"|\bnot (?:a|one) (?:penny|cent|dime|dollar|pound|euro|red cent))\b"
    r"(?! (?:mas|more|over|extra|above|de mas|por encima))"  # "ni un euro más de 3000" is a cap
)


# No ceiling named: "lo que haga falta", "money is no object". Not known (no figure), and read
# before the no-budget words, which would take "no budget limit" for no budget.
_NO_LIMIT = re.compile(
    r"\blo que (?:haga falta|sea necesario|se necesite)\b|\bwhatever it takes\b|\bmoney is no object\b"
    r"|\b(?:no|sin) (?:hay |tenemos |there'?s |is )?(?:un )?(?:limite|tope|limit|cap|ceiling)\b"
    r"|\b(?:no|sin) (?:budget|presupuesto) (?:limit|cap|ceiling)\b|\bsky'?s the limit\b"
)


# "a few hundred", "unos miles", "mid five figures": a size without a figure, so not known.
# Removed before the amounts are read, where "unos cientos" would be 100.
_VAGUE_SCALE = re.compile(
    r"\b(?:a few|few|several|some|unos|unas|algunos|algunas|varios|varias|pocos|pocas)\s+"
    r"(?:hundreds?|thousands?|cientos|miles|millones|millions)\b"
    r"|\b(?:(?:low|mid|high)[- ])?(?:four|five|six|seven|cuatro|cinco|seis|siete|[4-7])[- ](?:figures?|cifras)\b"
)


# "sin presupuesto definido": money may exist, the figure is open. ("asignado"/"allocated"
# are not here: nothing set aside is no budget.)
_BUDGET_NOT_SET = re.compile(
    r"\b(?:presupuesto|budget|cifra)\s+(?:\w+\s+)?(?:definid[oa]|cerrad[oa]|fij[oa]|clar[oa]|concret[oa]|exact[oa]"
    r"|aprobado|set|defined|approved|fixed)\b"
    r"|\b(?:set|fixed|defined|firm|specific|exact|clear|approved|concrete)\s+(?:budget|figure|number|amount)\b"
    r"|\b(?:haven'?t|have not|not) (?:yet )?(?:set|defined|fixed|decided on|agreed on) (?:one|it|a budget|the budget)\b"
)


_NEGATION = re.compile(r"\b(?:no|sin|not|without|don'?t|dont|doesn'?t|haven'?t|hasn'?t|isn'?t|aren'?t|never|nunca)\b")


# Not known, in the words of a budget answer ("about" is "~" by now): no idea, still working it
# out, rather not say, price asked back, "whatever is reasonable", "poco" (small, but no figure:
# not the same as no budget).
_BUDGET_UNKNOWN = re.compile(
    r"\bno (?:tengo|tenemos|tiene) (?:ni |la (?:mas )?(?:menor|minima) )?idea\b|\b(?:cero|zero) idea\b"
    r"|\bno (?:lo )?(?:tengo|tenemos) (?:muy |nada )?claro\b|\bni (?:\w+ )?idea\b|^(?:nose|ns|idk|dunno)\b|\bdunno\b"
    # Still working it out, or will say later: "lo estamos viendo", "still deciding", "TBC".
    r"|\b(?:lo |la )?estamos (?:viendo|definiendo|evaluando|calculando|analizando|decidiendo|mirando|en eso)\b"
    r"|\bstill (?:deciding|thinking|working on (?:it|that)|figuring|discussing)\b|\bworking on (?:it|that)\b"
    r"|\b(?:haven'?t|have not|not) (?:yet )?(?:figured|worked) (?:that|it|this) out\b"
    r"|\btbc\b|\bto be confirmed\b|\bget back to you\b|\bte (?:aviso|confirmo|digo) (?:luego|despues|mas tarde)\b"
    r"|\b(?:we'?ll|we will) see\b|\b(?:ya )?veremos\b"
    # No figure in mind yet: "no number yet", "no tengo una cifra en mente", "nada pensado".
    r"|\bno (?:tengo |tenemos |hay )?(?:una |ninguna )?(?:cifra|figure|number|amount|numero)\b"
    r"|\b(?:nothing|no figure|no number) in mind\b|\bno (?:tenemos|tengo) nada pensado\b"
    r"|\b(?:aun|todavia) no (?:tenemos|tengo|hay) (?:una )?cifra\b"
    # Would rather not say.
    r"|\bprefiero no (?:decirlo|decir|compartirlo|compartir|contestar|responder)\b"
    r"|\b(?:rather|prefer) not (?:to )?(?:say|share|tell|disclose)\b|\bconfidencial\b|\bconfidential\b"
    r"|\b(?:can'?t|cannot) (?:share|say|disclose|tell you)\b|\bno (?:puedo|podemos) (?:decir|compartir)(?:lo)?\b"
    r"|\bsegun (?:el )?precio\b|\bdependiendo (?:del|de la|de lo|de)\b"
    # Asking the price back, or open to offers: "¿cuánto cuesta?", "flexible", "a convenir".
    r"|\bcuanto (?:cuesta|cobran|sale|vale|costaria|saldria)\b|\bque precio tiene\b"
    r"|\bhow much (?:is it|does it cost|do you charge|would it (?:be|cost)|are you)\b"
    r"|\bwhat do you (?:usually |normally |typically )?charge\b|\b(?:estamos )?(?:viendo|comparando) precios\b"
    r"|\bcomparing (?:prices|quotes)\b|\bflexibles?\b|\ba convenir\b|\babiert[oa]s? a (?:propuestas|ofertas)\b"
    r"|\bopen to (?:suggestions|offers|proposals)\b|\blo que (?:nos )?(?:propongan|ofrezcan)\b"
    r"|\bno (?:lo |la )?(?:hemos|he) (?:hablado|discutido|visto|mirado|conversado|platicado|tratado)\b"
    r"|\b(?:haven'?t|have not|not) (?:yet )?"
    r"(?:talked (?:about|~)|discussed|looked at|thought (?:about|~)|got (?:to|round to))"
    r" (?:it|that|this|budget|money|the budget)\b"
    r"|\blo que sea (?:razonable|justo|normal|logico)\b"
    r"|\b(?:algo|un precio|una cifra) (?:razonable|justo|justa|logico)\b"
    r"|\bwhatever(?:'s| is)? (?:reasonable|fair|sensible)\b"
    r"|\b(?:something|a price|a figure) (?:reasonable|fair|sensible)\b"
    r"|\ba (?:reasonable|fair|sensible) (?:price|amount|figure)\b"
    r"|(?:^|\btenemos |\bhay |\bes )(?:muy |bastante |mas bien )?poc[oa]\b(?! (?:tiempo|rato))"
    r"|\bpoco (?:presupuesto|dinero|plata|lana|pasta)\b|\bno (?:es|hay|tenemos) mucho\b"
    r"|\bpresupuesto (?:muy )?(?:pequeno|chico|ajustado|limitado|modesto|bajo|corto)\b"
    r"|^(?:not|very) (?:much|a lot)\b|\bnot (?:much|a lot|a huge amount)\b|\bvery little\b"
    r"|\b(?:tight|limited|small|modest|low|shoestring) budget\b|\bon a shoestring\b"
    r"|^(?:muy |mas bien |bastante |pretty |quite |very )?(?:pequeno|chico|bajo|modesto|limitado|ajustado"
    r"|small|low|modest|limited|tight)\b"
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
        factor, tag = _scale(m.group(2), text)
        return _fmt_amount(value * factor) + tag

    return _SCALED.sub(repl, text)


# "pocas lucas, unas 80 al mes": a slang unit said on its own scales the bare numbers.
# Run after the expansion, which consumes every "lucas" that follows a number.
_LONE_SLANG_UNIT = re.compile(r"\b(lucas?|palos?)\b")


def _lone_slang_unit(text: str) -> str:
    """Numbers below 1000 in a message that counts in lucas or palos without a number on them."""
    m = _LONE_SLANG_UNIT.search(text)
    if not m:
        return text
    factor, tag = _scale(m.group(1), text)

    def repl(n: re.Match) -> str:
        value = to_number(n.group())
        post = text[n.end() : n.end() + 40]
        if value is None or value >= 1000 or post.startswith(("%", "/")) or _UNITS.match(post):
            return n.group()
        return _fmt_amount(value * factor) + tag

    return _TOKEN.sub(repl, text)


def _scale_then_words(text: str) -> str:
    """'4 mil quinientos' is 4500: text2num reads the words after the scale."""

    def repl(m: re.Match) -> str:
        words = m.group(3).split()
        if words[0].isdigit():  # "4 mil 500", unless the digits count something else
            post = m.string[m.end() : m.end() + 40]
            if _UNITS.match(post) or re.match(rf"\s*{_SCALE}(?![a-z0-9])", post):
                return m.group(0)
            return str(int(m.group(1)) * 1000 + int(words[0]))
        for n in range(len(words), 0, -1):
            try:
                rest = text2num(" ".join(words[:n]), "es" if m.group(2) == "mil" else "en")
            except ValueError:
                continue
            if 10 <= rest < 1000:
                return " ".join([str(int(m.group(1)) * 1000 + rest), *words[n:]])
            break
        return m.group(0)

    return _SCALE_THEN_WORDS.sub(repl, text)


def _join_millions(text: str) -> str:
    def repl(m: re.Match) -> str:
        thousands = to_number(m.group(2)) or 0
        return str(int(m.group(1)) + int(thousands)) if thousands < 1e6 else m.group(0)

    return _MILLIONS_THOUSANDS.sub(repl, text)


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
        scale, tag = _scale(m.group("s"), text)
        sep = m.group("sep")
        return f"{_fmt_amount(a * scale)} {sep} {_fmt_amount(b * scale)}{tag}"

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
    t = _VAGUE_SCALE.sub(" ", t)
    t = _PHONE.sub(lambda m: " " if sum(c.isdigit() for c in m.group()) >= 9 else m.group(), t)
    t = _APPROX.sub(" ~ ", t)
    # Amounts alpha2digit leaves in words: "medio palo", "two grand", "a couple hundred".
    t = _HALF_BEFORE_SCALE.sub(lambda m: f"{(_word_or_number(m.group(1)) or 0) + 0.5} ", t)
    t = _HALF_OF.sub("0.5 ", t)
    t = _COUPLE_OF.sub("2 ", t)
    t = _WORD_SCALED.sub(lambda m: f"{SMALL_NUMBERS[m.group(1)]} ", t)
    t = _PEN_SYMBOL.sub("pen ", t)
    # "cero soles", "zero dollars": the amount 0, which is no budget (alpha2digit keeps "cero").
    t = re.sub(rf"\b(?:cero|zero)\s+(?={_CUR})", "0 ", t)
    t = _GLUED_CUR_AFTER.sub(" ", t)
    t = _GLUED_CUR_BEFORE.sub(r"\1 ", t)
    # Colombia writes millions with an apostrophe: "1'500.000".
    t = re.sub(r"(?<=\d)'(?=\d{3}(?:[.,]\d{3})+(?!\d))", ".", t)
    t = _SPACE_GROUPS.sub(lambda m: m.group(1) + m.group(2).replace(" ", ""), t)
    t = _SPACE_GROUPS_AFTER_CUR.sub(lambda m: m.group(1) + m.group(2) + m.group(3).replace(" ", ""), t)
    t = _share_range_scale(t)
    t = _scale_then_words(t)
    t = _expand_scaled(t)
    t = _SCALE_AND.sub(r"\1 - ", t)
    t = _words_to_digits(t, lang)
    t = _share_range_scale(t)
    t = _expand_scaled(t)
    t = _join_millions(t)
    t = _lone_slang_unit(t)

    def half(m: re.Match) -> str:
        n = int(to_number(m.group(1)) or 0)
        tag = m.group(2) or ""
        if n >= 1_000_000 and n % 1_000_000 == 0:
            return f"{n + 500_000}{tag}"
        if n >= 1000 and n % 1000 == 0:
            return f"{n + 500}{tag}"
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
    current: bool = False  # what they pay now or were quoted (_CURRENT_SPEND)


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
        if value is None or _UNITS.match(post) or _UNITS_BEFORE.search(t[max(0, start - 30) : start]):
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
                bool(_CURRENT_SPEND.search(pre)),
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


def _cap_after(a: _Amount, units: list[list[_Amount]]) -> float | None:
    """'about 2 grand a month, 3 tops': an amount then a cap is a range; the cap said without
    its scale takes the amount's ("3" after "2000" is 3000)."""
    i = next((n for n, u in enumerate(units) if u == [a]), None)
    if i is None or i + 1 >= len(units) or len(units[i + 1]) != 1 or a.qualifier is not None:
        return None
    b = units[i + 1][0]
    if b.qualifier != "max" or b.currency not in (None, a.currency) or b.value <= 0:
        return None
    value = b.value
    while value <= a.value and value * 1000 <= a.value * 10:
        value *= 1000
    return value if a.value < value <= a.value * 10 else None


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
    if _NOT_A_COIN.search(fold(text)):
        return Budget(none=True, confidence=0.9)
    vague = requested and _VAGUE_SCALE.search(fold(text)) is not None
    t = _prepare_budget_text(text, lang)
    if not t:
        return Budget(unknown=True, confidence=0.8) if vague else None
    units = _group_amounts(t, _find_amounts(t))
    units = [u for u in units if max(a.strength for a in u) >= (1 if requested else 2)]
    if units:
        # The strongest money signal; among equals, not what they pay today; then the first.
        unit = max(units, key=lambda u: (max(a.strength for a in u), not any(a.current for a in u)))
        strength = max(a.strength for a in unit)
        raw_cur = next((a.currency for a in unit if a.currency is not None), None)
        if raw_cur is None:
            for cm in _CUR_ANY.finditer(t):
                if cm.group().strip() not in _WEAK_CODES:
                    raw_cur = _currency_code(cm.group())
                    break
        currency = None if raw_cur is None else _resolve_currency(raw_cur, t, lang)
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
        cap = _cap_after(a, units)
        if cap is not None:
            hi = cap
        return Budget(min=lo, max=hi, currency=currency, period=period, confidence=rounded(confidence))
    if vague:
        return Budget(unknown=True, confidence=0.8)
    if _NO_LIMIT.search(t) and (requested or _BUDGET_WORDS.search(t)):
        return Budget(unknown=True, confidence=0.8)
    if _BUDGET_NOT_SET.search(t) and _NEGATION.search(t):
        # "no tenemos un presupuesto definido": there may be money, the amount is open.
        return Budget(unknown=True, confidence=0.8)
    if _BUDGET_NONE.search(t) or (requested and _BUDGET_NONE_REQUESTED.search(t)):
        return Budget(none=True, confidence=0.9)
    if requested and _BUDGET_NONE_SHORT.match(t):
        return Budget(none=True, confidence=0.8)
    if UNKNOWN.search(t) and (requested or _BUDGET_WORDS.search(t)):
        return Budget(unknown=True, confidence=0.9)
    if requested and (_BUDGET_ASK_SOMEONE.search(t) or _BUDGET_UNKNOWN.search(t)):
        return Budget(unknown=True, confidence=0.85)
    return None
