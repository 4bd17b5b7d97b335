"""The openai language-model backend against a loopback server: questions, prompts, recipe, health."""

from __future__ import annotations

import json
import threading

import pytest

from storybuild.backends.llm.openai import OpenAILLM
from storybuild.config import ServerSettings
from storybuild.errors import BackendUnavailable, ConfigError
from storybuild.story import parse_story

from servers.openai_server import OpenAIServer, Reply

MODEL = "qwen/qwen3-14b"
STORY = """\
title: Die kleine Glocke
language: de
style: soft pastel, storybook

(yard) A farmyard at dawn, a red barn, mist over the grass.
The bell rang once and the barn door slammed.
[female_ada] Wer hat geläutet?
{a bell ringing}
[male_bo] (quietly) Ich nicht.
(barn) Inside the barn at night, a lamp on a hook, hay bales.
[ada] Wer dann? Someone is knocking.
"""

ANSWERS = {
    "cast": {"characters": [
        {"name": "BO", "gender": "male", "age": "child", "look": "a small boy in a blue smock", "voice": "quick, bright"},
        {"name": "ada", "gender": "unknown", "age": "teen", "look": "a tall girl with braids", "voice": "clear"},
    ]},
    "scene_prompt": {
        "prompt": "a farmyard at dawn, soft pastel", "setting": "outdoor", "place": "farmyard",
        "props": ["red barn"], "time_of_day": "dawn", "weather": "fog",
        "characters": [{"name": "Ada", "position": "left"}, {"name": "stranger", "position": "right"}],
        "camera": "zoom in",
    },
    "infer_cues": {"cues": [
        {"line": "0001", "position": 0.8, "duration": 1.5, "text": "barn door slams"},
        {"line": "0002", "position": 0.5, "duration": 1.0, "text": "bell"},  # already has a {cue}
        {"line": "0099", "position": 0.5, "duration": 1.0, "text": "nothing"},  # no such line
        {"line": "0004", "position": 0.9, "duration": 2.0, "text": "knocking on wood"},
    ]},
    "metadata": {
        "title": "A Bell at Dawn", "description": "Who rang the bell?", "tags": ["glocke", "bauernhof"],
        "category": "Film & Animation", "thumbnail_caption": "Wer hat geläutet?",
    },
}


def answer(request) -> Reply:
    """Answer each question by the schema name the client sends."""
    name = request.body["response_format"]["json_schema"]["name"]
    return Reply(json.dumps(ANSWERS[name]))


@pytest.fixture
def story(tmp_path):
    path = tmp_path / "stories" / "bell" / "story.txt"
    path.parent.mkdir(parents=True)
    path.write_text(STORY, encoding="utf-8")
    return parse_story(path, "bell")


@pytest.fixture
def backend(llm_server: OpenAIServer, tmp_path, monkeypatch) -> OpenAILLM:
    monkeypatch.chdir(tmp_path)  # the project root: prompts/ overrides live here
    llm_server.handler = answer
    return OpenAILLM({"model": MODEL}, servers=ServerSettings(llm_url=llm_server.url))


def test_guess_cast_reads_the_script_in_the_story_language(backend, llm_server, story):
    guesses = backend.guess_cast(story, ["ada", "bo", "narrator_friend"])
    assert [g.name for g in guesses] == ["ada", "bo", "narrator_friend"]
    ada, bo, missing = guesses
    assert ada.gender is None and ada.age == "teen" and ada.look == "a tall girl with braids"
    assert bo.gender == "male" and bo.voice == "quick, bright"
    assert missing.look == "" and missing.gender is None
    (request,) = llm_server.chats
    assert request.body["model"] == MODEL and request.body["seed"] == 0 and request.body["temperature"] == 0.2
    assert "German" in request.prompt and "[bo] Ich nicht." in request.prompt and "ada, bo, narrator_friend" in request.prompt
    assert request.body["messages"][0]["role"] == "system"


def test_scene_prompt_keeps_only_the_scenes_speakers(backend, llm_server, story):
    shown = backend.scene_prompt(story, story.scenes[0], "soft pastel, storybook")
    assert shown.place == "farmyard" and shown.time_of_day == "dawn" and shown.weather == "fog"
    assert [(c.name, c.position) for c in shown.characters] == [("ada", "left")]
    assert shown.camera == "zoom in"
    prompt = llm_server.chats[0].prompt
    assert "A farmyard at dawn" in prompt and "soft pastel, storybook" in prompt and "ada, bo" in prompt


def test_infer_cues_drops_cued_and_unknown_lines(backend, llm_server, story):
    cues = backend.infer_cues(story)
    assert [(c.line, c.text) for c in cues] == [("0001", "barn door slams"), ("0004", "knocking on wood")]
    prompt = llm_server.chats[0].prompt
    assert "0004 [ada] Wer dann? Someone is knocking." in prompt and "(leave them out): 0002" in prompt


def test_metadata_keeps_the_storys_own_title(backend, llm_server, story):
    meta = backend.metadata(story)
    assert meta.title == "Die kleine Glocke" and meta.tags == ["glocke", "bauernhof"]
    assert 'exactly "Die kleine Glocke"' in llm_server.chats[0].prompt


def test_no_think_is_appended_when_asked(llm_server, story, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    llm_server.handler = answer
    backend = OpenAILLM({"model": MODEL, "think": False}, servers=ServerSettings(llm_url=llm_server.url))
    backend.metadata(story)
    assert llm_server.chats[0].body["messages"][-1]["content"].endswith(" /no_think")


def test_question_identity_follows_the_template_in_use(backend, tmp_path):
    packaged = {q: backend.question_identity(q) for q in ("cast", "scene_prompt", "infer_cues", "metadata")}
    assert len(set(packaged.values())) == 4 and all(v.startswith("prompt/1 ") for v in packaged.values())
    (tmp_path / "prompts").mkdir()
    (tmp_path / "prompts" / "metadata.md").write_text("Title for $title\n---\nNow: $script", encoding="utf-8")
    fresh = OpenAILLM({"model": MODEL}, servers=backend.servers)
    assert fresh.question_identity("metadata") != packaged["metadata"]
    assert fresh.question_identity("cast") == packaged["cast"]


def test_override_with_unknown_placeholder_names_the_file(llm_server, story, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "prompts").mkdir()
    (tmp_path / "prompts" / "cast.md").write_text("Describe $people", encoding="utf-8")
    backend = OpenAILLM({"model": MODEL}, servers=ServerSettings(llm_url=llm_server.url))
    with pytest.raises(ConfigError, match=r"prompts/cast.md: unknown placeholder \$people"):
        backend.guess_cast(story, ["ada"])
    assert llm_server.chats == []


def test_recipe_holds_the_effective_model_and_not_connection_settings(monkeypatch):
    monkeypatch.delenv("LM_STUDIO_MODEL", raising=False)
    recipe = OpenAILLM.recipe({"model": MODEL, "retries": 5, "prompts_dir": "elsewhere"})
    assert recipe["options"]["model"] == MODEL and "retries" not in recipe["options"]
    assert "prompts_dir" not in recipe["options"] and recipe["backend"] == "openai"
    assert OpenAILLM.recipe({}, servers=ServerSettings(llm_model="other/m"))["options"]["model"] == "other/m"
    monkeypatch.setenv("LM_STUDIO_MODEL", "env/m")
    assert OpenAILLM.recipe({})["options"]["model"] == "env/m"
    monkeypatch.delenv("LM_STUDIO_MODEL")
    with pytest.raises(ConfigError, match="LM_STUDIO_MODEL"):
        OpenAILLM.recipe({})


def test_unknown_model_fails_the_health_check_with_what_to_do(llm_server, story):
    backend = OpenAILLM({"model": "qwen/qwen3-32b"}, servers=ServerSettings(llm_url=llm_server.url))
    (problem,) = backend.check()
    assert problem == (
        f"model qwen/qwen3-32b is not loaded on {llm_server.url}; loaded: {MODEL}; "
        "run `lms load qwen/qwen3-32b` or set [llm] options.model"
    )
    with pytest.raises(BackendUnavailable) as caught:
        backend.metadata(story)
    assert caught.value.service == llm_server.url and llm_server.chats == []


def test_health_check_once_per_server_across_threads(llm_server, story, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    llm_server.handler = answer
    servers = ServerSettings(llm_url=llm_server.url, llm_max_in_flight=1)
    backends = [OpenAILLM({"model": MODEL}, servers=servers) for _ in range(2)]
    threads = [
        threading.Thread(target=backends[i % 2].scene_prompt, args=(story, story.scenes[i % 2], "pastel"))
        for i in range(6)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [r.path for r in llm_server.requests if r.method == "GET"] == ["/v1/models"]
    assert len(llm_server.chats) == 6 and llm_server.max_in_flight == 1


def test_server_down_names_url_model_and_remedy(story, tmp_path):
    server = OpenAIServer().start()
    url = server.url
    server.stop()
    backend = OpenAILLM({"model": MODEL}, servers=ServerSettings(llm_url=url))
    backend.client().backoff = 0.01
    (problem,) = backend.check()
    assert url in problem and MODEL in problem and "lms server start" in problem and "LM_STUDIO_BASE_URL" in problem


def test_api_key_from_the_named_variable(llm_server, story, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MY_LLM_KEY", "sk-local")
    llm_server.handler = answer
    backend = OpenAILLM({"model": MODEL}, servers=ServerSettings(llm_url=llm_server.url, llm_api_key_env="MY_LLM_KEY"))
    backend.metadata(story)
    assert {r.headers.get("Authorization") for r in llm_server.requests} == {"Bearer sk-local"}
