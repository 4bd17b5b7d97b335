"""The ``storybuild`` command: what doit's own commands do not cover.

Building, listing and cleaning are doit's (``doit final_mp4``, ``doit list``, ``doit clean scene``).
This command checks stories, rerolls one artifact with a new seed, prunes build files no task makes
any more, and looks after the cache. Every folder is the project root's (``--root``), whichever
directory the command runs from.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import traceback
from pathlib import Path

from .errors import StorybuildError
from .graph.project import CAPABILITIES, Project, StoryEntry, load_project
from .layout import StoryLayout

REROLLABLE = ("scene", "character", "animate", "sfx", "tts")


def _stages_loaded() -> None:
    """Declare every stage, so a story's artifacts (and their errors) are known as doit knows them."""
    import storybuild.graph  # noqa: F401


def _backend_problems(project: Project, entry: StoryEntry, seen: dict[int, list[str]]) -> tuple[str, list[str]]:
    """Which backends ``entry`` uses, and what each one's ``check()`` says (asked once per instance)."""
    names, problems = [], []
    for capability in CAPABILITIES:
        choice = getattr(entry.settings, capability).backend
        names.append(f"{capability} {choice}")
        try:
            backend = project.backend(entry, capability)
            if id(backend) not in seen:
                seen[id(backend)] = list(backend.check())
            found = seen[id(backend)]
        except StorybuildError as exc:
            found = [str(exc)]
        problems += [f"{capability} {choice}: {problem}" for problem in found]
    settings = entry.settings
    if settings.tts.retakes or settings.subtitles.word_timing:
        # Only then does a build listen (``doit quality`` alone is asked for by name).
        from .graph.quality import transcriber

        choice = settings.quality.backend
        names.append(f"transcribe {choice}")
        try:
            found = transcriber(settings.quality).check()
        except StorybuildError as exc:
            found = [str(exc)]
        problems += [f"transcribe {choice}: {problem}" for problem in found]
    return ", ".join(names), problems


def _check(args: argparse.Namespace) -> int:
    from .graph.stage import error_message, story_artifacts

    _stages_loaded()
    project = load_project(args.root)
    if project.error:
        print(f"FAIL {project.error}")
        return 1
    if not project.stories:
        print(f"no stories in {project.path(project.settings.stories_dir)}/ (a story is <slug>/story.txt)")
    failed, seen = 0, {}
    for entry in project.stories:
        story_artifacts(project, entry)
        if entry.error:
            print(f"FAIL {entry.slug}: {error_message(entry)}")
            failed += 1
            continue
        story = entry.story
        backends, problems = _backend_problems(project, entry, seen)
        bad = bool(problems) or (args.strict and bool(story.warnings))
        failed += bad
        print(
            f"{'FAIL' if bad else 'ok  '} {entry.slug}: {story.title!r}, {len(story.scenes)} scenes,"
            f" {len(story.lines)} lines, {len(story.cues)} cues, characters: {', '.join(c.name for c in story.characters)}"
        )
        print(f"     backends: {backends}{'' if problems else ' (ready)'}")
        for warning in story.warnings:
            print(f"     {'error' if args.strict else 'warning'}: {warning}")
        for problem in problems:
            print(f"     error: {problem}")
    return 1 if failed else 0


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
        "tts": [line.id for line in entry.story.lines],
    }[args.stage]
    if item not in valid:
        raise StorybuildError(f"{args.stage} of {slug} has no item {item!r}; items: {', '.join(valid)}")
    from .seeds import record_seed

    layout = StoryLayout(slug, str(project.settings.stories_dir), str(project.settings.build_dir))
    seed = record_seed(project.path(layout.seeds_toml), args.stage, item, args.seed)
    print(
        f"{args.stage} {slug}/{item}: reroll {seed} recorded in {layout.seeds_toml};"
        f" run `doit` to rebuild it and what depends on it"
    )
    return 0


def _cache(args: argparse.Namespace) -> int:
    from .store import sync

    project = load_project(args.root)
    cache = project.runtime.cache
    warn = lambda message: print(f"warning: {message}", file=sys.stderr)  # noqa: E731
    if args.action == "clear":
        cache.clear()
        print(f"emptied {cache.root}")
    elif args.action == "push":
        pushed, present = sync.push(project, args.story, warn)
        print(f"pushed {pushed} entries to {cache.shared.url}; {present} were there already")
    elif args.action == "pull":
        if not args.story:
            raise StorybuildError("cache pull needs --story S (it builds that story from the caches)")
        return sync.pull(project, args.story)
    elif args.action == "status":
        rows = sync.status(project, args.story, warn)
        mark = {True: "yes", False: "no", None: "?"}
        print(f"{'task':<44} {'local':>5} {'shared':>6}")
        for task, local, remote in rows:
            print(f"{task:<44} {mark[local]:>5} {mark[remote]:>6}")
        missing = sum(1 for _, local, remote in rows if not local and not remote)
        print(f"{len(rows)} artifacts built here; {missing} in neither cache")
    elif args.action == "gc":
        _gc(cache, args)
    else:
        _info(project)
    return 0


def _gc(cache: object, args: argparse.Namespace) -> None:
    from .store.gc import collect, parse_age, parse_size

    max_size = parse_size(args.max_size) if args.max_size else cache.max_size  # type: ignore[attr-defined]
    older_than = parse_age(args.older_than)
    if max_size is None and older_than is None:
        raise StorybuildError("cache gc needs --max-size or --older-than (or the cache.max_size setting)")
    done = collect(cache, max_size=max_size, older_than=older_than, dry_run=args.dry_run)
    verb = "would evict" if args.dry_run else "evicted"
    print(f"{verb} {len(done.evicted)} entries ({done.freed / 1e6:.1f} MB); kept {done.kept},"
          f" {done.size / 1e6:.1f} MB")


def _info(project: Project) -> None:
    from .store import journal
    from .store.gc import entries

    cache = project.runtime.cache
    found = entries(cache.root) if cache.root.is_dir() else []
    size = sum(entry.size for entry in found)
    linked = sum(entry.in_use for entry in found)
    cap = f", cap {cache.max_size / 1e6:.1f} MB" if cache.max_size else ""
    print(f"{cache.root}: {len(found)} entries, {size / 1e6:.1f} MB{cap}; {linked} linked from a build folder")
    records = journal.read(project.runtime.journal)
    reused = sum(r.get("outcome") == "reused" for r in records)
    made = sum(r.get("outcome") == "generated" for r in records)
    if reused + made:
        print(f"hit rate {reused / (reused + made):.0%}: {reused} reused, {made} generated"
              f" (the journal's last {len(records)} records)")
    else:
        print("hit rate: nothing built yet")


def _explain(args: argparse.Namespace) -> int:
    from .explain import explain

    project = load_project(args.root)
    if project.error:
        raise project.error
    for task in args.task:
        print("\n".join(explain(project, task)))
    return 0


def _sweep(folder: Path) -> list[Path]:
    """Temp files a killed build left in ``folder`` (store.orphans knows a live writer's from a dead one's)."""
    try:
        from .store.orphans import sweep_orphans
    except ImportError:  # pragma: no cover - until the sweep lands
        return []
    return sweep_orphans(folder) if folder.is_dir() else []


def _prune(args: argparse.Namespace) -> int:
    from .graph.stage import orphans

    _stages_loaded()
    project = load_project(args.root)
    if project.error:
        raise project.error
    build = project.path(project.settings.build_dir)
    verb = "would remove" if args.dry_run else "removed"
    files = [path for entry in project.buildable for path in orphans(project, entry)]
    for path in files:
        if not args.dry_run:
            path.unlink(missing_ok=True)
        print(f"{verb} {path.relative_to(project.root)}")
    for entry in project.buildable:
        folder = project.path(entry.layout.dir)
        if not args.dry_run:
            for path in _sweep(folder):
                print(f"{verb} {path.relative_to(project.root)} (left by a killed build)")
            _remove_empty_folders(folder)
    for entry in project.broken:
        print(f"kept {entry.layout.dir}/: {entry.slug} cannot be built, so what its tasks make is unknown")
    known = {entry.slug for entry in project.stories}
    gone = sorted(p for p in build.iterdir() if p.is_dir() and p.name not in known) if build.is_dir() else []
    if gone and not args.dry_run and not args.yes:
        names = ", ".join(p.name for p in gone)
        if not sys.stdin.isatty():
            print(f"not removing the build folders of stories that no longer exist ({names}): pass --yes")
            gone = []
        elif input(f"remove the build folders of {names} (no such stories)? [y/N] ").strip().lower() != "y":
            gone = []
    for folder in gone:
        if not args.dry_run:
            shutil.rmtree(folder)
        print(f"{verb} {folder.relative_to(project.root)}/ (no story {folder.name!r})")
    if not files and not gone:
        print(f"nothing to prune in {build.relative_to(project.root) if build.is_relative_to(project.root) else build}/")
    return 0


def _remove_empty_folders(folder: Path) -> None:
    for top, _, _ in sorted(os.walk(folder), key=lambda walked: -len(walked[0])):
        if top != str(folder) and not os.listdir(top):
            os.rmdir(top)


EXAMPLES = {
    "check": """examples:
  storybuild check                 parse every story and settings; ask each backend's server
  storybuild check --strict        warnings (e.g. an unknown header line) fail too
  storybuild --root ~/films check  check the project in ~/films from anywhere""",
    "reroll": """examples:
  storybuild reroll scene lighthouse/harbor     a new picture of the harbor scene
  storybuild reroll sfx lighthouse/003 --seed 7 cue 003 with seed offset 7
  doit final_mp4                                then rebuild it and what depends on it""",
    "cache": """examples:
  storybuild cache info                     entries, size and hit rate of .storybuild/cache
  storybuild cache gc --max-size 20GB       evict least recently used entries no build file links to
  storybuild cache gc --older-than 30d      evict entries unused for a month
  storybuild cache clear                    empty it (the build folders are left alone)
  storybuild cache push --story lighthouse  upload what the shared cache lacks
  storybuild cache pull --story lighthouse  build it from the caches only
  storybuild cache status                   local / shared, per artifact built here""",
    "explain": """examples:
  storybuild explain scene:lighthouse/harbor   why that picture would be made again (or what made it)
  storybuild explain final_wav:lighthouse      the mix, and any stale task it waits for""",
    "prune": """examples:
  storybuild prune --dry-run   list what would go
  storybuild prune             remove files of removed lines, cues and scenes
  storybuild prune --yes       also remove build folders of deleted stories without asking""",
}


def _parser() -> argparse.ArgumentParser:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(
        prog="storybuild", formatter_class=formatter,
        description="Story videos as a doit build. Build with doit: `doit final_mp4` (everything),"
        " `doit list` (the stages), `doit tts:<story>` (one story's part of a stage), `doit clean <stage>`."
        " This command checks stories, rerolls artifacts, prunes stale files and manages the cache.",
        epilog="\n\n".join(EXAMPLES.values()),
    )
    parser.add_argument("--root", default=".", help="the project folder, holding storybuild.toml and stories/"
                        " (default: the current one); every folder in the settings is relative to it")
    parser.add_argument("--debug", action="store_true",
                        help="show tracebacks, of this command and of failing tasks (sets STORYBUILD_DEBUG=1)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, summary: str, description: str) -> argparse.ArgumentParser:
        return commands.add_parser(name, help=summary, description=description, epilog=EXAMPLES[name],
                                   formatter_class=formatter)

    check = command("check", "check every story, its settings and its backends without building",
                    "Parse every story and its settings, check voices, languages, characters and backend"
                    " options, and ask each backend whether it is ready (remote ones ask their server)."
                    " Exits 1 if any story would fail to build.")
    check.add_argument("--strict", action="store_true", help="treat warnings as errors")
    check.set_defaults(run=_check)
    reroll = command("reroll", "regenerate one artifact with a new seed",
                     "Record a new seed for one artifact in stories/<story>/seeds.toml (commit it), so the next"
                     " build regenerates that artifact and what depends on it, and every later build keeps it.")
    reroll.add_argument("stage", choices=REROLLABLE)
    reroll.add_argument("target", metavar="STORY/ITEM", help="e.g. lighthouse/harbor")
    reroll.add_argument("--seed", type=int, help="use this seed offset instead of the next one")
    reroll.set_defaults(run=_reroll)
    cache = command("cache", "the artifact cache: size, clear, and the shared cache (push, pull, status)",
                    "The content-addressed cache brings back cleaned or reverted artifacts without"
                    " generating them again. `info` shows its size and hit rate, `gc` evicts least recently"
                    " used entries that no build file links to, `clear` empties it. With [cache] remote"
                    " set, `push` uploads entries the shared cache lacks, `pull --story S` builds S from the"
                    " caches alone (generating nothing), `status` says where each artifact built here is.")
    cache.add_argument("action", choices=("info", "clear", "gc", "push", "pull", "status"))
    cache.add_argument("--story", help="only this story's artifacts")
    cache.add_argument("--max-size",
                       help="gc: evict least recently used entries until the cache fits (20GB, 500MiB)")
    cache.add_argument("--older-than", help="gc: evict entries unused for this long (30d, 12h)")
    cache.add_argument("--dry-run", action="store_true", help="gc: say what would go, remove nothing")
    cache.set_defaults(run=_cache)
    explain = command("explain", "say why a task would run (or how it last ran)",
                      "Compare a task's recipe, file deps and targets with what doit recorded at its last"
                      " success: the recipe field that changed (old and new value), the file that changed"
                      " (old and new digest), a missing target, a reroll, or never built; a stale task it"
                      " depends on is explained under it. Builds nothing.")
    explain.add_argument("task", nargs="+", metavar="STAGE:STORY[/ITEM]", help="e.g. scene:lighthouse/harbor")
    explain.set_defaults(run=_explain)
    prune = command("prune", "remove build files that no current task makes",
                    "Remove files under build/<story>/ that no current task makes (removed lines, cues and"
                    " scenes), temp files a killed build left, and, after asking, the build folders of"
                    " stories that no longer exist. Broken stories' folders are left alone.")
    prune.add_argument("--dry-run", action="store_true", help="list what would be removed; remove nothing")
    prune.add_argument("--yes", action="store_true", help="remove deleted stories' build folders without asking")
    prune.set_defaults(run=_prune)
    from .ci import add_commands as add_ci
    from .publish.commands import add_commands as add_publishing
    from .serve.commands import add_commands as add_serving

    add_ci(commands)
    add_publishing(commands)
    add_serving(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the ``storybuild`` command."""
    args = _parser().parse_args(argv)
    if args.debug:
        os.environ["STORYBUILD_DEBUG"] = "1"
    try:
        return args.run(args)
    except StorybuildError as exc:
        if args.debug:
            traceback.print_exc()
        print(f"storybuild: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("storybuild: stopped", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - a bug: say so briefly unless asked for the details
        if args.debug:
            raise
        print(f"storybuild: internal error: {type(exc).__name__}: {exc} (--debug shows the traceback)",
              file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
