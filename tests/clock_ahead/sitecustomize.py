"""Moves the clock of every Python process of the test run ahead (pytest itself and the servers
the tests start), when LEADQUAL_TEST_CLOCK_AHEAD_DAYS is set and this folder is on PYTHONPATH.

`bin/test` runs the unit suite a second time this way, so a test that only passes on the day it
was written (a pinned "now" mixed with the real clock) fails at once instead of a month later.
The clock keeps ticking from the shifted start; monotonic clocks are untouched. Processes
without time-machine (Rasa's own environment) run on the real clock.
"""

import os

_days = os.environ.get("LEADQUAL_TEST_CLOCK_AHEAD_DAYS")
if _days:
    try:
        import time_machine
    except ImportError:  # Rasa's environment: nothing of the product's clock runs there
        pass
    else:
        import datetime as _datetime

        _start = _datetime.datetime.now(_datetime.timezone.utc) + _datetime.timedelta(days=float(_days))
        time_machine.travel(_start, tick=True).start()
