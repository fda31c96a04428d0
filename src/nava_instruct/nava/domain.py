"""The NAVA domain, stated once: manifolds, obstacles, costs, and the typed problem a program denotes.

The checker, the spec, scoring, the dataset generator and the record metadata all read these
tables rather than their own lists. Their order matters: the generator draws manifolds, obstacle
kinds and cost kinds in table order, and messages list them that way.
"""

from __future__ import annotations

from dataclasses import dataclass

Point = float | list[float]  # an angle on S1, coordinates on the other manifolds


@dataclass(frozen=True)
class ManifoldKind:
    """A manifold of the language: how it is built and written, and what its points are."""

    builtin: str  # the call that builds it
    notation: str  # how mathematics writes it
    point_dims: int | None  # coordinates of a point; None where a point is an angle (a number)
    position_dims: int | None  # leading coordinates that obstacles constrain; None off R^n and SE(n)
    obstacles: tuple[str, ...]  # the obstacle kinds that fit it
    has_radius: bool = False  # built with an optional `radius:`

    @property
    def is_pose(self) -> bool:
        """Whether a point is a pose: a position followed by angles."""
        return self.position_dims is not None and self.point_dims > self.position_dims

    def position(self, point: list[float]) -> list[float]:
        """The position part of a point of R^n or a pose of SE(n)."""
        return list(point[: self.position_dims])


MANIFOLDS = {
    "R2": ManifoldKind("euclidean_plane", "R^2", 2, 2, ("disc", "rectangle")),
    "R3": ManifoldKind("euclidean_space", "R^3", 3, 3, ("ball", "box")),
    "S1": ManifoldKind("circle", "S^1", None, None, ("arc",), has_radius=True),
    "S2": ManifoldKind("sphere", "S^2", 3, None, ("cap",), has_radius=True),
    "SE2": ManifoldKind("se2", "SE(2)", 3, 2, ("disc", "rectangle")),
    "SE3": ManifoldKind("se3", "SE(3)", 6, 3, ("ball", "box")),
}
MANIFOLD_NAMES = tuple(MANIFOLDS)


@dataclass(frozen=True)
class ObstacleKind:
    """An obstacle of the language: how it is built and which parameters it has."""

    builtin: str  # the call that builds it
    params: tuple[str, ...]  # its arguments, which are also its keys in the spec, in the order code writes them


OBSTACLES = {
    "disc": ObstacleKind("disc", ("center", "radius")),
    "rectangle": ObstacleKind("rectangle", ("min_corner", "max_corner")),
    "ball": ObstacleKind("sphere", ("center", "radius")),  # sphere(center:, radius:), not the S2 manifold
    "box": ObstacleKind("box", ("min_corner", "max_corner")),
    "arc": ObstacleKind("arc", ("from", "to")),
    "cap": ObstacleKind("cap", ("center", "angle")),
}

WEIGHT_NAMES = ("length_weight", "curvature_weight", "jerk_weight", "energy_weight")  # of a weighted cost
COST_TYPES = {  # cost_function(type: ...) and the arguments each type takes
    "time_optimal": ("max_velocity", "max_acceleration"),
    "energy_optimal": ("energy_weight",),
}
COST_KINDS = ("geodesic", "weighted", *COST_TYPES)  # geodesic_cost(), cost_function(weights), typed costs


@dataclass(frozen=True)
class Problem:
    """One navigation problem: what a navigation_field call denotes; ``spec()`` is its JSON form."""

    manifold: str  # a name in MANIFOLDS
    radius: float | None  # of a manifold with a radius; None on the others
    start: Point
    goal: Point
    obstacles: tuple[dict, ...]  # {"kind": a name in OBSTACLES, then its params}
    cost: dict  # {"kind": a name in COST_KINDS, then its parameters}
    computed: bool  # the path is computed
    visualized: bool  # and drawn

    def spec(self) -> dict:
        """The problem as the spec writes it; no list in it is shared with the problem."""
        manifold = {"kind": self.manifold} if self.radius is None else {"kind": self.manifold, "radius": self.radius}
        return {
            "manifold": manifold,
            "start": _copy(self.start),
            "goal": _copy(self.goal),
            "obstacles": [{name: _copy(value) for name, value in obstacle.items()} for obstacle in self.obstacles],
            "cost": dict(self.cost),
            "computed": self.computed,
            "visualized": self.visualized,
        }


def _copy(value):
    return list(value) if isinstance(value, list) else value
