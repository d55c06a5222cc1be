"""The chat's consent question (actions/actions.py): the answer is stored with the flow version and
language of the text shown, and marketing can switch the question off (privacy.ask_marketing_consent)."""

from __future__ import annotations

import pytest

pytest.importorskip("rasa_sdk")

from sqlalchemy import select  # noqa: E402

import actions.actions as actions  # noqa: E402
from leadqual.conversation.flows import FlowStore, files_content  # noqa: E402
from leadqual.db.tables import Consent  # noqa: E402

from .test_actions import MONDAY_10_MADRID, replying, run, say, slot_events, texts_of, tracker_from  # noqa: E402


@pytest.fixture
def lead_store(sqlite_store, monkeypatch):
    """The action server's store and flows on a temporary SQLite file, in business hours."""
    monkeypatch.setattr(actions, "_store", sqlite_store)
    monkeypatch.setattr(actions, "_flows", None)
    monkeypatch.setattr(actions, "clock", lambda: MONDAY_10_MADRID)
    return sqlite_store


def test_the_consent_answer_records_the_flow_version_and_language_of_the_text(lead_store):
    run(actions.ActionSubmitQualification(), tracker_from("submit_student"))
    run(actions.ActionRecordConsent(), replying("submit_student", "Yes, send them", "affirm", consent_asked=True))
    with lead_store.sessions() as session:
        row = session.scalars(select(Consent)).one()
    assert (row.granted, row.flow_version, row.language) == (True, 1, "en")
    assert row.wording == say("utter_ask_consent", "en")


def test_marketing_can_switch_the_consent_question_off(lead_store):
    qualification, messages = files_content()
    flows = FlowStore(lead_store.engine, refresh_seconds=0)
    flows.seed()
    flows.publish(
        {**qualification, "privacy": {**qualification["privacy"], "ask_marketing_consent": False}},
        messages,
        by="mkt@nubilo.es",
        note="no consent question",
    )
    events, messages_sent = run(actions.ActionSubmitQualification(), tracker_from("submit_student"))
    assert say("utter_ask_consent", "en") not in texts_of(messages_sent)
    assert "consent_asked" not in slot_events(events)
    assert lead_store.get_by_email("tom@uni.edu")["marketing_consent"] is None
