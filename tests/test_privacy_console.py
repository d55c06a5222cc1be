"""The console's privacy pages over HTTP, on SQLite and PostgreSQL: an admin exports one person
(a JSON download) and erases them (CSRF, the email typed again, a reason), recorded in `erasures`
with their conversations gone from the tracker store; SDRs and marketing get 403."""

from __future__ import annotations

import json
from contextlib import ExitStack

import pytest
from sqlalchemy import create_engine, func, select, text

from leadqual.db.tables import Erasure, Lead

from .console_support import Browser, console_database, console_process
from .test_privacy import _mentions, seed_person


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def console(request, tmp_path_factory, config):
    workdir = tmp_path_factory.mktemp("privacy_console")
    with ExitStack() as stack:
        database_url, store = console_database(request.param, workdir, stack, config)
        people = {"ana": seed_person(store, "ana"), "bob": seed_person(store, "bob")}
        tracker_url = f"sqlite:///{workdir / 'tracker.db'}"
        tracker = create_engine(tracker_url)
        with tracker.begin() as conn:
            conn.execute(
                text(
                    "CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255) NOT NULL,"
                    " type_name VARCHAR(255) NOT NULL, timestamp FLOAT, intent_name VARCHAR(255),"
                    " action_name VARCHAR(255), data TEXT)"
                )
            )
            for person in people.values():
                for sender in person["sender_ids"]:
                    conn.execute(
                        text("INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (:s, 'user', 1, '{}')"),
                        {"s": sender},
                    )
        url = stack.enter_context(console_process(database_url, workdir, LEADQUAL_RASA_TRACKER_STORE_URL=tracker_url))
        yield {"url": url, "store": store, "people": people, "tracker": tracker}
        tracker.dispose()
        store.engine.dispose()


def signed_in(console, email: str, path: str = "/leads") -> Browser:
    browser = Browser(console["url"])
    assert browser.sign_in(email).status_code == 302
    browser.get(path)
    return browser


def test_sdr_and_marketing_cannot_export_or_erase(console):
    ana = console["people"]["ana"]
    for email in ("lucia@nubilo.es", "mkt@nubilo.es"):
        browser = signed_in(console, email)
        assert browser.get("/admin/privacy").status_code == 403
        page = browser.get(f"/leads/{ana['lead_id']}").text
        assert 'data-testid="lead-privacy"' not in page and "/admin/privacy" not in page
        assert browser.post("/admin/privacy/export", {"email": ana["email"]}).status_code == 403
        answer = browser.post(
            "/admin/privacy/erase", {"email": ana["email"], "confirm_email": ana["email"], "reason": "x"}
        )
        assert answer.status_code == 403
    assert console["store"].get(ana["lead_id"]) is not None


def test_admin_exports_a_person_as_a_json_download(console):
    ana, bob = console["people"]["ana"], console["people"]["bob"]
    admin = signed_in(console, "admin@nubilo.es", "/admin/privacy")
    page = admin.get(f"/leads/{ana['lead_id']}").text
    assert 'data-testid="lead-privacy"' in page and 'action="/admin/privacy/erase"' in page
    assert admin.post("/admin/privacy/export", {"email": ana["email"]}, csrf=False).status_code == 403
    answer = admin.post("/admin/privacy/export", {"email": ana["email"].upper()})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.headers["content-disposition"] == f'attachment; filename="person-{ana["lead_id"]}.json"'
    document = answer.json()
    assert document["found"] and document["lead"]["id"] == ana["lead_id"]
    assert document["consents"] and document["events"] and document["notes"] and document["outbox_messages"]
    assert not _mentions(json.dumps(document), bob)
    missing = admin.post("/admin/privacy/export", {"email": "nobody@acme.es"})
    assert missing.status_code == 404 and "No hay ningún lead" in missing.text


def test_admin_erases_a_person_with_csrf_and_typed_confirmation(console):
    store = console["store"]
    ana, bob = console["people"]["ana"], console["people"]["bob"]
    admin = signed_in(console, "admin@nubilo.es", "/admin/privacy")
    form = {"email": ana["email"], "confirm_email": ana["email"], "reason": f"Solicitud de {ana['email']} #12"}
    assert admin.post("/admin/privacy/erase", form, csrf=False).status_code == 403
    assert admin.post("/admin/privacy/erase", {**form, "csrf_token": "forged"}, csrf=False).status_code == 403
    wrong = admin.post("/admin/privacy/erase", {**form, "confirm_email": bob["email"]})
    assert wrong.status_code == 400 and "no coincide" in wrong.text
    assert admin.post("/admin/privacy/erase", {**form, "reason": " "}).status_code == 400
    assert store.get(ana["lead_id"]) is not None
    answer = admin.post("/admin/privacy/erase", form, allow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/admin/privacy?erased=")
    page = admin.get(answer.headers["location"])
    assert page.status_code == 200 and 'data-testid="erased"' in page.text and "borradas en Rasa" in page.text
    assert ana["email"] not in page.text.split('data-testid="erasures"')[1]
    assert store.get_by_email(ana["email"]) is None and store.get(ana["lead_id"]) is None
    assert store.get(bob["lead_id"]) is not None
    with console["tracker"].connect() as conn:
        senders = {row[0] for row in conn.execute(text("SELECT sender_id FROM events"))}
    assert senders == set(bob["sender_ids"])
    with store.sessions() as session:
        erasure = session.scalars(select(Erasure)).one()
        assert erasure.by == "admin@nubilo.es" and erasure.reason == "Solicitud de [erased] #12"
        assert (
            erasure.tracker_store == "deleted" and erasure.counts["leads"] == 2
        )  # with the chat that only claimed the email
        assert session.scalar(select(func.count()).select_from(Lead).where(Lead.email_key.is_not(None))) == 1
