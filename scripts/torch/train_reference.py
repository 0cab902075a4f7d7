"""Trains the PyTorch twin of the reference CNN: the accuracy and throughput baseline.

usage: python3 scripts/torch/train_reference.py --norms none,batch,instance,layer,group \
           --epochs 1 [--limit-train N] [--threads 2] [--data ../shared/datasets] \
           [--optimizer sgd|adam|adamw ...] [--scheduler none|step|cosine ...]
The optimizer and schedule options have the names and defaults of `normlab train`'s, so one set of
options runs both sides.
Prints one line per norm: `torch norm=batch epoch=1 test_acc=98.12 test_loss=0.0581 images_per_s=1234.5`.
"""
import argparse
import time

import torch
import torch.nn.functional as F

from reference_cnn import ReferenceCnn, load_mnist


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--norms", default="none,batch,instance,layer,group")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--optimizer", default="sgd", choices=["sgd", "adam", "adamw"])
    p.add_argument("--lr", type=float, default=None, help="default: 0.01 with sgd, 0.001 with adam(w)")
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--dampening", type=float, default=0.0)
    p.add_argument("--nesterov", action="store_true")
    p.add_argument("--weight-decay", type=float, default=None, help="default: 0; 0.01 with adamw")
    p.add_argument("--betas", default="0.9,0.999")
    p.add_argument("--eps", type=float, default=1e-8)
    p.add_argument("--scheduler", default="none", choices=["none", "step", "cosine"])
    p.add_argument("--step-size", type=int, default=None)
    p.add_argument("--gamma", type=float, default=0.1)
    p.add_argument("--t-max", type=int, default=None, help="default: --epochs")
    p.add_argument("--eta-min", type=float, default=0.0)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--limit-train", type=int, default=0, help="use only the first N training images")
    p.add_argument("--steps", type=int, default=0, help="stop each run after N steps (throughput only)")
    p.add_argument("--warmup", type=int, default=0, help="with --steps: leave the first N steps out of the timing")
    p.add_argument("--data", default="../shared/datasets")
    p.add_argument("--dataset", default="mnist")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    xtr, ytr, xte, yte = load_mnist(a.data, a.dataset)
    if a.limit_train:
        xtr, ytr = xtr[: a.limit_train], ytr[: a.limit_train]
    for norm in a.norms.split(","):
        torch.manual_seed(a.seed)
        model = ReferenceCnn(norm)
        opt, sched = optimizer_and_schedule(model, a)
        g = torch.Generator().manual_seed(a.seed)
        seen, train_time, steps = 0, 0.0, 0
        for epoch in range(1, a.epochs + 1):
            model.train()
            perm = torch.randperm(len(xtr), generator=g)
            t0 = time.perf_counter()
            for i in range(0, len(xtr), a.batch_size):
                idx = perm[i : i + a.batch_size]
                x, y = xtr[idx], ytr[idx]
                opt.zero_grad()
                loss = F.cross_entropy(model(x), y)
                loss.backward()
                opt.step()
                seen += len(idx)
                steps += 1
                if a.steps and steps == a.warmup:  # timing starts after the warm-up steps
                    seen, t0 = 0, time.perf_counter()
                if a.steps and steps >= a.steps:
                    break
            train_time += time.perf_counter() - t0
            if a.steps and steps >= a.steps:
                print(f"torch norm={norm} steps={steps} images_per_s={seen / train_time:.1f}", flush=True)
                break
            model.eval()
            correct, total_loss = 0, 0.0
            with torch.no_grad():
                for i in range(0, len(xte), 1000):
                    out = model(xte[i : i + 1000])
                    total_loss += F.cross_entropy(out, yte[i : i + 1000], reduction="sum").item()
                    correct += (out.argmax(1) == yte[i : i + 1000]).sum().item()
            print(
                f"torch norm={norm} epoch={epoch} test_acc={100.0 * correct / len(xte):.2f} "
                f"test_loss={total_loss / len(xte):.4f} images_per_s={seen / train_time:.1f}"
                f" lr={opt.param_groups[0]['lr']:.6g}",
                flush=True,
            )
            if sched is not None:
                sched.step()  # after the epoch, as normlab's trainer does


def optimizer_and_schedule(model, a):
    """torch.optim's counterpart of `normlab train`'s --optimizer and --scheduler options."""
    sgd = a.optimizer == "sgd"
    lr = a.lr if a.lr is not None else (0.01 if sgd else 0.001)
    wd = a.weight_decay if a.weight_decay is not None else (0.01 if a.optimizer == "adamw" else 0.0)
    betas = tuple(float(b) for b in a.betas.split(","))
    if sgd:
        opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=a.momentum, dampening=a.dampening,
                              weight_decay=wd, nesterov=a.nesterov)
    elif a.optimizer == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=lr, betas=betas, eps=a.eps, weight_decay=wd)
    else:
        opt = torch.optim.AdamW(model.parameters(), lr=lr, betas=betas, eps=a.eps, weight_decay=wd)
    if a.scheduler == "step":
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=a.step_size, gamma=a.gamma)
    elif a.scheduler == "cosine":
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=a.t_max or a.epochs, eta_min=a.eta_min)
    else:
        sched = None
    return opt, sched


if __name__ == "__main__":
    main()
