"""A local HTTP server that behaves as HubSpot's CRM API reference says, for tests.

No test may reach the internet, and a mock that accepts anything proves nothing, so this fake
validates every request the way the published reference describes and keeps the state a test can
inspect. Standard library only (``ThreadingHTTPServer`` in a daemon thread); ``requests`` is
imported lazily, and only to deliver webhooks.

    with HubSpotServer(owners=[{"email": "ana@example.com", "firstName": "Ana", "lastName": "Ruiz"}]) as hs:
        client = MyHubSpotClient(base_url=hs.url, token=hs.token)
        ...
        assert hs.contact_by_email("lead@example.com")["properties"]["lifecyclestage"] == "lead"

The reference pages each behaviour follows are named in the docstrings with these short names
(all on developers.hubspot.com unless a full address is given):

- [UPSERT] docs/api-reference/latest/crm/objects/contacts/batch/upsert-contacts
  (``inputs`` of ``{id, idProperty, properties}``; response ``status``, ``results[].new``,
  ``startedAt``, ``completedAt``) and docs/api-reference/2026-03/crm/objects/contacts/batch/
  update-contacts ("Read-only and non-existent properties will result in an error. Properties
  values can be cleared by passing an empty string.").
- [CONTACTS] docs/api-reference/latest/crm/objects/contacts/guide (email is the primary unique
  identifier; lifecyclestage values are internal names).
- [LIMITS] docs/apps/legacy-apps/private-apps/overview (private apps: 100 requests per 10 seconds
  and 250,000 a day on Free and Starter, 190 and 625,000 on Professional; the
  ``/oauth/v2/private-apps/get/access-token-info`` endpoint), docs/developer-tooling/platform/
  usage-guidelines and changelog/2018-11-06-rate-limit-information-headers-will-be-included-in-
  http-responses (the ``X-HubSpot-RateLimit-*`` headers), apisbytier (batch endpoints take at most
  100 inputs), and the 429 body quoted from the usage guidelines in
  community.hubspot.com/t5/APIs-Integrations/Hubspot-User-experience/m-p/511719
  (``status``, ``message``, ``errorType: RATE_LIMIT``, ``correlationId``, ``policyName``).
- [ERRORS] docs/faq/api-error-responses (401, 403, 429, 502/504; ``status``/``message``/
  ``correlationId`` body), changelog/upcoming-property-validations-rules-will-be-enforced-for-apis-
  and-integrations ("Property values were not valid: [...]" with ``isValid``, ``message``,
  ``error``, ``name``; ``category: VALIDATION_ERROR``), community.hubspot.com "Improvements to
  authentication errors for V3 endpoints" (``category: INVALID_AUTHENTICATION``) and the
  ``MISSING_SCOPES`` body with ``requiredGranularScopes`` quoted from HubSpot responses in the
  community threads.
- [PROPERTIES] docs/api/crm/properties (type and fieldType are both required; property groups)
  and docs/api-reference/latest/crm/properties/create-property.
- [OWNERS] docs/api-reference/crm-crm-owners-v3/guide (``GET /crm/v3/owners``, ``id`` is what
  assigns ownership, ``userId`` "will result in an error if it is used to assign ownership").
- [NOTES] docs/api-reference/crm-notes-v3/guide (``hs_timestamp`` required, Unix ms or UTC
  format; ``hs_note_body`` up to 65,536 characters; associations ``{to: {id}, types:
  [{associationCategory, associationTypeId}]}``, 202 = note to contact, HUBSPOT_DEFINED).
- [GDPR] docs/api-reference/legacy/crm/objects/contacts/gdpr/gdpr-delete-contact and
  changelog/changes-to-the-gdpr-deletion-endpoints-for-the-crm-contact-object-api (``POST
  .../gdpr-delete`` with ``objectId`` and optional ``idProperty: email``; an unknown email is
  added to a blocklist "and prevent it from being used in the future").
- [LIFECYCLE] docs/methods/contacts/update_contact-by-email (legacy v1 page, still the only one
  that states it: "The Lifecycle stage is not designed to move backwards. If you need to set this
  property to an previous stage, you will first need to set the value to "" (an empty string) and
  then set the new Stage") and integrate.hubspot.com/t/update-lifecycle-stage-using-api/1333
  (a backwards set answers success and the value does not change).
- [SIGNATURE] docs/apps/developer-platform/build-apps/authentication/request-validation and
  changelog/introducing-version-3-of-webhook-signatures (``X-HubSpot-Signature-v3`` = base64 of
  HMAC SHA-256 with the app secret over ``method + uri + body + timestamp``,
  ``X-HubSpot-Request-Timestamp`` in ms, reject timestamps older than 5 minutes).
- [WEBHOOKS] docs/apps/legacy-apps/private-apps/build-with-projects/configure-webhooks
  (``contact.propertyChange`` with ``propertyName``, ``contact.deletion``,
  ``contact.privacyDeletion``); the event fields follow HubSpot's webhook payload documentation
  as known (eventId, subscriptionId, portalId, appId, occurredAt, subscriptionType,
  attemptNumber, objectId, propertyName, propertyValue, changeSource, sourceId).

Where the stored reference does not give an exact string (an error ``message``, a sub-code), the
fake follows HubSpot's observed behaviour as known and says so in a comment marked "not in the
stored reference".
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import math
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

DEFAULT_TOKEN = "pat-na1-test-token"
# What a contact sync needs [CONTACTS], [PROPERTIES], [OWNERS]; notes need the contact scopes [NOTES].
DEFAULT_SCOPES = (
    "crm.objects.contacts.read",
    "crm.objects.contacts.write",
    "crm.schemas.contacts.read",
    "crm.schemas.contacts.write",
    "crm.objects.owners.read",
)
# [LIMITS]: private apps on Free and Starter, 100 requests per 10 seconds, 250,000 a day.
DEFAULT_RATE_LIMIT = (100, 10.0)
DEFAULT_DAILY_LIMIT = 250_000
MAX_BATCH_INPUTS = 100  # [LIMITS] apisbytier / [UPSERT]
NOTE_BODY_MAX = 65_536  # [NOTES]
NOTE_TO_CONTACT = 202  # [NOTES] HUBSPOT_DEFINED association type note -> contact
SIGNATURE_MAX_AGE_MS = 5 * 60 * 1000  # [SIGNATURE]
WEBHOOK_BATCH_MAX = 100  # HubSpot sends up to 100 events per webhook request (not in the stored reference)

# The default lifecycle stages in their order [CONTACTS]; customizable since 2022
# (changelog/upcoming-customized-lifecycle-stages-for-contacts-and-companies).
LIFECYCLE_STAGES = (
    ("subscriber", "Subscriber"),
    ("lead", "Lead"),
    ("marketingqualifiedlead", "Marketing Qualified Lead"),
    ("salesqualifiedlead", "Sales Qualified Lead"),
    ("opportunity", "Opportunity"),
    ("customer", "Customer"),
    ("evangelist", "Evangelist"),
    ("other", "Other"),
)
LEAD_STATUSES = (
    ("NEW", "New"),
    ("OPEN", "Open"),
    ("IN_PROGRESS", "In Progress"),
    ("OPEN_DEAL", "Open Deal"),
    ("UNQUALIFIED", "Unqualified"),
    ("ATTEMPTED_TO_CONTACT", "Attempted to Contact"),
    ("CONNECTED", "Connected"),
    ("BAD_TIMING", "Bad Timing"),
)
# [PROPERTIES]: the valid ``type`` and ``fieldType`` values of the properties API.
PROPERTY_TYPES = {"bool", "enumeration", "date", "datetime", "string", "number", "phone_number", "json"}
FIELD_TYPES = {
    "booleancheckbox",
    "calculation_equation",
    "checkbox",
    "date",
    "file",
    "html",
    "number",
    "phonenumber",
    "radio",
    "select",
    "text",
    "textarea",
}
ASSOCIATION_CATEGORIES = {"HUBSPOT_DEFINED", "USER_DEFINED", "INTEGRATOR_DEFINED"}
NOTE_PROPERTIES = ("hs_timestamp", "hs_note_body", "hubspot_owner_id", "hs_attachment_ids")
# What GET /crm/v3/objects/contacts/{id} returns when no ``properties`` are asked for.
DEFAULT_READ_PROPERTIES = ("createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname")
READ_ONLY = {"hs_object_id", "createdate", "lastmodifieddate"}
EMAIL_SHAPE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def _iso(ts: float | None = None) -> str:
    """HubSpot's timestamp format: ISO 8601 in UTC with milliseconds, e.g. 2024-01-15T10:30:00.000Z."""
    moment = datetime.fromtimestamp(time.time() if ts is None else ts, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _option(value: str, label: str, order: int) -> dict:
    return {"label": label, "value": value, "displayOrder": order, "hidden": False, "description": ""}


def _decode_uri(uri: str) -> str:
    """[SIGNATURE]: the URL-encoded characters HubSpot decodes in the URI before signing."""
    for encoded, char in (
        ("%3A", ":"),
        ("%2F", "/"),
        ("%3F", "?"),
        ("%40", "@"),
        ("%21", "!"),
        ("%24", "$"),
        ("%27", "'"),
        ("%28", "("),
        ("%29", ")"),
        ("%2A", "*"),
        ("%2C", ","),
        ("%3B", ";"),
    ):
        uri = uri.replace(encoded, char).replace(encoded.lower(), char)
    return uri


def sign_v3(app_secret: str, method: str, uri: str, body: str | bytes, timestamp_ms: int | str) -> str:
    """[SIGNATURE]: base64(HMAC-SHA256(app secret, method + decoded URI + body + timestamp)), UTF-8."""
    if isinstance(body, bytes):
        body = body.decode("utf-8")
    source = f"{method.upper()}{_decode_uri(uri)}{body}{timestamp_ms}".encode()
    digest = hmac.new(app_secret.encode("utf-8"), source, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


class HubSpotError(Exception):
    """One of HubSpot's JSON error responses [ERRORS]."""

    def __init__(
        self,
        status: int,
        message: str,
        category: str | None = None,
        *,
        errors: list | None = None,
        extra: dict | None = None,
        headers: dict | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.body: dict[str, Any] = {"status": "error", "message": message}
        if category:
            self.body["category"] = category
        if errors:
            self.body["errors"] = errors
        self.body.update(extra or {})
        self.headers = headers or {}


def _validation_error(problems: list[dict]) -> HubSpotError:
    """[ERRORS] property validation: the JSON list inside ``message`` and, as the v3 APIs do, ``errors``."""
    return HubSpotError(
        400,
        "Property values were not valid: " + json.dumps(problems, separators=(",", ":")),
        "VALIDATION_ERROR",
        errors=[
            {"message": p["message"], "code": p["error"], "context": {"propertyName": [p["name"]]}} for p in problems
        ],
    )


def _bad_input(message: str) -> HubSpotError:
    return HubSpotError(400, message, "VALIDATION_ERROR")


def _not_found(message: str = "") -> HubSpotError:
    # HubSpot answers a missing record with 404; the JSON body here is for the test's benefit
    # (the real API's body for a missing record is not in the stored reference).
    return HubSpotError(404, message or "resource not found", "OBJECT_NOT_FOUND")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeHubSpot/1.0"

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass

    def do_GET(self):
        self.server.hubspot._serve(self)

    do_POST = do_PATCH = do_PUT = do_DELETE = do_GET


class HubSpotServer:
    """HubSpot's CRM API on http://127.0.0.1:<free port>, with the state a test inspects.

    State (read it; change it through the API or the salesperson actions below):
      ``contacts`` id -> {"id", "properties", "createdAt", "updatedAt", "archived"};
      ``notes`` id -> {"id", "properties", "associations", "createdAt", "updatedAt", "archived"};
      ``properties`` name -> contact property definition; ``groups`` name -> property group;
      ``owners`` (list of owner records); ``requests`` (log of method, path, query, headers, json,
      body, status); ``gdpr_deleted`` (emails, in order); ``events`` (every webhook event made);
      ``webhook_deliveries`` (url, headers, body, status of each webhook request sent);
      ``pending_events`` (propertyChange events of the API's own writes, sent by
      ``deliver_pending()``). Set ``webhook_target`` (URL) to receive webhooks and
      ``webhook_properties`` (a set of names, None for all) to narrow propertyChange subscriptions.
    """

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        scopes: Iterable[str] = DEFAULT_SCOPES,
        owners: Iterable[dict] | None = None,
        rate_limit: tuple[int, float] = DEFAULT_RATE_LIMIT,
        daily_limit: int = DEFAULT_DAILY_LIMIT,
        app_secret: str = "test-app-secret",
        portal_id: int = 62515,
        app_id: int = 987654,
        webhook_target: str | None = None,
        send_retry_after: bool = True,
    ):
        self.token = token
        self.scopes = set(scopes)
        self.rate_limit = (int(rate_limit[0]), float(rate_limit[1]))
        self.daily_limit = int(daily_limit)
        self.app_secret = app_secret
        self.portal_id = portal_id
        self.app_id = app_id
        self.webhook_target = webhook_target
        self.send_retry_after = send_retry_after

        self.contacts: dict[str, dict] = {}
        self.archived_contacts: dict[str, dict] = {}
        self.notes: dict[str, dict] = {}
        self.properties: dict[str, dict] = {}
        self.groups: dict[str, dict] = {}
        self.owners: list[dict] = []
        self.requests: list[dict] = []
        self.gdpr_deleted: list[str] = []
        self.events: list[dict] = []
        self.webhook_deliveries: list[dict] = []
        self.pending_events: list[dict] = []
        # Property names with a contact.propertyChange subscription; None subscribes to all.
        self.webhook_properties: set[str] | None = None

        self._lock = threading.RLock()
        self._next_id = 1001
        self._next_event_id = 100
        self._token_expired = False
        self._faults: deque[int] = deque()
        self._delays: deque[float] = deque()
        self._windows: dict[str, deque[float]] = {}
        self._daily_used: dict[str, int] = {}
        self._httpd: ThreadingHTTPServer | None = None
        self._by_email: dict[str, str] = {}  # email -> contact id, so lookups stay fast at 10,000 contacts
        self._thread: threading.Thread | None = None

        self._install_defaults()
        for owner in owners or ():
            self.add_owner(**owner)
        self._routes: list[tuple[str, re.Pattern, Callable, tuple[str, ...], bool]] = [
            (
                "POST",
                re.compile(r"/crm/v3/objects/contacts/batch/upsert"),
                self._upsert,
                ("crm.objects.contacts.write",),
                True,
            ),
            (
                "POST",
                re.compile(r"/crm/v3/objects/contacts/gdpr-delete"),
                self._gdpr_delete,
                ("crm.objects.contacts.write",),
                True,
            ),
            (
                "POST",
                re.compile(r"/crm/v3/objects/contacts"),
                self._create_contact,
                ("crm.objects.contacts.write",),
                True,
            ),
            ("GET", re.compile(r"/crm/v3/objects/contacts"), self._list_contacts, ("crm.objects.contacts.read",), True),
            (
                "GET",
                re.compile(r"/crm/v3/objects/contacts/(?P<id>[^/]+)"),
                self._get_contact,
                ("crm.objects.contacts.read",),
                True,
            ),
            (
                "PATCH",
                re.compile(r"/crm/v3/objects/contacts/(?P<id>[^/]+)"),
                self._patch_contact,
                ("crm.objects.contacts.write",),
                True,
            ),
            (
                "DELETE",
                re.compile(r"/crm/v3/objects/contacts/(?P<id>[^/]+)"),
                self._archive_contact,
                ("crm.objects.contacts.write",),
                True,
            ),
            (
                "POST",
                re.compile(r"/crm/v3/objects/notes/batch/create"),
                self._create_notes,
                ("crm.objects.contacts.write",),
                True,
            ),
            ("POST", re.compile(r"/crm/v3/objects/notes"), self._create_note, ("crm.objects.contacts.write",), True),
            (
                "GET",
                re.compile(r"/crm/v3/objects/notes/(?P<id>[^/]+)"),
                self._get_note,
                ("crm.objects.contacts.read",),
                True,
            ),
            (
                "GET",
                re.compile(r"/crm/v3/properties/contacts/groups"),
                self._list_groups,
                ("crm.schemas.contacts.read",),
                True,
            ),
            (
                "POST",
                re.compile(r"/crm/v3/properties/contacts/groups"),
                self._create_group,
                ("crm.schemas.contacts.write",),
                True,
            ),
            (
                "GET",
                re.compile(r"/crm/v3/properties/contacts/groups/(?P<name>[^/]+)"),
                self._get_group,
                ("crm.schemas.contacts.read",),
                True,
            ),
            (
                "GET",
                re.compile(r"/crm/v3/properties/contacts"),
                self._list_properties,
                ("crm.schemas.contacts.read",),
                True,
            ),
            (
                "POST",
                re.compile(r"/crm/v3/properties/contacts"),
                self._create_property,
                ("crm.schemas.contacts.write",),
                True,
            ),
            (
                "GET",
                re.compile(r"/crm/v3/properties/contacts/(?P<name>[^/]+)"),
                self._get_property,
                ("crm.schemas.contacts.read",),
                True,
            ),
            ("GET", re.compile(r"/crm/v3/owners"), self._list_owners, ("crm.objects.owners.read",), True),
            ("GET", re.compile(r"/crm/v3/owners/(?P<id>[^/]+)"), self._get_owner, ("crm.objects.owners.read",), True),
            # [LIMITS]: the token goes in the body, not in an Authorization header.
            ("POST", re.compile(r"/oauth/v2/private-apps/get/access-token-info"), self._token_info, (), False),
        ]

    # ---------------------------------------------------------------- lifecycle of the server

    @property
    def url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("HubSpotServer is not started")
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def start(self) -> HubSpotServer:
        """Listen on 127.0.0.1 at a free port, serving from a daemon thread."""
        if self._httpd is not None:
            return self
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        httpd.daemon_threads = True
        httpd.hubspot = self  # type: ignore[attr-defined]
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), name="fake-hubspot", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> HubSpotServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # ---------------------------------------------------------------- set-up and inspection

    def _install_defaults(self) -> None:
        """Default contact property groups and properties (a subset of HubSpot's) [PROPERTIES]."""
        for order, (name, label) in enumerate(
            (
                ("contactinformation", "Contact information"),
                ("sales_properties", "Sales properties"),
                ("conversioninformation", "Conversion information"),
                ("emailinformation", "Email information"),
                ("socialmediainformation", "Social media information"),
            )
        ):
            self.groups[name] = {"name": name, "label": label, "displayOrder": order, "archived": False}
        text = ("string", "text")
        for name, label, (ptype, field), group in (
            ("email", "Email", text, "contactinformation"),
            ("firstname", "First Name", text, "contactinformation"),
            ("lastname", "Last Name", text, "contactinformation"),
            ("company", "Company Name", text, "contactinformation"),
            ("phone", "Phone Number", ("string", "phonenumber"), "contactinformation"),
            ("mobilephone", "Mobile Phone Number", ("string", "phonenumber"), "contactinformation"),
            ("jobtitle", "Job Title", text, "contactinformation"),
            ("website", "Website URL", text, "contactinformation"),
            ("city", "City", text, "contactinformation"),
            ("country", "Country/Region", text, "contactinformation"),
            ("message", "Message", ("string", "textarea"), "contactinformation"),
            ("annualrevenue", "Annual Revenue", text, "contactinformation"),
            ("lifecyclestage", "Lifecycle Stage", ("enumeration", "radio"), "contactinformation"),
            ("hs_lead_status", "Lead Status", ("enumeration", "radio"), "sales_properties"),
            ("hubspot_owner_id", "Contact owner", ("enumeration", "select"), "sales_properties"),
            ("numemployees", "Number of Employees", ("enumeration", "select"), "contactinformation"),
            ("hs_object_id", "Record ID", ("number", "number"), "contactinformation"),
            ("createdate", "Create Date", ("datetime", "date"), "contactinformation"),
            ("lastmodifieddate", "Last Modified Date", ("datetime", "date"), "contactinformation"),
        ):
            self.properties[name] = self._property_record(
                name=name, label=label, type=ptype, fieldType=field, groupName=group, hubspotDefined=True
            )
        self.properties["email"]["hasUniqueValue"] = True
        self.properties["hs_object_id"]["hasUniqueValue"] = True
        for name in READ_ONLY:
            self.properties[name]["modificationMetadata"]["readOnlyValue"] = True
        self.properties["lifecyclestage"]["options"] = [
            _option(v, label, i) for i, (v, label) in enumerate(LIFECYCLE_STAGES)
        ]
        self.properties["hs_lead_status"]["options"] = [
            _option(v, label, i) for i, (v, label) in enumerate(LEAD_STATUSES)
        ]
        self.properties["numemployees"]["options"] = [
            _option(v, v, i) for i, v in enumerate(("1-5", "5-25", "25-50", "50-100", "100-500", "500-1000", "1000+"))
        ]
        # Owners are the options of hubspot_owner_id, kept outside the property [OWNERS].
        self.properties["hubspot_owner_id"]["externalOptions"] = True

    def _property_record(self, **fields: Any) -> dict:
        now = _iso()
        record = {
            "name": fields["name"],
            "label": fields["label"],
            "type": fields["type"],
            "fieldType": fields["fieldType"],
            "groupName": fields["groupName"],
            "description": fields.get("description", ""),
            "options": copy.deepcopy(fields.get("options") or []),
            "displayOrder": fields.get("displayOrder", -1),
            "hasUniqueValue": bool(fields.get("hasUniqueValue", False)),
            "hidden": bool(fields.get("hidden", False)),
            "formField": bool(fields.get("formField", False)),
            "calculated": False,
            "externalOptions": False,
            "hubspotDefined": bool(fields.get("hubspotDefined", False)),
            "modificationMetadata": {
                "archivable": not fields.get("hubspotDefined", False),
                "readOnlyDefinition": bool(fields.get("hubspotDefined", False)),
                "readOnlyValue": False,
            },
            "createdAt": now,
            "updatedAt": now,
            "archived": False,
        }
        return record

    def add_owner(self, email: str, firstName: str = "", lastName: str = "", **extra: Any) -> dict:  # noqa: N803
        """Add an owner (a HubSpot user); ``id`` and ``userId`` are assigned [OWNERS]."""
        with self._lock:
            n = len(self.owners)
            now = _iso()
            owner = {
                "id": str(extra.pop("id", 41629779 + n)),
                "email": email,
                "type": "PERSON",
                "firstName": firstName,
                "lastName": lastName,
                "userId": int(extra.pop("userId", 9586504 + n)),
                "userIdIncludingInactive": 9586504 + n,
                "createdAt": now,
                "updatedAt": now,
                "archived": bool(extra.pop("archived", False)),
                "teams": extra.pop("teams", []),
            }
            owner.update(extra)
            self.owners.append(owner)
            return owner

    def owner_by_email(self, email: str) -> dict | None:
        return next((o for o in self.owners if o["email"].lower() == email.lower()), None)

    def add_lifecycle_stage(self, value: str, label: str | None = None, *, after: str | None = None) -> dict:
        """Add a custom lifecycle stage (allowed since 2022, see ``LIFECYCLE_STAGES``).

        The order of the options is the order [LIFECYCLE] enforces; the new stage goes after
        ``after`` (an existing stage's internal name) or last.
        """
        with self._lock:
            options = self.properties["lifecyclestage"]["options"]
            if any(o["value"] == value for o in options):
                raise ValueError(f"lifecycle stage {value!r} exists")
            option = _option(value, label or value, 0)
            index = len(options)
            if after is not None:
                index = next(i for i, o in enumerate(options) if o["value"] == after) + 1
            options.insert(index, option)
            for order, o in enumerate(options):
                o["displayOrder"] = order
            return option

    def contact_by_email(self, email: str) -> dict | None:
        """The live contact whose email is ``email`` (HubSpot matches emails case-insensitively)."""
        with self._lock:
            return self._find(email, "email")

    def notes_for(self, contact_id: str) -> list[dict]:
        """The notes associated with a contact (note -> contact, type 202) [NOTES]."""
        with self._lock:
            return [
                n
                for n in self.notes.values()
                if any(
                    a["toObjectId"] == str(contact_id) and a["toObjectType"] == "contacts" for a in n["associations"]
                )
            ]

    # ---------------------------------------------------------------- fault injection

    def fail_next(self, count: int = 1, status: int = 503) -> None:
        """The next ``count`` requests get ``status`` before anything is checked ([ERRORS]: 502/504
        are HubSpot's processing timeouts; 503 is what its load balancers answer)."""
        with self._lock:
            self._faults.extend([status] * count)

    def delay_next(self, seconds: float) -> None:
        """The next request waits ``seconds`` before it is handled, for client timeouts.

        The request is still carried out after the wait, as a real server would: a client that
        timed out does not know whether its write landed, and must retry idempotently.
        """
        with self._lock:
            self._delays.append(float(seconds))

    def expire_token(self) -> None:
        """From now on the token is refused with 401 ``EXPIRED_AUTHENTICATION``."""
        self._token_expired = True

    def reset_rate_limits(self) -> None:
        with self._lock:
            self._windows.clear()
            self._daily_used.clear()

    # ---------------------------------------------------------------- salesperson actions

    def set_property(self, contact_id: str, name: str, value: Any, change_source: str = "CRM_UI") -> dict:
        """A salesperson edits a property in HubSpot. The value is validated as the API would
        (existing property, enumeration option, owner), but the lifecycle order is not enforced:
        in the UI a user may pick an earlier stage. Sends ``contact.propertyChange`` [WEBHOOKS]."""
        with self._lock:
            contact = self._live_contact(str(contact_id))
            values = {name: self._as_string(value)}
            problems = self._check_values(values)
            if problems:
                raise ValueError(f"HubSpot would refuse this value: {problems}")
            self._apply(contact, values, enforce_lifecycle=False)
            subscribed = self.webhook_properties is None or name in self.webhook_properties
            event = self._event(
                "contact.propertyChange",
                contact["id"],
                propertyName=name,
                propertyValue=contact["properties"].get(name, ""),
                changeSource=change_source,
            )
        if subscribed:
            self._send_if_targeted([event])
        return event

    def delete_contact(self, contact_id: str, change_source: str = "CRM_UI") -> dict:
        """A salesperson deletes (archives) a contact; sends ``contact.deletion`` [WEBHOOKS]."""
        with self._lock:
            contact = self._live_contact(str(contact_id))
            self._archive(contact)
            event = self._event("contact.deletion", contact["id"], changeFlag="DELETED", changeSource=change_source)
        self._send_if_targeted([event])
        return event

    def privacy_delete(self, contact_id: str, change_source: str = "CRM_UI") -> dict:
        """A salesperson permanently deletes a contact for privacy (GDPR) [GDPR]; sends
        ``contact.privacyDeletion`` [WEBHOOKS]."""
        with self._lock:
            contact = self._live_contact(str(contact_id))
            self._purge(contact)
            event = self._event("contact.privacyDeletion", contact["id"], changeSource=change_source)
        self._send_if_targeted([event])
        return event

    def _live_contact(self, contact_id: str) -> dict:
        if contact_id not in self.contacts:
            raise KeyError(f"no contact {contact_id}")
        return self.contacts[contact_id]

    # ---------------------------------------------------------------- webhooks

    def sign(self, method: str, uri: str, body: str | bytes, timestamp_ms: int | str) -> str:
        """``X-HubSpot-Signature-v3`` for a request, with this app's secret [SIGNATURE]."""
        return sign_v3(self.app_secret, method, uri, body, timestamp_ms)

    def verify_signature(
        self,
        method: str,
        uri: str,
        body: str | bytes,
        signature: str,
        timestamp_ms: int | str,
        now_ms: int | None = None,
    ) -> bool:
        """What a receiver must do [SIGNATURE]: refuse a timestamp older than 5 minutes, then
        compare the signature in constant time."""
        now_ms = int(time.time() * 1000) if now_ms is None else now_ms
        try:
            age = now_ms - int(timestamp_ms)
        except (TypeError, ValueError):
            return False
        if age > SIGNATURE_MAX_AGE_MS:
            return False
        return hmac.compare_digest(self.sign(method, uri, body, timestamp_ms), signature)

    def _event(self, subscription_type: str, object_id: str, **fields: Any) -> dict:
        self._next_event_id += 1
        event = {
            "eventId": self._next_event_id,
            "subscriptionId": {
                "contact.propertyChange": 1001,
                "contact.deletion": 1002,
                "contact.privacyDeletion": 1003,
            }.get(subscription_type, 1000),
            "portalId": self.portal_id,
            "appId": self.app_id,
            "occurredAt": int(time.time() * 1000),
            "subscriptionType": subscription_type,
            "attemptNumber": 0,
            "objectId": int(object_id),
        }
        event.update(fields)
        event.setdefault("sourceId", "userId:9586504")
        self.events.append(event)
        return event

    def _send_if_targeted(self, events: list[dict]) -> None:
        if self.webhook_target:
            self.send_events(events)

    def deliver_pending(self) -> list:
        """Send the events the API's own writes produced (see ``_queue_changes``)."""
        with self._lock:
            events, self.pending_events = self.pending_events, []
        return self.send_events(events) if events else []

    def send_events(self, events: list[dict], *, timestamp_ms: int | None = None) -> list:
        """POST ``events`` to ``webhook_target`` as HubSpot does: a JSON array, at most 100 events a
        request, signed with ``X-HubSpot-Signature-v3`` and ``X-HubSpot-Request-Timestamp``
        [SIGNATURE]. Returns the ``requests`` responses; each delivery is kept in
        ``webhook_deliveries``."""
        import requests  # only the webhook sender needs it

        if not self.webhook_target:
            raise RuntimeError("set hs.webhook_target first")
        responses = []
        for start in range(0, len(events), WEBHOOK_BATCH_MAX):
            chunk = events[start : start + WEBHOOK_BATCH_MAX]
            body = json.dumps(chunk, separators=(",", ":"))
            stamp = int(time.time() * 1000) if timestamp_ms is None else timestamp_ms
            headers = {
                "Content-Type": "application/json",
                "User-Agent": "HubSpot Connect 2.0 (http://dev.hubspot.com/) - WebhooksExecutorDaemon-executor",
                "X-HubSpot-Request-Timestamp": str(stamp),
                "X-HubSpot-Signature-v3": self.sign("POST", self.webhook_target, body, stamp),
            }
            delivery: dict[str, Any] = {"url": self.webhook_target, "headers": headers, "body": body, "status": None}
            self.webhook_deliveries.append(delivery)
            response = requests.post(self.webhook_target, data=body.encode("utf-8"), headers=headers, timeout=10)
            delivery["status"] = response.status_code
            responses.append(response)
        return responses

    # ---------------------------------------------------------------- the HTTP side

    def _serve(self, req: BaseHTTPRequestHandler) -> None:
        split = urlsplit(req.path)
        path = split.path.rstrip("/") or "/"
        query = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        length = int(req.headers.get("Content-Length") or 0)
        raw = req.rfile.read(length) if length else b""
        entry: dict[str, Any] = {
            "method": req.command,
            "path": path,
            "query": query,
            "headers": dict(req.headers.items()),
            "body": raw.decode("utf-8", "replace"),
            "json": None,
            "status": None,
        }
        try:
            entry["json"] = json.loads(raw) if raw else None
        except ValueError:
            pass
        with self._lock:
            self.requests.append(entry)
            delay = self._delays.popleft() if self._delays else 0.0
        if delay:
            time.sleep(delay)
        status, body, headers = self._respond(req.command, path, query, raw, req.headers)
        entry["status"] = status
        payload = b"" if body is None else json.dumps(body).encode("utf-8")
        try:
            req.send_response(status)
            if body is not None:
                req.send_header("Content-Type", "application/json;charset=utf-8")
            req.send_header("Content-Length", str(len(payload)))
            for key, value in headers.items():
                req.send_header(key, str(value))
            req.end_headers()
            req.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (delay_next); the request was carried out all the same

    def _respond(self, method: str, path: str, query: dict, raw: bytes, headers) -> tuple[int, Any, dict]:
        correlation = str(uuid.uuid4())
        out_headers: dict[str, Any] = {"X-HubSpot-Correlation-Id": correlation}
        try:
            with self._lock:
                if self._faults:
                    raise self._fault(self._faults.popleft())
                handler, params, scopes, needs_auth, allowed = self._route(method, path)
                token = None
                if needs_auth or handler is None:
                    token = self._authenticate(headers.get("Authorization"))
                    out_headers.update(self._count_request(token))
                if handler is None:
                    if allowed:
                        raise HubSpotError(405, f"{method} is not supported on {path}", "VALIDATION_ERROR")
                    raise _not_found(f"No route for {method} {path}")
                if scopes and not self.scopes & set(scopes):
                    raise self._missing_scopes(scopes)
                status, body = handler(params=params, query=query, raw=raw, token=token, headers=out_headers)
                return status, body, out_headers
        except HubSpotError as error:
            out_headers.update(error.headers)
            error.body.setdefault("correlationId", correlation)
            return error.status, error.body, out_headers
        except Exception as error:  # a bug in the fake: answer, so the test sees it
            body = {"status": "error", "message": f"fake HubSpot failed: {error!r}", "correlationId": correlation}
            return 500, body, out_headers

    def _route(self, method: str, path: str):
        allowed: list[str] = []
        for route_method, pattern, handler, scopes, needs_auth in self._routes:
            match = pattern.fullmatch(path)
            if not match:
                continue
            if route_method == method:
                return handler, {k: unquote(v) for k, v in match.groupdict().items()}, scopes, needs_auth, allowed
            allowed.append(route_method)
        return None, {}, (), True, allowed

    def _fault(self, status: int) -> HubSpotError:
        if status == 429:
            return self._rate_limited("TEN_SECONDLY_ROLLING", {"Retry-After": 1} if self.send_retry_after else None)
        if status in (401, 403):
            return HubSpotError(status, "Injected fault", "INVALID_AUTHENTICATION")
        return HubSpotError(status, f"Injected fault: HTTP {status}", "SERVICE_UNAVAILABLE" if status >= 500 else None)

    def _authenticate(self, authorization: str | None) -> str:
        """[ERRORS]: 401 with ``category: INVALID_AUTHENTICATION`` when the Bearer token is missing or
        wrong; an expired token gets ``EXPIRED_AUTHENTICATION`` (HubSpot's OAuth wording, not in the
        stored reference; a rotated private-app token is refused the same way)."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise HubSpotError(
                401,
                "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can "
                "find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview",
                "INVALID_AUTHENTICATION",
            )
        token = token.strip()
        if token != self.token:
            raise HubSpotError(
                401,
                "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can "
                "find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview",
                "INVALID_AUTHENTICATION",
            )
        if self._token_expired:
            raise HubSpotError(
                401, "The OAuth token used to make this call expired 0 day(s) ago.", "EXPIRED_AUTHENTICATION"
            )
        return token

    def _count_request(self, token: str) -> dict:
        """[LIMITS]: a rolling window per token (``policyName`` TEN_SECONDLY_ROLLING) and a daily
        count, with the ``X-HubSpot-RateLimit-*`` headers on every authenticated response. A
        refused request is not counted. A 429 also carries ``Retry-After`` in seconds (until the
        oldest call leaves the window; until midnight UTC for the daily limit): the stored
        reference pages do not show it, but HubSpot sends it and its usage guidelines are cited
        for honouring it (github.com/PostHog/posthog/pull/64726). ``send_retry_after=False``
        leaves it out, for a client that must cope with the ``X-HubSpot-RateLimit-*`` headers
        alone."""
        max_calls, interval = self.rate_limit
        now = time.monotonic()
        window = self._windows.setdefault(token, deque())
        while window and now - window[0] >= interval:
            window.popleft()
        used_today = self._daily_used.get(token, 0)
        headers = {
            "X-HubSpot-RateLimit-Interval-Milliseconds": int(interval * 1000),
            "X-HubSpot-RateLimit-Max": max_calls,
            "X-HubSpot-RateLimit-Remaining": max(0, max_calls - len(window)),
            "X-HubSpot-RateLimit-Daily": self.daily_limit,
            "X-HubSpot-RateLimit-Daily-Remaining": max(0, self.daily_limit - used_today),
        }
        if used_today >= self.daily_limit:
            if self.send_retry_after:
                headers["Retry-After"] = 86_400 - int(time.time()) % 86_400
            raise self._rate_limited("DAILY", headers)
        if len(window) >= max_calls:
            if self.send_retry_after:
                headers["Retry-After"] = max(1, math.ceil(interval - (now - window[0])))
            raise self._rate_limited("TEN_SECONDLY_ROLLING", headers)
        window.append(now)
        self._daily_used[token] = used_today + 1
        headers["X-HubSpot-RateLimit-Remaining"] = max_calls - len(window)
        headers["X-HubSpot-RateLimit-Daily-Remaining"] = self.daily_limit - used_today - 1
        return headers

    def _rate_limited(self, policy: str, headers: dict | None = None) -> HubSpotError:
        """[LIMITS] the 429 body: ``errorType: RATE_LIMIT`` and ``policyName``; the v3 APIs also
        carry ``category: RATE_LIMITS``."""
        message = (
            "You have reached your daily limit."
            if policy == "DAILY"
            else f"You have reached your {policy.lower()} limit."
        )
        return HubSpotError(
            429,
            message,
            "RATE_LIMITS",
            extra={"errorType": "RATE_LIMIT", "policyName": policy, "requestId": str(uuid.uuid4())},
            headers=headers,
        )

    def _missing_scopes(self, scopes: tuple[str, ...]) -> HubSpotError:
        """403 ``MISSING_SCOPES`` with the scopes that would do in ``requiredGranularScopes`` [ERRORS]."""
        return HubSpotError(
            403,
            "This app hasn't been granted all required scopes to make this call. Read more about required scopes "
            "here: https://developers.hubspot.com/scopes.",
            "MISSING_SCOPES",
            errors=[
                {
                    "message": "One or more of the following scopes are required.",
                    "context": {"requiredGranularScopes": sorted(scopes)},
                }
            ],
            extra={"links": {"scopes": "https://developers.hubspot.com/scopes"}},
        )

    # ---------------------------------------------------------------- request bodies and values

    @staticmethod
    def _json_object(raw: bytes) -> dict:
        """The body must be a JSON object; HubSpot answers 400 "Invalid input JSON ..." otherwise."""
        if not raw:
            raise _bad_input("Invalid input JSON: the request body is empty.")
        try:
            body = json.loads(raw)
        except json.JSONDecodeError as error:
            raise _bad_input(f"Invalid input JSON on line {error.lineno}, column {error.colno}: {error.msg}") from None
        except ValueError:  # not UTF-8
            raise _bad_input("Invalid input JSON: the body is not UTF-8.") from None
        if not isinstance(body, dict):
            raise _bad_input("Invalid input JSON: expected an object.")
        return body

    @staticmethod
    def _as_string(value: Any) -> str:
        """HubSpot stores and returns every property value as a string."""
        if value is None:
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (int, float, str)):
            return str(value)
        raise _bad_input(f"Invalid input JSON: property values must be strings, numbers or booleans, not {value!r}")

    def _properties_of(self, body: dict, where: str = "properties") -> dict[str, str]:
        properties = body.get("properties")
        if not isinstance(properties, dict):
            raise _bad_input(f"Invalid input JSON: `{where}` must be an object of property names to values.")
        return {str(name): self._as_string(value) for name, value in properties.items()}

    def _check_values(self, values: dict[str, str]) -> list[dict]:
        """Per property [UPSERT]/[ERRORS]: it must exist (``PROPERTY_DOESNT_EXIST``), not be read-only
        (``READ_ONLY_VALUE``), an enumeration value must be one of its options (``INVALID_OPTION``),
        a bool "true"/"false", ``email`` an address (``INVALID_EMAIL``) and ``hubspot_owner_id`` an
        owner's ``id`` [OWNERS]. An empty string
        clears a value and is always allowed. Sub-codes other than PROPERTY_DOESNT_EXIST and
        INVALID_OPTION are HubSpot's as known, not in the stored reference."""
        problems = []
        for name, value in values.items():
            definition = self.properties.get(name)
            if definition is None or definition["archived"]:
                problems.append(self._problem(name, "PROPERTY_DOESNT_EXIST", f'Property "{name}" does not exist'))
                continue
            if definition["modificationMetadata"].get("readOnlyValue"):
                problems.append(self._problem(name, "READ_ONLY_VALUE", f'Property "{name}" is a read only property'))
                continue
            if value == "":
                continue
            if name == "email" and not EMAIL_SHAPE.fullmatch(value.strip()):
                problems.append(self._problem(name, "INVALID_EMAIL", f"Email address {value} is invalid"))
                continue
            if name == "hubspot_owner_id":
                if not any(o["id"] == value and not o["archived"] for o in self.owners):
                    problems.append(self._problem(name, "INVALID_OWNER_ID", f"{value} is not a valid owner id"))
                continue
            if definition["type"] == "enumeration":
                allowed = [o["value"] for o in definition["options"]]
                chosen = value.split(";") if definition["fieldType"] == "checkbox" else [value]
                bad = [v for v in chosen if v not in allowed]
                if bad:
                    problems.append(
                        self._problem(
                            name,
                            "INVALID_OPTION",
                            f"{bad[0]} was not one of the allowed options: [{', '.join(allowed)}]",
                        )
                    )
            elif definition["type"] == "bool" and value not in ("true", "false"):
                problems.append(self._problem(name, "INVALID_BOOLEAN", f"{value} is not a valid boolean"))
        return problems

    @staticmethod
    def _problem(name: str, code: str, message: str) -> dict:
        return {"isValid": False, "message": message, "error": code, "name": name, "localizedErrorMessage": message}

    def _stage_rank(self, stage: str) -> int:
        options = self.properties["lifecyclestage"]["options"]
        return next((i for i, o in enumerate(options) if o["value"] == stage), -1)

    def _apply(self, contact: dict, values: dict[str, str], *, enforce_lifecycle: bool = True) -> dict[str, str]:
        """Write validated values; returns the ones that changed. [LIFECYCLE]: through the API the
        lifecycle stage only moves forward; a backwards value is dropped without an error (the
        request still succeeds), unless the stage was cleared with "" first. [UPSERT]: "" clears a
        value."""
        props = contact["properties"]
        changed: dict[str, str] = {}
        for name, value in values.items():
            if name == "email":
                value = value.strip().lower()
            if name == "lifecyclestage" and enforce_lifecycle and value and props.get("lifecyclestage"):
                if self._stage_rank(value) < self._stage_rank(props["lifecyclestage"]):
                    continue
            if props.get(name, "") != value:
                changed[name] = value
            if name == "email":
                self._by_email.pop(props.get("email", ""), None)
                if value:
                    self._by_email[value] = contact["id"]
            if value == "":
                props.pop(name, None)
            else:
                props[name] = value
        now = _iso()
        contact["updatedAt"] = now
        props["lastmodifieddate"] = now
        return changed

    def _queue_changes(self, contact: dict, changed: dict[str, str]) -> None:
        """HubSpot also sends ``contact.propertyChange`` for changes an integration makes through
        the API (``changeSource`` INTEGRATION, ``sourceId`` the app; HubSpot's behaviour as known,
        not in the stored reference). They wait in ``pending_events`` until the test calls
        ``deliver_pending()``, so a client blocked on its own API call is never sent a webhook
        in the middle of it."""
        for name, value in changed.items():
            if self.webhook_properties is None or name in self.webhook_properties:
                self.pending_events.append(
                    self._event(
                        "contact.propertyChange",
                        contact["id"],
                        propertyName=name,
                        propertyValue=value,
                        changeSource="INTEGRATION",
                        sourceId=str(self.app_id),
                    )
                )

    def _new_contact(self, values: dict[str, str]) -> dict:
        contact_id = str(self._next_id)
        self._next_id += 1
        now = _iso()
        contact = {
            "id": contact_id,
            "properties": {"hs_object_id": contact_id, "createdate": now, "lastmodifieddate": now},
            "createdAt": now,
            "updatedAt": now,
            "archived": False,
        }
        self._queue_changes(contact, self._apply(contact, values))
        self.contacts[contact_id] = contact
        return contact

    def _refuse_blocklisted(self, email: str | None) -> None:
        """[GDPR]: a GDPR-deleted email is blocklisted "and prevent[ed] from being used in the
        future". The status and wording of the refusal are not in the stored reference."""
        if email and email.strip().lower() in self.gdpr_deleted:
            raise _bad_input(
                f"Cannot create a contact with email {email.strip().lower()}: the address was GDPR-deleted."
            )

    def _find(self, id_value: str, id_property: str) -> dict | None:
        if id_property == "hs_object_id":
            return self.contacts.get(id_value)
        wanted = id_value.strip().lower() if id_property == "email" else id_value
        if id_property == "email":
            contact = self.contacts.get(self._by_email.get(wanted, ""))
            return contact if contact is not None and contact["properties"].get("email") == wanted else None
        return next((c for c in self.contacts.values() if c["properties"].get(id_property) == wanted), None)

    def _unique_id_property(self, id_property: Any) -> str:
        if id_property is None:
            return "hs_object_id"
        definition = self.properties.get(str(id_property))
        if definition is None:
            raise _validation_error(
                [self._problem(str(id_property), "PROPERTY_DOESNT_EXIST", f'Property "{id_property}" does not exist')]
            )
        if not definition["hasUniqueValue"]:
            raise _bad_input(f"Property {id_property} is not a unique identifier property (hasUniqueValue is false).")
        return definition["name"]

    @staticmethod
    def _public(contact: dict, wanted: Iterable[str] | None = None, *, new: bool | None = None) -> dict:
        props = contact["properties"]
        shown = dict(props) if wanted is None else {name: props.get(name) for name in wanted}
        record = {
            "id": contact["id"],
            "properties": shown,
            "createdAt": contact["createdAt"],
            "updatedAt": contact["updatedAt"],
            "archived": contact["archived"],
        }
        if new is not None:
            record["new"] = new
        return record

    def _archive(self, contact: dict) -> None:
        del self.contacts[contact["id"]]
        self._by_email.pop(contact["properties"].get("email", ""), None)
        contact["archived"] = True
        contact["archivedAt"] = _iso()
        self.archived_contacts[contact["id"]] = contact

    def _purge(self, contact: dict) -> None:
        """[GDPR]: the contact and "all associated content" go, and the email is blocklisted."""
        self.contacts.pop(contact["id"], None)
        self._by_email.pop(contact["properties"].get("email", ""), None)
        self.archived_contacts.pop(contact["id"], None)
        email = contact["properties"].get("email")
        if email and email not in self.gdpr_deleted:
            self.gdpr_deleted.append(email)
        for note_id, note in list(self.notes.items()):
            note["associations"] = [a for a in note["associations"] if a["toObjectId"] != contact["id"]]
            if not note["associations"]:
                del self.notes[note_id]

    # ---------------------------------------------------------------- endpoints: contacts

    def _upsert(self, *, raw: bytes, **_: Any) -> tuple[int, dict]:
        """``POST /crm/v3/objects/contacts/batch/upsert`` [UPSERT].

        Each input is ``{"id": <value>, "idProperty": "email", "properties": {...}}``; a record whose
        ``idProperty`` has that value is updated (``new: false``), otherwise one is created with it
        (``new: true``). More than 100 inputs, duplicate ids, or any invalid value fail the whole
        batch with 400 and nothing is written (the community answer in [ERRORS]: "the request will
        trigger a 400 error and no fields will be updated"). The answer is 200 with ``status:
        COMPLETE``, ``results``, ``startedAt`` and ``completedAt``.
        """
        started = _iso()
        body = self._json_object(raw)
        inputs = body.get("inputs")
        if not isinstance(inputs, list):
            raise _bad_input("Invalid input JSON: `inputs` must be an array.")
        if len(inputs) > MAX_BATCH_INPUTS:
            # The limit is documented [LIMITS]; this wording is not in the stored reference.
            raise _bad_input(
                f"Batch input limit exceeded: {len(inputs)} inputs, at most {MAX_BATCH_INPUTS} are allowed."
            )
        parsed = []
        problems: list[dict] = []
        for index, item in enumerate(inputs):
            if not isinstance(item, dict):
                raise _bad_input(f"Invalid input JSON: inputs[{index}] must be an object.")
            id_value = item.get("id")
            if not isinstance(id_value, str) or not id_value.strip():
                raise _bad_input(f"Invalid input JSON: inputs[{index}].id is required.")
            id_property = self._unique_id_property(item.get("idProperty"))
            values = self._properties_of(item, f"inputs[{index}].properties")
            problems += self._check_values({"email": id_value, **values} if id_property == "email" else values)
            key = id_value.strip().lower() if id_property == "email" else id_value
            parsed.append((key, id_property, values))
        keys = [(key, prop) for key, prop, _ in parsed]
        duplicates = sorted({key for key, prop in keys if keys.count((key, prop)) > 1})
        if duplicates:
            raise _bad_input(f"Duplicate IDs found in batch input: {duplicates}. IDs must be unique")
        if problems:
            raise _validation_error(problems)
        for key, id_property, values in parsed:
            if self._find(key, id_property) is None:
                if id_property == "hs_object_id":
                    raise _not_found(f"No contact with id {key} to update (a new record's id is assigned by HubSpot).")
                self._refuse_blocklisted(values.get("email") or (key if id_property == "email" else None))
        results = []
        for key, id_property, values in parsed:
            contact = self._find(key, id_property)
            if contact is None:
                contact = self._new_contact({**({id_property: key} if id_property != "hs_object_id" else {}), **values})
                results.append(self._public(contact, new=True))
            else:
                self._queue_changes(contact, self._apply(contact, values))
                results.append(self._public(contact, new=False))
        return 200, {"status": "COMPLETE", "results": results, "startedAt": started, "completedAt": _iso()}

    def _create_contact(self, *, raw: bytes, **_: Any) -> tuple[int, dict]:
        """``POST /crm/v3/objects/contacts`` [CONTACTS]: 201 with the record; an email already in use
        is 409 ``CONFLICT`` "Contact already exists. Existing ID: <id>" (HubSpot's wording, not in
        the stored reference)."""
        values = self._properties_of(self._json_object(raw))
        problems = self._check_values(values)
        if problems:
            raise _validation_error(problems)
        email = values.get("email", "").strip().lower()
        existing = self._find(email, "email") if email else None
        if existing is not None:
            raise HubSpotError(409, f"Contact already exists. Existing ID: {existing['id']}", "CONFLICT")
        self._refuse_blocklisted(email)
        return 201, self._public(self._new_contact(values))

    def _contact_for(self, params: dict, query: dict) -> dict:
        id_property = self._unique_id_property(query.get("idProperty"))
        contact = self._find(params["id"], id_property)
        if contact is None:
            raise _not_found(f"No contact with {id_property} {params['id']}")
        return contact

    def _list_contacts(self, *, query: dict, **_: Any) -> tuple[int, dict]:
        """``GET /crm/v3/objects/contacts[?limit=&after=&properties=]``: a page of live contacts
        (``limit`` at most 100), ``paging.next.after`` when there are more."""
        try:
            limit = max(1, min(100, int(query.get("limit", 10))))
            start = int(query.get("after", 0))
        except ValueError:
            raise _bad_input("limit and after must be integers") from None
        wanted = [p for p in query.get("properties", "").split(",") if p] or list(DEFAULT_READ_PROPERTIES)
        contacts = list(self.contacts.values())
        body: dict[str, Any] = {"results": [self._public(c, wanted) for c in contacts[start : start + limit]]}
        if start + limit < len(contacts):
            body["paging"] = {"next": {"after": str(start + limit)}}
        return 200, body

    def _get_contact(self, *, params: dict, query: dict, **_: Any) -> tuple[int, dict]:
        """``GET /crm/v3/objects/contacts/{id}[?idProperty=email&properties=a,b]``: the default
        properties unless ``properties`` names others (missing ones come back null)."""
        contact = self._contact_for(params, query)
        wanted = [p for p in query.get("properties", "").split(",") if p] or list(DEFAULT_READ_PROPERTIES)
        return 200, self._public(contact, wanted)

    def _patch_contact(self, *, params: dict, query: dict, raw: bytes, **_: Any) -> tuple[int, dict]:
        """``PATCH /crm/v3/objects/contacts/{id}`` with ``{"properties": {...}}``; same value rules."""
        values = self._properties_of(self._json_object(raw))
        problems = self._check_values(values)
        if problems:
            raise _validation_error(problems)
        contact = self._contact_for(params, query)
        self._queue_changes(contact, self._apply(contact, values))
        return 200, self._public(contact)

    def _archive_contact(self, *, params: dict, query: dict, **_: Any) -> tuple[int, None]:
        """``DELETE /crm/v3/objects/contacts/{id}``: moves the record to the recycle bin, 204."""
        self._archive(self._contact_for(params, query))
        return 204, None

    def _gdpr_delete(self, *, raw: bytes, **_: Any) -> tuple[int, None]:
        """``POST /crm/v3/objects/contacts/gdpr-delete`` [GDPR]: ``{"objectId": "123"}`` or
        ``{"objectId": "a@b.c", "idProperty": "email"}``; 204. An unknown email is blocklisted all
        the same; an unknown record id is 404."""
        body = self._json_object(raw)
        object_id = body.get("objectId")
        if not isinstance(object_id, str) or not object_id.strip():
            raise _bad_input("Invalid input JSON: `objectId` is required.")
        id_property = body.get("idProperty")
        if id_property not in (None, "email", "hs_object_id"):
            raise _bad_input("`idProperty` must be email when given.")
        if id_property == "email":
            contact = self._find(object_id, "email")
            if contact is None:
                email = object_id.strip().lower()
                if email not in self.gdpr_deleted:
                    self.gdpr_deleted.append(email)
                return 204, None
        else:
            contact = self.contacts.get(object_id) or self.archived_contacts.get(object_id)
            if contact is None:
                raise _not_found(f"No contact with id {object_id}")
        self._purge(contact)
        return 204, None

    # ---------------------------------------------------------------- endpoints: notes

    def _create_notes(self, *, raw: bytes, **_: Any) -> tuple[int, dict]:
        """``POST /crm/v3/objects/notes/batch/create`` [NOTES]: ``{"inputs": [...]}``, each input a
        note as ``POST /crm/v3/objects/notes`` takes it, at most 100. Every input is checked
        before any is stored, so an invalid one fails the batch with 400 and nothing is written
        (as the contacts' batch upsert); 201 with ``status: COMPLETE`` and ``results``."""
        started = _iso()
        body = self._json_object(raw)
        inputs = body.get("inputs")
        if not isinstance(inputs, list) or not inputs:
            raise _bad_input("Invalid input JSON: `inputs` must be a non-empty array.")
        if len(inputs) > MAX_BATCH_INPUTS:
            raise _bad_input(
                f"Batch input limit exceeded: {len(inputs)} inputs, at most {MAX_BATCH_INPUTS} are allowed."
            )
        for item in inputs:
            if not isinstance(item, dict):
                raise _bad_input("Invalid input JSON: each input must be an object.")
        kept = dict(self.notes)
        next_id = self._next_id
        results = []
        try:
            for item in inputs:
                _, note = self._create_note(raw=json.dumps(item).encode())
                results.append(note)
        except Exception:
            self.notes, self._next_id = kept, next_id  # all or nothing
            raise
        return 201, {"status": "COMPLETE", "results": results, "startedAt": started, "completedAt": _iso()}

    def _create_note(self, *, raw: bytes, **_: Any) -> tuple[int, dict]:
        """``POST /crm/v3/objects/notes`` [NOTES]: ``hs_timestamp`` is required (Unix ms or ISO 8601
        UTC), ``hs_note_body`` at most 65,536 characters, ``hubspot_owner_id`` an owner, and each
        association names an existing contact with type 202 (``HUBSPOT_DEFINED``), or a
        ``USER_DEFINED`` label. 201 with the note."""
        body = self._json_object(raw)
        values = self._properties_of(body)
        problems = [
            self._problem(name, "PROPERTY_DOESNT_EXIST", f'Property "{name}" does not exist')
            for name in values
            if name not in NOTE_PROPERTIES
        ]
        stamp = values.get("hs_timestamp", "")
        if not stamp:
            # Required per [NOTES]; the error code is not in the stored reference.
            problems.append(self._problem("hs_timestamp", "REQUIRED_PROPERTY", "hs_timestamp is required"))
        elif not _valid_timestamp(stamp):
            problems.append(self._problem("hs_timestamp", "INVALID_DATETIME", f"{stamp} is not a valid timestamp"))
        if len(values.get("hs_note_body", "")) > NOTE_BODY_MAX:
            problems.append(
                self._problem(
                    "hs_note_body", "INVALID_PROPERTY_VALUE", f"hs_note_body exceeds {NOTE_BODY_MAX} characters"
                )
            )
        owner = values.get("hubspot_owner_id")
        if owner and not any(o["id"] == owner for o in self.owners):
            problems.append(self._problem("hubspot_owner_id", "INVALID_OWNER_ID", f"{owner} is not a valid owner id"))
        if problems:
            raise _validation_error(problems)
        associations = []
        raw_associations = body.get("associations", [])
        if not isinstance(raw_associations, list):
            raise _bad_input("Invalid input JSON: `associations` must be an array.")
        for index, association in enumerate(raw_associations):
            target = association.get("to") if isinstance(association, dict) else None
            types = association.get("types") if isinstance(association, dict) else None
            if (
                not isinstance(target, dict)
                or target.get("id") in (None, "")
                or not isinstance(types, list)
                or not types
            ):
                raise _bad_input(f"Invalid input JSON: associations[{index}] needs `to.id` and `types`.")
            to_id = str(target["id"])
            for kind in types:
                category = kind.get("associationCategory") if isinstance(kind, dict) else None
                type_id = kind.get("associationTypeId") if isinstance(kind, dict) else None
                if category not in ASSOCIATION_CATEGORIES or not isinstance(type_id, int):
                    raise _bad_input(
                        f"Invalid input JSON: associations[{index}].types needs associationCategory "
                        f"({', '.join(sorted(ASSOCIATION_CATEGORIES))}) and an integer associationTypeId."
                    )
                if category == "HUBSPOT_DEFINED" and type_id != NOTE_TO_CONTACT:
                    # 190 (company), 214 (deal), 228 (ticket): objects this fake does not hold.
                    raise _bad_input(f"associationTypeId {type_id} does not go from a note to a contact (202 does).")
                if to_id not in self.contacts:
                    raise _bad_input(f"associations[{index}]: no contact with id {to_id}.")
                associations.append(
                    {
                        "toObjectType": "contacts",
                        "toObjectId": to_id,
                        "associationCategory": category,
                        "associationTypeId": type_id,
                    }
                )
        note_id = str(self._next_id)
        self._next_id += 1
        now = _iso()
        note = {
            "id": note_id,
            "properties": {**values, "hs_object_id": note_id, "hs_createdate": now, "hs_lastmodifieddate": now},
            "associations": associations,
            "createdAt": now,
            "updatedAt": now,
            "archived": False,
        }
        self.notes[note_id] = note
        return 201, {k: copy.deepcopy(v) for k, v in note.items() if k != "associations"}

    def _get_note(self, *, params: dict, **_: Any) -> tuple[int, dict]:
        note = self.notes.get(params["id"])
        if note is None:
            raise _not_found(f"No note with id {params['id']}")
        return 200, {k: copy.deepcopy(v) for k, v in note.items() if k != "associations"}

    # ---------------------------------------------------------------- endpoints: properties

    def _list_properties(self, **_: Any) -> tuple[int, dict]:
        """``GET /crm/v3/properties/contacts`` [PROPERTIES]."""
        return 200, {"results": [copy.deepcopy(p) for p in self.properties.values() if not p["archived"]]}

    def _get_property(self, *, params: dict, **_: Any) -> tuple[int, dict]:
        definition = self.properties.get(params["name"])
        if definition is None:
            raise _not_found(f"Unable to find property {params['name']} for object type contacts")
        return 200, copy.deepcopy(definition)

    def _create_property(self, *, raw: bytes, **_: Any) -> tuple[int, dict]:
        """``POST /crm/v3/properties/contacts`` [PROPERTIES]: ``name``, ``label``, ``type``,
        ``fieldType`` and ``groupName`` are required; the group must exist; an enumeration needs
        ``options``; a name in use is 409 (``OBJECT_ALREADY_EXISTS``, HubSpot's wording as known).
        201 with the property."""
        body = self._json_object(raw)
        missing = [
            f
            for f in ("name", "label", "type", "fieldType", "groupName")
            if not isinstance(body.get(f), str) or not body[f]
        ]
        if missing:
            raise _bad_input(f"Invalid input JSON: missing required field(s) {', '.join(missing)}.")
        name = body["name"]
        if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
            raise _bad_input(
                f"Property name {name!r} must start with a letter and use only lowercase letters, digits and _."
            )
        if body["type"] not in PROPERTY_TYPES:
            raise _bad_input(f"Invalid type {body['type']!r}; one of {', '.join(sorted(PROPERTY_TYPES))}.")
        if body["fieldType"] not in FIELD_TYPES:
            raise _bad_input(f"Invalid fieldType {body['fieldType']!r}; one of {', '.join(sorted(FIELD_TYPES))}.")
        if body["groupName"] not in self.groups:
            raise _bad_input(f"Property group {body['groupName']} does not exist.")
        options = body.get("options") or []
        if body["type"] == "enumeration":
            if not isinstance(options, list) or not options:
                raise _bad_input("Enumeration properties need `options`.")
            for option in options:
                if not isinstance(option, dict) or not option.get("label") or not option.get("value"):
                    raise _bad_input("Each option needs a `label` and a `value`.")
        if name in self.properties:
            raise HubSpotError(409, f"Property named '{name}' already exists.", "OBJECT_ALREADY_EXISTS")
        record = self._property_record(**{**body, "options": options, "hubspotDefined": False})
        self.properties[name] = record
        return 201, copy.deepcopy(record)

    def _list_groups(self, **_: Any) -> tuple[int, dict]:
        """``GET /crm/v3/properties/contacts/groups`` [PROPERTIES]."""
        return 200, {"results": [copy.deepcopy(g) for g in self.groups.values() if not g["archived"]]}

    def _get_group(self, *, params: dict, **_: Any) -> tuple[int, dict]:
        group = self.groups.get(params["name"])
        if group is None:
            raise _not_found(f"Unable to find property group {params['name']} for object type contacts")
        return 200, copy.deepcopy(group)

    def _create_group(self, *, raw: bytes, **_: Any) -> tuple[int, dict]:
        """``POST /crm/v3/properties/contacts/groups`` [PROPERTIES]: ``name`` and ``label`` required;
        a name in use is 409 (as for properties). 201 with the group."""
        body = self._json_object(raw)
        missing = [f for f in ("name", "label") if not isinstance(body.get(f), str) or not body[f]]
        if missing:
            raise _bad_input(f"Invalid input JSON: missing required field(s) {', '.join(missing)}.")
        if body["name"] in self.groups:
            raise HubSpotError(409, f"Property group named '{body['name']}' already exists.", "OBJECT_ALREADY_EXISTS")
        group = {
            "name": body["name"],
            "label": body["label"],
            "displayOrder": body.get("displayOrder", -1),
            "archived": False,
        }
        self.groups[group["name"]] = group
        return 201, copy.deepcopy(group)

    # ---------------------------------------------------------------- endpoints: owners and token

    def _list_owners(self, *, query: dict, **_: Any) -> tuple[int, dict]:
        """``GET /crm/v3/owners[?email=&limit=&after=&archived=]`` [OWNERS]; ``paging.next.after``
        when there are more."""
        owners = [o for o in self.owners if o["archived"] == (query.get("archived", "false").lower() == "true")]
        if "email" in query:
            owners = [o for o in owners if o["email"].lower() == query["email"].strip().lower()]
        try:
            limit = max(1, min(500, int(query.get("limit", 100))))
            start = int(query.get("after", 0))
        except ValueError:
            raise _bad_input("limit and after must be integers") from None
        page = owners[start : start + limit]
        body: dict[str, Any] = {"results": copy.deepcopy(page)}
        if start + limit < len(owners):
            body["paging"] = {
                "next": {"after": str(start + limit), "link": f"{self.url}/crm/v3/owners?after={start + limit}"}
            }
        return 200, body

    def _get_owner(self, *, params: dict, query: dict, **_: Any) -> tuple[int, dict]:
        """``GET /crm/v3/owners/{ownerId}[?idProperty=userId]`` [OWNERS]."""
        key = "userId" if query.get("idProperty") == "userId" else "id"
        owner = next((o for o in self.owners if str(o[key]) == params["id"]), None)
        if owner is None:
            raise _not_found(f"No owner with {key} {params['id']}")
        return 200, copy.deepcopy(owner)

    def _token_info(self, *, raw: bytes, headers: dict, **_: Any) -> tuple[int, dict]:
        """``POST /oauth/v2/private-apps/get/access-token-info`` with ``{"tokenKey": ...}`` [LIMITS]:
        the token's ``userId``, ``hubId``, ``appId`` and ``scopes``. Rate-limited like any call."""
        body = self._json_object(raw)
        token_key = body.get("tokenKey")
        if not isinstance(token_key, str) or not token_key:
            raise _bad_input("Invalid input JSON: `tokenKey` is required.")
        token = self._authenticate(f"Bearer {token_key}")
        headers.update(self._count_request(token))
        user_id = self.owners[0]["userId"] if self.owners else 9586504
        return 200, {"userId": user_id, "hubId": self.portal_id, "appId": self.app_id, "scopes": sorted(self.scopes)}


def _valid_timestamp(value: str) -> bool:
    """[NOTES]: "either a Unix timestamp in milliseconds or UTC format"."""
    if value.isdigit():
        return True
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True
