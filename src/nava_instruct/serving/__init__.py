"""The OpenAI-compatible server (``serve``), its standard-library client (``client``), and ``testing``,
which runs the server in a subprocess for tests and benchmarks.

This package module imports nothing: ``cli`` reads ``API_KEY_ENV`` from it on every command.
"""

API_KEY_ENV = "NAVA_INSTRUCT_API_KEY"  # the server's API key, when not given with --api-key
