"""Rasa's own per-turn costs that profiling found, removed without changing behaviour.

`RemoteAction._validate_action_result` calls `jsonschema.validate(result, schema)` for every
custom action call, and `validate` checks the (constant) schema against JSON Schema's metaschema
each time: under load that was a third of Rasa's CPU (py-spy, bench/chat_load.py). Here the
schema is checked once and one validator is reused; results are validated exactly as before and
a bad one raises the same ValidationError with the same message. Installed when Rasa loads this
package's socket.io channel (credentials.yml).
"""

from __future__ import annotations

from jsonschema import ValidationError
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL

_validator = None


def _validate_action_result(self, result):
    global _validator
    if _validator is None:
        schema = self.action_response_format_spec()
        cls = validator_for(schema)
        cls.check_schema(schema)
        _validator = cls(schema)
    try:
        _validator.validate(result)
        return True
    except ValidationError as e:
        e.message += (
            ". Failed to validate Action server response from API, "
            "make sure your response from the Action endpoint is valid. "
            f"For more information about the format visit {DOCS_BASE_URL}/custom-actions"
        )
        raise e


def install() -> None:
    RemoteAction._validate_action_result = _validate_action_result
