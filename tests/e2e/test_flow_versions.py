"""Marketing publishes a new flow version while visitors are chatting: new conversations get the
new texts and its extra question within seconds, with no retraining; a conversation already
under way finishes on the version it started with; each lead records the version that scored
it. Real model, action server and database (its own, as this module publishes)."""

from __future__ import annotations

import copy
import time
import uuid

import pytest

from leadqual.config.marketing import load_messages
from leadqual.conversation.flows import FlowStore, files_content

from ..conftest import REST_HEADERS
from .conftest import buttons, texts

pytestmark = pytest.mark.e2e
M = load_messages()
NEW_BUDGET_QUESTION = "¿Qué inversión anual tenéis en mente para el CRM?"
TEAM_SIZE = {
    "id": "team_size",
    "after": "need",
    "when": {"need": ["crm"]},
    "ask": {"es": "¿Cuántas personas usarían Nubilo?", "en": "How many people would use Nubilo?"},
    "why": {"es": "Para recomendarte el plan adecuado.", "en": "So we suggest the right plan."},
    "reask": {"es": "Elige una de las opciones, por favor.", "en": "Please pick one of the options."},
    "options": [
        {"id": "small", "label": {"es": "1 a 5", "en": "1 to 5"}, "points": 0},
        {"id": "large", "label": {"es": "Más de 5", "en": "More than 5"}, "points": 10},
    ],
}


def test_a_published_flow_reaches_new_chats_while_older_ones_keep_theirs(visitor, leads):
    old = visitor("es")
    replies = old.say("quiero una demo")
    replies = old.click(replies, "Gestionar clientes y ventas")
    assert M.questions["timing"].ask.es in texts(replies)  # version 1: no extra question

    qualification, messages = copy.deepcopy(files_content())
    qualification["extra_questions"] = [TEAM_SIZE]
    messages["questions"]["budget"]["ask"]["es"] = NEW_BUDGET_QUESTION
    published = FlowStore(leads.engine).publish(qualification, messages, by="marta@nubilo.es", note="e2e")
    assert published.version == 2
    time.sleep(2.5)  # LEADQUAL_FLOW_REFRESH_SECONDS: every action server sees it by now

    new = visitor("es")
    replies = new.say("quiero una demo")
    replies = new.click(replies, "Gestionar clientes y ventas")
    assert "¿Cuántas personas usarían Nubilo?" in texts(replies)
    assert buttons(replies)[:2] == ["1 a 5", "Más de 5"]
    replies = new.click(replies, "Más de 5")
    assert M.questions["timing"].ask.es in texts(replies)
    replies = new.say("este mes")
    assert NEW_BUDGET_QUESTION in texts(replies)

    # The older conversation goes on with version 1's texts.
    replies = old.say("este mes")
    assert M.questions["budget"].ask.es in texts(replies) and NEW_BUDGET_QUESTION not in texts(replies)

    for v, email in ((old, "old@flows.example"), (new, "new@flows.example")):
        v.answer("unos 12.000 € al año", "soy el CEO", "Ana Flores", "Flores S.L.", email)
    old_lead, new_lead = leads.get_by_email("old@flows.example"), leads.get_by_email("new@flows.example")
    assert old_lead["config_version"] == 1 and new_lead["config_version"] == 2
    assert new_lead["extra"]["team_size"]["option"] == "large"
    assert new_lead["scores"]["fit"] == old_lead["scores"]["fit"] + 10  # the extra question's points
    assert old_lead["extra"] == {}


def test_a_console_preview_runs_the_draft_in_real_rasa_and_writes_no_lead(rasa_url, leads, monkeypatch):
    import requests

    from leadqual.conversation.flows import Drafts, preview_token

    from .conftest import PREVIEW_SECRET

    monkeypatch.setenv("LEADQUAL_PREVIEW_SECRET", PREVIEW_SECRET)
    qualification, messages = copy.deepcopy(files_content())
    messages["questions"]["need"]["ask"]["es"] = "¿Qué os gustaría mejorar primero?"
    draft_id, problems = Drafts(FlowStore(leads.engine)).save(qualification, messages, by="marta@nubilo.es")
    assert problems == []
    sender = f"preview-{draft_id}-{uuid.uuid4().hex}"

    def say(text: str) -> str:
        body = {"sender": sender, "message": text, "metadata": {"lang": "es", "flow_preview": preview_token(draft_id)}}
        reply = requests.post(rasa_url + "/webhooks/rest/webhook", json=body, headers=REST_HEADERS, timeout=60)
        reply.raise_for_status()
        return texts(reply.json())

    assert "¿Qué os gustaría mejorar primero?" in say("quiero una demo")
    say("gestionar el equipo comercial")
    assert leads.get_by_conversation(sender) is None  # a preview writes no lead


NEW_TRIAL_ANSWER = "Sí: 30 días gratis, sin tarjeta y con todas las funciones."


def test_a_published_answer_reaches_new_chats_while_older_ones_keep_theirs(visitor, leads):
    from leadqual.understanding import knowledge

    old = visitor("es")
    old.say("hola")
    flows = FlowStore(leads.engine)
    current = flows.current().version
    edited = copy.deepcopy(flows.knowledge_content(current))
    next(e for e in edited["entries"] if e["id"] == "trial_free")["answer"]["es"] = NEW_TRIAL_ANSWER
    flows.publish(*flows.content(current), by="marta@nubilo.es", note="trial answer", knowledge=edited)
    time.sleep(2.5)  # LEADQUAL_FLOW_REFRESH_SECONDS

    new = visitor("es")
    assert NEW_TRIAL_ANSWER in texts(new.say("¿tenéis prueba gratuita?"))
    shipped = knowledge.knowledge().entry("trial_free").answer.es
    replies = texts(old.say("¿tenéis prueba gratuita?"))
    assert shipped in replies and NEW_TRIAL_ANSWER not in replies
