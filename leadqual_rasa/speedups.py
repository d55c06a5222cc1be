"""Rasa's own per-turn costs that profiling found, removed without changing behaviour.

Installed when Rasa loads this package's socket.io channel (credentials.yml). Each was found with
py-spy on Rasa under bench/chat_load.py; docs/performance.md has the figures.

- `RemoteAction._validate_action_result` calls `jsonschema.validate(result, schema)` for every
  custom action call, which checks the constant schema against JSON Schema's metaschema each
  time (a third of Rasa's CPU). Here the schema is checked once and one validator is reused; a
  bad result raises the same ValidationError with the same message. The same for every
  response of the NLG endpoint (`CallbackNaturalLanguageGenerator.validate_response`, 5 %).
- `Event.resolve_by_type` walks every Event subclass for each event it reads back from the
  tracker store (about 7 % of the CPU): the class found for a type name is remembered.
- `EndpointConfig.request` opens a new HTTP session, so a new TCP connection, for every custom
  action and every NLG call, and encodes the whole tracker with the standard json module (about
  13 %): here one keep-alive session per endpoint and event loop is reused and the body is
  encoded with ujson (already one of Rasa's dependencies). Same URL, headers, token, timeout,
  errors and response handling.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import os
import ssl

import aiohttp
import ujson
from aiohttp import ContentTypeError
from jsonschema import ValidationError
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.core.nlg import callback as rasa_nlg
from rasa.shared.constants import DOCS_BASE_URL
from rasa.shared.core import events as rasa_events
from rasa.shared.exceptions import FileNotFoundException, RasaException
from rasa.utils import endpoints as rasa_endpoints
from rasa.utils.endpoints import ClientResponseError, EndpointConfig, concat_url

# An idle connection is dropped by the client well before the action server's own keep-alive
# timeout (rasa-sdk: 120 s) or a proxy's (nginx: 60-75 s), so a request never races its close.
KEEPALIVE_SECONDS = 10.0

_validators: dict[str, object] = {}


def _validator(name: str, schema_of):
    """One validator per constant schema, the schema checked against the metaschema once."""
    found = _validators.get(name)
    if found is None:
        schema = schema_of()
        cls = validator_for(schema)
        cls.check_schema(schema)
        found = _validators[name] = cls(schema)
    return found


def _validate_action_result(self, result):
    try:
        _validator("action", self.action_response_format_spec).validate(result)
        return True
    except ValidationError as e:
        e.message += (
            ". Failed to validate Action server response from API, "
            "make sure your response from the Action endpoint is valid. "
            f"For more information about the format visit {DOCS_BASE_URL}/custom-actions"
        )
        raise e


def _validate_nlg_response(content) -> bool:
    if content is None or content == "":
        return True  # the endpoint did not want to respond with anything
    try:
        _validator("nlg", rasa_nlg.nlg_response_format_spec).validate(content)
        return True
    except ValidationError as e:
        raise RasaException(
            f"{e.message}. Failed to validate NLG response from API, make sure "
            f"your response from the NLG endpoint is valid. "
            f"For more information about the format please consult the "
            f"`nlg_response_format_spec` function from this same module: "
            f"https://github.com/RasaHQ/rasa/blob/main/rasa/core/nlg/callback.py"
        ) from e


_event_classes: dict[str, type] = {}
_original_resolve_by_type = rasa_events.Event.resolve_by_type


def _resolve_by_type(type_name, default=None):
    found = _event_classes.get(type_name)
    if found is not None:
        return found
    found = _original_resolve_by_type(type_name, default)
    if found is not None and found is not default:  # only real matches are remembered
        _event_classes[type_name] = found
    return found


# (id of the EndpointConfig, id of the event loop) -> (config, loop, session); the config and loop
# are held so that their ids cannot be reused while the session lives.
_sessions: dict[tuple[int, int], tuple] = {}


def _session(config: EndpointConfig) -> aiohttp.ClientSession:
    loop = asyncio.get_running_loop()
    key = (id(config), id(loop))
    held = _sessions.get(key)
    if held is not None and not held[2].closed:
        return held[2]
    auth = (
        aiohttp.BasicAuth(config.basic_auth["username"], config.basic_auth["password"]) if config.basic_auth else None
    )
    session = aiohttp.ClientSession(
        headers=config.headers,
        auth=auth,
        timeout=aiohttp.ClientTimeout(total=rasa_endpoints.DEFAULT_REQUEST_TIMEOUT),
        connector=aiohttp.TCPConnector(limit=0, keepalive_timeout=KEEPALIVE_SECONDS),  # no cap, as before
    )
    _sessions[key] = (config, loop, session)
    return session


def _close_sessions() -> None:
    for _config, _loop, session in list(_sessions.values()):
        if not session.closed and session.connector is not None:
            session.connector._close()  # synchronous: no event loop at exit
            session._connector = None
    _sessions.clear()


atexit.register(_close_sessions)


def _body(value) -> bytes:
    try:
        return ujson.dumps(value, ensure_ascii=False, escape_forward_slashes=False).encode("utf-8")
    except (OverflowError, TypeError, ValueError):  # NaN, infinity or an odd type: as Rasa would
        return json.dumps(value).encode("utf-8")


async def _request(self, method="post", subpath=None, content_type="application/json", compress=False, **kwargs):
    """EndpointConfig.request, on a reused keep-alive session, with the JSON body encoded by ujson."""
    headers = {}
    if content_type:
        headers["Content-Type"] = content_type
    if "headers" in kwargs:
        headers.update(kwargs.pop("headers"))
    if self.headers:
        headers.update(self.headers)
    url = concat_url(self.url, subpath)
    sslcontext = None
    if self.cafile:
        try:
            sslcontext = ssl.create_default_context(cafile=self.cafile)
        except FileNotFoundError as e:
            raise FileNotFoundException(
                f"Failed to find certificate file, '{os.path.abspath(self.cafile)}' does not exist."
            ) from e
    if "json" in kwargs:
        kwargs["data"] = _body(kwargs.pop("json"))
        headers.setdefault("Content-Type", "application/json")
    params = self.combine_parameters(kwargs)
    for attempt in (1, 2):
        try:
            async with _session(self).request(
                method, url, headers=headers, params=params, compress=compress, ssl=sslcontext, **kwargs
            ) as response:
                if response.status >= 400:
                    raise ClientResponseError(response.status, response.reason, await response.content.read())
                try:
                    return await response.json()
                except ContentTypeError:
                    return None
        except aiohttp.ServerDisconnectedError:
            # A kept-alive connection the server (or a proxy) had just closed, e.g. after a
            # restart: once more on a new connection, as a new session per call would have done.
            if attempt == 2:
                raise


def install() -> None:
    RemoteAction._validate_action_result = _validate_action_result
    rasa_nlg.CallbackNaturalLanguageGenerator.validate_response = staticmethod(_validate_nlg_response)
    rasa_events.Event.resolve_by_type = staticmethod(_resolve_by_type)
    EndpointConfig.request = _request
