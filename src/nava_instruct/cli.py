"""The ``nava-instruct`` command: the NAVA toolkit and one subcommand per pipeline stage.

Every stage module exposes ``Params`` (its typed parameters) and ``run(params)``; the CLI reads
the stage's section of the params file, validates it, and calls ``run``. Stage modules are
imported only when their command runs, so ``nava-instruct nava ...`` never loads torch.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from nava_instruct.errors import InputError
from nava_instruct.nava import cli as nava_cli
from nava_instruct.params import DEFAULT_PARAMS, load_section

STAGES = {
    "generate": "generate the NAVA-Instruct dataset with metadata and a dataset card",
    "split": "split the dataset into train/eval files with no leakage",
}

log = logging.getLogger("nava_instruct")


def run_stage(name: str, params_path: str) -> int:
    module = importlib.import_module(f"nava_instruct.{name}")
    params = load_section(module.Params, name, params_path)
    module.run(params)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="nava-instruct", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    commands = parser.add_subparsers(dest="command", required=True)
    nava_cli.add_parser(commands)
    for name, summary in STAGES.items():
        stage = commands.add_parser(name, help=summary, description=summary)
        stage.add_argument("--params", default=DEFAULT_PARAMS, help="params file (default: %(default)s)")
        stage.set_defaults(handler=lambda args, name=name: run_stage(name, args.params))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        return args.handler(args)
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
