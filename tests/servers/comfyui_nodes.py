"""The loopback ComfyUI's node classes: what /object_info shows and what POST /prompt validates against.

A class is a small dict: ``required``/``optional`` inputs (a type name such as "INT", a list of
allowed values such as the model files, or "@input" for a file in the input folder, as LoadImage
takes), its ``output`` types and whether it is an ``output_node``. Tests add or remove classes (a
missing custom node) and model files (a missing checkpoint) through ``Config.node_classes``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

_LATENT = {"width": "INT", "height": "INT", "batch_size": "INT"}
_SAMPLER = {"model": "MODEL", "seed": "INT", "steps": "INT", "cfg": "FLOAT",
            "sampler_name": ["euler", "euler_ancestral", "dpmpp_2m"], "scheduler": ["normal", "karras", "simple"],
            "positive": "CONDITIONING", "negative": "CONDITIONING", "latent_image": "LATENT", "denoise": "FLOAT"}

DEFAULT_NODES: dict[str, dict[str, Any]] = {
    "CheckpointLoaderSimple": {"required": {"ckpt_name": ["sd15.safetensors", "sdxl_base.safetensors"]},
                               "output": ["MODEL", "CLIP", "VAE"]},
    "UNETLoader": {"required": {"unet_name": ["flux1-schnell.safetensors", "wan2.1_i2v_480p.safetensors"],
                                "weight_dtype": ["default", "fp8_e4m3fn"]}, "output": ["MODEL"]},
    "CLIPTextEncode": {"required": {"text": "STRING", "clip": "CLIP"}, "output": ["CONDITIONING"]},
    "EmptyLatentImage": {"required": _LATENT, "output": ["LATENT"]},
    "EmptySD3LatentImage": {"required": _LATENT, "output": ["LATENT"]},
    "KSampler": {"required": _SAMPLER, "output": ["LATENT"]},
    "VAEDecode": {"required": {"samples": "LATENT", "vae": "VAE"}, "output": ["IMAGE"]},
    "SaveImage": {"required": {"images": "IMAGE", "filename_prefix": "STRING"}, "output_node": True},
    "PreviewImage": {"required": {"images": "IMAGE"}, "output_node": True},
    "LoadImage": {"required": {"image": "@input"}, "output": ["IMAGE", "MASK"]},
    "LoadAudio": {"required": {"audio": "@input"}, "output": ["AUDIO"]},
    "CreateVideo": {"required": {"images": "IMAGE", "fps": "FLOAT"}, "optional": {"audio": "AUDIO"}, "output": ["VIDEO"]},
    "SaveVideo": {"required": {"video": "VIDEO", "filename_prefix": "STRING", "format": ["auto", "mp4"],
                               "codec": ["auto", "h264"]}, "output_node": True},
    "SaveAnimatedWEBP": {"required": {"images": "IMAGE", "filename_prefix": "STRING", "fps": "FLOAT"}, "output_node": True},
    "VHS_VideoCombine": {"required": {"images": "IMAGE", "frame_rate": "FLOAT", "filename_prefix": "STRING",
                                      "format": ["video/h264-mp4", "image/gif"]}, "output_node": True},
    "EmptyHunyuanLatentVideo": {"required": {**_LATENT, "length": "INT"}, "output": ["LATENT"]},
    "EmptyLatentAudio": {"required": {"seconds": "FLOAT", "batch_size": "INT"}, "output": ["LATENT"]},
    "VAEDecodeAudio": {"required": {"samples": "LATENT", "vae": "VAE"}, "output": ["AUDIO"]},
    "SaveAudio": {"required": {"audio": "AUDIO", "filename_prefix": "STRING"}, "output_node": True},
    "SaveAudioMP3": {"required": {"audio": "AUDIO", "filename_prefix": "STRING"}, "output_node": True},
}


def node_info(class_type: str, spec: dict, input_dir: Path) -> dict:
    """The /object_info entry of one class, combo inputs listed with their allowed values."""
    def shown(kind: Any) -> list:
        if kind == "@input":
            return [_input_files(input_dir), {"image_upload": True}]
        return [kind, {}] if isinstance(kind, list) else [kind, {}]

    output = list(spec.get("output", []))
    return {
        "input": {part: {name: shown(kind) for name, kind in spec.get(part, {}).items()} for part in ("required", "optional")},
        "input_order": {part: list(spec.get(part, {})) for part in ("required", "optional")},
        "output": output, "output_is_list": [False] * len(output), "output_name": output,
        "name": class_type, "display_name": class_type, "description": "", "python_module": "nodes",
        "category": spec.get("category", "loopback"), "output_node": bool(spec.get("output_node")),
    }


def validate(prompt: dict, classes: dict, input_dir: Path) -> tuple[dict | None, dict, list[str]]:
    """(error, node_errors, output node ids) as ComfyUI's validate_prompt reports them."""
    for node, spec in prompt.items():
        class_type = spec.get("class_type") if isinstance(spec, dict) else None
        if class_type is None:
            return _error("invalid_prompt", "Cannot execute because a node is missing the class_type property.",
                          f"Node ID '#{node}'"), {}, []
        if class_type not in classes:
            return _error("invalid_prompt", f"Cannot execute because node {class_type} does not exist.",
                          f"Node ID '#{node}'"), {}, []
    outputs = [node for node, spec in prompt.items() if classes[spec["class_type"]].get("output_node")]
    if not outputs:
        return _error("prompt_no_outputs", "Prompt has no outputs", ""), {}, []
    node_errors: dict[str, dict] = {}
    for output in outputs:
        for node in _reached(prompt, output):
            errors = _node_errors(prompt[node], classes[prompt[node]["class_type"]], input_dir)
            if errors:
                entry = node_errors.setdefault(node, {"errors": errors, "dependent_outputs": [],
                                                      "class_type": prompt[node]["class_type"]})
                entry["dependent_outputs"].append(output)
    if node_errors:
        return _error("prompt_outputs_failed_validation", "Prompt outputs failed validation", ""), node_errors, outputs
    return None, {}, outputs


def _node_errors(node: dict, spec: dict, input_dir: Path) -> list[dict]:
    inputs = node.get("inputs") or {}
    errors = []
    for name, kind in spec.get("required", {}).items():
        if name not in inputs:
            errors.append({"type": "required_input_missing", "message": "Required input is missing",
                           "details": name, "extra_info": {"input_name": name}})
    for name, kind in {**spec.get("required", {}), **spec.get("optional", {})}.items():
        value = inputs.get(name)
        if value is None or isinstance(value, list):
            continue  # missing (above) or a link
        if kind == "@input" and not (input_dir / str(value)).is_file():
            errors.append({"type": "custom_validation_failed", "message": "Custom validation failed for node",
                           "details": f"{name} - Invalid image file: {value}", "extra_info": {"input_name": name}})
        elif isinstance(kind, list) and value not in kind:
            errors.append({"type": "value_not_in_list", "message": "Value not in list",
                           "details": f"{name}: '{value}' not in {kind}",
                           "extra_info": {"input_name": name, "input_config": [kind, {}], "received_value": value}})
    return errors


def _reached(prompt: dict, output: str) -> list[str]:
    seen, todo = [], [output]
    while todo:
        node = todo.pop()
        if node in seen or node not in prompt:
            continue
        seen.append(node)
        todo.extend(str(v[0]) for v in (prompt[node].get("inputs") or {}).values() if isinstance(v, list) and len(v) == 2)
    return seen


def _input_files(input_dir: Path) -> list[str]:
    if not input_dir.is_dir():
        return []
    return sorted(str(p.relative_to(input_dir)) for p in input_dir.rglob("*") if p.is_file())


def _error(kind: str, message: str, details: str) -> dict:
    return {"type": kind, "message": message, "details": details, "extra_info": {}}
