"""A trained CodeBind run as a Python object: embeddings and codes of files, texts or tensors."""
from __future__ import annotations

import os
import sys
from typing import Dict, Sequence, Union

import torch

from . import _codebind


def _tty() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


class Model:
    """The model of a ``codebind train`` run (``RUN`` or ``RUN/model.safetensors``).

    ``dtype`` is the type of the encoder's forwards: ``"auto"`` (bf16 on CPUs with
    AVX512-BF16 for towers at least 512 wide, fp32 elsewhere), ``"fp32"`` or ``"bf16"``.
    """

    def __init__(self, run: str, device: str = "cpu", dtype: str = "auto") -> None:
        if device != "cpu":
            raise _codebind.InputError(f"codebind.load: device '{device}': only cpu so far")
        self._native = _codebind._Model(os.fspath(run), dtype)

    @property
    def run_dir(self) -> str:
        return self._native.run_dir

    @property
    def modalities(self) -> list:
        """The run's modalities (its modality pair), e.g. ``['text', 'vision', 'audio']``."""
        return self._native.modalities

    @property
    def dtype(self) -> str:
        return self._native.dtype

    def embed(self, modality: str, inputs: Union[Sequence[str], torch.Tensor], batch: int = 16) -> Dict[str, torch.Tensor]:
        """Embeddings and codes, CLS token, exactly as ``codebind embed --run`` and evaluation compute them.

        ``inputs``: file paths (read through the run's preprocessing), texts when
        ``modality == "text"``, or a tensor (or numpy array) already shaped as the tower's input
        batch. A progress bar is drawn on stderr when it is a terminal.
        Returns a dict of tensors with one row per input: ``shared`` (z_c, normalised),
        ``specific`` (z_s), ``z`` (both halves), ``shared_codes`` / ``specific_codes`` (int64
        code indices), ``raw`` / ``shared_raw`` / ``specific_raw`` (before quantisation).
        Keys a modality lacks (text has no specific half) are absent.
        """
        if isinstance(inputs, torch.Tensor):
            return self._native.embed_tensor(modality, inputs)
        if hasattr(inputs, "__array_interface__"):  # a numpy array: the same memory as a tensor
            return self._native.embed_tensor(modality, torch.from_numpy(inputs))
        if isinstance(inputs, (str, os.PathLike)):
            raise _codebind.InputError("embed: inputs must be a list of paths or texts (got a single string)")
        return self._native.embed_inputs(modality, [os.fspath(x) for x in inputs], batch, _tty())

    def load_inputs(self, modality: str, paths: Sequence[str]) -> torch.Tensor:
        """The tower's input batch for these files (the trainer's readers and preprocessing)."""
        return self._native.load_inputs(modality, [os.fspath(p) for p in paths])

    def tokenize(self, texts: Sequence[str]) -> torch.Tensor:
        """Token ids (n, 77) int64 of texts, as the text tower takes them."""
        return self._native.tokenize(list(texts))

    def __repr__(self) -> str:
        return f"codebind.Model({self.run_dir!r}, modalities={self.modalities}, dtype={self.dtype!r})"


def load(run_or_checkpoint: str, device: str = "cpu", dtype: str = "auto") -> Model:
    """Loads a ``codebind train`` run (its directory or its ``model.safetensors``)."""
    return Model(run_or_checkpoint, device=device, dtype=dtype)
