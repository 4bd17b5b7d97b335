"""Changing a setting rebuilds exactly what depends on it: each recipe holds only what changes its bytes.

The tiny story is built once for the module; each test flips one setting in storybuild.toml,
counts real generations in the journal, then removes the setting and rebuilds from the cache so
the next test starts from the same state.
"""

from __future__ import annotations

import pytest

AUDIO = ("cast", "tts", "narration", "sfx_plan", "sfx", "final_wav")
VIDEO = ("character", "scene", "thumbnail", "animate", "video", "soundtrack", "final_mp4")


def flip(built, toml: str, target: str) -> dict[str, list[str]]:
    """Build ``target`` with ``toml`` as the project settings; what each stage generated."""
    settings = built.root / "storybuild.toml"
    settings.write_text(toml)
    mark = built.mark()
    try:
        built.doit(target)
        return {stage: built.generated(stage, mark) for stage in AUDIO + VIDEO}
    finally:
        settings.unlink()
        built.doit(target)  # back as built, from the cache


def ran(generated: dict[str, list[str]]) -> set[str]:
    return {stage for stage, items in generated.items() if items}


@pytest.mark.parametrize("setting", ["sample_rate = 44100", "lead_in = 0.9", "line_pause = 0.5",
                                     "scene_pause = 2.0", "cue_pause = 1.5", "tail = 1.0"])
def test_a_timing_setting_rejoins_the_narration_and_remixes_but_voices_nothing(built_tiny, setting):
    generated = flip(built_tiny, f"[audio]\n{setting}\n", "final_wav")
    assert {"narration", "final_wav"} <= ran(generated)
    assert not ran(generated) & {"cast", "tts"}


@pytest.mark.parametrize("setting", ["loudness = -16.0", "duck_db = -6.0", "cue_gain_db = -3.0"])
def test_a_mix_setting_remixes_only(built_tiny, setting):
    generated = flip(built_tiny, f"[audio]\n{setting}\n", "final_wav")
    assert "final_wav" in ran(generated)
    assert not ran(generated) & {"cast", "tts", "narration", "sfx"}, generated


def test_not_inferring_cues_changes_the_sounds_not_the_voices(built_tiny):
    generated = flip(built_tiny, "[audio]\ninfer_cues = false\n", "final_wav")
    assert "final_wav" in ran(generated)
    assert not ran(generated) & {"cast", "tts", "narration"}


def test_resolution_redraws_and_reanimates_but_touches_no_sound(built_tiny):
    generated = flip(built_tiny, '[video]\nresolution = "1080p"\n', "final_mp4")
    # Portraits are 2:3 and the thumbnail is always 1280x720: the resolution is not theirs.
    assert ran(generated) == {"scene", "animate", "video", "final_mp4"}


def test_fps_retimes_scenes_to_frames_and_reanimates_but_redraws_nothing(built_tiny):
    generated = flip(built_tiny, "[video]\nfps = 30\n", "final_mp4")
    assert {"narration", "animate", "video", "final_mp4"} <= ran(generated)
    assert not ran(generated) & {"tts", "character", "scene", "thumbnail"}


@pytest.mark.parametrize("toml", ['[video]\ntransition = "cut"\n', "[video]\ncrossfade = 0.3\n"])
def test_transition_and_fade_reanimate_and_rejoin_but_redraw_nothing(built_tiny, toml):
    generated = flip(built_tiny, toml, "final_mp4")
    # A clip carries a keyframe where its fade ends, so the video stage can copy the rest of it.
    assert ran(generated) == {"animate", "video", "final_mp4"}


def test_a_fade_length_changes_nothing_when_scenes_are_cut(built_tiny):
    settings = built_tiny.root / "storybuild.toml"
    settings.write_text('[video]\ntransition = "cut"\n')
    built_tiny.doit("final_mp4")
    generated = flip(built_tiny, '[video]\ntransition = "cut"\ncrossfade = 1.5\n', "final_mp4")
    assert ran(generated) == set()


def test_burning_subtitles_remuxes_only(built_tiny):
    generated = flip(built_tiny, "[video]\nburn_subtitles = true\n", "final_mp4")
    assert ran(generated) == {"final_mp4"}


def test_choosing_the_ffmpeg_binary_rebuilds_nothing(built_tiny):
    import imageio_ffmpeg

    generated = flip(built_tiny, f'[video]\nffmpeg = "{imageio_ffmpeg.get_ffmpeg_exe()}"\n', "final_mp4")
    assert ran(generated) == set()
