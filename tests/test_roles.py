"""The role taxonomy (leadqual/understanding/roles.py) as the authority parser uses it: a title alone gives
its family's level, a clause about who decides or signs overrides it, and someone else's title
("mi jefe", "the MD") is never taken for the visitor's. Phrasings written for this file, not
taken from any evaluation set."""

from __future__ import annotations

import pytest

from leadqual.understanding.parsing import normalize, parse_authority
from leadqual.understanding.roles import FAMILIES, title_level, visitor_roles


@pytest.mark.parametrize(
    ("text", "lang", "level"),
    [
        # executives, founders, owners, partners
        ("Chief Revenue Officer", "en", "decision_maker"),
        ("cofundadora", "es", "decision_maker"),
        ("soy el propietario de la clínica", "es", "decision_maker"),
        ("founding partner", "en", "decision_maker"),
        ("presidenta de la cooperativa", "es", "decision_maker"),
        ("GM of our Madrid office", "en", "decision_maker"),
        # department heads
        ("SVP Customer Experience", "en", "decision_maker"),
        ("Head of Revenue Operations", "en", "decision_maker"),
        ("directora comercial", "es", "decision_maker"),
        ("jefe de sistemas", "es", "decision_maker"),
        # managers, leads, coordinators, consultants, procurement
        ("account manager", "en", "influencer"),
        ("gerente de proyecto en una constructora", "es", "influencer"),
        ("jefa de turno", "es", "influencer"),
        ("líder del equipo de datos", "es", "influencer"),
        ("coordinadora de eventos", "es", "influencer"),
        ("consultora externa, lo estoy mirando para un cliente", "es", "influencer"),
        ("purchasing department", "en", "influencer"),
        # individual contributors
        ("ejecutivo de cuentas", "es", "user"),
        ("data analyst", "en", "user"),
        ("soy diseñadora", "es", "user"),
        ("customer service agent", "en", "user"),
        ("pasante en el área de marketing", "es", "user"),
        # no buying role
        ("candidato a un puesto en vuestra empresa", "es", "none"),
        ("I'm a reporter for a tech site", "en", "none"),
        ("docente de un instituto", "es", "none"),
        ("trabajo para la competencia", "es", "none"),
        # clauses override the title
        ("soy becario pero el presupuesto es mío", "es", "decision_maker"),
        ("just an intern, but I hold the budget for this", "en", "decision_maker"),
        ("directora de marketing, aunque lo decide la junta", "es", "influencer"),
        ("VP Sales, but the CFO has the final say", "en", "influencer"),
        ("analista, quien firma es mi jefa", "es", "user"),
        ("developer, my boss picks the tools", "en", "user"),
        ("estoy juntando cotizaciones para el área", "es", "influencer"),
        # someone else's title is not the visitor's
        ("mi jefa es quien decide", "es", "user"),
        ("it's up to our CEO", "en", "user"),
        # a role said with a verb gives the level of its title
        # the business as the object of a first-person verb: its owner or head
        ("dirijo la empresa desde hace años", "es", "decision_maker"),
        ("tengo una agencia pequeña en Quito", "es", "decision_maker"),
        ("I run a small agency", "en", "decision_maker"),
        ("I own the business", "en", "decision_maker"),
        # a department run by its head
        ("dirijo el área comercial", "es", "decision_maker"),
        ("encabezo marketing", "es", "decision_maker"),
        ("I head up sales", "en", "decision_maker"),
        ("I run the finance department", "en", "decision_maker"),
        # a team or an area managed: a manager
        ("llevo el equipo comercial", "es", "influencer"),
        ("coordino el equipo de marketing", "es", "influencer"),
        ("dirijo el equipo de ventas", "es", "influencer"),
        ("superviso a los vendedores", "es", "influencer"),
        ("estoy a cargo de soporte", "es", "influencer"),
        ("I manage the marketing team", "en", "influencer"),
        ("I oversee customer support", "en", "influencer"),
        ("responsible for operations", "en", "influencer"),
    ],
)
def test_titles_and_clauses_give_the_level_a_sales_rep_would_record(text, lang, level):
    parsed = parse_authority(text, lang)
    assert parsed is not None, text
    assert parsed.level == level, (text, parsed)


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("llevo 3 años en la empresa", "es"),
        ("I run the project", "en"),
        ("gestiono mis vacaciones", "es"),
    ],
)
def test_a_verb_without_a_business_team_or_area_is_no_role(text, lang):
    assert title_level(normalize(text)) is None


def test_someone_else_running_the_business_is_not_the_visitor():
    for text, lang in (("mi jefe dirige la empresa", "es"), ("my boss runs the company", "en")):
        parsed = parse_authority(text, lang)
        assert parsed is None or parsed.level != "decision_maker", (text, parsed)


def test_someone_elses_title_is_left_out():
    roles = visitor_roles(normalize("soy la asistente del director general"))
    assert [role.family for role in roles] == ["individual_contributor"]
    assert visitor_roles(normalize("el CEO es quien escoge")) == []


def test_a_title_named_as_a_possessor_is_not_the_visitors():
    role = title_level(normalize("I'm the head of sales's assistant"))
    assert role is not None and role.level == "user"


def test_outside_the_authority_question_only_claimed_titles_count():
    assert parse_authority("sales manager", "en", requested=False) is None
    claimed = parse_authority("hola, soy sales manager en Acme", "es", requested=False)
    assert claimed is not None and claimed.level == "influencer"


def test_every_family_has_a_known_level():
    assert {family.level for family in FAMILIES} == {"decision_maker", "influencer", "user", "none"}
