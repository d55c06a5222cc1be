"""Who may use the console: users with a role, Argon2id password hashes, server-side sessions,
CSRF tokens, lockout after repeated failed sign-ins, and API tokens.

Nothing secret is stored in the clear: passwords as Argon2id hashes (argon2-cffi), session
and API tokens as SHA-256 digests, so a copy of the database does not let anyone in.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from leadqual.models import Base, utcnow
from leadqual.timeutil import aware

ROLES = ("sdr", "marketing", "admin")
# What each role may do. sdr: work leads (decide, note, take over); marketing: read and export,
# edit and publish the question flow, read the analytics; admin: everything, including users and
# the outbox's dead letters.
PERMISSIONS: dict[str, frozenset[str]] = {
    "sdr": frozenset({"read", "decide"}),
    "marketing": frozenset({"read", "export", "flows", "analytics"}),
    "admin": frozenset({"read", "decide", "export", "flows", "analytics", "admin"}),
}
MIN_PASSWORD = 10
# Consecutive failed sign-ins before an account is locked, and for how long.
MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
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


class User(Base):
    __tablename__ = "console_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)  # lower-case
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(10))
    password_hash: Mapped[str] = mapped_column(String(200))
    # The SDR id in config (handoff.sdrs) this user is: their leads, their decisions.
    sdr_id: Mapped[str | None] = mapped_column(String(50))
    # "es" or "en"; None = from the browser's Accept-Language.
    language: Mapped[str | None] = mapped_column(String(5))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Last request seen: the start of "new since your last visit" for the next sign-in.
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    api_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    def can(self, permission: str) -> bool:
        return not self.disabled and permission in PERMISSIONS.get(self.role, frozenset())

    @property
    def actor_id(self) -> str:
        """The id written in a lead's history for this user's moves."""
        return self.sdr_id or self.email


class WebSession(Base):
    """A signed-in browser. The cookie holds a random token; only its SHA-256 is stored."""

    __tablename__ = "console_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("console_users.id", ondelete="CASCADE"), index=True)
    # The synchronizer token every POST form of this session must carry.
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Leads created or assigned after this are marked new: the user's previous visit.
    new_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


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


def authenticate(session: Session, email: str, password: str, now: datetime | None = None) -> User:
    """The user, if the password is right and the account usable; AuthError otherwise.

    Each wrong password counts; MAX_FAILURES in a row lock the account for LOCKOUT, even
    against the right password. The caller commits the session either way (it holds the count)."""
    now = now or utcnow()
    user = session.scalars(select(User).where(User.email == email.strip().lower())).first()
    if user is None:
        try:
            _hasher.verify(_dummy_hash(), password)
        except VerificationError:
            pass
        raise AuthError("bad_credentials", "wrong email or password")
    locked_until = aware(user.locked_until)
    if locked_until and locked_until > now:
        raise AuthError("locked", "too many failed sign-ins: the account is locked for a while")
    try:
        _hasher.verify(user.password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        user.failed_logins = (user.failed_logins or 0) + 1
        if user.failed_logins >= MAX_FAILURES:
            user.locked_until, user.failed_logins = now + LOCKOUT, 0
        raise AuthError("bad_credentials", "wrong email or password") from None
    if user.disabled:
        raise AuthError("disabled", "this account is disabled")
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.failed_logins, user.locked_until = 0, None
    return user


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
