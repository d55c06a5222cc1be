"""The dry run before publishing a flow: sample visitors scored under the current version and
under the draft, side by side, so marketing sees what a change of ranges, points or thresholds
does (a rule labelled "Add 10" that adds 20 shows up here, not in the CRM).

Each sample is what a visitor would type, read by each version's own parsers (so option and
range changes count too), plus behaviour events; `config/sample_visitors.yml` ships a set, and
the questions visitors ask, answered by each version's knowledge (an edited answer, a question
that stops or starts being answered, shows up here too).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import yaml

from leadqual import settings, timeutil
from leadqual.config.marketing import BANT_SLOTS, ROOT, ConfigError
from leadqual.conversation.flows import Flow
from leadqual.scoring import fit as scoring
from leadqual.scoring import stages
from leadqual.scoring.behaviour import Event
from leadqual.understanding import knowledge
from leadqual.understanding.reading import Message, read_answer

DEFAULT_SAMPLES = ROOT / "config" / "sample_visitors.yml"


def _samples_list(path: Path | str | None, key: str, default: list | None) -> tuple[str, list]:
    """The list under `key` in the samples file (config/sample_visitors.yml or
    LEADQUAL_SAMPLE_VISITORS), and the file's name for errors."""
    path = Path(path or settings.SAMPLE_VISITORS.get(str(DEFAULT_SAMPLES)))
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path.name}: {exc}") from exc
    items = data.get(key, default) if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise ConfigError(f"{path.name}: {key} must be a list")
    return path.name, items


def load_samples(path: Path | str | None = None) -> list[dict]:
    """The samples file's `visitors`: each with typed `answers` and behaviour `events`."""
    name, visitors = _samples_list(path, "visitors", None)
    for i, visitor in enumerate(visitors):
        if not isinstance(visitor, dict) or not isinstance(visitor.get("answers"), dict):
            raise ConfigError(f"{name}: visitors.{i}.answers must be a mapping of question -> text")
    return visitors


def load_sample_questions(path: Path | str | None = None) -> list[dict]:
    """The samples file's `questions`: [{"text", "language"}], what visitors ask the chat."""
    name, questions = _samples_list(path, "questions", [])
    for i, question in enumerate(questions):
        if not isinstance(question, dict) or not isinstance(question.get("text"), str):
            raise ConfigError(f"{name}: questions.{i}.text must be the question as a visitor types it")
    return questions


def _answered(text: str, lang: str, flow: Flow) -> dict:
    found = knowledge.answer(text, lang, kb=flow.knowledge)
    return {"known": found.known, "entry": found.entry_id, "text": found.text}


def knowledge_dry_run(current: Flow, draft: Flow, questions: list[dict]) -> list[dict]:
    """Per sample question: the answer under `current` and under `draft`, and whether it changed."""
    rows = []
    for question in questions:
        lang = question.get("language") or "es"
        before = _answered(question["text"], lang, current)
        after = _answered(question["text"], lang, draft)
        rows.append(
            {
                "question": question["text"],
                "language": lang,
                "current": before,
                "draft": after,
                "changed": before != after,
            }
        )
    return rows


def score_sample(sample: dict, flow: Flow, now: datetime) -> dict:
    """One sample under one version: each answer as read, the scores, grade, stage, sales-ready
    and the score lines."""
    config = flow.config
    lang = sample.get("language") or "es"
    answers, read = {}, {}
    for slot in BANT_SLOTS:
        text = (sample.get("answers") or {}).get(slot)
        if not text:
            continue
        reading = read_answer(slot, Message(str(text)), config, lang, now.date())
        if reading.kind == "value" and slot in config.questions:
            answers[slot] = reading.value
        read[slot] = reading.value if reading.kind == "value" else {"unread": str(text)}
    events = [
        Event(str(e["name"]), now - timedelta(days=float(e.get("days_ago", 0))), {}, e.get("url"))
        for e in sample.get("events") or []
    ]
    score = scoring.score_lead(answers, {}, events, config, now)
    stage = stages.score_stage(score.total, score.qualifies, config.stages)
    return {
        "fit": score.fit,
        "behaviour": score.behaviour,
        "total": score.total,
        "grade": score.grade,
        "stage": stage,
        "sales_ready": stages.meets(config.stages.sql, score.total, score.qualifies),
        "answers": read,
        "lines": {line["rule"]: line["points"] for line in score.lines},
    }


def dry_run(current: Flow, draft: Flow, samples: list[dict], now: datetime | None = None) -> list[dict]:
    """Per sample: `current` and `draft` results, what changed (fields and per-rule points)."""
    now = now or timeutil.now()
    rows = []
    for sample in samples:
        before, after = score_sample(sample, current, now), score_sample(sample, draft, now)
        fields = [k for k in ("fit", "behaviour", "total", "grade", "stage", "sales_ready") if before[k] != after[k]]
        rules = sorted(set(before["lines"]) | set(after["lines"]))
        points = {
            rule: (before["lines"].get(rule, 0), after["lines"].get(rule, 0))
            for rule in rules
            if before["lines"].get(rule, 0) != after["lines"].get(rule, 0)
        }
        rows.append(
            {
                "name": sample.get("name") or "",
                "language": sample.get("language") or "es",
                "current": before,
                "draft": after,
                "changed": fields,
                "points_changed": points,
            }
        )
    return rows
