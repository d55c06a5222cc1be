"""Transcripts, requests for a person, SDR takeover and hand-back, consent and nurturing; on
SQLite and PostgreSQL, with a real HTTP server standing in for Rasa's HTTP API."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlparse

import pytest
from sqlalchemy import select

from leadqual.db.tables import Consent, LiveChat, Message
from leadqual.delivery.outbox import OutboxMessage
from leadqual.leads.takeover import LiveChats, RasaAPI, TakeoverError
from leadqual.leads.transcripts import MAX_TEXT, lines_from_events

TUESDAY_10 = datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc)  # 10:00 in Madrid: business hours
SUNDAY = datetime(2026, 11, 29, 9, 0, tzinfo=timezone.utc)
T0 = TUESDAY_10.timestamp()
HOT = {
    "need": {"value": "crm", "text": "gestionar a los comerciales"},
    "timing": {"months": 0},
    "budget": {"min": 10000, "currency": "EUR", "period": "year"},
    "authority": {"level": "decision_maker"},
    "name": {"value": "Ana García"},
    "email": {"address": "ana@acme.example"},
}
STUDENT = {
    "need": {"value": "crm"},
    "timing": {"no_rush": True},
    "budget": {"none": True},
    "authority": {"level": "none"},
    "name": {"value": "Tom"},
    "email": {"address": "tom@uni.example"},
}


# -- a stand-in for Rasa's HTTP API -------------------------------------------------------


class FakeRasa:
    """Keeps one tracker per conversation; `append` calls are recorded with their query."""

    TOKEN = "secret-token"

    def __init__(self) -> None:
        self.trackers: dict[str, list[dict]] = {}
        self.calls: list[dict] = []
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

            def _route(self) -> tuple[str, dict] | None:
                url = urlparse(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                if query.get("token") != FakeRasa.TOKEN:
                    self._reply(401, {"message": "bad token"})
                    return None
                parts = url.path.split("/")  # "", conversations, <id>, tracker[, events]
                return unquote(parts[2]), query | {"events": parts[-1] == "events"}

            def do_GET(self):
                routed = self._route()
                if routed:
                    conversation, _ = routed
                    self._reply(200, {"sender_id": conversation, "events": fake.trackers.get(conversation, [])})

            def do_POST(self):
                routed = self._route()
                if routed:
                    conversation, query = routed
                    events = json.loads(self.rfile.read(int(self.headers["content-length"])))
                    fake.calls.append({"conversation": conversation, "query": query, "events": events})
                    now = max([e.get("timestamp", 0) for e in fake.trackers.get(conversation, [])] + [T0]) + 1
                    for i, event in enumerate(events):
                        fake.trackers.setdefault(conversation, []).append({**event, "timestamp": now + i})
                    self._reply(200, {"sender_id": conversation})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def visitor_says(self, conversation: str, text: str, at: float) -> None:
        self.trackers.setdefault(conversation, []).append({"event": "user", "text": text, "timestamp": at})

    def paused(self, conversation: str) -> bool:
        state = False
        for event in self.trackers.get(conversation, []):
            state = {"pause": True, "resume": False}.get(event["event"], state)
        return state


@pytest.fixture
def rasa():
    fake = FakeRasa()
    yield fake
    fake.server.shutdown()


@pytest.fixture
def chats(store, rasa):
    return LiveChats(store, RasaAPI(rasa.url, FakeRasa.TOKEN, timeout=5))


def outbox_of(store, kind: str) -> list[OutboxMessage]:
    with store.sessions() as session:
        return list(session.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)))


# -- transcripts --------------------------------------------------------------------------


def test_transcript_lines_show_clicks_as_the_button_title_and_sdr_lines_as_the_sdr():
    events = [
        {"event": "action", "name": "action_listen", "timestamp": T0},
        {
            "event": "bot",
            "text": "¿Para cuándo?",
            "timestamp": T0 + 1,
            "data": {"buttons": [{"title": "Menos de 3 meses", "payload": '/inform{"option": "soon"}'}]},
        },
        {"event": "user", "text": '/inform{"option": "soon"}', "timestamp": T0 + 2},
        {"event": "slot", "name": "timing", "value": {"months": 2}, "timestamp": T0 + 3},
        {"event": "user", "text": "<script>alert(1)</script>" + "x" * MAX_TEXT, "timestamp": T0 + 4},
        {"event": "bot", "text": "Hola, soy Lucía", "metadata": {"sdr": "lucia"}, "timestamp": T0 + 5},
        {"event": "bot", "text": "", "timestamp": T0 + 6},
    ]
    lines = lines_from_events(events)
    assert [(line["sender"], line["author"], line["text"][:30]) for line in lines] == [
        ("bot", None, "¿Para cuándo?"),
        ("visitor", None, "Menos de 3 meses"),
        ("visitor", None, "<script>alert(1)</script>xxxxx"),
        ("sdr", "lucia", "Hola, soy Lucía"),
    ]
    assert lines[0]["data"] == {"buttons": ["Menos de 3 meses"]}
    assert lines[1]["data"] == {"payload": '/inform{"option": "soon"}'}
    assert len(lines[2]["text"]) == MAX_TEXT  # kept as typed (escaped when shown), but bounded
    assert lines[0]["at"] == TUESDAY_10 + timedelta(seconds=1)


def test_copying_the_tracker_again_stores_each_line_once(store):
    store.save_conversation("chat-1", HOT, "es", None, TUESDAY_10)
    events = [
        {"event": "bot", "text": "¿Qué necesitas?", "timestamp": T0},
        {"event": "user", "text": "un CRM", "timestamp": T0 + 1},
    ]
    assert store.save_transcript("chat-1", lines_from_events(events)) == 2
    assert store.save_transcript("chat-1", lines_from_events(events)) == 0
    events.append({"event": "bot", "text": "¡Genial!", "timestamp": T0 + 2})
    assert store.save_transcript("chat-1", lines_from_events(events)) == 1
    (transcript,) = store.get_by_email("ana@acme.example")["transcripts"]
    assert [m["text"] for m in transcript["messages"]] == ["¿Qué necesitas?", "un CRM", "¡Genial!"]


def test_the_crm_packet_carries_the_transcript(store):
    events = [
        {"event": "bot", "text": "¿Cuál es tu email?", "timestamp": T0},
        {"event": "user", "text": "ana@acme.example", "timestamp": T0 + 1},
    ]
    store.save_conversation("chat-1", HOT, "es", None, TUESDAY_10, transcript=lines_from_events(events))
    (crm,) = outbox_of(store, "crm")
    (transcript,) = crm.payload["transcripts"]
    assert transcript["conversation_id"] == "chat-1"
    assert [(m["sender"], m["text"]) for m in transcript["messages"]] == [
        ("bot", "¿Cuál es tu email?"),
        ("visitor", "ana@acme.example"),
    ]


# -- the visitor asks for a person --------------------------------------------------------


def test_asking_for_a_person_in_business_hours_alerts_the_owner(store, chats):
    lead = store.save_conversation("chat-1", HOT, "es", None, TUESDAY_10)
    request = chats.request("chat-1", now=TUESDAY_10)
    assert (request.kind, request.sdr_id) == ("live", lead["owner"]["sdr"])
    (waiting,) = chats.waiting()
    assert (waiting["conversation_id"], waiting["lead_id"], waiting["status"]) == ("chat-1", lead["id"], "requested")
    (alert,) = outbox_of(store, "live")
    assert alert.payload["type"] == "live_chat.requested" and alert.payload["available"] is True
    assert alert.payload["contact"]["email"] == "ana@acme.example"
    # Asking again while waiting does not open a second request.
    chats.request("chat-1", now=TUESDAY_10)
    assert len(chats.waiting()) == 1


def test_asking_for_a_person_out_of_hours_promises_the_sla(store, chats):
    lead = store.save_conversation("chat-1", HOT, "es", None, TUESDAY_10)
    request = chats.request("chat-1", now=SUNDAY)
    assert (request.kind, request.sdr_id, request.hours) == ("later", lead["owner"]["sdr"], 24)
    assert len(chats.waiting()) == 1  # still in the console's list, for Monday


# -- takeover -----------------------------------------------------------------------------


def test_an_sdr_takes_over_talks_and_hands_back(store, chats, rasa):
    store.save_conversation("chat-1", HOT, "es", None, TUESDAY_10)
    chats.request("chat-1", now=TUESDAY_10)
    taken = chats.take_over("chat-1", "lucia", now=TUESDAY_10)
    assert taken["status"] == "active" and taken["sdr_id"] == "lucia"
    assert chats.waiting() == [] and [c["conversation_id"] for c in chats.active()] == ["chat-1"]
    first = rasa.calls[0]
    assert first["query"]["output_channel"] == "latest" and first["query"]["execute_side_effects"] == "true"
    assert first["events"][0] == {"event": "pause"}
    assert first["events"][1]["metadata"] == {"sdr": "lucia", "sdr_name": "Lucía Fernández"}
    assert first["events"][1]["text"].startswith("Hola, soy Lucía Fernández, del equipo comercial de Nubilo.")
    assert rasa.paused("chat-1")

    # The bot is silent; the visitor's messages reach the transcript through sync.
    rasa.visitor_says("chat-1", "¿Tenéis integración con Holded?", T0 + 100)
    chats.say("chat-1", "lucia", "Sí, y también con A3.")
    back = chats.hand_back("chat-1", by="lucia", now=TUESDAY_10 + timedelta(minutes=5))
    assert back["status"] == "ended" and back["ended_by"] == "lucia"
    assert [e["event"] for e in rasa.calls[-1]["events"]] == ["bot", "resume"]
    assert not rasa.paused("chat-1")

    (transcript,) = store.get_by_email("ana@acme.example")["transcripts"]
    assert [(m["sender"], m["author"], m["text"][:32]) for m in transcript["messages"]] == [
        ("sdr", "lucia", "Hola, soy Lucía Fernández, del e"),
        ("visitor", None, "¿Tenéis integración con Holded?"),
        ("sdr", "lucia", "Sí, y también con A3."),
        ("sdr", "lucia", "Te dejo de nuevo con el asistent"),
    ]


def test_only_the_sdr_in_the_conversation_talks_in_it(store, chats):
    store.save_conversation("chat-1", HOT, "es", None, TUESDAY_10)
    with pytest.raises(TakeoverError) as not_taken:
        chats.say("chat-1", "lucia", "hola")
    assert not_taken.value.code == "not_taken_over"
    chats.take_over("chat-1", "lucia", now=TUESDAY_10)
    for sdr, text, code in [
        ("diego", "hola", "not_yours"),
        ("lucia", "   ", "empty"),
        ("lucia", "x" * 5000, "too_long"),
    ]:
        with pytest.raises(TakeoverError) as refused:
            chats.say("chat-1", sdr, text)
        assert refused.value.code == code
    with pytest.raises(TakeoverError) as taken:
        chats.take_over("chat-1", "diego", now=TUESDAY_10)
    assert taken.value.code == "taken"
    with pytest.raises(TakeoverError) as unknown:
        chats.take_over("chat-1", "nobody", now=TUESDAY_10)
    assert unknown.value.code == "unknown_sdr"


def test_when_rasa_is_down_nothing_is_recorded(store):
    store.save_conversation("chat-1", HOT, "es", None, TUESDAY_10)
    chats = LiveChats(store, RasaAPI("http://127.0.0.1:9", "t", timeout=1))
    with pytest.raises(TakeoverError) as down:
        chats.take_over("chat-1", "lucia", now=TUESDAY_10)
    assert down.value.code == "rasa_unreachable"
    assert chats.active() == [] and chats.status("chat-1") is None


def test_a_wrong_token_is_reported_as_such(store, rasa):
    store.save_conversation("chat-1", HOT, "es", None, TUESDAY_10)
    chats = LiveChats(store, RasaAPI(rasa.url, "wrong", timeout=5))
    with pytest.raises(TakeoverError) as refused:
        chats.take_over("chat-1", "lucia", now=TUESDAY_10)
    assert refused.value.code == "rasa_token"


# -- consent and nurturing ----------------------------------------------------------------


def test_consent_sends_a_lead_that_is_not_for_sales_to_nurturing_with_reason_and_grade(store):
    store.save_conversation("chat-1", STUDENT, "en", None, TUESDAY_10)
    lead = store.record_consent("chat-1", True, "Would you like us to email you…?", "yes please", TUESDAY_10)
    assert lead["marketing_consent"] is True
    (message,) = outbox_of(store, "nurture")
    packet = message.payload
    assert packet["contact"]["email"] == "tom@uni.example" and packet["grade"] == lead["grade"]
    assert packet["reason"]["code"] == "below_threshold"
    assert packet["reason"]["threshold"] == store.config.stages.sql.min_score
    assert "budget" in packet["reason"]["failed_criteria"]
    assert packet["consent"]["granted"] is True and packet["consent"]["wording"] == "Would you like us to email you…?"
    with store.sessions() as session:
        (proof,) = session.scalars(select(Consent))
        assert (proof.granted, proof.answer, proof.conversation_id) == (True, "yes please", "chat-1")
    # A later conversation that still does not qualify sends the update; the key differs.
    assert store.nurture(lead["id"]) is True
    assert sorted(m.key for m in outbox_of(store, "nurture")) == [f"nurture-{lead['id']}-1", f"nurture-{lead['id']}-2"]


def test_no_consent_or_a_sales_ready_lead_is_not_nurtured(store):
    store.save_conversation("chat-1", STUDENT, "en", None, TUESDAY_10)
    assert store.record_consent("chat-1", False, "q", "no", TUESDAY_10)["marketing_consent"] is False
    store.save_conversation("chat-2", HOT, "es", None, TUESDAY_10)
    store.record_consent("chat-2", True, "q", "sí", TUESDAY_10)
    assert outbox_of(store, "nurture") == []
    assert store.record_consent("chat-without-lead", True, "q", "yes", TUESDAY_10) is None


def test_a_merged_lead_keeps_the_latest_consent_answer(store):
    anonymous = store.save_conversation("chat-1", {"need": {"value": "crm"}}, "es", None, TUESDAY_10)
    store.save_conversation("chat-2", STUDENT, "en", None, TUESDAY_10)
    store.record_consent("chat-2", False, "q", "no", TUESDAY_10)
    store.record_consent("chat-1", True, "q", "sí", TUESDAY_10 + timedelta(minutes=1))
    claim = store.save_conversation("chat-1", {"email": {"address": "tom@uni.example"}}, "es", None, TUESDAY_10)
    # No browser ties chat-1 to that lead: only claimed until an SDR confirms (leadqual/leads/identity.py).
    assert claim["identity"]["verified"] is False
    store.confirm_identity(claim["id"], by="lucia", now=TUESDAY_10)
    lead = store.get_by_email("tom@uni.example")
    assert lead["id"] != anonymous["id"] and lead["marketing_consent"] is True
    with store.sessions() as session:
        assert {c.lead_id for c in session.scalars(select(Consent))} == {lead["id"]}
        assert session.scalars(select(LiveChat)).all() == []


def test_an_sdr_can_join_a_visitor_who_has_not_answered_anything(store, chats, rasa):
    rasa.visitor_says("chat-new", "hello, do you have a mobile app?", T0)
    rasa.trackers["chat-new"].append({"event": "bot", "text": "Sorry, I didn't understand.", "timestamp": T0 + 1})
    chats.take_over("chat-new", "emma", now=TUESDAY_10)
    assert rasa.paused("chat-new")
    with store.sessions() as session:
        lines = [m.text for m in session.scalars(select(Message).where(Message.conversation_id == "chat-new"))]
    assert lines[:2] == ["hello, do you have a mobile app?", "Sorry, I didn't understand."]
    with pytest.raises(TakeoverError) as unknown:
        chats.take_over("chat-nobody", "emma", now=TUESDAY_10)
    assert unknown.value.code == "unknown_conversation"


# -- what SDRs read (issue 21) -----------------------------------------------------------


def test_the_widget_opening_is_not_shown_as_something_the_visitor_typed():
    events = [
        {"event": "user", "text": "/greet", "timestamp": 1.0},
        {"event": "bot", "text": "¡Hola!", "timestamp": 2.0},
        {"event": "user", "text": '/inform{"budget": 1}', "timestamp": 3.0},
    ]
    assert [(line["sender"], line["text"]) for line in lines_from_events(events)] == [
        ("bot", "¡Hola!"),
        ("visitor", '/inform{"budget": 1}'),  # a hand-typed payload is kept as typed: the SDR sees it
    ]


def test_the_last_turns_replies_are_kept_and_later_replaced_by_rasas_own_lines(store):
    from leadqual.leads.transcripts import replies_of

    start = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
    asked = [{"event": "bot", "text": "¿Tu email?", "timestamp": start.timestamp()}]
    asked.append({"event": "user", "text": "ana@acme.es", "timestamp": start.timestamp() + 5})
    sent = [{"text": "¡Gracias, Ana!"}, {"text": "¿Hablamos?", "buttons": [{"title": "Sí"}]}]
    replies = replies_of(sent, start + timedelta(seconds=5.5))
    store.save_transcript("conv-x", lines_from_events(asked), "es", replies=replies)
    with store.sessions() as session:
        from leadqual.db.tables import Message

        texts = [m.text for m in session.query(Message).filter_by(conversation_id="conv-x").order_by(Message.at)]
    assert texts == ["¿Tu email?", "ana@acme.es", "¡Gracias, Ana!", "¿Hablamos?"]
    # Rasa's tracker now has the replies (and a new message): each line is stored once.
    later = asked + [
        {"event": "bot", "text": "¡Gracias, Ana!", "timestamp": start.timestamp() + 6},
        {"event": "bot", "text": "¿Hablamos?", "timestamp": start.timestamp() + 6.1},
        {"event": "user", "text": "vale", "timestamp": start.timestamp() + 9},
    ]
    store.save_transcript("conv-x", lines_from_events(later), "es")
    with store.sessions() as session:
        rows = session.query(Message).filter_by(conversation_id="conv-x").order_by(Message.at).all()
        assert [m.text for m in rows] == ["¿Tu email?", "ana@acme.es", "¡Gracias, Ana!", "¿Hablamos?", "vale"]
        assert not any((m.data or {}).get("provisional") for m in rows)
        assert rows[2].at.replace(tzinfo=timezone.utc) == start + timedelta(seconds=6)
