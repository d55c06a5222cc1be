"""The embeddable assets a website loads from the product, as a Sanic blueprint.

GET /embed/track.js (the tracking snippet), /embed/chat.js (loads and configures the chat widget)
and /embed/webchat.js (rasa-webchat's bundle, installed from npm into web/node_modules by
bin/_common.sh; never fetched from a CDN). Mounted on the action server, next to the intake.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from sanic import Blueprint, response

from leadqual.settings import REPO_ROOT

WEB = REPO_ROOT / "web"
ASSETS = {
    "track.js": WEB / "embed" / "track.js",
    "chat.js": WEB / "embed" / "chat.js",
    "webchat.js": WEB / "node_modules" / "rasa-webchat" / "lib" / "index.js",
}


# rasa-webchat's CSS imports the Inter font from Google Fonts: a third-party request on every page
# view. It is cut out, so the widget uses the page's fonts and nothing is fetched from a CDN.
_FONT_IMPORT = re.compile(rb"@import url\(https://fonts\.googleapis\.com/[^)]*\);")


@lru_cache(maxsize=8)
def _read(path: Path, mtime: float) -> bytes:
    return _FONT_IMPORT.sub(b"", path.read_bytes())


def embed_blueprint() -> Blueprint:
    bp = Blueprint("embed", url_prefix="/embed")

    @bp.route("/<name:str>", methods=["GET", "HEAD"])
    async def asset(request, name: str):
        path = ASSETS.get(name)
        if path is None or not path.is_file():
            hint = " (run bin/run or bin/test: they install web/node_modules)" if name == "webchat.js" else ""
            return response.text(f"no such asset: {name}{hint}", status=404)
        return response.raw(
            _read(path, path.stat().st_mtime),
            content_type="application/javascript; charset=utf-8",
            headers={"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"},
        )

    return bp
