"""The chat client against a loopback server: structured output, fallbacks, retries, limits."""

from __future__ import annotations

import json
import threading
import time

import httpx
import pytest
from pydantic import BaseModel, ConfigDict

from storybuild.backends.context import JobContext, job_context
from storybuild.clients.openai_compat import ChatClient, ServerFailed, extract_json, strip_reasoning
from storybuild.errors import BackendError, BackendUnavailable, TransientError

from servers.openai_server import Reply

MODEL = "qwen/qwen3-14b"


class Place(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    indoor: bool


def client(server, **kwargs) -> ChatClient:
    return ChatClient(server.url, backoff=0.01, **{"timeout": 5.0, **kwargs})


def ask(server, **kwargs) -> Place:
    return client(server, **kwargs).ask(MODEL, [{"role": "user", "content": "where?"}], Place, name="place",
                                        max_tokens=256, temperature=0.2, seed=7)


def test_valid_json_sends_the_schema_and_sampling(llm_server):
    llm_server.script = [Reply('{"name": "harbor", "indoor": false}')]
    assert ask(llm_server) == Place(name="harbor", indoor=False)
    (request,) = llm_server.chats
    form = request.body["response_format"]
    assert form["type"] == "json_schema" and form["json_schema"]["strict"] is True
    assert form["json_schema"]["name"] == "place"
    assert form["json_schema"]["schema"]["required"] == ["name", "indoor"]
    assert request.body["seed"] == 7 and request.body["temperature"] == 0.2 and request.body["max_tokens"] == 256
    assert request.body["stream"] is False and "authorization" not in {k.lower() for k in request.headers}


def test_bearer_key_only_when_configured(llm_server):
    llm_server.script = [Reply('{"name": "a", "indoor": true}')]
    ask(llm_server, api_key="sk-test")
    assert llm_server.chats[0].headers["Authorization"] == "Bearer sk-test"


def test_think_tags_fences_and_reasoning_content_are_ignored(llm_server):
    llm_server.script = [
        Reply('<think>The harbor {is} outdoors.</think>\n```json\n{"name": "harbor", "indoor": false}\n```',
              reasoning="lots of thought {not json}"),
    ]
    assert ask(llm_server).name == "harbor"


def test_reasoning_helpers():
    assert strip_reasoning("<think>a</think> b") == "b"
    assert strip_reasoning("<think>never closed {") == ""
    assert extract_json('Here it is: {"a": 1} hope that helps') == '{"a": 1}'


def test_invalid_json_is_fed_back_then_valid(llm_server):
    llm_server.script = [Reply("harbor, outdoors"), Reply('{"name": "harbor", "indoor": false}')]
    assert ask(llm_server).name == "harbor"
    first, second = llm_server.chats
    assert second.body["messages"][-2] == {"role": "assistant", "content": "harbor, outdoors"}
    assert "not valid" in second.body["messages"][-1]["content"] and "JSON" in second.body["messages"][-1]["content"]


def test_schema_violations_retry_up_to_attempts_then_fail(llm_server):
    llm_server.handler = lambda request: Reply('{"name": "harbor", "indoor": "maybe", "extra": 1}')
    with pytest.raises(BackendError) as caught:
        client(llm_server).ask(MODEL, [{"role": "user", "content": "q"}], Place, name="place", attempts=3)
    assert len(llm_server.chats) == 3
    message = str(caught.value)
    assert llm_server.url in message and MODEL in message and "indoor" in message
    assert caught.value.service == llm_server.url
    assert "indoor" in llm_server.chats[1].body["messages"][-1]["content"]


def test_cut_answer_fails_clearly_without_retry(llm_server):
    llm_server.handler = lambda request: Reply('{"name": "har', finish_reason="length")
    with pytest.raises(BackendError, match=r"cut at max_tokens=256; raise \[llm\] options.max_tokens"):
        ask(llm_server)
    assert len(llm_server.chats) == 1


def test_http_500_is_retried_with_backoff(llm_server):
    client(llm_server).models()  # the mode is learnt on a healthy server first
    llm_server.script = [Reply('{"name": "a", "indoor": true}')]
    ask(llm_server)
    llm_server.script = [Reply(status=500), Reply(status=503), Reply('{"name": "b", "indoor": true}')]
    assert ask(llm_server).name == "b"
    assert len(llm_server.chats) == 4


def test_persistent_500_becomes_transient_error_naming_url_and_model(llm_server):
    llm_server.handler = lambda request: Reply(status=500, error={"message": "CUDA out of memory"})
    with pytest.raises(TransientError) as caught:
        client(llm_server, retries=2).complete(MODEL, [{"role": "user", "content": "q"}])
    assert isinstance(caught.value, ServerFailed) and caught.value.status == 500
    assert llm_server.url in str(caught.value) and MODEL in str(caught.value) and "CUDA" in str(caught.value)
    assert len(llm_server.chats) == 3


def test_json_schema_rejected_falls_back_to_json_object_and_remembers(llm_server):
    llm_server.reject_json_schema = True
    llm_server.handler = lambda request: Reply('{"name": "harbor", "indoor": false}')
    assert ask(llm_server).name == "harbor"
    assert ask(llm_server).name == "harbor"  # a second client, same server: no second probe
    modes = [request.response_format for request in llm_server.chats]
    assert modes == ["json_schema", "json_object", "json_object"]
    fallback = llm_server.chats[1]
    assert fallback.body["response_format"]["schema"]["required"] == ["name", "indoor"]
    assert '"indoor"' in fallback.body["messages"][0]["content"]  # the schema spelled out too


def test_no_response_format_at_all_falls_back_to_plain(llm_server):
    def handler(request):
        if request.response_format:
            return Reply(status=400, error="'response_format' is not supported")
        return Reply('{"name": "cellar", "indoor": true}')

    llm_server.handler = handler
    assert ask(llm_server).indoor is True
    assert [r.response_format for r in llm_server.chats] == ["json_schema", "json_object", None]
    assert "JSON Schema" in llm_server.chats[-1].prompt


def test_hang_past_timeout_fails_once_naming_the_setting(llm_server):
    llm_server.script = [Reply('{"name": "a", "indoor": true}', delay=2.0)]
    started = time.monotonic()
    with pytest.raises(TransientError, match=r"no answer within 0.5s.*llm_timeout"):
        client(llm_server, timeout=0.5).complete(MODEL, [{"role": "user", "content": "q"}])
    assert time.monotonic() - started < 1.8
    assert len(llm_server.chats) == 1


def test_streamed_reply_reports_tokens_to_the_job(llm_server, tmp_path):
    llm_server.chunk_delay = 0.02
    content = json.dumps({"name": "a lighthouse on a point above the black water", "indoor": False})
    llm_server.script = [Reply(f"<think>hmm</think>{content}", reasoning="let me think about it")]
    seen: list[str] = []
    context = JobContext(stage="scene_prompt", item="lamp/harbor", key="k", state_dir=tmp_path, progress=seen.append)
    with job_context(context):
        answer = ask(llm_server)
    assert answer.name.startswith("a lighthouse")
    assert llm_server.chats[0].body["stream"] is True
    assert len(seen) >= 2 and seen[-1].startswith(f"llm {MODEL} ") and "tokens" in seen[-1]
    assert int(seen[-1].split()[2]) > 5


def test_unknown_model_is_refused_with_what_to_do(llm_server):
    with pytest.raises(BackendError, match=r"model 'qwen/nope' not found.*lms load qwen/nope"):
        client(llm_server).complete("qwen/nope", [{"role": "user", "content": "q"}])
    assert len(llm_server.chats) == 1  # a 4xx is not retried


def test_models_and_server_down(llm_server):
    assert client(llm_server).models() == [MODEL]
    url = llm_server.url
    llm_server.stop()
    with pytest.raises(BackendUnavailable, match=r"lms server start.*LM_STUDIO_BASE_URL") as caught:
        ChatClient(url, backoff=0.01, retries=1).complete(MODEL, [{"role": "user", "content": "q"}])
    assert url in str(caught.value) and MODEL in str(caught.value)


def test_garbage_body_is_a_clear_error(llm_server):
    llm_server.script = [Reply(raw="<html>proxy error</html>")]
    with pytest.raises(BackendError, match="not a chat completion"):
        client(llm_server).complete(MODEL, [{"role": "user", "content": "q"}])


def test_in_flight_limit_holds_across_threads(llm_server):
    llm_server.handler = lambda request: Reply('{"name": "a", "indoor": true}', delay=0.05)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            ask(llm_server, max_in_flight=2)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and len(llm_server.chats) == 6
    assert llm_server.max_in_flight == 2


def test_injected_transport():
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"object": "list", "data": [{"id": "m1"}, {"id": "m2"}]})

    chat = ChatClient("http://example.invalid/v1", http=httpx.Client(transport=httpx.MockTransport(handler)))
    assert chat.models() == ["m1", "m2"]


def test_stop_request_ends_a_streamed_answer_between_tokens(llm_server, tmp_path):
    from storybuild.stopping import Stopped, stop_requested

    llm_server.chunk_delay = 0.05
    llm_server.script = [Reply('{"name": "' + "very long answer " * 40 + '", "indoor": true}')]
    context = JobContext(stage="metadata", item="x", key="k", state_dir=tmp_path)
    timer = threading.Timer(0.3, stop_requested.set)
    timer.start()
    started = time.monotonic()
    try:
        with job_context(context), pytest.raises(Stopped):
            ask(llm_server)
    finally:
        timer.cancel()
        stop_requested.clear()  # process-wide: later tests must not see this test's stop
    assert time.monotonic() - started < 2.0  # the whole answer would take about 9 s
