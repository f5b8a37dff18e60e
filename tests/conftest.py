"""Shared fixtures: an isolated sflow home for every test, the built-in template library."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory, monkeypatch):
    """No test writes to the real ~/.local/share/sflow."""
    if "SFLOW_HOME" not in os.environ:
        monkeypatch.setenv("SFLOW_HOME", str(tmp_path_factory.mktemp("sflow-home")))


@pytest.fixture(scope="session")
def library():
    from sflow.flow.templates import system_library

    return system_library()
