"""The training data path: encoded examples, batches of similar length, padding per batch.

Padding every example to ``max_length`` wastes most of each batch on pad tokens, so examples are
grouped by length and each batch is padded only to its own longest row. The batch order is a pure
function of ``(seed, epoch)``: every process computes the same plan without talking to the others,
and a resumed run finds the batches of any step again without replaying the ones before it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import torch

from nava_instruct.errors import InputError
from nava_instruct.fileio import read_jsonl
from nava_instruct.lm.prompting import IGNORE, Encoded, PromptFormat, encode
from nava_instruct.records import FIELDS

MEGA_BATCH = 64  # batches per length-sorted group: big enough to group well, small enough to mix


@dataclass(frozen=True)
class EncodedSet:
    examples: list[Encoded]
    truncated: int  # prompts cut to fit max_length
    dropped: int  # responses that left too little room for a prompt


def encode_file(
    path: str | Path, tokenizer, max_length: int, prompt_format: PromptFormat, limit: int | None = None
) -> EncodedSet:
    """Read and encode a JSONL file of ``{instruction, input, output}`` records (the first ``limit`` of them)."""
    encoded = [
        encode(record, tokenizer, max_length, prompt_format) for _, record in read_jsonl(path, required=FIELDS)[:limit]
    ]
    kept = [example for example in encoded if example is not None]
    result = EncodedSet(kept, truncated=sum(example.truncated for example in kept), dropped=len(encoded) - len(kept))
    if not kept:
        raise InputError(path, f"no example fits max_length={max_length}: every response is too long")
    return result


def length_grouped_batches(lengths: list[int], batch_size: int, seed: int, epoch: int) -> list[list[int]]:
    """Batches of example indices: shuffle, sort each group of MEGA_BATCH batches by length, shuffle batches."""
    rng = random.Random(f"{seed}/{epoch}")
    order = list(range(len(lengths)))
    rng.shuffle(order)
    group = batch_size * MEGA_BATCH
    batches = []
    for start in range(0, len(order), group):
        chunk = sorted(order[start : start + group], key=lambda index: -lengths[index])
        batches += [chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size)]
    rng.shuffle(batches)
    return batches


def collate(examples: list[Encoded], pad_id: int, device: torch.device | str = "cpu") -> dict[str, torch.Tensor]:
    """Right-pad to the longest row; padding is masked by position (attention 0, label -100)."""
    width = max(len(example.input_ids) for example in examples)
    input_ids = torch.full((len(examples), width), pad_id, dtype=torch.long)
    labels = torch.full((len(examples), width), IGNORE, dtype=torch.long)
    attention_mask = torch.zeros((len(examples), width), dtype=torch.long)
    for row, example in enumerate(examples):
        n = len(example.input_ids)
        input_ids[row, :n] = torch.tensor(example.input_ids)
        labels[row, :n] = torch.tensor(example.labels)
        attention_mask[row, :n] = 1
    return {"input_ids": input_ids.to(device), "labels": labels.to(device), "attention_mask": attention_mask.to(device)}


def supervised_positions(labels: torch.Tensor) -> torch.Tensor:
    """The positions whose next token is supervised in some row: the only ones whose logits the loss needs.

    Prompts come first in every row, so in a batch of similar lengths these are about the last
    ~60 % of the positions; the LM head (a fifth of the model) and its 49k-wide softmax run on them alone.
    """
    return torch.nonzero((labels[:, 1:] != IGNORE).any(dim=0)).squeeze(1)


def batch_loss(model, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """Summed next-token cross-entropy of a collated batch over its supervised targets, and how many there were.

    Only supervised rows of the logits are turned into float32 log-probabilities: with a 49k-token
    vocabulary, the prompt's rows would cost as much memory as the model.
    """
    positions = supervised_positions(batch["labels"])
    logits = model(
        input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], logits_to_keep=positions
    ).logits
    targets = batch["labels"][:, positions + 1]
    supervised = targets != IGNORE
    loss = torch.nn.functional.cross_entropy(logits[supervised].float(), targets[supervised], reduction="sum")
    return loss, supervised.sum()


@dataclass(frozen=True)
class Step:
    batches: list[list[int]]  # this process's micro-batches, in order
    supervised: int  # supervised tokens in the whole step, over every process
    tokens: int  # non-pad tokens in the whole step, over every process


class Plan:
    """Which examples every process trains on at every optimizer step.

    An epoch is cut into steps of ``grad_accum × world`` micro-batches; a last incomplete step is
    left out so that every process always does the same work. Micro-batch ``k × world + rank`` of
    a step belongs to process ``rank``.
    """

    def __init__(self, examples: list[Encoded], batch_size: int, grad_accum: int, world: int, seed: int):
        self.lengths = [len(example.input_ids) for example in examples]
        self.supervised = [sum(label != IGNORE for label in example.labels[1:]) for example in examples]
        self.batch_size, self.per_step, self.world, self.seed = batch_size, grad_accum * world, world, seed
        self.steps_per_epoch = -(-len(examples) // batch_size) // self.per_step  # 0: too few examples
        self._epoch, self._batches = -1, []

    def step(self, step: int, rank: int) -> Step:
        epoch, index = divmod(step, self.steps_per_epoch)
        if epoch != self._epoch:
            self._epoch, self._batches = epoch, length_grouped_batches(self.lengths, self.batch_size, self.seed, epoch)
        batches = self._batches[index * self.per_step : (index + 1) * self.per_step]
        members = [i for batch in batches for i in batch]
        return Step(
            batches=batches[rank :: self.world],
            supervised=sum(self.supervised[i] for i in members),
            tokens=sum(self.lengths[i] for i in members),
        )


def eval_batches(examples: list[Encoded], batch_size: int, world: int, rank: int) -> list[tuple[list[int], bool]]:
    """This process's eval batches, sorted by length, as ``(indices, counts)`` pairs.

    Every process gets the same number of batches (collective forward passes such as FSDP's need
    that); a filler batch repeats the first one and has ``counts`` False.
    """
    order = sorted(range(len(examples)), key=lambda i: len(examples[i].input_ids))
    batches = [(order[i : i + batch_size], True) for i in range(0, len(order), batch_size)]
    batches += [(batches[0][0], False)] * (-len(batches) % world)
    return batches[rank::world]
