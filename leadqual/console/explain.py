"""The score explained in sentences, in the user's language: each line of a lead's score breakdown
(`leadqual.scoring.fit.score_lead`'s lines), the stage machine's notes ("score 107 >= sql
threshold 80; budget, authority, need qualified") and where the total stands against the stage
thresholds.

The lines carry what was compared in their `reason` (written by scoring/fit.py, behaviour.py and
extras.py, in English, for logs and the JSON): this module reads those values back and says them
as a sentence from i18n.py (`explain_*`), with the config's own labels (needs, extra questions).
A line it cannot read still gets a sentence (the points of a scoring rule); the rule id is shown
beside it on the page, smaller, never instead of it.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterable, Mapping

from leadqual.config.marketing import QualificationConfig

from .i18n import STRINGS, translator

BANT = ("budget", "authority", "need", "timing")

# scoring/fit.py's budget reasons.
_BUDGET_OPEN = re.compile(r"^open-ended budget from (?P<amount>[\d.]+) (?P<currency>[A-Z]{3})$")
_BUDGET_COMPARED = re.compile(
    r"^(?P<amount>[\d.]+) (?P<currency>[A-Z]{3})/(?P<period>[a-z_]+)"
    r"(?: = (?P<yearly>[\d.]+) (?P<base>[A-Z]{3})/year)?"
    r" (?:>=|<) minimum (?P<minimum>[\d.]+) (?P<min_currency>[A-Z]{3})/year$"
)
_UNKNOWN_CURRENCY = re.compile(r"^unknown currency (?P<currency>\S+)$")
_TIMING = re.compile(r"^(?P<months>[\d.]+) months")
# behaviour.py's event reasons: "<what>: +10", "<what> (window cap: ..., would have been +10): +4",
# "<what>: capped (...)", each maybe ending ", decayed to +6.20".
_EVENT_CAPPED = re.compile(
    r"^(?P<what>.*?): capped \((?:(?P<max>\d+) per (?P<days>[\d.]+) days|window cap: (?P<wmax>\d+) points per"
    r" (?P<wdays>[\d.]+) days) already counted, would have been (?P<would>[+-]\d+)\)$"
)
_EVENT_LIMITED = re.compile(
    r"^(?P<what>.*?) \(window cap: (?P<wmax>\d+) points per (?P<wdays>[\d.]+) days, would have been"
    r" (?P<would>[+-]\d+)\): [+-]\d+(?:, decayed to [+-]\d+\.\d\d)?$"
)
_EVENT = re.compile(r"^(?P<what>.*?): [+-]\d+(?:, decayed to [+-]\d+\.\d\d)?$")
_COUNTRY = re.compile(r"^country (?P<country>[A-Z]{2})\b")
_EMPLOYEES = re.compile(r"^(?P<employees>\d+) employees")
_PERSONA = re.compile(r"^job title (?P<title>'.*'|\".*\") matches persona (?P<keyword>'.*'|\".*\")$", re.S)
# stages._explain's notes, and rescore.py's went-cold note.
_THRESHOLD = re.compile(
    r"^score (?P<total>-?\d+) (?P<sign>>=|<) (?P<stage>[a-z]+) threshold (?P<minimum>-?\d+)"
    r"(?:; (?P<criteria>[a-z, ]+?) (?P<met>not qualified|qualified))?(?P<ready>; sales-ready: for sales to accept)?$"
)
_WENT_COLD = re.compile(r"^no activity since (?P<date>\d{4}-\d\d-\d\d) \(more than (?P<days>[\d.]+) days\)$")


def _number(text: str | float, lang: str) -> str:
    """A number as the user reads it: 20.000 and 1,5 in Spanish, 20,000 and 1.5 in English."""
    if isinstance(text, str):  # fit.py writes thousands with "." ("20.000")
        return text.replace(".", ",") if lang == "en" else text
    formatted = f"{text:,.1f}".rstrip("0").rstrip(".") if text != int(text) else f"{int(text):,}"
    if lang == "es":
        formatted = formatted.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return formatted


def _decimal(text: str, lang: str) -> str:
    """A number written with a decimal point ("3.5", from `:g`) as the user reads it."""
    return text.replace(".", ",") if lang == "es" else text


def _points(value: float, lang: str) -> str:
    text = f"{value:+.1f}" if value != int(value) else f"{int(value):+d}"
    return text.replace(".", ",") if lang == "es" else text


class Explainer:
    """Sentences for one user's language, with the config's labels."""

    def __init__(self, lang: str, config: QualificationConfig) -> None:
        self.lang = lang
        self.config = config
        self.t: Callable[..., str] = translator(lang)

    # -- shared pieces ------------------------------------------------------------------------

    def months(self, months: float) -> str:
        if months == 1:
            return self.t("explain_one_month")
        return self.t("explain_n_months", n=_number(float(months), self.lang))

    def listing(self, items: Iterable[str]) -> str:
        """ "a, b y c" / "a, b and c"."""
        items = list(items)
        if len(items) <= 1:
            return "".join(items)
        return f"{', '.join(items[:-1])} {self.t('explain_and')} {items[-1]}"

    def criteria(self, names: Iterable[str]) -> str:
        return self.listing(self.t(name).lower() if name in STRINGS else name for name in names)

    def period(self, period: str) -> str:
        key = f"period_{period}"
        return self.t(key) if key in STRINGS else period

    # -- a score line -------------------------------------------------------------------------

    def line(self, line: Mapping) -> str:
        """One breakdown line as a sentence."""
        rule = str(line.get("rule") or "")
        reason = str(line.get("reason") or "")
        source = line.get("source")
        try:
            if source == "answer":
                sentence = self._answer(rule, reason, line)
            elif source == "profile":
                sentence = self._profile(rule, reason)
            elif source == "event":
                sentence = self._event(rule, reason, line)
            elif rule == "behaviour.decay":
                sentence = self.t("explain_decay_total", delta=_points(float(line.get("delta") or 0), self.lang))
            else:
                sentence = None
        except (ValueError, SyntaxError):  # a reason written some other way: the general sentence
            sentence = None
        if sentence is None:
            points = line.get("value", line.get("points", 0)) or 0
            sentence = self.t("explain_other_rule", points=_points(float(points), self.lang))
        return sentence

    def _answer(self, rule: str, reason: str, line: Mapping) -> str | None:
        t = self.t
        if rule.startswith("budget."):
            return self._budget(rule, reason)
        if rule == "authority":
            return t("explain_authority_unknown")
        if rule.startswith("authority.points."):
            level = rule.removeprefix("authority.points.")
            key = f"explain_authority_{level}"
            return t(key) if key in STRINGS else t("explain_authority_other", level=level)
        if rule == "need":
            return t("explain_need_unknown")
        if rule == "need.points.none":
            return t("explain_need_none")
        if rule == "need.points.match":
            need_id = reason.removeprefix("need: ")
            need = self.config.need.get(need_id)
            return t("explain_need_match", need=need.label.get(self.lang) if need else need_id)
        if rule.startswith("timing."):
            return self._timing(rule, reason)
        if rule.startswith("extra_questions."):
            return self._extra(rule)
        return None

    def _budget(self, rule: str, reason: str) -> str | None:
        t, lang = self.t, self.lang
        if rule == "budget.points.no_budget":
            return t("explain_budget_none")
        if rule == "budget.points.unknown":
            currency = _UNKNOWN_CURRENCY.match(reason)
            if currency:
                return t("explain_budget_currency", currency=currency.group("currency"))
            if reason == "no amount given":
                return t("explain_budget_no_amount")
            return t("explain_budget_unknown")
        opened = _BUDGET_OPEN.match(reason)
        if opened:
            amount = f"{_number(opened.group('amount'), lang)} {opened.group('currency')}"
            return t("explain_budget_open", amount=amount)
        compared = _BUDGET_COMPARED.match(reason)
        if not compared:
            return None
        amount = f"{_number(compared.group('amount'), lang)} {compared.group('currency')} "
        amount += self.period(compared.group("period"))
        if compared.group("yearly"):
            yearly = f"{_number(compared.group('yearly'), lang)} {compared.group('base')} {self.period('year')}"
            amount = t("explain_converted", amount=amount, converted=yearly)
        minimum = f"{_number(compared.group('minimum'), lang)} {compared.group('min_currency')} {self.period('year')}"
        key = "explain_budget_qualifies" if rule == "budget.points.qualifies" else "explain_budget_below"
        return t(key, amount=amount, minimum=minimum)

    def _timing(self, rule: str, reason: str) -> str | None:
        t = self.t
        if rule == "timing.unknown_points":
            return t("explain_timing_unknown")
        found = _TIMING.match(reason)
        if rule == "timing.later_points":
            if found:
                return t("explain_timing_too_late", months=self.months(float(found.group("months"))))
            return t("explain_timing_no_rush")
        if rule.startswith("timing.windows.") and found:
            window_id = rule.removeprefix("timing.windows.")
            window = next((w for w in self.config.timing.windows if w.id == window_id), None)
            months = float(found.group("months"))
            limit = self.months(window.max_months) if window else window_id
            if months == 0:
                return t("explain_timing_asap", window=limit)
            return t("explain_timing_window", months=self.months(months), window=limit)
        return None

    def _extra(self, rule: str) -> str | None:
        parts = rule.split(".")
        extra = next((e for e in self.config.extra_questions if len(parts) > 1 and e.id == parts[1]), None)
        question = extra.ask.get(self.lang) if extra else (parts[1] if len(parts) > 1 else rule)
        if len(parts) == 3 and parts[2] == "points_if_answered":
            return self.t("explain_extra_answered", question=question)
        if len(parts) == 4 and parts[2] == "options":
            option = extra.option(parts[3]) if extra else None
            label = option.label.get(self.lang) if option else parts[3]
            return self.t("explain_extra_option", question=question, option=label)
        return None

    def _profile(self, rule: str, reason: str) -> str | None:
        t = self.t
        if rule in ("behaviour.explicit.territory", "behaviour.explicit.far_away"):
            country = _COUNTRY.match(reason)
            if not country:
                return None
            key = "explain_territory" if rule.endswith("territory") else "explain_far_away"
            return t(key, country=country.group("country"))
        if rule.startswith("behaviour.explicit.company_size."):
            employees = _EMPLOYEES.match(reason)
            if not employees:
                return None
            band = rule.removeprefix("behaviour.explicit.company_size.")
            key = f"explain_band_{band}"
            return t(
                "explain_company_size",
                employees=_number(float(employees.group("employees")), self.lang),
                band=t(key) if key in STRINGS else band,
            )
        if rule == "behaviour.explicit.personas":
            persona = _PERSONA.match(reason)
            if not persona:
                return None
            # The title and keyword are Python reprs (behaviour.py's !r): read back as plain strings.
            title, keyword = ast.literal_eval(persona.group("title")), ast.literal_eval(persona.group("keyword"))
            return t("explain_persona", title=str(title), keyword=str(keyword))
        return None

    def _event(self, rule: str, reason: str, line: Mapping) -> str | None:
        t, lang = self.t, self.lang
        capped = _EVENT_CAPPED.match(reason)
        limited = None if capped else _EVENT_LIMITED.match(reason)
        plain = None if capped or limited else _EVENT.match(reason)
        found = capped or limited or plain
        what = found.group("what") if found else ""
        sentence = self._what(rule, str(line.get("event") or ""), what)
        if capped and capped.group("max"):
            would = capped.group("would")
            extra = t("explain_capped", max=capped.group("max"), days=_decimal(capped.group("days"), lang), would=would)
        elif capped:
            days = _decimal(capped.group("wdays"), lang)
            extra = t("explain_window_capped", max=capped.group("wmax"), days=days, would=capped.group("would"))
        elif limited:
            extra = t(
                "explain_window_limited",
                points=_points(float(line.get("points") or 0), lang),
                max=limited.group("wmax"),
                days=_decimal(limited.group("wdays"), lang),
                would=limited.group("would"),
            )
        else:
            extra = ""
        points, value = float(line.get("points") or 0), float(line.get("value", line.get("points")) or 0)
        if points and round(value, 1) != points:
            decayed = t("explain_decayed", points=_points(points, lang), value=_points(round(value, 1), lang))
            extra = f"{extra} {decayed}".strip()
        return f"{sentence} {extra}".strip()

    def _what(self, rule: str, event: str, what: str) -> str:
        """What the visitor did: a page (pricing, landing, any) or a named event."""
        t = self.t
        rule_id = rule.removeprefix("behaviour.rules.")
        configured = next((r for r in self.config.behaviour.rules if r.id == rule_id), None)
        page_event = self.config.behaviour.page_event
        if event == page_event or (configured is not None and configured.event is None):
            url = what.removeprefix(f"{event} ").strip() if event else what
            pattern = f"{rule_id} {(configured.url or configured.url_regex or '') if configured else ''}".lower()
            if "pric" in pattern or "precio" in pattern:
                return t("explain_event_pricing", url=url)
            if "landing" in pattern or "/lp/" in pattern:
                return t("explain_event_landing", url=url)
            return t("explain_event_page", url=url)
        name = event or (configured.event if configured and configured.event else rule_id)
        key = f"explain_event_{name}"
        return t(key) if key in STRINGS else t("explain_event_other", name=name)

    # -- stages ---------------------------------------------------------------------------------

    def threshold(
        self,
        stage: str,
        total: int,
        minimum: int,
        met: Iterable[str] = (),
        missing: Iterable[str] = (),
        ready: bool = False,
    ) -> str:
        """ "The score 107 reaches the SQL threshold (80). Qualified: budget, authority and need." """
        t = self.t
        stage_name = t(f"stage_{stage}") if f"stage_{stage}" in STRINGS else stage
        key = "explain_threshold_met" if total >= minimum else "explain_threshold_below"
        parts = [t(key, total=total, stage=stage_name, minimum=minimum)]
        met, missing = list(met), list(missing)
        if missing:
            parts.append(t("explain_criteria_missing", criteria=self.criteria(missing)))
        elif met:
            parts.append(t("explain_criteria_met", criteria=self.criteria(met)))
        if ready:
            parts.append(t("explain_sales_ready_note"))
        return " ".join(parts)

    def stage_note(self, note: str) -> str:
        """A bot's or rule's note on a stage move as a sentence; any other note as it was written."""
        found = _THRESHOLD.match(note or "")
        if found:
            criteria = [c.strip() for c in (found.group("criteria") or "").split(",") if c.strip()]
            missing = found.group("met") == "not qualified"
            return self.threshold(
                found.group("stage"),
                int(found.group("total")),
                int(found.group("minimum")),
                met=[] if missing else criteria,
                missing=criteria if missing else [],
                ready=bool(found.group("ready")),
            )
        cold = _WENT_COLD.match(note or "")
        if cold:
            return self.t("explain_went_cold", date=cold.group("date"), days=_decimal(cold.group("days"), self.lang))
        return note

    def stage_standing(self, total: int, qualifies: Mapping[str, bool | None]) -> list[str]:
        """Where the total stands against the MQL and SQL thresholds, and the criteria each requires."""
        out = []
        for name in ("mql", "sql"):
            rule = getattr(self.config.stages, name)
            out.append(
                self.threshold(
                    name,
                    total,
                    rule.min_score,
                    met=[c for c in rule.requires if qualifies.get(c) is True],
                    missing=[c for c in rule.requires if qualifies.get(c) is not True],
                )
            )
        return out

    def source(self, source: str | None) -> str:
        key = f"explain_source_{source}"
        return self.t(key) if key in STRINGS else (source or "")

    def event_name(self, name: str) -> str:
        """A timeline event's name in words (the event's own name when it has none)."""
        key = f"explain_event_name_{name}"
        return self.t(key) if key in STRINGS else name
