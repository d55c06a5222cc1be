"""POST /crm/hubspot/webhook: HubSpot's webhooks about contacts the product sent (a stage or an
owner changed by a salesperson, a privacy deletion), as a Sanic blueprint.

Only a request HubSpot signed (signature v3 with the app's secret, LEADQUAL_HUBSPOT_APP_SECRET,
over the URL configured in the app, LEADQUAL_HUBSPOT_WEBHOOK_URL) and sent in the last five
minutes is read; an event already applied is refused (leadqual/leads/crm_sync.py), so a replay
changes nothing. Anything else is a 4xx that says why.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable

from sanic import Blueprint, response

from leadqual import settings
from leadqual.delivery.hubspot import InvalidWebhook, verify_webhook
from leadqual.leads import crm_sync

MAX_EVENTS = 1000


def crm_blueprint(store_of: Callable, hubspot_of: Callable) -> Blueprint:
    """`store_of()` the lead store, `hubspot_of()` the HubSpot connector (None when HubSpot is
    not the configured CRM)."""
    bp = Blueprint("crm_webhooks")

    @bp.post("/crm/hubspot/webhook")
    async def hubspot_webhook(request):
        uri = settings.HUBSPOT_WEBHOOK_URL.get() or request.url
        try:
            verify_webhook(
                settings.HUBSPOT_APP_SECRET.get(),
                request.method,
                uri,
                request.body or b"",
                request.headers.get("x-hubspot-request-timestamp"),
                request.headers.get("x-hubspot-signature-v3"),
                int(time.time() * 1000),
            )
        except InvalidWebhook as exc:
            return response.json({"error": str(exc)}, status=401)
        try:
            events = json.loads(request.body or b"")
        except ValueError:
            return response.json({"error": "the body must be a JSON array of events"}, status=400)
        if not isinstance(events, list) or not all(isinstance(e, dict) for e in events):
            return response.json({"error": "the body must be a JSON array of events"}, status=400)
        if len(events) > MAX_EVENTS:
            return response.json({"error": f"at most {MAX_EVENTS} events a request"}, status=413)
        sync = hubspot_of()
        if sync is None:
            return response.json({"error": "HubSpot is not the configured CRM (LEADQUAL_CRM_DESTINATION)"}, status=409)
        results = await asyncio.to_thread(crm_sync.handle_hubspot_events, store_of(), sync, events)
        return response.json({"events": [{"outcome": r.outcome, "detail": r.detail} for r in results]})

    return bp
