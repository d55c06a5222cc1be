"""The product's one clock, and the helpers that keep every stored time in UTC.

Everything that stamps or compares a time (enqueueing a CRM packet, leases, retention,
sessions, rate limits, decay, "today" for relative dates) asks this module, never
`datetime.now()` or `time.time()` directly. Tests pin "now" with `frozen(...)`, and the
suite is also run with the system clock a year ahead (`bin/test`), so no test can depend on
the day it runs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone

UTC = timezone.utc


def _system_now() -> datetime:
    return datetime.now(UTC)


_now: Callable[[], datetime] = _system_now
_monotonic: Callable[[], float] = time.monotonic


def now() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return _now()


def timestamp() -> float:
    """The current time as Unix seconds (for signatures and expiry stamps)."""
    return now().timestamp()


def today() -> date:
    """Today's date in UTC: the base that relative answers ("next month") are read from."""
    return now().date()


def monotonic() -> float:
    """Seconds from an arbitrary start, for intervals (rate limits, throttles, caches)."""
    return _monotonic()


def aware(moment: datetime | None) -> datetime | None:
    """A stored time with its offset: SQLite hands back naive datetimes for what was UTC."""
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def as_utc(moment: datetime) -> datetime:
    """A time to store or compare, in UTC. A naive one is refused: its zone cannot be told,
    and SQLite would keep another offset's wall time and drop the offset."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("times must be timezone-aware (e.g. leadqual.timeutil.now())")
    return moment.astimezone(UTC)


def now_or(moment: datetime | None) -> datetime:
    """`moment` in UTC, or the clock's now when none is given."""
    return as_utc(moment) if moment is not None else now()


def iso_utc(moment: datetime | None) -> str | None:
    """ISO 8601 with the offset, for JSON; None stays None."""
    moment = aware(moment)
    return moment.isoformat() if moment else None


class FrozenClock:
    """A clock that stands still until told to move: `advance(minutes=5)`, `set(moment)`."""

    def __init__(self, at: datetime) -> None:
        self.at = as_utc(at)
        self._ticks = 0.0

    def now(self) -> datetime:
        return self.at

    def monotonic(self) -> float:
        return self._ticks

    def advance(self, delta: timedelta | None = None, **units: float) -> datetime:
        step = (delta or timedelta()) + timedelta(**units)
        self.at += step
        self._ticks += step.total_seconds()
        return self.at

    def set(self, moment: datetime) -> datetime:
        moment = as_utc(moment)
        self._ticks += (moment - self.at).total_seconds()
        self.at = moment
        return self.at


def install(now_fn: Callable[[], datetime], monotonic_fn: Callable[[], float] | None = None) -> None:
    """Replace the clock (tests, simulations). `reset()` puts the system clock back."""
    global _now, _monotonic
    _now = now_fn
    if monotonic_fn is not None:
        _monotonic = monotonic_fn


def reset() -> None:
    global _now, _monotonic
    _now, _monotonic = _system_now, time.monotonic


@contextmanager
def frozen(at: datetime) -> Iterator[FrozenClock]:
    """Within the block the product's now is `at` (and moves only by `advance`)."""
    clock = FrozenClock(at)
    previous = (_now, _monotonic)
    install(clock.now, clock.monotonic)
    try:
        yield clock
    finally:
        install(*previous)
