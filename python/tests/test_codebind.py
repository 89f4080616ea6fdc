"""The Python package against the C++ core and the command line: zero-copy tensors, the
quantiser module against the golden quantiser fixtures and an eager PyTorch reference of its
backward pass, embed / index search equal to the CLI's on the same run, train / evaluate as
dicts, and one-line InputErrors."""
import json
import math
import os

import pytest
import torch
import torch.nn.functional as F

import codebind
from conftest import ROOT, run_cli


def test_tensors_cross_without_a_copy():
    t = torch.randn(5, 7)
    assert codebind._codebind._same_tensor(t).data_ptr() == t.data_ptr()
    q = codebind.MultimodalQuantiser(modalities=["audio"], shared_width=64, specific_width=64,
                                     shared_codebook_size=32, specific_codebook_size=16)
    native = q._q.state()
    assert q.shared__weight.data_ptr() == native["shared.weight"].data_ptr()
    q.train()
    q(torch.randn(40, 128), "audio")  # k-means initialisation
    before = q.shared__weight.clone()
    q(torch.randn(40, 128), "audio")  # an EMA update
    assert q.shared__weight.data_ptr() == q._q.state()["shared.weight"].data_ptr(), "the buffer is the live tensor"
    assert not torch.equal(before, q.shared__weight), "the update is visible in the buffer"


def _fixture_quantiser(tensors, modality):
    q = codebind.MultimodalQuantiser(modalities=[modality], reseed=False)
    sd = q.state_dict()
    for ours, theirs in (("shared", "common"), (f"specific_{modality}", "specific")):
        for f in ("weight", "cluster_size", "embed_avg", "embed_prob"):
            sd[f"{ours}__{f}"] = tensors[f"state0.{theirs}.{f}"]
        sd[f"{ours}__initted"] = torch.ones_like(sd[f"{ours}__initted"])
    q.load_state_dict(sd)
    return q


def test_quantiser_matches_the_golden_step_and_an_eager_backward(fixtures):
    t = codebind.read_safetensors(str(fixtures / "codebind" / "quantiser.safetensors"))
    modality = json.loads((fixtures / "codebind" / "manifest.json").read_text())["quantiser_config"]["specific_modality"]
    q = _fixture_quantiser(t, modality).train()
    x = t["step1.input"].clone().requires_grad_(True)  # (B, L, 2048)
    B, L, _ = x.shape
    out = q(x, modality, tokens_per_sample=L)
    assert torch.equal(out.shared_indices, t["step1.indices.common"])
    assert torch.equal(out.specific_indices, t["step1.indices.specific"])
    assert torch.allclose(out.z, t["step1.out.concat"], atol=1e-5)
    assert torch.allclose(out.z_c, t["step1.out.common"], atol=1e-5)
    assert abs(out.commit.item() - t["step1.commit.total"].item()) <= 1e-6
    for ours, theirs in (("shared", "common"), (f"specific_{modality}", "specific")):
        for f in ("weight", "cluster_size", "embed_avg"):
            want = t[f"state1.{theirs}.{f}"]
            got = getattr(q, f"{ours}__{f}")
            assert torch.allclose(got, want, atol=1e-6, rtol=1e-6), (ours, f)
    # Backward: the same loss through an eager straight-through quantiser built from the
    # fixture's formula: q = û + (w[k] − û) with û the normalised chunks, w the state0 codevectors
    # as stored (the straight-through value is the raw codevector), k the step's indices.
    g = torch.randn_like(out.z)
    (out.z * g).sum().add(out.commit).backward()
    xr = t["step1.input"].clone().requires_grad_(True)
    halves = []
    commit = 0.0
    for lo, book, idx in ((0, "common", "step1.indices.common"), (1024, "specific", "step1.indices.specific")):
        u = F.normalize(xr[..., lo:lo + 1024].reshape(B, L, 128, 8), dim=-1)
        w = t[f"state0.{book}.weight"][t[idx]]  # (B, L, 128, 8)
        halves.append((u + (w - u).detach()).reshape(B, L, 1024))
        commit = commit + 0.25 * F.mse_loss(u, w)
    zr = F.normalize(torch.cat(halves, -1), dim=-1)
    (zr * g).sum().add(commit).backward()
    assert torch.allclose(zr, out.z, atol=1e-6)
    assert torch.allclose(x.grad, xr.grad, atol=1e-5), (x.grad - xr.grad).abs().max()


def test_state_dict_round_trip_restores_a_quantiser():
    torch.manual_seed(0)
    a = codebind.MultimodalQuantiser(modalities=["imu"], shared_width=64, specific_width=64, shared_codebook_size=32,
                                     specific_codebook_size=16, seed=1).train()
    for _ in range(3):
        a(torch.randn(64, 128), "imu")
    b = codebind.MultimodalQuantiser(modalities=["imu"], shared_width=64, specific_width=64, shared_codebook_size=32,
                                     specific_codebook_size=16, seed=2)
    b.load_state_dict(a.state_dict())
    x = torch.randn(16, 128)
    a.eval(), b.eval()
    oa, ob = a(x, "imu"), b(x, "imu")
    assert torch.equal(oa.shared_indices, ob.shared_indices) and torch.equal(oa.z, ob.z)
    # Training on from the restored state continues identically (the snapshots came along).
    a.train(), b.train()
    y = torch.randn(64, 128)
    assert torch.equal(a(y, "imu").z, b(y, "imu").z)
    assert torch.equal(a.shared__weight, b.shared__weight)


@pytest.mark.filterwarnings("ignore:Input #0 requires gradient and is not a double")
def test_commitment_gradient_passes_gradcheck():
    # Where the estimator is smooth: the commitment loss β·mse(û, w[k]) for fixed codes. The
    # quantised outputs themselves are piecewise constant in x (their gradient is the straight-
    # through one, checked against the eager reference above), so gradcheck does not apply to
    # them. Eval mode: the codebooks stay fixed while gradcheck perturbs x; float32 (the C++
    # kernels' type) with a tolerance to match.
    q = codebind.MultimodalQuantiser(modalities=["audio"], shared_width=16, specific_width=16,
                                     shared_codebook_size=8, specific_codebook_size=8, reseed=False).train()
    torch.manual_seed(3)
    for _ in range(2):
        q(torch.randn(64, 32), "audio")
    q.eval()
    x = torch.randn(3, 32)
    codes = q(x, "audio").shared_indices

    def commit(inp):
        o = q(inp, "audio")
        assert torch.equal(o.shared_indices, codes), "a perturbation changed a code"
        return o.commit

    xg = x.clone().requires_grad_(True)
    assert torch.autograd.gradcheck(commit, (xg,), eps=1e-3, atol=1e-4, rtol=3e-2, nondet_tol=1e-6)


def test_embed_equals_the_cli(tiny_run, tmp_path):
    data, run = tiny_run
    model = codebind.load(str(run), dtype="fp32")
    files = [it["file"] for it in codebind.data.items(str(data), "imu", "test")[:3]]
    assert len(files) == 3
    ours = model.embed("imu", files)
    out = tmp_path / "e.safetensors"
    run_cli("embed", "--run", run, "--modality", "imu", "--dtype", "fp32", "--out", out, *files)
    cli = codebind.read_safetensors(str(out))
    assert torch.allclose(ours["z"], cli["embeddings"], atol=1e-6)
    assert torch.allclose(ours["shared"], cli["shared"], atol=1e-6)
    assert torch.equal(ours["shared_codes"], cli["shared_codes"])
    assert torch.equal(ours["specific_codes"], cli["specific_codes"])
    # A preprocessed batch gives the same rows as the files.
    batch = model.load_inputs("imu", files)
    assert torch.allclose(model.embed("imu", batch)["z"], ours["z"], atol=1e-6)
    texts = model.embed("text", ["a dog", "rain on a roof"])
    assert texts["shared"].shape[0] == 2 and "specific" not in texts


def test_index_search_equals_the_cli(tiny_run, tmp_path):
    data, run = tiny_run
    model = codebind.load(str(run), dtype="fp32")
    ix = codebind.Index.build(model, str(data))
    items = codebind.data.read_manifest(str(data))["items"]
    assert len(ix) == sum(it["modality"] in model.modalities for it in items)
    path = tmp_path / "items.cbx"
    ix.save(str(path))
    hits = codebind.Index.load(str(path)).search(model, text=["a photo of a dog"], k=5)
    p = run_cli("index", "search", "--index", path, "--run", run, "--text", "a photo of a dog", "-k", "5", "--json")
    cli = [json.loads(line) for line in p.stdout.splitlines() if line.startswith("{")]
    assert [h["id"] for h in hits[0]] == [h["id"] for h in cli[0]["hits"]]
    assert all(math.isclose(a["score"], b["score"], abs_tol=1e-6) for a, b in zip(hits[0], cli[0]["hits"]))
    with pytest.raises(codebind.InputError, match="k must be positive"):
        ix.search(model, text=["x"], k=0)
    with pytest.raises(codebind.InputError, match="rerank must be 0"):
        ix.search(model, text=["x"], rerank=-1)


def test_train_and_evaluate_return_results(tiny_run, tmp_path):
    data, run = tiny_run
    metrics = codebind.evaluate(str(run), str(data), dtype="fp32")
    assert metrics["dtype"] == "fp32" and "zero_shot" in metrics
    cli = json.loads((run / "metrics.json").read_text())
    assert cli["zero_shot"] == metrics["zero_shot"]
    bridge = run.parent / "bridge"
    model_path = codebind.train(str(ROOT / "configs" / "codebind_tiny_test.json"), str(data), str(tmp_path / "run2"),
                                str(bridge))
    assert model_path.endswith("model.safetensors")
    assert codebind.load(model_path).modalities


def test_bad_input_raises_input_error_with_the_message(tmp_path):
    with pytest.raises(codebind.InputError, match="not found"):
        codebind.load(str(tmp_path / "nowhere"))
    with pytest.raises(codebind.InputError, match="unknown modality 'smell'"):
        codebind.MultimodalQuantiser(modalities=["smell"])
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json")
    with pytest.raises(codebind.InputError, match="bad.safetensors"):
        codebind.read_safetensors(str(bad))
    with pytest.raises(codebind.InputError):
        codebind.data.read_manifest(str(tmp_path))


def test_examples_run(tiny_run, capsys):
    import runpy
    import sys
    data, run = tiny_run
    sys.argv = ["embed_and_search.py", str(run), str(data), "a photo of a dog"]
    runpy.run_path(str(ROOT / "examples" / "python" / "embed_and_search.py"), run_name="__main__")
    assert "items indexed" in capsys.readouterr().out
    ns = runpy.run_path(str(ROOT / "examples" / "python" / "quantiser_bottleneck.py"))
    first = ns["main"](2)
    last = ns["main"](60)
    assert last < first, "training the bottleneck model lowers its loss"


def test_wheel_installs_into_a_venv_that_sees_debians_torch(tmp_path):
    import importlib.util
    import subprocess
    import sys
    from conftest import BUILD
    if importlib.util.find_spec("build") is None:
        pytest.skip("python3-build not installed")
    env = dict(os.environ, CODEBIND_BUILD_DIR=str(BUILD))
    subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--wheel", "--outdir", str(tmp_path / "dist"),
                    str(ROOT / "python")], check=True, env=env, capture_output=True)
    wheels = list((tmp_path / "dist").glob("codebind-*.whl"))
    assert len(wheels) == 1 and "linux" in wheels[0].name
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    py = venv / "bin" / "python"
    subprocess.run([str(py), "-m", "pip", "install", "--no-index", "--no-deps", "-q", str(wheels[0])], check=True)
    clean = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run([str(py), "-c", "import codebind, torch; print(codebind.__file__); "
                          "t = torch.ones(3); print(codebind._codebind._same_tensor(t).data_ptr() == t.data_ptr())"],
                         check=True, capture_output=True, text=True, cwd=str(tmp_path), env=clean).stdout.split()
    assert out[0].startswith(str(venv)) and out[1] == "True"
