"""What marketing needs to tune the flow: per-question figures (asked, answered, re-asked,
explained, skipped, abandoned there) by flow version and language, the funnel visitor -> lead ->
MQL -> SQL -> opportunity over time beside the source material's benchmark rates, and score
calibration (conversion per score band, grade and rule, for leads whose outcome is known).

The chat records one `question_events` row per thing that happens to a question; recording
never gets in the chat's way (a failed write is logged and dropped: these are statistics, not
answers, which are kept elsewhere).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, insert, select
from sqlalchemy.exc import SQLAlchemyError

from leadqual.db.tables import (
    Conversation,
    Lead,
    QuestionEvent,
    StageTransition,
    TrackedEvent,
    UnansweredQuestion,
    utcnow,
)
from leadqual.masking import mask
from leadqual.timeutil import aware

logger = logging.getLogger(__name__)

KINDS = ("asked", "answered", "reasked", "explained", "skipped", "gave_up", "stopped")
# A conversation whose last question got no answer and that has been quiet this long was
# abandoned at that question.
ABANDONED_AFTER = timedelta(minutes=30)
# The source material's rates: ~5% of visitors become MQLs, 60% of MQLs SALs, 50% of SALs SQLs.
BENCHMARK = {"visitor_to_mql": 0.05, "mql_to_sal": 0.60, "sal_to_sql": 0.50}
SCORE_BANDS = (0, 20, 40, 60, 80)


def record(engine, conversation_id: str, flow_version: int, language: str, question: str, kind: str, at=None) -> None:
    """One thing that happened to a question in a conversation (see KINDS)."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}")
    try:
        with engine.begin() as conn:
            conn.execute(
                insert(QuestionEvent).values(
                    conversation_id=conversation_id[:255],
                    flow_version=int(flow_version or 0),
                    language=(language or "es")[:5],
                    question=question[:40],
                    kind=kind,
                    at=at or utcnow(),
                )
            )
    except SQLAlchemyError:
        logger.exception("recording %s of %s in %s failed", kind, question, conversation_id)


def question_figures(engine, now: datetime | None = None) -> list[dict]:
    """Per (flow version, language, question), a funnel step: the conversations that reached the
    question, and of those how many were asked it, answered it (asked or not: an answer given
    before the question came up counts once), re-asked, explained ("why?"), skipped, gave up,
    stopped and abandoned there; with rates that are shares of the conversations that reached
    it, so none can pass 100 %.

    Each conversation counts once per question, under the version and language it started in:
    an answer corrected later, a question asked again, or a visitor switching language midway is
    still one conversation. (Counting each kind on its own made "answered" larger than "asked":
    an answer the visitor gave before the question was put, e.g. "somos 40 y lo queremos este
    trimestre" answering the timing too, or a conversation that switched language, was an
    answer without an ask.) `reach_rate` is the share of the conversations that started in that
    version and language."""
    now = now or utcnow()
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                QuestionEvent.conversation_id,
                QuestionEvent.flow_version,
                QuestionEvent.language,
                QuestionEvent.question,
                QuestionEvent.kind,
                func.min(QuestionEvent.at),
                func.max(QuestionEvent.at),
            ).group_by(
                QuestionEvent.conversation_id,
                QuestionEvent.flow_version,
                QuestionEvent.language,
                QuestionEvent.question,
                QuestionEvent.kind,
            )
        ).all()
    # Per conversation: where it started (version, language), what happened to each question,
    # and its last event.
    started: dict[str, tuple] = {}
    kinds: dict[tuple[str, str], set[str]] = defaultdict(set)
    last: dict[str, tuple] = {}
    for conversation, version, language, question, kind, first_at, last_at in rows:
        first_at, last_at = aware(first_at), aware(last_at)
        if conversation not in started or first_at < started[conversation][0]:
            started[conversation] = (first_at, version, language)
        kinds[(conversation, question)].add(kind)
        # The last thing that happened; at the same moment an answer or a way out wins over an ask.
        rank = (last_at, kind not in ("asked", "reasked", "explained"), question, kind)
        if conversation not in last or rank > last[conversation]:
            last[conversation] = rank
    counts: dict[tuple, dict] = defaultdict(lambda: dict.fromkeys((*KINDS, "abandoned", "reached", "volunteered"), 0))
    conversations: dict[tuple, int] = defaultdict(int)
    for _first, version, language in started.values():
        conversations[(version, language)] += 1
    for (conversation, question), happened in kinds.items():
        _first, version, language = started[conversation]
        c = counts[(version, language, question)]
        c["reached"] += 1
        for kind in happened:
            c[kind] += 1
        if "answered" in happened and "asked" not in happened:
            c["volunteered"] += 1
    # Abandoned: the conversation's last event is a question still waiting for its answer, and
    # it has been quiet long enough: the visitor left at that question.
    for conversation, (at, settled, question, _kind) in last.items():
        if not settled and now - at >= ABANDONED_AFTER:
            _first, version, language = started[conversation]
            counts[(version, language, question)]["abandoned"] += 1

    def share(n: int, of: int) -> float | None:
        return round(n / of, 3) if of else None

    figures = []
    for (version, language, question), c in sorted(counts.items()):
        total = conversations[(version, language)]
        figures.append(
            {
                "flow_version": version,
                "language": language,
                "question": question,
                **c,
                "conversations": total,
                "reach_rate": share(c["reached"], total),
                "answer_rate": share(c["answered"], c["reached"]),
                "abandon_rate": share(c["abandoned"], c["reached"]),
            }
        )
    return figures


def flow_order(questions: list[str], extras: list[tuple[str, str, str]]) -> list[str]:
    """The questions in the order the chat asks them: the flow's `questions`, and each extra
    question (slot, id, the question it comes `after`) right after its anchor; an extra anchored
    on an extra comes after that one."""
    order: list[str] = []

    def place(name: str, key: str) -> None:
        order.append(name)
        for slot, extra_id, after in extras:
            if after == key and slot not in order:
                place(slot, extra_id)

    for question in questions:
        place(question, question)
    return order


def _band_name(low: int) -> str:
    following = [b for b in SCORE_BANDS if b > low]
    return f"{low}-{following[0] - 1}" if following else f"{low}+"


def _week(moment: datetime) -> str:
    moment = aware(moment)
    monday = (moment - timedelta(days=moment.weekday())).date()
    return monday.isoformat()


def funnel(engine, since: datetime | None = None) -> dict:
    """Per week (Monday's date): visitors (distinct browsers and chat-only conversations), leads
    created, and leads reaching MQL, SAL, SQL and opportunity for the first time; with the totals'
    conversion rates beside the benchmark."""
    since = since or datetime(1970, 1, 1, tzinfo=timezone.utc)
    weeks: dict[str, dict] = defaultdict(
        lambda: dict.fromkeys(("visitors", "leads", "mql", "sal", "sql", "opportunity"), 0)
    )
    with engine.connect() as conn:
        seen = conn.execute(
            select(TrackedEvent.anonymous_id, func.min(TrackedEvent.timestamp))
            .where(TrackedEvent.anonymous_id.is_not(None), TrackedEvent.timestamp >= since)
            .group_by(TrackedEvent.anonymous_id)
        ).all()
        browsers = {anonymous_id for anonymous_id, _ in seen}
        for _anonymous_id, first in seen:
            weeks[_week(first)]["visitors"] += 1
        for anonymous_id, started in conn.execute(
            select(Conversation.anonymous_id, Conversation.started_at).where(Conversation.started_at >= since)
        ):
            if anonymous_id is None or anonymous_id not in browsers:
                weeks[_week(started)]["visitors"] += 1
        for (created,) in conn.execute(select(Lead.created_at).where(Lead.created_at >= since)):
            weeks[_week(created)]["leads"] += 1
        firsts = conn.execute(
            select(StageTransition.lead_id, StageTransition.to_stage, func.min(StageTransition.at))
            .where(StageTransition.to_stage.in_(("mql", "sal", "sql", "opportunity")), StageTransition.at >= since)
            .group_by(StageTransition.lead_id, StageTransition.to_stage)
        ).all()
    reached: dict[str, set] = defaultdict(set)
    for lead_id, stage, at in firsts:
        weeks[_week(at)][stage] += 1
        reached[stage].add(lead_id)
    # A lead that skipped a stage (the chat moves lead -> sql) counts as having passed it.
    passed_sal = reached["sal"] | reached["sql"] | reached["opportunity"]
    passed_mql = reached["mql"] | passed_sal
    totals = {key: sum(w[key] for w in weeks.values()) for key in ("visitors", "leads")}
    totals.update(mql=len(passed_mql), sal=len(passed_sal), sql=len(reached["sql"] | reached["opportunity"]))
    totals["opportunity"] = len(reached["opportunity"])

    def rate(a: str, b: str) -> float | None:
        return round(totals[b] / totals[a], 3) if totals[a] else None

    return {
        "weeks": [{"week": week, **values} for week, values in sorted(weeks.items())],
        "totals": totals,
        "rates": {
            "visitor_to_mql": rate("visitors", "mql"),
            "mql_to_sal": rate("mql", "sal"),
            "sal_to_sql": rate("sal", "sql"),
            "sql_to_opportunity": rate("sql", "opportunity"),
        },
        "benchmark": BENCHMARK,
    }


def calibration(engine) -> dict:
    """For leads whose outcome is known — won: reached opportunity; lost: disqualified, or
    recycled by a person — the conversion rate per score band, per grade and per scoring rule
    (leads with the rule's points against leads without), so marketing sees which rules
    predict sales."""
    with engine.connect() as conn:
        won = set(
            conn.execute(select(StageTransition.lead_id).where(StageTransition.to_stage == "opportunity")).scalars()
        )
        lost = set(
            conn.execute(
                select(StageTransition.lead_id).where(
                    (StageTransition.to_stage == "disqualified")
                    | ((StageTransition.kind == "recycle") & (StageTransition.actor_type == "person"))
                )
            ).scalars()
        )
        lost -= won
        known = won | lost
        leads = (
            conn.execute(
                select(Lead.id, Lead.total_score, Lead.grade, Lead.score_breakdown).where(Lead.id.in_(list(known)))
            ).all()
            if known
            else []
        )

    def group() -> dict:
        return {"won": 0, "lost": 0}

    bands = {_band_name(low): group() for low in SCORE_BANDS}
    grades: dict[str, dict] = defaultdict(group)
    rules: dict[str, dict] = defaultdict(lambda: {"with": group(), "without": group()})
    all_rules = set()
    per_lead = []
    for lead_id, total, grade, breakdown in leads:
        outcome = "won" if lead_id in won else "lost"
        bands[_band_name(max(low for low in SCORE_BANDS if (total or 0) >= low))][outcome] += 1
        grades[grade][outcome] += 1
        lead_rules = {line["rule"] for line in breakdown or [] if line.get("value")}
        all_rules |= lead_rules
        per_lead.append((outcome, lead_rules))
    for outcome, lead_rules in per_lead:
        for rule in all_rules:
            rules[rule]["with" if rule in lead_rules else "without"][outcome] += 1

    def rated(counts: dict) -> dict:
        n = counts["won"] + counts["lost"]
        return {**counts, "leads": n, "rate": round(counts["won"] / n, 3) if n else None}

    return {
        "leads": len(leads),
        "won": len(won & {row[0] for row in leads}),
        "bands": {name: rated(c) for name, c in bands.items()},
        "grades": {name: rated(c) for name, c in sorted(grades.items())},
        "rules": {
            name: {"with": rated(c["with"]), "without": rated(c["without"])} for name, c in sorted(rules.items())
        },
    }


# -- what visitors asked that the knowledge file could not answer -------------------------------


def record_unanswered(engine, conversation_id: str, flow_version: int, language: str, text: str, at=None) -> None:
    """Never in the chat's way: a failed write is logged and dropped (statistics, not answers)."""
    try:
        with engine.begin() as conn:
            conn.execute(
                insert(UnansweredQuestion).values(
                    conversation_id=conversation_id[:255],
                    flow_version=int(flow_version or 0),
                    language=(language or "es")[:5],
                    text=" ".join(mask(text).split())[:500],
                    at=at or utcnow(),
                )
            )
    except SQLAlchemyError:
        logger.exception("recording an unanswered question in %s failed", conversation_id)


def unanswered_by_week(engine, now: datetime | None = None, weeks: int = 8, per_week: int = 20) -> list[dict]:
    """The last `weeks` ISO weeks, newest first: per language, how many questions had no answer
    and the most frequent ones (same text, case and spacing aside), with their count."""
    now = now or utcnow()
    since = now - timedelta(weeks=weeks)
    with engine.connect() as conn:
        rows = conn.execute(
            select(UnansweredQuestion.at, UnansweredQuestion.language, UnansweredQuestion.text).where(
                UnansweredQuestion.at >= since
            )
        ).all()
    grouped: dict[tuple[str, str], dict[str, list]] = defaultdict(dict)
    for at, language, text in rows:
        year, week, _ = aware(at).isocalendar()
        key = " ".join(text.lower().split())
        entry = grouped[(f"{year}-W{week:02d}", language)].setdefault(key, [text, 0])
        entry[1] += 1
    result = []
    for (week, language), questions in sorted(grouped.items(), reverse=True):
        top = sorted(questions.values(), key=lambda item: (-item[1], item[0]))
        result.append(
            {
                "week": week,
                "language": language,
                "total": sum(count for _, count in top),
                "questions": [{"text": text, "count": count} for text, count in top[:per_week]],
            }
        )
    return result
