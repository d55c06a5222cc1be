"""Corrections at any point: "perdona, eran 20 mil", "cambia el plazo a 6 meses", "actually it's 30k".

Which answer is meant comes from a keyword ("plazo", "budget") when there is one, else from
what the new value looks like (an amount is a budget, a time expression a timing).
"""

from __future__ import annotations

import re
from datetime import date

from leadqual.config.marketing import BANT_SLOTS, QualificationConfig
from leadqual.understanding.answers import parse_answer
from leadqual.understanding.parsing import normalize

_HINTS = {
    "budget": r"presupuesto|budget|dinero|importe|cantidad|precio|invertir|gastar|spend|amount",
    "timing": r"plazo|fecha|cuando|timeline|timing|when|deadline|arrancar|empezar|start",
    "authority": r"decid|decision|decisor|aprueba|approve|jefe|boss|manager",
    "need": r"necesit|need|buscamos|looking for|usar|use it for",
}
_TIME_UNIT = re.compile(r"\b(mes|meses|semana|semanas|ano|anos|trimestre|month|months|week|weeks|year|quarter)\b")
_DIGIT = re.compile(r"\d")


def read_correction(
    text: str, config: QualificationConfig, lang: str, today: date | None = None, hemisphere: str = "north"
) -> tuple[str, dict] | None:
    """(slot, new value) that a correction message gives, or None when it is unclear."""
    if not text or text.lstrip().startswith("/"):
        return None
    folded = normalize(text)
    hinted = [slot for slot in BANT_SLOTS if re.search(_HINTS[slot], folded)]
    for slot in hinted:
        value = parse_answer(slot, text, config, lang, requested=True, today=today, hemisphere=hemisphere)
        if value is not None:
            return slot, value
    for slot in ("timing", "budget", "authority", "need"):
        value = parse_answer(slot, text, config, lang, requested=False, today=today, hemisphere=hemisphere)
        if value is not None:
            return slot, value
    if _TIME_UNIT.search(folded):
        value = parse_answer("timing", text, config, lang, requested=True, today=today, hemisphere=hemisphere)
        if value is not None:
            return "timing", value
    if _DIGIT.search(folded) or re.search(r"\b(mil|k|thousand)\b", folded):
        value = parse_answer("budget", text, config, lang, requested=True, today=today, hemisphere=hemisphere)
        if value is not None:
            return "budget", value
    return None
