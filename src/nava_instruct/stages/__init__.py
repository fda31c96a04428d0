"""The pipeline stages, one module each, in ``dvc.yaml`` order, and ``run_stage``, which runs one of them.

Each module holds ``Params`` (its section of ``params.yaml``, typed) and ``run(params)``; a stage whose
bits depend on the numerics profile (``train``) takes the profile too: ``run(params, profile)``.
Stages never import each other: what two stages share lives in ``nava_instruct.layout`` (artifact
names) or in ``nava_instruct.lm`` (model plumbing).

``nava-instruct <stage>`` imports this package and the stage's module, nothing the CLI's other commands
need, so a stage's DVC deps are exactly the code it runs (tests/test_dvc_deps.py).
"""

from __future__ import annotations

import argparse
import importlib
import inspect
from pathlib import Path

from nava_instruct import layout, numerics
from nava_instruct.fileio import write_json
from nava_instruct.params import DEFAULT_PARAMS, add_params_option, load_section
from nava_instruct.release import provenance


def run_stage(name: str, params_path: str | Path = DEFAULT_PARAMS, until: int | None = None) -> int:
    """Put the numerics profile in force, validate the stage's params, run it, then record the environment it ran in.
    With ``until``, replay train's trail to that step instead (``audit --spot``), and record nothing.

    The profile comes first: its kernel pins only take effect before the stage module loads torch.
    """
    profile = numerics.apply(numerics.load(params_path), params_path)
    module = importlib.import_module(f"{__name__}.{name}")
    params = load_section(module.Params, name, params_path)
    if until is not None:
        module.run(params, profile, until)
        return 0
    if "profile" in inspect.signature(module.run).parameters:
        module.run(params, profile)
    else:
        module.run(params)
    record = {
        "stage": name,
        "command": f"nava-instruct {name} --params {params_path}",
        **provenance.environment(),
        "numerics": numerics.record(profile),
    }
    write_json(Path(layout.paths(params_path).provenance) / f"{name}.json", record)
    return 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_params_option(parser)
    if parser.prog.split()[-1] == "train":
        parser.add_argument(
            "--until",
            type=int,
            metavar="STEP",
            help="replay the training trail from its newest checkpoint to STEP, a checkpoint of the trail; write only"
            " that checkpoint (audit --spot)",
        )


def main(args: argparse.Namespace) -> int:
    return run_stage(args.command, args.params, getattr(args, "until", None))
