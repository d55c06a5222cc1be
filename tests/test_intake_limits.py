"""Rate limits of the tracking intake: token buckets per client and key kind; 429 with
Retry-After over HTTP from a real server."""

from __future__ import annotations

import pytest
import requests

from leadqual.http.ratelimit import Limit, RateLimiter

from .conftest import running_action_server


def test_a_bucket_refills_at_its_rate_and_clients_are_apart():
    now = [0.0]
    limiter = RateLimiter({"browser": Limit(rate=2, burst=3)}, clock=lambda: now[0])
    assert [limiter.take("browser", "1.2.3.4") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.take("browser", "1.2.3.4") == pytest.approx(0.5)  # empty: wait for one token
    assert limiter.take("browser", "5.6.7.8") == 0.0  # another client has its own bucket
    now[0] = 0.5
    assert limiter.take("browser", "1.2.3.4") == 0.0
    assert limiter.take("browser", "1.2.3.4") > 0


@pytest.fixture(scope="module")
def intake(tmp_path_factory):
    limits = {
        "LEADQUAL_INTAKE_BROWSER_RATE": "0.2",
        "LEADQUAL_INTAKE_BROWSER_BURST": "3",
        "LEADQUAL_INTAKE_UNKNOWN_RATE": "0.2",
        "LEADQUAL_INTAKE_UNKNOWN_BURST": "2",
    }
    keys = {"LEADQUAL_WRITE_KEY": "server-key", "LEADQUAL_BROWSER_WRITE_KEY": "pub_browser"}
    with running_action_server(tmp_path_factory.mktemp("limits"), **keys, **limits) as (url, _log):
        yield url + "/v1"


def page(url: str, key: str, n: int) -> requests.Response:
    body = {"anonymousId": "visitor-0001", "messageId": f"m{n}", "properties": {"url": "https://x.example/"}}
    return requests.post(url + "/page", json=body, auth=(key, ""), timeout=10)


def test_the_public_key_is_limited_per_client_and_told_when_to_retry(intake):
    assert [page(intake, "pub_browser", n).status_code for n in range(3)] == [200, 200, 200]
    refused = page(intake, "pub_browser", 3)
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1 and "too many calls" in refused.json()["error"]
    assert page(intake, "server-key", 4).status_code == 200  # the server key has its own, larger bucket


def test_guessing_write_keys_is_slowed_down(intake):
    codes = [page(intake, f"guess-{n}", n).status_code for n in range(4)]
    assert codes[:2] == [401, 401] and codes[2:] == [429, 429]
