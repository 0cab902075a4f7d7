"""Why the normalized reference CNNs collapse at a high learning rate (the guide's sweep section).

usage: python3 scripts/torch/lr_collapse.py [--lr 0.1] [--data ../shared/datasets]
For each norm: the RMS of fc1's input and pre-activation at initialization (1,000 test images),
then after one quick epoch (the first 6,400 training images, SGD momentum 0.9, seed 0, the twin's
batch order) the share of fc1's 128 ReLU units that output 0 for every one of those test images,
and the classes the model still predicts.
"""
import argparse

import torch
import torch.nn.functional as F

from reference_cnn import ReferenceCnn, load_mnist


def fc1_input(m, x):
    x = F.relu(m.norm1(m.conv1(x)))
    x = F.relu(m.norm2(m.conv2(x)))
    return torch.flatten(F.max_pool2d(x, 2), 1)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--norms", default="none,batch,instance,layer,group")
    p.add_argument("--data", default="../shared/datasets")
    a = p.parse_args()
    torch.set_num_threads(2)
    xtr, ytr, xte, _ = load_mnist(a.data)
    xtr, ytr, xte = xtr[:6400], ytr[:6400], xte[:1000]
    for norm in a.norms.split(","):
        torch.manual_seed(0)
        m = ReferenceCnn(norm)
        with torch.no_grad():
            h = fc1_input(m, xte)
            rms_in = h.pow(2).mean().sqrt().item()
            rms_pre = m.fc1(h).pow(2).mean().sqrt().item()
        opt = torch.optim.SGD(m.parameters(), lr=a.lr, momentum=0.9)
        perm = torch.randperm(len(xtr), generator=torch.Generator().manual_seed(0))
        for i in range(0, len(xtr), 64):
            idx = perm[i : i + 64]
            opt.zero_grad()
            F.cross_entropy(m(xtr[idx]), ytr[idx]).backward()
            opt.step()
        m.eval()
        with torch.no_grad():
            act = F.relu(m.fc1(fc1_input(m, xte)))
            dead = (act.max(0).values == 0).float().mean().item()
            classes = m(xte).argmax(1).unique().tolist()
        print(
            f"{norm:9s} init: fc1 input rms {rms_in:.3f}, pre-activation rms {rms_pre:.3f};"
            f" after lr {a.lr}: dead fc1 units {dead:.0%}, predicted classes {classes}"
        )


if __name__ == "__main__":
    main()
