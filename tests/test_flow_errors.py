"""What marketing reads when a draft of the flow is wrong, and what changed between versions:
each validation problem as a sentence in the user's language next to the field's own name (the
dotted path kept beside it), and each change with its value before and after, long texts cut
around what changed. Unit tests of leadqual/console/flow_editor.py on the repo's own files."""

from __future__ import annotations

import copy

import pytest

from leadqual.console import flow_editor
from leadqual.console.i18n import translator
from leadqual.conversation.flows import FlowInvalid, build, files_content, knowledge_file_content

ENGLISH_OF_PYDANTIC = ("Input should", "Field required", "Value error", "String should", "List should", "must ")


def draft_with(change) -> dict:
    qualification, messages = files_content()
    draft = {
        "id": 7,
        "qualification": copy.deepcopy(qualification),
        "messages": copy.deepcopy(messages),
        "knowledge": knowledge_file_content(),
    }
    change(draft)
    return draft


def problems_of(draft: dict) -> list[dict]:
    try:
        build(draft["qualification"], draft["messages"], 2, draft["knowledge"])
    except FlowInvalid as exc:
        return exc.problems + flow_editor.own_problems(draft["qualification"], draft["messages"])
    return flow_editor.own_problems(draft["qualification"], draft["messages"])


def set_(path: str, value):
    def change(draft: dict) -> None:
        *parents, leaf = path.split(".")
        node = flow_editor.get_path(draft, ".".join(parents))
        node[int(leaf) if isinstance(node, list) else leaf] = value

    return change


CASES = [
    # (what marketing did, the field, the sentence in Spanish, the sentence in English)
    (
        set_("qualification.stages.sql.min_score", "ochenta"),
        "qualification.stages.sql.min_score",
        "Tiene que ser un número entero, sin decimales ni letras; pone «ochenta».",
        "It has to be a whole number, with no decimals or letters; it says “ochenta”.",
    ),
    (
        set_("qualification.stages.mql.min_score", 95),
        "qualification.stages",
        "Los umbrales tienen que ir en orden: «Nutrir por debajo de» ≤ «MQL desde» ≤ «SQL desde».",
        "The thresholds have to be in order: “Nurture below” ≤ “MQL from” ≤ “SQL from”.",
    ),
    (
        set_("qualification.budget.minimum_price.amount", 0),
        "qualification.budget.minimum_price.amount",
        "Tiene que ser mayor que 0.",
        "It has to be more than 0.",
    ),
    (
        set_("messages.questions.budget.ask.es", "  "),
        "messages.questions.budget.ask.es",
        "No puede quedar vacío.",
        "It cannot be left empty.",
    ),
    (
        set_("qualification.questions", ["need", "timing", "budget", "authority", "name", "company"]),
        "qualification.questions",
        "El email se pregunta siempre: no se puede quitar.",
        "The email is always asked: it cannot be taken out.",
    ),
    (
        set_("qualification.budget.minimum_price.period", "week"),
        "qualification.budget.minimum_price.period",
        "Tiene que ser uno de estos: month, year, one_off.",
        "It has to be one of: month, year, one_off.",
    ),
    (
        set_("qualification.handoff.rules.0.assign_to", ["nadie"]),
        "qualification.handoff.rules.0.assign_to",
        "No hay ningún comercial «nadie».",
        "There is no SDR “nadie”.",
    ),
    (
        set_("qualification.need.needs.0.id", "CRM Ventas"),
        "qualification.need.needs.0.id",
        "Solo minúsculas sin acentos, números y guiones bajos, p. ej. team_size.",
        "Only lower-case letters without accents, digits and underscores, e.g. team_size.",
    ),
    (
        set_("qualification.budget.options.1.value.min", 99999),
        "qualification.budget",
        "En el botón «3k_10k», «Desde» es mayor que «Hasta».",
        "In the button “3k_10k”, “From” is more than “Up to”.",
    ),
    (
        set_("knowledge.threshold", 3),
        "knowledge.threshold",
        "Tiene que ser menor que 1.",
        "It has to be less than 1.",
    ),
]


@pytest.mark.parametrize(("change", "field", "spanish", "english"), CASES, ids=[c[1] for c in CASES])
def test_each_problem_is_a_sentence_in_the_users_language_at_its_field(change, field, spanish, english):
    draft = draft_with(change)
    problems = problems_of(draft)
    assert field in [p["field"] for p in problems], problems
    for lang, expected in (("es", spanish), ("en", english)):
        explained = flow_editor.explain(translator(lang), problems, draft)
        (mine,) = [p for p in explained if p["field"] == field]
        assert mine["text"] == expected
        assert not any(words in mine["text"] for words in ENGLISH_OF_PYDANTIC if lang == "es")
        # Linked to the field, in the section that holds it.
        assert mine["href"] == f"/flow/drafts/7/{mine['section']}#field-{field}"
        assert mine["section"] != "advanced"


def test_the_field_is_named_as_the_editor_labels_it():
    t = translator("es")
    draft = draft_with(lambda d: None)
    first_need = draft["qualification"]["need"]["needs"][0]["id"]
    first_rule = draft["qualification"]["handoff"]["rules"][0]["id"]
    assert flow_editor.field_label(t, "qualification.budget.points.qualifies", draft) == (
        "Presupuesto › Puntos › Llega al mínimo"
    )
    assert (
        flow_editor.field_label(t, "messages.questions.timing.why.en", draft) == "Plazo › Por qué lo preguntamos (EN)"
    )
    assert flow_editor.field_label(t, "qualification.need.needs.0.synonyms.es", draft) == (
        f"Necesidad › {first_need} › Sinónimos (ES)"
    )
    assert flow_editor.field_label(t, "qualification.handoff.rules.0.assign_to", draft) == (
        f"Reparto a comerciales › Reglas de reparto › {first_rule} › Asignar a"
    )
    assert translator("en")("flow_sec_scoring") == "Points and stages"


def test_a_message_nothing_knows_is_still_a_sentence_with_the_detail():
    t = translator("es")
    assert flow_editor.sentence(t, "something new went wrong") == "Este valor no es válido (something new went wrong)."


def test_what_changed_shows_before_and_after_and_cuts_long_texts_around_the_change():
    t = translator("es")
    old = draft_with(lambda d: None)
    long_es = "Nubilo es un CRM para equipos de ventas pequeños. " * 6
    new = draft_with(set_("messages.questions.budget.why.es", long_es + "Ahora con descuento para ONG."))
    old["messages"]["questions"]["budget"]["why"]["es"] = long_es + "Sin descuentos."
    new["qualification"]["stages"]["sql"]["min_score"] = 90
    entry = {"id": "pricing_nonprofit", "topic": "pricing", "questions": {"es": ["¿ONG?"], "en": ["NGO?"]}}
    new["knowledge"]["entries"].append({**entry, "answer": {"es": "Sí, un 30 %.", "en": "Yes, 30 %."}})
    rows = {
        row["path"]: row
        for row in flow_editor.describe_changes(
            t,
            flow_editor._content(old["qualification"], old["messages"], old["knowledge"]),
            flow_editor._content(new["qualification"], new["messages"], new["knowledge"]),
        )
    }
    assert set(rows) == {
        "messages.questions.budget.why.es",
        "qualification.stages.sql.min_score",
        "knowledge.entries.pricing_nonprofit",
    }
    threshold = rows["qualification.stages.sql.min_score"]
    assert (threshold["before"], threshold["after"], threshold["kind"]) == ("80", "90", "changed")
    assert threshold["label"] == "Umbrales de etapa › SQL › Puntuación mínima"
    why = rows["messages.questions.budget.why.es"]
    # Cut where it changed: the end is shown, the shared beginning is not repeated whole.
    assert why["before"].startswith("…") and why["before"].endswith("Sin descuentos.")
    assert why["after"].startswith("…") and why["after"].endswith("Ahora con descuento para ONG.")
    assert len(why["after"]) <= flow_editor.CHANGE_CHARS + 2 and why["after_full"].endswith("para ONG.")
    added = rows["knowledge.entries.pricing_nonprofit"]
    assert added["kind"] == "added" and added["before"] is None and "Sí, un 30 %." in added["after"]
