"""A quality preset from the environment (a serve job's quality_preset) reaches the ComfyUI workflows."""

from __future__ import annotations

from servers.comfyui import ComfyUIServer


def _sizes(server: ComfyUIServer, since: int) -> set[tuple[int, int]]:
    found = set()
    for entry in server.prompts[since:]:
        for node in entry["prompt"].values():
            inputs = node.get("inputs", {})
            if isinstance(inputs.get("width"), int) and isinstance(inputs.get("height"), int):
                found.add((inputs["width"], inputs["height"]))
    return found


def test_a_draft_job_asks_for_half_size_pictures_and_keeps_its_own_artifacts(project, comfy: ComfyUIServer, monkeypatch) -> None:
    project.add_story("tiny")
    (project.root / "storybuild.toml").write_text(
        f'[servers]\ncomfyui_url = "{comfy.url}"\n[image]\nbackend = "comfyui"\n', encoding="utf-8"
    )
    project.doit("cast")
    mark = len(comfy.prompts)
    project.doit("character")
    standard = _sizes(comfy, mark)
    assert (512, 768) in standard  # portraits at their size

    monkeypatch.setenv("STORYBUILD_QUALITY", "draft")
    mark = len(comfy.prompts)
    project.doit("character")  # the preset is a recipe value: a draft portrait is another artifact
    assert _sizes(comfy, mark) == {(256, 384)}


def test_a_serve_job_passes_its_preset_to_the_build() -> None:
    from storybuild.serve.jobs import Job
    from storybuild.serve.runner import job_environment

    job = Job(id="j1", kind="project", story="tiny", targets=["final_mp4:tiny"], quality_preset="high")
    assert job_environment(job)["STORYBUILD_QUALITY"] == "high"
