"""A small client for ``nava-instruct serve`` (or any OpenAI-compatible server), on the stdlib alone.

    client = NavaClient("http://127.0.0.1:8080", api_key=None, timeout=60)
    client.health()                                    # {"status": "ok", "model": ...}
    client.models()                                    # ["model-Q4_K_M"]
    client.complete(prompt, max_tokens=128)            # the whole response; text in ["choices"][0]["text"]
    client.chat([{"role": "user", "content": "..."}])  # text in ["choices"][0]["message"]["content"]

Keyword options go into the request body as they are (``max_tokens``, ``temperature``,
``stop``, ``seed``, ``grammar``...). A request the server refuses raises ``APIError`` with its
HTTP status and the server's message; an unreachable server, a timeout or an answer that is not
JSON raises ``ClientError``. A router can mirror this file: it is one method per route.
"""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request


class ClientError(Exception):
    """The server could not be asked, or its answer could not be read."""


class APIError(ClientError):
    """The server answered with an HTTP error; ``status`` and ``message`` say which and why."""

    def __init__(self, status: int, message: str):
        self.status, self.message = status, message
        super().__init__(f"HTTP {status}: {message}")


class NavaClient:
    def __init__(self, base_url: str = "http://127.0.0.1:8080", api_key: str | None = None, timeout: float = 60.0):
        self.base_url, self.api_key, self.timeout = base_url.rstrip("/"), api_key, timeout

    def health(self) -> dict:
        return self._request("GET", "/health")

    def models(self) -> list[str]:
        return [model["id"] for model in self._request("GET", "/v1/models")["data"]]

    def complete(self, prompt: str, **options) -> dict:
        return self._request("POST", "/v1/completions", {"prompt": prompt, **options})

    def chat(self, messages: list[dict], **options) -> dict:
        return self._request("POST", "/v1/chat/completions", {"messages": messages, **options})

    def _request(self, method: str, path: str, body: dict | None = None) -> dict:
        url = self.base_url + path
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        if self.api_key is not None:
            headers["Authorization"] = f"Bearer {self.api_key}"
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(url, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                payload = response.read()
        except urllib.error.HTTPError as error:
            raise APIError(error.code, _error_message(error.read(), error.reason)) from None
        except (OSError, http.client.HTTPException) as error:  # unreachable, reset, timed out, cut short
            reason = getattr(error, "reason", error)
            if isinstance(reason, TimeoutError):
                reason = f"no answer within {self.timeout} s"
            raise ClientError(f"{method} {url}: {reason}") from None
        try:
            return json.loads(payload)
        except ValueError:
            raise ClientError(f"{method} {url}: the answer is not JSON: {payload[:200]!r}") from None


def _error_message(payload: bytes, reason: str) -> str:
    """The message of an OpenAI-style error body, or the HTTP reason when there is none."""
    try:
        return json.loads(payload)["error"]["message"]
    except (ValueError, KeyError, TypeError):
        return reason
