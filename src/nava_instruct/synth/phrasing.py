"""Words for the values of a problem: numbers, points, angles, manifolds, obstacles and costs.

A :class:`Phraser` fixes a few style choices per example (``2`` or ``2.0``, ``(0, 0)`` or
``x=0, y=0``, ``pi/2`` or ``90 degrees`` ...) and picks among synonyms for each mention, so the
same problem reads differently across examples while every value stays exact: an angle is only
stated in a form that gives it exactly (:mod:`synth.angles`), and in the same words at each mention.
"""

from __future__ import annotations

import random

from nava_instruct.nava.domain import MANIFOLDS, WEIGHT_NAMES, Point
from nava_instruct.synth import angles

RADIAN_UNITS = (" rad", " radians")


def join(items: list[str], conjunction: str = "and") -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {conjunction} {items[-1]}"


def decimal_text(value: float) -> str:
    """A number in its shortest decimal form: ``2``, ``0.35``, ``-1.5``."""
    return f"{value:.6f}".rstrip("0").rstrip(".")


def pi_form(value: float, symbol: str = "pi") -> str:
    """An angle as a fraction of pi: ``0``, ``pi/2``, ``-3pi/4``, ``2π/9``, ``pi``."""
    fraction = angles.pi_fraction(value)
    if fraction is None:
        raise ValueError(f"{value} is not a fraction of pi")
    if fraction == 0:
        return "0"
    sign = "-" if fraction < 0 else ""
    numerator = "" if abs(fraction.numerator) == 1 else str(abs(fraction.numerator))
    denominator = "" if fraction.denominator == 1 else f"/{fraction.denominator}"
    return f"{sign}{numerator}{symbol}{denominator}"


def exact_styles(value: float) -> tuple[str, ...]:
    """The :class:`Phraser` angle styles that state ``value`` exactly: pi-forms, degrees, radians."""
    styles = ("pi", "π") if angles.pi_fraction(value) is not None else ()
    styles += ("degrees", "deg") if angles.whole_degrees(value) is not None else ()
    styles += ("rad",) if angles.in_hundredths(value) else ()
    if not styles:
        raise ValueError(f"{value} is not an angle the generator draws")
    return styles


def exact_words(value: float) -> str:
    """An angle in one fixed form that states it exactly: a pi-fraction if it is one (``3pi/5``), else whole
    degrees (``37 degrees``), else radians (``0.35 rad``)."""
    kind = angles.kind_of(value)
    if kind == "pi":
        return pi_form(value)
    if kind == "degrees":
        return f"{angles.whole_degrees(value)} degrees"
    return decimal_text(value) + RADIAN_UNITS[0]


class Phraser:
    """Phrases for one example, with its own style choices and random synonyms."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.trailing_zero = rng.random() < 0.2
        self.point_style = rng.choice(("tight", "spaced", "spaced", "spaced", "bracket", "named"))
        self.angle_style = rng.choice(("pi", "π", "degrees", "deg"))  # preferred where it is exact
        self.degree_mark = rng.choice(("°", "°", " deg"))
        self.origin_word = rng.random() < 0.5
        self.british = rng.random() < 0.6
        self.angle_words: dict[float, str] = {}  # each angle as it was first stated, to say it the same way again

    def pick(self, options):
        return self.rng.choice(options)

    def centred(self) -> str:
        return "centred" if self.british else "centered"

    def visualise(self) -> str:
        return "visualise" if self.british else "visualize"

    # -- numbers, angles, points --------------------------------------------------------------
    def number(self, value: float) -> str:
        if value == int(value):
            return f"{int(value)}.0" if self.trailing_zero else str(int(value))
        return decimal_text(value)

    def angle(self, value: float, unit_optional: bool = False) -> str:
        """An angle in words that state it exactly, the same at every mention; where ``unit_optional``
        (the context says it is an angle), a value in radians may go without its unit."""
        if value not in self.angle_words:
            self.angle_words[value] = self._angle_words(value)
        words = self.angle_words[value]
        if unit_optional and words.endswith(RADIAN_UNITS) and self.rng.random() < 0.5:
            return words.rsplit(" ", 1)[0]
        return words

    def _angle_words(self, value: float) -> str:
        styles = exact_styles(value)
        preferred = self.angle_style in styles and self.rng.random() < 0.85
        style = self.angle_style if preferred else self.pick(styles)
        if style in ("pi", "π"):
            return pi_form(value, style)
        if style == "degrees":
            return f"{angles.whole_degrees(value)} degrees"
        if style == "deg":
            return f"{angles.whole_degrees(value)}{self.degree_mark}"
        return self.number(value) + self.pick(RADIAN_UNITS)

    def coords(self, values: list[float], names: str = "xyz") -> str:
        parts = [self.number(value) for value in values]
        if self.point_style == "tight":
            return f"({','.join(parts)})"
        if self.point_style == "bracket":
            return f"[{', '.join(parts)}]"
        if self.point_style == "named":
            return "(" + ", ".join(f"{name}={part}" for name, part in zip(names, parts)) + ")"
        return f"({', '.join(parts)})"

    def point(self, manifold: str, point: Point) -> str:
        """A start, goal or centre, written for its manifold."""
        if manifold == "S1":
            return self.pick(("angle ", "angle ", "θ = ", "")) + self.angle(point, unit_optional=True)
        if manifold == "SE2":
            return self._pose2(point)
        if manifold == "SE3":
            return self._pose3(point)
        if self.origin_word and not any(point):  # never true on the sphere, so only in R^n
            return "the origin"
        if manifold == "S2" and self.rng.random() < 0.5 and point[0] == point[1] == 0:
            pole = "north" if point[2] > 0 else "south"
            return f"the {pole} pole {self.coords(point)}"
        return self.coords(point)

    def _pose2(self, pose: list[float]) -> str:
        form = self.pick(("tuple", "named", "heading", "facing"))
        (x, y), theta = (self.number(value) for value in pose[:2]), self.angle(pose[2], form == "named")
        if form == "tuple":
            return f"({x}, {y}, {theta})"
        if form == "named":
            return f"(x={x}, y={y}, θ={theta})"
        if form == "heading":
            return f"position {self.coords(pose[:2])} with heading {theta}"
        return f"{self.coords(pose[:2])} facing {theta}"

    def _pose3(self, pose: list[float]) -> str:
        angles = [self.angle(value) for value in pose[3:]]
        form = self.pick(("tuple", "named", "split"))
        if form == "tuple":
            return "(" + ", ".join([self.number(value) for value in pose[:3]] + angles) + ")"
        if form == "named":
            values = [self.number(value) for value in pose[:3]] + angles
            names = ("x", "y", "z", "roll", "pitch", "yaw")
            return "(" + ", ".join(f"{name}={value}" for name, value in zip(names, values)) + ")"
        return f"position {self.coords(pose[:3])} with roll {angles[0]}, pitch {angles[1]} and yaw {angles[2]}"

    # -- manifolds ----------------------------------------------------------------------------
    def manifold(self, name: str, radius: float | None, level: str = "undergrad") -> str:
        if MANIFOLDS[name].has_radius:
            return self._round_manifold(name, self.number(radius), radius == 1.0, level)
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
        }[name]
        if level == "phd" and MANIFOLDS[name].is_pose:
            names.append(f"the Lie group {MANIFOLDS[name].notation}")
        if level == "gcse":
            names += {
                "R2": ["a flat sheet (the plane R^2)"],
                "R3": ["normal 3D space (R^3)"],
                "SE2": ["the plane, where the robot also has a facing direction (SE(2))"],
                "SE3": ["3D space where the robot can also tilt and turn (SE(3))"],
            }[name]
        return self.pick(names)

    def _round_manifold(self, name: str, radius: str, unit: bool, level: str) -> str:
        if name == "S1":
            names = [
                f"the circle S^1 of radius {radius}",
                f"a circle of radius {radius}",
                f"S^1 with radius {radius}",
                f"a circle (S^1) with radius {radius}",
            ]
            if unit:
                names += ["the unit circle", "the unit circle S^1"]
        else:
            names = [
                f"the sphere S^2 of radius {radius}",
                f"a sphere of radius {radius}",
                f"S^2 with radius {radius}",
                f"the surface of a sphere with radius {radius}",
            ]
            if unit:
                names += ["the unit sphere", "the unit sphere S^2"]
        if level == "phd":
            names.append(f"the round {name} of radius {radius}")
        return self.pick(names)

    # -- obstacles ----------------------------------------------------------------------------
    def obstacle(self, obstacle: dict) -> str:
        """A noun phrase with an article that states every parameter of the obstacle."""
        kind, at = obstacle["kind"], self.centred()
        if "radius" in obstacle:  # a disc or a ball
            center, radius = self.coords(obstacle["center"]), self.number(obstacle["radius"])
            shape = self.pick(
                ("disc", "circular obstacle", "disc obstacle", "round obstacle")
                if kind == "disc"
                else ("ball", "spherical obstacle", "ball obstacle", "sphere obstacle")
            )
            return self.pick(
                (
                    f"a {shape} {at} at {center} with radius {radius}",
                    f"a {shape} of radius {radius} at {center}",
                    f"a {shape} at {center}, radius {radius}",
                    f"a {shape} with centre {center} and radius {radius}",
                )
            )
        if "min_corner" in obstacle:  # a rectangle or a box
            low, high = self.coords(obstacle["min_corner"]), self.coords(obstacle["max_corner"])
            shape = self.pick(
                ("rectangle", "rectangular obstacle", "axis-aligned rectangle")
                if kind == "rectangle"
                else ("box", "box obstacle", "axis-aligned box")
            )
            corner = ("lower-left", "upper-right") if kind == "rectangle" else ("minimum", "maximum")
            article = self.article(shape)
            return self.pick(
                (
                    f"{article} {shape} from {low} to {high}",
                    f"{article} {shape} with min corner {low} and max corner {high}",
                    f"{article} {shape} with {corner[0]} corner {low} and {corner[1]} corner {high}",
                    f"{article} {shape} spanning {low} to {high}",
                )
            )
        if kind == "arc":
            start, end = self.angle(obstacle["from"]), self.angle(obstacle["to"])
            return self.pick(
                (
                    f"a forbidden arc from {start} to {end} (counter-clockwise)",
                    f"an arc obstacle covering the angles from {start} counter-clockwise to {end}",
                    f"a blocked arc running counter-clockwise from {start} to {end}",
                    f"an arc obstacle from {start} to {end}, swept anticlockwise",
                )
            )
        center, angle = self.coords(obstacle["center"]), self.angle(obstacle["angle"])
        return self.pick(
            (
                f"a cap {at} at {center} with angular radius {angle}",
                f"a spherical cap around {center} with angle {angle}",
                f"a cap obstacle at {center} of angle {angle}",
                f"a polar-cap-shaped obstacle {at} on {center}, opening angle {angle}",
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
        for name in WEIGHT_NAMES:
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
            velocity = self.number(cost["max_velocity"])
            text = self.pick(
                (
                    f"a time-optimal cost with max velocity {velocity}",
                    f"a time-optimal cost (max_velocity {velocity}",
                    f"the time_optimal cost with a maximum velocity of {velocity}",
                    f"a minimum-time cost with velocity limit {velocity}",
                )
            )
            if cost["max_acceleration"] is not None:
                acceleration = self.number(cost["max_acceleration"])
                text += self.pick(
                    (
                        f" and max acceleration {acceleration}",
                        f" and a maximum acceleration of {acceleration}",
                        f", max_acceleration {acceleration}",
                    )
                )
            return text + (")" if "(max_velocity" in text else "")
        weight = self.number(cost["energy_weight"])
        return self.pick(
            (
                f"an energy-optimal cost with energy weight {weight}",
                f"the energy_optimal cost (energy_weight {weight})",
                f"a minimum-energy cost with energy weight {weight}",
                f"an energy-optimal cost weighted {weight}",
            )
        )

    def outputs(self, computed: bool, visualized: bool) -> str:
        """An imperative clause saying whether to compute and visualise the path."""
        verb = self.visualise()
        if computed and visualized:
            return self.pick(
                (
                    f"compute the optimal path and {verb} it",
                    f"find the optimal path and {verb} it with the field",
                    "compute the path and plot it",
                    f"compute the optimal path, then {verb} the path and the field",
                    "solve for the path and show it",
                )
            )
        if computed:
            return self.pick(
                (
                    f"compute the optimal path but do not {verb} it",
                    f"compute the optimal path (no {verb[:-1]}ation needed)",
                    "just compute the path, without plotting it",
                    f"find the optimal path; skip the {verb[:-1]}ation",
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
