"""The ``nava-instruct`` command: the NAVA toolkit, one subcommand per pipeline stage, serve, sign, verify and audit.

This module only parses arguments. Each command lives in its own module, which adds the command's
options (``add_arguments(parser)``) and runs it (``main(args) -> int``); only the chosen command's
module is imported. So ``nava-instruct nava ...`` never loads torch, and a stage's command runs its
own code and nothing the other commands need: its DVC deps are that code (docs/architecture.md).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys

from nava_instruct.errors import InputError, RunError

STAGES = {  # dvc.yaml's order
    "generate": "generate the NAVA-Instruct dataset with metadata and a dataset card",
    "split": "split the dataset into train/eval files with no leakage",
    "base": "materialise the base model as a plain transformers folder with a manifest",
    "train": "fine-tune a LoRA/QLoRA adapter on the train split (resumable, deterministic)",
    "merge": "merge the adapter into the float32 base and install the training prompt's chat template",
    "convert": "convert the merged model to GGUF f16 with llama.cpp's converter, then quantize it",
    "parity": "compare tokens, greedy output and logits of every GGUF file with transformers",
    "evaluate": "score base, fine-tuned, quantized and grammar-constrained models on the eval prompts",
    "release": "write the in-toto statement (SLSA provenance) of the released artifacts",
}
COMMANDS = {  # name: (module, one-line summary)
    "nava": ("nava_instruct.nava.commands", "check, format and compare NAVA programs"),
    **{name: ("nava_instruct.stages", summary) for name, summary in STAGES.items()},
    "serve": ("nava_instruct.serving.serve", "serve a GGUF model over an OpenAI-compatible HTTP API (docs/serving.md)"),
    "sign": (
        "nava_instruct.release.signing",
        "sign the released artifacts with a local key (OpenSSF model-signing format)",
    ),
    "verify": (
        "nava_instruct.release.verify",
        "check the signatures and re-hash every DVC input and output against dvc.lock",
    ),
    "audit": (
        "nava_instruct.release.audit",
        "rebuild a commit in a clean clone (dvc repro --force, no run cache), compare every output with its dvc.lock",
    ),
}


def parser_for(command: str | None) -> argparse.ArgumentParser:
    """The whole parser, with the options of ``command`` alone loaded from its module."""
    parser = argparse.ArgumentParser(prog="nava-instruct", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    commands = parser.add_subparsers(dest="command", required=True)
    for name, (module_name, summary) in COMMANDS.items():
        subparser = commands.add_parser(name, help=summary, description=summary)
        if name == command:
            module = importlib.import_module(module_name)
            module.add_arguments(subparser)
            subparser.set_defaults(handler=module.main)
    return parser


def main(argv: list[str] | None = None) -> int:
    # Offline unless asked otherwise (HF_HUB_OFFLINE=0 for a hub base model). transformers also writes
    # the setting into saved tokenizer configs, so an unset variable would change the bytes of a model.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    argv = sys.argv[1:] if argv is None else argv
    command = next((word for word in argv if not word.startswith("-")), None)
    args = parser_for(command).parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, format="%(levelname)s %(name)s: %(message)s"
    )
    try:
        return args.handler(args)
    except (InputError, RunError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
