"""Emails and phone numbers masked out of text that goes to logs. Standard library only: Rasa's
own environment imports it too (leadqual_rasa/logmask.py), as does the action server
(leadqual/http/observability.py)."""

from __future__ import annotations

import re

EMAIL = re.compile(r"[\w.%+-]+@[\w-]+(?:\.[\w-]+)+")
# 9 to 15 digits, optionally with +, spaces, dots, dashes or parentheses between them; not part of
# a longer number or word, not a decimal ("1795468844.71"), not a date-time ("2026-11-23 21").
PHONE = re.compile(r"(?<![\w.+])\+?\(?\d(?:[ .\-()]{0,2}\d){8,14}(?![\w]|\.\d)")
# Not phones: a date-time ("2026-11-23 21") or a decimal ("0.123456789").
NOT_PHONE = re.compile(r"\d{4}-\d{2}-\d{2}|^\d+\.\d+$")
EMAIL_MASK, PHONE_MASK = "[email]", "[phone]"


def mask(value: str) -> str:
    """The text with email addresses and phone numbers replaced by [email] / [phone]."""
    value = EMAIL.sub(EMAIL_MASK, value)
    return PHONE.sub(lambda m: m.group(0) if NOT_PHONE.search(m.group(0)) else PHONE_MASK, value)
