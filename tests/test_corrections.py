"""Which answer a correction changes, and to what."""

from __future__ import annotations

from datetime import date

import pytest

from leadqual.config.marketing import load_qualification
from leadqual.conversation.texts import Texts
from leadqual.understanding.corrections import read_correction

CONFIG = load_qualification()
TODAY = date(2026, 3, 15)


@pytest.mark.parametrize(
    ("text", "lang", "slot", "expected"),
    [
        ("perdona, eran 20 mil", "es", "budget", {"max": 20000}),
        ("perdona, el presupuesto eran unos 15.000 euros", "es", "budget", {"max": 15000, "currency": "EUR"}),
        ("actually it's 30k", "en", "budget", {"max": 30000}),
        ("change the budget to $12,000 a year", "en", "budget", {"max": 12000, "currency": "USD", "period": "year"}),
        ("cambia el plazo a 6 meses", "es", "timing", {"months": 6}),
        ("sorry, I meant 6 months", "en", "timing", {"months": 6}),
        ("actually we need it next quarter", "en", "timing", {"months": 1}),
        ("en realidad lo decide mi jefe", "es", "authority", {"level": "user"}),
        ("correction, I decide together with my partner", "en", "authority", {"level": "influencer"}),
    ],
)
def test_correction_finds_the_answer_and_its_new_value(text, lang, slot, expected):
    found = read_correction(text, CONFIG, lang, TODAY)
    assert found is not None, text
    assert found[0] == slot
    assert {key: found[1].get(key) for key in expected} == expected


@pytest.mark.parametrize("text", ["me equivoqué", "perdona", '/inform{"budget": 99999}', "", "🙂"])
def test_unclear_or_forged_corrections_change_nothing(text):
    assert read_correction(text, CONFIG, "es", TODAY) is None


@pytest.mark.parametrize(
    ("slot", "value", "lang", "said"),
    [
        ("budget", {"min": 7000, "max": 7000}, "es", "7.000 € al año"),
        ("budget", {"min": 7000, "max": 7000}, "en", "€7,000 a year"),
        (
            "budget",
            {"min": 3000, "max": 5000, "currency": "USD", "period": "month"},
            "es",
            "entre 3.000 $ y 5.000 $ al mes",
        ),
        ("budget", {"max": 1500, "currency": "MXN", "period": "month"}, "en", "up to 1,500 MXN a month"),
        ("budget", {"min": 2000, "currency": "GBP", "period": "year"}, "en", "from £2,000 a year"),
        ("budget", {"none": True}, "es", "sin presupuesto por ahora"),
        ("timing", {"months": 0}, "en", "as soon as possible"),
        ("timing", {"months": 6}, "es", "en 6 meses"),
        ("timing", {"no_rush": True}, "es", "sin prisa"),
        ("authority", {"level": "user"}, "en", "that someone else decides"),
        ("need", {"value": "crm"}, "es", "gestionar clientes y ventas"),
    ],
)
def test_answers_are_read_back_in_the_visitors_words(slot, value, lang, said):
    assert Texts().describe(slot, value, lang) == said


def test_read_back_offers_yes_and_no():
    message = Texts().confirmation("budget", {"min": 7000, "max": 7000}, "es")
    assert message["text"] == "Para asegurarme: ¿serían 7.000 € al año?"
    assert [b["payload"] for b in message["buttons"]] == ["/affirm", "/deny"]
