"""The Renode fixture of the tests here (renode_required.py: skip without Renode, fail under CI=true)."""
import pytest

import renode_required


@pytest.fixture(scope="session")
def renode_runtime():
    return renode_required.renode_runtime()
