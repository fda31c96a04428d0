"""Stage ``generate``: a deterministic NAVA-Instruct dataset, with a dataset card.

Four task families: prompt_to_code (a request, templated or in a user's words -> the NAVA program,
which always computes the path and ends with ``visualize(path, field)``: docs/dataset.md),
code_to_explanation (a program -> an explanation for one audience level), fix (a program with one
defect and the checker's errors -> the corrected program; half with a hint that names the fix,
half with the request alone, as the checker loop asks for a repair) and edit (a program and a change -> the
changed program). A ``drill_share`` of the prompt_to_code examples are drills (``synth.drills``):
three obstacles, SE(2)/SE(3) poses, beginner comments; each has ``drill`` in its metadata. Angles are
whole degrees, pi-fractions or radians, each stated only in a form that gives it exactly (``synth.angles``).
Every program the generator emits is run through the NAVA toolkit: formatted, checked clean, canonical,
and its spec equal to the intended one (see ``synth.self_check``); an edit always changes that spec.
Every output fits the answer length evaluation allows (``synth.budget``): an example over it is drawn again.

All randomness comes from one ``random.Random(seed)``, so the same params give byte-identical
files. Outputs (written atomically) in ``output_dir``: ``examples.jsonl``, ``dataset_card.json``
and ``dataset_card.png``.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass, replace
from pathlib import Path

from pydantic import Field, field_validator
from tqdm import tqdm

from nava_instruct import nava
from nava_instruct.fileio import write_json, write_jsonl
from nava_instruct.layout import GENERATED_EXAMPLES
from nava_instruct.nava.domain import COST_KINDS, MANIFOLD_NAMES, Problem
from nava_instruct.params import StageParams
from nava_instruct.records import FAMILIES, LEVELS, make_record
from nava_instruct.synth import budget, card, drills, edits, explain, fixes, follow_ups, prompts, self_check
from nava_instruct.synth.phrasing import Phraser
from nava_instruct.synth.problems import sample_problem
from nava_instruct.synth.render import Style, render

log = logging.getLogger(__name__)

MANIFOLD_WEIGHTS = (0.24, 0.16, 0.14, 0.14, 0.18, 0.14)  # in MANIFOLD_NAMES order: R2 R3 S1 S2 SE2 SE3
OBSTACLE_COUNT_WEIGHTS = (0.3, 0.3, 0.25, 0.15)  # 0, 1, 2, 3 obstacles
COST_WEIGHTS = (0.34, 0.24, 0.21, 0.21)  # in COST_KINDS order: geodesic weighted time_optimal energy_optimal
BEGINNER_LEVEL_WEIGHTS = (0.45, 0.4, 0.1, 0.05)  # beginners are mostly GCSE and A-level askers
MAX_RESAMPLES = 50


class Params(StageParams):
    seed: int
    size: int = Field(gt=0)
    mix: dict[str, float]
    beginner_share: float = Field(ge=0.0, le=1.0)
    drill_share: float = Field(ge=0.0, le=1.0)  # of the prompt_to_code examples
    output_dir: str

    @field_validator("mix")
    @classmethod
    def _shares(cls, mix: dict[str, float]) -> dict[str, float]:
        if set(mix) != set(FAMILIES):
            missing, unknown = sorted(set(FAMILIES) - set(mix)), sorted(set(mix) - set(FAMILIES))
            raise ValueError(
                f"keys must be exactly {', '.join(FAMILIES)} "
                f"(missing: {missing or 'none'}, unknown: {unknown or 'none'})"
            )
        negative = [name for name in FAMILIES if mix[name] < 0]
        if negative:
            raise ValueError(f"shares must be >= 0 ({negative[0]} is {mix[negative[0]]})")
        if abs(sum(mix.values()) - 1.0) > 1e-6:
            raise ValueError(f"shares must sum to 1, they sum to {sum(mix.values()):g}")
        return {name: mix[name] for name in FAMILIES}


def run(params: Params) -> dict:
    """Generate the dataset and its card; return the output paths and the counts."""
    rng = random.Random(params.seed)
    counts = family_counts(params.size, params.mix)
    drill_plan = drills.plan(counts["prompt_to_code"], params.drill_share)
    plain = {**counts, "prompt_to_code": counts["prompt_to_code"] - len(drill_plan)}
    plan = [("prompt_to_code", drill) for drill in drill_plan]
    plan += [(family, None) for family in FAMILIES for _ in range(plain[family])]
    rng.shuffle(plan)
    log.info("generating %d examples (seed %d): %s, %d drills", params.size, params.seed, counts, len(drill_plan))
    examples, seen, too_long = [], set(), 0
    for family, drill in tqdm(plan, desc="generate", unit="example"):
        example, redrawn = _draw(rng, params, family, drill, seen)
        too_long += redrawn
        seen.add(example["id"])
        examples.append(example)
    log.info("drew %d examples again whose output was over %d tokens", too_long, budget.OUTPUT_TOKEN_BUDGET)
    out = Path(params.output_dir)
    paths = {
        "examples": out / GENERATED_EXAMPLES,
        "card_json": out / "dataset_card.json",
        "card_png": out / "dataset_card.png",
    }
    write_jsonl(paths["examples"], examples)
    summary = card.summarise(examples, FAMILIES, MANIFOLD_NAMES, LEVELS, drills.KINDS)
    write_json(paths["card_json"], summary)
    card.plot(summary, examples, paths["card_png"])
    log.info("wrote %d examples to %s", len(examples), paths["examples"])
    return {**{name: str(path) for name, path in paths.items()}, "total": len(examples), "counts": summary["counts"]}


def _draw(rng: random.Random, params: Params, family: str, drill: drills.Drill | None, seen: set) -> tuple[dict, int]:
    """An example of ``family`` (the drill, if one is given) that is new and whose output fits ``synth.budget``:
    a duplicate or an over-long one is drawn again. Also returns how many were drawn again for their length."""
    too_long = 0
    for _ in range(MAX_RESAMPLES):
        example = prompt_to_code(rng, params, drill) if drill else BUILDERS[family](rng, params)
        if not budget.fits(example["output"]):
            too_long += 1
        elif example["id"] not in seen:
            return example, too_long
    raise self_check.GeneratorBug(f"{MAX_RESAMPLES} duplicate or over-long {family} examples in a row")


def family_counts(size: int, mix: dict[str, float]) -> dict[str, int]:
    """Split ``size`` by the shares in ``mix`` (largest remainder, ties in FAMILIES order)."""
    exact = {name: size * mix[name] for name in FAMILIES}
    counts = {name: int(exact[name]) for name in FAMILIES}
    by_remainder = sorted(FAMILIES, key=lambda name: -(exact[name] - counts[name]))
    for name in by_remainder[: size - sum(counts.values())]:
        counts[name] += 1
    return counts


def _problem(rng: random.Random, manifold: str | None = None, n_obstacles: int | None = None) -> Problem:
    """A random problem; the manifold and obstacle count are drawn unless given."""
    if manifold is None:
        manifold = rng.choices(MANIFOLD_NAMES, weights=MANIFOLD_WEIGHTS)[0]
    if n_obstacles is None:
        n_obstacles = rng.choices(range(4), weights=OBSTACLE_COUNT_WEIGHTS)[0]
    cost_kind = rng.choices(COST_KINDS, weights=COST_WEIGHTS)[0]
    return sample_problem(rng, manifold, n_obstacles, cost_kind)


def _plain_style(rng: random.Random, problem: Problem, level: str) -> Style:
    """The style of a program that is an input (or an edit's output): mostly uncommented."""
    comments = rng.choices(("none", "sparse", "beginner"), weights=(0.65, 0.25, 0.1))[0]
    return Style.sample(rng, problem.manifold, comments, level)


@dataclass(frozen=True)
class Asked:
    """A request in a user's words and the program that answers it."""

    problem: Problem
    style: Style
    level: str
    instruction: str
    output: str
    spec: dict


def ask(rng: random.Random, params: Params, drill: drills.Drill | None = None) -> Asked:
    """A request and its program, which computes the path and ends with ``visualize(path, field)``; the
    program's notes state its angles in the request's words. The asker (beginner or not, level, comments)
    is drawn first and kept: a problem whose program would not fit ``synth.budget`` is drawn again. Only
    beginner drills ask for comments among the drills: the problem another drill pins (three obstacles, an
    SE(3) pose) rarely fits with them."""
    beginner = drill.kind == "beginner" if drill else rng.random() < params.beginner_share
    level = rng.choices(LEVELS, weights=BEGINNER_LEVEL_WEIGHTS)[0] if beginner else rng.choice(LEVELS)
    comments = "beginner" if beginner else rng.choices(("none", "sparse"), weights=(0.75, 0.25))[0]
    for _ in range(MAX_RESAMPLES):
        problem = _problem(rng, **(drills.problem_args(rng, drill) if drill else {}))
        problem = replace(problem, computed=True, visualized=True)
        style = replace(Style.sample(rng, problem.manifold, comments, level), show_field=True)
        phraser = Phraser(rng)
        instruction = prompts.instruction(rng, problem, level, beginner, phraser)
        output, spec = self_check.canonical(render(problem, style, angle_words=phraser.angle_words), problem)
        if budget.fits(output):
            return Asked(problem, style, level, instruction, output, spec)
    raise self_check.GeneratorBug(f"no program with {comments} comments fits the budget in {MAX_RESAMPLES} problems")


def prompt_to_code(rng: random.Random, params: Params, drill: drills.Drill | None = None) -> dict:
    asked = ask(rng, params, drill)
    kind = drill.kind if drill else None
    return make_record("prompt_to_code", asked.spec, asked.level, asked.instruction, "", asked.output, kind)


def code_to_explanation(rng: random.Random, params: Params) -> dict:
    problem, level = _problem(rng), rng.choice(LEVELS)
    program, spec = self_check.canonical(render(problem, _plain_style(rng, problem, level)), problem)
    request, focus = explain.request(rng, level)
    return make_record(
        "code_to_explanation", spec, level, request, program, explain.explanation(rng, problem, level, focus)
    )


def fix(rng: random.Random, params: Params) -> dict:
    problem, level = _problem(rng), rng.choice(LEVELS)
    style = _plain_style(rng, problem, level)
    output, spec = self_check.canonical(render(problem, style), problem)
    _, instruction, broken = fixes.break_program(rng, problem, style, level)
    if rng.random() < fixes.REPAIR_SHARE:  # every broken program has checker errors (self_check.broken) to repair from
        instruction = fixes.repair_instruction(rng, problem, level, broken)
    return make_record("fix", spec, level, instruction, broken, output)


def edit(rng: random.Random, params: Params) -> dict:
    problem, level = _problem(rng), rng.choice(LEVELS)
    style = _plain_style(rng, problem, level)
    before, before_spec = self_check.canonical(render(problem, style), problem)
    instruction, changed, changed_style = edits.edit(rng, problem, style)
    after, spec = self_check.canonical(render(changed, changed_style), changed)
    if nava.spec_difference({"problems": [before_spec]}, {"problems": [spec]}) is None:
        raise self_check.GeneratorBug(f"edit '{instruction}' left the program's spec unchanged")
    return make_record("edit", spec, level, instruction, before, after)


def follow_up(rng: random.Random, params: Params) -> dict:
    """A request and its program, then the chat's next message, which changes it (``synth.follow_ups``)."""
    asked = ask(rng, params)
    for _ in range(MAX_RESAMPLES):
        instruction, changed, changed_style = follow_ups.request(rng, asked.problem, asked.style)
        after, spec = self_check.canonical(render(changed, changed_style), changed)
        if budget.fits(after):
            break
    else:
        raise self_check.GeneratorBug(f"no follow-up of '{asked.instruction}' fits the budget")
    if nava.spec_difference({"problems": [asked.spec]}, {"problems": [spec]}) is None:
        raise self_check.GeneratorBug(f"follow-up '{instruction}' left the program's spec unchanged")
    history = follow_ups.history(asked.instruction, asked.output)
    return make_record("follow_up", spec, asked.level, instruction, "", after, history=history)


BUILDERS = {
    "prompt_to_code": prompt_to_code,
    "code_to_explanation": code_to_explanation,
    "fix": fix,
    "edit": edit,
    "follow_up": follow_up,
}
