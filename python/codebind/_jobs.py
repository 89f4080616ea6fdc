"""Training and evaluation runs, as ``codebind train`` and ``codebind eval`` run them."""
from __future__ import annotations

import os

from . import _codebind


def train(config: str, data: str, out: str, bridge: str, force: bool = False, resume: bool = False,
          dtype: str = "auto", quiet: bool = True) -> str:
    """Trains CodeBind (config JSON, dataset directory, run directory, bridge run or weight
    file); returns the path of the written ``model.safetensors``. One process."""
    return _codebind._train(os.fspath(config), os.fspath(data), os.fspath(out), os.fspath(bridge), force, resume,
                            dtype, quiet)


def evaluate(run: str, data: str, split: str = "test", dtype: str = "auto") -> dict:
    """Evaluates a run on a split (zero-shot, retrieval, probes, codebook statistics); writes
    ``RUN/metrics.json`` as ``codebind eval`` does and returns the metrics as a dict."""
    return _codebind._evaluate(os.fspath(run), os.fspath(data), split, dtype)
