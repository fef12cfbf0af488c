"""Where PyTorch's training step spends its time, op by op: the step of `torch_reference.py`
(the authors' network, batch 1024) under `torch.profiler` on one thread, after 300 warm-up
steps, as a table of self CPU time per op, to set beside `perf report` of `cargo bench --bench
training` (BENCHMARKS.md, "Where the training step's time goes").

    target/torch/bin/python benches/torch_profile.py [STEPS]
"""
import sys

import torch
from torch.profiler import ProfilerActivity, profile

from torch_reference import PaperNet, training


def main():
    steps = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    torch.manual_seed(0)
    torch.set_num_threads(1)
    print(f"PyTorch {torch.__version__}, CPU capability {torch.backends.cpu.get_cpu_capability()}")
    data = torch.randn(10_000, 2) * 1.2
    step = training(PaperNet(), data)
    for _ in range(300):
        step()
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(steps):
            step()
    table = prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=25)
    print(f"{steps} steps, one thread")
    print(table)


if __name__ == "__main__":
    main()
