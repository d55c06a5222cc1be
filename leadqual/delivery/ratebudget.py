"""One rate-limit budget shared by every delivery worker of a deployment.

A CRM counts calls per app (HubSpot: so many per ten seconds, per token); workers in several
processes each counting their own would trip the limit together. So the window lives in the
database (`crm_state`), taken under the row's lock: each call first takes a slot, and a worker
that finds the window full waits for the next one instead of calling. What the CRM answers
(`X-HubSpot-RateLimit-Remaining`, a 429's `Retry-After`) corrects the shared window.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable

from sqlalchemy import Engine, select
from sqlalchemy.orm import sessionmaker

from leadqual.db.tables import CrmState


class RateBudget:
    """At most `max_calls` calls in each window of `interval` seconds, across processes."""

    def __init__(
        self,
        engine: Engine | None,
        key: str,
        max_calls: int,
        interval: float,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.engine = engine
        self.key = f"rate:{key}"
        self.max_calls = max_calls
        self.interval = interval
        # A call counts here from just before it is sent, there from when it arrives: the window
        # is held a little longer than the CRM's, so a slot frees here after it frees there.
        self.window = interval + max(0.25, interval * 0.02)
        self.sleep = sleep
        self.clock = clock
        self.sessions = sessionmaker(engine) if engine is not None else None
        self._local: dict = {"calls": [], "blocked_until": 0.0}
        self.waited = 0.0  # seconds spent waiting for a slot (the benchmark prints it)
        self.taken = 0

    def _update(self, change: Callable[[dict], float]) -> float:
        """Apply `change(window)` to the shared window under its lock; returns what it returns."""
        if self.sessions is None:
            return change(self._local)
        with self.sessions.begin() as session:
            row = session.scalars(select(CrmState).where(CrmState.key == self.key).with_for_update()).first()
            if row is None:
                row = CrmState(key=self.key, value={"calls": [], "blocked_until": 0.0})
                session.add(row)
                session.flush()
            window = dict(row.value)
            result = change(window)
            row.value = window
            return result

    def take(self) -> None:
        """Wait until a call is allowed, then count it."""
        while True:
            now = self.clock()
            wait = self._update(functools.partial(self._claim, now=now))
            if wait <= 0:
                self.taken += 1
                return
            self.waited += wait
            self.sleep(min(wait, self.interval))

    def _claim(self, window: dict, now: float) -> float:
        """Count a call in `window` if it has room; else the seconds until it has. The window
        rolls, as HubSpot's does: the calls of the last `interval` seconds count, not those since a
        fixed start (which would let twice the limit through across a boundary)."""
        if window.get("blocked_until", 0.0) > now:
            return window["blocked_until"] - now
        recent = [t for t in window.get("calls", []) if t > now - self.window]
        if len(recent) < self.max_calls:
            window["calls"] = [*recent, now]
            return 0.0
        window["calls"] = recent
        return min(recent) + self.window - now

    def observe(self, remaining: int | None = None, retry_after: float | None = None) -> None:
        """What the CRM said: no calls left in its window, or wait `retry_after` seconds."""
        now = self.clock()

        def correct(window: dict) -> float:
            if retry_after is not None and retry_after > 0:
                window["blocked_until"] = max(window.get("blocked_until", 0.0), now + retry_after)
            if remaining is not None and remaining <= 0:
                # The CRM's window is full. If ours is not, it counts calls we did not (another
                # app on the same account): treat the missing ones as made now.
                recent = [t for t in window.get("calls", []) if t > now - self.interval]
                window["calls"] = recent + [now] * max(0, self.max_calls - len(recent))
            return 0.0

        self._update(correct)
