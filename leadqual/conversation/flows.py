"""Versions of the question flow that marketing publishes: the qualification config (questions,
ranges, points, thresholds, behaviour rules, routing), the visitor texts and the knowledge the
chat answers visitors' questions from, together.

Publishing validates everything first (a broken flow cannot be published) and creates a new
version with who, when and which fields changed; any version can be restored (as a new one).
Every action server reads the newest version within `LEADQUAL_FLOW_REFRESH_SECONDS` (2 s), with
no retraining: the texts, options and points are read by the custom actions and the NLG
endpoint, not by the model. A conversation keeps the version it started with (slot
`flow_version`), and each lead records the version that scored it (`config_version`).

The repo's `config/qualification.yml`, `config/messages.yml` and `config/knowledge.yml` seed a
fresh install (version 1) and `export` writes any version back in that format. A version
published before the knowledge was part of the flow (migration 0010) has none stored and reads
the shipped knowledge file.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import yaml
from pydantic import ValidationError
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from leadqual import settings, timeutil
from leadqual.config.marketing import (
    DEFAULT_MESSAGES,
    DEFAULT_QUALIFICATION,
    Messages,
    QualificationConfig,
    _load_yaml,
)
from leadqual.conversation.texts import Texts
from leadqual.db.tables import FlowDraft, FlowVersion, utcnow
from leadqual.understanding.knowledge import DEFAULT_KNOWLEDGE, KnowledgeBase
from leadqual.understanding.knowledge import knowledge as shipped_knowledge
from leadqual.understanding.knowledge import problems as knowledge_problems

REFRESH_SECONDS = float(settings.FLOW_REFRESH_SECONDS.get())


class FlowInvalid(ValueError):
    """A draft that cannot be published; `problems` are [{"field", "message"}] naming each field."""

    def __init__(self, problems: list[dict]) -> None:
        super().__init__("; ".join(f"{p['field']}: {p['message']}" for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class Flow:
    version: int
    config: QualificationConfig
    messages: Messages
    # Set for a draft being previewed: its chats write no lead and no statistics.
    draft_id: int | None = None
    # What the chat answers visitors' questions from (leadqual/understanding/knowledge.py).
    knowledge: KnowledgeBase | None = None

    @cached_property
    def texts(self):
        return Texts(self.messages, self.config)


def _problems(section: str, exc: ValidationError) -> list[dict]:
    return [
        {"field": ".".join([section, *(str(p) for p in err["loc"])]), "message": err["msg"]} for err in exc.errors()
    ]


def build(qualification: dict, messages: dict, version: int, knowledge: dict | None = None) -> Flow:
    """A Flow from plain data, validated; FlowInvalid names every field that is wrong. Without
    `knowledge`, the shipped config/knowledge.yml."""
    problems: list[dict] = []
    kb = shipped_knowledge()
    if knowledge is not None:
        found = knowledge_problems(knowledge)
        problems += [{"field": f"knowledge.{p['field']}", "message": p["message"]} for p in found]
        if not found:
            kb = KnowledgeBase(**knowledge)
    config = texts = None
    if not isinstance(qualification, dict):
        problems.append({"field": "qualification", "message": "must be a mapping"})
    else:
        try:
            config = QualificationConfig(**{**qualification, "version": version})
        except ValidationError as exc:
            problems += _problems("qualification", exc)
    if not isinstance(messages, dict):
        problems.append({"field": "messages", "message": "must be a mapping"})
    else:
        try:
            texts = Messages(**messages)
        except ValidationError as exc:
            problems += _problems("messages", exc)
    if config is not None and texts is not None:
        problems += _cross_check(config, texts)
    if problems:
        raise FlowInvalid(problems)
    return Flow(version, config, texts, knowledge=kb)


def _cross_check(config: QualificationConfig, texts: Messages) -> list[dict]:
    """What each file alone cannot see: every option and need shown to visitors has both
    languages, and every question asked has its texts."""
    problems = []
    for slot in config.questions:
        if slot not in texts.questions:
            problems.append({"field": f"messages.questions.{slot}", "message": "the question has no texts"})
            continue
        for part in ("ask", "why", "reask"):
            localized = getattr(texts.questions[slot], part)
            for lang in ("es", "en"):
                value = getattr(localized, lang)
                variants = value if isinstance(value, list) else [value]
                if not variants or any(not str(v).strip() for v in variants):
                    problems.append(
                        {"field": f"messages.questions.{slot}.{part}.{lang}", "message": "the text is empty"}
                    )
    return problems


def changed_paths(old: object, new: object, prefix: str = "") -> list[str]:
    """Dotted paths where `new` differs from `old` (leaves; list items by their `id` when every
    item has a distinct one, so an answer added in front does not mark every later one changed;
    else by index)."""
    if isinstance(old, list) and isinstance(new, list) and _by_id(old) is not None and _by_id(new) is not None:
        old, new = _by_id(old), _by_id(new)
    if isinstance(old, dict) and isinstance(new, dict):
        paths = []
        for key in sorted(set(old) | set(new), key=str):
            path = f"{prefix}.{key}" if prefix else str(key)
            if key not in old or key not in new:
                paths.append(path)
            else:
                paths += changed_paths(old[key], new[key], path)
        return paths
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        paths = []
        for i, (a, b) in enumerate(zip(old, new, strict=True)):
            paths += changed_paths(a, b, f"{prefix}.{i}")
        return paths
    return [] if old == new else [prefix]


def _by_id(items: list) -> dict | None:
    ids = [item.get("id") for item in items if isinstance(item, dict)]
    if not items or len(ids) != len(items) or not all(isinstance(i, str) for i in ids) or len(set(ids)) != len(ids):
        return None
    return dict(zip(ids, items, strict=True))


def files_content(
    qualification_path: Path | str | None = None, messages_path: Path | str | None = None
) -> tuple[dict, dict]:
    q = Path(qualification_path or settings.QUALIFICATION.get(str(DEFAULT_QUALIFICATION)))
    m = Path(messages_path or settings.MESSAGES.get(str(DEFAULT_MESSAGES)))
    return _load_yaml(q), _load_yaml(m)


def knowledge_file_content(path: Path | str | None = None) -> dict:
    """config/knowledge.yml (or LEADQUAL_KNOWLEDGE) as plain data."""
    return _load_yaml(Path(path or settings.KNOWLEDGE.get(str(DEFAULT_KNOWLEDGE))))


class FlowStore:
    """Flow versions in the product database, with the newest one cached per process."""

    def __init__(self, engine, refresh_seconds: float = REFRESH_SECONDS) -> None:
        self.engine = engine
        self.refresh_seconds = refresh_seconds
        self._by_version: dict[int, Flow] = {}
        self._current: Flow | None = None
        self._checked_at = 0.0
        self._lock = threading.Lock()

    # -- reading ------------------------------------------------------------------------------

    def current(self) -> Flow:
        """The newest published version, re-checked every `refresh_seconds`. If the database
        cannot be read, the last one read (or the repo's files) keeps the chat going."""
        now = timeutil.monotonic()
        if self._current is not None and now - self._checked_at < self.refresh_seconds:
            return self._current
        with self._lock:
            try:
                with self.engine.connect() as conn:
                    newest = conn.execute(select(func.max(FlowVersion.version))).scalar()
                if newest is None:
                    newest = self.seed().version
                self._current = self.get(newest)
            except SQLAlchemyError:
                if self._current is None:
                    self._current = build(*files_content(), version=1, knowledge=knowledge_file_content())
            self._checked_at = now
            return self._current

    def get(self, version: int | str | float | None) -> Flow:
        """A published version (immutable: cached for good); the current one for None or an
        unknown number (e.g. a restored database)."""
        try:
            number = int(version) if version is not None else None
        except (TypeError, ValueError):
            number = None
        if number is None:
            return self.current()
        if number in self._by_version:
            return self._by_version[number]
        with self.engine.connect() as conn:
            row = conn.execute(select(FlowVersion).where(FlowVersion.version == number)).first()
        if row is None:
            return self.current()
        flow = build(row.qualification, row.messages, row.version, row.knowledge)
        self._by_version[number] = flow
        return flow

    def resolve(self, pinned: object) -> Flow:
        """The flow a conversation's `flow_version` slot names: a version number, or
        "draft:<id>" for a console preview (the current version if the draft is gone)."""
        if isinstance(pinned, str) and pinned.startswith("draft:") and pinned[6:].isdigit():
            return Drafts(self).flow(int(pinned[6:])) or self.current()
        return self.get(pinned)

    def history(self) -> list[dict]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(
                    FlowVersion.version,
                    FlowVersion.created_by,
                    FlowVersion.created_at,
                    FlowVersion.note,
                    FlowVersion.changes,
                    FlowVersion.restored_from,
                ).order_by(FlowVersion.version.desc())
            ).all()
        return [row._asdict() for row in rows]

    def content(self, version: int) -> tuple[dict, dict]:
        """The plain data of a version: (qualification, messages), as the files hold them."""
        with self.engine.connect() as conn:
            row = conn.execute(select(FlowVersion).where(FlowVersion.version == int(version))).first()
        if row is None:
            raise KeyError(version)
        return row.qualification, row.messages

    def knowledge_content(self, version: int) -> dict:
        """A version's knowledge as config/knowledge.yml holds it (the shipped file's for a
        version published before the knowledge was part of the flow)."""
        with self.engine.connect() as conn:
            row = conn.execute(select(FlowVersion.knowledge).where(FlowVersion.version == int(version))).first()
        if row is None:
            raise KeyError(version)
        return row.knowledge if row.knowledge is not None else knowledge_file_content()

    # -- writing ------------------------------------------------------------------------------

    def seed(self, by: str = "seed") -> Flow:
        """Version 1 from the repo's files, when there is none yet (a fresh install)."""
        qualification, messages = files_content()
        knowledge = knowledge_file_content()
        flow = build(qualification, messages, version=1, knowledge=knowledge)
        try:
            with self.engine.begin() as conn:
                if conn.execute(select(func.count()).select_from(FlowVersion)).scalar():
                    return self.get(conn.execute(select(func.max(FlowVersion.version))).scalar())
                conn.execute(
                    FlowVersion.__table__.insert().values(
                        version=1,
                        qualification={**qualification, "version": 1},
                        messages=messages,
                        knowledge=knowledge,
                        created_by=by,
                        created_at=utcnow(),
                        note="the repo's config/ files",
                        changes=[],
                    )
                )
        except IntegrityError:  # another process seeded at the same time
            return self.get(1)
        return flow

    def publish(
        self,
        qualification: dict,
        messages: dict,
        by: str,
        note: str = "",
        restored_from=None,
        knowledge: dict | None = None,
    ) -> Flow:
        """Validate and publish a draft as the next version; FlowInvalid if anything is wrong,
        ValueError if nothing changed. Without `knowledge`, the current version's is kept."""
        self.current()  # seeds a fresh install
        for _attempt in range(5):
            with self.engine.connect() as conn:
                newest = conn.execute(select(func.max(FlowVersion.version))).scalar() or 0
            version = newest + 1
            old_q, old_m = self.content(newest) if newest else ({}, {})
            old_k = self.knowledge_content(newest) if newest else {}
            new_k = old_k if knowledge is None else knowledge
            flow = build(qualification, messages, version, new_k)
            changes = changed_paths(
                {"qualification": {**old_q, "version": None}, "messages": old_m, "knowledge": old_k},
                {"qualification": {**qualification, "version": None}, "messages": messages, "knowledge": new_k},
            )
            if not changes and restored_from is None:
                raise ValueError("nothing changed since the current version")
            try:
                with self.engine.begin() as conn:
                    conn.execute(
                        FlowVersion.__table__.insert().values(
                            version=version,
                            qualification={**qualification, "version": version},
                            messages=messages,
                            knowledge=new_k,
                            created_by=by,
                            created_at=utcnow(),
                            note=note,
                            changes=changes,
                            restored_from=restored_from,
                        )
                    )
            except IntegrityError:  # someone published the same number first: try the next
                continue
            self._by_version[version] = flow
            self._current, self._checked_at = flow, timeutil.monotonic()
            return flow
        raise RuntimeError("could not publish: too many concurrent publications")

    def restore(self, version: int, by: str) -> Flow:
        qualification, messages = self.content(version)
        return self.publish(
            qualification,
            messages,
            by,
            note=f"restored version {version}",
            restored_from=version,
            knowledge=self.knowledge_content(version),
        )

    def export(self, version: int, folder: Path | str) -> tuple[Path, Path, Path]:
        """Write a version as qualification.yml, messages.yml and knowledge.yml (the repo's format)."""
        qualification, messages = self.content(version)
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        paths = folder / "qualification.yml", folder / "messages.yml", folder / "knowledge.yml"
        contents = (qualification, messages, self.knowledge_content(version))
        for path, data in zip(paths, contents, strict=True):
            path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=120), encoding="utf-8")
        return paths


class Drafts:
    """Drafts of the flow (the console's editor) and their previews."""

    def __init__(self, flows: FlowStore) -> None:
        self.flows = flows

    def save(
        self,
        qualification: dict,
        messages: dict,
        by: str,
        draft_id: int | None = None,
        knowledge: dict | None = None,
    ) -> tuple[int, list[dict]]:
        """Save a draft (new, or over `draft_id`), valid or not; returns its id and its problems.
        Without `knowledge`, the draft keeps its own (a new one: the current version's)."""
        based_on = self.flows.current().version
        with Session(self.flows.engine) as session, session.begin():
            draft = session.get(FlowDraft, draft_id) if draft_id else None
            if draft is None:
                draft = FlowDraft(based_on=based_on, created_by=by)
                draft.knowledge = self.flows.knowledge_content(based_on)
                session.add(draft)
            draft.qualification, draft.messages, draft.updated_at = qualification, messages, utcnow()
            if knowledge is not None:
                draft.knowledge = knowledge
            session.flush()
            saved_id = draft.id
        return saved_id, self.problems(saved_id)

    def get(self, draft_id: int) -> dict | None:
        with Session(self.flows.engine) as session:
            draft = session.get(FlowDraft, int(draft_id))
            if draft is None:
                return None
            return {
                "id": draft.id,
                "qualification": draft.qualification,
                "messages": draft.messages,
                "knowledge": draft.knowledge if draft.knowledge is not None else knowledge_file_content(),
                "based_on": draft.based_on,
                "created_by": draft.created_by,
                "updated_at": draft.updated_at,
            }

    def problems(self, draft_id: int) -> list[dict]:
        draft = self.get(draft_id)
        try:
            build(draft["qualification"], draft["messages"], self.flows.current().version + 1, draft["knowledge"])
        except FlowInvalid as exc:
            return exc.problems
        return []

    def flow(self, draft_id: int) -> Flow | None:
        """The draft as a Flow, for a preview chat; None if it is gone or invalid."""
        draft = self.get(draft_id)
        if draft is None:
            return None
        try:
            flow = build(
                draft["qualification"], draft["messages"], self.flows.current().version + 1, draft["knowledge"]
            )
        except FlowInvalid:
            return None
        return Flow(flow.version, flow.config, flow.messages, draft_id=draft["id"], knowledge=flow.knowledge)

    def publish(self, draft_id: int, by: str, note: str = "") -> Flow:
        draft = self.get(draft_id)
        if draft is None:
            raise KeyError(draft_id)
        flow = self.flows.publish(draft["qualification"], draft["messages"], by, note, knowledge=draft["knowledge"])
        with Session(self.flows.engine) as session, session.begin():
            session.execute(delete(FlowDraft).where(FlowDraft.id == draft["id"]))
        return flow


# -- preview tokens -------------------------------------------------------------------------
# The console's preview chat sends `flow_preview` in the message metadata. Metadata comes from
# the browser side, so only a token signed with LEADQUAL_PREVIEW_SECRET (shared by the console
# and the action servers) pins a conversation to a draft; without the secret, no preview.


def preview_token(draft_id: int, secret: str | None = None, ttl: int = 3600, now: float | None = None) -> str:
    secret = secret or settings.PREVIEW_SECRET.get()
    if not secret:
        raise ValueError("LEADQUAL_PREVIEW_SECRET is not set: previews are off")
    expires = int((now or timeutil.timestamp()) + ttl)
    message = f"{int(draft_id)}.{expires}"
    return message + "." + hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def check_preview_token(token: object, secret: str | None = None, now: float | None = None) -> int | None:
    """The draft id a valid, unexpired token names; None for anything else."""
    secret = secret or settings.PREVIEW_SECRET.get()
    if not secret or not isinstance(token, str) or token.count(".") != 2 or len(token) > 200:
        return None
    draft, expires, signature = token.split(".")
    expected = hmac.new(secret.encode(), f"{draft}.{expires}".encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(signature, expected) or not (draft.isdigit() and expires.isdigit()):
        return None
    if int(expires) < (now or timeutil.timestamp()):
        return None
    return int(draft)


def load_draft(folder: Path | str) -> tuple[dict, dict]:
    """A draft from qualification.yml and messages.yml in `folder` (e.g. an export, edited)."""
    folder = Path(folder)
    return _load_yaml(folder / "qualification.yml"), _load_yaml(folder / "messages.yml")


def load_draft_knowledge(folder: Path | str) -> dict | None:
    """knowledge.yml in `folder` if there is one (an export has it); None keeps the current one."""
    path = Path(folder) / "knowledge.yml"
    return _load_yaml(path) if path.exists() else None
