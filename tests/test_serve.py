"""``nava-instruct serve``: the real server in a subprocess on a loopback port, asked over real HTTP."""

import json
import threading
import urllib.request

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from helpers import CONVERTER, PROMPT, call, nava_prefix, stream, tiny_examples
from nava_instruct.cli import main
from nava_instruct.lm.prompting import prompt_ids, render
from nava_instruct.serving import API_KEY_ENV
from nava_instruct.serving.serve import MAX_BODY_BYTES
from nava_instruct.serving.testing import running
from nava_instruct.stages import convert


@pytest.fixture(scope="module")
def gguf(tiny_smol_stages):
    return tiny_smol_stages / "gguf" / "model-Q4_K_M.gguf"


@pytest.fixture(scope="module")
def server(gguf):
    with running(gguf) as url:
        yield url


@pytest.fixture(scope="module")
def keyed_server(gguf):
    with running(gguf, "--grammar", "nava", api_key="s3cret") as url:
        yield url


@pytest.fixture(scope="module")
def eos_server(tiny_smol_model, tmp_path_factory):
    """A model whose next token is always EOS: residual dimension 0 stays 1, and only EOS's row reads it."""
    model = AutoModelForCausalLM.from_pretrained(tiny_smol_model)
    with torch.no_grad():
        model.model.embed_tokens.weight[:, 0] = 1
        for layer in model.model.layers:
            layer.self_attn.o_proj.weight[0] = 0
            layer.mlp.down_proj.weight[0] = 0
        model.model.norm.weight.zero_()[0] = 1
        model.lm_head.weight.zero_()[model.config.eos_token_id, 0] = 1
    folder = tmp_path_factory.mktemp("eos")
    model.save_pretrained(folder)
    AutoTokenizer.from_pretrained(tiny_smol_model).save_pretrained(folder)
    convert.to_gguf_f16(folder, folder / "model-f16.gguf", CONVERTER, "eos")
    with running(folder / "model-f16.gguf") as url:
        yield url


def test_health_and_models(server):
    assert call(server + "/health") == (200, {"status": "ok", "model": "model-Q4_K_M"})
    status, models = call(server + "/v1/models")
    assert status == 200 and models["object"] == "list" and [m["id"] for m in models["data"]] == ["model-Q4_K_M"]


def test_completion_has_the_openai_shape(server):
    status, answer = call(server + "/v1/completions", {"model": "anything", "prompt": PROMPT, "max_tokens": 7, "n": 1})
    assert status == 200 and answer["object"] == "text_completion" and answer["model"] == "model-Q4_K_M"
    choice = answer["choices"][0]
    assert isinstance(choice["text"], str) and choice["text"] and choice["finish_reason"] == "length"
    usage = answer["usage"]
    assert usage["completion_tokens"] == 7 and usage["total_tokens"] == usage["prompt_tokens"] + 7 > 7


def test_chat_prompts_the_model_as_trained(server, tiny_smol_stages):
    tokenizer = AutoTokenizer.from_pretrained(tiny_smol_stages / "merged")
    for example in tiny_examples(2):
        prompt = render(example, tokenizer)[0]
        message = {"role": "user", "content": example["instruction"], "input": example["input"]}
        status, chat = call(server + "/v1/chat/completions", {"messages": [message], "max_tokens": 6})
        _, completion = call(server + "/v1/completions", {"prompt": prompt, "max_tokens": 6})
        assert status == 200 and chat["object"] == "chat.completion"
        assert chat["choices"][0]["message"] == {"role": "assistant", "content": completion["choices"][0]["text"]}
        assert chat["choices"][0]["finish_reason"] == "length"
        assert chat["usage"] == completion["usage"] and chat["usage"]["prompt_tokens"] == len(
            prompt_ids(tokenizer, prompt)
        )


@pytest.mark.parametrize(
    "path, body, status, message",
    [
        ("/v1/completions", b'{"prompt": "x",', 400, "malformed JSON"),
        ("/v1/completions", {"max_tokens": 3}, 400, "missing field 'prompt'"),
        ("/v1/completions", {"prompt": ""}, 400, "field 'prompt': String should have at least 1 character"),
        (
            "/v1/completions",
            {"prompt": PROMPT, "max_tokens": 300},
            400,
            "plus max_tokens (300) exceed the context of 256 tokens",
        ),
        ("/v1/completions", {"prompt": "x" * MAX_BODY_BYTES}, 413, f"request body over {MAX_BODY_BYTES} bytes"),
        ("/v1/completions", {"prompt": "", "stream": True}, 400, "field 'prompt'"),
        ("/v1/completions", {"prompt": PROMPT, "max_tokens": 300, "stream": True}, 400, "exceed the context"),
        ("/v1/chat/completions", {"messages": [], "stream": True}, 400, "field 'messages'"),
        ("/v1/completions", {"prompt": PROMPT, "grammar": "json"}, 400, "field 'grammar'"),
        ("/v1/chat/completions", {"messages": []}, 400, "field 'messages': List should have at least 1 item"),
        ("/v1/chat/completions", {"messages": [{"content": "hi"}]}, 400, "missing field 'messages.0.role'"),
        ("/v1/chat/completions", b"[1, 2]", 400, "request body: Input should be a valid dictionary"),
        ("/v1/nothing", {}, 404, "Not Found"),
    ],
)
def test_bad_requests_get_a_clear_4xx_and_the_server_keeps_serving(server, path, body, status, message):
    got, answer = call(server + path, body)
    assert got == status and message in answer["error"]["message"], answer
    assert call(server + "/v1/completions", {"prompt": PROMPT, "max_tokens": 2})[0] == 200


def test_a_streamed_completion_is_the_whole_answer_in_pieces(server):
    body = {"prompt": PROMPT, "max_tokens": 12, "nava_check": False}  # the loop streams its kept answer in one piece
    whole = call(server + "/v1/completions", body)[1]
    chunks = stream(server + "/v1/completions", body)
    assert {chunk["object"] for chunk in chunks} == {"text_completion"} and len(chunks) > 2
    assert "".join(chunk["choices"][0]["text"] for chunk in chunks) == whole["choices"][0]["text"]
    assert [chunk["choices"][0]["finish_reason"] for chunk in chunks] == [None] * (len(chunks) - 1) + ["length"]


def test_a_streamed_chat_starts_with_the_role_and_ends_with_the_finish_reason(server):
    body = {"messages": [{"role": "user", "content": "Write NAVA code."}], "max_tokens": 12, "nava_check": False}
    whole = call(server + "/v1/chat/completions", body)[1]
    chunks = stream(server + "/v1/chat/completions", body)
    assert {chunk["object"] for chunk in chunks} == {"chat.completion.chunk"}
    deltas = [chunk["choices"][0]["delta"] for chunk in chunks]
    assert (
        deltas[0] == {"role": "assistant"}
        and deltas[-1] == {}
        and chunks[-1]["choices"][0]["finish_reason"] == "length"
    )
    assert "".join(delta["content"] for delta in deltas[1:-1]) == whole["choices"][0]["message"]["content"]


def test_a_client_leaving_a_stream_frees_the_server(server):
    body = json.dumps({"prompt": PROMPT, "max_tokens": 200, "stream": True, "nava_check": False}).encode()
    request = urllib.request.Request(server + "/v1/completions", body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        assert response.readline().startswith(b"data: {")
    assert call(server + "/v1/completions", {"prompt": PROMPT, "max_tokens": 2})[0] == 200


def test_grammar_field_constrains_decoding(server):
    free = call(server + "/v1/completions", {"prompt": PROMPT, "max_tokens": 24})[1]["choices"][0]["text"]
    nava = call(server + "/v1/completions", {"prompt": PROMPT, "max_tokens": 24, "grammar": "nava"})[1]["choices"][0][
        "text"
    ]
    assert nava_prefix(nava) and not nava_prefix(free)
    assert nava_prefix("let x = f(a: [1, 2") and nava_prefix('let s = "a b') and not nava_prefix("let x = 1 2")


def test_api_key_and_server_grammar(keyed_server, server):
    assert call(keyed_server + "/health")[0] == 200  # liveness needs no key
    for key in (None, "wrong"):
        status, answer = call(keyed_server + "/v1/models", key=key)
        assert status == 401 and "API key" in answer["error"]["message"]
    assert call(keyed_server + "/v1/models", key="s3cret")[0] == 200

    def text(url: str, **fields) -> str:
        return call(url + "/v1/completions", {"prompt": PROMPT, "max_tokens": 24, **fields}, key="s3cret")[1][
            "choices"
        ][0]["text"]

    assert text(keyed_server) == text(server, grammar="nava")  # --grammar nava is the default there
    assert text(keyed_server, grammar="none") == text(server)


def test_generation_stops_at_eos(eos_server):
    status, answer = call(eos_server + "/v1/completions", {"prompt": PROMPT, "max_tokens": 8})
    assert status == 200 and answer["choices"][0]["finish_reason"] == "stop"
    assert answer["choices"][0]["text"] == "" and answer["usage"]["completion_tokens"] == 0
    [chunk] = stream(eos_server + "/v1/completions", {"prompt": PROMPT, "max_tokens": 8, "nava_check": False})
    assert chunk["choices"][0]["text"] == "" and chunk["choices"][0]["finish_reason"] == "stop"


def test_concurrent_requests_are_decoded_together_each_as_if_alone(server):
    prompts = [PROMPT, PROMPT.replace("(3,4)", "(5,1)"), "let M = euclidean_plane()\n"] * 2
    alone = [call(server + "/v1/completions", {"prompt": prompt, "max_tokens": 8})[1] for prompt in prompts[:3]]
    answers = [None] * len(prompts)

    def ask(i: int) -> None:
        answers[i] = call(server + "/v1/completions", {"prompt": prompts[i], "max_tokens": 8})

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(len(prompts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [status for status, _ in answers] == [200] * len(prompts)
    texts = [answer["choices"][0]["text"] for _, answer in answers]
    assert texts == [answer["choices"][0]["text"] for answer in alone] * 2 and len(set(texts)) == 3


def test_a_second_client_does_not_wait_for_a_stream_to_end(server):
    body = json.dumps({"prompt": PROMPT, "max_tokens": 150, "stream": True, "nava_check": False}).encode()
    request = urllib.request.Request(server + "/v1/completions", body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        assert response.readline().startswith(b"data: {")
        assert call(server + "/v1/completions", {"prompt": PROMPT, "max_tokens": 2})[0] == 200  # while it streams
        events = response.read().decode().split("\n\n")
    assert events[-2] == "data: [DONE]" and '"finish_reason": "length"' in events[-3]


def test_a_non_loopback_address_needs_an_api_key(gguf, monkeypatch, capsys):
    import uvicorn

    monkeypatch.delenv(API_KEY_ENV, raising=False)
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: pytest.fail("the server must not start"))
    assert main(["serve", "--model", str(gguf), "--host", "192.0.2.1"]) == 1
    assert "reachable from other machines: set --api-key" in capsys.readouterr().err
