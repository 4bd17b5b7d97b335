"""The ``storybuild`` command: what doit's own commands do not cover.

Building, listing and cleaning are doit's (``doit final_mp4``, ``doit list``, ``doit clean scene``).
This command checks stories, rerolls one artifact with a new seed, and looks after the cache.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .errors import StorybuildError
from .graph.project import load_project
from .layout import StoryLayout

REROLLABLE = ("scene", "character", "animate", "sfx")


def _check(args: argparse.Namespace) -> int:
    project = load_project(args.root)
    if project.error:
        print(project.error, file=sys.stderr)
        return 1
    for entry in project.stories:
        if entry.error:
            print(f"FAIL {entry.slug}: {entry.error}")
        else:
            story = entry.story
            print(
                f"ok   {entry.slug}: {story.title!r}, {len(story.scenes)} scenes, {len(story.lines)} lines,"
                f" {len(story.cues)} cues, characters: {', '.join(c.name for c in story.characters)}"
            )
    return 1 if project.broken else 0


def _write_seeds(path: Path, seeds: dict[str, dict[str, int]]) -> None:
    from .store.atomic import write_text

    lines = ["# Written by `storybuild reroll`: seeds of rerolled artifacts. Commit it to keep them.", ""]
    for stage in sorted(seeds):
        lines.append(f"[{stage}]")
        lines.extend(f'"{item}" = {seed}' for item, seed in sorted(seeds[stage].items()))
        lines.append("")
    write_text(path, "\n".join(lines))


def _reroll(args: argparse.Namespace) -> int:
    project = load_project(args.root)
    slug, _, item = args.target.partition("/")
    entry = next((e for e in project.stories if e.slug == slug), None)
    if entry is None:
        raise StorybuildError(f"no story {slug!r} in {project.settings.stories_dir}/")
    if entry.error:
        raise entry.error
    valid = {
        "scene": [s.id for s in entry.story.scenes],
        "animate": [s.id for s in entry.story.scenes],
        "character": [c.name for c in entry.story.characters],
        "sfx": [c.id for c in entry.story.cues],
    }[args.stage]
    if item not in valid:
        raise StorybuildError(f"{args.stage} of {slug} has no item {item!r}; items: {', '.join(valid)}")
    seeds = {stage: dict(items) for stage, items in entry.seeds.items()}
    current = seeds.get(args.stage, {}).get(item, 0)
    seeds.setdefault(args.stage, {})[item] = args.seed if args.seed is not None else current + 1
    layout = StoryLayout(slug, str(project.settings.stories_dir), str(project.settings.build_dir))
    _write_seeds(Path(layout.seeds_toml), seeds)
    print(
        f"{args.stage} {slug}/{item}: reroll {seeds[args.stage][item]} recorded in {layout.seeds_toml};"
        f" run `doit` to rebuild it and what depends on it"
    )
    return 0


def _cache(args: argparse.Namespace) -> int:
    cache = load_project(args.root).runtime.cache
    if args.action == "clear":
        cache.clear()
        print(f"emptied {cache.root}")
    else:
        entries, size = cache.size() if cache.root.is_dir() else (0, 0)
        print(f"{cache.root}: {entries} entries, {size / 1e6:.1f} MB")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the ``storybuild`` command."""
    parser = argparse.ArgumentParser(
        prog="storybuild",
        description="Story videos as a doit build. Build with `doit` (e.g. `doit final_mp4`, `doit list`);"
        " this command checks stories, rerolls artifacts and manages the cache.",
    )
    parser.add_argument("--root", default=".", help="project folder (default: current)")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("check", help="parse every story and its settings; report errors").set_defaults(run=_check)
    reroll = commands.add_parser(
        "reroll", help="regenerate one artifact with a new seed, recorded in stories/<story>/seeds.toml"
    )
    reroll.add_argument("stage", choices=REROLLABLE)
    reroll.add_argument("target", metavar="STORY/ITEM", help="e.g. lighthouse/harbor")
    reroll.add_argument("--seed", type=int, help="use this seed offset instead of the next one")
    reroll.set_defaults(run=_reroll)
    cache = commands.add_parser("cache", help="show the artifact cache's size, or empty it")
    cache.add_argument("action", choices=("info", "clear"))
    cache.set_defaults(run=_cache)
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except StorybuildError as exc:
        print(f"storybuild: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
