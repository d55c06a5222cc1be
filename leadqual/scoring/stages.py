"""The lead stage machine: lead -> mql -> sal -> sql -> opportunity, with back-moves.

Pure logic: no database, no Rasa. Each allowed move says who may make it (a bot, a rule or a
person) and which reason codes apply. Every move that happens comes back as a `Transition`
(from, to, actor, reason, note, time) for the caller to store as history.

Decisions:

- The funnel is lead, mql, sal, sql, opportunity. "disqualified" is the only other stage.
- **Recycling is a move, not a stage**: a recycled lead goes back to "lead" (nurturing) and the
  Transition records kind "recycle" and why. So `stage == "lead"` means "being nurtured",
  whether the lead is new or recycled; the history tells them apart.
- **Scores (bot and rules) move a lead between lead, mql and sql**, as the config's stage
  rules say (a total score and the BANT criteria that must qualify). A lead the chat
  qualified goes straight to sql only when `stages.sql.automatic` is true; otherwise it stays
  mql, marked sales-ready, for a person to accept.
- **Scores never undo a person's decision**: a lead a person (or a went-cold rule) placed is
  moved by scores only when its score newly crosses a threshold upwards, and an sql lead a
  person qualified is never moved by scores.
- **Only a person** accepts (mql -> sal, or lead -> sal for a visitor who asked for sales),
  qualifies (sal -> sql), converts (sql -> opportunity), moves a lead back to an earlier
  stage, disqualifies and re-opens. A person's move needs the person's id.
- **A rule may recycle** a lead from mql, sal or sql to "lead" with reason "went_cold" (a
  time-based rule). An opportunity is never moved by a rule.
- Every back-move, disqualification and re-opening needs a reason code from REASON_CODES
  that fits it. A forward move may omit the reason; it then gets the move's usual one.
- A disqualified lead can only be re-opened, by a person, to "lead" with reason "reopened".
- A move to the current stage is a no-op: `advance` returns None.

Every refusal raises StageError, whose `code` says which problem it is (for a 4xx in an API).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from leadqual import timeutil

FUNNEL: tuple[str, ...] = ("lead", "mql", "sal", "sql", "opportunity")
DISQUALIFIED = "disqualified"
STAGES: tuple[str, ...] = (*FUNNEL, DISQUALIFIED)
# "crm": a salesperson's change made in the CRM (HubSpot, Salesforce) and synced back; it may
# make the moves a person may, and the product never sends it back to the CRM.
ACTOR_TYPES: tuple[str, ...] = ("bot", "rule", "person", "crm")
# Actors whose placement the score respects (it only moves such a lead forward on a crossing).
PEOPLE: tuple[str, ...] = ("person", "crm")

REASON_CODES: dict[str, str] = {
    # forward
    "score_threshold": "the score reached the stage's threshold",
    "marketing_review": "marketing reviewed the lead and judged it ready",
    "sales_accepted": "sales accepted the lead",
    "meeting_held": "a discovery meeting was held",
    "sales_qualified": "sales confirmed the lead's fit",
    "deal_created": "a deal was created",
    # back-moves and rejections
    "score_dropped": "the score fell below the stage's threshold",
    "no_budget": "no budget, or too little",
    "no_authority": "the contact cannot decide or influence the purchase",
    "no_need": "no need the product meets",
    "bad_timing": "not buying now; maybe later",
    "unresponsive": "does not answer calls or emails",
    "went_cold": "no activity for too long",
    "duplicate": "duplicate of another lead",
    "competitor": "a competitor",
    "student": "a student or researcher, not a buyer",
    "spam": "spam or a fake contact",
    "wrong_contact": "wrong or invalid contact details",
    # re-opening
    "reopened": "a disqualified lead was re-opened",
    # any move synced back from the CRM
    "crm_update": "changed by a salesperson in the CRM",
}

FORWARD_REASONS = frozenset(
    {"score_threshold", "marketing_review", "sales_accepted", "meeting_held", "sales_qualified", "deal_created"}
)
# Why a person moves a lead back to an earlier funnel stage (to "lead" = recycle).
BACK_REASONS = frozenset(
    {
        "no_budget",
        "no_authority",
        "no_need",
        "bad_timing",
        "unresponsive",
        "went_cold",
        "wrong_contact",
        "score_dropped",
    }
)
DISQUALIFY_REASONS = frozenset(
    {"no_budget", "no_authority", "no_need", "duplicate", "competitor", "student", "spam", "wrong_contact"}
)

_ACTOR_NAMES = {"bot": "the bot", "rule": "a rule", "person": "a person", "crm": "the CRM"}


class StageError(ValueError):
    """A refused move. `code` names the problem: unknown_stage, illegal_move, actor_not_allowed,
    unknown_actor, actor_id_required, reason_required, unknown_reason, reason_not_allowed,
    naive_time, bad_thresholds."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Actor:
    """Who makes a move: the chat bot, an automatic rule, or a person (with an id)."""

    type: str
    id: str | None = None

    @classmethod
    def bot(cls, actor_id: str | None = None) -> Actor:
        return cls("bot", actor_id)

    @classmethod
    def rule(cls, actor_id: str | None = None) -> Actor:
        return cls("rule", actor_id)

    @classmethod
    def person(cls, actor_id: str) -> Actor:
        return cls("person", actor_id)

    @classmethod
    def crm(cls, system: str) -> Actor:
        return cls("crm", system)


@dataclass(frozen=True)
class Move:
    """One allowed (from, to) pair: its kind and, per actor type, the reason codes it accepts."""

    from_stage: str
    to_stage: str
    kind: str  # advance, accept, qualify, convert, demote, recycle, disqualify, reopen
    reasons: Mapping[str, frozenset[str]]
    default_reason: str | None = None  # forward moves only; back-moves must say why

    @property
    def actors(self) -> tuple[str, ...]:
        return tuple(a for a in ACTOR_TYPES if a in self.reasons)

    @property
    def needs_reason(self) -> bool:
        return self.default_reason is None


@dataclass(frozen=True)
class Transition:
    from_stage: str
    to_stage: str
    kind: str
    actor_type: str
    actor_id: str | None
    reason: str
    note: str
    at: datetime

    def to_dict(self) -> dict:
        return {
            "from_stage": self.from_stage,
            "to_stage": self.to_stage,
            "kind": self.kind,
            "actor_type": self.actor_type,
            "actor_id": self.actor_id,
            "reason": self.reason,
            "reason_text": REASON_CODES[self.reason],
            "note": self.note,
            "at": self.at.isoformat(),
        }


def _build_moves() -> dict[tuple[str, str], Move]:
    person_only = ("person",)
    moves: list[Move] = [
        Move(
            "lead",
            "mql",
            "advance",
            {
                "bot": frozenset({"score_threshold"}),
                "rule": frozenset({"score_threshold"}),
                "person": frozenset({"score_threshold", "marketing_review"}),
            },
            "score_threshold",
        ),
        Move("lead", "sal", "accept", {"person": frozenset({"sales_accepted"})}, "sales_accepted"),
        Move("mql", "sal", "accept", {"person": frozenset({"sales_accepted"})}, "sales_accepted"),
        Move("sal", "sql", "qualify", {"person": frozenset({"meeting_held", "sales_qualified"})}, "meeting_held"),
        # The chat's BANT questions qualified the lead (stages.sql.automatic), or a person
        # qualified it without a separate acceptance step.
        *(
            Move(
                source,
                "sql",
                "qualify",
                {
                    "bot": frozenset({"score_threshold"}),
                    "rule": frozenset({"score_threshold"}),
                    "person": frozenset({"sales_qualified"}),
                },
                "score_threshold",
            )
            for source in ("lead", "mql")
        ),
        Move("sql", "opportunity", "convert", {"person": frozenset({"deal_created"})}, "deal_created"),
        Move(DISQUALIFIED, "lead", "reopen", {"person": frozenset({"reopened"})}),
    ]
    for i, source in enumerate(FUNNEL):
        for target in FUNNEL[:i]:
            reasons: dict[str, frozenset[str]] = {a: BACK_REASONS for a in person_only}
            if target == "lead" and source in ("mql", "sal", "sql"):
                reasons["rule"] = frozenset({"went_cold"})
            if (source, target) in (("mql", "lead"), ("sql", "lead"), ("sql", "mql")):
                reasons["bot"] = frozenset({"score_dropped"})
                reasons["rule"] = reasons.get("rule", frozenset()) | {"score_dropped"}
            moves.append(Move(source, target, "recycle" if target == "lead" else "demote", reasons))
        moves.append(Move(source, DISQUALIFIED, "disqualify", {"person": DISQUALIFY_REASONS}))
    # What a person may do here, a salesperson may do in the CRM (reason: crm_update).
    moves = [
        Move(
            m.from_stage,
            m.to_stage,
            m.kind,
            {**m.reasons, "crm": m.reasons["person"] | {"crm_update"}},
            m.default_reason,
        )
        if "person" in m.reasons
        else m
        for m in moves
    ]
    return {(m.from_stage, m.to_stage): m for m in moves}


MOVES: dict[tuple[str, str], Move] = _build_moves()


def _check_stage(stage: str, what: str) -> None:
    if stage not in STAGES:
        raise StageError("unknown_stage", f"unknown {what} stage {stage!r}; stages are: {', '.join(STAGES)}")


def _as_actor(actor: Actor | str) -> Actor:
    return Actor(actor) if isinstance(actor, str) else actor


def _codes(codes: Iterable[str]) -> str:
    return ", ".join(sorted(codes))


class StageMachine:
    """Validates moves between stages and returns the Transition to record."""

    moves: Mapping[tuple[str, str], Move] = MOVES

    def move(self, current: str, target: str) -> Move:
        """The allowed move from `current` to `target`, or StageError."""
        _check_stage(current, "current")
        _check_stage(target, "target")
        move = self.moves.get((current, target))
        if move is None:
            options = [t for (f, t) in self.moves if f == current]
            raise StageError(
                "illegal_move",
                f"cannot move a lead from {current} to {target}; from {current} it can go to: {', '.join(options)}",
            )
        return move

    def allowed_targets(self, current: str, actor_type: str) -> list[str]:
        """Stages `actor_type` may move a lead to from `current` (e.g. for a console's buttons)."""
        _check_stage(current, "current")
        return [t for (f, t), m in self.moves.items() if f == current and actor_type in m.reasons]

    def advance(
        self,
        current: str,
        target: str,
        actor: Actor | str,
        reason: str | None = None,
        at: datetime | None = None,
        note: str = "",
    ) -> Transition | None:
        """Validate moving a lead from `current` to `target`; the Transition, or None if it stays.

        `actor` is an Actor or just its type ("bot", "rule"; a person needs an id).
        `reason` is a code from REASON_CODES: required for back-moves, disqualifying and
        re-opening; a forward move without one gets its usual reason.
        `at` must be timezone-aware; it defaults to now (UTC).
        """
        _check_stage(current, "current")
        _check_stage(target, "target")
        actor = _as_actor(actor)
        if actor.type not in ACTOR_TYPES:
            raise StageError(
                "unknown_actor", f"unknown actor type {actor.type!r}; use one of: {', '.join(ACTOR_TYPES)}"
            )
        if current == target:
            return None
        move = self.move(current, target)
        label = f"{current} -> {target} ({move.kind})"
        if actor.type not in move.reasons:
            who = " or ".join(_ACTOR_NAMES[a] for a in move.actors)
            raise StageError(
                "actor_not_allowed", f"{_ACTOR_NAMES[actor.type]} cannot move a lead {label}: only {who} can"
            )
        if actor.type == "person" and not actor.id:
            raise StageError("actor_id_required", f"a person's move {label} needs the person's id (actor_id)")
        allowed = move.reasons[actor.type]
        if reason is None or reason == "":
            if move.needs_reason:
                raise StageError(
                    "reason_required", f"moving a lead {label} needs a reason code: one of {_codes(allowed)}"
                )
            reason = move.default_reason
        if reason not in REASON_CODES:
            raise StageError("unknown_reason", f"unknown reason code {reason!r}; known codes: {_codes(REASON_CODES)}")
        if reason not in allowed:
            raise StageError(
                "reason_not_allowed",
                f"reason {reason!r} does not apply when {_ACTOR_NAMES[actor.type]} moves a lead {label}; "
                f"use one of: {_codes(allowed)}",
            )
        if at is None:
            at = timeutil.now()
        elif at.tzinfo is None or at.utcoffset() is None:
            raise StageError("naive_time", "the time of a move must be timezone-aware")
        return Transition(current, target, move.kind, actor.type, actor.id, reason, note, at)

    def replay(self, transitions: Iterable[Transition], start: str = "lead") -> str:
        """Check that a recorded history is a chain of allowed moves; the stage it ends in."""
        stage = start
        for number, t in enumerate(transitions, 1):
            if t.from_stage != stage:
                raise StageError(
                    "illegal_move", f"transition {number} starts at {t.from_stage} but the lead was at {stage}"
                )
            self.advance(t.from_stage, t.to_stage, Actor(t.actor_type, t.actor_id), t.reason, t.at, t.note)
            stage = t.to_stage
        return stage


MACHINE = StageMachine()


def advance(
    current: str,
    target: str,
    actor: Actor | str,
    reason: str | None = None,
    at: datetime | None = None,
    note: str = "",
) -> Transition | None:
    """StageMachine().advance, see there."""
    return MACHINE.advance(current, target, actor, reason, at, note)


def meets(rule, total: int, qualifies: Mapping[str, bool | None]) -> bool:
    """Whether a total and the BANT results meet a stage rule (`min_score`, `requires`)."""
    return total >= rule.min_score and all(qualifies.get(criterion) is True for criterion in rule.requires)


def score_stage(total: int, qualifies: Mapping[str, bool | None], rules) -> str:
    """The stage the score rules give: "sql" (only if `rules.sql.automatic`), "mql" or "lead"."""
    if meets(rules.sql, total, qualifies) and rules.sql.automatic:
        return "sql"
    if meets(rules.mql, total, qualifies) or meets(rules.sql, total, qualifies):
        return "mql"
    return "lead"


def _explain(rule, name: str, total: int, qualifies: Mapping[str, bool | None]) -> str:
    sign = ">=" if total >= rule.min_score else "<"
    text = f"score {total} {sign} {name} threshold {rule.min_score}"
    missing = [c for c in rule.requires if qualifies.get(c) is not True]
    if rule.requires:
        text += f"; {', '.join(missing)} not qualified" if missing else f"; {', '.join(rule.requires)} qualified"
    return text


AUTOMATIC_STAGES = ("lead", "mql", "sql")


def stage_from_score(
    total: int,
    qualifies: Mapping[str, bool | None],
    rules,
    current: str,
    placed_by: str = "bot",
    previous_total: int | None = None,
    at: datetime | None = None,
    actor: Actor | None = None,
) -> Transition | None:
    """The move the score rules make for a lead at `current`, or None.

    `rules` is the config's `stages` (`mql` and `sql`, each with `min_score` and `requires`;
    `sql.automatic`). `qualifies` maps each BANT criterion to True/False/None. `placed_by` is
    who put the lead in `current` ("score" or "bot" for score moves, "rule", "person"):
    after a person's or a rule's move the score only moves the
    lead forward, and only when it crosses a threshold now (`previous_total` was below it).
    A lead at sal, opportunity or disqualified, or at sql by a person, is left alone.
    """
    _check_stage(current, "current")
    for name in ("mql", "sql"):
        rule = getattr(rules, name, None)
        if rule is None or not isinstance(getattr(rule, "min_score", None), int):
            raise StageError("bad_thresholds", f"stage rules need '{name}' with an integer min_score")
    if current not in AUTOMATIC_STAGES or (current == "sql" and placed_by in PEOPLE):
        return None
    target = score_stage(total, qualifies, rules)
    if target == current:
        return None
    forward = FUNNEL.index(target) > FUNNEL.index(current)
    if placed_by not in ("bot", "score"):
        threshold = getattr(rules, target).min_score if target != "lead" else None
        crossed = threshold is not None and previous_total is not None and previous_total < threshold
        if not (forward and crossed):
            return None
    actor = actor or Actor.rule("stage_rules")
    if forward:
        note = _explain(getattr(rules, target), target, total, qualifies)
        if target == "mql" and meets(rules.sql, total, qualifies):
            note += "; sales-ready: for sales to accept"
        return MACHINE.advance(current, target, actor, "score_threshold", at, note)
    note = _explain(getattr(rules, current), current, total, qualifies)
    return MACHINE.advance(current, target, actor, "score_dropped", at, note)
