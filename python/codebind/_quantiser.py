"""CodeBind's multimodal quantiser as a torch.nn.Module (the C++ kernels behind it)."""
from __future__ import annotations

import json
from typing import NamedTuple, Optional, Sequence

import torch

from . import _codebind

_SNAPSHOTS = ("initted", "rng")  # state the C++ side keeps outside the tensors it hands out


class QuantiserOutput(NamedTuple):
    z_c: torch.Tensor                           # (P…, d_c) normalised quantised shared half
    z_s: Optional[torch.Tensor]                 # (P…, d_s) specific half (None for text)
    z: torch.Tensor                             # (P…, d_c + d_s) both, normalised
    commit: torch.Tensor                        # () commitment loss (shared + specific)
    shared_indices: Optional[torch.Tensor]      # (P…, d_c / c) int64
    specific_indices: Optional[torch.Tensor]    # (P…, d_s / c) int64


class MultimodalQuantiser(torch.nn.Module):
    """One shared codebook (``shared_codebook_size`` × ``codevector_dim``) for every modality's
    shared half and one specific codebook per modality for its specific half, chunk by chunk.

    ``forward(x, modality)`` takes (P…, d_c + d_s) embeddings (text: (P…, d_c)) and returns a
    :class:`QuantiserOutput`. The quantised outputs pass gradients straight through to ``x``;
    ``commit`` has the commitment gradient. In training mode the call also updates the
    codebooks (EMA, k-means initialisation on the first batch, dead-code re-seeding).
    The codebooks' state tensors are this module's buffers and share memory with the C++
    quantiser (a training call that replaces a codebook tensor re-points the buffer, so hold
    the module, not a buffer), and ``state_dict()`` / ``load_state_dict()`` round-trip it.
    """

    def __init__(self, modalities: Sequence[str] = ("vision", "audio"), shared_width: int = 1024,
                 specific_width: int = 1024, shared_codebook_size: int = 1024, specific_codebook_size: int = 256,
                 codevector_dim: int = 8, decay: float = 0.99, beta: float = 0.25, kmeans_iters: int = 10,
                 reseed: bool = True, seed: int = 0) -> None:
        super().__init__()
        settings = dict(shared_codebook_size=shared_codebook_size, specific_codebook_size=specific_codebook_size,
                        codevector_dim=codevector_dim, decay=decay, beta=beta, kmeans_iters=kmeans_iters,
                        reseed=reseed)
        self._q = _codebind._Quantiser(json.dumps(settings), shared_width, specific_width, list(modalities), seed)
        self._names = {}
        for name, t in self._q.state().items():
            key = name.replace(".", "__")
            self._names[key] = name
            self.register_buffer(key, t, persistent=True)

    def forward(self, x: torch.Tensor, modality: str, tokens_per_sample: int = 1) -> QuantiserOutput:
        o = self._q.forward(x, modality, self.training, tokens_per_sample)
        if self.training:
            self._rebind()
        return QuantiserOutput(o["z_c"], o.get("z_s"), o["z"], o["commit"], o.get("shared_indices"),
                               o.get("specific_indices"))

    def _rebind(self) -> None:
        # A training call may give a codebook a new tensor (k-means initialisation, the EMA
        # quotient, re-seeding): point the buffers at the live ones again (no copy).
        state = self._q.state()
        for key, name in self._names.items():
            if name.rsplit(".", 1)[-1] not in _SNAPSHOTS and getattr(self, key).data_ptr() != state[name].data_ptr():
                self._buffers[key] = state[name]

    @torch.no_grad()
    def encode(self, x: torch.Tensor, modality: str):
        """Eval-mode codes only: (shared (P…, m_c), specific (P…, m_s) or None)."""
        return self._q.encode(x, modality)

    def _refresh_snapshots(self) -> None:
        state = self._q.state()
        for key, name in self._names.items():
            if name.rsplit(".", 1)[-1] in _SNAPSHOTS:
                getattr(self, key).copy_(state[name])

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        self._refresh_snapshots()
        super()._save_to_state_dict(destination, prefix, keep_vars)

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs):
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                                      error_msgs)
        if not error_msgs:
            self._q.set_state({name: getattr(self, key) for key, name in self._names.items()})

    def extra_repr(self) -> str:
        return self._q.config_json()
