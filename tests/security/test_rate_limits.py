"""Rate limits count events and the clients behind the proxy (the security test's finding 5).

The finding: 60,000 events in 3.2 s with the public key and no 429 (a batch cost one token);
behind the shipped nginx every visitor was the proxy's address, so one client could starve all
tracking and lock everyone out of console sign-in; and bodies up to Sanic's 100 MB were read
before the 413. Now a call costs one token per event, X-Forwarded-For is believed only from
LEADQUAL_TRUSTED_PROXIES (its right-most untrusted address), and the action server reads at
most intake_api.MAX_REQUEST_BYTES of a body, refusing a larger one from its Content-Length.
"""

from __future__ import annotations

import socket
import time
import uuid
from contextlib import ExitStack
from urllib.parse import urlsplit

import pytest
import requests

from leadqual.config.marketing import ConfigError
from leadqual.console import sign_in
from leadqual.http import clientaddr
from leadqual.http import intake as intake_api

from ..conftest import running_action_server
from ..console_support import PASSWORD, Browser, console_database, console_process

SERVER_KEY = "srv-" + uuid.uuid4().hex
BROWSER_KEY = "pub-" + uuid.uuid4().hex
BURST = 5
ACTION_TOKEN = "rates-" + uuid.uuid4().hex


@pytest.fixture(scope="module")
def intake(tmp_path_factory):
    env = {
        "LEADQUAL_WRITE_KEY": SERVER_KEY,
        "LEADQUAL_BROWSER_WRITE_KEY": BROWSER_KEY,
        "LEADQUAL_TRUSTED_PROXIES": "127.0.0.1 ::1",  # this test is the proxy
        "LEADQUAL_ACTION_TOKEN": ACTION_TOKEN,
        "LEADQUAL_INTAKE_BROWSER_RATE": "0.01",
        "LEADQUAL_INTAKE_BROWSER_BURST": str(BURST),
    }
    with running_action_server(tmp_path_factory.mktemp("rates"), **env) as (url, _log):
        yield url


def pages(n: int) -> list[dict]:
    anonymous_id = "anon-" + uuid.uuid4().hex
    return [
        {
            "type": "page",
            "anonymousId": anonymous_id,
            "messageId": uuid.uuid4().hex,
            "properties": {"url": "https://x/"},
        }
        for _ in range(n)
    ]


def send(url: str, kind: str, body: dict, client: str, key: str = BROWSER_KEY) -> requests.Response:
    return requests.post(f"{url}/v1/{kind}", json=body, auth=(key, ""), headers={"X-Forwarded-For": client}, timeout=30)


def client() -> str:
    """A documentation address (RFC 5737) of its own for each test."""
    return f"203.0.113.{uuid.uuid4().int % 250 + 1}"


def test_a_batch_costs_one_token_per_event(intake):
    someone = client()
    assert send(intake, "batch", {"batch": pages(BURST)}, someone).status_code == 200
    refused = send(intake, "page", pages(1)[0], someone)  # the bucket is empty: the batch spent it
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1


def test_a_batch_bigger_than_the_bucket_is_413_not_a_wait(intake):
    response = send(intake, "batch", {"batch": pages(BURST + 1)}, client())
    assert response.status_code == 413, response.text
    assert f"at most {BURST} events per call" in response.json()["error"]
    assert response.json()["problems"][0]["field"] == "batch"


def test_clients_behind_the_trusted_proxy_have_buckets_of_their_own(intake):
    flooder, other = "198.51.100.7", "198.51.100.8"
    # The flooder also writes addresses of its own into X-Forwarded-For: the proxy appends the
    # address it saw, the right-most one, and only that one is believed.
    codes = [send(intake, "page", pages(1)[0], f"10.9.8.{n}, {flooder}").status_code for n in range(BURST + 2)]
    assert codes[:BURST] == [200] * BURST and codes[BURST:] == [429, 429]
    assert send(intake, "page", pages(1)[0], other).status_code == 200  # was 429: everyone was the proxy
    # Through two trusted proxies (127.0.0.1 twice), still the client before them.
    assert send(intake, "page", pages(1)[0], f"{flooder}, 127.0.0.1").status_code == 429
    assert send(intake, "page", pages(1)[0], f"{other}, 127.0.0.1").status_code == 200


def big_content_length(url: str, path: str, length: int = 50_000_000) -> bytes:
    """Send only the headers of a huge request and read what comes back within 10 s."""
    target = urlsplit(url)
    with socket.create_connection((target.hostname, target.port), timeout=10) as sock:
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: {target.hostname}\r\nContent-Type: application/json\r\n"
            f"Authorization: Basic x\r\nContent-Length: {length}\r\n\r\n{{".encode()
        )
        started, answer = time.monotonic(), b""
        while b"\r\n\r\n" not in answer and time.monotonic() - started < 10:
            chunk = sock.recv(4096)
            if not chunk:
                break
            answer += chunk
    return answer


@pytest.mark.parametrize(
    "path",
    ["/v1/batch", "/v1/p", f"/webhook?token={ACTION_TOKEN}", f"/nlg?token={ACTION_TOKEN}"],
    ids=["batch", "page", "webhook", "nlg"],
)
def test_an_oversized_body_is_refused_from_its_content_length_before_it_is_read(intake, path):
    answer = big_content_length(intake, path)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    # Just over the limit too; a body under it is read as before (and then judged by the intake).
    assert big_content_length(intake, path, intake_api.MAX_REQUEST_BYTES + 1).startswith(b"HTTP/1.1 413")


def test_forwarded_for_is_believed_only_from_trusted_proxies():
    proxies = clientaddr.parse_trusted("127.0.0.1, 10.0.0.0/8 fd00::/8")
    # Not from a proxy: the header is whatever the client wrote.
    assert clientaddr.client_address("198.51.100.1", ["1.2.3.4"], proxies) == "198.51.100.1"
    assert clientaddr.client_address("198.51.100.1", ["1.2.3.4"], ()) == "198.51.100.1"
    assert clientaddr.client_address("127.0.0.1", ["1.2.3.4"], ()) == "127.0.0.1"  # no proxies configured
    # From a proxy: the right-most address that is not a trusted proxy.
    assert clientaddr.client_address("127.0.0.1", ["6.6.6.6, 198.51.100.2"], proxies) == "198.51.100.2"
    assert clientaddr.client_address("127.0.0.1", ["6.6.6.6", "198.51.100.2, 10.1.2.3"], proxies) == "198.51.100.2"
    assert clientaddr.client_address("10.0.0.5", ["198.51.100.3:5123"], proxies) == "198.51.100.3"
    assert clientaddr.client_address("127.0.0.1", ["[2001:db8::7]:443"], proxies) == "2001:db8::7"
    assert clientaddr.client_address("::ffff:127.0.0.1", ["::ffff:198.51.100.4"], proxies) == "198.51.100.4"
    # Nothing to go by: the proxy itself (never an address the client made up).
    assert clientaddr.client_address("127.0.0.1", [], proxies) == "127.0.0.1"
    assert clientaddr.client_address("127.0.0.1", ["6.6.6.6, unknown"], proxies) == "127.0.0.1"
    assert clientaddr.client_address("127.0.0.1", ["10.0.0.1"], proxies) == "10.0.0.1"
    with pytest.raises(ConfigError, match="LEADQUAL_TRUSTED_PROXIES"):
        clientaddr.parse_trusted("127.0.0.1 nginx")


def test_an_ipv6_client_is_one_client_for_its_whole_64():
    assert clientaddr.rate_key("2001:db8:1:2:aaaa::1") == clientaddr.rate_key("2001:db8:1:2:ffff::9")
    assert clientaddr.rate_key("2001:db8:1:2::1") != clientaddr.rate_key("2001:db8:1:3::1")
    assert clientaddr.rate_key("198.51.100.9") == "198.51.100.9"


# -- console sign-in: the throttle is per client, not per proxy -------------------------------


@pytest.fixture(scope="module")
def console(tmp_path_factory, config):
    workdir = tmp_path_factory.mktemp("throttle")
    with ExitStack() as stack:
        database_url, store = console_database("sqlite", workdir, stack, config)
        stack.callback(store.engine.dispose)
        yield stack.enter_context(console_process(database_url, workdir, LEADQUAL_TRUSTED_PROXIES="127.0.0.1"))


class ProxiedBrowser(Browser):
    """A browser whose requests come through the proxy (this test) from `address`."""

    def __init__(self, url: str, address: str) -> None:
        super().__init__(url)
        self.http.headers["X-Forwarded-For"] = address


def test_one_client_failing_sign_ins_does_not_make_everyone_wait(console):
    stranger = ProxiedBrowser(console, "198.51.100.50")
    codes = [
        stranger.sign_in(f"nobody{n}@nubilo.es", "not the password").status_code for n in range(sign_in.LOGIN_LIMIT)
    ]
    assert set(codes) == {401}
    assert stranger.sign_in("admin@nubilo.es").status_code == 429  # that client now waits
    # A header of its own does not get it out: the proxy's entry is the right-most one.
    stranger.http.headers["X-Forwarded-For"] = "203.0.113.99, 198.51.100.50"
    assert stranger.sign_in("admin@nubilo.es").status_code == 429
    # Everyone else signs in as usual (was 429: all of them were the proxy's address).
    assert ProxiedBrowser(console, "198.51.100.51").sign_in("admin@nubilo.es", PASSWORD).status_code == 302


def test_the_throttle_remembers_a_bounded_number_of_addresses():
    throttle = sign_in.Throttle(limit=2, window=60, max_addresses=100)
    for n in range(1000):
        throttle.failed(f"10.0.{n // 250}.{n % 250}")
    assert len(throttle.failures) == 100
    assert not throttle.blocked("192.0.2.1") and len(throttle.failures) == 100  # asking adds nothing
