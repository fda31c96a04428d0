"""What stage ``evaluate`` makes of its graded samples: the metrics (``metrics``) and their charts (``plots``).

They live apart from the stage module, which gets the answers and grades them, so that it reads top
to bottom as the stage; only that stage uses them.
"""
