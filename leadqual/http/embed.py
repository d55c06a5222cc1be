"""The embeddable assets a website loads from the product, as a Sanic blueprint.

GET /embed/track.js (the tracking snippet), /embed/chat.js (loads and configures the chat widget)
and /embed/webchat.js (rasa-webchat's bundle, installed from npm into web/node_modules by
bin/_common.sh; never fetched from a CDN). Mounted on the action server, next to the intake.

chat.js is served with the visitor-facing texts it shows itself (the proactive teaser,
config/messages.yml's `responses.chat_teaser`) written in place of its `/*nubilo:texts*/null`.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from sanic import Blueprint, response

from leadqual import settings
from leadqual.config.marketing import DEFAULT_MESSAGES, ConfigError, Messages, load_messages
from leadqual.settings import REPO_ROOT

if TYPE_CHECKING:
    from leadqual.conversation.flows import Flow

log = logging.getLogger(__name__)

WEB = REPO_ROOT / "web"
ASSETS = {
    "track.js": WEB / "embed" / "track.js",
    "chat.js": WEB / "embed" / "chat.js",
    "webchat.js": WEB / "node_modules" / "rasa-webchat" / "lib" / "index.js",
}


# rasa-webchat's CSS imports the Inter font from Google Fonts: a third-party request on every page
# view. It is cut out, so the widget uses the page's fonts and nothing is fetched from a CDN.
_FONT_IMPORT = re.compile(rb"@import url\(https://fonts\.googleapis\.com/[^)]*\);")


# Where chat.js takes the texts of config/messages.yml it shows itself ({"es": {...}, "en": {...}}).
TEXTS_MARKER = b"/*nubilo:texts*/null"
# messages.yml response -> the key chat.js reads.
WIDGET_TEXTS = {"chat_teaser": "teaser"}


@lru_cache(maxsize=8)
def _read(path: Path, mtime: float) -> bytes:
    return _FONT_IMPORT.sub(b"", path.read_bytes())


@lru_cache(maxsize=4)
def _widget_texts(path: Path, mtime: float) -> bytes:
    """The JSON chat.js gets from a messages file. `null` if the file cannot be read (logged)."""
    try:
        return widget_texts(load_messages(path))
    except (ConfigError, OSError) as exc:
        log.warning("chat.js is served without its texts: %s", exc)
        return b"null"


def widget_texts(messages: Messages) -> bytes:
    """The JSON chat.js gets: each of WIDGET_TEXTS in Spanish and English (a list stays a list of
    variations, one picked per page view)."""
    responses = messages.responses
    texts: dict[str, dict] = {"es": {}, "en": {}}
    for name, key in WIDGET_TEXTS.items():
        localized = responses.get(name)
        if localized is not None:
            for lang in texts:
                texts[lang][key] = getattr(localized, lang)
    return json.dumps(texts, ensure_ascii=False).encode()


def messages_path() -> Path:
    return Path(settings.MESSAGES.get(str(DEFAULT_MESSAGES)))


def chat_js(path: Path, texts: bytes | None = None) -> bytes:
    """chat.js with its texts written in: `texts` (the JSON of widget_texts), else config/messages.yml's
    (cached until either file changes)."""
    if texts is None:
        messages = messages_path()
        try:
            texts_mtime = messages.stat().st_mtime
        except OSError:
            texts_mtime = -1.0
        texts = _widget_texts(messages, texts_mtime)
    return _read(path, path.stat().st_mtime).replace(TEXTS_MARKER, texts, 1)


def embed_blueprint(current: Callable[[], Flow] | None = None) -> Blueprint:
    """`current` gives the newest published flow, so the teaser marketing edits in the console is
    the one served; without it, config/messages.yml's."""
    bp = Blueprint("embed", url_prefix="/embed")
    by_version: dict[object, bytes] = {}

    def texts_now() -> bytes | None:
        if current is None:
            return None
        try:
            flow = current()
            version, messages = flow.version, flow.messages
        except Exception:  # the database is down: the files' texts, not no chat
            log.exception("chat.js: the published flow could not be read; serving config/messages.yml's texts")
            return None
        if version not in by_version:
            by_version.clear()
            by_version[version] = widget_texts(messages)
        return by_version[version]

    @bp.route("/<name:str>", methods=["GET", "HEAD"])
    async def asset(request, name: str):
        path = ASSETS.get(name)
        if path is None or not path.is_file():
            hint = " (run bin/run or bin/test: they install web/node_modules)" if name == "webchat.js" else ""
            return response.text(f"no such asset: {name}{hint}", status=404)
        body = chat_js(path, texts_now()) if name == "chat.js" else _read(path, path.stat().st_mtime)
        return response.raw(
            body,
            content_type="application/javascript; charset=utf-8",
            headers={"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"},
        )

    return bp
