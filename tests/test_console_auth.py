"""Who gets into the console: password hashing and lockout (SQLite and PostgreSQL), then the real
console process over HTTP: signed-out requests refused, CSRF, roles, the JSON API with tokens,
CSV export and the dead-letter retry button."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from contextlib import ExitStack
from datetime import timedelta

import pytest

from leadqual.console import auth
from leadqual.console.i18n import LANGUAGES, STRINGS, pick
from leadqual.db.tables import utcnow
from leadqual.delivery import outbox

from .console_support import PASSWORD, ROOT, XSS, Browser, add_user, console_database, console_process, seed_lead

# -- users, passwords, sessions (no server) ----------------------------------------------------


def test_passwords_are_stored_as_argon2id_hashes(store):
    add_user(store, "Ana@Nubilo.es", "sdr")
    with store.sessions() as session:
        user = session.query(auth.User).one()
        assert user.email == "ana@nubilo.es"
        assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash
        assert auth.authenticate(session, "ANA@nubilo.es", PASSWORD).id == user.id
    with pytest.raises(auth.AuthError) as caught, store.sessions() as session:
        auth.create_user(session, "x@nubilo.es", "short", "sdr")
    assert caught.value.code == "weak_password"


def test_repeated_failures_lock_the_account_even_for_the_right_password(store):
    add_user(store, "ana@nubilo.es", "sdr")
    now = utcnow()
    for _ in range(auth.MAX_FAILURES):
        with store.sessions.begin() as session, pytest.raises(auth.AuthError) as caught:
            auth.authenticate(session, "ana@nubilo.es", "wrong password!", now=now)
        assert caught.value.code == "bad_credentials"
    with store.sessions.begin() as session, pytest.raises(auth.AuthError) as caught:
        auth.authenticate(session, "ana@nubilo.es", PASSWORD, now=now)
    assert caught.value.code == "locked"
    with store.sessions.begin() as session:  # after the lockout, the right password works again
        assert auth.authenticate(session, "ana@nubilo.es", PASSWORD, now=now + auth.LOCKOUT + timedelta(seconds=1))


def test_sessions_end_when_idle_disabled_or_signed_out(store):
    add_user(store, "ana@nubilo.es", "sdr")
    now = utcnow()
    with store.sessions.begin() as session:
        user = auth.authenticate(session, "ana@nubilo.es", PASSWORD)
        token = auth.start_session(session, user, now=now)
    with store.sessions.begin() as session:
        web, found = auth.session_user(session, token, now=now + timedelta(hours=1))
        assert found.email == "ana@nubilo.es" and len(web.csrf_token) > 30
        assert auth.session_user(session, token + "x", now=now) is None
    with store.sessions.begin() as session:
        assert auth.session_user(session, token, now=now + auth.IDLE_TIMEOUT + timedelta(hours=2)) is None
    with store.sessions.begin() as session:
        assert auth.session_user(session, token, now=now) is None  # the expired session was deleted


def test_every_string_in_both_languages_and_accept_language():
    assert all(set(LANGUAGES) <= set(texts) and all(texts.values()) for texts in STRINGS.values())
    assert pick(None, "en-GB,en;q=0.9") == "en"
    assert pick(None, "fr-FR,en;q=0.5,es;q=0.8") == "es"
    assert pick("en", "es-ES") == "en"
    assert pick(None, None) == "es"


def test_first_admin_from_the_command_line(tmp_path):
    url = f"sqlite:///{tmp_path / 'leads.db'}"
    run = [sys.executable, "-m", "leadqual.tools.cli", "--database-url", url, "user", "add", "boss@nubilo.es"]
    done = subprocess.run(
        [*run, "--role", "admin", "--password-stdin"], input=PASSWORD + "\n", capture_output=True, text=True, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    again = subprocess.run(
        [*run, "--role", "admin", "--password-stdin"], input=PASSWORD + "\n", capture_output=True, text=True, cwd=ROOT
    )
    assert again.returncode == 1 and "already exists" in again.stderr
    from leadqual.leads.store import LeadStore

    store = LeadStore(url)
    with store.sessions() as session:
        assert auth.authenticate(session, "boss@nubilo.es", PASSWORD).role == "admin"
    store.engine.dispose()


# -- over HTTP, on SQLite and PostgreSQL ------------------------------------------------------


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def console(request, tmp_path_factory, config):
    """The console process on a seeded database: an admin, an SDR (lucia), a marketer, leads."""
    workdir = tmp_path_factory.mktemp("console")
    with ExitStack() as stack:
        database_url, store = console_database(request.param, workdir, stack, config)
        ids = {
            "ana": seed_lead(store, "ana@acme.es", owner="lucia", stage="mql", visitor_text=XSS),
            "bob": seed_lead(store, "bob@globex.com", company="=cmd|' /C calc'!A0", lang="en", owner="emma"),
        }
        url = stack.enter_context(console_process(database_url, workdir, LEADQUAL_CONSOLE_API_TOKEN="env-token-123"))
        yield {"url": url, "store": store, "ids": ids}
        store.engine.dispose()


def signed_in(console, email) -> Browser:
    browser = Browser(console["url"])
    assert browser.sign_in(email).status_code == 302
    return browser


def test_signed_out_pages_redirect_to_sign_in_and_the_api_says_401(console):
    browser = Browser(console["url"])
    lead_id = console["ids"]["ana"]
    for path in ("/leads", f"/leads/{lead_id}", "/admin/users", "/admin/dead-letters", "/leads.csv"):
        answer = browser.get(path, allow_redirects=False)
        assert answer.status_code == 302 and answer.headers["location"].startswith("/login?next="), path
    for path in ("/api/leads", f"/api/leads/{lead_id}"):
        answer = browser.get(path)
        assert answer.status_code == 401 and answer.json()["error"] == "unauthorized"
    answer = browser.post(f"/leads/{lead_id}/decide", {"decision": "accepted"}, csrf=False, allow_redirects=False)
    assert answer.status_code == 302 and console["store"].get(lead_id)["stage"] == "mql"


def test_sign_in_sets_a_strict_cookie_and_wrong_passwords_are_refused(console):
    browser = Browser(console["url"])
    answer = browser.sign_in("lucia@nubilo.es", "not the password")
    assert answer.status_code == 401 and "Email o contraseña incorrectos" in answer.text
    answer = browser.sign_in("lucia@nubilo.es")
    cookie = answer.headers["set-cookie"]
    assert "lq_session=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert browser.get("/leads").status_code == 200
    browser.post("/logout", {})
    assert browser.get("/leads", allow_redirects=False).status_code == 302


def test_a_post_without_the_sessions_csrf_token_changes_nothing(console):
    browser = signed_in(console, "lucia@nubilo.es")
    lead_id = console["ids"]["ana"]
    browser.get(f"/leads/{lead_id}")
    for token in (None, "forged-token"):
        data = {"decision": "noted", "note": "desde otro sitio"}
        if token:
            data["csrf_token"] = token
        answer = browser.post(f"/leads/{lead_id}/decide", data, csrf=False)
        assert answer.status_code == 403
    other = signed_in(console, "admin@nubilo.es")  # another session's token is no good either
    other.get("/leads")
    answer = browser.post(f"/leads/{lead_id}/decide", {"decision": "noted", "note": "x", "csrf_token": other.csrf})
    assert answer.status_code == 403
    login = Browser(console["url"]).post("/login", {"email": "lucia@nubilo.es", "password": PASSWORD}, csrf=False)
    assert login.status_code == 403
    assert "desde otro sitio" not in browser.get(f"/leads/{lead_id}").text


def test_roles_sdr_no_admin_marketing_no_decisions(console):
    sdr = signed_in(console, "lucia@nubilo.es")
    for path in ("/admin/users", "/admin/dead-letters", "/leads.csv"):
        assert sdr.get(path).status_code == 403, path
    marketing = signed_in(console, "mkt@nubilo.es")
    lead_id = console["ids"]["ana"]
    marketing.get(f"/leads/{lead_id}")
    assert marketing.post(f"/leads/{lead_id}/decide", {"decision": "accepted"}).status_code == 403
    assert console["store"].get(lead_id)["stage"] == "mql"
    assert marketing.get("/leads.csv").status_code == 200
    assert marketing.get("/admin/users").status_code == 403
    admin = signed_in(console, "admin@nubilo.es")
    assert admin.get("/admin/users").status_code == 200


def test_the_lead_page_escapes_visitor_text(console):
    sdr = signed_in(console, "lucia@nubilo.es")
    page = sdr.get(f"/leads/{console['ids']['ana']}").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>" not in page
    assert "unos 20.000 € al año" in page


def test_csv_export_over_http(console):
    marketing = signed_in(console, "mkt@nubilo.es")
    answer = marketing.get("/leads.csv?language=en")
    assert answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert [r["email"] for r in rows] == ["bob@globex.com"] and rows[0]["company"].startswith("'=")
    assert marketing.get("/leads.csv?grade=Q").status_code == 400


def test_json_api_with_tokens_is_the_lead_json_of_bin_leads_show(console):
    url, store, lead_id = console["url"], console["store"], console["ids"]["ana"]
    import requests

    def api(path, token):
        return requests.get(url + path, headers={"Authorization": f"Bearer {token}"}, timeout=30)

    assert api("/api/leads", "wrong").status_code == 401
    answer = api(f"/api/leads/{lead_id}", "env-token-123")
    assert answer.status_code == 200
    expected = json.loads(json.dumps(store.get(lead_id)))
    assert answer.json() == expected
    admin = signed_in(console, "admin@nubilo.es")
    admin.get("/admin/users")
    user_id = next(u.id for u in _users(store) if u.email == "lucia@nubilo.es")
    page = admin.post(f"/admin/users/{user_id}", {"action": "token"}).text
    token = page.split("lq_", 1)[1].split("<", 1)[0].split()[0]
    listing = api("/api/leads?language=es&limit=10", "lq_" + token)
    assert listing.status_code == 200
    assert [lead["email"] for lead in listing.json()["leads"]] == ["ana@acme.es"]
    bad = api("/api/leads?created_from=ayer", "lq_" + token)
    assert bad.status_code == 400 and bad.json()["field"] == "created_from"
    assert api("/api/leads/does-not-exist", "env-token-123").status_code == 404


def _users(store):
    with store.sessions() as session:
        return list(session.query(auth.User))


def test_admin_sees_dead_letters_and_retries_one(console):
    store = console["store"]
    with store.sessions.begin() as session:
        message = outbox.enqueue(session, "crm", {"lead_id": "x"}, key="dead-" + console["url"][-5:])
        message.status, message.attempts, message.last_status, message.last_error = "dead", 12, 422, "unprocessable"
        message_id = message.id
    admin = signed_in(console, "admin@nubilo.es")
    page = admin.get("/admin/dead-letters").text
    assert message_id in page and "unprocessable" in page
    answer = admin.post(f"/admin/dead-letters/{message_id}/retry", {})
    assert answer.status_code == 200 and message_id in answer.text
    with store.sessions() as session:
        assert session.get(outbox.OutboxMessage, message_id).status == "pending"
    assert admin.post(f"/admin/dead-letters/{message_id}/retry", {}).status_code == 404


def test_admin_creates_and_disables_users(console):
    admin = signed_in(console, "admin@nubilo.es")
    admin.get("/admin/users")
    form = {"email": "new.sdr@nubilo.es", "password": PASSWORD, "role": "sdr", "sdr_id": "diego"}
    assert admin.post("/admin/users", form).status_code == 200
    new = signed_in(console, "new.sdr@nubilo.es")
    user_id = next(u.id for u in _users(console["store"]) if u.email == "new.sdr@nubilo.es")
    admin.post(f"/admin/users/{user_id}", {"action": "disable"})
    assert new.get("/leads", allow_redirects=False).status_code == 302  # its session ended
    assert Browser(console["url"]).sign_in("new.sdr@nubilo.es").status_code == 401
