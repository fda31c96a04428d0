"""The ``nava-instruct`` command: the NAVA toolkit and one subcommand per pipeline stage.

Every stage module exposes ``Params`` (its typed parameters) and ``run(params)``; the CLI reads
the stage's section of the params file, validates it, and calls ``run``. Stage modules are
imported only when their command runs, so ``nava-instruct nava ...`` never loads torch.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from pathlib import Path

from nava_instruct import layout, numerics
from nava_instruct.errors import InputError, RunError
from nava_instruct.fileio import write_json
from nava_instruct.nava import cli as nava_cli
from nava_instruct.params import DEFAULT_PARAMS, load_section
from nava_instruct.release import provenance, signing
from nava_instruct.serving import API_KEY_ENV

STAGES = {
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


log = logging.getLogger("nava_instruct")


def run_stage(name: str, params_path: str) -> int:
    """Put the numerics profile in force, validate the stage's params, run it, then record the environment it ran in.

    The profile comes first: its kernel pins only take effect before the stage module loads torch.
    """
    numerics.apply(numerics.load(params_path), params_path)
    module = importlib.import_module(f"nava_instruct.stages.{name}")
    params = load_section(module.Params, name, params_path)
    module.run(params)
    record = {
        "stage": name,
        "command": f"nava-instruct {name} --params {params_path}",
        **provenance.environment(),
        "numerics": numerics.record(),
    }
    write_json(Path(layout.paths(params_path).provenance) / f"{name}.json", record)
    return 0


def serve(args: argparse.Namespace) -> int:
    from nava_instruct.serving import serve

    model = args.model or layout.served_model(args.params)
    options = {"grammar": args.grammar, "n_ctx": args.n_ctx, "threads": args.threads, "cpu_repack": args.cpu_repack}
    options["parallel_requests"] = args.parallel
    checks = {"check_mode": args.check_mode, "check_attempts": args.check_attempts, "check_seconds": args.check_seconds}
    return serve.serve(model, args.host, args.port, args.api_key, **options, **checks)


def add_params_option(parser: argparse.ArgumentParser) -> None:
    help = "params file; its paths section says where the artifacts are (default: %(default)s)"
    parser.add_argument("--params", default=DEFAULT_PARAMS, help=help)


def add_serve_parser(commands) -> None:
    summary = "serve a GGUF model over an OpenAI-compatible HTTP API (docs/serving.md)"
    parser = commands.add_parser("serve", help=summary, description=summary)
    parser.add_argument("--model", help="GGUF file (default: the first of convert's quantizations in --params)")
    add_params_option(parser)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    parser.add_argument("--port", type=int, default=8080, help="port (default: %(default)s)")
    parser.add_argument(
        "--api-key",
        default=os.environ.get(API_KEY_ENV),
        help=f"require 'Authorization: Bearer KEY' (default: ${API_KEY_ENV})",
    )
    parser.add_argument(
        "--grammar",
        choices=["none", "nava"],
        default="none",
        help="default constraint on decoding; a request's 'grammar' field overrides it",
    )
    parser.add_argument(
        "--n-ctx", type=int, default=0, help="context length of each request in tokens (default: the model's own)"
    )
    parser.add_argument(
        "--parallel",
        type=int,
        default=4,
        help="requests decoded together, each in its own n-ctx slot; more wait (default: %(default)s)",
    )
    parser.add_argument(
        "--threads", type=int, default=None, help="CPU threads for generation (default: llama.cpp's choice)"
    )
    parser.add_argument(
        "--cpu-repack",
        action="store_true",
        help="let llama.cpp repack quantized weights for the CPU (faster; crashes on some VMs, see llamacpp.py)",
    )
    parser.add_argument(
        "--check-mode",
        choices=["off", "sample", "repair", "both"],
        default="repair",
        help="checker loop for code answers; a request's 'nava_check' field overrides it (default: %(default)s)",
    )
    parser.add_argument(
        "--check-attempts", type=int, default=4, help="most attempts per request in the loop (default: %(default)s)"
    )
    parser.add_argument(
        "--check-seconds",
        type=float,
        default=30.0,
        help="no new attempt after this many seconds: a request ends within it plus one attempt (default: %(default)s)",
    )
    parser.set_defaults(handler=serve)


def sign(args: argparse.Namespace) -> int:
    paths = layout.paths(args.params)
    signing.sign(args.key, Path(paths.public_key), Path(paths.signatures), signing.signed_artifacts(paths))
    return 0


def verify(args: argparse.Namespace) -> int:
    from nava_instruct.release import verify

    return verify.run(args.lock or verify.LOCK, layout.paths(args.params), not args.no_signatures, args.report)


def audit(args: argparse.Namespace) -> int:
    from nava_instruct.release import audit

    return audit.run(args.repo, args.rev, args.out, args.keep)


def add_release_parsers(commands) -> None:
    """``sign``, ``verify`` and ``audit``: what a publisher and an auditor run (README, "Auditing a model")."""
    summary = "sign the released artifacts with a local key (OpenSSF model-signing format)"
    parser = commands.add_parser("sign", help=summary, description=summary)
    parser.add_argument(
        "--key",
        type=Path,
        default=signing.private_key_path(),
        help=f"PEM private key, created if missing (default: ${signing.PRIVATE_KEY_ENV} or %(default)s)",
    )
    add_params_option(parser)
    parser.set_defaults(handler=sign)

    summary = "check the signatures and re-hash every DVC input and output against dvc.lock"
    parser = commands.add_parser("verify", help=summary, description=summary)
    parser.add_argument("--lock", help="the lock to check against (default: dvc.lock)")
    add_params_option(parser)
    parser.add_argument("--no-signatures", action="store_true", help="only compare the files with dvc.lock")
    parser.add_argument("--report", help="also write the result as JSON here")
    parser.set_defaults(handler=verify)

    summary = (
        "rebuild a commit in a clean clone (dvc repro --force, no run cache) and compare every output with its dvc.lock"
    )
    parser = commands.add_parser("audit", help=summary, description=summary)
    parser.add_argument("--repo", default=".", help="git repository (default: %(default)s)")
    parser.add_argument("--rev", default="HEAD", help="commit, tag or branch to audit (default: %(default)s)")
    parser.add_argument("--out", default="audit", help="folder for audit.json and audit.md (default: %(default)s)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary clone for inspection")
    parser.set_defaults(handler=audit)


def main(argv: list[str] | None = None) -> int:
    # Offline unless asked otherwise (HF_HUB_OFFLINE=0 for a hub base model). transformers also writes
    # the setting into saved tokenizer configs, so an unset variable would change the bytes of a model.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    parser = argparse.ArgumentParser(prog="nava-instruct", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    commands = parser.add_subparsers(dest="command", required=True)
    nava_cli.add_parser(commands)
    for name, summary in STAGES.items():
        stage = commands.add_parser(name, help=summary, description=summary)
        add_params_option(stage)
        stage.set_defaults(handler=lambda args, name=name: run_stage(name, args.params))
    add_serve_parser(commands)
    add_release_parsers(commands)
    args = parser.parse_args(argv)
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
