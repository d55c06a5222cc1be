"""leadqual/understanding/company_size.py: the company's size a visitor states unprompted, in employees."""

from __future__ import annotations

import pytest

from leadqual.understanding.company_size import parse_company_size, stated_company_size, valid_stated_size


@pytest.mark.parametrize(
    ("text", "lang", "employees"),
    [
        ("Hi, I'm the founder of a 20-person agency, we have about $10k a year for a CRM", "en", 20),
        ("somos unos 50 empleados", "es", 50),
        ("somos 20, tenemos 10.000 € y lo decido yo", "es", 20),
        ("una agencia de 15 personas en Lima", "es", 15),
        ("somos una pyme de 30 trabajadores", "es", 30),
        ("una empresa de 1.500 trabajadores", "es", 1500),
        ("over 1,000 staff across Europe", "en", 1000),
        ("we have 2k employees", "en", 2000),
        ("1,5 mil empleados", "es", 1500),
        ("somos veinte personas", "es", 20),
        ("we're a team of 12.", "en", 12),
        ("headcount of 300", "en", 300),
        ("a 200-employee company", "en", 200),
        ("entre 50 y 100 empleados", "es", 75),
        ("50-100 employees", "en", 75),
        ("Somos 5 y queremos ordenar las ventas", "es", 5),
    ],
)
def test_a_stated_size_is_read_in_employees(text, lang, employees):
    size = parse_company_size(text, lang)
    assert size is not None and size.employees == employees
    assert size.text == text.strip()


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("tenemos 20 usuarios", "es"),  # seats, not people in the company
        ("quiero 20 licencias", "es"),
        ("tengo 20 años de experiencia", "es"),
        ("tenemos 10.000 €", "es"),
        ("somos 10.000 euros de presupuesto", "es"),
        ("somos 3 en ventas", "es"),  # a team, not the company
        ("un equipo de 8 comerciales", "es"),
        ("we are 3 in sales", "en"),
        ("we are 20k", "en"),
        ("5000€", "es"),
        ('/inform{"employees": 900}', "en"),  # a typed payload is not something said
        ("0 employees", "en"),
        ("", "es"),
    ],
)
def test_numbers_that_are_not_the_companys_size_are_not_read_as_one(text, lang):
    assert parse_company_size(text, lang) is None


def test_the_last_statement_of_a_conversation_wins():
    said = stated_company_size(["hola", "somos 8 personas", "quiero un crm", "perdón, somos 60 empleados"], "es")
    assert said == {"employees": 60, "text": "perdón, somos 60 empleados", "source": "text"}
    assert stated_company_size(["hola", "quiero un crm"], "es") is None


@pytest.mark.parametrize("value", [{"employees": "30"}, {"employees": 0}, {"employees": False}, {"text": "x"}, 30])
def test_a_stored_size_of_another_shape_is_refused(value):
    assert valid_stated_size(value) is None


def test_a_stored_size_keeps_only_its_fields():
    value = {"employees": 30, "text": "somos 30", "source": "text", "points": 999}
    assert valid_stated_size(value) == {"employees": 30, "text": "somos 30", "source": "text"}
