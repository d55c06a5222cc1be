"""Every deployment setting, in one table: its environment variable, default and meaning.

The code reads `LEADQUAL_*` variables only through this module, and `deploy/env.example` lists
every setting of the table that a production deployment may set (tests/test_settings.py checks
both ways). Standard library only: Rasa's own environment imports it too (leadqual_rasa/).
What marketing owns is not here: it is in config/*.yml (leadqual/config/marketing.py).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

# The checkout: marketing's config/, web/, var/ (the database, spools, hand-off files) live here.
REPO_ROOT = Path(__file__).resolve().parent.parent
VAR = REPO_ROOT / "var"


class Setting(NamedTuple):
    name: str
    default: str | None
    meaning: str
    # Who reads it: "app" (action server, console, bin/leads), "rasa" (the Rasa server, through
    # leadqual_rasa/ or deploy/endpoints.production.yml) or "bin" (the scripts that start them).
    read_by: str = "app"

    def get(self, fallback: str | None = None, environ: Mapping[str, str] | None = None) -> str:
        """The variable's value as set (even empty), else `fallback`, else the default, else ""."""
        value = (os.environ if environ is None else environ).get(self.name)
        if value is not None:
            return value
        if fallback is not None:
            return fallback
        return self.default or ""


def _setting(name: str, default: str | None, meaning: str, read_by: str = "app") -> Setting:
    setting = Setting(f"LEADQUAL_{name}", default, meaning, read_by)
    ALL[setting.name] = setting
    return setting


ALL: dict[str, Setting] = {}

# --- storage ---
DATABASE_URL = _setting("DATABASE_URL", None, "the product's database, any SQLAlchemy URL (default: SQLite in var/)")
SPOOL = _setting("SPOOL", None, "file of answers whose save failed, retried later (default: var/pending-saves.jsonl)")
SPOOL_RETRY_SECONDS = _setting("SPOOL_RETRY_SECONDS", "30", "how often the action server retries the spooled saves")
HANDOFF_DIR = _setting("HANDOFF_DIR", None, "folder of hand-off files when no webhook is set (default: var/)")
LOG_DIR = _setting("LOG_DIR", None, "folder of the servers' logs, searched by erasure (default: var/)")

# --- marketing's files (defaults: config/*.yml) ---
QUALIFICATION = _setting("QUALIFICATION", None, "path of qualification.yml")
MESSAGES = _setting("MESSAGES", None, "path of messages.yml")
KNOWLEDGE = _setting("KNOWLEDGE", None, "path of knowledge.yml")
SAMPLE_VISITORS = _setting("SAMPLE_VISITORS", None, "path of sample_visitors.yml (the dry run)")
FLOW_REFRESH_SECONDS = _setting("FLOW_REFRESH_SECONDS", "2", "how often a server looks for a newly published flow")

# --- secrets ---
ACTION_TOKEN = _setting("ACTION_TOKEN", "", "the secret Rasa sends to the action server's /webhook and /nlg")
SESSION_SECRET = _setting("SESSION_SECRET", None, "signs the widget's socket.io session ids", "rasa")
REST_TOKEN = _setting("REST_TOKEN", "", "Bearer token of Rasa's REST channel (trusted back ends)", "rasa")
PREVIEW_SECRET = _setting("PREVIEW_SECRET", "", "signs the console's chat previews of a draft flow")
WRITE_KEY = _setting("WRITE_KEY", None, "the tracking intake's server write key")
BROWSER_WRITE_KEY = _setting("BROWSER_WRITE_KEY", None, "the tracking intake's public browser key")
METRICS_TOKEN = _setting("METRICS_TOKEN", "", "bearer token of GET /metrics (unset: /metrics answers 404)")
CONSOLE_API_TOKEN = _setting("CONSOLE_API_TOKEN", None, "bearer token of the console's JSON API")

# --- addresses ---
CORS_ORIGINS = _setting("CORS_ORIGINS", "", "the websites that embed the chat and tracking (origins)")
SITE_ORIGINS = _setting("SITE_ORIGINS", "", "the sites the public browser key may report (default: CORS_ORIGINS)")
TRUSTED_PROXIES = _setting("TRUSTED_PROXIES", "", "proxies whose X-Forwarded-For is believed (IPs or CIDRs)")
CONSOLE_URL = _setting("CONSOLE_URL", "", "the console's public address, in links sent to SDRs")
RASA_URL = _setting("RASA_URL", None, "Rasa's HTTP API, for erasing trackers (also RASA_URL)")
RASA_TRACKER_STORE_URL = _setting("RASA_TRACKER_STORE_URL", None, "Rasa's tracker database, for erasure")
PUBLIC_ACTIONS_URL = _setting("PUBLIC_ACTIONS_URL", None, "the action server as the browser reaches it")
PUBLIC_RASA_URL = _setting("PUBLIC_RASA_URL", None, "Rasa as the browser reaches it (socket.io)")

# --- servers ---
ACTIONS_HOST = _setting("ACTIONS_HOST", "127.0.0.1", "the action server's listen address")
ACTIONS_PORT = _setting("ACTIONS_PORT", "5055", "the action server's port")
ACTION_THREADS = _setting("ACTION_THREADS", "16", "threads of the action server for database work")
DELIVERY_SECONDS = _setting("DELIVERY_SECONDS", "2", "how often the outbox worker looks for messages to send")
CONSOLE_HOST = _setting("CONSOLE_HOST", "127.0.0.1", "the console's listen address")
CONSOLE_PORT = _setting("CONSOLE_PORT", "8090", "the console's port")
SITE_HOST = _setting("SITE_HOST", "127.0.0.1", "the demo website's listen address", "bin")
SITE_PORT = _setting("SITE_PORT", "8080", "the demo website's port", "bin")
PROACTIVE_SECONDS = _setting("PROACTIVE_SECONDS", "20", "the demo website opens the chat after this long")
RASA_HOST = _setting("RASA_HOST", "127.0.0.1", "Rasa's listen address", "bin")
RASA_PORT = _setting("RASA_PORT", "5005", "Rasa's port", "bin")
LOG_FORMAT = _setting("LOG_FORMAT", "text", "text or json (one JSON object per line)")
LOG_LEVEL = _setting("LOG_LEVEL", "INFO", "the servers' log level")

# --- Rasa (read by bin/run and deploy/endpoints.production.yml) ---
RASA_ENDPOINTS = _setting("RASA_ENDPOINTS", None, "Rasa's endpoints file (production: deploy/...)", "rasa")
MODEL = _setting("MODEL", None, "the trained model Rasa loads (default: the newest under models/)", "rasa")
ACTION_ENDPOINT_URL = _setting("ACTION_ENDPOINT_URL", None, "the action server's /webhook as Rasa reaches it", "rasa")
NLG_URL = _setting("NLG_URL", None, "the action server's /nlg as Rasa reaches it", "rasa")
TRACKER_RETRY_SECONDS = _setting("TRACKER_RETRY_SECONDS", "10", "how long Rasa retries its tracker store", "rasa")
MAX_MESSAGE_CHARS = _setting("MAX_MESSAGE_CHARS", "2000", "longest visitor message Rasa accepts", "rasa")
MAX_SOCKET_BYTES = _setting("MAX_SOCKET_BYTES", str(64 * 1024), "largest socket.io frame Rasa accepts", "rasa")
TRACKER_DB_HOST = _setting("TRACKER_DB_HOST", None, "Rasa's tracker store (PostgreSQL): host", "rasa")
TRACKER_DB_PORT = _setting("TRACKER_DB_PORT", None, "Rasa's tracker store: port", "rasa")
TRACKER_DB_NAME = _setting("TRACKER_DB_NAME", None, "Rasa's tracker store: database", "rasa")
TRACKER_DB_USER = _setting("TRACKER_DB_USER", None, "Rasa's tracker store: user", "rasa")
TRACKER_DB_PASSWORD = _setting("TRACKER_DB_PASSWORD", None, "Rasa's tracker store: password", "rasa")
REDIS_HOST = _setting("REDIS_HOST", None, "Redis of Rasa's lock store: host", "rasa")
REDIS_PORT = _setting("REDIS_PORT", None, "Redis of Rasa's lock store: port", "rasa")
REDIS_DB = _setting("REDIS_DB", None, "Redis of Rasa's lock store: database number", "rasa")
REDIS_PASSWORD = _setting("REDIS_PASSWORD", None, "Redis of Rasa's lock store: password", "rasa")
REDIS_KEY_PREFIX = _setting("REDIS_KEY_PREFIX", None, "Redis of Rasa's lock store: key prefix", "rasa")

# --- native CRM sync (README, "Connect your CRM"); credentials from the environment or a file ---
CRM_DESTINATION = _setting("CRM_DESTINATION", "webhook", "where sales-ready leads go: webhook, hubspot or salesforce")
HUBSPOT_API_URL = _setting("HUBSPOT_API_URL", "https://api.hubapi.com", "HubSpot's API (a test server in tests)")
HUBSPOT_TOKEN = _setting("HUBSPOT_TOKEN", None, "HubSpot private app access token")
HUBSPOT_TOKEN_FILE = _setting("HUBSPOT_TOKEN_FILE", None, "a file holding the HubSpot token (instead of the variable)")
HUBSPOT_APP_SECRET = _setting("HUBSPOT_APP_SECRET", None, "the HubSpot app's client secret: checks its webhooks")
HUBSPOT_WEBHOOK_URL = _setting(
    "HUBSPOT_WEBHOOK_URL", None, "the public URL of /crm/hubspot/webhook as set in the HubSpot app (signed by it)"
)
HUBSPOT_PORTAL_URL = _setting(
    "HUBSPOT_PORTAL_URL", "https://app.hubspot.com", "HubSpot's web app, for links to a contact"
)
SALESFORCE_LOGIN_URL = _setting(
    "SALESFORCE_LOGIN_URL", "https://login.salesforce.com", "Salesforce's OAuth server (test.salesforce.com: sandboxes)"
)
SALESFORCE_CREDENTIALS_FILE = _setting(
    "SALESFORCE_CREDENTIALS_FILE", None, "a JSON file with client_id, client_secret, refresh_token (or the three below)"
)
SALESFORCE_CLIENT_ID = _setting("SALESFORCE_CLIENT_ID", None, "the connected app's consumer key")
SALESFORCE_CLIENT_SECRET = _setting("SALESFORCE_CLIENT_SECRET", None, "the connected app's consumer secret")
SALESFORCE_REFRESH_TOKEN = _setting("SALESFORCE_REFRESH_TOKEN", None, "the integration user's OAuth refresh token")
SALESFORCE_API_VERSION = _setting("SALESFORCE_API_VERSION", "60.0", "Salesforce REST API version")
SALESFORCE_POLL_SECONDS = _setting("SALESFORCE_POLL_SECONDS", "60", "how often changes made in Salesforce are read")
CRM_CA_BUNDLE = _setting("CRM_CA_BUNDLE", None, "CA file checking the CRM's TLS certificate (default: the system's)")

# --- families: one setting per outbox destination and per intake key kind ---
WEBHOOK_KINDS = ("crm", "nurture", "live")
for _kind in WEBHOOK_KINDS:
    _setting(f"{_kind.upper()}_WEBHOOK_URL", None, f"where the {_kind} messages are delivered (unset: files)")
    _setting(f"{_kind.upper()}_WEBHOOK_SECRET", None, f"signs the {_kind} webhook's messages")
# Tracking calls per second and at once, per client, for each kind of key: the public browser
# key, the server key, and calls with an unknown or no key.
INTAKE_LIMITS = {"browser": ("20", "100"), "server": ("1000", "5000"), "unknown": ("5", "20")}
for _kind, (_rate, _burst) in INTAKE_LIMITS.items():
    _setting(f"INTAKE_{_kind.upper()}_RATE", _rate, f"tracking calls per second per client ({_kind} key)")
    _setting(f"INTAKE_{_kind.upper()}_BURST", _burst, f"tracking calls at once per client ({_kind} key)")

# --- the scripts (bin/) ---
PYTHON = _setting("PYTHON", "python3", "the Python 3.11 that builds .venv", "bin")
PYTHON310 = _setting("PYTHON310", None, "the Python 3.10 that builds .venv-rasa", "bin")
CHROMIUM = _setting("CHROMIUM", "/usr/bin/chromium", "the Chromium of the browser tests", "bin")
TEST_CLOCK_AHEAD_DAYS = _setting(
    "TEST_CLOCK_AHEAD_DAYS", None, "bin/test's second unit pass: the clock this far ahead", "bin"
)


def named(name: str) -> Setting:
    """A setting by its variable name; KeyError names a variable that is not in the table."""
    return ALL[name]
