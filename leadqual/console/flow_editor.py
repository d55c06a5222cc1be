"""Marketing's side of the console: the question flow's versions, drafts, the editor, the dry run,
a chat preview of a draft, publishing and restoring (routes under /flow, roles marketing and admin).

The backend is `leadqual.conversation.flows` (FlowStore, Drafts, preview tokens) and
`leadqual.conversation.dryrun`; this module only maps forms onto a draft and renders pages:

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
from sanic import Blueprint, response
from sanic.exceptions import NotFound
from sqlalchemy import delete, select

from leadqual import settings
from leadqual.config.marketing import BANT_SLOTS, EXTRA_SLOTS, QUESTION_SLOTS
from leadqual.console.knowledge_editor import knowledge_from_form, knowledge_view
from leadqual.conversation.dryrun import dry_run, knowledge_dry_run, load_sample_questions, load_samples
from leadqual.conversation.flows import Drafts, FlowDraft, FlowInvalid, FlowStore, preview_token

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


def apply_form(qualification: dict, messages: dict, form) -> tuple[dict, dict]:
    """The draft with the editor's form applied (copies; the arguments are left alone)."""
    q, m = copy.deepcopy(qualification), copy.deepcopy(messages)
    data = {"qualification": q, "messages": m}
    for name in form:
        if name.startswith("f."):
            set_path(data, name[2:], form.get(name) or "")
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

    def versions_page(request, status: int = 200, **context):
        return render(
            request,
            "flow_versions.html",
            status=status,
            versions=flows.history(),
            drafts=draft_list(),
            current=flows.current().version,
            **context,
        )

    def problem_lookup(problems: list[dict]):
        by_field: dict[str, list[str]] = {}
        for problem in problems:
            by_field.setdefault(problem["field"], []).append(problem["message"])
        return lambda path: by_field.get(path, [])

    def editor_page(request, draft: dict, status: int = 200, problems: list[dict] | None = None, **context):
        problems = draft_problems(drafts, draft) if problems is None else problems
        return render(
            request,
            "flow_editor.html",
            status=status,
            draft=draft,
            current=flows.current().version,
            problems=problems,
            problem=problem_lookup(problems),
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
                request, status=400, error=t_of(request)("flow_restore_invalid"), problems=exc.problems
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
        return response.redirect(f"/flow/drafts/{draft_id}", status=303)

    @app.get("/flow/drafts/<draft_id:int>")
    async def flow_editor(request, draft_id: int):
        need(request, "flows")
        saved = request.args.get("saved") == "1"
        return editor_page(request, load_draft(draft_id), saved=saved)

    @app.post("/flow/drafts/<draft_id:int>")
    async def flow_save(request, draft_id: int):
        user = need(request, "flows")
        draft = load_draft(draft_id)
        qualification, messages = apply_form(draft["qualification"], draft["messages"], request.form)
        drafts.save(qualification, messages, by=user.email, draft_id=draft_id)
        draft = load_draft(draft_id)
        problems = draft_problems(drafts, draft)
        if problems:  # saved, but shown with its problems at once
            return editor_page(request, draft, status=200, problems=problems, saved=True)
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
            problems=draft_problems(drafts, draft),
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
                problems=problems,
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
                problems=problems,
                saved=True,
                qualification_yaml=_dump(draft["qualification"]),
                messages_yaml=_dump(draft["messages"]),
                knowledge_yaml=_dump(draft["knowledge"]),
            )
        return response.redirect(f"/flow/drafts/{draft_id}/advanced?saved=1", status=303)

    def knowledge_page(request, draft: dict, status: int = 200, **context):
        problems = context.pop("problems", None)
        problems = draft_problems(drafts, draft) if problems is None else problems
        knowledge_problems = [p for p in problems if p["field"].startswith("knowledge")]

        def under(prefix: str) -> list[str]:
            return [p["message"] for p in knowledge_problems if p["field"].startswith(prefix)]

        return render(
            request,
            "flow_knowledge.html",
            status=status,
            draft=draft,
            problems=knowledge_problems,
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
        knowledge = knowledge_from_form(request.form, draft["knowledge"])
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
                problems=problems,
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
