"""Shared fixtures of the Python suite: the codebind executable, the golden fixtures, and one
tiny trained run (sensor-suite data + a tiny bridge + one CodeBind epoch) made once per session
with the CLI, so every test compares the package with the command line on the same run."""
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD = (ROOT / os.environ.get("CODEBIND_BUILD", "build/ci")).resolve()
EXE = BUILD / "codebind"
FIXTURES = Path(os.environ.get("CODEBIND_FIXTURES", ROOT.parent / "shared" / "fixtures")).resolve()


def run_cli(*args, check=True):
    p = subprocess.run([str(EXE), *map(str, args)], capture_output=True, text=True)
    if check and p.returncode != 0:
        raise AssertionError(f"codebind {' '.join(map(str, args))} -> {p.returncode}\n{p.stdout}\n{p.stderr}")
    return p


@pytest.fixture(scope="session")
def fixtures():
    if not FIXTURES.is_dir():
        pytest.skip(f"fixtures not found at {FIXTURES}")
    return FIXTURES


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """(data dir, run dir) of a one-epoch CodeBind run on the tiny test configs."""
    root = tmp_path_factory.mktemp("tiny")
    data, bridge, run = root / "data", root / "bridge", root / "run"
    run_cli("data", "sensor-suite", "--out", data, "--size", "small", "--seed", "1")
    run_cli("pretrain", "--config", ROOT / "configs" / "pretrain_tiny_test.json", "--data", data, "--out", bridge,
            "--quiet")
    run_cli("train", "--config", ROOT / "configs" / "codebind_tiny_test.json", "--data", data, "--out", run,
            "--bridge", bridge, "--quiet")
    return data, run
