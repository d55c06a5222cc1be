"""Timing answers with calendar words: seasons, vacations, holidays, quarters, halves, fiscal years.

Months are counted by month number from today's month (with today in September, December is 3
and January 4). Seasons are northern unless `hemisphere="south"` or the message names a place.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from leadqual.config.marketing import ConfigError, QualificationConfig, load_qualification
from leadqual.understanding.answers import parse_answer
from leadqual.understanding.parsing import Timing, parse_timing

SEP = date(2026, 9, 10)
MAR = date(2026, 3, 15)
JAN = date(2027, 1, 5)
DEC = date(2026, 12, 20)
JUN = date(2026, 6, 15)
JUL = date(2026, 7, 10)
NOV = date(2026, 11, 20)
APR_FY = {"fiscal_year_start": (4, 1)}
JUL_FY = {"fiscal_year_start": (7, 1)}
SOUTH = {"hemisphere": "south"}

CALENDAR_MONTHS = [
    # --- seasons, northern hemisphere: spring March, summer June, autumn September, winter December
    ("antes del verano", "es", MAR, {}, 3),
    ("antes del verano", "es", SEP, {}, 9),
    ("después del verano", "es", MAR, {}, 7),  # summer ends in September: after it is October
    ("después del verano", "es", SEP, {}, 1),
    ("en verano", "es", JUL, {}, 0),
    ("en verano", "es", SEP, {}, 9),
    ("en otoño", "es", SEP, {}, 0),
    ("en otono", "es", MAR, {}, 6),
    ("before summer", "en", MAR, {}, 3),
    ("next spring", "en", SEP, {}, 6),
    ("next spring", "en", date(2026, 4, 10), {}, 11),  # in spring already: next year's
    ("este invierno", "es", JAN, {}, 0),
    ("a finales del verano", "es", MAR, {}, 6),
    ("early summer", "en", MAR, {}, 3),
    ("in the fall", "en", MAR, {}, 6),
    ("el verano del año que viene", "es", MAR, {}, 15),
    ("summer 2027", "en", SEP, {}, 9),
    ("antes del berano", "es", MAR, {}, 3),
    ("midsummer", "en", MAR, {}, 4),
    ("once summer is over", "en", MAR, {}, 7),
    ("el próximo verano", "es", JUN, {}, 12),
    ("pal verano", "es", MAR, {}, 3),
    # --- southern hemisphere: summer December, autumn March, winter June, spring September
    ("antes del verano", "es", SEP, SOUTH, 3),
    ("después del verano", "es", SEP, SOUTH, 7),
    ("en invierno", "es", JUL, SOUTH, 0),
    ("en otoño", "es", MAR, SOUTH, 0),
    ("acá en Buenos Aires arrancamos antes del verano", "es", SEP, {}, 3),
    ("en Chile, en primavera", "es", SEP, {}, 0),
    ("somos de Madrid, antes del verano", "es", SEP, SOUTH, 9),
    # --- vacations
    ("después de vacaciones", "es", JUL, {}, 2),
    ("después de vacaciones", "es", DEC, {}, 1),
    ("después de vacaciones", "es", date(2026, 12, 10), SOUTH, 3),
    ("después de las vacaciones de invierno", "es", date(2026, 5, 10), SOUTH, 3),
    ("después de las vacaciones de verano", "es", MAR, {}, 6),
    ("en las vacaciones de verano", "es", MAR, {}, 3),
    ("after the holidays in December", "en", SEP, {}, 4),
    ("a la vuelta del verano", "es", MAR, {}, 6),
    ("after the holidays", "en", NOV, {}, 2),
    ("después de las fiestas", "es", DEC, SOUTH, 1),
    ("cuando volvamos de las vacasiones de verano", "es", MAR, {}, 6),
    # --- holidays
    ("después de Navidad", "es", SEP, {}, 4),
    ("antes de Navidad", "es", SEP, {}, 3),
    ("después de Navidad", "es", DEC, {}, 1),
    ("después de Navidad", "es", JAN, {}, 0),
    ("antes de Semana Santa", "es", SEP, {}, 6),  # Easter 2027: March 28
    ("después de Semana Santa", "es", MAR, {}, 2),  # Easter 2026: April 5
    ("after Easter", "en", JAN, {}, 3),
    ("after Thanksgiving", "en", SEP, {}, 3),
    ("after Black Friday", "en", NOV, {}, 1),
    ("antes de fiestas patrias", "es", MAR, {}, 6),
    ("en Perú, después de fiestas patrias", "es", MAR, {}, 5),  # July 28: after is August
    ("después de las fiestas patrias chilenas", "es", SEP, {}, 1),
    ("después de Reyes", "es", DEC, {}, 1),
    ("despues de nabidad", "es", MAR, {}, 10),
    ("somos de Chile, después de Pascua", "es", MAR, {}, 10),  # Pascua is Christmas in Chile
    ("para carnaval", "es", date(2026, 1, 10), {}, 1),  # Carnival 2026: February 17
    ("after Labor Day", "en", MAR, {}, 6),
    ("después de la temporada navideña", "es", SEP, {}, 4),
    ("after the holiday season", "en", SEP, {}, 4),
    ("before Memorial Day", "en", SEP, {}, 8),
    ("después del Buen Fin", "es", SEP, {}, 3),
    # --- calendar quarters
    ("para Q3", "es", SEP, {}, 0),
    ("para Q3", "es", MAR, {}, 4),
    ("en el último trimestre", "es", SEP, {}, 1),
    ("Q1 next year", "en", SEP, {}, 4),
    ("Q1 next year", "en", date(2026, 1, 10), {}, 12),
    ("end of Q4", "en", SEP, {}, 3),
    ("finales del Q4", "es", DEC, {}, 0),
    ("this quarter", "en", date(2026, 5, 10), {}, 0),
    ("a finales de este trimestre", "es", date(2026, 4, 10), {}, 2),
    ("next quarter", "en", SEP, {}, 1),  # October: the next quarter's first month
    ("next calendar quarter", "en", MAR, {}, 1),
    ("el próximo trimestre natural", "es", SEP, {}, 1),
    ("a mediados del Q1 del año que viene", "es", SEP, {}, 5),
    ("Q3 2027", "en", SEP, {}, 10),
    ("end of Q3", "en", date(2026, 10, 10), {}, 11),
    ("before Q3", "en", MAR, {}, 3),
    ("after Q3", "en", MAR, {}, 7),
    ("el tercer trimestre del año que viene", "es", MAR, {}, 16),
    ("3er trimestre", "es", MAR, {}, 4),
    ("the last quarter of the year", "en", MAR, {}, 7),
    # --- halves
    ("segundo semestre", "es", MAR, {}, 4),
    ("H2", "en", SEP, {}, 0),
    ("second half of next year", "en", SEP, {}, 10),
    ("primer semestre del año que viene", "es", SEP, {}, 4),
    ("first half of next year", "en", MAR, {}, 10),
    ("end of H1", "en", MAR, {}, 3),
    ("2do semestre", "es", JUL, {}, 0),
    # --- fiscal years (January 1 unless said)
    ("next fiscal year", "en", SEP, {}, 4),
    ("next fiscal year", "en", SEP, APR_FY, 7),
    ("next fiscal year", "en", date(2026, 3, 31), APR_FY, 1),
    ("next fiscal year", "en", date(2026, 4, 1), APR_FY, 12),
    ("el próximo año fiscal", "es", SEP, JUL_FY, 10),
    ("this fiscal year", "en", SEP, APR_FY, 6),
    ("this fiscal year", "en", SEP, {}, 3),
    ("antes del cierre del ejercicio", "es", SEP, {}, 3),
    ("antes del cierre del ejercicio", "es", SEP, JUL_FY, 9),
    ("before the fiscal year closes", "en", JUN, JUL_FY, 0),
    ("end of the fiscal year", "en", MAR, APR_FY, 0),
    ("después del cierre del ejercicio", "es", MAR, APR_FY, 1),
    ("a principios del próximo año fiscal", "es", SEP, JUL_FY, 10),
    ("en el ejercicio 2027", "es", SEP, {}, 4),
    ("Q1 fiscal", "en", SEP, APR_FY, 7),
    ("fiscal Q3", "en", SEP, APR_FY, 1),
    ("Q2 of next fiscal year", "en", SEP, APR_FY, 10),
    ("el primer trimestre del próximo año fiscal", "es", SEP, JUL_FY, 10),
    ("next fiscal quarter", "en", SEP, APR_FY, 1),
    ("segundo semestre fiscal", "es", SEP, APR_FY, 1),
    ("fiscal year-end", "en", SEP, APR_FY, 6),
    ("next fiscal year", "en", date(2026, 4, 3), {"fiscal_year_start": (4, 6)}, 0),  # UK: April 6
    ("this fiscal year", "en", SEP, {"fiscal_year_start": (4, 6)}, 7),  # ends April 5
]


@pytest.mark.parametrize(("text", "lang", "today", "options", "months"), CALENDAR_MONTHS)
def test_calendar_words_give_months_from_today(text, lang, today, options, months):
    t = parse_timing(text, lang, today=today, **options)
    assert t is not None, text
    assert (t.months, t.no_rush, t.unknown) == (months, False, False), text


@pytest.mark.parametrize(
    ("text", "today"),
    [
        ("después de vacaciones", date(2026, 4, 20)),  # Easter? summer? which one?
        ("después de las fiestas", SEP),
        ("after the holiday", SEP),
        ("después del feriado", SEP),
    ],
)
def test_unclear_vacation_is_unknown_not_a_guess(text, today):
    assert parse_timing(text, "es", today=today) == Timing(unknown=True, confidence=0.8)


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("necesito un asesor fiscal", "es"),
        ("hacemos ejercicio", "es"),
        ("invierto 5000 al mes", "es"),
        ("back half an hour", "en"),
        ("second half of the month", "en"),
        ("la segunda mitad", "es"),
        ("el verano pasado probamos otro CRM", "es"),  # the past is no timeline
        ("las navidades pasadas", "es"),
        ("last summer we tried another tool", "en"),
    ],
)
def test_words_that_are_not_calendar_terms(text, lang):
    assert parse_timing(text, lang, today=MAR) is None


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        ("verano", "es", None),  # a bare word only answers the timing question itself
        ("we build in Spring Boot", "en", None),
        ("last quarter we grew a lot", "en", None),
        ("después de vacaciones te escribo", "es", None),
        ("antes del verano", "es", 3.0),
        ("el próximo ejercicio cambiamos de CRM", "es", 10.0),
    ],
)
def test_calendar_words_inside_other_answers(text, lang, expected):
    t = parse_timing(text, lang, today=MAR, requested=False)
    assert (t.months if t else None) == expected


def test_calendar_words_do_not_change_earlier_expressions():
    assert parse_timing("en 3 meses, antes del verano", "es", today=SEP).months == 3
    assert parse_timing("creo q 3 meses", "es", today=SEP).months == 3  # "q" is "que", not Q3
    assert parse_timing("en septiembre, después del verano", "es", today=MAR).months == 6
    assert parse_timing("Navidad", "es", today=SEP).months == 3
    assert parse_timing("verano", "es", today=MAR).months == 3


def test_odd_hemisphere_or_fiscal_start_falls_back_to_the_defaults():
    assert parse_timing("antes del verano", "es", today=MAR, hemisphere="east").months == 3
    assert parse_timing("next fiscal year", "en", today=SEP, fiscal_year_start=(13, 1)).months == 4


def _config_file(tmp_path: Path, **changes) -> Path:
    data = yaml.safe_load((Path(__file__).resolve().parents[1] / "config" / "qualification.yml").read_text())
    data.update(changes)
    path = tmp_path / "qualification.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_fiscal_year_start_setting_defaults_to_january_first(tmp_path):
    assert load_qualification().fiscal_year_start == (1, 1)
    data = yaml.safe_load(_config_file(tmp_path).read_text())
    del data["fiscal_year_start"]
    assert QualificationConfig(**data).fiscal_year_start == (1, 1)


def test_fiscal_year_start_is_read_as_month_and_day(tmp_path):
    config = load_qualification(_config_file(tmp_path, fiscal_year_start="04-01"))
    assert config.fiscal_year_start == (4, 1)
    assert QualificationConfig(**config.model_dump(mode="json")).fiscal_year_start == (4, 1)


@pytest.mark.parametrize("value", ["13-01", "02-29", "04-31", "4-1", "2026-04-01", 401, None])
def test_invalid_fiscal_year_start_names_the_field(tmp_path, value):
    with pytest.raises(ConfigError, match="fiscal_year_start"):
        load_qualification(_config_file(tmp_path, fiscal_year_start=value))


def test_parse_answer_passes_the_configured_fiscal_year(tmp_path):
    april = load_qualification(_config_file(tmp_path, fiscal_year_start="04-01"))
    answer = parse_answer("timing", "next fiscal year", april, "en", requested=True, today=SEP)
    assert answer["months"] == 7
    january = load_qualification()
    assert parse_answer("timing", "next fiscal year", january, "en", requested=True, today=SEP)["months"] == 4


@pytest.mark.parametrize(
    ("locale", "hemisphere"),
    [
        ("es-AR", "south"),
        ("es_CL", "south"),
        ("en-AU", "south"),
        ("pt-BR", "south"),
        ("es-PE", "south"),
        ("es-ES", "north"),
        ("es-MX", "north"),
        ("es-CO", "north"),
        ("en-GB", "north"),
        ("es", "north"),
        ("es-419", "north"),
        ("zh-Hant-TW", "north"),
        ("", "north"),
        (None, "north"),
        (42, "north"),
        ("es-AR" + "x" * 40, "north"),
    ],
)
def test_the_hemisphere_of_a_browser_locale(locale, hemisphere):
    from leadqual.understanding.calendar_terms import hemisphere_of_locale

    assert hemisphere_of_locale(locale) == hemisphere


def test_seasons_follow_the_hemisphere_given_unless_the_message_names_a_place():
    config = load_qualification()
    today = date(2026, 9, 10)

    def months(text: str, hemisphere: str) -> float:
        return parse_answer("timing", text, config, "es", requested=True, today=today, hemisphere=hemisphere)["months"]

    assert months("antes del verano", "south") == 3 and months("antes del verano", "north") == 9
    assert months("antes del verano en Madrid", "south") == 9  # the place named wins
