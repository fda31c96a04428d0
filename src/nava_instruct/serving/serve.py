"""``nava-instruct serve``: an OpenAI-compatible HTTP API for a GGUF model of this pipeline.

A thin FastAPI layer over ``llama_cpp.Llama``, run by uvicorn (docs/serving.md has examples):

- ``POST /v1/completions``: ``{"prompt": ...}``, a raw prompt, tokenized as in training (special
  tokens written in the text become their ids and nothing is added; see ``llamacpp.prompt_tokens``);
- ``POST /v1/chat/completions``: ``{"messages": [...]}``, rendered by the chat template stored in the
  GGUF file (the training prompt format, installed by stage ``merge``); a message may carry an
  ``input`` (the NAVA program an instruction is about), which fills the prompt's ``### Input:``;
- ``GET /v1/models``; ``GET /health``, which needs no API key.

With ``"stream": true`` both generation routes answer with server-sent events in OpenAI's shape:
``data: {chunk}`` lines (``text_completion`` chunks, or ``chat.completion.chunk`` ones whose first
delta is the role), the last chunk carrying ``finish_reason``, then ``data: [DONE]``;
``stream_options`` is ignored (no usage chunk).

Generation is greedy unless ``temperature`` > 0 and stops at EOS (``finish_reason: "stop"``) or
after ``max_tokens`` (``"length"``). ``"grammar": "nava"`` constrains decoding with the NAVA GBNF
grammar, ``"none"`` lifts it; without the field the server's ``--grammar`` applies. Every bad
request gets a 4xx with an OpenAI-style ``{"error": {"message": ...}}`` body: malformed JSON,
missing or invalid fields, an empty prompt, a prompt plus ``max_tokens`` beyond the context (400),
a wrong API key (401), a body over 1 MiB (413); a request is checked before its stream starts, so
a refused one gets that JSON body too. Requests are answered one at a time (one model, one
context): a stream holds the context from its first chunk to its last, or until its client leaves.
"""

from __future__ import annotations

import contextlib
import hmac
import ipaddress
import json
import logging
import threading
from collections.abc import Callable, Generator, Iterator
from functools import partial
from pathlib import Path
from typing import Literal

from fastapi import Depends, FastAPI, Header, HTTPException
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from llama_cpp import LlamaGrammar
from llama_cpp.llama_chat_format import Jinja2ChatFormatter
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from nava_instruct.errors import InputError
from nava_instruct.lm import llamacpp
from nava_instruct.nava import gbnf_grammar
from nava_instruct.serving import API_KEY_ENV

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1 << 20
ERROR_TYPES = {401: "authentication_error", 404: "not_found_error", 413: "request_too_large"}


class Options(BaseModel):
    """Fields shared by both generation routes; other OpenAI fields (``model``, ``n``, ``user``...)
    are ignored: the server has one model."""

    model_config = ConfigDict(extra="ignore")

    max_tokens: int = Field(256, ge=1)
    temperature: float = Field(0.0, ge=0, le=2)  # 0: greedy
    top_p: float = Field(1.0, gt=0, le=1)
    stop: str | list[str] | None = None
    seed: int | None = None
    grammar: Literal["nava", "none"] | None = None  # None: the server's --grammar
    stream: bool = False


class CompletionRequest(Options):
    prompt: str = Field(min_length=1)


class Message(BaseModel):
    model_config = ConfigDict(extra="ignore")

    role: Literal["system", "user", "assistant"]
    content: str = Field(min_length=1)
    input: str | None = None  # the training format's "### Input:" block, for a user turn


class ChatRequest(Options):
    messages: list[Message] = Field(min_length=1)


def error(status: int, message: str, param: str | None = None) -> JSONResponse:
    body = {"message": message, "type": ERROR_TYPES.get(status, "invalid_request_error"), "param": param, "code": None}
    return JSONResponse({"error": body}, status_code=status)


def _validation_error(_request, exc: RequestValidationError) -> JSONResponse:
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"] if part != "body")
    if first["type"] == "json_invalid":
        return error(400, f"malformed JSON: {first.get('ctx', {}).get('error', first['msg'])}")
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "missing":
        return error(400, f"missing field '{where}'", where)
    return error(400, f"field '{where}': {message}" if where else f"request body: {message}", where or None)


class BodyLimit:
    """ASGI middleware: a request body over ``limit`` bytes gets 413 before any route sees it.

    The body is read before the answer (up to ``DRAIN`` times the limit, discarding what is over),
    so that a client still sending gets to read the 413 instead of a broken connection.
    """

    DRAIN = 16

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        chunks, size, more = [], 0, True
        while more and size <= self.DRAIN * self.limit:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            size += len(message.get("body", b""))
            if size <= self.limit:
                chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        if size > self.limit:
            return await error(413, f"request body over {self.limit} bytes")(scope, receive, send)
        replayed = False

        async def replay():
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": b"".join(chunks), "more_body": False}

        await self.app(scope, replay, send)


class EventStream(StreamingResponse):
    """Server-sent events from a generator, which is closed as soon as the response ends, however it ends.

    Starlette leaves a stream whose client went away to the garbage collector, which may never come
    for an idle server: the generator would keep holding what it holds (here the model's lock).
    """

    def __init__(self, events: Generator[str]):
        super().__init__(events, media_type="text/event-stream")
        self.events = events

    async def __call__(self, scope, receive, send):
        try:
            await super().__call__(scope, receive, send)
        finally:  # no worker thread runs the generator now: Starlette waits for them when it cancels
            self.events.close()


def create_app(
    model: str | Path,
    *,
    api_key: str | None = None,
    grammar: Literal["nava", "none"] = "none",
    n_ctx: int = 0,
    threads: int | None = None,
    cpu_repack: bool = False,
) -> FastAPI:
    llama = llamacpp.load(model, n_ctx=n_ctx, n_threads=threads, cpu_repack=cpu_repack)
    model_id, created = Path(model).stem, int(Path(model).stat().st_mtime)
    grammars = {"none": None, "nava": LlamaGrammar.from_string(gbnf_grammar(), verbose=False)}
    template = llama.metadata.get("tokenizer.chat_template")
    formatter = None
    if template:
        eos, bos = (
            llama.detokenize([token], special=True).decode("utf-8") for token in (llama.token_eos(), llama.token_bos())
        )
        formatter = Jinja2ChatFormatter(template, eos_token=eos, bos_token=bos, stop_token_ids=[llama.token_eos()])
        llama.chat_handler = formatter.to_chat_handler()  # the one that counts the tokens also renders them
    lock = threading.Lock()  # one context: one request at a time

    def authorized(authorization: str | None = Header(None)) -> None:
        if api_key is not None and not hmac.compare_digest(
            (authorization or "").encode(), f"Bearer {api_key}".encode()
        ):
            raise HTTPException(401, "invalid or missing API key: send the header 'Authorization: Bearer <key>'")

    def generation(request: Options, prompt_tokens: int) -> dict:
        if prompt_tokens + request.max_tokens > llama.n_ctx():
            raise HTTPException(
                400,
                f"the prompt ({prompt_tokens} tokens) plus max_tokens ({request.max_tokens})"
                f" exceed the context of {llama.n_ctx()} tokens",
            )
        options = request.model_dump(include={"max_tokens", "temperature", "top_p", "stop", "seed"})
        return options | {"grammar": grammars[request.grammar or grammar], "model": model_id}

    def answer(request: Options, create: Callable[..., dict | Iterator[dict]]) -> dict | StreamingResponse:
        """``create()``'s whole answer, or, for ``stream: true``, the events of ``create(stream=True)``."""
        if not request.stream:
            with lock:
                return create()
        return EventStream(events(create))

    def events(create: Callable[..., Iterator[dict]]) -> Generator[str]:
        # The lock is taken when the first event is asked for and let go when the stream ends or is closed.
        with lock, contextlib.closing(create(stream=True)) as chunks:
            for chunk in chunks:
                yield f"data: {json.dumps(chunk)}\n\n"
        yield "data: [DONE]\n\n"

    app = FastAPI(
        title="nava-instruct",
        exception_handlers={
            RequestValidationError: _validation_error,
            StarletteHTTPException: lambda _request, exc: error(exc.status_code, str(exc.detail)),
        },
    )
    app.add_middleware(BodyLimit, limit=MAX_BODY_BYTES)

    @app.get("/health")
    def health() -> dict:
        return {"status": "ok", "model": model_id}

    @app.get("/v1/models", dependencies=[Depends(authorized)])
    def models() -> dict:
        return {
            "object": "list",
            "data": [{"id": model_id, "object": "model", "created": created, "owned_by": "nava-instruct"}],
        }

    # Tokenizing reads the vocabulary, not the context: requests are checked outside the lock.
    @app.post("/v1/completions", dependencies=[Depends(authorized)], response_model=None)
    def completions(request: CompletionRequest) -> dict | StreamingResponse:
        ids = llamacpp.prompt_tokens(llama, request.prompt)
        return answer(request, partial(llama.create_completion, ids, **generation(request, len(ids))))

    @app.post("/v1/chat/completions", dependencies=[Depends(authorized)], response_model=None)
    def chat(request: ChatRequest) -> dict | StreamingResponse:
        if formatter is None:
            raise HTTPException(400, "this model has no chat template: use /v1/completions")
        messages = [message.model_dump(exclude_none=True) for message in request.messages]
        ids = llamacpp.prompt_tokens(llama, formatter(messages=messages).prompt)
        create = partial(llama.create_chat_completion, messages=messages, **generation(request, len(ids)))
        return answer(request, create)

    return app


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(model: str, host: str, port: int, api_key: str | None, **options) -> int:
    """Serve until SIGINT or SIGTERM. Any address but loopback needs an API key."""
    import uvicorn

    if not is_loopback(host) and not api_key:
        raise InputError("serve", f"--host {host} is reachable from other machines: set --api-key (or {API_KEY_ENV})")
    app = create_app(model, api_key=api_key, **options)
    print(f"serving {model} on http://{host}:{port}/v1", flush=True)
    uvicorn.run(app, host=host, port=port, log_level="info")
    return 0
