"""``storybuild explain <stage>:<item>``: why a task would run, or what its last run did.

It compares the task's *definition* as the project gives it now (recipe, file deps, targets) with
the *record* doit saved at its last success: the recipe itself (``artifact.run`` returns it as a
task value, so the DB row holds it beside its digest), each file dep's ``[mtime_ns, size, xxh3]``,
and whether the targets still exist. A stale upstream task is followed, since its new output will
change this task's inputs. Nothing is built and doit's state is only read.
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from typing import Any

from .errors import StorybuildError
from .graph.artifact import targets_intact
from .store import journal
from .store.hashing import digest, file_digest

# The value doit saves for every task under these keys (see graph.artifact).
_VALUES = "_values_:"
_RECIPE_DIGEST = "_config_changed"


def saved_rows(db: Path, task_ids: list[str]) -> dict[str, dict[str, Any]]:
    """doit's saved state of ``task_ids`` (those it has), read without taking part in a build."""
    if not db.is_file():
        return {}
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        marks = ",".join("?" * len(task_ids))
        rows = conn.execute(f"SELECT task_id, task_data FROM doit WHERE task_id IN ({marks})", task_ids)
        return {task_id: json.loads(text) for task_id, text in rows if text}
    finally:
        conn.close()


def _flat(value: Any, prefix: str = "") -> dict[str, Any]:
    """``value`` as dotted paths to leaves, so a change names the one field that moved."""
    if isinstance(value, (dict, list)) and value:
        out: dict[str, Any] = {}
        for key, item in (sorted(value.items()) if isinstance(value, dict) else enumerate(value)):
            out.update(_flat(item, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: value}


def _shown(value: Any) -> str:
    text = json.dumps(value, default=str, ensure_ascii=False)
    shown = text if len(text) <= 70 else text[:67] + "..."
    return f"{shown} (xxh3 {digest(value)[:12]})" if isinstance(value, str) else shown


def recipe_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """One line per recipe field that differs: name, old value, new value."""
    before, after = _flat(old), _flat(json.loads(json.dumps(new, default=str)))
    lines = []
    for name in sorted(before.keys() | after.keys()):
        if before.get(name, ...) == after.get(name, ...):
            continue
        was = _shown(before[name]) if name in before else "(absent)"
        now = _shown(after[name]) if name in after else "(absent)"
        label = "reroll (seeds.toml)" if name.split(".")[-1] == "seed" else "recipe"
        lines.append(f"{label} {name}: {was} -> {now}")
    return lines


def _file_change(path: str, state: Any) -> str:
    """Why file dep ``path`` counts as changed against its saved ``[mtime_ns, size, xxh3]``; empty if not."""
    try:
        stat = os.stat(path)
    except OSError:
        return f"dependency missing: {path}"
    if not isinstance(state, list) or len(state) != 3:
        return f"new dependency: {path} (no saved state)"
    mtime_ns, size, old = state
    if stat.st_mtime_ns == mtime_ns:
        return ""
    new = file_digest(path)
    if stat.st_size == size and new == old:
        return ""
    return f"file changed: {path} (xxh3 {str(old)[:12]} -> {new[:12]}, {size} -> {stat.st_size} bytes)"


def reasons(artifact: Any, row: dict[str, Any] | None) -> list[str]:
    """Why ``artifact``'s task would run against its saved ``row``; empty if it is up to date."""
    if not row:
        return ["never built (no record in doit's state DB)"]
    found = [f"target missing: {path}" for path in artifact.targets.values() if not os.path.exists(path)]
    values = row.get(_VALUES) or {}
    for path, state in (values.get("targets") or {}).items():
        if os.path.exists(path) and not targets_intact({path: state}):
            found.append(f"target changed since it was made: {path} (digest {state[4][:12]} -> {file_digest(path)[:12]})")
    new_digest = digest(artifact.recipe)
    if values.get(_RECIPE_DIGEST) != new_digest:
        old = values.get("recipe")
        if isinstance(old, dict):
            found += recipe_changes(old, artifact.recipe) or ["recipe changed (same fields, other form)"]
        else:
            found.append(f"recipe changed: digest {str(values.get(_RECIPE_DIGEST))[:12]} -> {new_digest[:12]}"
                         " (the old recipe was not recorded)")
    for path in sorted({*artifact.inputs, *artifact.deps}):
        change = _file_change(path, row.get(path))
        if change:
            found.append(change)
    return found


def explain(project: Any, task: str) -> list[str]:
    """What to print for ``storybuild explain <task>``."""
    import storybuild.graph  # noqa: F401 - declares every stage

    from .graph.stage import STAGES, error_message, story_artifacts

    stage, _, item = task.partition(":")
    if stage not in STAGES or not item:
        raise StorybuildError(f"explain takes <stage>:<story>[/<item>] with a stage of {', '.join(STAGES)}")
    slug = item.partition("/")[0]
    if slug not in project.slugs:
        raise StorybuildError(f"no story {slug!r}")
    entry = project.entry(slug)
    made = story_artifacts(project, entry)
    if made is None:
        return [f"{task}: the story cannot be built: {error_message(entry)}"]
    chosen = [a for a in made[stage] if a.item == item or (item == slug and a.item.startswith(f"{slug}/"))]
    if not chosen:
        raise StorybuildError(f"{stage} of {slug} has no item {item!r}")
    by_target = {os.path.normpath(t): a for arts in made.values() for a in arts for t in a.targets.values()}
    db = project.path(project.settings.state_dir) / "doit.sqlite3"
    rows = saved_rows(db, [f"{a.stage}:{a.item}" for arts in made.values() for a in arts])
    return [line for artifact in chosen for line in _explained(artifact, rows, by_target, project, set())]


def why_running(project: Any, task: str) -> list[str]:
    """Why doit is about to run ``task``, for the build display (``STORYBUILD_EXPLAIN=1``); read before it runs."""
    from .graph.stage import STAGES

    stage, _, item = task.partition(":")
    slug = item.partition("/")[0]
    if stage not in STAGES or slug not in project.slugs:
        return []
    made = project.entry(slug).artifacts or {}
    artifact = next((a for a in made.get(stage, ()) if a.item == item), None)
    if artifact is None:
        return []
    db = project.path(project.settings.state_dir) / "doit.sqlite3"
    try:
        found = reasons(artifact, saved_rows(db, [task]).get(task))
    except (OSError, sqlite3.Error, ValueError) as exc:
        return [f"(no reason: {exc})"]
    return found or ["its record says up to date: asked to run anyway (-a, or a task option)"]


def _explained(artifact: Any, rows: dict, by_target: dict, project: Any, seen: set[str], depth: int = 0) -> list[str]:
    name = f"{artifact.stage}:{artifact.item}"
    seen.add(name)
    pad = "  " * depth
    found = reasons(artifact, rows.get(name))
    upstream = []
    for path in sorted({*artifact.inputs, *artifact.deps}):
        source = by_target.get(os.path.normpath(path))
        if source is not None and f"{source.stage}:{source.item}" not in seen:
            lines = _explained(source, rows, by_target, project, seen, depth + 1)
            upstream += lines
    if not found and not upstream:
        return [pad + f"{name}: up to date{_last_run(project, artifact)}"] if depth == 0 else []
    # doit reruns a task whose dependency ran only if the file it made differs.
    head = f"{name}: would run" if found else f"{name}: runs if what it depends on makes a different file"
    return [pad + head] + [pad + f"  - {reason}" for reason in found] + upstream


def _last_run(project: Any, artifact: Any) -> str:
    """When and how the task last ran, from the journal."""
    for record in reversed(journal.read(project.runtime.journal)):
        if record.get("stage") == artifact.stage and record.get("item") == artifact.item:
            return f" (last run {record.get('outcome')}, key {str(record.get('key'))[:12]})"
    return ""
