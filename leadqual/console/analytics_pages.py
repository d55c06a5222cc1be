"""The console's analytics page (/analytics, marketing and admin): per-question figures by flow
version and language, the funnel per week beside the source material's benchmark rates, and
score calibration. Charts are inline SVG drawn here, on the server (the console runs no script):
this module computes the shapes, `templates/_charts.html` writes them, escaped like any text.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sanic import Blueprint
from sqlalchemy.exc import SQLAlchemyError

from leadqual.config.marketing import EXTRA_SLOTS
from leadqual.conversation import analytics
from leadqual.conversation.flows import FlowStore

from .context import Console
from .i18n import LANGUAGES, translator

WIDTH = 720
QUESTION_RATES = ("answered", "reasked", "explained", "skipped", "abandoned")
FUNNEL_STAGES = ("visitors", "leads", "mql", "sal", "sql", "opportunity")
# The table's columns after "reached": what happened at the step, in the conversations that reached it.
STEP_KINDS = ("asked", "answered", "volunteered", "reasked", "explained", "skipped", "gave_up", "stopped", "abandoned")
RATE_KEYS = ("visitor_to_mql", "mql_to_sal", "sal_to_sql", "sql_to_opportunity")


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f} %"


def hbars(rows: list[dict], series: tuple[str, ...], labels: dict[str, str], maximum: float = 1.0, fmt=_pct) -> dict:
    """Horizontal grouped bars: one group per row (`row["label"]`), one bar per series
    (`row[series]`, a number or None). Returns the SVG's size, rectangles and texts."""
    label_w, bar_h, gap, group_gap = 170, 12, 2, 12
    plot_w = WIDTH - label_w - 70
    shapes, texts = [], []
    y = 24
    # The legend.
    x = label_w
    for i, key in enumerate(series):
        shapes.append({"x": x, "y": 4, "w": 12, "h": 12, "cls": f"s{i}", "title": labels[key]})
        texts.append({"x": x + 16, "y": 14, "text": labels[key], "cls": "legend", "anchor": "start"})
        x += 24 + 7 * len(labels[key])
    for row in rows:
        height = len(series) * (bar_h + gap)
        texts.append({"x": label_w - 8, "y": y + height / 2 + 4, "text": row["label"], "cls": "label", "anchor": "end"})
        for i, key in enumerate(series):
            value = row.get(key)
            w = 0 if value is None or not maximum else max(0.0, min(1.0, value / maximum)) * plot_w
            top = y + i * (bar_h + gap)
            shapes.append(
                {
                    "x": label_w,
                    "y": top,
                    "w": round(w, 1),
                    "h": bar_h,
                    "cls": f"s{i}",
                    "title": f"{labels[key]}: {fmt(value)}",
                }
            )
            texts.append(
                {"x": label_w + w + 4, "y": top + bar_h - 2, "text": fmt(value), "cls": "value", "anchor": "start"}
            )
        y += height + group_gap
    return {"width": WIDTH, "height": y + 4, "shapes": shapes, "texts": texts}


def vbars(groups: list[dict], series: tuple[str, ...], labels: dict[str, str]) -> dict:
    """Vertical grouped bars per week (`group["label"]`), counts of each series, with a scale."""
    left, top, plot_h, bottom = 40, 26, 160, 40
    maximum = max([g.get(k) or 0 for g in groups for k in series] + [1])
    slot = max(6, min(14, (WIDTH - left - 10) // max(1, len(groups) * (len(series) + 1))))
    shapes, texts = [], []
    x = left
    for i, key in enumerate(series):
        shapes.append({"x": x, "y": 4, "w": 12, "h": 12, "cls": f"s{i}", "title": labels[key]})
        texts.append({"x": x + 16, "y": 14, "text": labels[key], "cls": "legend", "anchor": "start"})
        x += 24 + 7 * len(labels[key])
    for fraction in (0, 0.5, 1):
        y = top + plot_h - fraction * plot_h
        value = f"{maximum * fraction:g}"
        shapes.append({"x": left, "y": round(y, 1), "w": WIDTH - left - 10, "h": 0.5, "cls": "grid", "title": ""})
        texts.append({"x": left - 4, "y": y + 4, "text": value, "cls": "value", "anchor": "end"})
    x = left + slot / 2
    for group in groups:
        for i, key in enumerate(series):
            value = group.get(key) or 0
            h = value / maximum * plot_h
            shapes.append(
                {
                    "x": round(x + i * slot, 1),
                    "y": round(top + plot_h - h, 1),
                    "w": slot - 1,
                    "h": round(h, 1),
                    "cls": f"s{i}",
                    "title": f"{group['label']} · {labels[key]}: {value}",
                }
            )
        texts.append(
            {
                "x": x + len(series) * slot / 2,
                "y": top + plot_h + 14,
                "text": group["label"][5:],
                "cls": "label",
                "anchor": "middle",
            }
        )
        x += (len(series) + 1) * slot
    return {"width": max(WIDTH, int(x) + 10), "height": top + plot_h + bottom, "shapes": shapes, "texts": texts}


def _flow_positions(flows: FlowStore, version: int) -> tuple[dict[str, int], dict[str, str]]:
    """Where each question comes in that version's flow (the order the chat asks them), and the
    extra questions' ids by slot; an unknown version (a restored database) gives none."""
    try:
        flow = flows.get(version)
    except (SQLAlchemyError, ValueError):
        return {}, {}
    if flow.version != version:
        return {}, {}
    config = flow.config
    extras = [(slot, extra.id, extra.after) for slot, extra in zip(EXTRA_SLOTS, config.extra_questions, strict=False)]
    order = analytics.flow_order(list(config.questions), extras)
    return {name: i for i, name in enumerate(order)}, {slot: extra_id for slot, extra_id, _ in extras}


def question_rows(
    figures: list[dict], version: str | None, language: str | None, flows: FlowStore | None = None
) -> tuple[list[dict], list, list]:
    """The figures matching the filters, in the order the flow asks the questions (per version
    and language; a question the version no longer asks goes last), each with its rates: shares
    of the conversations that reached the question; and the versions and languages there are
    to filter by."""
    versions = sorted({f["flow_version"] for f in figures})
    languages = sorted({f["language"] for f in figures})
    positions: dict[int, tuple[dict[str, int], dict[str, str]]] = {}
    rows = []
    for figure in figures:
        if version and str(figure["flow_version"]) != version:
            continue
        if language and figure["language"] != language:
            continue
        if figure["flow_version"] not in positions:
            positions[figure["flow_version"]] = (
                _flow_positions(flows, figure["flow_version"]) if flows is not None else ({}, {})
            )
        order, extra_ids = positions[figure["flow_version"]]
        reached = figure.get("reached", figure["asked"]) or 0
        rates = {f"{kind}_rate": (figure[kind] / reached if reached else None) for kind in QUESTION_RATES}
        rows.append(
            {
                **figure,
                **rates,
                "reach_rate": figure.get("reach_rate"),
                "position": order.get(figure["question"]),
                "extra_id": extra_ids.get(figure["question"]),
            }
        )
    rows.sort(
        key=lambda r: (
            r["flow_version"],
            r["language"],
            r["position"] is None,
            r["position"] if r["position"] is not None else 0,
            r["question"],
        )
    )
    step, group = 0, None
    for row in rows:
        step = step + 1 if group == (row["flow_version"], row["language"]) else 1
        group = (row["flow_version"], row["language"])
        row["step"] = step
    return rows, versions, languages


def question_label(t, row: dict) -> str:
    """How marketing names a question: "Presupuesto", or an extra question by its id."""
    if row.get("extra_id"):
        return f"{row['extra_id']} ({t('flow_extra').lower()})"
    key = f"q_{row['question']}"
    label = t(key)
    return row["question"] if label == key else label


def page_context(engine, lang: str, args) -> dict:
    t = translator(lang)
    version = args.get("version") or None
    language = args.get("language") if args.get("language") in LANGUAGES else None
    since_text = args.get("since") or ""
    try:
        since = datetime.fromisoformat(since_text).replace(tzinfo=timezone.utc) if since_text else None
        since_error = None
    except ValueError:
        since, since_error = None, t("analytics_bad_since", value=since_text)
    figures = analytics.question_figures(engine)
    rows, versions, languages = question_rows(figures, version, language, FlowStore(engine))
    for row in rows:
        row["label"] = question_label(t, row)
    # The funnel chart: how many of the conversations reach each step, answer it, leave there.
    rate_labels = {
        "reach_rate": t("q_reach_rate"),
        "answered_rate": t("q_answered"),
        "abandoned_rate": t("q_abandoned"),
    }
    question_chart = hbars(
        [{**r, "label": f"v{r['flow_version']} · {r['language']} · {r['step']}. {r['label']}"} for r in rows],
        tuple(rate_labels),
        rate_labels,
    )
    funnel = analytics.funnel(engine, since=since)
    stage_labels = {key: t(f"funnel_{key}") for key in FUNNEL_STAGES}
    weeks = [{"label": w["week"], **w} for w in funnel["weeks"]]
    top_chart = vbars(weeks, ("visitors", "leads"), stage_labels)
    stage_chart = vbars(weeks, ("mql", "sal", "sql", "opportunity"), stage_labels)
    rate_rows = [
        {"label": t(f"rate_{key}"), "ours": funnel["rates"].get(key), "benchmark": funnel["benchmark"].get(key)}
        for key in RATE_KEYS
    ]
    rates_chart = hbars(rate_rows, ("ours", "benchmark"), {"ours": t("rate_ours"), "benchmark": t("rate_benchmark")})
    calibration = analytics.calibration(engine)
    band_rows = [{"label": name, "rate": c["rate"], **c} for name, c in calibration["bands"].items()]
    grade_rows = [{"label": name, "rate": c["rate"], **c} for name, c in calibration["grades"].items()]
    rate_label = {"rate": t("conversion_rate")}
    return {
        "filters": {"version": version or "", "language": language or "", "since": since_text},
        "since_error": since_error,
        "versions": versions,
        "languages": languages,
        "question_rows": rows,
        "question_chart": question_chart,
        "funnel": funnel,
        "weeks": funnel["weeks"],
        "top_chart": top_chart,
        "stage_chart": stage_chart,
        "rate_rows": rate_rows,
        "rates_chart": rates_chart,
        "calibration": calibration,
        "band_rows": band_rows,
        "band_chart": hbars(band_rows, ("rate",), rate_label),
        "grade_rows": grade_rows,
        "grade_chart": hbars(grade_rows, ("rate",), rate_label),
        "pct": _pct,
        "kinds": analytics.KINDS,
        "step_kinds": STEP_KINDS,
        # What visitors asked that the knowledge had no answer for: what to add to it next.
        "unanswered": [w for w in analytics.unanswered_by_week(engine) if not language or w["language"] == language],
    }


def register(app, store, render, need) -> None:
    @app.get("/analytics")
    async def analytics_page(request):
        need(request, "analytics")
        context = page_context(store.engine, request.ctx.lang, request.args)
        return render(request, "analytics.html", status=400 if context["since_error"] else 200, **context)


def blueprint(console: Console) -> Blueprint:
    """These pages as a blueprint of the console app (app.build_app)."""
    bp = Blueprint("analytics_pages")
    register(bp, console.store, console.render, console.need)
    return bp
