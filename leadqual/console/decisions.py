"""What an SDR decides about a lead in the console, recorded in its history and, where the config
says so (`handoff.deliver_decisions`), sent to the CRM through the outbox in the same transaction.

Stage decisions go through `LeadStore.move_stage` with the stage machine's reason codes:
accept (-> sal), qualify (sal -> sql), convert (sql -> opportunity), reject (-> disqualified,
with a reason code) and recycle (-> lead, nurturing, with a reason code). Reassigning and notes
are not stage moves: they are `LeadNote` rows, shown in the same history.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadqual import settings
from leadqual.db.tables import LeadNote, new_id, utcnow
from leadqual.delivery import outbox
from leadqual.leads.store import Lead, LeadStore
from leadqual.scoring.stages import BACK_REASONS, DISQUALIFY_REASONS, REASON_CODES, Actor, StageError, Transition

from .auth import User

# Decision -> (target stage, reason codes a person may give; None = the move's usual reason).
STAGE_DECISIONS: dict[str, tuple[str, frozenset[str] | None]] = {
    "accepted": ("sal", None),
    "qualified": ("sql", None),
    "converted": ("opportunity", None),
    "rejected": ("disqualified", DISQUALIFY_REASONS),
    "recycled": ("lead", BACK_REASONS - {"score_dropped", "went_cold"}),
}
MAX_NOTE = 4000


class DecisionError(ValueError):
    """A refused decision; `code` names the problem (for the page's message and the API's 4xx)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


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

    def move(
        self, user: User, lead_id: str, decision: str, reason: str | None = None, note: str = "", now=None
    ) -> dict:
        """accepted / qualified / converted / rejected / recycled; the lead JSON after the move."""
        if decision not in STAGE_DECISIONS:
            raise DecisionError("unknown_decision", f"unknown decision {decision!r}")
        target, reasons = STAGE_DECISIONS[decision]
        if reasons is not None:
            if not reason:
                raise DecisionError("reason_required", f"a reason code is needed: one of {', '.join(sorted(reasons))}")
            if reason not in reasons:
                raise DecisionError("unknown_reason", f"reason {reason!r} does not apply to {decision}")
        else:
            reason = None
        with self.store.sessions() as session:
            self._check(session, user, lead_id)

        def then(session: Session, lead: Lead, transition: Transition) -> None:
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
            return self.store.move_stage(
                lead_id, target, Actor.person(user.actor_id), reason, note[:MAX_NOTE], now=now, then=then
            )
        except StageError as exc:
            raise DecisionError(exc.code, str(exc)) from None

    def reassign(self, user: User, lead_id: str, sdr_id: str, note: str = "", now: datetime | None = None) -> None:
        sdr = self.store.config.handoff.sdr(sdr_id)
        if sdr is None:
            raise DecisionError("unknown_sdr", f"no SDR {sdr_id!r} in handoff.sdrs")
        now = now or utcnow()

        def work(session: Session) -> None:
            lead = self._check(session, user, lead_id)
            if lead.owner == sdr_id:
                raise DecisionError("same_owner", f"the lead already belongs to {sdr.name}")
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
        lead's owner; `took_over` goes to the CRM when `handoff.deliver_decisions` lists it."""
        now = now or utcnow()

        def work(session: Session) -> None:
            lead = session.get(Lead, lead_id)
            if lead is None:
                return
            data = {"conversation_id": conversation_id}
            session.add(LeadNote(lead_id=lead.id, kind=kind, author=user.actor_id, text="", data=data, at=now))
            session.flush()
            self._deliver(session, lead, kind, user, data, now)

        self.store.transaction(work)
