"""The ``storybuild serve`` command: the job API and storyboard on 127.0.0.1:8313 by default."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .settings import DEFAULT_PORT

__all__ = ["add_commands", "main"]

EXAMPLE = """examples:
  storybuild serve                         the API and storyboard on http://127.0.0.1:8313 (docs at /docs)
  storybuild serve --max-concurrent 1      one build at a time
  STORYBUILD_API_TOKEN=... storybuild serve --host 0.0.0.0   reachable from other machines, with a token"""


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    """Add ``serve`` to the ``storybuild`` command's subcommands."""
    serve = subparsers.add_parser(
        "serve", help="run the job API and the storyboard page", epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Serve the content bridge's REST API over this project's build: queue builds as jobs"
        " (durable: SQLite in the state folder, or PostgreSQL with STORYBUILD_DATABASE_URL), follow them,"
        " get signed webhooks (STORYBUILD_WEBHOOK_SECRET), review and reroll in the browser.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1; any other"
                       " needs STORYBUILD_API_TOKEN)")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    serve.add_argument("--max-concurrent", type=int, help="builds at once (default: serve.max_concurrent"
                       " of storybuild.toml, else 3)")
    serve.set_defaults(run=_serve)


def _serve(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from .app import create_app
    except ImportError as exc:
        from ..errors import ConfigError

        raise ConfigError(f"storybuild serve needs its extra: pip install 'storybuild[serve]' ({exc})") from exc
    from .settings import ServeConfig

    config = ServeConfig.from_environment(
        Path(getattr(args, "root", ".")), host=args.host, port=args.port, max_concurrent=args.max_concurrent
    )
    uvicorn.run(create_app(config), host=config.host, port=config.port, log_level="warning",
                limit_concurrency=512, timeout_graceful_shutdown=10)
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m storybuild.serve``: the same command before ``storybuild`` lists it."""
    parser = argparse.ArgumentParser(prog="python -m storybuild.serve")
    parser.add_argument("--root", default=".")
    commands = parser.add_subparsers(dest="command")
    add_commands(commands)
    argv = list(sys.argv[1:] if argv is None else argv)
    root = "."
    if "--root" in argv:
        at = argv.index("--root")
        root = argv[at + 1] if at + 1 < len(argv) else "."
        del argv[at:at + 2]
    args = parser.parse_args(["--root", root, "serve", *argv])
    from ..errors import StorybuildError

    try:
        return args.run(args)
    except StorybuildError as exc:
        print(f"storybuild: {exc}", file=sys.stderr)
        return 1
