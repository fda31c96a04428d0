"""Word banks for requests in users' words (``synth.user_requests``), kept as data.

Fields in braces are filled in by ``user_requests``: ``{radius}``, ``{velocity}``, ``{acceleration}``,
``{weight}`` and ``{weights}`` with the problem's exact values.
"""

# What a user calls an obstacle, by the obstacle kind the program writes. A word may stand for
# several kinds (a boulder is a disc on the plane and a ball in 3D): the manifold decides which.
WORLD_OBJECTS = {
    "disc": ("pillar", "lake", "pond", "tree", "no-fly zone", "boulder", "crater", "fountain", "roundabout"),
    "rectangle": ("building", "wall", "table", "parked truck", "no-fly zone", "shelf", "flower bed"),
    "ball": ("balloon", "boulder", "spherical tank", "no-fly zone", "buoy", "hovering drone"),
    "box": ("building", "crate", "shipping container", "wall", "no-fly zone", "storage rack", "pallet stack"),
    "cap": ("lake", "crater", "storm", "no-fly zone", "ice cap", "island", "restricted area"),
    "arc": ("blocked stretch of track", "closed section", "roadworks", "no-go sector", "dead zone", "landslide"),
}
# The kind's own short name, as a terse request writes it.
KIND_NAMES = {
    "disc": ("disc",),
    "rectangle": ("rect", "rectangle"),
    "ball": ("ball", "sphere"),
    "box": ("box",),
    "cap": ("cap",),
    "arc": ("arc",),
}

# The manifold in a user's words; a radius left out of the S1 and S2 words means the default 1.0.
# An obstacle with every parameter, by its shape ("round": a disc or ball, "box": a rectangle or box).
OBSTACLES = {
    "arc": (
        "a {word} from {start} to {end} (going anticlockwise)",
        "a {word} covering {start} counter-clockwise to {end}",
    ),
    "cap": (
        "{article} {word} around {center} with an angular radius of {angle}",
        "{article} {word} covering everything within {angle} of {center}",
    ),
    "round": (
        "{article} {word} of radius {radius} at {center}",
        "{article} {word} {centred} at {center}, radius {radius}",
    ),
    "box": ("{article} {word} from {low} to {high}", "{article} {word} with corners {low} and {high}"),
}
TERSE_OBSTACLES = {
    "arc": ("{word} {start}..{end}", "{word} from {start} to {end} ccw"),
    "cap": ("{word} at {center} angle {angle}", "{word} {center}, angular radius {angle}"),
    "round": ("{word} r={radius} at {center}", "{word} at {center} r={radius}"),
    "box": ("{word} {low}-{high}", "{word} from {low} to {high}"),
}
SETTINGS = {
    "R2": ("the plane", "a flat 2D plane", "a 2D map", "a flat 2D floor"),
    "R3": ("3D space", "open 3D space", "ordinary 3D space"),
    "S1": ("a circle of radius {radius}", "a circular track of radius {radius}", "a ring of radius {radius}"),
    "S2": ("a sphere of radius {radius}", "a globe of radius {radius}", "a planet of radius {radius}"),
    "SE2": ("SE(2) (poses x, y, heading)", "the plane with a heading (SE2)", "SE(2), like a car-like robot"),
    "SE3": ("SE(3) (full 3D poses)", "3D poses with roll, pitch and yaw (SE3)", "SE(3), position plus orientation"),
}
DEFAULT_RADIUS_SETTINGS = {
    "S1": ("a circle", "a circular track", "a ring", "the unit circle"),
    "S2": ("a sphere", "a globe", "the unit sphere"),
}
TERSE_SETTINGS = {
    "R2": ("plane", "2D", "R2"),
    "R3": ("3D", "R3", "3d space"),
    "S1": ("circle r={radius}", "S1 r={radius}", "circle radius {radius}"),
    "S2": ("sphere r={radius}", "S2 r={radius}", "sphere radius {radius}"),
    "SE2": ("SE2", "se(2)", "SE(2) poses"),
    "SE3": ("SE3", "se(3)", "SE(3) poses"),
}
TERSE_DEFAULT_RADIUS_SETTINGS = {"S1": ("circle", "S1", "unit circle"), "S2": ("sphere", "S2", "unit sphere")}

# Costs described by what they do. A geodesic cost may also go unsaid: it is the default.
COSTS = {
    "geodesic": ("take the shortest route", "keep the path as short as possible", "go the shortest way"),
    "time_optimal": (
        "get there as fast as possible, top speed {velocity}",
        "be as quick as possible with a speed limit of {velocity}",
        "minimise travel time, never going faster than {velocity}",
    ),
    "energy_optimal": ("use as little energy as possible", "save as much energy as it can", "minimise energy use"),
    "weighted": ("keep it smooth and penalise {weights}", "penalise {weights}", "use a weighted cost: {weights}"),
}
ACCELERATIONS = (", accelerating at most {acceleration}", " and a max acceleration of {acceleration}")
ENERGY_WEIGHTS = (" (energy weight {weight})", ", with the energy weighted {weight}")
TERSE_COSTS = {
    "geodesic": ("shortest", "shortest path"),
    "time_optimal": ("fastest, vmax {velocity}", "min time, top speed {velocity}"),
    "energy_optimal": ("min energy", "least energy"),
    "weighted": ("weights {weights}", "penalise {weights}"),
}
TERSE_ACCELERATIONS = (", amax {acceleration}", ", max accel {acceleration}")
TERSE_ENERGY_WEIGHTS = (" (weight {weight})", ", energy weight {weight}")
WEIGHT_TERMS = {
    "length_weight": ("length", "distance"),
    "curvature_weight": ("curvature", "sharp turns"),
    "jerk_weight": ("jerk", "jerkiness"),
    "energy_weight": ("energy", "effort"),
}

# The rest of a request: who moves, how a user opens, asks, and (maybe) mentions the plot.
MOVERS = ("my robot", "a rover", "an agent", "a little robot", "a drone", "my vehicle")
GREETINGS = ("Hi!", "Hello there.", "Hey,", "Hi all,", "Quick question.", "Morning!")
ASKS = (
    "Could you write the NAVA program for this?",
    "Can you give me the NAVA code?",
    "What would the NAVA look like?",
    "Please write it in NAVA.",
)
THANKS = ("Thanks!", "Thanks a lot.", "Cheers!", "Much appreciated.", "")
TERSE_PREFIXES = ("", "nava: ", "NAVA, ", "nava code: ", "NAVA pls: ")
PLOTS = ("plot it", "show me the route", "draw the path at the end", "visualise the result")
TERSE_PLOTS = ("plot", "plot it", "show path")
