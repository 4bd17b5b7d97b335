"""Workflow templates and maps: every shipped pair is valid, fills right, and preflights by node id."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from storybuild.backends.workflow import FIELDS, SHIPPED, load_workflow, resolve_workflow
from storybuild.errors import ConfigError

TEMPLATES = sorted(p for p in SHIPPED.glob("*.json") if not p.name.endswith(".params.json"))


def test_every_template_has_a_map_and_there_are_enough() -> None:
    names = {p.stem for p in TEMPLATES}
    assert {"chatterbox_clone_tts", "flux_portrait", "flux_kontext_scene", "flux_thumbnail", "stable_audio_sfx",
            "ltxv_i2v", "wan22_i2v", "framepack_i2v"} <= names
    for template in TEMPLATES:
        assert template.with_name(template.stem + ".params.json").is_file(), template


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.stem)
def test_template_is_api_format_and_every_map_entry_points_at_a_real_input(path: Path) -> None:
    template = json.loads(path.read_text())
    mapping = json.loads(path.with_name(path.stem + ".params.json").read_text())
    assert "nodes" not in template and "links" not in template
    for node_id, node in template.items():
        assert isinstance(node["class_type"], str) and isinstance(node["inputs"], dict), node_id
        for value in node["inputs"].values():
            if isinstance(value, list):  # a link: to an existing node
                assert value[0] in template and isinstance(value[1], int), (node_id, value)
    for field, raw in mapping["fields"].items():
        assert field in FIELDS
        pairs = [raw] if isinstance(raw[0], str) else raw
        for node_id, input_name in pairs:
            assert input_name in template[node_id]["inputs"], (field, node_id, input_name)
    assert mapping["output"] in template
    assert template[mapping["output"]]["class_type"].startswith("Save")
    assert load_workflow(path).identity  # loads through the same validation the backends use


def test_fill_sets_fields_and_a_unique_prefix_and_leaves_the_template_alone() -> None:
    workflow = load_workflow("workflows/stable_audio_sfx.json")
    before = json.dumps(workflow.template, sort_keys=True)
    prompt = workflow.fill({"text": "a door creaks", "seed": 7, "duration": 2.5, "frames": 9}, prefix="storybuild/abc")
    assert prompt["3"]["inputs"]["text"] == "a door creaks"
    assert prompt["7"]["inputs"]["seed"] == 7
    assert prompt["5"]["inputs"]["seconds_total"] == 2.5 and prompt["6"]["inputs"]["seconds"] == 2.5
    assert prompt["9"]["inputs"]["filename_prefix"] == "storybuild/abc"
    assert json.dumps(workflow.template, sort_keys=True) == before
    assert workflow.ignored(["text", "frames", "image"]) == ["frames", "image"]


def test_optional_nodes_are_bypassed_and_orphans_pruned() -> None:
    workflow = load_workflow("workflows/flux_kontext_scene.json")
    plain = workflow.fill({"prompt": "a harbour", "seed": 1})
    assert {"4", "12", "13", "14", "15"}.isdisjoint(plain)  # no LoRA, no reference: their nodes go
    assert plain["9"]["inputs"]["model"] == ["1", 0]  # the LoRA's model output rewired to its input
    assert plain["5"]["inputs"]["clip"] == ["2", 0]
    assert plain["6"]["inputs"]["conditioning"] == ["5", 0]  # ReferenceLatent passed through
    full = workflow.fill({"prompt": "x", "seed": 1, "image": "storybuild/ref.png", "lora": "mara.safetensors"})
    assert full["12"]["inputs"]["image"] == "storybuild/ref.png"
    assert full["4"]["inputs"]["lora_name"] == "mara.safetensors"
    assert full["6"]["inputs"]["conditioning"] == ["15", 0]
    tts = load_workflow("workflows/chatterbox_clone_tts.json").fill({"text": "hi", "voice_name": "none"})
    assert "opt_narrator" not in tts["4"]["inputs"] and "1" not in tts and "2" not in tts


def test_identity_follows_the_template_and_the_map(tmp_path: Path) -> None:
    for name in ("flux_portrait.json", "flux_portrait.params.json"):
        (tmp_path / name).write_text((SHIPPED / name).read_text())
    first = load_workflow(tmp_path / "flux_portrait.json").identity
    mapping = json.loads((tmp_path / "flux_portrait.params.json").read_text())
    mapping["fields"]["seed"] = ["9", "steps"]
    (tmp_path / "flux_portrait.params.json").write_text(json.dumps(mapping))
    second = load_workflow(tmp_path / "flux_portrait.json").identity
    template = json.loads((tmp_path / "flux_portrait.json").read_text())
    template["9"]["inputs"]["cfg"] = 2.0
    (tmp_path / "flux_portrait.json").write_text(json.dumps(template))
    third = load_workflow(tmp_path / "flux_portrait.json").identity
    assert len({first, second, third}) == 3


def test_project_workflows_win_over_shipped_ones(tmp_path: Path) -> None:
    assert resolve_workflow("workflows/ltxv_i2v.json", tmp_path) == SHIPPED / "ltxv_i2v.json"
    (tmp_path / "workflows").mkdir()
    (tmp_path / "workflows" / "ltxv_i2v.json").write_text("{}")
    assert resolve_workflow("workflows/ltxv_i2v.json", tmp_path) == tmp_path / "workflows" / "ltxv_i2v.json"


@pytest.mark.parametrize(
    "template, mapping, words",
    [
        ({"nodes": [], "links": []}, {"fields": {}, "output": "1"}, "API format"),
        ({"1": {"class_type": "SaveImage", "inputs": {}}}, {"fields": {"seed": ["2", "seed"]}, "output": "1"}, "no node 2"),
        ({"1": {"class_type": "SaveImage", "inputs": {}}}, {"fields": {"seed": ["1", "seed"]}, "output": "1"}, "no input 'seed'"),
        ({"1": {"class_type": "SaveImage", "inputs": {}}}, {"fields": {"colour": ["1", "x"]}, "output": "1"}, "unknown request field"),
        ({"1": {"class_type": "SaveImage", "inputs": {}}}, {"fields": {}, "output": "9"}, "output"),
    ],
)
def test_bad_templates_and_maps_name_the_file(tmp_path: Path, template: dict, mapping: dict, words: str) -> None:
    (tmp_path / "mine.json").write_text(json.dumps(template))
    (tmp_path / "mine.params.json").write_text(json.dumps(mapping))
    with pytest.raises(ConfigError, match=words) as caught:
        load_workflow(tmp_path / "mine.json")
    assert "mine." in str(caught.value)


def test_a_template_without_a_map_is_an_error_naming_the_map(tmp_path: Path) -> None:
    (tmp_path / "lonely.json").write_text(json.dumps({"1": {"class_type": "SaveImage", "inputs": {}}}))
    with pytest.raises(ConfigError, match="lonely.params.json"):
        load_workflow(tmp_path / "lonely.json")


def test_preflight_names_missing_node_classes_and_model_files_by_node_id() -> None:
    workflow = load_workflow("workflows/flux_portrait.json")
    info = {
        cls: {"input": {"required": {name: (["other.safetensors"] if name.endswith("_name") else ["STRING", {}])
                                     for name in node["inputs"]}}}
        for cls, node in ((n["class_type"], n) for n in workflow.template.values())
    }
    info["VAELoader"]["input"]["required"]["vae_name"] = [["ae.safetensors"], {}]
    info["UNETLoader"]["input"]["required"]["unet_name"] = ["COMBO", {"options": ["flux1-dev.safetensors"]}]
    info["DualCLIPLoader"]["input"]["required"]["clip_name2"] = [["t5.gguf"], {}]
    del info["FluxGuidance"]
    problems = workflow.problems(info, "http://gpu:8188")
    text = "\n".join(problems)
    assert "node 6 needs node class 'FluxGuidance'" in text
    assert "node 2 (DualCLIPLoader) input 'clip_name2' = 't5xxl_fp16.safetensors'" in text
    assert all("flux_portrait.json" in p and "http://gpu:8188" in p for p in problems)
    assert "vae_name" not in text and "unet_name" not in text
    # A routed input (the LoRA name is filled per request) is never a missing model.
    assert "lora_name" not in text
