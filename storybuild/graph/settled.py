"""Settled stories: a `doit` run leaves out the stories whose last build still holds.

doit decides what is stale by creating every task and checking each one; over hundreds of
stories that is nearly all of a no-op. When a run ends, storybuild writes a stamp per story it
made tasks for: the stages whose every task of that story ended built or up to date, the project
context (settings file, environment, storybuild's own files, voice and template folders), and the
identity of every file the story's tasks read or write: size, mtime, ctime and inode. A later run
that asks only for settled stages, of a story whose files all still match, creates no task for
it: a few stat calls instead of parsing the story and checking its tasks. Any mismatch, and any
doit command but `run` (`list`, `info`, `clean`, `forget`...), makes the story's tasks as usual,
so what doit says and does is the same with or without a stamp.

A same-size rewrite with its mtime put back still changes the ctime (and a rename, the inode), so
correctness never rests on the mtime alone. A story named on the command line
(``doit scene:lighthouse/harbor``), ``-a``, a glob or a target path turn the skipping off for what
they name. Stamps live in doit's own DB file (table ``settled``): deleting it forgets them too,
and ``doit forget`` / ``doit ignore`` drop the stamp of every story they touch.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..store.db import SETTLED_SCHEMA
from ..store.hashing import digest
from ..store.hashing import file_digest as _digest_of

if TYPE_CHECKING:
    from .project import Project, StoryEntry

__all__ = ["Settled", "doit_run", "identity", "observe"]

_FORMAT = 1
# Stages whose result lives outside the files (a video on YouTube): always asked again.
_NEVER_SETTLED = frozenset({"publish"})
# Environment variables whose values can change what a task makes (the rest cannot reach a recipe).
_ENV_PREFIXES = ("STORYBUILD_", "COMFYUI_", "LM_STUDIO_")
_ENV_SHOWN_ONLY = frozenset({"STORYBUILD_DEBUG", "STORYBUILD_EXPLAIN"})  # change what is printed, not made
_BUSY_TIMEOUT_S = 10.0

Identity = tuple[int, int, int, int]  # size, mtime_ns, ctime_ns, inode
MISSING: Identity = (-1, 0, 0, 0)

# What each target looked like, and its digest, when this process last found it intact or made it.
_observed: dict[str, tuple[Identity, str]] = {}


def identity(path: str | os.PathLike[str]) -> Identity:
    """The stat fields that change whenever a file's bytes can have changed."""
    try:
        st = os.stat(path)
    except OSError:
        return MISSING
    return st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino


def observe(path: str, ident: Identity, file_digest: str) -> None:
    """Note that ``path`` was found intact (or made) with ``ident``: the stamp records that, not a later stat."""
    _observed[path] = (ident, file_digest)


def _ctime_alone_moved(old: Any, new: Any) -> bool:
    """Two [size, mtime, ctime, inode, ...] records differ in the ctime alone: a link to the same
    cache entry does that (the link count is in the inode), and so does an in-place rewrite with the
    mtime put back; only the bytes' digest tells them apart."""
    return (old[0], old[1], old[3]) == (new[0], new[1], new[3])


def _as_observed(path: str, now: Identity) -> list[Any]:
    """What a stamp records for target ``path``: its identity (and digest) as last seen intact, or now if still intact.

    Only the ctime moved (another story's target linked to the same cache entry, which changes the
    link count): the digest tells whether the bytes are still the ones seen.
    """
    seen = _observed.get(path)
    if seen is None:
        return list(now)
    ident, known = seen
    if ident == now:
        return [*now, known]
    if _ctime_alone_moved(ident, now):
        try:
            if _digest_of(path) == known:
                return [*now, known]
        except OSError:
            pass
    return [*ident, known]


@dataclass
class DoitRun:
    """What the running ``doit run`` was asked: its positional arguments and the options that matter."""

    args: list[str]
    default_tasks: list[str]
    always: bool
    db: Path | None  # the storybuild sqlite DB, None with another backend
    key: int = 0  # tells one run from the next in a process that runs doit several times (serve)


def doit_run() -> DoitRun | None:
    """The ``doit run`` command creating tasks right now, or None (another command, or no doit at all).

    doit gives task creators no word about the command, so this reads it from doit's own frame
    (``DoitCmdBase.execute(self, params, args)``, the same in doit 0.36 and 0.37). Anything
    unexpected means None, and None means no story is left out: the safe answer.
    """
    try:
        from doit.cmd_run import Run
    except ImportError:  # pragma: no cover - doit is a dependency
        return None
    frame = sys._getframe(1)
    while frame is not None:
        code = frame.f_code
        if code.co_name == "execute" and code.co_filename.endswith(os.path.join("doit", "cmd_base.py")):
            cmd, params, args = (frame.f_locals.get(k) for k in ("self", "params", "args"))
            if not isinstance(cmd, Run) or not getattr(cmd, "execute_tasks", False) or params is None:
                return None
            try:
                backend, dep_file = params.get("backend"), params.get("dep_file")
                db = Path(dep_file) if backend == "storybuild" and dep_file else None
                return DoitRun(
                    args=[str(a) for a in (args or [])], default_tasks=list(params.get("default_tasks") or []),
                    always=bool(params.get("always")), db=db, key=id(params),
                )
            except Exception:  # noqa: BLE001 - an unknown doit: make every task
                return None
        frame = frame.f_back
    return None


@dataclass
class _Request:
    """Which stages a run asks for, and which stories it names (never left out)."""

    stages: set[str] = field(default_factory=set)
    named: set[str] = field(default_factory=set)
    usable: bool = True


def _request(run: DoitRun, stages: Iterable[str]) -> _Request:
    known = set(stages)
    request = _Request()
    if run.always:
        request.usable = False
    for arg in run.args or run.default_tasks:
        basename, colon, rest = arg.partition(":")
        if arg.startswith("-") or any(c in arg for c in "*?[") or basename not in known:
            request.usable = False  # a task option, a glob, a target path or `validate`: make every task
        elif colon:
            request.named.add(rest.split("/")[0])
        else:
            request.stages.add(basename)
    return request


class Settled:
    """The stamps of one project for one ``doit run``: which stories it may leave out, and writing them back."""

    def __init__(self, project: Project, run: DoitRun | None, stages: Iterable[str]) -> None:
        self.project = project
        self.run = run
        self.request = _request(run, stages) if run else _Request(usable=False)
        self.db = run.db if run else None
        self._context: str | None = None
        self._snapshots: dict[str, list[Any]] = {}
        self._externals: dict[str, list[Any]] = {}
        self._verdicts: dict[str, bool] = {}
        self._conn: sqlite3.Connection | None = None
        self._stat_cache: dict[str, Identity] = {}
        self._hashed: dict[tuple[int, ...], str] = {}
        self._root = str(project.root)
        self.left_out = 0  # settled stories this run created no task for
        self._matched: dict[str, dict[str, Any]] = {}  # stamps that held when this run began

    @property
    def active(self) -> bool:
        """Whether this is a ``doit run`` whose stamps are read and written."""
        return self.run is not None and self.db is not None

    # -- the decision --------------------------------------------------------------------------
    def skips(self, slug: str) -> bool:
        """Whether this run creates no task for story ``slug`` (decided once per story)."""
        verdict = self._verdicts.get(slug)
        if verdict is None:
            verdict = self._verdicts[slug] = self._decide(slug)
        return verdict

    def _decide(self, slug: str) -> bool:
        if not self.active:
            return False
        # Taken before the story is parsed, so an edit made while the build runs shows next time.
        snapshot = self._snapshots[slug] = self._story_files(slug)
        request = self.request
        if request.usable and not request.stages and slug not in request.named:
            del self._snapshots[slug]
            return True  # the run names only other stories' tasks: this one is not needed
        stamp = self._read(slug)
        if (
            stamp is None or stamp.get("format") != _FORMAT or stamp.get("context") != self.context()
            or stamp.get("story") != snapshot or not all(map(self._holds, stamp.get("files", ())))
        ):
            return False
        if request.usable and slug not in request.named and request.stages <= set(stamp.get("stages", ())):
            self.left_out += 1
            del self._snapshots[slug]  # kept only for the stories this run stamps
            return True
        # Nothing changed since the stamp: what it settled still is, unless this run changes its files.
        self._matched[slug] = stamp
        return False

    def _holds(self, recorded: list[Any]) -> bool:
        """Whether a stamp's file entry [path, size, mtime, ctime, inode(, digest)] still describes the file.

        Only the ctime moved, with a digest recorded: another story linked the same cache entry (a
        link changes the ctime of every name of the file), or the bytes were rewritten in place
        with the mtime put back. The digest tells which; one hash per file per run.
        """
        path = recorded[0]
        try:
            st = os.stat(os.path.join(self._root, path))
        except OSError:
            return recorded[1] == MISSING[0]
        if (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino) == tuple(recorded[1:5]):
            return True
        now = (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
        if len(recorded) < 6 or not _ctime_alone_moved(recorded[1:5], now):
            return False
        known = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
        found = self._hashed.get(known)
        if found is None:
            try:
                found = self._hashed[known] = _digest_of(os.path.join(self._root, path))
            except OSError:
                return False
        return found == recorded[5]

    def context(self) -> str:
        """The digest of what every story's tasks depend on beyond its own files."""
        if self._context is None:
            root = self.project.root
            from .. import __version__

            try:
                import doit

                doit_version = doit.__version__
            except (ImportError, AttributeError):  # pragma: no cover
                doit_version = "?"
            package = Path(__file__).resolve().parents[1]
            self._context = digest({
                "format": _FORMAT, "storybuild": __version__, "doit": doit_version, "python": sys.version,
                "settings": _identities(root, [root / "storybuild.toml"]),
                "env": sorted((k, v) for k, v in os.environ.items()
                              if k.startswith(_ENV_PREFIXES) and k not in _ENV_SHOWN_ONLY),
                # Recipes, prompts and shipped templates are storybuild's files: an edit to them is a new recipe.
                "package": _tree(package, follow=True, with_ctime=False),
                "voices": _tree(root / "voices"), "workflows": _tree(root / "workflows"),
            })
        return self._context

    def _story_files(self, slug: str) -> list[Any]:
        return _tree(self.project.path(self.project.settings.stories_dir) / slug)

    def _stat(self, path: str) -> Identity:
        found = self._stat_cache.get(path)
        if found is None:
            found = self._stat_cache[path] = identity(self.project.path(path))
        return found

    # -- recording -----------------------------------------------------------------------------
    def note(self, entry: StoryEntry) -> None:
        """Record, as the story's tasks are made, the outside files its settings and tasks read."""
        if not self.active or entry.artifacts is None:
            return
        self._snapshots.setdefault(entry.slug, self._story_files(entry.slug))
        source = entry.layout.source_dir.rstrip("/") + "/"
        targets = {t for artifacts in entry.artifacts.values() for a in artifacts for t in a.targets.values()}
        outside = {
            dep for artifacts in entry.artifacts.values() for a in artifacts for dep in (*a.inputs, *a.deps)
            if dep not in targets and not dep.startswith(source)
        }
        outside.update(_named_files(self.project, entry))
        self._externals[entry.slug] = [[path, *self._stat(path)] for path in sorted(outside)]

    def write(self, ok: set[str], built: set[str], stopped: bool) -> None:
        """Stamp every story this run made tasks for, with the stages whose tasks all ended well.

        ``ok`` are the tasks that ended built or up to date, ``built`` those that ran. A story whose
        stamp matched when the run began and that had no task run keeps the stages it had settled.
        """
        if not self.active or stopped or not self._externals:
            return
        ran = {name.partition(":")[2].split("/")[0] for name in built}
        rows = []
        for slug in self._externals:
            entry = self.project.entry(slug)
            made = entry.artifacts
            if made is None or entry.error is not None:
                continue
            stages = {
                name for name, artifacts in made.items()
                if name not in _NEVER_SETTLED and all(f"{name}:{a.item}" in ok for a in artifacts)
            }
            files = list(self._externals[slug])
            before = {path: state for path, *state in self._matched.get(slug, {}).get("files", ())}
            for target in sorted({t for artifacts in made.values() for a in artifacts for t in a.targets.values()}):
                state = _as_observed(target, identity(os.path.join(self._root, target)))
                old = before.get(target)
                if len(state) == 4 and old is not None and len(old) > 4 and old[:4] == state:
                    state.append(old[4])  # not seen by this run, unchanged since the stamp: its digest holds
                files.append([target, *state])
            if slug in self._matched:
                stages |= _still_settled(self._matched[slug], files, made, ran=slug in ran)
            stamp = {"format": _FORMAT, "context": self.context(), "stages": sorted(stages),
                     "story": self._snapshots.get(slug, []), "files": files}
            rows.append((slug, json.dumps(stamp, separators=(",", ":"))))
        if rows:
            with self._connect() as conn:
                conn.executemany("INSERT OR REPLACE INTO settled VALUES (?, ?)", rows)
        self.close()

    # -- the table -----------------------------------------------------------------------------
    def _read(self, slug: str) -> dict[str, Any] | None:
        if self.db is None or not self.db.exists():
            return None
        try:
            row = self._connect().execute("SELECT stamp FROM settled WHERE story = ?", (slug,)).fetchone()
            return json.loads(row[0]) if row else None
        except (sqlite3.Error, ValueError):
            return None  # no table yet, or an unreadable stamp: make the tasks

    def _connect(self) -> sqlite3.Connection:
        if self._conn is None:
            assert self.db is not None
            self.db.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(self.db, timeout=_BUSY_TIMEOUT_S, check_same_thread=False)
            self._conn.execute(SETTLED_SCHEMA)
        return self._conn

    def close(self) -> None:
        """Close the DB connection (a later use opens it again)."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def _still_settled(old: dict[str, Any], files: list[list[Any]], made: dict[str, list[Any]], ran: bool) -> set[str]:
    """The stages ``old`` settled whose every file, theirs and their dependencies', is as it recorded.

    A run that asked for other stages (``doit subtitles`` after ``doit final_wav``) leaves what it
    did not touch settled: only a stage whose own or upstream files this run changed must be checked.
    """
    settled = set(old.get("stages", ()))
    if not ran:
        return settled
    before = {path: ident for path, *ident in old.get("files", ())}
    after = {path: ident for path, *ident in files}
    producer = {t: a for artifacts in made.values() for a in artifacts for t in a.targets.values()}
    by_name = {f"{a.stage}:{a.item}": a for artifacts in made.values() for a in artifacts}
    kept = set()
    for stage in settled & set(made):
        todo, seen, paths = list(made[stage]), set(), set()
        while todo:
            artifact = todo.pop()
            if id(artifact) in seen:
                continue
            seen.add(id(artifact))
            paths.update(artifact.targets.values())
            for dep in (*artifact.inputs, *artifact.deps):
                paths.add(dep)
                if dep in producer:
                    todo.append(producer[dep])
            todo.extend(by_name[name] for name in artifact.after if name in by_name)
        if all(path not in after or _same(before.get(path), after[path]) for path in paths):
            kept.add(stage)
    return kept


def _same(old: list[Any] | None, new: list[Any]) -> bool:
    """Two recorded states of a file are the same bytes: equal, or equal but for the ctime with one digest."""
    if old is None:
        return False
    if old[:4] == new[:4]:
        return True
    return len(old) > 4 and len(new) > 4 and old[4] == new[4] and _ctime_alone_moved(old, new)


def _tree(folder: Path, follow: bool = False, with_ctime: bool = True) -> list[Any]:
    """Every file under ``folder`` as [relative path, size, mtime_ns(, ctime_ns, inode)], sorted."""
    found = []
    for path in _walk(folder, follow):
        try:
            st = os.stat(path)
        except OSError:
            continue
        rel = os.path.relpath(path, folder)
        found.append([rel, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino] if with_ctime
                     else [rel, st.st_size, st.st_mtime_ns])
    found.sort()
    return found


def _walk(folder: Path, follow: bool) -> Iterator[str]:
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=follow):
        dirnames[:] = [d for d in dirnames if d != "__pycache__" and not d.startswith(".")]
        for name in filenames:
            if not name.startswith(".") or ".tmp" not in name:
                yield os.path.join(dirpath, name)


def _identities(root: Path, paths: Iterable[Path]) -> list[Any]:
    return [[os.path.relpath(p, root), *identity(p)] for p in paths]


def _named_files(project: Project, entry: StoryEntry) -> set[str]:
    """Root-relative files the story's settings name (voice samples, music, workflow templates)."""
    found: set[str] = set()
    stack: list[Any] = [entry.settings.model_dump(mode="json") if entry.settings else {}]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, str) and 0 < len(value) < 512 and "\n" not in value and "://" not in value:
            for base in (project.path(entry.layout.source_dir), project.root):
                candidate = base / value
                try:
                    if candidate.is_file():
                        found.add(os.path.relpath(candidate, project.root))
                        # A workflow template's map sits beside it.
                        for sibling in candidate.parent.glob(candidate.stem + ".*"):
                            found.add(os.path.relpath(sibling, project.root))
                except (OSError, ValueError):
                    continue
    source = entry.layout.source_dir.rstrip("/") + "/"
    return {path for path in found if not path.startswith(source)}
