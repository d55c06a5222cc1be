"""Marketing's side of the console: the question flow's versions, drafts, the editor, the dry run,
a chat preview of a draft, publishing and restoring (routes under /flow, roles marketing and admin).

The backend is `leadqual.conversation.flows` (FlowStore, Drafts, preview tokens) and
`leadqual.conversation.dryrun`; this module only maps forms onto a draft and renders pages:

- the editor is one page per section (questions and texts, budget, authority, needs, timing,
  points and stages, routing, extra questions; the answers have their own page), each with its
  own form, linked from an overview that lists every problem and what the draft changes, each
  value before and after (`describe_changes`; the versions list shows the same);
- problems are said as sentences in the user's language next to their field (`explain`: the
  pydantic error's type and limits, or a custom check's message by its shape), the dotted path
  beside them;
- the editor's form fields are named after the dotted path they change in the draft
  (`f.messages.questions.budget.ask.es`, `f.qualification.stages.sql.min_score`), so a problem
  the validation reports (`qualification.stages.sql.min_score: Input should be a valid integer`)
  is shown next to its field; a number that does not parse is saved as typed, and reported;
- every save stores the draft, valid or not; only a valid one can be previewed, dry-run or
  published (`problems` adds the console's own checks, e.g. an empty question text);
- the preview is a chat page without script: the console posts each message to Rasa's REST
  channel with the draft's signed token in the metadata, and re-reads the exchange from Rasa's
  tracker (nothing is stored by the console; a preview writes no lead and no statistics).
"""

from __future__ import annotations

import asyncio
import copy
import logging
import os
import re
import secrets
from urllib.parse import quote, urlencode

import requests
import yaml
from pydantic import ValidationError
from sanic import Blueprint, response
from sanic.exceptions import NotFound
from sqlalchemy import delete, select

from leadqual import settings
from leadqual.config.marketing import BANT_SLOTS, EXTRA_SLOTS, QUESTION_SLOTS, Messages, QualificationConfig
from leadqual.console.knowledge_editor import knowledge_from_form, knowledge_view
from leadqual.conversation.dryrun import dry_run, knowledge_dry_run, load_sample_questions, load_samples
from leadqual.conversation.flows import Drafts, FlowDraft, FlowInvalid, FlowStore, changed_paths, preview_token
from leadqual.understanding.knowledge import KnowledgeBase
from leadqual.understanding.knowledge import field_path as knowledge_field_path

from .context import Console
from .i18n import LANGUAGES, translator

log = logging.getLogger(__name__)
TEXT_KINDS = ("ask", "why", "reask")
OPTION_SECTIONS = ("budget", "authority", "timing")
AUTHORITY_LEVELS = ("decision_maker", "influencer", "user", "none")
PERIODS = ("month", "year", "one_off")
# Blank option rows offered under each extra question (filled ones are added).
SPARE_OPTIONS = 2
RASA_TIMEOUT = 30.0
_PREVIEW_SENDER = re.compile(r"^preview-(\d+)-[0-9a-f]{12}$")


# -- paths in the draft ---------------------------------------------------------------------


def _step(node, key: str):
    if isinstance(node, dict):
        return node.get(key)
    if isinstance(node, list) and key.isdigit() and int(key) < len(node):
        return node[int(key)]
    return None


def get_path(data: dict, path: str):
    node = data
    for key in path.split("."):
        node = _step(node, key)
        if node is None:
            return None
    return node


def _coerce(old, raw: str):
    """A form value in the type the draft holds there: numbers for numbers (kept as typed when
    they do not parse, so validation names the field), lines for a list of text variations."""
    raw = raw.replace("\r\n", "\n")
    if isinstance(old, list):
        return [line.strip() for line in raw.split("\n") if line.strip()]
    if isinstance(old, bool) or isinstance(old, str):
        return raw.strip()
    text = raw.strip()
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            continue
    return text


def set_path(data: dict, path: str, raw: str) -> bool:
    """Set a leaf that exists (or a missing key of a mapping that does); False if the path is not in the draft."""
    *parents, leaf = path.split(".")
    node = data
    for key in parents:
        node = _step(node, key)
        if node is None:
            return False
    if isinstance(node, dict):
        node[leaf] = _coerce(node.get(leaf), raw)
        return True
    if isinstance(node, list) and leaf.isdigit() and int(leaf) < len(node):
        node[int(leaf)] = _coerce(node[int(leaf)], raw)
        return True
    return False


# -- the editor's form -> the draft ------------------------------------------------------------


def _label(form, prefix: str) -> dict:
    return {lang: (form.get(f"{prefix}.{lang}") or "").strip() for lang in LANGUAGES}


def _numeric(raw: str | None, default=0):
    return _coerce(default, raw) if raw not in (None, "") else default


def _when(form, n: int) -> dict:
    when: dict[str, list[str]] = {}
    for key in ("need", "authority", "qualifies"):
        values = [v for v in form.getlist(f"x.{n}.when.{key}") or [] if v]
        if values:
            when[key] = values
    # Conditions on an earlier extra question: "team_size: large, medium; other: yes".
    for part in (form.get(f"x.{n}.when_other") or "").split(";"):
        question, _, values = part.partition(":")
        if question.strip() and values.strip():
            when[question.strip()] = [v.strip() for v in values.split(",") if v.strip()]
    return when


def _extra_from_form(form, n: int) -> dict | None:
    prefix = f"x.{n}"
    if form.get(f"{prefix}.remove"):
        return None
    extra_id = (form.get(f"{prefix}.id") or "").strip()
    if not extra_id and not any((form.get(f"{prefix}.ask.{lang}") or "").strip() for lang in LANGUAGES):
        return None  # the blank "new question" block
    kind = form.get(f"{prefix}.kind") or "choice"
    extra = {
        "id": extra_id,
        "after": form.get(f"{prefix}.after") or "",
        "kind": kind,
        "when": _when(form, n),
        "ask": _label(form, f"{prefix}.ask"),
        "why": _label(form, f"{prefix}.why"),
        "reask": _label(form, f"{prefix}.reask"),
    }
    if kind == "text":
        extra["points_if_answered"] = _numeric(form.get(f"{prefix}.points_if_answered"))
        return extra
    options = []
    for k in range(int(form.get(f"{prefix}.option_rows") or 0)):
        row = f"{prefix}.opt.{k}"
        option_id = (form.get(f"{row}.id") or "").strip()
        label = _label(form, f"{row}.label")
        if form.get(f"{row}.remove") or not (option_id or any(label.values())):
            continue
        options.append({"id": option_id, "label": label, "points": _numeric(form.get(f"{row}.points"))})
    extra["options"] = options
    return extra


def _put(data: dict, path: str, value) -> bool:
    """Set a value at an existing place (a mapping's key may be new); None under an optional
    condition (`when`) drops the key instead."""
    *parents, leaf = path.split(".")
    node = get_path(data, ".".join(parents)) if parents else data
    if isinstance(node, dict):
        old = node.get(leaf)
        if isinstance(old, list) and isinstance(value, list) and sorted(map(str, old)) == sorted(map(str, value)):
            return True  # the same choices: their order is kept
        if value is None and (leaf not in node or (parents and parents[-1] == "when")):
            node.pop(leaf, None)  # blank and not there (or an optional condition): left out
        else:
            node[leaf] = value
        return True
    if isinstance(node, list) and leaf.isdigit() and int(leaf) < len(node):
        node[int(leaf)] = value
        return True
    return False


# The hidden value each group of boxes sends, so that none ticked still says "none" (a blank
# value would not reach the form: Sanic drops blank fields).
SHOWN = "__shown__"


def _choices(form, name: str) -> list[str]:
    return [v.strip() for v in form.getlist(name) or [] if v and v.strip() and v != SHOWN]


def apply_form(qualification: dict, messages: dict, form) -> tuple[dict, dict]:
    """The draft with the editor's form applied (copies; the arguments are left alone). Field
    names: `f.<path>` a value in the type the draft holds there; `m.<path>` the ticked boxes
    (a hidden `SHOWN` one says the group was shown); `l.<path>` a list, one item per line or
    comma; `b.<path>` yes/no ("1"/"0"); `o.<path>` an optional number or text, blank = none. An
    empty list of conditions drops the condition."""
    q, m = copy.deepcopy(qualification), copy.deepcopy(messages)
    data = {"qualification": q, "messages": m}
    for name in form:
        kind, path = name[:2], name[2:]
        if kind == "f.":
            set_path(data, path, form.get(name) or "")
        elif kind == "m.":
            _put(data, path, _choices(form, name) or (None if ".when." in path else []))
        elif kind == "l.":
            items = [v.strip() for v in re.split(r"[\n,]", form.get(name) or "") if v.strip()]
            _put(data, path, items or (None if ".when." in path else []))
        elif kind == "b.":
            _put(data, path, form.get(name) == "1")
        elif kind == "o.":
            raw = (form.get(name) or "").strip()
            _put(data, path, _coerce(None, raw) if raw else None)
    # Which questions are asked, and in what order (the email always is).
    if form.get("order.email") is not None:
        order = []
        for position, slot in enumerate(QUESTION_SLOTS):
            if slot == "email" or form.get(f"asked.{slot}"):
                try:
                    rank = float(form.get(f"order.{slot}") or position + 1)
                except ValueError:
                    rank = position + 1
                order.append((rank, position, slot))
        q["questions"] = [slot for _, _, slot in sorted(order)]
    if form.get("x.count") is not None:
        count = int(form.get("x.count") or 0)
        extras = [extra for n in range(count + 1) if (extra := _extra_from_form(form, n)) is not None]
        if extras or q.get("extra_questions"):
            q["extra_questions"] = extras
    return q, m


# -- the console's own checks ---------------------------------------------------------------------


def own_problems(qualification: dict, messages: dict) -> list[dict]:
    """What the schema allows but no visitor should meet: an empty question text."""
    problems = []
    questions = messages.get("questions") if isinstance(messages, dict) else None
    for slot in QUESTION_SLOTS:
        texts = (questions or {}).get(slot)
        if not isinstance(texts, dict):
            continue
        for kind in TEXT_KINDS:
            for lang in LANGUAGES:
                value = get_path(texts, f"{kind}.{lang}")
                variations = value if isinstance(value, list) else [value]
                if not any(isinstance(v, str) and v.strip() for v in variations):
                    problems.append(
                        {"field": f"messages.questions.{slot}.{kind}.{lang}", "message": "must not be empty"}
                    )
    return problems


def draft_problems(drafts: Drafts, draft: dict) -> list[dict]:
    return drafts.problems(draft["id"]) + own_problems(draft["qualification"], draft["messages"])


# -- problems as sentences, in the user's language ------------------------------------------------
# The validation (leadqual/conversation/flows.py) names each field and says what is wrong in
# pydantic's English. The editor re-reads the same data through the same models to learn the
# error's type (missing, int_parsing, greater_than...) and its limits, and says it as a sentence
# in the user's language; the custom checks' messages are matched by their shape. The dotted path
# stays, secondary, for whoever edits the YAML.

# The editor's sections: (key, the paths a section holds). A problem belongs to the first whose
# prefix matches; what none holds is in Advanced (YAML).
SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("questions", ("qualification.questions", "messages.questions")),
    ("budget", ("qualification.budget", "qualification.currency", "qualification.exchange_rates")),
    ("authority", ("qualification.authority",)),
    ("need", ("qualification.need",)),
    ("timing", ("qualification.timing",)),
    ("scoring", ("qualification.stages", "qualification.behaviour", "qualification.grades")),
    ("routing", ("qualification.handoff",)),
    ("extra", ("qualification.extra_questions",)),
    ("knowledge", ("knowledge",)),
)
SECTION_KEYS = tuple(key for key, _ in SECTIONS)
# Sections edited on this module's section pages (knowledge has its own page).
FORM_SECTIONS = tuple(key for key in SECTION_KEYS if key != "knowledge")


def section_of(path: str) -> str:
    for key, prefixes in SECTIONS:
        for prefix in prefixes:
            if path == prefix or path.startswith((prefix + ".", prefix + "[")):
                return key
    return "advanced"


def section_url(draft_id: int, section: str) -> str:
    return f"/flow/drafts/{draft_id}/{section}"


_TYPE_KEYS = {
    "missing": "err_missing",
    "int_parsing": "err_integer",
    "int_type": "err_integer",
    "int_from_float": "err_integer",
    "float_parsing": "err_number",
    "float_type": "err_number",
    "greater_than": "err_greater_than",
    "greater_than_equal": "err_at_least",
    "less_than": "err_less_than",
    "less_than_equal": "err_at_most",
    "string_too_short": "err_empty",
    "string_too_long": "err_too_long",
    "literal_error": "err_choice",
    "too_short": "err_too_few",
    "too_long": "err_too_many",
    "extra_forbidden": "err_unknown_field",
    "bool_parsing": "err_yes_no",
    "bool_type": "err_yes_no",
    "string_type": "err_text",
    "dict_type": "err_mapping",
    "model_type": "err_mapping",
    "model_attributes_type": "err_mapping",
    "list_type": "err_list",
    "value_error": "err_invalid",
}
_ID_PATTERNS = ("^[a-z0-9_]+$", "^[a-z0-9_.-]+$")
# The custom checks' messages (leadqual/config/marketing.py, flows.py, knowledge.py, this module),
# by their shape; the groups fill the sentence.
_MESSAGES: tuple[tuple[re.Pattern, str], ...] = tuple(
    (re.compile(pattern, re.S), key)
    for pattern, key in (
        (r"^(must not be empty|the text is empty|the question is empty|the keyword is empty)$", "err_empty"),
        (r"^the question has no texts$", "err_no_texts"),
        (r"^must be a mapping", "err_mapping"),
        (r"^thresholds must satisfy", "err_thresholds_order"),
        (r"^windows must be ordered by max_months$", "err_windows_order"),
        (r"^min is greater than max$", "err_min_max"),
        (r"^need ids must be unique$", "err_need_ids"),
        (r"^points is missing levels: (?P<value>.+)$", "err_missing_levels"),
        (r"^option '(?P<value>[^']*)' has an unknown level$", "err_option_level"),
        (r"^'(?P<value>[^']*)' is listed twice$", "err_listed_twice"),
        (r"^the email question is always asked$", "err_email_always"),
        (r"^'(?P<value>[^']*)' is required but not asked$", "err_required_not_asked"),
        (r"^a choice question needs at least two options$", "err_two_options"),
        (r"^a text question has no options$", "err_text_no_options"),
        (r"^duplicate (option|SDR|rule|entry) id '(?P<value>[^']*)'$", "err_duplicate_id"),
        (r"^id '(?P<value>[^']*)' is already used$", "err_duplicate_id"),
        (r"^'(?P<value>[^']*)' is not a question asked before this one$", "err_after"),
        (r"^unknown question '(?P<value>[^']*)'$", "err_unknown_question"),
        (r"^unknown value '(?P<value>[^']*)'$", "err_unknown_value"),
        (r"^unknown need '(?P<value>[^']*)'$", "err_unknown_value"),
        (r"^unknown SDR '(?P<value>[^']*)'$", "err_unknown_sdr"),
        (r"^must be an https:// URL$", "err_https"),
        (r"^unknown IANA time zone '(?P<value>[^']*)'$", "err_timezone"),
        (r"^spans overlap$", "err_spans_overlap"),
        (r"^'(?P<value>[^']*)' is not a span like", "err_span"),
        (r"start must be before the end", "err_span_order"),
        (r"^fit needs A >= B >= C$", "err_grades_fit"),
        (r"^engagement needs 1 >= 2$", "err_grades_engagement"),
        (r"^rules ids must be unique: (?P<value>.+)$", "err_duplicate_id"),
        (r"^the same question is an example of entry '(?P<value>[^']*)'$", "err_same_example"),
        (r"^an answer may contain at most one link$", "err_one_link"),
        (r"^link '(?P<value>[^']*)' must start with", "err_link"),
        (r"^exchange_rates\.(?P<value>\w+) must be 1", "err_base_rate"),
        (r"^exchange_rates\.(?P<value>\w+) must be positive$", "err_positive_rate"),
        (r"is not an ISO 3166 alpha-2 code|countries must be ISO 3166", "err_country"),
        (r"is not a month and day like", "err_month_day"),
        (r"^not valid YAML: (?P<value>.+)$", "err_yaml"),
        (r"^(budget|timing)\.options\[(?P<value>[^\]]*)\]\.value: .*min is greater than max", "err_option_range"),
        (r"^(budget|timing)\.options\[(?P<value>[^\]]*)\]\.value: ", "err_option_value"),
        # pydantic's own words, when its error could not be looked up again
        (r"^Field required$", "err_missing"),
        (r"^Input should be a valid integer", "err_integer"),
        (r"^Input should be a valid number", "err_number"),
        (r"^String should have at least 1 character", "err_empty"),
        (r"^Extra inputs are not permitted$", "err_unknown_field"),
    )
)


def _number(value: object) -> object:
    """0.0 -> 0: a limit as a person writes it."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _short(value: object, limit: int = 40) -> str:
    text = value if isinstance(value, str) else "" if value is None else str(value)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def sentence(t, message: str, detail: dict | None = None) -> str:
    """What is wrong, as a sentence in the user's language. `detail` is pydantic's error (type,
    ctx, input) when there is one; else, and for custom checks, the message's shape decides.
    A message nothing matches is said as "not valid" with pydantic's words after it."""
    text = message.removeprefix("Value error, ")
    kind = (detail or {}).get("type", "")
    ctx = (detail or {}).get("ctx") or {}
    value = _short((detail or {}).get("input"))
    if kind not in ("value_error", "handoff", "") or not any(p.search(text) for p, _ in _MESSAGES):
        if kind == "string_pattern_mismatch":
            return t("err_id_pattern") if ctx.get("pattern") in _ID_PATTERNS else t("err_pattern", value=value)
        if kind == "literal_error":
            choices = re.findall(r"'([^']*)'", str(ctx.get("expected", ""))) or [str(ctx.get("expected", ""))]
            return t("err_choice", expected=", ".join(choices))
        if kind in ("int_parsing", "float_parsing") and value:
            return t(_TYPE_KEYS[kind] + "_typed", value=value)
        key = _TYPE_KEYS.get(kind)
        if key and key != "err_invalid":
            fill = {"value": value, **{k: _short(_number(v), 80) for k, v in ctx.items()}}
            try:
                return t(key, **fill)
            except (KeyError, IndexError):  # a limit pydantic did not give: said without it
                return t("err_invalid", detail=text)
    for pattern, key in _MESSAGES:
        found = pattern.search(text)
        if found:
            return t(key, value=(found.groupdict().get("value") or value))
    return t("err_invalid", detail=text)


def _validation_details(draft: dict) -> dict[tuple[str, str], dict]:
    """pydantic's errors for the draft, by (field, message) as the validation names them."""
    details: dict[tuple[str, str], dict] = {}

    def collect(model, data, path_of) -> None:
        if not isinstance(data, dict):
            return
        try:
            model(**data)
        except ValidationError as exc:
            for err in exc.errors():
                details.setdefault((path_of(tuple(err["loc"])), err["msg"]), dict(err))
        except (TypeError, ValueError):
            return

    qualification = draft.get("qualification")
    if isinstance(qualification, dict):
        qualification = {**qualification, "version": 1}
    collect(QualificationConfig, qualification, lambda loc: ".".join(["qualification", *map(str, loc)]))
    collect(Messages, draft.get("messages"), lambda loc: ".".join(["messages", *map(str, loc)]))
    collect(KnowledgeBase, draft.get("knowledge"), lambda loc: "knowledge." + knowledge_field_path(loc))
    return details


def _upper(lang: str) -> str:
    return lang.upper() if lang in LANGUAGES else lang


# Field names as the editor labels them: (section, name) first, then the name alone.
_FIELD_KEYS = {
    ("budget", "qualifies"): "points_budget_qualifies",
    ("budget", "below_minimum"): "points_budget_below_minimum",
    ("budget", "no_budget"): "points_budget_no_budget",
    ("budget", "unknown"): "points_budget_unknown",
    ("budget", "minimum_price"): "flow_minimum_price",
    ("budget", "amount"): "field_amount",
    ("budget", "period"): "flow_period",
    ("authority", "none"): "level_none",
    ("need", "match"): "points_need_match",
    ("need", "none"): "points_need_none",
    ("timing", "max_months"): "flow_max_months",
    ("timing", "later_points"): "points_timing_later",
    ("timing", "unknown_points"): "points_timing_unknown",
    ("timing", "qualifying_months"): "flow_qualifying_months",
    ("stages", "nurture_below"): "flow_nurture_below",
    ("stages", "mql"): "funnel_mql",
    ("stages", "sql"): "funnel_sql",
    ("extra_questions", "ask"): "flow_text_ask",
    ("extra_questions", "why"): "flow_text_why",
    ("extra_questions", "reask"): "flow_text_reask",
    ("extra_questions", "after"): "flow_after",
    ("extra_questions", "when"): "flow_when",
    ("extra_questions", "options"): "flow_options",
    ("extra_questions", "points_if_answered"): "flow_points_if_answered",
    ("knowledge", "answer"): "knowledge_answer",
    ("knowledge", "questions"): "knowledge_questions",
    ("knowledge", "keywords"): "knowledge_keywords",
    ("knowledge", "threshold"): "knowledge_threshold",
    ("knowledge", "topic"): "knowledge_topic",
    ("knowledge", "price_band"): "knowledge_price_band",
    ("knowledge", "fallback"): "knowledge_fallback",
    ("knowledge", "continue_prompt"): "knowledge_continue_prompt",
    ("knowledge", "offer_questions"): "knowledge_offer_questions",
    ("questions", "ask"): "flow_text_ask",
    ("questions", "why"): "flow_text_why",
    ("questions", "reask"): "flow_text_reask",
    "decision_maker": "level_decision_maker",
    "influencer": "level_influencer",
    "user": "level_user",
    "points": "points",
    "label": "field_label",
    "options": "flow_buttons",
}
# A list named like its section ("Necesidad › crm", not "Necesidad › Necesidades › crm").
_SAME_AS_SECTION = {("need", "needs"), ("knowledge", "entries"), ("extra_questions", "extra_questions")}
_SECTION_KEYS = {
    "questions": "flow_questions",
    "budget": "budget",
    "authority": "authority",
    "need": "need",
    "timing": "timing",
    "stages": "flow_thresholds",
    "behaviour": "flow_behaviour_rules",
    "grades": "field_grades",
    "handoff": "flow_sec_routing",
    "extra_questions": "flow_extra",
}


def field_label(t, path: str, data: dict | None = None) -> str:
    """A field as marketing names it ("Presupuesto › Puntos › Llega al mínimo", "Etapas › sql ›
    Puntuación mínima", "Necesidad › crm › Etiqueta (ES)"): list items by their id; the dotted
    path is shown beside it, smaller."""
    data = data or {}
    parts = re.sub(r"\[(\d+)\]", r".\1", path).split(".")

    def named(key: str, fallback: str) -> str:
        text = t(key)
        return fallback if text == key else text

    out: list[str] = []
    head = parts[0]
    if head == "qualification" and len(parts) > 1:
        context = parts[1]
        out.append(named(_SECTION_KEYS.get(context, f"field_{context}"), context))
        rest, walked = parts[2:], parts[:2]
    elif head == "messages" and parts[1:2] == ["questions"] and len(parts) > 2:
        context = "questions"
        out.append(named(f"q_{parts[2]}", parts[2]))
        rest, walked = parts[3:], parts[:3]
    elif head == "knowledge":
        context = "knowledge"
        out.append(t("flow_knowledge"))
        rest, walked = parts[1:], parts[:1]
    else:
        context, rest, walked = head, parts[1:], parts[:1]
        out.append(named(f"field_{head}", head))
    for name in rest:
        walked = [*walked, name]
        if name.isdigit():
            item = get_path(data, ".".join(walked))
            if isinstance(item, dict) and item.get("id"):
                out.append(str(item["id"]))
            elif walked[-2] not in ("es", "en"):
                out.append(str(int(name) + 1))
        elif name in LANGUAGES:
            out[-1] = f"{out[-1]} ({name.upper()})"
        elif (context, name) not in _SAME_AS_SECTION:
            key = _FIELD_KEYS.get((context, name)) or _FIELD_KEYS.get(name) or f"field_{name}"
            out.append(named(key, name))
    return " › ".join(out)


def explain(t, problems: list[dict], draft: dict | None) -> list[dict]:
    """Each problem with its sentence (`text`), the field as marketing names it (`label`), the
    editor section that holds it and the link to the field there; `field` and `message` stay."""
    details = _validation_details(draft) if draft else {}
    explained = []
    said: set[tuple[str, str]] = set()
    for problem in problems:
        field, message = problem["field"], problem["message"]
        text = sentence(t, message, details.get((field, message)))
        if (field, text) in said:  # two checks of the same thing (an empty text): said once
            continue
        said.add((field, text))
        section = section_of(field)
        explained.append(
            {
                **problem,
                "text": text,
                "label": field_label(t, field, draft),
                "section": section,
                "href": f"/flow/drafts/{draft['id']}/{section}#field-{field}" if draft else None,
            }
        )
    return explained


# -- what the pages show ----------------------------------------------------------------------------


def _text(value) -> str:
    if isinstance(value, list):
        return "\n".join(str(v) for v in value)
    return "" if value is None else str(value)


def editor_view(draft: dict) -> dict:
    """The draft as the editor's form shows it."""
    q, m = draft["qualification"], draft["messages"]
    asked = list(q.get("questions") or []) if isinstance(q.get("questions"), list) else []
    questions = []
    for position, slot in enumerate(QUESTION_SLOTS):
        texts = (m.get("questions") or {}).get(slot) or {}
        questions.append(
            {
                "slot": slot,
                "asked": slot in asked or slot == "email",
                "order": asked.index(slot) + 1 if slot in asked else len(asked) + position + 1,
                "texts": [
                    {
                        "kind": kind,
                        "lang": lang,
                        "path": f"messages.questions.{slot}.{kind}.{lang}",
                        "value": _text(get_path(texts, f"{kind}.{lang}")),
                        "lines": isinstance(get_path(texts, f"{kind}.{lang}"), list),
                    }
                    for kind in TEXT_KINDS
                    for lang in LANGUAGES
                ],
            }
        )
    questions.sort(key=lambda item: (not item["asked"], item["order"]))
    options = {
        section: [
            {"index": i, "id": option.get("id"), "label": option.get("label") or {}}
            for i, option in enumerate((q.get(section) or {}).get("options") or [])
            if isinstance(option, dict)
        ]
        for section in OPTION_SECTIONS
    }
    needs = [
        {"index": i, "id": need.get("id"), "label": need.get("label") or {}}
        for i, need in enumerate((q.get("need") or {}).get("needs") or [])
        if isinstance(need, dict)
    ]
    extras = []
    for n, extra in enumerate(q.get("extra_questions") or []):
        if isinstance(extra, dict):
            extras.append(_extra_view(extra, n))
    anchors = [slot for slot in QUESTION_SLOTS if slot in asked] + [e["id"] for e in extras if e["id"]]
    return {
        "questions": questions,
        "options": options,
        "needs": needs,
        "need_ids": [n["id"] for n in needs],
        "windows": [w for w in (q.get("timing") or {}).get("windows") or [] if isinstance(w, dict)],
        "rules": [r for r in (q.get("behaviour") or {}).get("rules") or [] if isinstance(r, dict)],
        "sdrs": [s for s in (q.get("handoff") or {}).get("sdrs") or [] if isinstance(s, dict)],
        "sdr_ids": [s.get("id") for s in (q.get("handoff") or {}).get("sdrs") or [] if isinstance(s, dict)],
        "routing_rules": [
            {**r, "when": r.get("when") if isinstance(r.get("when"), dict) else {}}
            for r in (q.get("handoff") or {}).get("rules") or []
            if isinstance(r, dict)
        ],
        "extras": extras,
        "new_extra": _extra_view({"kind": "choice", "options": []}, len(extras))
        if len(extras) < len(EXTRA_SLOTS)
        else None,
        "anchors": anchors,
        "levels": AUTHORITY_LEVELS,
        "bant": BANT_SLOTS,
        "periods": PERIODS,
        "value": lambda path, default="": _or(get_path({"qualification": q, "messages": m}, path), default),
    }


def _or(value, default):
    return default if value is None else value


def _extra_view(extra: dict, n: int) -> dict:
    when = extra.get("when") if isinstance(extra.get("when"), dict) else {}
    other = "; ".join(
        f"{key}: {', '.join(map(str, values or []))}"
        for key, values in when.items()
        if key not in ("need", "authority", "qualifies")
    )
    options = [o for o in extra.get("options") or [] if isinstance(o, dict)]
    return {
        "n": n,
        "path": f"qualification.extra_questions.{n}",
        "id": extra.get("id") or "",
        "after": extra.get("after") or "",
        "kind": extra.get("kind") or "choice",
        "when": when,
        "when_other": other,
        "ask": extra.get("ask") or {},
        "why": extra.get("why") or {},
        "reask": extra.get("reask") or {},
        "points_if_answered": extra.get("points_if_answered", 0),
        "options": options + [{"id": "", "label": {}, "points": 0}] * SPARE_OPTIONS,
        "option_count": len(options),
    }


# -- what changed, before and after ---------------------------------------------------------------

_ABSENT = object()
# A changed text longer than this is cut, around where it changed.
CHANGE_CHARS = 160


def value_at(data: object, path: str) -> object:
    """The value a change path names (list items by their id, as `changed_paths` names them, or
    by index); `_ABSENT` if there is none."""
    node = data
    for key in path.split("."):
        if isinstance(node, dict):
            if key not in node:
                return _ABSENT
            node = node[key]
        elif isinstance(node, list):
            by_id = {
                item.get("id"): item for item in node if isinstance(item, dict) and isinstance(item.get("id"), str)
            }
            if key in by_id:
                node = by_id[key]
            elif key.isdigit() and int(key) < len(node):
                node = node[int(key)]
            else:
                return _ABSENT
        else:
            return _ABSENT
    return node


def _plain(t, path: str, value: object) -> str:
    """A value as one readable line: texts as they are, variations and lists joined, numbers
    without a needless ".0", the question order by the questions' names, a block as key: value."""
    if isinstance(value, bool):
        return t("yes") if value else t("no")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return " ".join(value.split())
    if isinstance(value, list) and all(not isinstance(v, (dict, list)) for v in value):
        if path == "qualification.questions":
            return " → ".join(t(f"q_{v}") if t(f"q_{v}") != f"q_{v}" else str(v) for v in value)
        return " / ".join(_plain(t, path, v) for v in value)
    if value is None:
        return "–"
    dumped = yaml.safe_dump(value, allow_unicode=True, sort_keys=False, default_flow_style=True, width=10**6)
    return " ".join(dumped.split())


def _cut(text: str, start: int, limit: int = CHANGE_CHARS) -> str:
    """`text` from about `start` (… where cut), at most `limit` characters, cut at a space."""
    prefix = ""
    if start > 0:
        space = text.rfind(" ", 0, start)
        start = space + 1 if space > start - 30 else start
        text, prefix = text[start:], "…"
    if len(text) > limit:
        space = text.rfind(" ", 0, limit)
        text = text[: space if space > limit * 2 // 3 else limit].rstrip() + "…"
    return prefix + text


def before_after(t, path: str, old: object, new: object) -> dict:
    """One change as marketing reads it: what it was, what it is (cut around the first
    difference when long; the whole texts are kept in `before_full` and `after_full`)."""
    before = None if old is _ABSENT else _plain(t, path, old)
    after = None if new is _ABSENT else _plain(t, path, new)
    start = 0
    if before and after and (len(before) > CHANGE_CHARS or len(after) > CHANGE_CHARS):
        common = next((i for i, (a, b) in enumerate(zip(before, after, strict=False)) if a != b), None)
        common = min(len(before), len(after)) if common is None else common
        start = max(0, common - 40) if common > CHANGE_CHARS // 2 else 0
    return {
        "path": path,
        "kind": "added" if old is _ABSENT else "removed" if new is _ABSENT else "changed",
        "before": None if before is None else _cut(before, start),
        "after": None if after is None else _cut(after, start),
        "before_full": before,
        "after_full": after,
    }


def describe_changes(t, old: dict, new: dict, paths: list[str] | None = None) -> list[dict]:
    """Each changed path (given, or found between `old` and `new`: {qualification, messages,
    knowledge}) with its field's name, section and before/after."""
    paths = changed_paths(old, new) if paths is None else paths
    rows = []
    for path in paths:
        row = before_after(t, path, value_at(old, path), value_at(new, path))
        rows.append({**row, "label": field_label(t, path, new), "section": section_of(path)})
    return rows


def _content(qualification: dict, messages: dict, knowledge: dict | None) -> dict:
    return {
        "qualification": {k: v for k, v in (qualification or {}).items() if k != "version"},
        "messages": messages or {},
        "knowledge": knowledge or {},
    }


def _dump(data: dict) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=120)


# -- the preview chat --------------------------------------------------------------------------------


class PreviewError(Exception):
    """Rasa could not be reached, refused the token or answered with an error (`code`)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class PreviewChat:
    """Talks to Rasa for the preview page: the REST channel for messages, the HTTP API for the transcript."""

    def __init__(self, url: str | None = None, token: str | None = None, timeout: float = RASA_TIMEOUT) -> None:
        self.url = (url or os.environ.get("RASA_URL") or "http://127.0.0.1:5005").rstrip("/")
        self.token = token if token is not None else os.environ.get("RASA_AUTH_TOKEN", "")
        self.timeout = timeout

    def _call(self, method: str, path: str, **kwargs):
        try:
            answer = requests.request(method, self.url + path, timeout=self.timeout, **kwargs)
        except requests.RequestException as exc:
            raise PreviewError("rasa_unreachable", f"Rasa is not answering at {self.url}: {exc}") from exc
        if answer.status_code in (401, 403):
            raise PreviewError("rasa_token", "Rasa refused the API token (RASA_AUTH_TOKEN)")
        if answer.status_code >= 400:
            raise PreviewError("rasa_error", f"Rasa answered {answer.status_code}: {answer.text[:200]}")
        try:
            return answer.json()
        except ValueError as exc:
            raise PreviewError("rasa_error", "Rasa's answer is not JSON") from exc

    def send(self, sender: str, message: str, token: str, lang: str) -> list[dict]:
        # Rasa's REST channel needs its own token (leadqual_rasa/channels.py GuardedRestInput).
        rest_token = settings.REST_TOKEN.get()
        replies = self._call(
            "post",
            "/webhooks/rest/webhook",
            json={"sender": sender, "message": message, "metadata": {"flow_preview": token, "lang": lang}},
            headers={"Authorization": f"Bearer {rest_token}"},
        )
        return replies if isinstance(replies, list) else []

    def transcript(self, sender: str) -> list[dict]:
        tracker = self._call("get", f"/conversations/{quote(sender, safe='')}/tracker", params={"token": self.token})
        return lines_from_tracker((tracker or {}).get("events") or [])


def lines_from_tracker(events: list) -> list[dict]:
    """Who said what, with the buttons each bot message offered ({title, payload}); a click shows
    as the button's title."""
    lines: list[dict] = []
    offered: dict[str, str] = {}
    for event in events:
        if not isinstance(event, dict) or event.get("event") not in ("user", "bot"):
            continue
        text = str(event.get("text") or "")
        if event["event"] == "user":
            lines.append({"sender": "visitor", "text": offered.get(text, text), "buttons": []})
            continue
        data = event.get("data") or {}
        buttons = [
            {"title": str(b.get("title") or ""), "payload": str(b.get("payload") or "")}
            for b in (data.get("buttons") if isinstance(data, dict) else None) or []
            if isinstance(b, dict) and b.get("payload")
        ]
        offered = {b["payload"]: b["title"] for b in buttons}
        if text or buttons:
            lines.append({"sender": "bot", "text": text, "buttons": buttons})
    return lines


def lines_from_replies(message: str, replies: list[dict]) -> list[dict]:
    lines = [{"sender": "visitor", "text": message, "buttons": []}]
    for reply in replies:
        if not isinstance(reply, dict):
            continue
        buttons = [
            {"title": str(b.get("title") or ""), "payload": str(b.get("payload") or "")}
            for b in reply.get("buttons") or []
            if isinstance(b, dict) and b.get("payload")
        ]
        lines.append({"sender": "bot", "text": str(reply.get("text") or ""), "buttons": buttons})
    return lines


def last_buttons(lines: list[dict]) -> list[dict]:
    """The buttons offered since the visitor last spoke (what the widget would show)."""
    buttons: list[dict] = []
    for line in lines:
        buttons = [] if line["sender"] == "visitor" else (line["buttons"] or buttons)
    return buttons


# -- routes ---------------------------------------------------------------------------------------------


def register(app, store, render, need, flows: FlowStore | None = None, chat: PreviewChat | None = None) -> None:
    """The /flow pages. `render(request, template, status=..., **context)` and `need(request, permission)`
    are the console's (app.py)."""
    flows = flows or FlowStore(store.engine)
    drafts = Drafts(flows)
    chat = chat or PreviewChat()

    def t_of(request):
        return translator(request.ctx.lang)

    def load_draft(draft_id: int) -> dict:
        draft = drafts.get(draft_id)
        if draft is None:
            raise NotFound("no such draft")
        return draft

    def draft_list() -> list[dict]:
        with store.sessions() as session:
            rows = session.execute(
                select(FlowDraft.id, FlowDraft.based_on, FlowDraft.created_by, FlowDraft.updated_at).order_by(
                    FlowDraft.updated_at.desc()
                )
            ).all()
        return [row._asdict() for row in rows]

    def version_changes(request, entries: list[dict], limit: int = 30) -> dict[int, list[dict]]:
        """Before/after of each version's changes (against the version before it), for the
        newest `limit` versions; older ones list their paths only."""
        t = t_of(request)
        contents: dict[int, dict] = {}

        def content(version: int) -> dict:
            if version not in contents:
                try:
                    q, m = flows.content(version)
                    contents[version] = _content(q, m, flows.knowledge_content(version))
                except KeyError:
                    contents[version] = {}
            return contents[version]

        described = {}
        for entry in entries[:limit]:
            if entry["changes"]:
                old = content(entry["version"] - 1) if entry["version"] > 1 else {}
                described[entry["version"]] = describe_changes(t, old, content(entry["version"]), entry["changes"])
        return described

    def versions_page(request, status: int = 200, **context):
        history = flows.history()
        return render(
            request,
            "flow_versions.html",
            status=status,
            versions=history,
            described=version_changes(request, history),
            drafts=draft_list(),
            current=flows.current().version,
            **context,
        )

    def problem_lookup(problems: list[dict]):
        """path -> the sentences of the problems at that field (explained problems)."""
        by_field: dict[str, list[str]] = {}
        for problem in problems:
            by_field.setdefault(problem["field"], []).append(problem.get("text") or problem["message"])
        return lambda path: by_field.get(path, [])

    def section_nav(draft: dict, problems: list[dict]) -> list[dict]:
        counts: dict[str, int] = {}
        for problem in problems:
            counts[problem["section"]] = counts.get(problem["section"], 0) + 1
        return [
            {
                "key": key,
                "href": f"/flow/drafts/{draft['id']}/{key}",
                "problems": counts.get(key, 0),
            }
            for key in SECTION_KEYS
        ] + [{"key": "advanced", "href": f"/flow/drafts/{draft['id']}/advanced", "problems": counts.get("advanced", 0)}]

    def draft_changes(request, draft: dict) -> list[dict]:
        """What this draft changes in the version it was started from."""
        try:
            q, m = flows.content(draft["based_on"])
            base = _content(q, m, flows.knowledge_content(draft["based_on"]))
        except KeyError:
            return []
        mine = _content(draft["qualification"], draft["messages"], draft["knowledge"])
        return describe_changes(t_of(request), base, mine)

    def editor_page(request, draft: dict, status: int = 200, problems: list[dict] | None = None, **context):
        """The draft's overview: its sections with their problem counts, every problem as a
        sentence with a link to its field, what it changes (before/after), and publishing."""
        problems = draft_problems(drafts, draft) if problems is None else problems
        explained = explain(t_of(request), problems, draft)
        return render(
            request,
            "flow_editor.html",
            status=status,
            draft=draft,
            current=flows.current().version,
            problems=explained,
            sections=section_nav(draft, explained),
            changes=draft_changes(request, draft),
            **context,
        )

    def section_page(request, draft: dict, section: str, status: int = 200, **context):
        """One section of the editor, with its own form; its problems next to their fields."""
        explained = explain(t_of(request), draft_problems(drafts, draft), draft)
        mine = [p for p in explained if p["section"] == section]
        position = FORM_SECTIONS.index(section)
        following = SECTION_KEYS[position + 1] if position + 1 < len(SECTION_KEYS) else None
        return render(
            request,
            "flow_section.html",
            status=status,
            draft=draft,
            section=section,
            next_section=following,
            current=flows.current().version,
            problems=mine,
            all_problems=explained,
            sections=section_nav(draft, explained),
            problem=problem_lookup(mine),
            view=editor_view(draft),
            **context,
        )

    @app.get("/flow")
    async def flow_versions(request):
        need(request, "flows")
        args = {k: request.args.get(k) for k in ("published", "restored", "discarded")}
        return versions_page(request, **{k: v for k, v in args.items() if v and v.isdigit()})

    @app.get("/flow/versions/<version:int>")
    async def flow_version(request, version: int):
        need(request, "flows")
        entry = next((v for v in flows.history() if v["version"] == version), None)
        if entry is None:
            raise NotFound("no such version")
        qualification, messages = flows.content(version)
        return render(
            request,
            "flow_version.html",
            entry=entry,
            changes=version_changes(request, [entry]).get(version, []),
            current=flows.current().version,
            qualification_yaml=_dump(qualification),
            messages_yaml=_dump(messages),
        )

    @app.post("/flow/versions/<version:int>/restore")
    async def flow_restore(request, version: int):
        user = need(request, "flows")
        try:
            flow = flows.restore(version, by=user.email)
        except KeyError:
            raise NotFound("no such version") from None
        except FlowInvalid as exc:  # a version valid then, not under today's rules
            return versions_page(
                request,
                status=400,
                error=t_of(request)("flow_restore_invalid"),
                problems=explain(t_of(request), exc.problems, None),
            )
        return response.redirect(f"/flow?{urlencode({'restored': flow.version})}", status=303)

    @app.post("/flow/drafts")
    async def flow_new_draft(request):
        user = need(request, "flows")
        source = request.form.get("from")
        version = int(source) if source and source.isdigit() else flows.current().version
        try:
            qualification, messages = flows.content(version)
        except KeyError:
            raise NotFound("no such version") from None
        qualification = {k: v for k, v in qualification.items() if k != "version"}
        draft_id, _ = drafts.save(qualification, messages, by=user.email)
        # A new draft opens on its first section, the questions (nothing to fix or compare yet).
        return response.redirect(f"/flow/drafts/{draft_id}/{FORM_SECTIONS[0]}", status=303)

    @app.get("/flow/drafts/<draft_id:int>")
    async def flow_editor(request, draft_id: int):
        need(request, "flows")
        saved = request.args.get("saved") == "1"
        return editor_page(request, load_draft(draft_id), saved=saved)

    def section_handler(section: str):
        async def flow_section(request, draft_id: int):
            need(request, "flows")
            return section_page(request, load_draft(draft_id), section, saved=request.args.get("saved") == "1")

        flow_section.__name__ = f"flow_section_{section}"
        return flow_section

    for section in FORM_SECTIONS:
        app.add_route(
            section_handler(section),
            f"/flow/drafts/<draft_id:int>/{section}",
            methods=["GET"],
            name=f"flow_section_{section}",
        )

    @app.post("/flow/drafts/<draft_id:int>")
    async def flow_save(request, draft_id: int):
        """Stores the draft, valid or not, and goes back to the section the form was (or to the
        overview), where its problems are shown next to their fields."""
        user = need(request, "flows")
        draft = load_draft(draft_id)
        # Blank fields kept: a text or number emptied in the browser is saved empty (and reported),
        # not left as it was.
        form = request.get_form(keep_blank_values=True) or request.form
        qualification, messages = apply_form(draft["qualification"], draft["messages"], form)
        drafts.save(qualification, messages, by=user.email, draft_id=draft_id)
        section = form.get("section")
        if section in FORM_SECTIONS:
            return response.redirect(f"/flow/drafts/{draft_id}/{section}?saved=1", status=303)
        return response.redirect(f"/flow/drafts/{draft_id}?saved=1", status=303)

    @app.post("/flow/drafts/<draft_id:int>/discard")
    async def flow_discard(request, draft_id: int):
        need(request, "flows")
        load_draft(draft_id)
        with store.sessions.begin() as session:
            session.execute(delete(FlowDraft).where(FlowDraft.id == draft_id))
        return response.redirect(f"/flow?discarded={draft_id}", status=303)

    @app.get("/flow/drafts/<draft_id:int>/advanced")
    async def flow_advanced(request, draft_id: int):
        need(request, "flows")
        draft = load_draft(draft_id)
        return render(
            request,
            "flow_advanced.html",
            draft=draft,
            problems=explain(t_of(request), draft_problems(drafts, draft), draft),
            qualification_yaml=_dump(draft["qualification"]),
            messages_yaml=_dump(draft["messages"]),
            knowledge_yaml=_dump(draft["knowledge"]),
            saved=request.args.get("saved") == "1",
        )

    @app.post("/flow/drafts/<draft_id:int>/advanced")
    async def flow_advanced_save(request, draft_id: int):
        user = need(request, "flows")
        draft = load_draft(draft_id)
        # knowledge.yml may be left out (a form from before it was shown): the draft keeps its own.
        texts = {name: request.form.get(name) or "" for name in ("qualification", "messages")}
        if request.form.get("knowledge") is not None:
            texts["knowledge"] = request.form.get("knowledge")
        parsed, problems = {}, []
        for name, text in texts.items():
            try:
                data = yaml.safe_load(text)
            except yaml.YAMLError as exc:
                problems.append({"field": name, "message": f"not valid YAML: {exc}"})
                continue
            if not isinstance(data, dict):
                problems.append({"field": name, "message": "must be a mapping (key: value lines)"})
                continue
            parsed[name] = data
        if problems:  # not saved: there is nothing a draft could hold
            return render(
                request,
                "flow_advanced.html",
                status=400,
                draft=draft,
                problems=explain(t_of(request), problems, None),
                not_saved=True,
                qualification_yaml=texts["qualification"],
                messages_yaml=texts["messages"],
                knowledge_yaml=texts.get("knowledge", _dump(draft["knowledge"])),
            )
        qualification = {k: v for k, v in parsed["qualification"].items() if k != "version"}
        drafts.save(
            qualification, parsed["messages"], by=user.email, draft_id=draft_id, knowledge=parsed.get("knowledge")
        )
        draft = load_draft(draft_id)
        problems = draft_problems(drafts, draft)
        if problems:
            return render(
                request,
                "flow_advanced.html",
                draft=draft,
                problems=explain(t_of(request), problems, draft),
                saved=True,
                qualification_yaml=_dump(draft["qualification"]),
                messages_yaml=_dump(draft["messages"]),
                knowledge_yaml=_dump(draft["knowledge"]),
            )
        return response.redirect(f"/flow/drafts/{draft_id}/advanced?saved=1", status=303)

    def knowledge_page(request, draft: dict, status: int = 200, **context):
        problems = context.pop("problems", None)
        problems = draft_problems(drafts, draft) if problems is None else problems
        explained = explain(t_of(request), problems, draft)
        knowledge_problems = [p for p in explained if p["field"].startswith("knowledge")]

        def under(prefix: str) -> list[str]:
            return [p["text"] for p in knowledge_problems if p["field"].startswith(prefix)]

        return render(
            request,
            "flow_knowledge.html",
            status=status,
            draft=draft,
            problems=knowledge_problems,
            sections=section_nav(draft, explained),
            problem=under,
            view=knowledge_view(context.pop("knowledge", None) or draft["knowledge"]),
            **context,
        )

    @app.get("/flow/drafts/<draft_id:int>/knowledge")
    async def flow_knowledge(request, draft_id: int):
        need(request, "flows")
        return knowledge_page(request, load_draft(draft_id), saved=request.args.get("saved") == "1")

    @app.post("/flow/drafts/<draft_id:int>/knowledge")
    async def flow_knowledge_save(request, draft_id: int):
        user = need(request, "flows")
        draft = load_draft(draft_id)
        knowledge = knowledge_from_form(request.get_form(keep_blank_values=True) or request.form, draft["knowledge"])
        drafts.save(draft["qualification"], draft["messages"], by=user.email, draft_id=draft_id, knowledge=knowledge)
        draft = load_draft(draft_id)
        problems = draft_problems(drafts, draft)
        if any(p["field"].startswith("knowledge") for p in problems):
            return knowledge_page(request, draft, status=400, problems=problems, saved=True)
        return response.redirect(f"/flow/drafts/{draft_id}/knowledge?saved=1", status=303)

    @app.post("/flow/drafts/<draft_id:int>/publish")
    async def flow_publish(request, draft_id: int):
        user = need(request, "flows")
        draft = load_draft(draft_id)
        t = t_of(request)
        problems = draft_problems(drafts, draft)
        if problems:
            return editor_page(request, draft, status=400, problems=problems, error=t("flow_publish_invalid"))
        note = (request.form.get("note") or "").strip()[:2000]
        try:
            flow = drafts.publish(draft_id, by=user.email, note=note)
        except FlowInvalid as exc:
            return editor_page(request, draft, status=400, problems=exc.problems, error=t("flow_publish_invalid"))
        except ValueError:
            return editor_page(request, draft, status=400, problems=[], error=t("flow_nothing_changed"))
        return response.redirect(f"/flow?{urlencode({'published': flow.version})}", status=303)

    def valid_flow_or_page(request, draft: dict, what: str):
        """The draft as a Flow, or the page saying why it cannot be used yet."""
        problems = draft_problems(drafts, draft)
        flow = None if problems else drafts.flow(draft["id"])
        if flow is None:
            return None, render(
                request,
                "flow_blocked.html",
                status=409,
                draft=draft,
                problems=explain(t_of(request), problems, draft),
                what=t_of(request)(what),
            )
        return flow, None

    @app.get("/flow/drafts/<draft_id:int>/dry-run")
    async def flow_dry_run(request, draft_id: int):
        need(request, "flows")
        draft = load_draft(draft_id)
        flow, blocked = valid_flow_or_page(request, draft, "flow_dry_run")
        if blocked:
            return blocked
        current = flows.current()
        try:
            rows = dry_run(current, flow, load_samples())
            questions = knowledge_dry_run(current, flow, load_sample_questions())
            error = None
        except ValueError as exc:  # ConfigError: the samples file is broken
            rows, questions, error = [], [], str(exc)
        return render(
            request,
            "flow_dryrun.html",
            draft=draft,
            rows=rows,
            questions=questions,
            current=current.version,
            error=error,
        )

    # -- the preview chat ----------------------------------------------------------------------------

    def preview_page(request, draft: dict, status: int = 200, **context):
        lang = context.pop("lang", None) or request.args.get("lang") or "es"
        lines = context.pop("lines", [])
        return render(
            request,
            "flow_preview.html",
            status=status,
            draft=draft,
            lines=lines,
            buttons=last_buttons(lines),
            chat_lang=lang if lang in LANGUAGES else "es",
            **context,
        )

    @app.get("/flow/drafts/<draft_id:int>/preview")
    async def flow_preview(request, draft_id: int):
        need(request, "flows")
        draft = load_draft(draft_id)
        _flow, blocked = valid_flow_or_page(request, draft, "flow_preview")
        if blocked:
            return blocked
        sender = request.args.get("chat") or ""
        match = _PREVIEW_SENDER.match(sender)
        if not match or int(match.group(1)) != draft_id:
            return preview_page(request, draft, sender=None)
        try:
            lines = await asyncio.to_thread(chat.transcript, sender)
        except PreviewError as exc:
            return preview_page(request, draft, status=503, sender=sender, rasa_error=exc.code)
        return preview_page(request, draft, sender=sender, lines=lines, lang=request.args.get("lang"))

    @app.post("/flow/drafts/<draft_id:int>/preview")
    async def flow_preview_say(request, draft_id: int):
        need(request, "flows")
        draft = load_draft(draft_id)
        _flow, blocked = valid_flow_or_page(request, draft, "flow_preview")
        if blocked:
            return blocked
        form = request.form
        lang = form.get("lang") if form.get("lang") in LANGUAGES else "es"
        sender = form.get("chat") or ""
        match = _PREVIEW_SENDER.match(sender)
        if not match or int(match.group(1)) != draft_id:
            sender = f"preview-{draft_id}-{secrets.token_hex(6)}"
        message = (form.get("payload") or form.get("message") or "").strip()[:4000]
        if not message:
            return response.redirect(_preview_url(draft_id, sender, lang), status=303)
        try:
            token = preview_token(draft_id)
        except ValueError:
            return preview_page(request, draft, status=503, sender=None, error=t_of(request)("flow_preview_off"))
        try:
            replies = await asyncio.to_thread(chat.send, sender, message, token, lang)
        except PreviewError as exc:
            return preview_page(request, draft, status=503, sender=sender, rasa_error=exc.code, lang=lang)
        try:
            await asyncio.to_thread(chat.transcript, sender)
        except PreviewError as exc:  # the webhook answered: show its replies at least
            return preview_page(
                request,
                draft,
                sender=sender,
                rasa_error=exc.code,
                lines=lines_from_replies(form.get("title") or message, replies),
                lang=lang,
            )
        return response.redirect(_preview_url(draft_id, sender, lang), status=303)


def _preview_url(draft_id: int, sender: str, lang: str) -> str:
    return f"/flow/drafts/{draft_id}/preview?" + urlencode({"chat": sender, "lang": lang})


def blueprint(console: Console) -> Blueprint:
    """These pages as a blueprint of the console app (app.build_app)."""
    bp = Blueprint("flow_editor")
    register(bp, console.store, console.render, console.need)
    return bp
