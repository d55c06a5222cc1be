"""What an SDR decides about a lead in the console, recorded in its history and, where the config
says so (`handoff.deliver_decisions`), sent to the CRM through the outbox in the same transaction.

Stage decisions go through `LeadStore.move_stage` with the stage machine's reason codes:
accept (-> sal), qualify (-> sql), convert (sql -> opportunity), reject (-> disqualified,
with a reason code), recycle (-> lead, nurturing, with a reason code) and re-open (disqualified
-> lead). Reassigning and notes are not stage moves: they are `LeadNote` rows, shown in the same
history.

Which decisions a lead offers follows from its stage (`stage_decisions`): a decision is offered
only where the stage machine has that kind of move for a person (accepting an sql lead is never a
demotion to sal). A lead the chat already qualified (sql, placed by the score) is accepted as it
is: it stays sql, the acceptance is in its history (a `LeadNote` "accepted") and in the CRM
packet, and from then on scores no longer move it (its stage counts as a person's, as for a lead
a person qualified).

Accepting a lead, or taking over one of its live chats, makes it the SDR's when nobody owned it
(unassigned, or waiting in the fallback queue): a "claimed" note records it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadqual import settings
from leadqual.db.tables import LeadNote, new_id, utcnow
from leadqual.delivery import outbox
from leadqual.leads.store import Lead, LeadStore
from leadqual.scoring.stages import (
    BACK_REASONS,
    DISQUALIFY_REASONS,
    MACHINE,
    REASON_CODES,
    Actor,
    StageError,
    Transition,
)
from leadqual.timeutil import aware

from .auth import User

# Decision -> (target stage, reason codes a person may give; None = the move's usual reason).
STAGE_DECISIONS: dict[str, tuple[str, frozenset[str] | None]] = {
    "accepted": ("sal", None),
    "qualified": ("sql", None),
    "converted": ("opportunity", None),
    "rejected": ("disqualified", DISQUALIFY_REASONS),
    "recycled": ("lead", BACK_REASONS - {"score_dropped", "went_cold"}),
    "reopened": ("lead", None),
}
# The kind of move (stages.Move.kind) each decision is: the button is offered only where it exists.
DECISION_KINDS = {
    "accepted": "accept",
    "qualified": "qualify",
    "converted": "convert",
    "rejected": "disqualify",
    "recycled": "recycle",
    "reopened": "reopen",
}
MAX_NOTE = 4000
# The HTTP status of each refusal on the lead page (400 for the others).
ERROR_STATUS = {"forbidden": 403, "unknown_lead": 404, "illegal_move": 409, "already_accepted": 409}


class DecisionError(ValueError):
    """A refused decision; `code` names the problem (for the page's message and the API's 4xx),
    `values` what the message shows (the lead's stage, the decision, an SDR's name)."""

    def __init__(self, code: str, message: str, **values: str) -> None:
        super().__init__(message)
        self.code = code
        self.values = values


def notes_of(session: Session, lead_id: str) -> list[dict]:
    return [
        {"id": n.id, "kind": n.kind, "author": n.author, "text": n.text, "data": n.data or {}, "at": n.at}
        for n in session.scalars(select(LeadNote).where(LeadNote.lead_id == lead_id).order_by(LeadNote.id))
    ]


def allowed(user: User, lead: dict | Lead) -> bool:
    """Admins decide on any lead; an SDR on their own leads and on leads nobody owns yet."""
    if not user.can("decide"):
        return False
    if user.role == "admin":
        return True
    owner = lead["owner"]["sdr"] if isinstance(lead, dict) else lead.owner
    return owner is None or owner == user.sdr_id


def is_accepted(stage: str, stage_actor: str | None) -> bool:
    """Whether sales has taken the lead on: sal and opportunity are people's stages; an sql lead
    counts once a person put it there or accepted it (the chat's own sql does not)."""
    return stage in ("sal", "opportunity") or (stage == "sql" and stage_actor == "person")


def stage_decisions(stage: str, accepted: bool = False) -> list[str]:
    """The stage decisions a person can make on a lead at `stage`, in STAGE_DECISIONS order:
    each only where the stage machine has its kind of move (a person's), so no button leads to
    a refusal. An sql lead not yet accepted offers "accepted" (taken on as it is, see `Decisions`)."""
    offered = []
    for decision, (target, reasons) in STAGE_DECISIONS.items():
        if decision == "accepted" and stage == "sql":
            if not accepted:
                offered.append(decision)
            continue
        move = MACHINE.moves.get((stage, target))
        if move is None or move.kind != DECISION_KINDS[decision] or "person" not in move.reasons:
            continue
        if reasons is not None and not reasons & move.reasons["person"]:
            continue
        offered.append(decision)
    return offered


def _usual_reason(stage: str, target: str) -> str | None:
    """The reason a person's move gets when they give none: the move's usual one if a person may
    give it, else the only one a person may give (qualifying without acceptance, re-opening)."""
    move = MACHINE.moves.get((stage, target))
    if move is None or "person" not in move.reasons:
        return None
    allowed_reasons = move.reasons["person"]
    if move.default_reason in allowed_reasons:
        return move.default_reason
    return next(iter(allowed_reasons)) if len(allowed_reasons) == 1 else None


class Decisions:
    """Apply a console user's decisions to leads in a LeadStore."""

    def __init__(self, store: LeadStore) -> None:
        self.store = store

    def _deliver(self, session: Session, lead: Lead, decision: str, user: User, details: dict, now) -> None:
        if decision not in self.store.config.handoff.deliver_decisions:
            return
        console = settings.CONSOLE_URL.get().rstrip("/")
        payload = {
            "type": "decision",
            "decision": decision,
            "lead_id": lead.id,
            "contact": {"email": lead.email, "name": lead.name, "company": lead.company},
            "stage": lead.stage,
            "owner": {"sdr": lead.owner, "queue": lead.owner_queue},
            "by": {"user": user.email, "sdr": user.sdr_id},
            "at": now.isoformat(),
            **details,
            "links": {"lead": f"{console}/leads/{lead.id}"} if console else {},
        }
        outbox.enqueue(session, "crm", payload, lead_id=lead.id, key=f"decision-{lead.id}-{decision}-{new_id()}")

    def _check(self, session: Session, user: User, lead_id: str) -> Lead:
        lead = session.get(Lead, lead_id)
        if lead is None:
            raise DecisionError("unknown_lead", f"no lead with id {lead_id!r}")
        if not allowed(user, lead):
            raise DecisionError("forbidden", "you may only decide on your own leads or unassigned ones")
        return lead

    def _claim(self, session: Session, lead: Lead, user: User, how: str, now: datetime) -> bool:
        """Make an unowned lead (unassigned or in the queue) the user's, as an SDR in handoff.sdrs;
        recorded as a "claimed" note. A lead someone owns keeps its owner."""
        if lead.owner is not None or not user.sdr_id or self.store.config.handoff.sdr(user.sdr_id) is None:
            return False
        previous = {"sdr": None, "queue": lead.owner_queue}
        lead.owner, lead.owner_queue, lead.owner_rule = user.sdr_id, None, f"console.{how}"
        lead.owner_reason = f"{how} by {user.actor_id}"
        lead.assigned_at = now
        session.add(
            LeadNote(
                lead_id=lead.id,
                kind="claimed",
                author=user.actor_id,
                text="",
                data={"from": previous, "to": user.sdr_id, "how": how},
                at=now,
            )
        )
        return True

    def move(
        self, user: User, lead_id: str, decision: str, reason: str | None = None, note: str = "", now=None
    ) -> dict:
        """accepted / qualified / converted / rejected / recycled / reopened; the lead JSON after it."""
        if decision not in STAGE_DECISIONS:
            raise DecisionError("unknown_decision", f"unknown decision {decision!r}", decision=decision)
        target, reasons = STAGE_DECISIONS[decision]
        if reasons is not None:
            if not reason:
                raise DecisionError(
                    "reason_required",
                    f"a reason code is needed: one of {', '.join(sorted(reasons))}",
                    decision=decision,
                )
            if reason not in reasons:
                raise DecisionError(
                    "unknown_reason", f"reason {reason!r} does not apply to {decision}", decision=decision
                )
        note = (note or "")[:MAX_NOTE]
        with self.store.sessions() as session:
            lead = self._check(session, user, lead_id)
            stage, accepted = lead.stage, is_accepted(lead.stage, lead.stage_actor)
        if decision == "accepted" and stage == "sql":
            return self._accept_as_is(user, lead_id, note, now)
        if decision not in stage_decisions(stage, accepted):
            raise DecisionError(
                "illegal_move", f"a lead at {stage} cannot be {decision}", stage=stage, decision=decision
            )
        if reasons is None:
            reason = _usual_reason(stage, target)

        def then(session: Session, lead: Lead, transition: Transition) -> None:
            if decision == "accepted":
                self._claim(session, lead, user, "accept", transition.at)
                session.flush()
            details = {
                "move": {
                    "from": transition.from_stage,
                    "to": transition.to_stage,
                    "reason": transition.reason,
                    "reason_text": REASON_CODES[transition.reason],
                    "note": transition.note,
                }
            }
            self._deliver(session, lead, decision, user, details, transition.at)

        try:
            return self.store.move_stage(lead_id, target, Actor.person(user.actor_id), reason, note, now=now, then=then)
        except StageError as exc:
            raise DecisionError(exc.code, str(exc), stage=stage, decision=decision) from None

    def _accept_as_is(self, user: User, lead_id: str, note: str, now: datetime | None) -> dict:
        """Sales takes on a lead the chat already qualified (sql): no stage move, a history entry,
        the CRM packet, the lead the SDR's if nobody owned it, and its stage a person's from now on."""
        now = now or utcnow()

        def work(session: Session) -> dict:
            lead = self._check(session, user, lead_id)
            if lead.stage != "sql":  # it moved meanwhile: decide again on what it is now
                raise DecisionError("illegal_move", f"the lead is at {lead.stage} now", stage=lead.stage)
            if is_accepted(lead.stage, lead.stage_actor):
                raise DecisionError("already_accepted", "the lead was already accepted", stage=lead.stage)
            lead.stage_actor = "person"  # scores no longer move it (stages.stage_from_score)
            last = aware(lead.last_activity_at)
            lead.last_activity_at = max(last, now) if last else now
            self._claim(session, lead, user, "accept", now)
            session.add(
                LeadNote(
                    lead_id=lead.id,
                    kind="accepted",
                    author=user.actor_id,
                    text=note,
                    data={"stage": lead.stage, "reason": "sales_accepted"},
                    at=now,
                )
            )
            session.flush()
            move = {
                "from": lead.stage,
                "to": lead.stage,
                "reason": "sales_accepted",
                "reason_text": REASON_CODES["sales_accepted"],
                "note": note,
            }
            self._deliver(session, lead, "accepted", user, {"move": move}, now)
            return {"id": lead.id}

        self.store.transaction(work)
        lead = self.store.get(lead_id)
        assert lead is not None
        return lead

    def reassign(self, user: User, lead_id: str, sdr_id: str, note: str = "", now: datetime | None = None) -> None:
        sdr = self.store.config.handoff.sdr(sdr_id)
        if sdr is None:
            raise DecisionError("unknown_sdr", f"no SDR {sdr_id!r} in handoff.sdrs", sdr=sdr_id)
        now = now or utcnow()

        def work(session: Session) -> None:
            lead = self._check(session, user, lead_id)
            if lead.owner == sdr_id:
                raise DecisionError("same_owner", f"the lead already belongs to {sdr.name}", name=sdr.name)
            previous = {"sdr": lead.owner, "queue": lead.owner_queue}
            lead.owner, lead.owner_queue, lead.owner_rule = sdr_id, None, "console.reassign"
            lead.owner_reason = f"reassigned by {user.actor_id}" + (f": {note}" if note else "")
            lead.assigned_at = now
            session.add(
                LeadNote(
                    lead_id=lead.id,
                    kind="reassigned",
                    author=user.actor_id,
                    text=note[:MAX_NOTE],
                    data={"from": previous, "to": sdr_id},
                    at=now,
                )
            )
            session.flush()
            self._deliver(session, lead, "reassigned", user, {"from": previous, "to": sdr_id, "note": note}, now)

        self.store.transaction(work)

    def add_note(self, user: User, lead_id: str, text: str, kind: str = "note", now: datetime | None = None) -> None:
        text = (text or "").strip()
        if not text and kind == "note":
            raise DecisionError("empty_note", "the note is empty")
        now = now or utcnow()

        def work(session: Session) -> None:
            lead = self._check(session, user, lead_id)
            session.add(LeadNote(lead_id=lead.id, kind=kind, author=user.actor_id, text=text[:MAX_NOTE], at=now))
            session.flush()
            self._deliver(session, lead, "noted" if kind == "note" else kind, user, {"note": text[:MAX_NOTE]}, now)

        self.store.transaction(work)

    def record_live(
        self, user: User, lead_id: str, kind: str, conversation_id: str, now: datetime | None = None
    ) -> None:
        """A takeover ("took_over") or hand-back ("handed_back") of one of the lead's conversations,
        in its history. Any SDR may take over any conversation, so this is not limited to the
        lead's owner; a takeover makes an unowned lead the SDR's. `took_over` goes to the CRM when
        `handoff.deliver_decisions` lists it."""
        now = now or utcnow()

        def work(session: Session) -> None:
            lead = session.get(Lead, lead_id)
            if lead is None:
                return
            data = {"conversation_id": conversation_id}
            session.add(LeadNote(lead_id=lead.id, kind=kind, author=user.actor_id, text="", data=data, at=now))
            if kind == "took_over":
                self._claim(session, lead, user, "take_over", now)
            session.flush()
            self._deliver(session, lead, kind, user, data, now)

        self.store.transaction(work)
