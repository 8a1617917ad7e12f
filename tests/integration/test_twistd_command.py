"""``twistd muc`` as a command: found by twistd, and refusing bad configs plainly.

A configuration mistake must stop the process with one line that names the
key, not with a traceback: that line is all an administrator reads in a
failed systemd unit. None of this needs a running Prosody.
"""

import re

import pytest

from tests.integration.muc_process import MucProcess
from tests.integration.prosody import ProsodyServer


@pytest.fixture
def host(tmp_path):
    """A Prosody that is configured but never started: only its settings are used."""
    return ProsodyServer(tmp_path / "prosody")


def refusal_lines(result):
    output = result.stdout + result.stderr
    lines = [line for line in output.splitlines() if line.strip()]
    shown = f"exit status {result.returncode}\n--- stdout ---\n{result.stdout}--- stderr ---\n{result.stderr}"
    return lines, output, shown


def test_a_misspelt_key_is_refused_in_one_line_naming_it(host, tmp_path):
    service = MucProcess(tmp_path / "muc", host, jid=None, jidd="muc.localhost")

    result = service.run_until_exit()

    lines, output, shown = refusal_lines(result)
    assert result.returncode != 0, shown
    assert "Traceback" not in output, shown
    assert len(lines) == 1, shown
    assert "jidd" in lines[0], shown


def test_a_missing_component_secret_is_refused_in_one_line_naming_it(host, tmp_path):
    service = MucProcess(tmp_path / "muc", host, component_secret=None)

    result = service.run_until_exit()

    lines, output, shown = refusal_lines(result)
    assert result.returncode != 0, shown
    assert "Traceback" not in output, shown
    assert len(lines) == 1, shown
    assert "component_secret" in lines[0], shown


def test_twistd_lists_the_muc_command(host, tmp_path):
    result = MucProcess(tmp_path / "muc", host).run_until_exit("--help")

    assert result.returncode == 0, result.stderr
    assert re.search(r"^\s+muc\s", result.stdout, re.MULTILINE), result.stdout


def test_the_muc_command_documents_its_config_option(host, tmp_path):
    result = MucProcess(tmp_path / "muc", host).run_until_exit("muc", "--help")

    assert result.returncode == 0, result.stderr
    assert "--config" in result.stdout, result.stdout
