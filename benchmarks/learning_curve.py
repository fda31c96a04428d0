"""The learning curve: spec match and check rate against training tokens, from one training run.

The points are checkpoint folders of the run's training trail (``models/trail/step-00000060``...) and,
last, the adapter it wrote. For each point the adapter at that step
(the checkpoint's weights under the final adapter's config) is merged, converted to the served
quantization and evaluated on the served backend alone: the generated prompt→code prompts and every
held-out set (this repository's, or ``--held-out-dir``), greedy and with the checker loop, as stage
``evaluate`` does. Prints a table (markdown) and writes a PNG of the greedy rates; the intermediate
points of one run are not the runs that would stop there (their learning rate has not decayed yet).
``--compare`` draws runs measured earlier (their ``--json``) beside this one, a line style per run.

    python benchmarks/learning_curve.py --params params.curve.yaml --run-dir /work/curve \\
        --points snap/step-00000060 snap/step-00000120 models/adapter --png docs/learning_curve.png
    python benchmarks/learning_curve.py --params params.yaml --run-dir . --label drills \\
        --points snap/step-00000100 models/adapter --compare curve.json --png docs/learning_curve.png
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
import time
from pathlib import Path

from nava_instruct import layout, trail
from nava_instruct.fileio import atomic_path, write_json
from nava_instruct.lm import checked
from nava_instruct.params import load_section
from nava_instruct.stages import convert, evaluate, merge, train

log = logging.getLogger("learning_curve")
REPO = Path(__file__).resolve().parents[1]
ADAPTER_FILES = ("adapter_config.json", layout.TRAINING_INFO)  # the same at every step of one run
ROWS = (("generated", "code"), ("requests", "held_out"), ("handwritten", "held_out"))
GREEDY = {"spec_match": "first_spec_match", "check_rate": "first_check_rate"}  # the same rate of the first answers


def adapter_at(point: Path, final: Path, train_metrics: Path, out: Path) -> tuple[int, int]:
    """The adapter of ``point`` (a checkpoint or the final adapter) in ``out``; its (step, training tokens)."""
    if point.resolve() == final.resolve():
        shutil.copytree(final, out)
        info = json.loads((train_metrics / layout.LIVE_SUMMARY).read_text())
        return info["steps"], info["train_tokens"]
    out.mkdir(parents=True)
    for name in ADAPTER_FILES:
        shutil.copy(final / name, out / name)
    shutil.copy(point / trail.CHECKPOINT_WEIGHTS, out / trail.ADAPTER_WEIGHTS)
    state = json.loads((point / trail.CHECKPOINT_STATE).read_text())
    return state["step"], state["tokens"]


def measure(point: Path, args, scratch: Path) -> dict:
    """Merge, convert and evaluate one point of the run ``args`` names; its figures."""
    run_dir, params_file = args.run_dir, args.params
    paths = layout.paths(params_file)
    conversion = load_section(convert.Params, "convert", params_file)
    served = conversion.quantizations[0]
    adapter, merged, gguf = scratch / "adapter", scratch / "merged", scratch / "gguf"
    step, tokens = adapter_at(run_dir / point, run_dir / paths.adapter, run_dir / paths.train_metrics, adapter)
    base = str(run_dir / paths.base)
    merge.run(merge.Params(base_dir=base, adapter_dir=str(adapter), out_dir=str(merged)))
    convert.run(conversion.model_copy(update={"merged_dir": str(merged), "base_dir": None, "out_dir": str(gguf)}))
    backend = evaluate.Backend(
        name=served, kind="gguf", path=str(gguf / layout.model_gguf(served)), tokenizer=str(merged), held_out=True
    )
    stage = load_section(evaluate.Params, "evaluate", params_file)
    relative = {field: str(run_dir / getattr(stage, field)) for field in ("eval_file", "meta_dir", "train_metrics")}
    update = relative | {
        "held_out_dir": str(args.held_out_dir or REPO / paths.eval_requests),
        "prompts_per_family": {"prompt_to_code": stage.prompts_per_family["prompt_to_code"]},
        "backends": [backend],
        "checker_loop": args.checker_loop or stage.checker_loop,
        "samples_out": str(scratch / "samples.jsonl"),
        "metrics_dir": str(scratch / "metrics"),
        "plots_dir": str(scratch / "plots"),
    }
    started = time.perf_counter()
    figures = evaluate.run(stage.model_copy(update=update))["metrics"]["backends"][served]
    return {"point": str(point), "step": step, "tokens": tokens, "seconds": time.perf_counter() - started} | {
        "rows": {name: figures["code"] if section == "code" else figures[section][name] for name, section in ROWS}
    }


def table(points: list[dict], epoch_steps: float) -> str:
    head = "| step | epochs | tokens | set | check greedy | check loop | spec greedy | spec loop | n |"
    lines = [head, "|" + "---|" * 9]
    for p in points:
        for name, rates in p["rows"].items():
            keys = ("first_check_rate", "check_rate", "first_spec_match", "spec_match")
            figures = " | ".join(f"{rates[key]:.2f}" for key in keys)
            where = f"| {p['step']} | {p['step'] / epoch_steps:.2f} | {p['tokens']} | {name} |"
            lines.append(f"{where} {figures} | {rates['n']} |")
    return "\n".join(lines)


def plot(runs: dict[str, list[dict]], png: Path) -> None:
    """Greedy spec match and check rate against tokens: a colour per set, a line style per run."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5), sharey=True)
    colours = dict(zip((name for name, _ in ROWS), ("tab:blue", "tab:orange", "tab:green")))
    for ax, (key, title) in zip(axes, (("spec_match", "spec match"), ("check_rate", "check rate"))):
        for (label, points), style in zip(runs.items(), ("-", "--", ":", "-.")):
            tokens = [p["tokens"] for p in points]
            for name, _ in ROWS:
                values = [p["rows"][name][GREEDY[key]] for p in points]
                ci = [p["rows"][name][f"{GREEDY[key]}_ci"] for p in points]
                ax.plot(tokens, values, style, marker="o", color=colours[name], label=f"{name}, {label}")
                ax.fill_between(tokens, [c[0] for c in ci], [c[1] for c in ci], alpha=0.06, color=colours[name])
        ax.set_title(f"greedy {title} against training tokens (95% intervals)")
        ax.set_xlabel("supervised training tokens")
        ax.set_ylim(0, 1.02)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    with atomic_path(png) as tmp:
        fig.savefig(tmp, format="png", dpi=100)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--params", type=Path, required=True, help="the params file the training run used")
    parser.add_argument("--run-dir", type=Path, required=True, help="the folder the run's paths are relative to")
    parser.add_argument("--points", type=Path, nargs="+", required=True, help="checkpoint folders, then the adapter")
    parser.add_argument("--png", type=Path, required=True)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--label", help="this run's name in the plot (default: the run folder's name)")
    parser.add_argument("--compare", type=Path, nargs="*", default=[], help="--json files of earlier runs to draw too")
    parser.add_argument("--checker-loop", choices=checked.MODES, help="instead of evaluate's (off: greedy only)")
    parser.add_argument(
        "--held-out-dir", type=Path, help="the held-out sets (default: paths.eval_requests in this repository)"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

    training = load_section(train.Params, "train", args.params)
    train_examples = sum(1 for line in (args.run_dir / training.train_file).open() if line.strip())
    epoch_steps = train_examples / (training.batch_size * training.grad_accum)
    label = args.label or args.run_dir.name
    points = []
    for point in args.points:
        scratch = args.run_dir / "curve" / point.name
        shutil.rmtree(scratch, ignore_errors=True)
        points.append(measure(point, args, scratch))
        log.info("%s: %s", point, json.dumps(points[-1]["rows"]["generated"]))
        if args.json:
            write_json(args.json, {"label": label, "epoch_steps": epoch_steps, "points": points})
    points.sort(key=lambda point: point["tokens"])
    print(table(points, epoch_steps))
    runs = {label: points}
    for earlier in args.compare:
        run = json.loads(earlier.read_text())
        runs[run["label"]] = sorted(run["points"], key=lambda point: point["tokens"])
        print(f"\n{run['label']}:\n" + table(runs[run["label"]], run["epoch_steps"]))
    plot(runs, args.png)
    return 0


if __name__ == "__main__":
    sys.exit(main())
