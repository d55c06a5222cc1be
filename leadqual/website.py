"""The demo website of Nubilo, a fictional Spanish B2B software company (web/site/), served on its own
port so it is a different origin from Rasa and the action server, like a company's real site.

Every page carries the few lines a company pastes into its own site (`embed_snippet`): the tracking
snippet and the chat widget, both loaded from the product (the action server's /embed/*). The
pages hold a `<!--nubilo:embed-->` marker that is replaced on the way out with the browser write key
and the URLs from the environment. Never the server write key.

Run: python -m leadqual.website --port 8080
"""

from __future__ import annotations

import argparse
import html
import mimetypes
import os
from functools import partial
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

SITE = Path(__file__).resolve().parent.parent / "web" / "site"
MARKER = b"<!--nubilo:embed-->"


def embed_snippet(
    product_url: str, socket_url: str, write_key: str, lang: str, open_after: float, open_on: str = "/precios,/pricing"
) -> str:
    """The lines a company pastes into its pages' <head> (see README, "Embedding the chat on your site")."""
    a = partial(html.escape, quote=True)
    product = product_url.rstrip("/")
    return (
        f'<script async src="{a(product)}/embed/track.js" data-write-key="{a(write_key)}"></script>\n'
        f'<script async src="{a(product)}/embed/chat.js" data-socket-url="{a(socket_url.rstrip("/"))}"'
        f' data-lang="{a(lang)}" data-open-on="{a(open_on)}" data-open-after="{open_after:g}"></script>'
    )


class Settings:
    def __init__(self) -> None:
        actions_port = os.environ.get("LEADQUAL_ACTIONS_PORT", "5055")
        rasa_port = os.environ.get("LEADQUAL_RASA_PORT", "5005")
        self.product_url = os.environ.get("LEADQUAL_PUBLIC_ACTIONS_URL", f"http://localhost:{actions_port}")
        self.socket_url = os.environ.get("LEADQUAL_PUBLIC_RASA_URL", f"http://localhost:{rasa_port}")
        self.write_key = os.environ.get("LEADQUAL_BROWSER_WRITE_KEY", "")
        self.open_after = float(os.environ.get("LEADQUAL_PROACTIVE_SECONDS", "20"))

    def snippet(self, lang: str) -> bytes:
        return embed_snippet(self.product_url, self.socket_url, self.write_key, lang, self.open_after).encode()


class Handler(BaseHTTPRequestHandler):
    settings: Settings
    server_version = "nubilo-site"

    def log_message(self, format, *args):  # noqa: A002 - the stdlib's signature
        pass

    def do_HEAD(self):  # noqa: N802
        self.do_GET(head=True)

    def do_GET(self, head: bool = False):  # noqa: N802
        path = unquote(urlsplit(self.path).path)
        target = (SITE / path.lstrip("/")).resolve()
        if SITE not in target.parents and target != SITE:
            return self._send(HTTPStatus.NOT_FOUND, b"not found", "text/plain", head)
        if target.is_dir():
            if not path.endswith("/"):
                self.send_response(HTTPStatus.MOVED_PERMANENTLY)
                self.send_header("Location", path + "/")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            target = target / "index.html"
        if not target.is_file():
            return self._send(HTTPStatus.NOT_FOUND, b"<h1>404</h1>", "text/html; charset=utf-8", head)
        body = target.read_bytes()
        kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if kind == "text/html":
            lang = "en" if path.startswith("/en/") else "es"
            body = body.replace(MARKER, self.settings.snippet(lang))
            kind += "; charset=utf-8"
        elif kind.startswith("text/"):
            kind += "; charset=utf-8"
        self._send(HTTPStatus.OK, body, kind, head)

    def _send(self, status, body: bytes, kind: str, head: bool) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        if not head:
            self.wfile.write(body)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=int(os.environ.get("LEADQUAL_SITE_PORT", 8080)))
    parser.add_argument("--host", default=os.environ.get("LEADQUAL_SITE_HOST", "127.0.0.1"))
    args = parser.parse_args()
    Handler.settings = Settings()
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    server.daemon_threads = True
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
