"""Token buckets per client and key kind, so one browser (or one script with the public key)
cannot flood the tracking intake. In-process: with several action servers behind a proxy each
enforces its own share (the proxy can add a global limit).

A call is charged one token per event it carries (a batch of 50 page views costs 50), so a
batch is no way around the limit; a call that carries more events than a bucket can ever hold
is refused outright (`take` answers math.inf). The client is the address behind the trusted
proxies (leadqual/http/clientaddr.py), not the proxy's."""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from dataclasses import dataclass

from leadqual import settings, timeutil

# Buckets kept (least recently used dropped first): bounded memory under a flood of addresses.
MAX_CLIENTS = 100_000


@dataclass(frozen=True)
class Limit:
    rate: float  # tokens per second
    burst: float  # bucket size


def limits_from_env() -> dict[str, Limit]:
    """LEADQUAL_INTAKE_<KIND>_RATE / _BURST for browser (the public key), server and unknown keys."""
    return {
        kind: Limit(
            float(settings.named(f"LEADQUAL_INTAKE_{kind.upper()}_RATE").get()),
            float(settings.named(f"LEADQUAL_INTAKE_{kind.upper()}_BURST").get()),
        )
        for kind in settings.INTAKE_LIMITS
    }


class RateLimiter:
    def __init__(self, limits: dict[str, Limit] | None = None, clock=None) -> None:
        self.limits = limits or limits_from_env()
        self.clock = clock or timeutil.monotonic
        self.buckets: OrderedDict[tuple[str, str], tuple[float, float]] = OrderedDict()
        self.lock = threading.Lock()

    def take(self, kind: str, client: str, cost: float = 1.0) -> float:
        """Spend `cost` tokens; 0.0 when allowed, else the seconds to wait before retrying, or
        math.inf when `cost` is more than the bucket holds (no wait would be enough)."""
        limit = self.limits[kind]
        if cost > limit.burst:
            return math.inf
        now = self.clock()
        with self.lock:
            tokens, last = self.buckets.pop((kind, client), (limit.burst, now))
            tokens = min(limit.burst, tokens + (now - last) * limit.rate)
            wait = 0.0
            if tokens >= cost:
                tokens -= cost
            else:
                wait = (cost - tokens) / limit.rate
            self.buckets[(kind, client)] = (tokens, now)
            while len(self.buckets) > MAX_CLIENTS:
                self.buckets.popitem(last=False)
        return wait
