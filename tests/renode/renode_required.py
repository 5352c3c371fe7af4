"""Renode for the tests here: a test that needs Renode skips with one line where there is none, and fails under CI
(CI=true), where scripts/setup --test gives the Renode beside the checkout (../shared/renode-1.16.1) what it needs."""
from __future__ import annotations

import os

import pytest

from mt3620.engine.renode import runtime


def renode_missing(reason: str):
    """Skip the test, or fail it under CI=true: there a Renode is expected and a missing one is a broken set-up."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI expects Renode: {reason}", pytrace=False)
    pytest.skip(reason)


def renode_runtime() -> runtime.Runtime:
    """The Renode to test with (mt3620.engine.renode.runtime.find), or a skip / CI failure saying why not."""
    found = runtime.find()
    if found is None:
        renode_missing(runtime.absent_reason())
    return found
