"""Lines that look like headers but are read aloud: parsed as before, with a warning naming them."""

from __future__ import annotations

from storybuild.story import parse_story, parse_text


def test_unknown_header_warns_with_line_and_known_headers():
    story = parse_text("author: me\ntitle: The Bell\n(yard) A yard.\n[ada] Hi.\n", "stories/x/story.txt", "x")
    assert story.title == "X"  # unchanged: the line is narration and ends the header
    assert [line.text for line in story.lines] == ["author: me", "title: The Bell", "Hi."]
    assert story.warnings[0].startswith("stories/x/story.txt:1:1: 'author:' is not a header")
    assert "title:, style:, language:" in story.warnings[0]
    assert story.warnings[1].startswith("stories/x/story.txt:2:1: 'title:' comes after the header ended on line 1")
    assert len(story.warnings) == 2


def test_known_headers_and_plain_prose_give_no_warning():
    story = parse_text("title: A\nstyle: ink\n\nThe fog came in. It was: cold.\n[ada] Note the lamp.\n",
                       "s.txt", "x")
    assert story.warnings == [] and story.header_lines == {"title": 1, "style": 2}


def test_header_after_the_first_scene_warns():
    story = parse_text("(yard) A yard.\nlanguage: fr\n[ada] Hi.\n", "s.txt", "x")
    assert len(story.warnings) == 1
    assert story.warnings[0].startswith("s.txt:2:1: 'language:' comes after the header ended on line 1")
    assert story.language == "en"


def test_messages_name_the_shown_path(tmp_path):
    folder = tmp_path / "bell"
    folder.mkdir()
    (folder / "story.txt").write_text("[ada Hi\n", encoding="utf-8")
    try:
        parse_story(folder / "story.txt", shown="stories/bell/story.txt")
    except Exception as exc:  # noqa: BLE001
        assert str(exc).startswith("stories/bell/story.txt:1:1:")
    else:
        raise AssertionError("an unclosed tag parsed")
    (folder / "story.txt").write_text("note: x\n[ada] Hi\n", encoding="utf-8")
    story = parse_story(folder / "story.txt", shown="stories/bell/story.txt")
    assert story.slug == "bell" and story.warnings[0].startswith("stories/bell/story.txt:1:1:")
