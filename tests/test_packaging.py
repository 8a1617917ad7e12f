"""A plain ``pip install .`` ships the twistd plugin, and generated files stay out of git."""

import pathlib
import shutil
import subprocess
import sys

ROOT = pathlib.Path(__file__).parent.parent


def test_plain_install_makes_twistd_list_muc(tmp_path):
    # Build from a clean copy: setuptools reuses a stale build/ directory.
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        "build", "*.egg-info", ".venv", ".git", "_trial_temp*", "__pycache__", ".pytest_cache",
        ".try-it", ".hypothesis"))
    # A new environment with nothing in it, as a user's: pip brings the
    # dependencies (from its cache when it has them).
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    subprocess.run([python, "-m", "pip", "install", "-q", str(source)], check=True, cwd=tmp_path)
    site = subprocess.run(
        [python, "-c",
         "import mucsvc, twisted.plugins.mucsvc_plugin as p; print(mucsvc.__file__); print(p.__file__)"],
        check=True, capture_output=True, text=True, cwd=tmp_path).stdout.split()
    assert all(str(venv) in path for path in site), site
    twistd = "import sys; sys.argv[0] = 'twistd'; from twisted.scripts.twistd import run; run()"
    help_text = subprocess.run([python, "-c", twistd, "--help"],
                               check=True, capture_output=True, text=True, cwd=tmp_path).stdout
    assert any(line.split()[:1] == ["muc"] for line in help_text.splitlines()), help_text


def test_generated_plugin_cache_is_ignored():
    result = subprocess.run(["git", "check-ignore", "twisted/plugins/dropin.cache"],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0
