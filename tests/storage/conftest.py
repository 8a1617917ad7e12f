"""One fixture, ``store``, that runs each interface test against every
implementation (memory, SQLite, and PostgreSQL on the test run's throwaway
cluster, see `tests.postgresql`); ``stores`` makes more of the same kind
and reopens."""

import pytest

from tests.storage.helpers import Stores

KINDS = ["memory", "sqlite", "postgresql"]


def databases(request, kind=None):
    """A maker of fresh PostgreSQL databases, for the ``postgresql`` kind."""
    if (kind or request.param) != "postgresql":
        return None
    return request.getfixturevalue("postgresql").database


@pytest.fixture(params=KINDS)
def stores(request, tmp_path):
    made = Stores(request.param, tmp_path, databases(request))
    yield made
    made.close_all()


@pytest.fixture
def store(stores):
    return stores.open()
