"""`normlab train --watch`'s statistics from the PyTorch twin, for the golden test of `Watch`.

usage: python3 scripts/torch/watch_reference.py [--norms none,batch,instance,layer,group]
           [--limit-train 1280] [--every 10] [--data ../shared/datasets] [--out FILE]
The fixture: python3 scripts/torch/watch_reference.py --limit-train 320 --every 5 \
           --out normlab-core/src/test/resources/fixtures/watch/twin_watch.jsonl
Trains the twin (same seed, so the same initial weights, batches and dropout masks as normlab's
run with the same options: SGD lr 0.01, momentum 0.9, batch 64) for one epoch on the first
--limit-train images and records, at step 1 and every --every steps, what normlab's Watch records:
each activation's mean, std and 5/25/50/75/95th percentiles (forward hooks), the dead-ReLU fractions,
Batch Norm's batch statistics against its running ones (before the step), each parameter's gradient
norm, weight norm after the step and update ratio. Writes one JSON object per norm and step to
--out (the fixture normlab-core/src/test/resources/fixtures/watch/twin_watch.jsonl) or prints it.
"""
import argparse
import json

import torch
import torch.nn.functional as F

from reference_cnn import ReferenceCnn, load_mnist

POINTS = ["conv1", "norm1", "conv2", "norm2", "fc1", "fc2"]
BEFORE_RELU = {"norm1", "norm2", "fc1"}


def dead_fraction(a):
    """Share of the units along dim 1 that are <= 0 for every example (and position)."""
    alive = (a > 0).transpose(0, 1).reshape(a.shape[1], -1).any(dim=1)
    return 1.0 - alive.double().mean().item()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--norms", default="none,batch,instance,layer,group")
    p.add_argument("--limit-train", type=int, default=1280)
    p.add_argument("--every", type=int, default=10)
    p.add_argument("--data", default="../shared/datasets")
    p.add_argument("--out", default=None)
    a = p.parse_args()
    torch.set_num_threads(2)
    xtr, ytr, _, _ = load_mnist(a.data)
    xtr, ytr = xtr[: a.limit_train], ytr[: a.limit_train]
    lines = []
    for norm in a.norms.split(","):
        torch.manual_seed(0)
        model = ReferenceCnn(norm)
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        seen = {}

        def hook(name):
            def record(_module, _inputs, out):
                seen[name] = out.detach().double()
            return record

        for name in POINTS:
            getattr(model, name).register_forward_hook(hook(name))
        perm = torch.randperm(len(xtr), generator=torch.Generator().manual_seed(0))
        model.train()
        for step, i in enumerate(range(0, len(xtr), 64), start=1):
            idx = perm[i : i + 64]
            seen.clear()
            running = {  # what eval mode would normalize with, before this step updates it
                n: (m.running_mean.double().clone(), m.running_var.double().clone(), m.eps)
                for n, m in ((n, getattr(model, n)) for n in ("norm1", "norm2"))
                if getattr(m, "running_mean", None) is not None
            }
            opt.zero_grad()
            loss = F.cross_entropy(model(xtr[idx]), ytr[idx])
            loss.backward()
            if step != 1 and step % a.every:
                opt.step()
                continue
            stats, ranges = {}, {}
            for name in POINTS:
                act = seen[name]
                ranges[name] = (act.max() - act.min()).item()  # the tolerance of the percentiles
                stats[f"watch/act_mean/{name}"] = act.mean().item()
                stats[f"watch/act_std/{name}"] = act.std(unbiased=False).item()
                flat = act.flatten()
                for q in (5, 25, 50, 75, 95):
                    stats[f"watch/act_p{q:02d}/{name}"] = torch.quantile(flat, q / 100.0).item()
                if name in BEFORE_RELU:
                    stats[f"watch/dead_relu/{name}"] = dead_fraction(act)
            for name, (rm, rv, eps) in running.items():
                x = seen["conv" + name[-1]]  # the norm's input
                mean = x.mean(dim=(0, 2, 3))
                var = x.var(dim=(0, 2, 3), unbiased=False)
                stats[f"watch/running_mean_gap/{name}"] = ((mean - rm) ** 2 / (rv + eps)).mean().sqrt().item()
                stats[f"watch/running_std_ratio/{name}"] = ((var + eps) / (rv + eps)).sqrt().mean().item()
            before = {n: w.detach().double().clone() for n, w in model.named_parameters()}
            total = 0.0
            for n, w in model.named_parameters():
                g = w.grad.double().norm().item()
                stats[f"watch/grad_norm/{n}"] = g
                total += g * g
            stats["watch/grad_norm/total"] = total ** 0.5
            opt.step()
            for n, w in model.named_parameters():
                now = w.detach().double()
                stats[f"watch/param_norm/{n}"] = now.norm().item()
                if before[n].norm().item() > 0:
                    stats[f"watch/update_ratio/{n}"] = ((now - before[n]).norm() / before[n].norm()).item()
            lines.append(json.dumps({"norm": norm, "step": step, "loss": loss.item(), "stats": stats,
                                     "ranges": ranges}))
    text = "\n".join(lines) + "\n"
    if a.out:
        with open(a.out, "w") as f:
            f.write(text)
        print("wrote", a.out, len(lines), "lines")
    else:
        print(text, end="")


if __name__ == "__main__":
    main()
