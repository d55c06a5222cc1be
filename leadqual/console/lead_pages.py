"""The lead list (the inbox and the list by score, filters, CSV export) and the lead page with the
score in sentences and the SDR's decisions: only the ones the lead's stage allows are offered, and
a refused one is said in the user's language with what they typed kept in the form."""

from __future__ import annotations

import asyncio
from urllib.parse import urlencode

from sanic import Blueprint, response
from sanic.exceptions import NotFound

from leadqual import timeutil
from leadqual.leads import crm_sync
from leadqual.scoring.stages import STAGES

from .context import (
    DECISION_LABELS,
    Console,
)
from .decisions import ERROR_STATUS, STAGE_DECISIONS, DecisionError, allowed, stage_decisions
from .explain import Explainer
from .i18n import LANGUAGES, STRINGS, translator
from .queries import GRADES, QUEUE, UNASSIGNED, VIEWS, FilterError, LeadFilter, export_csv, lead_page, list_leads

LABELS = {**DECISION_LABELS, "reopened": "reopen"}


def blueprint(console: Console) -> Blueprint:
    bp = Blueprint("lead_pages")
    store = console.store
    config = console.config
    render = console.render
    need = console.need
    live = console.live
    decisions = console.decisions

    # -- the lead list ---------------------------------------------------------------------

    def owners() -> list[tuple[str, str]]:
        choices = [(s.id, s.name) for s in config.handoff.sdrs]
        return choices + [(QUEUE + config.handoff.fallback_queue, config.handoff.fallback_queue)]

    def default_view(user) -> str:
        """SDRs land on their inbox; marketing and admins on the list by score."""
        return "inbox" if user.role == "sdr" else "score"

    @bp.get("/leads")
    async def leads(request):
        user = need(request, "read")
        t = translator(request.ctx.lang)
        args = {k: request.args.get(k) for k in request.args}
        view = (args.get("view") or "").strip() or default_view(user)
        try:
            lead_filter = LeadFilter.parse(args)
            page = list_leads(
                store,
                lead_filter,
                after=args.get("after"),
                before=args.get("before"),
                new_since=timeutil.aware(request.ctx.new_since),
                view=view,
                sdr_id=user.sdr_id,
            )
            error, status = None, 200
        except FilterError as exc:
            value = args.get(exc.field) or ""
            label = t(exc.field) if exc.field in STRINGS else exc.field
            lead_filter, page, status = LeadFilter(), None, 400
            error = t("bad_filter", field=label, value=value)
            view = view if view in VIEWS else default_view(user)
        keep = {**lead_filter.query_args(), "view": view}
        return render(
            request,
            "leads.html",
            status=status,
            page=page,
            error=error,
            filters=keep,
            view=view,
            stages=STAGES,
            grades=list(GRADES),
            owners=owners(),
            unassigned=UNASSIGNED,
            languages=LANGUAGES,
            can_export=user.can("export"),
            query=lambda **extra: urlencode({**keep, **extra}),
            csv_query=lambda: urlencode(lead_filter.query_args()),
        )

    @bp.get("/leads.csv")
    async def leads_csv(request):
        need(request, "export")
        try:
            lead_filter = LeadFilter.parse({k: request.args.get(k) for k in request.args})
        except FilterError as exc:
            return response.text(f"{exc.field}: {exc}", status=400)
        out = await request.respond(
            content_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="leads.csv"', "Cache-Control": "no-store"},
        )
        for chunk in export_csv(store, lead_filter):
            await out.send(chunk)
        await out.eof()

    # -- the lead page and decisions -------------------------------------------------------

    def show_lead(
        request,
        lead_id: str,
        status: int = 200,
        error: str | None = None,
        done: str | None = None,
        kept: dict | None = None,
        resent: bool = False,
    ):
        """The lead page; after a refused decision, `error` says why and `kept` is what the form
        held (decision, note, reason, sdr), so the SDR's note is not lost."""
        user = request.ctx.user
        data = lead_page(store, lead_id)
        if data is None:
            raise NotFound("no such lead")
        lead = data["lead"]
        explain = Explainer(request.ctx.lang, config)
        why = [
            {**line, "sentence": explain.line(line["line"]), "source_label": explain.source(line["source"])}
            for line in data["why"]
        ]
        qualifies = {slot: lead["bant"][slot].get("qualifies") for slot in ("budget", "authority", "need", "timing")}
        history = [
            {**h, "note": explain.stage_note(h.get("note") or "")}
            if h["type"] == "stage" and h.get("actor_type") in ("bot", "rule")
            else h
            for h in data["history"]
        ]
        timeline = [{**e, "label": explain.event_name(e.get("name") or "")} for e in data["timeline"]]
        offered = stage_decisions(lead["stage"], data["accepted"])
        kept = kept or {}
        # A refused decision whose form the page no longer offers (the lead moved on meanwhile):
        # its note goes to the notes box, and the message says so.
        note_moved = bool(
            kept.get("note", "").strip() and kept.get("decision") not in (*offered, "reassigned", "noted")
        )
        return render(
            request,
            "lead.html",
            status=status,
            error=error,
            done=done,
            resent=resent,
            kept=kept,
            note_moved=note_moved,
            can_decide=allowed(user, lead),
            stage_decisions=offered,
            reasons={d: sorted(r) for d, (_, r) in STAGE_DECISIONS.items() if r},
            decision_labels=LABELS,
            sdrs=config.handoff.sdrs,
            live_chats=live.lead_chats(lead_id) if user.can("decide") else None,
            **{**data, "why": why, "history": history, "timeline": timeline},
            stage_standing=explain.stage_standing(lead["scores"]["total"] or 0, qualifies),
            claimable=lead["owner"]["sdr"] is None and bool(user.sdr_id),
            level_keys={key for key in STRINGS if key.startswith("level_")},
            need_labels={n.id: n.label.get(request.ctx.lang) for n in config.need.needs},
        )

    @bp.get("/leads/<lead_id:str>")
    async def lead(request, lead_id: str):
        need(request, "read")
        done = request.args.get("done")
        resent = request.args.get("crm") == "resent"
        return show_lead(request, lead_id, done=done if done in LABELS else None, resent=resent)

    def refusal(request, exc: DecisionError) -> str:
        """A refused decision as the user reads it: a sentence in their language, never the
        exception's English."""
        t = translator(request.ctx.lang)
        key = f"decision_{exc.code}"
        if key not in STRINGS:
            key = {"reason_not_allowed": "decision_unknown_reason", "actor_not_allowed": "decision_illegal_move"}.get(
                exc.code, "decision_failed"
            )
        values = dict(exc.values)
        if "stage" in values:
            values["stage"] = t(f"stage_{values['stage']}")
        if "decision" in values:
            label = LABELS.get(values["decision"])
            values["decision"] = t(label) if label else values["decision"]
        try:
            return t(key, **values) if values else t(key)
        except (KeyError, IndexError):  # a message that needs a value this refusal does not carry
            return t("decision_failed")

    @bp.post("/leads/<lead_id:str>/decide")
    async def decide(request, lead_id: str):
        user = need(request, "decide")
        form = request.form
        decision = form.get("decision") or ""
        typed = form.get("note") or ""
        note = typed.strip()
        kept = {"decision": decision, "note": typed, "reason": form.get("reason") or "", "sdr": form.get("sdr") or ""}
        try:
            if decision in STAGE_DECISIONS:
                decisions.move(user, lead_id, decision, reason=form.get("reason"), note=note)
            elif decision == "reassigned":
                decisions.reassign(user, lead_id, form.get("sdr") or "", note=note)
            elif decision == "noted":
                decisions.add_note(user, lead_id, note)
            elif decision == "identity_confirmed":  # an unverified chat is that lead's person
                try:
                    merged = await asyncio.to_thread(store.confirm_identity, lead_id, user.email)
                except KeyError as exc:
                    raise DecisionError("no_claim", str(exc).strip("'")) from None
                return response.redirect(f"/leads/{merged['id']}?done={decision}")
            else:
                raise DecisionError("unknown_decision", f"unknown decision {decision!r}")
        except DecisionError as exc:
            if exc.code == "unknown_lead":
                raise NotFound("no such lead") from None
            status = ERROR_STATUS.get(exc.code, 400)
            return show_lead(request, lead_id, status=status, error=refusal(request, exc), kept=kept)
        return response.redirect(f"/leads/{lead_id}?done={decision}")

    @bp.post("/leads/<lead_id:str>/crm/resend")
    async def crm_resend(request, lead_id: str):
        user = need(request, "decide")
        lead = store.get(lead_id)
        if lead is None:
            raise NotFound("no such lead")
        if not allowed(user, lead):
            return show_lead(request, lead_id, status=403, error=translator(request.ctx.lang)("decision_forbidden"))
        await asyncio.to_thread(crm_sync.send_again, store, lead_id)
        return response.redirect(f"/leads/{lead_id}?crm=resent")

    return bp
