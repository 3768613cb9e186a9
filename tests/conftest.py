"""Shared fixtures: data sets of known intrinsic dimension (built in reference_data.py)."""

import pytest
from reference_data import hypercube


@pytest.fixture(scope="session")
def cube10():
    return hypercube(2000, 10)
