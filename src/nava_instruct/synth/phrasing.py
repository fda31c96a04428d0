"""Words for the values of a problem: numbers, points, angles, manifolds, obstacles and costs.

A :class:`Phraser` fixes a few style choices per example (``2`` or ``2.0``, ``(0, 0)`` or
``x=0, y=0``, ``pi/2`` or ``90 degrees`` ...) and picks among synonyms for each mention, so the
same problem reads differently across examples while every value stays exact: angles in pi-form
or degrees are exact multiples of pi/12, and the decimal form keeps four places.
"""

from __future__ import annotations

import random
from fractions import Fraction

from nava_instruct.synth.problems import twelfths


def join(items: list[str], conjunction: str = "and") -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {conjunction} {items[-1]}"


def pi_form(value: float, symbol: str = "pi") -> str:
    """An angle as a fraction of pi: ``0``, ``pi/2``, ``-3pi/4``, ``pi``."""
    fraction = Fraction(twelfths(value), 12)
    if fraction == 0:
        return "0"
    sign = "-" if fraction < 0 else ""
    numerator = "" if abs(fraction.numerator) == 1 else str(abs(fraction.numerator))
    denominator = "" if fraction.denominator == 1 else f"/{fraction.denominator}"
    return f"{sign}{numerator}{symbol}{denominator}"


def degrees(value: float) -> int:
    return twelfths(value) * 15


class Phraser:
    """Phrases for one example, with its own style choices and random synonyms."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.trailing_zero = rng.random() < 0.2
        self.point_style = rng.choice(("tight", "spaced", "spaced", "spaced", "bracket", "named"))
        self.angle_style = rng.choice(("pi", "pi", "π", "π", "degrees", "deg", "rad"))
        self.origin_word = rng.random() < 0.5
        self.british = rng.random() < 0.6

    def pick(self, options):
        return self.rng.choice(options)

    def centred(self) -> str:
        return "centred" if self.british else "centered"

    def visualise(self) -> str:
        return "visualise" if self.british else "visualize"

    # -- numbers, angles, points --------------------------------------------------------------
    def number(self, x: float) -> str:
        if x == int(x):
            return f"{int(x)}.0" if self.trailing_zero else str(int(x))
        return f"{x:.6f}".rstrip("0").rstrip(".")

    def angle(self, value: float, style: str | None = None) -> str:
        style = style or (self.angle_style if self.rng.random() < 0.85 else self.pick(("pi", "degrees", "rad")))
        if twelfths(value) == 0:
            return self.pick(("0", "0 rad", "0 degrees")) if style in ("degrees", "deg", "rad") else "0"
        if style in ("pi", "π"):
            return pi_form(value, style)
        if style == "degrees":
            return f"{degrees(value)} degrees"
        if style == "deg":
            return f"{degrees(value)}°"
        return f"{value:.4f}".rstrip("0").rstrip(".") + self.pick((" rad", " radians"))

    def coords(self, values: list[float], names: str = "xyz") -> str:
        parts = [self.number(v) for v in values]
        if self.point_style == "tight":
            return f"({','.join(parts)})"
        if self.point_style == "bracket":
            return f"[{', '.join(parts)}]"
        if self.point_style == "named":
            return "(" + ", ".join(f"{n}={p}" for n, p in zip(names, parts)) + ")"
        return f"({', '.join(parts)})"

    def point(self, manifold: str, p) -> str:
        """A start, goal or centre, written for its manifold."""
        if manifold == "S1":
            return self.pick(("angle ", "angle ", "θ = ", "")) + self.angle(p)
        if manifold == "SE2":
            return self._pose2(p)
        if manifold == "SE3":
            return self._pose3(p)
        if manifold in ("R2", "R3") and self.origin_word and not any(p):
            return "the origin"
        if manifold == "S2" and self.rng.random() < 0.5 and p[0] == p[1] == 0:
            pole = "north" if p[2] > 0 else "south"
            return f"the {pole} pole {self.coords(p)}"
        return self.coords(p)

    def _pose2(self, p) -> str:
        (x, y), theta = (self.number(v) for v in p[:2]), self.angle(p[2])
        form = self.pick(("tuple", "named", "heading", "facing"))
        if form == "tuple":
            return f"({x}, {y}, {theta})"
        if form == "named":
            return f"(x={x}, y={y}, θ={theta})"
        if form == "heading":
            return f"position {self.coords(p[:2])} with heading {theta}"
        return f"{self.coords(p[:2])} facing {theta}"

    def _pose3(self, p) -> str:
        angles = [self.angle(v) for v in p[3:]]
        form = self.pick(("tuple", "named", "split"))
        if form == "tuple":
            return "(" + ", ".join([self.number(v) for v in p[:3]] + angles) + ")"
        if form == "named":
            values = [self.number(v) for v in p[:3]] + angles
            return "(" + ", ".join(f"{n}={v}" for n, v in zip(("x", "y", "z", "roll", "pitch", "yaw"), values)) + ")"
        return f"position {self.coords(p[:3])} with roll {angles[0]}, pitch {angles[1]} and yaw {angles[2]}"

    # -- manifolds ----------------------------------------------------------------------------
    def manifold(self, spec: dict, level: str = "undergrad") -> str:
        kind = spec["kind"]
        if kind in ("S1", "S2"):
            return self._round_manifold(kind, self.number(spec["radius"]), spec["radius"] == 1.0, level)
        names = {
            "R2": [
                "R^2",
                "ℝ²",
                "the Euclidean plane",
                "a flat 2D plane",
                "the 2D plane",
                "the plane R^2",
                "two-dimensional Euclidean space",
            ],
            "R3": [
                "R^3",
                "ℝ³",
                "3D Euclidean space",
                "three-dimensional space",
                "Euclidean 3-space R^3",
                "ordinary 3D space",
            ],
            "SE2": [
                "SE(2)",
                "SE2",
                "planar poses with heading",
                "the special Euclidean group SE(2)",
                "the space of 2D poses (x, y, θ)",
                "poses in the plane (position plus heading)",
            ],
            "SE3": [
                "SE(3)",
                "the special Euclidean group SE(3)",
                "rigid-body poses in 3D",
                "full 3D poses (position plus roll, pitch and yaw)",
                "SE(3) (3D positions and orientations)",
            ],
        }[kind]
        if level == "phd" and kind in ("SE2", "SE3"):
            names.append(f"the Lie group {kind[:2]}({kind[2]})")
        if level == "gcse":
            names += {
                "R2": ["a flat sheet (the plane R^2)"],
                "R3": ["normal 3D space (R^3)"],
                "SE2": ["the plane, where the robot also has a facing direction (SE(2))"],
                "SE3": ["3D space where the robot can also tilt and turn (SE(3))"],
            }[kind]
        return self.pick(names)

    def _round_manifold(self, kind: str, r: str, unit: bool, level: str) -> str:
        if kind == "S1":
            names = [
                f"the circle S^1 of radius {r}",
                f"a circle of radius {r}",
                f"S^1 with radius {r}",
                f"a circle (S^1) with radius {r}",
            ]
            if unit:
                names += ["the unit circle", "the unit circle S^1"]
        else:
            names = [
                f"the sphere S^2 of radius {r}",
                f"a sphere of radius {r}",
                f"S^2 with radius {r}",
                f"the surface of a sphere with radius {r}",
            ]
            if unit:
                names += ["the unit sphere", "the unit sphere S^2"]
        if level == "phd":
            names.append(f"the round {kind} of radius {r}")
        return self.pick(names)

    # -- obstacles ----------------------------------------------------------------------------
    def obstacle(self, o: dict, manifold: str) -> str:
        """A noun phrase with an article that states every parameter of the obstacle."""
        kind, at = o["kind"], self.centred()
        if kind in ("disc", "ball"):
            c, r = self.coords(o["center"]), self.number(o["radius"])
            shape = self.pick(
                ("disc", "circular obstacle", "disc obstacle", "round obstacle")
                if kind == "disc"
                else ("ball", "spherical obstacle", "ball obstacle", "sphere obstacle")
            )
            return self.pick(
                (
                    f"a {shape} {at} at {c} with radius {r}",
                    f"a {shape} of radius {r} at {c}",
                    f"a {shape} at {c}, radius {r}",
                    f"a {shape} with centre {c} and radius {r}",
                )
            )
        if kind in ("rectangle", "box"):
            lo, hi = self.coords(o["min_corner"]), self.coords(o["max_corner"])
            shape = self.pick(
                ("rectangle", "rectangular obstacle", "axis-aligned rectangle")
                if kind == "rectangle"
                else ("box", "box obstacle", "axis-aligned box")
            )
            corner = ("lower-left", "upper-right") if kind == "rectangle" else ("minimum", "maximum")
            a = self.article(shape)
            return self.pick(
                (
                    f"{a} {shape} from {lo} to {hi}",
                    f"{a} {shape} with min corner {lo} and max corner {hi}",
                    f"{a} {shape} with {corner[0]} corner {lo} and {corner[1]} corner {hi}",
                    f"{a} {shape} spanning {lo} to {hi}",
                )
            )
        if kind == "arc":
            a, b = self.angle(o["from"]), self.angle(o["to"])
            return self.pick(
                (
                    f"a forbidden arc from {a} to {b} (counter-clockwise)",
                    f"an arc obstacle covering the angles from {a} counter-clockwise to {b}",
                    f"a blocked arc running counter-clockwise from {a} to {b}",
                    f"an arc obstacle from {a} to {b}, swept anticlockwise",
                )
            )
        c, a = self.coords(o["center"]), self.angle(o["angle"])
        return self.pick(
            (
                f"a cap {at} at {c} with angular radius {a}",
                f"a spherical cap around {c} with angle {a}",
                f"a cap obstacle at {c} of angle {a}",
                f"a polar-cap-shaped obstacle {at} on {c}, opening angle {a}",
            )
        )

    @staticmethod
    def article(word: str) -> str:
        return "an" if word[0] in "aeiou" else "a"

    def the(self, phrase: str) -> str:
        """``a disc at ...`` -> ``the disc at ...``."""
        for article in ("a ", "an "):
            if phrase.startswith(article):
                return "the " + phrase[len(article) :]
        return phrase

    # -- costs --------------------------------------------------------------------------------
    def weights(self, cost: dict) -> list[str]:
        """``length weight 1``, ... for the non-zero weights, in a random naming style."""
        style = self.pick(("words", "code", "equals"))
        parts = []
        for name in ("length_weight", "curvature_weight", "jerk_weight", "energy_weight"):
            if cost[name]:
                value = self.number(cost[name])
                label = name.replace("_", " ") if style == "words" else name
                parts.append(f"{label} = {value}" if style == "equals" else f"{label} {value}")
        return parts

    def cost(self, cost: dict) -> str:
        """A noun phrase that states the cost kind and all its parameters."""
        kind = cost["kind"]
        if kind == "geodesic":
            return self.pick(
                (
                    "the geodesic cost",
                    "a geodesic (shortest-path) cost",
                    "the plain geodesic cost",
                    "`geodesic_cost()`",
                    "the default geodesic cost",
                )
            )
        if kind == "weighted":
            head = self.pick(
                ("a weighted cost with", "a custom cost_function with", "a cost function using", "a weighted cost:")
            )
            return f"{head} {join(self.weights(cost))}"
        if kind == "time_optimal":
            v = self.number(cost["max_velocity"])
            text = self.pick(
                (
                    f"a time-optimal cost with max velocity {v}",
                    f"a time-optimal cost (max_velocity {v}",
                    f"the time_optimal cost with a maximum velocity of {v}",
                    f"a minimum-time cost with velocity limit {v}",
                )
            )
            if cost["max_acceleration"] is not None:
                a = self.number(cost["max_acceleration"])
                text += self.pick(
                    (f" and max acceleration {a}", f" and a maximum acceleration of {a}", f", max_acceleration {a}")
                )
            return text + (")" if "(max_velocity" in text else "")
        w = self.number(cost["energy_weight"])
        return self.pick(
            (
                f"an energy-optimal cost with energy weight {w}",
                f"the energy_optimal cost (energy_weight {w})",
                f"a minimum-energy cost with energy weight {w}",
                f"an energy-optimal cost weighted {w}",
            )
        )

    def outputs(self, computed: bool, visualized: bool) -> str:
        """An imperative clause saying whether to compute and visualise the path."""
        vis = self.visualise()
        if computed and visualized:
            return self.pick(
                (
                    f"compute the optimal path and {vis} it",
                    f"find the optimal path and {vis} it with the field",
                    "compute the path and plot it",
                    f"compute the optimal path, then {vis} the path and the field",
                    "solve for the path and show it",
                )
            )
        if computed:
            return self.pick(
                (
                    f"compute the optimal path but do not {vis} it",
                    f"compute the optimal path (no {vis[:-1]}ation needed)",
                    "just compute the path, without plotting it",
                    f"find the optimal path; skip the {vis[:-1]}ation",
                )
            )
        return self.pick(
            (
                "only set up the navigation field, without computing a path",
                "just define the navigation field; don't compute or plot a path",
                "build the navigation field only (no path computation, no plot)",
                "stop after creating the navigation field",
            )
        )
