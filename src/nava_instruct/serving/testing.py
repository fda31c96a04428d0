"""A ``nava-instruct serve`` in a subprocess, for tests and benchmarks; the server never imports this module."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from nava_instruct.serving import API_KEY_ENV
from nava_instruct.serving.client import ClientError, NavaClient


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def running(model: str | Path, *args: str, api_key: str | None = None, startup_timeout: float = 60.0) -> Iterator[str]:
    """Run ``nava-instruct serve`` for ``model`` on a free loopback port; yield its URL; stop it by PID.

    ``args`` are more command-line options (``"--grammar", "nava"``); the API key travels in the
    environment, not on the command line.
    """
    port = free_port()
    env = {key: value for key, value in os.environ.items() if key != API_KEY_ENV} | (
        {API_KEY_ENV: api_key} if api_key else {}
    )
    command = [
        sys.executable,
        "-m",
        "nava_instruct.cli",
        "serve",
        "--model",
        str(model),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        *args,
    ]
    with tempfile.TemporaryFile() as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, env=env)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + startup_timeout
            while True:
                try:
                    NavaClient(url, timeout=1).health()
                    break
                except ClientError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        output.seek(0)
                        tail = output.read().decode(errors="replace")[-2000:]
                        raise RuntimeError(f"server did not start (exit code {process.poll()}):\n{tail}") from None
                    time.sleep(0.1)
            yield url
        finally:
            if process.poll() is None:
                os.kill(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.kill(process.pid, signal.SIGKILL)
                    process.wait()
