"""What the bot does with the visitor's turn on a question, and what it says after the last one.

The dialogue policy, kept apart from Rasa (actions/actions.py only reads the tracker into these
arguments and carries out the result): accept an answer, read a doubtful one back, re-ask at
most `max_reasks` times counting interruptions, then give up with a way out; answer a product
question and offer to continue; hand the unanswered questions to a person.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from leadqual.config.marketing import QualificationConfig
from leadqual.scoring import stages
from leadqual.scoring.fit import fit_score
from leadqual.understanding.answers import skipped
from leadqual.understanding.reading import Reading, skip_unanswered_bant


@dataclass
class Step:
    """The slots to set and what to say, in order, for one turn on a question."""

    slots: dict
    # messages.yml responses to say, in order; "reask" is the question's own re-ask.
    say: list[str] = field(default_factory=list)
    # The question's analytics event (answered, skipped, reasked, gave_up), if any.
    note: str | None = None
    # Say the configured price band first ("depende del precio").
    price_band: bool = False
    # Answer the visitor's question from the knowledge file; when answered, ask whether to
    # continue (slot continue_asked).
    answer_question: bool = False

    @property
    def person_request(self) -> bool:
        """The visitor asked for a person: the request goes to the console now (/live), and after
        their details they hear who will contact them (slot person_requested)."""
        return self.slots.get("person_requested") is True


def read_requested(
    slot: str,
    reading: Reading,
    *,
    intent: str | None,
    text: str,
    pending: dict,
    failures: dict,
    interruptions: int,
    answers: dict,
    price_dependent: bool,
    config: QualificationConfig,
) -> Step:
    """The visitor's turn on the question asked (`slot`), read as `reading`. `pending` is a
    read-back waiting for yes or no, `failures` the failed answers per question so far,
    `interruptions` the interruptions on this question, `answers` the conversation's answers,
    `price_dependent` whether the text makes the budget depend on the price."""
    # Whatever happens now settles a pending read-back of this question.
    settled = {"pending_confirmation": None} if pending else {}

    def one_more_failure() -> dict:
        return {**failures, slot: failures.get(slot, 0) + 1}

    if reading.kind == "question":
        # Answered from marketing's knowledge, then "¿Seguimos con las preguntas?" (Sí / No).
        # It counts toward the question's cap like any interruption, so it cannot loop.
        return Step({slot: None, "failures": one_more_failure(), **settled}, answer_question=True)
    price_band = False
    value = reading.value or {}
    unsure_budget = slot == "budget" and (reading.kind != "value" or value.get("unknown"))
    if unsure_budget and price_dependent:
        # "Depende del precio": the price band, then the budget question again (capped).
        price_band = True
        counted = one_more_failure()
        if counted[slot] + interruptions <= config.max_reasks:
            return Step({slot: None, "failures": counted, **settled}, price_band=True)
    if pending.get("slot") == slot and reading.kind != "value":
        if intent == "affirm":
            return Step(
                {slot: pending["value"] | {"confirmed": True}, **settled}, note="answered", price_band=price_band
            )
        if intent == "deny":
            return Step({slot: None, **settled}, price_band=price_band)  # asked again, plainly
    if reading.kind == "value":
        if value.get("source") == "text" and value.get("confidence", 1) < config.confirm_below:
            confirm = {"slot": slot, "value": reading.value}
            return Step({slot: None, "pending_confirmation": confirm}, price_band=price_band)
        return Step({slot: reading.value, **settled}, note="answered", price_band=price_band)
    if reading.kind == "skip":
        return Step({slot: reading.value, **settled}, ["utter_skipped"], "skipped", price_band)
    if reading.kind == "human":
        unanswered = skip_unanswered_bant(answers | {slot: None})
        return Step(
            {slot: None, **unanswered, "person_requested": True}, ["utter_handoff_contact"], price_band=price_band
        )
    counted = one_more_failure()
    if counted[slot] + interruptions > config.max_reasks:
        gave_up = skipped(text, source="gave_up")
        return Step({slot: gave_up, "failures": counted, **settled}, ["utter_gave_up_question"], "gave_up", price_band)
    return Step({slot: None, "failures": counted, **settled}, ["reask"], "reasked", price_band)


def outcome(lead: dict | None, answers: dict, config: QualificationConfig) -> dict:
    """The qualification the visitor hears about: the saved lead's, or, with the database down,
    the same rules on the answers alone (no behaviour points) while the write is retried."""
    if lead is not None:
        return {"stage": lead["stage"], "sales_ready": lead["sales_ready"], "grade": lead["grade"], **lead["scores"]}
    fit = fit_score(answers, config)
    qualifies = {c.criterion: c.qualifies for c in fit.criteria}
    stage = stages.score_stage(fit.fit, qualifies, config.stages)
    ready = stages.meets(config.stages.sql, fit.fit, qualifies)
    return {"stage": stage, "sales_ready": ready, "fit": fit.fit, "behaviour": 0, "total": fit.fit}


def result_response(result: dict) -> str:
    """Sales-ready leads hear what sales will do, whether the config makes them sql or leaves
    them mql for an SDR to accept; others hear the mql or nurture result."""
    stage = "sql" if result["sales_ready"] else result["stage"]
    return {"sql": "utter_result_sql", "mql": "utter_result_mql"}.get(stage, "utter_result_nurture")


def after_result(
    result: dict,
    lead: dict | None,
    *,
    has_email: bool,
    previewing: bool,
    config: QualificationConfig,
    person_requested: bool = False,
) -> str | None:
    """What follows the result: "person" (who will contact them, the console alerted) when the
    visitor asked for a person; "next_steps" (booking, talk now, SLA) for a sales-ready lead;
    "consent" (the marketing-email question) for one with an email not asked before; "nurture"
    for one who consented earlier; None otherwise."""
    if person_requested:
        return "person"
    if result["sales_ready"]:
        return "next_steps"
    if has_email and config.privacy.ask_marketing_consent:
        if previewing or (lead is not None and lead.get("marketing_consent") is None):
            return "consent"
    if lead is not None and has_email and lead.get("marketing_consent"):
        return "nurture"
    return None
