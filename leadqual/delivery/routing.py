"""Who gets a lead, and what the visitor is offered next (config: `handoff:` in qualification.yml).

Pure functions: no database, no Rasa. The caller passes the time and the round robin state and
persists the state it gets back, so the same inputs always give the same assignment.

Order (`route`):
  1. the existing owner (`lead["owner"]`), if still in `handoff.sdrs` and not away;
  2. the first rule whose `when` matches and that has an available SDR: round robin among them;
  3. round robin among all available SDRs who speak the lead's language;
  4. `handoff.fallback_queue`.
"Available" = not away and under the day's `capacity`. Business hours do not stop an assignment
(the SDR follows up within the SLA); they only decide whether to offer "talk to a person now"
(`available_now`, `next_steps`).

Round robin state, a plain JSON-able dict (start with `{}`):
  {"seq": int, "last": {sdr_id: seq of their last assignment}, "day": "YYYY-MM-DD", "today": {sdr_id: count}}
Among candidates the one assigned least recently wins (never assigned first, then config order),
which is strict rotation when the candidates do not change and stays fair when they do.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from leadqual.config.marketing import SDR, WEEKDAYS, Handoff, QualificationConfig


@dataclass(frozen=True)
class Assignment:
    """Who got the lead (an SDR or a queue), the config rule that decided it and why."""

    sdr_id: str | None
    queue: str | None
    # "handoff.owner", "handoff.rules.<id>", "handoff.round_robin" or "handoff.fallback_queue".
    rule: str
    reason: str


def _handoff(config: QualificationConfig | Handoff) -> Handoff:
    return config if isinstance(config, Handoff) else config.handoff


def _local(now: datetime, handoff: Handoff) -> datetime:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware (e.g. datetime.now(UTC))")
    return now.astimezone(handoff.zone())


# -- the lead's facts --------------------------------------------------------------------


def _language(lead: dict) -> str | None:
    lang = str(lead.get("language") or "").strip().lower()[:2]
    return lang or None


def _profile(lead: dict, key: str):
    profile = lead.get("profile") or {}
    value = profile.get(key)
    return lead.get(key) if value is None else value


def _need(lead: dict) -> str | None:
    need = (lead.get("bant") or {}).get("need")
    if isinstance(need, dict):
        return need.get("value")
    return need if need is not None else lead.get("need")


def _country(lead: dict) -> str | None:
    country = str(_profile(lead, "country") or "").strip().upper()
    return country or None


def _company_size(lead: dict) -> int | None:
    size = _profile(lead, "company_size")
    if size is None:
        size = _profile(lead, "employees")
    try:
        return None if size is None or size == "" else int(size)
    except (TypeError, ValueError):
        return None


def _rule_matches(rule, lead: dict) -> tuple[bool, str]:
    """Whether every condition of the rule holds, and a reason naming the facts that matched."""
    when = rule.when
    facts = []
    if when.need is not None:
        need = _need(lead)
        if need not in when.need:
            return False, ""
        facts.append(f"need {need}")
    if when.country is not None:
        country = _country(lead)
        if country not in when.country:
            return False, ""
        facts.append(f"country {country}")
    if when.company_size is not None:
        size = _company_size(lead)
        low, high = when.company_size.min, when.company_size.max
        if size is None or (low is not None and size < low) or (high is not None and size > high):
            return False, ""
        facts.append(f"{size} employees")
    if when.language is not None:
        lang = _language(lead)
        if lang not in when.language:
            return False, ""
        facts.append(f"language {lang}")
    return True, ", ".join(facts) or "no conditions"


# -- availability ------------------------------------------------------------------------


def _state_for_day(state: dict | None, day: str) -> dict:
    new = copy.deepcopy(state) if state else {}
    new.setdefault("seq", 0)
    new.setdefault("last", {})
    if new.get("day") != day:
        new["day"] = day
        new["today"] = {}
    new.setdefault("today", {})
    return new


def _unavailable(sdr: SDR, state: dict) -> str | None:
    """Why the SDR cannot take a new lead now, or None."""
    if sdr.away:
        return "away"
    if sdr.capacity is not None and state["today"].get(sdr.id, 0) >= sdr.capacity:
        return f"at capacity ({sdr.capacity} today)"
    return None


def available_now(sdr: SDR | str, config: QualificationConfig | Handoff, now: datetime) -> bool:
    """True when the SDR is not away and `now` is inside business hours in the config's time zone."""
    handoff = _handoff(config)
    found = handoff.sdr(sdr) if isinstance(sdr, str) else sdr
    if found is None or found.away:
        return False
    local = _local(now, handoff)
    minute = local.hour * 60 + local.minute
    return any(start <= minute < end for start, end in handoff.hours(WEEKDAYS[local.weekday()]))


def _pick(candidates: list[SDR], state: dict) -> SDR:
    """Least recently assigned first; never assigned before anyone else; ties in config order."""
    return min(candidates, key=lambda s: state["last"].get(s.id, -1))


def _assign(sdr: SDR, state: dict) -> None:
    state["seq"] += 1
    state["last"][sdr.id] = state["seq"]
    state["today"][sdr.id] = state["today"].get(sdr.id, 0) + 1


# -- routing -----------------------------------------------------------------------------


def route(
    lead: dict, config: QualificationConfig | Handoff, now: datetime, round_robin_state: dict | None
) -> tuple[Assignment, dict]:
    """Assign the lead; returns the assignment and the updated round robin state (input untouched).

    Reads from `lead` (the lead record as `bin/leads show` prints it; flat keys work too):
    `owner` (SDR id), `language`, `bant.need.value`, `profile.country`, `profile.company_size`.
    """
    handoff = _handoff(config)
    state = _state_for_day(round_robin_state, _local(now, handoff).date().isoformat())
    notes: list[str] = []

    owner_id = lead.get("owner")
    if owner_id:
        owner = handoff.sdr(owner_id)
        if owner is None:
            notes.append(f"owner {owner_id} is no longer an SDR")
        elif owner.away:
            notes.append(f"owner {owner_id} is away")
        else:
            return Assignment(owner.id, None, "handoff.owner", f"existing owner {owner.id}"), state

    for rule in handoff.rules:
        matched, facts = _rule_matches(rule, lead)
        if not matched:
            continue
        pool = [handoff.sdr(i) for i in rule.assign_to]
        free = [s for s in pool if s is not None and _unavailable(s, state) is None]
        if not free:
            why = ", ".join(f"{s.id} {_unavailable(s, state)}" for s in pool if s is not None)
            notes.append(f"rule {rule.id} matched ({facts}) but nobody is available: {why}")
            continue
        sdr = _pick(free, state)
        _assign(sdr, state)
        reason = f"rule {rule.id} matched ({facts}); round robin among {', '.join(s.id for s in free)}"
        return Assignment(sdr.id, None, f"handoff.rules.{rule.id}", "; ".join([*notes, reason])), state

    lang = _language(lead)
    speakers = [s for s in handoff.sdrs if lang is None or lang in s.languages]
    free = [s for s in speakers if _unavailable(s, state) is None]
    if free:
        sdr = _pick(free, state)
        _assign(sdr, state)
        who = f"available SDRs speaking {lang}" if lang else "available SDRs"
        reason = f"round robin among {who}: {', '.join(s.id for s in free)}"
        return Assignment(sdr.id, None, "handoff.round_robin", "; ".join([*notes, reason])), state

    if not handoff.sdrs:
        notes.append("no SDRs configured")
    elif not speakers:
        notes.append(f"no SDR speaks {lang}")
    else:
        notes.append("no SDR available: " + ", ".join(f"{s.id} {_unavailable(s, state)}" for s in speakers))
    reason = "; ".join([*notes, f"queued in {handoff.fallback_queue}"])
    return Assignment(None, handoff.fallback_queue, "handoff.fallback_queue", reason), state


def next_steps(
    assignment: Assignment, config: QualificationConfig | Handoff, now: datetime, lang: str | None = None
) -> list[dict]:
    """What to offer the visitor after the handoff, in order; the texts come from messages.yml.

    - `{"kind": "meeting", "sdr_id", "sdr_name", "url"}`: the assigned SDR has a scheduling link;
    - `{"kind": "talk_now", "sdr_id", "sdr_name"}`: the SDR is available now, in business hours,
      and speaks `lang` (when given);
    - otherwise `{"kind": "sla", "hours", "contact_by", "sdr_name"}`: the SLA promise (contact_by
      in UTC ISO; sdr_name None when the lead waits in a queue).
    """
    handoff = _handoff(config)
    sdr = handoff.sdr(assignment.sdr_id)
    steps: list[dict] = []
    if sdr is not None and sdr.scheduling_url:
        steps.append({"kind": "meeting", "sdr_id": sdr.id, "sdr_name": sdr.name, "url": sdr.scheduling_url})
    lang = (lang or "").strip().lower()[:2] or None
    if sdr is not None and (lang is None or lang in sdr.languages) and available_now(sdr, handoff, now):
        steps.append({"kind": "talk_now", "sdr_id": sdr.id, "sdr_name": sdr.name})
    else:
        # Elapsed hours, not wall-clock: a DST change in between does not move the promise.
        contact_by = _local(now, handoff).astimezone(UTC) + timedelta(hours=handoff.sla_hours)
        steps.append(
            {
                "kind": "sla",
                "hours": handoff.sla_hours,
                "contact_by": contact_by.isoformat(),
                "sdr_name": sdr.name if sdr else None,
            }
        )
    return steps
