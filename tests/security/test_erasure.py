"""Erasure leaves nothing that brings the person back (leadqual/leads/privacy.py, on SQLite and PostgreSQL):

- a late save of an erased conversation (the visitor types once more in a chat Rasa still holds)
  stores nothing and returns the marker; so does an older conversation giving the erased email; a
  conversation begun after the erasure (or restarted) is a new lead;
- each of the person's conversations is reset through Rasa's HTTP API, checked by a stand-in that
  answers like Rasa 3.6 (route, method, `?token=`, the events schema); not reachable, a refused
  token or a SQL store that keeps its rows: pending, and `bin/leads retention` retries;
- other leads' notes, transcripts, answers and packets lose the person's email, phones and name;
  the erasure's reason is stored masked;
- the handoff files lose the person's lines, replaced atomically (an append meanwhile is kept);
- each webhook destination that received the person gets a `lead.erase` message through the outbox,
  with lead ids and email hashes, never the email;
- log files are scrubbed in place, a running server's file handle undisturbed; .gz rewritten;
- the command line prints a receipt of every store touched (and JSON with --json).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import threading
import uuid
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import func, select

from leadqual.console.decisions import LeadNote
from leadqual.conversation import analytics
from leadqual.db.tables import Conversation, ErasedIdentity, Erasure, Lead, Message
from leadqual.delivery.outbox import (
    DELIVERED,
    DeliveryWorker,
    Destination,
    Destinations,
    OutboxMessage,
    enqueue,
    verify,
)
from leadqual.leads import privacy
from leadqual.leads.store import LeadStore
from leadqual.leads.transcripts import lines_from_events

from ..conftest import run_cli
from ..console_support import T0

T1 = T0 + timedelta(days=1)  # the erasure
ANA = "ana@acme.es"
ANA_PHONE = "+34 600 12 34 56"


def mentions_anas_phone(text: str) -> bool:
    """Her phone in any spelling the tests use; not a bare "600", which a random id can hold."""
    digits = "".join(ch for ch in text if ch.isdigit() or ch == " ")
    return any(form in digits for form in ("600 12 34 56", "600 123 456", "600123456"))


ODD = "ana's-widget/tab(2)"  # stored hashed ("h:..."); its raw form survives in the analytics
ODD_SPACES = "ana's tab 3"  # raw form known, but Rasa 3.6 does not decode "%20" in its route: unaddressable
ODD_LOST = "ana's other tab ✓"  # stored hashed, no analytics: its raw form is gone


# -- a stand-in for Rasa 3.6's HTTP API ---------------------------------------------------------

# rasa/shared/utils/schemas/events.py (3.6): the event names EVENTS_SCHEMA accepts.
RASA_EVENTS = {
    "user",
    "action",
    "slot",
    "entities",
    "user_featurization",
    "cancel_reminder",
    "reminder",
    "action_execution_rejected",
    "form_validation",
    "loop_interrupted",
    "form",
    "active_loop",
    "reset_slots",
    "resume",
    "pause",
    "followup",
    "export",
    "restart",
    "undo",
    "rewind",
    "bot",
    "session_started",
    "agent",
}
VERBOSITY = {"NONE", "APPLIED", "AFTER_RESTART", "ALL"}
TRACKER = re.compile(r"^/conversations/(?P<id>.+)/tracker(?P<events>/events)?$")


def rasa_event_problem(event) -> str | None:
    """Why Rasa 3.6's validate_events_in_request_body refuses this event (400), None if it takes it."""
    if not isinstance(event, dict) or not isinstance(event.get("event"), str):
        return "an event is an object with an 'event' string"
    if event["event"] not in RASA_EVENTS:
        return f"unknown event {event['event']!r}"
    timestamp = event.get("timestamp")
    if timestamp is not None and (isinstance(timestamp, bool) or not isinstance(timestamp, int | float)):
        return "timestamp must be a number"
    if event.get("metadata") is not None and not isinstance(event["metadata"], dict):
        return "metadata must be an object"
    if event["event"] == "slot" and not ({"name", "value"} <= set(event) and isinstance(event["name"], str)):
        return "a slot event needs name and value"
    if event["event"] == "entities" and not isinstance(event.get("entities"), list):
        return "an entities event needs entities"
    return None


class Rasa36:
    """Rasa 3.6 run with `--enable-api --auth-token`: `GET /conversations/<id>/tracker`
    (include_events) and `PUT /conversations/<id>/tracker/events` (replace the events), behind
    `?token=`; other routes 404, other methods 405, bad bodies 400, as Rasa answers them.

    `keeps_rows`: Rasa with a SQL tracker store, whose save only appends the events beyond those
    stored since the last session start: a replace leaves the old rows in place."""

    TOKEN = "rasa-" + uuid.uuid4().hex

    def __init__(self, keeps_rows: bool = False) -> None:
        self.trackers: dict[str, list[dict]] = {}
        self.calls: list[dict] = []
        self.keeps_rows = keeps_rows
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args):
                pass

            def _reply(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _failure(self, status: int, reason: str, message: str) -> None:
                self._reply(status, {"version": "3.6.21", "status": "failure", "reason": reason, "message": message})

            def _handle(self, method: str) -> None:
                url = urlparse(self.path)
                query = {k: v[-1] for k, v in parse_qs(url.query).items()}
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                route = TRACKER.match(url.path)
                fake.calls.append({"method": method, "path": url.path, "query": query, "body": body})
                if route is None:
                    return self._failure(404, "NotFound", f"Requested URL {url.path} not found")
                allowed = ("POST", "PUT") if route["events"] else ("GET",)
                if method not in allowed:
                    return self._failure(405, "MethodNotAllowed", f"Method {method} not allowed for URL {url.path}")
                if query.get("token") != Rasa36.TOKEN:
                    return self._failure(401, "NotAuthenticated", "User is not authenticated.")
                sender = route["id"]  # Sanic does not decode percent-escapes in <conversation_id:path>
                if method == "GET":
                    verbosity = query.get("include_events", "AFTER_RESTART").upper()
                    if verbosity not in VERBOSITY:
                        return self._failure(400, "BadRequest", "Invalid parameter value for 'include_events'.")
                    return self._reply(200, fake.state(sender, verbosity))
                try:
                    events = json.loads(body)
                except ValueError:
                    return self._failure(400, "BadRequest", "Failed when parsing body as json")
                for event in events if isinstance(events, list) else [events]:
                    problem = rasa_event_problem(event)
                    if problem:
                        return self._failure(400, "BadRequest", f"Failed to validate the events format. {problem}")
                if not isinstance(events, list):  # DialogueStateTracker.from_dict iterates a list
                    return self._failure(500, "ConversationError", "An unexpected error occurred.")
                fake.save(sender, events, replace=method == "PUT")
                return self._reply(200, fake.state(sender, "AFTER_RESTART", start_session=False))

            def do_GET(self):
                self._handle("GET")

            def do_PUT(self):
                self._handle("PUT")

            def do_POST(self):
                self._handle("POST")

            def do_DELETE(self):
                self._handle("DELETE")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def save(self, sender: str, events: list[dict], replace: bool) -> None:
        events = [{**e, "timestamp": e.get("timestamp") or T1.timestamp() + 5} for e in events]
        stored = self.trackers.get(sender, [])
        if not replace:
            self.trackers[sender] = stored + events
        elif self.keeps_rows:  # SQLTrackerStore.save: only the events past those stored
            starts = [i for i, e in enumerate(stored) if e["event"] == "session_started"]
            since = len(stored) - (starts[-1] if starts else 0)
            self.trackers[sender] = stored + events[since:]
        else:  # InMemoryTrackerStore.save: the tracker is replaced
            self.trackers[sender] = events

    def state(self, sender: str, verbosity: str, start_session: bool = True) -> dict:
        events = self.trackers.get(sender, [])
        restarts = [i for i, e in enumerate(events) if e["event"] == "restart"]
        applied = events[restarts[-1] + 1 :] if restarts else events
        if start_session and not applied:  # fetch_full_tracker_with_initial_session
            events = self.trackers[sender] = events + [
                {"event": "action", "name": "action_session_start", "timestamp": T1.timestamp() + 6},
                {"event": "session_started", "timestamp": T1.timestamp() + 6},
                {"event": "action", "name": "action_listen", "timestamp": T1.timestamp() + 6},
            ]
            restarts = [i for i, e in enumerate(events) if e["event"] == "restart"]
        shown = {"ALL": events, "AFTER_RESTART": events[restarts[-1] + 1 :] if restarts else events}
        return {"sender_id": sender, "slots": {}, "latest_message": {}, "events": shown.get(verbosity, [])}

    def visitor_says(self, sender: str, text: str, at) -> None:
        self.trackers.setdefault(sender, []).append({"event": "user", "text": text, "timestamp": at.timestamp()})

    def bot_says(self, sender: str, text: str, at) -> None:
        self.trackers.setdefault(sender, []).append({"event": "bot", "text": text, "timestamp": at.timestamp()})

    def lines(self, sender: str) -> list[dict]:
        return [e for e in self.trackers.get(sender, []) if e["event"] in ("user", "bot")]

    def replaces(self) -> list[dict]:
        return [c for c in self.calls if c["method"] == "PUT"]


@pytest.fixture
def rasa():
    fake = Rasa36()
    yield fake
    fake.server.shutdown()


def test_the_stand_in_answers_like_rasa(rasa):
    """The stand-in refuses what Rasa 3.6 refuses, so the reset is tested against the real rules."""
    import requests

    url = f"{rasa.url}/conversations/c-1/tracker/events"
    token = {"token": Rasa36.TOKEN}
    assert requests.put(url, json=[{"event": "restart"}], timeout=5).status_code == 401
    assert requests.put(url, params={"token": "wrong"}, json=[{"event": "restart"}], timeout=5).status_code == 401
    assert requests.post(url.replace("/events", ""), params=token, json=[], timeout=5).status_code == 405
    assert requests.delete(url, params=token, timeout=5).status_code == 405
    assert requests.put(f"{rasa.url}/conversations/c-1/events", params=token, json=[], timeout=5).status_code == 404
    assert requests.put(url, params=token, json=[{"event": "reset"}], timeout=5).status_code == 400
    assert requests.put(url, params=token, json=[{"name": "restart"}], timeout=5).status_code == 400
    assert requests.put(url, params=token, json=[{"event": "slot", "name": "x"}], timeout=5).status_code == 400
    assert requests.put(url, params=token, json={"event": "restart"}, timeout=5).status_code == 500
    assert requests.put(url, params=token, json=[{"event": "restart"}], timeout=5).status_code == 200
    tracker = url.replace("/events", "")
    assert requests.get(tracker, params={**token, "include_events": "EVERYTHING"}, timeout=5).status_code == 400
    assert requests.get(tracker, params=token, timeout=5).json()["sender_id"] == "c-1"
    escaped = f"{rasa.url}/conversations/a%20b/tracker/events"
    assert requests.put(escaped, params=token, json=[{"event": "restart"}], timeout=5).json()["sender_id"] == "a%20b"


# -- the person, and someone who mentions them -------------------------------------------------


def lines(*texts_and_offsets: tuple[str, str, int]) -> list[dict]:
    """Transcript lines (as lines_from_events gives them): (sender, text, minutes after T0)."""
    return [{"at": T0 + timedelta(minutes=m), "sender": s, "text": t} for s, t, m in texts_and_offsets]


ANA_ANSWERS = {
    "need": {"value": "lead_generation", "text": "captar leads", "source": "text"},
    "budget": {"min": 20000, "max": 20000, "currency": "EUR", "period": "year", "text": "20.000 € al año"},
    "name": {"value": "Ana García", "text": "Ana García", "source": "text"},
    "email": {"address": ANA, "text": ANA, "source": "text"},
}
ANA_LINES = lines(
    ("visitor", "hola, quiero una demo", 0),
    ("bot", "¿Qué presupuesto tenéis?", 1),
    ("visitor", "20.000 € al año", 2),
    ("visitor", f"soy Ana García, {ANA}, llámame al {ANA_PHONE}", 3),
)


def seed(store: LeadStore) -> dict:
    """ana (a conversation, one with an odd sender id and analytics, one odd without), and bob,
    whose note, transcript, answers and CRM packet mention ana by email, phone and name."""
    ana = store.save_conversation("conv-ana", ANA_ANSWERS, "es", now=T0, transcript=ANA_LINES)
    store.save_conversation(ODD, {"email": ANA_ANSWERS["email"]}, "es", now=T0, transcript=ANA_LINES[:1])
    analytics.record(store.engine, ODD, 1, "es", "budget", "asked", at=T0)
    store.save_conversation(ODD_SPACES, {"email": ANA_ANSWERS["email"]}, "es", now=T0, transcript=ANA_LINES[:1])
    analytics.record(store.engine, ODD_SPACES, 1, "es", "budget", "asked", at=T0)
    store.save_conversation(ODD_LOST, {"email": ANA_ANSWERS["email"]}, "es", now=T0, transcript=ANA_LINES[:1])
    bob_answers = {
        "authority": {"level": "influencer", "text": "decide mi jefa, Ana García (ANA@acme.es)", "source": "text"},
        "email": {"address": "bob@acme.es", "text": "bob@acme.es", "source": "text"},
        "name": {"value": "Bob", "text": "Bob", "source": "text"},
    }
    bob_lines = lines(
        ("visitor", "mi jefa es ana@acme.es, móvil 600 123 456", 10),
        ("visitor", "Ana decide en marzo", 11),  # her first name alone, no email or phone: stays
    )
    bob = store.save_conversation("conv-bob", bob_answers, "es", now=T0, transcript=bob_lines)
    with store.sessions.begin() as session:
        session.add(LeadNote(lead_id=bob["id"], kind="note", author="lucia", text=f"llamar a Ana García: {ANA}", at=T0))
        session.add(LeadNote(lead_id=bob["id"], kind="note", author="lucia", text="presupuesto aprobado", at=T0))
        packet = {"lead_id": bob["id"], "transcripts": [{"messages": [{"text": f"mi jefa es {ANA}"}]}]}
        enqueue(session, "crm", packet, lead_id=bob["id"], key="crm-bob-1", now=T0)
    return {"ana": ana["id"], "bob": bob["id"]}


def erase(store: LeadStore, tmp_path, **kwargs) -> dict:
    kwargs.setdefault("tracker_url", "")
    kwargs.setdefault("rasa", None)
    kwargs.setdefault("destinations", Destinations.from_env({}, handoff_dir=tmp_path))
    kwargs.setdefault("log_paths", [])
    kwargs.setdefault("reason", "art. 17 request #12")
    return privacy.erase_person(store, ANA, by="dpo@nubilo.es", now=T1, **kwargs)


def counts(store: LeadStore, *models) -> list[int]:
    with store.sessions() as session:
        return [session.scalar(select(func.count()).select_from(m)) for m in models]


# -- 1. nothing comes back ---------------------------------------------------------------------


def test_a_late_save_of_an_erased_conversation_stores_nothing_and_says_so(store, tmp_path):
    seed(store)
    erase(store, tmp_path)
    before = counts(store, Lead, Conversation, Message)
    assert store.is_erased("conv-ana") == T1 and store.is_erased(email="ANA@acme.es") == T1
    assert store.is_erased("conv-bob") is None and store.is_erased(email="bob@acme.es") is None

    # The visitor types once more in the chat Rasa still holds: the whole old state comes with it.
    late = ANA_LINES + [{"at": T1 + timedelta(minutes=5), "sender": "visitor", "text": "¿sigues ahí?"}]
    marker = store.save_conversation("conv-ana", ANA_ANSWERS, "es", now=T1 + timedelta(minutes=5), transcript=late)
    assert marker == {
        "erased": True,
        "conversation_id": "conv-ana",
        "because": "conversation",
        "erased_at": marker["erased_at"],
    }
    assert marker["erased_at"].startswith(T1.isoformat()[:19])
    # A retry of a failed save (the spool, lead_save_pending) carries no transcript: refused too.
    assert store.save_conversation("conv-ana", ANA_ANSWERS, "es", now=T1)["erased"] is True
    assert store.save_conversation(ODD, ANA_ANSWERS, "es", now=T1, transcript=late)["erased"] is True
    # The SDR console's copy of a live chat from Rasa (takeover sync) brings no old line back either.
    assert store.save_transcript("conv-ana", ANA_LINES) == 0
    # Another conversation of hers that began before the erasure (another tab) and gives her email.
    other = store.save_conversation("conv-tab", ANA_ANSWERS, "es", now=T1, transcript=ANA_LINES[:2])
    assert other["erased"] is True and other["because"] == "email"
    assert counts(store, Lead, Conversation, Message) == before
    assert store.get_by_email(ANA) is None

    # A conversation begun after the erasure: a new lead, consent asked again, nothing old in it.
    fresh = lines(("visitor", "hola de nuevo", 60 * 24 + 30))
    new = store.save_conversation("conv-new", {"email": ANA_ANSWERS["email"]}, "es", now=T1, transcript=fresh)
    assert new["email"] == ANA and new["marketing_consent"] is None
    assert new["bant"]["budget"]["text"] is None and new["name"] is None
    # The erased conversation restarted by the chat (Rasa's `restart` event): only what follows counts.
    events = [{"event": "user", "text": line["text"], "timestamp": line["at"].timestamp()} for line in ANA_LINES]
    events += [{"event": "restart", "timestamp": T1.timestamp() + 60}]
    events += [{"event": "user", "text": "empiezo otra vez", "timestamp": T1.timestamp() + 120}]
    restarted = lines_from_events(events)
    assert [line["text"] for line in restarted] == ["empiezo otra vez"]
    again = store.save_conversation("conv-ana", {"need": ANA_ANSWERS["need"]}, "es", now=T1, transcript=restarted)
    assert "erased" not in again and again["id"] != new["id"]
    with store.sessions() as session:
        texts = list(session.scalars(select(Message.text).where(Message.conversation_id == "conv-ana")))
    assert texts == ["empiezo otra vez"]


# -- 2. Rasa's copy ------------------------------------------------------------------------------


def rasa_holds_ana(rasa: Rasa36) -> None:
    for sender in ("conv-ana", ODD, ODD_SPACES, ODD_LOST):
        rasa.visitor_says(sender, f"soy Ana, {ANA}", T0)
        rasa.bot_says(sender, "¡Gracias, Ana!", T0 + timedelta(seconds=2))
    rasa.visitor_says("conv-bob", "mi jefa es ana@acme.es", T0)


def test_erasure_resets_each_conversation_through_rasas_http_api(store, tmp_path, rasa):
    seed(store)
    rasa_holds_ana(rasa)
    result = erase(store, tmp_path, rasa=privacy.RasaConversations(rasa.url, Rasa36.TOKEN, timeout=5))
    assert result["rasa"]["status"] == "reset" and result["rasa"]["reset"] == 2
    assert result["rasa"]["pending"] == 0 and result["rasa"]["unaddressable"] == 2  # ODD_SPACES, ODD_LOST
    replaced = {c["path"] for c in rasa.replaces()}
    assert replaced == {"/conversations/conv-ana/tracker/events", f"/conversations/{ODD}/tracker/events"}
    for call in rasa.replaces():
        assert call["query"] == {"token": Rasa36.TOKEN} and json.loads(call["body"]) == [{"event": "restart"}]
    checks = [c for c in rasa.calls if c["method"] == "GET"]
    assert len(checks) == 2 and all(c["query"]["include_events"] == "ALL" for c in checks)
    assert rasa.lines("conv-ana") == [] and rasa.lines(ODD) == []
    assert rasa.lines("conv-bob") and rasa.lines(ODD_LOST)  # bob untouched; ODD_LOST only refused
    assert not [c for c in rasa.calls if "tab%203" in c["path"] or "tab 3" in c["path"]]  # never a wrong tracker
    with store.sessions() as session:
        rows = session.scalars(select(ErasedIdentity).where(ErasedIdentity.kind == "conversation")).all()
        assert sorted(r.rasa_reset for r in rows) == ["reset", "reset", "unaddressable", "unaddressable"]
        assert all(r.pending_sender_id is None for r in rows)
        assert session.get(Erasure, result["erasure_id"]).counts["rasa_conversations_reset"] == 2

    # The visitor comes back to the emptied conversation: a fresh start, allowed, nothing old in it.
    rasa.visitor_says("conv-ana", "hola, ¿qué tal?", T1 + timedelta(hours=1))
    transcript = lines_from_events(rasa.trackers["conv-ana"])
    assert [line["text"] for line in transcript] == ["hola, ¿qué tal?"]
    lead = store.save_conversation("conv-ana", {}, "es", now=T1 + timedelta(hours=1), transcript=transcript)
    assert "erased" not in lead and lead["email"] is None and lead["bant"]["budget"]["text"] is None


def test_a_reset_that_could_not_be_done_waits_and_retention_retries_it(store, tmp_path, rasa):
    seed(store)
    rasa_holds_ana(rasa)
    refused = erase(store, tmp_path, rasa=privacy.RasaConversations(rasa.url, "wrong-token", timeout=5))
    assert refused["rasa"]["status"] == "pending" and refused["rasa"]["pending"] == 2
    assert "token" in refused["rasa"]["error"] and rasa.lines("conv-ana")
    with store.sessions() as session:
        waiting = session.scalars(select(ErasedIdentity).where(ErasedIdentity.rasa_reset == "pending")).all()
        assert sorted(r.pending_sender_id for r in waiting) == sorted(["conv-ana", ODD])
    # Not configured at all (no RASA_URL / RASA_AUTH_TOKEN): still pending, nothing sent.
    assert privacy.retry_rasa_resets(store, rasa=None) == {"done": 0, "failed": 2}
    # A Rasa on a SQL tracker store keeps its rows on a replace: the read-back sees it, still pending.
    sql_rasa = Rasa36(keeps_rows=True)
    try:
        rasa_holds_ana(sql_rasa)
        assert privacy.retry_rasa_resets(store, privacy.RasaConversations(sql_rasa.url, Rasa36.TOKEN)) == {
            "done": 0,
            "failed": 2,
        }
        assert sql_rasa.lines("conv-ana")
    finally:
        sql_rasa.server.shutdown()
    # `bin/leads retention`, daily, with the right token this time.
    figures = privacy.apply_retention(
        store, now=T1, tracker_url="", rasa=privacy.RasaConversations(rasa.url, Rasa36.TOKEN, timeout=5)
    )
    assert figures["rasa_resets_retried"] == 2 and figures["rasa_resets_pending"] == 0
    assert rasa.lines("conv-ana") == [] and rasa.lines(ODD) == []
    with store.sessions() as session:
        assert session.scalar(select(func.count()).where(ErasedIdentity.pending_sender_id.is_not(None))) == 0


# -- 3. other leads' free text -------------------------------------------------------------------


def test_other_leads_notes_transcripts_answers_and_packets_are_scrubbed(store, tmp_path):
    ids = seed(store)
    result = erase(store, tmp_path, reason=f"Llamada de {ANA} desde {ANA_PHONE}; copia a legal@nubilo.es, ref 12")
    assert result["scrubbed"] == {"lead_notes": 1, "leads": 1, "messages": 1, "outbox_messages": 1}
    bob = store.get(ids["bob"])
    assert bob["bant"]["authority"]["text"] == "decide mi jefa, [erased] ([erased])"
    texts = [m["text"] for t in bob["transcripts"] for m in t["messages"]]
    assert texts == ["mi jefa es [erased], móvil [erased]", "Ana decide en marzo"]
    with store.sessions() as session:
        notes = sorted(session.scalars(select(LeadNote.text).where(LeadNote.lead_id == ids["bob"])))
        packet = session.scalars(select(OutboxMessage).where(OutboxMessage.key == "crm-bob-1")).one().payload
        erasure = session.get(Erasure, result["erasure_id"])
    assert notes == ["llamar a [erased]: [erased]", "presupuesto aprobado"]
    assert packet["transcripts"][0]["messages"][0]["text"] == "mi jefa es [erased]"
    # The reason: her email erased, any other email and every phone number masked.
    assert erasure.reason == "Llamada de [erased] desde [phone]; copia a [email], ref 12"
    assert erasure.counts["rows_scrubbed"] == 4
    everything = json.dumps(privacy.export_person(store, "bob@acme.es"), ensure_ascii=False)
    assert "ana@" not in everything.lower() and not mentions_anas_phone(everything) and "García" not in everything


# -- 4. the handoff files --------------------------------------------------------------------------


def test_the_handoff_files_lose_the_persons_lines_atomically(store, tmp_path):
    ids = seed(store)
    destinations = Destinations.from_env({}, handoff_dir=tmp_path)
    with store.sessions.begin() as session:
        enqueue(session, "crm", {"lead_id": ids["ana"], "contact": {"email": ANA}}, lead_id=ids["ana"], now=T0)
        enqueue(session, "nurture", {"lead_id": ids["ana"], "contact": {"email": ANA}}, lead_id=ids["ana"], now=T0)
        enqueue(session, "live", {"conversation_id": "conv-ana", "contact": {}}, now=T0)  # no lead id yet
        enqueue(session, "crm", {"lead_id": "carol", "contact": {"email": "carol@x.es"}}, lead_id="carol", now=T0)
    worker = DeliveryWorker(store, destinations)
    assert worker.run_once(now=T0)["delivered"] == 5  # bob's packet (mentions ana), ana's three, carol's
    crm = tmp_path / "handoff-crm.jsonl"
    carol = [line for line in crm.read_bytes().splitlines(keepends=True) if b"carol@x.es" in line]
    inode = crm.stat().st_ino
    os.chmod(crm, 0o600)

    result = erase(store, tmp_path, destinations=destinations)
    files = {os.path.basename(f["path"]): (f["removed"], f["rewritten"]) for f in result["destinations"]["files"]}
    assert files == {"handoff-crm.jsonl": (1, 1), "handoff-nurture.jsonl": (1, 0), "handoff-live.jsonl": (1, 0)}
    assert {m["destination"]: m["how"] for m in result["destinations"]["messaged"]} == {
        "crm": "file",
        "nurture": "file",
        "live": "file",
    }
    text = crm.read_text()
    assert ANA not in text and ids["ana"] not in text and "conv-ana" not in text
    entries = [json.loads(line) for line in text.splitlines()]
    assert [e["lead_id"] for e in entries] == [ids["bob"], "carol"]
    assert entries[0]["data"]["transcripts"][0]["messages"][0]["text"] == "mi jefa es [erased]"
    assert [line for line in crm.read_bytes().splitlines(keepends=True) if b"carol" in line] == carol  # untouched
    assert crm.stat().st_ino != inode and (crm.stat().st_mode & 0o777) == 0o600  # replaced, still private
    assert (tmp_path / "handoff-nurture.jsonl").read_text() == ""
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]


def test_a_line_appended_during_the_rewrite_is_kept(tmp_path):
    path = tmp_path / "handoff-crm.jsonl"
    path.write_text('{"lead_id":"ana","data":{}}\n{"lead_id":"bob","data":{}}\n')
    appended = []

    def edit(line: bytes) -> bytes | None:
        if not appended:  # the outbox worker of a running action server delivers meanwhile
            with open(path, "ab") as out:
                out.write(b'{"lead_id":"carol","data":{}}\n{"lead_id":"ana","data":{"late":true}}\n')
            appended.append(True)
        return None if b'"ana"' in line else line

    assert privacy._rewrite_lines(path, edit) is True
    assert [json.loads(line)["lead_id"] for line in path.read_text().splitlines()] == ["bob", "carol"]


# -- 5. the destinations: an erase message through the outbox -----------------------------------


class Receiver:
    """A CRM's webhook: records what it is sent."""

    def __init__(self) -> None:
        self.received: list[tuple[dict, bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["content-length"]))
                receiver.received.append((dict(self.headers), body))
                self.send_response(204)
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/leads"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def test_each_destination_that_received_the_person_gets_an_erase_message(store, tmp_path):
    ids = seed(store)
    crm = Receiver()
    try:
        destinations = Destinations(
            {
                "crm": Destination("crm", url=crm.url, secret="whsec_" + "c2VjcmV0LXNlY3JldA=="),
                "nurture": Destination("nurture", url=crm.url + "/nurture"),
                "live": Destination("live", path=tmp_path / "handoff-live.jsonl"),
            }
        )
        with store.sessions.begin() as session:
            enqueue(session, "crm", {"lead_id": ids["ana"], "contact": {"email": ANA}}, lead_id=ids["ana"], now=T0)
            pending = enqueue(session, "nurture", {"contact": {"email": ANA}}, lead_id=ids["ana"], now=T0)
            pending.next_attempt_at = T1 + timedelta(days=9)  # never sent: nothing to take back
            enqueue(session, "live", {"conversation_id": "conv-ana"}, lead_id=ids["ana"], now=T0)
        worker = DeliveryWorker(store, destinations)
        worker.run_once(now=T0)
        assert len(crm.received) == 2  # ana's packet and bob's
        crm.received.clear()

        result = erase(store, tmp_path, destinations=destinations)
        assert {m["destination"]: m["how"] for m in result["destinations"]["messaged"]} == {
            "crm": "outbox",
            "live": "file",
        }
        with store.sessions() as session:
            message = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "erase")).one()
            assert (message.destination, message.lead_id, message.status) == ("crm", ids["ana"], "pending")
            assert message.next_attempt_at.replace(tzinfo=T1.tzinfo) == T1 + timedelta(seconds=60)
            stored = json.dumps(message.payload)
        assert "@" not in stored and "ana" not in stored.lower().replace(ids["ana"], "")
        assert message.payload["email_sha256"] == [hashlib.sha256(ANA.encode()).hexdigest()]
        assert message.payload["lead_id"] == ids["ana"]

        assert worker.run_once(now=T1)["claimed"] == 0  # deliveries in flight land first
        assert worker.run_once(now=T1 + timedelta(seconds=61))["delivered"] == 1
        [(headers, body)] = crm.received
        verify("whsec_" + "c2VjcmV0LXNlY3JldA==", headers, body, now=float(headers["webhook-timestamp"]))
        envelope = json.loads(body)
        assert envelope["type"] == "lead.erase" and envelope["lead_id"] == ids["ana"]
        assert envelope["data"]["email_sha256"] == [hashlib.sha256(ANA.encode()).hexdigest()]
        assert b"ana@" not in body.lower() and not mentions_anas_phone(body.decode())
        with store.sessions() as session:
            assert session.get(OutboxMessage, message.id).status == DELIVERED
    finally:
        crm.server.shutdown()


# -- 6. logs -----------------------------------------------------------------------------------


def test_log_files_are_scrubbed_in_place_under_a_running_server(store, tmp_path):
    seed(store)
    rasa_log = tmp_path / "rasa.log"
    rasa_log.write_bytes(
        b"2026-07-01 09:00:01 INFO  rasa.core - started\n"
        + f"2026-07-01 09:00:02 DEBUG rasa.core.processor - Received user message 'soy {ANA}' \n".encode()
        + b"2026-07-01 09:00:03 DEBUG rasa - GET /x?email=ANA%40ACME.ES HTTP/1.1\n"
        + f"2026-07-01 09:00:04 DEBUG rasa - 'llámame al {ANA_PHONE}' y bob@acme.es\n".encode()
        + b"2026-07-01 09:00:05 INFO  rasa.core - 1795468844.71 ok\n"
    )
    # Rasa as bin/run starts it: `... > var/rasa.log`, writing at its own offset (no O_APPEND).
    writer = os.open(rasa_log, os.O_WRONLY)
    os.lseek(writer, 0, os.SEEK_END)
    size, inode = rasa_log.stat().st_size, rasa_log.stat().st_ino
    (tmp_path / "actions.log").write_text("INFO nothing personal here\n")
    with gzip.open(tmp_path / "rasa.log.2.gz", "wb") as old:
        old.write(f"older: {ANA}\nbob only\n".encode())
    (tmp_path / "rasa.log.3.xz").write_bytes(b"\xfd7zXZ")
    try:
        result = erase(store, tmp_path, log_paths=privacy.log_files(tmp_path))
        os.write(writer, b"2026-07-02 10:00:00 INFO  rasa.core - still writing\n")
    finally:
        os.close(writer)
    data = rasa_log.read_bytes()
    assert rasa_log.stat().st_ino == inode and b"\x00" not in data
    assert len(data) == size + len(b"2026-07-02 10:00:00 INFO  rasa.core - still writing\n")
    assert b"ana@" not in data.lower() and b"ana%40" not in data.lower() and b"600 12 34 56" not in data
    assert b"bob@acme.es" in data and b"1795468844.71 ok" in data and data.endswith(b"still writing\n")
    assert b"Received user message 'soy [erased]***'" in data
    assert gzip.open(tmp_path / "rasa.log.2.gz").read() == b"older: [erased]***\nbob only\n"
    scrubbed = {os.path.basename(f["path"]): f["lines"] for f in result["logs"]["files"]}
    assert scrubbed == {"rasa.log": 3, "rasa.log.2.gz": 1}
    assert [os.path.basename(s["path"]) for s in result["logs"]["skipped"]] == ["rasa.log.3.xz"]


# -- 7. the receipt, from the command line ---------------------------------------------------------


def test_the_command_line_prints_a_receipt_of_every_store_touched(store, tmp_path, rasa):
    ids = seed(store)
    rasa_holds_ana(rasa)
    with store.sessions.begin() as session:
        enqueue(session, "crm", {"lead_id": ids["ana"], "contact": {"email": ANA}}, lead_id=ids["ana"], now=T0)
    DeliveryWorker(store, Destinations.from_env({}, handoff_dir=tmp_path)).run_once(now=T0)
    (tmp_path / "rasa.log").write_text(f"DEBUG Received user message '{ANA}'\n")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("LEADQUAL_", "RASA_"))},
        "LEADQUAL_RASA_TRACKER_STORE_URL": "",
        "LEADQUAL_HANDOFF_DIR": str(tmp_path),
        "LEADQUAL_LOG_DIR": str(tmp_path),
        "LEADQUAL_SPOOL": str(tmp_path / "spool.jsonl"),
        "LEADQUAL_RASA_URL": rasa.url,
        "RASA_AUTH_TOKEN": Rasa36.TOKEN,
    }
    command = ["--database-url", store.url, "person", "erase", ANA]
    command += ["--by", "dpo@nubilo.es", "--reason", "ref 12", "--yes"]
    done = run_cli(*command, "--text", env=env)
    assert done.returncode == 0, done.stderr
    receipt = done.stdout
    erasure_id = store_erasure_id(store)
    for expected in (
        f"Erasure {erasure_id}: person found",
        "Product database, rows deleted: ",
        "conversations 4",
        "leads 1",
        "messages 7",
        "Rasa SQL tracker store: not_configured",
        "Rasa conversations (HTTP API): 2 conversations reset, 0 pending, 2 not addressable",
        "Refused from now on: 4 conversations, 1 emails (as hashes)",
        "Other leads' free text scrubbed, rows: lead_notes 1, leads 1, messages 1, outbox_messages 1",
        "Destinations sent an erase message: none; crm: file",
        f"Handoff files rewritten: {tmp_path / 'handoff-crm.jsonl'} (1 lines removed, 1 rewritten)",
        f"Log lines scrubbed: {tmp_path / 'rasa.log'} (1 lines)",
        "Spooled saves dropped (this host): 0",
    ):
        assert expected in receipt, (expected, receipt)
    assert ANA not in receipt and ANA not in (tmp_path / "rasa.log").read_text()
    assert rasa.lines("conv-ana") == []
    # For machines: the same receipt as JSON (also the default into a pipe, as before).
    again = run_cli(*command, "--json", env=env)
    document = json.loads(again.stdout)
    assert document["found"] is False and document["refused"]["emails"] == 1
    assert set(document) >= {"counts", "tracker_store", "rasa", "refused", "scrubbed", "destinations", "logs"}
    piped = run_cli(*command, env=env)
    assert json.loads(piped.stdout)["found"] is False


def store_erasure_id(store: LeadStore) -> str:
    with store.sessions() as session:
        return session.scalars(select(Erasure.id).order_by(Erasure.at)).first()
