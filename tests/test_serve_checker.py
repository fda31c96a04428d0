"""The checker loop in ``nava-instruct serve``: on by default for code answers, the ``nava_check`` field, the
record in the answer, streamed and through the official ``openai`` client.

The tiny model never writes code, so its answers pass through the loop; the last test scripts the
decoder's answers (a broken program, then a good one) to see a repair kept.
"""

from dataclasses import replace

import openai
import pytest
from fastapi.testclient import TestClient

from helpers import BAD, GOOD, PROMPT, call, stream
from nava_instruct.lm import parallel
from nava_instruct.serving import serve
from nava_instruct.serving.testing import running

CODE = {"prompt": PROMPT, "max_tokens": 8, "grammar": "nava"}
CHAT = {"messages": [{"role": "user", "content": "Write NAVA code from (0,0) to (3,4) on the plane."}]} | {
    "max_tokens": 8,
    "grammar": "nava",
}


@pytest.fixture(scope="module")
def server(tiny_smol_stages):
    with running(tiny_smol_stages / "gguf" / "model-Q4_K_M.gguf", "--check-attempts", "3") as url:
        yield url


def test_the_loop_is_on_by_default_and_an_answer_that_is_not_code_passes_through(server):
    status, answer = call(server + "/v1/completions", CODE)
    assert status == 200 and answer["usage"]["completion_tokens"] == 8
    assert answer["nava_check"] == {
        "attempts": 1,
        "checked": None,
        "first_checked": None,
        "agrees": None,
        "tries": [{"how": "greedy", "error": None, "contradiction": None}],
    }


def test_nava_check_false_is_the_first_answer_without_the_loop(server):
    off = call(server + "/v1/chat/completions", CHAT | {"nava_check": False})[1]
    on = call(server + "/v1/chat/completions", CHAT | {"nava_check": {"mode": "sample", "first_answer": True}})[1]
    assert "nava_check" not in off and on["nava_check"]["first_answer"] == off["choices"][0]["message"]["content"]
    assert {attempt["how"] for attempt in on["nava_check"]["tries"][1:]} <= {"sample"}
    one = call(server + "/v1/completions", CODE | {"nava_check": {"max_attempts": 1}})[1]["nava_check"]
    assert one["attempts"] == 1


@pytest.mark.parametrize(
    "check", [{"mode": "loud"}, {"max_attempts": 9}, {"max_attempts": 0}, {"tries": 2}, "sometimes"]
)
def test_a_bad_nava_check_is_refused(server, check):
    status, answer = call(server + "/v1/completions", CODE | {"nava_check": check})
    assert status == 400 and "nava_check" in answer["error"]["message"], answer


@pytest.mark.parametrize("path, body", [("/v1/completions", CODE), ("/v1/chat/completions", CHAT)])
def test_a_checked_answer_streams_as_chunks_then_the_record(server, path, body):
    whole = call(server + path, body)[1]
    chunks = stream(server + path, body)
    assert [chunk["choices"][0]["finish_reason"] for chunk in chunks][-1] == whole["choices"][0]["finish_reason"]
    assert chunks[-1]["nava_check"] == whole["nava_check"] and all("nava_check" not in c for c in chunks[:-1])
    if path == "/v1/completions":
        assert "".join(chunk["choices"][0]["text"] for chunk in chunks) == whole["choices"][0]["text"]
    else:
        deltas = [chunk["choices"][0]["delta"] for chunk in chunks]
        assert deltas[0] == {"role": "assistant"} and deltas[-1] == {}
        assert "".join(delta.get("content", "") for delta in deltas) == whole["choices"][0]["message"]["content"]


def test_the_openai_client_reads_the_record_and_turns_the_loop_off(server):
    client = openai.OpenAI(base_url=server + "/v1", api_key="none", max_retries=0, timeout=60)

    def complete(**extra):
        return client.completions.create(model="m", prompt=PROMPT, max_tokens=8, extra_body={"grammar": "nava"} | extra)

    checked, unchecked = complete(), complete(nava_check=False)
    assert checked.model_extra["nava_check"]["attempts"] >= 1 and "nava_check" not in unchecked.to_dict()
    assert checked.to_dict()["nava_check"] == checked.model_extra["nava_check"]


def scripted_decoder(*texts: str) -> type[parallel.ParallelDecoder]:
    """The real decoder, its answers' texts replaced by ``texts`` in turn; it records each prompt."""

    class Scripted(parallel.ParallelDecoder):
        prompts: list[str] = []

        def generate(self, ids, sampling):
            self.prompts.append(self.model.detokenize(ids, special=True).decode())
            return replace(super().generate(ids, sampling), text=texts[len(self.prompts) - 1])

    return Scripted


def test_a_broken_program_is_repaired_and_the_repair_kept(tiny_smol_stages, monkeypatch):
    scripted = scripted_decoder(BAD, GOOD)
    monkeypatch.setattr(parallel, "ParallelDecoder", scripted)
    body = {"prompt": PROMPT, "max_tokens": 4, "nava_check": {"first_answer": True}}
    with TestClient(serve.create_app(tiny_smol_stages / "gguf" / "model-Q4_K_M.gguf")) as client:
        answer = client.post("/v1/completions", json=body).json()
    record = answer["nava_check"]
    assert answer["choices"][0]["text"] == GOOD and record["first_answer"] == BAD
    assert record["attempts"] == 2 and record["checked"] is True and record["first_checked"] is False
    assert [attempt["how"] for attempt in record["tries"]] == ["greedy", "repair"] and record["tries"][0]["error"]
    assert scripted.prompts[0].endswith(PROMPT) and BAD in scripted.prompts[1]


def test_a_repair_prompt_with_no_room_left_is_a_failed_attempt(tiny_smol_stages, monkeypatch):
    long_broken = BAD + "".join(f"let point{i} = [{i}.0, {i}.5, {i}.25]\n" for i in range(20))
    scripted = scripted_decoder(long_broken, GOOD)
    monkeypatch.setattr(parallel, "ParallelDecoder", scripted)
    body = {"prompt": PROMPT, "max_tokens": 4, "nava_check": {"mode": "repair", "max_attempts": 3}}
    with TestClient(
        serve.create_app(tiny_smol_stages / "gguf" / "model-Q4_K_M.gguf", serve.ServeOptions(n_ctx=128))
    ) as client:
        response = client.post("/v1/completions", json=body)
    record = response.json()["nava_check"]
    assert response.status_code == 200 and record["checked"] is False and record["attempts"] == 3
    assert len(scripted.prompts) == 1  # the repairs never reached the model
    assert response.json()["choices"][0]["text"] == long_broken


WRONG_GOAL = GOOD.replace("[3.0, 4.0]", "[3.0, 9.0]")
WITH_DISC = GOOD.replace("obstacles: []", "obstacles: [disc(center: [1.0, 1.0], radius: 0.5)]")


def chat(model, monkeypatch, messages: list[dict], *answers: str) -> tuple[dict, list[str]]:
    scripted = scripted_decoder(*answers)
    monkeypatch.setattr(parallel, "ParallelDecoder", scripted)
    with TestClient(serve.create_app(model)) as client:
        answer = client.post("/v1/chat/completions", json={"messages": messages, "max_tokens": 4}).json()
    return answer, scripted.prompts


def test_a_chat_answer_that_contradicts_the_request_is_resampled(tiny_smol_stages, monkeypatch):
    messages = [{"role": "user", "content": "On the plane from (0, 0) to (3, 4), facing 90°."}]
    answer, prompts = chat(tiny_smol_stages / "gguf" / "model-Q4_K_M.gguf", monkeypatch, messages, WRONG_GOAL, GOOD)
    record = answer["nava_check"]
    assert answer["choices"][0]["message"]["content"] == GOOD and record["agrees"] is True
    assert [attempt["how"] for attempt in record["tries"]] == ["greedy", "sample"]
    assert "9.0" in record["tries"][0]["contradiction"]
    assert "facing 90° (= 1.5707963 rad)." in prompts[0]  # the user's words, annotated as in training


def test_a_follow_up_may_use_the_numbers_of_the_earlier_turns(tiny_smol_stages, monkeypatch):
    messages = [
        {"role": "user", "content": "On the plane from (0, 0) to (3, 4)."},
        {"role": "assistant", "content": GOOD},
        {"role": "user", "content": "Now add a disc at (1, 1) of radius 0.5."},
    ]
    answer, prompts = chat(tiny_smol_stages / "gguf" / "model-Q4_K_M.gguf", monkeypatch, messages, WITH_DISC)
    assert answer["nava_check"]["attempts"] == 1 and answer["nava_check"]["agrees"] is True
