"""PyTorch twin of normlab's KernelBench: SGEMM 1024^3 and conv2d forward+backward on the reference
CNN's shapes. Prints `name key=value` lines in the same form. Median of repeated runs after warm-up."""
import argparse
import time

import torch
import torch.nn.functional as F


def median_ms(fn, warmup, reps):
    for _ in range(warmup):
        fn()
    t = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        t.append((time.perf_counter() - t0) * 1e3)
    t.sort()
    return t[len(t) // 2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("only", nargs="?", default="all")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    print(f"# torch {torch.__version__} threads={torch.get_num_threads()}")
    if a.only in ("all", "sgemm"):
        n = 1024
        x, y = torch.rand(n, n), torch.rand(n, n)
        out = torch.empty(n, n)
        ms = median_ms(lambda: torch.mm(x, y, out=out), 5, 15)
        print(f"sgemm_1024 ms={ms:.3f} gflops={2 * n ** 3 / ms / 1e6:.1f}")
    if a.only in ("all", "conv"):
        for name, n, cin, cout, h in (("conv1", 64, 1, 32, 28), ("conv2", 64, 32, 64, 26)):
            x = torch.rand(n, cin, h, h) * 2 - 1
            w = torch.rand(cout, cin, 3, 3) * 2 - 1
            b = torch.rand(cout) * 2 - 1
            x.requires_grad_(cin != 1)  # the image needs no gradient, as in training
            w.requires_grad_(True)
            b.requires_grad_(True)
            with torch.no_grad():
                gy = torch.rand_like(F.conv2d(x, w, b)) * 2 - 1
            fwd = median_ms(lambda: F.conv2d(x.detach(), w.detach(), b.detach()), 10, 21)

            def step():
                y = F.conv2d(x, w, b)
                y.backward(gy)

            total = median_ms(step, 10, 21)
            flops = 2.0 * n * cout * (h - 2) ** 2 * cin * 9 * (3 if cin != 1 else 2)
            print(f"{name} fwd_ms={fwd:.3f} total_ms={total:.3f} gflops={flops / total / 1e6:.1f}")


if __name__ == "__main__":
    main()
