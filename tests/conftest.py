"""Shared by every test module.

Importing mucsvc first installs the compatibility names wokkel needs (see
mucsvc.wokkel_compat) before any test module imports wokkel.
"""

import pytest

import mucsvc  # noqa: F401


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed test's report gets the log tails of the servers it used:
    every fixture value that is a running Prosody or service (anything with
    ``log_tail``), each once, with a service's own Prosody too."""
    outcome = yield
    report = outcome.get_result()
    if not report.failed:
        return
    servers = {}
    for value in getattr(item, "funcargs", {}).values():
        for server in (value, getattr(value, "prosody", None)):
            if callable(getattr(server, "log_tail", None)) and hasattr(server, "workdir"):
                servers.setdefault(id(server), server)
    for server in servers.values():
        report.sections.append((f"log tail of {type(server).__name__} in {server.workdir}",
                                server.log_tail()))


@pytest.fixture(scope="session")
def postgresql():
    """One throwaway PostgreSQL cluster for the whole test run
    (`tests.postgresql`); ``postgresql.database()`` gives a fresh database."""
    from tests.postgresql import PostgresCluster
    cluster = PostgresCluster()
    yield cluster
    cluster.destroy()
