"""The console's privacy pages (admins only): export everything held about one person as a JSON
download, and erase them (leadqual/leads/privacy.py), from the Privacy page (by email) or from the lead
page. Erasing needs the person's email typed again and a reason; it is recorded in `erasures`
(who, when, why, counts; no personal data), listed on the Privacy page.

Emails travel in POST forms only (CSRF-checked in app.py), never in a URL or a log line.
"""

from __future__ import annotations

import asyncio
import json
from urllib.parse import urlencode

from sanic import Blueprint, response

from leadqual.leads import privacy

from .context import Console
from .i18n import translator


def register(app, store, render, need) -> None:
    """The /admin/privacy pages. `render(request, template, status=..., **context)` and
    `need(request, permission)` are the console's (app.py)."""

    def page(request, status: int = 200, error: str | None = None, email: str = "", reason: str = ""):
        erased = request.args.get("erased")
        records = privacy.erasures(store, limit=100)
        return render(
            request,
            "privacy.html",
            status=status,
            error=error,
            email=email,
            reason=reason,
            erased=next((r for r in records if r["id"] == erased), None) if erased else None,
            erasures=records,
            tracker_configured=privacy.tracker_store_url() is not None,
            retention=store.config.privacy,
        )

    @app.get("/admin/privacy")
    async def privacy_page(request):
        need(request, "admin")
        return page(request)

    @app.post("/admin/privacy/export")
    async def privacy_export(request):
        need(request, "admin")
        email = (request.form.get("email") or "").strip()
        document = await asyncio.to_thread(privacy.export_person, store, email) if email else {"found": False}
        if not document["found"]:
            t = translator(request.ctx.lang)
            return page(request, status=404, error=t("privacy_not_found"), email=email)
        name = f"person-{document['lead']['id']}.json"
        return response.raw(
            json.dumps(document, indent=2, ensure_ascii=False).encode("utf-8"),
            content_type="application/json; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    @app.post("/admin/privacy/erase")
    async def privacy_erase(request):
        user = need(request, "admin")
        t = translator(request.ctx.lang)
        form = request.form
        email = (form.get("email") or "").strip()
        confirm = (form.get("confirm_email") or "").strip()
        reason = (form.get("reason") or "").strip()
        if not email or confirm.lower() != email.lower():
            return page(request, status=400, error=t("privacy_confirm_mismatch"), email=email, reason=reason)
        if not reason:
            return page(request, status=400, error=t("privacy_reason_needed"), email=email)
        result = await asyncio.to_thread(privacy.erase_person, store, email, user.email, reason)
        return response.redirect("/admin/privacy?" + urlencode({"erased": result["erasure_id"]}), status=303)


def blueprint(console: Console) -> Blueprint:
    """These pages as a blueprint of the console app (app.build_app)."""
    bp = Blueprint("privacy_pages")
    register(bp, console.store, console.render, console.need)
    return bp
