"""What the visitor reads: rendered from config/messages.yml in their language."""

from __future__ import annotations

import json
import re

import pytest

from leadqual.config.marketing import QUESTION_SLOTS, load_messages
from leadqual.conversation import texts as texts_module
from leadqual.conversation.texts import Texts

MESSAGES = load_messages()
RESPONSES = sorted(MESSAGES.responses)
ALL_VALUES = {"name": "Ana", "company": "Acme", "sla_hours": 24, "value": "10.000 €"}
# Words only the code knows: slot names, option ids, Rasa names. A visitor never sees them.
INTERNAL = re.compile(r"\b[a-z]+_[a-z0-9_]+\b|\brequested_slot\b|\bNone\b|\bTrue\b|\bFalse\b|\bnull\b")


@pytest.fixture
def texts(config) -> Texts:
    return Texts(MESSAGES, config)


def variations(localized, lang: str) -> list[str]:
    value = localized.en if lang == "en" else localized.es
    return value if isinstance(value, list) else [value]


def every_variation(texts: Texts, monkeypatch, render) -> list[str]:
    """Render with each random variation in turn (random.choice picks index i)."""
    out = []
    for i in range(5):
        monkeypatch.setattr(texts_module.random, "choice", lambda seq, i=i: seq[min(i, len(seq) - 1)])
        out.append(render())
    return out


# -- responses --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "utter_greet",
        "utter_goodbye",
        "utter_default",
        "utter_stopped",
        "utter_skipped",
        "utter_handoff_contact",
        "utter_gave_up_question",
        "utter_save_failed",
        "utter_result_sql",
        "utter_result_mql",
        "utter_result_nurture",
        "your_company",
    ],
)
def test_each_response_the_assistant_sends_exists_in_both_languages(texts, name):
    es = texts.response(name, "es", **ALL_VALUES)["text"]
    en = texts.response(name, "en", **ALL_VALUES)["text"]
    assert es and en
    assert es != en


def test_every_response_in_messages_renders_in_both_languages(texts):
    for name in RESPONSES:
        for lang in ("es", "en"):
            assert texts.response(name, lang, **ALL_VALUES)["text"].strip()


def test_response_is_in_the_requested_language(texts):
    assert texts.response("utter_save_failed", "en")["text"].startswith("I'm having a technical problem")
    assert texts.response("utter_save_failed", "es")["text"].startswith("Estoy teniendo un problema técnico")


def test_unknown_language_falls_back_to_spanish(texts):
    assert texts.response("utter_skipped", "fr")["text"] == "Sin problema, pasamos a la siguiente."


def test_unknown_response_raises_key_error_naming_it(texts):
    with pytest.raises(KeyError, match="utter_nope"):
        texts.response("utter_nope", "es")


def test_result_fills_name_and_company(texts):
    text = texts.response("utter_result_sql", "en", name="Ana", company="Acme")["text"]
    assert text == "Thanks, Ana! From what you've told me, Nubilo is a great fit for Acme."


def test_next_steps_read_naturally_in_both_languages(texts):
    meeting = {"kind": "meeting", "sdr_id": "ana", "sdr_name": "Ana Ruiz", "url": "https://cal.example/ana"}
    sla = {"kind": "sla", "hours": 8, "contact_by": "2026-11-23T17:00:00+00:00", "sdr_name": "Ana Ruiz"}
    queue = {**sla, "sdr_name": None}
    talk = {"kind": "talk_now", "sdr_id": "ana", "sdr_name": "Ana Ruiz"}
    assert [m["text"] for m in texts.next_steps([meeting, sla], "en")] == [
        "You can book a meeting with Ana Ruiz right now: [pick a time](https://cal.example/ana).",
        "If you'd rather, Ana Ruiz will write to you within 8 hours.",
    ]
    assert [m["text"] for m in texts.next_steps([queue], "es")] == [
        "Una persona de nuestro equipo comercial te contactará en menos de 8 horas."
    ]
    assert [m["text"] for m in texts.next_steps([queue], "en")] == [
        "Someone from our sales team will contact you within 8 hours."
    ]
    [talk_now] = texts.next_steps([talk], "en")
    assert talk_now["text"] == "Ana Ruiz is available right now. Would you like to talk here in the chat?"
    assert [b["payload"] for b in talk_now["buttons"]] == ["/request_human", "/deny"]


def test_person_request_and_consent_texts(texts):
    assert texts.person_request("live", "Ana Ruiz", 24, "es")["text"] == (
        "Aviso ahora mismo a Ana Ruiz, que te escribirá aquí en unos minutos."
    )
    assert texts.person_request("later", None, 24, "en")["text"] == (
        "Nobody from the team is online right now. Someone from our sales team will contact you within 24 hours."
    )
    question = texts.consent_question("es")
    assert "darte de baja" in question["text"]
    assert [(b["title"], b["payload"]) for b in question["buttons"]] == [
        ("Sí, enviádmelos", "/affirm"),
        ("No, gracias", "/deny"),
    ]


@pytest.mark.parametrize("name", ["utter_result_sql", "utter_result_mql", "utter_result_nurture"])
@pytest.mark.parametrize("missing", [{}, {"name": None}, {"name": ""}], ids=["absent", "none", "empty"])
def test_missing_name_drops_its_comma_cleanly(texts, name, missing):
    es = texts.response(name, "es", company="Acme", sla_hours=24, **missing)["text"]
    en = texts.response(name, "en", company="Acme", sla_hours=24, **missing)["text"]
    assert es.startswith("¡Gracias! ")
    assert en.startswith("Thanks! ")
    for text in (es, en):
        assert ", !" not in text and " !" not in text and "  " not in text


def test_company_ending_in_a_period_does_not_double_it(texts):
    text = texts.response("utter_result_sql", "es", name="Ana", company="Acme S.L.")["text"]
    assert text.endswith("con Acme S.L.")
    assert ".." not in text


def test_no_text_contains_a_brace_after_filling(texts, monkeypatch):
    for name in RESPONSES:
        for lang in ("es", "en"):
            for values in (ALL_VALUES, {}):
                render = lambda n=name, la=lang, v=values: texts.response(n, la, **v)["text"]  # noqa: E731
                for text in every_variation(texts, monkeypatch, render):
                    assert "{" not in text and "}" not in text, (name, lang, text)


def test_greeting_variations_are_all_used(texts, monkeypatch):
    rendered = every_variation(texts, monkeypatch, lambda: texts.response("utter_greet", "en")["text"])
    assert len(set(rendered)) == len(variations(MESSAGES.responses["utter_greet"], "en")) == 2


# -- questions --------------------------------------------------------------------------


@pytest.mark.parametrize("slot", QUESTION_SLOTS)
@pytest.mark.parametrize("lang", ["es", "en"])
def test_every_question_has_ask_why_and_reask(texts, slot, lang):
    assert texts.question(slot, lang)["text"].strip()
    assert texts.why(slot, lang)["text"].strip()
    assert texts.reask(slot, lang)["text"].strip()


def test_question_buttons_come_from_the_config_in_the_visitor_language(texts, config):
    es = texts.question("authority", "es")
    en = texts.question("authority", "en")
    assert es["text"] == "¿Quién toma la decisión de compra en tu empresa?"
    assert en["text"] == "Who makes the buying decision at your company?"
    assert [b["title"] for b in es["buttons"]] == ["Lo decido yo", "Lo decido con otros", "Lo decide otra persona"]
    assert [b["title"] for b in en["buttons"]] == ["I decide", "I decide with others", "Someone else decides"]
    assert [b["payload"] for b in en["buttons"]] == [
        '/inform{"option": "decision_maker"}',
        '/inform{"option": "influencer"}',
        '/inform{"option": "user"}',
    ]


def test_button_payload_is_inform_with_the_option_id(texts, config):
    for slot in ("need", "timing", "budget", "authority"):
        buttons = texts.question(slot, "es")["buttons"]
        ids = [o.id for o in config.options_for(slot)]
        assert len(buttons) == len(ids)
        for button, option_id in zip(buttons, ids, strict=True):
            assert button["payload"].startswith("/inform")
            assert json.loads(button["payload"][len("/inform") :]) == {"option": option_id}


def test_need_question_offers_every_need_and_nothing_specific(texts):
    titles = [b["title"] for b in texts.question("need", "en")["buttons"]]
    assert titles == [
        "Manage customers and sales",
        "Automate marketing",
        "Customer support",
        "Reports and analytics",
        "Nothing specific",
    ]


def test_contact_questions_have_no_buttons_at_first(texts):
    for slot in ("name", "company", "email"):
        assert "buttons" not in texts.question(slot, "es")


@pytest.mark.parametrize("failures", [0, 1])
def test_no_way_out_before_max_reasks(texts, failures):
    payloads = [b["payload"] for b in texts.question("budget", "es", failures)["buttons"]]
    assert "/skip" not in payloads
    assert "/request_human" not in payloads


@pytest.mark.parametrize("failures", [2, 3])
def test_skip_and_human_buttons_after_max_reasks(texts, failures):
    buttons = texts.question("budget", "es", failures)["buttons"]
    assert buttons[-2:] == [
        {"title": "Saltar esta pregunta", "payload": "/skip"},
        {"title": "Prefiero que me contacte una persona", "payload": "/request_human"},
    ]
    assert len(buttons) == 4 + 2


def test_contact_question_gets_only_the_way_out_after_max_reasks(texts):
    buttons = texts.question("email", "en", 2)["buttons"]
    assert buttons == [
        {"title": "Skip this question", "payload": "/skip"},
        {"title": "I'd rather talk to a person", "payload": "/request_human"},
    ]


# -- the NLG endpoint -------------------------------------------------------------------


def nlg(texts: Texts, response: str, slots: dict | None = None, arguments: dict | None = None) -> dict:
    return texts.render_nlg({"response": response, "tracker": {"slots": slots or {}}, "arguments": arguments or {}})


@pytest.mark.parametrize(("slot_value", "expected"), [("en", "en"), ("en-GB", "en"), ("ES", "es"), (None, "es")])
def test_render_nlg_picks_the_language_slot(texts, slot_value, expected):
    text = nlg(texts, "utter_goodbye", {"language": slot_value})["text"]
    assert text == MESSAGES.responses["utter_goodbye"].model_dump()[expected]


def test_render_nlg_unsupported_language_falls_back_to_spanish(texts):
    assert nlg(texts, "utter_goodbye", {"language": "de"})["text"].startswith("¡Hasta pronto!")


def test_render_nlg_fills_arguments(texts):
    text = nlg(texts, "utter_result_mql", {"language": "en"}, {"name": "Ana", "company": "Acme"})["text"]
    assert text == "Thanks, Ana! A specialist will review your case with what you've told me about Acme."


@pytest.mark.parametrize("slot", ["need", "timing", "budget", "authority", "email"])
def test_utter_why_explains_the_requested_slot(texts, slot):
    text = nlg(texts, "utter_why", {"language": "en", "requested_slot": slot})["text"]
    assert text == MESSAGES.questions[slot].why.en


def test_utter_why_for_budget_in_spanish(texts):
    text = nlg(texts, "utter_why", {"language": "es", "requested_slot": "budget"})["text"]
    assert text == "Así te recomendamos el plan que encaja con vuestro presupuesto, sin compromiso."


def test_utter_why_with_no_question_pending_gives_the_default(texts):
    text = nlg(texts, "utter_why", {"language": "en", "requested_slot": None})["text"]
    assert text == "Sorry, I didn't understand. Would you like to see pricing or a demo?"


def test_render_nlg_rejects_a_non_string_response(texts):
    with pytest.raises(ValueError, match="response must be a string"):
        texts.render_nlg({"response": ["utter_greet"]})


def test_render_nlg_unknown_response_is_a_key_error(texts):
    with pytest.raises(KeyError):
        nlg(texts, "utter_does_not_exist")


# -- nothing internal leaks to the visitor ----------------------------------------------


def visitor_texts(texts: Texts, config, monkeypatch) -> list[str]:
    out: list[str] = []
    for lang in ("es", "en"):
        for name in RESPONSES:
            for values in (ALL_VALUES, {}):
                out += every_variation(
                    texts, monkeypatch, lambda n=name, la=lang, v=values: texts.response(n, la, **v)["text"]
                )
        for slot in QUESTION_SLOTS:
            question = texts.question(slot, lang, failures=config.max_reasks)
            out.append(question["text"])
            out += [b["title"] for b in question.get("buttons", [])]
            out.append(texts.why(slot, lang)["text"])
            out.append(texts.reask(slot, lang)["text"])
    return out


def test_no_visitor_text_shows_internal_names(texts, config, monkeypatch):
    shown = visitor_texts(texts, config, monkeypatch)
    assert len(shown) > 100
    leaks = [(t, INTERNAL.findall(t)) for t in shown if INTERNAL.search(t)]
    assert leaks == []
    for text in shown:
        assert "decision_maker" not in text, text
        assert "{" not in text and "}" not in text, text


def test_internal_name_check_catches_a_leak():
    assert INTERNAL.search("Has elegido: decision_maker")
    assert INTERNAL.search("budget_unknown")
    assert not INTERNAL.search("¡Gracias, Ana! Lo decido yo. €3,000 – €10,000")


def test_button_labels_differ_by_language(texts):
    for slot in ("need", "timing", "budget", "authority"):
        es = [b["title"] for b in texts.question(slot, "es")["buttons"]]
        en = [b["title"] for b in texts.question(slot, "en")["buttons"]]
        assert es != en


def test_a_date_said_without_hurry_is_read_back_as_its_date(texts):
    assert texts.describe("timing", {"months": 4, "no_rush": True}, "es") == "en 4 meses"
    assert texts.describe("timing", {"months": None, "no_rush": True}, "en") == "no rush"
