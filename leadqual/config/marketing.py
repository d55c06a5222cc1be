"""Load and validate the files marketing owns: config/qualification.yml and config/messages.yml.

Both are checked on load with pydantic so a typo fails at start-up with the field's path
("budget.points.qualifies: ...") instead of mis-scoring leads for weeks.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, EmailStr, Field, HttpUrl, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from leadqual import settings
from leadqual.settings import REPO_ROOT

LANGUAGES = ("es", "en")
BANT_SLOTS = ("need", "timing", "budget", "authority")
CONTACT_SLOTS = ("name", "company", "email")
QUESTION_SLOTS = BANT_SLOTS + CONTACT_SLOTS

ROOT = REPO_ROOT
DEFAULT_QUALIFICATION = ROOT / "config" / "qualification.yml"
DEFAULT_MESSAGES = ROOT / "config" / "messages.yml"


class ConfigError(ValueError):
    """A marketing-owned file is invalid; the message names the file and the field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Label(_Strict):
    es: str = Field(min_length=1)
    en: str = Field(min_length=1)

    def get(self, lang: str) -> str:
        return self.en if lang == "en" else self.es


def _check_option_values(section: str, options: list, model: type[BaseModel]) -> None:
    """Validate each button's value, naming the button in the error."""
    for option in options:
        try:
            model(**option.value)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or 'value'}: {err['msg']}" for err in exc.errors()
            )
            raise ValueError(f"{section}.options[{option.id}].value: {problems}") from None


class BudgetValue(_Strict):
    min: float | None = Field(default=None, ge=0)
    max: float | None = Field(default=None, ge=0)
    currency: str | None = None
    period: Literal["month", "year", "one_off"] | None = None
    none: bool = False
    unknown: bool = False

    @model_validator(mode="after")
    def _range(self) -> BudgetValue:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min is greater than max")
        return self


class Option(_Strict):
    """A button: its label per language and the typed value it stands for."""

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    label: Label
    value: dict


class MinimumPrice(_Strict):
    amount: float = Field(gt=0)
    period: Literal["month", "year", "one_off"]


class BudgetPoints(_Strict):
    qualifies: int
    below_minimum: int
    no_budget: int
    unknown: int


class BudgetConfig(_Strict):
    minimum_price: MinimumPrice
    default_period: Literal["month", "year", "one_off"] = "year"
    points: BudgetPoints
    options: list[Option] = []

    @model_validator(mode="after")
    def _options(self) -> BudgetConfig:
        _check_option_values("budget", self.options, BudgetValue)
        return self


AuthorityLevel = Literal["decision_maker", "influencer", "user", "none"]


class AuthorityConfig(_Strict):
    points: dict[AuthorityLevel, int]
    qualifying_levels: list[AuthorityLevel]
    options: list[Option] = []

    @model_validator(mode="after")
    def _levels(self) -> AuthorityConfig:
        missing = {"decision_maker", "influencer", "user", "none"} - set(self.points)
        if missing:
            raise ValueError(f"points is missing levels: {', '.join(sorted(missing))}")
        for option in self.options:
            if option.value.get("level") not in self.points:
                raise ValueError(f"option {option.id!r} has an unknown level")
        return self


class NeedDefinition(_Strict):
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    label: Label
    synonyms: dict[Literal["es", "en"], list[str]]


class NeedPoints(_Strict):
    match: int
    none: int


class NeedConfig(_Strict):
    points: NeedPoints
    none_label: Label = Label(es="Nada en concreto", en="Nothing specific")
    needs: list[NeedDefinition] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> NeedConfig:
        ids = [n.id for n in self.needs]
        if len(ids) != len(set(ids)):
            raise ValueError("need ids must be unique")
        return self

    def synonyms(self) -> dict[str, dict[str, list[str]]]:
        return {n.id: dict(n.synonyms) for n in self.needs}

    def get(self, need_id: str) -> NeedDefinition | None:
        return next((n for n in self.needs if n.id == need_id), None)


class TimingValue(_Strict):
    months: float | None = Field(default=None, ge=0)
    no_rush: bool = False
    unknown: bool = False

    @model_validator(mode="after")
    def _one(self) -> TimingValue:
        if self.months is None and not (self.no_rush or self.unknown):
            raise ValueError("give months, no_rush: true or unknown: true")
        return self


class TimingWindow(_Strict):
    id: str
    max_months: float = Field(ge=0)
    points: int


class TimingConfig(_Strict):
    windows: list[TimingWindow] = Field(min_length=1)
    later_points: int = 0
    unknown_points: int = 0
    qualifying_months: float = Field(ge=0)
    options: list[Option] = []

    @model_validator(mode="after")
    def _ordered(self) -> TimingConfig:
        months = [w.max_months for w in self.windows]
        if months != sorted(months):
            raise ValueError("windows must be ordered by max_months")
        _check_option_values("timing", self.options, TimingValue)
        return self


class StageRule(_Strict):
    """What a lead needs to reach a stage automatically: a total score and BANT criteria that qualify."""

    min_score: int
    # BANT criteria that must qualify (budget, authority, need, timing); [] = the score is enough.
    requires: list[Literal[BANT_SLOTS]] = []  # type: ignore[valid-type]


class SqlRule(StageRule):
    # true: the chat moves a lead that meets the rule straight to sql (it did the qualifying);
    # false: the lead stays mql, marked sales-ready, until an SDR accepts it.
    automatic: bool = True


class Stages(_Strict):
    nurture_below: int
    mql: StageRule
    sql: SqlRule
    # mql, sal and sql leads with no activity (answer or event) for this many days go back to
    # "lead" (nurturing) with reason went_cold when the rescoring command runs; null = never.
    recycle_after_days: float | None = Field(default=90, gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> Stages:
        if not self.nurture_below <= self.mql.min_score <= self.sql.min_score:
            raise ValueError("thresholds must satisfy nurture_below <= mql.min_score <= sql.min_score")
        return self


class Grades(_Strict):
    """Fit letter x engagement number (A1 = best fit, most engaged; D3 = neither).

    `fit`: minimum fit score for A, B and C (below C is D). `engagement`: minimum behaviour
    score for 1 and 2 (below 2 is 3)."""

    fit: dict[Literal["A", "B", "C"], int]
    engagement: dict[Literal["1", "2"], int]

    @model_validator(mode="after")
    def _ordered(self) -> Grades:
        if set(self.fit) != {"A", "B", "C"} or not self.fit["A"] >= self.fit["B"] >= self.fit["C"]:
            raise ValueError("fit needs A >= B >= C")
        if set(self.engagement) != {"1", "2"} or not self.engagement["1"] >= self.engagement["2"]:
            raise ValueError("engagement needs 1 >= 2")
        return self


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# What an SDR can decide in the console (leadqual/console/decisions.py).
DECISIONS = ("accepted", "rejected", "recycled", "qualified", "converted", "reassigned", "noted", "took_over")
_HOURS = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]|24):([0-5]\d)$")


def _field_error(loc: tuple, message: str, value: object) -> ValidationError:
    """A validation error at `loc` (relative to the model raising it), so the path names the field."""
    return ValidationError.from_exception_data(
        "handoff", [InitErrorDetails(type=PydanticCustomError("handoff", message), loc=loc, input=value)]
    )


def _parse_hours(span: str) -> tuple[int, int]:
    """ "09:00-18:00" -> (540, 1080) minutes since midnight; end is exclusive, "24:00" allowed as end."""
    match = _HOURS.match(span)
    if not match:
        raise ValueError(f"{span!r} is not a span like 09:00-18:00")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if end > 24 * 60 or start >= end:
        raise ValueError(f"{span!r}: the start must be before the end, on the same day")
    return start, end


class SDR(_Strict):
    """A sales development rep who can be assigned leads."""

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    name: str = Field(min_length=1)
    email: EmailStr
    languages: list[Literal[LANGUAGES]] = Field(min_length=1)  # type: ignore[valid-type]
    # Link the visitor can book a meeting with (https only); null = no "book a meeting" button.
    scheduling_url: str | None = None
    # On holiday / sick / out: skipped by every routing step, even as the existing owner.
    away: bool = False
    # At most this many new leads a day (in handoff.timezone); null = no limit.
    capacity: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _https(self) -> SDR:
        if self.scheduling_url is not None:
            try:
                url = HttpUrl(self.scheduling_url)
            except ValidationError:
                url = None
            if url is None or url.scheme != "https" or not url.host:
                raise _field_error(("scheduling_url",), "must be an https:// URL", self.scheduling_url)
        return self


class CompanySizeRange(_Strict):
    """Employees, both ends included; either may be left out."""

    min: int | None = Field(default=None, ge=0)
    max: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _range(self) -> CompanySizeRange:
        if self.min is None and self.max is None:
            raise ValueError("give min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min is greater than max")
        return self


class RuleConditions(_Strict):
    """All given conditions must hold (AND); a list matches any of its values (OR)."""

    need: list[str] | None = Field(default=None, min_length=1)
    country: list[str] | None = Field(default=None, min_length=1)
    company_size: CompanySizeRange | None = None
    language: list[Literal[LANGUAGES]] | None = Field(default=None, min_length=1)  # type: ignore[valid-type]

    @model_validator(mode="after")
    def _codes(self) -> RuleConditions:
        for i, code in enumerate(self.country or []):
            if not re.fullmatch(r"[A-Z]{2}", code):
                raise _field_error(("country", i), f"{code!r} is not an ISO 3166 alpha-2 code in capitals", code)
        return self


class RoutingRule(_Strict):
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    when: RuleConditions
    assign_to: list[str] = Field(min_length=1)


class Handoff(_Strict):
    sla_hours: int = Field(default=24, gt=0)
    # IANA time zone the business hours are in.
    timezone: str = "Europe/Madrid"
    # Weekday (mon..sun) -> spans "HH:MM-HH:MM" (one string or a list); a missing day is closed.
    business_hours: dict[Literal[WEEKDAYS], str | list[str]] = {  # type: ignore[valid-type]
        day: "09:00-18:00" for day in WEEKDAYS[:5]
    }
    sdrs: list[SDR] = []
    # Checked in order; the first rule whose conditions match and that has an SDR available wins.
    rules: list[RoutingRule] = []
    # Where a lead goes when no SDR is available.
    fallback_queue: str = Field(default="sales-inbox", pattern=r"^[a-z0-9_.-]+$")
    # Console decisions also sent to the CRM (through the outbox), e.g. [accepted, rejected].
    deliver_decisions: list[Literal[DECISIONS]] = []  # type: ignore[valid-type]

    @model_validator(mode="after")
    def _consistent(self) -> Handoff:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise _field_error(("timezone",), f"unknown IANA time zone {self.timezone!r}", self.timezone) from None
        for day, spans in self.business_hours.items():
            parsed = []
            for i, span in enumerate([spans] if isinstance(spans, str) else spans):
                try:
                    parsed.append(_parse_hours(span))
                except ValueError as exc:
                    raise _field_error(("business_hours", day, i), str(exc), span) from None
            parsed.sort()
            if any(a[1] > b[0] for a, b in zip(parsed, parsed[1:], strict=False)):
                raise _field_error(("business_hours", day), "spans overlap", spans)
        ids = [s.id for s in self.sdrs]
        for i, sdr_id in enumerate(ids):
            if sdr_id in ids[:i]:
                raise _field_error(("sdrs", i, "id"), f"duplicate SDR id {sdr_id!r}", sdr_id)
        rule_ids = [r.id for r in self.rules]
        for i, rule in enumerate(self.rules):
            if rule.id in rule_ids[:i]:
                raise _field_error(("rules", i, "id"), f"duplicate rule id {rule.id!r}", rule.id)
            for sdr_id in rule.assign_to:
                if sdr_id not in ids:
                    raise _field_error(("rules", i, "assign_to"), f"unknown SDR {sdr_id!r}", sdr_id)
        return self

    def check_needs(self, need_ids: set[str]) -> None:
        """Rules may only name needs defined in need.needs (called by QualificationConfig)."""
        for i, rule in enumerate(self.rules):
            for need in rule.when.need or []:
                if need not in need_ids:
                    raise _field_error(("handoff", "rules", i, "when", "need"), f"unknown need {need!r}", need)

    def hours(self, day: str) -> list[tuple[int, int]]:
        """Business hours of a weekday (mon..sun) as (start, end) minutes since midnight."""
        spans = self.business_hours.get(day) or []
        return sorted(_parse_hours(s) for s in ([spans] if isinstance(spans, str) else spans))

    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def sdr(self, sdr_id: str | None) -> SDR | None:
        return next((s for s in self.sdrs if s.id == sdr_id), None)


# -- behaviour score (leadqual/scoring/behaviour.py) --------------------------------


class BehaviourCap(_Strict):
    """At most `max` counted matches of a rule in any rolling window of `per_days` days."""

    max: int = Field(ge=1)
    per_days: float = Field(gt=0)


class BehaviourWindowCap(_Strict):
    """At most `max_points` positive event points in any rolling window of `per_days` days,
    whatever the rules' own caps (a point past it gives a 0-point line saying so)."""

    max_points: int = Field(ge=1)
    per_days: float = Field(gt=0)


class BehaviourRule(_Strict):
    """Event name (exact) or page URL pattern -> points. Exactly one of event, url, url_regex."""

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    event: str | None = Field(default=None, min_length=1)
    # Glob on the page URL of `page` events, case-insensitive, e.g. "*/pricing*".
    url: str | None = Field(default=None, min_length=1)
    # Regular expression searched in the page URL of `page` events, case-insensitive.
    url_regex: str | None = Field(default=None, min_length=1)
    points: int
    cap: BehaviourCap | None = None

    @model_validator(mode="after")
    def _one_matcher(self) -> BehaviourRule:
        given = [k for k in ("event", "url", "url_regex") if getattr(self, k) is not None]
        if len(given) != 1:
            got = ", ".join(given) or "none"
            raise ValueError(f"rule {self.id!r} must give exactly one of event, url or url_regex (got {got})")
        if self.url_regex is not None:
            try:
                re.compile(self.url_regex)
            except re.error as exc:
                raise ValueError(f"rule {self.id!r}: url_regex is not a valid regular expression: {exc}") from None
        return self


class CountryList(_Strict):
    countries: list[str] = []
    points: int = 0

    @model_validator(mode="after")
    def _codes(self) -> CountryList:
        bad = [c for c in self.countries if not re.fullmatch(r"[A-Z]{2}", c)]
        if bad:
            raise ValueError("countries must be ISO 3166 alpha-2 codes in capitals, not " + ", ".join(map(repr, bad)))
        return self


class CompanySizeBand(_Strict):
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    # Employees up to and including this many; null = no upper bound (last band only).
    max_employees: int | None = Field(default=None, ge=0)
    points: int


class Personas(_Strict):
    # Words or phrases looked for in the job title (case and accents ignored, whole words).
    keywords: list[str] = []
    points_each: int = 0


class ExplicitCriteria(_Strict):
    territory: CountryList = CountryList()
    far_away: CountryList = CountryList()
    company_size: list[CompanySizeBand] = []
    personas: Personas = Personas()

    @model_validator(mode="after")
    def _consistent(self) -> ExplicitCriteria:
        both = sorted(set(self.territory.countries) & set(self.far_away.countries))
        if both:
            raise ValueError("territory.countries and far_away.countries overlap: " + ", ".join(both))
        bounds = [b.max_employees for b in self.company_size]
        if None in bounds[:-1]:
            raise ValueError("company_size: only the last band may have no max_employees")
        finite = [b for b in bounds if b is not None]
        if finite != sorted(finite) or len(finite) != len(set(finite)):
            raise ValueError("company_size bands must be ordered by increasing max_employees")
        return self


class BehaviourConfig(_Strict):
    # Name of the events whose URL the url/url_regex rules look at.
    page_event: str = Field(default="page", min_length=1)
    # Points halve every this many days after the event; null = no decay.
    half_life_days: float | None = Field(default=30, gt=0)
    # The behaviour total never goes below this; null = no floor.
    minimum_total: int | None = None
    # Checked in order; an event scores with the first rule it matches.
    rules: list[BehaviourRule] = []
    explicit: ExplicitCriteria = ExplicitCriteria()
    # `track` events the public (browser) write key may send; anything else needs the server key,
    # so a visitor cannot forge "demo_request" or "webinar_attended" from the page.
    browser_events: list[str] = []
    # From this behaviour score the chat greets the visitor as engaged and offers sales.
    engaged_at: int = 15
    # At most this many positive event points in any rolling window (all rules together), so
    # no burst of events, however many rules it matches, makes a lead qualified on its own;
    # null = no limit.
    window_cap: BehaviourWindowCap | None = BehaviourWindowCap(max_points=40, per_days=7)

    @model_validator(mode="after")
    def _unique(self) -> BehaviourConfig:
        ids = [r.id for r in self.rules]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError("rules ids must be unique: " + ", ".join(dupes))
        return self


EXTRA_SLOTS = ("extra_1", "extra_2", "extra_3")


class ExtraOption(_Strict):
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    label: Label
    points: int = Field(default=0, ge=-50, le=50)


class ExtraQuestion(_Strict):
    """A question marketing adds to the flow: asked right after `after`, only when every `when`
    condition on earlier answers holds; its answer is stored on the lead and can carry points."""

    id: str = Field(pattern=r"^[a-z0-9_]+$", max_length=40)
    after: str
    kind: Literal["choice", "text"] = "choice"
    # question -> accepted values: need ids (need), levels (authority), option ids (an earlier
    # extra question); "qualifies" -> BANT criteria that must qualify so far.
    when: dict[str, list[str]] = {}
    ask: Label
    why: Label
    reask: Label
    options: list[ExtraOption] = []
    # For kind "text": points for any answer.
    points_if_answered: int = Field(default=0, ge=-50, le=50)

    @model_validator(mode="after")
    def _shape(self) -> ExtraQuestion:
        if self.kind == "choice" and len(self.options) < 2:
            raise _field_error(("options",), "a choice question needs at least two options", self.options)
        if self.kind == "text" and self.options:
            raise _field_error(("options",), "a text question has no options", self.options)
        ids = [o.id for o in self.options]
        for i, option_id in enumerate(ids):
            if option_id in ids[:i]:
                raise _field_error(("options", i, "id"), f"duplicate option id {option_id!r}", option_id)
        return self

    def option(self, option_id: str | None) -> ExtraOption | None:
        return next((o for o in self.options if o.id == option_id), None)


class Privacy(_Strict):
    """Personal data: whether the chat asks for marketing-email consent, and how long data
    that led nowhere is kept (leadqual/leads/privacy.py, `bin/leads retention`)."""

    ask_marketing_consent: bool = True
    anonymous_events_days: int = Field(default=180, ge=1, le=3650)
    unqualified_transcripts_days: int = Field(default=365, ge=1, le=3650)


# -- CRM mapping (leadqual/delivery/crm_fields.py, hubspot.py, salesforce.py) ---------------

_FUNNEL_AND_OUT = ("lead", "mql", "sal", "sql", "opportunity", "disqualified")


class HubSpotStage(_Strict):
    """What one of our stages is in HubSpot: a lifecycle stage (HubSpot's own or a custom one's
    internal value) and, optionally, a lead status (HubSpot has no stage for SAL)."""

    lifecyclestage: str | None = Field(default=None, min_length=1)
    hs_lead_status: str | None = Field(default=None, min_length=1)


class HubSpotMapping(_Strict):
    # The property group the product's own contact properties are created in on connect.
    property_group: str = Field(default="nubilo_qualification", pattern=r"^[a-z][a-z0-9_]*$")
    property_group_label: str = "Nubilo lead qualification"
    # Prefix of those properties' internal names (nubilo_fit_score, nubilo_budget, ...).
    property_prefix: str = Field(default="nubilo_", pattern=r"^[a-z][a-z0-9_]*_$")
    stages: dict[str, HubSpotStage] = {
        "lead": HubSpotStage(lifecyclestage="lead"),
        "mql": HubSpotStage(lifecyclestage="marketingqualifiedlead"),
        "sal": HubSpotStage(lifecyclestage="marketingqualifiedlead", hs_lead_status="OPEN"),
        "sql": HubSpotStage(lifecyclestage="salesqualifiedlead", hs_lead_status="IN_PROGRESS"),
        "opportunity": HubSpotStage(lifecyclestage="opportunity", hs_lead_status="OPEN_DEAL"),
        "disqualified": HubSpotStage(hs_lead_status="UNQUALIFIED"),
    }
    # The order of HubSpot's lifecycle stages, custom ones included: moving a contact to an
    # earlier one needs the stage cleared first (HubSpot does not move it backwards otherwise).
    lifecycle_order: list[str] = [
        "subscriber",
        "lead",
        "marketingqualifiedlead",
        "salesqualifiedlead",
        "opportunity",
        "customer",
        "evangelist",
        "other",
    ]

    @model_validator(mode="after")
    def _known(self) -> HubSpotMapping:
        for stage, target in self.stages.items():
            if stage not in _FUNNEL_AND_OUT:
                raise _field_error(("stages", stage), f"{stage!r} is not a stage ({', '.join(_FUNNEL_AND_OUT)})", stage)
            if target.lifecyclestage and target.lifecyclestage not in self.lifecycle_order:
                raise _field_error(
                    ("stages", stage, "lifecyclestage"),
                    f"{target.lifecyclestage!r} is not in lifecycle_order (add custom lifecycle stages there)",
                    target.lifecyclestage,
                )
        return self


class SalesforceMapping(_Strict):
    # A Lead field marked External ID in Salesforce: the product upserts by it (the lead's id).
    external_id_field: str = Field(default="Nubilo_Lead_Id__c", pattern=r"^[A-Za-z][A-Za-z0-9_]*__c$")
    lead_source: str = Field(default="Web Chat", min_length=1)
    # Salesforce requires LastName and Company on a Lead: these stand in when the visitor gave none.
    default_last_name: str = Field(default="(not given)", min_length=1)
    default_company: str = Field(default="(not given)", min_length=1)
    # Our stage -> the Lead's Status picklist value.
    statuses: dict[str, str] = {
        "lead": "Open - Not Contacted",
        "mql": "Open - Not Contacted",
        "sal": "Working - Contacted",
        "sql": "Working - Contacted",
        "disqualified": "Closed - Not Converted",
    }
    # Our values -> custom Lead fields (created by the Salesforce admin; `bin/leads crm check`
    # lists the missing ones). Leave a value out to not send it.
    fields: dict[str, str] = {
        "fit_score": "Nubilo_Fit__c",
        "behaviour_score": "Nubilo_Behaviour__c",
        "total_score": "Nubilo_Score__c",
        "grade": "Nubilo_Grade__c",
        "stage": "Nubilo_Stage__c",
        "budget": "Nubilo_Budget__c",
        "authority": "Nubilo_Authority__c",
        "need": "Nubilo_Need__c",
        "timing": "Nubilo_Timing__c",
    }

    @model_validator(mode="after")
    def _known(self) -> SalesforceMapping:
        for stage in self.statuses:
            if stage not in _FUNNEL_AND_OUT:
                raise _field_error(
                    ("statuses", stage), f"{stage!r} is not a stage ({', '.join(_FUNNEL_AND_OUT)})", stage
                )
        for value in self.fields:
            if value not in CRM_VALUES:
                raise _field_error(("fields", value), f"{value!r} is not one of {', '.join(CRM_VALUES)}", value)
        return self


# What the product can put in a CRM field of its own.
CRM_VALUES = ("fit_score", "behaviour_score", "total_score", "grade", "stage", "budget", "authority", "need", "timing")


class CrmMapping(_Strict):
    """How leads look in the CRM; which CRM is used (and its credentials) is the deployment's
    LEADQUAL_CRM_DESTINATION, never this file."""

    hubspot: HubSpotMapping = HubSpotMapping()
    salesforce: SalesforceMapping = SalesforceMapping()


class QualificationConfig(_Strict):
    version: int = 1
    questions: list[Literal[QUESTION_SLOTS]]  # type: ignore[valid-type]
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    exchange_rates: dict[str, float]
    budget: BudgetConfig
    authority: AuthorityConfig
    need: NeedConfig
    timing: TimingConfig
    stages: Stages
    max_reasks: int = Field(default=2, ge=0, le=5)
    # Answers parsed with less confidence than this are read back for a yes/no.
    confirm_below: float = Field(default=0.75, ge=0, le=1)
    handoff: Handoff = Handoff()
    behaviour: BehaviourConfig = BehaviourConfig()
    grades: Grades = Grades(fit={"A": 75, "B": 55, "C": 35}, engagement={"1": 25, "2": 10})
    # At most three; each takes one of the domain's spare slots extra_1..extra_3, in order.
    extra_questions: list[ExtraQuestion] = Field(default=[], max_length=len(EXTRA_SLOTS))
    privacy: Privacy = Privacy()
    crm: CrmMapping = CrmMapping()
    # First day of the fiscal year, "MM-DD" in the file (default "01-01"): what the timing
    # parser reads "next fiscal year", "Q1 fiscal", "antes del cierre del ejercicio" from.
    fiscal_year_start: tuple[int, int] = (1, 1)

    @model_validator(mode="before")
    @classmethod
    def _fiscal_year_start(cls, data: object) -> object:
        """ "04-01" -> (4, 1) (a dumped (4, 1) is taken back); 02-29 is not in every year: refused."""
        if not isinstance(data, dict) or "fiscal_year_start" not in data:
            return data
        value = data["fiscal_year_start"]
        match = re.fullmatch(r"(\d\d)-(\d\d)", value) if isinstance(value, str) else None
        month, day = (int(match[1]), int(match[2])) if match else (0, 0)
        if isinstance(value, (tuple, list)) and len(value) == 2 and all(type(v) is int for v in value):
            month, day = value
        if not (1 <= month <= 12 and 1 <= day <= (28 if month == 2 else 30 if month in (4, 6, 9, 11) else 31)):
            message = f"{value!r} is not a month and day like 04-01 (MM-DD)"
            raise _field_error(("fiscal_year_start",), message, value)
        return {**data, "fiscal_year_start": (month, day)}

    @model_validator(mode="after")
    def _consistent(self) -> QualificationConfig:
        # Marketing chooses which questions are asked and in what order; the email identifies
        # the person, so it is always asked.
        for i, slot in enumerate(self.questions):
            if slot in self.questions[:i]:
                raise _field_error(("questions", i), f"{slot!r} is listed twice", slot)
        if "email" not in self.questions:
            raise _field_error(("questions",), "the email question is always asked", self.questions)
        for stage in ("mql", "sql"):
            for criterion in getattr(self.stages, stage).requires:
                if criterion not in self.questions:
                    raise _field_error(
                        ("stages", stage, "requires"), f"{criterion!r} is required but not asked", criterion
                    )
        if self.exchange_rates.get(self.currency) != 1:
            raise ValueError(f"exchange_rates.{self.currency} must be 1 (the base currency)")
        for code, rate in self.exchange_rates.items():
            if rate <= 0:
                raise ValueError(f"exchange_rates.{code} must be positive")
        self.handoff.check_needs({n.id for n in self.need.needs})
        self._check_extra_questions()
        return self

    def _check_extra_questions(self) -> None:
        seen: dict[str, ExtraQuestion] = {}
        allowed = {
            "need": {n.id for n in self.need.needs},
            "authority": set(self.authority.points),
            "qualifies": set(BANT_SLOTS),
        }
        for i, extra in enumerate(self.extra_questions):
            if extra.id in seen or extra.id in QUESTION_SLOTS:
                raise _field_error(("extra_questions", i, "id"), f"id {extra.id!r} is already used", extra.id)
            if extra.after not in self.questions and extra.after not in seen:
                raise _field_error(
                    ("extra_questions", i, "after"),
                    f"{extra.after!r} is not a question asked before this one",
                    extra.after,
                )
            for key, values in extra.when.items():
                if key in seen:
                    known = {o.id for o in seen[key].options}
                elif key in allowed:
                    known = allowed[key]
                else:
                    raise _field_error(("extra_questions", i, "when", key), f"unknown question {key!r}", key)
                for value in values:
                    if value not in known:
                        raise _field_error(("extra_questions", i, "when", key), f"unknown value {value!r}", value)
            seen[extra.id] = extra

    def extra_slot(self, extra_id: str) -> str:
        """The domain slot (extra_1..extra_3) an extra question is asked with."""
        index = next(i for i, e in enumerate(self.extra_questions) if e.id == extra_id)
        return EXTRA_SLOTS[index]

    def extra_for_slot(self, slot: str) -> ExtraQuestion | None:
        if slot in EXTRA_SLOTS and EXTRA_SLOTS.index(slot) < len(self.extra_questions):
            return self.extra_questions[EXTRA_SLOTS.index(slot)]
        return None

    def options_for(self, slot: str) -> list[Option]:
        if slot == "need":
            options = [Option(id=n.id, label=n.label, value={"value": n.id}) for n in self.need.needs]
            return options + [Option(id="no_need", label=self.need.none_label, value={"value": None})]
        section = getattr(self, slot, None)
        return list(getattr(section, "options", []) or [])

    def option(self, slot: str, option_id: str) -> Option | None:
        return next((o for o in self.options_for(slot) if o.id == option_id), None)


class Localized(_Strict):
    """One text per language; a list means variations picked at random."""

    es: str | list[str]
    en: str | list[str]


class QuestionTexts(_Strict):
    ask: Localized
    why: Localized
    reask: Localized


# Texts the assistant sends; a messages.yml without one fails at start-up, not in a chat.
REQUIRED_RESPONSES = (
    "utter_greet",
    "utter_greet_returning",
    "utter_offer_sales",
    "utter_known_answers",
    "utter_goodbye",
    "utter_thanks",
    "utter_iamabot",
    "utter_out_of_scope",
    "utter_default",
    "utter_start_qualification",
    "utter_already_qualified",
    "utter_continue_questions",
    "utter_stopped",
    "utter_stopped_unsaved",
    "utter_skipped",
    "utter_handoff_contact",
    "utter_gave_up_question",
    "utter_save_failed",
    "utter_corrected",
    "utter_not_now",
    "utter_not_now_meeting",
    "utter_correction_unclear",
    "utter_result_sql",
    "utter_result_mql",
    "utter_result_nurture",
    "your_company",
    "utter_next_meeting",
    "utter_next_talk_now",
    "utter_next_sla",
    "utter_next_sla_otherwise",
    "sales_team",
    "utter_ask_consent",
    "utter_consent_given",
    "utter_consent_declined",
    "utter_person_live",
    "utter_person_later",
    "utter_sdr_joined",
    "utter_sdr_left",
)
REQUIRED_BUTTONS = (
    "skip",
    "human",
    "yes",
    "no",
    "talk_to_sales",
    "not_now",
    "talk_now",
    "consent_yes",
    "consent_no",
)


class Messages(_Strict):
    questions: dict[Literal[QUESTION_SLOTS], QuestionTexts]  # type: ignore[valid-type]
    buttons: dict[str, Label]
    responses: dict[str, Localized]
    confirm: Localized
    values: dict[str, Localized]

    @model_validator(mode="after")
    def _complete(self) -> Messages:
        missing = set(QUESTION_SLOTS) - set(self.questions)
        if missing:
            raise ValueError("questions is missing: " + ", ".join(sorted(missing)))
        for section, required in (("responses", REQUIRED_RESPONSES), ("buttons", REQUIRED_BUTTONS)):
            absent = sorted(set(required) - set(getattr(self, section)))
            if absent:
                raise ValueError(f"{section} is missing: " + ", ".join(absent))
        return self


def _format_errors(path: Path, exc: ValidationError) -> str:
    lines = [f"{path.name} is invalid:"]
    for err in exc.errors():
        field = ".".join(str(p) for p in err["loc"]) or "(top level)"
        lines.append(f"  {field}: {err['msg']}")
    return "\n".join(lines)


def _load_yaml(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{path} does not exist") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path.name} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path.name} must be a mapping at the top level")
    return data


def load_qualification(path: Path | str | None = None) -> QualificationConfig:
    path = Path(path or settings.QUALIFICATION.get(str(DEFAULT_QUALIFICATION)))
    try:
        return QualificationConfig(**_load_yaml(path))
    except ValidationError as exc:
        raise ConfigError(_format_errors(path, exc)) from None


def load_messages(path: Path | str | None = None) -> Messages:
    path = Path(path or settings.MESSAGES.get(str(DEFAULT_MESSAGES)))
    try:
        return Messages(**_load_yaml(path))
    except ValidationError as exc:
        raise ConfigError(_format_errors(path, exc)) from None


@lru_cache(maxsize=1)
def qualification() -> QualificationConfig:
    """The process-wide qualification config (loaded once)."""
    return load_qualification()


@lru_cache(maxsize=1)
def messages() -> Messages:
    """The process-wide visitor-facing texts (loaded once)."""
    return load_messages()
