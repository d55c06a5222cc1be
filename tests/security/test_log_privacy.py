"""Personal data stays out of logs (issue 19, item 12): a failing SQL statement's error names the
statement, never the values bound into it, and the action server's own log lines are masked."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from leadqual.http.observability import MaskingFilter

SECRET = "ana.secreta@acme.example"


def test_a_failing_statement_does_not_carry_its_parameters(store):
    with pytest.raises(SQLAlchemyError) as failure, store.engine.begin() as conn:
        conn.execute(text("INSERT INTO no_such_table (email) VALUES (:email)"), {"email": SECRET})
    assert SECRET not in str(failure.value)
    assert "hidden due to hide_parameters" in str(failure.value)


def test_log_lines_with_an_email_or_phone_are_masked():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "lead %s phone %s", (SECRET, "+34 612 345 678"), None)
    MaskingFilter().filter(record)
    line = record.getMessage()
    assert SECRET not in line and "612 345 678" not in line and "[email]" in line and "[phone]" in line
