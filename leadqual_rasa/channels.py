"""socket.io for the website widget, with session ids the server issues and signs.

Rasa's socket.io channel takes whatever `session_id` the browser sends as the conversation's
sender id, so anyone who learns or guesses an id can join that visitor's room (and read the
bot's replies) or write into their conversation. Here the id is `<random>.<HMAC>` signed with
LEADQUAL_SESSION_SECRET: a session request with an id this server did not sign gets a new one,
and a message with such an id is dropped. Everything else is Rasa's own channel, unchanged
(the name stays "socketio", so replies and SDR takeover messages reach the widget as before).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import uuid
from typing import Any

from rasa.core.channels.socketio import SocketIOInput

from leadqual_rasa import speedups

speedups.install()  # Rasa imports this module at start-up (credentials.yml)

logger = logging.getLogger(__name__)


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


class SignedSocketIOInput(SocketIOInput):
    """Rasa's socket.io channel; session ids are issued and checked by `SignedSessions`."""

    def blueprint(self, on_new_message):
        blueprint = super().blueprint(on_new_message)
        sessions = SignedSessions(os.environ.get("LEADQUAL_SESSION_SECRET"))
        namespace = self.namespace or "/"
        handlers = self.sio.handlers[namespace]
        rasa_session_request = handlers["session_request"]
        rasa_message = handlers[self.user_message_evt]

        async def session_request(sid, data):
            data = dict(data) if isinstance(data, dict) else {}
            if not sessions.valid(data.get("session_id")):
                data["session_id"] = sessions.issue()  # a new conversation, not the claimed one
            return await rasa_session_request(sid, data)

        async def message(sid, data):
            if not isinstance(data, dict) or not sessions.valid(data.get("session_id")):
                logger.warning("dropped a socket.io message whose session id this server did not issue")
                return None
            return await rasa_message(sid, data)

        self.sio.on("session_request", session_request, namespace=self.namespace)
        self.sio.on(self.user_message_evt, message, namespace=self.namespace)
        return blueprint
