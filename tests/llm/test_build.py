"""End to end: real doit builds asking the loopback server; answers are artifacts, asked once."""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest

from servers.openai_server import OpenAIServer, Reply

MODEL, OTHER = "qwen/qwen3-14b", "mistral/small"
ASK = ["cast", "scene_prompt", "cues", "metadata"]


def answer(request) -> Reply:
    """A valid answer to whichever question the request asks (by its schema name)."""
    name = request.body["response_format"]["json_schema"]["name"]
    if name == "cast":
        names = re.search(r"Describe these characters: (.*)\.", request.prompt).group(1).split(", ")
        body = {"characters": [
            {"name": n, "gender": "female" if n == "ada" else "male", "age": "child",
             "look": f"{n} in a {request.body['model']} coat", "voice": "bright"} for n in names
        ]}
    elif name == "scene_prompt":
        body = {"prompt": "a picture", "setting": "outdoor", "place": "farm", "props": [], "time_of_day": None,
                "weather": None, "characters": [], "camera": "static"}
    elif name == "infer_cues":
        body = {"cues": [{"line": "0005", "position": 0.5, "duration": 1.0, "text": "wind in the hay"}]}
    else:
        body = {"title": "t", "description": "A bell rings.", "tags": ["bell"], "category": "Film & Animation",
                "thumbnail_caption": "The bell"}
    return Reply(json.dumps(body), delay=0.05)


def asked(server: OpenAIServer, since: int = 0) -> Counter:
    """How many times each question was asked since request number ``since``."""
    return Counter(r.body["response_format"]["json_schema"]["name"] for r in server.chats[since:])


def configure(project, url: str, model: str) -> None:
    (project.root / "storybuild.toml").write_text(
        f'[llm]\nbackend = "openai"\noptions = {{ model = "{model}" }}\n\n[servers]\nllm_url = "{url}"\n',
        encoding="utf-8",
    )


@pytest.fixture
def server():
    started = OpenAIServer(models=(MODEL, OTHER)).start()
    started.handler = answer
    yield started
    started.stop()


def test_answers_are_asked_once_and_kept_until_their_question_changes(project, server):
    project.add_story("tiny")
    configure(project, server.url, MODEL)
    tasks = ["cast:tiny", "scene_prompt:tiny", "cues:tiny", "metadata:tiny/answer"]

    project.doit("-n", "3", *tasks)
    assert asked(server) == {"cast": 1, "scene_prompt": 3, "infer_cues": 1, "metadata": 1}
    assert server.max_in_flight == 1  # a local server answers one at a time, whatever doit -n says
    assert all(r.body["stream"] for r in server.chats)  # build tasks stream, for the live token count
    cast = json.loads((project.build / "tiny" / "cast.json").read_text())
    assert {m["name"]: m["voice_description"] for m in cast["characters"] if m["name"] != "narrator"} == {
        "ada": "bright", "bo": "bright"
    }
    cues = json.loads((project.build / "tiny" / "cues.json").read_text())
    assert [c["text"] for c in cues] == ["wind in the hay"]
    assert [r.path for r in server.requests if r.method == "GET"] == ["/v1/models"]  # one health check

    before = len(server.requests)
    project.doit(*tasks)
    assert len(server.requests) == before  # nothing asked, not even the health check

    story = project.story("tiny")
    story.write_text(story.read_text().replace("one tree, the sea far away", "two trees, a windmill"))
    before = len(server.chats)
    project.doit(*tasks)
    # The scene's prompt, the metadata and the cast (it reads the scene descriptions) change.
    assert asked(server, before) == {"scene_prompt": 1, "metadata": 1, "cast": 1}
    (scene,) = [r for r in server.chats[before:] if r.body["response_format"]["json_schema"]["name"] == "scene_prompt"]
    assert "two trees, a windmill" in scene.prompt

    configure(project, server.url, OTHER)
    before = len(server.chats)
    project.doit(*tasks)
    assert asked(server, before) == {"cast": 1, "scene_prompt": 3, "infer_cues": 1, "metadata": 1}
    assert {r.body["model"] for r in server.chats[before:]} == {OTHER}

    configure(project, server.url, MODEL)
    before = len(server.requests)
    project.doit(*tasks)
    assert len(server.requests) == before  # switching back reuses every answer
    assert "qwen/qwen3-14b coat" in (project.build / "tiny" / "cast.json").read_text()

    (project.root / "prompts").mkdir()
    (project.root / "prompts" / "metadata.md").write_text("Publish $title.\n---\n$script\n$title_rule", encoding="utf-8")
    before = len(server.chats)
    project.doit(*tasks)
    assert asked(server, before) == {"metadata": 1}  # an edited template re-asks its question only
    assert server.chats[-1].body["messages"][0]["content"] == "Publish The Small Bell."


def test_server_down_fails_the_story_naming_url_model_and_remedy(project):
    gone = OpenAIServer().start()
    url = gone.url
    gone.stop()
    project.add_story("tiny")
    other = project.root / "stories" / "offline"
    other.mkdir()
    other.joinpath("story.txt").write_text(project.story("tiny").read_text(), encoding="utf-8")
    other.joinpath("story.toml").write_text('[llm]\nbackend = "rules"\n', encoding="utf-8")
    configure(project, url, MODEL)

    result = project.doit("cast", "scene_prompt", check=False, timeout=120)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert url in output and MODEL in output and "lms server start" in output and "LM_STUDIO_BASE_URL" in output
    assert (project.build / "offline" / "cast.json").is_file()
    assert len(list((project.build / "offline" / "prompts").glob("*.json"))) == 3
    assert not (project.build / "tiny" / "cast.json").exists()


def test_storybuild_check_names_a_model_that_is_not_loaded(project, server):
    project.add_story("tiny")
    configure(project, server.url, "qwen/qwen3-32b")
    result = project.storybuild("check")
    assert result.returncode != 0
    assert (
        f"model qwen/qwen3-32b is not loaded on {server.url}; loaded: {MODEL}, {OTHER}; run `lms load qwen/qwen3-32b`"
        in result.stdout + result.stderr
    )
    assert server.chats == []
