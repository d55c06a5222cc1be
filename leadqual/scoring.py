"""Fit score: compare each typed answer with the ranges in the qualification config.

Every point comes with a breakdown line (criterion, points, the config rule that gave them
and a human-readable reason) so an SDR can see at a glance why a lead scored what it did.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from leadqual.config import QualificationConfig

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
    if value.get("no_rush") or months is None:
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
    return FitScore(fit=sum(c.points for c in criteria), criteria=criteria)


def stage_for(total: int, config: QualificationConfig) -> str:
    """The stage the thresholds give a total score: lead, mql or sql."""
    if total >= config.stages.sql:
        return "sql"
    if total >= config.stages.mql:
        return "mql"
    return "lead"
