"""Which question comes next: the configured questions, with each extra question that applies
to what the visitor has answered so far right after its anchor question."""

from __future__ import annotations

from leadqual.config.marketing import ExtraQuestion, QualificationConfig
from leadqual.scoring import extras
from leadqual.scoring.fit import fit_score
from leadqual.understanding.answers import is_skipped


def applies(extra: ExtraQuestion, answers: dict, config: QualificationConfig) -> bool:
    """Whether every `when` condition holds on `answers` (slot or extra key -> value)."""
    for question, accepted in extra.when.items():
        if question == "qualifies":
            fit = fit_score({k: v for k, v in answers.items() if v and not is_skipped(v)}, config)
            if not all(fit.qualifies(criterion) is True for criterion in accepted):
                return False
            continue
        value = answers.get(question) or answers.get(extras.key(question)) or {}
        if is_skipped(value):
            return False
        given = {"need": value.get("value"), "authority": value.get("level")}.get(question, value.get("option"))
        if given not in accepted:
            return False
    return True


def ordered_questions(config: QualificationConfig, answers: dict) -> list[str]:
    """The slots to ask, in order: the configured questions with each applicable extra question's
    slot right after its `after` question."""
    slots = list(config.questions)
    for extra in config.extra_questions:
        if not applies(extra, answers, config):
            continue
        anchor = extra.after if extra.after in slots else config.extra_slot(extra.after)
        if anchor in slots:
            slots.insert(slots.index(anchor) + 1, config.extra_slot(extra.id))
    return slots
