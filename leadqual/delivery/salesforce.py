"""Salesforce as an outbox destination: a Lead upserted by an external id field (our lead id)
with `Sforce-Auto-Assign: FALSE`, so the product's routing stands; a Task with the transcript and
the score explained; the owner a User looked up by the SDR's email; a deleted Lead on erasure;
and the changes salespeople make there read back by polling `SystemModstamp`.

Through `simple-salesforce`: it builds the REST paths, turns Salesforce's answers into
exceptions by kind (300 several matches, 400 refused, 401 session expired, 403 refused, 404) and
reads the `Sforce-Limit-Info` usage. The OAuth refresh-token grant is one `requests` call here:
a 401 refreshes the access token once, then becomes an error a person can act on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone

import requests
import simple_salesforce
from simple_salesforce import exceptions as sf_errors
from sqlalchemy import Engine

from leadqual import settings
from leadqual.config.marketing import QualificationConfig
from leadqual.delivery import crm, crm_fields
from leadqual.delivery.crm import CheckReport, CredentialsError, CrmError, Record

# REST has no batch upsert by external id that keeps per-record answers simple; one call per
# lead, a batch per worker round.
BATCH_LIMIT = 25
# The org's 24-hour API limit is spent: try again in an hour, not in seconds.
LIMIT_RETRY_SECONDS = 3600.0
POLL_FIELDS = ("Id", "Status", "IsConverted", "OwnerId", "SystemModstamp")


class _Timeouts(requests.Session):
    """A session whose calls time out (simple-salesforce passes no timeout of its own)."""

    def __init__(self, timeout: tuple[float, float], base: requests.Session | None = None) -> None:
        super().__init__()
        self.default_timeout = timeout
        if base is not None:
            self.verify, self.trust_env = base.verify, base.trust_env

    def request(self, method, url, **kwargs):
        kwargs.setdefault("timeout", self.default_timeout)
        return super().request(method, url, **kwargs)


class SalesforceAuth:
    """The OAuth 2.0 refresh-token grant against the login server; the access token and the
    org's instance URL it gives are kept until Salesforce says the session expired."""

    def __init__(
        self,
        login_url: str,
        client_id: str,
        client_secret: str,
        refresh_token: str,
        session: requests.Session,
    ) -> None:
        self.login_url = login_url.rstrip("/")
        self.client_id, self.client_secret, self.refresh_token = client_id, client_secret, refresh_token
        self.http = session
        self.access_token: str | None = None
        self.instance_url: str | None = None

    def refresh(self) -> None:
        try:
            response = self.http.post(
                f"{self.login_url}/services/oauth2/token",
                data={
                    "grant_type": "refresh_token",
                    "client_id": self.client_id,
                    "client_secret": self.client_secret,
                    "refresh_token": self.refresh_token,
                },
            )
        except requests.RequestException as exc:
            raise CrmError(f"cannot reach Salesforce's login server ({type(exc).__name__})", retry=True) from None
        if response.status_code >= 500:
            raise CrmError(f"Salesforce's login server failed ({response.status_code})", response.status_code, True)
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code != 200 or "access_token" not in body:
            reason = body.get("error_description") or body.get("error") or response.text[:200]
            raise CredentialsError(
                f"Salesforce refused the refresh token ({reason}): connect again and update"
                " LEADQUAL_SALESFORCE_REFRESH_TOKEN (or the credentials file)",
                response.status_code,
            )
        self.access_token, self.instance_url = body["access_token"], body["instance_url"]


@dataclass
class Change:
    """A Lead a salesperson changed in Salesforce, as polled."""

    lead_id: str  # ours (the external id)
    record_id: str
    stage: str | None  # ours, from the Status (converted: opportunity)
    status: str | None  # Salesforce's Status
    owner_id: str | None
    owner_email: str | None
    at: str  # SystemModstamp


class SalesforceSync:
    """The `crm` outbox destination for Salesforce (see the module's docstring)."""

    system = "salesforce"
    batch_limit = BATCH_LIMIT

    def __init__(
        self,
        auth: SalesforceAuth,
        config: QualificationConfig,
        explain: crm_fields.Explain | None = None,
        version: str = "60.0",
        session: requests.Session | None = None,
    ) -> None:
        self.auth = auth
        self.config = config
        self.mapping = config.crm.salesforce
        self.explain = explain
        self.version = version
        self.http = session or _Timeouts((3.0, 20.0))
        self._client: simple_salesforce.Salesforce | None = None
        self._users: dict[str, str | None] = {}
        self._emails: dict[str, str | None] = {}
        self.calls = 0

    # -- calls

    def client(self) -> simple_salesforce.Salesforce:
        if self._client is None:
            if self.auth.access_token is None:
                self.auth.refresh()
            self._client = simple_salesforce.Salesforce(
                instance_url=self.auth.instance_url,
                session_id=self.auth.access_token,
                session=self.http,
                version=self.version,
            )
        return self._client

    def call(self, work):
        """`work(client)`, refreshing an expired session once; Salesforce's refusals as CrmError."""
        for attempt in (1, 2):
            try:
                self.calls += 1
                return work(self.client())
            except sf_errors.SalesforceExpiredSession:
                if attempt == 2:
                    raise CredentialsError(
                        "Salesforce keeps refusing the session after a refresh: check the integration user", 401
                    ) from None
                self._client = None
                self.auth.refresh()
            except sf_errors.SalesforceMoreThanOneRecord as exc:
                urls = ", ".join(str(u) for u in (exc.content or [])[:5])
                raise CrmError(
                    f"several Salesforce Leads have this lead's id ({urls}): merge them there", 300
                ) from None
            except sf_errors.SalesforceMalformedRequest as exc:
                raise CrmError(_refusal(exc.content), 400) from None
            except sf_errors.SalesforceRefusedRequest as exc:
                if _code(exc.content) == "REQUEST_LIMIT_EXCEEDED":
                    raise CrmError(
                        "Salesforce's daily API limit is spent; sending again in an hour",
                        403,
                        retry=True,
                        retry_after=LIMIT_RETRY_SECONDS,
                    ) from None
                raise CrmError(_refusal(exc.content), 403) from None
            except sf_errors.SalesforceResourceNotFound as exc:
                raise CrmError(_refusal(exc.content), 404) from None
            except sf_errors.SalesforceGeneralError as exc:
                status = getattr(exc, "status", None)
                raise CrmError(f"Salesforce failed ({status}): {_refusal(exc.content)}", status, retry=True) from None
            except requests.Timeout:
                raise CrmError("Salesforce did not answer in time", retry=True) from None
            except requests.RequestException as exc:
                raise CrmError(f"cannot reach Salesforce ({type(exc).__name__})", retry=True) from None
        raise AssertionError("unreachable")

    def user_id(self, email: str | None) -> str | None:
        if not email:
            return None
        key = email.lower()
        if key not in self._users:
            soql = f"SELECT Id, Email FROM User WHERE Email = '{_quote(email)}' AND IsActive = true"
            records = self.call(lambda c: c.query(soql))["records"]
            self._users[key] = records[0]["Id"] if records else None
        return self._users[key]

    def user_email(self, user_id: str | None) -> str | None:
        if not user_id:
            return None
        if user_id not in self._emails:
            soql = f"SELECT Id, Email FROM User WHERE Id = '{_quote(user_id)}'"
            records = self.call(lambda c: c.query(soql))["records"]
            self._emails[user_id] = records[0]["Email"] if records else None
        return self._emails[user_id]

    def _owner_email(self, owner_id: str | None) -> str | None:
        """A User owner's email; a queue (00G...) has none."""
        return self.user_email(owner_id) if str(owner_id or "").startswith("005") else None

    # -- connect / check

    def check(self, create: bool = False) -> CheckReport:
        """The token, the external id field, the custom fields, the Status and LeadSource values,
        and a User for each SDR. Salesforce fields are created by its admin: listed, not made."""
        report = CheckReport(self.system)
        try:
            describe = self.call(lambda c: c.Lead.describe())
        except CrmError as exc:
            report.problems.append(str(exc))
            return report
        fields = {f["name"]: f for f in describe.get("fields", [])}
        external = fields.get(self.mapping.external_id_field)
        if external is None:
            report.problems.append(f"the Lead field {self.mapping.external_id_field} does not exist")
        elif not external.get("externalId"):
            report.problems.append(f"the Lead field {self.mapping.external_id_field} is not marked External ID")
        for value, name in self.mapping.fields.items():
            if name not in fields:
                report.problems.append(f"the Lead field {name} (for {value}) does not exist")
        for what, field, wanted in (
            ("Status", "Status", set(self.mapping.statuses.values())),
            ("LeadSource", "LeadSource", {self.mapping.lead_source}),
        ):
            allowed = {p["value"] for p in (fields.get(field) or {}).get("picklistValues", []) if p.get("active", True)}
            for value in sorted(wanted - allowed):
                report.problems.append(f"{value!r} is not a {what} value in Salesforce")
        try:
            for sdr in self.config.handoff.sdrs:
                if sdr.email and self.user_id(sdr.email) is None:
                    report.problems.append(
                        f"SDR {sdr.id} ({sdr.email}) has no active Salesforce user: their leads keep the default owner"
                    )
        except CrmError as exc:
            report.problems.append(str(exc))
        return report

    # -- delivery

    def deliver(self, messages: list[Mapping]) -> list[Record | CrmError]:
        return [self._one(message) for message in messages]

    def _one(self, message: Mapping) -> Record | CrmError:
        payload = message["payload"]
        try:
            if payload.get("type") in crm.ERASE_TYPES:
                return self._erase(payload)
            return self._upsert(payload, message.get("created_at"))
        except CrmError as exc:
            return exc

    def _erase(self, payload: Mapping) -> Record:
        """Delete each Lead the erasure names (deleted already is fine)."""
        records = crm.erased_records(payload, self.system)
        for record_id in records:
            try:
                self.call(lambda c, record_id=record_id: c.Lead.delete(record_id))
            except CrmError as exc:
                if exc.status != 404:
                    raise
        return Record(self.system, records[0] if records else None)

    def _upsert(self, payload: Mapping, created_at) -> Record:
        lead_id = payload.get("lead_id")
        if not lead_id:
            raise CrmError("the message has no lead id to upsert by")
        warning = None
        owner = None
        sdr_id = (payload.get("owner") or {}).get("sdr")
        if sdr_id:
            sdr = self.config.handoff.sdr(sdr_id)
            owner = self.user_id(sdr.email if sdr else None)
            if owner is None:
                warning = f"the SDR {sdr_id} has no active Salesforce user: the Lead keeps its default owner"
        if payload.get("type") == "decision":
            fields: dict = {
                self.mapping.fields[k]: payload.get("stage") for k in ("stage",) if k in self.mapping.fields
            }
            status = self.mapping.statuses.get(payload.get("stage") or "")
            if status:
                fields["Status"] = status
            if owner:
                fields["OwnerId"] = owner
        else:
            fields = crm_fields.salesforce_fields(payload, self.mapping, owner)
        path = f"{self.mapping.external_id_field}/{lead_id}"
        response = self.call(
            lambda c: c.Lead.upsert(path, fields, raw_response=True, headers={"Sforce-Auto-Assign": "FALSE"})
        )
        record_id = _record_id(response)
        if record_id is None:  # an update answered 204 (API before v46): look the id up
            soql = f"SELECT Id FROM Lead WHERE {self.mapping.external_id_field} = '{_quote(lead_id)}'"
            records = self.call(lambda c: c.query(soql))["records"]
            record_id = records[0]["Id"] if records else None
        if record_id and payload.get("type") in (None, "handoff"):
            task = {
                "WhoId": record_id,
                "Subject": crm_fields.subject(payload)[:255],
                "Description": crm_fields.note_text(payload, self.explain)[:32000],
                "Status": "Not Started",
                "Priority": "High",
            }
            if owner:
                task["OwnerId"] = owner
            self.call(lambda c: c.Task.create(task, headers={"Sforce-Auto-Assign": "FALSE"}))
        instance = (self.auth.instance_url or "").rstrip("/")
        return Record(
            self.system,
            record_id,
            url=f"{instance}/lightning/r/Lead/{record_id}/view" if record_id and instance else None,
            remote_stage=fields.get("Status"),
            remote_owner=owner,
            warning=warning,
        )

    # -- changes made in Salesforce

    def changes_since(self, since: datetime, limit: int = 200) -> list[Change]:
        """Leads modified after `since` (SystemModstamp), oldest first, with our stage for their
        Status (a converted Lead is an opportunity) and the owner's email."""
        field = self.mapping.external_id_field
        moment = since.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        soql = (
            f"SELECT {', '.join(POLL_FIELDS)}, {field} FROM Lead WHERE SystemModstamp > {moment}"
            f" ORDER BY SystemModstamp LIMIT {int(limit)}"
        )
        records = self.call(lambda c: c.query(soql))["records"]
        changes = []
        for record in records:
            if not record.get(field):
                continue  # a Lead the product did not create
            changes.append(
                Change(
                    lead_id=record[field],
                    record_id=record["Id"],
                    stage=crm_fields.stage_from_salesforce(
                        self.mapping, record.get("Status"), bool(record.get("IsConverted"))
                    ),
                    status=record.get("Status"),
                    owner_id=record.get("OwnerId"),
                    owner_email=self._owner_email(record.get("OwnerId")),
                    at=record["SystemModstamp"],
                )
            )
        return changes


def _code(content) -> str | None:
    if isinstance(content, list) and content and isinstance(content[0], dict):
        return content[0].get("errorCode")
    return None


def _refusal(content) -> str:
    """Salesforce's error list as a sentence a person can act on."""
    if not isinstance(content, list) or not content:
        return str(content)[:300]
    parts = []
    for error in content[:3]:
        if not isinstance(error, dict):
            parts.append(str(error)[:200])
            continue
        code, message = error.get("errorCode") or "", error.get("message") or ""
        fields = ", ".join(error.get("fields") or [])
        if code == "DUPLICATES_DETECTED":
            matches = [
                record.get("Id")
                for result in (error.get("duplicateResult") or {}).get("matchResults", [])
                for record in (m.get("record", {}) for m in result.get("matchRecords", []))
                if record.get("Id")
            ]
            found = f" (existing: {', '.join(matches)})" if matches else ""
            parts.append(f"Salesforce's duplicate rules refused the Lead{found}: merge or relax the rule there")
        elif code == "REQUIRED_FIELD_MISSING":
            parts.append(f"Salesforce requires {fields or 'a field'}: {message}")
        else:
            parts.append(f"{code}: {message}" + (f" ({fields})" if fields else ""))
    return "; ".join(parts)[:500]


def _record_id(response) -> str | None:
    if response is None or getattr(response, "status_code", None) == 204 or not response.content:
        return None
    try:
        return response.json().get("id")
    except ValueError:
        return None


def _quote(value: str) -> str:
    """A SOQL string literal's content: backslashes and quotes escaped."""
    return str(value).replace("\\", "\\\\").replace("'", "\\'")


def from_env(
    engine: Engine | None,
    config: QualificationConfig,
    explain: crm_fields.Explain | None = None,
    environ: Mapping[str, str] | None = None,
) -> SalesforceSync:
    credentials = crm.salesforce_credentials(environ)
    base = crm.http_session(environ)
    session = _Timeouts((3.0, 20.0), base)
    auth = SalesforceAuth(settings.SALESFORCE_LOGIN_URL.get(environ=environ), session=session, **credentials)
    return SalesforceSync(auth, config, explain, settings.SALESFORCE_API_VERSION.get(environ=environ), session)
