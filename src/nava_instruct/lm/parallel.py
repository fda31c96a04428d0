"""Several generations decoded together in one llama.cpp context: how the server answers clients at once.

``ParallelDecoder`` owns a llama.cpp context holding ``slots`` sequences, and one thread that drives it.
Each step builds one batch: the newest token of every sequence that is generating, then as much of
the waiting prompts as ``n_batch`` leaves room for. One ``llama_decode`` runs the batch, and every
sequence with an output samples its next token with its own sampler chain. A request that ends frees
its slot (and its cells of the KV cache) for the next one waiting. This is what ``llama-server
--parallel`` does. On a CPU a step for a few sequences costs little more than a step for one: a
small batch is bound by reading the weights, which the sequences share.

Sampling follows llama-cpp-python's chain for the fields the server takes: greedy at temperature 0,
else top-k 40, ``top_p``, min-p 0.05, temperature and a seeded draw. A grammar constrains a sequence
through ``grammar_sampling.ChosenTokenGrammarSampler``. Generation ends at an end-of-generation token
(``finish_reason`` "stop", the token not part of the text), at a stop string (cut before it), or
after ``max_tokens`` ("length").

A caller submits token ids and gets a ``Job``: ``pieces()`` yields the text as it is decoded (held
back only where it could be the start of a stop string), ``wait()`` the whole ``Generated``, and
``cancel()`` gives its slot back.
"""

from __future__ import annotations

import codecs
import ctypes
import logging
import queue
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

import llama_cpp
from llama_cpp import _internals

from nava_instruct.errors import RunError
from nava_instruct.lm import llamacpp
from nava_instruct.lm.grammar_sampling import ChosenTokenGrammarSampler

log = logging.getLogger(__name__)
bindings = llama_cpp.llama_cpp

TOP_K, MIN_P = 40, 0.05  # llama-cpp-python's defaults for the fields the server does not take
OWN_CONTEXT = 64  # cells of the loaded Llama's own context, which never decodes: the decoder has its own


@dataclass(frozen=True)
class Sampling:
    max_tokens: int
    temperature: float = 0.0  # 0: greedy
    top_p: float = 1.0
    seed: int | None = None  # None: a random one
    stop: tuple[str, ...] = ()
    grammar: llama_cpp.LlamaGrammar | None = None


@dataclass(frozen=True)
class Generated:
    text: str
    finish_reason: str  # "stop" or "length"
    prompt_tokens: int
    completion_tokens: int


class Job:
    """One submitted generation; its events come from the decoder's thread."""

    def __init__(self, ids: list[int], sampling: Sampling):
        self.ids, self.sampling = ids, sampling
        self.events: queue.SimpleQueue = queue.SimpleQueue()
        self.cancelled = False
        self.result: Generated | None = None

    def pieces(self) -> Iterator[str]:
        """The text as it is decoded; ``result`` is set when this ends. A failed decode raises RunError."""
        while self.result is None:
            kind, value = self.events.get()
            if kind == "error":
                raise RunError(f"generation failed: {value}")
            if kind == "piece":
                yield value
            else:
                self.result = value

    def wait(self) -> Generated:
        for _ in self.pieces():
            pass
        return self.result

    def cancel(self) -> None:
        self.cancelled = True


@dataclass
class Sequence:
    """A job in a slot: what is still to be fed to the model, and the text so far."""

    job: Job
    slot: int
    sampler: object  # a LlamaSampler chain, or a ChosenTokenGrammarSampler around one
    feed: list[int]  # tokens to decode next: the prompt (or what is left of it), then each sampled token
    position: int = 0
    generated: int = 0
    output: int | None = None  # index of this sequence's logits in the batch just decoded
    text: str = ""
    shown: int = 0  # how much of ``text`` has been sent as pieces
    decoder: codecs.IncrementalDecoder = field(default_factory=lambda: codecs.getincrementaldecoder("utf-8")("replace"))


class ParallelDecoder:
    """Up to ``slots`` generations at once over ``llama``'s weights, each with up to ``n_ctx`` tokens
    (0: the model's training context), in a context set up as ``llama``'s own (threads, attention)."""

    def __init__(self, llama: llama_cpp.Llama, slots: int, n_ctx: int = 0):
        self.llama, self.model = llama, llama._model
        self.n_vocab = llama.n_vocab()
        self.slots = slots
        self.n_ctx = n_ctx or self.model.n_ctx_train()
        # The settings of llama's own context (those parity measures), with room for every slot.
        params = type(llama.context_params).from_buffer_copy(llama.context_params)
        params.n_ctx = self.n_ctx * slots  # split evenly: each sequence has its own n_ctx cells
        params.n_seq_max = slots
        params.kv_unified = False
        self.n_batch = params.n_batch
        self.context = _internals.LlamaContext(model=self.model, params=params, verbose=False)
        self.batch = bindings.llama_batch_init(self.n_batch, 0, 1)
        self.changed = threading.Condition()
        self.waiting: deque[Job] = deque()
        self.running: list[Sequence] = []
        self.closed = False
        self.thread = threading.Thread(target=self._drive, name="parallel-decoder", daemon=True)
        self.thread.start()

    @classmethod
    def open(cls, path, slots: int, n_ctx: int = 0, **load_options) -> ParallelDecoder:
        """Load a GGUF file (``llamacpp.load``, whose ``Llama`` stays as ``.llama`` for its tokenizer and
        metadata) and decode with it."""
        return cls(llamacpp.load(path, n_ctx=OWN_CONTEXT, **load_options), slots, n_ctx)

    def submit(self, ids: list[int], sampling: Sampling) -> Job:
        if not ids:
            raise ValueError("an empty prompt")
        if len(ids) + sampling.max_tokens > self.n_ctx:
            raise ValueError(f"{len(ids)} prompt tokens plus max_tokens {sampling.max_tokens} exceed {self.n_ctx}")
        job = Job(list(ids), sampling)
        with self.changed:
            if self.closed:
                raise RuntimeError("the decoder is closed")
            self.waiting.append(job)
            self.changed.notify()
        return job

    def generate(self, ids: list[int], sampling: Sampling) -> Generated:
        return self.submit(ids, sampling).wait()

    def generate_in_room(self, ids: list[int], sampling: Sampling) -> Generated:
        """``generate``, with ``max_tokens`` cut to the room the prompt leaves in a slot; a prompt that leaves
        none gets an empty answer ("length") without reaching the model. For prompts the caller built, such
        as the checker loop's repair prompts, which are longer than the request's."""
        room = self.n_ctx - len(ids)
        if room < 1:
            return Generated("", "length", len(ids), 0)
        return self.generate(ids, replace(sampling, max_tokens=min(sampling.max_tokens, room)))

    def close(self) -> None:
        with self.changed:
            self.closed = True
            self.changed.notify()
        self.thread.join()
        for sequence in list(self.running):  # _end removes it from the list
            self._end(sequence, error="the decoder was closed")
        if self.batch is not None:
            bindings.llama_batch_free(self.batch)
            self.batch = None
        self.context.close()

    # --- the decoder's thread ---

    def _drive(self) -> None:
        while True:
            with self.changed:
                while not self.closed and not self.waiting and not self.running:
                    self.changed.wait()
                if self.closed:
                    return
                self._admit()
            for sequence in [s for s in self.running if s.job.cancelled]:
                self._end(sequence)
            if self.running:
                try:
                    self._step()
                except Exception as error:  # noqa: BLE001 - every waiting client must hear of it
                    log.exception("decode step failed")
                    for sequence in list(self.running):
                        self._end(sequence, error=str(error))

    def _admit(self) -> None:
        busy = {sequence.slot for sequence in self.running}
        free = [slot for slot in range(self.slots) if slot not in busy]
        while self.waiting and free:
            job = self.waiting.popleft()
            if job.cancelled:
                continue
            self.running.append(Sequence(job, free.pop(0), self._sampler(job.sampling), feed=list(job.ids)))

    def _sampler(self, sampling: Sampling):
        chain = _internals.LlamaSampler()
        if sampling.temperature == 0:
            chain.add_greedy()
        else:
            chain.add_top_k(TOP_K)
            chain.add_top_p(sampling.top_p, 1)
            chain.add_min_p(MIN_P, 1)
            chain.add_temp(sampling.temperature)
            chain.add_dist(llama_cpp.LLAMA_DEFAULT_SEED if sampling.seed is None else sampling.seed)
        if sampling.grammar is None:
            return chain
        return ChosenTokenGrammarSampler(chain, self.model, sampling.grammar, self.n_vocab)

    def _step(self) -> None:
        """One decode: generating sequences first (one token each), then prompts in the room left."""
        batch, count = self.batch, 0
        ordered = sorted(self.running, key=lambda s: s.position < len(s.job.ids))  # prompts last
        for sequence in ordered:
            take = min(len(sequence.feed), self.n_batch - count)
            sequence.output = None
            for i, token in enumerate(sequence.feed[:take]):
                batch.token[count] = token
                batch.pos[count] = sequence.position + i
                batch.n_seq_id[count] = 1
                batch.seq_id[count][0] = sequence.slot
                batch.logits[count] = take == len(sequence.feed) and i == take - 1
                if batch.logits[count]:
                    sequence.output = count
                count += 1
            sequence.feed = sequence.feed[take:]
            sequence.position += take
        batch.n_tokens = count
        status = bindings.llama_decode(self.context.ctx, batch)
        if status != 0:
            raise RunError(f"llama_decode returned {status}")
        for sequence in list(self.running):
            if sequence.output is not None:
                self._advance(sequence, sequence.sampler.sample(self.context, sequence.output))

    def _advance(self, sequence: Sequence, token: int) -> None:
        sampling = sequence.job.sampling
        if bindings.llama_vocab_is_eog(self.model.vocab, token):
            return self._end(sequence, "stop")
        sequence.generated += 1
        sequence.text += sequence.decoder.decode(self._piece(token))
        cut = min((i for i in (sequence.text.find(stop) for stop in sampling.stop if stop) if i >= 0), default=-1)
        if cut >= 0:
            sequence.text = sequence.text[:cut]
            return self._end(sequence, "stop")
        if sequence.generated >= sampling.max_tokens:
            return self._end(sequence, "length")
        held = max((len(stop) - 1 for stop in sampling.stop), default=0)
        self._show(sequence, len(sequence.text) - held)
        sequence.feed = [token]

    def _piece(self, token: int) -> bytes:
        buffer = ctypes.create_string_buffer(64)
        length = bindings.llama_token_to_piece(self.model.vocab, token, buffer, len(buffer), 0, False)
        return buffer.raw[: max(length, 0)]

    def _show(self, sequence: Sequence, upto: int) -> None:
        if upto > sequence.shown:
            sequence.job.events.put(("piece", sequence.text[sequence.shown : upto]))
            sequence.shown = upto

    def _end(self, sequence: Sequence, finish_reason: str | None = None, error: str | None = None) -> None:
        self.running.remove(sequence)
        bindings.llama_memory_seq_rm(self.context.memory, sequence.slot, -1, -1)
        sequence.sampler.close()
        job = sequence.job
        if error is not None:
            job.events.put(("error", error))
            return
        if finish_reason is not None:
            sequence.text += sequence.decoder.decode(b"", final=True)
            self._show(sequence, len(sequence.text))
            generated = Generated(sequence.text, finish_reason, len(job.ids), sequence.generated)
            job.events.put(("done", generated))
