"""HubSpot as an outbox destination: contacts upserted by email, a note with the transcript and
the score explained, the owner looked up from the routed SDR, GDPR deletes.

Calls follow HubSpot's CRM v3 API reference: `POST /crm/v3/objects/contacts/batch/upsert`
(`idProperty: email`, at most 100 inputs), the Properties API for the product's own properties
(created in their own group on connect), the Owners API, notes associated with their contact
(association type 202), `POST /crm/v3/objects/contacts/gdpr-delete`. The rate limit is one
budget shared by all workers (ratebudget.py), corrected by `X-HubSpot-RateLimit-*` and 429s.

Plain `requests`, not `hubspot-api-client`: the generated client hides the rate-limit headers
the sync must read and retries on its own, outside the outbox; the calls are few and stable.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone

import requests

from leadqual.config.marketing import QualificationConfig
from leadqual.delivery import crm, crm_fields
from leadqual.delivery.crm import CheckReport, CredentialsError, CrmError, Record
from leadqual.delivery.ratebudget import RateBudget

# HubSpot's documented burst limit for a private app on the lowest tiers: 100 calls / 10 s.
DEFAULT_RATE = (100, 10.0)
BATCH_LIMIT = 100
REQUIRED_SCOPES = (
    "crm.objects.contacts.read",
    "crm.objects.contacts.write",
    "crm.schemas.contacts.read",
    "crm.schemas.contacts.write",
    "crm.objects.owners.read",
)
NOTE_TO_CONTACT = 202  # HUBSPOT_DEFINED association type: note -> contact
WAITING_FOR_EMAIL = "waiting for the visitor's email: HubSpot matches contacts by email"


class HubSpotClient:
    """HubSpot's REST API with a shared rate budget; every failure is a CrmError that says
    whether retrying can help."""

    def __init__(
        self,
        token: str,
        base_url: str = "https://api.hubapi.com",
        session: requests.Session | None = None,
        budget: RateBudget | None = None,
        timeout: tuple[float, float] = (3.0, 10.0),
    ) -> None:
        self.token = token
        self.base_url = base_url.rstrip("/")
        self.http = session or requests.Session()
        self.budget = budget or RateBudget(None, "hubspot", *DEFAULT_RATE)
        self.timeout = timeout
        self.calls = 0

    def call(self, method: str, path: str, body: object = None, params: Mapping | None = None) -> dict:
        self.budget.take()
        self.calls += 1
        try:
            response = self.http.request(
                method,
                self.base_url + path,
                json=body,
                params=params,
                headers={"authorization": f"Bearer {self.token}", "accept": "application/json"},
                timeout=self.timeout,
                allow_redirects=False,
            )
        except requests.Timeout:
            raise CrmError(f"HubSpot did not answer {method} {path} in time", retry=True) from None
        except requests.RequestException as exc:
            raise CrmError(f"cannot reach HubSpot ({type(exc).__name__})", retry=True) from None
        self._observe(response)
        status = response.status_code
        if 200 <= status < 300:
            if status == 204 or not response.content:
                return {}
            try:
                return response.json()
            except ValueError:
                raise CrmError(f"HubSpot answered {method} {path} with something that is not JSON", status) from None
        message = _error_message(response)
        if status == 429:
            raise CrmError(
                f"HubSpot's rate limit: {message}", status, retry=True, retry_after=self._retry_after(response)
            )
        if status >= 500 or status == 408:
            raise CrmError(f"HubSpot failed ({status}): {message}", status, retry=True)
        if status == 401:
            raise CredentialsError(f"HubSpot refused the token (401: {message}); check LEADQUAL_HUBSPOT_TOKEN", status)
        if status == 403:
            raise CredentialsError(f"the HubSpot token lacks a scope (403: {message})", status)
        raise CrmError(f"HubSpot refused {method} {path} ({status}): {message}", status)

    def _retry_after(self, response: requests.Response) -> float:
        value = response.headers.get("Retry-After")
        if value and value.strip().isdigit():
            return float(value)
        interval = response.headers.get("X-HubSpot-RateLimit-Interval-Milliseconds")
        return int(interval) / 1000 if interval and interval.isdigit() else self.budget.interval

    def _observe(self, response: requests.Response) -> None:
        remaining = response.headers.get("X-HubSpot-RateLimit-Remaining")
        if response.status_code == 429:
            self.budget.observe(remaining=0, retry_after=self._retry_after(response))
        elif remaining is not None and remaining.strip().lstrip("-").isdigit() and int(remaining) <= 0:
            self.budget.observe(remaining=0)

    # -- the calls the sync makes

    def token_info(self) -> dict:
        return self.call("POST", "/oauth/v2/private-apps/get/access-token-info", {"tokenKey": self.token})

    def property_names(self) -> set[str]:
        return {p["name"] for p in self.call("GET", "/crm/v3/properties/contacts").get("results", [])}

    def group_names(self) -> set[str]:
        return {g["name"] for g in self.call("GET", "/crm/v3/properties/contacts/groups").get("results", [])}

    def create_group(self, name: str, label: str) -> None:
        self.call("POST", "/crm/v3/properties/contacts/groups", {"name": name, "label": label})

    def create_property(self, definition: dict) -> None:
        self.call("POST", "/crm/v3/properties/contacts", definition)

    def owner_by_email(self, email: str) -> dict | None:
        results = self.call("GET", "/crm/v3/owners", params={"email": email, "limit": 1}).get("results", [])
        return results[0] if results else None

    def upsert_contacts(self, inputs: list[dict]) -> list[dict]:
        body = {"inputs": [{"idProperty": "email", "id": i["email"], "properties": i["properties"]} for i in inputs]}
        return self.call("POST", "/crm/v3/objects/contacts/batch/upsert", body).get("results", [])

    def create_notes(self, notes: list[tuple[str, str, datetime]]) -> None:
        """(contact id, HTML body, time) each, in one batch call."""
        inputs = [
            {
                "properties": {"hs_note_body": body, "hs_timestamp": at.astimezone(timezone.utc).isoformat()},
                "associations": [
                    {
                        "to": {"id": contact_id},
                        "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": NOTE_TO_CONTACT}],
                    }
                ],
            }
            for contact_id, body, at in notes
        ]
        self.call("POST", "/crm/v3/objects/notes/batch/create", {"inputs": inputs})

    def gdpr_delete(self, contact_id: str) -> None:
        self.call("POST", "/crm/v3/objects/contacts/gdpr-delete", {"objectId": contact_id})


# -- webhooks (HubSpot's request validation, signature v3) -------------------------------

SIGNATURE_WINDOW_MS = 5 * 60 * 1000
# The characters HubSpot decodes in the URI before signing it.
_URI_DECODED = {
    "%3A": ":", "%2F": "/", "%3F": "?", "%40": "@", "%21": "!", "%24": "$", "%27": "'",
    "%28": "(", "%29": ")", "%2A": "*", "%2C": ",", "%3B": ";",
}  # fmt: skip


class InvalidWebhook(ValueError):
    """A webhook request that is not HubSpot's: no or a wrong signature, or too old."""


def webhook_signature(secret: str, method: str, uri: str, body: bytes, timestamp: str) -> str:
    for encoded, plain in _URI_DECODED.items():
        uri = uri.replace(encoded, plain).replace(encoded.lower(), plain)
    source = method.upper().encode() + uri.encode() + body + str(timestamp).encode()
    return base64.b64encode(hmac.new(secret.encode(), source, hashlib.sha256).digest()).decode()


def verify_webhook(
    secret: str, method: str, uri: str, body: bytes, timestamp: str | None, signature: str | None, now_ms: int
) -> None:
    """HubSpot's v3 check: base64 HMAC-SHA256 with the app secret over method + URI + body +
    timestamp, and the timestamp at most 5 minutes old (a replay of an old request fails)."""
    if not secret:
        raise InvalidWebhook("LEADQUAL_HUBSPOT_APP_SECRET is not set: HubSpot's webhooks cannot be checked")
    if not signature or not timestamp or not str(timestamp).isdigit():
        raise InvalidWebhook("missing X-HubSpot-Signature-v3 or X-HubSpot-Request-Timestamp")
    if abs(now_ms - int(timestamp)) > SIGNATURE_WINDOW_MS:
        raise InvalidWebhook("the request is more than 5 minutes old")
    expected = webhook_signature(secret, method, uri, body, timestamp)
    if not hmac.compare_digest(expected, signature.strip()):
        raise InvalidWebhook("the signature does not match")


def _error_message(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict):
        return str(body.get("message") or body.get("category") or body)[:300]
    return str(body)[:300]


@dataclass
class ContactState:
    """A contact's stage and owner as HubSpot has them now."""

    stage: str | None  # ours
    lifecyclestage: str | None
    lead_status: str | None
    owner_id: str | None
    owner_email: str | None


class HubSpotSync:
    """The `crm` outbox destination for HubSpot (see the module's docstring)."""

    system = "hubspot"
    batch_limit = BATCH_LIMIT

    def __init__(
        self,
        client: HubSpotClient,
        config: QualificationConfig,
        explain: crm_fields.Explain | None = None,
        portal_url: str = "https://app.hubspot.com",
    ) -> None:
        self.client = client
        self.config = config
        self.mapping = config.crm.hubspot
        self.explain = explain
        self.portal_url = portal_url.rstrip("/")
        self._owners: dict[str, str | None] = {}
        self._owner_emails: dict[str, str | None] = {}
        self._portal_id: str | None = None
        self.app_id: str | None = None

    # -- connect / check

    def check(self, create: bool = False) -> CheckReport:
        """Scopes, the property group and properties (created when `create`), an owner for each
        SDR; and the first SDR's lead as HubSpot would receive it."""
        report = CheckReport(self.system)
        try:
            info = self.client.token_info()
        except CrmError as exc:
            report.problems.append(str(exc))
            return report
        self._portal_id = str(info.get("hubId") or "") or None
        self.app_id = str(info.get("appId") or "") or None
        missing = [s for s in REQUIRED_SCOPES if s not in set(info.get("scopes") or [])]
        if missing:
            report.problems.append("the private app lacks the scopes: " + ", ".join(missing))
            return report
        wanted = crm_fields.hubspot_property_definitions(self.mapping)
        try:
            if self.mapping.property_group not in self.client.group_names():
                if create:
                    self.client.create_group(self.mapping.property_group, self.mapping.property_group_label)
                    report.created.append(f"property group {self.mapping.property_group}")
                else:
                    report.problems.append(f"the property group {self.mapping.property_group} does not exist yet")
            existing = self.client.property_names()
            for definition in wanted:
                if definition["name"] in existing:
                    continue
                if create:
                    self.client.create_property(definition)
                    report.created.append(f"contact property {definition['name']}")
                else:
                    report.problems.append(f"the contact property {definition['name']} does not exist yet")
            for sdr in self.config.handoff.sdrs:
                if not sdr.email:
                    report.problems.append(f"SDR {sdr.id} has no email in qualification.yml")
                elif self.owner_id(sdr.email) is None:
                    report.problems.append(f"SDR {sdr.id} ({sdr.email}) has no HubSpot user: their leads get no owner")
        except CrmError as exc:
            report.problems.append(str(exc))
        return report

    def owner_id(self, email: str | None) -> str | None:
        if not email:
            return None
        key = email.lower()
        if key not in self._owners:
            owner = self.client.owner_by_email(email)
            self._owners[key] = str(owner["id"]) if owner else None
        return self._owners[key]

    def identify(self) -> None:
        """The portal and app ids (links to contacts; telling our own writes in webhooks)."""
        if self.app_id is None:
            info = self.client.token_info()
            self._portal_id = str(info.get("hubId") or "") or None
            self.app_id = str(info.get("appId") or "") or None

    def contact_state(self, contact_id: str) -> ContactState:
        """What a salesperson left on the contact: its lifecycle stage, lead status and owner."""
        names = ",".join(("lifecyclestage", "hs_lead_status", "hubspot_owner_id"))
        found = self.client.call("GET", f"/crm/v3/objects/contacts/{contact_id}", params={"properties": names})
        properties = found.get("properties") or {}
        owner_id = properties.get("hubspot_owner_id") or None
        if owner_id and owner_id not in self._owner_emails:
            owner = self.client.call("GET", f"/crm/v3/owners/{owner_id}")
            self._owner_emails[owner_id] = owner.get("email")
        lifecycle, status = properties.get("lifecyclestage") or None, properties.get("hs_lead_status") or None
        return ContactState(
            stage=crm_fields.stage_from_hubspot(self.mapping, lifecycle, status),
            lifecyclestage=lifecycle,
            lead_status=status,
            owner_id=owner_id,
            owner_email=self._owner_emails.get(owner_id) if owner_id else None,
        )

    def contact_url(self, contact_id: str) -> str | None:
        if not self._portal_id:
            return None
        return f"{self.portal_url}/contacts/{self._portal_id}/record/0-1/{contact_id}"

    # -- delivery

    def _sdr_email(self, sdr_id: str | None) -> str | None:
        sdr = self.config.handoff.sdr(sdr_id)
        return sdr.email if sdr else None

    def deliver(self, messages: list[Mapping]) -> list[Record | CrmError]:
        """Each message {"key", "payload", "created_at"} -> its Record or the CrmError that stopped
        it. Upserts go in one batch (a contact once, with its newest packet); a batch HubSpot
        refuses is retried one contact at a time, so one bad contact does not hold the others."""
        results: list[Record | CrmError | None] = [None] * len(messages)
        upserts: dict[str, list[int]] = {}
        for i, message in enumerate(messages):
            payload = message["payload"]
            if payload.get("type") in crm.ERASE_TYPES:
                results[i] = self._erase(payload)
                continue
            email = ((payload.get("contact") or {}).get("email") or "").strip().lower()
            if not email:
                # The chat asks the email after the answers that made the lead sales-ready: the
                # packet with it follows (handoff.follow_contact).
                results[i] = Record(self.system, None, warning=WAITING_FOR_EMAIL)
                continue
            upserts.setdefault(email, []).append(i)
        if upserts:
            for email, outcome in self._upsert(messages, upserts).items():
                for i in upserts[email]:
                    results[i] = outcome
        return [r if r is not None else CrmError("not sent") for r in results]

    def _erase(self, payload: Mapping) -> Record | CrmError:
        """HubSpot's GDPR delete of each contact the erasure names (gone already is fine)."""
        records = crm.erased_records(payload, self.system)
        for record_id in records:
            try:
                self.client.gdpr_delete(record_id)
            except CrmError as exc:
                if exc.status != 404:
                    return exc
        return Record(self.system, records[0] if records else None)

    def _properties(self, payload: Mapping) -> tuple[dict, str | None]:
        warning = None
        owner = None
        sdr_id = (payload.get("owner") or {}).get("sdr")
        if sdr_id:
            email = self._sdr_email(sdr_id)
            owner = self.owner_id(email)
            if owner is None:
                warning = f"the SDR {sdr_id} ({email or 'no email'}) has no HubSpot user: the contact has no owner"
        if payload.get("type") == "decision":
            properties = {
                "email": payload["contact"]["email"],
                crm_fields.hubspot_property_name(self.mapping, "stage"): payload.get("stage") or "",
                **crm_fields.hubspot_stage(self.mapping, payload.get("stage")),
            }
            if owner:
                properties["hubspot_owner_id"] = owner
            return {k: v for k, v in properties.items() if v}, warning
        return crm_fields.hubspot_properties(payload, self.mapping, owner), warning

    def _upsert(self, messages: list[Mapping], upserts: dict[str, list[int]]) -> dict[str, Record | CrmError]:
        newest = {email: max(indexes, key=lambda i: messages[i]["created_at"]) for email, indexes in upserts.items()}
        prepared: dict[str, dict] = {}
        warnings: dict[str, str | None] = {}
        outcomes: dict[str, Record | CrmError] = {}
        for email, i in newest.items():
            try:
                properties, warnings[email] = self._properties(messages[i]["payload"])
            except CrmError as exc:
                outcomes[email] = exc
                continue
            prepared[email] = properties
        backwards = [
            email
            for email, i in newest.items()
            if email in prepared and self._goes_back(messages[i]["payload"], prepared[email])
        ]
        try:
            if backwards:  # HubSpot moves a lifecycle stage back only from empty
                self.client.upsert_contacts([{"email": e, "properties": {"lifecyclestage": ""}} for e in backwards])
            found = self._upsert_batch(prepared)
        except CrmError as exc:
            return {**outcomes, **{email: exc for email in prepared}}
        notes = []
        for email, result in found.items():
            if isinstance(result, CrmError):
                outcomes[email] = result
                continue
            contact_id = str(result["id"])
            i = newest[email]
            payload = messages[i]["payload"]
            properties = result.get("properties") or {}
            outcomes[email] = Record(
                self.system,
                contact_id,
                url=self.contact_url(contact_id),
                remote_stage=properties.get("lifecyclestage") or prepared[email].get("lifecyclestage"),
                remote_owner=properties.get("hubspot_owner_id") or prepared[email].get("hubspot_owner_id"),
                warning=warnings.get(email),
            )
            if payload.get("type") in (None, "handoff"):
                notes.append(
                    (contact_id, crm_fields.note_html(payload, self.explain), _time(messages[i]["created_at"]))
                )
        if notes:
            try:
                self.client.create_notes(notes)
            except CrmError as exc:
                # The contacts are written; the notes are what failed: deliver again (upserts are
                # idempotent) unless retrying cannot help.
                noted = {contact_id for contact_id, _, _ in notes}
                for email, outcome in list(outcomes.items()):
                    if isinstance(outcome, Record) and outcome.record_id in noted:
                        outcomes[email] = exc
        return outcomes

    def _goes_back(self, payload: Mapping, properties: Mapping) -> bool:
        target = properties.get("lifecyclestage")
        previous = crm_fields.hubspot_stage(self.mapping, payload.get("previous_stage")).get("lifecyclestage")
        return crm_fields.lifecycle_is_backwards(self.mapping, previous, target)

    def _upsert_batch(self, prepared: dict[str, dict]) -> dict[str, dict | CrmError]:
        if not prepared:
            return {}
        inputs = [{"email": email, "properties": properties} for email, properties in prepared.items()]
        try:
            results = self.client.upsert_contacts(inputs)
        except CrmError as exc:
            if exc.retry or len(inputs) == 1 or isinstance(exc, CredentialsError):
                raise
            return self._one_by_one(prepared)
        by_email: dict[str, dict | CrmError] = {}
        for result in results:
            email = str((result.get("properties") or {}).get("email") or result.get("id") or "").lower()
            by_email[email] = result
        for email in prepared:
            by_email.setdefault(email, CrmError("HubSpot's answer did not include this contact", retry=True))
        return by_email

    def _one_by_one(self, prepared: dict[str, dict]) -> dict[str, dict | CrmError]:
        found: dict[str, dict | CrmError] = {}
        for email, properties in prepared.items():
            try:
                results = self.client.upsert_contacts([{"email": email, "properties": properties}])
            except CrmError as exc:
                if exc.retry:
                    raise
                found[email] = exc
                continue
            found[email] = results[0] if results else CrmError("HubSpot answered without the contact", retry=True)
        return found


def _time(value: datetime | str | None) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if isinstance(value, str):
        return datetime.fromisoformat(value)
    return datetime.now(timezone.utc)
