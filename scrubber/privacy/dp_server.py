"""The HTTP side of the differentially private view: GET /metrics on a port of its own.

Its own port, apart from the operators' /metrics, /healthz and /readyz, so that a NetworkPolicy
can open this one to tenants and dashboards and nothing else. It answers GET /metrics and 404 to
every other path and method: no probe or debug page shares the tenants' door.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST

from scrubber.privacy.dp_view import PrivateCounts


def serve_private_metrics(view: PrivateCounts, host: str, port: int) -> ThreadingHTTPServer:
    """Serve `view` on a daemon thread; stop it with `server.shutdown(); server.server_close()`.
    Port 0 takes a free port (`server.server_address[1]`)."""

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def do_GET(self) -> None:
            if self.path == "/metrics":
                self._answer(200, view.render(), CONTENT_TYPE_LATEST)
            else:
                self._not_found()

        def _not_found(self) -> None:
            self._answer(404, b"not found\n", "text/plain")

        do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _not_found

        def log_message(self, format: str, *args: Any) -> None:  # noqa: ARG002
            return  # unstructured access lines on stderr; scrapes are noise

    server = ThreadingHTTPServer((host, port), Handler)
    threading.Thread(target=server.serve_forever, name="dp-metrics-http", daemon=True).start()
    return server
