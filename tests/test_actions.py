"""The Rasa adapters in actions/actions.py, run on trackers loaded from tests/fixtures/*.json."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import OperationalError

from actions import actions
from leadqual.config.marketing import BANT_SLOTS, QUESTION_SLOTS, load_messages
from leadqual.conversation.flows import files_content
from leadqual.leads.store import LeadStore

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
MESSAGES = load_messages()
MONDAY_10_MADRID = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
SATURDAY_10_MADRID = datetime(2026, 11, 28, 9, 0, tzinfo=timezone.utc)


def say(name: str, lang: str = "es") -> str:
    """The text of a response with no placeholders, as messages.yml has it."""
    return getattr(MESSAGES.responses[name], lang)


def tracker_from(fixture: str, **slots) -> Tracker:
    """A tracker from tests/fixtures/<fixture>.json, with `slots` overriding its slots."""
    state = json.loads((FIXTURES / f"{fixture}.json").read_text(encoding="utf-8"))
    state["slots"].update(slots)
    return Tracker.from_dict(state)


def run(action, tracker: Tracker) -> tuple[list[dict], list[dict]]:
    """Run an action as the action server does; returns (events, messages sent)."""
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, DOMAIN))
    return events, dispatcher.messages


def slot_events(events: list[dict]) -> dict:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def texts_of(messages: list[dict]) -> list[str]:
    return [m.get("text") for m in messages]


def stored_answers(store: LeadStore, conversation_id: str) -> dict | None:
    from leadqual.leads.store import Conversation

    with store.sessions() as session:
        conversation = session.get(Conversation, conversation_id)
        return dict(conversation.lead.answers) if conversation and conversation.lead else None


@pytest.fixture(autouse=True)
def _private_store(sqlite_store, monkeypatch):
    """Every action reads flows and leads from a temporary SQLite file, never var/leads.db."""
    monkeypatch.setattr(actions, "_store", sqlite_store)
    monkeypatch.setattr(actions, "_flows", None)


@pytest.fixture
def lead_store(sqlite_store, monkeypatch):
    """The action server's store, on a temporary SQLite file, on a Monday at 10:00 in Madrid
    (business hours: the SDRs are available)."""
    monkeypatch.setattr(actions, "_store", sqlite_store)
    monkeypatch.setattr(actions, "clock", lambda: MONDAY_10_MADRID)
    return sqlite_store


def database_down(store: LeadStore, monkeypatch) -> None:
    def fail(*_args, **_kwargs):
        raise OperationalError("INSERT INTO leads ...", {}, Exception("could not connect to server"))

    monkeypatch.setattr(store, "save_conversation", fail)


FORM = actions.ValidateQualificationForm()


# -- action_read_message: language -------------------------------------------------------------


def test_page_metadata_language_wins_over_the_text():
    assert slot_events(actions.language_events(tracker_from("language_metadata_en"))) == {"language": "en"}


def test_spanish_text_switches_an_english_conversation_to_spanish():
    events = actions.language_events(tracker_from("language_spanish_text"))
    assert slot_events(events) == {"language": "es"}


def test_spanish_text_sets_spanish_on_a_new_conversation():
    events = actions.language_events(tracker_from("language_spanish_text", language=None))
    assert slot_events(events) == {"language": "es"}


def test_english_text_is_detected_without_metadata():
    tracker = tracker_from("language_spanish_text", language=None)
    tracker.latest_message["text"] = "Hi, I'd like to know your prices for a team of twenty"
    events = actions.language_events(tracker)
    assert slot_events(events) == {"language": "en"}


def test_short_reply_keeps_the_current_language():
    events = actions.language_events(tracker_from("language_short_reply"))
    assert events == []  # stays "en"


def test_button_payload_keeps_the_current_language():
    tracker = tracker_from("language_short_reply")
    tracker.latest_message["text"] = '/inform{"option": "crm"}'
    events = actions.language_events(tracker)
    assert events == []


def test_a_spanish_name_does_not_switch_an_english_conversation():
    events = actions.language_events(tracker_from("language_spanish_name_in_english"))
    assert events == []


def test_one_call_per_message_sets_language_visitor_and_flow_on_the_first_message(lead_store):
    tracker = greet_tracker({"anonymous_id": "browser-aaaa", "lang": "en"}, language=None)
    events, messages = run(actions.ActionReadMessage(), tracker)
    assert slot_events(events) == {"language": "en", "visitor_id": "browser-aaaa", "flow_version": 1}
    assert messages == []
    # Later messages change nothing that is already set.
    later = greet_tracker({"anonymous_id": "browser-bbbb", "lang": "en"}, language="en", visitor_id="browser-aaaa")
    later.slots["flow_version"] = 1
    assert run(actions.ActionReadMessage(), later)[0] == []


# -- validate_qualification_form: answers -----------------------------------------------


def test_free_text_fills_the_requested_slot_and_saves_the_lead(lead_store):
    events, messages = run(FORM, tracker_from("form_need_free_text"))
    need = slot_events(events)["need"]
    assert need["value"] == "crm"
    assert need["text"] == "queremos gestionar mejor a nuestros comerciales"
    assert messages == []  # no re-ask

    saved = lead_store.get_by_conversation("conv-need")
    assert saved is not None
    assert saved["email"] is None
    assert (saved["bant"]["need"]["value"], saved["bant"]["need"]["qualifies"]) == ("crm", True)
    assert stored_answers(lead_store, "conv-need")["need"]["value"] == "crm"


def test_multi_answer_fills_budget_and_authority_too(lead_store):
    events, _ = run(FORM, tracker_from("form_need_multi_answer"))
    slots = slot_events(events)
    assert slots["need"]["value"] == "crm"
    assert (slots["budget"]["max"], slots["budget"]["currency"]) == (10000, "EUR")  # not the 20 reps
    assert slots["authority"]["level"] == "decision_maker"
    assert "timing" not in slots

    answers = stored_answers(lead_store, "conv-multi")
    assert answers["budget"]["max"] == 10000
    assert answers["authority"]["level"] == "decision_maker"
    assert lead_store.get_by_conversation("conv-multi")["scores"]["fit"] == 30 + 25 + 25


def test_message_that_starts_the_form_can_already_answer_questions(lead_store):
    events, messages = run(FORM, tracker_from("form_activation_multi_answer"))
    slots = slot_events(events)
    assert slots["need"]["value"] == "crm"
    assert slots["budget"]["max"] == 10000
    assert slots["authority"]["level"] == "decision_maker"
    assert slots.get("timing") is None
    assert messages == []
    assert lead_store.get_by_conversation("conv-activation") is not None


def test_asking_for_a_person_to_start_the_form_skips_to_contact_details(lead_store):
    tracker = tracker_from("form_activation_multi_answer")
    tracker.latest_message.update(
        text="quiero hablar con un comercial", intent={"name": "request_human", "confidence": 0.95}
    )
    events, _ = run(FORM, tracker)
    slots = slot_events(events)
    assert {slot: slots[slot]["skipped"] for slot in BANT_SLOTS} == dict.fromkeys(BANT_SLOTS, True)
    assert {slots[slot]["source"] for slot in BANT_SLOTS} == {"human"}
    assert not {"name", "company", "email"} & set(slots)  # the contact questions are asked next


def test_button_payload_sets_the_value(lead_store):
    events, messages = run(FORM, tracker_from("form_budget_button"))
    budget = slot_events(events)["budget"]
    assert (budget["min"], budget["max"], budget["currency"], budget["period"]) == (3000, 10000, "EUR", "year")
    assert budget["source"] == "button"
    assert budget["text"] == "3.000 – 10.000 €"
    assert messages == []
    assert lead_store.get_by_conversation("conv-button")["bant"]["budget"]["max"] == 10000


def test_button_of_another_question_is_not_accepted(lead_store):
    tracker = tracker_from("form_budget_button")
    tracker.latest_message["entities"] = [{"entity": "option", "value": "decision_maker"}]
    events, messages = run(FORM, tracker)
    slots = slot_events(events)
    assert slots.get("budget") is None
    assert slots.get("authority") is None
    assert texts_of(messages) == [MESSAGES.questions["budget"].reask.es]


def test_forged_payload_does_not_set_budget(lead_store):
    events, messages = run(FORM, tracker_from("form_budget_forged_payload"))
    slots = slot_events(events)
    assert slots.get("budget") is None
    assert slots["failures"] == {"budget": 1}
    assert texts_of(messages) == [MESSAGES.questions["budget"].reask.es]
    assert lead_store.get_by_conversation("conv-forged") is None  # nothing new to save


def test_answer_in_english_gets_english_values(lead_store):
    events, _ = run(FORM, tracker_from("form_authority_english"))
    assert slot_events(events)["authority"]["level"] == "influencer"


# -- validate_qualification_form: unclear answers never loop ----------------------------


def test_unclear_answer_counts_a_failure_and_reasks(lead_store):
    events, messages = run(FORM, tracker_from("form_need_unclear"))
    slots = slot_events(events)
    assert slots["need"] is None
    assert slots["failures"] == {"need": 1}
    assert texts_of(messages) == [MESSAGES.questions["need"].reask.es]
    assert lead_store.get_by_conversation("conv-unclear") is None


def test_unclear_answers_are_given_up_after_max_reasks(lead_store, config):
    failures = None
    replies = []
    for _turn in range(config.max_reasks + 1):
        events, messages = run(FORM, tracker_from("form_need_unclear", failures=failures))
        slots = slot_events(events)
        failures = slots["failures"]
        replies.append(texts_of(messages))
        if slots["need"] is not None:
            break

    reask = MESSAGES.questions["need"].reask.es
    assert replies == [[reask]] * config.max_reasks + [[say("utter_gave_up_question")]]
    assert failures == {"need": config.max_reasks + 1}
    need = slots["need"]
    assert need["skipped"] is True
    assert need["source"] == "gave_up"
    assert need["text"] == "pues mira, a ver"
    assert stored_answers(lead_store, "conv-unclear")["need"]["skipped"] is True


def test_question_offers_skip_and_human_after_max_reasks(config):
    _, first = run(actions.AskBudget(), tracker_from("ask_budget"))
    assert [b["payload"] for b in first[0]["buttons"]][-1] == '/inform{"option": "budget_unknown"}'
    _, later = run(actions.AskBudget(), tracker_from("ask_budget", failures={"budget": config.max_reasks}))
    assert later[0]["text"] == "Roughly what budget do you have in mind?"
    assert [b["title"] for b in later[0]["buttons"]][-2:] == ["Skip this question", "I'd rather talk to a person"]


def test_failures_of_one_question_do_not_count_for_another(lead_store):
    events, _ = run(FORM, tracker_from("form_need_unclear", failures={"budget": 2}))
    assert slot_events(events)["failures"] == {"budget": 2, "need": 1}
    assert slot_events(events)["need"] is None


# -- validate_qualification_form: interruptions -----------------------------------------


def test_ask_why_leaves_the_answer_slots_alone(lead_store):
    events, messages = run(FORM, tracker_from("form_budget_ask_why"))
    slots = slot_events(events)
    assert not set(slots) & set(QUESTION_SLOTS), slots
    assert "failures" not in slots
    assert messages == []  # the rule answers with utter_why
    assert lead_store.get_by_conversation("conv-why") is None


def test_form_after_the_why_rule_does_not_reask_or_count_a_failure(lead_store):
    events, messages = run(FORM, tracker_from("form_budget_after_why"))
    slots = slot_events(events)
    assert not set(slots) & set(QUESTION_SLOTS)
    assert "failures" not in slots
    assert messages == []


def test_form_resumed_without_a_new_message_does_not_judge_the_old_one_again(lead_store):
    # Same history (the form ran, a rule replied), but an old message that would count as a failure.
    tracker = tracker_from("form_budget_after_why")
    tracker.latest_message.update(text="pues ya veremos", intent={"name": "inform", "confidence": 0.7})
    events, messages = run(FORM, tracker)
    assert "failures" not in slot_events(events)
    assert messages == []


def test_request_human_skips_unanswered_bant_and_goes_to_contact(lead_store):
    events, messages = run(FORM, tracker_from("form_budget_request_human"))
    slots = slot_events(events)
    assert slots["budget"]["skipped"] is True
    assert slots["authority"]["skipped"] is True
    assert "need" not in slots and "timing" not in slots  # already answered, kept
    assert texts_of(messages) == [say("utter_handoff_contact")]

    answers = stored_answers(lead_store, "conv-human")
    assert answers["need"]["value"] == "crm"
    assert answers["budget"]["skipped"] is True
    assert answers["authority"]["skipped"] is True


def test_skip_skips_only_the_question_asked(lead_store):
    tracker = tracker_from("form_budget_ask_why")
    tracker.latest_message.update(text="prefiero no decirlo", intent={"name": "skip", "confidence": 0.9})
    events, messages = run(FORM, tracker)
    slots = slot_events(events)
    assert slots["budget"]["skipped"] is True
    assert "authority" not in slots
    assert texts_of(messages) == [say("utter_skipped")]


# -- saving when the database fails -----------------------------------------------------


def test_database_failure_keeps_answers_and_tells_the_visitor(lead_store, monkeypatch):
    database_down(lead_store, monkeypatch)
    events, messages = run(FORM, tracker_from("form_need_free_text"))
    slots = slot_events(events)
    assert slots["need"]["value"] == "crm"  # the answer is kept in the conversation
    assert slots["lead_save_pending"] is True
    assert texts_of(messages) == [say("utter_save_failed")]


def test_database_failure_is_apologised_for_once(lead_store, monkeypatch):
    database_down(lead_store, monkeypatch)
    events, messages = run(FORM, tracker_from("form_need_free_text", lead_save_pending=True))
    assert slot_events(events)["lead_save_pending"] is True
    assert messages == []


def test_pending_save_is_retried_on_the_next_turn(lead_store, monkeypatch):
    # Turn 1: the database is down while the visitor answers.
    with monkeypatch.context() as m:
        database_down(lead_store, m)
        events, _ = run(FORM, tracker_from("form_need_free_text"))
    pending = slot_events(events)
    assert pending["lead_save_pending"] is True
    assert lead_store.get_by_conversation("conv-need") is None

    # Turn 2 (form over, database back): action_read_message retries and writes everything.
    tracker = tracker_from("retry_pending_save", need=pending["need"], lead_save_pending=True, flow_version=1)
    tracker.sender_id = "conv-need"
    events, messages = run(actions.ActionReadMessage(), tracker)
    assert slot_events(events) == {"lead_save_pending": False}
    assert messages == []
    saved = lead_store.get_by_conversation("conv-need")
    assert saved["bant"]["need"]["value"] == "crm"
    assert saved["bant"]["timing"]["months"] == 0
    assert saved["bant"]["budget"]["min"] == 10000


def test_retry_that_fails_again_stays_pending_quietly(lead_store, monkeypatch):
    database_down(lead_store, monkeypatch)
    events, messages = run(actions.ActionReadMessage(), tracker_from("retry_pending_save", flow_version=1))
    assert slot_events(events).get("lead_save_pending") is not False
    assert messages == []


def test_retry_does_nothing_when_nothing_is_pending(lead_store):
    events, _ = run(
        actions.ActionReadMessage(), tracker_from("retry_pending_save", lead_save_pending=False, flow_version=1)
    )
    assert events == []
    assert lead_store.get_by_conversation("conv-retry") is None


def test_next_form_answer_saves_everything_and_clears_pending(lead_store):
    # While the form runs the retry action leaves the save to the form itself.
    tracker = tracker_from("form_budget_button", lead_save_pending=True)
    assert (
        run(actions.ActionReadMessage(), tracker_from("form_budget_button", lead_save_pending=True, flow_version=1))[0]
        == []
    )
    events, messages = run(FORM, tracker)
    assert slot_events(events)["lead_save_pending"] is False
    assert messages == []
    saved = lead_store.get_by_conversation("conv-button")
    assert (saved["bant"]["need"]["value"], saved["bant"]["timing"]["months"]) == ("crm", 0)
    assert saved["bant"]["budget"]["max"] == 10000


# -- action_submit_qualification --------------------------------------------------------


def test_submit_hot_lead_in_business_hours_offers_a_meeting_and_talking_now(lead_store):
    events, messages = run(actions.ActionSubmitQualification(), tracker_from("submit_hot_lead"))
    assert texts_of(messages) == [
        "¡Gracias, Ana! Por lo que me cuentas, Nubilo encaja muy bien con Acme S.L.",
        "Puedes reservar ya una reunión con Lucía Fernández: [elige día y hora](https://cal.nubilo.es/lucia-fernandez).",
        "Lucía Fernández está disponible ahora mismo. ¿Quieres hablar por este chat?",
    ]
    assert messages[2]["buttons"] == [
        {"title": "Sí, hablar ahora", "payload": "/request_human"},
        {"title": "Ahora no, gracias", "payload": "/deny"},
    ]
    slots = slot_events(events)
    assert slots["qualification"] == {
        "stage": "sql",
        "sales_ready": True,
        "grade": "A3",
        "fit": 100,
        "behaviour": 0,
        "total": 100,
    }
    assert slots["failures"] is None
    assert slots["contact_known"] is True
    assert "consent_asked" not in slots  # sales-ready leads go to sales, not to nurturing

    lead = lead_store.get_by_email("ana@acme.es")
    assert (lead["stage"], lead["scores"]["total"], lead["name"], lead["company"]) == ("sql", 100, "Ana", "Acme S.L.")
    assert lead["owner"]["sdr"] == "lucia"
    # The transcript is stored with the lead, with Rasa's times, and the replies of this last turn
    # right after them, so an SDR reads them even if the visitor never writes again.
    stored = lead["transcripts"][0]["messages"]
    assert [(m["sender"], m["text"], m["at"]) for m in stored[:2]] == [
        ("bot", "¿A qué email te escribimos?", "2026-11-23T09:00:00.250000+00:00"),
        ("visitor", "ana@acme.es", "2026-11-23T09:00:10.500000+00:00"),
    ]
    assert [m["text"] for m in stored[2:]] == texts_of(messages)
    assert stored[-1]["data"]["buttons"] == ["Sí, hablar ahora", "Ahora no, gracias"]


def test_submit_hot_lead_out_of_hours_offers_the_meeting_or_the_sla(lead_store, monkeypatch):
    monkeypatch.setattr(actions, "clock", lambda: SATURDAY_10_MADRID)
    _events, messages = run(actions.ActionSubmitQualification(), tracker_from("submit_hot_lead"))
    assert texts_of(messages)[1:] == [
        "Puedes reservar ya una reunión con Lucía Fernández: [elige día y hora](https://cal.nubilo.es/lucia-fernandez).",
        "Si lo prefieres, Lucía Fernández te escribirá en menos de 24 horas.",
    ]


def test_submit_student_gets_the_nurture_text_and_the_consent_question(lead_store):
    events, messages = run(actions.ActionSubmitQualification(), tracker_from("submit_student"))
    assert texts_of(messages) == [
        "Thanks, Tom! I've noted everything for when the time is right. If you have any question, write to me here.",
        say("utter_ask_consent", "en"),
    ]
    assert [b["title"] for b in messages[1]["buttons"]] == ["Yes, send them", "No, thanks"]
    slots = slot_events(events)
    assert slots["qualification"]["stage"] == "lead"
    assert slots["consent_asked"] is True
    lead = lead_store.get_by_email("tom@uni.edu")
    assert lead["stage"] == "lead"
    assert lead["scores"]["fit"] == 0
    assert lead["bant"]["budget"]["qualifies"] is False
    assert lead["marketing_consent"] is None  # asked, not answered yet: nothing is sent


def test_submit_mql_lead_with_skipped_company_says_your_company(lead_store):
    tracker = tracker_from(
        "submit_hot_lead",
        company={"skipped": True, "text": "", "source": "skip"},
        timing={"months": 12, "text": "este año", "source": "text"},
        authority={"level": "user", "text": "decide mi jefa", "source": "text"},
    )
    events, messages = run(actions.ActionSubmitQualification(), tracker)
    assert slot_events(events)["qualification"]["stage"] == "mql"  # 30 + 5 + 25 + 5 = 65
    assert texts_of(messages) == [
        "¡Gracias, Ana! Un especialista revisará tu caso con lo que me has contado sobre tu empresa.",
        say("utter_ask_consent"),
    ]


def test_submit_with_the_database_down_still_answers_and_marks_pending(lead_store, monkeypatch):
    database_down(lead_store, monkeypatch)
    events, messages = run(actions.ActionSubmitQualification(), tracker_from("submit_hot_lead"))
    assert texts_of(messages)[0] == say("utter_save_failed")
    assert texts_of(messages)[1:] == [
        "¡Gracias, Ana! Por lo que me cuentas, Nubilo encaja muy bien con Acme S.L.",
        "Una persona de nuestro equipo comercial te contactará en menos de 24 horas.",
    ]
    slots = slot_events(events)
    assert slots["lead_save_pending"] is True
    assert slots["qualification"] == {"stage": "sql", "sales_ready": True, "fit": 100, "behaviour": 0, "total": 100}


# -- action_stop_qualification ----------------------------------------------------------


def test_stop_saves_partial_answers_and_deactivates_the_form(lead_store):
    events, messages = run(actions.ActionStopQualification(), tracker_from("stop_partial"))
    assert texts_of(messages) == [say("utter_stopped")]
    assert any(e["event"] == "active_loop" and e["name"] is None for e in events)
    assert slot_events(events)["requested_slot"] is None
    answers = stored_answers(lead_store, "conv-stop")
    assert answers["need"]["value"] == "crm"
    assert answers["timing"]["months"] == 0
    assert all(answers.get(slot) is None for slot in BANT_SLOTS if slot not in ("need", "timing"))


def test_stop_with_nothing_answered_saves_no_lead(lead_store):
    empty = {slot: None for slot in QUESTION_SLOTS}
    events, messages = run(actions.ActionStopQualification(), tracker_from("stop_partial", **empty))
    # Nothing was told: no "he guardado lo que me has contado".
    assert texts_of(messages) == [say("utter_stopped_unsaved")]
    assert any(e["event"] == "active_loop" and e["name"] is None for e in events)
    assert lead_store.count() == 0


def test_stop_with_the_database_down_does_not_claim_the_answers_were_saved(lead_store, monkeypatch):
    database_down(lead_store, monkeypatch)
    events, messages = run(actions.ActionStopQualification(), tracker_from("stop_partial"))
    assert slot_events(events)["lead_save_pending"] is True
    assert texts_of(messages)[0] == say("utter_save_failed")
    assert not any("He guardado" in text for text in texts_of(messages))


# -- the visitor id, the greeting and known answers ----------------------------------------


def greet_tracker(metadata: dict | None = None, **slots) -> Tracker:
    tracker = tracker_from("language_spanish_text", **({"language": "es"} | slots))
    tracker.latest_message.update(text="hola", intent={"name": "greet", "confidence": 0.99}, metadata=metadata or {})
    return tracker


def test_the_visitor_id_comes_from_metadata_and_the_first_one_wins():
    events = actions.visitor_events(greet_tracker({"anonymous_id": "browser-aaaa"}))
    assert slot_events(events) == {"visitor_id": "browser-aaaa"}
    assert actions.visitor_events(greet_tracker({"anonymous_id": "victim-0001"}, visitor_id="browser-aaaa")) == []
    assert actions.visitor_events(greet_tracker({"anonymous_id": "<b>x</b>"})) == []


def test_a_new_visitor_gets_the_plain_greeting(lead_store):
    _, messages = run(actions.ActionGreet(), greet_tracker({"anonymous_id": "browser-aaaa"}))
    assert len(messages) == 1 and messages[0]["text"] in say("utter_greet")


def test_an_engaged_visitor_is_offered_sales(lead_store):
    now = datetime.now(timezone.utc)
    demo = {"message_id": "d1", "type": "track", "name": "demo_request", "anonymous_id": "browser-aaaa"}
    lead_store.ingest_events([demo | {"timestamp": now, "received_at": now, "user_id": None, "url": None}], now)
    _, messages = run(actions.ActionGreet(), greet_tracker({"anonymous_id": "browser-aaaa"}))
    assert messages[-1]["text"] == say("utter_offer_sales")
    assert [b["payload"] for b in messages[-1]["buttons"]] == ["/request_human", "/deny"]


def test_a_known_visitor_is_greeted_by_first_name_and_not_asked_again(lead_store):
    known = {"timing": {"months": 3, "source": "button"}, "name": {"value": "Ana García"}}
    lead_store.save_conversation("earlier-chat", known, "es", "browser-aaaa")
    _, messages = run(actions.ActionGreet(), greet_tracker({"anonymous_id": "browser-aaaa"}))
    assert messages[0]["text"].startswith("¡Hola de nuevo, Ana!")

    tracker = tracker_from("form_activation_multi_answer", visitor_id="browser-aaaa")
    events, messages = run(FORM, tracker)
    slots = slot_events(events)
    assert slots["timing"] == known["timing"] and slots["name"] == known["name"]
    assert slots["need"]["source"] == "text"  # what the message says now wins over what we knew
    assert say("utter_known_answers") in texts_of(messages)


def test_the_greeting_survives_a_database_outage(lead_store, monkeypatch):
    def fail(*_args, **_kwargs):
        raise OperationalError("SELECT ...", {}, Exception("could not connect to server"))

    monkeypatch.setattr(lead_store, "visitor_context", fail)
    _, messages = run(actions.ActionGreet(), greet_tracker({"anonymous_id": "browser-aaaa"}))
    assert messages[0]["text"] in say("utter_greet")


def test_a_sales_ready_lead_left_at_mql_for_an_sdr_still_hears_what_sales_will_do(lead_store):
    # Marketing publishes a flow where SDRs accept sales-ready leads themselves.
    qualification, texts = files_content()
    qualification["stages"]["sql"]["automatic"] = False
    actions.flows().publish(qualification, texts, by="marketing@nubilo.es")
    events, messages = run(actions.ActionSubmitQualification(), tracker_from("submit_hot_lead"))
    assert slot_events(events)["qualification"]["stage"] == "mql"
    assert slot_events(events)["qualification"]["sales_ready"] is True
    # The sql result and its next steps: the assigned SDR's booking link and talking now.
    assert texts_of(messages)[0].startswith("¡Gracias, Ana! Por lo que me cuentas, Nubilo encaja muy bien")
    assert "https://cal.nubilo.es/lucia-fernandez" in messages[1]["text"]
    assert messages[2]["buttons"][0]["payload"] == "/request_human"


# -- after the result: consent and asking for a person ------------------------------------


def replying(fixture: str, text: str, intent: str, **slots) -> Tracker:
    """The tracker of `fixture` once the visitor answered `text` (read as `intent`)."""
    state = json.loads((FIXTURES / f"{fixture}.json").read_text(encoding="utf-8"))
    state["slots"].update(slots)
    state["latest_message"] = {"text": text, "intent": {"name": intent, "confidence": 0.99}, "entities": []}
    return Tracker.from_dict(state)


@pytest.mark.parametrize(
    ("text", "intent", "granted", "reply"),
    [
        ("Yes, send them", "affirm", True, "Done! We'll write to tom@uni.edu. Every email has a link to unsubscribe."),
        ("no thanks", "deny", False, say("utter_consent_declined", "en")),
    ],
)
def test_the_consent_answer_is_recorded_and_a_yes_goes_to_nurturing(lead_store, text, intent, granted, reply):
    run(actions.ActionSubmitQualification(), tracker_from("submit_student"))
    events, messages = run(actions.ActionRecordConsent(), replying("submit_student", text, intent, consent_asked=True))
    assert texts_of(messages) == [reply]
    assert slot_events(events) == {"consent_asked": False}
    lead = lead_store.get_by_email("tom@uni.edu")
    assert lead["marketing_consent"] is granted
    from leadqual.delivery.outbox import OutboxMessage

    with lead_store.sessions() as session:
        kinds = [m.kind for m in session.query(OutboxMessage).filter(OutboxMessage.lead_id == lead["id"])]
    assert kinds == (["nurture"] if granted else [])


def test_asking_for_a_person_after_qualifying_alerts_the_sdr_in_business_hours(lead_store, monkeypatch):
    run(actions.ActionSubmitQualification(), tracker_from("submit_hot_lead"))
    _events, messages = run(
        actions.ActionRequestPerson(), replying("submit_hot_lead", "Sí, hablar ahora", "request_human")
    )
    assert texts_of(messages) == ["Aviso ahora mismo a Lucía Fernández, que te escribirá aquí en unos minutos."]
    monkeypatch.setattr(actions, "clock", lambda: SATURDAY_10_MADRID)
    _events, messages = run(
        actions.ActionRequestPerson(), replying("submit_hot_lead", "hablar con alguien", "request_human")
    )
    assert texts_of(messages) == [
        "Ahora mismo no hay nadie del equipo conectado. Lucía Fernández te contactará en menos de 24 horas."
    ]


# -- flow versions --------------------------------------------------------------------------


def test_a_conversation_keeps_the_flow_version_it_started_with(lead_store):
    assert slot_events(actions.flow_events(tracker_from("ask_budget"))) == {"flow_version": 1}
    qualification, texts = files_content()
    texts["questions"]["budget"]["ask"]["en"] = "How much would you like to invest?"
    actions.flows().publish(qualification, texts, by="marketing@nubilo.es")

    _events, old = run(actions.AskBudget(), tracker_from("ask_budget", flow_version=1))
    assert texts_of(old) == [MESSAGES.questions["budget"].ask.en]
    new_conversation = tracker_from("ask_budget")
    assert slot_events(actions.flow_events(new_conversation)) == {"flow_version": 2}
    _events, new = run(actions.AskBudget(), tracker_from("ask_budget", flow_version=2))
    assert texts_of(new) == ["How much would you like to invest?"]
    # A pinned conversation is not moved.
    assert actions.flow_events(tracker_from("ask_budget", flow_version=1)) == []


def test_questions_asked_answered_and_reasked_are_counted_for_marketing(lead_store):
    from leadqual.conversation import analytics

    run(actions.AskBudget(), tracker_from("ask_budget"))
    run(actions.ValidateQualificationForm(), tracker_from("form_budget_button"))
    run(actions.ValidateQualificationForm(), tracker_from("form_need_unclear"))
    figures = analytics.question_figures(lead_store.engine)

    def total(question: str, kind: str) -> int:
        return sum(f[kind] for f in figures if f["question"] == question)

    assert (total("budget", "asked"), total("budget", "answered"), total("need", "reasked")) == (1, 1, 1)
    assert {f["flow_version"] for f in figures} == {1}


def test_a_console_preview_runs_the_draft_and_writes_no_lead(lead_store, monkeypatch):
    from leadqual.conversation.flows import Drafts, preview_token

    monkeypatch.setenv("LEADQUAL_PREVIEW_SECRET", "preview-secret")
    qualification, texts = files_content()
    texts["questions"]["budget"]["ask"]["en"] = "What could you invest per year?"
    draft_id, problems = Drafts(actions.flows()).save(qualification, texts, by="marketing@nubilo.es")
    assert problems == []

    def first_message(metadata: dict) -> Tracker:
        state = json.loads((FIXTURES / "ask_budget.json").read_text(encoding="utf-8"))
        state["latest_message"] = {"text": "hi", "intent": {"name": "greet"}, "metadata": metadata}
        return Tracker.from_dict(state)

    pinned = slot_events(actions.flow_events(first_message({"flow_preview": preview_token(draft_id)})))
    assert pinned == {"flow_version": f"draft:{draft_id}"}
    forged = slot_events(actions.flow_events(first_message({"flow_preview": f"{draft_id}.9999999999.x"})))
    assert forged == {"flow_version": 1}

    _events, asked = run(actions.AskBudget(), tracker_from("ask_budget", flow_version=f"draft:{draft_id}"))
    assert texts_of(asked) == ["What could you invest per year?"]
    events, messages = run(
        actions.ActionSubmitQualification(), tracker_from("submit_hot_lead", flow_version=f"draft:{draft_id}")
    )
    assert texts_of(messages)[0] == "¡Gracias, Ana! Por lo que me cuentas, Nubilo encaja muy bien con Acme S.L."
    assert say("utter_save_failed") not in texts_of(messages)
    assert lead_store.get_by_email("ana@acme.es") is None  # a preview writes no lead


def test_the_browser_locale_places_the_seasons_of_a_timing_answer():
    """ "Antes del verano" said in September is 3 months away in Buenos Aires, 9 in Madrid; a
    locale that is not one (sent by anyone) is the north."""
    from leadqual import timeutil
    from leadqual.understanding.reading import Message

    with timeutil.frozen(datetime(2026, 9, 10, 10, 0, tzinfo=timezone.utc)):
        months = {}
        for locale in ("es-AR", "es-ES", "<script>", None):
            tracker = greet_tracker({"locale": locale} if locale else None, requested_slot="timing")
            reading = actions.read_for("timing", Message("antes del verano"), tracker)
            months[locale] = reading.value["months"]
    assert months == {"es-AR": 3, "es-ES": 9, "<script>": 9, None: 9}


# -- what visitors met in a real browser (issue 21) ----------------------------------------


def live_chats_of(store: LeadStore, conversation_id: str) -> list:
    from leadqual.db.tables import LiveChat

    with store.sessions() as session:
        return [
            (chat.status, chat.lead_id) for chat in session.query(LiveChat).filter_by(conversation_id=conversation_id)
        ]


def test_a_first_request_for_a_person_reaches_the_console_before_any_detail(lead_store):
    tracker = replying("form_need_free_text", "quiero hablar con una persona", "request_human")
    tracker.slots.update({slot: None for slot in QUESTION_SLOTS}, contact_known=None)
    events, messages = run(actions.ActionRequestPerson(), tracker)
    assert texts_of(messages) == [say("utter_handoff_contact")]
    assert slot_events(events)["person_requested"] is True
    # Waiting in /live already, with no lead yet: an SDR sees it even if no email ever comes.
    assert live_chats_of(lead_store, tracker.sender_id) == [("requested", None)]


def test_after_the_details_a_visitor_who_asked_for_a_person_hears_who_will_talk_to_them(lead_store):
    tracker = tracker_from("submit_student", person_requested=True)
    events, messages = run(actions.ActionSubmitQualification(), tracker)
    # An English visitor, on a Monday at 10:00 in Madrid: the SDR is online and is alerted.
    assert texts_of(messages) == [
        "I'm letting Lucía Fernández know right now; they'll write to you here in a few minutes."
    ]  # not "I've noted everything for when the time is right", nor the marketing-email question
    assert slot_events(events)["person_requested"] is False
    lead = lead_store.get_by_email("tom@uni.edu")
    assert live_chats_of(lead_store, tracker.sender_id) == [("requested", lead["id"])]


def test_not_now_to_talking_now_gives_the_booking_link_and_the_sla(lead_store):
    events, _ = run(actions.ActionSubmitQualification(), tracker_from("submit_hot_lead"))
    assert slot_events(events)["talk_now_offered"] is True
    tracker = replying("submit_hot_lead", "Ahora no, gracias", "stop", talk_now_offered=True)
    events, messages = run(actions.ActionDecline(), tracker)
    (reply,) = texts_of(messages)
    assert "Lucía Fernández" in reply and "https://cal.nubilo.es/lucia-fernandez" in reply and "24 horas" in reply
    assert slot_events(events)["talk_now_offered"] is False


@pytest.mark.parametrize(("intent", "response"), [("stop", "utter_goodbye"), ("deny", "utter_thanks")])
def test_any_other_no_outside_the_questions_is_a_goodbye_or_a_thanks(lead_store, intent, response):
    _events, messages = run(actions.ActionDecline(), replying("submit_hot_lead", "no", intent))
    assert texts_of(messages) == [say(response)]


def test_a_first_answer_said_like_a_correction_is_an_answer_not_a_change(lead_store):
    tracker = replying("form_need_free_text", "perdona, mejor en dos meses", "correct", timing=None)
    events, messages = run(actions.ActionApplyCorrection(), tracker)
    assert messages == []  # no "Hecho, he cambiado el plazo"
    assert slot_events(events)["timing"]["months"] == 2


def test_a_buying_message_after_the_result_asks_and_thanks_nothing_again(lead_store):
    first, _ = run(actions.ActionSubmitQualification(), tracker_from("submit_hot_lead"))
    again = tracker_from("submit_hot_lead", qualification=slot_events(first)["qualification"])
    _events, messages = run(actions.ActionSubmitQualification(), again)
    said = texts_of(messages)
    assert not any(text.startswith("¡Gracias") for text in said)
    assert "https://cal.nubilo.es/lucia-fernandez" in said[0]  # the next steps, again
