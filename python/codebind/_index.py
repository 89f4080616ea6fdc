"""The compressed code index (``codebind index``) from Python."""
from __future__ import annotations

import os
from typing import List, Optional, Sequence

from . import _codebind
from ._model import Model, _tty


class Index:
    """Items' CodeBind codes (about 165 B per item at full size), searched by cosine on the
    decoded codes. Build it from a run and a dataset, or open a ``.cbx`` file."""

    def __init__(self, native) -> None:
        self._ix = native

    @classmethod
    def build(cls, model: Model, data: str) -> "Index":
        """Every item of every split of the dataset at ``data``, through ``model``."""
        return cls(_codebind._build_index(model._native, os.fspath(data), _tty()))

    @classmethod
    def load(cls, path: str) -> "Index":
        return cls(_codebind._Index.open(os.fspath(path)))

    def save(self, path: str) -> None:
        self._ix.save(os.fspath(path))

    def add(self, other: "Index") -> None:
        """Appends ``other``'s items (built with the same model's codebooks)."""
        self._ix.merge(other._ix)

    def remove(self, ids: Sequence[str]) -> int:
        return self._ix.remove(list(ids))

    def __len__(self) -> int:
        return len(self._ix)

    def search(self, model: Model, text: Optional[Sequence[str]] = None, modality: Optional[str] = None,
               files: Optional[Sequence[str]] = None, k: int = 10, mode: str = "shared",
               rerank: int = 0) -> List[List[dict]]:
        """Top-``k`` items per query: texts (``text=[...]``) or files of a modality
        (``modality=..., files=[...]``), embedded by ``model`` (the run that built the index).
        Each hit: ``{"id", "score", "modality", "source", "row"}``, best first."""
        if (text is None) == (files is None):
            raise _codebind.InputError("search: give text=[...] or modality=... with files=[...]")
        if text is not None:
            return _codebind._search(self._ix, model._native, "text", list(text), k, mode, rerank)
        if not modality:
            raise _codebind.InputError("search: files need modality=...")
        return _codebind._search(self._ix, model._native, modality, [os.fspath(f) for f in files], k, mode, rerank)
