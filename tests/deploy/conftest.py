"""The deployment's files checked offline: the image's Dockerfile, the Kubernetes manifests, the compose file.

The tools (hadolint, kustomize, kubernetes-validate) are installed by deploy/test.sh; under CI=true a
missing tool fails a test, never skips it.
"""
from __future__ import annotations

import os
import shutil
import sysconfig
from pathlib import Path

import pytest

from tests.conftest import IN_CI

ROOT = Path(__file__).resolve().parents[2]


def tool(name: str, hint: str) -> str:
    """The path of a command-line tool: beside this Python's scripts first (a pip-installed binary), then PATH."""
    beside = Path(sysconfig.get_path("scripts")) / name
    found = str(beside) if beside.is_file() and os.access(beside, os.X_OK) else shutil.which(name)
    if found:
        return found
    if IN_CI:
        pytest.fail(f"{name} is not installed, and CI=true forbids skipping ({hint})")
    pytest.skip(f"{name} is not installed ({hint})")
