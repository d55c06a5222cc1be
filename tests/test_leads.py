"""LeadStore: one lead per person, on SQLite and on PostgreSQL (the `store` fixture)."""

from __future__ import annotations

import threading
from datetime import datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from leadqual.leads.store import Lead
from leadqual.understanding.answers import skipped

NEED = {"value": "crm", "matched": "comerciales", "text": "gestionar a los comerciales", "source": "text"}
TIMING = {"months": 0, "no_rush": False, "unknown": False, "text": "cuanto antes", "source": "text"}
BUDGET = {
    "min": 10000.0,
    "max": 10000.0,
    "currency": "EUR",
    "period": "year",
    "none": False,
    "unknown": False,
    "text": "unos 10.000 € al año",
    "source": "text",
}
AUTHORITY = {"level": "decision_maker", "text": "lo decido yo", "source": "text"}
NAME = {"value": "Ana", "text": "Ana", "source": "text"}
COMPANY = {"value": "Acme S.L.", "text": "Acme S.L.", "source": "text"}


def email(address: str) -> dict:
    return {"address": address, "text": address, "source": "text"}


HOT = {
    "need": NEED,
    "timing": TIMING,
    "budget": BUDGET,
    "authority": AUTHORITY,
    "name": NAME,
    "company": COMPANY,
    "email": email("Ana@acme.es"),
}


def row(store, column: str, where: str, **params):
    with store.engine.connect() as conn:
        return conn.execute(text(f"SELECT {column} FROM leads WHERE {where}"), params).all()


# -- anonymous leads and attaching an email ---------------------------------------------


def test_first_answers_create_an_anonymous_lead(store):
    lead = store.save_conversation("conv-1", {"need": NEED}, "es")
    assert lead["email"] is None
    assert lead["bant"]["need"]["value"] == "crm"
    assert lead["conversations"] == ["conv-1"]
    assert store.count() == 1
    assert store.get_by_conversation("conv-1")["id"] == lead["id"]


def test_unknown_conversation_has_no_lead(store):
    assert store.get_by_conversation("nobody") is None
    assert store.get_by_email("nobody@example.com") is None


def test_saving_the_same_state_twice_keeps_one_lead(store):
    first = store.save_conversation("conv-1", {"need": NEED, "timing": TIMING}, "es")
    second = store.save_conversation("conv-1", {"need": NEED, "timing": TIMING}, "es")
    assert first["id"] == second["id"]
    assert store.count() == 1


def test_giving_an_email_attaches_it_to_the_conversation_lead(store):
    anonymous = store.save_conversation("conv-1", {"need": NEED, "budget": BUDGET}, "es")
    lead = store.save_conversation("conv-1", {"need": NEED, "budget": BUDGET, "email": email("ana@acme.es")}, "es")
    assert lead["id"] == anonymous["id"]
    assert lead["email"] == "ana@acme.es"
    assert lead["bant"]["budget"]["max"] == 10000
    assert store.count() == 1


def confirmed(store, claim: dict) -> dict:
    """A chat from another conversation (no shared browser) only claims an existing email: an SDR
    confirms it is the same person, and then it joins that lead (leadqual/leads/identity.py)."""
    assert claim["identity"]["verified"] is False and claim["identity"]["claims_lead_id"]
    return store.confirm_identity(claim["id"], by="lucia")


def test_same_email_in_another_case_from_another_conversation_updates_the_same_lead(store):
    first = store.save_conversation("conv-1", {"need": NEED, "email": email("Ana@Acme.es")}, "es")
    # A week later, another conversation: anonymous at first, then the email in other case.
    store.save_conversation("conv-2", {"budget": BUDGET}, "en")
    assert store.count() == 2
    lead = confirmed(store, store.save_conversation("conv-2", {"budget": BUDGET, "email": email("ANA@acme.ES")}, "en"))

    assert store.count() == 1
    assert lead["id"] == first["id"]
    assert lead["email"] == "Ana@Acme.es"
    assert lead["conversations"] == ["conv-1", "conv-2"]
    assert lead["bant"]["need"]["value"] == "crm"  # from the first conversation
    assert lead["bant"]["budget"]["max"] == 10000  # from the second
    assert lead["language"] == "en"
    assert store.get_by_conversation("conv-1")["id"] == store.get_by_conversation("conv-2")["id"] == first["id"]


def test_email_given_at_once_in_a_new_conversation_finds_the_person(store):
    first = store.save_conversation("conv-1", {"need": NEED, "email": email("ana@acme.es")}, "es")
    lead = confirmed(
        store, store.save_conversation("conv-2", {"authority": AUTHORITY, "email": email("Ana@acme.es")}, "es")
    )
    assert lead["id"] == first["id"]
    assert lead["conversations"] == ["conv-1", "conv-2"]
    assert lead["bant"]["authority"]["level"] == "decision_maker"
    assert lead["bant"]["need"]["value"] == "crm"
    assert store.count() == 1


def test_skipped_answer_does_not_erase_an_earlier_real_answer(store):
    store.save_conversation("conv-1", {"budget": BUDGET, "email": email("ana@acme.es")}, "es")
    lead = confirmed(
        store, store.save_conversation("conv-2", {"budget": skipped("paso"), "email": email("ana@acme.es")}, "es")
    )
    assert lead["bant"]["budget"]["max"] == 10000
    assert lead["bant"]["budget"]["skipped"] is False
    assert lead["bant"]["budget"]["qualifies"] is True


def test_skipped_answer_in_an_anonymous_conversation_does_not_erase_on_merge(store):
    store.save_conversation("conv-1", {"budget": BUDGET, "email": email("ana@acme.es")}, "es")
    store.save_conversation("conv-2", {"budget": skipped("paso")}, "es")
    lead = confirmed(
        store, store.save_conversation("conv-2", {"budget": skipped("paso"), "email": email("ana@acme.es")}, "es")
    )
    assert lead["bant"]["budget"]["max"] == 10000
    assert lead["bant"]["budget"]["skipped"] is False


def test_newer_real_answer_replaces_an_older_one(store):
    store.save_conversation("conv-1", {"timing": {"months": 12}, "email": email("ana@acme.es")}, "es")
    lead = store.save_conversation("conv-2", {"timing": TIMING, "email": email("ana@acme.es")}, "es")
    assert lead["bant"]["timing"]["months"] == 0


def test_skipped_answer_is_kept_when_nothing_was_known(store):
    lead = store.save_conversation("conv-1", {"budget": skipped("paso")}, "es")
    assert lead["bant"]["budget"]["skipped"] is True
    assert lead["bant"]["budget"]["qualifies"] is None


def test_skipped_email_stays_anonymous(store):
    lead = store.save_conversation("conv-1", {"need": NEED, "email": skipped()}, "es")
    assert lead["email"] is None
    assert store.count() == 1


# -- scores -----------------------------------------------------------------------------


def test_fit_total_stage_and_breakdown_are_stored(store):
    lead = store.save_conversation("conv-1", HOT, "es")
    assert lead["scores"] == {"fit": 100, "behaviour": 0, "total": 100}
    assert lead["stage"] == "sql"
    assert [line["criterion"] for line in lead["score_breakdown"]] == ["budget", "authority", "need", "timing"]
    assert lead["score_breakdown"][0]["reason"] == "10.000 EUR/year >= minimum 3.000 EUR/year"

    (stored,) = row(store, "fit_score, total_score, stage, email_key, name, company", "id = :id", id=lead["id"])
    assert tuple(stored) == (100, 100, "sql", "ana@acme.es", "Ana", "Acme S.L.")


def test_score_is_recomputed_as_answers_arrive(store):
    lead = store.save_conversation("conv-1", {"need": NEED}, "es")
    assert (lead["scores"]["fit"], lead["stage"]) == (25 + 10, "lead")  # unknown budget: 10
    lead = store.save_conversation("conv-1", {"need": NEED, "budget": BUDGET, "authority": AUTHORITY}, "es")
    assert (lead["scores"]["total"], lead["stage"]) == (80, "sql")
    (stored,) = row(store, "total_score, stage", "id = :id", id=lead["id"])
    assert tuple(stored) == (80, "sql")


def test_mql_lead(store):
    answers = {"need": NEED, "budget": BUDGET, "authority": {"level": "user"}}
    lead = store.save_conversation("conv-1", answers, "es")
    assert (lead["scores"]["total"], lead["stage"]) == (60, "mql")


# -- reads ------------------------------------------------------------------------------


def test_get_by_email_is_case_insensitive(store):
    store.save_conversation("conv-1", HOT, "es")
    for query in ("ana@acme.es", "ANA@ACME.ES", "  Ana@Acme.Es "):
        lead = store.get_by_email(query)
        assert lead is not None, query
        assert lead["name"] == "Ana"
    assert store.get_by_email("ana@acme.com") is None


def test_list_leads_sorted_by_score(store):
    store.save_conversation("c-low", {"budget": {"none": True}, "email": email("low@x.es")}, "es")
    store.save_conversation("c-hot", {**HOT, "email": email("hot@x.es")}, "es")
    store.save_conversation("c-mid", {"need": NEED, "budget": BUDGET, "email": email("mid@x.es")}, "es")

    leads = store.list_leads()
    assert [lead["email"] for lead in leads] == ["hot@x.es", "mid@x.es", "low@x.es"]
    assert [lead["scores"]["total"] for lead in leads] == [100, 55, 0]
    assert [lead["email"] for lead in store.list_leads(limit=2)] == ["hot@x.es", "mid@x.es"]
    assert [lead["email"] for lead in store.list_leads(stage="sql")] == ["hot@x.es"]
    assert store.list_leads(stage="mql") == []


def test_lead_json_has_the_documented_shape(store):
    lead = store.save_conversation("conv-1", HOT, "en")
    assert {"email", "name", "company", "language", "stage", "scores", "bant", "conversations"} <= set(lead)
    assert set(lead["scores"]) == {"fit", "behaviour", "total"}
    assert set(lead["bant"]) == {"budget", "authority", "need", "timing"}
    assert {"min", "max", "currency", "period", "qualifies"} <= set(lead["bant"]["budget"])
    assert {"level", "qualifies"} <= set(lead["bant"]["authority"])
    assert {"value", "qualifies"} <= set(lead["bant"]["need"])
    assert {"months", "qualifies"} <= set(lead["bant"]["timing"])

    assert (lead["email"], lead["name"], lead["company"], lead["language"]) == ("Ana@acme.es", "Ana", "Acme S.L.", "en")
    budget = lead["bant"]["budget"]
    assert (budget["min"], budget["max"], budget["currency"], budget["period"], budget["qualifies"]) == (
        10000,
        10000,
        "EUR",
        "year",
        True,
    )
    assert (lead["bant"]["authority"]["level"], lead["bant"]["authority"]["qualifies"]) == ("decision_maker", True)
    assert (lead["bant"]["need"]["value"], lead["bant"]["need"]["qualifies"]) == ("crm", True)
    assert (lead["bant"]["timing"]["months"], lead["bant"]["timing"]["qualifies"]) == (0, True)
    assert lead["conversations"] == ["conv-1"]
    read_back = store.get_by_email("ana@acme.es")
    timestamps = ("created_at", "updated_at")
    assert {k: v for k, v in read_back.items() if k not in timestamps} == {
        k: v for k, v in lead.items() if k not in timestamps
    }


def test_sqlite_timestamps_keep_their_timezone_when_read_back(sqlite_store):
    saved = sqlite_store.save_conversation("conv-1", HOT, "es")
    read_back = sqlite_store.get_by_email("ana@acme.es")
    assert datetime.fromisoformat(saved["created_at"]).utcoffset() is not None
    assert datetime.fromisoformat(read_back["created_at"]) == datetime.fromisoformat(saved["created_at"])


def test_postgresql_timestamps_keep_their_timezone_when_read_back(pg_store):
    saved = pg_store.save_conversation("conv-1", HOT, "es")
    read_back = pg_store.get_by_email("ana@acme.es")
    assert datetime.fromisoformat(read_back["created_at"]) == datetime.fromisoformat(saved["created_at"])


def test_lead_json_for_unanswered_bant_is_empty_not_missing(store):
    lead = store.save_conversation("conv-1", {"name": NAME}, "es")
    assert lead["name"] == "Ana"
    assert lead["bant"]["budget"]["max"] is None
    assert lead["bant"]["budget"]["qualifies"] is None
    assert lead["bant"]["authority"]["level"] is None
    assert lead["bant"]["timing"]["months"] is None


# -- database errors --------------------------------------------------------------------


def rename_leads(store, old: str, new: str) -> None:
    with store.engine.begin() as conn:
        conn.execute(text(f"ALTER TABLE {old} RENAME TO {new}"))


def test_database_error_raises_and_the_same_save_later_loses_nothing(store):
    store.save_conversation("conv-1", {"need": NEED, "timing": TIMING}, "es")
    rename_leads(store, "leads", "leads_away")
    answers = {"need": NEED, "timing": TIMING, "budget": BUDGET, "email": email("ana@acme.es")}
    with pytest.raises(SQLAlchemyError):
        store.save_conversation("conv-1", answers, "es")

    rename_leads(store, "leads_away", "leads")
    lead = store.save_conversation("conv-1", answers, "es")
    assert lead["email"] == "ana@acme.es"
    assert lead["bant"]["need"]["value"] == "crm"
    assert lead["bant"]["timing"]["months"] == 0
    assert lead["bant"]["budget"]["max"] == 10000
    assert lead["conversations"] == ["conv-1"]
    assert store.count() == 1
    assert store.get_by_email("ana@acme.es")["scores"]["fit"] == 25 + 20 + 30  # authority unknown: 0


def test_failed_save_writes_nothing_half_way(store):
    rename_leads(store, "leads", "leads_away")
    with pytest.raises(SQLAlchemyError):
        store.save_conversation("conv-1", {"need": NEED}, "es")
    rename_leads(store, "leads_away", "leads")
    assert store.get_by_conversation("conv-1") is None
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM conversations")).scalar() == 0


def test_two_conversations_creating_the_same_email_at_once_end_in_one_lead(pg_store):
    """The IntegrityError retry: another conversation inserts the same email mid-save."""
    other = Session(pg_store.engine)
    other.add(Lead(email="ana@acme.es", email_key="ana@acme.es", answers={"need": NEED}))
    other.flush()  # row inserted, transaction still open: our insert must wait for it

    result: dict = {}
    saver = threading.Thread(
        target=lambda: result.update(
            lead=pg_store.save_conversation("conv-2", {"budget": BUDGET, "email": email("Ana@acme.es")}, "es")
        )
    )
    saver.start()
    saver.join(timeout=1.0)
    assert saver.is_alive(), "the save should be waiting on the other transaction's email"
    other.commit()
    other.close()
    saver.join(timeout=10)

    # The other transaction won the email: this conversation only claims it (leadqual/leads/identity.py),
    # and once confirmed its answers join that one lead.
    claim = result["lead"]
    assert pg_store.count() == 2 and claim["identity"]["claimed_email"].lower() == "ana@acme.es"
    lead = pg_store.confirm_identity(claim["id"], by="lucia")
    assert pg_store.count() == 1
    assert lead["email"] == "ana@acme.es"
    assert lead["conversations"] == ["conv-2"]
    assert lead["bant"]["need"]["value"] == "crm"
    assert lead["bant"]["budget"]["max"] == 10000


@pytest.mark.parametrize("sender", ["x" * 5000, "<script>alert(1)</script>", "'; DROP TABLE leads; --", "ñandú 🙂"])
def test_odd_sender_ids_from_the_browser_are_stored_safely(store, sender):
    lead = store.save_conversation(sender, {"need": {"value": "crm", "text": "CRM"}}, "es")
    assert lead["bant"]["need"]["value"] == "crm"
    (stored,) = lead["conversations"]
    assert stored.startswith("h:") and len(stored) <= 50
    assert store.get_by_conversation(sender)["id"] == lead["id"]


def test_ordinary_sender_ids_are_kept_as_they_are(store):
    lead = store.save_conversation("web-3f2a:visitor_1", {"need": {"value": "crm", "text": "CRM"}}, "es")
    assert lead["conversations"] == ["web-3f2a:visitor_1"]


# -- the company's size, as the visitor said it -------------------------------------------------


def said_size(employees: int, text: str) -> dict:
    return {"employees": employees, "text": text, "source": "text"}


def test_the_size_a_visitor_states_fills_the_profile_routes_and_scores(store):
    lead = store.save_conversation(
        "conv-size", {**HOT, "company_size": said_size(300, "somos unos 300 empleados")}, "es"
    )
    assert lead["profile"]["company_size"] == 300
    assert lead["profile"]["company_size_said"] == "somos unos 300 empleados"
    rules = [line["rule"] for line in lead["score_breakdown"]]
    assert "behaviour.explicit.company_size.large" in rules
    assert lead["owner"]["rule"] == "handoff.rules.large_accounts" and lead["owner"]["sdr"] == "lucia"


def test_a_later_statement_replaces_an_earlier_one_but_never_the_intakes_size(store):
    store.save_conversation("conv-a", {"need": NEED, "company_size": said_size(8, "somos 8")}, "es")
    lead = store.save_conversation("conv-a", {"need": NEED, "company_size": said_size(60, "perdón, somos 60")}, "es")
    assert lead["profile"]["company_size"] == 60

    other = store.save_conversation("conv-b", {"email": email("eva@globex.es")}, "es")
    with Session(store.engine) as session:
        session.get(Lead, other["id"]).profile = {"company_size": 40}  # as an identify call sets it
        session.commit()
    again = store.save_conversation("conv-b", {"company_size": said_size(5000, "we are 5000 people")}, "es")
    assert again["profile"] == {"company_size": 40}


@pytest.mark.parametrize(
    "value",
    [{"employees": "300"}, {"employees": 0}, {"employees": True}, {"employees": 10**9}, "300", [300], None],
)
def test_a_stated_size_of_the_wrong_shape_is_not_stored(store, value):
    lead = store.save_conversation("conv-odd", {"need": NEED, "company_size": value}, "es")
    assert "company_size" not in lead["profile"]
