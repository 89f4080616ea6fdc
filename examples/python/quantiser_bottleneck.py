#!/usr/bin/env python3
"""A small PyTorch autoencoder with codebind's MultimodalQuantiser as its bottleneck.

Two "modalities" of toy data share structure (the shared half) and each has its own detail
(the specific half); the quantiser snaps every 8-d chunk to a codevector, gradients pass
straight through, and the codebooks learn by EMA while the encoder and decoder learn by Adam.

    PYTHONPATH=build/ci/python /usr/bin/python3 examples/python/quantiser_bottleneck.py [steps]
"""
import sys

import torch

import codebind

D_IN, WIDTH = 32, 64  # input size; each half of the embedding is WIDTH wide (8 chunks of 8)


def toy_batch(n: int, modality: int) -> torch.Tensor:
    common = torch.randn(n, 4)
    private = torch.randn(n, 4)
    mix = torch.Generator().manual_seed(modality)
    a, b = torch.randn(4, D_IN, generator=mix), torch.randn(4, D_IN, generator=mix)
    return common @ torch.ones(4, D_IN) / 2 + common @ a * 0.1 + private @ b


def main(steps: int = 200) -> float:
    torch.manual_seed(0)
    enc = torch.nn.Sequential(torch.nn.Linear(D_IN, 128), torch.nn.GELU(), torch.nn.Linear(128, 2 * WIDTH))
    dec = torch.nn.Sequential(torch.nn.Linear(2 * WIDTH, 128), torch.nn.GELU(), torch.nn.Linear(128, D_IN))
    vq = codebind.MultimodalQuantiser(modalities=["audio", "imu"], shared_width=WIDTH, specific_width=WIDTH,
                                      shared_codebook_size=64, specific_codebook_size=32, seed=0)
    opt = torch.optim.Adam(list(enc.parameters()) + list(dec.parameters()), lr=3e-3)
    vq.train()
    for step in range(steps):
        loss = 0.0
        for m, name in enumerate(["audio", "imu"]):
            x = toy_batch(64, m)
            out = vq(enc(x), name)
            loss = loss + torch.nn.functional.mse_loss(dec(out.z), x / x.norm(dim=1, keepdim=True)) + out.commit
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 50 == 0 or step == steps - 1:
            print(f"step {step:4d}  loss {loss.item():.4f}")
    vq.eval()
    codes = vq(enc(toy_batch(256, 0)), "audio").shared_indices
    print("distinct shared codes used:", codes.unique().numel(), "of", 64)
    torch.save(vq.state_dict(), "/tmp/codebind_vq_example.pt")  # state_dict round trip
    return float(loss)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
