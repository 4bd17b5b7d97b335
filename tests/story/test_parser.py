"""The story parser: every accept and reject rule of STORY_FORMAT.md, with exact positions."""

from __future__ import annotations

import random
import time
import unicodedata
from pathlib import Path

import pytest

from storybuild.errors import StoryError
from storybuild.story import NARRATOR, OPENING_SCENE, Cue, Line, Story, parse_story, parse_text
from storybuild.story import parser

ROOT = Path(__file__).resolve().parents[2]
STORIES = ROOT / "stories"
PATH = "stories/test-story/story.txt"


def parse(text: str) -> Story:
    return parse_text(text, PATH, "test-story")


def reject(text: str, line: int, column: int, *fragments: str) -> StoryError:
    with pytest.raises(StoryError) as info:
        parse(text)
    error = info.value
    assert (error.line, error.column) == (line, column), str(error)
    assert str(error).startswith(f"{PATH}:{line}:{column}: ")
    for fragment in fragments:
        assert fragment in error.message
    return error


def speakers(story: Story) -> list[tuple[str, str | None, int]]:
    return [(c.name, c.gender, c.first_line) for c in story.characters]


def test_public_api_is_sorted_and_complete():
    assert parser.__all__ == sorted(parser.__all__)
    assert {"parse_story", "parse_text"} <= set(parser.__all__)


# -- the samples ---------------------------------------------------------------------------------


def test_lighthouse_sample():
    story = parse_story(STORIES / "lighthouse" / "story.txt")
    assert story.slug == "lighthouse"
    assert story.title == "The Lamp at Gull Point"
    assert story.style.startswith("painterly, muted blues")
    assert story.language == "en"
    assert [(s.id, len(s.lines), len(s.cues)) for s in story.scenes] == [
        ("harbor", 6, 1), ("stairs", 4, 1), ("lamp_room", 6, 1), ("dawn", 3, 0)
    ]
    assert speakers(story) == [(NARRATOR, None, 6), ("mara", None, 8), ("elias", None, 9)]
    assert [line.index for line in story.lines] == list(range(1, 20))
    elias = story.lines[3]
    assert (elias.speaker, elias.lineno, elias.scene) == ("elias", 9, "harbor")
    assert elias.text == "Out? It has not gone out in eleven years."
    assert elias.hints == ["slowly, still half asleep"]
    assert [(c.index, c.anchor, c.line, c.lineno) for c in story.cues] == [
        (1, "between", 5, 11), (2, "between", 10, 19), (3, "between", 15, 27)
    ]
    assert story.cues[0].text == "a distant ship's horn, low and long"
    assert story.scenes[0].speakers == ["mara", "elias"]


def test_clockwork_fox_sample():
    story = parse_story(STORIES / "clockwork-fox" / "story.txt")
    assert story.slug == "clockwork-fox"
    assert story.title == "The Clockwork Fox"
    assert [(s.id, len(s.lines), len(s.cues)) for s in story.scenes] == [
        ("workshop", 4, 1), ("forest", 5, 1)
    ]
    assert speakers(story) == [(NARRATOR, None, 6), ("tobias", "male", 7), ("fox", "female", 9)]
    assert story.lines[2].text == "Is the world always this dark?"
    assert story.lines[2].hints == ["in a small, bright voice"]
    assert [c.text for c in story.cues] == [
        "a key turning, then a rapid ticking", "birdsong and rustling leaves"
    ]


def test_sample_with_bom_and_crlf_parses_the_same(tmp_path):
    original = STORIES / "lighthouse" / "story.txt"
    copy = tmp_path / "lighthouse" / "story.txt"
    copy.parent.mkdir()
    copy.write_bytes(b"\xef\xbb\xbf" + original.read_bytes().replace(b"\n", b"\r\n"))
    assert parse_story(copy).model_dump(exclude={"path"}) == parse_story(original).model_dump(
        exclude={"path"}
    )


# -- header --------------------------------------------------------------------------------------


def test_header_keys_are_case_insensitive_and_indentable():
    story = parse("TITLE: Gull Point\n  Style:ink wash  \nLanguage: de\n[mara] Hallo.")
    assert (story.title, story.style, story.language) == ("Gull Point", "ink wash", "de")


def test_title_falls_back_to_the_slug():
    story = parse_text("[m] hi", "x/story.txt", "the-clockwork-fox-2")
    assert story.title == "The Clockwork Fox 2"


def test_empty_header_values_are_accepted():
    story = parse("title:\nstyle:\nlanguage:\n[m] hi")
    assert (story.title, story.style, story.language) == ("Test Story", "", "en")


def test_unknown_key_is_narrator_prose():
    story = parse("Note: it was cold.")
    assert [(l.speaker, l.text) for l in story.lines] == [(NARRATOR, "Note: it was cold.")]


@pytest.mark.parametrize("before", ["[m] hi", "Prose first.", "(harbor) a harbor"])
def test_known_key_after_first_scene_or_spoken_line_is_prose(before):
    story = parse(f"{before}\ntitle: not a header")
    assert story.title == "Test Story"
    assert story.lines[-1].text == "title: not a header"


def test_a_cue_line_does_not_end_the_header():
    story = parse("{wind}\ntitle: Windy\n[m] hi")
    assert story.title == "Windy"
    assert [s.id for s in story.scenes] == [OPENING_SCENE]


def test_header_key_given_twice():
    reject("title: A\n# comment\n  Title: B\n[m] hi", 3, 3, "'title' given twice", "line 1")


def test_header_key_must_be_ascii():
    # Unicode case folding would make 'ſtyle' a header key.
    assert parse("ſtyle: x").lines[0].text == "ſtyle: x"


# -- lines, comments, whitespace -----------------------------------------------------------------


def test_comments_blank_lines_and_trailing_whitespace_are_ignored():
    story = parse("# c\n   # indented comment\n\n   \t \n[m] hi   \t\n")
    assert [(l.text, l.lineno) for l in story.lines] == [("hi", 5)]


def test_hash_inside_a_line_is_text():
    assert parse("[m] hi # there").lines[0].text == "hi # there"


def test_whitespace_is_collapsed_and_tabs_count_as_one_column():
    story = parse("\t[m]\t Hello   (pause)   world  ")
    assert (story.lines[0].text, story.lines[0].hints) == ("Hello world", ["pause"])
    reject("\t[m/x] hi", 1, 4, "'/'")


def test_line_of_2000_characters_is_accepted_and_2001_rejected():
    assert len(parse("[m] " + "a" * 1996).lines[0].text) == 1996
    reject("[m] hi\n[m] " + "a" * 1997, 2, 2001, "2,001 characters", "split it")
    reject("# " + "a" * 1999, 1, 2001, "split it")


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment", "title: x\n(a) desc\n{door}"])
def test_story_without_a_spoken_line(text):
    reject(text, 1, 1, "no spoken line")


def test_old_numbered_script_style():
    story = parse(
        "[male_detective_holmes] Look, Watson, the mud on his boots.\n"
        "[male_watson] Good heavens, Holmes.\n"
        "[MALE_Detective_Holmes] Elementary.\n"
    )
    assert [s.id for s in story.scenes] == [OPENING_SCENE]
    assert speakers(story) == [("detective_holmes", "male", 1), ("watson", "male", 2)]
    assert [l.speaker for l in story.lines] == ["detective_holmes", "watson", "detective_holmes"]


# -- scenes --------------------------------------------------------------------------------------


def test_lines_before_the_first_scene_form_the_opening_scene():
    story = parse("# c\n\nOnce upon a time.\n(harbor)   A   small harbor.  \n[m] hi")
    assert [(s.id, s.description, s.lineno) for s in story.scenes] == [
        (OPENING_SCENE, "", 3), ("harbor", "A small harbor.", 4)
    ]
    assert [(l.index, l.scene) for l in story.lines] == [(1, OPENING_SCENE), (2, "harbor")]


def test_no_opening_scene_without_lines_before_the_first_scene():
    story = parse("# c\ntitle: T\n(harbor)\n[m] hi")
    assert [(s.id, s.description) for s in story.scenes] == [("harbor", "")]


def test_scene_without_lines_is_accepted():
    story = parse("(a) empty\n(b) full\n[m] hi")
    assert [(s.id, len(s.items)) for s in story.scenes] == [("a", 0), ("b", 1)]


@pytest.mark.parametrize(
    "scene_id",
    ["harbor", "scene_1.2", "1st", "a-b", "Harbor", "café", "海辺", "Ünter_see", "a" * 48],
)
def test_valid_scene_ids_are_kept_as_written(scene_id):
    assert parse(f"({scene_id}) x\n[m] hi").scenes[0].id == scene_id


@pytest.mark.parametrize(
    "text, line, column, fragment",
    [
        ("(harbor A small harbor", 1, 1, "unclosed '(': expected ')' to end the scene id"),
        ("  (harbor", 1, 3, "unclosed '('"),
        ("() x", 1, 1, "empty scene id"),
        ("(a/b) x", 1, 3, "'/'"),
        ("(a\\b) x", 1, 3, "'\\\\'"),
        ("(a..b) x", 1, 3, "'..'"),
        ("(..) x", 1, 2, "'..'"),
        ("(a.) ok\n(x/..) x", 2, 3, "'/'"),
        ("(a..b/c) x", 1, 3, "'..'"),
        ("(.hidden) x", 1, 2, "starts with '.'"),
        ("(-x) x", 1, 2, "starts with '-'"),
        ("(_x) x", 1, 2, "starts with '_'"),
        ("(a b) x", 1, 3, "' '"),
        ("(harbor A harbor (old)", 1, 8, "' '"),
        ("(a:b) x", 1, 3, "':'"),
        ("(" + "a" * 49 + ") x", 1, 50, "49 characters"),
    ],
)
def test_bad_scene_lines(text, line, column, fragment):
    reject(text + "\n[m] hi", line, column, fragment)


def test_duplicate_scene_id():
    reject("(a) x\n[m] hi\n\n  (a) y\n[m] hi", 4, 4, "duplicate scene id 'a'", "line 1")


def test_duplicate_scene_id_ignores_case():
    reject("(harbor) x\n[m] hi\n(Harbor) y", 3, 2, "'Harbor'", "line 1", "ignoring case")


def test_explicit_opening_after_lines_before_the_first_scene():
    reject("\n[m] hi\n(opening) x\n[m] hi", 3, 2, "implicit scene 'opening'", "line 2")


def test_explicit_opening_twice():
    error = reject("(opening) x\n[m] hi\n(opening) y", 3, 2, "scene 'opening' is on line 1")
    assert "implicit" not in error.message


def test_a_leading_cue_opens_the_implicit_scene_too():
    reject("{wind}\n(opening) x\n[m] hi", 2, 2, "implicit scene 'opening'", "line 1")


# -- speakers ------------------------------------------------------------------------------------


def test_speaker_names_are_case_folded_and_gender_prefixes_stripped():
    story = parse("[Mara] a\n[mara] b\n[FEMALE_Fox] c\n[female_fox] d\n[Male_Tobias] e")
    assert speakers(story) == [("mara", None, 1), ("fox", "female", 3), ("tobias", "male", 5)]
    assert [l.speaker for l in story.lines] == ["mara", "mara", "fox", "fox", "tobias"]


def test_first_gender_seen_wins():
    story = parse("[fox] a\n[female_fox] b\n[male_fox] c")
    assert speakers(story) == [("fox", "female", 1)]


def test_narrator_tag_and_prose_are_the_narrator():
    story = parse("[mara] hi\nThe fog came.\n[Narrator] It stayed.")
    assert speakers(story) == [("mara", None, 1), (NARRATOR, None, 2)]
    assert [l.speaker for l in story.lines] == ["mara", NARRATOR, NARRATOR]


def test_narrator_is_a_character_only_when_it_speaks():
    assert speakers(parse("[mara] hi\n{door}")) == [("mara", None, 1)]


@pytest.mark.parametrize(
    "tag, name",
    [("zoë", "zoë"), ("Ана", "ана"), ("हिन्दी", "हिन्दी"), ("x_2", "x_2"), ("_x", "_x")],
)
def test_unicode_speaker_names(tag, name):
    assert speakers(parse(f"[{tag}] hi")) == [(name, None, 1)]


def test_decomposed_and_composed_names_are_one_speaker():
    story = parse(unicodedata.normalize("NFD", "[zoë] a\n") + "[ZOË] b")
    assert speakers(story) == [("zoë", None, 1)]


@pytest.mark.parametrize(
    "text, column, fragment",
    [
        ("[mara Hello", 1, "unclosed '[': expected ']' to end the speaker tag"),
        ("   [mara", 4, "unclosed '['"),
        ("[] hi", 1, "empty speaker tag"),
        ("[ma/ra] hi", 4, "'/'"),
        ("[a\\b] hi", 3, "'\\\\'"),
        ("[..] hi", 2, "'.'"),
        ("[dr.who] hi", 4, "'.'"),
        ("[old man] hi", 5, "' '"),
        ("[mara-2] hi", 6, "'-'"),
        ("[male_] hi", 7, "gender prefix but no name"),
        ("[FEMALE_] hi", 9, "gender prefix but no name"),
        ("[" + "a" * 49 + "] hi", 50, "49 characters"),
        ("[male_" + "a" * 49 + "] hi", 55, "49 characters"),
        ("[mara]", 7, "[mara] has nothing to say"),
        ("  [mara]   ", 9, "nothing to say"),
        ("[mara] {door}", 8, "own line"),
        ("[mara] (sighs)", 8, "only stage directions"),
        ("[mara]   (sighs) (shrugs)  ", 10, "only stage directions"),
    ],
)
def test_bad_speaker_lines(text, column, fragment):
    reject("[m] first\n" + text, 2, column, fragment)


# -- stage directions ----------------------------------------------------------------------------


def test_stage_directions_anywhere_are_hints_not_text():
    line = parse("[elias] (quietly) Then we (pause) light it (  again, softly ).").lines[0]
    assert line.text == "Then we light it."
    assert line.hints == ["quietly", "pause", "again, softly"]


def test_no_space_is_left_before_punctuation_where_a_hint_or_cue_was():
    story = parse("[m] Light it (softly). Now {click}, then (pause)!")
    assert story.lines[0].text == "Light it. Now, then!"


def test_narrator_prose_may_carry_stage_directions():
    line = parse("The fog came (ominously) in.").lines[0]
    assert (line.speaker, line.text, line.hints) == (NARRATOR, "The fog came in.", ["ominously"])


def test_stray_closing_brackets_are_text():
    assert parse("[m] a) apples, b} pears").lines[0].text == "a) apples, b} pears"


def test_square_brackets_inside_a_line_are_text():
    assert parse("[m] see [note] here").lines[0].text == "see [note] here"


@pytest.mark.parametrize(
    "text, column, fragment",
    [
        ("[mara] Hello (softly there", 14, "unclosed '(': expected ')' to end the stage direction"),
        ("[mara] (softly} there", 8, "unclosed '('"),
        ("[mara] (very (very) softly) hi", 14, "'(' inside the stage direction opened on column 8"),
        ("[mara] (a {b}) hi", 11, "'{' inside the stage direction"),
        ("[mara] () hi", 8, "empty stage direction"),
        ("[mara] hi (   ) there", 11, "empty stage direction"),
    ],
)
def test_bad_stage_directions(text, column, fragment):
    reject(text, 1, column, fragment)


# -- sound cues ----------------------------------------------------------------------------------


def test_cue_lines_are_between_lines():
    story = parse("{wind}\n[m] one\n  {  a   door }  \n[m] two\n{x} {y}")
    cues = [(c.index, c.text, c.anchor, c.line, c.position, c.lineno) for c in story.cues]
    assert cues == [
        (1, "wind", "between", 0, 0.0, 1),
        (2, "a door", "between", 1, 0.0, 3),
        (3, "x", "between", 2, 0.0, 5),
        (4, "y", "between", 2, 0.0, 5),
    ]


def test_inline_cues_sit_at_their_place_in_the_spoken_text():
    story = parse("[m] Hello {door} world\n[m] {a}Start (hint) and end.{b}")
    first, second = story.lines
    assert first.text == "Hello world"
    assert [(c.anchor, c.line, c.position) for c in story.cues] == [
        ("inline", 1, pytest.approx(6 / 11)),
        ("inline", 2, 0.0),
        ("inline", 2, 1.0),
    ]
    assert second.text == "Start and end."


def test_cues_are_numbered_in_order_of_appearance():
    story = parse("{a}\n[m] x {b} y {c}\n{d}\nPlain {e} prose.")
    assert [(c.index, c.text, c.anchor, c.line) for c in story.cues] == [
        (1, "a", "between", 0), (2, "b", "inline", 1), (3, "c", "inline", 1),
        (4, "d", "between", 1), (5, "e", "inline", 2),
    ]
    # Inline cues follow their line in the scene.
    assert [type(i).__name__ + str(i.index) for i in story.scenes[0].items] == [
        "Cue1", "Line1", "Cue2", "Cue3", "Cue4", "Line2", "Cue5"
    ]


def test_a_line_starting_with_a_cue_and_going_on_is_narration():
    story = parse("{thunder} The storm broke.")
    assert [(l.speaker, l.text) for l in story.lines] == [(NARRATOR, "The storm broke.")]
    assert [(c.anchor, c.line, c.position) for c in story.cues] == [("inline", 1, 0.0)]


def test_items_carry_their_scene():
    story = parse("[m] a\n(b) desc\n{c}\n[m] d")
    assert [(type(i), i.scene) for s in story.scenes for i in s.items] == [
        (Line, OPENING_SCENE), (Cue, "b"), (Line, "b")
    ]


@pytest.mark.parametrize(
    "text, column, fragment",
    [
        ("{a distant horn", 1, "unclosed '{': expected '}' to end the sound cue"),
        ("[m] The door {creaks", 14, "unclosed '{'"),
        ("{}", 1, "empty sound cue"),
        ("  {   }", 3, "empty sound cue"),
        ("[m] hi {} there", 8, "empty sound cue"),
        ("[m] Hi {wind (far)} there", 14, "'(' inside the sound cue opened on column 8"),
        ("{a {b}}", 4, "'{' inside the sound cue"),
        ("{door} (slams)", 1, "only stage directions"),
    ],
)
def test_bad_cues(text, column, fragment):
    reject("[m] first\n" + text, 2, column, fragment)


# -- encodings and files -------------------------------------------------------------------------


def test_bom_is_not_a_column_and_crlf_is_not_text():
    story = parse("\ufefftitle: T\r\n[m] hi  \r\n\r\n{door}\r\n")
    assert (story.title, story.lines[0].text, story.cues[0].lineno) == ("T", "hi", 4)
    reject("\ufeff[mara Hello\r\n", 1, 1, "unclosed '['")
    reject("\ufeff[m] hi\r\n\r\n  [x/y] no\r\n", 3, 5, "'/'")


def test_parse_story_defaults_the_slug_to_the_folder(tmp_path):
    path = tmp_path / "my-story-2" / "story.txt"
    path.parent.mkdir()
    path.write_text("[m] hi", encoding="utf-8")
    story = parse_story(path)
    assert (story.slug, story.title, story.path) == ("my-story-2", "My Story 2", path)
    assert parse_story(str(path), "other").slug == "other"


@pytest.mark.parametrize("folder", ["My-Story", "my_story", "mystory!", "café"])
def test_folder_that_is_not_a_slug(tmp_path, folder):
    path = tmp_path / folder / "story.txt"
    path.parent.mkdir()
    path.write_text("[m] hi", encoding="utf-8")
    with pytest.raises(StoryError) as info:
        parse_story(path)
    assert (info.value.line, info.value.column) == (1, 1)
    assert repr(folder) in info.value.message
    assert "lowercase letters, digits and '-'" in info.value.message


def test_parse_text_checks_the_slug_too():
    with pytest.raises(StoryError, match=r"^x:1:1: story folder '\.\.'"):
        parse_text("[m] hi", "x", "..")


@pytest.mark.parametrize(
    "data, line, column",
    [
        (b"title: x\n[m] caf\xe9 ok\n", 2, 8),
        (b"[m] \xc3\xa9\xc3\xa9 \xff\n", 1, 8),
        (b"\xef\xbb\xbf[m] \x80", 1, 5),
        (b"[m] a\r\n[m] b\r\n\r\n\xfe", 4, 1),
    ],
)
def test_file_that_is_not_utf8(tmp_path, data, line, column):
    path = tmp_path / "s" / "story.txt"
    path.parent.mkdir()
    path.write_bytes(data)
    with pytest.raises(StoryError) as info:
        parse_story(path)
    assert (info.value.line, info.value.column) == (line, column)
    assert str(info.value).startswith(f"{path}:{line}:{column}: not UTF-8")


def test_file_over_5_mb(tmp_path):
    path = tmp_path / "big" / "story.txt"
    path.parent.mkdir()
    path.write_bytes(b"[m] hi\n" + b"#" * (5 * 1024 * 1024 - 7) + b"\n")
    with pytest.raises(StoryError) as info:
        parse_story(path)
    assert (info.value.line, info.value.column) == (1, 1)
    assert "over 5 MB" in info.value.message


def test_file_of_exactly_5_mb_is_accepted(tmp_path):
    path = tmp_path / "big" / "story.txt"
    path.parent.mkdir()
    comment = b"#" * 999 + b"\n"
    head = b"[m] hi\n"
    body = comment * ((parser.MAX_FILE_BYTES - len(head)) // len(comment))
    path.write_bytes(head + body + b"#" * (parser.MAX_FILE_BYTES - len(head) - len(body)))
    assert path.stat().st_size == parser.MAX_FILE_BYTES
    assert len(parse_story(path).lines) == 1


def test_missing_file(tmp_path):
    with pytest.raises(StoryError, match="cannot read the story") as info:
        parse_story(tmp_path / "gone" / "story.txt")
    assert isinstance(info.value.__cause__, OSError)


# -- path safety ---------------------------------------------------------------------------------


def _safe(name: str) -> bool:
    unsafe = "/" in name or "\\" in name or ".." in name
    return bool(name) and not unsafe and name[0] != "."


def test_no_id_can_become_an_unsafe_file_name():
    # Random lines built from the characters that matter: either a StoryError or only safe ids.
    rng = random.Random(1234)
    alphabet = "ab./\\-_ ()[]{}é#:"
    parsed = 0
    for _ in range(3000):
        text = "\n".join(
            "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12))) for _ in range(3)
        )
        try:
            story = parse(text)
        except StoryError:
            continue
        parsed += 1
        assert all(_safe(scene.id) for scene in story.scenes), text
        assert all(_safe(c.name) for c in story.characters), text
    assert parsed > 100  # the fuzzing reached stories that parse


# -- speed ---------------------------------------------------------------------------------------


def test_a_hundred_stories_of_forty_lines_parse_in_well_under_0_2_s():
    text = "title: T\n" + "".join(
        f"({'scene'}{i})  A place.\nThe fog came {{wind}} in.\n[mara] (softly) Line {i}.\n"
        f"[female_fox] Yes!\n{{door}}\n[elias] No, ({'firmly'}) no.\n"
        for i in range(8)
    )
    assert len(parse(text).lines) == 32
    best = min(_time_hundred(text) for _ in range(3))
    assert best < 0.2, f"100 stories took {best:.3f} s"


def _time_hundred(text: str) -> float:
    # CPU time, so a busy test machine does not charge its other work to the parser.
    start = time.process_time()
    for _ in range(100):
        parse(text)
    return time.process_time() - start
