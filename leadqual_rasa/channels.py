"""The chat channels: socket.io for the website widget, REST for trusted back ends.

socket.io: session ids the server issues and signs, one live socket per conversation, and a
size limit on messages. REST: a token, a required and well-formed sender, the same size limit.


Rasa's socket.io channel takes whatever `session_id` the browser sends as the conversation's
sender id, so anyone who learns or guesses an id can join that visitor's room (and read the
bot's replies) or write into their conversation. Here the id is `<random>.<HMAC>` signed with
LEADQUAL_SESSION_SECRET: a session request with an id this server did not sign gets a new one,
and a message with such an id is dropped. A valid id copied into a second browser while the
first one is still connected gets a new conversation too: replies go to a conversation's room,
so a second socket in it would read them. Everything else is Rasa's own channel, unchanged
(the name stays "socketio", so replies and SDR takeover messages reach the widget as before).

REST (`GuardedRestInput`, still named "rest"): Rasa's own channel takes any sender id, and a
missing one puts every caller into one conversation called "default". Here the caller needs
LEADQUAL_REST_TOKEN (`Authorization: Bearer ...` or `?token=`), a sender id of 1-128 characters
of letters, digits and `_.:@-`, and a message of at most LEADQUAL_MAX_MESSAGE_CHARS.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import uuid
from typing import Any

from rasa.core.channels.rest import RestInput
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from sanic.exceptions import Forbidden, InvalidUsage, PayloadTooLarge

from leadqual import settings
from leadqual_rasa import logmask, speedups

speedups.install()  # Rasa imports this module at start-up (credentials.yml)
logmask.install()  # also when Rasa is started without leadqual_rasa/serve.py

logger = logging.getLogger(__name__)

# Longer chat messages are refused before Rasa parses them: 500 KB took 5 s of CPU and stalled
# every other visitor of that process. The widget's socket.io frames are capped as well.
MAX_MESSAGE_CHARS = int(settings.MAX_MESSAGE_CHARS.get())
MAX_SOCKET_BYTES = int(settings.MAX_SOCKET_BYTES.get())
TOO_LONG = {
    "es": "Tu mensaje es demasiado largo. ¿Me lo resumes en menos de {n} caracteres?",
    "en": "Your message is too long. Could you sum it up in fewer than {n} characters?",
}
SENDER = re.compile(r"^[A-Za-z0-9_.:@-]{1,128}$")


def too_long_text(lang: object) -> str:
    text = TOO_LONG["en" if str(lang or "").lower().startswith("en") else "es"]
    return text.format(n=f"{MAX_MESSAGE_CHARS:,}".replace(",", "."))


class SignedSessions:
    def __init__(self, secret: str | None) -> None:
        if not secret:
            logger.warning(
                "LEADQUAL_SESSION_SECRET is not set: sessions are signed with a per-process key, so they do not "
                "survive a restart and several Rasa servers will not accept each other's sessions"
            )
        self.key = (secret or secrets.token_hex(32)).encode()

    def issue(self) -> str:
        token = uuid.uuid4().hex
        return f"{token}.{self._sign(token)}"

    def valid(self, session_id: Any) -> bool:
        if not isinstance(session_id, str) or session_id.count(".") != 1 or len(session_id) > 100:
            return False
        token, signature = session_id.split(".")
        return hmac.compare_digest(signature, self._sign(token))

    def _sign(self, token: str) -> str:
        return hmac.new(self.key, token.encode(), hashlib.sha256).hexdigest()[:32]


class SdrAwareSocketIOOutput(SocketIOOutput):
    """Rasa's socket.io output, except that a line an SDR sent (a bot event whose metadata names an
    `sdr`, leadqual/leads/takeover.py) reaches the widget with `metadata: {sdr, sdr_name}`, so the
    widget shows who wrote it (Rasa's own sends the text alone)."""

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        if not kwargs.get("sdr"):
            return await super().send_text_message(recipient_id, text, **kwargs)
        metadata = {"sdr": str(kwargs["sdr"]), "sdr_name": str(kwargs.get("sdr_name") or "")}
        for part in text.strip().split("\n\n"):
            await self._send_message(recipient_id, {"text": part, "metadata": metadata})
        return None


class SignedSocketIOInput(SocketIOInput):
    """Rasa's socket.io channel; session ids are issued and checked by `SignedSessions`."""

    def get_output_channel(self):
        """The channel messages added through Rasa's HTTP API go out on (an SDR's, in a takeover)."""
        if self.sio is None:
            return super().get_output_channel()  # Rasa's warning, and None
        return SdrAwareSocketIOOutput(self.sio, self.bot_message_evt)

    def blueprint(self, on_new_message):
        blueprint = super().blueprint(on_new_message)
        sessions = SignedSessions(settings.SESSION_SECRET.get())
        namespace = self.namespace or "/"
        handlers = self.sio.handlers[namespace]
        rasa_session_request = handlers["session_request"]
        rasa_message = handlers[self.user_message_evt]

        holders: dict[str, str] = {}  # session id -> the socket that holds it

        def held_elsewhere(session_id: str, sid: str) -> bool:
            holder = holders.get(session_id)
            return holder is not None and holder != sid and self.sio.manager.is_connected(holder, namespace)

        async def session_request(sid, data):
            data = dict(data) if isinstance(data, dict) else {}
            claimed = data.get("session_id")
            if not sessions.valid(claimed):
                data["session_id"] = sessions.issue()  # a new conversation, not the claimed one
            elif held_elsewhere(claimed, sid):
                logger.warning("a second socket claimed a conversation another connected socket holds: new session")
                data["session_id"] = sessions.issue()
            holders[data["session_id"]] = sid
            return await rasa_session_request(sid, data)

        async def message(sid, data):
            if not isinstance(data, dict) or not sessions.valid(data.get("session_id")):
                logger.warning("dropped a socket.io message whose session id this server did not issue")
                return None
            if holders.get(data["session_id"]) != sid:
                logger.warning("dropped a socket.io message from a socket that does not hold its conversation")
                return None
            text = data.get("message")
            if isinstance(text, str) and len(text) > MAX_MESSAGE_CHARS:
                metadata = data.get(self.metadata_key) if isinstance(data.get(self.metadata_key), dict) else {}
                await self.sio.emit(self.bot_message_evt, {"text": too_long_text(metadata.get("lang"))}, room=sid)
                return None
            return await rasa_message(sid, data)

        async def disconnect(sid):
            for session_id in [key for key, holder in holders.items() if holder == sid]:
                del holders[session_id]
            if rasa_disconnect is not None:
                return await rasa_disconnect(sid)
            return None

        rasa_disconnect = handlers.get("disconnect")
        self.sio.on("disconnect", disconnect, namespace=self.namespace)

        self.sio.on("session_request", session_request, namespace=self.namespace)
        self.sio.on(self.user_message_evt, message, namespace=self.namespace)
        self.sio.eio.max_http_buffer_size = MAX_SOCKET_BYTES
        return blueprint


class GuardedRestInput(RestInput):
    """Rasa's REST channel for trusted callers: a token, a well-formed sender, a size limit."""

    @classmethod
    def name(cls) -> str:
        return "rest"

    def __init__(self, token: str | None = None) -> None:
        self.token = token if token is not None else settings.REST_TOKEN.get()
        if not self.token:
            logger.warning("LEADQUAL_REST_TOKEN is not set: the REST channel refuses every call")

    @classmethod
    def from_credentials(cls, credentials):
        return cls()

    def _check_token(self, req) -> None:
        header = req.headers.get("authorization", "")
        given = header[7:] if header.lower().startswith("bearer ") else (req.args.get("token") or "")
        if not self.token or not hmac.compare_digest(given.encode(), self.token.encode()):
            raise Forbidden("the REST channel needs LEADQUAL_REST_TOKEN (Authorization: Bearer ...)")

    async def _extract_sender(self, req):
        self._check_token(req)
        body = req.json
        if not isinstance(body, dict):
            raise InvalidUsage("the body must be a JSON object with 'sender' and 'message'")
        sender = body.get("sender")
        if not isinstance(sender, str) or not SENDER.match(sender):
            raise InvalidUsage("'sender' must be 1-128 characters of letters, digits and _.:@-")
        return sender

    def _extract_message(self, req):
        text = req.json.get("message")
        if not isinstance(text, str):
            raise InvalidUsage("'message' must be a string")
        if len(text) > MAX_MESSAGE_CHARS:
            raise PayloadTooLarge(f"'message' is longer than {MAX_MESSAGE_CHARS} characters")
        return text
