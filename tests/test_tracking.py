"""Tracking intake without HTTP: what a valid Segment call is, what each write key may send,
when an event happened, and what the lead store is handed (leadqual/http/tracking.py)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from leadqual.http.tracking import (
    MAX_BATCH_BYTES,
    MAX_BATCH_CALLS,
    MAX_CALL_BYTES,
    IdentifyCall,
    IntakeError,
    PageCall,
    TrackCall,
    browser_scope,
    check_scope,
    normalize,
    normalize_traits,
    openapi,
    parse_body,
    server_scope,
)

ANON = "anon-visitor-0001"
RECEIVED = datetime(2026, 3, 15, 12, 0, tzinfo=timezone.utc)


def raw(**fields) -> bytes:
    return json.dumps(fields).encode()


def refused(body: bytes, kind: str, status: int = 400) -> IntakeError:
    with pytest.raises(IntakeError) as info:
        parse_body(body, kind)
    assert info.value.status == status, info.value
    return info.value


def fields(error: IntakeError) -> list[str]:
    return [p["field"] for p in error.problems]


def events(body: bytes, kind: str, scope=None, received_at: datetime = RECEIVED) -> list[dict]:
    calls = parse_body(body, kind)
    scope = scope or server_scope()
    check_scope(calls, scope, batch=kind == "batch")
    return normalize(calls, scope, received_at, "page", batch=kind == "batch")


def one(body: bytes, kind: str, **kwargs) -> dict:
    [event] = events(body, kind, **kwargs)
    return event


# -- valid calls ------------------------------------------------------------------------------


def test_a_track_call_becomes_one_event_with_its_name_properties_and_visitor():
    event = one(
        raw(
            event="demo_request",
            anonymousId=ANON,
            userId=42,
            properties={"plan": "pro"},
            messageId="m-1",
            channel="server",  # senders' own fields are ignored, not refused
        ),
        "track",
    )
    assert event["type"] == "track"
    assert event["name"] == "demo_request"
    assert event["properties"] == {"plan": "pro"}
    assert event["anonymous_id"] == ANON
    assert event["user_id"] == "42"  # numeric user ids are kept as text
    assert event["message_id"] == "m-1"
    assert event["source"] == "server"
    assert event["received_at"] == RECEIVED


def test_a_page_call_is_a_page_event_named_after_the_config_with_its_url_and_name():
    [call] = parse_body(raw(userId="u-1", name="Pricing", properties={"url": "https://nubilo.io/pricing"}), "page")
    assert isinstance(call, PageCall)
    [event] = normalize([call], server_scope(), RECEIVED, page_event="pageview")
    assert event["name"] == "pageview"
    assert event["url"] == "https://nubilo.io/pricing"
    assert event["properties"]["name"] == "Pricing"


def test_an_identify_call_carries_the_normalized_traits():
    event = one(
        raw(anonymousId=ANON, traits={"email": "ana@ACME.ES", "firstName": "Ana", "lastName": "Gil"}), "identify"
    )
    assert event["name"] == "identify"
    assert event["traits"] == {"email": "ana@acme.es", "name": "Ana Gil"}
    assert "email" not in event["properties"]


def test_a_batch_mixes_the_three_kinds_in_order():
    body = raw(
        batch=[
            {"type": "page", "anonymousId": ANON, "properties": {"url": "https://nubilo.io/"}},
            {"type": "track", "anonymousId": ANON, "event": "cta_click"},
            {"type": "identify", "anonymousId": ANON, "traits": {"email": "ana@acme.es"}},
        ]
    )
    calls = parse_body(body, "batch")
    assert [type(c) for c in calls] == [PageCall, TrackCall, IdentifyCall]
    assert [e["name"] for e in normalize(calls, server_scope(), RECEIVED, batch=True)] == [
        "page",
        "cta_click",
        "identify",
    ]


# -- refused calls name the field -------------------------------------------------------------


def test_a_track_call_without_an_event_name_names_event():
    error = refused(raw(anonymousId=ANON), "track")
    assert fields(error) == ["event"]
    assert "event" in str(error)


def test_a_malformed_anonymous_id_names_anonymous_id():
    error = refused(raw(event="cta_click", anonymousId="<script>"), "track")
    assert fields(error) == ["anonymousId"]
    assert "anonymousId" in str(error)


def test_a_call_from_nobody_names_anonymous_id_and_says_what_is_needed():
    error = refused(raw(event="cta_click", properties={}), "track")
    assert fields(error) == ["anonymousId"]
    assert "anonymousId or userId is required" in str(error)


def test_one_bad_call_in_a_batch_is_named_by_its_position_and_refuses_the_batch():
    batch = [{"type": "track", "anonymousId": ANON, "event": "cta_click"} for _ in range(5)]
    del batch[3]["event"]
    error = refused(raw(batch=batch), "batch")
    assert fields(error) == ["batch[3].event"]
    assert "batch[3].event" in str(error)


def test_a_batch_call_from_nobody_is_named_by_its_position():
    error = refused(raw(batch=[{"type": "page", "properties": {}}]), "batch")
    assert fields(error) == ["batch[0].anonymousId"]


def test_a_batch_call_of_an_unknown_type_names_its_type():
    error = refused(raw(batch=[{"type": "screen", "anonymousId": ANON}]), "batch")
    assert fields(error) == ["batch[0].type"]


def test_a_body_that_is_not_json_is_refused():
    error = refused(b'{"event": "cta_click",', "track")
    assert "not valid JSON" in str(error)
    assert fields(error) == ["(body)"]


def test_a_body_that_is_not_an_object_is_refused():
    error = refused(b'["cta_click"]', "track")
    assert "JSON object" in str(error)
    assert fields(error) == ["(body)"]


def test_an_empty_body_is_refused():
    assert "JSON object" in str(refused(b"", "page"))


def test_a_call_of_another_type_than_the_endpoint_names_type():
    error = refused(raw(type="identify", anonymousId=ANON, traits={}), "track")
    assert fields(error) == ["type"]
    assert "'identify'" in str(error) and "'track'" in str(error)


def test_an_empty_batch_names_batch():
    error = refused(raw(batch=[]), "batch")
    assert fields(error) == ["batch"]


def test_a_batch_of_more_than_500_calls_names_batch():
    call = {"type": "page", "anonymousId": ANON}
    error = refused(raw(batch=[call] * (MAX_BATCH_CALLS + 1)), "batch")
    assert fields(error) == ["batch"]
    assert "500" in str(error)
    assert len(parse_body(raw(batch=[call] * MAX_BATCH_CALLS), "batch")) == MAX_BATCH_CALLS


def test_nan_and_infinite_numbers_are_not_json():
    # PostgreSQL's json type refuses them: storing would fail on every retry.
    for text in (b"NaN", b"Infinity", b"1e400"):
        body = b'{"event": "cta_click", "anonymousId": "' + ANON.encode() + b'", "properties": {"x": ' + text + b"}}"
        assert fields(refused(body, "track")) == ["(body)"]


def test_a_nul_character_is_refused_naming_where_it_is():
    # PostgreSQL text cannot hold NUL: storing would fail on every retry.
    error = refused(raw(event="cta_click", anonymousId=ANON, properties={"plan": "pro\x00"}), "track")
    assert fields(error) == ["properties.plan"]
    error = refused(raw(batch=[{"type": "track", "anonymousId": ANON, "event": "a\x00b"}]), "batch")
    assert fields(error) == ["batch[0].event"]


def test_a_lone_surrogate_is_refused_naming_where_it_is():
    # "\ud800" is valid JSON but no UTF-8 text: SQLite and PostgreSQL cannot take it.
    error = refused(raw(anonymousId=ANON, properties={"url": "https://nubilo.io/\ud800"}), "page")
    assert fields(error) == ["properties.url"]
    assert "surrogate" in str(error)


def test_absurdly_deep_json_is_a_400_not_a_crash():
    depth = 100_000
    body = b'{"batch": [{"type": "page", "anonymousId": "' + ANON.encode() + b'", "properties": {"a": '
    body += b"[" * depth + b"]" * depth + b"}}]}"
    assert len(body) <= MAX_BATCH_BYTES
    error = refused(body, "batch")
    assert "not valid JSON" in str(error)
    assert fields(error) == ["(body)"]


# -- sizes -------------------------------------------------------------------------------------


def test_a_call_over_32_kb_is_413():
    body = raw(event="cta_click", anonymousId=ANON, properties={"blob": "x" * MAX_CALL_BYTES})
    error = refused(body, "track", status=413)
    assert "32 KB" in str(error)
    ok = raw(event="cta_click", anonymousId=ANON, properties={"blob": "x" * (MAX_CALL_BYTES - 200)})
    assert len(parse_body(ok, "track")) == 1


def test_a_batch_over_500_kb_is_413():
    calls = [{"type": "track", "anonymousId": ANON, "event": "cta_click", "properties": {"blob": "x" * 20_000}}] * 30
    body = raw(batch=calls)
    assert len(body) > MAX_BATCH_BYTES
    assert "500 KB" in str(refused(body, "batch", status=413))


def test_one_call_over_32_kb_inside_a_small_enough_batch_is_413_naming_it():
    calls = [
        {"type": "page", "anonymousId": ANON},
        {"type": "track", "anonymousId": ANON, "event": "cta_click", "properties": {"blob": "x" * MAX_CALL_BYTES}},
    ]
    error = refused(raw(batch=calls), "batch", status=413)
    assert fields(error) == ["batch[1]"]


def test_a_batch_call_is_measured_in_utf8_bytes_not_escaped_json():
    # 10,000 "ñ" are 20 KB of UTF-8, but 60 KB once escaped as \\u00f1.
    calls = [{"type": "track", "anonymousId": ANON, "event": "cta_click", "properties": {"q": "ñ" * 10_000}}]
    body = json.dumps({"batch": calls}, ensure_ascii=False).encode()
    assert len(parse_body(body, "batch")) == 1


# -- write key scopes --------------------------------------------------------------------------


def test_the_browser_key_may_send_page_views(config):
    event = one(
        raw(anonymousId=ANON, properties={"url": "https://nubilo.io/pricing"}), "page", scope=browser_scope(config)
    )
    assert event["source"] == "browser"


def test_the_browser_key_may_send_the_track_events_marketing_allows(config):
    assert "cta_click" in config.behaviour.browser_events
    event = one(raw(event="cta_click", anonymousId=ANON), "track", scope=browser_scope(config))
    assert event["name"] == "cta_click"


def test_the_browser_key_cannot_send_a_demo_request(config):
    calls = parse_body(raw(event="demo_request", anonymousId=ANON), "track")
    with pytest.raises(IntakeError) as info:
        check_scope(calls, browser_scope(config), batch=False)
    assert info.value.status == 403
    assert fields(info.value) == ["event"]
    message = str(info.value)
    assert "'demo_request'" in message
    assert "allowed track events: " + ", ".join(sorted(config.behaviour.browser_events)) in message


def test_the_browser_key_cannot_send_a_demo_request_hidden_in_a_batch(config):
    batch = [{"type": "page", "anonymousId": ANON}, {"type": "track", "anonymousId": ANON, "event": "demo_request"}]
    with pytest.raises(IntakeError) as info:
        check_scope(parse_body(raw(batch=batch), "batch"), browser_scope(config), batch=True)
    assert info.value.status == 403
    assert fields(info.value) == ["batch[1].event"]


def test_the_browser_key_cannot_identify(config):
    calls = parse_body(raw(anonymousId=ANON, traits={"email": "ana@acme.es"}), "identify")
    with pytest.raises(IntakeError) as info:
        check_scope(calls, browser_scope(config), batch=False)
    assert info.value.status == 403
    assert "identify" in str(info.value)


def test_the_server_key_may_send_anything():
    assert one(raw(event="demo_request", anonymousId=ANON), "track")["name"] == "demo_request"


def test_a_user_id_from_the_browser_is_not_trusted(config):
    # The public key could otherwise tie any browser to anyone's lead by claiming their user id.
    event = one(raw(anonymousId=ANON, userId="ceo@acme.es"), "page", scope=browser_scope(config))
    assert event["user_id"] is None
    assert event["anonymous_id"] == ANON
    calls = parse_body(raw(userId="ceo@acme.es", event="cta_click"), "track")
    with pytest.raises(IntakeError) as info:
        check_scope(calls, browser_scope(config), batch=False)
    assert info.value.status == 403
    assert fields(info.value) == ["anonymousId"]
    assert one(raw(anonymousId=ANON, userId="u-7"), "page")["user_id"] == "u-7"  # the server is believed


# -- when it happened --------------------------------------------------------------------------


def test_a_late_event_keeps_the_time_it_happened():
    event = one(raw(event="cta_click", anonymousId=ANON, timestamp="2026-02-01T09:30:00Z"), "track")
    assert event["timestamp"] == datetime(2026, 2, 1, 9, 30, tzinfo=timezone.utc)
    assert event["received_at"] == RECEIVED


def test_without_a_timestamp_the_event_happened_when_received():
    assert one(raw(event="cta_click", anonymousId=ANON), "track")["timestamp"] == RECEIVED


def test_sent_at_corrects_the_senders_clock():
    # The sender's clock is 2 hours fast: the event happened 10 minutes before it was sent.
    body = raw(
        event="cta_click",
        anonymousId=ANON,
        originalTimestamp="2026-03-15T13:50:00Z",
        sentAt="2026-03-15T14:00:00Z",
    )
    assert one(body, "track")["timestamp"] == RECEIVED - timedelta(minutes=10)


def test_a_batchs_sent_at_corrects_each_of_its_calls():
    body = raw(
        sentAt="2026-03-15T14:00:00Z",
        batch=[
            {"type": "page", "anonymousId": ANON, "originalTimestamp": "2026-03-15T13:59:00Z"},
            {"type": "page", "anonymousId": ANON, "originalTimestamp": "2026-03-15T13:00:00Z"},
        ],
    )
    assert [e["timestamp"] for e in events(body, "batch")] == [
        RECEIVED - timedelta(minutes=1),
        RECEIVED - timedelta(hours=1),
    ]


def test_a_timestamp_in_the_future_is_clamped_to_the_received_time():
    for ahead in ("2026-03-15T12:02:00Z", "2026-03-16T12:00:00Z", "2099-01-01T00:00:00Z"):
        assert one(raw(event="cta_click", anonymousId=ANON, timestamp=ahead), "track")["timestamp"] == RECEIVED


def test_a_naive_timestamp_is_utc():
    event = one(raw(event="cta_click", anonymousId=ANON, timestamp="2026-03-01T08:00:00"), "track")
    assert event["timestamp"] == datetime(2026, 3, 1, 8, 0, tzinfo=timezone.utc)


def test_a_timestamp_with_an_offset_is_handed_over_in_utc():
    # SQLite keeps the wall time and drops the offset: 10:00+02:00 must arrive as 08:00 UTC.
    event = one(raw(event="cta_click", anonymousId=ANON, timestamp="2026-03-01T10:00:00+02:00"), "track")
    assert event["timestamp"] == datetime(2026, 3, 1, 8, 0, tzinfo=timezone.utc)
    assert event["timestamp"].utcoffset() == timedelta(0)
    assert one(
        raw(event="x", anonymousId=ANON), "track", received_at=RECEIVED.astimezone(timezone(timedelta(hours=-5)))
    )["timestamp"].utcoffset() == timedelta(0)


def test_a_clock_thousands_of_years_off_falls_back_to_the_received_time():
    body = raw(
        event="cta_click", anonymousId=ANON, originalTimestamp="0001-01-01T00:00:00Z", sentAt="9999-12-31T00:00:00Z"
    )
    assert one(body, "track")["timestamp"] == RECEIVED


# -- message ids -------------------------------------------------------------------------------


def test_the_senders_message_id_is_kept():
    assert (
        one(raw(event="cta_click", anonymousId=ANON, messageId="ajs-next-123"), "track")["message_id"] == "ajs-next-123"
    )


def test_a_call_without_message_id_gets_a_hash_of_its_content():
    call = {"event": "cta_click", "anonymousId": ANON, "timestamp": "2026-03-15T11:00:00Z", "properties": {"a": 1}}
    first = one(raw(**call), "track")["message_id"]
    assert first.startswith("h:")
    assert one(raw(**call), "track")["message_id"] == first
    # A retry is sent later: a new sentAt is the same message.
    assert one(raw(**call, sentAt="2026-03-15T11:05:00Z"), "track")["message_id"] == first
    # So is the same call inside a batch.
    assert events(raw(batch=[{"type": "track", **call}]), "batch")[0]["message_id"] == first
    for other in ({"properties": {"a": 2}}, {"event": "demo_request"}, {"timestamp": "2026-03-15T11:00:01Z"}):
        assert one(raw(**{**call, **other}), "track")["message_id"] != first, other


# -- page URLs ---------------------------------------------------------------------------------


def test_a_page_url_comes_from_properties_or_else_from_the_context():
    from_properties = raw(anonymousId=ANON, properties={"url": "https://a.io/pricing"}, context={"page": {"url": "x"}})
    assert one(from_properties, "page")["url"] == "https://a.io/pricing"
    from_context = raw(anonymousId=ANON, context={"page": {"url": "https://a.io/precios"}})
    assert one(from_context, "page")["url"] == "https://a.io/precios"
    assert one(raw(anonymousId=ANON), "page")["url"] is None


def test_a_batchs_context_applies_to_each_of_its_calls():
    body = raw(
        context={"page": {"url": "https://a.io/pricing"}},
        batch=[
            {"type": "page", "anonymousId": ANON},
            {"type": "page", "anonymousId": ANON, "context": {"page": {"url": "https://a.io/lp/x"}}},
        ],
    )
    assert [e["url"] for e in events(body, "batch")] == ["https://a.io/pricing", "https://a.io/lp/x"]


def test_a_track_event_keeps_the_url_of_the_page_it_happened_on():
    body = raw(event="cta_click", anonymousId=ANON, context={"page": {"url": "https://a.io/lp/x"}})
    assert one(body, "track")["url"] == "https://a.io/lp/x"


def test_odd_page_contexts_give_no_url_instead_of_a_crash():
    # A URL goes to a text column: an object there would fail to store on every retry.
    for context in ({"page": "home"}, {"page": None}, {"page": {"url": {"href": "x"}}}, {"page": {"url": ["x"]}}):
        assert one(raw(event="cta_click", anonymousId=ANON, context=context), "track")["url"] is None, context
        assert one(raw(anonymousId=ANON, context=context), "page")["url"] is None, context
    assert one(raw(anonymousId=ANON, properties={"url": {"href": "x"}}), "page")["url"] is None
    long_url = "https://nubilo.io/" + "a" * 5000
    assert (
        len(one(raw(event="cta_click", anonymousId=ANON, context={"page": {"url": long_url}}), "track")["url"]) == 2000
    )


# -- identify traits ---------------------------------------------------------------------------


def test_the_email_is_validated_and_its_domain_normalized():
    assert normalize_traits({"email": "Ana.Gil@ACME.ES"})["email"] == "Ana.Gil@acme.es"


def test_an_invalid_email_is_400_naming_traits_email():
    with pytest.raises(IntakeError) as info:
        events(raw(anonymousId=ANON, traits={"email": "ana@"}), "identify")
    assert info.value.status == 400
    assert fields(info.value) == ["traits.email"]
    assert str(info.value).startswith("traits.email")


def test_an_invalid_email_in_a_batch_is_named_by_its_position():
    batch = [{"type": "page", "anonymousId": ANON}, {"type": "identify", "userId": "u1", "traits": {"email": "no"}}]
    with pytest.raises(IntakeError) as info:
        events(raw(batch=batch), "batch")
    assert fields(info.value) == ["batch[1].traits.email"]


def test_the_name_is_the_name_or_first_and_last_name():
    assert normalize_traits({"name": "Ana Gil", "firstName": "X"})["name"] == "Ana Gil"
    assert normalize_traits({"firstName": "Ana", "lastName": "Gil"})["name"] == "Ana Gil"
    assert normalize_traits({"firstName": "Ana"})["name"] == "Ana"
    assert "name" not in normalize_traits({})


def test_names_and_titles_that_are_not_text_are_ignored():
    traits = {"name": ["Ana"], "company": {"name": {"legal": "Acme SL"}}, "title": {"en": "CEO"}, "lastName": "Gil"}
    assert normalize_traits(traits) == {"name": "Gil"}


def test_the_company_is_a_name_or_an_object_with_its_size():
    assert normalize_traits({"company": "Acme"}) == {"company": "Acme"}
    assert normalize_traits({"company": {"name": "Acme", "employee_count": 120}}) == {
        "company": "Acme",
        "company_size": 120,
    }
    assert normalize_traits({"employees": "45"})["company_size"] == 45
    for junk in (-3, "many", float("inf"), float("nan"), True, [1]):
        assert "company_size" not in normalize_traits({"employees": junk}), junk


def test_the_country_is_iso_alpha_2_upper_case():
    assert normalize_traits({"country": " es "})["country"] == "ES"
    assert normalize_traits({"address": {"country": "mx"}})["country"] == "MX"
    assert "country" not in normalize_traits({"country": "Spain"})
    assert "country" not in normalize_traits({"address": "Calle Mayor 1, Madrid"})  # a string address is no crash


def test_title_is_the_job_title_and_language_es_or_en():
    traits = normalize_traits({"title": "Head of Sales", "language": "en-GB"})
    assert traits == {"job_title": "Head of Sales", "language": "en"}
    assert normalize_traits({"job_title": "CEO"})["job_title"] == "CEO"
    assert "language" not in normalize_traits({"language": "fr"})


def test_identify_properties_are_the_profile_without_the_email():
    event = one(
        raw(
            userId="u-1",
            traits={"email": "ana@acme.es", "country": "es", "title": "CEO", "company": {"employee_count": 30}},
        ),
        "identify",
    )
    assert event["properties"] == {"country": "ES", "job_title": "CEO", "company_size": 30}


# -- OpenAPI -----------------------------------------------------------------------------------


def _refs(node) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _refs(value)]
    return []


def _resolve(doc: dict, ref: str):
    assert ref.startswith("#/"), ref
    node = doc
    for part in ref[2:].split("/"):
        assert part in node, f"{ref} does not resolve"
        node = node[part]
    return node


def test_openapi_describes_the_four_calls_and_every_ref_resolves():
    doc = json.loads(json.dumps(openapi()))  # it is served as JSON
    assert doc["openapi"].startswith("3.1")
    assert doc["info"]["title"] and doc["info"]["version"]
    assert set(doc["paths"]) == {"/v1/track", "/v1/page", "/v1/identify", "/v1/batch"}
    schemas = doc["components"]["schemas"]
    for path, schema in (
        ("track", "TrackCall"),
        ("page", "PageCall"),
        ("identify", "IdentifyCall"),
        ("batch", "BatchCall"),
    ):
        operation = doc["paths"][f"/v1/{path}"]["post"]
        ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        assert ref == f"#/components/schemas/{schema}"
        assert {"200", "400", "401", "403", "413"} <= set(operation["responses"])
        assert operation["security"] == [{"writeKey": []}]
    assert doc["components"]["securitySchemes"]["writeKey"] == {"type": "http", "scheme": "basic"}
    refs = _refs(doc)
    assert len(refs) > 20
    for ref in refs:
        assert isinstance(_resolve(doc, ref), dict)
    assert "event" in schemas["TrackCall"]["required"]
    assert schemas["BatchCall"]["properties"]["batch"]["maxItems"] == MAX_BATCH_CALLS
    assert set(schemas["Result"]["required"]) == {"success", "accepted", "duplicates"}
