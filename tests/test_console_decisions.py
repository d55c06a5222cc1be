"""Console decisions on SQLite and PostgreSQL: each is in the lead's history, and the ones
`handoff.deliver_decisions` names are queued for the CRM in the same transaction. A lead offers
only the decisions its stage allows (accepting what the chat already made sql keeps it sql and
makes it the SDR's); a refused one is said in the user's language and keeps what they typed."""

from __future__ import annotations

import html
import re
from contextlib import ExitStack

import pytest
import yaml
from pydantic import ValidationError
from sqlalchemy import select

from leadqual.config.marketing import ROOT, QualificationConfig
from leadqual.console.auth import User
from leadqual.console.decisions import DecisionError, Decisions, LeadNote, stage_decisions
from leadqual.console.queries import lead_page
from leadqual.db.tables import Conversation, Lead
from leadqual.delivery.outbox import OutboxMessage
from leadqual.understanding.answers import parse_answer

from .console_support import Browser, add_user, console_database, console_process, seed_lead


def sdr(sdr_id="lucia", role="sdr") -> User:
    return User(id=1, email=f"{sdr_id}@nubilo.es", role=role, sdr_id=sdr_id, disabled=False, password_hash="")


def decision_messages(store, lead_id) -> list[dict]:
    with store.sessions() as session:
        rows = session.scalars(select(OutboxMessage).where(OutboxMessage.lead_id == lead_id)).all()
        return [m.payload for m in rows if m.payload.get("type") == "decision"]


@pytest.fixture
def lead_id(store):
    return seed_lead(store, "ana@acme.es", owner="lucia", stage="mql", stage_actor="score")


def test_accepting_moves_to_sal_records_who_and_queues_the_decision(store, lead_id, monkeypatch):
    monkeypatch.setenv("LEADQUAL_CONSOLE_URL", "https://console.example.com/")
    lead = Decisions(store).move(sdr(), lead_id, "accepted", note="llamada el lunes")
    assert lead["stage"] == "sal"
    last = lead["stage_history"][-1]
    assert (last["from_stage"], last["to_stage"], last["actor_type"], last["actor_id"]) == (
        "mql",
        "sal",
        "person",
        "lucia",
    )
    assert last["reason"] == "sales_accepted" and last["note"] == "llamada el lunes"
    [packet] = decision_messages(store, lead_id)
    assert packet["decision"] == "accepted" and packet["move"]["to"] == "sal"
    assert packet["by"] == {"user": "lucia@nubilo.es", "sdr": "lucia"}
    assert packet["links"]["lead"] == f"https://console.example.com/leads/{lead_id}"


def test_reject_and_recycle_need_a_fitting_reason_code(store, lead_id):
    decisions = Decisions(store)
    with pytest.raises(DecisionError) as caught:
        decisions.move(sdr(), lead_id, "rejected")
    assert caught.value.code == "reason_required"
    with pytest.raises(DecisionError) as caught:
        decisions.move(sdr(), lead_id, "recycled", reason="spam")
    assert caught.value.code == "unknown_reason"
    assert store.get(lead_id)["stage"] == "mql" and decision_messages(store, lead_id) == []

    lead = decisions.move(sdr(), lead_id, "recycled", reason="bad_timing")
    assert lead["stage"] == "lead" and lead["stage_history"][-1]["kind"] == "recycle"
    lead = decisions.move(sdr(), lead_id, "rejected", reason="competitor")
    assert lead["stage"] == "disqualified" and lead["stage_history"][-1]["reason"] == "competitor"
    assert [p["decision"] for p in decision_messages(store, lead_id)] == ["recycled", "rejected"]


def test_convert_only_from_sql(store, lead_id):
    decisions = Decisions(store)
    with pytest.raises(DecisionError) as caught:
        decisions.move(sdr(), lead_id, "converted")
    assert caught.value.code == "illegal_move"
    decisions.move(sdr(), lead_id, "accepted")
    decisions.move(sdr(), lead_id, "qualified")
    assert decisions.move(sdr(), lead_id, "converted")["stage"] == "opportunity"
    assert [p["decision"] for p in decision_messages(store, lead_id)] == [
        "accepted",
        "converted",
    ]  # qualified: not configured


def test_reassign_and_note_are_in_the_history(store, lead_id):
    decisions = Decisions(store)
    decisions.reassign(sdr(), lead_id, "diego", note="habla con México")
    decisions.add_note(sdr("diego"), lead_id, "Pide precio por usuario")
    lead = store.get(lead_id)
    assert lead["owner"]["sdr"] == "diego" and lead["owner"]["rule"] == "console.reassign"
    history = lead_page(store, lead_id)["history"]
    kinds = [(h["type"], h.get("author")) for h in history if h["type"] != "stage"]
    assert kinds == [("reassigned", "lucia"), ("note", "diego")]
    [packet] = decision_messages(store, lead_id)  # notes are not in deliver_decisions
    assert packet["decision"] == "reassigned" and packet["to"] == "diego"
    assert packet["from"] == {"sdr": "lucia", "queue": None}
    with pytest.raises(DecisionError) as caught:
        decisions.reassign(sdr("diego"), lead_id, "nobody")
    assert caught.value.code == "unknown_sdr"


def test_an_sdr_decides_only_on_their_own_or_unowned_leads(store, lead_id):
    decisions = Decisions(store)
    with pytest.raises(DecisionError) as caught:
        decisions.move(sdr("emma"), lead_id, "accepted")
    assert caught.value.code == "forbidden"
    with pytest.raises(DecisionError):
        decisions.add_note(sdr("emma"), lead_id, "hola")
    marketing = User(id=2, email="m@nubilo.es", role="marketing", disabled=False, password_hash="")
    with pytest.raises(DecisionError):
        decisions.move(marketing, lead_id, "accepted")
    assert decisions.move(sdr("admin", role="admin"), lead_id, "accepted")["stage"] == "sal"
    with store.sessions() as session:
        assert session.scalars(select(LeadNote)).all() == []


def test_nothing_is_sent_when_the_config_delivers_no_decisions(store, lead_id):
    store.config = store.config.model_copy(
        update={"handoff": store.config.handoff.model_copy(update={"deliver_decisions": []})}
    )
    Decisions(store).move(sdr(), lead_id, "accepted")
    assert store.get(lead_id)["stage"] == "sal"
    assert decision_messages(store, lead_id) == []


def test_config_names_a_bad_decision():
    raw = yaml.safe_load((ROOT / "config" / "qualification.yml").read_text())
    raw["handoff"]["deliver_decisions"] = ["accepted", "acepted"]
    with pytest.raises(ValidationError) as caught:
        QualificationConfig.model_validate(raw)
    assert "handoff.deliver_decisions.1" in str(caught.value)


# -- which decisions a stage offers, and accepting what the chat already qualified -------------


def history_of(store, lead_id) -> list[tuple]:
    """The lead page's history as (type, author or actor, text or note) rows, oldest first."""
    return [
        (h["type"], h.get("author") or h.get("actor_id"), h.get("text") or h.get("note") or "")
        for h in lead_page(store, lead_id)["history"]
    ]


def sales_ready_from_the_chat(store, email="sara@acme.es", **fields) -> str:
    """A lead the chat's BANT answers made sales-ready: stages.sql.automatic moved it to sql."""
    lead_id = seed_lead(store, email, **fields)
    lead = store.get(lead_id)
    assert (lead["stage"], lead["sales_ready"]) == ("sql", True)
    assert lead["stage_history"][-1]["actor_type"] in ("bot", "rule")
    return lead_id


def test_accepting_a_lead_the_chat_made_sql_keeps_it_sql_and_makes_it_the_sdrs(store):
    lead_id = sales_ready_from_the_chat(store, owner=None, owner_queue="sales-inbox")
    assert "accepted" in stage_decisions("sql", accepted=False)

    lead = Decisions(store).move(sdr(), lead_id, "accepted", note="Le llamo mañana a las 10")

    assert lead["stage"] == "sql"  # not demoted to sal
    assert lead["owner"]["sdr"] == "lucia" and lead["owner"]["queue"] is None
    assert lead["owner"]["rule"] == "console.accept"
    assert [s["to_stage"] for s in lead["stage_history"]] == ["sql"]  # no stage move was recorded
    assert history_of(store, lead_id)[-2:] == [
        ("claimed", "lucia", ""),
        ("accepted", "lucia", "Le llamo mañana a las 10"),
    ]
    [packet] = decision_messages(store, lead_id)
    assert packet["decision"] == "accepted" and packet["owner"] == {"sdr": "lucia", "queue": None}
    assert packet["move"]["from"] == packet["move"]["to"] == "sql"
    assert packet["move"]["note"] == "Le llamo mañana a las 10"
    # Accepted now: the button is gone, and accepting again is refused without a change.
    data = lead_page(store, lead_id)
    assert data["accepted"] and "accepted" not in stage_decisions("sql", data["accepted"])
    with pytest.raises(DecisionError) as caught:
        Decisions(store).move(sdr(), lead_id, "accepted")
    assert caught.value.code == "already_accepted"
    assert len(decision_messages(store, lead_id)) == 1


def _resave_with_budget(store, lead_id, budget_text):
    """The visitor comes back to the chat and changes their budget."""
    with store.sessions() as session:
        row = session.get(Lead, lead_id)
        answers = dict(row.answers)
        conversation_id = session.scalars(select(Conversation.id).where(Conversation.lead_id == lead_id)).first()
    answers["budget"] = parse_answer("budget", budget_text, store.config, "es", requested=True)
    return store.save_conversation(conversation_id, answers, "es")


def test_scores_no_longer_move_a_lead_sales_accepted(store):
    """Like a lead a person qualified: the chat's rescoring does not undo the SDR's acceptance."""
    accepted = sales_ready_from_the_chat(store, "acepto@acme.es", owner="lucia")
    untouched = sales_ready_from_the_chat(store, "nadie@acme.es", owner="lucia")
    Decisions(store).move(sdr(), accepted, "accepted")
    assert _resave_with_budget(store, untouched, "no tenemos presupuesto")["stage"] == "mql"  # the chat moves it
    assert _resave_with_budget(store, accepted, "no tenemos presupuesto")["stage"] == "sql"  # but not this one


OFFERED = {
    ("lead", False): ["accepted", "qualified", "rejected"],
    ("mql", False): ["accepted", "qualified", "rejected", "recycled"],
    ("sal", True): ["qualified", "rejected", "recycled"],
    ("sql", False): ["accepted", "converted", "rejected", "recycled"],
    ("sql", True): ["converted", "rejected", "recycled"],
    ("opportunity", True): ["rejected", "recycled"],
    ("disqualified", False): ["reopened"],
}
AFTER = {"accepted": "sal", "qualified": "sql", "converted": "opportunity", "rejected": "disqualified"}


@pytest.mark.parametrize(("stage", "accepted"), list(OFFERED))
def test_every_decision_a_stage_offers_succeeds(store, stage, accepted):
    """What the lead page offers is what the stage machine allows: no button ends in a refusal."""
    assert stage_decisions(stage, accepted) == OFFERED[(stage, accepted)]
    for decision in OFFERED[(stage, accepted)]:
        lead_id = seed_lead(
            store,
            f"{stage}-{decision}@acme.es",
            owner="lucia",
            stage=stage,
            stage_actor="person" if accepted else "score",
        )
        reason = {"rejected": "no_budget", "recycled": "bad_timing"}.get(decision)
        lead = Decisions(store).move(sdr(), lead_id, decision, reason=reason, note="hecho")
        expected = "sql" if (stage, decision) == ("sql", "accepted") else AFTER.get(decision, "lead")
        assert lead["stage"] == expected, (stage, decision)


def test_a_decision_the_stage_does_not_allow_is_refused_and_changes_nothing(store):
    lead_id = seed_lead(store, "sal@acme.es", owner="lucia", stage="sal", stage_actor="person")
    for decision in ("accepted", "converted", "reopened"):
        with pytest.raises(DecisionError) as caught:
            Decisions(store).move(sdr(), lead_id, decision)
        assert caught.value.code == "illegal_move" and caught.value.values["stage"] == "sal"
    assert store.get(lead_id)["stage"] == "sal" and decision_messages(store, lead_id) == []


def test_accepting_an_unowned_lead_makes_it_yours_an_owned_one_keeps_its_owner(store):
    queued = seed_lead(store, "cola@acme.es", owner=None, owner_queue="sales-inbox", stage="mql", stage_actor="score")
    diegos = seed_lead(store, "diego@acme.es", owner="diego", stage="mql", stage_actor="score")
    lead = Decisions(store).move(sdr(), queued, "accepted")
    assert (lead["stage"], lead["owner"]["sdr"], lead["owner"]["queue"]) == ("sal", "lucia", None)
    assert ("claimed", "lucia", "") in history_of(store, queued)
    admin = sdr("lucia", role="admin")  # an admin who is also an SDR, on diego's lead
    assert Decisions(store).move(admin, diegos, "accepted")["owner"]["sdr"] == "diego"
    assert not any(kind == "claimed" for kind, _, _ in history_of(store, diegos))


def test_taking_over_a_live_chat_makes_an_unowned_lead_yours(store):
    unowned = seed_lead(store, "chat@acme.es", owner=None, owner_queue="sales-inbox", stage="mql")
    emmas = seed_lead(store, "emma@acme.es", owner="emma", stage="mql")
    decisions = Decisions(store)
    decisions.record_live(sdr(), unowned, "took_over", "conv-1")
    decisions.record_live(sdr(), emmas, "took_over", "conv-2")
    assert store.get(unowned)["owner"]["sdr"] == "lucia" and store.get(unowned)["owner"]["rule"] == "console.take_over"
    assert store.get(emmas)["owner"]["sdr"] == "emma"  # taking over a chat does not take someone's lead
    assert [k for k, _, _ in history_of(store, unowned)][-2:] == ["took_over", "claimed"]
    nobody = User(id=3, email="nadie@nubilo.es", role="sdr", sdr_id=None, disabled=False, password_hash="")
    other = seed_lead(store, "otro@acme.es", owner=None, stage="mql")
    decisions.record_live(nobody, other, "handed_back", "conv-3")
    assert store.get(other)["owner"]["sdr"] is None


# -- over HTTP: the lead page's decisions, in the user's language ------------------------------


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def console(request, tmp_path_factory, config):
    """The console process: an admin, lucia (SDR, Spanish), emma (SDR, English) and a marketer."""
    workdir = tmp_path_factory.mktemp("console-decisions")
    with ExitStack() as stack:
        database_url, store = console_database(request.param, workdir, stack, config)
        add_user(store, "emma@nubilo.es", "sdr", sdr_id="emma")
        with store.sessions.begin() as session:
            session.scalars(select(User).where(User.email == "emma@nubilo.es")).one().language = "en"
        url = stack.enter_context(console_process(database_url, workdir))
        yield {"url": url, "store": store}
        store.engine.dispose()


def signed_in(console, email) -> Browser:
    browser = Browser(console["url"])
    assert browser.sign_in(email).status_code == 302
    return browser


def page_text(answer) -> str:
    """What the user reads: the page without its tags, entities decoded."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", answer.text)).split())


def typed_notes(answer) -> list[str]:
    """What the page's note fields hold (inputs and the notes box), as the user sees them."""
    values = re.findall(r'<input name="note"[^>]*value="([^"]*)"', answer.text)
    values += re.findall(r'<textarea name="note"[^>]*>(.*?)</textarea>', answer.text, re.S)
    return [html.unescape(v) for v in values if v]


def decide_buttons(answer) -> list[str]:
    block = answer.text.split('data-testid="decide"')[1].split("</div>")[0]
    return re.findall(r'data-decision="([a-z_]+)"', block)


def test_an_sdr_accepts_a_sales_ready_lead_from_its_page(console):
    store = console["store"]
    lead_id = sales_ready_from_the_chat(store, "web@acme.es", owner=None, owner_queue="sales-inbox")
    lucia = signed_in(console, "lucia@nubilo.es")
    page = lucia.get(f"/leads/{lead_id}")
    assert decide_buttons(page) == ["accepted", "converted", "rejected", "recycled", "reassigned"]
    assert "Aceptar (sigue en SQL)" in page_text(page) and "Aceptar (SAL)" not in page_text(page)
    assert "al aceptarlo o tomar su chat pasa a ser tuyo" in page_text(page)

    answer = lucia.post(f"/leads/{lead_id}/decide", {"decision": "accepted", "note": "Demo el jueves"})
    assert answer.status_code == 200 and answer.url.endswith(f"/leads/{lead_id}?done=accepted")
    text = page_text(answer)
    assert "Hecho: Aceptar (sigue en SQL)." in text
    history = page_text(answer).split("Historial")[1]
    assert "Aceptado por ventas (sigue en SQL)" in history and "Demo el jueves" in history
    assert "Pasa a ser suyo: sales-inbox → Lucía Fernández" in history
    assert re.search(r'data-testid="owner">Lucía Fernández<', answer.text)
    assert decide_buttons(answer) == ["converted", "rejected", "recycled", "reassigned"]
    lead = store.get(lead_id)
    assert (lead["stage"], lead["owner"]["sdr"]) == ("sql", "lucia")


def test_a_refused_decision_says_why_in_spanish_and_keeps_the_note(console):
    store = console["store"]
    lead_id = sales_ready_from_the_chat(store, "stale@acme.es", owner="lucia")
    lucia = signed_in(console, "lucia@nubilo.es")
    lucia.get(f"/leads/{lead_id}")
    assert lucia.post(f"/leads/{lead_id}/decide", {"decision": "accepted"}).status_code == 200
    # A second tab still shows the old page: accepting again is refused, the note stays typed.
    note = "Llamar el martes <10:00> & enviar precios"
    answer = lucia.post(f"/leads/{lead_id}/decide", {"decision": "accepted", "note": note})
    assert answer.status_code == 409
    error = re.search(r'<p class="error" role="alert">(.*?)</p>', answer.text, re.S).group(1)
    assert " ".join(html.unescape(re.sub(r"<[^>]+>", "", error)).split()) == (
        "Este lead ya estaba aceptado: no se ha cambiado nada."
        " Tu nota no se ha perdido: está en «Notas», para guardarla desde ahí."
    )
    assert typed_notes(answer) == [note] and "<10:00>" not in answer.text  # kept, and escaped
    assert "Traceback" not in answer.text and "already" not in answer.text

    answer = lucia.post(f"/leads/{lead_id}/decide", {"decision": "rejected", "note": "no contesta"})
    assert answer.status_code == 400
    assert "Elige un motivo para «Rechazar»." in page_text(answer)
    assert typed_notes(answer) == ["no contesta"] and "reason code" not in answer.text
    assert 'data-testid="note-moved"' not in answer.text  # its own form still holds it
    assert store.get(lead_id)["stage"] == "sql"

    answer = lucia.post(f"/leads/{lead_id}/decide", {"decision": "noted", "note": "   "})
    assert answer.status_code == 400 and "La nota está vacía." in page_text(answer)


def test_a_refused_decision_says_why_in_english_for_an_english_user(console):
    store = console["store"]
    lead_id = seed_lead(store, "mql@globex.com", owner="emma", stage="mql", stage_actor="score")
    emma = signed_in(console, "emma@nubilo.es")
    page = emma.get(f"/leads/{lead_id}")
    assert "converted" not in decide_buttons(page)  # an mql lead cannot be converted: not offered
    answer = emma.post(f"/leads/{lead_id}/decide", {"decision": "converted", "note": "Signed today"})
    assert answer.status_code == 409
    assert (
        "Not saved: the lead is at MQL, and from there it cannot be “Convert to opportunity”. Pick one of the"
        " options it offers now." in page_text(answer)
    )
    assert typed_notes(answer) == ["Signed today"] and "cannot be converted" not in answer.text
    answer = emma.post(f"/leads/{lead_id}/decide", {"decision": "recycled", "reason": "spam", "note": "x"})
    assert answer.status_code == 400 and "That reason does not apply to “Recycle (nurture)”" in page_text(answer)
    lucia = signed_in(console, "lucia@nubilo.es")
    lucia.get(f"/leads/{lead_id}")
    answer = lucia.post(f"/leads/{lead_id}/decide", {"decision": "noted", "note": "mío"})
    assert answer.status_code == 403
    assert "Solo puedes decidir sobre tus leads o sobre los que no tienen responsable." in page_text(answer)
    assert store.get(lead_id)["stage"] == "mql"


def test_taking_over_from_the_console_claims_a_queued_lead(store):
    """The console's real takeover (Rasa paused through its HTTP API, here FakeRasa) makes the
    lead in the queue the SDR's, as accepting it would."""
    from leadqual.console.live import ConsoleChats, LiveConsole
    from leadqual.leads.takeover import RasaAPI

    from .test_takeover import FakeRasa

    rasa = FakeRasa()
    try:
        lead_id = seed_lead(store, "cola@acme.es", owner=None, owner_queue="sales-inbox", stage="mql")
        with store.sessions() as session:
            conversation_id = session.scalars(select(Conversation.id).where(Conversation.lead_id == lead_id)).one()
        live = LiveConsole(store, ConsoleChats(store, RasaAPI(rasa.url, FakeRasa.TOKEN, timeout=5)))
        live.chats.request(conversation_id)
        assert live.take_over(sdr(), conversation_id)["status"] == "active" and rasa.paused(conversation_id)
        lead = store.get(lead_id)
        assert (lead["owner"]["sdr"], lead["owner"]["queue"], lead["owner"]["rule"]) == (
            "lucia",
            None,
            "console.take_over",
        )
        assert [kind for kind, _, _ in history_of(store, lead_id)][-2:] == ["took_over", "claimed"]
    finally:
        rasa.server.shutdown()
