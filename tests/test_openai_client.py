"""The official ``openai`` client against the real server: what an OpenAI user's code gets."""

import openai
import pytest

from nava_instruct.serving.testing import running

PROMPT = "### Instruction:\nWrite NAVA code from (0,0) to (3,4) on the plane.\n\n### Response:\n"
MESSAGES = [{"role": "user", "content": "Write NAVA code from (0,0) to (3,4) on the plane."}]


@pytest.fixture(scope="module")
def client(tiny_smol_stages):
    with running(tiny_smol_stages / "gguf" / "model-Q4_K_M.gguf", api_key="k3y") as url:
        yield openai.OpenAI(base_url=url + "/v1", api_key="k3y", max_retries=0, timeout=60)


def test_models(client):
    assert [model.id for model in client.models.list()] == ["model-Q4_K_M"]


def test_completion_and_chat_answer_alike(client):
    completion = client.completions.create(model="model-Q4_K_M", prompt=PROMPT, max_tokens=8)
    chat = client.chat.completions.create(model="model-Q4_K_M", messages=MESSAGES, max_tokens=8)
    assert completion.choices[0].finish_reason == chat.choices[0].finish_reason == "length"
    assert chat.choices[0].message.content == completion.choices[0].text != ""
    assert completion.usage.completion_tokens == chat.usage.completion_tokens == 8


def test_streamed_completion(client):
    whole = client.completions.create(model="model-Q4_K_M", prompt=PROMPT, max_tokens=12).choices[0].text
    chunks = list(client.completions.create(model="model-Q4_K_M", prompt=PROMPT, max_tokens=12, stream=True))
    assert "".join(chunk.choices[0].text for chunk in chunks) == whole
    assert chunks[-1].choices[0].finish_reason == "length"


def test_streamed_chat(client):
    whole = client.chat.completions.create(model="model-Q4_K_M", messages=MESSAGES, max_tokens=12)
    chunks = list(client.chat.completions.create(model="model-Q4_K_M", messages=MESSAGES, max_tokens=12, stream=True))
    assert chunks[0].choices[0].delta.role == "assistant"
    assert "".join(chunk.choices[0].delta.content or "" for chunk in chunks) == whole.choices[0].message.content
    assert chunks[-1].choices[0].finish_reason == "length"


def test_a_stream_asked_for_usage_ends_with_it(client):
    options = {"model": "model-Q4_K_M", "messages": MESSAGES, "max_tokens": 12, "stream": True}
    chunks = list(client.chat.completions.create(**options, stream_options={"include_usage": True}))
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == 12
    assert chunks[-2].choices[0].finish_reason == "length" and chunks[-2].usage is None
    assert all(chunk.usage is None for chunk in client.chat.completions.create(**options))


def test_extra_body_reaches_the_server(client):
    def text(**options) -> str:
        return client.completions.create(model="model-Q4_K_M", prompt=PROMPT, max_tokens=24, **options).choices[0].text

    assert text(extra_body={"grammar": "nava"}) != text()
    assert text(extra_body={"grammar": "none"}) == text()


@pytest.mark.parametrize("stream", [False, True])
def test_a_refused_request_is_a_bad_request_error(client, stream):
    with pytest.raises(openai.BadRequestError, match="field 'max_tokens'") as refused:
        client.completions.create(model="model-Q4_K_M", prompt=PROMPT, max_tokens=0, stream=stream)
    assert refused.value.status_code == 400
    with pytest.raises(openai.BadRequestError, match="field 'prompt'"):
        client.completions.create(model="model-Q4_K_M", prompt="", stream=stream)


def test_a_wrong_key_is_an_authentication_error(client):
    with pytest.raises(openai.AuthenticationError):
        client.with_options(api_key="wrong").models.list()
