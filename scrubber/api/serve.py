"""`scrubber serve`: builds the app from one config (engine, its token vault, the gatekeeper)
and runs it under uvicorn, with uvicorn's own logs routed through structlog."""

from __future__ import annotations

import argparse
import gc
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scrubber.config import Config, load_config
from scrubber.log import get_logger, route_server_logs
from scrubber.vault.access import AccessControl, open_gatekeeper
from scrubber.vault.recorder import TokenRecorder, open_recorder

if TYPE_CHECKING:  # the web stack is imported by the command that serves, not by `--help`
    from fastapi import FastAPI

log = get_logger("scrubber.serve")


def register(commands: Any) -> None:
    """Add `serve` to the `scrubber` subcommands."""
    serve = commands.add_parser("serve", help="the HTTP API: scrub, restore, subject rights")
    serve.add_argument("--config", type=Path, help="YAML config (default: embedded policy)")
    serve.add_argument("--host", default="127.0.0.1", help="bind address (default: loopback)")
    serve.add_argument("--port", type=int, default=8080)


def build_app(config: Config, environ: Mapping[str, str] | None = None) -> FastAPI:
    """The API as `scrubber serve` runs it: the engine writes tokens to the vault the config
    names, and /readyz pings every store this process uses. Unless
    `api.limits.large_record_bytes` is null, a second engine (with its own vault writer) serves
    the large records, so they never hold the engine the small ones use."""
    from scrubber.api.app import create_app
    from scrubber.engine import Scrubber

    engines, stores = [], []
    for _ in range(1 if config.api.limits.large_record_bytes is None else 2):
        recorder = open_recorder(config, environ)
        engines.append(Scrubber(config, environ=environ, token_sink=recorder))
        stores += [] if recorder is None else [recorder.store]
        engines[-1].warm_up()  # here, not on the first request
    gatekeeper = open_gatekeeper(config, environ) if config.vault is not None else None
    for engine in engines:
        if gatekeeper is not None and isinstance(engine.token_sink, TokenRecorder):
            gatekeeper.vault.erase_listeners.append(engine.token_sink.note_erased)
    access = gatekeeper.access if gatekeeper is not None else AccessControl(config.access, environ)
    large = engines[1] if len(engines) > 1 else None
    app = create_app(config, engines[0], access, gatekeeper, stores, large_engine=large)
    if config.api.presidio.enabled:  # imported only then: presidio-anonymizer's start-up cost
        from scrubber.api.presidio import mount

        mount(app, config, engines[0])
    return app


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    config = load_config(args.config)
    app = build_app(config)
    # The model, vocabularies and word lists are hundreds of thousands of long-lived objects: keep
    # them out of the collector's full passes, which would otherwise stall requests.
    gc.collect()
    gc.freeze()
    route_server_logs()
    log.info("serve_ready", host=args.host, port=args.port, config_hash=config.digest(),
             vault=config.vault.store if config.vault else None)  # fmt: skip
    uvicorn.run(app, host=args.host, port=args.port, log_config=None, access_log=False,
                timeout_graceful_shutdown=10)  # fmt: skip
    return 0


HANDLERS: dict[str, Callable[[argparse.Namespace], int]] = {"serve": _serve}
