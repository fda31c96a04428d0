"""The dataset card: counts and output lengths as JSON, and the same at a glance as a PNG.

Counts are by family, manifold, level, family x manifold and drill kind; output lengths (characters and
whitespace-separated words) are summarised per family by min, mean, median, p90 (nearest rank)
and max. Everything is sorted, so the card is byte-identical for identical data.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from nava_instruct.fileio import atomic_path  # noqa: E402


def _stats(values: list[int]) -> dict:
    ordered = sorted(values)
    return {
        "min": ordered[0],
        "mean": round(statistics.fmean(ordered), 1),
        "median": statistics.median(ordered),
        "p90": ordered[math.ceil(0.9 * len(ordered)) - 1],
        "max": ordered[-1],
    }


def summarise(examples: list[dict], families, manifolds, levels, drills=()) -> dict:
    def count(key: str, order) -> dict:
        counts = Counter(example.get(key) for example in examples)
        return {name: counts.get(name, 0) for name in order}

    by_pair = Counter((example["family"], example["manifold"]) for example in examples)
    lengths = {}
    for family in families:
        outputs = [example["output"] for example in examples if example["family"] == family]
        if outputs:
            lengths[family] = {
                "chars": _stats([len(output) for output in outputs]),
                "words": _stats([len(output.split()) for output in outputs]),
            }
    return {
        "total": len(examples),
        "counts": {
            "family": count("family", families),
            "manifold": count("manifold", manifolds),
            "level": count("level", levels),
            "family_manifold": {
                family: {manifold: by_pair.get((family, manifold), 0) for manifold in manifolds} for family in families
            },
            "drill": count("drill", drills),
        },
        "output_length": lengths,
    }


def _bars(panel, counts: dict, title: str, color: str) -> None:
    names, values = list(counts), list(counts.values())
    bars = panel.bar(names, values, color=color)
    panel.bar_label(bars, fontsize=8)
    panel.set_title(title)
    panel.set_ylabel("examples")
    panel.tick_params(axis="x", labelsize=8)
    panel.margins(y=0.15)


def plot(card: dict, examples: list[dict], path: str | Path) -> None:
    """Write the card's figure: bars by family, manifold and level, and output word counts."""
    counts = card["counts"]
    fig, axes = plt.subplots(2, 2, figsize=(11, 8))
    _bars(axes[0][0], counts["family"], "Examples by task family", "#4c72b0")
    _bars(axes[0][1], counts["manifold"], "Examples by manifold", "#55a868")
    _bars(axes[1][0], counts["level"], "Examples by audience level", "#c44e52")
    panel = axes[1][1]
    for family in card["output_length"]:
        words = [len(example["output"].split()) for example in examples if example["family"] == family]
        panel.hist(
            words,
            bins=30,
            histtype="step",
            linewidth=1.5,
            label=f"{family} (median {card['output_length'][family]['words']['median']:g})",
        )
    panel.set_title("Output length (whitespace-separated words)")
    panel.set_xlabel("words")
    panel.set_ylabel("examples")
    panel.legend(fontsize=8)
    fig.suptitle(f"NAVA-Instruct generated dataset: {card['total']} examples")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100, metadata={"Software": None})
    plt.close(fig)
