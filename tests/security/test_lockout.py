"""Console sign-in lockout (the security test's finding 13).

The finding: a locked account answered 423 and a wrong password 401, which told which accounts
exist; and anyone could lock any account, the admin's included, with five wrong passwords.
Now a wrong password, an unknown email and a locked-out address get the same answer (401, the
same text); five wrong passwords in a row lock out only the (account, client address) they came
from, so the owner still signs in from their own address; each lockout is logged for admins.
On SQLite and PostgreSQL, in `auth.authenticate` and over HTTP through a trusted proxy.
"""

from __future__ import annotations

import logging
import re
from contextlib import ExitStack
from datetime import timedelta

import pytest
from sqlalchemy import select

from leadqual.console import auth
from leadqual.db.tables import utcnow

from ..console_support import PASSWORD, Browser, add_user, console_database, console_process

STRANGER, OWNER = "203.0.113.66", "198.51.100.10"


def sign_in(store, email: str, password: str, address: str | None, now):
    with store.sessions.begin() as session:
        return auth.authenticate(session, email, password, now=now, address=address)


def refusal(store, email: str, password: str, address: str | None, now) -> auth.AuthError:
    # Caught inside the transaction, which then commits, as the console does: it holds the count.
    with store.sessions.begin() as session, pytest.raises(auth.AuthError) as caught:
        auth.authenticate(session, email, password, now=now, address=address)
    return caught.value


def lock_out(store, email: str, address: str, now, already: int = 0) -> None:
    for _ in range(auth.MAX_FAILURES - already):
        assert refusal(store, email, "wrong password!", address, now).code == "bad_credentials"


def test_a_stranger_cannot_lock_the_admin_out(store):
    add_user(store, "boss@nubilo.es", "admin")
    now = utcnow()
    lock_out(store, "boss@nubilo.es", STRANGER, now)
    # The stranger's address is locked out, even with the right password...
    assert refusal(store, "boss@nubilo.es", PASSWORD, STRANGER, now).code == "locked"
    # ...the admin at their own address is not.
    assert sign_in(store, "boss@nubilo.es", PASSWORD, OWNER, now).role == "admin"
    # Signing in does not lift the stranger's lockout; it ends after auth.LOCKOUT.
    assert refusal(store, "boss@nubilo.es", PASSWORD, STRANGER, now + timedelta(minutes=1)).code == "locked"
    assert sign_in(store, "boss@nubilo.es", PASSWORD, STRANGER, now + auth.LOCKOUT + timedelta(seconds=1))


def test_a_wrong_password_an_unknown_email_and_a_lockout_answer_alike(store):
    add_user(store, "ana@nubilo.es", "sdr")
    now = utcnow()
    wrong = refusal(store, "ana@nubilo.es", "wrong password!", STRANGER, now)
    unknown = refusal(store, "nobody@nubilo.es", "wrong password!", STRANGER, now)
    lock_out(store, "ana@nubilo.es", STRANGER, now, already=1)
    locked = refusal(store, "ana@nubilo.es", PASSWORD, STRANGER, now)
    assert str(wrong) == str(unknown) == str(locked) == auth.WRONG
    assert {wrong.code, unknown.code, locked.code} == {"bad_credentials", "locked"}


def test_an_ipv6_stranger_is_locked_out_for_its_whole_64(store):
    add_user(store, "ana@nubilo.es", "sdr")
    now = utcnow()
    for n in range(auth.MAX_FAILURES):  # a new address of the same /64 for each guess
        assert refusal(store, "ana@nubilo.es", "wrong password!", f"2001:db8:7:7::{n + 1}", now).code
    assert refusal(store, "ana@nubilo.es", PASSWORD, "2001:db8:7:7::99", now).code == "locked"
    assert sign_in(store, "ana@nubilo.es", PASSWORD, "2001:db8:8::1", now)


def test_a_lockout_is_logged_for_the_admins_and_old_records_are_forgotten(store, caplog):
    user_id = add_user(store, "boss@nubilo.es", "admin")
    now = utcnow()
    with caplog.at_level(logging.WARNING, logger="leadqual.console.auth"):
        lock_out(store, "boss@nubilo.es", STRANGER, now)
    [record] = [r for r in caplog.records if "locked out" in r.getMessage()]
    assert f"user {user_id} (role admin)" in record.getMessage() and "203.0.113.0/24" in record.getMessage()
    assert "boss@nubilo.es" not in record.getMessage()  # no personal data in the log
    # A day later, another failure from elsewhere forgets the stranger's expired record.
    later = now + auth.FAILURE_MEMORY + timedelta(minutes=1)
    refusal(store, "boss@nubilo.es", "wrong password!", OWNER, later)
    with store.sessions() as session:
        assert [r.address for r in session.scalars(select(auth.SignInFailures))] == [OWNER]


# -- over HTTP: the console process behind a trusted proxy ------------------------------------


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def console(request, tmp_path_factory, config):
    workdir = tmp_path_factory.mktemp("lockout")
    with ExitStack() as stack:
        database_url, store = console_database(request.param, workdir, stack, config)
        stack.callback(store.engine.dispose)
        url = stack.enter_context(console_process(database_url, workdir, LEADQUAL_TRUSTED_PROXIES="127.0.0.1"))
        yield {"url": url, "log": workdir}


def browser(console, address: str) -> Browser:
    """A browser whose requests come through the proxy (this test) from `address`."""
    client = Browser(console["url"])
    client.http.headers["X-Forwarded-For"] = address
    return client


_ERROR = re.compile(r'role="alert"[^>]*>(.*?)<', re.S)


def answer(response) -> tuple[int, str]:
    found = _ERROR.search(response.text)
    return response.status_code, (found.group(1).strip() if found else response.text[:300])


def test_over_http_the_stranger_locks_out_only_itself_and_learns_nothing(console):
    stranger = browser(console, STRANGER)
    wrong = [answer(stranger.sign_in("admin@nubilo.es", "not the password")) for _ in range(auth.MAX_FAILURES)]
    unknown = answer(stranger.sign_in("ghost@nubilo.es", "not the password"))
    locked = answer(stranger.sign_in("admin@nubilo.es", PASSWORD))  # was 423
    assert wrong[0][0] == 401 and "incorrectos" in wrong[0][1]
    assert set(wrong) == {unknown} == {locked}
    # The admin, at their own address, signs in (was locked out for 15 minutes).
    assert browser(console, OWNER).sign_in("admin@nubilo.es").status_code == 302
    logs = "".join(path.read_text() for path in console["log"].glob("console-*.log"))
    assert "(role admin) locked out from 203.0.113.0/24" in logs
