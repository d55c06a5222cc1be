"""Console decisions on SQLite and PostgreSQL: each is in the lead's history, and the ones
`handoff.deliver_decisions` names are queued for the CRM in the same transaction."""

from __future__ import annotations

import pytest
import yaml
from pydantic import ValidationError
from sqlalchemy import select

from leadqual.config.marketing import ROOT, QualificationConfig
from leadqual.console.auth import User
from leadqual.console.decisions import DecisionError, Decisions, LeadNote
from leadqual.console.queries import lead_page
from leadqual.delivery.outbox import OutboxMessage

from .console_support import seed_lead


def sdr(sdr_id="lucia", role="sdr") -> User:
    return User(id=1, email=f"{sdr_id}@nubilo.es", role=role, sdr_id=sdr_id, disabled=False, password_hash="")


def decision_messages(store, lead_id) -> list[dict]:
    with store.sessions() as session:
        rows = session.scalars(select(OutboxMessage).where(OutboxMessage.lead_id == lead_id)).all()
        return [m.payload for m in rows if m.payload.get("type") == "decision"]


@pytest.fixture
def lead_id(store):
    return seed_lead(store, "ana@acme.es", owner="lucia", stage="mql", stage_actor="score")


def test_accepting_moves_to_sal_records_who_and_queues_the_decision(store, lead_id, monkeypatch):
    monkeypatch.setenv("LEADQUAL_CONSOLE_URL", "https://console.example.com/")
    lead = Decisions(store).move(sdr(), lead_id, "accepted", note="llamada el lunes")
    assert lead["stage"] == "sal"
    last = lead["stage_history"][-1]
    assert (last["from_stage"], last["to_stage"], last["actor_type"], last["actor_id"]) == (
        "mql",
        "sal",
        "person",
        "lucia",
    )
    assert last["reason"] == "sales_accepted" and last["note"] == "llamada el lunes"
    [packet] = decision_messages(store, lead_id)
    assert packet["decision"] == "accepted" and packet["move"]["to"] == "sal"
    assert packet["by"] == {"user": "lucia@nubilo.es", "sdr": "lucia"}
    assert packet["links"]["lead"] == f"https://console.example.com/leads/{lead_id}"


def test_reject_and_recycle_need_a_fitting_reason_code(store, lead_id):
    decisions = Decisions(store)
    with pytest.raises(DecisionError) as caught:
        decisions.move(sdr(), lead_id, "rejected")
    assert caught.value.code == "reason_required"
    with pytest.raises(DecisionError) as caught:
        decisions.move(sdr(), lead_id, "recycled", reason="spam")
    assert caught.value.code == "unknown_reason"
    assert store.get(lead_id)["stage"] == "mql" and decision_messages(store, lead_id) == []

    lead = decisions.move(sdr(), lead_id, "recycled", reason="bad_timing")
    assert lead["stage"] == "lead" and lead["stage_history"][-1]["kind"] == "recycle"
    lead = decisions.move(sdr(), lead_id, "rejected", reason="competitor")
    assert lead["stage"] == "disqualified" and lead["stage_history"][-1]["reason"] == "competitor"
    assert [p["decision"] for p in decision_messages(store, lead_id)] == ["recycled", "rejected"]


def test_convert_only_from_sql(store, lead_id):
    decisions = Decisions(store)
    with pytest.raises(DecisionError) as caught:
        decisions.move(sdr(), lead_id, "converted")
    assert caught.value.code == "illegal_move"
    decisions.move(sdr(), lead_id, "accepted")
    decisions.move(sdr(), lead_id, "qualified")
    assert decisions.move(sdr(), lead_id, "converted")["stage"] == "opportunity"
    assert [p["decision"] for p in decision_messages(store, lead_id)] == [
        "accepted",
        "converted",
    ]  # qualified: not configured


def test_reassign_and_note_are_in_the_history(store, lead_id):
    decisions = Decisions(store)
    decisions.reassign(sdr(), lead_id, "diego", note="habla con México")
    decisions.add_note(sdr("diego"), lead_id, "Pide precio por usuario")
    lead = store.get(lead_id)
    assert lead["owner"]["sdr"] == "diego" and lead["owner"]["rule"] == "console.reassign"
    history = lead_page(store, lead_id)["history"]
    kinds = [(h["type"], h.get("author")) for h in history if h["type"] != "stage"]
    assert kinds == [("reassigned", "lucia"), ("note", "diego")]
    [packet] = decision_messages(store, lead_id)  # notes are not in deliver_decisions
    assert packet["decision"] == "reassigned" and packet["to"] == "diego"
    assert packet["from"] == {"sdr": "lucia", "queue": None}
    with pytest.raises(DecisionError) as caught:
        decisions.reassign(sdr("diego"), lead_id, "nobody")
    assert caught.value.code == "unknown_sdr"


def test_an_sdr_decides_only_on_their_own_or_unowned_leads(store, lead_id):
    decisions = Decisions(store)
    with pytest.raises(DecisionError) as caught:
        decisions.move(sdr("emma"), lead_id, "accepted")
    assert caught.value.code == "forbidden"
    with pytest.raises(DecisionError):
        decisions.add_note(sdr("emma"), lead_id, "hola")
    marketing = User(id=2, email="m@nubilo.es", role="marketing", disabled=False, password_hash="")
    with pytest.raises(DecisionError):
        decisions.move(marketing, lead_id, "accepted")
    assert decisions.move(sdr("admin", role="admin"), lead_id, "accepted")["stage"] == "sal"
    with store.sessions() as session:
        assert session.scalars(select(LeadNote)).all() == []


def test_nothing_is_sent_when_the_config_delivers_no_decisions(store, lead_id):
    store.config = store.config.model_copy(
        update={"handoff": store.config.handoff.model_copy(update={"deliver_decisions": []})}
    )
    Decisions(store).move(sdr(), lead_id, "accepted")
    assert store.get(lead_id)["stage"] == "sal"
    assert decision_messages(store, lead_id) == []


def test_config_names_a_bad_decision():
    raw = yaml.safe_load((ROOT / "config" / "qualification.yml").read_text())
    raw["handoff"]["deliver_decisions"] = ["accepted", "acepted"]
    with pytest.raises(ValidationError) as caught:
        QualificationConfig.model_validate(raw)
    assert "handoff.deliver_decisions.1" in str(caught.value)
