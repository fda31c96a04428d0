"""The stdlib client against the real server, and against servers that misbehave."""

import http.server
import socket
import threading

import pytest

from nava_instruct.serving.client import APIError, ClientError, NavaClient
from nava_instruct.serving.testing import running

PROMPT = "### Instruction:\nWrite NAVA code.\n\n### Response:\n"


@pytest.fixture(scope="module")
def server(tiny_smol_stages):
    with running(tiny_smol_stages / "gguf" / "model-Q8_0.gguf", api_key="k3y") as url:
        yield url


def test_every_route(server):
    client = NavaClient(server, api_key="k3y", timeout=30)
    assert client.health() == {"status": "ok", "model": "model-Q8_0"}
    assert client.models() == ["model-Q8_0"]
    completion = client.complete(PROMPT, max_tokens=5, seed=1)
    assert completion["choices"][0]["finish_reason"] == "length" and completion["usage"]["completion_tokens"] == 5
    chat = client.chat([{"role": "user", "content": "Write NAVA code."}], max_tokens=5)
    assert chat["choices"][0]["message"]["content"] == completion["choices"][0]["text"]  # the same prompt, greedy


def test_refusals_raise_api_errors_with_status_and_message(server):
    with pytest.raises(APIError, match="HTTP 401: invalid or missing API key") as refused:
        NavaClient(server).models()
    assert refused.value.status == 401
    with pytest.raises(APIError, match="field 'prompt'") as refused:
        NavaClient(server, api_key="k3y").complete("")
    assert refused.value.status == 400


def test_a_stopped_server_is_unreachable(tiny_smol_stages):
    with running(tiny_smol_stages / "gguf" / "model-Q8_0.gguf") as url:
        assert NavaClient(url).health()["status"] == "ok"
    with pytest.raises(ClientError, match="Connection refused"):
        NavaClient(url, timeout=5).health()


def test_a_silent_server_times_out():
    with socket.socket() as silent:  # accepts connections (the kernel does), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        with pytest.raises(ClientError, match=r"no answer within 0.3 s"):
            NavaClient(f"http://127.0.0.1:{silent.getsockname()[1]}", timeout=0.3).health()


class _Html(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"<html>not an API</html>")

    def log_message(self, *args):
        pass


def test_an_answer_that_is_not_json_is_an_error():
    with http.server.HTTPServer(("127.0.0.1", 0), _Html) as html:
        threading.Thread(target=html.handle_request, daemon=True).start()
        with pytest.raises(ClientError, match="the answer is not JSON"):
            NavaClient(f"http://127.0.0.1:{html.server_port}", timeout=5).health()
