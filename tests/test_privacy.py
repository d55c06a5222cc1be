"""GDPR on SQLite and PostgreSQL: consent proof with its text version; export of one person with
every kind of data; erasure of every row linked to them (table by table) and nothing of another
person, pending outbox messages included, their conversations in a Rasa-like SQL tracker store,
an erasure record without personal data; retention of anonymous events and unqualified
transcripts; the command line."""

from __future__ import annotations

import json
import os
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, func, inspect, select, text

from leadqual.console.decisions import LeadNote
from leadqual.conversation import analytics
from leadqual.db import schema
from leadqual.db.tables import (
    Consent,
    Conversation,
    Erasure,
    Lead,
    LeadMerge,
    LiveChat,
    Message,
    StageTransition,
    TrackedEvent,
    Visitor,
)
from leadqual.delivery.outbox import DELIVERED, OutboxMessage, enqueue
from leadqual.leads import privacy
from leadqual.leads.store import LeadStore, conversation_key

from .conftest import postgres_database, run_cli
from .console_support import T0, seed_lead

ODD_SENDER = "ana's widget / tab 2"  # stored hashed ("h:..."): matched by hashing the tracker's ids
# Tables that hold no person's data (or are checked on their own).
# Tables that hold nothing of a visitor (erased_identities keeps only hashes, by design).
NOT_PERSONAL = {
    "alembic_version",
    "erasures",
    "erased_identities",
    "flow_versions",
    "flow_drafts",
    "console_users",
    "console_sessions",
    "console_sign_in_failures",
}


# -- a person with every kind of data ---------------------------------------------------------


def _event(message_id: str, anonymous_id: str, name: str = "pricing", at=T0) -> dict:
    return {
        "message_id": message_id,
        "type": "page",
        "name": name,
        "url": f"https://nubilo.example/{name}",
        "anonymous_id": anonymous_id,
        "properties": {"path": f"/{name}"},
        "timestamp": at,
    }


def seed_person(store: LeadStore, who: str) -> dict:
    """`who`@acme.es with: two conversations and transcripts (one from an anonymous lead merged in,
    one with an odd sender id), a second email merged in, a browser, events (attached and one still
    anonymous), a consent, a note, a live chat requested before a lead existed, a delivered and a
    pending outbox message, per-question analytics. Returns their identifiers."""
    email = f"{who}@acme.es"
    anon = f"anon-{who}-0001"
    lead_id = seed_lead(store, email, visitor_text=f"hola soy {who}")
    main_conv = store.get(lead_id)["conversations"][0]
    # An anonymous conversation on their browser, then merged into the lead.
    early = store.save_conversation(
        f"early-{who}",
        {"need": {"value": "lead_generation", "text": "captar leads", "source": "text"}},
        "es",
        anonymous_id=anon,
        now=T0 - timedelta(days=1),
        transcript=[{"at": T0 - timedelta(days=1), "sender": "visitor", "text": f"{who} anónimo"}],
    )
    store.merge_leads(early["id"], lead_id, reason="same person")
    old_email = seed_lead(store, f"{who}.old@acme.es", visitor_text=f"otra cuenta de {who}")
    store.merge_leads(old_email, lead_id, reason="duplicate")
    # A conversation with an odd sender id (stored hashed), from no known browser: it only claims
    # the email (leadqual/leads/identity.py), and is held under that email all the same.
    odd_sender = f"{ODD_SENDER} {who}"
    claim = store.save_conversation(
        odd_sender,
        {"email": {"address": email, "text": email, "source": "text"}},
        "es",
        now=T0 + timedelta(hours=1),
        transcript=[{"at": T0 + timedelta(hours=1), "sender": "visitor", "text": f"soy {who} otra vez"}],
    )
    store.ingest_events([_event(f"ev-{who}-1", anon, at=T0 + timedelta(minutes=5))], now=T0 + timedelta(minutes=5))
    live_conv = f"live-{who}"
    with store.sessions.begin() as session:
        # Still anonymous: their browser, but stored without a lead (e.g. arrived out of order).
        session.add(
            TrackedEvent(
                message_id=f"ev-{who}-anon",
                type="track",
                name="cta_click",
                anonymous_id=anon,
                properties={},
                timestamp=T0 + timedelta(minutes=6),
            )
        )
        session.add(Conversation(id=live_conv, lead_id=None, anonymous_id=anon, started_at=T0))
        session.flush()
        session.add(Message(conversation_id=live_conv, at=T0, sender="visitor", text=f"{who} quiere una persona"))
        session.add(LiveChat(conversation_id=live_conv, status="requested", requested_at=T0))
        enqueue(session, "live", {"type": "live_chat.requested", "conversation_id": live_conv}, key=f"live-{who}")
        session.add(LeadNote(lead_id=lead_id, kind="note", author="lucia", text=f"llamar a {who}", at=T0))
        delivered = enqueue(session, "crm", {"lead_id": lead_id, "email": email}, lead_id=lead_id, key=f"old-{who}")
        delivered.status = DELIVERED
        enqueue(session, "nurture", {"lead_id": lead_id, "email": email}, lead_id=lead_id, key=f"pending-{who}")
    store.record_consent(main_conv, True, "¿Quieres recibir emails?", "[Sí]", now=T0, flow_version=1, language="es")
    for conversation in (main_conv, odd_sender):
        analytics.record(store.engine, conversation, 1, "es", "budget", "asked", at=T0)
    lead = store.get(lead_id)
    return {
        "email": email,
        "old_email": f"{who}.old@acme.es",
        "lead_id": lead_id,
        "merged_ids": [early["id"], old_email],
        "claim_id": claim["id"],
        "anonymous_id": anon,
        "conversations": sorted(lead["conversations"] + claim["conversations"]) + [live_conv],
        "odd_sender": odd_sender,
        "sender_ids": sorted(c for c in lead["conversations"] if not c.startswith("h:")) + [live_conv, odd_sender],
    }


def _rows(store: LeadStore) -> dict[str, list[str]]:
    """Every row of every table holding people's data, as text."""
    with store.engine.connect() as conn:
        tables = [t for t in inspect(conn).get_table_names() if t not in NOT_PERSONAL]
        return {
            table: sorted(json.dumps(list(row), default=str) for row in conn.execute(text(f"SELECT * FROM {table}")))
            for table in tables
        }


def _mentions(row: str, person: dict) -> bool:
    needles = [
        person["email"],
        person["old_email"],
        person["lead_id"],
        person["anonymous_id"],
        *person["merged_ids"],
        person["claim_id"],
        *person["conversations"],
        *person["sender_ids"],
    ]
    who = person["email"].split("@")[0]
    texts = [f"soy {who}", f"{who} anónimo", f"{who} quiere", f"llamar a {who}", f"otra cuenta de {who}"]
    return any(n in row for n in needles + texts)


@contextmanager
def tracker_store(store: LeadStore, tmp_path, people: list[dict]):
    """A database like Rasa's SQL tracker store (table events), with each person's conversations."""
    if store.url.startswith("postgresql"):
        context = postgres_database("leadqual_tracker")
    else:
        context = _sqlite_url(tmp_path / "tracker.db")
    with context as url:
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(
                text(
                    "CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255) NOT NULL,"
                    " type_name VARCHAR(255) NOT NULL, timestamp FLOAT, intent_name VARCHAR(255),"
                    " action_name VARCHAR(255), data TEXT)"
                )
            )
            n = 0
            for person in people:
                for sender in person["sender_ids"]:
                    for kind in ("action", "user", "bot"):
                        n += 1
                        conn.execute(
                            text("INSERT INTO events VALUES (:id, :s, :k, 1.0, NULL, NULL, :d)"),
                            {"id": n, "s": sender, "k": kind, "d": json.dumps({"text": person["email"]})},
                        )
        try:
            yield url, engine
        finally:
            engine.dispose()


@contextmanager
def _sqlite_url(path):
    yield f"sqlite:///{path}"


def _tracker_senders(engine) -> set[str]:
    with engine.connect() as conn:
        return {row[0] for row in conn.execute(text("SELECT sender_id FROM events"))}


# -- consent proof ----------------------------------------------------------------------------


def test_consent_rows_carry_the_flow_version_and_language(store):
    lead_id = seed_lead(store, "ana@acme.es", lang="en")
    conversation = store.get(lead_id)["conversations"][0]
    store.record_consent(conversation, True, "Email you?", "[Yes]", now=T0, flow_version=3, language="en")
    store.record_consent(conversation, False, "¿Emails?", "no", now=T0 + timedelta(minutes=1))
    with store.sessions() as session:
        rows = session.scalars(select(Consent).order_by(Consent.id)).all()
    assert [(r.flow_version, r.language, r.wording, r.granted) for r in rows] == [
        (3, "en", "Email you?", True),
        (1, "en", "¿Emails?", False),  # defaults: the newest flow version, the conversation's language
    ]


def test_marketing_consent_question_can_be_switched_off(config):
    assert config.privacy.ask_marketing_consent is True
    assert (config.privacy.anonymous_events_days, config.privacy.unqualified_transcripts_days) == (180, 365)
    from leadqual.config.marketing import QualificationConfig

    with pytest.raises(ValueError, match="privacy.unqualified_transcripts_days"):
        QualificationConfig(**{**config.model_dump(), "privacy": {"unqualified_transcripts_days": 0}})
    off = QualificationConfig(**{**config.model_dump(), "privacy": {"ask_marketing_consent": False}})
    assert off.privacy.ask_marketing_consent is False and off.privacy.anonymous_events_days == 180


# -- export -----------------------------------------------------------------------------------


def test_export_holds_every_kind_of_data_about_the_person(store):
    ana, bob = seed_person(store, "ana"), seed_person(store, "bob")
    document = privacy.export_person(store, "ANA@acme.es")
    assert document["found"] and document["format"] == privacy.EXPORT_FORMAT
    assert document["lead"]["id"] == ana["lead_id"] and document["lead"]["email"] == "ana@acme.es"
    assert document["answers"]["budget"]["text"] == "unos 20.000 € al año"
    assert document["lead"]["score_changes"] and document["lead"]["stage_history"]
    assert {c["conversation_id"] for c in document["conversations"]} == set(ana["conversations"])
    texts = [m["text"] for c in document["conversations"] for m in c["messages"]]
    assert {"hola soy ana", "ana anónimo", "otra cuenta de ana", "soy ana otra vez", "ana quiere una persona"} <= set(
        texts
    )
    assert document["lead"]["transcripts"]  # the lead JSON's transcripts too
    assert [(c["granted"], c["wording"], c["flow_version"], c["language"]) for c in document["consents"]] == [
        (True, "¿Quieres recibir emails?", 1, "es")
    ]
    assert [v["anonymous_id"] for v in document["visitors"]] == [ana["anonymous_id"]]
    assert {e["message_id"] for e in document["events"]} == {"ev-ana-1", "ev-ana-anon"}
    assert [n["text"] for n in document["notes"]] == ["llamar a ana"]
    assert {o["kind"] for o in document["outbox_messages"]} >= {"crm", "nurture", "live"}
    assert {o["status"] for o in document["outbox_messages"]} >= {"pending", "delivered"}
    assert [c["conversation_id"] for c in document["live_chats"]] == ["live-ana"]
    assert {m["lead_id"] for m in document["merged_leads"]} == set(ana["merged_ids"])
    assert "ana.old@acme.es" in {m["email"] for m in document["merged_leads"]}
    assert len(document["question_events"]) == 2  # the odd sender id's too
    assert not _mentions(json.dumps(document), bob)
    # The other email of the person finds the same person; an unknown one finds nothing.
    assert privacy.export_person(store, "ana.old@acme.es")["lead"]["id"] == ana["lead_id"]
    assert privacy.export_person(store, "nobody@acme.es")["found"] is False


# -- erase ------------------------------------------------------------------------------------


def test_erase_removes_every_row_of_the_person_and_nothing_of_another(store, tmp_path):
    ana, bob = seed_person(store, "ana"), seed_person(store, "bob")
    before = _rows(store)
    assert {t for t, rows in before.items() if any(_mentions(r, ana) for r in rows)} >= {
        "leads",
        "conversations",
        "messages",
        "visitors",
        "events",
        "score_changes",
        "stage_transitions",
        "consents",
        "lead_notes",
        "live_chats",
        "outbox_messages",
        "lead_merges",
        "question_events",
    }
    with store.sessions() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "pending"))
    with tracker_store(store, tmp_path, [ana, bob]) as (url, tracker):
        result = privacy.erase_person(
            store, "Ana@Acme.es", by="dpo@nubilo.es", reason="Request from ana@acme.es (ref 42)", tracker_url=url
        )
        assert result["found"] is True
        assert result["tracker_store"]["status"] == "deleted" and result["tracker_store"]["events"] == 3 * len(
            ana["sender_ids"]
        )
        remaining = _tracker_senders(tracker)
        assert remaining == set(bob["sender_ids"])  # the odd sender id was matched through its hash
    after = _rows(store)
    for table, rows in before.items():
        expected = sorted(r for r in rows if not _mentions(r, ana))
        assert after[table] == expected, table  # ana's rows gone, every other row untouched
        assert not any(_mentions(r, ana) for r in after[table]), table
    # The person's lead and the unverified chat that gave their email.
    assert result["counts"]["leads"] == 2 and result["counts"]["outbox_messages"] >= 4
    with store.sessions() as session:
        pending = session.scalars(select(OutboxMessage).where(OutboxMessage.status == "pending")).all()
        assert pending and all(not _mentions(json.dumps(p.payload), ana) for p in pending)
        erasure = session.get(Erasure, result["erasure_id"])
        record = json.dumps(
            [erasure.id, erasure.by, erasure.reason, erasure.counts, erasure.tracker_store, erasure.pending_sender_ids],
            default=str,
        )
    assert erasure.reason == "Request from [erased] (ref 42)" and erasure.by == "dpo@nubilo.es"
    assert erasure.tracker_store == "deleted" and erasure.pending_sender_ids == []
    assert erasure.counts["tracker_events"] == 3 * len(ana["sender_ids"]) and erasure.counts["messages"] >= 5
    assert not _mentions(record, ana)
    # bob is whole.
    assert store.get_by_email("bob@acme.es")["id"] == bob["lead_id"]
    assert privacy.export_person(store, "bob@acme.es")["found"]


def test_erasing_twice_is_fine_and_recorded(store):
    seed_person(store, "ana")
    first = privacy.erase_person(store, "ana@acme.es", by="dpo", reason="art. 17 request", tracker_url="")
    assert first["tracker_store"]["status"] == "not_configured"
    second = privacy.erase_person(store, "ana@acme.es", by="dpo", reason="art. 17 request", tracker_url="")
    assert second["found"] is False and second["counts"] == {} and second["tracker_store"]["status"] == "nothing"
    with store.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Erasure)) == 2
        assert session.scalar(select(func.count()).select_from(Lead)) == 0
    assert privacy.export_person(store, "ana@acme.es")["found"] is False
    with pytest.raises(ValueError):
        privacy.erase_person(store, "ana@acme.es", by="dpo", reason=" ")


def test_a_failed_tracker_store_delete_waits_and_is_retried(store, tmp_path):
    ana = seed_person(store, "ana")
    with tracker_store(store, tmp_path, [ana]) as (url, tracker):
        wrong = store.url  # the product database: its `events` table is not Rasa's
        result = privacy.erase_person(store, "ana@acme.es", by="dpo", reason="request", tracker_url=wrong)
        assert result["tracker_store"]["status"] == "pending" and "sender_id" in result["tracker_store"]["error"]
        with store.sessions() as session:
            erasure = session.get(Erasure, result["erasure_id"])
            assert erasure.tracker_store == "pending" and len(erasure.pending_sender_ids) == len(ana["sender_ids"])
        assert _tracker_senders(tracker) == set(ana["sender_ids"])
        assert privacy.apply_retention(store, now=T0, tracker_url=url)["erasures_retried"] == 1
        assert _tracker_senders(tracker) == set()
        with store.sessions() as session:
            erasure = session.get(Erasure, result["erasure_id"])
            assert erasure.tracker_store == "deleted" and erasure.pending_sender_ids == []


def test_erase_drops_the_persons_spooled_saves(store):
    from leadqual.leads.spool import SaveSpool

    ana = seed_person(store, "ana")
    spool = SaveSpool()
    spool.add(ana["sender_ids"][0], {"need": {"value": "x"}}, "es")
    spool.add("someone-else", {"email": {"address": "ANA@acme.es"}}, "es")
    spool.add("bob-conv", {"email": {"address": "bob@acme.es"}}, "es")
    result = privacy.erase_person(store, "ana@acme.es", by="dpo", reason="request", tracker_url="")
    assert result["spooled_saves"] == 2 and spool.pending() == ["bob-conv"]


# -- retention --------------------------------------------------------------------------------


def test_retention_deletes_only_old_anonymous_events_and_unqualified_transcripts(store):
    now = T0 + timedelta(days=400)
    old, recent = now - timedelta(days=366), now - timedelta(days=30)
    with store.sessions.begin() as session:
        leads = {
            "unqualified": Lead(id="l-unq", stage="lead"),
            "disqualified": Lead(id="l-dis", stage="disqualified"),
            "mql": Lead(id="l-mql", stage="mql"),
            "once_sql": Lead(id="l-once", stage="lead"),  # was sql, recycled: qualified once
        }
        session.add_all(leads.values())
        session.flush()
        session.add(
            StageTransition(
                lead_id="l-once", from_stage="mql", to_stage="sql", kind="forward", actor_type="bot", reason="x", at=old
            )
        )
        conversations = {
            "c-unq-old": ("l-unq", old),
            "c-unq-new": ("l-unq", recent),
            "c-dis-old": ("l-dis", old),
            "c-none-old": (None, old),
            "c-none-new": (None, recent),
            "c-mql-old": ("l-mql", old),
            "c-once-old": ("l-once", old),
        }
        for cid, (lead_id, at) in conversations.items():
            session.add(Conversation(id=cid, lead_id=lead_id, started_at=at))
            session.flush()
            session.add_all(
                [
                    Message(conversation_id=cid, at=at, sender="visitor", text="hola"),
                    Message(conversation_id=cid, at=at + timedelta(minutes=1), sender="bot", text="¿qué buscas?"),
                ]
            )
        events = {
            "anon-old": (None, now - timedelta(days=181)),
            "anon-new": (None, now - timedelta(days=179)),
            "lead-old": ("l-unq", now - timedelta(days=500)),
        }
        for message_id, (lead_id, at) in events.items():
            session.add(
                TrackedEvent(
                    message_id=message_id,
                    type="page",
                    name="p",
                    lead_id=lead_id,
                    anonymous_id="anon-xyz1",
                    timestamp=at,
                )
            )
        session.add(Visitor(anonymous_id="anon-gone-01", first_seen_at=old, last_seen_at=old))
        session.add(Visitor(anonymous_id="anon-here-01", first_seen_at=old, last_seen_at=recent))
        session.add(Visitor(anonymous_id="anon-lead-01", lead_id="l-unq", first_seen_at=old, last_seen_at=old))
    counts = privacy.apply_retention(store, now=now, tracker_url="")
    assert counts["anonymous_events"] == 1 and counts["anonymous_visitors"] == 1
    assert counts["transcripts"] == 3 and counts["transcript_lines"] == 6
    with store.sessions() as session:
        kept = set(session.scalars(select(Message.conversation_id).distinct()))
        assert kept == {"c-unq-new", "c-none-new", "c-mql-old", "c-once-old"}
        assert set(session.scalars(select(TrackedEvent.message_id))) == {"anon-new", "lead-old"}
        assert set(session.scalars(select(Visitor.anonymous_id))) == {"anon-here-01", "anon-lead-01"}
        assert session.scalar(select(func.count()).select_from(Conversation)) == len(conversations)
    assert privacy.apply_retention(store, now=now, tracker_url="")["transcript_lines"] == 0  # nothing left to do


def test_retention_also_deletes_those_conversations_in_the_tracker_store(store, tmp_path):
    now = T0 + timedelta(days=400)
    with store.sessions.begin() as session:
        for cid in ("c-none-old", "c-none-new"):
            at = now - timedelta(days=400 if cid.endswith("old") else 1)
            session.add(Conversation(id=cid, started_at=at))
            session.flush()
            session.add(Message(conversation_id=cid, at=at, sender="visitor", text="hola"))
    person = {"email": "x@y.z", "sender_ids": ["c-none-old", "c-none-new"]}
    with tracker_store(store, tmp_path, [person]) as (url, tracker):
        counts = privacy.apply_retention(store, now=now, tracker_url=url)
        assert counts["tracker_events"] == 3 and _tracker_senders(tracker) == {"c-none-new"}


# -- the command line -------------------------------------------------------------------------


def _cli(url: str, *args: str, stdin: str = ""):
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADQUAL_TRACKER_DB_")}
    return run_cli("--database-url", url, *args, stdin=stdin, env={**env, "LEADQUAL_RASA_TRACKER_STORE_URL": ""})


def test_person_export_and_erase_from_the_command_line(sqlite_store, tmp_path):
    store = sqlite_store
    ana = seed_person(store, "ana")
    url = store.url
    out = tmp_path / "ana.json"
    done = _cli(url, "person", "export", "ana@acme.es", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert json.loads(out.read_text())["lead"]["id"] == ana["lead_id"]
    assert _cli(url, "person", "export", "nobody@acme.es").returncode == 1
    refused = _cli(url, "person", "erase", "ana@acme.es", "--by", "dpo", "--reason", "ref 7", stdin="bob@acme.es\n")
    assert refused.returncode == 1 and "nothing erased" in refused.stderr
    assert store.get_by_email("ana@acme.es") is not None
    erased = _cli(url, "person", "erase", "ana@acme.es", "--by", "dpo", "--reason", "ref 7", stdin="ana@acme.es\n")
    assert erased.returncode == 0, erased.stderr
    result = json.loads(erased.stdout)
    assert result["found"] and result["tracker_store"]["status"] == "not_configured"
    assert "LEADQUAL_RASA_TRACKER_STORE_URL (or LEADQUAL_TRACKER_DB_*) is not set" in result["tracker_store"]["note"]
    assert store.get_by_email("ana@acme.es") is None
    again = _cli(url, "person", "erase", "ana@acme.es", "--by", "dpo", "--reason", "ref 7", "--yes")
    assert again.returncode == 0 and json.loads(again.stdout)["found"] is False
    retention = _cli(url, "retention")
    assert retention.returncode == 0, retention.stderr
    assert set(json.loads(retention.stdout)) >= {"anonymous_events", "transcripts", "transcript_lines"}


def test_the_erasures_table_is_in_the_newest_revision(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 's.db'}")
    schema.upgrade(engine)
    columns = {c["name"] for c in inspect(engine).get_columns("consents")}
    assert {"flow_version", "language"} <= columns and inspect(engine).has_table("erasures")
    engine.dispose()


def test_odd_sender_ids_are_hashed_like_the_chat_stores_them():
    assert conversation_key(ODD_SENDER).startswith("h:")
    assert LeadMerge.__tablename__ == "lead_merges"


def test_the_tracker_store_url_from_the_production_endpoints_variables(monkeypatch):
    for name in ("LEADQUAL_RASA_TRACKER_STORE_URL", "LEADQUAL_TRACKER_DB_HOST", "LEADQUAL_TRACKER_DB_NAME"):
        monkeypatch.delenv(name, raising=False)
    assert privacy.tracker_store_url() is None
    monkeypatch.setenv("LEADQUAL_TRACKER_DB_HOST", "db.internal")
    monkeypatch.setenv("LEADQUAL_TRACKER_DB_PORT", "5433")
    monkeypatch.setenv("LEADQUAL_TRACKER_DB_NAME", "rasa")
    monkeypatch.setenv("LEADQUAL_TRACKER_DB_USER", "rasa")
    monkeypatch.setenv("LEADQUAL_TRACKER_DB_PASSWORD", "p@ss/word")
    assert privacy.tracker_store_url() == "postgresql+psycopg://rasa:p%40ss%2Fword@db.internal:5433/rasa"
    monkeypatch.setenv("LEADQUAL_RASA_TRACKER_STORE_URL", "sqlite:///tracker.db")
    assert privacy.tracker_store_url() == "sqlite:///tracker.db"
