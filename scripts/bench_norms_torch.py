#!/usr/bin/env python3
"""PyTorch twin of dev.normlab.bench.NormBench: same cases, same output lines.

Usage: /usr/bin/python3 scripts/bench_norms_torch.py [filter] [reps]
"""
import sys
import time

import torch
import torch.nn as nn

torch.set_num_threads(2)
torch.manual_seed(0)
flt = sys.argv[1] if len(sys.argv) > 1 else ""
reps = int(sys.argv[2]) if len(sys.argv) > 2 else 15

cases = []
for s in ((64, 32, 26, 26), (64, 64, 24, 24), (8, 64, 128, 128)):
    dims = "x".join(map(str, s))
    cases.append(("in2d_" + dims, nn.InstanceNorm2d(s[1]), s))
    cases.append(("bn2d_" + dims, nn.BatchNorm2d(s[1]), s))
    cases.append(("gn8_" + dims, nn.GroupNorm(8, s[1]), s))
    cases.append(("ln_" + dims, nn.LayerNorm(list(s[1:])), s))
cases.append(("in1d_32x64x1024", nn.InstanceNorm1d(64), (32, 64, 1024)))
cases.append(("in3d_2x32x32x64x64", nn.InstanceNorm3d(32), (2, 32, 32, 64, 64)))


def median(a):
    return sorted(a)[len(a) // 2]


def copy_bandwidth():
    a = torch.ones(16 << 20)
    b = torch.empty_like(a)
    ts = []
    for r in range(20):
        t0 = time.perf_counter()
        b.copy_(a)
        t1 = time.perf_counter()
        if r >= 5:
            ts.append(t1 - t0)
    return 8.0 * a.numel() / min(ts) / 1e9


print("copy_bandwidth_gbps=%.2f threads=%d" % (copy_bandwidth(), torch.get_num_threads()))
for name, m, shape in cases:
    if flt not in name:
        continue
    x = torch.randn(*shape)
    g = torch.randn(*shape)
    m.train()
    warm = 10
    # the 2 s NormBench warms up at least (it then waits for its JIT to go quiet; PyTorch has none)
    end = time.perf_counter() + 2.0
    xw = x.clone().requires_grad_(True)
    while time.perf_counter() < end:
        with torch.no_grad():
            m(x)
        m.zero_grad()
        xw.grad = None
        m(xw).backward(g)
    fwd = []
    for r in range(warm + reps):
        t0 = time.perf_counter()
        with torch.no_grad():
            m(x)
        t1 = time.perf_counter()
        if r >= warm:
            fwd.append((t1 - t0) * 1e3)
    xg = x.clone().requires_grad_(True)
    fb = []
    for r in range(warm + reps):
        m.zero_grad()
        xg.grad = None
        t0 = time.perf_counter()
        y = m(xg)
        y.backward(g)
        t1 = time.perf_counter()
        if r >= warm:
            fb.append((t1 - t0) * 1e3)
    f = min(fwd)
    gbps = 8.0 * x.numel() / (f / 1e3) / 1e9
    print("%s fwd_ms=%.3f fwdbwd_ms=%.3f fwd_gbps=%.2f" % (name, f, min(fb), gbps))
