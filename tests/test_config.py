"""Settings: defaults, the project file, the environment, a story's overrides, and clear errors."""

from __future__ import annotations

import pytest

from storybuild.config import ProjectConfig, Settings
from storybuild.errors import ConfigError


def test_defaults_are_the_embedded_backends():
    settings = Settings()
    assert (settings.tts.backend, settings.sfx.backend, settings.image.backend, settings.animate.backend) == (
        "espeak", "procedural", "storybook", "kenburns")
    assert settings.video.size == (1280, 720) and settings.video.fps == 24
    assert settings.audio.loudness == -14.0


def test_project_file_environment_and_story_layers(tmp_path):
    (tmp_path / "storybuild.toml").write_text('[video]\nfps = 30\n[servers]\nllm_url = "http://file"\n')
    env = {"LM_STUDIO_BASE_URL": "http://env:1234/v1", "LM_STUDIO_MODEL": "qwen", "COMFYUI_BASE_URL": "http://gpu:8188"}
    config = ProjectConfig(tmp_path, env)
    assert config.settings.video.fps == 30
    assert config.settings.servers.llm_url == "http://env:1234/v1"
    assert config.settings.servers.llm_model == "qwen"
    assert config.settings.servers.comfyui_url == "http://gpu:8188"
    story_toml = tmp_path / "story.toml"
    story_toml.write_text('[video]\nresolution = "1080p"\n[characters.Mara]\nvoice = "f2"\n')
    story = config.for_story(story_toml)
    assert story.video.size == (1920, 1080) and story.video.fps == 30
    assert story.characters["mara"].voice == "f2"
    assert config.settings.video.resolution == "720p", "a story's settings never leak into the project's"


def test_errors_name_the_file_and_the_key(tmp_path):
    (tmp_path / "storybuild.toml").write_text("[audio]\nscene_pause = -1\n")
    with pytest.raises(ConfigError, match=r"storybuild.toml.*audio\.scene_pause"):
        ProjectConfig(tmp_path, {})


def test_unknown_keys_and_bad_toml_are_rejected(tmp_path):
    (tmp_path / "storybuild.toml").write_text("[vidoe]\nfps = 30\n")
    with pytest.raises(ConfigError, match="vidoe"):
        ProjectConfig(tmp_path, {})
    (tmp_path / "storybuild.toml").write_text("[video\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        ProjectConfig(tmp_path, {})


def test_a_story_cannot_move_the_build_folders(tmp_path):
    config = ProjectConfig(tmp_path, {})
    story_toml = tmp_path / "story.toml"
    story_toml.write_text('build_dir = "/tmp/elsewhere"\n')
    with pytest.raises(ConfigError, match="build_dir"):
        config.for_story(story_toml)


def test_every_key_is_optional_and_the_default_backend_stays(tmp_path):
    (tmp_path / "storybuild.toml").write_text("[tts]\noptions = { rate = 120 }\n")
    settings = ProjectConfig(tmp_path, {}).settings
    assert settings.tts.backend == "espeak" and settings.tts.options == {"rate": 120}
    assert settings.image.backend == "storybook"


def test_a_typo_names_the_line_and_suggests_the_key(tmp_path):
    (tmp_path / "storybuild.toml").write_text("seed = 1\n\n[video]\nfps = 30\nresolutoin = '1080p'\n")
    with pytest.raises(ConfigError, match=r"storybuild.toml:5: video.resolutoin: .*did you mean `resolution`\?") as caught:
        ProjectConfig(tmp_path, {})
    assert caught.value.line == 5 and caught.value.file == "storybuild.toml"
    config = ProjectConfig(_empty(tmp_path / "p"), {})
    story_toml = tmp_path / "story.toml"
    story_toml.write_text('[characters.mara]\nlok = "tall"\n')
    with pytest.raises(ConfigError, match=r"story.toml:2: characters.mara.lok: .*did you mean `look`\?"):
        config.for_story(story_toml)


def _empty(folder):
    folder.mkdir()
    return folder


def test_switching_backend_in_a_story_drops_the_projects_options(tmp_path):
    (tmp_path / "storybuild.toml").write_text("[tts]\noptions = { rate = 120 }\n")
    config = ProjectConfig(tmp_path, {})
    story_toml = tmp_path / "story.toml"
    story_toml.write_text('[tts]\nbackend = "other"\n')
    assert config.for_story(story_toml).tts.options == {}
    story_toml.write_text("[tts]\noptions = { pitch = 40 }\n")
    assert config.for_story(story_toml).tts.options == {"rate": 120, "pitch": 40}


def test_ffmpeg_choice_is_checked_and_project_only(tmp_path):
    assert Settings().video.ffmpeg == "bundled"
    (tmp_path / "storybuild.toml").write_text('[video]\nffmpeg = "ffmpeg4"\n')
    with pytest.raises(ConfigError, match=r"video.ffmpeg: .*absolute path"):
        ProjectConfig(tmp_path, {})
    (tmp_path / "storybuild.toml").write_text('[video]\nffmpeg = "system"\n')
    config = ProjectConfig(tmp_path, {})
    story_toml = tmp_path / "story.toml"
    story_toml.write_text('[video]\nfps = 30\nffmpeg = "/usr/bin/ffmpeg"\n')
    with pytest.raises(ConfigError, match=r"story.toml:3: video.ffmpeg: can only be set in storybuild.toml"):
        config.for_story(story_toml)


def test_a_quality_preset_from_the_environment_sets_the_comfyui_backends_only(tmp_path):
    import pytest

    from storybuild.config import ConfigError, ProjectConfig

    (tmp_path / "storybuild.toml").write_text(
        '[image]\nbackend = "comfyui"\noptions = { quality = "standard" }\n[animate]\nbackend = "comfyui"\n'
    )
    settings = ProjectConfig(tmp_path, {"STORYBUILD_QUALITY": "draft"}).settings
    assert settings.image.options["quality"] == "draft" and settings.animate.options["quality"] == "draft"
    assert "quality" not in settings.tts.options  # espeak has no quality knob
    assert ProjectConfig(tmp_path, {"STORYBUILD_QUALITY": "ultra"}).settings.image.options["quality"] == "high"
    assert ProjectConfig(tmp_path, {}).settings.image.options["quality"] == "standard"
    with pytest.raises(ConfigError, match="STORYBUILD_QUALITY"):
        ProjectConfig(tmp_path, {"STORYBUILD_QUALITY": "best"})
