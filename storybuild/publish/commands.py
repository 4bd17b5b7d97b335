"""``storybuild youtube login`` and ``storybuild publish``: the commands around the publish stage.

``add_commands`` adds them to the ``storybuild`` command's subparsers (each sets ``run``, as the
others do); ``python -m storybuild.publish.commands`` runs them alone. ``publish`` runs doit's
``publish`` stage, so a publish from here is the same build as ``doit publish``; ``--dry-run``
only reads: it prints what would be sent, the calls it would make and the quota they cost.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from ..errors import ConfigError, StorybuildError

__all__ = ["add_commands", "main"]


def _login(args: argparse.Namespace) -> int:
    from ..graph.project import load_project
    from .auth import login

    project = load_project(args.root)
    secrets = args.client_secrets
    if secrets is None and project.settings.youtube.client_secrets is not None:
        secrets = project.path(project.settings.youtube.client_secrets)  # settings paths are the project's
    channel = args.channel or project.settings.youtube.channel
    path = login(channel, secrets)
    print(f"logged in to YouTube as channel {channel!r}; the token is kept at {path} (mode 0600)")
    return 0


def _dry_run(args: argparse.Namespace) -> int:
    from ..graph.project import load_project
    from ..graph.publish import publications, release
    from .publisher import cost, plan
    from .quota import Ledger, reset_time

    project = load_project(args.root)
    entries = [e for e in project.stories if args.story in (None, e.slug)]
    if args.story and not entries:
        raise ConfigError(f"no story {args.story!r} in {project.settings.stories_dir}")
    total: dict[str, int] = {}
    settings = None
    for entry in entries:
        if entry.error is not None:
            print(f"{entry.slug}: cannot be built: {entry.error}")
            continue
        settings = entry.settings.youtube
        for publication in publications(entry):
            missing = [p for p in (publication.video, entry.layout.metadata) if not project.path(p).is_file()]
            if missing:
                print(f"{publication.item}: not built yet ({', '.join(missing)}); `doit publish` builds it first")
                continue
            steps, resource = plan(release(project, entry, publication), settings)
            print(f"{publication.item}: " + ("up to date on YouTube" if not steps else f"{len(steps)} call(s)"))
            for step in steps:
                print(f"  {step.method:22} {settings.cost(step.method):5} units  {step.why}")
                total[step.method] = total.get(step.method, 0) + 1
            if steps:
                print("  sends: " + json.dumps(resource, indent=2, ensure_ascii=False).replace("\n", "\n  "))
    if settings is not None:
        units = sum(settings.cost(method) * count for method, count in total.items())
        uploads = total.get("videos.insert", 0)
        left_units, left_uploads = Ledger(project.runtime.state, settings).remaining()
        print(f"quota: {units} units and {uploads} upload(s); {left_units} units and {left_uploads} upload(s) "
              f"left today (resets at {reset_time()})")
    return 0


def _publish(args: argparse.Namespace) -> int:
    if args.dry_run:
        return _dry_run(args)
    task = f"publish:{args.story}" if args.story else "publish"
    return subprocess.call([sys.executable, "-m", "doit", task], cwd=Path(args.root))


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    """Add ``youtube login`` and ``publish`` to the ``storybuild`` command."""
    youtube = subparsers.add_parser("youtube", help="log in to YouTube",
                                    description="Manage the YouTube login that `doit publish` uses.")
    actions = youtube.add_subparsers(dest="youtube_command", required=True, metavar="ACTION")
    login = actions.add_parser(
        "login", help="log in in the browser and keep the token (0600) in your config folder",
        description="The installed-app OAuth flow: opens the browser, asks for upload, read and caption access,"
        " and keeps the token under $XDG_CONFIG_HOME/storybuild/youtube/<channel>.json (or"
        " STORYBUILD_YOUTUBE_TOKEN), never in the project.",
    )
    login.add_argument("--channel", help="a name for this login (default: youtube.channel, else 'default')")
    login.add_argument("--client-secrets", type=Path,
                       help="the OAuth client file (default: youtube.client_secrets or STORYBUILD_YOUTUBE_CLIENT_SECRETS)")
    login.set_defaults(run=_login)
    publish = subparsers.add_parser(
        "publish", help="upload finished stories to YouTube (doit publish), or show what would be sent",
        description="Run the publish stage: each story's final.mp4 uploaded once, then kept in step."
        " --dry-run prints what would be sent and the quota it would use, and sends nothing.",
    )
    publish.add_argument("--dry-run", action="store_true", help="print what would be sent; send nothing")
    publish.add_argument("--story", help="only this story")
    publish.set_defaults(run=_publish)


def main(argv: list[str] | None = None) -> int:
    """These commands alone, as ``storybuild`` would run them."""
    parser = argparse.ArgumentParser(prog="storybuild")
    parser.add_argument("--root", default=".")
    add_commands(parser.add_subparsers(dest="command", required=True, metavar="COMMAND"))
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except StorybuildError as exc:
        print(f"storybuild: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
