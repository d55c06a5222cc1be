"""What every page of the console shares: the console's context (store, config, rendering,
permission checks), its cookies and security headers, and the errors pages raise."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from leadqual.config.marketing import QualificationConfig
from leadqual.delivery.outbox import DeliveryWorker
from leadqual.leads.store import LeadStore

from .decisions import Decisions
from .live import LiveConsole

HERE = Path(__file__).resolve().parent
COOKIE = "lq_session"
LOGIN_CSRF_COOKIE = "lq_login_csrf"
LANG_COOKIE = "lq_lang"
SECURITY_HEADERS = {
    # No script runs on any console page: visitor text that slipped through would still be inert.
    # Pages may frame this console's own pages (the live transcript); only that one may be framed.
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-src 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}
DECISION_LABELS = {
    "accepted": "accept",
    "qualified": "qualify",
    "converted": "convert",
    "rejected": "reject",
    "recycled": "recycle",
    "reassigned": "reassign",
    "noted": "add_note",
    "took_over": "take_over",
    "identity_confirmed": "confirm_identity",
}
# The live transcript (an iframe in the live conversation page) is the one page that may be framed, by this origin.
FRAMEABLE = {
    "Content-Security-Policy": SECURITY_HEADERS["Content-Security-Policy"].replace(
        "frame-ancestors 'none'", "frame-ancestors 'self'"
    ),
    "X-Frame-Options": "SAMEORIGIN",
}
LIVE_DONE = ("took_over", "sent", "handed_back")
# How often the live transcript reloads itself (no scripts: a meta refresh in its iframe).
LIVE_REFRESH_SECONDS = 5


class NeedsSignIn(Exception):
    pass


class Forbidden(Exception):
    pass


def templates() -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


def safe_next(target: str | None) -> str:
    """Only a path on this site: never another origin (open redirect)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/leads"


@dataclass
class Console:
    """One console app's shared parts, built by app.build_app and given to each page group."""

    store: LeadStore
    config: QualificationConfig
    render: Callable[..., Any]  # render(request, template, status=200, **context) -> HTML response
    need: Callable[..., Any]  # need(request, permission) -> the signed-in User, or raises
    secure: Callable[[Any], bool]  # whether cookies get the Secure flag for this request
    decisions: Decisions
    live: LiveConsole
    dead_letters: DeliveryWorker
    api_token: str | None
