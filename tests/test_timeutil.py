"""The product's one clock: what `frozen` pins reaches every stamp the product writes, and the
clock-ahead pass of bin/test really runs a year ahead."""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone

import pytest

from leadqual import timeutil
from leadqual.delivery import outbox
from leadqual.delivery.outbox import DeliveryWorker, Destinations
from leadqual.http.ratelimit import Limit, RateLimiter

PAST = datetime(2024, 2, 29, 9, 30, tzinfo=timezone.utc)  # long gone, on purpose


def test_frozen_pins_now_today_and_timestamps_and_moves_only_when_told():
    with timeutil.frozen(PAST) as clock:
        assert timeutil.now() == PAST
        assert timeutil.today().isoformat() == "2024-02-29"
        assert timeutil.timestamp() == PAST.timestamp()
        start = timeutil.monotonic()
        clock.advance(minutes=90)
        assert timeutil.now() == PAST + timedelta(minutes=90)
        assert timeutil.monotonic() - start == 5400
    assert timeutil.now() > PAST + timedelta(days=365)  # the real clock is back


def test_naive_times_are_refused_and_stored_ones_get_their_offset_back():
    with pytest.raises(ValueError, match="timezone-aware"):
        timeutil.as_utc(datetime(2026, 1, 1, 10, 0))
    madrid = timezone(timedelta(hours=1))
    assert timeutil.as_utc(datetime(2026, 1, 1, 11, 0, tzinfo=madrid)) == datetime(
        2026, 1, 1, 10, 0, tzinfo=timezone.utc
    )
    assert timeutil.aware(datetime(2026, 1, 1, 10, 0)).tzinfo == timezone.utc
    assert timeutil.iso_utc(datetime(2026, 1, 1, 10, 0)) == "2026-01-01T10:00:00+00:00"
    assert timeutil.iso_utc(None) is None and timeutil.aware(None) is None


def test_a_packet_queued_at_a_pinned_time_is_due_at_that_time_whatever_the_real_date(sqlite_store, tmp_path):
    """The time bomb of issue 17: a packet queued 'in 2024' must be delivered by a worker run 'in 2024'."""
    with timeutil.frozen(PAST):
        with sqlite_store.sessions() as session:
            outbox.enqueue(session, "crm", {"lead_id": "x"}, key="crm-x-1")
            session.commit()
        worker = DeliveryWorker(sqlite_store.engine, Destinations.from_env(environ={}, handoff_dir=tmp_path))
        assert worker.run_once(PAST)["delivered"] == 1
    assert (tmp_path / "handoff-crm.jsonl").read_text(encoding="utf-8").count("crm-x-1") == 1


def test_enqueue_is_due_at_the_time_of_the_change_that_caused_it(sqlite_store, tmp_path):
    with sqlite_store.sessions() as session:
        message = outbox.enqueue(session, "crm", {"lead_id": "y"}, key="crm-y-1", now=PAST)
        session.commit()
        assert timeutil.aware(message.next_attempt_at) == PAST


def test_rate_limits_follow_the_product_clock():
    with timeutil.frozen(PAST) as clock:
        limiter = RateLimiter({"browser": Limit(rate=1, burst=1)})
        assert limiter.take("browser", "10.0.0.1") == 0
        assert limiter.take("browser", "10.0.0.1") == pytest.approx(1.0)
        clock.advance(seconds=1)
        assert limiter.take("browser", "10.0.0.1") == 0


@pytest.mark.skipif(not os.environ.get("LEADQUAL_TEST_CLOCK_AHEAD_DAYS"), reason="only in bin/test's clock-ahead pass")
def test_the_clock_ahead_pass_really_runs_ahead():
    import time_machine

    real = time_machine.escape_hatch.datetime.datetime.now(timezone.utc)
    days = float(os.environ["LEADQUAL_TEST_CLOCK_AHEAD_DAYS"])
    assert timeutil.now() - real > timedelta(days=days - 1)
