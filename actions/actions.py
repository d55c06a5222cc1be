"""Rasa custom actions: thin adapters from Rasa trackers to the leadqual package."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, EventType, FollowupAction, Restarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from leadqual import timeutil
from leadqual.config.marketing import BANT_SLOTS, EXTRA_SLOTS, QUESTION_SLOTS, QualificationConfig
from leadqual.conversation import analytics, questions, turns
from leadqual.conversation.flows import Flow, FlowStore, check_preview_token
from leadqual.conversation.texts import Texts
from leadqual.delivery import routing
from leadqual.leads.spool import SaveSpool
from leadqual.leads.store import LeadStore, valid_anonymous_id
from leadqual.leads.takeover import LiveChats, TakeoverError
from leadqual.leads.transcripts import lines_from_events, replies_of
from leadqual.scoring import extras
from leadqual.understanding import knowledge
from leadqual.understanding.calendar_terms import hemisphere_of_locale
from leadqual.understanding.company_size import stated_company_size
from leadqual.understanding.corrections import read_correction
from leadqual.understanding.language import DEFAULT, choose_language, normalize_code
from leadqual.understanding.reading import (
    Message,
    Reading,
    interruptions_on,
    may_interrupt,
    read_answer,
    read_other_answers,
    skip_unanswered_bant,
)

logger = logging.getLogger(__name__)

_store: LeadStore | None = None
_flows: FlowStore | None = None
_spool: SaveSpool | None = None
# Actions run in worker threads (actions/server.py): the first calls must not build two stores.
_singletons = threading.RLock()


def spool() -> SaveSpool:
    global _spool
    with _singletons:
        if _spool is None:
            _spool = SaveSpool()
        return _spool


def base_store() -> LeadStore:
    global _store
    with _singletons:
        if _store is None:
            store = LeadStore()
            store.create_schema()
            _store = store
        return _store


def flows() -> FlowStore:
    global _flows
    with _singletons:
        if _flows is None:
            _flows = FlowStore(base_store().engine)
        return _flows


def flow_of(tracker: Tracker) -> Flow:
    """The flow version the conversation started with (slot flow_version), else the newest;
    the newest one read if the database is down."""
    try:
        return flows().resolve(tracker.get_slot("flow_version"))
    except SQLAlchemyError:
        logger.exception("reading flow version %s failed", tracker.get_slot("flow_version"))
        return flows().current()


def current_store() -> LeadStore:
    """The lead store scoring with the newest flow (events, spooled saves)."""
    return base_store().with_config(flows().current().config)


def store(tracker: Tracker) -> LeadStore:
    """The lead store scoring with the conversation's flow version."""
    return base_store().with_config(flow_of(tracker).config)


def previewing(tracker: Tracker) -> bool:
    """A console preview of a draft flow: it writes no lead, no request and no statistics."""
    return flow_of(tracker).draft_id is not None


def note(tracker: Tracker, question: str | None, kind: str) -> None:
    """Per-question analytics (leadqual/conversation/analytics.py): asked, answered, re-asked..."""
    if question and not previewing(tracker):
        version = tracker.get_slot("flow_version") or flow_of(tracker).version
        analytics.record(base_store().engine, tracker.sender_id, version, language_of(tracker), question, kind)


def config_of(tracker: Tracker) -> QualificationConfig:
    return flow_of(tracker).config


def texts(tracker: Tracker) -> Texts:
    return flow_of(tracker).texts


def clock() -> datetime:
    """Now, in UTC: routing and next steps depend on business hours (tests replace it)."""
    return timeutil.now()


def language_of(tracker: Tracker) -> str:
    return normalize_code(tracker.get_slot("language")) or DEFAULT


def message_of(tracker: Tracker) -> Message:
    latest = tracker.latest_message or {}
    intent = latest.get("intent") or {}
    option = next((e.get("value") for e in latest.get("entities") or [] if e.get("entity") == "option"), None)
    return Message(
        text=latest.get("text") or "",
        intent=intent.get("name"),
        confidence=float(intent.get("confidence") or 0.0),
        option=option,
    )


def is_new_user_turn(tracker: Tracker) -> bool:
    """True when the form runs right after the visitor's message (not after a rule's reply).

    Rasa hands the validation action a tracker that ends with the form's own action event,
    so `latest_action_name` is always the form; look at what happened since the message.
    """
    skipped_own_event = False
    for event in reversed(list(tracker.events)):
        kind = event.get("event")
        if kind == "user":
            return True
        if kind in ("slot", "user_featurization", "active_loop"):
            continue
        if kind == "action" and not skipped_own_event and event.get("name") == "qualification_form":
            skipped_own_event = True
            continue
        if kind in ("action", "bot", "action_execution_rejected"):
            return False
    return False


def visitor_of(tracker: Tracker) -> str | None:
    """The website's anonymous visitor id for this conversation (validated), if any."""
    return tracker.get_slot("visitor_id") or visitor_in_metadata(tracker)


def visitor_in_metadata(tracker: Tracker) -> str | None:
    metadata = (tracker.latest_message or {}).get("metadata") or {}
    if not isinstance(metadata, dict):
        return None
    return valid_anonymous_id(metadata.get("anonymous_id") or metadata.get("anonymousId"))


def hemisphere_of(tracker: Tracker) -> str:
    """Where the visitor's seasons fall ("antes del verano" in Buenos Aires is December), from
    the browser locale the widget sends with each message (validated; the north without one)."""
    metadata = (tracker.latest_message or {}).get("metadata") or {}
    return hemisphere_of_locale(metadata.get("locale") if isinstance(metadata, dict) else None)


def answers_of(tracker: Tracker) -> dict[str, Any]:
    """The answers by slot: the seven questions and the extra questions' slots in use."""
    used = EXTRA_SLOTS[: len(config_of(tracker).extra_questions)]
    return {slot: tracker.get_slot(slot) for slot in (*QUESTION_SLOTS, *used)}


def lead_answers(tracker: Tracker, answers: dict[str, Any]) -> dict[str, Any]:
    """Answers as the lead keeps them: an extra question's slot becomes "extra:<id>"."""
    config = config_of(tracker)
    converted = {}
    for slot, value in answers.items():
        extra = config.extra_for_slot(slot)
        if extra is not None:
            converted[extras.key(extra)] = value
        elif slot not in EXTRA_SLOTS:
            converted[slot] = value
    return converted


def read_for(slot: str, message: Message, tracker: Tracker) -> Reading:
    """The visitor's message read as the answer to `slot` (one of the seven or an extra)."""
    extra = config_of(tracker).extra_for_slot(slot)
    if extra is not None:
        return extras.read_extra(extra, message, language_of(tracker))
    return read_answer(
        slot,
        message,
        config_of(tracker),
        language_of(tracker),
        clock().date(),
        can_correct=anything_answered(tracker),
        kb=flow_of(tracker).knowledge,
        hemisphere=hemisphere_of(tracker),
    )


def anything_answered(tracker: Tracker) -> bool:
    """Whether there is an answer a "correction" could correct."""
    return any(value is not None for value in answers_of(tracker).values())


# Each action call runs in a worker thread of its own (actions/server.py), so what one call
# remembers while validating its slots is kept per thread, never on the shared action object.
_per_call = threading.local()


def _memo(name: str, key: tuple, compute: Callable[[], Any]) -> Any:
    remembered = getattr(_per_call, name, None)
    if remembered is None or remembered[0] != key:
        remembered = (key, compute())
        setattr(_per_call, name, remembered)
    return remembered[1]


def spent_on(tracker: Tracker, slot: str) -> int:
    """The visitor's turns on this question that gave no answer: failed answers and interruptions."""
    return (tracker.get_slot("failures") or {}).get(slot, 0) + interruptions_on(tracker.events, slot)


def save_answers(
    dispatcher: CollectingDispatcher, tracker: Tracker, answers: dict
) -> tuple[dict | None, list[EventType]]:
    """Write the conversation's answers; on a database error tell the visitor and retry later."""
    if previewing(tracker):
        return None, []
    answers = lead_answers(tracker, answers)
    transcript = lines_from_events(tracker.events)
    # Nobody is asked the company's size; what the visitor said of it goes to the lead's profile.
    typed = [line["text"] for line in transcript if line["sender"] == "visitor" and not line["data"]]
    size = stated_company_size(typed, language_of(tracker))
    if size is not None:
        answers["company_size"] = size
    try:
        lead = store(tracker).save_conversation(
            tracker.sender_id,
            answers,
            language_of(tracker),
            visitor_of(tracker),
            now=clock(),
            transcript=transcript,
        )
    except SQLAlchemyError:
        logger.exception("saving lead for conversation %s failed; will retry", tracker.sender_id)
        # On disk too, so the background retry writes it even if the visitor never comes back.
        spool().add(tracker.sender_id, answers, language_of(tracker), visitor_of(tracker))
        if not tracker.get_slot("lead_save_pending"):
            dispatcher.utter_message(**texts(tracker).response("utter_save_failed", language_of(tracker)))
        return None, [SlotSet("lead_save_pending", True)]
    if erased(lead):
        return lead, start_over(dispatcher, tracker)
    if tracker.get_slot("lead_save_pending"):
        spool().discard(tracker.sender_id)
    return lead, ([SlotSet("lead_save_pending", False)] if tracker.get_slot("lead_save_pending") else [])


def keep_replies(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    """Store the transcript with the replies this action sends: the last turn of a conversation
    would otherwise never reach it (Rasa adds them to the tracker after the action returns)."""
    if previewing(tracker):
        return
    lines = lines_from_events(tracker.events)
    # After every line so far: the replies are sent after them, whatever the clock says.
    after = max([clock(), *(line["at"] + timedelta(microseconds=1) for line in lines)])
    try:
        store(tracker).save_transcript(
            tracker.sender_id, lines, language_of(tracker), replies=replies_of(dispatcher.messages, after)
        )
    except SQLAlchemyError:  # the next copy of the tracker brings them
        logger.exception("storing the transcript of %s failed", tracker.sender_id)


# -- after an erasure (GDPR): the person's conversations start over, empty ------------------


def erased(lead: dict | None) -> bool:
    """The store refused the save (LeadStore.save_conversation): this conversation's person was erased."""
    return isinstance(lead, dict) and lead.get("erased") is True


def start_over(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
    spool().discard(tracker.sender_id)
    dispatcher.utter_message(**texts(tracker).response("utter_greet", language_of(tracker)))
    # Restarted empties slots, form and history; requested_slot/ActiveLoop None stop the form reviving itself.
    return [Restarted(), SlotSet("requested_slot", None), ActiveLoop(None), FollowupAction("action_listen")]


def held_after_erasure(tracker: Tracker) -> bool:
    """Rasa still holds lines of this conversation from before its person was erased."""
    if previewing(tracker):
        return False
    slot = tracker.get_slot("email")
    email = slot.get("address") if isinstance(slot, dict) else None
    try:
        moments = [base_store().is_erased(tracker.sender_id), base_store().is_erased(email=email) if email else None]
    except SQLAlchemyError:
        logger.exception("checking erasure of %s failed", tracker.sender_id)
        return False
    erased_at = max((m for m in moments if m is not None), default=None)
    return erased_at is not None and any(line["at"] <= erased_at for line in lines_from_events(tracker.events))


def forget_slots(tracker: Tracker) -> list[EventType]:
    keep = ("language", "flow_version")
    return [SlotSet(name, None) for name, value in tracker.slots.items() if name not in keep and value is not None]


def language_events(tracker: Tracker) -> list[EventType]:
    """`language` on every message: page metadata first, then detection."""
    latest = tracker.latest_message or {}
    metadata = latest.get("metadata") or {}
    text = latest.get("text") or ""
    current = tracker.get_slot("language")
    lang = choose_language(
        metadata.get("lang") if isinstance(metadata, dict) else None,
        "" if text.startswith("/") else text,
        current,
    )
    return [] if lang == current else [SlotSet("language", lang)]


def visitor_events(tracker: Tracker) -> list[EventType]:
    """`visitor_id` from the message metadata ("anonymous_id"); the first valid one wins, so a
    later message cannot switch the conversation to another visitor's history."""
    if tracker.get_slot("visitor_id"):
        return []
    visitor = visitor_in_metadata(tracker)
    return [SlotSet("visitor_id", visitor)] if visitor else []


def flow_events(tracker: Tracker) -> list[EventType]:
    """`flow_version`: the newest published flow at the conversation's first message (or a signed
    console preview's draft); the conversation then keeps it to the end, whatever marketing
    publishes meanwhile."""
    if tracker.get_slot("flow_version") is not None:
        return []
    metadata = (tracker.latest_message or {}).get("metadata") or {}
    draft_id = check_preview_token(metadata.get("flow_preview")) if isinstance(metadata, dict) else None
    if draft_id is not None:
        return [SlotSet("flow_version", f"draft:{draft_id}")]
    return [SlotSet("flow_version", flows().current().version)]


def retried_save_events(tracker: Tracker, language: str) -> list[EventType]:
    """Retries a lead write that failed on an earlier turn (outside the form, which saves anyway)."""
    if not tracker.get_slot("lead_save_pending") or tracker.active_loop_name == "qualification_form":
        return []
    try:
        store(tracker).save_conversation(tracker.sender_id, answers_of(tracker), language, visitor_of(tracker))
    except SQLAlchemyError:
        logger.exception("retrying lead save for %s failed", tracker.sender_id)
        return []
    spool().discard(tracker.sender_id)
    return [SlotSet("lead_save_pending", False)]


class ActionReadMessage(Action):
    """Runs once per visitor message, before anything else (the custom slot mapping of `language`,
    `visitor_id`, `flow_version` and `lead_save_pending`): one call to the action server instead
    of four, each of which would send the whole tracker."""

    def name(self) -> str:
        return "action_read_message"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        events = language_events(tracker)
        language = events[0]["value"] if events else language_of(tracker)
        if held_after_erasure(tracker):
            # The person was erased: nothing of what Rasa still holds is read back to them, and
            # Rasa's copy is reset as soon as this turn ends (leadqual/leads/privacy.py).
            from leadqual.leads import privacy

            threading.Thread(target=privacy.retry_rasa_resets, args=(base_store(),), daemon=True).start()
            return [*forget_slots(tracker), *events, *visitor_events(tracker), *flow_events(tracker)]
        return events + visitor_events(tracker) + flow_events(tracker) + retried_save_events(tracker, language)


def visitor_context(tracker: Tracker) -> dict:
    """What the store knows about this browser; nothing if the database is down."""
    try:
        return store(tracker).visitor_context(visitor_of(tracker))
    except SQLAlchemyError:
        logger.exception("reading visitor %s failed", visitor_of(tracker))
        return {"known": False, "name": None, "answers": {}, "behaviour": 0, "engaged": False, "returning": False}


class ActionGreet(Action):
    """Greets: by name when the browser belongs to a known lead, and offers a salesperson to a
    visitor whose behaviour score says they are engaged."""

    def name(self) -> str:
        return "action_greet"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        lang = language_of(tracker)
        context = visitor_context(tracker)
        if context["returning"] and (context["known"] or context["engaged"]):
            dispatcher.utter_message(**texts(tracker).response("utter_greet_returning", lang, name=context["name"]))
        else:
            dispatcher.utter_message(**texts(tracker).response("utter_greet", lang))
        if context["engaged"]:
            dispatcher.utter_message(**texts(tracker).offer_sales(lang))
        return []


class ValidateQualificationForm(FormValidationAction):
    """Reads each answer, re-asks at most `max_reasks` times, and saves after every turn."""

    def name(self) -> str:
        return "validate_qualification_form"

    async def required_slots(self, domain_slots, dispatcher, tracker, domain) -> list[str]:
        return questions.ordered_questions(config_of(tracker), lead_answers(tracker, answers_of(tracker)))

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        before = answers_of(tracker)
        activating = tracker.get_slot("requested_slot") is None
        events = await super().run(dispatcher, tracker, domain)
        if tracker.get_slot("continue_asked") and is_new_user_turn(tracker) and message_of(tracker).intent != "deny":
            # The visitor went on another way ("No" is left to its rule: setting a slot here would
            # keep the form from handing the turn over).
            if not any(e.get("event") == "slot" and e.get("name") == "continue_asked" for e in events):
                events.append(SlotSet("continue_asked", None))
        after = dict(before)
        after.update({e["name"]: e["value"] for e in events if e.get("event") == "slot" and e["name"] in after})
        qualified = tracker.get_slot("qualification") is not None
        known = self._known_answers(tracker) if activating and visitor_of(tracker) and not qualified else {}
        if any(after.get(slot) is not None and after.get(slot) == value for slot, value in known.items()):
            dispatcher.utter_message(**texts(tracker).response("utter_known_answers", language_of(tracker)))
        if after != before:
            lead, save_events = save_answers(dispatcher, tracker, after)
            if erased(lead):
                return save_events
            events.extend(save_events)
        return events

    # -- extraction: a candidate per question, parsed in validate_<slot> ------------------

    def _extract(self, slot: str, tracker: Tracker) -> dict[str, Any]:
        requested = tracker.get_slot("requested_slot")
        message = message_of(tracker)
        if requested is None:  # activation: the message that started the form
            if message.intent == "request_human" and slot in BANT_SLOTS and tracker.get_slot(slot) is None:
                return {slot: {"candidate": "human"}}
        elif not is_new_user_turn(tracker):
            return {}  # back from an interruption: the message was already handled
        elif slot == requested:
            if tracker.get_slot("continue_asked") and message.confidence >= 0.5:
                if message.intent == "affirm":
                    return {slot: {"candidate": "resume"}}  # "¿Seguimos?" "Sí": the question again
                if message.intent == "deny":
                    return {}  # "No": the rule for it stops the questions, keeping the answers
            reading = read_for(slot, message, tracker)
            # Extracting nothing for the requested slot makes the form reject the turn, so
            # the rules for "why?", "stop" and chit-chat answer it instead, up to the cap.
            if reading.kind == "interrupt" and may_interrupt(
                message.intent, spent_on(tracker, slot), config_of(tracker).max_reasks
            ):
                return {}
            return {slot: {"candidate": "requested"}}
        if tracker.get_slot(slot) is None and slot in self._other_answers(tracker, requested):
            return {slot: {"candidate": "other"}}
        if requested is None and tracker.get_slot(slot) is None:
            known = self._known_answers(tracker).get(slot)
            if known is not None:
                return {slot: known}  # the visitor told us before: not asked again
        return {}

    def _known_answers(self, tracker: Tracker) -> dict[str, dict]:
        """Answers the visitor's lead already holds (another conversation, same browser)."""
        key = (tracker.sender_id, len(tracker.events), visitor_of(tracker))
        return _memo("known", key, lambda: visitor_context(tracker)["answers"] if visitor_of(tracker) else {})

    def _other_answers(self, tracker: Tracker, requested: str | None) -> dict[str, dict]:
        """Answers to the other questions in this message, parsed once per message (not per slot)."""
        message = message_of(tracker)
        key = (tracker.sender_id, message.text, requested, language_of(tracker), hemisphere_of(tracker))

        def parse() -> dict[str, dict]:
            return read_other_answers(
                message,
                {},
                requested,
                config_of(tracker),
                language_of(tracker),
                clock().date(),
                can_correct=anything_answered(tracker),
                hemisphere=hemisphere_of(tracker),
            )

        return _memo("others", key, parse)

    def _validate(self, slot: str, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker) -> dict[str, Any]:
        if not (isinstance(value, dict) and "candidate" in value):
            return {slot: value}  # already a validated value
        lang = language_of(tracker)
        message = message_of(tracker)
        config = config_of(tracker)
        kind = value["candidate"]
        if kind == "resume":
            return {slot: None, "continue_asked": None}
        if kind == "human":
            return skip_unanswered_bant(answers_of(tracker) | {slot: None})
        if kind == "other":
            other = self._other_answers(tracker, tracker.get_slot("requested_slot")).get(slot)
            if other is not None:
                note(tracker, slot, "answered")
            return {slot: other}
        reading = read_for(slot, message, tracker)
        step = turns.read_requested(
            slot,
            reading,
            intent=message.intent,
            text=message.text,
            pending=tracker.get_slot("pending_confirmation") or {},
            failures=dict(tracker.get_slot("failures") or {}),
            interruptions=interruptions_on(tracker.events, slot),
            answers=answers_of(tracker),
            price_dependent=slot == "budget" and knowledge.is_price_dependent(message.text, lang),
            config=config,
        )
        if step.person_request:
            record_person_request(tracker)
        if step.price_band:
            dispatcher.utter_message(text=knowledge.price_band(lang, kb=flow_of(tracker).knowledge))
        if step.answer_question and answer_question(dispatcher, tracker, message.text, lang):
            dispatcher.utter_message(**continue_prompt(lang, flow_of(tracker).knowledge))
            step.slots["continue_asked"] = True
        if step.note:
            note(tracker, slot, step.note)
        for response in step.say:
            reply = texts(tracker).reask(slot, lang) if response == "reask" else texts(tracker).response(response, lang)
            dispatcher.utter_message(**reply)
        return step.slots


def _per_question(slot: str):
    """rasa-sdk finds `extract_<slot>` and `validate_<slot>` by name: one pair per question."""

    def extract(self, dispatcher, tracker, domain):
        return self._extract(slot, tracker)

    def validate(self, value, dispatcher, tracker, domain):
        return self._validate(slot, value, dispatcher, tracker)

    return extract, validate


# The configured questions and marketing's extra questions (the spare slots extra_1..extra_3).
for _slot in QUESTION_SLOTS + EXTRA_SLOTS:
    _extract_slot, _validate_slot = _per_question(_slot)
    setattr(ValidateQualificationForm, f"extract_{_slot}", _extract_slot)
    setattr(ValidateQualificationForm, f"validate_{_slot}", _validate_slot)


class ActionSubmitQualification(Action):
    """After the last question: save, score, and tell the visitor what happens next."""

    def name(self) -> str:
        return "action_submit_qualification"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        config = config_of(tracker)
        answers = answers_of(tracker)
        told_before = tracker.get_slot("qualification") is not None
        lead, events = save_answers(dispatcher, tracker, answers)
        if erased(lead):
            return events
        result = turns.outcome(lead, lead_answers(tracker, answers), config)
        lang = language_of(tracker)
        if told_before:
            # A buying message after the result (the NLG said "Ya tengo todo lo que necesito"):
            # nothing is asked or thanked again; a sales-ready lead hears its next steps again.
            events.append(SlotSet("qualification", result))
            if result["sales_ready"]:
                events += self.next_steps(dispatcher, tracker, lead, lang)
            keep_replies(dispatcher, tracker)
            return events
        events += [SlotSet("qualification", result), SlotSet("failures", None)]
        has_email = bool((answers.get("email") or {}).get("address"))
        if has_email:
            events.append(SlotSet("contact_known", True))
        follow = turns.after_result(
            result,
            lead,
            has_email=has_email,
            previewing=previewing(tracker),
            config=config,
            person_requested=bool(tracker.get_slot("person_requested")),
        )
        if follow != "person":  # who asked for a person hears who will talk to them, not a result
            name = (answers.get("name") or {}).get("value")
            company = (answers.get("company") or {}).get("value") or texts(tracker).response("your_company", lang)[
                "text"
            ]
            response = turns.result_response(result)
            dispatcher.utter_message(**texts(tracker).response(response, lang, name=name, company=company))
        if follow == "person":  # asked for a person before their details: now with the lead attached
            dispatcher.utter_message(**person_message(tracker, record_person_request(tracker)))
            events.append(SlotSet("person_requested", False))
        elif follow == "next_steps":
            events += self.next_steps(dispatcher, tracker, lead, lang)
        elif follow == "consent":
            dispatcher.utter_message(**texts(tracker).consent_question(lang))
            events.append(SlotSet("consent_asked", True))
        elif follow == "nurture" and lead is not None:
            nurture_again(tracker, lead["id"])
        keep_replies(dispatcher, tracker)
        return events

    @staticmethod
    def next_steps(dispatcher: CollectingDispatcher, tracker: Tracker, lead: dict | None, lang: str) -> list:
        """Booking link, talk now, SLA; remembers that "talk now?" was asked (action_decline)."""
        steps = next_steps_of(tracker, lead, lang)
        for message in texts(tracker).next_steps(steps, lang):
            dispatcher.utter_message(**message)
        return [SlotSet("talk_now_offered", any(step["kind"] == "talk_now" for step in steps))]


def next_steps_of(tracker: Tracker, lead: dict | None, lang: str) -> list[dict]:
    """The assigned SDR's booking link / talk now / SLA; the SLA alone if the lead is unsaved."""
    owner = (lead or {}).get("owner") or {}
    assignment = routing.Assignment(owner.get("sdr"), owner.get("queue"), owner.get("rule") or "", "")
    return routing.next_steps(assignment, config_of(tracker), clock(), lang)


def nurture_again(tracker: Tracker, lead_id: str) -> None:
    try:
        store(tracker).nurture(lead_id)
    except SQLAlchemyError:  # the next conversation or rescore will bring them back
        logger.exception("queueing lead %s for nurturing failed", lead_id)


class ActionRecordConsent(Action):
    """The visitor's yes or no to marketing email: recorded with the question they saw (proof of
    consent); yes sends a lead that is not for sales to nurturing."""

    def name(self) -> str:
        return "action_record_consent"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        lang = language_of(tracker)
        granted = (tracker.latest_message.get("intent") or {}).get("name") == "affirm"
        question = texts(tracker).consent_question(lang)
        answer = message_of(tracker).text
        clicked = next((b["title"] for b in question["buttons"] if b["payload"] == answer.strip()), None)
        try:
            lead = store(tracker).record_consent(
                tracker.sender_id,
                granted,
                question["text"],
                f"[{clicked}]" if clicked else answer,
                flow_version=None if previewing(tracker) else flow_of(tracker).version,
                language=lang,
            )
        except SQLAlchemyError:
            logger.exception("recording consent for %s failed", tracker.sender_id)
            dispatcher.utter_message(**texts(tracker).response("utter_save_failed", lang))
            return []  # still asked: the visitor can answer again
        email = (lead or {}).get("email") or (tracker.get_slot("email") or {}).get("address")
        if granted and email:
            dispatcher.utter_message(**texts(tracker).response("utter_consent_given", lang, email=email))
        else:
            dispatcher.utter_message(**texts(tracker).response("utter_consent_declined", lang))
        keep_replies(dispatcher, tracker)
        return [SlotSet("consent_asked", False)]


def record_person_request(tracker: Tracker):
    """The visitor asked for a person: the request waits in the console (/live) and, when their
    SDR (or anyone) is available now, they are alerted. The Request, or None if it was not
    recorded (a preview, or the database is down: the visitor still hears the SLA)."""
    if previewing(tracker):
        return None
    try:
        return LiveChats(store(tracker)).request(tracker.sender_id, now=clock())
    except (SQLAlchemyError, TakeoverError):
        logger.exception("recording the request for a person in %s failed", tracker.sender_id)
        return None


def person_message(tracker: Tracker, request) -> dict:
    """Who will talk to the visitor: their SDR here in a few minutes, or the SLA promise."""
    lang = language_of(tracker)
    if request is None:
        return texts(tracker).person_request("later", None, config_of(tracker).handoff.sla_hours, lang)
    return texts(tracker).person_request(request.kind, request.sdr_name, request.hours, lang)


class ActionRequestPerson(Action):
    """ "I want to talk to a person": the request reaches the console at once. Once we know how
    to reach the visitor they hear who will talk to them; before that, the questions collect
    their details first (person_requested: the last answer is followed by who will contact them)."""

    def name(self) -> str:
        return "action_request_person"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        request = record_person_request(tracker)
        email = tracker.get_slot("email")
        if not (tracker.get_slot("contact_known") or (isinstance(email, dict) and email.get("address"))):
            dispatcher.utter_message(**texts(tracker).response("utter_handoff_contact", language_of(tracker)))
            return [SlotSet("person_requested", True)]
        dispatcher.utter_message(**person_message(tracker, request))
        keep_replies(dispatcher, tracker)
        return []


class ActionDecline(Action):
    """A no outside the questions. After "talk now?" it is "not now": when sales will write and
    the booking link; otherwise a goodbye (stop, bye) or a thanks (no)."""

    def name(self) -> str:
        return "action_decline"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        lang = language_of(tracker)
        if not tracker.get_slot("talk_now_offered"):
            response = "utter_thanks" if message_of(tracker).intent == "deny" else "utter_goodbye"
            dispatcher.utter_message(**texts(tracker).response(response, lang))
            return []
        try:
            lead = None if previewing(tracker) else store(tracker).get_by_conversation(tracker.sender_id)
        except SQLAlchemyError:
            logger.exception("reading the lead of %s failed", tracker.sender_id)
            lead = None
        steps = next_steps_of(tracker, lead, lang)
        dispatcher.utter_message(**texts(tracker).not_now(steps, config_of(tracker).handoff.sla_hours, lang))
        keep_replies(dispatcher, tracker)
        return [SlotSet("talk_now_offered", False)]


class ActionStopQualification(Action):
    """The visitor stopped the questions: keep what they said and end the form politely."""

    def name(self) -> str:
        return "action_stop_qualification"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        answers = answers_of(tracker)
        note(tracker, tracker.get_slot("requested_slot"), "stopped")
        events: list[EventType] = []
        saved = False  # nothing told, nothing saved: "lo dejamos aquí", not "he guardado lo que me has contado"
        if any(value is not None for value in answers.values()):
            lead, events = save_answers(dispatcher, tracker, answers)
            if erased(lead):
                return events
            saved = lead is not None
        response = "utter_stopped" if saved else "utter_stopped_unsaved"
        dispatcher.utter_message(**texts(tracker).response(response, language_of(tracker)))
        if saved:
            keep_replies(dispatcher, tracker)
        # continue_asked is left as it is: the form clears it when it next runs (the rules that end
        # here must all set the same slots).
        return [*events, ActiveLoop(None), SlotSet("requested_slot", None)]


class ActionApplyCorrection(Action):
    """ "perdona, eran 20 mil": update that answer, re-score the lead and say so."""

    def name(self) -> str:
        return "action_apply_correction"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        lang = language_of(tracker)
        if not tracker.active_loop_name and not anything_answered(tracker):
            # Nothing to correct yet: an opener that already answers ("we have about $10k a year
            # for a CRM") starts the questions with what it said.
            return [FollowupAction("qualification_form")]
        found = read_correction(
            message_of(tracker).text, config_of(tracker), lang, clock().date(), hemisphere_of(tracker)
        )
        if found is None:
            dispatcher.utter_message(**texts(tracker).response("utter_correction_unclear", lang))
            return []
        slot, value = found
        previous = tracker.get_slot(slot) or {}
        if slot == "budget":  # "eran 20 mil": the amount changed, not the currency or period
            for key in ("currency", "period"):
                if value.get(key) is None and previous.get(key):
                    value[key] = previous[key]
        if previous:  # a first answer said like a correction ("perdona, mejor en dos meses") is an answer
            dispatcher.utter_message(
                **texts(tracker).response(
                    "utter_corrected",
                    lang,
                    question=texts(tracker).value(f"question_{slot}", lang),
                    value=texts(tracker).describe(slot, value, lang),
                )
            )
        else:
            note(tracker, slot, "answered")
        answers = answers_of(tracker) | {slot: value}
        lead, events = save_answers(dispatcher, tracker, answers)
        if erased(lead):
            return events
        return [SlotSet(slot, value), *events]


def answer_question(dispatcher: CollectingDispatcher, tracker: Tracker, text: str, lang: str) -> bool:
    """Answer a visitor's question from the knowledge of the conversation's flow version; below
    its threshold say so, offer a person, and keep the question for marketing. True if answered."""
    kb = flow_of(tracker).knowledge
    found = knowledge.answer(text, lang, kb=kb)
    if found.known:
        dispatcher.utter_message(text=found.text)
        if tracker.active_loop_name is None and not questions_begun(tracker):
            yes, no = ("Sí, vamos", "Ahora no") if lang != "en" else ("Yes, let's go", "Not now")
            dispatcher.utter_message(
                text=knowledge.offer_questions(lang, kb=kb),
                buttons=[{"title": yes, "payload": "/affirm"}, {"title": no, "payload": "/deny"}],
            )
        return True
    title = {"es": "Hablar con una persona", "en": "Talk to a person"}[lang if lang == "en" else "es"]
    dispatcher.utter_message(text=found.text, buttons=[{"title": title, "payload": "/request_human"}])
    if not previewing(tracker):
        version = tracker.get_slot("flow_version") or flow_of(tracker).version
        analytics.record_unanswered(base_store().engine, tracker.sender_id, version, lang, text)
    return False


def questions_begun(tracker: Tracker) -> bool:
    """Whether this conversation has started the questions (or has the visitor's email)."""
    started = any(e.get("event") == "active_loop" and e.get("name") for e in tracker.events)
    return started or tracker.get_slot("email") is not None


def continue_prompt(lang: str, kb: knowledge.KnowledgeBase | None = None) -> dict:
    yes, no = ("Sí, sigamos", "Ahora no") if lang != "en" else ("Yes, go on", "Not now")
    return {
        "text": knowledge.continue_prompt(lang, kb=kb),
        "buttons": [{"title": yes, "payload": "/affirm"}, {"title": no, "payload": "/deny"}],
    }


class ActionAnswerQuestion(Action):
    """A product question outside the questions: answered, or "I don't know" and a person offered."""

    def name(self) -> str:
        return "action_answer_question"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        answer_question(dispatcher, tracker, message_of(tracker).text, language_of(tracker))
        return []


class AskQuestion(Action):
    """Asks one question with its buttons; after `max_reasks` failures adds a way out."""

    slot = ""

    def name(self) -> str:
        return f"action_ask_{self.slot}"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        if tracker.get_slot("continue_asked"):
            return []  # "¿Seguimos con las preguntas?" was just asked: the question waits for the yes
        pending = tracker.get_slot("pending_confirmation") or {}
        if pending.get("slot") == self.slot:
            dispatcher.utter_message(**texts(tracker).confirmation(self.slot, pending["value"], language_of(tracker)))
            return []
        failures = (tracker.get_slot("failures") or {}).get(self.slot, 0)
        if not failures:
            note(tracker, self.slot, "asked")
        dispatcher.utter_message(**texts(tracker).question(self.slot, language_of(tracker), failures))
        return []


class AskNeed(AskQuestion):
    slot = "need"


class AskTiming(AskQuestion):
    slot = "timing"


class AskBudget(AskQuestion):
    slot = "budget"


class AskAuthority(AskQuestion):
    slot = "authority"


class AskName(AskQuestion):
    slot = "name"


class AskCompany(AskQuestion):
    slot = "company"


class AskEmail(AskQuestion):
    slot = "email"


class AskExtra1(AskQuestion):
    slot = "extra_1"


class AskExtra2(AskQuestion):
    slot = "extra_2"


class AskExtra3(AskQuestion):
    slot = "extra_3"
