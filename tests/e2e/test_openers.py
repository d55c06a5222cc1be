"""An opener that already answers starts the questions with what it said, whatever intent the
model gives it (a "correction" with nothing to correct is an answer). Issue 18."""

from __future__ import annotations

import pytest

from leadqual.config.marketing import load_messages

from .conftest import texts

pytestmark = pytest.mark.e2e
M = load_messages()


def ask(slot: str, lang: str) -> str:
    return getattr(M.questions[slot].ask, lang)


def finish(v, lang: str, email: str) -> None:
    """Answer whatever is still asked, with plain answers, until the email is given."""
    plain = {
        "es": {
            "need": "un CRM",
            "timing": "cuanto antes",
            "budget": "unos 10.000 € al año",
            "authority": "lo decido yo",
        },
        "en": {
            "need": "a CRM",
            "timing": "as soon as possible",
            "budget": "about $10k a year",
            "authority": "I decide",
        },
    }[lang] | {"name": "Alex Doe", "company": "Doe Studio", "email": email}
    replies = v.transcript[-1][1]
    for _ in range(8):
        slot = next((s for s in plain if ask(s, lang) in texts(replies)), None)
        if slot is None:
            return
        replies = v.say(plain[slot])
        if slot == "email":
            return


def test_an_english_opener_with_role_budget_and_need_skips_those_questions(visitor, leads):
    v = visitor("en")
    replies = v.say("Hi, I'm the founder of a 20-person agency, we have about $10k a year for a CRM, what can you do?")
    shown = texts(replies)
    assert "Done" not in shown, shown  # not read as a correction of nothing
    assert ask("timing", "en") in shown, shown
    for slot in ("need", "budget", "authority"):
        assert ask(slot, "en") not in shown
    finish(v, "en", "founder@agency-20.example")
    for message, _ in v.transcript[1:]:
        assert message not in ("a CRM", "about $10k a year", "I decide"), "an answered question was asked again"
    lead = leads.get_by_email("founder@agency-20.example")
    assert lead["bant"]["need"]["value"] == "crm"
    assert lead["bant"]["budget"]["max"] == 10000 and lead["bant"]["budget"]["currency"] == "USD"
    assert lead["bant"]["authority"]["level"] == "decision_maker"
    # The company size it stated is the lead's profile: scored as the "small" band.
    assert lead["profile"]["company_size"] == 20
    assert "behaviour.explicit.company_size.small" in [line["rule"] for line in lead["score_breakdown"]]


def test_a_spanish_opener_with_the_company_size_routes_a_large_account(visitor, leads):
    v = visitor("es")
    replies = v.say("hola, somos una empresa de 400 empleados y buscamos un CRM")
    shown = texts(replies)
    assert ask("need", "es") not in shown, shown
    finish(v, "es", "compras@grande-400.example")
    lead = leads.get_by_email("compras@grande-400.example")
    assert lead["profile"]["company_size"] == 400
    assert lead["profile"]["company_size_said"] == "hola, somos una empresa de 400 empleados y buscamos un CRM"
    assert lead["owner"]["sdr"] == "lucia" and lead["owner"]["rule"] == "handoff.rules.large_accounts"


def test_a_spanish_opener_with_need_and_budget_starts_at_the_first_open_question(visitor, leads):
    v = visitor("es")
    replies = v.say("buenas, tenemos unos 8.000 € al año para automatizar el marketing y lo decido yo")
    shown = texts(replies)
    assert ask("timing", "es") in shown, shown
    assert ask("need", "es") not in shown and ask("budget", "es") not in shown
    finish(v, "es", "marketing@opener.example")
    lead = leads.get_by_email("marketing@opener.example")
    assert lead["bant"]["need"]["value"] == "marketing_automation"
    assert lead["bant"]["budget"]["max"] == 8000
