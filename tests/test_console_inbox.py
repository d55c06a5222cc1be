"""The SDR's inbox on SQLite and PostgreSQL: what waits for a person first (a visitor waiting in a
live chat; then, of the SDR's own leads and the unowned ones, those new since their last visit and
the sales-ready ones nobody accepted), then by grade (A1 best ... D3) and score; the filters and
keyset pages as in the list by score; and, over HTTP, that an SDR lands on it."""

from __future__ import annotations

import html
import re
from contextlib import ExitStack
from datetime import timedelta

import pytest
from sqlalchemy import select

from leadqual.console.auth import User
from leadqual.console.queries import FilterError, LeadFilter, list_leads
from leadqual.db.tables import Conversation, Lead
from leadqual.leads.takeover import LiveChats, RasaAPI

from .console_support import T0, Browser, console_database, console_process, seed_lead

LAST_VISIT = T0 + timedelta(days=10)
BEFORE, AFTER = T0, LAST_VISIT + timedelta(hours=1)
FILLERS = 55  # more than a page (50) of lucia's leads scoring above the new one


def add_leads(store) -> dict[str, str]:
    """The leads of the SDRs' complaint, and a page and more of lucia's older, higher-scoring ones."""
    ids = {
        # A poor fit whose behaviour score was inflated: first by score, last in the inbox.
        "inflated": seed_lead(store, "bots@spam.example", owner="lucia"),
        # Lucía's new lead since her last visit.
        "new91": seed_lead(store, "nueva@acme.es", owner="lucia"),
        # Sales-ready, the chat made it sql; nobody has accepted it; waiting in the queue.
        "waiting": seed_lead(store, "espera@acme.es", owner=None, owner_queue="sales-inbox"),
        # Sales-ready and already accepted by lucia.
        "accepted": seed_lead(store, "aceptado@acme.es", owner="lucia"),
        # New, but Emma's.
        "emma_new": seed_lead(store, "emma@globex.com", owner="emma", lang="en"),
        # A visitor waiting for a person in a live chat right now (Diego's lead).
        "live": seed_lead(store, "chat@acme.es", owner="diego"),
    }
    shape = {
        # key: (total, fit, grade, stage, stage_actor, sales_ready, created)
        "inflated": (120, 5, "D1", "mql", "score", False, BEFORE),
        "new91": (91, 70, "A2", "mql", "score", False, AFTER),
        "waiting": (85, 60, "B1", "sql", "score", True, BEFORE),
        "accepted": (95, 80, "A1", "sql", "person", True, BEFORE),
        "emma_new": (70, 75, "A1", "mql", "score", False, AFTER),
        "live": (20, 20, "C3", "lead", "score", False, BEFORE),
    }
    with store.sessions.begin() as session:
        for key, (total, fit, grade, stage, actor, ready, created) in shape.items():
            row = session.get(Lead, ids[key])
            row.total_score, row.fit_score, row.behaviour_score = total, fit, total - fit
            row.grade, row.stage, row.stage_actor, row.sales_ready = grade, stage, actor, ready
            row.created_at, row.assigned_at = created, created
        for n in range(FILLERS):
            email = f"antiguo{n:02d}@acme.es"
            session.add(
                Lead(
                    email=email,
                    email_key=email,
                    company="Acme",
                    owner="lucia",
                    stage="mql",
                    stage_actor="score",
                    total_score=100,
                    fit_score=40,
                    behaviour_score=60,
                    grade="C1",
                    created_at=BEFORE,
                    assigned_at=BEFORE,
                )
            )
        conversation_id = session.scalars(select(Conversation.id).where(Conversation.lead_id == ids["live"])).one()
    LiveChats(store, RasaAPI("http://127.0.0.1:9", "unused")).request(conversation_id)
    return ids


@pytest.fixture
def leads(store):
    return add_leads(store)


def order(page, ids) -> list[str]:
    names = {lead_id: key for key, lead_id in ids.items()}
    return [names.get(row["id"], "filler") for row in page.rows]


def test_the_inbox_puts_what_waits_for_you_first_then_grade_then_score(store, leads):
    page = list_leads(store, LeadFilter(), view="inbox", new_since=LAST_VISIT, sdr_id="lucia")
    assert order(page, leads)[:6] == ["live", "new91", "waiting", "accepted", "emma_new", "filler"]
    assert page.total == 6 + FILLERS and len(page.rows) == 50
    first = {row["id"]: row for row in page.rows}
    assert first[leads["live"]]["live_waiting"] and first[leads["live"]]["tier"] == 0
    assert first[leads["new91"]]["new"] and not first[leads["new91"]]["awaiting_acceptance"]
    assert first[leads["waiting"]]["awaiting_acceptance"] and not first[leads["waiting"]]["new"]
    assert not first[leads["accepted"]]["awaiting_acceptance"]  # accepted: no longer waiting
    assert first[leads["emma_new"]]["new"] and first[leads["emma_new"]]["tier"] == 2  # new, but not lucia's
    # The inflated D1 lead is last, on the second page, though it has the highest score.
    rest = list_leads(store, LeadFilter(), view="inbox", new_since=LAST_VISIT, sdr_id="lucia", after=page.next_cursor)
    assert order(rest, leads)[-1] == "inflated" and rest.next_cursor is None


def test_the_new_91_point_lead_is_on_page_one_of_mine(store, leads):
    mine = LeadFilter.parse({"owner": "lucia"})
    by_score = list_leads(store, mine, new_since=LAST_VISIT)
    assert order(by_score, leads)[0] == "inflated" and "new91" not in order(by_score, leads)  # the complaint
    inbox = list_leads(store, mine, view="inbox", new_since=LAST_VISIT, sdr_id="lucia")
    assert order(inbox, leads)[:2] == ["new91", "accepted"]
    assert inbox.total == by_score.total == 3 + FILLERS


def test_each_sdr_has_their_own_inbox(store, leads):
    emma = list_leads(store, LeadFilter(), view="inbox", new_since=LAST_VISIT, sdr_id="emma")
    assert order(emma, leads)[:4] == ["live", "emma_new", "waiting", "accepted"]
    # On a first visit nothing is new: sales-ready leads nobody accepted still wait first.
    first_visit = list_leads(store, LeadFilter(), view="inbox", sdr_id="lucia")
    assert order(first_visit, leads)[:5] == ["live", "waiting", "accepted", "emma_new", "new91"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"stage": "sql"}, ["waiting", "accepted"]),
        ({"grade": "A"}, ["new91", "accepted", "emma_new"]),
        ({"owner": "-"}, ["waiting"]),
        ({"owner": "queue:sales-inbox"}, ["waiting"]),
        ({"language": "en"}, ["emma_new"]),
        ({"q": "ACME.ES", "created_from": LAST_VISIT.date().isoformat()}, ["new91"]),
        ({"stage": "opportunity"}, []),
    ],
)
def test_the_filters_work_in_the_inbox(store, leads, args, expected):
    page = list_leads(store, LeadFilter.parse(args), view="inbox", new_since=LAST_VISIT, sdr_id="lucia")
    assert order(page, leads) == expected and page.total == len(expected)


def test_inbox_pages_walk_every_lead_once_forwards_and_back(store, leads):
    whole = list_leads(store, LeadFilter(), view="inbox", new_since=LAST_VISIT, sdr_id="lucia", limit=500)
    seen, pages, after = [], [], None
    while True:
        page = list_leads(store, LeadFilter(), view="inbox", new_since=LAST_VISIT, sdr_id="lucia", limit=7, after=after)
        pages.append(page)
        seen += [row["id"] for row in page.rows]
        if not page.next_cursor:
            break
        after = page.next_cursor
    assert seen == [row["id"] for row in whole.rows] and len(set(seen)) == 6 + FILLERS
    assert pages[0].prev_cursor is None and pages[1].prev_cursor is not None
    back = list_leads(
        store, LeadFilter(), view="inbox", new_since=LAST_VISIT, sdr_id="lucia", limit=7, before=pages[2].prev_cursor
    )
    assert [r["id"] for r in back.rows] == [r["id"] for r in pages[1].rows]
    for cursor in ("100.abc", "0.3.-91.'; drop"):  # a list-by-score cursor, or a forged one
        with pytest.raises(FilterError) as caught:
            list_leads(store, LeadFilter(), view="inbox", after=cursor)
        assert caught.value.field == "after"
    with pytest.raises(FilterError) as caught:
        list_leads(store, LeadFilter(), view="top")
    assert caught.value.field == "view"


# -- over HTTP: SDRs land on their inbox --------------------------------------------------------


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def console(request, tmp_path_factory, config):
    workdir = tmp_path_factory.mktemp("console-inbox")
    with ExitStack() as stack:
        database_url, store = console_database(request.param, workdir, stack, config)
        ids = add_leads(store)
        with store.sessions.begin() as session:  # lucia's and marketing's previous visit
            for user in session.scalars(select(User)):
                user.last_seen_at = user.last_login_at = LAST_VISIT
        url = stack.enter_context(console_process(database_url, workdir))
        yield {"url": url, "store": store, "ids": ids}
        store.engine.dispose()


def signed_in(console, email) -> Browser:
    browser = Browser(console["url"])
    assert browser.sign_in(email).status_code == 302
    return browser


def rows_of(answer, ids) -> list[str]:
    names = {lead_id: key for key, lead_id in ids.items()}
    return [names.get(i, "filler") for i in re.findall(r'<tr class="[^"]*" data-lead="([0-9a-f]+)"', answer.text)]


def test_an_sdr_lands_on_the_inbox_and_marketing_on_the_list_by_score(console):
    lucia = signed_in(console, "lucia@nubilo.es")
    page = lucia.get("/leads")
    assert page.status_code == 200
    assert re.search(r'<a href="/leads\?view=inbox" class="active" data-view="inbox">Bandeja de entrada</a>', page.text)
    assert rows_of(page, console["ids"])[:5] == ["live", "new91", "waiting", "accepted", "emma_new"]
    first = page.text.split('data-lead="' + console["ids"]["live"] + '"')[1].split("</tr>")[0]
    assert "espera en el chat" in first
    new = page.text.split('data-lead="' + console["ids"]["new91"] + '"')[1].split("</tr>")[0]
    assert ">Nuevo<" in new and "Nueva" in new
    waiting = page.text.split('data-lead="' + console["ids"]["waiting"] + '"')[1].split("</tr>")[0]
    assert "sin aceptar" in waiting
    # Page 2 keeps the view: the inflated lead is at its end.
    after = html.unescape(re.search(r'<a href="/leads\?([^"]+)" rel="next">', page.text).group(1))
    assert "view=inbox" in after
    assert rows_of(lucia.get("/leads?" + after), console["ids"])[-1] == "inflated"
    # "Mine" is the inbox of lucia's own leads: the new one first.
    mine = lucia.get("/leads?view=inbox&owner=lucia")
    assert rows_of(mine, console["ids"])[:2] == ["new91", "accepted"]
    assert "new91" not in rows_of(lucia.get("/leads?view=score&owner=lucia"), console["ids"])

    marketing = signed_in(console, "mkt@nubilo.es")
    page = marketing.get("/leads")
    assert rows_of(page, console["ids"])[0] == "inflated"
    assert re.search(r'<a href="/leads\?view=score" class="active" data-view="score">Por puntuación</a>', page.text)


def test_the_filter_form_keeps_the_view_and_a_bad_filter_is_said_in_spanish(console):
    lucia = signed_in(console, "lucia@nubilo.es")
    page = lucia.get("/leads?view=inbox&stage=sql")
    assert '<input type="hidden" name="view" value="inbox">' in page.text
    assert rows_of(page, console["ids"]) == ["waiting", "accepted"]
    bad = lucia.get("/leads?view=inbox&grade=Z9")
    assert bad.status_code == 400
    assert "Filtro no válido (Grado): Z9" in html.unescape(bad.text) and "is not a grade" not in bad.text
    assert lucia.get("/leads?view=top").status_code == 400
