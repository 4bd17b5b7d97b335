"""The storyboard: the static page ``doit storyboard`` writes, and the live one in a real headless Chromium."""

from __future__ import annotations

import io
import os
import re
import shutil
from html import escape

from components import missing
from PIL import Image, ImageChops

from storybuild.story import parse_story

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--autoplay-policy=no-user-gesture-required"]


def test_static_page_shows_every_artifact_without_buttons(built_template):
    page = (built_template.build / "tiny" / "storyboard.html").read_text(encoding="utf-8")
    story = parse_story(built_template.story("tiny"), "tiny")
    for line in story.lines:
        assert escape(line.text) in page
    for scene in story.scenes:
        assert re.search(rf'<img data-path="scenes/{scene.id}.png" src="scenes/{scene.id}.png\?v=[0-9a-f]+"', page)
        assert f'src="clips/{scene.id}.mp4?v=' in page
    for path in ("final.mp4?v=", "story.vtt?v=", "characters/ada.png?v=", "lines/0001.wav?v=", "sfx/001.wav?v="):
        assert f'src="{path}' in page, path
    assert "<button" not in page and "<script" not in page
    assert "not built yet" not in page


def test_quality_flags_rewrite_the_static_page(built):
    report = {"lines": [{"id": "0002", "heard": "who rank it", "wer": 0.33, "flagged": True},
                        {"id": "0001", "heard": "the bell rang once", "wer": 0.0, "flagged": False}]}
    import json

    (built.build / "tiny" / "quality.json").write_text(json.dumps(report), encoding="utf-8")
    mark = built.mark()
    built.doit("storyboard")
    assert built.generated("storyboard", mark) == ["tiny"]
    page = (built.build / "tiny" / "storyboard.html").read_text(encoding="utf-8")
    assert "flagged WER 0.33 heard &quot;who rank it&quot;" in page and "ok WER 0.00" in page
    mark = built.mark()
    built.doit("storyboard")
    assert built.records()[mark:] == [], "up to date once written"


def _chromium():
    if not os.path.exists(CHROMIUM):
        missing(f"no {CHROMIUM}", "apt-get install chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("playwright is not installed", "pip install -e '.[test]'")
    return sync_playwright


def _pixels(png: bytes) -> Image.Image:
    return Image.open(io.BytesIO(png)).convert("RGB")


def test_the_page_plays_audio_and_a_reroll_replaces_the_picture(serve, built, tmp_path):
    sync_playwright = _chromium()
    server = serve()
    shots = tmp_path / "screenshots"
    shots.mkdir()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1200, "height": 900},
        )
        try:
            page = browser.new_page()
            page.goto(f"{server.url}/stories/tiny")
            assert page.title().startswith("The Small Bell")
            assert page.locator("li.line").count() == 6 and page.locator("section.cast li").count() == 3
            played = page.evaluate("""async () => {
                const audio = document.querySelector('li.line audio');
                await audio.play();
                await new Promise((done) => setTimeout(done, 600));
                return {paused: audio.paused, time: audio.currentTime, duration: audio.duration};
            }""")
            assert not played["paused"] and played["time"] > 0 and played["duration"] > 0, played

            picture = page.locator('img[data-path="scenes/yard.png"]')
            picture.scroll_into_view_if_needed()
            page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=picture.element_handle())
            old_src = picture.get_attribute("src")
            before = picture.screenshot(path=str(shots / "before.png"))
            page.click('button.reroll[data-stage="scene"][data-item="yard"]')
            status = '.job[data-for="scene/yard"]'
            page.wait_for_selector(f'{status}[data-status="running"] progress', timeout=60_000)
            page.screenshot(path=str(shots / "running.png"))
            page.wait_for_selector(f'{status}[data-status="completed"]', timeout=120_000)
            page.wait_for_function(
                """old => { const img = document.querySelector('img[data-path="scenes/yard.png"]');
                            return img.getAttribute('src') !== old && img.complete && img.naturalWidth > 0; }""",
                arg=old_src, timeout=30_000,
            )
            after = picture.screenshot(path=str(shots / "after.png"))
        finally:
            browser.close()
    difference = ImageChops.difference(_pixels(before), _pixels(after))
    changed = sum(difference.convert("L").histogram()[17:])
    assert changed > difference.width * difference.height // 20, "the rerolled picture looks the same"
    assert (built.root / "stories" / "tiny" / "seeds.toml").read_text().count('"yard" = 1') == 1
    shutil.copytree(shots, built.root / "screenshots")  # kept beside the project for a look after a failure
