"""What the native CRM connectors (hubspot.py, salesforce.py) share: their errors, the result of
one delivery, the report of `bin/leads crm check`, and how to build the configured one.

A connector is an outbox destination that sends a batch of claimed messages (kind `crm`) and
says, per message, delivered / retry later / failed for good, with the CRM record it wrote. The
outbox (outbox.py) stays the only way out: nothing calls a CRM outside a delivery.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import requests

from leadqual import settings

SYSTEMS = ("hubspot", "salesforce")
# Payload types that ask a connector to delete the person's record: "lead.erase" is queued by an
# erasure here (leads/privacy.py), with the records in `crm_records`.
ERASE_TYPES = ("erase", "lead.erase")


def erased_records(payload: Mapping, system: str) -> list[str]:
    """The record ids an erase message names for `system`."""
    ids = [r.get("record_id") for r in payload.get("crm_records") or [] if r.get("system") == system]
    if payload.get("record_id"):
        ids.append(payload["record_id"])
    return [str(i) for i in ids if i]


class CrmError(Exception):
    """A CRM call that failed. `retry`: worth trying again later (5xx, 429, timeouts); otherwise
    the same call would fail again and a person must act on `str(error)`."""

    def __init__(self, message: str, status: int | None = None, retry: bool = False, retry_after: float | None = None):
        super().__init__(message)
        self.status = status
        self.retry = retry
        self.retry_after = retry_after


class CredentialsError(CrmError):
    """Missing or refused credentials: a clear message naming the setting to fix."""


@dataclass
class Record:
    """A lead's record in the CRM after a delivery (stored in `crm_records`)."""

    system: str
    record_id: str | None
    url: str | None = None
    remote_stage: str | None = None
    remote_owner: str | None = None
    warning: str | None = None  # delivered, but something a person should fix (an SDR with no CRM user)


@dataclass
class CheckReport:
    """`bin/leads crm check` / `connect`: what is missing, what was created, one lead as the CRM
    would see it."""

    system: str
    problems: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    example: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems


class Connector(Protocol):
    system: str
    batch_limit: int

    def deliver(self, messages: list[Mapping]) -> list[Record | CrmError]:
        """Send messages (each {"key", "payload", "created_at"}), one result per message."""
        ...

    def check(self, create: bool = False) -> CheckReport: ...


def read_secret_file(path: str) -> str:
    """A credential from a file (never from the command line, where `ps` would show it)."""
    try:
        return Path(path).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise CredentialsError(f"cannot read the credentials file {path}: {exc.strerror}") from None


def hubspot_token(environ: Mapping[str, str] | None = None) -> str:
    environ = os.environ if environ is None else environ
    token = settings.HUBSPOT_TOKEN.get(environ=environ)
    path = settings.HUBSPOT_TOKEN_FILE.get(environ=environ)
    if not token and path:
        token = read_secret_file(path)
    if not token:
        raise CredentialsError(
            "no HubSpot token: set LEADQUAL_HUBSPOT_TOKEN or LEADQUAL_HUBSPOT_TOKEN_FILE"
            " to a private app's access token"
        )
    return token


def salesforce_credentials(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    environ = os.environ if environ is None else environ
    found = {
        "client_id": settings.SALESFORCE_CLIENT_ID.get(environ=environ),
        "client_secret": settings.SALESFORCE_CLIENT_SECRET.get(environ=environ),
        "refresh_token": settings.SALESFORCE_REFRESH_TOKEN.get(environ=environ),
    }
    path = settings.SALESFORCE_CREDENTIALS_FILE.get(environ=environ)
    if path:
        try:
            data = json.loads(read_secret_file(path))
        except json.JSONDecodeError as exc:
            raise CredentialsError(f"{path} is not JSON: {exc.msg}") from None
        if not isinstance(data, dict):
            raise CredentialsError(f"{path} must hold a JSON object with client_id, client_secret, refresh_token")
        found.update({k: str(v) for k, v in data.items() if k in found and v})
    missing = [k for k, v in found.items() if not v]
    if missing:
        names = ", ".join(f"LEADQUAL_SALESFORCE_{k.upper()}" for k in missing)
        raise CredentialsError(f"Salesforce credentials missing: {names} (or LEADQUAL_SALESFORCE_CREDENTIALS_FILE)")
    return found


def configured_system(environ: Mapping[str, str] | None = None) -> str | None:
    """ "hubspot", "salesforce", or None for the generic webhook (LEADQUAL_CRM_DESTINATION)."""
    value = settings.CRM_DESTINATION.get(environ=environ).strip().lower() or "webhook"
    if value == "webhook":
        return None
    if value not in SYSTEMS:
        raise CredentialsError(f"LEADQUAL_CRM_DESTINATION must be webhook, hubspot or salesforce, not {value!r}")
    return value


def http_session(environ: Mapping[str, str] | None = None) -> requests.Session:
    """A session checking the CRM's certificate against LEADQUAL_CRM_CA_BUNDLE when set. requests
    would let REQUESTS_CA_BUNDLE from the environment replace a session's own `verify`, so the
    environment is not consulted then."""
    session = requests.Session()
    bundle = settings.CRM_CA_BUNDLE.get(environ=environ)
    if bundle:
        session.verify = bundle
        session.trust_env = False
    return session
