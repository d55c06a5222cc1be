"""Live chats in the SDR console, over HTTP against the real console process (SQLite and
PostgreSQL) with FakeRasa (tests/test_takeover.py) standing in for Rasa's HTTP API: the waiting
list, take over (Rasa pauses), send (a bot event with metadata.sdr), another SDR refused, hand
back (Rasa resumes), the lead's history, Rasa down, CSRF and roles."""

from __future__ import annotations

import html
import re
from contextlib import ExitStack
from urllib.parse import quote

import pytest
from sqlalchemy import select

from leadqual.db.tables import Conversation, Message
from leadqual.delivery.outbox import OutboxMessage
from leadqual.leads.store import LeadStore, conversation_key
from leadqual.leads.takeover import LiveChats, RasaAPI, TakeoverError

from .conftest import free_port, postgres_database
from .console_support import XSS, Browser, add_user, console_process, seed_lead
from .test_takeover import T0, FakeRasa


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def live(request, tmp_path_factory, config):
    """The console process talking to a FakeRasa, on a database with an admin (no SDR id), two SDRs
    (lucia, diego), an SDR user without an SDR id and a marketer."""
    workdir = tmp_path_factory.mktemp("console-live")
    rasa = FakeRasa()
    with ExitStack() as stack:
        stack.callback(rasa.server.shutdown)
        if request.param == "sqlite":
            database_url = f"sqlite:///{workdir / 'leads.db'}"
        else:
            database_url = stack.enter_context(postgres_database())
        store = LeadStore(database_url, config=config)
        stack.callback(store.engine.dispose)
        store.create_schema()
        add_user(store, "admin@nubilo.es", "admin")
        add_user(store, "lucia@nubilo.es", "sdr", sdr_id="lucia")
        add_user(store, "diego@nubilo.es", "sdr", sdr_id="diego")
        add_user(store, "nadie@nubilo.es", "sdr")
        add_user(store, "mkt@nubilo.es", "marketing")
        url = stack.enter_context(
            console_process(database_url, workdir, RASA_URL=rasa.url, RASA_AUTH_TOKEN=FakeRasa.TOKEN)
        )
        yield {
            "url": url,
            "store": store,
            "rasa": rasa,
            "chats": LiveChats(store, RasaAPI(rasa.url, FakeRasa.TOKEN, timeout=5)),
            "database_url": database_url,
            "workdir": workdir,
        }


def signed_in(live, email: str) -> Browser:
    browser = Browser(live["url"])
    assert browser.sign_in(email).status_code == 302
    browser.get("/leads")  # the session's CSRF token, for the posts
    return browser


def new_lead(live, email: str, **fields) -> tuple[str, str]:
    """A lead owned by lucia with a transcript (the visitor's first line is a <script>); (lead id, conversation id)."""
    lead_id = seed_lead(live["store"], email, owner="lucia", stage="mql", visitor_text=XSS, **fields)
    with live["store"].sessions() as session:
        conversation_id = session.scalars(select(Conversation.id).where(Conversation.lead_id == lead_id)).one()
    return lead_id, conversation_id


def text_of(answer) -> str:
    """The page as text, entities decoded (what the user reads)."""
    return html.unescape(re.sub(r"<[^>]+>", " ", answer.text))


def test_the_waiting_list_shows_a_request_with_its_lead_and_a_badge(live):
    lead_id, conversation_id = new_lead(live, "wait@acme.es")
    live["chats"].request(conversation_id)
    lucia = signed_in(live, "lucia@nubilo.es")
    page = lucia.get("/live")
    assert page.status_code == 200
    row = re.search(rf'<tr data-conversation="{conversation_id}">(.*?)</tr>', page.text, re.S).group(1)
    assert "Wait" in row and "wait@acme.es" in row and "Lucía Fernández" in row  # name, email, owner
    assert re.search(r"<strong>\d+ (s|min)</strong>", row)  # how long they have waited
    assert f'href="/live/{conversation_id}"' in row
    badge = re.search(r'data-testid="live-badge"[^>]*>(\d+)<', lucia.get("/leads").text)
    assert badge and int(badge.group(1)) >= 1
    # The lead page links the open chat and the latest conversation.
    lead_page = lucia.get(f"/leads/{lead_id}").text
    block = lead_page.split('data-testid="live-chat"')[1].split("</div>")[0]
    assert f'<p data-conversation="{conversation_id}">' in block and f'href="/live/{conversation_id}"' in block
    assert 'data-testid="take-over-latest"' in block


def test_an_sdr_takes_over_talks_and_hands_back(live):
    rasa, store = live["rasa"], live["store"]
    lead_id, conversation_id = new_lead(live, "talk@acme.es")
    live["chats"].request(conversation_id)
    lucia, diego = signed_in(live, "lucia@nubilo.es"), signed_in(live, "diego@nubilo.es")

    page = lucia.get(f"/live/{conversation_id}")
    assert page.status_code == 200 and 'data-action="take-over"' in page.text
    assert 'name="text"' not in page.text  # no message box before taking over
    taken = lucia.post(f"/live/{conversation_id}/take-over", {}, allow_redirects=False)
    assert taken.status_code == 303 and taken.headers["location"] == f"/live/{conversation_id}?done=took_over"
    assert rasa.paused(conversation_id)
    page = lucia.get(taken.headers["location"])
    assert 'data-testid="live-composer"' in page.text and 'data-action="hand-back"' in page.text
    assert 'data-status="active"' in page.text
    # The lead beside the chat: where it stands and what it answered.
    assert 'data-testid="live-lead"' in page.text and "Etapa" in page.text
    # The message box is its own frame: sending reloads it alone, not the page nor the transcript.
    box = lucia.get(f"/live/{conversation_id}/composer")
    assert box.status_code == 200 and 'name="text"' in box.text and 'name="from" value="composer"' in box.text
    assert box.headers["x-frame-options"] == "SAMEORIGIN"
    posted = lucia.post(
        f"/live/{conversation_id}/say", {"text": "¿Te va bien?", "from": "composer"}, allow_redirects=False
    )
    assert posted.status_code == 303 and posted.headers["location"] == f"/live/{conversation_id}/composer?sent=1"
    assert "Mensaje enviado." in lucia.get(posted.headers["location"]).text
    assert rasa.calls[-1]["events"][0]["text"] == "¿Te va bien?"
    empty = lucia.post(f"/live/{conversation_id}/say", {"text": " ", "from": "composer"})
    assert empty.status_code == 400 and "El mensaje está vacío." in text_of(empty) and 'name="text"' in empty.text
    rasa.calls.pop()  # the count of calls below is of the full-page form
    assert conversation_id not in lucia.get("/live").text.split('data-testid="active"')[0]  # no longer waiting

    # The transcript (an iframe that reloads itself) shows the greeting, and the visitor's <script> as text.
    frame = lucia.get(f"/live/{conversation_id}/transcript")
    assert frame.status_code == 200 and '<meta http-equiv="refresh" content="5">' in frame.text
    assert "Hola, soy Lucía Fernández" in frame.text
    assert "<script>" not in frame.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in frame.text
    assert "frame-ancestors 'self'" in frame.headers["content-security-policy"]
    assert frame.headers["x-frame-options"] == "SAMEORIGIN"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]

    sent = lucia.post(
        f"/live/{conversation_id}/say", {"text": "Sí, <b>integramos</b> con Holded."}, allow_redirects=False
    )
    assert sent.status_code == 303
    call = rasa.calls[-1]
    assert call["conversation"] == conversation_id and call["query"]["execute_side_effects"] == "true"
    assert call["events"] == [
        {
            "event": "bot",
            "text": "Sí, <b>integramos</b> con Holded.",
            "metadata": {"sdr": "lucia", "sdr_name": "Lucía Fernández"},
        }
    ]

    # Another SDR can neither send, nor take over, nor hand back.
    refused = diego.post(f"/live/{conversation_id}/say", {"text": "hola"})
    assert refused.status_code == 409
    assert "Otro SDR está en este chat: solo él puede escribir o devolverlo." in text_of(refused)
    assert "Traceback" not in refused.text and 'name="text"' not in refused.text
    assert diego.post(f"/live/{conversation_id}/take-over", {}).status_code == 409
    assert diego.post(f"/live/{conversation_id}/hand-back", {}).status_code == 409
    assert len(rasa.calls) == 2 and rasa.paused(conversation_id)

    # Empty and too long messages are refused with the draft kept.
    assert "El mensaje está vacío." in text_of(lucia.post(f"/live/{conversation_id}/say", {"text": "  "}))
    too_long = lucia.post(f"/live/{conversation_id}/say", {"text": "x" * 4001})
    assert too_long.status_code == 400 and "x" * 4001 in too_long.text

    # The visitor answers while the bot is silent: it shows after the transcript reloads.
    rasa.visitor_says(conversation_id, "¿Y con <i>A3</i>?", T0 + 100)
    frame = lucia.get(f"/live/{conversation_id}/transcript").text
    assert "¿Y con &lt;i&gt;A3&lt;/i&gt;?" in frame and "Sí, &lt;b&gt;integramos&lt;/b&gt; con Holded." in frame

    back = lucia.post(f"/live/{conversation_id}/hand-back", {}, allow_redirects=False)
    assert back.status_code == 303 and back.headers["location"].endswith("?done=handed_back")
    assert not rasa.paused(conversation_id)
    assert [e["event"] for e in rasa.calls[-1]["events"]] == ["bot", "resume"]
    assert 'data-status="ended"' in lucia.get(back.headers["location"]).text
    assert lucia.get(f"/live/{conversation_id}/transcript").text.count('http-equiv="refresh"') == 0

    # Both are in the lead's history, by lucia, linking the conversation.
    history = lucia.get(f"/leads/{lead_id}").text.split('data-testid="history"')[1]
    assert "Tomó el chat" in history and "Devolvió el chat al bot" in history
    assert history.count(f'href="/live/{conversation_id}"') == 2
    with store.sessions() as session:
        lines = [
            (m.sender, m.author)
            for m in session.scalars(select(Message).where(Message.conversation_id == conversation_id))
        ]
    assert ("sdr", "lucia") in lines and ("visitor", None) in lines


def test_an_admin_without_sdr_id_hands_back_but_cannot_talk(live):
    lead_id, conversation_id = new_lead(live, "admin@acme.es")
    admin, lucia = signed_in(live, "admin@nubilo.es"), signed_in(live, "lucia@nubilo.es")
    page = admin.get(f"/live/{conversation_id}")
    assert 'data-action="take-over"' not in page.text and 'data-testid="no-sdr-id"' in page.text
    refused = admin.post(f"/live/{conversation_id}/take-over", {})
    assert refused.status_code == 400 and "Como admin sin id de SDR" in text_of(refused)
    assert lucia.post(f"/live/{conversation_id}/take-over", {}, allow_redirects=False).status_code == 303
    page = admin.get(f"/live/{conversation_id}")
    assert 'data-action="hand-back"' in page.text and 'name="text"' not in page.text
    assert admin.post(f"/live/{conversation_id}/say", {"text": "hola"}).status_code == 400
    assert admin.post(f"/live/{conversation_id}/hand-back", {}, allow_redirects=False).status_code == 303
    assert not live["rasa"].paused(conversation_id)
    history = lucia.get(f"/leads/{lead_id}").text.split('data-testid="history"')[1]
    assert re.search(r"Devolvió el chat al bot.*?<td>admin@nubilo.es</td>", history, re.S)


def test_a_user_without_sdr_id_is_told_so(live):
    _, conversation_id = new_lead(live, "nosdr@acme.es")
    nobody = signed_in(live, "nadie@nubilo.es")
    assert "Para tomar un chat tu usuario necesita un id de SDR" in text_of(nobody.get(f"/live/{conversation_id}"))
    refused = nobody.post(f"/live/{conversation_id}/take-over", {})
    assert refused.status_code == 400 and "Tu usuario no tiene id de SDR" in text_of(refused)
    assert not live["rasa"].paused(conversation_id)


def test_csrf_less_posts_and_marketing_are_refused(live):
    _, conversation_id = new_lead(live, "csrf@acme.es")
    lucia = signed_in(live, "lucia@nubilo.es")
    lucia.get(f"/live/{conversation_id}")
    assert lucia.post(f"/live/{conversation_id}/take-over", {}, csrf=False).status_code == 403
    assert lucia.post(f"/live/{conversation_id}/take-over", {"csrf_token": "forged"}, csrf=False).status_code == 403
    assert not live["rasa"].paused(conversation_id)

    marketing = signed_in(live, "mkt@nubilo.es")
    for path in ("/live", f"/live/{conversation_id}", f"/live/{conversation_id}/transcript"):
        assert marketing.get(path).status_code == 403
    assert marketing.post(f"/live/{conversation_id}/take-over", {}).status_code == 403
    assert not live["rasa"].paused(conversation_id)
    assert 'data-testid="live-link"' not in marketing.get("/leads").text
    signed_out = Browser(live["url"]).get(f"/live/{conversation_id}", allow_redirects=False)
    assert signed_out.status_code == 302 and signed_out.headers["location"].startswith("/login")


def test_the_webhook_link_opens_the_conversation_even_for_an_odd_id(live, monkeypatch):
    """The `live` packet's link quotes the id; a hashed key (h:...) round-trips."""
    monkeypatch.setenv("LEADQUAL_CONSOLE_URL", live["url"])
    odd = "visitor with spaces/and a slash"
    key = conversation_key(odd)
    live["rasa"].visitor_says(key, "hola, ¿hay alguien?", T0)
    live["chats"].request(odd)
    with live["store"].sessions() as session:
        packet = session.scalars(select(OutboxMessage).where(OutboxMessage.key.like("live-%"))).all()[-1].payload
    link = packet["links"]["take_over"]
    assert link == f"{live['url']}/live/{quote(key, safe='')}" and "%3A" in link
    lucia = signed_in(live, "lucia@nubilo.es")
    page = lucia.get(link[len(live["url"]) :])
    assert page.status_code == 200 and 'data-status="requested"' in page.text
    assert "hola, ¿hay alguien?" in lucia.get(f"/live/{quote(key, safe='')}/transcript").text


def test_a_visitor_rasa_knows_can_be_opened_but_an_unknown_id_is_not_created(live):
    live["rasa"].visitor_says("fresh-visitor", "do you have an app?", T0)
    lucia = signed_in(live, "lucia@nubilo.es")
    page = lucia.get("/live/fresh-visitor")
    assert page.status_code == 200 and 'data-action="take-over"' in page.text
    assert lucia.post("/live/fresh-visitor/take-over", {}, allow_redirects=False).status_code == 303
    assert live["rasa"].paused("fresh-visitor")
    assert lucia.post("/live/fresh-visitor/hand-back", {}, allow_redirects=False).status_code == 303

    assert lucia.get("/live/nobody-here").status_code == 404
    with live["store"].sessions() as session:
        assert session.get(Conversation, "nobody-here") is None


def test_rasa_down_shows_a_banner_and_the_stored_transcript(live):
    _, conversation_id = new_lead(live, "down@acme.es")
    closed = f"http://127.0.0.1:{free_port()}"
    with console_process(live["database_url"], live["workdir"], RASA_URL=closed, RASA_AUTH_TOKEN=FakeRasa.TOKEN) as url:
        lucia = Browser(url)
        lucia.sign_in("lucia@nubilo.es")
        page = lucia.get(f"/live/{conversation_id}")
        assert page.status_code == 200 and 'data-testid="rasa-down"' in page.text
        assert "No se puede contactar con el chat (Rasa)" in text_of(page)
        frame = lucia.get(f"/live/{conversation_id}/transcript")
        assert 'data-testid="rasa-down"' in frame.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt; quiero una demo" in frame.text  # what is stored
        assert "¿Qué presupuesto tenéis?" in frame.text
        refused = lucia.post(f"/live/{conversation_id}/take-over", {})
        assert refused.status_code == 503 and "No se ha hecho nada" in text_of(refused)
        assert "Traceback" not in refused.text
    assert live["chats"].status(conversation_id) is None


def test_a_step_that_reached_rasa_is_not_reported_as_failed_when_the_copy_after_it_fails(store):
    """Take over and send reach Rasa, then reading the tracker back fails: the step stands, is in the
    lead's history, and the SDR is not told to try again (they would send the message twice)."""
    from leadqual.console.auth import User
    from leadqual.console.live import ConsoleChats, LiveConsole
    from leadqual.console.queries import lead_page

    class NoReads(RasaAPI):
        def tracker(self, conversation_id: str) -> dict:
            raise TakeoverError("rasa_unreachable", "reads time out")

    rasa = FakeRasa()
    try:
        lead_id = seed_lead(store, "copy@acme.es", owner="lucia")
        with store.sessions() as session:
            conversation_id = session.scalars(select(Conversation.id).where(Conversation.lead_id == lead_id)).one()
        console = LiveConsole(store, ConsoleChats(store, NoReads(rasa.url, FakeRasa.TOKEN, timeout=5)))
        lucia = User(id=1, email="lucia@nubilo.es", role="sdr", sdr_id="lucia", disabled=False, password_hash="")
        assert console.take_over(lucia, conversation_id)["status"] == "active"
        console.say(lucia, conversation_id, "¿Seguimos?")
        assert rasa.paused(conversation_id) and rasa.calls[-1]["events"][0]["text"] == "¿Seguimos?"
        assert console.refresh(conversation_id) == "rasa_unreachable"  # the page's banner
        assert [h["type"] for h in lead_page(store, lead_id)["history"] if h["type"] != "stage"] == ["took_over"]
    finally:
        rasa.server.shutdown()
