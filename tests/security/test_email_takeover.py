"""Typing someone's email must not take over their lead (issue 19, item 1). A chat that gives an
existing lead's email, with nothing tying it to that person (not the same conversation, not the
same browser), keeps its answers on a lead of its own until an SDR confirms the identity; the
victim's lead, name and qualification are never changed or shown to it. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timezone

from ..conftest import run_cli

NOW = datetime(2026, 6, 2, 10, 0, tzinfo=timezone.utc)
VICTIM = "victim@acme.example"
HOT = {
    "need": {"value": "crm", "text": "un CRM"},
    "timing": {"months": 0, "text": "ya"},
    "budget": {"min": 20000, "max": 20000, "currency": "EUR", "period": "year", "text": "20k al año"},
    "authority": {"level": "decision_maker", "text": "decido yo"},
    "name": {"value": "Lucía Gómez", "text": "Lucía Gómez"},
    "company": {"value": "Acme", "text": "Acme"},
}
POOR = {
    "need": {"value": None, "text": "nada"},
    "budget": {"none": True, "text": "sin presupuesto"},
    "authority": {"level": "none", "text": "soy estudiante"},
    "name": {"value": "Mallory", "text": "Mallory"},
}


def email(address: str) -> dict:
    return {"address": address, "text": address}


def test_typing_an_existing_email_keeps_the_chat_apart_and_the_victim_untouched(store):
    victim = store.save_conversation("victim-chat", HOT | {"email": email(VICTIM)}, "es", "victim-browser-1", NOW)
    assert victim["stage"] == "sql"

    attack = store.save_conversation("attacker-chat", POOR | {"email": email(VICTIM)}, "es", "attacker-browser", NOW)
    assert attack["id"] != victim["id"] and store.count() == 2
    assert attack["email"] is None
    assert attack["identity"] == {"verified": False, "claimed_email": VICTIM, "claims_lead_id": victim["id"]}

    after = store.get_by_email(VICTIM)
    assert after["id"] == victim["id"]
    assert after["stage"] == "sql" and after["scores"] == victim["scores"] and after["name"] == "Lucía Gómez"
    assert after["conversations"] == ["victim-chat"] and after["visitors"] == ["victim-browser-1"]
    assert after["bant"]["authority"]["level"] == "decision_maker"

    # A later chat from the attacker's browser is greeted with what that browser said, nothing else.
    context = store.visitor_context("attacker-browser", NOW)
    assert context["name"] == "Mallory"
    assert "Lucía" not in str(context) and "Acme" not in str(context)
    assert store.visitor_context("victim-browser-1", NOW)["name"] == "Lucía"


def test_the_same_browser_or_conversation_is_the_same_person(store):
    first = store.save_conversation("chat-1", HOT | {"email": email(VICTIM)}, "es", "victim-browser-1", NOW)
    # The same browser comes back another day and gives the email again: that lead, updated.
    again = store.save_conversation(
        "chat-2",
        {"budget": {"min": 5000, "max": 5000, "currency": "EUR", "period": "year"}, "email": email(VICTIM)},
        "es",
        "victim-browser-1",
        NOW,
    )
    assert again["id"] == first["id"] and again["identity"]["verified"] is True and store.count() == 1
    assert again["bant"]["budget"]["max"] == 5000


def test_an_sdr_confirming_the_identity_merges_the_claim_into_the_lead(store):
    victim = store.save_conversation("chat-1", HOT | {"email": email(VICTIM)}, "es", "laptop-0001", NOW)
    claim = store.save_conversation(
        "chat-2", {"timing": {"months": 3, "text": "en 3 meses"}, "email": email(VICTIM)}, "es", "phone-00001", NOW
    )
    assert store.count() == 2
    merged = store.confirm_identity(claim["id"], by="lucia", now=NOW)
    assert merged["id"] == victim["id"] and store.count() == 1
    assert merged["bant"]["timing"]["months"] == 3 and sorted(merged["visitors"]) == ["laptop-0001", "phone-00001"]
    assert "identity confirmed by lucia" in merged["merged"][0]["reason"]


def test_a_lead_without_a_claim_cannot_be_confirmed_into_another(store):
    lead = store.save_conversation("chat-1", HOT | {"email": email(VICTIM)}, "es", None, NOW)
    try:
        store.confirm_identity(lead["id"], by="lucia", now=NOW)
    except KeyError as exc:
        assert "no unverified email claim" in str(exc)
    else:
        raise AssertionError("a verified lead must not be merged by confirm_identity")


def test_erasing_the_person_erases_the_chats_that_claimed_their_email(store, tmp_path, monkeypatch):
    from leadqual.leads import privacy

    monkeypatch.setenv("LEADQUAL_HANDOFF_DIR", str(tmp_path))
    monkeypatch.setenv("LEADQUAL_LOG_DIR", str(tmp_path))
    store.save_conversation("victim-chat", HOT | {"email": email(VICTIM)}, "es", "victim-browser-1", NOW)
    claim = store.save_conversation("attacker-chat", POOR | {"email": email(VICTIM)}, "es", "attacker-browser", NOW)
    result = privacy.erase_person(store, VICTIM, by="dpo@nubilo.example", reason="request 42")
    # A chat that gave the email is held under it: erased with the person, not left holding it.
    assert result["counts"]["leads"] == 2 and store.get(claim["id"]) is None and store.count() == 0


def test_the_command_line_confirms_a_claim(tmp_path):
    from leadqual.config.marketing import load_qualification
    from leadqual.leads.store import LeadStore

    url = f"sqlite:///{tmp_path / 'leads.db'}"
    store = LeadStore(url, config=load_qualification())
    store.create_schema()
    victim = store.save_conversation("victim-chat", HOT | {"email": email(VICTIM)}, "es", "victim-browser-1", NOW)
    claim = store.save_conversation("other-chat", POOR | {"email": email(VICTIM)}, "es", "other-browser-1", NOW)
    run = ["--database-url", url, "identity", "confirm"]
    refused = run_cli(*run, victim["id"], "--by", "lucia")
    assert refused.returncode == 1 and "no unverified email claim" in refused.stderr
    done = run_cli(*run, claim["id"], "--by", "lucia")
    assert done.returncode == 0, done.stderr
    assert victim["id"] in done.stdout and store.count() == 1
    store.engine.dispose()
