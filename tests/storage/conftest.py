"""One fixture, ``store``, that runs each interface test against both
implementations; ``stores`` makes more of the same kind and reopens."""

import pytest

from tests.storage.helpers import Stores


@pytest.fixture(params=["memory", "sqlite"])
def stores(request, tmp_path):
    made = Stores(request.param, tmp_path)
    yield made
    made.close_all()


@pytest.fixture
def store(stores):
    return stores.open()
