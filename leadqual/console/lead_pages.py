"""The lead list (filters, CSV export) and the lead page with the SDR's decisions."""

from __future__ import annotations

import asyncio
from urllib.parse import urlencode

from sanic import Blueprint, response
from sanic.exceptions import NotFound

from leadqual import timeutil
from leadqual.scoring.stages import MACHINE, STAGES

from .context import (
    DECISION_LABELS,
    Console,
)
from .decisions import STAGE_DECISIONS, DecisionError, allowed
from .i18n import LANGUAGES
from .queries import QUEUE, UNASSIGNED, FilterError, LeadFilter, export_csv, lead_page, list_leads


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

    @bp.get("/leads")
    async def leads(request):
        user = need(request, "read")
        args = {k: request.args.get(k) for k in request.args}
        try:
            lead_filter = LeadFilter.parse(args)
            page = list_leads(
                store,
                lead_filter,
                after=args.get("after"),
                before=args.get("before"),
                new_since=timeutil.aware(request.ctx.new_since),
            )
            error, status = None, 200
        except FilterError as exc:
            lead_filter, page, error, status = LeadFilter(), None, f"{exc.field}: {exc}", 400
        keep = lead_filter.query_args()
        return render(
            request,
            "leads.html",
            status=status,
            page=page,
            error=error,
            filters=keep,
            stages=STAGES,
            grades=[f"{letter}{n}" for letter in "ABCD" for n in "123"],
            owners=owners(),
            unassigned=UNASSIGNED,
            languages=LANGUAGES,
            can_export=user.can("export"),
            query=lambda **extra: urlencode({**keep, **extra}),
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

    def show_lead(request, lead_id: str, status: int = 200, error: str | None = None, done: str | None = None):
        user = request.ctx.user
        data = lead_page(store, lead_id)
        if data is None:
            raise NotFound("no such lead")
        lead = data["lead"]
        targets = MACHINE.allowed_targets(lead["stage"], "person")
        stage_decisions = [d for d, (target, _) in STAGE_DECISIONS.items() if target in targets]
        return render(
            request,
            "lead.html",
            status=status,
            error=error,
            done=done,
            can_decide=allowed(user, lead),
            stage_decisions=stage_decisions,
            reasons={d: sorted(r) for d, (_, r) in STAGE_DECISIONS.items() if r},
            decision_labels=DECISION_LABELS,
            sdrs=config.handoff.sdrs,
            live_chats=live.lead_chats(lead_id) if user.can("decide") else None,
            **data,
        )

    @bp.get("/leads/<lead_id:str>")
    async def lead(request, lead_id: str):
        need(request, "read")
        done = request.args.get("done")
        return show_lead(request, lead_id, done=done if done in DECISION_LABELS else None)

    @bp.post("/leads/<lead_id:str>/decide")
    async def decide(request, lead_id: str):
        user = need(request, "decide")
        form = request.form
        decision = form.get("decision") or ""
        note = (form.get("note") or "").strip()
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
            return show_lead(request, lead_id, status=403 if exc.code == "forbidden" else 400, error=str(exc))
        return response.redirect(f"/leads/{lead_id}?done={decision}")

    return bp
