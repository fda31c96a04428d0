"""Reading a request in English: what it states, so that the model never has to compute a number.

``quantities`` finds the angles a request states in units NAVA does not use (degrees, fractions and
multiples of pi, turns) and annotates each with its exact value in radians; the generator, training,
evaluation and the server all show the model a request through it. ``claims`` reads what a request
states about the program it wants (numbers, obstacles, comments, manifold), which the checker loop
holds every candidate against.
"""
