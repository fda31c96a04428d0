"""Sentence banks for explanations of NAVA programs (see explain.py, which composes them).

Most banks map an audience level ("gcse", "a_level", "undergrad", "phd") to a tuple of variants of one
sentence; explain.py picks one variant with ``rng.choice`` and fills its placeholders with ``str.format``.
Every template may use {start}, {goal} and (on S^1 and S^2) {radius}, written as the phraser writes points
and numbers; the other placeholders are named beside their bank.

The order of every tuple and dict is part of the dataset: a seed draws a variant by its position, so
reordering, adding or removing a variant changes the generated data.
"""

MANIFOLD_SENTENCES = {
    "gcse": {
        "R2": (
            "The code works on a flat 2D plane (R^2), like a sheet of graph paper.",
            "Everything happens on a flat surface, like a map on a table; `euclidean_plane()` sets this up as R^2.",
            (
                "The world here is a flat 2D plane (R^2), so every position is an (x, y) pair, just like coordinates "
                "on a graph."
            ),
        ),
        "R3": (
            "The code works in normal 3D space (R^3), so positions have three numbers: x, y and z.",
            (
                "This time the world is 3D, like a drone flying around a room; `euclidean_space(dim: 3)` makes this "
                "R^3 space."
            ),
            "Positions live in 3D space (R^3): left-right, forwards-backwards and up-down.",
        ),
        "S1": (
            "The world is a circle of radius {radius} (S^1): you can only move around its edge, like a bead on a ring.",
            (
                "Positions are angles around a circle of radius {radius}, a bit like the hand of a clock going round "
                "(this circle is called S^1)."
            ),
            "`circle(radius: {radius})` makes a circle (S^1) of radius {radius}, and you can only travel around it.",
        ),
        "S2": (
            "The world is the surface of a ball, a sphere of radius {radius} (S^2), like walking on a globe.",
            "Everything happens on a sphere of radius {radius} (S^2): imagine an ant crawling over a football.",
            (
                "`sphere(radius: {radius})` makes the outside of a ball with radius {radius} (S^2), and every point "
                "must sit on that surface."
            ),
        ),
        "SE2": (
            (
                "Each position also says which way the robot is facing, like a toy car on the floor: x, y and a "
                "turning angle. This space is called SE(2)."
            ),
            (
                "The robot moves on a flat floor but also has a facing direction, so each state is (x, y, angle); the "
                "code calls this `se2()`, short for SE(2)."
            ),
            "Here a position is more than a dot: it's where the robot is and which way it points (SE(2)).",
        ),
        "SE3": (
            (
                "The robot can move in 3D and also tilt and turn (roll, pitch and yaw), like a plane in the sky; this "
                "space is called SE(3)."
            ),
            (
                "Each state is a 3D position plus three turning angles (roll, pitch and yaw), like a drone that can "
                "tip and spin: that's SE(3), made by `se3()`."
            ),
            (
                "The robot flies in 3D space and can point in any direction, so each state has six numbers; the space "
                "is SE(3)."
            ),
        ),
    },
    "a_level": {
        "R2": (
            "The code works in the 2D Euclidean plane R^2, so each point is a position vector (x, y).",
            "`euclidean_plane()` sets up R^2: points are 2D vectors and distance is the usual Pythagorean distance.",
            "Geometrically, the problem lives in the plane R^2, with ordinary x-y coordinates.",
        ),
        "R3": (
            (
                "The problem lives in R^3; points are 3D position vectors and distance uses Pythagoras in three "
                "dimensions."
            ),
            "`euclidean_space(dim: 3)` gives 3D Euclidean space R^3, where each point is a vector (x, y, z).",
            "Geometrically, everything happens in R^3 with ordinary x, y and z coordinates.",
        ),
        "S1": (
            (
                "The space is a circle of radius {radius} (S^1), so each position is an angle θ in radians and "
                "distance along the circle is the arc length rθ."
            ),
            (
                "`circle(radius: {radius})` makes the circle S^1 of radius {radius}; points are given by angles in "
                "radians."
            ),
            "The path is confined to a circle of radius {radius} (S^1), so the only coordinate is the angle θ.",
        ),
        "S2": (
            (
                "The space is the sphere S^2 of radius {radius}: points are 3D vectors with magnitude {radius}, so "
                "they sit on the sphere's surface."
            ),
            (
                "`sphere(radius: {radius})` gives the sphere S^2 of radius {radius}; each position vector (x, y, z) "
                "satisfies x² + y² + z² = r²."
            ),
            (
                "The path must stay on the surface of a sphere of radius {radius} (S^2), so every point is a 3D vector "
                "of length {radius}."
            ),
        ),
        "SE2": (
            "The space is SE(2): a state is (x, y, θ), a position vector plus a heading angle.",
            (
                "`se2()` means each state is a pose (x, y, θ): a position vector in the plane plus the angle the robot "
                "faces (SE(2))."
            ),
            "Each point of SE(2) combines a 2D position vector with a heading angle in radians.",
        ),
        "SE3": (
            (
                "The space is SE(3): a state is a 3D position vector plus three angles (roll, pitch, yaw) describing "
                "orientation."
            ),
            (
                "`se3()` gives SE(3), where each pose has six components: a position vector (x, y, z) and the angles "
                "roll, pitch and yaw."
            ),
            "Each state in SE(3) combines a 3D position vector with an orientation given by roll, pitch and yaw.",
        ),
    },
    "undergrad": {
        "R2": (
            "The configuration space is R^2 with the standard Euclidean metric, so geodesics are straight lines.",
            "`euclidean_plane()` declares the configuration space R^2 with its flat metric.",
            "The robot is a point in the plane, so the configuration space is R^2.",
        ),
        "R3": (
            (
                "The configuration space is R^3 with the Euclidean metric; without obstacles geodesics are straight "
                "segments."
            ),
            "`euclidean_space(dim: 3)` declares a 3D Euclidean configuration space, R^3.",
            "The configuration space is three-dimensional Euclidean space, R^3.",
        ),
        "S1": (
            (
                "The configuration space is the circle S^1 of radius {radius}; the metric is arc length, and there are "
                "two candidate paths between two points (clockwise and counter-clockwise)."
            ),
            (
                "`circle(radius: {radius})` declares S^1 with radius {radius}, a 1-dimensional configuration space "
                "parameterised by angle."
            ),
            (
                "The configuration space is S^1 (radius {radius}), a compact 1D manifold: configurations are angles in "
                "radians."
            ),
        ),
        "S2": (
            (
                "The configuration space is the 2-sphere S^2 of radius {radius} with the metric induced from R^3; "
                "geodesics are arcs of great circles."
            ),
            (
                "`sphere(radius: {radius})` declares the configuration space S^2 with radius {radius}, embedded in "
                "R^3; configurations are points of norm {radius}."
            ),
            (
                "The configuration space is S^2 of radius {radius}, a curved 2D manifold, so shortest paths follow "
                "great circles."
            ),
        ),
        "SE2": (
            (
                "The configuration space is SE(2), the group of planar rigid motions: a configuration is (x, y, θ) "
                "with θ the heading."
            ),
            "`se2()` declares SE(2), a 3-dimensional configuration space of planar poses (position plus heading).",
            (
                "The configuration space is SE(2): configurations are planar poses (x, y, θ), so the planner reasons "
                "about orientation as well as position."
            ),
        ),
        "SE3": (
            (
                "The configuration space is SE(3), the 6-dimensional space of rigid-body poses (position plus "
                "roll-pitch-yaw orientation)."
            ),
            (
                "`se3()` declares the configuration space SE(3): each configuration is a 3D position and an "
                "orientation given by roll, pitch and yaw."
            ),
            (
                "The configuration space is SE(3), six-dimensional, covering both where the body is and how it is "
                "oriented."
            ),
        ),
    },
    "phd": {
        "R2": (
            (
                "The state manifold is R^2 with the flat Euclidean Riemannian metric; geodesics are straight segments "
                "and the exponential map is just vector addition."
            ),
            (
                "`euclidean_plane()` fixes M = R^2 with its flat Riemannian metric, the simplest case: zero curvature "
                "and globally unique geodesics."
            ),
            "The manifold is R^2 equipped with the standard Euclidean metric, a flat Riemannian manifold.",
        ),
        "R3": (
            (
                "The state manifold is R^3 with the flat Euclidean Riemannian metric, so curvature vanishes and "
                "geodesics are straight lines."
            ),
            "`euclidean_space(dim: 3)` fixes M = R^3, a flat and simply connected Riemannian manifold.",
            "The manifold is Euclidean R^3 with its standard (flat) Riemannian metric.",
        ),
        "S1": (
            (
                "The manifold is S^1 of radius {radius}, a compact 1-dimensional Riemannian manifold (also the Lie "
                "group SO(2)); geodesics are arcs and the cut locus of a point is its antipode."
            ),
            (
                "`circle(radius: {radius})` fixes M = S^1 with radius {radius}, a Riemannian manifold that is not "
                "simply connected, so it admits two homotopy classes of paths between generic endpoints."
            ),
            "The manifold is the circle S^1 of radius {radius} with the arc-length Riemannian metric.",
        ),
        "S2": (
            (
                "The manifold is the round 2-sphere S^2 of radius {radius} with the Riemannian metric induced by the "
                "embedding in R^3; geodesics are great-circle arcs and the curvature is constant and positive."
            ),
            (
                "`sphere(radius: {radius})` fixes M = S^2 with radius {radius}, a compact Riemannian manifold of "
                "constant positive curvature."
            ),
            (
                "The manifold is S^2 of radius {radius}, embedded in R^3 with the induced Riemannian metric; "
                "minimising geodesics are great-circle arcs."
            ),
        ),
        "SE2": (
            (
                "The manifold is the Lie group SE(2) = R^2 ⋊ SO(2), with states (x, y, θ); the group structure couples "
                "translation and rotation."
            ),
            (
                "`se2()` fixes M = SE(2), the 3-dimensional Lie group of planar rigid motions, a semidirect product of "
                "translations and rotations."
            ),
            "The state space is the Lie group SE(2): poses (x, y, θ), with θ a coordinate on the SO(2) factor.",
        ),
        "SE3": (
            (
                "The manifold is the Lie group SE(3) = R^3 ⋊ SO(3), 6-dimensional; here orientation is parameterised "
                "by roll, pitch and yaw."
            ),
            (
                "`se3()` fixes M = SE(3), the Lie group of rigid-body motions, whose SO(3) part is written in "
                "roll-pitch-yaw coordinates."
            ),
            "The state space is SE(3), a 6-dimensional Lie group; poses are (x, y, z, roll, pitch, yaw).",
        ),
    },
}

ENDPOINT_SENTENCES = {
    "gcse": (
        "The journey starts at {start} and should end at {goal}.",
        "It starts at {start}, and the goal (where we want to get to) is {goal}.",
        "Our starting point is {start} and the finish is {goal}.",
        "We begin at {start} and want to reach {goal}.",
    ),
    "a_level": (
        "The start is {start} and the goal is {goal}.",
        "The path begins at {start} and must finish at {goal}.",
        "The start and goal are {start} and {goal} respectively.",
        "It sets the start to {start} and the goal to {goal}.",
    ),
    "undergrad": (
        "The boundary conditions are start = {start} and goal = {goal}.",
        "The planner must connect the start configuration {start} to the goal {goal}.",
        "Start and goal configurations are {start} and {goal}.",
        "It fixes the initial configuration {start} and the goal configuration {goal}.",
    ),
    "phd": (
        "Boundary conditions: γ(0) = {start} and γ(1) = {goal}.",
        "The two-point boundary value problem fixes γ(0) = {start} and γ(T) = {goal}.",
        "The endpoints are q_start = {start} and q_goal = {goal}.",
        "It imposes the boundary conditions {start} (start) and {goal} (goal).",
    ),
}

NO_OBSTACLE_SENTENCES = {
    "gcse": (
        "There are no obstacles, so nothing is in the way.",
        "Nothing blocks the way: the obstacle list is empty.",
        "There's nothing to dodge here.",
    ),
    "a_level": (
        "There are no obstacles, so the whole space is free.",
        "The obstacle list is empty.",
        "No obstacles are defined.",
    ),
    "undergrad": (
        "There are no obstacles, so the free space is the whole configuration space.",
        "The obstacle set is empty.",
        "No obstacles are specified, so the problem is unconstrained.",
    ),
    "phd": (
        "The obstacle set is empty, so the problem has no state constraints.",
        "No obstacles: the feasible set is all of M.",
        "There are no state constraints from obstacles.",
    ),
}

# {obstacle_count}: the count with its noun, "one obstacle" or "3 obstacles" ({Obstacle_count} capitalised);
# {is_are}: the verb that agrees with it; {obstacle_list}: the obstacles described one by one.
OBSTACLE_LIST_SENTENCES = {
    "gcse": (
        "There {is_are} {obstacle_count} in the way: {obstacle_list}.",
        "The path has to avoid {obstacle_count}: {obstacle_list}.",
        "Watch out for {obstacle_count}: {obstacle_list}.",
    ),
    "a_level": (
        "There {is_are} {obstacle_count}: {obstacle_list}.",
        "It defines {obstacle_count}: {obstacle_list}.",
        "The path must avoid {obstacle_count}, namely {obstacle_list}.",
    ),
    "undergrad": (
        "The obstacle set contains {obstacle_count}: {obstacle_list}.",
        "{Obstacle_count}: {obstacle_list}.",
        "It removes {obstacle_count} from the free space: {obstacle_list}.",
    ),
    "phd": (
        "The obstacle set O consists of {obstacle_count}: {obstacle_list}.",
        "State constraints come from {obstacle_count}: {obstacle_list}.",
        "{Obstacle_count}: {obstacle_list}.",
    ),
}

# Counts small enough to be written as words (or as digits, drawn at random).
COUNT_WORDS = ("no", "one", "two", "three")

OBSTACLE_REMARKS = {
    "gcse": (
        "The path has to go around, like walking around a puddle.",
        "Think of an obstacle as a wall the path can't go through.",
        "The route must steer clear of these no-go zones.",
    ),
    "a_level": (
        "Geometrically, the path must stay outside every obstacle region.",
        "Any point of the path inside an obstacle would make it invalid.",
        "Obstacles act as forbidden regions.",
    ),
    "undergrad": (
        "Obstacle regions are removed from the configuration space, so the planner works in the free space.",
        "The planner treats obstacles as forbidden regions of the configuration space.",
        "Feasible paths must lie entirely in the complement of the obstacle regions.",
    ),
    "phd": (
        "The feasible set is M minus the obstacle interiors, a manifold with boundary on which the problem is posed.",
        "Obstacles define state constraints, which make the feasible set non-convex in general.",
        "The optimisation is over curves avoiding the obstacle sets, so minimisers may touch their boundaries.",
    ),
}

# Added for SE(2) and SE(3), whose obstacles bound the position only.
POSITION_ONLY_REMARK = {
    "gcse": "The obstacles only care about where the robot is, not which way it faces.",
    "a_level": "The obstacles only restrict the position part of the pose, not the angles.",
    "undergrad": "The obstacles constrain only the position part of the configuration; orientation is free.",
    "phd": (
        "The obstacles constrain only the translational part (projection onto R^n); the rotational part is "
        "unconstrained."
    ),
}

GEODESIC_COST_SENTENCES = {
    "gcse": (
        "`geodesic_cost()` just means 'find the shortest route'.",
        "The cost asks for the shortest route, nothing fancier.",
        "It simply looks for the shortest way there.",
    ),
    "a_level": (
        "The cost is the geodesic cost, so the path length is minimised.",
        "`geodesic_cost()` minimises the total length of the path.",
        "With the geodesic cost, the best path is the shortest one.",
    ),
    "undergrad": (
        (
            "`geodesic_cost()` minimises arc length under the manifold's metric, so the optimum is a (constrained) "
            "geodesic."
        ),
        "The cost is the geodesic cost: the length of the path in the configuration space's metric.",
        "The objective is path length, so the planner seeks a shortest geodesic in the free space.",
    ),
    "phd": (
        (
            "The cost is the length functional L(γ) = ∫ |γ'(t)| dt, whose minimisers are geodesics of the Riemannian "
            "metric away from the obstacles."
        ),
        (
            "`geodesic_cost()` selects the Riemannian length functional, so optimal paths are (constrained) minimising "
            "geodesics."
        ),
        "The running cost is the metric norm of the velocity, i.e. the problem is a constrained geodesic problem.",
    ),
}

# What each weight of a weighted cost penalises, per level, in the order the terms are listed.
WEIGHT_MEANINGS = {
    "gcse": {
        "length_weight": "keep it short",
        "curvature_weight": "avoid sharp turns",
        "jerk_weight": "avoid sudden jolts",
        "energy_weight": "save energy",
    },
    "a_level": {
        "length_weight": "path length",
        "curvature_weight": "how sharply it bends",
        "jerk_weight": "how quickly the acceleration changes",
        "energy_weight": "energy used",
    },
    "undergrad": {
        "length_weight": "arc length",
        "curvature_weight": "curvature",
        "jerk_weight": "jerk (third derivative)",
        "energy_weight": "control energy",
    },
    "phd": {
        "length_weight": "the length term",
        "curvature_weight": "the squared-curvature term",
        "jerk_weight": "the jerk penalty",
        "energy_weight": "the control-effort term",
    },
}

# {terms}: the weighted terms with their weights.
WEIGHTED_COST_SENTENCES = {
    "gcse": (
        "The cost is a mix of things the path should care about: {terms}.",
        "`cost_function(...)` gives scores for what matters: {terms}. Bigger numbers matter more.",
        "It chooses the path by balancing {terms}.",
    ),
    "a_level": (
        "The cost is a weighted sum: {terms}.",
        "`cost_function` combines several terms with weights: {terms}.",
        "The path is judged by a weighted cost with {terms}; a larger weight makes that term matter more.",
    ),
    "undergrad": (
        "The cost is a weighted combination of {terms}.",
        "`cost_function` defines a weighted objective with {terms}.",
        "The objective trades off {terms}.",
    ),
    "phd": (
        "The running cost is a weighted sum of {terms}, i.e. a cost functional ∫ Σ w_i c_i(γ) dt.",
        "`cost_function` defines the functional J(γ) as a weighted integral of {terms}.",
        "The cost functional mixes {terms}, a regularised variant of the length functional.",
    ),
}

# {max_velocity}: the speed limit; {acceleration_limit}: ACCELERATION_LIMIT_CLAUSE, or nothing when unbounded.
TIME_OPTIMAL_COST_SENTENCES = {
    "gcse": (
        (
            "The aim is to get there as quickly as possible, but the speed can never go above "
            "{max_velocity}{acceleration_limit}."
        ),
        "It wants the fastest trip, with a speed limit of {max_velocity}{acceleration_limit}.",
        (
            "The path should take as little time as possible while never going faster than "
            "{max_velocity}{acceleration_limit}."
        ),
    ),
    "a_level": (
        "The cost is time-optimal: minimise the travel time with speed at most {max_velocity}{acceleration_limit}.",
        (
            '`type: "time_optimal"` means the total time is minimised, subject to a maximum speed of '
            "{max_velocity}{acceleration_limit}."
        ),
        (
            "Instead of the shortest path it wants the quickest one, with maximum velocity "
            "{max_velocity}{acceleration_limit}."
        ),
    ),
    "undergrad": (
        "The cost is time-optimal: minimise total travel time subject to |v| ≤ {max_velocity}{acceleration_limit}.",
        "It poses a minimum-time problem with a velocity bound of {max_velocity}{acceleration_limit}.",
        (
            "`time_optimal` minimises the traversal time under the limit max_velocity = "
            "{max_velocity}{acceleration_limit}."
        ),
    ),
    "phd": (
        (
            "This is a minimum-time optimal control problem: minimise T = ∫ dt subject to ‖γ'‖ ≤ v_max = "
            "{max_velocity}{acceleration_limit}."
        ),
        (
            "The time-optimal cost yields a minimum-time problem with the velocity constraint v_max = "
            "{max_velocity}{acceleration_limit}."
        ),
        "The objective is the terminal time T, with control constraint ‖γ'(t)‖ ≤ {max_velocity}{acceleration_limit}.",
    ),
}
# {max_acceleration}: the acceleration limit.
ACCELERATION_LIMIT_CLAUSE = {
    "gcse": " and speeding up no faster than {max_acceleration}",
    "a_level": " and acceleration at most {max_acceleration}",
    "undergrad": " and |a| ≤ {max_acceleration}",
    "phd": " and ‖γ''‖ ≤ a_max = {max_acceleration}",
}
NO_ACCELERATION_LIMIT_SENTENCE = {
    "gcse": "There is no limit on how fast it can speed up.",
    "a_level": "No acceleration limit is given.",
    "undergrad": "No acceleration bound is set.",
    "phd": "No acceleration constraint is imposed.",
}

# {energy_weight}: the weight of the energy term.
ENERGY_OPTIMAL_COST_SENTENCES = {
    "gcse": (
        (
            "The path tries to use as little energy as possible (energy weight {energy_weight}), like a cyclist saving "
            "their legs."
        ),
        "It looks for the path that uses the least energy, with an energy weight of {energy_weight}.",
        "The cost says: save energy! The energy weight is {energy_weight}.",
    ),
    "a_level": (
        "The cost is energy-optimal: it minimises the energy used, with energy weight {energy_weight}.",
        '`type: "energy_optimal"` means the path minimises energy, scaled by an energy weight of {energy_weight}.',
        "Rather than length or time, it minimises energy (weight {energy_weight}).",
    ),
    "undergrad": (
        "The cost is energy-optimal: it minimises control energy, with energy_weight = {energy_weight}.",
        "It poses a minimum-energy problem with energy weight {energy_weight}.",
        "`energy_optimal` penalises control effort with weight {energy_weight}.",
    ),
    "phd": (
        (
            "The cost is the control energy ∫ |u|² dt, scaled by energy_weight = {energy_weight}: a minimum-energy "
            "optimal control problem."
        ),
        "The energy-optimal cost gives an L² control-effort functional with weight {energy_weight}.",
        "It minimises the control effort functional, weighted by {energy_weight}.",
    ),
}

FIELD_SENTENCES = {
    "gcse": (
        (
            "`navigation_field` puts everything together, like an invisible slope that pulls the path towards the goal "
            "and pushes it away from obstacles."
        ),
        "Then `navigation_field` combines it all, a bit like a map covered in arrows pointing the way.",
        "The navigation field is like a set of signposts all over the world pointing towards the goal.",
        "`navigation_field` builds a kind of invisible map that tells the robot which way to go from anywhere.",
    ),
    "a_level": (
        (
            "`navigation_field` combines the space, start, goal, obstacles and cost into a field of direction vectors "
            "pointing towards the goal."
        ),
        "The navigation field assigns a direction vector to every point, guiding motion towards the goal.",
        "`navigation_field(...)` packages the whole problem into one field object.",
        (
            "`navigation_field` turns the whole set-up into one object: a field of arrows that point along good "
            "directions."
        ),
    ),
    "undergrad": (
        "`navigation_field` bundles the planning problem: manifold, boundary conditions, obstacle set and cost.",
        "The navigation field is a vector field on the configuration space whose integral curves lead to the goal.",
        "`navigation_field(...)` builds the field that encodes the cost and the obstacles.",
        "`navigation_field` assembles the query: the space, both endpoints, the obstacles and the objective.",
    ),
    "phd": (
        (
            "`navigation_field(...)` encodes the full optimal control problem: the manifold, boundary conditions, "
            "state constraints and running cost."
        ),
        "The navigation field plays the role of a value-function gradient on M, steering towards the goal.",
        "The field object encodes the problem data; its integral curves approximate optimal trajectories.",
        (
            "`navigation_field(...)` packages the problem data into a field whose flow lines approximate optimal "
            "trajectories."
        ),
    ),
}

PATH_COMPUTED_SENTENCES = {
    "gcse": (
        "Then `compute_optimal_path` works out the best path.",
        "After that, `compute_optimal_path` finds the best route.",
        "The line with `compute_optimal_path` asks the computer to find the best way through.",
        "Next, the computer works out the best route using `compute_optimal_path`.",
    ),
    "a_level": (
        "`compute_optimal_path` then finds the path that minimises the cost.",
        "Next, `compute_optimal_path` calculates the optimal path.",
        "The optimal path, the one with the lowest total cost, comes from `compute_optimal_path`.",
        "Calling `compute_optimal_path` solves the problem and returns the best path.",
    ),
    "undergrad": (
        "`compute_optimal_path` solves for the optimal path in the free space.",
        "The planner then computes the optimal path with `compute_optimal_path`.",
        "`compute_optimal_path` runs the planner and returns a cost-minimising path.",
        "The query is answered by `compute_optimal_path`, which returns the optimal path.",
    ),
    "phd": (
        "`compute_optimal_path` solves the resulting optimal control problem numerically.",
        "`compute_optimal_path` returns a minimiser (in practice a numerical approximation).",
        "A minimising trajectory is then obtained from `compute_optimal_path`.",
        "`compute_optimal_path` computes an (approximately) optimal trajectory for this problem.",
    ),
}
# The path is computed and then drawn, or not drawn, or not computed at all: the same words at every level.
PATH_DRAWN_SENTENCES = (
    "Finally, `visualize` draws the path so you can see it.",
    "Last of all, `visualize` plots the path.",
    "`visualize` then shows the path on screen.",
    "At the end, the path is drawn with `visualize`.",
)
PATH_NOT_DRAWN_SENTENCES = (
    "The path is not visualised: there is no `visualize` call.",
    "Nothing is drawn, since the program never calls `visualize`.",
    "It does not plot the result.",
)
PATH_NOT_COMPUTED_SENTENCES = (
    (
        "Note that it only builds the field: it never calls `compute_optimal_path`, so no path is computed and nothing "
        "is drawn."
    ),
    "The program stops after defining the field, so no path is computed and nothing is plotted.",
    "No path is computed here (there is no `compute_optimal_path` call), and nothing is visualised.",
)

# An empty opener means the explanation starts straight away.
OPENING_SENTENCES = {
    "gcse": (
        "Here's what this code does, step by step.",
        "Let's go through it in plain words.",
        "This code is like giving directions to a robot.",
        "This program plans a route.",
    ),
    "a_level": (
        "This program sets up a path-planning problem.",
        "Here is what the code does.",
        "The code describes a navigation problem geometrically.",
        "",
    ),
    "undergrad": (
        "This program specifies a motion-planning problem.",
        "The code defines a path-planning query.",
        "Here is a walk-through of the program.",
        "",
    ),
    "phd": (
        "The program states an optimal path-planning problem on a manifold.",
        "In short, this is a constrained optimal control problem.",
        "The code formulates a navigation problem as follows.",
        "",
    ),
}

# One of these closes the body of about half the explanations.
OPTIONAL_REMARKS = {
    "gcse": (
        "It's a bit like a sat-nav working out a route.",
        "You can change the numbers to try different trips.",
        "The computer does all the hard maths for you.",
        "Robots use ideas like this to get around safely.",
    ),
    "a_level": (
        "Changing any coordinate changes the geometry of the problem and so the path.",
        "You could check by hand that the start and goal lie outside every obstacle.",
        "The cost decides what 'best' means, so two costs can give two different paths.",
    ),
    "undergrad": (
        "Changing the cost changes which path is optimal even when the start and goal stay the same.",
        "Start and goal must be valid configurations outside every obstacle, which the checker verifies.",
        "The same program structure works on any of NAVA's manifolds; only the points and obstacles change type.",
    ),
    "phd": (
        (
            "Because obstacles make the feasible set non-convex, a numerical solver may return a local rather than a "
            "global minimiser."
        ),
        "The formulation is coordinate-free; the angles are only a chart on the rotational part.",
        "Existence of minimisers follows from compactness arguments on the closed feasible set for these costs.",
    ),
}

# {avoidance}: one of AVOIDANCE_PHRASES, or nothing when there are no obstacles.
SUMMARY_SENTENCES = {
    "gcse": (
        "So, in short: it finds a route from {start} to {goal}{avoidance}.",
        "In one sentence: it plans a safe path from {start} to {goal}{avoidance}.",
    ),
    "a_level": (
        "In summary, it computes an optimal path from {start} to {goal}{avoidance}.",
        "Overall, the program asks for the best path from {start} to {goal}{avoidance}.",
    ),
    "undergrad": (
        "In summary: an optimal path query from {start} to {goal}{avoidance}.",
        "Overall, it is a standard planning query from {start} to {goal}{avoidance}.",
    ),
    "phd": (
        "In summary, a boundary value problem from {start} to {goal}{avoidance}.",
        "Altogether: an optimal control problem between {start} and {goal}{avoidance}.",
    ),
}
# {obstacle_count}: the number of obstacles with its noun, in digits ("1 obstacle", "3 obstacles").
AVOIDANCE_PHRASES = (" while avoiding the obstacles", " around the obstacles", " around {obstacle_count}")

# The instruction of a code_to_explanation example, and what it may add to ask for one part first.
EXPLANATION_REQUESTS = {
    "gcse": (
        "Explain this NAVA code in simple GCSE-level language.",
        "I'm doing GCSE maths. What does this NAVA program do?",
        "Explain this program to a 15-year-old.",
        "Can you explain this NAVA code simply, with no jargon?",
        "Explain this NAVA code for a GCSE student.",
    ),
    "a_level": (
        "Explain what this NAVA code does for an A-level student.",
        "I'm an A-level student: can you explain this NAVA program, including the geometry?",
        "Explain this code at A-level, mentioning vectors where it helps.",
        "Walk an A-level student through this NAVA program.",
    ),
    "undergrad": (
        "Explain this NAVA program to an undergraduate robotics student.",
        "Explain this code at undergraduate level: configuration space, metric and cost.",
        "What does this NAVA program do? I'm an undergrad in a motion planning course.",
        "Give an undergraduate-level explanation of this NAVA code.",
    ),
    "phd": (
        "Explain this code to a robotics PhD student.",
        "Explain this NAVA program at research level: manifold structure, cost functional and what is optimised.",
        "For a PhD audience, explain what this NAVA code formulates.",
        "Give a technical explanation of this NAVA program for a PhD student.",
    ),
}
FOCUS_SUFFIXES = {
    None: "",
    "obstacles": " Focus on the obstacles.",
    "cost": " Focus on the cost function.",
    "manifold": " Focus on the manifold.",
}
