"""nava-instruct: a reproducible pipeline that turns a local instruction model into a NAVA copilot."""

__version__ = "0.1.0"
