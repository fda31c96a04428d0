"""Broken programs for the fix family: one defect each, and an instruction that pins the fix down.

A defect is injected while rendering (see ``render.Defect``), so the broken program is the
correct one with exactly one thing wrong: a misspelled builtin or argument name, a missing
argument, a point of the wrong dimension or off the sphere, a non-positive radius, swapped
corners, an unknown cost type, a negative weight, a cap angle out of range, a start or goal
inside an obstacle, an unknown name, positional or quoted arguments. The instruction quotes the
checker's errors and, where the right value or name is not evident from them, states it.

A share of the fix family (``REPAIR_SHARE``) is instead asked as the checker loop asks
(``nava/repair.py``): what the program should do and the checker's error lines, with no hint of
the fix, so that the model learns to repair from a diagnostic rather than only to apply a stated
correction.
"""

from __future__ import annotations

import random
import re

from nava_instruct.nava import repair
from nava_instruct.nava.domain import MANIFOLDS, OBSTACLES, WEIGHT_NAMES, Problem
from nava_instruct.synth import angles, prompts, self_check
from nava_instruct.synth.phrasing import exact_words
from nava_instruct.synth.render import Defect, Style, code_number, render

SYNONYMS = {
    "center": "centre",
    "radius": "r",
    "min_corner": "min",
    "max_corner": "max",
    "max_velocity": "max_speed",
    "obstacles": "obstacle",
    "goal": "target",
    "manifold": "space",
    "angle": "radius",
    "energy_weight": "weight",
}
BAD_TYPES = {
    "time_optimal": ("time-optimal", "fastest", "min_time", "time_optimial", "timeoptimal"),
    "energy_optimal": ("energy", "energy-optimal", "minimum_energy", "energy_optimum"),
}
REPAIR_SHARE = 0.5  # of the fix family: repairs from the checker's diagnostics alone, the rest hinted fixes
OBSTACLE_PARAMS = {param for kind in OBSTACLES.values() for param in kind.params}
QUOTABLE = ("radius", "to", "angle", "max_velocity")  # the number arguments quoted_number may quote


class _Hook(Defect):
    """A defect aimed at one role: ``change_call(name, args)`` or ``change_value(value)``."""

    def __init__(self, role: str, change_call=None, change_value=None):
        self.role, self.change_call, self.change_value = role, change_call, change_value

    def call(self, role, name, args):
        return self.change_call(name, list(args)) if role == self.role and self.change_call else (name, args)

    def value(self, role, value):
        return self.change_value(value) if role == self.role and self.change_value else value


def typo(rng: random.Random, word: str) -> str:
    """A plausible misspelling of ``word`` that is still an identifier and differs from it."""
    for _ in range(20):
        at = rng.randrange(len(word))
        kind = rng.choice(("swap", "drop", "double", "vowel"))
        if kind == "swap" and at + 1 < len(word) and word[at] != word[at + 1]:
            result = word[:at] + word[at + 1] + word[at] + word[at + 2 :]
        elif kind == "drop" and len(word) > 3:
            result = word[:at] + word[at + 1 :]
        elif kind == "double" and word[at].isalpha():
            result = word[:at] + word[at] + word[at:]
        elif kind == "vowel" and word[at] in "aeiou":
            result = word[:at] + rng.choice([vowel for vowel in "aeiou" if vowel != word[at]]) + word[at + 1 :]
        else:
            continue
        if result != word and result.isidentifier() and not result[0].isdigit() and not result.startswith("_"):
            return result
    return word + "s"


def _code(value) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(code_number(coordinate) for coordinate in value) + "]"
    return code_number(value)


def _angle_code(value: float) -> str:
    """An angle as code, with its exact words unless it is a number of radians already: ``1.0471976 (pi/3)``."""
    if angles.kind_of(value) == "radians":
        return code_number(value)
    return f"{code_number(value)} ({exact_words(value)})"


def _obstacle_roles(problem: Problem, *params: str) -> list[str]:
    """The roles of the obstacles in the rendered program: all, or those with one of ``params``."""
    return [
        f"obstacle{index}"
        for index, obstacle in enumerate(problem.obstacles)
        if not params or any(param in obstacle for param in params)
    ]


def _obstacle(problem: Problem, role: str) -> dict:
    return problem.obstacles[int(role.removeprefix("obstacle"))]


def _roles(problem: Problem) -> list[str]:
    """Roles of the calls in the rendered program that carry named arguments."""
    roles = ["field", *_obstacle_roles(problem)]
    if MANIFOLDS[problem.manifold].has_radius or problem.manifold == "R3":  # radius:, or euclidean_space(dim: 3)
        roles.append("manifold")
    if problem.cost["kind"] != "geodesic":
        roles.append("cost")
    return roles


def _what(problem: Problem, role: str) -> str:
    if role.startswith("obstacle"):
        return f"the {_obstacle(problem, role)['kind']}"
    return {"field": "navigation_field", "manifold": "the manifold", "cost": "the cost"}[role]


# Each breaker returns (defect, hint) or None when it does not apply to the problem/style.


def misspelled_builtin(rng, problem, style):
    calls = ("field", "path", "visualize")
    roles = [call for call in calls if call == "field" or problem.computed and (call == "path" or problem.visualized)]
    role = rng.choice(roles + _obstacle_roles(problem))
    fixed = {}

    def change(name, args):
        fixed["name"] = name
        return typo(rng, name), args

    return _Hook(role, change_call=change), lambda: f"The builtin should be `{fixed['name']}`."


def misnamed_argument(rng, problem, style):
    role = rng.choice(_roles(problem))
    fixed = {}

    def change(name, args):
        named = [index for index, (key, _) in enumerate(args) if key]
        index = rng.choice(named)
        key, code = args[index]
        fixed["key"] = key
        args[index] = (SYNONYMS[key] if key in SYNONYMS and rng.random() < 0.4 else typo(rng, key), code)
        return name, args

    return _Hook(role, change_call=change), lambda: f"The argument is called `{fixed['key']}`."


def missing_argument(rng, problem, style):
    role = rng.choice(_roles(problem))
    if role == "manifold":
        return None
    fixed = {}

    def change(name, args):
        required = {"field": ("manifold", "start", "goal"), "cost": ("max_velocity",)}.get(role, OBSTACLE_PARAMS)
        if name == "sphere":
            required = ("radius",)
        candidates = [index for index, (key, _) in enumerate(args) if key in required]
        if not candidates:
            return name, args
        fixed["key"], fixed["value"] = args.pop(rng.choice(candidates))
        return name, args

    def hint():
        if "key" not in fixed:
            return None
        key, value = fixed["key"], fixed["value"]
        if role == "field":
            return f"Pass `{key}: {value}` to navigation_field."
        if key in ("from", "to", "angle"):
            value = _angle_code(float(value))
        return f"The missing {key} of {_what(problem, role)} is {value}."

    return _Hook(role, change_call=change), hint


def wrong_dimension(rng, problem, style):
    role = rng.choice(("start", "goal"))
    right = getattr(problem, role)

    def change(value):
        if isinstance(value, float):
            return [value, 0.0]
        return value[:-1] if rng.random() < 0.5 else [*value, 0.0]

    return _Hook(role, change_value=change), lambda: f"The {role} should be {_code(right)}."


def off_sphere(rng, problem, style):
    if problem.manifold != "S2":
        return None
    role = rng.choice(("start", "goal"))
    right = getattr(problem, role)
    largest = max(range(3), key=lambda axis: abs(right[axis]))
    wrong = list(right)
    wrong[largest] = right[largest] * rng.choice((2.0, 0.5, 1.5))
    return _Hook(role, change_value=lambda value: wrong), lambda: f"The {role} should be {_code(right)}."


def nonpositive_radius(rng, problem, style):
    roles = _obstacle_roles(problem, "radius")
    roles += ["manifold"] if MANIFOLDS[problem.manifold].has_radius else []
    if not roles:
        return None
    role = rng.choice(roles)
    right = problem.radius if role == "manifold" else _obstacle(problem, role)["radius"]
    wrong = rng.choice((f"-{code_number(right)}", "0.0"))

    def change(name, args):
        return name, [(key, wrong if key == "radius" else code) for key, code in args]

    return (
        _Hook(role, change_call=change),
        lambda: f"The radius of {_what(problem, role)} should be {code_number(right)}.",
    )


def swapped_corners(rng, problem, style):
    roles = _obstacle_roles(problem, "min_corner")
    if not roles:
        return None
    role = rng.choice(roles)
    obstacle = _obstacle(problem, role)

    def change(name, args):
        codes = dict(args)
        return name, [(key, codes["max_corner"] if key == "min_corner" else codes["min_corner"]) for key, _ in args]

    return (
        _Hook(role, change_call=change),
        lambda: f"min_corner should be {_code(obstacle['min_corner'])} and max_corner {_code(obstacle['max_corner'])}.",
    )


def unknown_cost_type(rng, problem, style):
    kind = problem.cost["kind"]
    if kind not in BAD_TYPES:
        return None
    wrong = rng.choice(BAD_TYPES[kind])

    def change(name, args):
        return name, [(key, f'"{wrong}"' if key == "type" else code) for key, code in args]

    return _Hook("cost", change_call=change), lambda: f'The cost type should be "{kind}".'


def negative_weight(rng, problem, style):
    cost = problem.cost
    if cost["kind"] != "weighted":
        return None
    name = rng.choice([weight for weight in WEIGHT_NAMES if cost[weight]])

    def change(call_name, args):
        return call_name, [(key, f"-{code}" if key == name else code) for key, code in args]

    return _Hook("cost", change_call=change), lambda: f"{name} should be {code_number(cost[name])}."


def bad_cap_angle(rng, problem, style):
    roles = _obstacle_roles(problem, "angle")
    if not roles:
        return None
    role = rng.choice(roles)
    right = _obstacle(problem, role)["angle"]
    wrong = rng.choice(("0.0", "-0.5", "3.5", "4.0", f"-{code_number(right)}"))

    def change(name, args):
        return name, [(key, wrong if key == "angle" else code) for key, code in args]

    return _Hook(role, change_call=change), lambda: f"The cap angle should be {_angle_code(right)}."


def inside_obstacle(rng, problem, style):
    if not problem.obstacles:
        return None
    role = rng.choice(("start", "goal"))
    obstacle = rng.choice(problem.obstacles)
    right = getattr(problem, role)
    if obstacle["kind"] == "arc":
        wrong = round((obstacle["from"] + obstacle["to"]) / 2, 4)
    elif obstacle["kind"] == "cap":
        wrong = list(obstacle["center"])
    else:  # the obstacle's middle, keeping a pose's angles
        if "center" in obstacle:
            center = obstacle["center"]
        else:
            center = [(low + high) / 2 for low, high in zip(obstacle["min_corner"], obstacle["max_corner"])]
        wrong = center + list(right[MANIFOLDS[problem.manifold].position_dims :])
    return _Hook(role, change_value=lambda value: wrong), lambda: f"The {role} should be {_code(right)}."


def unknown_name(rng, problem, style):
    bound = {"manifold": style.manifold_name, "start": style.start_name, "goal": style.goal_name}
    options = [key for key, name in bound.items() if name and len(name) > 2]
    if not options:
        return None
    key = rng.choice(options)
    wrong = typo(rng, bound[key])
    if wrong in (style.field_name, style.path_name, *bound.values()):
        return None

    def change(name, args):
        return name, [(arg, wrong if arg == key else code) for arg, code in args]

    return _Hook("field", change_call=change), lambda: f"It should use the `{bound[key]}` binding."


def positional_arguments(rng, problem, style):
    roles = _obstacle_roles(problem)
    if not roles:
        return None
    role = rng.choice(roles)
    names = {}

    def change(name, args):
        names["keys"] = [key for key, _ in args]
        return name, [(None, code) for _, code in args]

    return (
        _Hook(role, change_call=change),
        lambda: "Its arguments are " + " and ".join(f"`{key}`" for key in names["keys"]) + ", in that order.",
    )


def quoted_number(rng, problem, style):
    roles = _obstacle_roles(problem, *QUOTABLE)
    if problem.cost["kind"] == "time_optimal":
        roles.append("cost")
    if not roles:
        return None
    role = rng.choice(roles)
    fixed = {}

    def change(name, args):
        index = next(index for index, (key, _) in enumerate(args) if key in QUOTABLE)
        key, code = args[index]
        fixed["key"], fixed["value"] = key, code
        args[index] = (key, f'"{code}"')
        return name, args

    return _Hook(role, change_call=change), lambda: f"{fixed['key']} must be the number {fixed['value']}, not a string."


BREAKERS = (
    misspelled_builtin,
    misnamed_argument,
    missing_argument,
    wrong_dimension,
    off_sphere,
    nonpositive_radius,
    swapped_corners,
    unknown_cost_type,
    negative_weight,
    bad_cap_angle,
    inside_obstacle,
    unknown_name,
    positional_arguments,
    quoted_number,
)

_ASK = (
    "This NAVA program doesn't check. The checker says:\n{diags}\n{hint}Fix the program.",
    "Fix the error in this NAVA code. `nava check` reports:\n{diags}\n{hint}",
    "My NAVA program fails with:\n{diags}\n{hint}Can you correct it?",
    "{hint}Please repair this program; the checker output is:\n{diags}",
    "Correct this NAVA code so it passes the checker.\nErrors:\n{diags}\n{hint}",
    "The NAVA checker rejects this program:\n{diags}\n{hint}Return the fixed program.",
)
_INTRO = {
    "gcse": ("I'm new to NAVA and I'm stuck. ", "Help! "),
    "a_level": ("I'm an A-level student. ",),
    "undergrad": ("",),
    "phd": ("",),
}


def break_program(rng: random.Random, problem: Problem, style: Style, level: str) -> tuple[str, str, str]:
    """(breaker name, instruction, broken canonical-looking source) for ``problem`` in ``style``."""
    for _ in range(50):
        breaker = rng.choice(BREAKERS)
        made = breaker(rng, problem, style)
        if made is None:
            continue
        defect, hint = made
        source = render(problem, style, defect)
        hint_text = hint()
        if hint_text is None:
            continue
        text, errors = self_check.broken(source)
        named = re.search(r"`(\w+)`", hint_text)
        suggested = named and any(f"did you mean '{named.group(1)}'" in error.message for error in errors)
        if suggested and rng.random() < 0.5:
            hint_text = ""  # the checker's suggestion already names the fix
        shown = "\n".join(
            str(error) if rng.random() < 0.5 else f"line {error.line}, column {error.col}: {error.message}"
            for error in errors
        )
        ask = rng.choice(_ASK).format(diags=shown, hint=f"{hint_text} " if hint_text else "").strip()
        return breaker.__name__, rng.choice(_INTRO[level]) + ask, text
    raise self_check.GeneratorBug("no defect applies to this problem")


def repair_instruction(rng: random.Random, problem: Problem, level: str, broken: str) -> str:
    """The checker loop's repair request for ``broken``: ``problem`` asked for as a prompt_to_code
    instruction would, then the checker's error lines; nothing names the fix."""
    request = prompts.instruction(rng, problem, level, beginner=False)
    return repair.repair_instruction(request, repair.diagnostic_lines(self_check.errors(broken)))
