"""Timing answers: when the visitor wants to start, as a window in months from today.

dateparser is only used for absolute dates ("15 de abril", "15/04/2026"); its first call per
language takes ~0.2 s (locale loading), later calls ~1-2 ms. It cannot parse "el mes que viene",
"dentro de tres meses" or "en dos semanas", so relative expressions are handled by the regular
expressions below; seasons, quarters, fiscal years and holidays by leadqual.understanding.calendar_terms.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from datetime import date, datetime

from leadqual import timeutil
from leadqual.understanding import calendar_terms as cal  # noqa: E402  (the tables of the patterns below)
from leadqual.understanding.parsing.common import (
    EMAIL_OR_URL,
    SMALL_NUMBERS,
    UNKNOWN,
    Timing,
    fold,
    never_raises,
    plural_equal,
    rounded,
    to_number,
    within_one_edit,
)

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
    **{k: v for k, v in SMALL_NUMBERS.items() if v <= 24},
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


# Seasons, holidays, vacations, quarters, halves and fiscal years ("antes del verano",
# "Q1 next year", "después de Navidad", "el próximo ejercicio"). The tables and the month
# arithmetic are in leadqual/understanding/calendar_terms.py. Each pattern is: an optional preposition (its
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
            if within_one_edit(word, target) and not plural_equal(word, target):
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
    return (m.start(), m.end(), rounded(months), conf)


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
                return (m.start(), m.end(), rounded(_cal_one(p, kind or "in", now)), 0.9)
            return _cal_resolve(m, lambda y: cal.fiscal_part(y, fiscal_start, n, size), today, 0.9)
        parts = [cal.fiscal_part(y, fiscal_start, k, size) for y in years for k in range(1, 12 // size + 1)]
    # "this quarter" / "end of this semester" / "the next fiscal quarter".
    parts.sort()
    current = next(p for p in parts if p.start <= now < p.start + p.length)
    target = next(p for p in parts if p.start > current.start) if which == "next" else current
    return (m.start(), m.end(), rounded(_cal_one(target, kind or "in", now)), 0.9)


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
        return (m.start(), m.end(), rounded(months), 0.9)
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
    return (m.start(), m.end(), rounded(max(0.0, months)), 0.9)


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
                found.append((m.start(), m.end(), rounded(_cal_one(around, _cal_kind(m) or "in", now)), 0.85))
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
            if len(target) >= 5 and within_one_edit(word, target):
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
    value = to_number(token)
    return value, False


def _explicit_times(t: str, lang: str, today: date, requested: bool) -> list[tuple[int, int, float, float]]:
    """(position, priority, months, confidence) of each explicit time expression."""
    found: list[tuple[int, int, float, float]] = []
    month = today.month

    def add(m: re.Match | None, prio: int, months: float, conf: float = 0.95) -> None:
        if m is not None:
            found.append((m.start(), prio, rounded(max(0.0, months)), conf))

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
        found.append((pos, 5, rounded(n * factor), 0.6 if vague else 0.95))
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
            found.append((m.start(), 2, rounded(max(0.0, months)), 0.9))  # before "next year" itself
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


@never_raises
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
    t = fold(text)
    t = EMAIL_OR_URL.sub(" ", t)
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
    if UNKNOWN.search(t):
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
