"""What the ComfyUI tests share besides fixtures: the loopback server's node classes, counts, contexts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from servers.comfyui import ComfyUIServer
from servers.comfyui_nodes import DEFAULT_NODES
from storybuild.backends.context import JobContext
from storybuild.backends.workflow import SHIPPED

MODEL_SUFFIXES = (".safetensors", ".ckpt", ".pt", ".pth", ".gguf", ".bin")
LORAS = ("ada.safetensors", "bo.safetensors")  # character LoRAs the loopback server "has"
_UPLOADED = {("LoadImage", "image"), ("LoadAudio", "audio")}


def _kind(value: Any) -> Any:
    if isinstance(value, bool):
        return "BOOLEAN"
    if isinstance(value, int):
        return "INT"
    if isinstance(value, float):
        return "FLOAT"
    return "STRING"


def shipped_node_classes() -> dict[str, dict]:
    """DEFAULT_NODES plus every class the shipped templates use, as the loopback server declares them."""
    classes: dict[str, dict] = {}
    outputs: dict[str, int] = {}
    for path in sorted(SHIPPED.glob("*.json")):
        if path.name.endswith(".params.json"):
            continue
        template = json.loads(path.read_text())
        mapping = json.loads(path.with_name(path.stem + ".params.json").read_text())
        for node_id, node in template.items():
            cls = node["class_type"]
            spec = classes.setdefault(cls, {"required": {}, "optional": {}, "output": []})
            for name, value in node["inputs"].items():
                if (cls, name) in _UPLOADED:
                    spec["required"][name] = "@input"
                elif isinstance(value, list):
                    spec["optional"][name] = "ANY"
                    outputs[template[value[0]]["class_type"]] = max(outputs.get(template[value[0]]["class_type"], 0), value[1] + 1)
                elif isinstance(value, str) and value.endswith(MODEL_SUFFIXES):
                    known = spec["required"].get(name)
                    spec["required"][name] = sorted({*(known if isinstance(known, list) else []), value})
                else:
                    spec["required"][name] = _kind(value)
            if node_id == mapping["output"]:
                spec["output_node"] = True
    for cls, count in outputs.items():
        classes[cls]["output"] = ["ANY"] * count
    classes["LoraLoader"]["required"]["lora_name"] += list(LORAS)
    return {**json.loads(json.dumps(DEFAULT_NODES)), **classes}


def submitted(server: ComfyUIServer) -> int:
    """How many POST /prompt the server accepted in all."""
    return sum(server.submissions.values())


def prompts_of(server: ComfyUIServer, class_type: str, since: int = 0) -> list[dict]:
    """The accepted prompts (since the ``since``-th) that contain a node of ``class_type``."""
    return [body["prompt"] for body in server.prompts[since:]
            if any(node["class_type"] == class_type for node in body["prompt"].values())]


def context(tmp_path: Path, key: str) -> JobContext:
    """A job context as artifact.run makes one: the key, a state folder, a progress sink."""
    return JobContext(stage="test", item=key, key=key, state_dir=tmp_path / "state", progress=lambda text: None)
