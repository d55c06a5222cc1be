"""Each role family (issue 18) through the running stack: the visitor answers the authority
question with a plain title or role phrase, the question is not asked again, and the stored lead
holds the level a sales rep would record. Phrasings written for this file."""

from __future__ import annotations

import pytest

from leadqual.config.marketing import load_messages

from .conftest import texts

# On PostgreSQL only: what differs between families is the parse, not the storage, which the other
# e2e modules run on both databases (12 conversations fewer on SQLite).
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.parametrize("database_url", ["postgresql"], indirect=True, scope="module"),
]
M = load_messages()
PLAIN = {
    "es": {"need": "un CRM para el equipo", "timing": "cuanto antes", "budget": "unos 12.000 € al año"},
    "en": {"need": "a CRM for the team", "timing": "as soon as possible", "budget": "about $12k a year"},
}


def ask(slot: str, lang: str) -> str:
    return getattr(M.questions[slot].ask, lang)


@pytest.mark.parametrize(
    ("lang", "role", "level"),
    [
        ("es", "soy cofundadora", "decision_maker"),
        ("en", "Head of Marketing, and I hold the budget", "decision_maker"),
        ("es", "dirijo la empresa", "decision_maker"),
        ("en", "I'm the sales manager", "influencer"),
        ("en", "procurement, collecting quotes for the team", "influencer"),
        ("es", "coordino el equipo de marketing", "influencer"),
        ("en", "I'm an SDR, my manager picks the tools", "user"),
        ("es", "analista de datos", "user"),
        ("es", "estoy buscando trabajo", "none"),
        ("en", "I'm a journalist writing about CRMs", "none"),
        ("en", "I work for a competitor", "none"),
        ("es", "soy profesor, es para una clase", "none"),
    ],
)
def test_each_role_family_is_stored_with_its_level(visitor, leads, lang, role, level):
    v = visitor(lang)
    replies = v.say("hola" if lang == "es" else "hi")
    replies = v.say("quiero una demo" if lang == "es" else "I'd like a demo")
    for _ in range(6):
        shown = texts(replies)
        if ask("authority", lang) in shown:
            break
        slot = next((s for s in PLAIN[lang] if ask(s, lang) in shown), None)
        assert slot is not None, f"neither a BANT question nor the authority one: {shown!r}"
        replies = v.say(PLAIN[lang][slot])
    else:
        pytest.fail("the authority question was never asked")
    replies = v.say(role)
    shown = texts(replies)
    assert ask("authority", lang) not in shown, shown  # understood the first time: not asked again
    lead = leads.get_by_conversation(v.sender)
    assert lead is not None
    assert lead["bant"]["authority"]["level"] == level
    assert lead["bant"]["authority"]["text"] == role
