"""Routing of leads to SDRs (leadqual/delivery/routing.py) and the `handoff:` config that drives it."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from leadqual.config.marketing import Handoff, load_qualification
from leadqual.delivery.routing import Assignment, available_now, next_steps, route
from tests.test_config import broken_qualification

# Monday 16 March 2026, 10:00 in Madrid (CET, UTC+1).
MONDAY_10 = datetime(2026, 3, 16, 9, 0, tzinfo=UTC)


def sdr(sdr_id: str, languages=("es", "en"), **extra) -> dict:
    return {"id": sdr_id, "name": sdr_id.title(), "email": f"{sdr_id}@nubilo.es", "languages": list(languages), **extra}


def handoff(sdrs=None, rules=None, **extra) -> Handoff:
    sdrs = sdrs if sdrs is not None else [sdr("ana"), sdr("ben"), sdr("cai")]
    return Handoff(sdrs=sdrs, rules=rules or [], **extra)


def lead(**facts) -> dict:
    """A lead record shaped like `bin/leads show`."""
    record = {"language": facts.pop("language", "es"), "profile": {}, "bant": {}}
    if "owner" in facts:
        record["owner"] = facts.pop("owner")
    if "need" in facts:
        record["bant"]["need"] = {"value": facts.pop("need"), "qualifies": True}
    record["profile"].update(facts)
    return record


def assign(lead_record, config, state=None, now=MONDAY_10) -> tuple[Assignment, dict]:
    return route(lead_record, config, now, state if state is not None else {})


# -- the order ---------------------------------------------------------------------------


def test_existing_owner_comes_before_rules_and_round_robin():
    config = handoff(rules=[{"id": "latam", "when": {"country": ["MX"]}, "assign_to": ["ana"]}])
    got, state = assign(lead(owner="cai", country="MX"), config)
    assert (got.sdr_id, got.rule) == ("cai", "handoff.owner")
    assert got.queue is None
    assert state["today"] == {}  # keeping an owner is not a new assignment


def test_owner_who_is_away_or_gone_falls_through_to_the_rules():
    config = handoff(
        sdrs=[sdr("ana"), sdr("ben"), sdr("cai", away=True)],
        rules=[{"id": "latam", "when": {"country": ["MX"]}, "assign_to": ["ben"]}],
    )
    got, _ = assign(lead(owner="cai", country="MX"), config)
    assert (got.sdr_id, got.rule) == ("ben", "handoff.rules.latam")
    assert "owner cai is away" in got.reason
    got, _ = assign(lead(owner="zoe", country="MX"), config)
    assert got.sdr_id == "ben" and "owner zoe is no longer an SDR" in got.reason


def test_first_matching_rule_wins_over_later_rules_and_round_robin():
    config = handoff(
        rules=[
            {"id": "support", "when": {"need": ["support"]}, "assign_to": ["ana"]},
            {"id": "latam", "when": {"country": ["MX"]}, "assign_to": ["ben"]},
        ]
    )
    got, _ = assign(lead(need="support", country="MX"), config)
    assert (got.sdr_id, got.rule) == ("ana", "handoff.rules.support")
    assert "need support" in got.reason
    got, _ = assign(lead(need="crm", country="MX"), config)
    assert (got.sdr_id, got.rule) == ("ben", "handoff.rules.latam")
    got, _ = assign(lead(need="crm", country="ES"), config)
    assert got.rule == "handoff.round_robin"


def test_rule_whose_sdrs_are_all_away_falls_to_the_next_rule():
    config = handoff(
        sdrs=[sdr("ana", away=True), sdr("ben"), sdr("cai")],
        rules=[
            {"id": "support", "when": {"need": ["support"]}, "assign_to": ["ana"]},
            {"id": "support_backup", "when": {"need": ["support"]}, "assign_to": ["cai"]},
        ],
    )
    got, _ = assign(lead(need="support"), config)
    assert (got.sdr_id, got.rule) == ("cai", "handoff.rules.support_backup")
    assert "rule support matched (need support) but nobody is available: ana away" in got.reason


# -- each rule condition -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("when", "matching", "not_matching"),
    [
        ({"need": ["support", "crm"]}, lead(need="crm"), lead(need="reporting")),
        ({"need": ["support"]}, lead(need="support"), lead()),  # no answer yet: no match
        ({"country": ["MX", "CO"]}, lead(country="co"), lead(country="ES")),
        ({"country": ["MX"]}, lead(country="MX"), lead()),
        ({"company_size": {"min": 50, "max": 249}}, lead(company_size=50), lead(company_size=250)),
        ({"company_size": {"min": 50, "max": 249}}, lead(company_size=249), lead(company_size=49)),
        ({"company_size": {"min": 250}}, lead(company_size=10000), lead()),
        ({"company_size": {"max": 9}}, lead(employees="9"), lead(company_size=10)),
        ({"language": ["en"]}, lead(language="en-GB"), lead(language="es")),
        (
            {"need": ["support"], "country": ["MX"]},  # all conditions must hold
            lead(need="support", country="MX"),
            lead(need="support", country="ES"),
        ),
    ],
)
def test_each_rule_condition(when, matching, not_matching):
    config = handoff(rules=[{"id": "r", "when": when, "assign_to": ["cai"]}])
    got, _ = assign(matching, config)
    assert (got.sdr_id, got.rule) == ("cai", "handoff.rules.r")
    got, _ = assign(not_matching, config)
    assert got.rule == "handoff.round_robin"


def test_round_robin_within_a_rule_uses_only_its_available_sdrs():
    config = handoff(
        sdrs=[sdr("ana"), sdr("ben", away=True), sdr("cai"), sdr("dan")],
        rules=[{"id": "latam", "when": {"country": ["MX"]}, "assign_to": ["ana", "ben", "cai"]}],
    )
    state: dict = {}
    picks = []
    for _ in range(6):
        got, state = assign(lead(country="MX"), config, state)
        picks.append(got.sdr_id)
    assert picks == ["ana", "cai", "ana", "cai", "ana", "cai"]


# -- round robin, language, away, capacity, fallback ---------------------------------------


def test_round_robin_is_fair_over_many_leads_and_deterministic():
    config = handoff()
    state: dict = {}
    picks = []
    for _ in range(300):
        got, state = assign(lead(), config, state)
        picks.append(got.sdr_id)
    assert Counter(picks) == {"ana": 100, "ben": 100, "cai": 100}
    assert picks[:6] == ["ana", "ben", "cai", "ana", "ben", "cai"]
    again: dict = {}
    replay = []
    for _ in range(300):
        got, again = assign(lead(), config, again)
        replay.append(got.sdr_id)
    assert replay == picks


def test_round_robin_stays_fair_when_someone_returns_from_leave():
    state: dict = {}
    away = handoff(sdrs=[sdr("ana"), sdr("ben"), sdr("cai", away=True)])
    for _ in range(10):
        _, state = assign(lead(), away, state)
    back = handoff()
    picks = Counter()
    for _ in range(30):
        got, state = assign(lead(), back, state)
        picks[got.sdr_id] += 1
    assert picks == {"ana": 10, "ben": 10, "cai": 10}


def test_route_does_not_change_the_state_it_is_given():
    state = {"seq": 4, "last": {"ana": 4}, "day": "2026-03-16", "today": {"ana": 1}}
    before = {"seq": 4, "last": {"ana": 4}, "day": "2026-03-16", "today": {"ana": 1}}
    got, new = assign(lead(), handoff(), state)
    assert state == before
    assert got.sdr_id == "ben" and new["last"]["ben"] == 5 and new["today"] == {"ana": 1, "ben": 1}


def test_away_sdrs_get_no_leads():
    config = handoff(sdrs=[sdr("ana", away=True), sdr("ben"), sdr("cai", away=True)])
    state: dict = {}
    for _ in range(10):
        got, state = assign(lead(), config, state)
        assert got.sdr_id == "ben"


def test_language_filter_in_round_robin():
    config = handoff(sdrs=[sdr("ana", ["es"]), sdr("ben", ["en"]), sdr("cai", ["es", "en"])])
    state: dict = {}
    english = []
    for _ in range(4):
        got, state = assign(lead(language="en"), config, state)
        english.append(got.sdr_id)
    assert set(english) == {"ben", "cai"}
    assert "speaking en" in got.reason
    got, state = assign(lead(language="es"), config, state)
    assert got.sdr_id == "ana"


def test_lead_without_language_can_go_to_anyone():
    config = handoff(sdrs=[sdr("ana", ["es"]), sdr("ben", ["en"])])
    got, state = assign(lead(language=None), config)
    got2, _ = assign(lead(language=None), config, state)
    assert {got.sdr_id, got2.sdr_id} == {"ana", "ben"}


def test_capacity_per_day_in_the_config_time_zone():
    config = handoff(sdrs=[sdr("ana", capacity=2), sdr("ben", capacity=1)])
    state: dict = {}
    picks = []
    for _ in range(4):
        got, state = assign(lead(), config, state)
        picks.append(got.sdr_id or got.queue)
    assert picks == ["ana", "ben", "ana", "sales-inbox"]
    assert "ana at capacity (2 today)" in got.reason
    # 23:30 UTC on Monday is already Tuesday in Madrid: a new day, capacity is back.
    got, state = assign(lead(), config, state, now=datetime(2026, 3, 16, 23, 30, tzinfo=UTC))
    assert got.sdr_id in {"ana", "ben"} and state["day"] == "2026-03-17"


def test_fallback_queue_when_nobody_is_available():
    config = handoff(sdrs=[sdr("ana", away=True), sdr("ben", ["en"])], fallback_queue="sales-inbox")
    got, _ = assign(lead(language="es"), config)
    assert got == Assignment(None, "sales-inbox", "handoff.fallback_queue", got.reason)
    assert "ana away" in got.reason and "queued in sales-inbox" in got.reason
    got, _ = assign(lead(language="es"), handoff(sdrs=[sdr("ben", ["en"])]))
    assert got.queue == "sales-inbox" and "no SDR speaks es" in got.reason
    got, _ = assign(lead(), Handoff())
    assert got.queue == "sales-inbox" and "no SDRs configured" in got.reason


def test_naive_time_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        assign(lead(), handoff(), now=datetime(2026, 3, 16, 10, 0))


# -- business hours ----------------------------------------------------------------------

MADRID = {"mon": "09:00-18:00", "tue": "09:00-18:00", "wed": "09:00-18:00", "thu": "09:00-18:00", "fri": "09:00-15:00"}


def at(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "open_"),
    [
        (at(2026, 3, 16, 7, 59), False),  # Mon 08:59 CET
        (at(2026, 3, 16, 8, 0), True),  # Mon 09:00 CET, start included
        (at(2026, 3, 16, 16, 59), True),  # Mon 17:59
        (at(2026, 3, 16, 17, 0), False),  # Mon 18:00, end excluded
        (at(2026, 3, 20, 13, 59), True),  # Fri 14:59
        (at(2026, 3, 20, 14, 0), False),  # Fri 15:00: Friday closes early
        (at(2026, 3, 21, 10, 0), False),  # Saturday
        (at(2026, 3, 22, 10, 0), False),  # Sunday
        # Summer time starts on Sunday 29 March 2026: Madrid goes from UTC+1 to UTC+2.
        (at(2026, 3, 23, 7, 30), False),  # Mon 08:30 CET
        (at(2026, 3, 30, 7, 30), True),  # Mon 09:30 CEST: same UTC time, one week later
        (at(2026, 3, 30, 16, 0), False),  # Mon 18:00 CEST
        # Winter time from Sunday 25 October 2026.
        (at(2026, 10, 23, 12, 30), True),  # Fri 14:30 CEST
        (at(2026, 10, 30, 13, 30), True),  # Fri 14:30 CET (13:30 UTC)
        (at(2026, 10, 30, 14, 0), False),  # Fri 15:00 CET
    ],
)
def test_business_hours_in_madrid_across_dst_and_weekends(now, open_):
    config = handoff(business_hours=MADRID, timezone="Europe/Madrid")
    assert available_now(config.sdrs[0], config, now) is open_


def test_business_hours_follow_the_config_time_zone_and_its_weekday():
    # Monday 23:30 UTC: Tuesday 00:30 in Madrid, Monday 17:30 in Mexico City.
    now = at(2026, 3, 16, 23, 30)
    madrid = handoff(business_hours=MADRID, timezone="Europe/Madrid")
    mexico = handoff(business_hours=MADRID, timezone="America/Mexico_City")
    assert not available_now("ana", madrid, now)
    assert available_now("ana", mexico, now)
    # Friday 23:30 UTC is Saturday in Madrid even if Friday were open all day.
    all_friday = handoff(business_hours={"fri": "00:00-24:00"})
    assert not available_now("ana", all_friday, at(2026, 3, 20, 23, 30))
    assert available_now("ana", all_friday, at(2026, 3, 20, 22, 30))
    # Same instant and configured hours, another country's summer time: New York is UTC-4 from 8 March.
    new_york = handoff(business_hours=MADRID, timezone="America/New_York")
    assert available_now("ana", new_york, at(2026, 3, 16, 13, 0))  # 09:00 EDT
    assert not available_now("ana", new_york, at(2026, 3, 6, 13, 0))  # Fri 08:00 EST


def test_split_business_hours_and_away_sdrs_are_not_available_now():
    config = handoff(sdrs=[sdr("ana"), sdr("ben", away=True)], business_hours={"mon": ["09:00-14:00", "16:00-19:00"]})
    assert available_now("ana", config, at(2026, 3, 16, 12, 0))  # 13:00
    assert not available_now("ana", config, at(2026, 3, 16, 14, 0))  # 15:00, lunch
    assert available_now("ana", config, at(2026, 3, 16, 15, 0))  # 16:00
    assert not available_now("ben", config, at(2026, 3, 16, 12, 0))
    assert not available_now("nobody", config, at(2026, 3, 16, 12, 0))


# -- next steps --------------------------------------------------------------------------


def test_next_steps_meeting_link_and_talk_now_in_business_hours():
    config = handoff(sdrs=[sdr("ana", scheduling_url="https://cal.nubilo.es/ana")], business_hours=MADRID)
    got, _ = assign(lead(), config)
    steps = next_steps(got, config, MONDAY_10, "es")
    assert steps == [
        {"kind": "meeting", "sdr_id": "ana", "sdr_name": "Ana", "url": "https://cal.nubilo.es/ana"},
        {"kind": "talk_now", "sdr_id": "ana", "sdr_name": "Ana"},
    ]


def test_next_steps_sla_promise_out_of_hours_or_without_a_link():
    config = handoff(sdrs=[sdr("ana")], business_hours=MADRID, sla_hours=24)
    got, _ = assign(lead(), config)
    saturday = at(2026, 3, 21, 10, 0)
    assert next_steps(got, config, saturday, "es") == [
        {"kind": "sla", "hours": 24, "contact_by": "2026-03-22T10:00:00+00:00", "sdr_name": "Ana"}
    ]
    # 24 elapsed hours across the DST change (Madrid loses an hour on 29 March), not wall-clock.
    steps = next_steps(got, config, at(2026, 3, 28, 20, 0), "es")
    assert steps[-1]["contact_by"] == "2026-03-29T20:00:00+00:00"


def test_next_steps_no_live_chat_in_a_language_the_sdr_does_not_speak():
    config = handoff(sdrs=[sdr("ana", ["es"])], business_hours=MADRID)
    got = Assignment("ana", None, "handoff.owner", "existing owner ana")
    assert [s["kind"] for s in next_steps(got, config, MONDAY_10, "en")] == ["sla"]
    assert [s["kind"] for s in next_steps(got, config, MONDAY_10, "es")] == ["talk_now"]


def test_next_steps_for_a_queue_is_the_sla_promise():
    got = Assignment(None, "sales-inbox", "handoff.fallback_queue", "nobody")
    assert [s["kind"] for s in next_steps(got, handoff(), MONDAY_10, "es")] == ["sla"]


# -- the shipped config ------------------------------------------------------------------


def test_shipped_handoff_config_loads_and_routes():
    config = load_qualification()
    h = config.handoff
    assert h.timezone == "Europe/Madrid" and h.fallback_queue == "sales-inbox"
    assert [s.id for s in h.sdrs] == ["lucia", "diego", "emma"]
    assert [r.id for r in h.rules] == ["support", "latam", "large_accounts"]
    got, _ = route(lead(need="support", country="ES"), config, MONDAY_10, {})
    assert (got.sdr_id, got.rule) == ("emma", "handoff.rules.support")
    got, _ = route(lead(need="crm", country="MX"), config, MONDAY_10, {})
    assert (got.sdr_id, got.rule) == ("diego", "handoff.rules.latam")
    got, _ = route(lead(need="crm", country="ES", company_size=500), config, MONDAY_10, {})
    assert (got.sdr_id, got.rule) == ("lucia", "handoff.rules.large_accounts")
    got, _ = route(lead(need="crm", country="ES", language="en"), config, MONDAY_10, {})
    assert got.rule == "handoff.round_robin" and got.sdr_id in {"lucia", "emma"}
    assert available_now("lucia", config, MONDAY_10)
    assert not available_now("lucia", config, at(2026, 3, 20, 15, 0))  # Friday 16:00


# -- config errors name the field --------------------------------------------------------


def add_rule(rule):
    return lambda d: d["handoff"]["rules"].append(rule)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda d: d["handoff"]["rules"][1].update(assign_to=["diego", "x"]),
            "handoff.rules.1.assign_to: unknown SDR 'x'",
        ),
        (
            lambda d: d["handoff"]["rules"][0]["when"].update(need=["suport"]),
            "handoff.rules.0.when.need: unknown need 'suport'",
        ),
        (lambda d: d["handoff"]["rules"][1]["when"].update(country=["MX", "mexico"]), "handoff.rules.1.when.country.1"),
        (lambda d: d["handoff"]["rules"][0]["when"].update(language=["fr"]), "handoff.rules.0.when.language.0"),
        (
            lambda d: d["handoff"]["rules"][2]["when"].update(company_size={"min": 500, "max": 10}),
            "handoff.rules.2.when.company_size: Value error, min is greater than max",
        ),
        (lambda d: d["handoff"]["rules"][0]["when"].update(colour=["red"]), "handoff.rules.0.when.colour"),
        (lambda d: d["handoff"]["rules"][0].update(assign_to=[]), "handoff.rules.0.assign_to"),
        (add_rule({"id": "support", "when": {}, "assign_to": ["emma"]}), "handoff.rules.3.id: duplicate rule id"),
        (lambda d: d["handoff"].update(timezone="Europe/Madird"), "handoff.timezone: unknown IANA time zone"),
        (lambda d: d["handoff"]["business_hours"].update(mon="9-18"), "handoff.business_hours.mon.0: '9-18' is not"),
        (
            lambda d: d["handoff"]["business_hours"].update(tue="18:00-09:00"),
            "handoff.business_hours.tue.0: '18:00-09:00': the start must be before the end",
        ),
        (
            lambda d: d["handoff"]["business_hours"].update(wed=["09:00-14:00", "13:00-18:00"]),
            "handoff.business_hours.wed: spans overlap",
        ),
        (lambda d: d["handoff"]["business_hours"].update(monday="09:00-18:00"), "handoff.business_hours.monday"),
        (
            lambda d: d["handoff"]["sdrs"][0].update(scheduling_url="http://cal.nubilo.es/lucia"),
            "handoff.sdrs.0.scheduling_url: must be an https:// URL",
        ),
        (
            lambda d: d["handoff"]["sdrs"][1].update(scheduling_url="cal.nubilo.es"),
            "handoff.sdrs.1.scheduling_url: must be an https:// URL",
        ),
        (lambda d: d["handoff"]["sdrs"][2].update(email="emma"), "handoff.sdrs.2.email"),
        (lambda d: d["handoff"]["sdrs"][0].update(languages=["es", "de"]), "handoff.sdrs.0.languages.1"),
        (lambda d: d["handoff"]["sdrs"][0].update(capacity=0), "handoff.sdrs.0.capacity"),
        (lambda d: d["handoff"]["sdrs"][0].update(away="sometimes"), "handoff.sdrs.0.away"),
        (lambda d: d["handoff"]["sdrs"][2].update(id="lucia"), "handoff.sdrs.2.id: duplicate SDR id 'lucia'"),
        (lambda d: d["handoff"].update(fallback_queue=""), "handoff.fallback_queue"),
    ],
)
def test_handoff_errors_name_the_field(tmp_path, change, expected):
    msg = broken_qualification(tmp_path, change)
    assert "qualification.yml is invalid" in msg
    assert expected in msg


def test_sla_promise_counts_from_now():
    got = Assignment(None, "sales-inbox", "handoff.fallback_queue", "nobody")
    now = at(2026, 3, 16, 9, 0)
    step = next_steps(got, handoff(sla_hours=8), now)[0]
    assert datetime.fromisoformat(step["contact_by"]) - now == timedelta(hours=8)
