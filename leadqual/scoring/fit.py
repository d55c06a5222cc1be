"""Fit score: compare each typed answer with the ranges in the qualification config.

Every point comes with a breakdown line (criterion, points, the config rule that gave them
and a human-readable reason) so an SDR can see at a glance why a lead scored what it did.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime

from leadqual.config.marketing import QualificationConfig
from leadqual.scoring import extras
from leadqual.scoring.behaviour import Event, explicit_fit, score_behaviour

PERIODS_PER_YEAR = {"month": 12, "year": 1, "one_off": 1}


@dataclass
class Criterion:
    criterion: str
    points: int
    qualifies: bool | None
    rule: str
    reason: str


@dataclass
class FitScore:
    fit: int
    criteria: list[Criterion] = field(default_factory=list)

    def breakdown(self) -> list[dict]:
        return [asdict(c) for c in self.criteria]

    def qualifies(self, criterion: str) -> bool | None:
        return next((c.qualifies for c in self.criteria if c.criterion == criterion), None)


def yearly_in_base(
    amount: float, currency: str | None, period: str | None, config: QualificationConfig
) -> float | None:
    """Convert an amount to the config's currency per year; None for an unknown currency."""
    rate = config.exchange_rates.get(currency or config.currency)
    if rate is None:
        return None
    per_year = PERIODS_PER_YEAR[period or config.budget.default_period]
    return amount / rate * per_year


def _fmt(amount: float) -> str:
    return f"{amount:,.0f}".replace(",", ".")


def score_budget(value: dict | None, config: QualificationConfig) -> Criterion:
    pts = config.budget.points
    base = config.currency
    minimum = config.budget.minimum_price
    min_yearly = minimum.amount * PERIODS_PER_YEAR[minimum.period]
    if not value or value.get("skipped") or value.get("unknown"):
        return Criterion("budget", pts.unknown, None, "budget.points.unknown", "budget not known")
    if value.get("none"):
        return Criterion("budget", pts.no_budget, False, "budget.points.no_budget", "no budget")
    top = value.get("max")
    if top is None and value.get("min") is not None:
        return Criterion(
            "budget",
            pts.qualifies,
            True,
            "budget.points.qualifies",
            f"open-ended budget from {_fmt(value['min'])} {value.get('currency') or base}",
        )
    if top is None:
        return Criterion("budget", pts.unknown, None, "budget.points.unknown", "no amount given")
    currency = value.get("currency") or base
    period = value.get("period") or config.budget.default_period
    yearly = yearly_in_base(top, currency, period, config)
    if yearly is None:
        return Criterion("budget", pts.unknown, None, "budget.points.unknown", f"unknown currency {currency}")
    conversion = f"{_fmt(top)} {currency}/{period}"
    if currency != base or period != "year":
        conversion += f" = {_fmt(yearly)} {base}/year"
    # "Menos de 3.000" / "under 3,000" (an upper bound only) means below it, so it must
    # exceed the minimum; an amount or a range reaching the minimum qualifies.
    open_below = value.get("min") is None
    if yearly > min_yearly or (yearly == min_yearly and not open_below):
        return Criterion(
            "budget",
            pts.qualifies,
            True,
            "budget.points.qualifies",
            f"{conversion} >= minimum {_fmt(min_yearly)} {base}/year",
        )
    return Criterion(
        "budget",
        pts.below_minimum,
        False,
        "budget.points.below_minimum",
        f"{conversion} < minimum {_fmt(min_yearly)} {base}/year",
    )


def score_authority(value: dict | None, config: QualificationConfig) -> Criterion:
    if not value or value.get("skipped"):
        return Criterion("authority", 0, None, "authority", "authority not known")
    level = value.get("level", "none")
    points = config.authority.points.get(level, 0)
    return Criterion(
        "authority",
        points,
        level in config.authority.qualifying_levels,
        f"authority.points.{level}",
        f"level: {level}",
    )


def score_need(value: dict | None, config: QualificationConfig) -> Criterion:
    if not value or value.get("skipped"):
        return Criterion("need", 0, None, "need", "need not known")
    need_id = value.get("value")
    need = config.need.get(need_id) if need_id else None
    if need is None:
        return Criterion("need", config.need.points.none, False, "need.points.none", "no matching need")
    return Criterion("need", config.need.points.match, True, "need.points.match", f"need: {need.id}")


def score_timing(value: dict | None, config: QualificationConfig) -> Criterion:
    timing = config.timing
    if not value or value.get("skipped") or value.get("unknown"):
        return Criterion("timing", timing.unknown_points, None, "timing.unknown_points", "timing not known")
    months = value.get("months")
    if months is None:  # "sin prisa" with no date; "para enero, sin prisa" is scored by its month
        return Criterion("timing", timing.later_points, False, "timing.later_points", "no timeline")
    for window in timing.windows:
        if months <= window.max_months:
            return Criterion(
                "timing",
                window.points,
                months <= timing.qualifying_months,
                f"timing.windows.{window.id}",
                f"{months:g} months (window {window.id}, <= {window.max_months:g})",
            )
    return Criterion(
        "timing", timing.later_points, False, "timing.later_points", f"{months:g} months: later than every window"
    )


def fit_score(answers: dict[str, dict | None], config: QualificationConfig) -> FitScore:
    """The BANT fit score with one breakdown line per criterion."""
    criteria = [
        score_budget(answers.get("budget"), config),
        score_authority(answers.get("authority"), config),
        score_need(answers.get("need"), config),
        score_timing(answers.get("timing"), config),
    ]
    for extra in config.extra_questions:  # marketing's extra questions that carry points
        given = extras.points(extra, answers.get(extras.key(extra)))
        if given is not None:
            points, rule, reason = given
            criteria.append(Criterion(extras.key(extra), points, None, rule, reason))
    return FitScore(fit=sum(c.points for c in criteria), criteria=criteria)


def grade(fit: int, behaviour: int, config: QualificationConfig) -> str:
    """Fit letter (A-D) and engagement number (1-3), e.g. "B1"; see `grades` in the config."""
    bands = config.grades
    letter = next((g for g in ("A", "B", "C") if fit >= bands.fit[g]), "D")
    number = next((n for n in ("1", "2") if behaviour >= bands.engagement[n]), "3")
    return letter + number


@dataclass
class LeadScore:
    """Everything about a lead's score: totals, grade, and one line per point source.

    Each line: kind (fit/behaviour), rule, source (answer/profile/event), source_ref (the
    question, profile field or event message id), at, points (as the rule gives them), value
    (what they count now, after decay), reason, criterion and qualifies (BANT lines only),
    config_version. The values add up to `fit + decayed_sum` (the behaviour total is rounded).
    """

    fit: int
    behaviour: int
    total: int
    grade: str
    lines: list[dict]
    qualifies: dict[str, bool | None]
    decayed_sum: float


def score_lead(
    answers: dict[str, dict | None],
    profile: dict,
    events: Iterable[Event],
    config: QualificationConfig,
    now: datetime,
) -> LeadScore:
    """Fit (BANT answers + profile) and behaviour (decayed events) of one lead, as of `now`."""
    version = config.version
    fit = fit_score(answers, config)
    lines = [
        {
            "kind": "fit",
            "rule": c.rule,
            "source": "answer",
            "source_ref": c.criterion,
            "at": None,
            "points": c.points,
            "value": float(c.points),
            "reason": c.reason,
            "criterion": c.criterion,
            "qualifies": c.qualifies,
            "config_version": version,
        }
        for c in fit.criteria
    ]
    profile_lines = explicit_fit(profile or {}, config)
    for line in profile_lines:
        lines.append(_behaviour_line("fit", line))
    behaviour = score_behaviour(events, config, now)
    lines.extend(_behaviour_line("behaviour", line) for line in behaviour.lines)
    fit_total = fit.fit + sum(line["points"] for line in profile_lines)
    return LeadScore(
        fit=fit_total,
        behaviour=behaviour.total,
        total=fit_total + behaviour.total,
        grade=grade(fit_total, behaviour.total, config),
        lines=lines,
        qualifies={c.criterion: c.qualifies for c in fit.criteria},
        decayed_sum=behaviour.decayed_sum,
    )


def _behaviour_line(kind: str, line: dict) -> dict:
    return {
        "kind": kind,
        "rule": line["rule"],
        "source": line["source"],
        "source_ref": line["message_id"] if line["source"] == "event" else line["event"],
        "event": line["event"] if line["source"] == "event" else None,
        "at": line["at"],
        "points": line["points"],
        "value": round(line["decayed"], 4),
        "reason": line["reason"],
        "criterion": None,
        "qualifies": None,
        "config_version": line["config_version"],
    }


def _by_key(lines: Iterable[dict]) -> dict[tuple, dict]:
    keyed: dict[tuple, dict] = {}
    for line in lines:
        key = (line.get("source"), line.get("source_ref"))
        entry = keyed.setdefault(key, {"points": 0, "value": 0.0, "line": line})
        entry["points"] += line.get("points", 0)
        entry["value"] += line.get("value", float(line.get("points", 0)))
    return keyed


def score_changes(before: Iterable[dict], after: Iterable[dict], config_version: int) -> list[dict]:
    """What changed between two breakdowns, as ledger rows (rule, source, source_ref, delta,
    config_version, reason). A line whose points changed, appeared or went gives its own row;
    changes from decay alone are summed into one `behaviour.decay` row. The deltas add up to
    the difference of the two breakdowns' values."""
    old, new = _by_key(before), _by_key(after)
    rows: list[dict] = []
    decay = 0.0
    for key in list(new) + [k for k in old if k not in new]:
        was, now = old.get(key), new.get(key)
        delta = (now["value"] if now else 0.0) - (was["value"] if was else 0.0)
        if was and now and was["points"] == now["points"] and was["line"].get("rule") == now["line"].get("rule"):
            decay += delta
            continue
        if abs(delta) < 1e-9 and was and now:
            continue
        line = (now or was)["line"]
        if now is None:
            reason = f"no longer counts: {line.get('reason', '')}"
        elif was is None:
            reason = line.get("reason", "")
        else:
            reason = f"{was['points']:+d} -> {now['points']:+d}: {line.get('reason', '')}"
        rows.append(
            {
                "rule": line.get("rule"),
                "source": line.get("source"),
                "source_ref": line.get("source_ref"),
                "delta": round(delta, 4),
                "config_version": config_version,
                "reason": reason,
            }
        )
    if abs(decay) > 1e-9:
        rows.append(
            {
                "rule": "behaviour.decay",
                "source": "decay",
                "source_ref": None,
                "delta": round(decay, 4),
                "config_version": config_version,
                "reason": f"behaviour points decayed by {decay:+.2f}",
            }
        )
    return rows
