"""The reference for `cargo bench --bench training` and `--bench geodesic`: the spacetime paper's
network and loops in PyTorch (CPU), timed at one thread and at two, for `scripts/bench-torch.sh`,
which runs it next to the Rust benches so that the ratios come from one window.

* training step: the authors' network (sinusoidal embeddings of 128, input scale 25, width 128,
  3 one-linear GELU blocks), batch 1024 of 2-D data, λ uniform on [−12, 12], x_λ = α x + σ ε,
  loss weight sqrt(sigmoid(λ + 2)), squared error on x, AdamW lr 1e-3 — once fresh and once
  after 300 steps on the data (the GELU pre-activations grow as the network trains);
* geodesic step: the discrete curve energy (N − 1)/2 Σ Δη·Δμ of a spacetime curve through
  10 nodes (piecewise-linear here; the cost is the network's), η = (−½ e^λ, (α/σ²) x),
  μ = ((σ²/α) div D + ‖D‖², D) with the exact divergence by autograd, its gradient and an Adam
  step, for N = 128 and 1024.

    python -m venv target/torch && target/torch/bin/pip install torch numpy safetensors
    target/torch/bin/python benches/torch_reference.py
"""
import os
import sys
import time

import torch

# The authors' network, as the checkpoint fixture defines it.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests", "fixtures"))
from make_paper_checkpoint import PaperNet  # noqa: E402


def rate(step, seconds=4.0):
    """Steps per second: the best of five timed windows after a warm-up."""
    for _ in range(3):
        step()
    best = 0.0
    for _ in range(5):
        n, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < seconds / 5:
            step()
            n += 1
        best = max(best, n / (time.perf_counter() - t0))
    return best


def training(net, data):
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3)

    def step():
        x = data[torch.randint(0, len(data), (1024,))]
        lam = torch.rand(1024) * 24.0 - 12.0
        alpha, sigma = torch.sigmoid(lam).sqrt(), torch.sigmoid(-lam).sqrt()
        xt = alpha[:, None] * x + sigma[:, None] * torch.randn_like(x)
        w = torch.sigmoid(lam + 2.0).sqrt()
        loss = (w * ((net(xt, lam) - x) ** 2).sum(-1)).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()

    return step


def geodesic(net, points):
    nodes = torch.zeros(8, 3, requires_grad=True)
    start, end = torch.tensor([4.0, -2.55, 2.7]), torch.tensor([4.0, 0.95, -0.4])
    s = torch.linspace(0, 1, points)
    knots = torch.linspace(0, 1, 10)
    # Piecewise-linear hat functions of the 10 nodes at the N points.
    hat = torch.clamp(1 - (s[:, None] - knots[None, :]).abs() * 9, min=0)
    opt = torch.optim.Adam([nodes], lr=0.1)
    for p in net.parameters():
        p.requires_grad_(False)

    def step():
        inner = torch.cat((start[None], start[None] + nodes + (end - start)[None] * knots[1:-1, None], end[None]))
        curve = hat @ inner
        lam, x = curve[:, 0], curve[:, 1:]
        d = net(x, lam)
        div = sum(torch.autograd.grad(d[:, k].sum(), x, create_graph=True)[0][:, k] for k in range(2))
        a2, s2 = torch.sigmoid(lam), torch.sigmoid(-lam)
        eta = torch.cat(((-0.5 * torch.exp(lam))[:, None], (a2.sqrt() / s2)[:, None] * x), 1)
        mu = torch.cat((((s2 / a2.sqrt()) * div + (d * d).sum(-1))[:, None], d), 1)
        chords = ((eta[1:] - eta[:-1]) * (mu[1:] - mu[:-1])).sum(-1)
        energy = 0.5 * (points - 1) * torch.clamp(chords, min=0).sum()
        opt.zero_grad()
        energy.backward()
        opt.step()

    return step


def main():
    torch.manual_seed(0)
    data = torch.randn(10_000, 2) * 1.2
    print(f"PyTorch {torch.__version__}")
    for threads in (1, 2):
        torch.set_num_threads(threads)
        net = PaperNet()
        step = training(net, data)
        fresh = rate(step)
        for _ in range(300):
            step()
        trained = rate(step)
        print(f"{threads} thread(s): training step, authors' MLP, batch 1024: "
              f"{fresh:.1f} /s fresh, {trained:.1f} /s after 300 steps")
        for n in (128, 1024):
            print(f"{threads} thread(s): geodesic step N = {n}: {rate(geodesic(PaperNet(), n)):.1f} /s")


if __name__ == "__main__":
    main()
