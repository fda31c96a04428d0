"""Why prompt→code answers fail: one backend's failing answers by category, set by set, from evaluate's samples.

Reads the samples file that stage ``evaluate`` writes (graded answers, every backend's), keeps one backend's
prompt→code answers and prints for each set (the generated prompts, then each held-out set) a markdown table:
how many answers fall in each failure category (``evaluation.failures``; an answer may fall in several) and
the share of the reference's coordinates and non-zero angles the answers got right, with Wilson 95%
intervals, as ``failures`` in the backend's metrics has them.

    python benchmarks/failure_table.py
    python benchmarks/failure_table.py --samples metrics/eval_samples.jsonl --backend f16
"""

from __future__ import annotations

import argparse
import sys

from nava_instruct.evaluation.failures import CATEGORIES
from nava_instruct.evaluation.metrics import failures_by_set
from nava_instruct.fileio import read_jsonl
from nava_instruct.params import add_params_option, load_section
from nava_instruct.stages import evaluate

SAMPLE_FIELDS = ("backend", "set", "family", "answer", "reference")
ACCURACIES = {
    "coordinates right": ("coordinates_right", "coordinate_values"),
    "non-zero angles right": ("angles_right", "angle_values"),
}


def accuracy_row(label: str, figures: dict) -> str:
    """``| label | right/values | rate [low, high] |``, or a dash where no value was compared."""
    rate, values = ACCURACIES[label]
    right, total = figures[f"{values}_right"], figures[values]
    if not total:
        return f"| {label} | 0/0 | - |"
    low, high = figures[f"{rate}_ci"]
    return f"| {label} | {right}/{total} | {figures[rate]:.3f} [{low:.3f}, {high:.3f}] |"


def set_table(name: str, figures: dict) -> str:
    """One set's table: answers per category (share of all its answers), then the per-value accuracies."""
    n = figures["n"]
    lines = [
        f"{name}: {n} prompt→code answers, {figures['failing']} failing",
        "",
        "| category | answers | share |",
        "|---|---|---|",
        *(
            f"| {category} | {figures['categories'][category]} | {figures['categories'][category] / n:.3f} |"
            for category in CATEGORIES
        ),  # fmt: skip
        *(accuracy_row(label, figures) for label in ACCURACIES),
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_params_option(parser)
    parser.add_argument("--samples", help="evaluate's samples file (default: the params file's evaluate.samples_out)")
    parser.add_argument("--backend", help="whose answers (default: the served one, the first of the quantizations)")
    args = parser.parse_args()
    stage = load_section(evaluate.Params, "evaluate", args.params)
    path, backend = args.samples or stage.samples_out, args.backend or stage.quantizations[0]
    samples = [row for _, row in read_jsonl(path, required=SAMPLE_FIELDS) if row["backend"] == backend]
    tables = failures_by_set(samples)
    if not tables:
        print(f"{path}: no prompt→code answers of backend {backend}", file=sys.stderr)
        return 1
    print(f"backend {backend}, {path}\n")
    print("\n\n".join(set_table(name, figures) for name, figures in tables.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
