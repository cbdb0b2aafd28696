"""`scrubber gateway`: the engine (default policy: the keyed `token` operator), the upstream
client and the routes, run under uvicorn with its logs routed through structlog."""

from __future__ import annotations

import argparse
import gc
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scrubber.config import Config, PolicyConfig, load_config
from scrubber.errors import ConfigError
from scrubber.log import get_logger, route_server_logs
from scrubber.operators import TokenOp

if TYPE_CHECKING:
    from starlette.applications import Starlette

log = get_logger("scrubber.gateway")


def register(commands: Any) -> None:
    """Add `gateway` to the `scrubber` subcommands."""
    gateway = commands.add_parser(
        "gateway", help="OpenAI/Anthropic-compatible proxy: scrub prompts, restore answers"
    )
    gateway.add_argument("--config", type=Path, required=True, help="YAML config with `gateway:`")
    gateway.add_argument("--host", default="127.0.0.1", help="bind address (default: loopback)")
    gateway.add_argument("--port", type=int, default=8080)


def gateway_config(config: Config) -> Config:
    """The config as the gateway runs it: without a `policy:` section of its own, every finding
    gets the keyed `token` operator under `gateway.key` (same value, same token, every turn)."""
    if config.gateway.upstream is None:
        raise ConfigError("gateway.upstream: required by `scrubber gateway` (the LLM API's base "
                          "URL, e.g. `gateway: {upstream: https://api.openai.com}`)")  # fmt: skip
    if "policy" in config.model_fields_set:
        return config
    name = config.gateway.key
    if name not in config.keys:
        raise ConfigError(
            f"gateway.key: the gateway's default policy tokenizes with key {name!r}, which is not "
            f"defined under `keys` (add `keys: {{{name}: {{env: SCRUBBER_TOKEN_KEY}}}}`)"
        )
    policy = PolicyConfig(default=TokenOp(type="token", key=name))
    return config.model_copy(update={"policy": policy})


def build_app(config: Config, environ: Mapping[str, str] | None = None) -> Starlette:
    from scrubber.engine import Scrubber
    from scrubber.gateway.app import Gateway, create_app
    from scrubber.gateway.conversations import conversation_books
    from scrubber.gateway.upstream import Upstream

    config = gateway_config(config)
    engine = Scrubber(config, environ=environ)
    engine.warm_up()
    books = conversation_books(config, environ)
    return create_app(Gateway(config, engine, Upstream(config.gateway), books))


def _gateway(args: argparse.Namespace) -> int:
    import uvicorn

    config = gateway_config(load_config(args.config))
    app = build_app(config)
    gc.collect()
    gc.freeze()
    route_server_logs()
    log.info("gateway_ready", host=args.host, port=args.port, config_hash=config.digest(),
             scope=config.gateway.scope)  # fmt: skip
    uvicorn.run(app, host=args.host, port=args.port, log_config=None, access_log=False,
                timeout_graceful_shutdown=10)  # fmt: skip
    return 0


HANDLERS: dict[str, Callable[[argparse.Namespace], int]] = {"gateway": _gateway}
