"""The console's reads: the lead list (filters, search, keyset pages), its CSV export, and the
lead page's data.

The list has two orders (views), both paged by keyset (no OFFSET):

- "score": total score, highest first, then id; page 500 costs what page 1 does, with 100k leads
  or more (indexes in tables.py; bench/console_list.py).
- "inbox" (an SDR's landing, like HubSpot's or Intercom's inbox): first what waits for a person
  (a visitor waiting in a live chat), then, among the SDR's own leads and those nobody owns, the
  new ones (created or assigned since their last visit) and the sales-ready ones nobody has
  accepted yet; then everything by grade (A1 best ... D3), then score, highest first.

The filters apply to both.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import and_, case, false, func, literal, or_, select, true, tuple_
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import BindParameter, ColumnElement

from leadqual.db.tables import Conversation, CrmRecord, LiveChat, Message, OutboxMessage
from leadqual.leads.store import Lead, LeadStore
from leadqual.scoring.stages import PEOPLE, STAGES
from leadqual.timeutil import aware

from .decisions import is_accepted, notes_of

PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
UNASSIGNED = "-"  # the owner filter's value for leads no SDR owns yet
QUEUE = "queue:"  # the owner filter's prefix for a queue (handoff.fallback_queue)
_GRADE = re.compile(r"^[A-D][1-3]?$")
_OWNER = re.compile(r"^(queue:)?[a-z0-9_.-]{1,50}$")
_CURSOR = re.compile(r"^(-?\d{1,9})\.([0-9a-f]{1,32})$")
_INBOX_CURSOR = re.compile(r"^([0-2])\.(\d{1,2})\.(-?\d{1,9})\.([0-9a-f]{1,32})$")
LANGUAGES = ("es", "en")
VIEWS = ("inbox", "score")
GRADES = tuple(f"{letter}{n}" for letter in "ABCD" for n in "123")  # best first
# The inbox's tiers: a visitor waiting in a live chat, then new or waiting for acceptance, then the rest.
LIVE_WAITING, FOR_YOU, REST = 0, 1, 2


class FilterError(ValueError):
    """A filter value that cannot be used; `field` names it (the API answers 400 with it)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class LeadFilter:
    stage: str | None = None
    grade: str | None = None  # "A2", or a letter for all of A1..A3
    owner: str | None = None  # an SDR id, "queue:<name>", or "-" for unassigned
    language: str | None = None
    created_from: date | None = None
    created_to: date | None = None  # inclusive
    q: str | None = None  # part of the email or the company, any case

    @classmethod
    def parse(cls, args: Mapping[str, str | None]) -> LeadFilter:
        """From query-string values ("" = not filtered); FilterError names a bad one."""

        def value(name: str) -> str | None:
            raw = args.get(name)
            return raw.strip() or None if isinstance(raw, str) else None

        stage, grade, owner, language, q = (value(n) for n in ("stage", "grade", "owner", "language", "q"))
        if stage and stage not in STAGES:
            raise FilterError("stage", f"unknown stage {stage!r}; stages are: {', '.join(STAGES)}")
        if grade:
            grade = grade.upper()
            if not _GRADE.match(grade):
                raise FilterError("grade", f"{grade!r} is not a grade (A1..D3, or a letter A..D)")
        if owner and owner != UNASSIGNED and not _OWNER.match(owner):
            raise FilterError("owner", f"{owner!r} is not an SDR id or queue")
        if language and language not in LANGUAGES:
            raise FilterError("language", f"unknown language {language!r}; use es or en")
        if q and len(q) > 200:
            raise FilterError("q", "the search is longer than 200 characters")
        dates = {}
        for name in ("created_from", "created_to"):
            text = value(name)
            if text:
                try:
                    dates[name] = date.fromisoformat(text)
                except ValueError:
                    raise FilterError(name, f"{text!r} is not a date like 2026-07-01") from None
        return cls(stage=stage, grade=grade, owner=owner, language=language, q=q, **dates)

    def query_args(self) -> dict[str, str]:
        """Back to query-string values (for links that keep the filters)."""
        out = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if v is not None:
                out[f.name] = v.isoformat() if isinstance(v, date) else str(v)
        return out

    def conditions(self) -> list:
        where = []
        if self.stage:
            where.append(Lead.stage == self.stage)
        if self.grade:
            where.append(Lead.grade == self.grade if len(self.grade) == 2 else Lead.grade.like(self.grade + "%"))
        if self.owner == UNASSIGNED:
            where.append(Lead.owner.is_(None))
        elif self.owner and self.owner.startswith(QUEUE):
            where.append(and_(Lead.owner.is_(None), Lead.owner_queue == self.owner[len(QUEUE) :]))
        elif self.owner:  # one index (owner, score, id) answers it: no OR with the queue
            where.append(Lead.owner == self.owner)
        if self.language:
            where.append(Lead.language == self.language)
        if self.created_from:
            where.append(Lead.created_at >= datetime.combine(self.created_from, time(), timezone.utc))
        if self.created_to:
            end = datetime.combine(self.created_to + timedelta(days=1), time(), timezone.utc)
            where.append(Lead.created_at < end)
        if self.q:
            needle = self.q.lower()
            where.append(
                or_(
                    Lead.email_key.contains(needle, autoescape=True),
                    func.lower(Lead.company).contains(needle, autoescape=True),
                )
            )
        return where


@dataclass
class Page:
    rows: list[dict]
    total: int
    next_cursor: str | None
    prev_cursor: str | None


def _cursor_of(row: Lead) -> str:
    return f"{row.total_score}.{row.id}"


def _parse_cursor(text: str, name: str) -> tuple[int, str]:
    match = _CURSOR.match(text)
    if not match:
        raise FilterError(name, f"{text!r} is not a page cursor")
    return int(match.group(1)), match.group(2)


def awaiting_acceptance(lead: Lead) -> bool:
    """Sales-ready and nobody in sales has taken it on yet (the chat's sql counts as not accepted)."""
    if not lead.sales_ready:
        return False
    return lead.stage in ("lead", "mql") or (lead.stage == "sql" and lead.stage_actor not in PEOPLE)


def _awaiting_acceptance_sql():
    """`awaiting_acceptance` as a condition on the leads table."""
    return and_(
        Lead.sales_ready.is_(True),
        or_(Lead.stage.in_(("lead", "mql")), and_(Lead.stage == "sql", Lead.stage_actor != "person")),
    )


def live_waiting_leads(session: Session, among: list[str] | None = None) -> set[str]:
    """Ids of the leads with a visitor waiting for a person in a live chat (of the lead or of one
    of its conversations); `among` limits it to those ids."""
    query = (
        select(func.coalesce(LiveChat.lead_id, Conversation.lead_id))
        .select_from(LiveChat)
        .outerjoin(Conversation, Conversation.id == LiveChat.conversation_id)
        .where(LiveChat.status == "requested")
    )
    if among is not None:
        if not among:
            return set()
        query = query.where(or_(LiveChat.lead_id.in_(among), Conversation.lead_id.in_(among)))
    return {lead_id for lead_id in session.scalars(query) if lead_id}


def list_row(
    lead: Lead, new_since: datetime | None = None, live_waiting: bool = False, tier: int | None = None
) -> dict:
    """One line of the list: what an SDR scans, whether it is new since their last visit, waits
    for sales to accept it, or has a visitor waiting in a live chat."""
    created, assigned = aware(lead.created_at), aware(lead.assigned_at)
    new = new_since is not None and any(t is not None and t > new_since for t in (created, assigned))
    return {
        "id": lead.id,
        "email": lead.email,
        "name": lead.name,
        "company": lead.company,
        "stage": lead.stage,
        "sales_ready": bool(lead.sales_ready),
        "grade": lead.grade,
        "total": lead.total_score,
        "fit": lead.fit_score,
        "behaviour": lead.behaviour_score,
        "owner": lead.owner,
        "queue": lead.owner_queue,
        "language": lead.language,
        "created_at": created,
        "last_activity_at": aware(lead.last_activity_at),
        "new": new,
        "awaiting_acceptance": awaiting_acceptance(lead),
        "live_waiting": live_waiting,
        "tier": tier,
    }


def list_leads(
    store: LeadStore,
    lead_filter: LeadFilter,
    after: str | None = None,
    before: str | None = None,
    limit: int = PAGE_SIZE,
    new_since: datetime | None = None,
    count: bool = True,
    view: str = "score",
    sdr_id: str | None = None,
) -> Page:
    """One page of leads in the `view`'s order ("score": highest first; "inbox": see the module's
    docstring, with `sdr_id` the SDR whose inbox it is, None for all leads). `after`/`before` are
    cursors from a previous page of the same view; `total` is how many leads match (0 when `count`
    is false: the CSV export does not need it)."""
    if view not in VIEWS:
        raise FilterError("view", f"unknown view {view!r}; use one of: {', '.join(VIEWS)}")
    if view == "inbox":
        return _inbox(store, lead_filter, after, before, limit, new_since, count, sdr_id)
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    where = lead_filter.conditions()
    key = tuple_(Lead.total_score, Lead.id)
    query = select(Lead).where(*where)
    backwards = False
    if after:
        query = query.where(key < _parse_cursor(after, "after"))
    elif before:
        query = query.where(key > _parse_cursor(before, "before"))
        backwards = True
    if backwards:
        query = query.order_by(Lead.total_score.asc(), Lead.id.asc())
    else:
        query = query.order_by(Lead.total_score.desc(), Lead.id.desc())
    with store.sessions() as session:
        rows = list(session.scalars(query.limit(limit + 1)))
        more = len(rows) > limit
        rows = rows[:limit]
        if backwards:
            rows.reverse()
        total = (session.scalar(select(func.count()).select_from(Lead).where(*where)) or 0) if count else 0
        # The live-chat badge; the CSV export (count=False) has no use for it.
        live = live_waiting_leads(session, [r.id for r in rows]) if count else set()
        page_rows = [list_row(r, new_since, r.id in live) for r in rows]
    if not rows:
        return Page(page_rows, total, None, None)
    has_next = more if not backwards else True
    has_prev = (after is not None) if not backwards else more
    return Page(
        page_rows,
        total,
        _cursor_of(rows[-1]) if has_next else None,
        _cursor_of(rows[0]) if has_prev else None,
    )


def _inbox_key(live: set[str], new_since: datetime | None, sdr_id: str | None):
    """The inbox's order as SQL expressions, all ascending: (tier, grade rank, -score, id)."""
    tiers: list[tuple[ColumnElement[bool], BindParameter[int]]] = []
    if live:
        tiers.append((Lead.id.in_(sorted(live)), literal(LIVE_WAITING)))
    new = or_(Lead.created_at > new_since, Lead.assigned_at > new_since) if new_since is not None else false()
    yours = or_(Lead.owner.is_(None), Lead.owner == sdr_id) if sdr_id else true()
    tiers.append((and_(yours, or_(new, _awaiting_acceptance_sql())), literal(FOR_YOU)))
    tier = case(*tiers, else_=literal(REST))
    rank = case({grade: i for i, grade in enumerate(GRADES)}, value=Lead.grade, else_=len(GRADES))
    return tier, rank, -Lead.total_score, Lead.id


def _parse_inbox_cursor(text: str, name: str) -> tuple[int, int, int, str]:
    match = _INBOX_CURSOR.match(text)
    if not match:
        raise FilterError(name, f"{text!r} is not a page cursor of the inbox")
    return int(match.group(1)), int(match.group(2)), int(match.group(3)), match.group(4)


def _inbox(
    store: LeadStore,
    lead_filter: LeadFilter,
    after: str | None,
    before: str | None,
    limit: int,
    new_since: datetime | None,
    count: bool,
    sdr_id: str | None,
) -> Page:
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    where = lead_filter.conditions()
    cursor = None
    if after:
        cursor = _parse_inbox_cursor(after, "after")
    elif before:
        cursor = _parse_inbox_cursor(before, "before")
    with store.sessions() as session:
        live = live_waiting_leads(session)
        tier, rank, negative_score, lead_id = _inbox_key(live, new_since, sdr_id)
        key = tuple_(tier, rank, negative_score, lead_id)
        query = select(Lead, tier, rank).where(*where)
        backwards = before is not None and not after
        if cursor is not None:
            bound = tuple_(*map(literal, cursor))
            query = query.where(key < bound if backwards else key > bound)
        if backwards:
            query = query.order_by(tier.desc(), rank.desc(), negative_score.desc(), lead_id.desc())
        else:
            query = query.order_by(tier.asc(), rank.asc(), negative_score.asc(), lead_id.asc())
        found = list(session.execute(query.limit(limit + 1)).all())
        more = len(found) > limit
        found = found[:limit]
        if backwards:
            found.reverse()
        total = (session.scalar(select(func.count()).select_from(Lead).where(*where)) or 0) if count else 0
        page_rows = [list_row(lead, new_since, lead.id in live, row_tier) for lead, row_tier, _ in found]
        cursors = [f"{row_tier}.{row_rank}.{-(lead.total_score or 0)}.{lead.id}" for lead, row_tier, row_rank in found]
    if not found:
        return Page(page_rows, total, None, None)
    has_next = more if not backwards else True
    has_prev = (after is not None) if not backwards else more
    return Page(page_rows, total, cursors[-1] if has_next else None, cursors[0] if has_prev else None)


def lead_ids(store: LeadStore, lead_filter: LeadFilter, limit: int) -> list[str]:
    """Ids of the first `limit` leads of a filtered list, in list order (for the API)."""
    query = select(Lead.id).where(*lead_filter.conditions()).order_by(Lead.total_score.desc(), Lead.id.desc())
    with store.sessions() as session:
        return list(session.scalars(query.limit(limit)))


# -- CSV ---------------------------------------------------------------------------------------

CSV_COLUMNS = (
    "id",
    "email",
    "name",
    "company",
    "stage",
    "sales_ready",
    "grade",
    "total",
    "fit",
    "behaviour",
    "owner",
    "queue",
    "language",
    "created_at",
    "last_activity_at",
)
# What makes a spreadsheet read a cell as a formula (OWASP "CSV Injection"): one of these first.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\0")
# Where a cell may start inside a value: Excel and LibreOffice split a line on their locale's list
# separator (";" in Spanish Excel, "," or tab elsewhere), whatever the file's own separator, and
# may take a line break as a new row; blanks and quotes after it do not stop a formula.
_CELL_START = re.compile(r"""([;,\t\r\n][ "']*)(?=[=+\-@\t\r\n\0])""")


def csv_cell(value: object) -> object:
    """A cell a spreadsheet will not run, whatever separator it splits the file on: text that
    starts like a formula gets a leading ', and so does every part of it after a `;`, `,`, tab
    or line break (`Acme;=2+5` -> `Acme;'=2+5`). Numbers stay numbers (-5 is a score, not a
    formula), and text with no such part is kept as it is (`ana@acme.es`, `Acme, S.L.`)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if not isinstance(value, str):
        return value
    value = _CELL_START.sub(r"\1'", value)
    if value.lstrip(" \"'").startswith(_FORMULA_START):
        return "'" + value
    return value


def export_csv(store: LeadStore, lead_filter: LeadFilter, chunk: int = MAX_PAGE_SIZE) -> Iterator[str]:
    """The whole filtered list as CSV text, in chunks, highest score first."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    after = None
    while True:
        page = list_leads(store, lead_filter, after=after, limit=chunk, count=False)
        for row in page.rows:
            writer.writerow([csv_cell(row[c]) for c in CSV_COLUMNS])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        if not page.next_cursor:
            return
        after = page.next_cursor


# -- the lead page -----------------------------------------------------------------------------

BANT = ("budget", "authority", "need", "timing")


def _transcripts(session: Session, lead_id: str) -> list[dict]:
    """Every conversation with its lines, oldest first (when the lead JSON does not carry them)."""
    conversations = session.scalars(
        select(Conversation).where(Conversation.lead_id == lead_id).order_by(Conversation.started_at)
    ).all()
    lines: dict[str, list[dict]] = {c.id: [] for c in conversations}
    if lines:
        query = select(Message).where(Message.conversation_id.in_(list(lines))).order_by(Message.at, Message.id)
        for m in session.scalars(query):
            lines[m.conversation_id].append({"at": aware(m.at), "sender": m.sender, "author": m.author, "text": m.text})
    return [
        {"conversation_id": c.id, "started_at": aware(c.started_at), "language": c.language, "messages": lines[c.id]}
        for c in conversations
    ]


def _when(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def crm_status(session, lead_id: str) -> list[dict]:
    """The lead in each native CRM: synced / pending / failed with the reason, the record's id and
    link, and whether a delivery to it failed for good (what "send again" puts back)."""
    rows = session.scalars(select(CrmRecord).where(CrmRecord.lead_id == lead_id)).all()
    dead = session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.lead_id == lead_id, OutboxMessage.kind == "crm", OutboxMessage.status == "dead")
    )
    return [
        {
            "system": row.system,
            "status": row.status,
            "error": row.error,
            "record_id": row.record_id,
            "url": row.url,
            "synced_at": aware(row.synced_at) if row.synced_at else None,
            "failed_deliveries": dead,
        }
        for row in rows
    ]


def lead_page(store: LeadStore, lead_id: str) -> dict | None:
    """The lead JSON (`bin/leads show`'s) plus what the page adds: each answer's own words and
    confidence, when each score line last changed, the transcripts, notes and one history."""
    lead = store.get(lead_id)
    if lead is None:
        return None
    with store.sessions() as session:
        row = session.get(Lead, lead_id)
        answers = row.answers or {}
        transcripts = lead.get("transcripts")
        if transcripts is None:
            transcripts = _transcripts(session, lead_id)
        else:
            transcripts = [
                {
                    **t,
                    "started_at": _when(t.get("started_at")),
                    "messages": [{**m, "at": _when(m.get("at"))} for m in t["messages"]],
                }
                for t in transcripts
            ]
        notes = notes_of(session, lead_id)
        crm_records = crm_status(session, lead_id)
        accepted = row is not None and is_accepted(row.stage, row.stage_actor)
        waiting = row is not None and awaiting_acceptance(row)
    changed_at: dict[tuple, datetime] = {}
    for change in lead.get("score_changes", []):
        changed_at[(change["source"], change["source_ref"])] = _when(change["at"])
    why = [
        {
            "rule": line.get("rule"),
            "source": line.get("source"),
            "points": line.get("value", line.get("points", 0)),
            "reason": line.get("reason", ""),
            "when": changed_at.get((line.get("source"), line.get("source_ref"))),
            "kind": line.get("kind"),
            "line": line,
        }
        for line in lead.get("score_breakdown") or []
    ]
    why.sort(key=lambda line: -abs(line["points"] or 0))
    bant = []
    for slot in BANT:
        answer = answers.get(slot) if isinstance(answers.get(slot), dict) else {}
        bant.append(
            {
                "slot": slot,
                "text": answer.get("text"),
                "source": answer.get("source"),
                "confidence": answer.get("confidence"),
                "skipped": bool(answer.get("skipped")),
                "parsed": lead["bant"][slot],
                "qualifies": lead["bant"][slot].get("qualifies"),
            }
        )
    lines = lead.get("score_breakdown") or []
    event_points = {line.get("source_ref"): line.get("value") for line in lines if line.get("source") == "event"}
    timeline = [{**e, "at": _when(e["timestamp"]), "points": event_points.get(e["message_id"])} for e in lead["events"]]
    history = [{"type": "stage", **t, "at": _when(t["at"])} for t in lead["stage_history"]]
    history += [{"type": n["kind"], **n, "at": aware(n["at"])} for n in notes]
    history.sort(key=lambda item: item["at"] or datetime.min.replace(tzinfo=timezone.utc))
    return {
        "lead": lead,
        "why": why,
        "bant": bant,
        "timeline": timeline,
        "history": history,
        "transcripts": transcripts,
        "crm_records": crm_records,
        "notes": [n for n in notes if n["kind"] == "note"],
        "accepted": accepted,
        "awaiting_acceptance": waiting,
    }
