"""The one prompt format: how an example becomes the text and the tokens the model sees.

Training, merging, evaluation and serving all go through this module, so the model is always asked
in the words it was trained on. Two formats:

``instruction`` (default), the original NAVA-Instruct guide's format::

    ### Instruction:
    {instruction}

    ### Input:
    {input}

    ### Response:

When ``input`` is empty (most prompt-to-code tasks) the whole ``### Input:`` block is left out
rather than kept with an empty body: an empty section carries no information, and the guide's own
examples put nothing there. If the tokenizer normally starts a text with BOS (Llama 3 does,
SmolLM2 does not), the prompt text begins with the BOS token, so the text alone fixes the tokens.

``chat_template``: the base model's own chat template with one user turn (the instruction, then a
blank line and the input when there is one) and the assistant turn opened.

Either way the request is shown with every angle it states in degrees or pi annotated with its value
in radians (``reading.quantities.annotate``: the model copies numbers, it never converts them); the
server annotates each user message of a chat in the same way (``user_turns``).

Either way the model must learn to stop: the response is followed by the tokenizer's EOS token,
which is supervised, while every prompt token carries the label -100. Padding is added later, per
batch, with labels -100 by position, so a tokenizer whose pad id equals its EOS id cannot mask the
EOS away.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from nava_instruct.reading.quantities import annotate

PromptFormat = Literal["instruction", "chat_template"]

IGNORE = -100  # the label that cross-entropy skips
MIN_PROMPT_TOKENS = 16  # a prompt cut shorter than this would not say what was asked

# Messages for the instruction format: a user turn's "content" is the instruction, its optional
# "input" key the input; an assistant turn is a response and ends with EOS; a system turn, which
# training never uses, is written first as a plain paragraph.
_INSTRUCTION_TEMPLATE = (
    "{%- for message in messages %}"
    "{%- if message['role'] == 'system' %}{{ message['content'] + '\\n\\n' }}"
    "{%- elif message['role'] == 'user' %}{{ '### Instruction:\\n' + message['content'] + '\\n\\n' }}"
    "{%- if message['input'] is defined and message['input'] %}"
    "{{ '### Input:\\n' + message['input'] + '\\n\\n' }}{% endif %}"
    "{%- elif message['role'] == 'assistant' %}{{ '### Response:\\n' + message['content'] + eos_token }}"
    "{%- endif %}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{ '### Response:\\n' }}{% endif %}"
)


def adds_bos(tokenizer) -> bool:
    """Whether the tokenizer puts BOS in front of a text by itself."""
    bos = tokenizer.bos_token_id
    return bos is not None and tokenizer("x").input_ids[:1] == [bos]


def chat_template(tokenizer) -> str:
    """A Jinja chat template that renders messages into exactly the ``instruction`` prompt text.

    ``tokenizer.apply_chat_template([{"role": "user", "content": instruction, "input": input}],
    chat_template=..., add_generation_prompt=True, tokenize=False)`` equals
    ``render(example, tokenizer)[0]``; the merge stage installs it as the tokenizer's template.
    """
    return ("{{ bos_token }}" if adds_bos(tokenizer) else "") + _INSTRUCTION_TEMPLATE


def messages(example: dict) -> list[dict]:
    """An example as the chat messages it stands for: its earlier turns (``history``, a follow-up's user
    and assistant messages), then its instruction as the last user message, with its input."""
    request = {"role": "user", "content": example["instruction"], "input": example["input"]}
    return [*example.get("history", ()), request]


def render(example: dict, tokenizer, prompt_format: PromptFormat = "instruction") -> tuple[str, str]:
    """Return ``(prompt_text, response_text)``; EOS is not in the text, ``encode`` appends it. A follow-up's
    earlier turns come first, each answer followed by EOS, as the chat template renders a conversation."""
    turns = user_turns(messages(example))
    if prompt_format == "chat_template":
        joined = [turn | {"content": _with_input(turn)} for turn in turns]
        prompt = tokenizer.apply_chat_template(
            [{"role": turn["role"], "content": turn["content"]} for turn in joined],
            tokenize=False,
            add_generation_prompt=True,
        )
        return prompt, example["output"]
    bos = tokenizer.bos_token if adds_bos(tokenizer) else ""
    return bos + "".join(_instruction_turn(turn, tokenizer.eos_token) for turn in turns) + "### Response:\n", example[
        "output"
    ]


def _with_input(turn: dict) -> str:
    return f"{turn['content']}\n\n{turn['input']}" if turn.get("input") else turn["content"]


def _instruction_turn(turn: dict, eos: str) -> str:
    """One message in the ``instruction`` format, as ``_INSTRUCTION_TEMPLATE`` writes it."""
    if turn["role"] == "assistant":
        return f"### Response:\n{turn['content']}{eos}"
    input_block = f"### Input:\n{turn['input']}\n\n" if turn.get("input") else ""
    return f"### Instruction:\n{turn['content']}\n\n{input_block}"


def user_turns(messages: list[dict]) -> list[dict]:
    """Chat messages with each user turn's content annotated as ``render`` annotates an instruction."""
    return [
        message | {"content": annotate(message["content"])} if message["role"] == "user" else message
        for message in messages
    ]


def prompt_ids(tokenizer, prompt_text: str) -> list[int]:
    """Token ids of a prompt text; any special token it needs (BOS, turn markers) is in the text."""
    return tokenizer(prompt_text, add_special_tokens=False).input_ids


@dataclass(frozen=True)
class Encoded:
    input_ids: list[int]
    labels: list[int]
    truncated: bool  # the prompt was cut to fit max_length


def encode(example: dict, tokenizer, max_length: int, prompt_format: PromptFormat = "instruction") -> Encoded | None:
    """Tokenize one example into ``input_ids`` and ``labels`` of at most ``max_length`` tokens.

    Labels are -100 on the prompt and the response's ids followed by EOS. A sequence that is too
    long loses the middle of its prompt (its head says what is asked, its tail holds the input's
    end and the ``### Response:`` marker); the response and its EOS are never cut. When the
    response alone leaves room for fewer than ``MIN_PROMPT_TOKENS`` prompt tokens the example is
    dropped: ``None`` is returned and the caller counts it.
    """
    prompt, response = render(example, tokenizer, prompt_format)
    prompt_tokens = prompt_ids(tokenizer, prompt)
    response_tokens = tokenizer(response, add_special_tokens=False).input_ids + [tokenizer.eos_token_id]
    room = max_length - len(response_tokens)
    truncated = len(prompt_tokens) > room
    if truncated:
        if room < MIN_PROMPT_TOKENS:
            return None
        head = room // 2
        prompt_tokens = prompt_tokens[:head] + prompt_tokens[len(prompt_tokens) - (room - head) :]
    return Encoded(prompt_tokens + response_tokens, [IGNORE] * len(prompt_tokens) + response_tokens, truncated)
