"""ComfyUI workflow templates and their parameter maps: load, identify, fill, and check.

A template is a workflow in ComfyUI's API format (``{"<node id>": {"class_type", "inputs"}}``);
its map, ``<name>.params.json`` beside it, says where each request field goes::

    {"fields": {"prompt": ["5", "text"], "duration": [["5", "seconds_total"], ["6", "seconds"]]},
     "output": "11",
     "optional_nodes": {"4": {"needs": "lora", "passthrough": ["model", "clip"]}},
     "frames_multiple": 8, "size_multiple": 32, "max_frames": 121, "min_duration": 1.0}

A field the template has no input for is simply absent. An optional node is removed when the
request has no value for the field it ``needs``: links to its output *i* are rewired to the link
in its input ``passthrough[i]``, or dropped when there is none, and nodes no output needs any more
are pruned. So one Flux template serves portraits with and without a character LoRA.
The identity (xxh3 of template + map) goes into every recipe: editing a workflow rebuilds exactly
what it makes.
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..store.hashing import digest

__all__ = ["FIELDS", "SHIPPED", "Workflow", "load_workflow", "resolve_workflow"]

#: Every request field a map may route; the preflight names those a map leaves out.
FIELDS = (
    "prompt", "negative", "seed", "width", "height", "frames", "fps", "image", "voice_sample",
    "reference_text", "voice_name", "lora", "lora_strength", "steps", "duration", "text",
)

#: The templates shipped with storybuild: package data when installed (``storybuild/workflows``,
#: a link to the repository's top-level ``workflows/`` in a checkout), else that folder itself.
_PACKAGED = Path(__file__).resolve().parents[1] / "workflows"
SHIPPED = _PACKAGED if _PACKAGED.is_dir() else Path(__file__).resolve().parents[2] / "workflows"

# Inputs the backend sets itself on the output node, so each job's files have a unique name.
_PREFIX_INPUT = "filename_prefix"


@dataclass(frozen=True)
class Workflow:
    """A loaded template and its map, validated against each other."""

    path: Path
    template: dict[str, Any]
    mapping: dict[str, Any]
    targets: dict[str, list[tuple[str, str]]] = field(default_factory=dict)

    @property
    def identity(self) -> str:
        """xxh3 of the canonical template + map: what recipes record of the workflow."""
        return digest({"template": self.template, "map": self.mapping})

    @property
    def output(self) -> str:
        """The id of the node whose output is the result."""
        return str(self.mapping["output"])

    def setting(self, name: str, default: Any = None) -> Any:
        """A constraint from the map (``frames_multiple``, ``size_multiple``, ``max_frames``...)."""
        return self.mapping.get(name, default)

    def has(self, name: str) -> bool:
        """Whether the template has an input for request field ``name``."""
        return name in self.targets

    def ignored(self, fields: Iterable[str]) -> list[str]:
        """The fields of ``fields`` this map routes nowhere."""
        return [name for name in fields if name not in self.targets]

    def fill(self, values: dict[str, Any], prefix: str | None = None) -> dict[str, Any]:
        """The prompt to submit: the template with ``values`` set and unneeded optional nodes removed.

        Values for fields the map ignores are dropped; a value of None counts as absent.
        """
        prompt = copy.deepcopy(self.template)
        present = {name for name, value in values.items() if value is not None}
        for node_id, spec in self.mapping.get("optional_nodes", {}).items():
            if spec["needs"] not in present and node_id in prompt:
                _bypass(prompt, node_id, spec.get("passthrough", []))
        for name, value in values.items():
            if value is None:
                continue
            for node_id, input_name in self.targets.get(name, []):
                if node_id in prompt:
                    prompt[node_id]["inputs"][input_name] = value
        _prune(prompt, self.output)
        if prefix is not None and _PREFIX_INPUT in prompt[self.output]["inputs"]:
            prompt[self.output]["inputs"][_PREFIX_INPUT] = prefix
        return prompt

    def requirements(self) -> list[tuple[str, str, str, Any]]:
        """(node id, class, input, value) of every literal input the request never sets.

        Model files among them must be in the server's choices for that input.
        """
        routed = {target for targets in self.targets.values() for target in targets}
        found = []
        for node_id, node in self.template.items():
            for name, value in node["inputs"].items():
                if (node_id, name) in routed or _is_link(value):
                    continue
                found.append((node_id, node["class_type"], name, value))
        return found

    def problems(self, object_info: dict[str, Any], server: str) -> list[str]:
        """What ``server`` lacks to run this workflow: node classes, then model files, by node id."""
        problems = []
        missing = sorted(
            {(node_id, node["class_type"]) for node_id, node in self.template.items()
             if node["class_type"] not in object_info}, key=lambda item: _order(item[0]),
        )
        for node_id, class_type in missing:
            problems.append(
                f"{self.path}: node {node_id} needs node class {class_type!r}, which ComfyUI at {server} "
                f"does not have: install the custom node pack that provides it and restart ComfyUI"
            )
        absent = {class_type for _, class_type in missing}
        for node_id, class_type, name, value in self.requirements():
            if class_type in absent or not isinstance(value, str):
                continue
            choices = _choices(object_info[class_type], name)
            if choices is not None and value not in choices:
                problems.append(
                    f"{self.path}: node {node_id} ({class_type}) input {name!r} = {value!r} is not "
                    f"available on ComfyUI at {server}: put the model file into ComfyUI's models folder, "
                    f"or change the template (choices include: {', '.join(map(str, choices[:5])) or 'none'})"
                )
        return problems


def _order(node_id: str) -> tuple[int, str]:
    return (int(node_id), "") if node_id.isdigit() else (1 << 30, node_id)


def _is_link(value: Any) -> bool:
    return isinstance(value, list) and len(value) == 2 and isinstance(value[0], str) and isinstance(value[1], int)


def _choices(info: dict[str, Any], name: str) -> list[Any] | None:
    """The allowed values of input ``name`` in a node's /object_info entry, if it is a choice."""
    inputs = info.get("input", {})
    spec = inputs.get("required", {}).get(name) or inputs.get("optional", {}).get(name)
    if not spec:
        return None
    kind = spec[0]
    if isinstance(kind, list):
        return kind
    if kind == "COMBO" and len(spec) > 1 and isinstance(spec[1], dict):
        return list(spec[1].get("options", []))
    return None


def _bypass(prompt: dict[str, Any], node_id: str, passthrough: list[str]) -> None:
    node = prompt.pop(node_id)
    for other in prompt.values():
        for name, value in list(other["inputs"].items()):
            if _is_link(value) and value[0] == node_id:
                index = value[1]
                source = node["inputs"].get(passthrough[index]) if index < len(passthrough) else None
                if source is None:
                    del other["inputs"][name]
                else:
                    other["inputs"][name] = copy.deepcopy(source)


def _prune(prompt: dict[str, Any], output: str) -> None:
    """Remove nodes the output does not depend on: ComfyUI would validate them for nothing."""
    needed, todo = set(), [output]
    while todo:
        node_id = todo.pop()
        if node_id in needed or node_id not in prompt:
            continue
        needed.add(node_id)
        todo.extend(v[0] for v in prompt[node_id]["inputs"].values() if _is_link(v))
    for node_id in [n for n in prompt if n not in needed]:
        del prompt[node_id]


def _targets(raw: Any, where: str) -> list[tuple[str, str]]:
    if isinstance(raw, list) and len(raw) == 2 and all(isinstance(x, str) for x in raw):
        return [(raw[0], raw[1])]
    if isinstance(raw, list) and raw and all(isinstance(x, list) and len(x) == 2 for x in raw):
        return [(str(a), str(b)) for a, b in raw]
    raise ConfigError(f"{where}: expected [node id, input name] or a list of them, not {raw!r}")


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: no such workflow file") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path}: not readable JSON: {exc}") from exc


def _validate(path: Path, template: Any, mapping: Any, map_path: Path) -> dict[str, list[tuple[str, str]]]:
    if not isinstance(template, dict) or "nodes" in template or not template:
        raise ConfigError(
            f"{path}: not a workflow in ComfyUI's API format; export it with 'Export (API)' in ComfyUI"
        )
    for node_id, node in template.items():
        if not isinstance(node, dict) or "class_type" not in node or not isinstance(node.get("inputs"), dict):
            raise ConfigError(f"{path}: node {node_id} has no class_type and inputs: not API format")
    if not isinstance(mapping, dict) or not isinstance(mapping.get("fields"), dict):
        raise ConfigError(f"{map_path}: a parameter map needs a \"fields\" object")
    targets = {}
    for name, raw in mapping["fields"].items():
        where = f"{map_path}: fields.{name}"
        if name not in FIELDS:
            raise ConfigError(f"{where}: unknown request field; known: {', '.join(FIELDS)}")
        targets[name] = _targets(raw, where)
        for node_id, input_name in targets[name]:
            if node_id not in template:
                raise ConfigError(f"{where}: {path} has no node {node_id}")
            if input_name not in template[node_id]["inputs"]:
                raise ConfigError(
                    f"{where}: node {node_id} ({template[node_id]['class_type']}) of {path} has no input "
                    f"{input_name!r}; give it a placeholder value in the template"
                )
    output = str(mapping.get("output", ""))
    if output not in template:
        raise ConfigError(f"{map_path}: \"output\" must name the node of {path} whose output is the result")
    for node_id, spec in mapping.get("optional_nodes", {}).items():
        if node_id not in template or spec.get("needs") not in FIELDS:
            raise ConfigError(f"{map_path}: optional_nodes.{node_id}: needs a node of {path} and a known field")
    return targets


def resolve_workflow(spec: str | Path, root: Path | None = None) -> Path:
    """The file a workflow option names: relative to the project first, then a shipped template."""
    spec = Path(spec)
    if spec.is_absolute():
        return spec
    local = (root or Path.cwd()) / spec
    if local.is_file():
        return local
    tail = Path(*spec.parts[1:]) if spec.parts and spec.parts[0] == "workflows" and len(spec.parts) > 1 else spec
    return SHIPPED / tail if (SHIPPED / tail).is_file() else local


_cache: dict[tuple[Path, float, float], Workflow] = {}
_lock = threading.Lock()


def load_workflow(spec: str | Path, root: Path | None = None) -> Workflow:
    """The workflow ``spec`` names, with its map; ConfigError naming the file if either is wrong."""
    path = resolve_workflow(spec, root)
    map_path = path.with_name(path.name.removesuffix(".json") + ".params.json")
    try:
        stamp = (path, path.stat().st_mtime, map_path.stat().st_mtime)
    except FileNotFoundError as exc:
        missing = path if not path.is_file() else map_path
        raise ConfigError(
            f"{missing}: no such file (workflow {str(spec)!r}; a template needs its .params.json map beside it)"
        ) from exc
    with _lock:
        if stamp not in _cache:
            template, mapping = _read_json(path), _read_json(map_path)
            targets = _validate(path, template, mapping, map_path)
            _cache[stamp] = Workflow(path=path, template=template, mapping=mapping, targets=targets)
        return _cache[stamp]
