"""What a lead looks like in HubSpot and Salesforce: the fields of a handoff packet
(`handoff.packet`) mapped by `config.crm`, the note a salesperson reads (the transcript and the
score line by line), and the way back (a CRM's stage -> ours).

Pure functions: the connectors (hubspot.py, salesforce.py) call them, the tests check them, and
`bin/leads crm check` shows one lead through them before anything is sent.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping

from leadqual.config.marketing import CrmMapping, HubSpotMapping, SalesforceMapping

# explain(packet) -> one sentence per score line, in the lead's language (the console's
# Explainer, injected by whoever builds the worker; without it the lines' own reasons are used).
Explain = Callable[[Mapping], list[str]]

# The product's own HubSpot contact properties: (value, label, type, fieldType).
HUBSPOT_PROPERTIES: tuple[tuple[str, str, str, str], ...] = (
    ("lead_id", "Nubilo lead id", "string", "text"),
    ("fit_score", "Nubilo fit score", "number", "number"),
    ("behaviour_score", "Nubilo behaviour score", "number", "number"),
    ("total_score", "Nubilo total score", "number", "number"),
    ("grade", "Nubilo grade", "string", "text"),
    ("stage", "Nubilo stage", "string", "text"),
    ("budget", "Nubilo budget", "string", "text"),
    ("authority", "Nubilo authority", "string", "text"),
    ("need", "Nubilo need", "string", "text"),
    ("timing", "Nubilo timing", "string", "text"),
    ("lead_url", "Nubilo lead page", "string", "text"),
)


def split_name(name: str | None) -> tuple[str, str]:
    """(first name, last name). Where a compound first name ends ("Ana María García López")
    cannot be told, so the first word is the first name and the rest the last name (the one
    the CRMs require); a single word is a first name only."""
    words = (name or "").split()
    if not words:
        return "", ""
    return words[0], " ".join(words[1:])


def budget_text(budget: Mapping | None) -> str:
    """ "5000-10000 EUR/year", "from 2000 USD/month", "no budget", "" when not answered."""
    budget = budget or {}
    if budget.get("none"):
        return "no budget"
    if budget.get("unknown"):
        return "unknown"
    low, high = budget.get("min"), budget.get("max")
    if low is None and high is None:
        return ""
    currency = budget.get("currency") or ""
    period = budget.get("period")
    suffix = f" {currency}".rstrip() + (f"/{period}" if period and period != "once" else "")

    def number(value) -> str:
        return f"{value:g}" if isinstance(value, float) else str(value)

    if low is not None and high is not None:
        amount = number(low) if low == high else f"{number(low)}-{number(high)}"
    elif low is not None:
        amount = f"from {number(low)}"
    else:
        amount = f"up to {number(high)}"
    return amount + suffix


def timing_text(timing: Mapping | None) -> str:
    timing = timing or {}
    months = timing.get("months")
    parts = []
    if months is not None:
        parts.append(
            "now" if months == 0 else f"in {months:g} months" if isinstance(months, float) else f"in {months} months"
        )
    if timing.get("no_rush"):
        parts.append("no rush")
    return ", ".join(parts)


def values(packet: Mapping) -> dict[str, object]:
    """The product's values of a lead (CRM_VALUES), from its handoff packet."""
    bant = packet.get("bant") or {}
    scores = packet.get("scores") or {}
    return {
        "lead_id": packet.get("lead_id"),
        "fit_score": scores.get("fit"),
        "behaviour_score": scores.get("behaviour"),
        "total_score": scores.get("total"),
        "grade": packet.get("grade") or "",
        "stage": packet.get("stage") or "",
        "budget": budget_text(bant.get("budget")),
        "authority": (bant.get("authority") or {}).get("level") or "",
        "need": (bant.get("need") or {}).get("value") or "",
        "timing": timing_text(bant.get("timing")),
        "lead_url": (packet.get("links") or {}).get("lead") or "",
    }


# -- HubSpot ------------------------------------------------------------------------------


def hubspot_property_name(mapping: HubSpotMapping, value: str) -> str:
    return f"{mapping.property_prefix}{value}"


def hubspot_property_definitions(mapping: HubSpotMapping) -> list[dict]:
    """Bodies for HubSpot's Properties API (`POST /crm/v3/properties/contacts`)."""
    return [
        {
            "name": hubspot_property_name(mapping, value),
            "label": label,
            "type": kind,
            "fieldType": field_type,
            "groupName": mapping.property_group,
            "description": "Written by the Nubilo chat's lead qualification.",
        }
        for value, label, kind, field_type in HUBSPOT_PROPERTIES
    ]


def hubspot_stage(mapping: HubSpotMapping, stage: str | None) -> dict[str, str]:
    """Our stage -> {"lifecyclestage": ..., "hs_lead_status": ...} (only what is mapped)."""
    target = mapping.stages.get(stage or "")
    if target is None:
        return {}
    return {k: v for k, v in target.model_dump().items() if v}


def hubspot_properties(packet: Mapping, mapping: HubSpotMapping, owner_id: str | None = None) -> dict[str, str]:
    """A contact's properties for a batch upsert: HubSpot takes every value as a string."""
    contact = packet.get("contact") or {}
    first, last = split_name(contact.get("name"))
    properties: dict[str, object] = {
        "email": contact.get("email"),
        "firstname": first,
        "lastname": last,
        "company": contact.get("company"),
        "phone": (packet.get("profile") or {}).get("phone"),
    }
    for value, amount in values(packet).items():
        properties[hubspot_property_name(mapping, value)] = amount
    properties.update(hubspot_stage(mapping, packet.get("stage")))
    if owner_id:
        properties["hubspot_owner_id"] = owner_id
    return {k: _hubspot_value(v) for k, v in properties.items() if v is not None and v != ""}


def _hubspot_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def lifecycle_is_backwards(mapping: HubSpotMapping, current: str | None, target: str | None) -> bool:
    """Whether moving a contact from lifecycle stage `current` to `target` goes backwards, which
    HubSpot only does after the stage is cleared."""
    order = mapping.lifecycle_order
    if not current or not target or current not in order or target not in order:
        return False
    return order.index(target) < order.index(current)


def stage_from_hubspot(mapping: HubSpotMapping, lifecyclestage: str | None, lead_status: str | None) -> str | None:
    """A HubSpot contact's lifecycle stage and lead status -> our stage, or None if it maps to
    none of ours (e.g. `customer`, which the product does not track). The lead status picks
    between stages that share a lifecycle stage (mql and sal)."""
    exact = [
        stage
        for stage, target in mapping.stages.items()
        if target.lifecyclestage == (lifecyclestage or None) and target.hs_lead_status == (lead_status or None)
    ]
    if exact:
        return exact[0]
    if lead_status:
        by_status = [s for s, t in mapping.stages.items() if t.hs_lead_status == lead_status and not t.lifecyclestage]
        if by_status:
            return by_status[0]
    by_lifecycle = [s for s, t in mapping.stages.items() if lifecyclestage and t.lifecyclestage == lifecyclestage]
    # Several of ours share it (mql, sal): the first without a lead status of its own.
    plain = [s for s in by_lifecycle if not mapping.stages[s].hs_lead_status]
    found = plain or by_lifecycle
    return found[0] if found else None


# -- Salesforce ---------------------------------------------------------------------------


def salesforce_fields(packet: Mapping, mapping: SalesforceMapping, owner_id: str | None = None) -> dict[str, object]:
    """A Lead's fields for an upsert by the external id (the id itself goes in the URL, not here)."""
    contact = packet.get("contact") or {}
    first, last = split_name(contact.get("name"))
    fields: dict[str, object] = {
        "FirstName": first or None,
        "LastName": last or first or mapping.default_last_name,
        "Company": contact.get("company") or mapping.default_company,
        "Email": contact.get("email"),
        "Phone": (packet.get("profile") or {}).get("phone"),
        "LeadSource": mapping.lead_source,
    }
    status = mapping.statuses.get(packet.get("stage") or "")
    if status:
        fields["Status"] = status
    if owner_id:
        fields["OwnerId"] = owner_id
    lead_values = values(packet)
    for value, field in mapping.fields.items():
        fields[field] = lead_values.get(value)
    return {k: v for k, v in fields.items() if v is not None and v != ""}


def stage_from_salesforce(mapping: SalesforceMapping, status: str | None, converted: bool) -> str | None:
    """A Lead's Status (and IsConverted) -> our stage; a converted Lead is an opportunity. Several
    of ours may share a Status: the furthest along of them stands (a salesperson setting
    "Working - Contacted" has at least accepted the lead)."""
    if converted:
        return "opportunity"
    matches = [stage for stage, value in mapping.statuses.items() if value == status]
    return matches[-1] if matches else None


# -- the note a salesperson reads --------------------------------------------------------


def _line_reason(line: Mapping) -> str:
    points = line.get("value") or 0
    sign = "+" if points >= 0 else ""
    return f"{sign}{points:g} {line.get('reason') or line.get('rule') or ''}".strip()


def note_lines(packet: Mapping, explain: Explain | None = None) -> tuple[list[str], list[tuple[str, str]]]:
    """(the score explained, one sentence per line; the transcript as (who, text))."""
    lines = packet.get("score_breakdown") or []
    sentences = explain(packet) if explain is not None else [_line_reason(line) for line in lines]
    said: list[tuple[str, str]] = []
    for conversation in packet.get("transcripts") or []:
        for message in conversation.get("messages") or []:
            if message.get("text"):
                said.append((message.get("sender") or "", message["text"]))
    return sentences, said


def note_html(packet: Mapping, explain: Explain | None = None) -> str:
    """The note's body (HubSpot's `hs_note_body` takes HTML): every visitor text escaped."""
    lang = (packet.get("contact") or {}).get("language") or "es"
    sentences, said = note_lines(packet, explain)
    scores = packet.get("scores") or {}
    heading = {
        "es": ("Puntuación", "Conversación", "visitante", "asistente", "agente"),
        "en": ("Score", "Conversation", "visitor", "assistant", "agent"),
    }.get(lang) or ("Score", "Conversation", "visitor", "assistant", "agent")
    who = {"user": heading[2], "bot": heading[3], "agent": heading[4]}
    parts = [
        f"<p><strong>{heading[0]}: {html.escape(str(scores.get('total')))}</strong>"
        f" ({html.escape(str(packet.get('grade') or ''))})</p>",
        "<ul>" + "".join(f"<li>{html.escape(s)}</li>" for s in sentences) + "</ul>",
        f"<p><strong>{heading[1]}</strong></p>",
        "<p>" + "<br>".join(f"<b>{html.escape(who.get(s, s))}:</b> {html.escape(t)}" for s, t in said) + "</p>",
    ]
    link = (packet.get("links") or {}).get("lead")
    if link:
        parts.append(f'<p><a href="{html.escape(link, quote=True)}">{html.escape(link)}</a></p>')
    return "".join(parts)


def note_text(packet: Mapping, explain: Explain | None = None) -> str:
    """The same as plain text (a Salesforce Task's Description)."""
    lang = (packet.get("contact") or {}).get("language") or "es"
    sentences, said = note_lines(packet, explain)
    scores = packet.get("scores") or {}
    score, talk = ("Puntuación", "Conversación") if lang == "es" else ("Score", "Conversation")
    out = [f"{score}: {scores.get('total')} ({packet.get('grade') or ''})"]
    out += [f"- {s}" for s in sentences]
    out += ["", f"{talk}:"] + [f"{s}: {t}" for s, t in said]
    link = (packet.get("links") or {}).get("lead")
    if link:
        out += ["", link]
    return "\n".join(out)


def subject(packet: Mapping) -> str:
    lang = (packet.get("contact") or {}).get("language") or "es"
    grade = packet.get("grade") or ""
    return f"Lead cualificado en el chat ({grade})" if lang == "es" else f"Lead qualified in the chat ({grade})"


__all__ = [
    "CrmMapping",
    "Explain",
    "HUBSPOT_PROPERTIES",
    "budget_text",
    "hubspot_properties",
    "hubspot_property_definitions",
    "hubspot_property_name",
    "hubspot_stage",
    "lifecycle_is_backwards",
    "note_html",
    "note_text",
    "salesforce_fields",
    "split_name",
    "stage_from_hubspot",
    "stage_from_salesforce",
    "subject",
    "timing_text",
    "values",
]
