"""The demo website (leadqual/http/website.py, port 8080 under bin/run) as a real server: no header can
be injected through the path, a redirect never leaves the site, and an odd path is answered (400
or 404), never with a dropped connection. Requests are sent as raw bytes, as an attacker would."""

from __future__ import annotations

import socket
import subprocess
import sys
from urllib.parse import urljoin, urlsplit

import pytest

from ..conftest import ROOT, free_port, stop, wait_for


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    port = free_port()
    log = tmp_path_factory.mktemp("site") / "site.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "leadqual.http.website", "--port", str(port)],
        cwd=ROOT,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        env={"PATH": "/usr/bin:/bin", "LEADQUAL_BROWSER_WRITE_KEY": "pub_site_test"},
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/", proc, log, timeout=30)
        yield port
    finally:
        stop(proc)


def get(port: int, target: str) -> tuple[int, list[tuple[str, str]], bytes]:
    """GET `target` exactly as given; (status, headers, body). Fails if the server closes the
    connection without a complete answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode("latin-1"))
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    assert answer, f"{target!r}: connection closed without an answer"
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = [tuple(part.strip() for part in line.split(":", 1)) for line in lines]
    length = dict((k.lower(), v) for k, v in headers).get("content-length")
    assert length is not None and int(length) == len(body), f"{target!r}: incomplete answer"
    return int(status_line.split()[1]), headers, body


HEADER_INJECTIONS = [
    "/%0d%0aSet-Cookie:%20lq_session=attacker/..",
    "/%0D%0ASet-Cookie:%20lq_session=attacker",
    "/precios%0d%0aSet-Cookie:%20lq_session=attacker/..",
    "/%0aSet-Cookie:%20lq_session=attacker/..",
    "/%0dSet-Cookie:%20lq_session=attacker/..",
    "/precios/?x=%0d%0aSet-Cookie:%20lq_session=attacker",
]


@pytest.mark.parametrize("target", HEADER_INJECTIONS)
def test_no_header_can_be_injected_through_the_path(site, target):
    status, headers, _ = get(site, target)
    names = [name.lower() for name, _ in headers]
    assert "set-cookie" not in names, headers
    assert set(names) <= {"server", "date", "content-type", "content-length", "cache-control", "location"}
    assert status in (200, 301, 400, 404)


OFF_SITE = [
    "/%2F%2Fevil.example/..",
    "/%2f%2fevil.example%2f..",
    "//evil.example/..",
    "///evil.example/..",
    "/%5Cevil.example/..",
    "/\\evil.example/..",
    "/%5C%5Cevil.example/..",
    "/%09/evil.example/..",
    "/%2F%2Fevil.example/precios/..",
    "http://evil.example/precios",
]


@pytest.mark.parametrize("target", OFF_SITE)
def test_a_redirect_never_leaves_the_site(site, target):
    status, headers, _ = get(site, target)
    for name, value in headers:
        if name.lower() == "location":
            assert value.startswith("/") and value[1:2] not in ("/", "\\"), value
            assert urlsplit(urljoin(f"http://127.0.0.1:{site}/", value)).netloc == f"127.0.0.1:{site}", value
    assert status in (301, 400, 404)


@pytest.mark.parametrize(
    "target", ["/%00", "/precios/%00", "/%00/..", "/index.html%00.css", "/%ff", "/%c3%28/..", "/" + "a" * 300, "/%7f"]
)
def test_an_odd_path_is_answered_not_dropped(site, target):
    status, _, _ = get(site, target)
    assert status in (400, 404)


def test_the_pages_are_still_served(site):
    status, headers, _ = get(site, "/precios")
    assert status == 301 and ("Location", "/precios/") in headers
    status, headers, _ = get(site, "/en/pricing?utm_source=news&utm_medium=email")
    assert status == 301 and ("Location", "/en/pricing/?utm_source=news&utm_medium=email") in headers
    status, headers, body = get(site, "/precios/")
    assert status == 200 and b'data-write-key="pub_site_test"' in body and b'data-lang="es"' in body
    status, _, body = get(site, "/en/pricing/")
    assert status == 200 and b'data-lang="en"' in body
    assert get(site, "/assets/site.css")[0] == 200
    assert get(site, "/no-such-page")[0] == 404
    assert get(site, "/../../etc/passwd")[0] == 404
