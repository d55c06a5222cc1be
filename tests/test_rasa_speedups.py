"""leadqual_rasa/speedups.py replaces Rasa's validation of action server responses with a reused
validator: the same responses pass, the same bad ones fail with the same message. Run in Rasa's
own environment."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

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


def test_responses_are_validated_exactly_as_rasa_does():
    bodies = [
        {"events": [{"event": "slot", "name": "budget", "value": {"min": 1}}], "responses": [{"text": "hola"}]},
        {"events": []},
        {"events": "not a list"},
        {"events": [{"name": "no event key"}]},
    ]
    out = (
        subprocess.run(
            [str(RASA_PYTHON), "-c", CHECK, str(ROOT), json.dumps(bodies)],
            capture_output=True,
            text=True,
            timeout=300,
            check=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    results = json.loads(out)
    assert results[0] == ["ok", True] and results[1] == ["ok", True]
    assert results[2][0] == "ValidationError" and results[2][1].startswith("'not a list' is not of type 'array'")
    assert results[3][0] == "ValidationError" and "Failed to validate Action server response" in results[3][1]
