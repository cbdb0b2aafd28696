#!/usr/bin/env python3
"""The image's HEALTHCHECK (installed as /opt/scrubber/bin/scrubber-healthcheck): GET /healthz of
the mode the container runs, on loopback. It writes nothing, so it works on a read-only root.

    scrubber-healthcheck          the mode and port of PID 1's command line (the container's)
    scrubber-healthcheck serve [--port N]
    scrubber-healthcheck gateway [--port N]
    scrubber-healthcheck run [--metrics-port N]

`scrubber serve` and `scrubber gateway` answer on --port (8080), `scrubber run` on
--metrics-port (9400; worker 0).
Any other command (`scrub`, `config validate`) serves nothing and counts as healthy. Exit 0 when
healthy, 1 when not. Standard library only: it runs with the image's Python, before and without
Scrubber's imports.
"""

from __future__ import annotations

import http.client
import sys
from pathlib import Path

PORT_FLAGS = {
    "serve": ("--port", 8080),
    "gateway": ("--port", 8080),
    "run": ("--metrics-port", 9400),
}


def target(argv: list[str]) -> int | None:
    """The port to ask, from a `scrubber ...` argument list; None for a mode without a server."""
    mode = next((a for a in argv if a in PORT_FLAGS), None)
    if mode is None:
        return None
    flag, port = PORT_FLAGS[mode]
    for i, arg in enumerate(argv):
        if arg == flag and i + 1 < len(argv):
            return int(argv[i + 1])
        if arg.startswith(flag + "="):
            return int(arg.split("=", 1)[1])
    return port


def container_command() -> list[str]:
    raw = Path("/proc/1/cmdline").read_bytes()
    return [part.decode("utf-8", "replace") for part in raw.split(b"\0") if part]


def healthy(port: int, timeout: float = 2.0) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", "/healthz")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


def main(argv: list[str]) -> int:
    port = target(argv if argv else container_command())
    if port is None:
        return 0
    ok = healthy(port)
    if not ok:
        print(f"unhealthy: http://127.0.0.1:{port}/healthz", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
