"""Tracking and chat together: events sent to the intake, then a chat from the same browser,
then the lead's behaviour points and score breakdown. Real model, action server and database."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from leadqual.config.marketing import load_messages

from .conftest import BROWSER_KEY, buttons, delivered, texts

pytestmark = pytest.mark.e2e
M = load_messages()
SITE = "https://nubilo.example"


def said(name: str, lang: str = "es") -> str:
    value = getattr(M.responses[name], lang)
    return value if isinstance(value, str) else value[0]


def ago(**delta) -> str:
    return (datetime.now(timezone.utc) - timedelta(**delta)).isoformat()


def test_events_then_chat_then_the_lead_carries_the_behaviour_points(visitor, intake, leads):
    browser = "anon-" + uuid.uuid4().hex
    # The website's snippet (public key): two visits to the pricing page and a "Solicitar demo" click.
    pages = {
        "batch": [
            {
                "type": "page",
                "messageId": f"{browser}-p{i}",
                "anonymousId": browser,
                "timestamp": ago(hours=3 - i),
                "properties": {"url": f"{SITE}/es/precios", "title": "Precios"},
            }
            for i in range(2)
        ]
        + [
            {
                "type": "track",
                "messageId": f"{browser}-cta",
                "anonymousId": browser,
                "event": "cta_click",
                "properties": {"label": "Solicitar demo"},
                "timestamp": ago(hours=1),
            }
        ]
    }
    response = intake("batch", pages, key=BROWSER_KEY)
    assert response.status_code == 200, response.text
    assert response.json() == {"success": True, "accepted": 3, "duplicates": 0}
    # The same batch again (a retry) is stored once.
    assert intake("batch", pages, key=BROWSER_KEY).json() == {"success": True, "accepted": 0, "duplicates": 3}
    # The browser key cannot claim a demo request; the server (the demo form's backend) can.
    forged = {"anonymousId": browser, "event": "demo_request", "messageId": f"{browser}-forged"}
    assert intake("track", forged, key=BROWSER_KEY).status_code == 403
    demo = {
        "anonymousId": browser,
        "event": "demo_request",
        "messageId": f"{browser}-demo",
        "timestamp": ago(minutes=30),
    }
    assert intake("track", demo).status_code == 200

    # 10 + 10 + 3 + 15 points of behaviour: the chat greets an engaged visitor and offers sales.
    v = visitor("es", anonymous_id=browser)
    replies = v.say("hola")
    assert said("utter_offer_sales") in texts(replies)
    assert buttons(replies) == ["Sí, hablar con ventas", "Ahora no, gracias"]
    replies = v.click(replies, "Ahora no, gracias")
    replies = v.say("quiero pedir una demo")
    v.answer("Gestionar clientes y ventas", "dentro de tres meses", "unos 12.000 € al año", "soy el CEO")
    v.answer("me llamo Marta Ruiz", "Trabajo en Ruiz Logística")
    replies = v.say("marta@ruizlogistica.es")
    assert "Marta" in texts(replies)

    lead = leads.get_by_email("marta@ruizlogistica.es")
    assert browser in lead["visitors"]
    # The public key cannot backdate: its events (sent as hours old) are dated at most 10 minutes
    # before they arrived, so the server's demo request (30 minutes old, kept as sent) comes first.
    # Browser message ids are kept apart from the server's (stored as "b:<id>").
    ids = [e["message_id"] for e in lead["events"]]
    assert ids[0] == f"{browser}-demo"
    assert sorted(ids[1:]) == sorted(f"b:{browser}-{suffix}" for suffix in ("p0", "p1", "cta"))
    for event in lead["events"][1:]:
        assert datetime.now(timezone.utc) - datetime.fromisoformat(event["timestamp"]) < timedelta(minutes=11)
    event_lines = {line["source_ref"]: line for line in lead["score_breakdown"] if line["source"] == "event"}
    assert event_lines[f"b:{browser}-p0"]["rule"] == "behaviour.rules.pricing_page_es"
    assert event_lines[f"b:{browser}-cta"]["rule"] == "behaviour.rules.cta_click"
    assert event_lines[f"{browser}-demo"]["points"] == 15
    assert not [ref for ref in event_lines if ref.endswith("-forged")]
    # Hours old: barely decayed. 10 + 10 + 3 + 15 = 38.
    assert lead["scores"]["behaviour"] == 38
    assert lead["scores"]["total"] == lead["scores"]["fit"] + 38
    assert lead["grade"] == "A1"
    assert lead["stage"] == "sql"
    # The behaviour points made it an mql before the BANT answers made it an sql.
    history = [(t["from_stage"], t["to_stage"], t["actor_type"], t["reason"]) for t in lead["stage_history"]]
    assert history == [("lead", "mql", "bot", "score_threshold"), ("mql", "sql", "bot", "score_threshold")]
    assert "budget, authority, need qualified" in lead["stage_history"][-1]["note"]
    # Every point is explained: the recorded changes add up to the breakdown.
    assert sum(c["delta"] for c in lead["score_changes"]) == pytest.approx(
        sum(line["value"] for line in lead["score_breakdown"])
    )
    assert {c["source"] for c in lead["score_changes"]} >= {"answer", "event"}

    # Sales-ready: assigned to an SDR, and the packet reached the CRM (a file without one).
    assert lead["owner"]["sdr"] in ("lucia", "diego", "emma")
    assert {"sdr": lead["owner"]["sdr"], "queue": None, "rule": lead["owner"]["rule"]} == delivered(lead["id"])["owner"]

    # Later events from the same browser follow the lead; a late one counts as of when it happened.
    late = {
        "anonymousId": browser,
        "event": "webinar_attended",
        "messageId": f"{browser}-web",
        "timestamp": ago(days=60),
    }
    assert intake("track", late).status_code == 200
    after = leads.get_by_email("marta@ruizlogistica.es")
    line = next(x for x in after["score_breakdown"] if x["source_ref"] == f"{browser}-web")
    assert line["points"] == 5 and line["value"] == pytest.approx(1.25, abs=0.01)  # two half-lives
    assert after["scores"]["behaviour"] == 39


def test_a_returning_visitor_is_greeted_by_name_and_not_asked_again(visitor, leads):
    browser = "anon-" + uuid.uuid4().hex
    first = visitor("es", anonymous_id=browser)
    first.say("quiero información de precios")
    first.answer("Atención al cliente", "en 6 meses", "unos 5.000 € al año", "lo decido con mi socio")
    first.answer("Soy Pablo Ortega", "Ortega Asesores", "pablo@ortega-asesores.es")
    assert leads.get_by_email("pablo@ortega-asesores.es")["bant"]["need"]["value"] == "support"

    # Days later, a new conversation from the same browser.
    again = visitor("es", anonymous_id=browser)
    replies = again.say("hola")
    assert "Pablo" in texts(replies)
    assert said("utter_greet_returning").split(",")[0] in texts(replies)
    replies = again.say("quiero ver una demo")
    assert said("utter_known_answers") in texts(replies)
    questions = [q.ask.es if isinstance(q.ask.es, str) else q.ask.es[0] for q in M.questions.values()]
    assert not [q for q in questions if q in texts(replies)], "a known answer was asked again"
    lead = leads.get_by_email("pablo@ortega-asesores.es")
    assert len(lead["conversations"]) == 2
    assert leads.count() >= 1
