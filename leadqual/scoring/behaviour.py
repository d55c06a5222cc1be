"""Behaviour score: events (page views, email replies, no-shows…) -> points, with caps and decay.

Pure logic: no database, no HTTP, no Rasa. The rules live in the `behaviour:` section of
config/qualification.yml. Every point change is a line (rule, event, message id, when, raw
points, decayed points, config version, source) so the score can be explained line by line.

- An event scores with the first rule it matches, in config order: `event` matches the event
  name exactly; `url` (glob) and `url_regex` match the URL of `page` events, ignoring case.
- Events are scored in timestamp order, whatever order they arrive in, so a late event counts
  as of when it happened: for caps and for decay.
- A rule's `cap` counts at most `max` matches in any rolling `per_days` window; later matches
  in the window give a 0-point line saying "capped".
- `window_cap` counts at most `max_points` positive points in any rolling `per_days` window,
  all rules together (after each rule's own cap): an event past it gives the points left, if
  any, and says "window cap". Negative points are not capped.
- Decay: points × 0.5 ** (age_days / half_life_days), age from the event to `now`; events
  stamped in the future (clock skew) have age 0.
- The same `message_id` is counted once (its earliest occurrence).

`explicit_fit` scores the profile (country, company size, job title) with lines of the same shape.
"""

from __future__ import annotations

import fnmatch
import math
import re
import unicodedata
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from leadqual.config.marketing import BehaviourRule, QualificationConfig

SECONDS_PER_DAY = 86400.0


@dataclass(frozen=True)
class Event:
    name: str
    timestamp: datetime
    properties: dict = field(default_factory=dict)
    url: str | None = None
    message_id: str | None = None

    def __post_init__(self) -> None:
        if self.timestamp.tzinfo is None or self.timestamp.utcoffset() is None:
            raise ValueError(f"event {self.name!r}: timestamp must be timezone-aware")

    @property
    def page_url(self) -> str | None:
        return self.url or self.properties.get("url")


@dataclass
class BehaviourScore:
    total: int
    lines: list[dict] = field(default_factory=list)
    # The unrounded sum of the decayed points, before the floor.
    decayed_sum: float = 0.0
    # True when `minimum_total` raised the total.
    floored: bool = False


def _line(
    rule: str,
    event: str | None,
    message_id: str | None,
    at: datetime | None,
    points: int,
    decayed: float,
    config_version: int,
    source: str,
    reason: str,
) -> dict:
    return {
        "rule": rule,
        "event": event,
        "message_id": message_id,
        "at": at.isoformat() if at is not None else None,
        "points": points,
        "decayed": decayed,
        "config_version": config_version,
        "source": source,
        "reason": reason,
    }


def rule_matches(rule: BehaviourRule, event: Event, page_event: str = "page") -> bool:
    """Whether `rule` applies to `event` (name exact; URL patterns only on page events)."""
    if rule.event is not None:
        return event.name == rule.event
    if event.name != page_event:
        return False
    url = event.page_url
    if not url:
        return False
    if rule.url is not None:
        return fnmatch.fnmatchcase(url.lower(), rule.url.lower())
    return re.search(rule.url_regex or "", url, re.IGNORECASE) is not None


def decay_factor(at: datetime, now: datetime, half_life_days: float | None) -> float:
    """0.5 ** (age_days / half_life_days); 1 without a half-life or for events after `now`."""
    if half_life_days is None:
        return 1.0
    age_days = max(0.0, (now - at).total_seconds() / SECONDS_PER_DAY)
    return 0.5 ** (age_days / half_life_days)


def decayed_points(points: int, at: datetime, now: datetime, half_life_days: float | None) -> float:
    """An event's points as of `now`, unrounded: the one decay formula, which re-scoring
    (leadqual/leads/rescore.py) uses too, so both give the same float."""
    return points * decay_factor(at, now, half_life_days)


# An event line's reason is "<what>: <points>", then this and the decayed value when decay
# changed the points. `with_decay` writes it and `before_decay` reads it back, for re-scoring.
DECAYED_TO = ", decayed to "
_DECAYED_TO_END = re.compile(r", decayed to [+-]\d+\.\d\d\Z")


def with_decay(reason: str, points: int, decayed: float) -> str:
    """`reason` (ending ": <points>") as of the decayed value."""
    return f"{reason}{DECAYED_TO}{decayed:+.2f}" if decayed != points else reason


def before_decay(reason: str) -> str:
    """The reason without what `with_decay` added."""
    found = _DECAYED_TO_END.search(reason)
    return reason if found is None else reason[: found.start()]


def _round_half_up(value: float) -> int:
    return math.floor(value + 0.5)


def score_behaviour(events: Iterable[Event], config: QualificationConfig, now: datetime) -> BehaviourScore:
    """The behaviour score of `events` as of `now` (tz-aware), with one line per matched event."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    behaviour = config.behaviour
    # Stable sort: events with the same timestamp keep their arrival order.
    ordered = sorted(events, key=lambda e: e.timestamp)
    seen_ids: set[str] = set()
    counted: dict[str, list[datetime]] = {}
    lines: list[dict] = []
    window_cap = behaviour.window_cap
    # (time, points) of the positive points counted in the window_cap window, oldest first.
    in_cap: deque[tuple[datetime, int]] = deque()
    in_cap_sum = 0
    for event in ordered:
        if event.message_id is not None:
            if event.message_id in seen_ids:
                continue
            seen_ids.add(event.message_id)
        rule = next((r for r in behaviour.rules if rule_matches(r, event, behaviour.page_event)), None)
        if rule is None:
            continue
        rule_path = f"behaviour.rules.{rule.id}"
        what = event.name if rule.event is not None else f"{event.name} {event.page_url}"
        points, reason = rule.points, None
        if rule.cap is not None:
            window = timedelta(days=rule.cap.per_days)
            history = counted.setdefault(rule.id, [])
            in_window = [t for t in history if event.timestamp - t < window]
            if len(in_window) >= rule.cap.max:
                points = 0
                reason = (
                    f"{what}: capped ({rule.cap.max} per {rule.cap.per_days:g} days already counted,"
                    f" would have been {rule.points:+d})"
                )
            else:
                history.append(event.timestamp)
        limited = False
        if window_cap is not None and points > 0:
            span = timedelta(days=window_cap.per_days)
            while in_cap and event.timestamp - in_cap[0][0] >= span:
                in_cap_sum -= in_cap.popleft()[1]
            room = max(0, window_cap.max_points - in_cap_sum)
            cap_text = f"window cap: {window_cap.max_points} points per {window_cap.per_days:g} days"
            if room == 0:
                points = 0
                reason = f"{what}: capped ({cap_text} already counted, would have been {rule.points:+d})"
            else:
                limited = points > room
                points = min(points, room)
                in_cap.append((event.timestamp, points))
                in_cap_sum += points
        decayed = decayed_points(points, event.timestamp, now, behaviour.half_life_days)
        if reason is None:
            stem = f"{what} ({cap_text}, would have been {rule.points:+d})" if limited else what
            reason = with_decay(f"{stem}: {points:+d}", points, decayed)
        lines.append(
            _line(
                rule_path,
                event.name,
                event.message_id,
                event.timestamp,
                points,
                decayed,
                config.version,
                "event",
                reason,
            )
        )
    decayed_sum = sum(line["decayed"] for line in lines)
    total = _round_half_up(decayed_sum)
    floored = behaviour.minimum_total is not None and total < behaviour.minimum_total
    if floored:
        total = behaviour.minimum_total
    return BehaviourScore(total=total, lines=lines, decayed_sum=decayed_sum, floored=floored)


def _words(text: str) -> list[str]:
    plain = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    return re.findall(r"[a-z0-9]+", plain)


def _contains(words: list[str], phrase: list[str]) -> bool:
    n = len(phrase)
    return n > 0 and any(words[i : i + n] == phrase for i in range(len(words) - n + 1))


def explicit_fit(profile: dict, config: QualificationConfig) -> list[dict]:
    """Lines for the profile: country (territory / far away), company size band, persona keywords.

    `profile` keys, all optional: `country` (ISO alpha-2), `company_size` (employees),
    `job_title`. Criteria with nothing to say (unknown country, no title) give no line.
    """
    explicit = config.behaviour.explicit
    version = config.version
    lines: list[dict] = []

    def add(rule: str, event: str, points: int, reason: str) -> None:
        lines.append(_line(rule, event, None, None, points, float(points), version, "profile", reason))

    country = str(profile.get("country") or "").strip().upper()
    if country:
        if country in explicit.territory.countries:
            reason = f"country {country}: in territory"
            add("behaviour.explicit.territory", "country", explicit.territory.points, reason)
        elif country in explicit.far_away.countries:
            add("behaviour.explicit.far_away", "country", explicit.far_away.points, f"country {country}: far away")

    size = profile.get("company_size")
    if size is not None and explicit.company_size:
        employees = int(size)
        band = next((b for b in explicit.company_size if b.max_employees is None or employees <= b.max_employees), None)
        if band is not None:
            add(
                f"behaviour.explicit.company_size.{band.id}",
                "company_size",
                band.points,
                f"{employees} employees: band {band.id}",
            )

    title = profile.get("job_title")
    if title:
        words = _words(str(title))
        for keyword in explicit.personas.keywords:
            if _contains(words, _words(keyword)):
                add(
                    "behaviour.explicit.personas",
                    "job_title",
                    explicit.personas.points_each,
                    f"job title {title!r} matches persona {keyword!r}",
                )
    return lines
