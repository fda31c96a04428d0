"""Shared test fixtures: paths to the repository and to the shared NAVA corpus beside it."""

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
EXTERNAL = REPO.parent / "shared" / "external"


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
