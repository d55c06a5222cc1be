"""Odd input is answered, not a 5xx: an NLG request whose tracker, slots or arguments are not what
Rasa sends gets a 400 naming the field (a real action server). And what a visitor typed (name,
company...) is shown literally in the bot's messages: the chat widget renders them as markdown
(rasa-webchat 1.0.1: react-markdown 4 / remark-parse 5), so no image, link or HTML may survive,
checked with the widget's own markdown parser (web/node_modules) when Node.js is installed."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest
import requests

from leadqual.conversation.texts import Texts

from ..conftest import ROOT, running_action_server

TOKEN = "odd-input-nlg-token-" + "x" * 8

ODD_BODIES = [
    ({"response": "utter_greet", "tracker": "x"}, "tracker"),
    ({"response": "utter_greet", "tracker": ["x"]}, "tracker"),
    ({"response": "utter_greet", "tracker": []}, "tracker"),
    ({"response": "utter_greet", "tracker": 7}, "tracker"),
    ({"response": "utter_greet", "tracker": {"slots": "x"}}, "tracker.slots"),
    ({"response": "utter_greet", "tracker": {"slots": ["language", "en"]}}, "tracker.slots"),
    ({"response": "utter_greet", "arguments": ["x"]}, "arguments"),
    ({"response": "utter_greet", "arguments": "x"}, "arguments"),
    ({"response": "utter_why", "tracker": {"slots": {"requested_slot": ["budget"]}}}, "tracker.slots.requested_slot"),
    ({"response": "utter_why", "tracker": {"slots": {"requested_slot": {"a": 1}}}}, "tracker.slots.requested_slot"),
    ({"response": "utter_greet", "tracker": {"slots": {"flow_version": {"v": 1}}}}, "tracker.slots.flow_version"),
    ({"response": "utter_greet", "tracker": {"slots": {"language": 5}}}, "tracker.slots.language"),
    (
        {"response": "utter_why", "tracker": {"sender_id": {"a": 1}, "slots": {"requested_slot": "budget"}}},
        "tracker.sender_id",
    ),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_action_server(tmp_path_factory.mktemp("nlg"), LEADQUAL_ACTION_TOKEN=TOKEN) as running:
        yield running


def nlg(url: str, body: object) -> requests.Response:
    return requests.post(url + "/nlg", params={"token": TOKEN}, json=body, timeout=10)


@pytest.mark.parametrize("body, field", ODD_BODIES)
def test_an_odd_nlg_request_is_a_400_naming_the_field(server, body, field):
    url, log = server
    answer = nlg(url, body)
    assert answer.status_code == 400, (answer.status_code, answer.text, log.read_text()[-2000:])
    assert answer.json()["field"] == field and field in answer.json()["error"]


def test_what_rasa_sends_is_still_rendered(server):
    url, _ = server
    tracker = {"sender_id": "visitor-1", "slots": {"language": "en", "flow_version": None, "requested_slot": None}}
    answer = nlg(url, {"response": "utter_greet", "tracker": tracker, "arguments": {}})
    assert answer.status_code == 200 and answer.json()["text"]
    assert nlg(url, {"response": "utter_greet", "tracker": None}).status_code == 200
    assert nlg(url, {"response": "utter_greet", "tracker": {"slots": None}}).status_code == 200
    why = nlg(url, {"response": "utter_why", "tracker": {"slots": {"requested_slot": "budget", "language": "es"}}})
    assert why.status_code == 200 and why.json()["text"]
    assert nlg(url, {"response": "utter_no_such_thing"}).status_code == 404


# -- what the visitor typed, in the bot's messages ------------------------------------------

PIXEL = "![x](//host/pixel.png)"
TYPED = [
    PIXEL,
    "[click here](https://evil.example/login)",
    "[x](javascript:alert(1))",
    '<img src="//host/p.png" onerror="alert(1)">',
    "<https://evil.example>",
    "see http://evil.example/phish",
    "mailto:boss@evil.example",
    "**Acme** _Corp_ `rm -rf` ~~x~~",
    "Acme\n\n[ref]: https://evil.example\n[Acme][ref]",
    "Acme\n# Big\n> quoted",
    "AT&T &lt;b&gt; \\[x\\]",
]
FORBIDDEN_NODES = {"image", "imageReference", "link", "linkReference", "definition", "html", "heading", "blockquote"}
FORBIDDEN_NODES |= {"emphasis", "strong", "inlineCode", "delete", "list", "code", "table"}


def rendered(value: str, lang: str = "en") -> str:
    return Texts().response("utter_result_sql", lang, name=value, company=value)["text"]


def widget_markdown(texts: list[str]) -> list[dict]:
    """Each text as the chat widget parses it (its remark-parse 5, GFM, as react-markdown 4 calls it)."""
    script = """
        const unified = require('unified'), parse = require('remark-parse');
        const texts = JSON.parse(require('fs').readFileSync(0, 'utf8'));
        const strip = n => { delete n.position; (n.children || []).forEach(strip); return n; };
        console.log(JSON.stringify(texts.map(t => strip(unified().use(parse, {}).parse(t)))));
    """
    modules = ROOT / "web" / "node_modules"
    out = subprocess.run(
        ["node", "-e", script],
        input=json.dumps(texts),
        capture_output=True,
        text=True,
        check=True,
        env={"NODE_PATH": str(modules), "PATH": "/usr/bin:/bin"},
    )
    return json.loads(out.stdout)


def nodes(tree: dict):
    yield tree
    for child in tree.get("children", []):
        yield from nodes(child)


def visible(tree: dict) -> str:
    return "".join(n.get("value", "") for n in nodes(tree) if n["type"] == "text")


def test_a_markdown_image_as_company_is_shown_as_text():
    text = rendered(PIXEL)
    assert "![" not in text and "](" not in text  # no image or link syntax survives
    assert text.startswith("Thanks, ")


@pytest.mark.parametrize("value", TYPED)
def test_no_image_link_or_html_survives_in_the_text(value):
    text = rendered(value)
    for pattern in (r"(?<!\\)!(?<!\\)\[", r"(?<!\\)\]\(", r"<[a-zA-Z/!]", r"(?<!\\)\]\[", r"https?://", "mailto:"):
        assert not re.search(pattern, text), (pattern, text)


@pytest.mark.skipif(
    not shutil.which("node") or not (ROOT / "web" / "node_modules" / "remark-parse").is_dir(),
    reason="needs Node.js and the widget's modules (bin/run or bin/test installs them into web/node_modules)",
)
def test_the_widget_shows_what_the_visitor_typed_literally():
    texts = [rendered(value) for value in TYPED]
    for value, tree in zip(TYPED, widget_markdown(texts), strict=True):
        kinds = {node["type"] for node in nodes(tree)}
        assert not kinds & FORBIDDEN_NODES, (value, kinds & FORBIDDEN_NODES)
        typed = re.sub(r"\s+", " ", value)
        assert visible(tree) == f"Thanks, {typed}! From what you've told me, Nubilo is a great fit for {typed}."
    # The template's own markdown still works: the booking link is a link.
    booking = Texts().response("utter_next_meeting", "en", sdr_name="[Ana](x)", url="https://cal.example/ana")["text"]
    (tree,) = widget_markdown([booking])
    links = [node for node in nodes(tree) if node["type"] == "link"]
    assert [link["url"] for link in links] == ["https://cal.example/ana"]
    assert visible(tree).startswith("You can book a meeting with [Ana](x) right now")


def test_an_nlg_reply_with_a_markdown_company_is_neutralised(server):
    url, _ = server
    body = {
        "response": "utter_result_sql",
        "tracker": {"slots": {"language": "en"}},
        "arguments": {"name": "Ana", "company": PIXEL},
    }
    answer = nlg(url, body)
    assert answer.status_code == 200
    text = answer.json()["text"]
    assert "![" not in text and "](" not in text and "pixel.png" in text
