"""Datasets in codebind's manifest format (``dataset.json`` + ``items.jsonl``)."""
from __future__ import annotations

import os
from typing import Iterator, List, Optional, Tuple

import torch

from . import _codebind


def read_manifest(data: str) -> dict:
    """The validated manifest: ``{"classes": [...], "items": [{"id", "modality", "split",
    "labels", "group", "file", "text", "attrs"}, ...]}`` (InputError naming the bad line)."""
    return _codebind._read_manifest(os.fspath(data))


def items(data: str, modality: Optional[str] = None, split: Optional[str] = None) -> List[dict]:
    """The manifest's items, optionally of one modality and split."""
    return [it for it in read_manifest(data)["items"]
            if (modality is None or it["modality"] == modality) and (split is None or it["split"] == split)]


def iterate(data: str, model, modality: str, split: Optional[str] = None,
            batch: int = 16) -> Iterator[Tuple[List[dict], torch.Tensor]]:
    """(items, input batch) pairs of one modality, read and preprocessed as ``model``'s
    trainer reads them (text: token ids)."""
    sel = items(data, modality, split)
    for i in range(0, len(sel), batch):
        chunk = sel[i:i + batch]
        if modality == "text":
            yield chunk, model.tokenize([it["text"] for it in chunk])
        else:
            yield chunk, model.load_inputs(modality, [it["file"] for it in chunk])
