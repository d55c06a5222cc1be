"""The lead page says how the lead stands in the native CRM (synced / pending / failed, with the
reason and a link to the record) and "send again" puts a failed delivery back; on the real console
process, SQLite and PostgreSQL."""

from __future__ import annotations

import html
import random
import re
from contextlib import ExitStack
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from leadqual import timeutil
from leadqual.db.tables import OutboxMessage
from leadqual.delivery import connectors
from leadqual.delivery.outbox import DeliveryWorker, Destinations
from tests.fakes.hubspot_api import HubSpotServer
from tests.test_crm_hubspot import SDRS, hot

from .console_support import Browser, console_database, console_process

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def console(request, tmp_path_factory, config):
    workdir = tmp_path_factory.mktemp("console-crm")
    with ExitStack() as stack:
        database_url, store = console_database(request.param, workdir, stack, config)
        hs = stack.enter_context(HubSpotServer(owners=SDRS))
        url = stack.enter_context(console_process(database_url, workdir))
        environ = {"LEADQUAL_HUBSPOT_TOKEN": hs.token, "LEADQUAL_HUBSPOT_API_URL": hs.url}
        sync = connectors.hubspot(store.engine, store.config, environ=environ)
        worker = DeliveryWorker(store.engine, Destinations.from_env(environ={}).with_connector("crm", sync),
                                rng=random.Random(3))  # fmt: skip
        yield {"url": url, "store": store, "hs": hs, "worker": worker, "sync": sync}
        store.engine.dispose()


def text_of(answer) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", answer.text)).split())


def signed_in(console, email: str) -> Browser:
    browser = Browser(console["url"])
    assert browser.sign_in(email).status_code == 302
    return browser


def test_a_failed_delivery_shows_the_reason_and_send_again_delivers_it(console):
    store, hs, worker, sync = console["store"], console["hs"], console["worker"], console["sync"]
    lead = store.save_conversation("chat-console-crm", hot("crm@acme.example"), "es", None, NOW)
    assert worker.run_once(NOW)["dead"] == 1  # not connected yet: HubSpot refuses the properties
    admin = signed_in(console, "admin@nubilo.es")
    page = admin.get(f"/leads/{lead['id']}")
    block = re.search(r'data-testid="crm-hubspot".*?</div>\s*</section>', page.text, re.S).group(0)
    assert "Falló" in text_of(page) and "does not exist" in html.unescape(block)
    assert 'data-testid="crm-resend"' in block
    assert sync.check(create=True).ok
    answer = admin.post(f"/leads/{lead['id']}/crm/resend", {}, allow_redirects=False)
    assert answer.status_code == 302 and answer.headers["location"].endswith("?crm=resent")
    assert "Se enviará otra vez al CRM." in text_of(admin.get(answer.headers["location"]))
    # A moment later (the console's process and this one do not share a clock to the millisecond).
    assert worker.run_once(timeutil.now() + timedelta(seconds=5))["delivered"] == 1
    page = admin.get(f"/leads/{lead['id']}")
    contact = hs.contact_by_email("crm@acme.example")
    assert "Sincronizado" in text_of(page) and contact["id"] in page.text
    assert 'data-testid="crm-resend"' not in page.text


def test_send_again_needs_a_signed_in_user_and_the_csrf_token(console):
    store = console["store"]
    lead = store.save_conversation("chat-console-crm-2", hot("crm2@acme.example"), "es", None, NOW)
    anonymous = Browser(console["url"])
    assert anonymous.post(f"/leads/{lead['id']}/crm/resend", {}, csrf=False, allow_redirects=False).status_code in (
        302,
        401,
        403,
    )
    admin = signed_in(console, "admin@nubilo.es")
    admin.get(f"/leads/{lead['id']}")
    assert admin.post(f"/leads/{lead['id']}/crm/resend", {}, csrf=False, allow_redirects=False).status_code == 403
    with store.sessions() as session:
        messages = session.scalars(select(OutboxMessage).where(OutboxMessage.lead_id == lead["id"])).all()
    assert len(messages) == 1  # only the handoff: nothing was queued by the refused posts
