"""Which language to answer in: the page's word first, then what the visitor writes.

Short replies ("ok", "5k", "Ana") say nothing about the language, so a conversation keeps
its language unless a message is clearly in the other one.
"""

from __future__ import annotations

import re
from functools import lru_cache

SUPPORTED = ("es", "en")
DEFAULT = "es"
_WORD = re.compile(r"[^\W\d_]{2,}", re.UNICODE)
# One-word messages that do tell the language.
_CUES = {
    "en": {
        "hello",
        "hi",
        "hey",
        "thanks",
        "thank",
        "yes",
        "yeah",
        "yep",
        "nope",
        "bye",
        "pricing",
        "price",
        "prices",
        "sure",
        "please",
    },
    "es": {"hola", "gracias", "buenas", "adios", "adiós", "vale", "precios", "precio", "claro", "porfa", "chao", "sí"},
}


@lru_cache(maxsize=1)
def _detector():
    from lingua import Language, LanguageDetectorBuilder

    return (
        LanguageDetectorBuilder.from_languages(Language.SPANISH, Language.ENGLISH)
        .with_minimum_relative_distance(0.25)
        .build()
    )


def normalize_code(value: object) -> str | None:
    """'es-MX', 'EN', 'en_GB' -> 'es' / 'en'; anything else -> None."""
    if not isinstance(value, str):
        return None
    code = value.strip().lower().replace("_", "-").split("-")[0]
    return code if code in SUPPORTED else None


def detect(text: str, *, single_words: bool = True) -> str | None:
    """'es' or 'en' when the text clearly is one of them, else None.

    With single_words=False a one-word message only counts when it is a known cue
    ("hello", "gracias"), so a name like "Lucia" does not switch the conversation.
    """
    words = _WORD.findall(text or "")
    if len(words) == 1:
        word = words[0].lower()
        cue = next((lang for lang, cues in _CUES.items() if word in cues), None)
        if cue or not single_words or len(word) < 5:
            return cue
    if not words:
        return None
    if re.search(r"[ñ¿¡áéíóú]", text.lower()):
        return "es"
    from lingua import Language

    found = _detector().detect_language_of(" ".join(words[:60]))
    return {Language.SPANISH: "es", Language.ENGLISH: "en"}.get(found)


def choose_language(metadata_lang: object, text: str, current: str | None) -> str:
    """The reply language for this turn."""
    from_page = normalize_code(metadata_lang)
    if from_page:
        return from_page
    current = normalize_code(current)
    if current and len(_WORD.findall(text or "")) < 3 and not _is_cue(text):
        return current  # "José García", "Acme Ltd": too short to switch a conversation
    return detect(text, single_words=current is None) or current or DEFAULT


def _is_cue(text: str) -> bool:
    words = [w.lower() for w in _WORD.findall(text or "")]
    return len(words) == 1 and any(words[0] in cues for cues in _CUES.values())
