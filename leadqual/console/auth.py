"""Who may use the console: users with a role, Argon2id password hashes, server-side sessions,
CSRF tokens, lockout after repeated failed sign-ins, and API tokens.

Nothing secret is stored in the clear: passwords as Argon2id hashes (argon2-cffi), session
and API tokens as SHA-256 digests, so a copy of the database does not let anyone in.

Lockout is per account *and client address*: MAX_FAILURES wrong passwords in a row from one
address lock that address out of that account for LOCKOUT (even with the right password),
and log a warning naming the user id, role and the address's network (clientaddr.for_log; the
address itself is in `console_sign_in_failures`). Anyone else, the account's owner at
their usual address included, still signs in: a stranger cannot lock the admin out. A wrong
password, an unknown email and a locked-out address get the same answer (code
"bad_credentials" or "locked", the same message, a password hash checked each time), so the
answer does not tell which accounts exist. Records of failures are kept FAILURE_MEMORY.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from datetime import datetime, timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.orm import Session

from leadqual.db.tables import ROLES, SignInFailures, User, WebSession, utcnow
from leadqual.http.clientaddr import for_log, rate_key
from leadqual.timeutil import aware

log = logging.getLogger(__name__)

MIN_PASSWORD = 10
# Consecutive failed sign-ins from one client address before that address is locked out of the
# account, and for how long; how long a record of failures is kept after the last one.
MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
FAILURE_MEMORY = timedelta(days=1)
# The answer to a wrong password, an unknown email and a locked-out address alike.
WRONG = "wrong email or password"
# A session ends after this long unused, and in any case after MAX_SESSION.
IDLE_TIMEOUT = timedelta(hours=12)
MAX_SESSION = timedelta(days=7)

_hasher = PasswordHasher()  # Argon2id with the library's current recommended cost


@cache
def _dummy_hash() -> str:
    """Verified against when the email is unknown, so an unknown account answers as slowly as a known one."""
    return _hasher.hash(secrets.token_urlsafe(16))


class AuthError(ValueError):
    """A refused sign-in or user change; `code` names the problem (bad_credentials, locked,
    disabled, weak_password, unknown_role, duplicate_email, unknown_user)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def tokens_match(expected: str | None, given: str | None) -> bool:
    """Constant-time comparison, false when either is missing."""
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise AuthError("weak_password", f"the password needs at least {MIN_PASSWORD} characters")
    return _hasher.hash(password)


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise AuthError("unknown_role", f"unknown role {role!r}; roles are: {', '.join(ROLES)}")


def create_user(
    session: Session, email: str, password: str, role: str, name: str = "", sdr_id: str | None = None
) -> User:
    email = email.strip().lower()
    if "@" not in email:
        raise AuthError("bad_email", f"{email!r} is not an email address")
    _check_role(role)
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise AuthError("duplicate_email", f"a user with email {email} already exists")
    user = User(email=email, name=name, role=role, password_hash=hash_password(password), sdr_id=sdr_id or None)
    session.add(user)
    session.flush()
    return user


def authenticate(
    session: Session, email: str, password: str, now: datetime | None = None, address: str | None = None
) -> User:
    """The user, if the password is right and the account usable; AuthError otherwise.

    `address` is the client's (leadqual/http/clientaddr.py; None for one that cannot be told). Each
    wrong password counts against that address; MAX_FAILURES in a row lock the address out of
    the account for LOCKOUT, even against the right password. Other addresses are not affected.
    The caller commits the session either way (it holds the count)."""
    now = now or utcnow()
    key = rate_key(address) if address else "unknown"
    user = session.scalars(select(User).where(User.email == email.strip().lower())).first()
    if user is None:
        try:
            _hasher.verify(_dummy_hash(), password)
        except VerificationError:
            pass
        raise AuthError("bad_credentials", WRONG)
    record = session.get(SignInFailures, (user.id, key))
    locked_until = aware(record.locked_until) if record is not None else None
    try:  # checked even when locked out: the answer takes as long either way
        _hasher.verify(user.password_hash, password)
        right = True
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        right = False
    if locked_until and locked_until > now:
        raise AuthError("locked", WRONG)  # the same answer as a wrong password
    if not right:
        _failed(session, user, key, now)
        raise AuthError("bad_credentials", WRONG)
    if user.disabled:
        raise AuthError("disabled", "this account is disabled")
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    if record is not None:
        session.delete(record)
    user.failed_logins, user.locked_until = 0, None
    return user


def _failed(session: Session, user: User, key: str, now: datetime) -> None:
    """Count a wrong password for (user, address), in one statement (parallel guesses all
    count); lock the address out at MAX_FAILURES, and log it for the admins."""
    table = SignInFailures.__table__
    dialect = session.get_bind().dialect.name
    if dialect in ("postgresql", "sqlite"):
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        statement = insert(table).values(user_id=user.id, address=key, failures=1, last_failed_at=now)
        statement = statement.on_conflict_do_update(
            index_elements=[table.c.user_id, table.c.address],
            set_={"failures": table.c.failures + 1, "last_failed_at": now},
        ).returning(table.c.failures)
        failures = session.execute(statement).scalar_one()
    else:  # another database: read, then write
        record = session.get(SignInFailures, (user.id, key))
        if record is None:
            record = SignInFailures(user_id=user.id, address=key, failures=0)
            session.add(record)
        record.failures, record.last_failed_at = (record.failures or 0) + 1, now
        session.flush()
        failures = record.failures
    user.failed_logins = (user.failed_logins or 0) + 1  # from any address, since the last success
    if failures >= MAX_FAILURES:
        session.execute(
            update(table)
            .where(table.c.user_id == user.id, table.c.address == key)
            .values(failures=0, locked_until=now + LOCKOUT)
        )
        log.warning(
            "console sign-in: user %s (role %s) locked out from %s for %d minutes after %d wrong passwords in a row;"
            " other addresses can still sign in",
            user.id,
            user.role,
            for_log(key),
            LOCKOUT.total_seconds() // 60,
            failures,
        )
    # Forget addresses that have not failed for a while (and are not locked out).
    session.execute(
        delete(table).where(
            and_(
                table.c.last_failed_at < now - FAILURE_MEMORY,
                or_(table.c.locked_until.is_(None), table.c.locked_until < now),
            )
        )
    )


def start_session(session: Session, user: User, now: datetime | None = None) -> str:
    """A new session for `user`; returns the token for the cookie. Its "new since" is the
    user's previous visit."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    session.add(
        WebSession(
            token_hash=digest(token),
            user_id=user.id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            last_seen_at=now,
            new_since=aware(user.last_seen_at) or aware(user.last_login_at),
        )
    )
    user.last_login_at = user.last_seen_at = now
    return token


def session_user(session: Session, token: str | None, now: datetime | None = None) -> tuple[WebSession, User] | None:
    """The live session and its user for a cookie token, or None (unknown, expired, disabled)."""
    if not token:
        return None
    now = now or utcnow()
    web = session.get(WebSession, digest(token))
    if web is None:
        return None
    if aware(web.last_seen_at) + IDLE_TIMEOUT < now or aware(web.created_at) + MAX_SESSION < now:
        session.delete(web)
        return None
    user = session.get(User, web.user_id)
    if user is None or user.disabled:
        return None
    if now - aware(web.last_seen_at) > timedelta(minutes=1):  # one write a minute, not one per request
        web.last_seen_at = user.last_seen_at = now
    return web, user


def end_session(session: Session, token: str | None) -> None:
    if token:
        session.execute(delete(WebSession).where(WebSession.token_hash == digest(token)))


def new_api_token(session: Session, user: User) -> str:
    """A fresh API token for `user` (the old one stops working); shown once, stored hashed."""
    token = "lq_" + secrets.token_urlsafe(32)
    user.api_token_hash = digest(token)
    return token


def api_user(session: Session, token: str | None) -> User | None:
    if not token:
        return None
    user = session.scalars(select(User).where(User.api_token_hash == digest(token))).first()
    return user if user is not None and not user.disabled else None


def set_role(session: Session, user: User, role: str) -> None:
    _check_role(role)
    user.role = role


def set_disabled(session: Session, user: User, disabled: bool) -> None:
    """Disabling also ends the user's sessions at once."""
    user.disabled = disabled
    if disabled:
        session.execute(delete(WebSession).where(WebSession.user_id == user.id))
