"""Measure the assistant on a labelled evaluation set: intents (Rasa NLU) and BANT parsing.

    python -m leadqual.tools.evaluation [--model PATH] [--min 0.90] [--json OUT]   (or bin/evaluate)

The set is tests/eval/messages.yml: visitor messages that are not in data/nlu.yml, each with
its language and intent and, for answers to a BANT question, the slot and the value a careful
human reads in it. Two measurements:

- slots: every labelled answer goes through leadqual.understanding.answers.parse_answer(slot, text, config,
  lang, requested=True, today=2026-03-15); the decisive keys of the result must equal the
  label (numbers within 0.01). Reported per slot, overall and per language.
- intents: the messages are written as a Rasa NLU file and scored by
  `.venv-rasa/bin/rasa test nlu --model MODEL --nlu FILE --out DIR` (in its own environment,
  run as a subprocess); the accuracy is read from DIR/intent_report.json and the misses from
  intent_errors.json. Reported overall, per language and per intent.

The exit code is 1 when a gated figure (intent accuracy overall and per language, each
slot's exact match) is below --min, 2 when the evaluation cannot run. Only the standard
library, PyYAML and leadqual are used here: Rasa is never imported into this environment.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import yaml

from leadqual.config.marketing import QualificationConfig, load_qualification
from leadqual.settings import REPO_ROOT
from leadqual.understanding.answers import parse_answer
from leadqual.understanding.calendar_terms import hemisphere_of_locale

ROOT = REPO_ROOT
DEFAULT_SET = ROOT / "tests" / "eval" / "messages.yml"
DEFAULT_RASA = ROOT / ".venv-rasa" / "bin" / "rasa"
TODAY = date(2026, 3, 15)
TOLERANCE = 0.01
DEFAULT_MIN = 0.90
LANGS = ("es", "en")
# The keys that decide an answer, with the value they have when the parser leaves them out.
DECISIVE: dict[str, dict[str, object]] = {
    "budget": {"min": None, "max": None, "currency": None, "period": None, "none": False, "unknown": False},
    "timing": {"months": None, "no_rush": False, "unknown": False},
    "authority": {"level": None},
    "need": {"value": None},
    # Contact answers: the value as written, compared without regard to case or spacing; an
    # expected null means the text must not be taken as an answer ("prueba" as a name).
    "name": {"value": None},
    "company": {"value": None},
    "email": {"address": None},
}
SLOTS = tuple(DECISIVE)
CONTACT = ("name", "company", "email")
# A held-out set is a folder: messages.yml (intents) and answers.yml (slot values), written by
# people who had not read data/ or the parsers (tests/heldout/README.md).
SET_FILES = ("messages.yml", "answers.yml")


class EvaluationError(Exception):
    """The evaluation could not run (bad set, no model, Rasa failed)."""


# ---------------------------------------------------------------------------
# The evaluation set
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    text: str
    lang: str
    intent: str
    slot: str | None = None
    expected: dict | None = None
    intent_labelled: bool = True  # False for an answer whose file labels only its value
    # The writer's country (a set's `country`): the widget sends the browser's locale
    # (`es-AR`), from which the chat places the seasons; the evaluation passes the same.
    country: str | None = None


def set_setting(path: Path | str, name: str) -> object | None:
    """A setting a set declares in its header (e.g. `fiscal_year_start: "04-01"`), if any."""
    path = Path(path)
    for file in [path / n for n in SET_FILES] if path.is_dir() else [path]:
        try:
            data = yaml.safe_load(file.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError):
            continue
        if isinstance(data, dict) and data.get(name) is not None:
            return data[name]
    return None


def load_items(path: Path | str = DEFAULT_SET) -> tuple[list[Item], date]:
    """The items of the set and its reference date, validated (errors name the item). `path` is
    one file, or a folder holding messages.yml and answers.yml (a held-out set)."""
    path = Path(path)
    if path.is_dir():
        items, today, seen = [], None, set()
        for name in SET_FILES:
            part, part_today = load_items(path / name)
            if today is not None and part_today != today:
                raise EvaluationError(f"{path}: the files of one set must share `today`")
            today = part_today
            for item in part:
                if item.text.lower() in seen:
                    raise EvaluationError(f"{path / name}: duplicate text {item.text!r} (in another file of the set)")
                seen.add(item.text.lower())
            items += part
        return items, today
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise EvaluationError(f"cannot read {path}: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        raise EvaluationError(f"{path}: expected a mapping with an `items` list")
    today = data.get("today", TODAY)
    if isinstance(today, str):
        try:
            today = date.fromisoformat(today)
        except ValueError:
            pass
    if not isinstance(today, date):
        raise EvaluationError(f"{path}: `today` must be a date (YYYY-MM-DD)")
    items: list[Item] = []
    seen: set[str] = set()
    for n, raw in enumerate(data["items"], 1):
        where = f"{path.name} item {n}"
        if not isinstance(raw, dict):
            raise EvaluationError(f"{where}: expected a mapping")
        text, lang, intent = raw.get("text"), raw.get("lang"), raw.get("intent")
        labelled = intent is not None
        if intent is None and raw.get("slot") is not None:
            intent = "inform"  # an answer to the question asked
        if not isinstance(text, str) or not text.strip() or "\n" in text:
            raise EvaluationError(f"{where}: `text` must be a one-line string")
        if "[" in text or "]" in text:
            raise EvaluationError(f"{where}: brackets would be read as Rasa entity markup: {text!r}")
        if lang not in LANGS:
            raise EvaluationError(f"{where}: `lang` must be one of {LANGS}, got {lang!r}")
        if not isinstance(intent, str) or not intent:
            raise EvaluationError(f"{where}: `intent` is missing")
        key = text.strip().lower()
        if key in seen:
            raise EvaluationError(f"{where}: duplicate text {text!r}")
        seen.add(key)
        slot, expected = raw.get("slot"), raw.get("expected")
        if slot is not None or expected is not None:
            if slot not in DECISIVE:
                raise EvaluationError(f"{where}: `slot` must be one of {SLOTS}, got {slot!r}")
            if not isinstance(expected, dict) or not expected:
                raise EvaluationError(f"{where}: `expected` must be a mapping of {sorted(DECISIVE[slot])}")
            if slot == "email" and set(expected) == {"value"}:
                expected = {"address": expected["value"]}
            unknown = set(expected) - set(DECISIVE[slot])
            if unknown:
                raise EvaluationError(f"{where}: `expected` has keys {sorted(unknown)} that are not {slot} keys")
        items.append(
            Item(
                text=text.strip(),
                lang=lang,
                intent=intent,
                slot=slot,
                expected=expected,
                intent_labelled=labelled,
                country=raw.get("country") if isinstance(raw.get("country"), str) else None,
            )
        )
    return items, today


# ---------------------------------------------------------------------------
# Slots: the parsers
# ---------------------------------------------------------------------------


def decisive(slot: str, value: dict | None) -> dict | None:
    """Only the keys that decide the answer, defaults filled in; None when nothing was parsed."""
    if value is None:
        return None
    return {key: value.get(key, default) for key, default in DECISIVE[slot].items()}


def _same(a: object, b: object) -> bool:
    numbers = (int, float)
    if isinstance(a, numbers) and isinstance(b, numbers) and not isinstance(a, bool) and not isinstance(b, bool):
        return abs(float(a) - float(b)) <= TOLERANCE
    return a == b


def _contact(value: object) -> object:
    return " ".join(value.split()).casefold() if isinstance(value, str) else value


def matches(slot: str, got: dict | None, expected: dict) -> bool:
    """Exact match on the decisive keys (floats within TOLERANCE); contact values ignore case
    and spacing, and an expected null contact value means "not an answer"."""
    want = decisive(slot, expected)
    if slot in CONTACT:
        (key,) = DECISIVE[slot]
        return _contact((got or {}).get(key)) == _contact(want[key])
    if got is None:
        return False
    return all(_same(got[key], want[key]) for key in DECISIVE[slot])


def show(slot: str, value: dict | None) -> str:
    """A compact rendering of a decisive value: only the keys that differ from the default."""
    if value is None:
        return "(no answer)"
    shown = {k: v for k, v in decisive(slot, value).items() if v != DECISIVE[slot][k]}
    if not shown:
        return "{}"
    parts = []
    for key, v in shown.items():
        if isinstance(v, float) and v == int(v):
            v = int(v)
        parts.append(f"{key}={v}")
    return "{" + ", ".join(parts) + "}"


@dataclass
class SlotScore:
    total: int = 0
    correct: int = 0
    by_lang: Counter = field(default_factory=Counter)
    correct_by_lang: Counter = field(default_factory=Counter)
    misses: list[dict] = field(default_factory=list)

    @property
    def score(self) -> float:
        return self.correct / self.total if self.total else 0.0


def score_slots(items: list[Item], config: QualificationConfig, today: date = TODAY) -> dict[str, SlotScore]:
    present = {item.slot for item in items if item.slot}
    scores = {slot: SlotScore() for slot in SLOTS if slot in present or slot not in CONTACT}
    for item in items:
        if item.slot is None:
            continue
        locale = f"{item.lang}-{item.country}" if item.country else None
        hemisphere = hemisphere_of_locale(locale)
        parsed = parse_answer(
            item.slot, item.text, config, item.lang, requested=True, today=today, hemisphere=hemisphere
        )
        got = decisive(item.slot, parsed)
        score = scores[item.slot]
        score.total += 1
        score.by_lang[item.lang] += 1
        if matches(item.slot, got, item.expected):
            score.correct += 1
            score.correct_by_lang[item.lang] += 1
        else:
            score.misses.append(
                {
                    "slot": item.slot,
                    "lang": item.lang,
                    "text": item.text,
                    "got": got,
                    "expected": decisive(item.slot, item.expected),
                }
            )
    return scores


# ---------------------------------------------------------------------------
# Intents: rasa test nlu in the Rasa environment
# ---------------------------------------------------------------------------


def nlu_yaml(items: list[Item]) -> str:
    """The items as Rasa 3 NLU training data, one block per intent."""
    by_intent: dict[str, list[str]] = {}
    for item in items:
        by_intent.setdefault(item.intent, []).append(item.text)
    lines = ['version: "3.1"', "", "nlu:"]
    for intent, texts in by_intent.items():
        lines += [f"- intent: {intent}", "  examples: |"]
        lines += [f"    - {text}" for text in texts]
        lines.append("")
    return "\n".join(lines)


def newest_model(models_dir: Path = ROOT / "models") -> Path | None:
    models = sorted(models_dir.glob("nubilo-*.tar.gz"), key=lambda p: p.stat().st_mtime)
    return models[-1] if models else None


@dataclass
class IntentScore:
    accuracy: float
    total: int
    correct: int
    by_lang: dict[str, tuple[int, int]]  # lang -> (correct, total)
    by_intent: dict[str, tuple[int, int]]  # intent -> (correct, total)
    misses: list[dict]
    command: list[str]


def score_intents(
    items: list[Item],
    model: Path | str,
    rasa: Path | str = DEFAULT_RASA,
    timeout: int = 1800,
) -> IntentScore:
    model, rasa = Path(model), Path(rasa)
    if not model.exists():
        raise EvaluationError(f"model not found: {model}")
    if not rasa.exists():
        raise EvaluationError(f"Rasa not found at {rasa} (bin/evaluate installs it)")
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "SQLALCHEMY_SILENCE_UBER_WARNING": "1"}
    with tempfile.TemporaryDirectory(prefix="leadqual-eval-") as tmp:
        nlu_file = Path(tmp) / "eval_nlu.yml"
        out_dir = Path(tmp) / "results"
        nlu_file.write_text(nlu_yaml(items), encoding="utf-8")
        command = [
            str(rasa),
            "test",
            "nlu",
            "--model",
            str(model),
            "--nlu",
            str(nlu_file),
            "--out",
            str(out_dir),
            "--successes",
            "--no-plot",
        ]
        try:
            result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise EvaluationError(f"rasa test nlu took longer than {timeout} s") from None
        report_file = out_dir / "intent_report.json"
        if result.returncode != 0 or not report_file.exists():
            tail = (result.stdout + result.stderr)[-3000:]
            raise EvaluationError(f"rasa test nlu failed (exit {result.returncode}):\n{tail}")
        report = json.loads(report_file.read_text(encoding="utf-8"))
        predictions = []
        for name in ("intent_errors.json", "intent_successes.json"):
            path = out_dir / name
            if path.exists():
                predictions += json.loads(path.read_text(encoding="utf-8"))
    return _intent_score(items, report, predictions, command)


def _intent_score(items: list[Item], report: dict, predictions: list[dict], command: list[str]) -> IntentScore:
    by_text = {item.text.lower(): item for item in items}
    predicted: dict[str, str | None] = {}
    confidence: dict[str, float] = {}
    for p in predictions:
        key = str(p.get("text", "")).strip().lower()
        if key in by_text:
            pred = p.get("intent_prediction") or {}
            predicted[key] = pred.get("name")
            confidence[key] = float(pred.get("confidence") or 0.0)
    missing = [item.text for item in items if item.text.lower() not in predicted]
    if missing:
        raise EvaluationError(f"rasa test nlu returned no prediction for {len(missing)} messages, e.g. {missing[:3]}")
    lang_counts: dict[str, list[int]] = {}
    intent_counts: dict[str, list[int]] = {}
    misses = []
    for item in items:
        got = predicted[item.text.lower()]
        ok = got == item.intent
        for table, key in ((lang_counts, item.lang), (intent_counts, item.intent)):
            row = table.setdefault(key, [0, 0])
            row[0] += ok
            row[1] += 1
        if not ok:
            misses.append(
                {
                    "lang": item.lang,
                    "text": item.text,
                    "got": got,
                    "confidence": round(confidence[item.text.lower()], 3),
                    "expected": item.intent,
                }
            )
    correct = len(items) - len(misses)
    accuracy = float(report.get("accuracy", correct / len(items)))
    return IntentScore(
        accuracy=accuracy,
        total=len(items),
        correct=correct,
        by_lang={k: (v[0], v[1]) for k, v in lang_counts.items()},
        by_intent={k: (v[0], v[1]) for k, v in sorted(intent_counts.items())},
        misses=misses,
        command=command,
    )


# ---------------------------------------------------------------------------
# Putting it together
# ---------------------------------------------------------------------------


def evaluate(
    model: Path | str | None,
    eval_set: Path | str = DEFAULT_SET,
    *,
    rasa: Path | str = DEFAULT_RASA,
    config: QualificationConfig | None = None,
    minimum: float = DEFAULT_MIN,
    intents: bool = True,
) -> dict:
    """Run both measurements; a JSON-able dict with the figures, the misses and `passed`."""
    items, today = load_items(eval_set)
    config = config or load_qualification()
    fiscal = set_setting(eval_set, "fiscal_year_start")
    if fiscal is not None:  # the set's company: "next fiscal year" is read from its fiscal year
        config = QualificationConfig.model_validate({**config.model_dump(), "fiscal_year_start": fiscal})
    slots = score_slots(items, config, today)
    result: dict = {
        "eval_set": str(eval_set),
        "today": today.isoformat(),
        "items": len(items),
        "minimum": minimum,
        "slots": {},
        "intents": None,
    }
    figures: list[tuple[str, float]] = []
    for slot, s in slots.items():
        result["slots"][slot] = {
            "exact_match": s.score,
            "correct": s.correct,
            "total": s.total,
            "by_lang": {lang: [s.correct_by_lang[lang], s.by_lang[lang]] for lang in LANGS if s.by_lang[lang]},
            "misses": s.misses,
        }
        figures.append((f"slot {slot}", s.score))
    if intents:
        if model is None:
            raise EvaluationError("no model: pass --model or train one with bin/train")
        it = score_intents([item for item in items if item.intent_labelled], model, rasa)
        result["model"] = str(model)
        result["intents"] = {
            "accuracy": it.accuracy,
            "correct": it.correct,
            "total": it.total,
            "by_lang": {lang: list(v) for lang, v in it.by_lang.items()},
            "by_intent": {intent: list(v) for intent, v in it.by_intent.items()},
            "misses": it.misses,
            "command": shlex.join(it.command),
        }
        figures.append(("intent accuracy", it.accuracy))
        for lang in LANGS:
            if lang in it.by_lang:
                ok, total = it.by_lang[lang]
                figures.append((f"intent accuracy ({lang})", ok / total))
    result["below_minimum"] = [name for name, value in figures if value < minimum]
    result["passed"] = not result["below_minimum"]
    return result


def _pct(ok: int, total: int) -> str:
    return f"{100 * ok / total:5.1f}%  ({ok}/{total})" if total else "    —"


def render(result: dict, command: str) -> str:
    lines = [f"Evaluation set: {result['eval_set']}  ({result['items']} messages, today={result['today']})"]
    if result.get("model"):
        lines.append(f"Model: {result['model']}")
    lines += ["", f"{'figure':<28} {'overall':<20} {'es':<20} {'en':<20}", "-" * 88]
    it = result["intents"]
    if it:
        by_lang = it["by_lang"]
        lines.append(
            f"{'intent accuracy':<28} {_pct(it['correct'], it['total']):<20} "
            + " ".join(f"{_pct(*by_lang.get(lang, (0, 0))):<20}" for lang in LANGS)
        )
    for slot, s in result["slots"].items():
        by_lang = s["by_lang"]
        lines.append(
            f"{'slot ' + slot + ' exact match':<28} {_pct(s['correct'], s['total']):<20} "
            + " ".join(f"{_pct(*by_lang.get(lang, (0, 0))):<20}" for lang in LANGS)
        )
    if it:
        lines += ["", "Intent recall per intent:"]
        for intent, (ok, total) in it["by_intent"].items():
            lines.append(f"  {intent:<18} {_pct(ok, total)}")
        lines += ["", f"Intent misses ({len(it['misses'])}):"]
        for m in it["misses"]:
            lines.append(
                f"  [{m['lang']}] {m['text']!r} → got {m['got']} ({m['confidence']:.2f}), expected {m['expected']}"
            )
    for slot, s in result["slots"].items():
        lines += ["", f"Slot {slot} misses ({len(s['misses'])}):"]
        for m in s["misses"]:
            lines.append(
                f"  [{m['lang']}] {m['text']!r} → got {show(slot, m['got'])}, expected {show(slot, m['expected'])}"
            )
    lines.append("")
    if result["passed"]:
        lines.append(f"PASS: every figure is at least {result['minimum']:.0%}")
    else:
        lines.append(f"FAIL: below {result['minimum']:.0%}: {', '.join(result['below_minimum'])}")
    lines.append(f"Command: {command}")
    if it:
        lines.append(f"Rasa: {it['command']}")
    return "\n".join(lines)


def _relative(path: str) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive (Windows)
        return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m leadqual.tools.evaluation",
        description="Intent accuracy (rasa test nlu) and BANT slot exact match on tests/eval/messages.yml.",
    )
    parser.add_argument("--model", type=Path, help="trained Rasa model (default: newest models/nubilo-*.tar.gz)")
    parser.add_argument("--min", type=float, default=DEFAULT_MIN, dest="minimum", help="lowest passing figure")
    parser.add_argument("--json", type=Path, dest="json_out", help="also write the result as JSON here")
    parser.add_argument("--set", type=Path, default=DEFAULT_SET, dest="eval_set", help="the evaluation set")
    parser.add_argument("--rasa", type=Path, default=DEFAULT_RASA, help="the rasa executable (Rasa's own venv)")
    parser.add_argument("--no-intents", action="store_true", help="score the slot parsers only (no Rasa)")
    args = parser.parse_args(argv)
    command = shlex.join(
        [_relative(sys.executable), "-m", "leadqual.tools.evaluation", *(sys.argv[1:] if argv is None else argv)]
    )
    model = None if args.no_intents else (args.model or newest_model())
    try:
        result = evaluate(model, args.eval_set, rasa=args.rasa, minimum=args.minimum, intents=not args.no_intents)
    except EvaluationError as exc:
        print(f"evaluation failed: {exc}", file=sys.stderr)
        return 2
    result["command"] = command
    print(render(result, command))
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
