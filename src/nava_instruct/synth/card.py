"""The dataset card: counts and output lengths as JSON, and the same at a glance as a PNG.

Counts are by family, manifold, level and family x manifold; output lengths (characters and
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


def summarise(examples: list[dict], families, manifolds, levels) -> dict:
    def count(key: str, order) -> dict:
        counts = Counter(e[key] for e in examples)
        return {name: counts.get(name, 0) for name in order}

    by_pair = Counter((e["family"], e["manifold"]) for e in examples)
    lengths = {}
    for family in families:
        outputs = [e["output"] for e in examples if e["family"] == family]
        if outputs:
            lengths[family] = {
                "chars": _stats([len(o) for o in outputs]),
                "words": _stats([len(o.split()) for o in outputs]),
            }
    return {
        "total": len(examples),
        "counts": {
            "family": count("family", families),
            "manifold": count("manifold", manifolds),
            "level": count("level", levels),
            "family_manifold": {f: {m: by_pair.get((f, m), 0) for m in manifolds} for f in families},
        },
        "output_length": lengths,
    }


def _bars(ax, counts: dict, title: str, color: str) -> None:
    names, values = list(counts), list(counts.values())
    bars = ax.bar(names, values, color=color)
    ax.bar_label(bars, fontsize=8)
    ax.set_title(title)
    ax.set_ylabel("examples")
    ax.tick_params(axis="x", labelsize=8)
    ax.margins(y=0.15)


def plot(card: dict, examples: list[dict], path: str | Path) -> None:
    """Write the card's figure: bars by family, manifold and level, and output word counts."""
    counts = card["counts"]
    fig, axes = plt.subplots(2, 2, figsize=(11, 8))
    _bars(axes[0][0], counts["family"], "Examples by task family", "#4c72b0")
    _bars(axes[0][1], counts["manifold"], "Examples by manifold", "#55a868")
    _bars(axes[1][0], counts["level"], "Examples by audience level", "#c44e52")
    ax = axes[1][1]
    for family in card["output_length"]:
        words = [len(e["output"].split()) for e in examples if e["family"] == family]
        ax.hist(
            words,
            bins=30,
            histtype="step",
            linewidth=1.5,
            label=f"{family} (median {card['output_length'][family]['words']['median']:g})",
        )
    ax.set_title("Output length (whitespace-separated words)")
    ax.set_xlabel("words")
    ax.set_ylabel("examples")
    ax.legend(fontsize=8)
    fig.suptitle(f"NAVA-Instruct generated dataset: {card['total']} examples")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100, metadata={"Software": None})
    plt.close(fig)
