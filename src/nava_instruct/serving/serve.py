"""``nava-instruct serve``: an OpenAI-compatible HTTP API for a GGUF model of this pipeline.

A thin FastAPI layer over a GGUF model, run by uvicorn (docs/serving.md has examples):

- ``POST /v1/completions``: ``{"prompt": ...}``, a raw prompt, tokenized as in training (special
  tokens written in the text become their ids and nothing is added; see ``llamacpp.prompt_tokens``);
- ``POST /v1/chat/completions``: ``{"messages": [...]}``, rendered by the chat template stored in the
  GGUF file (the training prompt format, installed by stage ``merge``); a message may carry an
  ``input`` (the NAVA program an instruction is about), which fills the prompt's ``### Input:``;
  each user message is shown with its angles in degrees or pi annotated in radians, as in training
  (``prompting.user_turns``); a raw completion prompt is taken as it is;
- ``GET /v1/models``; ``GET /health``, which needs no API key.

With ``"stream": true`` both generation routes answer with server-sent events in OpenAI's shape:
``data: {chunk}`` lines (``text_completion`` chunks, or ``chat.completion.chunk`` ones whose first
delta is the role), a chunk per piece of text as it is decoded, the last chunk carrying
``finish_reason``, then ``data: [DONE]``; ``stream_options.include_usage`` adds OpenAI's usage chunk
(no choices) before ``[DONE]``.

Code answers go through the checker loop (``lm.checked``) unless ``"nava_check": false``: one that
the NAVA checker rejects, or that contradicts what the request states (``--check-meaning``, on by
default: a number the request does not state, an obstacle where it says none...), is tried again,
by repair or sampling, within the server's ``--check-*`` bounds; attempt 1 is the request as sent.
The answer carries ``nava_check``, the loop's record (attempts, checked, first_checked, agrees,
tries), and ``usage`` is the kept answer's. Streamed, the loop
runs first and the kept answer comes as one content chunk, ``nava_check`` on the last chunk.

Generation is greedy unless ``temperature`` > 0 and stops at EOS or a ``stop`` string
(``finish_reason: "stop"``) or after ``max_tokens`` (``"length"``). ``"grammar": "nava"``
constrains decoding with the NAVA GBNF grammar, ``"none"`` lifts it; without the field the
server's ``--grammar`` applies. Every bad request gets a 4xx with an OpenAI-style
``{"error": {"message": ...}}`` body: malformed JSON, missing or invalid fields, an empty prompt,
a prompt plus ``max_tokens`` beyond the context (400), a wrong API key (401), a body over 1 MiB
(413); a request is checked before its stream starts, so
a refused one gets that JSON body too; a failed decode gets a 500.

Up to ``--parallel`` requests are decoded together, one sequence each in one llama.cpp context
(``lm.parallel``); more wait for a free slot. A stream holds its slot until its last chunk, or until
its client leaves. ``--n-ctx`` is the context of each request.

The server's settings are one ``ServeOptions``, whose defaults are the command's (``add_arguments``
derives the options from it; ``main`` runs the command). A ``Server`` holds the model, its decoder
and the options, and does each route's work; ``create_app`` puts its routes on a FastAPI app.
"""

from __future__ import annotations

import argparse
import contextlib
import hmac
import ipaddress
import json
import logging
import os
import time
import uuid
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Literal, get_args

from fastapi import Depends, FastAPI, Header, HTTPException
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from llama_cpp.llama_chat_format import Jinja2ChatFormatter
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from nava_instruct import layout
from nava_instruct.errors import InputError, RunError
from nava_instruct.lm import checked, llamacpp, parallel, prompting
from nava_instruct.lm.grammar import nava_grammar
from nava_instruct.params import add_params_option
from nava_instruct.serving import API_KEY_ENV

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1 << 20
ERROR_TYPES = {401: "authentication_error", 404: "not_found_error", 413: "request_too_large", 500: "server_error"}
Kind = Literal["text_completion", "chat.completion"]
ID_PREFIXES = {"text_completion": "cmpl", "chat.completion": "chatcmpl"}
Grammar = Literal["nava", "none"]
SUMMARY = "serve a GGUF model over an OpenAI-compatible HTTP API (docs/serving.md)"


@dataclass(frozen=True)
class ServeOptions:
    """How the server runs: one field per option of ``nava-instruct serve`` (``add_arguments``), its default
    stated here; the checker loop's come from ``checked.Policy``."""

    host: str = "127.0.0.1"
    port: int = 8080
    api_key: str | None = None  # None: no key, which only a loopback host may go without
    grammar: Grammar = "none"  # a request's "grammar" field overrides it
    n_ctx: int = 0  # tokens of each request's slot; 0: the model's own context
    parallel: int = 4  # requests decoded together
    threads: int | None = None  # None: llama.cpp's choice
    cpu_repack: bool = False  # see lm/llamacpp.py
    check: checked.Policy = field(default_factory=checked.Policy)  # a request's "nava_check" field tunes it


class CheckOptions(BaseModel):
    """The request's ``nava_check`` object: the checker loop tuned for this request (unset: the server's)."""

    model_config = ConfigDict(extra="forbid")

    mode: checked.Mode | None = None
    max_attempts: int | None = Field(None, ge=1, le=8)
    meaning: bool | None = None  # hold answers against what the request states (reading.claims)
    first_answer: bool = False  # include the first attempt's answer in the record


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="ignore")

    include_usage: bool = False


class Options(BaseModel):
    """Fields shared by both generation routes; other OpenAI fields (``model``, ``n``, ``user``...)
    are ignored: the server has one model."""

    model_config = ConfigDict(extra="ignore")

    max_tokens: int = Field(256, ge=1)
    temperature: float = Field(0.0, ge=0, le=2)  # 0: greedy
    top_p: float = Field(1.0, gt=0, le=1)
    stop: str | list[str] | None = None
    seed: int | None = None
    grammar: Grammar | None = None  # None: the server's --grammar
    stream: bool = False
    stream_options: StreamOptions | None = None
    nava_check: bool | CheckOptions = True  # false: no checker loop


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


def response_body(kind: Kind, model_id: str, generated: parallel.Generated) -> dict:
    """A whole answer in OpenAI's shape."""
    if kind == "text_completion":
        choice = {"text": generated.text}
    else:
        choice = {"message": {"role": "assistant", "content": generated.text}}
    return {
        "id": f"{ID_PREFIXES[kind]}-{uuid.uuid4().hex}",
        "object": kind,
        "created": int(time.time()),
        "model": model_id,
        "choices": [{"index": 0, **choice, "logprobs": None, "finish_reason": generated.finish_reason}],
        "usage": usage_of(generated),
    }


def usage_of(generated: parallel.Generated) -> dict:
    tokens = {"prompt_tokens": generated.prompt_tokens, "completion_tokens": generated.completion_tokens}
    return tokens | {"total_tokens": generated.prompt_tokens + generated.completion_tokens}


def stream_chunks(
    kind: Kind,
    model_id: str,
    pieces: Iterator[str],
    ending: Callable[[], tuple[parallel.Generated, dict]],
    usage: bool = False,
) -> Generator[dict]:
    """A stream's chunks: the role (chat), a chunk per piece of text, then one with the finish reason and the
    top-level fields of ``ending()``, called once the pieces are over; with ``usage``, then OpenAI's usage
    chunk (no choices)."""
    head = {"id": f"{ID_PREFIXES[kind]}-{uuid.uuid4().hex}", "created": int(time.time()), "model": model_id}
    chat = kind == "chat.completion"
    head["object"] = "chat.completion.chunk" if chat else kind

    def chunk(piece: dict, finish_reason: str | None = None) -> dict:
        return head | {"choices": [{"index": 0, **piece, "logprobs": None, "finish_reason": finish_reason}]}

    if chat:
        yield chunk({"delta": {"role": "assistant"}})
    for text in pieces:
        yield chunk({"delta": {"content": text}} if chat else {"text": text})
    generated, extra = ending()
    yield chunk({"delta": {}} if chat else {"text": ""}, generated.finish_reason) | extra
    if usage:
        yield head | {"choices": [], "usage": usage_of(generated)}


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


def server_sent_events(chunks: Iterator[dict], job: parallel.Job | None = None) -> Generator[str]:
    """Chunks as server-sent events, then ``[DONE]``; ``job``'s slot is given back when the stream ends."""
    try:
        for chunk in chunks:
            yield f"data: {json.dumps(chunk)}\n\n"
        yield "data: [DONE]\n\n"
    finally:  # the client left, or the stream ended: either way the slot is free
        if job is not None:
            job.cancel()


def chat_formatter(llama) -> Jinja2ChatFormatter | None:
    """The chat template stored in the GGUF file (stage merge installs the training prompt's); None if it has none."""
    template = llama.metadata.get("tokenizer.chat_template")
    if not template:
        return None
    eos, bos = (
        llama.detokenize([token], special=True).decode("utf-8") for token in (llama.token_eos(), llama.token_bos())
    )
    return Jinja2ChatFormatter(template, eos_token=eos, bos_token=bos, stop_token_ids=[llama.token_eos()])


class Server:
    """A GGUF model served with ``options``: its decoder, its chat template, and the work of each route."""

    def __init__(self, model: str | Path, options: ServeOptions):
        self.options = options
        self.decoder = parallel.ParallelDecoder.open(
            model, options.parallel, options.n_ctx, n_threads=options.threads, cpu_repack=options.cpu_repack
        )
        self.llama = self.decoder.llama
        self.model_id, self.created = Path(model).stem, int(Path(model).stat().st_mtime)
        self.grammars = {"none": None, "nava": nava_grammar()}
        self.formatter = chat_formatter(self.llama)

    def authorize(self, authorization: str | None = Header(None)) -> None:
        api_key = self.options.api_key
        if api_key is not None and not hmac.compare_digest(
            (authorization or "").encode(), f"Bearer {api_key}".encode()
        ):
            raise HTTPException(401, "invalid or missing API key: send the header 'Authorization: Bearer <key>'")

    def models(self) -> dict:
        card = {"id": self.model_id, "object": "model", "created": self.created, "owned_by": "nava-instruct"}
        return {"object": "list", "data": [card]}

    def fit(self, request: Options, prompt_tokens: int) -> None:
        """Refuse a prompt that leaves no room in its slot for ``max_tokens``."""
        if prompt_tokens + request.max_tokens > self.decoder.n_ctx:
            raise HTTPException(
                400,
                f"the prompt ({prompt_tokens} tokens) plus max_tokens ({request.max_tokens})"
                f" exceed the context of {self.decoder.n_ctx} tokens",
            )

    def sampling(self, request: Options) -> parallel.Sampling:
        stop = (request.stop,) if isinstance(request.stop, str) else tuple(request.stop or ())
        return parallel.Sampling(
            max_tokens=request.max_tokens,
            temperature=request.temperature,
            top_p=request.top_p,
            seed=request.seed,
            stop=stop,
            grammar=self.grammars[request.grammar or self.options.grammar],
        )

    def chat_ids(self, messages: list[dict]) -> list[int]:
        return llamacpp.prompt_tokens(self.llama, self.formatter(messages=prompting.user_turns(messages)).prompt)

    def repair_ids(self, example: dict) -> list[int]:
        """A repair example (``checked.repair_example``) as one user message of the chat template."""
        return self.chat_ids([{"role": "user", "content": example["instruction"], "input": example["input"]}])

    def policy(self, request: Options) -> checked.Policy | None:
        """The checker loop's policy for a request; None where the loop is off."""
        if request.nava_check is False:
            return None
        tuned = request.nava_check if isinstance(request.nava_check, CheckOptions) else CheckOptions()
        server = self.options.check
        mode = tuned.mode or server.mode
        if mode in ("repair", "both") and self.formatter is None:  # no chat template to write a repair prompt in
            mode = "sample"
        if mode == "off":
            return None
        meaning = server.meaning if tuned.meaning is None else tuned.meaning
        max_attempts = tuned.max_attempts or server.max_attempts
        return replace(server, mode=mode, max_attempts=max_attempts, seed=request.seed or 0, meaning=meaning)

    def checked_answer(
        self, request: Options, ids: list[int], policy: checked.Policy, asked: str | None, context: str
    ) -> tuple[parallel.Generated, dict]:
        """The checker loop's kept generation and its record; ``asked`` is the request in words, ``context``
        the rest of the conversation (its numbers count as stated)."""
        generations, result = checked.decode(
            self.decoder,
            ids,
            self.sampling(request),
            policy,
            request=asked,
            repair_prompt=self.repair_ids,
            context=context,
        )
        record = result.record()
        if isinstance(request.nava_check, CheckOptions) and request.nava_check.first_answer:
            record["first_answer"] = result.first_answer
        return generations[result.kept], record

    def answer(
        self, request: Options, kind: Kind, ids: list[int], asked: str | None = None, context: str = ""
    ) -> dict | EventStream:
        """The answer to prompt ``ids``, through the checker loop unless the request turns it off; for
        ``stream: true``, its events."""
        self.fit(request, len(ids))
        policy = self.policy(request)
        if policy is None and request.stream:  # streamed as it is decoded
            job = self.decoder.submit(ids, self.sampling(request))
            return self.stream(request, kind, job.pieces(), lambda: (job.result, {}), job)
        if policy is None:
            generated, extra = self.decoder.generate(ids, self.sampling(request)), {}
        else:
            generated, record = self.checked_answer(request, ids, policy, asked, context)
            extra = {"nava_check": record}
        if not request.stream:
            return response_body(kind, self.model_id, generated) | extra
        return self.stream(request, kind, iter([generated.text]), lambda: (generated, extra))

    def chat(self, request: ChatRequest) -> dict | EventStream:
        if self.formatter is None:
            raise HTTPException(400, "this model has no chat template: use /v1/completions")
        messages = [message.model_dump(exclude_none=True) for message in request.messages]
        ids = self.chat_ids(messages)
        users = [index for index, message in enumerate(messages) if message["role"] == "user"]
        asked = messages[users[-1]]["content"] if users else None
        context = [message.get("input", "") for message in messages] + [
            message["content"] for index, message in enumerate(messages) if not users or index != users[-1]
        ]
        return self.answer(request, "chat.completion", ids, asked, "\n".join(context))

    def stream(
        self,
        request: Options,
        kind: Kind,
        pieces: Iterator[str],
        ending: Callable[[], tuple[parallel.Generated, dict]],
        job: parallel.Job | None = None,
    ) -> EventStream:
        """The events of an answer: its ``pieces``, then ``ending()``'s; ``job``'s slot is held until they end."""
        usage = request.stream_options is not None and request.stream_options.include_usage
        return EventStream(server_sent_events(stream_chunks(kind, self.model_id, pieces, ending, usage), job))


def create_app(model: str | Path, options: ServeOptions = ServeOptions()) -> FastAPI:
    """The HTTP API of a ``Server`` for ``model``: each route checks the key where it needs one and calls the server."""
    server = Server(model, options)
    app = FastAPI(
        title="nava-instruct",
        exception_handlers={
            RequestValidationError: _validation_error,
            StarletteHTTPException: lambda _request, exc: error(exc.status_code, str(exc.detail)),
            RunError: lambda _request, exc: error(500, str(exc)),
        },
        lifespan=lambda _app: closing_decoder(server.decoder),
    )
    app.add_middleware(BodyLimit, limit=MAX_BODY_BYTES)
    keyed = [Depends(server.authorize)]

    @app.get("/health")
    def health() -> dict:
        return {"status": "ok", "model": server.model_id}

    @app.get("/v1/models", dependencies=keyed)
    def models() -> dict:
        return server.models()

    @app.post("/v1/completions", dependencies=keyed, response_model=None)
    def completions(request: CompletionRequest) -> dict | StreamingResponse:
        return server.answer(request, "text_completion", llamacpp.prompt_tokens(server.llama, request.prompt))

    @app.post("/v1/chat/completions", dependencies=keyed, response_model=None)
    def chat(request: ChatRequest) -> dict | StreamingResponse:
        return server.chat(request)

    return app


@contextlib.asynccontextmanager
async def closing_decoder(decoder: parallel.ParallelDecoder):
    yield
    decoder.close()


# --- The command: its options, derived from ServeOptions, and the run. ---


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``nava-instruct serve``; their defaults are ``ServeOptions``'s."""
    default = ServeOptions()
    parser.add_argument("--model", help="GGUF file (default: the first of convert's quantizations in --params)")
    add_params_option(parser)
    parser.add_argument("--host", default=default.host, help="address to listen on (default: %(default)s)")
    parser.add_argument("--port", type=int, default=default.port, help="port (default: %(default)s)")
    parser.add_argument(
        "--api-key",
        default=os.environ.get(API_KEY_ENV, default.api_key),
        help=f"require 'Authorization: Bearer KEY' (default: ${API_KEY_ENV})",
    )
    add_model_arguments(parser, default)
    add_check_arguments(parser, default.check)


def add_model_arguments(parser: argparse.ArgumentParser, default: ServeOptions) -> None:
    parser.add_argument(
        "--grammar",
        choices=get_args(Grammar),
        default=default.grammar,
        help="default constraint on decoding; a request's 'grammar' field overrides it",
    )
    parser.add_argument(
        "--n-ctx",
        type=int,
        default=default.n_ctx,
        help="context length of each request in tokens (default: the model's own)",
    )
    parser.add_argument(
        "--parallel",
        type=int,
        default=default.parallel,
        help="requests decoded together, each in its own n-ctx slot; more wait (default: %(default)s)",
    )
    parser.add_argument(
        "--threads", type=int, default=default.threads, help="CPU threads for generation (default: llama.cpp's choice)"
    )
    parser.add_argument(
        "--cpu-repack",
        action="store_true",
        default=default.cpu_repack,
        help="let llama.cpp repack quantized weights for the CPU (faster; crashes on some VMs, see llamacpp.py)",
    )


def add_check_arguments(parser: argparse.ArgumentParser, default: checked.Policy) -> None:
    parser.add_argument(
        "--check-mode",
        choices=checked.MODES,
        default=default.mode,
        help="checker loop for code answers; a request's 'nava_check' field overrides it (default: %(default)s)",
    )
    parser.add_argument(
        "--check-attempts",
        type=int,
        default=default.max_attempts,
        help="most attempts per request in the loop (default: %(default)s)",
    )
    parser.add_argument(
        "--check-seconds",
        type=float,
        default=default.seconds,
        help="no new attempt after this many seconds: a request ends within it plus one attempt (default: %(default)s)",
    )
    parser.add_argument(
        "--check-meaning",
        action=argparse.BooleanOptionalAction,
        default=default.meaning,
        help="also try again while an answer that checks contradicts what the request states (default: %(default)s)",
    )


def main(args: argparse.Namespace) -> int:
    """Run ``nava-instruct serve`` with the options ``add_arguments`` parsed."""
    given = {option.name: getattr(args, option.name) for option in fields(ServeOptions) if option.name != "check"}
    check = checked.Policy(
        mode=args.check_mode, max_attempts=args.check_attempts, seconds=args.check_seconds, meaning=args.check_meaning
    )
    return serve(args.model or layout.served_model(args.params), ServeOptions(**given, check=check))


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(model: str | Path, options: ServeOptions) -> int:
    """Serve until SIGINT or SIGTERM. Any address but loopback needs an API key."""
    import uvicorn

    host, port = options.host, options.port
    if not is_loopback(host) and not options.api_key:
        raise InputError("serve", f"--host {host} is reachable from other machines: set --api-key (or {API_KEY_ENV})")
    app = create_app(model, options)
    log.info("serving %s on http://%s:%s/v1", model, host, port)
    uvicorn.run(app, host=host, port=port, log_level="info")
    return 0
