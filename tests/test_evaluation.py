"""The labelled evaluation set (tests/eval/messages.yml) and the figures measured on it.

The fast tests check the set itself. The others fail when intent accuracy (rasa test nlu on
the trained model) or a BANT slot's exact match is below 90%, and list the misses.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import yaml

from leadqual.tools.evaluation import (
    CONTACT,
    DEFAULT_RASA,
    DEFAULT_SET,
    SLOTS,
    load_items,
    score_intents,
    score_slots,
    show,
)

ROOT = Path(__file__).resolve().parent.parent
MINIMUM = 0.90


def _nlu_examples() -> dict[str, set[str]]:
    """Intent -> its training examples (lower-cased) from every NLU file in data/."""
    examples: dict[str, set[str]] = {}
    for path in sorted((ROOT / "data").glob("nlu*.yml")):
        for block in yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"]:
            if "intent" not in block:
                continue
            lines = block["examples"].splitlines()
            examples.setdefault(block["intent"], set()).update(
                line.strip()[2:].strip().lower() for line in lines if line.strip().startswith("- ")
            )
    return examples


@pytest.fixture(scope="module")
def eval_items():
    items, _today = load_items(DEFAULT_SET)
    return items


def test_eval_set_size_languages_and_intents(eval_items):
    assert len(eval_items) >= 300
    langs = Counter(item.lang for item in eval_items)
    assert set(langs) == {"es", "en"}, langs
    intents = Counter(item.intent for item in eval_items)
    missing = set(_nlu_examples()) - set(intents)
    assert not missing, f"intents of data/nlu.yml with no evaluation message: {sorted(missing)}"
    unknown = set(intents) - set(_nlu_examples())
    assert not unknown, f"evaluation intents that data/nlu.yml does not have: {sorted(unknown)}"
    thin = {intent: n for intent, n in intents.items() if n < 8}
    assert not thin, f"intents with fewer than 8 evaluation messages: {thin}"


BANT = [slot for slot in SLOTS if slot not in CONTACT]


def test_eval_set_slots_are_labelled(eval_items):
    slots = Counter(item.slot for item in eval_items if item.slot)
    for slot in BANT:
        assert slots[slot] >= 40, f"{slot}: only {slots[slot]} labelled answers"
    for item in eval_items:
        if item.slot:
            assert item.intent == "inform", f"{item.text!r}: an answer to a question is an inform"


def test_eval_set_does_not_overlap_training_data(eval_items):
    training = set().union(*_nlu_examples().values())
    overlap = [item.text for item in eval_items if item.text.strip().lower() in training]
    assert not overlap, f"evaluation messages copied from data/nlu.yml: {overlap}"


def test_slot_exact_match(config, eval_items):
    scores = score_slots(eval_items, config)
    report = []
    for slot, score in scores.items():
        if score.score < MINIMUM:
            report.append(f"{slot}: {score.score:.1%} ({score.correct}/{score.total}) exact match, misses:")
            report += [
                f"  [{m['lang']}] {m['text']!r} → got {show(slot, m['got'])}, expected {show(slot, m['expected'])}"
                for m in score.misses
            ]
    assert not report, f"slot exact match below {MINIMUM:.0%}\n" + "\n".join(report)


@pytest.mark.skipif(not DEFAULT_RASA.exists(), reason="Rasa environment not installed (run bin/test)")
def test_intent_accuracy(model, eval_items):
    """`model` is the shared fixture in tests/conftest.py ($LEADQUAL_MODEL or bin/train)."""
    score = score_intents(eval_items, model)
    figures = {"overall": score.accuracy}
    figures.update({lang: ok / total for lang, (ok, total) in score.by_lang.items()})
    low = {name: value for name, value in figures.items() if value < MINIMUM}
    misses = "\n".join(
        f"  [{m['lang']}] {m['text']!r} → got {m['got']} ({m['confidence']:.2f}), expected {m['expected']}"
        for m in score.misses
    )
    assert not low, (
        f"intent accuracy below {MINIMUM:.0%}: "
        + ", ".join(f"{name} {value:.1%}" for name, value in low.items())
        + f"\nmisses ({len(score.misses)}/{score.total}):\n{misses}"
    )
