"""A local Salesforce for the tests: the REST API (Lead, Task, User), its OAuth 2.0 token endpoint
and a small SOQL, behaving as Salesforce's published REST API Developer Guide says. No test reaches
the internet; nothing here accepts a request Salesforce would refuse.

    with SalesforceServer() as sf:
        session = requests.Session()
        session.verify = sf.ca_path
        r = session.patch(f"{sf.base_url}/sobjects/Lead/Nubilo_Lead_Id__c/L-1",
                          json={"LastName": "Ruiz", "Company": "Acme"},
                          headers={"Authorization": f"Bearer {sf.access_token}"})
        assert r.status_code == 201 and sf.lead_by_external_id("L-1")["Company"] == "Acme"

What each behaviour follows (REST API Developer Guide, developer.salesforce.com/docs/atlas.en-us
.api_rest.meta/api_rest/ unless said otherwise; "assumed" marks what the stored reference does not
say, taken from Salesforce's behaviour as known and kept as close to it as we could):

- Status codes and error bodies (errorcodes.htm): errors are a JSON list of
  {"message", "errorCode", "fields"}; 300 when an external id matches several records (the body
  lists the matching records), 400 bad request, 401 session expired or invalid, 403 refused
  (REQUEST_LIMIT_EXCEEDED: the org's API limit), 404 not found or deleted, 405 method not allowed.
- Upsert by external id (dome_upsert.htm, resources_sobject_upsert_patch.htm):
  PATCH /services/data/vXX.X/sobjects/Lead/<ExternalIdField>/<value>: no match -> created, 201
  {"id", "success", "errors", "created": true}; one match -> updated, 200 with "created": false
  (API v46.0 and later; before, 204 without a body); several -> 300; "Do not specify Id or an
  external ID field in the request body or an error is generated"; updateOnly=true never creates.
  A field that is not an external id -> 404 NOT_FOUND "Provided external ID field does not exist
  or is not accessible" (the text is assumed).
- Assignment Rule header (headers_autoassign.htm): `Sforce-Auto-Assign` TRUE, FALSE (not case
  sensitive) or an AssignmentRule id; absent means TRUE; applied when Leads are created or updated.
  Here the org's one active rule gives the Lead to `assignment_queue_id`.
- Limit Info header (headers_api_usage.htm): `Sforce-Limit-Info: api-usage=N/M` on REST responses;
  the versions resource (/services/data) does not count towards the limit.
- Query (resources_query.htm, dome_query.htm): GET /services/data/vXX.X/query?q=SOQL ->
  {"totalSize", "done", "records": [{"attributes": {"type", "url"}, ...}]}; an invalid query ->
  MALFORMED_QUERY. SOQL date formats (SOQL and SOSL Reference, sforce_api_calls_soql_select_
  dateformats.htm): dateTime values are YYYY-MM-DDThh:mm:ss(Z|+hh:mm|-hh:mm), never in quotes;
  a dateTime value filters only dateTime fields, a date value only date fields.
- Delete (dome_delete_record.htm): DELETE /sobjects/Lead/<id> -> 204, no body; the record then
  answers 404 (ENTITY_IS_DELETED for a write or a second delete; NOT_FOUND for a read; assumed).
- Describe (resources_sobject_describe.htm): GET /sobjects/Lead/describe -> the object's fields
  with type, length, nillable, createable, updateable, externalId, picklistValues.
- OAuth 2.0 (intro_understanding_refresh_token_oauth.htm; Salesforce Help "OAuth 2.0 Refresh Token
  Flow", "OAuth 2.0 Client Credentials Flow"): POST /services/oauth2/token, form-encoded;
  grant_type=refresh_token (refresh_token, client_id, client_secret optional) or
  client_credentials (client_id and client_secret, in the form or HTTP Basic); the answer has
  access_token, instance_url, id, token_type "Bearer", issued_at (ms), signature (base64
  HMAC-SHA256 of id + issued_at keyed with the client secret); failures are 400
  {"error": "invalid_grant", "error_description": "expired access/refresh token"} and the like.
  An expired access token gives "Session expired or invalid" (401 INVALID_SESSION_ID).
- Lead (Object Reference, sforce_api_objects_lead.htm; Field Reference): LastName and Company are
  required; Status is a picklist of LeadStatus values, defaulted on create; converting sets
  IsConverted, ConvertedDate (a date), ConvertedAccountId/ContactId/OpportunityId and a converted
  Status; a converted Lead cannot be updated: CANNOT_UPDATE_CONVERTED_LEAD "cannot reference
  converted lead" (Salesforce Help article 000384333).
- Duplicate rules (SOAP API DuplicateResult, DuplicateError, MatchResult objects): a blocking rule
  answers DUPLICATES_DETECTED with a duplicateResult {allowSave, duplicateRule,
  duplicateRuleEntityType, errorMessage, matchResults: [{entityType, matchRecords, rule, size,
  success, ...}]}; here one rule, on Lead Email.
- Ids are 18 characters: the 15-character id plus the documented 3-character case checksum; key
  prefixes 00Q Lead, 00T Task, 005 User, 006 Opportunity, 001 Account, 003 Contact, 00G Queue,
  00D Organization, 01Q AssignmentRule.

The exact wording of messages that the reference does not quote (INVALID_FIELD, STRING_TOO_LONG,
REQUIRED_FIELD_MISSING, ...) follows what Salesforce answers as far as we know it; tests should
check errorCode and fields, not the message.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import http.server
import itertools
import json
import re
import secrets
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from email.message import Message
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

# -- Ids ------------------------------------------------------------------------------------

KEY_PREFIXES = {
    "Lead": "00Q",
    "Task": "00T",
    "User": "005",
    "Opportunity": "006",
    "Account": "001",
    "Contact": "003",
    "Group": "00G",
    "Organization": "00D",
    "AssignmentRule": "01Q",
}
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_ID_RE = re.compile(r"^[0-9A-Za-z]{15}(?:[0-9A-Za-z]{3})?$")


def to_18(id15: str) -> str:
    """The 18-character form of a 15-character Salesforce id: each 5-character chunk gives one
    character of A-Z0-5 whose bits say which of its characters are upper case."""
    suffix = ""
    for chunk in (id15[0:5], id15[5:10], id15[10:15]):
        bits = sum(1 << i for i, ch in enumerate(chunk) if "A" <= ch <= "Z")
        suffix += "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"[bits]
    return id15 + suffix


def _looks_like_id(value: str, prefix: str | None = None) -> bool:
    if not _ID_RE.match(value or ""):
        return False
    if len(value) == 18 and to_18(value[:15]) != value:
        return False
    return prefix is None or value.startswith(prefix)


class _Ids:
    def __init__(self, seed: int) -> None:
        self._counter = itertools.count(seed)
        self._lock = threading.Lock()

    def new(self, sobject: str) -> str:
        with self._lock:
            n = next(self._counter)
        digits = ""
        while True:
            n, r = divmod(n, 62)
            digits = _BASE62[r] + digits
            if not n:
                break
        return to_18(KEY_PREFIXES[sobject] + "5g" + digits.rjust(10, "0"))


# -- Field metadata ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldSpec:
    """A field as a describe call shows it (the subset the fake checks)."""

    name: str
    label: str
    type: str  # id, string, email, phone, textarea, picklist, boolean, double, date, datetime, reference
    length: int = 0
    createable: bool = True
    updateable: bool = True
    nillable: bool = True
    external_id: bool = False
    custom: bool = False
    picklist: tuple[str, ...] = ()
    restricted: bool = False
    default: str | None = None
    reference_to: tuple[str, ...] = ()

    def describe(self) -> dict:
        return {
            "name": self.name,
            "label": self.label,
            "type": self.type,
            "length": self.length,
            "nillable": self.nillable,
            "createable": self.createable,
            "updateable": self.updateable,
            "externalId": self.external_id,
            "idLookup": self.name == "Id" or self.external_id or self.name == "Email",
            "unique": False,
            "custom": self.custom,
            "defaultedOnCreate": self.default is not None or not self.createable,
            "restrictedPicklist": self.restricted,
            "picklistValues": [
                {"active": True, "defaultValue": v == self.default, "label": v, "validFor": None, "value": v}
                for v in self.picklist
            ],
            "referenceTo": list(self.reference_to),
            "soapType": {
                "id": "tns:ID",
                "reference": "tns:ID",
                "boolean": "xsd:boolean",
                "double": "xsd:double",
                "date": "xsd:date",
                "datetime": "xsd:dateTime",
            }.get(self.type, "xsd:string"),
        }


def _ro(name: str, label: str, kind: str, **kw: Any) -> FieldSpec:
    return FieldSpec(name, label, kind, createable=False, updateable=False, **kw)


_AUDIT = (
    _ro("CreatedDate", "Created Date", "datetime", nillable=False),
    _ro("CreatedById", "Created By ID", "reference", length=18, nillable=False, reference_to=("User",)),
    _ro("LastModifiedDate", "Last Modified Date", "datetime", nillable=False),
    _ro("LastModifiedById", "Last Modified By ID", "reference", length=18, nillable=False, reference_to=("User",)),
    _ro("SystemModstamp", "System Modstamp", "datetime", nillable=False),
    _ro("IsDeleted", "Deleted", "boolean", nillable=False),
)

DEFAULT_CUSTOM_FIELDS: dict[str, str] = {
    "Nubilo_Fit__c": "double",
    "Nubilo_Behaviour__c": "double",
    "Nubilo_Score__c": "double",
    "Nubilo_Grade__c": "string",
    "Nubilo_Stage__c": "string",
    "Nubilo_Budget__c": "string",
    "Nubilo_Authority__c": "string",
    "Nubilo_Need__c": "string",
    "Nubilo_Timing__c": "string",
}
DEFAULT_LEAD_STATUSES = ("Open - Not Contacted", "Working - Contacted", "Closed - Converted", "Closed - Not Converted")
# Salesforce's standard Lead Source values, with the "Web Chat" value config/qualification.yml uses.
DEFAULT_LEAD_SOURCES = ("Web", "Web Chat", "Phone Inquiry", "Partner Referral", "Purchased List", "Other")
DEFAULT_USERS = (
    {"Email": "ana.garcia@nubilo.example", "Name": "Ana García"},
    {"Email": "ben.okafor@nubilo.example", "Name": "Ben Okafor"},
)
TASK_STATUSES = ("Not Started", "In Progress", "Completed", "Waiting on someone else", "Deferred")
TASK_PRIORITIES = ("High", "Normal", "Low")


def _lead_fields(
    external_id_field: str, custom_fields: Mapping[str, str], statuses: Iterable[str], sources: Iterable[str]
) -> dict[str, FieldSpec]:
    statuses = tuple(statuses)
    fields = [
        _ro("Id", "Lead ID", "id", length=18, nillable=False),
        FieldSpec("FirstName", "First Name", "string", 40),
        FieldSpec("LastName", "Last Name", "string", 80, nillable=False),
        _ro("Name", "Full Name", "string", length=121, nillable=False),
        FieldSpec("Company", "Company", "string", 255, nillable=False),
        FieldSpec("Email", "Email", "email", 80),
        FieldSpec("Phone", "Phone", "phone", 40),
        FieldSpec("Title", "Title", "string", 128),
        FieldSpec("LeadSource", "Lead Source", "picklist", 255, picklist=tuple(sources), restricted=True),
        FieldSpec(
            "Status",
            "Lead Status",
            "picklist",
            255,
            nillable=False,
            picklist=statuses,
            restricted=True,
            default=statuses[0] if statuses else None,
        ),
        FieldSpec("OwnerId", "Owner ID", "reference", 18, nillable=False, reference_to=("Group", "User")),
        FieldSpec("Description", "Description", "textarea", 32000),
        FieldSpec("Rating", "Rating", "picklist", 255, picklist=("Hot", "Warm", "Cold"), restricted=True),
        _ro("IsConverted", "Converted", "boolean", nillable=False),
        _ro("ConvertedDate", "Converted Date", "date"),
        _ro("ConvertedAccountId", "Converted Account ID", "reference", length=18, reference_to=("Account",)),
        _ro("ConvertedContactId", "Converted Contact ID", "reference", length=18, reference_to=("Contact",)),
        _ro(
            "ConvertedOpportunityId",
            "Converted Opportunity ID",
            "reference",
            length=18,
            reference_to=("Opportunity",),
        ),
        *_AUDIT,
        FieldSpec(external_id_field, "Nubilo Lead Id", "string", 255, external_id=True, custom=True),
    ]
    for name, kind in custom_fields.items():
        if name == external_id_field:
            continue
        length = {"string": 255, "textarea": 32768, "double": 18}.get(kind, 0)
        fields.append(FieldSpec(name, name.removesuffix("__c").replace("_", " "), kind, length, custom=True))
    return {f.name: f for f in fields}


def _task_fields() -> dict[str, FieldSpec]:
    fields = [
        _ro("Id", "Activity ID", "id", length=18, nillable=False),
        FieldSpec("WhoId", "Name ID", "reference", 18, reference_to=("Contact", "Lead")),
        FieldSpec("WhatId", "Related To ID", "reference", 18, reference_to=("Account", "Opportunity")),
        FieldSpec("Subject", "Subject", "string", 255),  # a combobox: any text
        FieldSpec("Description", "Description", "textarea", 32000),
        FieldSpec("ActivityDate", "Due Date Only", "date"),
        FieldSpec("Type", "Type", "picklist", 255, picklist=("Call", "Email", "Meeting", "Other")),
        FieldSpec(
            "Status",
            "Status",
            "picklist",
            255,
            nillable=False,
            picklist=TASK_STATUSES,
            restricted=True,
            default="Not Started",
        ),
        FieldSpec(
            "Priority",
            "Priority",
            "picklist",
            255,
            nillable=False,
            picklist=TASK_PRIORITIES,
            restricted=True,
            default="Normal",
        ),
        FieldSpec("OwnerId", "Assigned To ID", "reference", 18, nillable=False, reference_to=("User",)),
        *_AUDIT,
    ]
    return {f.name: f for f in fields}


def _user_fields() -> dict[str, FieldSpec]:
    fields = [
        _ro("Id", "User ID", "id", length=18, nillable=False),
        _ro("Username", "Username", "string", length=80, nillable=False),
        _ro("Name", "Full Name", "string", length=121, nillable=False),
        _ro("FirstName", "First Name", "string", length=40),
        _ro("LastName", "Last Name", "string", length=80, nillable=False),
        _ro("Email", "Email", "email", length=128, nillable=False),
        _ro("IsActive", "Active", "boolean", nillable=False),
        *(f for f in _AUDIT if f.name != "IsDeleted"),
    ]
    return {f.name: f for f in fields}


# -- Time -------------------------------------------------------------------------------------


def sf_datetime(moment: datetime) -> str:
    """How the REST API writes a dateTime: 2026-12-04T10:00:00.000+0000 (UTC)."""
    moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def parse_sf_datetime(text: str) -> datetime:
    """A dateTime as the REST API writes it, or as a SOQL literal (Z, +hh:mm, -hh:mm)."""
    text = text.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    text = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", text)
    return datetime.fromisoformat(text).astimezone(timezone.utc)


# -- Errors -----------------------------------------------------------------------------------


class SalesforceError(Exception):
    """An answer other than success: a status and a Salesforce error body."""

    def __init__(self, status: int, code: str, message: str, fields: Iterable[str] = (), **extra: Any) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        error: dict[str, Any] = {"message": message, "errorCode": code, "fields": list(fields)}
        error.update(extra)
        self.body: Any = [error]


class _Answer(Exception):
    """Any other answer that ends a request early (300 with its list of URLs)."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(status)
        self.status = status
        self.body = body


def _not_found() -> SalesforceError:
    return SalesforceError(404, "NOT_FOUND", "The requested resource does not exist")


def _malformed_query(query: str, column: int, token: str, why: str | None = None) -> SalesforceError:
    # Salesforce's MALFORMED_QUERY text points at the token: "\n<query>\n<caret>\nERROR at Row:1:Column:N\n..."
    detail = why or f"unexpected token: '{token}'"
    return SalesforceError(
        400, "MALFORMED_QUERY", f"\n{query}\n{' ' * max(column - 1, 0)}^\nERROR at Row:1:Column:{column}\n{detail}"
    )


# -- The recorded traffic ---------------------------------------------------------------------


@dataclass
class RecordedRequest:
    """One request the fake answered: `path` is as sent (with its query string), `headers` are
    looked up case-insensitively, `json` is the parsed JSON body (None when there was none),
    `form` the parsed form body of a token request."""

    method: str
    path: str
    headers: Message
    json: Any
    status: int
    form: dict[str, str] = field(default_factory=dict)

    @property
    def route(self) -> str:
        return urlsplit(self.path).path

    @property
    def params(self) -> dict[str, str]:
        return {k: v[-1] for k, v in parse_qs(urlsplit(self.path).query, keep_blank_values=True).items()}


# -- Certificates -----------------------------------------------------------------------------


def _make_certificates(directory: Path) -> tuple[Path, Path, Path]:
    """A throwaway CA and a certificate for 127.0.0.1/localhost signed by it: (ca, cert, key).
    With the `cryptography` package when it is installed, otherwise with the openssl command."""
    ca_path, cert_path, key_path = directory / "ca.pem", directory / "server.pem", directory / "server.key"
    try:
        _certificates_with_cryptography(ca_path, cert_path, key_path)
    except ImportError:
        _certificates_with_openssl(directory, ca_path, cert_path, key_path)
    return ca_path, cert_path, key_path


def _certificates_with_cryptography(ca_path: Path, cert_path: Path, key_path: Path) -> None:
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Fake Salesforce test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_VALID_FROM)
        .not_valid_after(_VALID_UNTIL)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_VALID_FROM)
        .not_valid_after(_VALID_UNTIL)
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )


# Fixed, wide validity: the tests run with the clock a year ahead (time-machine moves Python's
# clock, not OpenSSL's), so a certificate made from "now" would not yet be valid to the verifier.
_VALID_FROM = datetime(2000, 1, 1, tzinfo=timezone.utc)
_VALID_UNTIL = datetime(2099, 12, 31, tzinfo=timezone.utc)


def _certificates_with_openssl(directory: Path, ca_path: Path, cert_path: Path, key_path: Path) -> None:
    openssl = shutil.which("openssl")
    if not openssl:
        raise RuntimeError("HTTPS needs the cryptography package or the openssl command (or use tls=False)")
    ca_key, csr, ext = directory / "ca.key", directory / "server.csr", directory / "server.ext"
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]

    def run(*args: str) -> None:
        subprocess.run([openssl, *args], check=True, capture_output=True)

    run("req", "-x509", *ec, "-keyout", str(ca_key), "-out", str(ca_path), "-days", "7",
        "-subj", "/CN=Fake Salesforce test CA",
        "-addext", "basicConstraints=critical,CA:TRUE,pathlen:0",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign")  # fmt: skip
    run("req", "-new", *ec, "-keyout", str(key_path), "-out", str(csr), "-subj", "/CN=127.0.0.1")
    ext.write_text(
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=critical,CA:FALSE\n"
        "extendedKeyUsage=serverAuth\nauthorityKeyIdentifier=keyid\n"
    )
    run("x509", "-req", "-in", str(csr), "-CA", str(ca_path), "-CAkey", str(ca_key), "-CAcreateserial",
        "-out", str(cert_path), "-days", "7", "-sha256", "-extfile", str(ext))  # fmt: skip


# -- SOQL -------------------------------------------------------------------------------------

_TOKEN_RE = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<string>'(?:[^'\\]|\\.)*')
  | (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?(?:Z|[+-]\d{2}:\d{2}))
  | (?P<date>\d{4}-\d{2}-\d{2})(?![\dT:])
  | (?P<number>-?\d+(?:\.\d+)?)
  | (?P<op><=|>=|!=|<>|=|<|>)
  | (?P<comma>,)
  | (?P<name>[A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z][A-Za-z0-9_]*)*)
  | (?P<other>\S)
    """,
    re.VERBOSE,
)
_KEYWORDS = {
    "SELECT",
    "FROM",
    "WHERE",
    "AND",
    "OR",
    "NOT",
    "ORDER",
    "BY",
    "ASC",
    "DESC",
    "LIMIT",
    "NULLS",
    "LIKE",
    "IN",
}


@dataclass
class _Token:
    kind: str
    text: str
    column: int


@dataclass
class _Condition:
    field: str
    op: str
    value: Any  # str, float, bool, None, datetime, date


@dataclass
class _Query:
    sobject: str
    fields: list[str]
    where: list[_Condition]
    order_by: str | None
    descending: bool
    limit: int | None


def _tokens(query: str) -> list[_Token]:
    out = []
    for m in _TOKEN_RE.finditer(query):
        kind = m.lastgroup or "other"
        if kind != "ws":
            out.append(_Token(kind, m.group(), m.start() + 1))
    return out


def _unescape_soql(literal: str) -> str:
    body = literal[1:-1]
    escapes = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", '"': '"', "'": "'", "\\": "\\"}
    return re.sub(r"\\(.)", lambda m: escapes.get(m.group(1), "\\" + m.group(1)), body)


def parse_soql(query: str, objects: Mapping[str, Mapping[str, FieldSpec]]) -> _Query:
    """The subset of SOQL the fake answers:

        SELECT f1, f2 FROM Lead|Task|User [WHERE f op value [AND f op value]...]
            [ORDER BY f [ASC|DESC]] [LIMIT n]

    op is =, !=, <, <=, > or >=; a value is a 'quoted string' (backslash escapes), a number,
    true/false, null, a date (YYYY-MM-DD) or a dateTime (YYYY-MM-DDThh:mm:ssZ or with an
    offset; unquoted, as SOQL requires; a fraction of a second is accepted too). Anything else
    (OR, LIKE, IN, functions, relationship fields, subqueries) is MALFORMED_QUERY here; note
    that Salesforce itself accepts much of it."""
    toks = _tokens(query)
    pos = 0

    def peek() -> _Token | None:
        return toks[pos] if pos < len(toks) else None

    def fail(tok: _Token | None, why: str | None = None) -> SalesforceError:
        if tok is None:
            return _malformed_query(query, len(query) + 1, "<EOF>", why or "unexpected end of query")
        return _malformed_query(query, tok.column, tok.text, why)

    def keyword(word: str) -> bool:
        tok = peek()
        return tok is not None and tok.kind == "name" and tok.text.upper() == word

    def expect_keyword(word: str) -> None:
        nonlocal pos
        if not keyword(word):
            raise fail(peek())
        pos += 1

    def name() -> _Token:
        nonlocal pos
        tok = peek()
        if tok is None or tok.kind != "name" or tok.text.upper() in _KEYWORDS:
            raise fail(tok)
        if "." in tok.text:
            raise fail(tok, "relationship fields are not supported by this fake")
        pos += 1
        return tok

    expect_keyword("SELECT")
    selected = [name()]
    while (tok := peek()) is not None and tok.kind == "comma":
        pos += 1
        selected.append(name())
    expect_keyword("FROM")
    obj_tok = name()
    sobject = next((o for o in objects if o.lower() == obj_tok.text.lower()), None)
    if sobject is None:
        raise SalesforceError(
            400,
            "INVALID_TYPE",
            f"\n{query}\n{' ' * (obj_tok.column - 1)}^\nERROR at Row:1:Column:{obj_tok.column}\n"
            f"sObject type '{obj_tok.text}' is not supported. If you are attempting to use a custom object, be sure "
            "to append the '__c' after the entity name. Please reference your WSDL or the describe call for the "
            "appropriate names.",
        )
    specs = objects[sobject]

    def field_of(tok: _Token) -> FieldSpec:
        spec = next((s for n, s in specs.items() if n.lower() == tok.text.lower()), None)
        if spec is None:
            raise SalesforceError(
                400,
                "INVALID_FIELD",
                f"\n{query}\n{' ' * (tok.column - 1)}^\nERROR at Row:1:Column:{tok.column}\n"
                f"No such column '{tok.text}' on entity '{sobject}'. If you are attempting to use a custom field, be "
                "sure to append the '__c' after the custom field name. Please reference your WSDL or the describe "
                "call for the appropriate names.",
            )
        return spec

    fields = [field_of(t).name for t in selected]
    where: list[_Condition] = []
    if keyword("WHERE"):
        pos += 1
        while True:
            ftok = name()
            spec = field_of(ftok)
            op_tok = peek()
            if op_tok is None or op_tok.kind != "op":
                raise fail(op_tok)
            pos += 1
            vtok = peek()
            if vtok is None:
                raise fail(None)
            pos += 1
            where.append(
                _Condition(spec.name, "!=" if op_tok.text == "<>" else op_tok.text, _soql_value(query, spec, vtok))
            )
            if keyword("AND"):
                pos += 1
                continue
            break
    order_by, descending = None, False
    if keyword("ORDER"):
        pos += 1
        expect_keyword("BY")
        order_by = field_of(name()).name
        if keyword("ASC") or keyword("DESC"):
            descending = peek().text.upper() == "DESC"  # type: ignore[union-attr]
            pos += 1
    limit = None
    if keyword("LIMIT"):
        pos += 1
        tok = peek()
        if tok is None or tok.kind != "number" or not tok.text.isdigit():
            raise fail(tok)
        limit = int(tok.text)
        pos += 1
    if peek() is not None:
        raise fail(peek())
    return _Query(sobject, fields, where, order_by, descending, limit)


def _soql_value(query: str, spec: FieldSpec, tok: _Token) -> Any:
    def wrong_type(kind: str, quoted: bool) -> SalesforceError:
        hint = " and should not be enclosed in quotes" if quoted else ""
        return SalesforceError(
            400,
            "INVALID_FIELD",
            f"\n{query}\n{' ' * (tok.column - 1)}^\nERROR at Row:1:Column:{tok.column}\n"
            f"value of filter criterion for field '{spec.name}' must be of type {kind}{hint}",
        )

    if tok.kind == "name" and tok.text.lower() == "null":
        return None
    if spec.type == "datetime":
        if tok.kind == "datetime":
            return parse_sf_datetime(tok.text)
        raise wrong_type("dateTime", tok.kind == "string")
    if spec.type == "date":
        if tok.kind == "date":
            return date.fromisoformat(tok.text)
        raise wrong_type("date", tok.kind == "string")
    if spec.type == "boolean":
        if tok.kind == "name" and tok.text.lower() in ("true", "false"):
            return tok.text.lower() == "true"
        raise wrong_type("boolean", tok.kind == "string")
    if spec.type == "double":
        if tok.kind == "number":
            return float(tok.text)
        raise wrong_type("double", tok.kind == "string")
    if tok.kind == "string":
        return _unescape_soql(tok.text)
    raise _malformed_query(query, tok.column, tok.text)


def _matches(record: Mapping[str, Any], spec: FieldSpec, cond: _Condition) -> bool:
    actual = record.get(cond.field)
    expected = cond.value
    if expected is None or actual is None:
        if cond.op == "=":
            return actual is None and expected is None
        if cond.op == "!=":
            return (actual is None) != (expected is None)
        return False
    if spec.type == "datetime":
        actual = parse_sf_datetime(actual)
    elif spec.type == "date":
        actual = date.fromisoformat(actual)
    elif spec.type in ("id", "reference"):
        actual, expected = str(actual)[:15], str(expected)[:15]
    elif isinstance(actual, str):
        # Text comparisons in SOQL are case-insensitive.
        actual, expected = actual.lower(), str(expected).lower()
    ops: dict[str, Callable[[Any, Any], bool]] = {
        "=": lambda a, b: a == b,
        "!=": lambda a, b: a != b,
        "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b,
        ">": lambda a, b: a > b,
        ">=": lambda a, b: a >= b,
    }
    return ops[cond.op](actual, expected)


# -- The server -------------------------------------------------------------------------------

_GENERATE = object()


class SalesforceServer:
    """A Salesforce org on 127.0.0.1: REST API, OAuth token endpoint, SOQL subset.

    `sf.url` (https://127.0.0.1:<port>, http with tls=False) is the instance URL; `sf.ca_path`
    is the CA file to verify it with (`requests.Session().verify = sf.ca_path`); `sf.instance` is
    "127.0.0.1:<port>" (simple-salesforce's `instance`); `sf.base_url` is
    `<url>/services/data/v<api_version>`; `sf.token_url` the OAuth token endpoint;
    `sf.access_token` a valid access token (the latest one issued).

    The org: Leads (`sf.leads`, Id -> fields, live ones only; `sf.deleted_ids`), Tasks
    (`sf.tasks`), Users (`sf.users`, `sf.user_ids` by email; `sf.api_user_id` is the integration
    user the tokens belong to), one external id field on Lead, one active lead assignment rule
    (its queue `sf.assignment_queue_id`, None for none) and one blocking duplicate rule on Lead
    Email (`duplicate_rule_on_email`). `sf.requests` lists every request answered."""

    def __init__(
        self,
        *,
        tls: bool = True,
        api_version: str = "60.0",
        client_id: str = "3MVG9fake.client.id",
        client_secret: str = "fake-client-secret",
        refresh_token: str = "5Aep861fake.refresh.token",
        external_id_field: str = "Nubilo_Lead_Id__c",
        custom_fields: Mapping[str, str] | Iterable[str] | None = None,
        users: Iterable[Mapping[str, Any]] | None = None,
        lead_statuses: Iterable[str] = DEFAULT_LEAD_STATUSES,
        converted_status: str = "Closed - Converted",
        lead_sources: Iterable[str] = DEFAULT_LEAD_SOURCES,
        daily_limit: int = 100_000,
        api_usage: int = 0,
        duplicate_rule_on_email: bool = True,
        assignment_queue_id: Any = _GENERATE,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.tls = tls
        self.api_version = api_version
        self.client_id = client_id
        self.client_secret = client_secret
        self.refresh_token = refresh_token
        self.external_id_field = external_id_field
        self.daily_limit = daily_limit
        self.api_usage = api_usage
        self.duplicate_rule_on_email = duplicate_rule_on_email
        self.converted_status = converted_status
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self._last_stamp: datetime | None = None
        self._ids = _Ids(seed=int.from_bytes(secrets.token_bytes(3), "big") * 1000)
        self._lock = threading.RLock()

        if custom_fields is None:
            custom_fields = DEFAULT_CUSTOM_FIELDS
        elif not isinstance(custom_fields, Mapping):
            custom_fields = {name: "string" for name in custom_fields}
        statuses = tuple(lead_statuses)
        if converted_status not in statuses:
            raise ValueError(f"converted_status {converted_status!r} is not one of lead_statuses")
        self.objects: dict[str, dict[str, FieldSpec]] = {
            "Lead": _lead_fields(external_id_field, custom_fields, statuses, lead_sources),
            "Task": _task_fields(),
            "User": _user_fields(),
        }

        self.org_id = self._ids.new("Organization")
        self.assignment_rule_id = self._ids.new("AssignmentRule")
        self.assignment_queue_id: str | None = (
            self._ids.new("Group") if assignment_queue_id is _GENERATE else assignment_queue_id
        )
        self.users: dict[str, dict[str, Any]] = {}
        self.user_ids: dict[str, str] = {}
        self.api_user_id = self.add_user("integration@nubilo.example", "Integration User")
        for user in DEFAULT_USERS if users is None else users:
            self.add_user(user["Email"], user.get("Name") or user["Email"], bool(user.get("IsActive", True)))

        self.leads: dict[str, dict[str, Any]] = {}
        self.tasks: dict[str, dict[str, Any]] = {}
        self.opportunities: dict[str, dict[str, Any]] = {}
        self.deleted_ids: list[str] = []
        self._recycle_bin: dict[str, dict[str, Any]] = {}
        self.requests: list[RecordedRequest] = []

        self._access_tokens: set[str] = set()
        self._refresh_revoked = False
        self.access_token = self._issue_token()
        self._fail_queue: list[tuple[int, Any]] = []
        self._delay_queue: list[float] = []

        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._tmpdir: Path | None = None
        self.ca_path: str | None = None
        self.port: int | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> SalesforceServer:
        if self._httpd is not None:
            return self
        server = self

        class Handler(_Handler):
            sf = server

        httpd = _HTTPServer(("127.0.0.1", 0), Handler)
        if self.tls:
            self._tmpdir = Path(tempfile.mkdtemp(prefix="fake-salesforce-"))
            ca, cert, key = _make_certificates(self._tmpdir)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.minimum_version = ssl.TLSVersion.TLSv1_2
            context.load_cert_chain(str(cert), str(key))
            httpd.ssl_context = context
            self.ca_path = str(ca)
        self._httpd = httpd
        self.port = httpd.server_address[1]
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-salesforce", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    def __enter__(self) -> SalesforceServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def instance(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.instance}"

    @property
    def base_url(self) -> str:
        return f"{self.url}/services/data/v{self.api_version}"

    @property
    def token_url(self) -> str:
        return f"{self.url}/services/oauth2/token"

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}

    def session(self, *, authorized: bool = False) -> Any:
        """A requests.Session that trusts this server's certificate. Note why trust_env is off:
        requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE (set on many machines, this one too)
        override a Session's `verify`, so `session.verify = sf.ca_path` alone is not enough;
        passing `verify=sf.ca_path` on each request works as well."""
        import requests

        session = requests.Session()
        session.trust_env = False
        session.verify = self.ca_path if self.tls else True
        if authorized:
            session.headers.update(self.auth_headers())
        return session

    # -- state for tests ---------------------------------------------------------------------

    def add_user(self, email: str, name: str, active: bool = True) -> str:
        """A User of the org (id 005...); OwnerId may name it."""
        with self._lock:
            user_id = self._ids.new("User")
            first, _, last = name.rpartition(" ")
            stamp = sf_datetime(self._stamp())
            self.users[user_id] = {
                "Id": user_id,
                "Username": email,
                "Name": name,
                "FirstName": first or None,
                "LastName": last or name,
                "Email": email,
                "IsActive": active,
                "CreatedDate": stamp,
                "CreatedById": user_id,
                "LastModifiedDate": stamp,
                "LastModifiedById": user_id,
                "SystemModstamp": stamp,
            }
            self.user_ids[email] = user_id
            return user_id

    def lead_by_external_id(self, value: str) -> dict[str, Any] | None:
        """The live Lead whose external id is `value` (the first, if several), or None."""
        with self._lock:
            found = self._by_external_id(value)
            return found[0] if found else None

    def requests_to(self, route_part: str, method: str | None = None) -> list[RecordedRequest]:
        """The recorded requests whose path contains `route_part` (and of `method`)."""
        return [r for r in self.requests if route_part in r.route and (method is None or r.method == method)]

    # -- fault injection ---------------------------------------------------------------------

    def fail_next(self, count: int = 1, status: int = 503, body: Any = None) -> None:
        """The next `count` requests (any endpoint) answer `status` with a Salesforce error body
        (or `body`), doing nothing else and not counting towards the API limit."""
        if body is None:
            code, message = {
                500: (
                    "UNKNOWN_EXCEPTION",
                    "An unexpected error occurred. Please include this ErrorId if you contact "
                    "support: 1234567890-12345 (-123456789)",
                ),  # fmt: skip
                503: ("SERVER_UNAVAILABLE", "Server temporarily unavailable; please retry later."),
            }.get(status, ("UNKNOWN_EXCEPTION", "Injected failure"))
            body = [{"message": message, "errorCode": code, "fields": []}]
        with self._lock:
            self._fail_queue.extend([(status, body)] * count)

    def delay_next(self, seconds: float, count: int = 1) -> None:
        """The next `count` requests wait `seconds` before they are answered (client timeouts)."""
        with self._lock:
            self._delay_queue.extend([seconds] * count)

    def expire_token(self) -> None:
        """Every access token issued so far stops working (the session timed out): requests get
        401 INVALID_SESSION_ID until the client gets a new token from the refresh grant."""
        with self._lock:
            self._access_tokens.clear()

    def revoke_refresh_token(self, *, access_tokens_too: bool = True) -> None:
        """The refresh token is revoked: its grant answers 400 invalid_grant. Revoking a refresh
        token also revokes the access tokens issued with it (unless `access_tokens_too=False`)."""
        with self._lock:
            self._refresh_revoked = True
            if access_tokens_too:
                self._access_tokens.clear()

    def add_duplicate_external_id(self, value: str, **fields: Any) -> list[str]:
        """Make `value` match two live Leads (as an import into a non-unique External ID field
        can): an upsert by it then answers 300 Multiple Choices. Returns the Leads' ids."""
        with self._lock:
            found = self._by_external_id(value)
            base = dict(found[0]) if found else {"LastName": "Duplicate", "Company": "Imported"}
            base.update(fields)
            while len(found) < 2:
                copy = {k: v for k, v in base.items() if self._field("Lead", k).createable}
                copy[self.external_id_field] = value
                lead_id = self._insert("Lead", copy, self.api_user_id)
                found.append(self.leads[lead_id])
            return [lead["Id"] for lead in found]

    # -- a salesperson's actions in Salesforce -----------------------------------------------

    def set_field(self, lead_id: str, field_name: str, value: Any, *, by: str | None = None) -> None:
        """A salesperson edits a Lead in Salesforce: the value is checked as an API update would
        be, LastModifiedDate and SystemModstamp move on."""
        with self._lock:
            lead = self._live("Lead", lead_id, write=True)
            changes = self._validate("Lead", {field_name: value}, creating=False)
            self._apply(lead, changes, by or self._salesperson())

    def convert_lead(self, lead_id: str, *, create_opportunity: bool = True, by: str | None = None) -> str | None:
        """A salesperson converts a Lead (Account, Contact and Opportunity are made): IsConverted
        true, Status the converted status, ConvertedDate today. Returns the Opportunity id."""
        with self._lock:
            lead = self._live("Lead", lead_id, write=True)
            if lead["IsConverted"]:
                raise ValueError(f"Lead {lead_id} is already converted")
            opportunity_id = self._ids.new("Opportunity") if create_opportunity else None
            if opportunity_id:
                self.opportunities[opportunity_id] = {"Id": opportunity_id, "Name": lead.get("Company")}
            changes = {
                "IsConverted": True,
                "Status": self.converted_status,
                "ConvertedDate": self.clock().astimezone(timezone.utc).date().isoformat(),
                "ConvertedAccountId": self._ids.new("Account"),
                "ConvertedContactId": self._ids.new("Contact"),
                "ConvertedOpportunityId": opportunity_id,
            }
            self._apply(lead, changes, by or self._salesperson())
            return opportunity_id

    def delete_lead(self, lead_id: str, *, by: str | None = None) -> None:
        """A salesperson deletes a Lead: it goes to the Recycle Bin (IsDeleted true)."""
        with self._lock:
            self._delete("Lead", lead_id, by or self._salesperson())

    # -- internals: records --------------------------------------------------------------------

    def _salesperson(self) -> str:
        return next((uid for uid in self.users if uid != self.api_user_id), self.api_user_id)

    def _stamp(self) -> datetime:
        """Now, in milliseconds, and always later than the last stamp given (SystemModstamp)."""
        now = self.clock().astimezone(timezone.utc)
        now = now.replace(microsecond=now.microsecond // 1000 * 1000)
        if self._last_stamp is not None and now <= self._last_stamp:
            now = self._last_stamp + timedelta(milliseconds=1)
        self._last_stamp = now
        return now

    def _store(self, sobject: str) -> dict[str, dict[str, Any]]:
        return {"Lead": self.leads, "Task": self.tasks, "User": self.users}[sobject]

    def _field(self, sobject: str, name: str) -> FieldSpec:
        specs = self.objects[sobject]
        spec = specs.get(name) or next((s for n, s in specs.items() if n.lower() == name.lower()), None)
        if spec is None:
            raise SalesforceError(400, "INVALID_FIELD", f"No such column '{name}' on sobject of type {sobject}")
        return spec

    def _find(self, store: Mapping[str, dict[str, Any]], record_id: str) -> dict[str, Any] | None:
        key = record_id[:15]
        return next((r for i, r in store.items() if i[:15] == key), None)

    def _live(self, sobject: str, record_id: str, *, write: bool) -> dict[str, Any]:
        record = self._find(self._store(sobject), record_id)
        if record is not None:
            return record
        if sobject == "Lead" and self._find(self._recycle_bin, record_id) is not None:
            if write:
                raise SalesforceError(404, "ENTITY_IS_DELETED", "entity is deleted")
        raise _not_found()

    def _by_external_id(self, value: str) -> list[dict[str, Any]]:
        # External ids match case-insensitively (a text External ID field is not case sensitive).
        return [
            lead
            for lead in self.leads.values()
            if lead.get(self.external_id_field) is not None
            and str(lead[self.external_id_field]).lower() == value.lower()
        ]

    def _validate(self, sobject: str, body: Mapping[str, Any], *, creating: bool) -> dict[str, Any]:
        """The body's fields, checked as the API checks them; returns canonical name -> value."""
        if not isinstance(body, Mapping):
            raise SalesforceError(
                400, "JSON_PARSER_ERROR", "Cannot deserialize instance of sObject from the request body"
            )
        out: dict[str, Any] = {}
        for key, value in body.items():
            if key == "attributes":
                continue
            spec = self._field(sobject, key)
            if not (spec.createable if creating else spec.updateable):
                raise SalesforceError(
                    400,
                    "INVALID_FIELD_FOR_INSERT_UPDATE",
                    f"Unable to create/update fields: {spec.name}. Please check the security settings of this field "
                    "and verify that it is read/write for your profile or permission set.",
                    [spec.name],
                )
            out[spec.name] = self._coerce(sobject, spec, value)
        specs = self.objects[sobject]
        if creating:
            missing = [
                s.name
                for s in specs.values()
                if s.createable
                and not s.nillable
                and s.default is None
                and s.name != "OwnerId"
                and out.get(s.name) is None
            ]
        else:
            missing = [n for n, v in out.items() if v is None and not specs[n].nillable]
        if missing:
            raise SalesforceError(
                400, "REQUIRED_FIELD_MISSING", f"Required fields are missing: [{', '.join(missing)}]", missing
            )
        return out

    def _coerce(self, sobject: str, spec: FieldSpec, value: Any) -> Any:
        if isinstance(value, str) and value == "" and spec.type not in ("boolean", "double"):
            value = None  # Salesforce stores an empty string as null
        if value is None:
            return None
        if isinstance(value, (dict, list)):
            raise SalesforceError(
                400, "JSON_PARSER_ERROR", f"Cannot deserialize instance of {spec.type} from START_OBJECT value"
            )
        if spec.type == "boolean":
            if isinstance(value, bool):
                return value
            raise SalesforceError(
                400, "JSON_PARSER_ERROR", f"Cannot deserialize instance of boolean from VALUE_STRING value {value}"
            )
        if spec.type == "double":
            if isinstance(value, bool):
                raise SalesforceError(400, "JSON_PARSER_ERROR", "Cannot deserialize instance of double from VALUE_TRUE")
            try:
                number = float(value)
            except (TypeError, ValueError):
                raise SalesforceError(
                    400,
                    "JSON_PARSER_ERROR",
                    f"Cannot deserialize instance of double from VALUE_STRING value {value} or request may be missing "
                    "a required field",
                ) from None
            return number
        if spec.type in ("date", "datetime"):
            try:
                return (
                    date.fromisoformat(str(value)).isoformat()
                    if spec.type == "date"
                    else sf_datetime(parse_sf_datetime(str(value)))
                )
            except ValueError:
                raise SalesforceError(
                    400,
                    "JSON_PARSER_ERROR",
                    f"Cannot deserialize instance of {spec.type} from VALUE_STRING value {value}",
                ) from None
        text = value if isinstance(value, str) else json.dumps(value)
        if spec.length and len(text) > spec.length:
            raise SalesforceError(
                400,
                "STRING_TOO_LONG",
                f"{spec.label}: data value too large: {text[:200]} (max length={spec.length})",
                [spec.name],
            )
        if spec.type == "email" and not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", text):
            raise SalesforceError(
                400, "INVALID_EMAIL_ADDRESS", f"{spec.label}: invalid email address: {text}", [spec.name]
            )
        if spec.type == "picklist" and spec.restricted and text not in spec.picklist:
            raise SalesforceError(
                400,
                "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                f"{spec.label}: bad value for restricted picklist field: {text}",
                [spec.name],
            )
        if spec.type == "reference":
            self._check_reference(sobject, spec, text)
        return text

    def _check_reference(self, sobject: str, spec: FieldSpec, value: str) -> None:
        if not _looks_like_id(value):
            raise SalesforceError(
                400, "MALFORMED_ID", f"{spec.label}: id value of incorrect type: {value}", [spec.name]
            )
        if spec.name == "OwnerId":
            if sobject == "Lead" and self.assignment_queue_id and value[:15] == self.assignment_queue_id[:15]:
                return
            user = self._find(self.users, value)
            if user is None:
                raise SalesforceError(
                    400, "INVALID_CROSS_REFERENCE_KEY", f"{spec.label}: invalid cross reference id", [spec.name]
                )
            if not user["IsActive"]:
                raise SalesforceError(
                    400,
                    "INACTIVE_OWNER_OR_USER",
                    f"operation performed with inactive user [{user['Id']}] as owner of {sobject.lower()}",
                    [spec.name],
                )
        elif spec.name == "WhoId":
            if value.startswith(KEY_PREFIXES["Lead"]):
                if self._find(self._recycle_bin, value) is not None:
                    raise SalesforceError(400, "ENTITY_IS_DELETED", "entity is deleted", [spec.name])
                lead = self._find(self.leads, value)
                if lead is not None and lead["IsConverted"]:
                    # Assumed: an activity can't name a converted Lead (the error Salesforce gives is this one).
                    raise SalesforceError(
                        400, "CANNOT_UPDATE_CONVERTED_LEAD", "cannot reference converted lead", [spec.name]
                    )
                if lead is not None:
                    return
            raise SalesforceError(
                400, "INVALID_CROSS_REFERENCE_KEY", f"{spec.label}: invalid cross reference id", [spec.name]
            )
        elif spec.name == "WhatId":
            if self._find(self.opportunities, value) is None:
                raise SalesforceError(
                    400, "INVALID_CROSS_REFERENCE_KEY", f"{spec.label}: invalid cross reference id", [spec.name]
                )

    def _apply(self, record: dict[str, Any], changes: Mapping[str, Any], user_id: str) -> None:
        record.update(changes)
        if "FirstName" in changes or "LastName" in changes:
            record["Name"] = " ".join(p for p in (record.get("FirstName"), record.get("LastName")) if p)
        stamp = sf_datetime(self._stamp())
        record["LastModifiedDate"] = stamp
        record["LastModifiedById"] = user_id
        record["SystemModstamp"] = stamp

    def _insert(self, sobject: str, changes: Mapping[str, Any], user_id: str) -> str:
        record_id = self._ids.new(sobject)
        record: dict[str, Any] = {name: None for name in self.objects[sobject]}
        for spec in self.objects[sobject].values():
            if spec.type == "boolean":
                record[spec.name] = False
            if spec.default is not None:
                record[spec.name] = spec.default
        stamp = sf_datetime(self._stamp())
        record.update(Id=record_id, OwnerId=user_id, CreatedDate=stamp, CreatedById=user_id)
        self._store(sobject)[record_id] = record
        self._apply(
            record, {k: v for k, v in changes.items() if v is not None or k not in ("Status", "Priority")}, user_id
        )
        return record_id

    def _delete(self, sobject: str, record_id: str, user_id: str) -> None:
        if sobject == "User":
            raise SalesforceError(
                405, "METHOD_NOT_ALLOWED", "HTTP Method 'DELETE' not allowed. Allowed are HEAD,GET,PATCH"
            )
        record = self._live(sobject, record_id, write=True)
        del self._store(sobject)[record["Id"]]
        self._apply(record, {"IsDeleted": True}, user_id)
        if sobject == "Lead":
            self._recycle_bin[record["Id"]] = record
            self.deleted_ids.append(record["Id"])

    def _duplicates(self, changes: Mapping[str, Any], exclude: str | None) -> list[dict[str, Any]]:
        email = changes.get("Email")
        if not self.duplicate_rule_on_email or not email:
            return []
        return [
            lead
            for lead in self.leads.values()
            if lead["Id"] != exclude and not lead["IsConverted"] and (lead.get("Email") or "").lower() == email.lower()
        ]

    def _duplicates_detected(self, matches: list[dict[str, Any]]) -> SalesforceError:
        message = "Use one of these records?"
        error = SalesforceError(400, "DUPLICATES_DETECTED", message)
        error.body[0].pop("fields")
        error.body[0]["duplicateResult"] = {
            "allowSave": False,
            "duplicateRule": "Nubilo_Lead_Email_Duplicate_Rule",
            "duplicateRuleEntityType": "Lead",
            "errorMessage": message,
            "matchResults": [
                {
                    "entityType": "Lead",
                    "errors": [],
                    "matchEngine": "ExactMatchEngine",
                    "matchRecords": [
                        {
                            "additionalInformation": [],
                            "fieldDiffs": [],
                            "matchConfidence": 100.0,
                            "record": {"attributes": self._attributes("Lead", lead["Id"]), "Id": lead["Id"]},
                        }
                        for lead in matches
                    ],
                    "rule": "Nubilo_Lead_Email_Matching_Rule",
                    "size": len(matches),
                    "success": True,
                }
            ],
        }
        return error

    def _attributes(self, sobject: str, record_id: str, version: str | None = None) -> dict[str, str]:
        return {"type": sobject, "url": f"/services/data/v{version or self.api_version}/sobjects/{sobject}/{record_id}"}

    def _assign(self, changes: dict[str, Any], header: str | None) -> None:
        """Sforce-Auto-Assign: absent or TRUE (any case) or the rule's id -> the active rule runs
        and gives the Lead to its queue; FALSE -> no rule runs. Other values are taken as TRUE
        (assumed; the reference lists only these three)."""
        value = (header or "TRUE").strip()
        if value.upper() == "FALSE" or not self.assignment_queue_id:
            return
        changes["OwnerId"] = self.assignment_queue_id

    def _save_lead(
        self, changes: dict[str, Any], existing: dict[str, Any] | None, headers: Message, version: str
    ) -> str:
        if existing is not None and existing["IsConverted"]:
            raise SalesforceError(400, "CANNOT_UPDATE_CONVERTED_LEAD", "cannot reference converted lead")
        matches = self._duplicates(changes, existing["Id"] if existing else None)
        if matches:
            raise self._duplicates_detected(matches)
        self._assign(changes, headers.get("Sforce-Auto-Assign"))
        if existing is None:
            return self._insert("Lead", changes, self.api_user_id)
        self._apply(existing, changes, self.api_user_id)
        return existing["Id"]

    # -- internals: auth ---------------------------------------------------------------------

    def _issue_token(self) -> str:
        token = f"{self.org_id[:15]}!{secrets.token_urlsafe(48)}"
        self._access_tokens.add(token)
        self.access_token = token
        return token

    def _token_response(self) -> dict[str, str]:
        issued_at = str(int(time.time() * 1000))
        identity = f"{self.url}/id/{self.org_id}/{self.api_user_id}"
        signature = base64.b64encode(
            hmac.new(self.client_secret.encode(), (identity + issued_at).encode(), hashlib.sha256).digest()
        ).decode()
        return {
            "access_token": self._issue_token(),
            "signature": signature,
            "scope": "api refresh_token",
            "instance_url": self.url,
            "id": identity,
            "token_type": "Bearer",
            "issued_at": issued_at,
        }

    def _oauth(self, form: Mapping[str, str], headers: Message) -> tuple[int, Any]:
        """POST /services/oauth2/token (refresh_token and client_credentials grants)."""
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        basic = headers.get("Authorization", "")
        if basic.startswith("Basic "):
            try:
                client_id, _, client_secret = base64.b64decode(basic[6:]).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return 400, {"error": "invalid_client", "error_description": "invalid client credentials"}
        grant = form.get("grant_type")
        if not grant:
            return 400, {"error": "unsupported_grant_type", "error_description": "grant type not supported"}
        if grant not in ("refresh_token", "client_credentials"):
            return 400, {"error": "unsupported_grant_type", "error_description": "grant type not supported"}
        if client_id != self.client_id:
            return 400, {"error": "invalid_client_id", "error_description": "client identifier invalid"}
        if grant == "client_credentials":
            if client_secret != self.client_secret:
                return 400, {"error": "invalid_client", "error_description": "invalid client credentials"}
            return 200, self._token_response()
        if client_secret is not None and client_secret != self.client_secret:
            return 400, {"error": "invalid_client", "error_description": "invalid client credentials"}
        if form.get("refresh_token") != self.refresh_token or self._refresh_revoked:
            return 400, {"error": "invalid_grant", "error_description": "expired access/refresh token"}
        return 200, self._token_response()

    def _check_session(self, headers: Message) -> None:
        auth = headers.get("Authorization", "")
        scheme, _, token = auth.partition(" ")
        if scheme.lower() not in ("bearer", "oauth") or token.strip() not in self._access_tokens:
            raise SalesforceError(401, "INVALID_SESSION_ID", "Session expired or invalid")

    # -- internals: REST ---------------------------------------------------------------------

    def _versions(self) -> list[str]:
        # The versions this org answers: 31.0 (the oldest Salesforce still serves) to api_version.
        return [f"{v}.0" for v in range(31, int(float(self.api_version)) + 1)]

    def _rest(self, method: str, path: str, headers: Message, raw_body: bytes) -> tuple[int, Any]:
        parts = urlsplit(path)
        segments = [unquote(s) for s in parts.path.split("/")[3:] if s != ""]  # after /services/data
        params = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        if not segments:
            if method != "GET":
                raise _not_found()
            return 200, [{"label": f"API {v}", "url": f"/services/data/v{v}", "version": v} for v in self._versions()]
        self._check_session(headers)
        with self._lock:
            if self.api_usage >= self.daily_limit:
                raise SalesforceError(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
            self.api_usage += 1
        version_seg = segments[0]
        if not re.fullmatch(r"v\d+\.\d", version_seg) or version_seg[1:] not in self._versions():
            raise _not_found()
        version = version_seg[1:]
        rest = segments[1:]
        body = None
        if raw_body:
            try:
                body = json.loads(raw_body)
            except ValueError as exc:
                raise SalesforceError(
                    400, "JSON_PARSER_ERROR", f"Unexpected character in the request body: {exc}"
                ) from None
        with self._lock:
            return self._route(method, version, rest, params, headers, body)

    def _route(
        self, method: str, version: str, rest: list[str], params: Mapping[str, str], headers: Message, body: Any
    ) -> tuple[int, Any]:
        base = f"/services/data/v{version}"
        if not rest:
            self._allow(method, "GET")
            return 200, {
                "sobjects": f"{base}/sobjects",
                "query": f"{base}/query",
                "queryAll": f"{base}/queryAll",
                "limits": f"{base}/limits",
            }
        head = rest[0]
        if head == "limits" and len(rest) == 1:
            self._allow(method, "GET")
            return 200, {"DailyApiRequests": {"Max": self.daily_limit, "Remaining": self.daily_limit - self.api_usage}}
        if head in ("query", "queryAll") and len(rest) == 1:
            self._allow(method, "GET")
            if "q" not in params:
                raise SalesforceError(400, "MALFORMED_QUERY", "A query string has to be specified")
            return 200, self._query(params["q"], version, include_deleted=head == "queryAll")
        if head != "sobjects":
            raise _not_found()
        if len(rest) == 1:
            self._allow(method, "GET")
            return 200, {
                "encoding": "UTF-8",
                "maxBatchSize": 200,
                "sobjects": [self._sobject_info(name, version) for name in self.objects],
            }
        sobject = next((o for o in self.objects if o.lower() == rest[1].lower()), None)
        if sobject is None:
            raise _not_found()
        if len(rest) == 2:
            if method == "POST":
                return self._create(sobject, body, headers, version)
            self._allow(method, "GET", "POST")
            return 200, {"objectDescribe": self._sobject_info(sobject, version), "recentItems": []}
        if len(rest) == 3 and rest[2] == "describe":
            self._allow(method, "GET")
            return 200, self._describe(sobject, version)
        if len(rest) == 3:
            return self._by_id(method, sobject, rest[2], params, headers, body, version)
        if len(rest) == 4:
            return self._by_external(method, sobject, rest[2], rest[3], params, headers, body, version)
        raise _not_found()

    @staticmethod
    def _allow(method: str, *allowed: str) -> None:
        if method not in allowed:
            raise SalesforceError(
                405,
                "METHOD_NOT_ALLOWED",
                f"HTTP Method '{method}' not allowed. Allowed are {','.join(sorted({'HEAD', *allowed}))}",
            )

    def _sobject_info(self, sobject: str, version: str) -> dict[str, Any]:
        base = f"/services/data/v{version}/sobjects/{sobject}"
        writable = sobject != "User"
        return {
            "name": sobject,
            "label": sobject,
            "keyPrefix": KEY_PREFIXES[sobject],
            "custom": False,
            "createable": writable,
            "updateable": writable,
            "deletable": writable,
            "queryable": True,
            "urls": {"sobject": base, "describe": f"{base}/describe", "rowTemplate": f"{base}/{{ID}}"},
        }

    def _describe(self, sobject: str, version: str) -> dict[str, Any]:
        info = self._sobject_info(sobject, version)
        info["fields"] = [spec.describe() for spec in self.objects[sobject].values()]
        return info

    def _create(self, sobject: str, body: Any, headers: Message, version: str) -> tuple[int, Any]:
        if sobject == "User":
            raise SalesforceError(400, "INVALID_TYPE_FOR_OPERATION", "entity type cannot be inserted: User")
        changes = self._validate(sobject, body, creating=True)
        if sobject == "Lead":
            record_id = self._save_lead(changes, None, headers, version)
        else:
            record_id = self._insert(sobject, changes, self.api_user_id)
        return 201, {"id": record_id, "success": True, "errors": []}

    def _read(self, sobject: str, record: Mapping[str, Any], params: Mapping[str, str], version: str) -> dict:
        names = list(self.objects[sobject])
        if params.get("fields"):
            names = [self._field(sobject, n.strip()).name for n in params["fields"].split(",") if n.strip()]
        return {"attributes": self._attributes(sobject, record["Id"], version), **{n: record.get(n) for n in names}}

    def _by_id(
        self,
        method: str,
        sobject: str,
        record_id: str,
        params: Mapping[str, str],
        headers: Message,
        body: Any,
        version: str,
    ) -> tuple[int, Any]:
        if not _looks_like_id(record_id, KEY_PREFIXES[sobject]):
            # /sobjects/Lead/<not an id> is read as an external id field without a value.
            raise SalesforceError(
                404, "NOT_FOUND", f"Provided external ID field does not exist or is not accessible: {record_id}"
            )
        self._allow(method, "GET", "PATCH", "DELETE")
        if method == "GET":
            return 200, self._read(sobject, self._live(sobject, record_id, write=False), params, version)
        if method == "DELETE":
            self._delete(sobject, record_id, self.api_user_id)
            return 204, None
        if sobject == "User":
            raise SalesforceError(400, "INVALID_TYPE_FOR_OPERATION", "entity type cannot be updated: User")
        record = self._live(sobject, record_id, write=True)
        changes = self._validate(sobject, body if body is not None else {}, creating=False)
        if sobject == "Lead":
            self._save_lead(changes, record, headers, version)
        else:
            self._apply(record, changes, self.api_user_id)
        return 204, None

    def _by_external(
        self,
        method: str,
        sobject: str,
        field_name: str,
        value: str,
        params: Mapping[str, str],
        headers: Message,
        body: Any,
        version: str,
    ) -> tuple[int, Any]:
        spec = next((s for n, s in self.objects[sobject].items() if n.lower() == field_name.lower()), None)
        if spec is None or not spec.external_id:
            raise SalesforceError(
                404, "NOT_FOUND", f"Provided external ID field does not exist or is not accessible: {field_name}"
            )
        self._allow(method, "GET", "PATCH", "DELETE")
        found = self._by_external_id(value)
        if len(found) > 1:
            # 300 Multiple Choices: the body lists the matching records.
            raise _Answer(300, [f"/services/data/v{version}/sobjects/{sobject}/{r['Id']}" for r in found])
        existing = found[0] if found else None
        if method == "GET":
            if existing is None:
                raise _not_found()
            return 200, self._read(sobject, existing, params, version)
        if method == "DELETE":
            if existing is None:
                raise _not_found()
            self._delete(sobject, existing["Id"], self.api_user_id)
            return 204, None
        # PATCH: upsert. "Do not specify Id or an external ID field in the request body or an error is
        # generated" (resources_sobject_upsert_patch.htm); the error's code and text are assumed.
        if isinstance(body, Mapping):
            for key in body:
                if key.lower() in ("id", spec.name.lower()):
                    raise SalesforceError(
                        400,
                        "INVALID_FIELD",
                        f"Don't specify Id or the external ID field ({spec.name}) in the body of an upsert: the URL "
                        "gives it",
                        [key],
                    )
        if existing is None and params.get("updateOnly", "").lower() == "true":
            raise _not_found()
        changes = self._validate(sobject, body if body is not None else {}, creating=existing is None)
        if existing is None:
            changes[spec.name] = value
        record_id = self._save_lead(changes, existing, headers, version)
        if existing is None:
            result = {"id": record_id, "success": True, "errors": []}
            if float(version) >= 46.0:
                result["created"] = True
            return 201, result
        if float(version) < 46.0:
            return 204, None
        return 200, {"id": record_id, "success": True, "errors": [], "created": False}

    def _query(self, soql: str, version: str, *, include_deleted: bool) -> dict[str, Any]:
        query = parse_soql(soql, self.objects)
        specs = self.objects[query.sobject]
        rows = list(self._store(query.sobject).values())
        if include_deleted and query.sobject == "Lead":
            rows += list(self._recycle_bin.values())
        rows = [r for r in rows if all(_matches(r, specs[c.field], c) for c in query.where)]
        if query.order_by:
            spec = specs[query.order_by]

            def key(row: Mapping[str, Any]) -> tuple:
                v = row.get(query.order_by)  # type: ignore[arg-type]
                if v is None:
                    return (0, "")
                if spec.type == "datetime":
                    return (1, parse_sf_datetime(v))
                return (1, v.lower() if isinstance(v, str) else v)

            # Nulls first ascending, last descending (SOQL's defaults).
            rows.sort(key=key, reverse=query.descending)
        if query.limit is not None:
            rows = rows[: query.limit]
        records = [
            {"attributes": self._attributes(query.sobject, r["Id"], version), **{f: r.get(f) for f in query.fields}}
            for r in rows
        ]
        return {"totalSize": len(records), "done": True, "records": records}

    # -- one request -------------------------------------------------------------------------

    def _answer(self, method: str, path: str, headers: Message, raw_body: bytes) -> tuple[int, Any, dict[str, str]]:
        """(status, JSON body or None, extra headers) for one request."""
        route = urlsplit(path).path
        with self._lock:
            delay = self._delay_queue.pop(0) if self._delay_queue else 0.0
            failure = self._fail_queue.pop(0) if self._fail_queue else None
        if delay:
            time.sleep(delay)
        extra: dict[str, str] = {}
        is_rest = route == "/services/data" or route.startswith("/services/data/")
        if failure is not None:
            status, body = failure
        elif route.rstrip("/") == "/services/oauth2/token":
            if method != "POST":
                status, body = 405, {"error": "invalid_request", "error_description": "must use HTTP POST"}
            else:
                form = {k: v[-1] for k, v in parse_qs(raw_body.decode("utf-8", "replace")).items()}
                with self._lock:
                    status, body = self._oauth(form, headers)
        elif is_rest:
            try:
                status, body = self._rest(method, path, headers, raw_body)
            except SalesforceError as exc:
                status, body = exc.status, exc.body
            except _Answer as answer:
                status, body = answer.status, answer.body
        else:
            status, body = _not_found().status, _not_found().body
        if is_rest:
            extra["Sforce-Limit-Info"] = f"api-usage={self.api_usage}/{self.daily_limit}"
        return status, body, extra


class _HTTPServer(http.server.ThreadingHTTPServer):
    """One thread a connection; with `ssl_context`, the TLS handshake happens in that thread (a
    client that connects and says nothing holds up no one else)."""

    daemon_threads = True
    ssl_context: ssl.SSLContext | None = None

    def finish_request(self, request: Any, client_address: Any) -> None:
        if self.ssl_context is None:
            super().finish_request(request, client_address)
            return
        request.settimeout(10)
        try:
            tls = self.ssl_context.wrap_socket(request, server_side=True)
        except (OSError, ssl.SSLError):
            return
        tls.settimeout(None)
        try:
            super().finish_request(tls, client_address)
        finally:
            try:
                tls.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            tls.close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hung up (a timeout in a test, a failed TLS handshake) is not an error here.
        import sys

        if not isinstance(sys.exc_info()[1], (ConnectionError, ssl.SSLError, TimeoutError)):
            super().handle_error(request, client_address)


class _Handler(http.server.BaseHTTPRequestHandler):
    sf: SalesforceServer
    protocol_version = "HTTP/1.1"
    server_version = "FakeSalesforce/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw_body = self.rfile.read(length) if length else b""
        status, body, extra = self.sf._answer(self.command, self.path, self.headers, raw_body)
        payload = b"" if body is None or status == 204 else json.dumps(body).encode()
        self.send_response(status)
        for name, value in extra.items():
            self.send_header(name, value)
        if payload:
            self.send_header("Content-Type", "application/json;charset=UTF-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if payload and self.command != "HEAD":
            self.wfile.write(payload)
        parsed: Any = None
        form: dict[str, str] = {}
        if raw_body:
            try:
                parsed = json.loads(raw_body)
            except ValueError:
                form = {k: v[-1] for k, v in parse_qs(raw_body.decode("utf-8", "replace")).items()}
        with self.sf._lock:
            self.sf.requests.append(RecordedRequest(self.command, self.path, self.headers, parsed, status, form))

    do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = do_HEAD = _handle
