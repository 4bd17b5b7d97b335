"""A GitHub Actions workflow that rebuilds only the stories a push or pull request changed.

It is three commands any CI can run: ``storybuild changed`` names the stories, a matrix job per
story runs ``doit final_mp4:<story>`` with the remote cache (so it generates only what no machine
made before), and ``storybuild cache push`` shares what it made. Pull requests from forks get
the cache read-only. Actions are pinned by commit SHA (a popular changed-files action was
compromised in March 2025); the tag each SHA was is in a comment beside it.
"""

from __future__ import annotations

# Resolved from each action's repository tags; bump deliberately, with the tag beside the SHA.
PINNED = {
    "actions/checkout": ("3d3c42e5aac5ba805825da76410c181273ba90b1", "v7.0.1"),
    "actions/setup-python": ("5fda3b95a4ea91299a34e894583c3862153e4b97", "v7.0.0"),
    "actions/upload-artifact": ("bbbca2ddaa5d8feaa63e36b76fdaad77386f024f", "v7.0.0"),
}

__all__ = ["PINNED", "github_workflow"]


def _uses(action: str) -> str:
    sha, tag = PINNED[action]
    return f"{action}@{sha}  # {tag}"


def github_workflow(*, install: str = "pip install 'storybuild[s3]'", python: str = "3.11", branch: str = "main") -> str:
    """The workflow file's text (YAML) for a storybuild project at the repository root."""
    return f"""# Written by `storybuild ci github`. Rebuilds only the stories whose inputs changed.
# Secrets: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (and AWS_ENDPOINT_URL for MinIO/R2/B2) for the
# remote cache named by cache.remote in storybuild.toml. Without them builds run with no shared cache.
name: storybuild

on:
  push:
    branches: [{branch}]
  pull_request:

permissions:
  contents: read

jobs:
  changes:
    runs-on: ubuntu-latest
    outputs:
      matrix: ${{{{ steps.changed.outputs.matrix }}}}
      any: ${{{{ steps.changed.outputs.any }}}}
    steps:
      - uses: {_uses("actions/checkout")}
        with:
          fetch-depth: 0
      - uses: {_uses("actions/setup-python")}
        with:
          python-version: "{python}"
      - run: {install}
      - id: changed
        env:
          BASE: ${{{{ github.event.pull_request.base.sha || github.event.before }}}}
        run: |
          if [ -z "$BASE" ] || ! git cat-file -e "$BASE^{{commit}}" 2>/dev/null; then
            BASE=$(git hash-object -t tree /dev/null)  # first push: every story is new
          fi
          storybuild changed --since "$BASE" --format matrix > changed.json
          echo "matrix=$(cat changed.json)" >> "$GITHUB_OUTPUT"
          python -c "import json; print('any=' + str(json.load(open('changed.json'))['any']).lower())" >> "$GITHUB_OUTPUT"

  build:
    needs: changes
    if: needs.changes.outputs.any == 'true'
    runs-on: ubuntu-latest
    strategy:
      fail-fast: false
      matrix:
        story: ${{{{ fromJSON(needs.changes.outputs.matrix).story }}}}
    env:
      AWS_ACCESS_KEY_ID: ${{{{ secrets.AWS_ACCESS_KEY_ID }}}}
      AWS_SECRET_ACCESS_KEY: ${{{{ secrets.AWS_SECRET_ACCESS_KEY }}}}
      AWS_ENDPOINT_URL: ${{{{ secrets.AWS_ENDPOINT_URL }}}}
      # Pull requests from forks read the shared cache but never write to it.
      STORYBUILD_CACHE_REMOTE_MODE: ${{{{ github.event.pull_request.head.repo.fork && 'read' || 'read-write' }}}}
    steps:
      - uses: {_uses("actions/checkout")}
      - uses: {_uses("actions/setup-python")}
        with:
          python-version: "{python}"
      - run: {install}
      - run: doit -n 2 "final_mp4:${{{{ matrix.story }}}}"
      - if: env.STORYBUILD_CACHE_REMOTE_MODE == 'read-write'
        run: storybuild cache push --story "${{{{ matrix.story }}}}"
      - uses: {_uses("actions/upload-artifact")}
        with:
          name: ${{{{ matrix.story }}}}
          path: |
            build/${{{{ matrix.story }}}}/final.mp4
            build/${{{{ matrix.story }}}}/thumbnail.png
            build/${{{{ matrix.story }}}}/story.srt
"""


def _changed(args) -> int:
    from pathlib import Path

    from .changes import changed_stories, format_changed

    print(format_changed(changed_stories(Path(args.root).resolve(), args.since), args.format))
    return 0


def _ci(args) -> int:
    from pathlib import Path

    from .store.atomic import write_text

    target = Path(args.root).resolve() / ".github" / "workflows" / "storybuild.yml"
    if target.exists() and not args.force:
        print(f"storybuild: {target} exists; --force replaces it")
        return 1
    write_text(target, github_workflow(install=args.install, python=args.python, branch=args.branch))
    print(f"wrote {target}; commit it, and set the AWS_* secrets for the remote cache (docs/ci.md)")
    return 0


def add_commands(commands) -> None:
    """``storybuild changed`` and ``storybuild ci github``."""
    import argparse

    formatter = argparse.RawDescriptionHelpFormatter
    changed = commands.add_parser(
        "changed", help="name the stories whose build inputs changed since a git ref",
        description="Compare each story's input digest (its files, effective settings, the workflow and"
        " prompt templates it uses, the storybuild version) at a git ref and now, and print the stories"
        " that differ.", formatter_class=formatter,
        epilog="examples:\n  storybuild changed --since origin/main\n"
        "  storybuild changed --since HEAD~1 --format matrix   {\"story\": [...], \"any\": true} for a CI matrix",
    )
    changed.add_argument("--since", required=True, metavar="REF", help="a git commit, branch or tag")
    changed.add_argument("--format", choices=("lines", "matrix"), default="lines",
                         help="one slug a line (default), or JSON for a CI matrix")
    changed.set_defaults(run=_changed)
    ci = commands.add_parser(
        "ci", help="write a CI workflow that rebuilds only changed stories",
        description="Write .github/workflows/storybuild.yml: one job finds the changed stories, a matrix job"
        " per story builds final_mp4 with the remote cache and pushes what it made.",
        formatter_class=formatter, epilog="examples:\n  storybuild ci github\n"
        "  storybuild ci github --install \"pip install -r requirements.txt\" --force",
    )
    ci.add_argument("provider", choices=("github",))
    ci.add_argument("--install", default="pip install 'storybuild[s3]'", help="how the runners install storybuild")
    ci.add_argument("--python", default="3.11")
    ci.add_argument("--branch", default="main", help="pushes to this branch rebuild what changed")
    ci.add_argument("--force", action="store_true", help="replace an existing workflow file")
    ci.set_defaults(run=_ci)
