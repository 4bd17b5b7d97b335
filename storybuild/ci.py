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
