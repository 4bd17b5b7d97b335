"""Parsing time of one story of 500, 5,000 and 20,000 lines: it must stay linear (time per line flat).

Uses bench/noop_stories.py's generated stories (scenes, speakers, cues between and inside lines).
Best of three per size. Prints numbers; asserts nothing.

Run: .venv/bin/python bench/parse_story.py
"""

from __future__ import annotations

import random
import time

from noop_stories import story_text

from storybuild.story.parser import parse_text


def main() -> None:
    """Parse each size three times and print the best time, per line too."""
    print(f"{'lines':>6} {'ms':>8} {'us/line':>8}")
    for lines in (500, 5000, 20000):
        text = story_text(1, lines, random.Random(3))
        times = []
        for _ in range(3):
            start = time.perf_counter()
            story = parse_text(text, "bench/story.txt", "bench")
            times.append(time.perf_counter() - start)
        assert len(story.lines) == lines
        print(f"{lines:>6} {min(times) * 1000:8.1f} {min(times) / lines * 1e6:8.1f}")


if __name__ == "__main__":
    main()
