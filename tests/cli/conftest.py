"""Fixtures for the CLI tests: the in-process runner."""

from __future__ import annotations

import pytest

from tests.cli.runner import Cli


@pytest.fixture(scope="session")
def cli() -> Cli:
    return Cli()
