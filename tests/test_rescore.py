"""Re-scoring every lead (leadqual/leads/rescore.py and `bin/leads rescore`), on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import threading
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from leadqual.db.tables import Lead, ScoreChange, StageTransition
from leadqual.leads import rescore
from leadqual.leads.rescore import rescore_all
from leadqual.leads.store import LeadStore
from leadqual.scoring.stages import Actor
from leadqual.tools import cli
from tests.test_leads import AUTHORITY, HOT, NEED, TIMING, email

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def track(message_id: str, name: str, at: datetime, anonymous_id: str, url: str | None = None) -> dict:
    """An event as tracking.normalize hands it to the store."""
    return {
        "message_id": message_id,
        "type": "page" if url else "track",
        "name": "page" if url else name,
        "url": url,
        "anonymous_id": anonymous_id,
        "user_id": None,
        "properties": {"url": url} if url else {},
        "timestamp": at,
        "received_at": at,
        "source": "server",
    }


def identify(message_id: str, at: datetime, anonymous_id: str, **traits) -> dict:
    event = track(message_id, "identify", at, anonymous_id)
    event.update(type="identify", traits=traits, properties={k: v for k, v in traits.items() if k != "email"})
    return event


def seed(store: LeadStore, twin: str) -> dict[str, str]:
    """One lead of each kind, created through the store's API; `twin` ("a", "b") prefixes every
    id so two identical sets can live in one database. Returns {kind: lead id}."""
    ids: dict[str, str] = {}

    def chat(kind: str, answers: dict, events: list[tuple], traits: dict | None = None) -> None:
        anonymous_id = f"{twin}-anon-{kind}"
        answers = {**answers, "email": email(f"{kind}@{twin}.example")}
        lead = store.save_conversation(f"{twin}-conv-{kind}", answers, "es", anonymous_id=anonymous_id, now=T0)
        batch = [
            track(f"{twin}-{kind}-{n}", name, T0 - offset, anonymous_id, url)
            for n, (name, offset, url) in enumerate(events)
        ]
        if traits:
            batch.append(identify(f"{twin}-{kind}-id", T0, anonymous_id, email=f"{kind}@{twin}.example", **traits))
        if batch:
            store.ingest_events(batch, now=T0 + HOUR)
        ids[kind] = lead["id"]

    pricing = ("page", DAY, "https://nubilo.es/precios")
    blog = ("page", 2 * DAY, "https://nubilo.es/blog/crm")
    demo = ("demo_request", 3 * HOUR, None)
    chat("hot", HOT, [pricing, blog, demo])  # fit 100: sql
    chat("no_budget", {"need": NEED, "timing": TIMING, "authority": AUTHORITY}, [pricing])  # fit 80: mql
    chat("engaged", {"need": NEED, "timing": TIMING}, [demo, pricing])  # 55 + 25: mql until decay
    chat("browsing", {"need": NEED}, [blog, blog, ("email_reply", 5 * DAY, None)])  # lead
    chat(
        "profiled",
        {"need": NEED, "timing": TIMING},
        [pricing, ("cta_click", 2 * HOUR, None)],
        traits={"country": "ES", "company_size": 40, "job_title": "Head of Sales"},
    )
    chat("quiet", {"need": NEED, "timing": TIMING, "authority": AUTHORITY}, [])  # no events: nothing decays
    chat("accepted", {"need": NEED, "timing": TIMING, "authority": AUTHORITY}, [blog])
    store.move_stage(ids["accepted"], "sal", Actor.person("sdr-1"), now=T0 + 2 * HOUR)
    chat("won", HOT, [demo])
    store.move_stage(ids["won"], "opportunity", Actor.person("sdr-1"), now=T0 + 2 * HOUR)
    chat("spam", {"need": NEED, "timing": TIMING, "authority": AUTHORITY}, [pricing])
    store.move_stage(ids["spam"], "disqualified", Actor.person("sdr-1"), "spam", now=T0 + 2 * HOUR)
    return ids


def twin_view(lead: dict, twin: str) -> dict:
    """What must match between twins: everything about the score and stage, ids made neutral."""

    def neutral(value):
        return value.replace(f"{twin}-", "x-", 1) if isinstance(value, str) else value

    def lines(rows: list[dict]) -> list[dict]:
        return [{**row, "source_ref": neutral(row.get("source_ref"))} for row in rows]

    return {
        "scores": lead["scores"],
        "grade": lead["grade"],
        "stage": lead["stage"],
        "sales_ready": lead["sales_ready"],
        "config_version": lead["config_version"],
        "score_breakdown": lines(lead["score_breakdown"]),
        "bant": lead["bant"],
        "score_changes": lines(lead["score_changes"]),
        "stage_history": lead["stage_history"],
        "last_activity_at": lead["last_activity_at"],
    }


def count(store: LeadStore, model) -> int:
    with store.sessions() as session:
        return session.scalar(select(func.count()).select_from(model))


def assert_ledger_adds_up(store: LeadStore, lead_id: str) -> None:
    lead = store.get(lead_id)
    ledger = sum(change["delta"] for change in lead["score_changes"])
    assert ledger == pytest.approx(sum(line["value"] for line in lead["score_breakdown"]), abs=1e-3)


# -- the same as re-scoring one lead at a time ------------------------------------------------


@pytest.mark.parametrize("workers", [1, 2])
def test_rescore_all_gives_what_rescore_lead_gives(store, workers, monkeypatch):
    monkeypatch.setattr(rescore, "MIN_PARALLEL", 1)  # small chunks still go to the worker
    a, b = seed(store, "a"), seed(store, "b")
    for days in (20, 45, 80):  # decay moves "engaged" out of mql on the way; nothing goes cold
        now = T0 + days * DAY
        for lead_id in b.values():
            store.rescore_lead(lead_id, now=now)
        b_before = {lead_id: store.get(lead_id) for lead_id in b.values()}
        figures = rescore_all(store, now=now, batch_size=3, workers=workers)
        assert figures["leads"] == len(a) + len(b)
        assert figures["recycled"] == 0
        for kind in a:
            assert twin_view(store.get(a[kind]), "a") == twin_view(store.get(b[kind]), "b"), (kind, days)
            assert_ledger_adds_up(store, a[kind])
        # The b twins were already scored at `now`: they are not written again.
        assert {lead_id: store.get(lead_id) for lead_id in b.values()} == b_before
    assert store.get(a["engaged"])["stage"] == "lead"
    assert store.get(a["engaged"])["stage_history"][-1]["reason"] == "score_dropped"
    assert store.get(a["engaged"])["stage_history"][-1]["actor_id"] == "rescore"


def test_a_lead_changed_during_a_run_that_writes_nothing_is_scored_again(store, monkeypatch):
    """A rerun at the same time writes nothing, yet a lead that changed after it was read (an
    event arrived) is found and scored as of the run's time."""
    ids = seed(store, "a")
    now = T0 + 10 * DAY
    rescore_all(store, now=now)
    arrived = []
    score = rescore._Run.score

    def score_then_change(run, chunk) -> None:
        score(run, chunk)
        if not arrived:
            event = track("a-quiet-late", "demo_request", now - HOUR, "a-anon-quiet")
            arrived.append(store.ingest_events([event], now=now - HOUR))

    monkeypatch.setattr(rescore._Run, "score", score_then_change)
    figures = rescore_all(store, now=now, workers=1)
    assert arrived[0]["accepted"] == 1
    assert (figures["retried"], figures["changed"]) == (1, 1)
    assert store.get(ids["quiet"])["scored_at"] == now.isoformat()
    assert_ledger_adds_up(store, ids["quiet"])


_read_and_score = rescore._read_and_score


def _read_and_score_with_pid(*args) -> dict:
    """rescore._read_and_score, saying which process ran it."""
    return {**_read_and_score(*args), "pid": os.getpid()}


def test_workers_read_their_part_on_their_own_connection(store, monkeypatch):
    """With worker processes each reads and scores its part of a chunk; the main process only
    pages ids and writes. On PostgreSQL chunks are written by writer threads (two at once), each
    on its own connection."""
    monkeypatch.setattr(rescore, "MIN_PARALLEL", 1)
    ids = seed(store, "a")
    monkeypatch.setattr(rescore, "_read_and_score", _read_and_score_with_pid)
    writes, readers = [], set()
    write = rescore._Run.write

    def recording_write(run, chunk, conn=None):
        readers.update(future.result()["pid"] for future in chunk.results)
        writes.append(threading.current_thread().name)
        return write(run, chunk, conn)

    monkeypatch.setattr(rescore._Run, "write", recording_write)
    now = T0 + 30 * DAY
    figures = rescore_all(store, now=now, batch_size=4, workers=2)
    assert figures["leads"] == len(ids) and figures["changed"] > 0
    assert readers and os.getpid() not in readers
    if store.engine.dialect.name == "postgresql":
        assert {name.split("_")[0] for name in writes} == {"rescore-writer"}
    else:
        assert set(writes) == {threading.current_thread().name}
    assert store.get(ids["hot"])["scored_at"] == now.isoformat()
    assert_ledger_adds_up(store, ids["hot"])


def _failing_read_and_score(*args) -> dict:
    raise RuntimeError("the database went away")


def test_a_failing_worker_stops_the_run_with_its_error(store, monkeypatch):
    """An error in a worker (e.g. its connection lost) reaches the caller; nothing is left
    running, and what was written stays consistent: running again completes."""
    monkeypatch.setattr(rescore, "MIN_PARALLEL", 1)
    ids = seed(store, "a")
    monkeypatch.setattr(rescore, "_read_and_score", _failing_read_and_score)
    with pytest.raises(RuntimeError, match="went away"):
        rescore_all(store, now=T0 + 30 * DAY, batch_size=4, workers=2)
    monkeypatch.setattr(rescore, "_read_and_score", _read_and_score)
    figures = rescore_all(store, now=T0 + 30 * DAY, batch_size=4, workers=2)
    assert figures["leads"] == len(ids)
    for lead_id in ids.values():
        assert_ledger_adds_up(store, lead_id)


def test_an_in_memory_sqlite_database_is_read_and_scored_in_this_process(monkeypatch):
    """Worker processes cannot open another process's in-memory database: scoring stays here."""
    monkeypatch.setattr(rescore, "MIN_PARALLEL", 1)
    store = LeadStore("sqlite://")
    store.create_schema()
    ids = seed(store, "a")
    started = []
    monkeypatch.setattr(rescore, "ProcessPoolExecutor", lambda *a, **k: started.append(1))
    figures = rescore_all(store, now=T0 + 30 * DAY, batch_size=4, workers=2)
    assert not started
    assert figures["leads"] == len(ids) and figures["changed"] > 0
    assert store.get(ids["hot"])["scored_at"] == (T0 + 30 * DAY).isoformat()


# -- decay -----------------------------------------------------------------------------------


def test_decay_lowers_behaviour_points_with_one_decay_row_per_lead(store):
    ids = seed(store, "a")
    behaviour = {kind: store.get(lead_id)["scores"]["behaviour"] for kind, lead_id in ids.items()}
    quiet_scored_at = store.get(ids["quiet"])["scored_at"]
    for days in (7, 30, 60):
        before = {lead_id: len(store.get(lead_id)["score_changes"]) for lead_id in ids.values()}
        figures = rescore_all(store, now=T0 + days * DAY)
        for kind, lead_id in ids.items():
            lead = store.get(lead_id)
            new = lead["score_changes"][before[lead_id] :]
            if kind == "quiet":  # no events: nothing to decay, the lead is not written
                assert new == []
                assert lead["scored_at"] == quiet_scored_at
                continue
            assert [(c["rule"], c["source"]) for c in new] == [("behaviour.decay", "decay")], kind
            assert new[0]["delta"] < 0
            assert new[0]["at"] == (T0 + days * DAY).isoformat()
            assert lead["scores"]["behaviour"] <= behaviour[kind]
            behaviour[kind] = lead["scores"]["behaviour"]
            assert_ledger_adds_up(store, lead_id)
        assert figures["changed"] == figures["score_changes"] == len(ids) - 1
    assert behaviour["hot"] < 10  # 10 + 1 + 15 points, 60 days (two half-lives) later


# -- config changes ----------------------------------------------------------------------------


def test_a_config_change_rescores_with_the_new_version(store, config):
    ids = seed(store, "a")
    points = config.budget.points.model_copy(update={"qualifies": 40})
    changed = config.model_copy(update={"version": 2, "budget": config.budget.model_copy(update={"points": points})})
    new_store = LeadStore(store.url, config=changed)
    try:
        figures = rescore_all(new_store, now=T0 + 2 * HOUR)
    finally:
        new_store.engine.dispose()
    assert figures["changed"] == figures["leads"] == len(ids)
    hot = store.get(ids["hot"])
    assert hot["config_version"] == 2
    assert hot["scores"]["fit"] == 110
    assert {line["config_version"] for line in hot["score_breakdown"]} == {2}
    budget = [c for c in hot["score_changes"] if c["config_version"] == 2 and c["source"] == "answer"]
    assert [(c["rule"], c["source_ref"], c["delta"]) for c in budget] == [("budget.points.qualifies", "budget", 10.0)]
    assert "+30 -> +40" in budget[0]["reason"]
    quiet = store.get(ids["quiet"])  # budget unknown: same points, only the version moved
    assert quiet["config_version"] == 2
    assert [c for c in quiet["score_changes"] if c["config_version"] == 2] == []
    for lead_id in ids.values():
        assert_ledger_adds_up(store, lead_id)


# -- idempotence -----------------------------------------------------------------------------


def test_a_second_run_at_the_same_time_writes_nothing(store):
    ids = seed(store, "a")
    now = T0 + 40 * DAY
    first = rescore_all(store, now=now)
    assert first["changed"] > 0
    leads = {lead_id: store.get(lead_id) for lead_id in ids.values()}
    changes, transitions = count(store, ScoreChange), count(store, StageTransition)
    second = rescore_all(store, now=now, batch_size=2)
    assert (second["leads"], second["changed"], second["score_changes"]) == (len(ids), 0, 0)
    assert (second["stage_moves"], second["recycled"]) == (0, 0)
    assert (count(store, ScoreChange), count(store, StageTransition)) == (changes, transitions)
    assert {lead_id: store.get(lead_id) for lead_id in ids.values()} == leads  # updated_at included


def test_now_must_be_timezone_aware(store):
    with pytest.raises(ValueError, match="timezone-aware"):
        rescore_all(store, now=datetime(2026, 5, 1))


def test_another_offset_is_stored_as_utc(store):
    ids = seed(store, "a")
    madrid = timezone(timedelta(hours=2))
    rescore_all(store, now=(T0 + 7 * DAY).astimezone(madrid))
    assert store.get(ids["hot"])["score_changes"][-1]["at"] == (T0 + 7 * DAY).isoformat()


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("kind", ["hot", "quiet"])
def test_a_lead_changed_while_it_was_scored_is_scored_again(store, monkeypatch, kind, workers):
    """Chunks are scored unlocked: a lead whose row changed meanwhile (here an event arrives
    after its chunk was read) is not overwritten but read and scored again. "hot" decays, so
    the run writes it: its UPDATE finds another version and the chunk is written again, checked.
    "quiet" has no events, so the run would not write it: the check of unwritten leads finds it.
    With 2 workers, PostgreSQL writes in a writer thread, on its own connection."""
    ids = seed(store, "a")
    target = ids[kind]
    now = T0 + 10 * DAY
    arrived = []
    score = rescore._Run.score

    def score_then_change(run, chunk) -> None:
        score(run, chunk)
        if not arrived:
            event = track(f"a-{kind}-late", "demo_request", now - HOUR, f"a-anon-{kind}")
            arrived.append(store.ingest_events([event], now=now - HOUR))

    monkeypatch.setattr(rescore._Run, "score", score_then_change)
    figures = rescore_all(store, now=now, workers=workers)
    assert arrived[0]["accepted"] == 1
    assert figures["retried"] == 1
    assert figures["leads"] == len(ids)
    lead = store.get(target)
    assert "a-" + kind + "-late" in [line["source_ref"] for line in lead["score_breakdown"]]
    assert lead["scored_at"] == now.isoformat()
    assert_ledger_adds_up(store, target)
    assert rescore_all(store, now=now)["changed"] == 0
    # Every other lead was written once, as of now.
    for other in set(ids.values()) - {target}:
        assert_ledger_adds_up(store, other)


# -- went cold ---------------------------------------------------------------------------------


def test_leads_gone_cold_go_back_to_nurturing(store):
    ids = seed(store, "a")
    fresh = store.save_conversation("a-conv-fresh", HOT, "es", now=T0 + 60 * DAY)["id"]
    stages = {kind: store.get(lead_id)["stage"] for kind, lead_id in ids.items()}
    assert stages["hot"] == "sql" and stages["no_budget"] == "mql" and stages["accepted"] == "sal"
    now = T0 + 91 * DAY  # recycle_after_days: 90 since the last event or answer
    figures = rescore_all(store, now=now)
    assert figures["recycled"] == 5  # hot (sql), no_budget, quiet and profiled (mql), accepted (sal by a person)
    for kind in ("hot", "no_budget", "quiet", "profiled", "accepted"):
        lead = store.get(ids[kind])
        last = lead["stage_history"][-1]
        assert lead["stage"] == "lead", kind
        assert (last["from_stage"], last["to_stage"]) == (stages[kind], "lead")
        assert (last["kind"], last["actor_type"], last["actor_id"], last["reason"]) == (
            "recycle",
            "rule",
            "went_cold",
            "went_cold",
        )
        assert last["at"] == now.isoformat()
        with store.sessions() as session:
            assert session.get(Lead, ids[kind]).stage_actor == "rule"
    engaged = store.get(ids["engaged"])  # its score had already dropped it to lead: not recycled
    assert (engaged["stage"], engaged["stage_history"][-1]["reason"]) == ("lead", "score_dropped")
    assert store.get(ids["won"])["stage"] == "opportunity"
    assert store.get(ids["spam"])["stage"] == "disqualified"
    assert store.get(fresh)["stage"] == "sql"  # active 31 days ago
    # Scores do not undo the rule's move: the next runs leave the recycled leads where they are.
    transitions = count(store, StageTransition)
    assert rescore_all(store, now=now)["recycled"] == 0
    assert rescore_all(store, now=now + 61 * DAY)["stage_moves"] == 0
    assert count(store, StageTransition) == transitions + 1  # only "fresh", now gone cold too
    assert store.get(fresh)["stage"] == "lead"


def test_no_recycling_when_the_config_says_never(store, config):
    ids = seed(store, "a")
    never = config.model_copy(update={"stages": config.stages.model_copy(update={"recycle_after_days": None})})
    never_store = LeadStore(store.url, config=never)
    try:
        assert rescore_all(never_store, now=T0 + 400 * DAY)["recycled"] == 0
    finally:
        never_store.engine.dispose()
    assert store.get(ids["accepted"])["stage"] == "sal"


# -- the command -------------------------------------------------------------------------------


def test_cli_rescore_prints_a_summary(store, capsys):
    ids = seed(store, "a")
    code = cli.main(["--database-url", store.url, "rescore", "--now", "2026-03-09T09:00:00", "--batch-size", "4"])
    assert code == 0
    out, err = capsys.readouterr()
    assert out.startswith(f"rescored {len(ids)} leads in ")
    assert f"{len(ids) - 1} changed, {len(ids) - 1} score changes, 0 stage moves, 0 recycled" in out
    assert "lead" in err  # the progress bar
    assert store.get(ids["hot"])["score_changes"][-1]["at"] == "2026-03-09T09:00:00+00:00"  # no offset: UTC

    assert cli.main(["--database-url", store.url, "rescore", "--now", "2026-03-09T09:00:00Z", "--quiet"]) == 0
    out, err = capsys.readouterr()
    assert "0 changed" in out and err == ""


def test_cli_rescore_full_scores_every_lead_from_its_answers(store, capsys):
    ids = seed(store, "a")
    assert cli.main(["--database-url", store.url, "rescore", "--now", "2026-03-09T09:00:00Z", "--quiet"]) == 0
    out, _ = capsys.readouterr()
    assert f"; {len(ids)} only decayed" in out  # scored under the current config: decay only
    later = ["--database-url", store.url, "rescore", "--now", "2026-03-16T09:00:00Z", "--quiet", "--full"]
    assert cli.main(later) == 0
    out, _ = capsys.readouterr()
    assert f"{len(ids) - 1} changed" in out and "only decayed" not in out


def test_a_lead_the_new_config_makes_sales_ready_is_handed_off_once(store, config):
    from leadqual.delivery.outbox import OutboxMessage

    answers = {"need": NEED, "timing": TIMING, "authority": AUTHORITY, "email": email("maria@lowbudget.example")}
    lead = store.save_conversation("conv-maria", answers, "es", now=T0)
    assert not lead["sales_ready"] and lead["owner"]["sdr"] is None
    sql = config.stages.sql.model_copy(update={"min_score": lead["scores"]["total"], "requires": []})
    mql = config.stages.mql.model_copy(update={"min_score": min(config.stages.mql.min_score, lead["scores"]["total"])})
    stages = config.stages.model_copy(update={"sql": sql, "mql": mql})
    new_store = LeadStore(store.url, config=config.model_copy(update={"version": 2, "stages": stages}))
    try:
        assert rescore_all(new_store, now=T0 + HOUR)["handed_off"] == 1
        assert rescore_all(new_store, now=T0 + HOUR)["handed_off"] == 0
    finally:
        new_store.engine.dispose()
    handed = store.get(lead["id"])
    assert handed["sales_ready"] and handed["owner"]["sdr"] in ("lucia", "diego", "emma")
    with store.sessions() as session:
        keys = list(session.scalars(select(OutboxMessage.key).where(OutboxMessage.kind == "crm")))
    assert keys == [f"crm-{lead['id']}-1"]
