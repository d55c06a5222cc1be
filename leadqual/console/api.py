"""The JSON API (/api/leads): a bearer token, a user's own or LEADQUAL_CONSOLE_API_TOKEN (read-only)."""

from __future__ import annotations

import json

from sanic import Blueprint, response
from sqlalchemy import select

from leadqual.leads import serialize
from leadqual.leads.store import Lead

from . import auth
from .auth import User
from .context import (
    Console,
    Forbidden,
    NeedsSignIn,
)
from .queries import PAGE_SIZE, FilterError, LeadFilter, list_leads


def blueprint(console: Console) -> Blueprint:
    bp = Blueprint("api")
    store, api_token = console.store, console.api_token

    # -- the JSON API ----------------------------------------------------------------------

    def api_user(request) -> User | None:
        header = request.headers.get("authorization") or ""
        scheme, _, token = header.partition(" ")
        if scheme.lower() == "bearer" and token:
            token = token.strip()
            if api_token and auth.tokens_match(api_token, token):
                return User(email="api", role="marketing", disabled=False, password_hash="")
            with store.sessions() as session:
                user = auth.api_user(session, token)
            if user is not None:
                return user
        return request.ctx.user

    def api_need(request) -> User:
        user = api_user(request)
        if user is None:
            raise NeedsSignIn()
        if not user.can("read"):
            raise Forbidden()
        return user

    @bp.get("/api/leads")
    async def api_leads(request):
        api_need(request)
        args = {k: request.args.get(k) for k in request.args}
        try:
            lead_filter = LeadFilter.parse(args)
            limit_text = args.get("limit") or str(PAGE_SIZE)
            if not limit_text.isdigit() or not 1 <= int(limit_text) <= 500:
                raise FilterError("limit", f"limit must be a number from 1 to 500, not {limit_text!r}")
            page = list_leads(store, lead_filter, after=args.get("after"), limit=int(limit_text))
        except FilterError as exc:
            return response.json({"error": "bad_filter", "field": exc.field, "message": str(exc)}, status=400)
        ids = [row["id"] for row in page.rows]
        with store.sessions() as session:
            rows = {lead.id: lead for lead in session.scalars(select(Lead).where(Lead.id.in_(ids)))}
            leads_json = [serialize.lead_json(session, rows[i], history=False) for i in ids if i in rows]
        return response.json(
            {"leads": leads_json, "total": page.total, "next": page.next_cursor},
            dumps=lambda value: json.dumps(value, ensure_ascii=False),
        )

    @bp.get("/api/leads/<lead_id:str>")
    async def api_lead(request, lead_id: str):
        api_need(request)
        lead = store.get(lead_id)
        if lead is None:
            return response.json({"error": "not_found", "message": f"no lead with id {lead_id!r}"}, status=404)
        return response.json(lead, dumps=lambda value: json.dumps(value, ensure_ascii=False))

    return bp
