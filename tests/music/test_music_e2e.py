"""Music in the real build: a file under the whole story, a generated bed for one scene, crossfaded; cached.

Needs the integration (the ``music`` stage, ``[audio] music``, ``[scenes.<id>]``): skips until then,
and fails under CI=true.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from .test_music import band, tone

STORY = """title: Music
(yard) A farmyard at dawn, a red barn, mist over the grass.
The bell rang once, and then again, far across the fields.
Nobody in the farmhouse woke.
(barn) Inside the barn at night, rain on the roof.
The rain came down on the old roof all night long.
"""


@pytest.fixture
def scored(project):
    folder = project.root / "stories" / "music"
    (folder / "music").mkdir(parents=True)
    (folder / "story.txt").write_text(STORY)
    sf.write(str(folder / "music" / "calm.ogg"), tone(330, 3.0, 44100, moving=0), 44100, format="OGG", subtype="VORBIS")
    (folder / "story.toml").write_text(
        '[audio]\nmusic = "music/calm.ogg"\nmusic_fade = 1.0\ninfer_cues = false\n'
        '[scenes.barn]\nmusic_prompt = "steady rain on a wooden roof"\n'
    )
    return project


def test_the_story_file_plays_then_crossfades_to_the_scene_s_bed(scored) -> None:
    scored.doit("final_wav")
    final, rate = sf.read(str(scored.build / "music" / "final.wav"), dtype="float32")
    timeline = json.loads((scored.build / "music" / "timeline.json").read_text())
    barn = next(s for s in timeline["scenes"] if s["id"] == "barn")
    assert (scored.build / "music" / "music" / "barn.wav").is_file()
    early, late = 0.3, timeline["duration"] - 1.9  # the lead-in and the tail: music without speech

    def tonal(at: float) -> float:  # calm.ogg is a pure 330 Hz tone; rain is broadband
        return band(final, rate, at, 330) / band(final, rate, at, 400)

    assert tonal(early) > 10
    assert tonal(late) < 3 and barn["start"] < late
    assert np.sqrt(np.mean(np.square(final[int(late * rate): int((late + 0.2) * rate)]))) > 1e-3

    mark = scored.mark()
    scored.doit("final_wav")
    assert scored.records()[mark:] == []
