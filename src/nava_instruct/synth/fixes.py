"""Broken programs for the fix family: one defect each, and an instruction that pins the fix down.

A defect is injected while rendering (see ``render.Defect``), so the broken program is the
correct one with exactly one thing wrong: a misspelled builtin or argument name, a missing
argument, a point of the wrong dimension or off the sphere, a non-positive radius, swapped
corners, an unknown cost type, a negative weight, a cap angle out of range, a start or goal
inside an obstacle, an unknown name, positional or quoted arguments. The instruction quotes the
checker's errors and, where the right value or name is not evident from them, states it.
"""

from __future__ import annotations

import random
import re

from nava_instruct.synth import verify
from nava_instruct.synth.phrasing import pi_form
from nava_instruct.synth.problems import WEIGHT_NAMES, position
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
        i = rng.randrange(len(word))
        kind = rng.choice(("swap", "drop", "double", "vowel"))
        if kind == "swap" and i + 1 < len(word) and word[i] != word[i + 1]:
            result = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
        elif kind == "drop" and len(word) > 3:
            result = word[:i] + word[i + 1 :]
        elif kind == "double" and word[i].isalpha():
            result = word[:i] + word[i] + word[i:]
        elif kind == "vowel" and word[i] in "aeiou":
            result = word[:i] + rng.choice([v for v in "aeiou" if v != word[i]]) + word[i + 1 :]
        else:
            continue
        if result != word and result.isidentifier() and not result[0].isdigit() and not result.startswith("_"):
            return result
    return word + "s"


def _code(value) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(code_number(x) for x in value) + "]"
    return code_number(value)


def _angle_code(value: float) -> str:
    return f"{code_number(value)} ({pi_form(value)})"


def _roles(problem: dict) -> list[str]:
    """Roles of the calls in the rendered program that carry named arguments."""
    roles = ["field"] + [f"obstacle{i}" for i in range(len(problem["obstacles"]))]
    if problem["manifold"]["kind"] in ("S1", "S2", "R3"):
        roles.append("manifold")
    if problem["cost"]["kind"] != "geodesic":
        roles.append("cost")
    return roles


def _what(problem: dict, role: str) -> str:
    if role.startswith("obstacle"):
        return f"the {problem['obstacles'][int(role[8:])]['kind']}"
    return {"field": "navigation_field", "manifold": "the manifold", "cost": "the cost"}[role]


# Each breaker returns (defect, hint) or None when it does not apply to the problem/style.


def misspelled_builtin(rng, problem, style):
    roles = [
        r
        for r in ("field", "path", "visualize")
        if r == "field" or problem["computed"] and (r == "path" or problem["visualized"])
    ]
    roles += [f"obstacle{i}" for i in range(len(problem["obstacles"]))]
    role = rng.choice(roles)
    fixed = {}

    def change(name, args):
        fixed["name"] = name
        return typo(rng, name), args

    return _Hook(role, change_call=change), lambda: f"The builtin should be `{fixed['name']}`."


def misnamed_argument(rng, problem, style):
    role = rng.choice(_roles(problem))
    fixed = {}

    def change(name, args):
        keys = [i for i, (k, _) in enumerate(args) if k]
        i = rng.choice(keys)
        key, value = args[i]
        fixed["key"] = key
        args[i] = (SYNONYMS[key] if key in SYNONYMS and rng.random() < 0.4 else typo(rng, key), value)
        return name, args

    return _Hook(role, change_call=change), lambda: f"The argument is called `{fixed['key']}`."


def missing_argument(rng, problem, style):
    role = rng.choice(_roles(problem))
    if role == "manifold":
        return None
    fixed = {}

    def change(name, args):
        required = {"field": ("manifold", "start", "goal"), "cost": ("max_velocity",)}.get(
            role, ("center", "radius", "min_corner", "max_corner", "from", "to", "angle")
        )
        if name == "sphere":
            required = ("radius",)
        keys = [i for i, (k, _) in enumerate(args) if k in required]
        if not keys:
            return name, args
        i = rng.choice(keys)
        fixed["key"], fixed["value"] = args.pop(i)
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
    right = problem[role]

    def change(value):
        if isinstance(value, float):
            return [value, 0.0]
        return value[:-1] if rng.random() < 0.5 else [*value, 0.0]

    return _Hook(role, change_value=change), lambda: f"The {role} should be {_code(right)}."


def off_sphere(rng, problem, style):
    if problem["manifold"]["kind"] != "S2":
        return None
    role = rng.choice(("start", "goal"))
    right = problem[role]
    i = max(range(3), key=lambda j: abs(right[j]))
    wrong = list(right)
    wrong[i] = right[i] * rng.choice((2.0, 0.5, 1.5))
    return _Hook(role, change_value=lambda value: wrong), lambda: f"The {role} should be {_code(right)}."


def nonpositive_radius(rng, problem, style):
    roles = [f"obstacle{i}" for i, o in enumerate(problem["obstacles"]) if "radius" in o]
    roles += ["manifold"] if problem["manifold"]["kind"] in ("S1", "S2") else []
    if not roles:
        return None
    role = rng.choice(roles)
    right = problem["manifold"]["radius"] if role == "manifold" else problem["obstacles"][int(role[8:])]["radius"]
    wrong = rng.choice((f"-{code_number(right)}", "0.0"))

    def change(name, args):
        return name, [(k, wrong if k == "radius" else v) for k, v in args]

    return (
        _Hook(role, change_call=change),
        lambda: f"The radius of {_what(problem, role)} should be {code_number(right)}.",
    )


def swapped_corners(rng, problem, style):
    roles = [f"obstacle{i}" for i, o in enumerate(problem["obstacles"]) if "min_corner" in o]
    if not roles:
        return None
    role = rng.choice(roles)
    o = problem["obstacles"][int(role[8:])]

    def change(name, args):
        values = dict(args)
        return name, [(k, values["max_corner"] if k == "min_corner" else values["min_corner"]) for k, _ in args]

    return (
        _Hook(role, change_call=change),
        lambda: f"min_corner should be {_code(o['min_corner'])} and max_corner {_code(o['max_corner'])}.",
    )


def unknown_cost_type(rng, problem, style):
    kind = problem["cost"]["kind"]
    if kind not in BAD_TYPES:
        return None
    wrong = rng.choice(BAD_TYPES[kind])

    def change(name, args):
        return name, [(k, f'"{wrong}"' if k == "type" else v) for k, v in args]

    return _Hook("cost", change_call=change), lambda: f'The cost type should be "{kind}".'


def negative_weight(rng, problem, style):
    cost = problem["cost"]
    if cost["kind"] != "weighted":
        return None
    name = rng.choice([w for w in WEIGHT_NAMES if cost[w]])

    def change(call_name, args):
        return call_name, [(k, f"-{v}" if k == name else v) for k, v in args]

    return _Hook("cost", change_call=change), lambda: f"{name} should be {code_number(cost[name])}."


def bad_cap_angle(rng, problem, style):
    roles = [f"obstacle{i}" for i, o in enumerate(problem["obstacles"]) if o["kind"] == "cap"]
    if not roles:
        return None
    role = rng.choice(roles)
    right = problem["obstacles"][int(role[8:])]["angle"]
    wrong = rng.choice(("0.0", "-0.5", "3.5", "4.0", f"-{code_number(right)}"))

    def change(name, args):
        return name, [(k, wrong if k == "angle" else v) for k, v in args]

    return _Hook(role, change_call=change), lambda: f"The cap angle should be {_angle_code(right)}."


def inside_obstacle(rng, problem, style):
    if not problem["obstacles"]:
        return None
    role = rng.choice(("start", "goal"))
    o = rng.choice(problem["obstacles"])
    right, kind = problem[role], problem["manifold"]["kind"]
    if o["kind"] == "arc":
        wrong = round((o["from"] + o["to"]) / 2, 4)
    elif o["kind"] == "cap":
        wrong = list(o["center"])
    else:
        center = o["center"] if "center" in o else [(a + b) / 2 for a, b in zip(o["min_corner"], o["max_corner"])]
        wrong = center + list(right[len(position(kind, right)) :])
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
        return name, [(k, wrong if k == key else v) for k, v in args]

    return _Hook("field", change_call=change), lambda: f"It should use the `{bound[key]}` binding."


def positional_arguments(rng, problem, style):
    roles = [f"obstacle{i}" for i in range(len(problem["obstacles"]))]
    if not roles:
        return None
    role = rng.choice(roles)
    names = {}

    def change(name, args):
        names["keys"] = [k for k, _ in args]
        return name, [(None, v) for _, v in args]

    return (
        _Hook(role, change_call=change),
        lambda: "Its arguments are " + " and ".join(f"`{k}`" for k in names["keys"]) + ", in that order.",
    )


def quoted_number(rng, problem, style):
    roles = [f"obstacle{i}" for i, o in enumerate(problem["obstacles"]) if o["kind"] in ("disc", "ball", "arc", "cap")]
    if problem["cost"]["kind"] == "time_optimal":
        roles.append("cost")
    if not roles:
        return None
    role = rng.choice(roles)
    fixed = {}

    def change(name, args):
        i = next(i for i, (k, v) in enumerate(args) if k in ("radius", "to", "angle", "max_velocity"))
        fixed["key"], fixed["value"] = args[i]
        args[i] = (args[i][0], f'"{args[i][1]}"')
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


def break_program(rng: random.Random, problem: dict, style: Style, level: str) -> tuple[str, str, str]:
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
        text, errors = verify.broken(source)
        named = re.search(r"`(\w+)`", hint_text)
        suggested = named and any(f"did you mean '{named.group(1)}'" in d.message for d in errors)
        if suggested and rng.random() < 0.5:
            hint_text = ""  # the checker's suggestion already names the fix
        shown = "\n".join(
            str(d) if rng.random() < 0.5 else f"line {d.line}, column {d.col}: {d.message}" for d in errors
        )
        ask = rng.choice(_ASK).format(diags=shown, hint=f"{hint_text} " if hint_text else "").strip()
        return breaker.__name__, rng.choice(_INTRO[level]) + ask, text
    raise verify.GeneratorBug("no defect applies to this problem")
