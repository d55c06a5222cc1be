"""leadqual_rasa/speedups.py and serve.py remove Rasa's own per-turn and start-up costs; these tests
check that Rasa behaves exactly as before: the same action responses pass or fail with the same
message, events are read back as the same classes, action calls send the same JSON to the same
URL (over one reused connection), and the model loader trusts the same types. Run in Rasa's own
environment."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RASA_PYTHON = ROOT / ".venv-rasa" / "bin" / "python"

CHECK = """
import json, sys
sys.path.insert(0, sys.argv[1])
from rasa.core.actions.action import RemoteAction
from rasa.utils.endpoints import EndpointConfig
action = RemoteAction("action_x", EndpointConfig("http://127.0.0.1:1"))
original = RemoteAction._validate_action_result
from leadqual_rasa import channels  # installs the speed-up, as Rasa loading credentials.yml does
assert RemoteAction._validate_action_result is not original
results = []
for body in json.loads(sys.argv[2]):
    try:
        results.append(["ok", action._validate_action_result(body)])
    except Exception as exc:
        results.append([type(exc).__name__, exc.message])
print(json.dumps(results))
"""


ACTION_BODIES = [
    {"events": [{"event": "slot", "name": "budget", "value": {"min": 1}}], "responses": [{"text": "hola"}]},
    {"events": []},
    {"events": "not a list"},
    {"events": [{"name": "no event key"}]},
]


def test_responses_are_validated_exactly_as_rasa_does(checked):
    results = json.loads(last_line(checked, "validate"))
    assert results[0] == ["ok", True] and results[1] == ["ok", True]
    assert results[2][0] == "ValidationError" and results[2][1].startswith("'not a list' is not of type 'array'")
    assert results[3][0] == "ValidationError" and "Failed to validate Action server response" in results[3][1]


def rasa_python(code: str, *args: str) -> str:
    """Runs `code` in Rasa's environment with this checkout importable; returns its last line."""
    done = subprocess.run([str(RASA_PYTHON), "-c", code, str(ROOT), *args], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip().splitlines()[-1]


EVENTS = """
import json, sys
sys.path.insert(0, sys.argv[1])
from rasa.shared.core.events import Event
from rasa.shared.utils.common import all_subclasses
names = sorted({cls.type_name for cls in all_subclasses(Event)})
before = {name: Event.resolve_by_type(name).__name__ for name in names}
from leadqual_rasa import channels  # installs the speed-ups
after = [{name: Event.resolve_by_type(name).__name__ for name in names} for _ in range(2)]
try:
    Event.resolve_by_type("no_such_event")
    unknown = "accepted"
except ValueError as exc:
    unknown = str(exc)
events = Event.from_parameters({"event": "slot", "name": "budget", "value": 3})
print(json.dumps({"same": after == [before, before], "count": len(names), "unknown": unknown,
                  "default": Event.resolve_by_type("no_such_event", Event).__name__,
                  "slot": type(events).__name__}))
"""


def test_events_are_read_back_as_the_same_classes(checked):
    found = json.loads(last_line(checked, "events"))
    assert found["same"] is True and found["count"] > 20
    assert found["unknown"] == "Unknown event name 'no_such_event'."
    assert found["default"] == "Event"
    assert found["slot"] == "SlotSet"


HTTP = """
import asyncio, json, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
sys.path.insert(0, sys.argv[1])
from leadqual_rasa import channels  # installs the speed-ups
from rasa.utils.endpoints import ClientResponseError, EndpointConfig

seen = []

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        seen.append({"client": self.client_address[1], "path": self.path, "type": self.headers["Content-Type"],
                     "extra": self.headers.get("X-Extra"), "body": json.loads(body)})
        status, reply, kind = {"/webhook": (200, b'{"events": []}', "application/json"),
                               "/nlg": (200, b"plain", "text/plain")}.get(self.path.split("?")[0],
                                                                      (400, b'{"error": "bad"}', "application/json"))
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)
    def log_message(self, *args):
        pass

server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
threading.Thread(target=server.serve_forever, daemon=True).start()
base = f"http://127.0.0.1:{server.server_port}"
action = EndpointConfig(base + "/webhook", token="s3cret", headers={"X-Extra": "1"})
payload = {"tracker": {"events": [{"text": "¿Cuánto cuesta? 12.000 € / año", "n": 1.5, "none": None}]}}

async def main():
    first = await action.request(json=payload, method="post")
    second = await action.request(json=payload, method="post")
    text = await EndpointConfig(base + "/nlg").request(json={"a": 1}, method="post")
    try:
        await EndpointConfig(base + "/missing").request(json={"a": 1}, method="post")
        error = None
    except ClientResponseError as exc:
        error = exc.status
    return first, second, text, error

first, second, text, error = asyncio.run(main())
print(json.dumps({"first": first, "second": second, "text": text, "error": error, "seen": seen}))
"""


def test_action_calls_reuse_one_connection_and_send_the_same_json(checked):
    found = json.loads(last_line(checked, "http"))
    assert found["first"] == found["second"] == {"events": []}
    assert found["text"] is None  # not JSON: None, as Rasa returns
    assert found["error"] == 400
    calls = found["seen"]
    payload = {"tracker": {"events": [{"text": "¿Cuánto cuesta? 12.000 € / año", "n": 1.5, "none": None}]}}
    assert [c["body"] for c in calls[:2]] == [payload, payload]
    assert calls[0]["path"] == calls[1]["path"] == "/webhook?token=s3cret"
    assert {c["type"] for c in calls} == {"application/json"} and calls[0]["extra"] == "1"
    assert calls[0]["client"] == calls[1]["client"]  # the second call reused the connection


TRUSTED = """
import json, sys
sys.path.insert(0, sys.argv[1])
if sys.argv[2] == "after-rasa":
    import rasa.core.run  # noqa: F401  (TensorFlow and the rest of Rasa, as `rasa run` has them loaded)
from skops.io import _trusted_types as trusted
print(json.dumps({k: getattr(trusted, k) for k in sorted(dir(trusted)) if k.endswith("_TYPE_NAMES")}))
"""


def test_importing_skops_first_trusts_the_same_types(checked):
    """leadqual_rasa/serve.py imports skops.io before Rasa: the model loader must trust exactly the
    types it trusts when skops is imported after TensorFlow, as plain `rasa run` does."""
    first = json.loads(rasa_python(TRUSTED, "first"))
    after_rasa = json.loads(last_line(checked, "trusted-after-rasa"))  # a fork of a process with Rasa loaded
    assert first == after_rasa
    assert len(first["NUMPY_UFUNC_TYPE_NAMES"]) > 50 and len(first["SKLEARN_ESTIMATOR_TYPE_NAMES"]) > 100


DROPPED = """
import asyncio, json, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
sys.path.insert(0, sys.argv[1])
from leadqual_rasa import channels  # installs the speed-ups
from rasa.utils.endpoints import EndpointConfig

calls = []

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    served = 0
    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        calls.append(self.client_address[1])
        self.served += 1
        if self.served == 2 and len(calls) == 2:  # the kept-alive connection, closed without an answer
            self.close_connection = True
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "14")
        self.end_headers()
        self.wfile.write(b'{"events": []}')
    def log_message(self, *args):
        pass

server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
threading.Thread(target=server.serve_forever, daemon=True).start()
action = EndpointConfig(f"http://127.0.0.1:{server.server_port}/webhook")

async def main():
    return [await action.request(json={"n": n}, method="post") for n in (1, 2)]

print(json.dumps({"replies": asyncio.run(main()), "calls": calls}))
"""


def test_a_kept_alive_connection_closed_by_the_server_is_retried_once_on_a_new_one(checked):
    found = json.loads(last_line(checked, "dropped"))
    assert found["replies"] == [{"events": []}, {"events": []}]
    first, dropped, retried = found["calls"]
    assert first == dropped != retried  # the retry went over a new connection


NLG = """
import json, sys
sys.path.insert(0, sys.argv[1])
from rasa.core.nlg.callback import CallbackNaturalLanguageGenerator as NLG

def outcomes():
    found = []
    for body in json.loads(sys.argv[2]):
        try:
            found.append(["ok", NLG.validate_response(body)])
        except Exception as exc:
            found.append([type(exc).__name__, str(exc)])
    return found

before = outcomes()
from leadqual_rasa import channels  # installs the speed-ups
print(json.dumps({"before": before, "after": outcomes()}))
"""


NLG_BODIES = [
    {"text": "¿Qué presupuesto tenéis?", "buttons": [{"title": "Menos de 5.000 €", "payload": "/inform"}]},
    None,
    "",
    {"text": 3},
    {"buttons": "not a list"},
    {"custom": {"any": "thing"}, "image": None},
]


def test_nlg_responses_are_validated_exactly_as_rasa_does(checked):
    found = json.loads(last_line(checked, "nlg"))
    assert found["after"] == found["before"]
    assert [kind for kind, _ in found["after"]] == ["ok", "ok", "ok", "RasaException", "RasaException", "ok"]


# Rasa's imports (TensorFlow's among them) cost ~10 s of CPU a process. The checks above that need no
# fresh interpreter run in one: it imports what they import, then runs each in a fork of itself, so each
# starts as Rasa is before leadqual_rasa's speed-ups are installed, and none sees another's.
DRIVER = """
import contextlib, io, json, os, sys, traceback
sys.path.insert(0, sys.argv[1])
import rasa.core.actions.action, rasa.core.nlg.callback, rasa.shared.core.events, rasa.shared.utils.common
import rasa.utils.endpoints
assert "leadqual_rasa.channels" not in sys.modules
jobs = json.loads(sys.stdin.read())
results = {}
for name, (code, args) in jobs.items():
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        sys.argv = [sys.argv[0], sys.argv[1], *args]
        out, status = io.StringIO(), 0
        try:
            with contextlib.redirect_stdout(out):
                exec(compile(code, name, "exec"), {"__name__": "__main__"})
        except BaseException:
            out.write("\\n" + traceback.format_exc())
            status = 1
        with os.fdopen(write_end, "w") as pipe:
            pipe.write(json.dumps([status, out.getvalue()]))
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        results[name] = json.loads(pipe.read())
    os.waitpid(pid, 0)
print(json.dumps(results))
"""


@pytest.fixture(scope="module")
def checked() -> dict:
    jobs = {
        "validate": (CHECK, [json.dumps(ACTION_BODIES)]),
        "events": (EVENTS, []),
        "http": (HTTP, []),
        "dropped": (DROPPED, []),
        "nlg": (NLG, [json.dumps(NLG_BODIES)]),
        "trusted-after-rasa": (TRUSTED, ["after-rasa"]),
    }
    done = subprocess.run(
        [str(RASA_PYTHON), "-c", DRIVER, str(ROOT)], input=json.dumps(jobs), capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def last_line(checked: dict, name: str) -> str:
    """The last line a check printed; its traceback when it failed."""
    status, out = checked[name]
    assert status == 0, out[-3000:]
    return out.strip().splitlines()[-1]
