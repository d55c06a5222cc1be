"""Contact answers said other ways (issue 18): addresses spelt out or spaced, typos of the big
mail providers, company and name answers that look like something else. Written in words of our
own, not the development sets' (tests/dev/)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from leadqual.understanding.parsing.common import Email
from leadqual.understanding.parsing.contact import (
    TYPO_CONFIDENCE,
    parse_company,
    parse_email,
    parse_email_answer,
    parse_name,
)

CONFIRM_BELOW = 0.75  # config/qualification.yml: answers below it are read back

# ---------------------------------------------------------------------------
# Email: said or spaced out
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("pablo punto mora arroba yahoo punto es", "pablo.mora@yahoo.es"),
        ("es luisa arroba tallerdelsur punto com punto mx", "luisa@tallerdelsur.com.mx"),
        ("mi correo: nico_ferrer ARROBA hotmail PUNTO com", "nico_ferrer@hotmail.com"),
        ("dana at greenfieldfarms dot org", "dana@greenfieldfarms.org"),
        ("reach me at liam dot cole at harbourtech dot io", "liam.cole@harbourtech.io"),
        ("olivia.kent @ icloud.com", "olivia.kent@icloud.com"),
        ("info @ panaderiaroma . cl", "info@panaderiaroma.cl"),
        ("pedro [arroba] ferreteriaandina.pe", "pedro@ferreteriaandina.pe"),
        ("sam{at}northwind{dot}co{dot}uk", "sam@northwind.co.uk"),
        ("beatriz (at) vinoteca (dot) es", "beatriz@vinoteca.es"),
    ],
)
def test_email_said_or_spaced(text, expected):
    assert parse_email(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "find us at northwind dot com",  # "us" is no local part
        "we are at harbourtech.io",  # a bare "at" asks the dots to be said too
        "nos vemos at noon dot then",  # "then" is no top-level domain
        "I work at home. Then I go out",
        "arroba",
        "pedro arroba",
        "dot com",
    ],
)
def test_prose_with_at_or_dot_is_no_address(text):
    assert parse_email(text) is None


def test_a_said_address_is_not_read_back():
    email = parse_email_answer("pablo punto mora arroba yahoo punto es")
    assert email is not None and email.confidence >= CONFIRM_BELOW


def test_a_plain_address_is_unchanged():
    assert parse_email_answer("escríbeme a Marta.Gil@Estudio-Nueve.es") == Email("Marta.Gil@estudio-nueve.es")


# ---------------------------------------------------------------------------
# Email: typos of the big providers' domains
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "address", "typed"),
    [
        ("pablo.mora@gmali.com", "pablo.mora@gmail.com", "gmali.com"),  # two letters swapped
        ("luisa@gmaill.com", "luisa@gmail.com", "gmaill.com"),  # one letter too many
        ("nico@hotmal.es", "nico@hotmail.es", "hotmal.es"),  # one letter missing, Spain's domain
        ("dana@outllok.com", "dana@outlook.com", "outllok.com"),
        ("olivia@yaho.com.mx", "olivia@yahoo.com.mx", "yaho.com.mx"),
        ("sam@hotmail.co.uj", "sam@hotmail.co.uk", "hotmail.co.uj"),
        ("beatriz@icluod.com", "beatriz@icloud.com", "icluod.com"),
        ("liam@outlook.cmo", "liam@outlook.com", "outlook.cmo"),
        ("pedro@live.con", "pedro@live.com", "live.con"),  # a short name: only its ending
        ("tere@protonmial.com", "tere@protonmail.com", "protonmial.com"),
    ],
)
def test_provider_typo_is_corrected_and_read_back(text, address, typed):
    email = parse_email_answer(text)
    assert email is not None
    assert (email.address, email.typed_domain) == (address, typed)
    assert email.confidence == TYPO_CONFIDENCE < CONFIRM_BELOW
    assert parse_email(text) == address


@pytest.mark.parametrize(
    "address",
    [
        "ana@gmail.com",
        "ana@hotmail.es",
        "ana@outlook.com.mx",
        "ana@mail.com",  # a provider of its own, one letter from gmail.com
        "ana@ymail.com",
        "ana@aon.com",  # a company one letter from aol.com: short names are left alone
        "ana@lives.com",
        "ana@gmailcompany.com",
        "ana@acme.es",
    ],
)
def test_real_domains_are_not_corrected(address):
    assert parse_email_answer(address) == Email(address)


# ---------------------------------------------------------------------------
# Company
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hello Kitchen Labs", "Hello Kitchen Labs"),  # a greeting that is the name's first word
        ("Buenos Dias Café", "Buenos Dias Café"),
        ("hola, somos Ferretería Andina", "Ferretería Andina"),  # a greeting, then the answer
        ("Hola soy de Talleres Mora", "Talleres Mora"),
        ("Casa Como Nueva Reformas", "Casa Como Nueva Reformas"),  # a capital "Como" is the name's
        ("Sold As Seen Antiques", "Sold As Seen Antiques"),
        ("Ferretería Andina, que es de mi padre", "Ferretería Andina"),  # lower-case "que" still cuts
        ("nuestra empresa: Talleres Mora SL", "Talleres Mora SL"),
        ("company name: Northwind Traders", "Northwind Traders"),
        ("el nombre de la empresa es Vinoteca Sur", "Vinoteca Sur"),
        ("estoy en el Taller Mecánico Ruiz", "Taller Mecánico Ruiz"),  # a lower-case article after the prefix
        ("I work for the Harbour Group", "Harbour Group"),
        ("trabajo en La Tahona", "La Tahona"),  # a capital article is the name's
        ("Panadería Roma 🥐✨", "Panadería Roma"),
        ("🚀 Rocket Labs", "Rocket Labs"),
        ("Prueba SL", "Prueba SL"),
        ("Tesla", "Tesla"),
        ("Puerto Azul", "Puerto Azul"),
    ],
)
def test_company_said_other_ways(text, expected):
    assert parse_company(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "asdf",
        "zxcvbn",
        "lkjhg",
        "sdfsdf",
        "test123",
        "ejemplo",
        "aún no tiene nombre, estamos empezando",
        "a project with no name yet",
        "es confidencial",
        "no lo puedo compartir",
        "I can't share that",
        "only me",
        "yo solo, por ahora",
        "myself",
    ],
)
def test_no_company_in_fillers_refusals_or_unnamed(text):
    assert parse_company(text) is None


# ---------------------------------------------------------------------------
# Name
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("la Lic. Paula Vega", "Paula Vega"),
        ("Dr. Hugo Salas", "Hugo Salas"),
        ("Mrs Olivia Kent", "Olivia Kent"),
        ("Sora No", "Sora No"),  # a surname that is also a word
        ("me llamo Min-ji No", "Min-ji No"),
        ("Don Draper", "Don Draper"),  # a first name, not a title
        ("Wert", "Wert"),
    ],
)
def test_name_said_other_ways(text, expected):
    assert parse_name(text) == expected


@pytest.mark.parametrize("text", ["qwert", "lkjhgf", "asdasd asdasd", "Ana no"])
def test_no_name_in_fillers(text):
    assert parse_name(text) is None


@pytest.mark.parametrize("text", ["luis arroba hotmail punto com", "Sam at Northwind dot com"])
def test_an_address_in_words_is_no_name_or_company(text):
    assert parse_name(text) is None
    assert parse_company(text) is None
