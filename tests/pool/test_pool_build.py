"""A real doit build over two loopback ComfyUI servers: the pool spreads the work."""

from __future__ import annotations

from comfyui.helpers import shipped_node_classes
from servers.comfyui import running_comfyui


def test_two_servers_share_a_build_and_a_rebuild_submits_nothing(project, tmp_path) -> None:
    project.add_story("tiny")
    nodes = shipped_node_classes()
    with running_comfyui(tmp_path / "a", node_classes=nodes, job_time=0.2) as a, \
            running_comfyui(tmp_path / "b", node_classes=nodes, job_time=0.2) as b:
        (project.root / "storybuild.toml").write_text(
            f'[servers]\ncomfyui_url = ["{a.url}", "{b.url}"]\n\n'
            '[image]\nbackend = "comfyui"\noptions = { quality = "draft" }\n',
            encoding="utf-8",
        )
        project.doit("-n", "4", "scene", "character")
        made = len(project.generated("scene")) + len(project.generated("character"))
        assert made >= 4
        assert sum(a.submissions.values()) + sum(b.submissions.values()) == made
        assert a.submissions and b.submissions  # both GPUs worked
        before = (sum(a.submissions.values()), sum(b.submissions.values()))
        project.doit("-n", "4", "scene", "character")
        assert (sum(a.submissions.values()), sum(b.submissions.values())) == before
