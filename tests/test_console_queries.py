"""The console's lead list on SQLite and PostgreSQL: filters, search, keyset pages, the "new since
your last visit" marker, the CSV export (formula injection) and the lead page's data."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest

from leadqual.console.queries import (
    FilterError,
    LeadFilter,
    csv_cell,
    export_csv,
    lead_page,
    list_leads,
)
from leadqual.db.tables import Lead

from .console_support import T0, XSS, seed_lead


@pytest.fixture
def leads(store):
    """Five leads with different scores, stages, owners, languages, companies and dates."""
    ids = {
        "ana": seed_lead(store, "ana@acme.es", company="ACME Ibérica", owner="lucia", stage="mql"),
        "bob": seed_lead(
            store,
            "bob@globex.com",
            company="Globex",
            lang="en",
            budget="about $5,000",
            authority="I decide",
            need="generate leads",
            timing="in 3 months",
            owner="emma",
            stage="mql",
        ),
        "cai": seed_lead(
            store,
            "cai@initech.es",
            company="Initech",
            budget="no tenemos presupuesto",
            stage="lead",
            owner=None,
            owner_queue="sales-inbox",
        ),
        "dan": seed_lead(store, "dan@umbrella.es", company="Umbrella", owner="lucia", stage="sal"),
        "eva": seed_lead(
            store, "eva@acme.es", company='=HYPERLINK("http://evil")', visitor_text=XSS, owner=None, owner_queue=None
        ),
    }
    scores = {"ana": 80, "bob": 60, "cai": 10, "dan": 60, "eva": 45}
    created = {"ana": 0, "bob": 1, "cai": 2, "dan": 3, "eva": 4}
    with store.sessions.begin() as session:
        for key, lead_id in ids.items():
            row = session.get(Lead, lead_id)
            row.total_score = scores[key]
            row.created_at = T0 + timedelta(days=created[key])
            row.grade = {"ana": "A1", "bob": "B2", "cai": "D3", "dan": "B1", "eva": "C2"}[key]
    return ids


def emails(page) -> list[str]:
    return [row["email"] for row in page.rows]


def test_highest_score_first_ties_broken_by_id(store, leads):
    page = list_leads(store, LeadFilter())
    assert [r["total"] for r in page.rows] == [80, 60, 60, 45, 10]
    assert page.total == 5
    tied = [r["id"] for r in page.rows if r["total"] == 60]
    assert tied == sorted(tied, reverse=True)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"stage": "sal"}, ["dan@umbrella.es"]),
        ({"grade": "B"}, ["bob@globex.com", "dan@umbrella.es"]),
        ({"grade": "b1"}, ["dan@umbrella.es"]),
        ({"owner": "lucia"}, ["ana@acme.es", "dan@umbrella.es"]),
        ({"owner": "-"}, ["eva@acme.es", "cai@initech.es"]),
        ({"owner": "queue:sales-inbox"}, ["cai@initech.es"]),
        ({"language": "en"}, ["bob@globex.com"]),
        ({"created_from": "2026-07-02", "created_to": "2026-07-03"}, ["bob@globex.com", "cai@initech.es"]),
        ({"q": "ACME"}, ["ana@acme.es", "eva@acme.es"]),
        ({"q": "ibérica"}, ["ana@acme.es"]),
        ({"q": "GLOBEX.COM"}, ["bob@globex.com"]),
        ({"q": "%"}, []),
        (
            {"stage": "", "q": "  "},
            ["ana@acme.es", "bob@globex.com", "dan@umbrella.es", "eva@acme.es", "cai@initech.es"],
        ),
    ],
)
def test_filters_and_search(store, leads, args, expected):
    page = list_leads(store, LeadFilter.parse(args))
    assert sorted(emails(page)) == sorted(expected)
    assert page.total == len(expected)


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ({"stage": "hot"}, "stage"),
        ({"grade": "Z9"}, "grade"),
        ({"language": "fr"}, "language"),
        ({"created_from": "yesterday"}, "created_from"),
        ({"owner": "Robert'); DROP TABLE leads;--"}, "owner"),
    ],
)
def test_bad_filter_values_name_the_field(args, field):
    with pytest.raises(FilterError) as caught:
        LeadFilter.parse(args)
    assert caught.value.field == field


def test_keyset_pages_walk_every_lead_once_forwards_and_back(store, leads):
    seen, after, pages = [], None, []
    while True:
        page = list_leads(store, LeadFilter(), after=after, limit=2)
        pages.append(page)
        seen += emails(page)
        if not page.next_cursor:
            break
        after = page.next_cursor
    assert len(pages) == 3 and len(seen) == 5 and len(set(seen)) == 5
    assert pages[0].prev_cursor is None and pages[1].prev_cursor is not None
    back = list_leads(store, LeadFilter(), before=pages[2].prev_cursor, limit=2)
    assert emails(back) == emails(pages[1])
    with pytest.raises(FilterError) as caught:
        list_leads(store, LeadFilter(), after="80.'; drop")
    assert caught.value.field == "after"


def test_new_since_last_visit_marks_leads_created_or_assigned_after_it(store, leads):
    with store.sessions.begin() as session:
        session.get(Lead, leads["cai"]).assigned_at = T0 + timedelta(days=10)
    page = list_leads(store, LeadFilter(), new_since=T0 + timedelta(days=2, hours=12))
    new = sorted(r["email"] for r in page.rows if r["new"])
    assert new == ["cai@initech.es", "dan@umbrella.es", "eva@acme.es"]
    assert not any(r["new"] for r in list_leads(store, LeadFilter()).rows)  # first visit: nothing marked


def test_csv_export_is_the_filtered_list_and_cannot_run_formulas(store, leads):
    text = "".join(export_csv(store, LeadFilter.parse({"q": "acme"}), chunk=1))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["email"] for r in rows] == ["ana@acme.es", "eva@acme.es"]
    assert rows[1]["company"] == '\'=HYPERLINK("http://evil")'
    assert rows[0]["total"] == "80"
    for value in ("=1+1", "+1", "-1", "@SUM(A1)", "\t=1"):
        assert csv_cell(value).startswith("'")
    assert csv_cell(-5) == -5 and csv_cell("Acme") == "Acme"


def test_lead_page_shows_answers_as_written_parsed_and_confidence(store):
    data = lead_page(store, seed_lead(store, "fay@acme.es", visitor_text=XSS))
    budget = next(a for a in data["bant"] if a["slot"] == "budget")
    assert budget["text"] == "unos 20.000 € al año"
    assert budget["parsed"]["min"] == 20000 and budget["parsed"]["currency"] == "EUR"
    assert 0 < budget["confidence"] <= 1
    lines = data["transcripts"][0]["messages"]
    assert [m["sender"] for m in lines] == ["visitor", "bot", "visitor"]
    assert lines[0]["text"] == XSS  # kept as typed; the template escapes it
    assert data["why"] and all({"rule", "source", "points", "when"} <= set(w) for w in data["why"])
    assert sum(w["points"] for w in data["why"]) == pytest.approx(data["lead"]["scores"]["total"], abs=1)
    assert lead_page(store, "nope") is None


def test_rows_say_who_waits_for_sales_or_in_a_live_chat(store, leads):
    """The list's badges, in either view: sales-ready but nobody accepted it; a visitor waiting in a chat."""
    from sqlalchemy import select

    from leadqual.db.tables import Conversation
    from leadqual.leads.takeover import LiveChats, RasaAPI

    with store.sessions.begin() as session:
        for key in ("ana", "dan"):
            session.get(Lead, leads[key]).sales_ready = True
        conversation_id = session.scalars(select(Conversation.id).where(Conversation.lead_id == leads["bob"])).one()
    LiveChats(store, RasaAPI("http://127.0.0.1:9", "unused")).request(conversation_id)
    for view in ("score", "inbox"):
        rows = {row["email"]: row for row in list_leads(store, LeadFilter(), view=view).rows}
        assert rows["ana@acme.es"]["awaiting_acceptance"]  # mql and sales-ready
        assert not rows["dan@umbrella.es"]["awaiting_acceptance"]  # sal: sales accepted it
        assert [email for email, row in rows.items() if row["live_waiting"]] == ["bob@globex.com"]
