"""Stage ``evaluate``'s bar charts, drawn from its metrics, each rate with its Wilson 95% interval.

- ``eval_backends.png``: prompt→code check and spec-match rates, and explanations, fixes, edits and follow-ups,
  by backend;
- ``eval_manifolds.png``: prompt→code spec match by manifold, the base model beside the served one;
- ``eval_held_out.png``: the served model greedy against the checker loop, on the generated prompts
  and on each held-out set.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from nava_instruct.evaluation.metrics import GENERATED  # noqa: E402
from nava_instruct.fileio import atomic_path  # noqa: E402

LOOP_SERIES = {  # the served model's rates: greedy, kept by the checker loop, and with meaning checks too
    "check, greedy": "first_check_rate",
    "check, checker loop": "checker_check_rate",
    "check, meaning-checked loop": "check_rate",
    "spec match, greedy": "first_spec_match",
    "spec match, checker loop": "checker_spec_match",
    "spec match, meaning-checked loop": "spec_match",
}


def plot(metrics: dict, plots_dir: Path, served: str) -> list[Path]:
    """Draw the charts of ``metrics`` into ``plots_dir``; the held-out one only if backend ``served`` was
    evaluated. Returns the files written."""
    backends = metrics["backends"]
    written = [
        save(backends_chart(backends), plots_dir / "eval_backends.png"),
        save(manifolds_chart(backends, served), plots_dir / "eval_manifolds.png"),
    ]
    if served in backends:
        written.append(save(held_out_chart(backends[served], served), plots_dir / "eval_held_out.png"))
    return written


def backends_chart(backends: dict) -> plt.Figure:
    names = list(backends)
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.5))
    code = [backends[n]["code"] for n in names]
    bars(
        axes[0],
        names,
        {"check rate": code, "spec match": code},
        {"check rate": "check_rate", "spec match": "spec_match"},
        "Prompt → NAVA code, by backend (95% intervals)",
    )
    bars(
        axes[1],
        names,
        {
            "fact recall": [backends[n]["explanation"] for n in names],
            "fix spec match": [backends[n]["fix"] for n in names],
            "edit spec match": [backends[n]["edit"] for n in names],
            "follow-up spec match": [backends[n]["follow_up"] for n in names],
        },
        {
            "fact recall": "fact_recall",
            "fix spec match": "spec_match",
            "edit spec match": "spec_match",
            "follow-up spec match": "spec_match",
        },
        "Explanations, fixes, edits and follow-ups, by backend",
    )
    return fig


def manifolds_chart(backends: dict, served: str) -> plt.Figure:
    compare = [n for n in ("base", served) if n in backends]
    manifolds = sorted({m for n in compare for m in backends[n]["code_by_manifold"]})
    fig, ax = plt.subplots(figsize=(9, 4.5))
    by_manifold = {f"{n} spec match": [backends[n]["code_by_manifold"].get(m, {}) for m in manifolds] for n in compare}
    bars(ax, manifolds, by_manifold, "spec_match", "Prompt → NAVA code: spec match by manifold")
    return fig


def held_out_chart(figures: dict, served: str) -> plt.Figure:
    rows = {GENERATED: figures["code"], **figures["held_out"]}
    fig, ax = plt.subplots(figsize=(10, 4.5))
    series = {label: list(rows.values()) for label in LOOP_SERIES}
    bars(ax, list(rows), series, LOOP_SERIES, f"{served}: prompt → code")
    return fig


def bars(ax, groups: list[str], series: dict[str, list[dict]], key: str | dict[str, str], title: str) -> None:
    """One bar per group and series, from each figure dict's rate ``key`` (or the series' own) and its
    interval."""
    width = 0.8 / len(series)
    for i, (label, figures) in enumerate(series.items()):
        name = key[label] if isinstance(key, dict) else key
        values = [f.get(name, 0.0) for f in figures]
        low = [v - f.get(f"{name}_ci", [v, v])[0] for v, f in zip(values, figures)]
        high = [f.get(f"{name}_ci", [v, v])[1] - v for v, f in zip(values, figures)]
        xs = [x + (i - (len(series) - 1) / 2) * width for x in range(len(groups))]
        ax.bar(xs, values, width, label=label, yerr=[low, high], capsize=2)
    ax.set_xticks(range(len(groups)), groups, rotation=20)
    ax.set_ylim(0, 1.05)
    ax.set_title(title)
    ax.legend(fontsize=8)


def save(fig: plt.Figure, path: Path) -> Path:
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)
    return path
