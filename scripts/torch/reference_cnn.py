"""The PyTorch twin of normlab's reference CNN (dev.normlab.models.ReferenceCnn).

Same layers, same state_dict keys (conv1.*, norm1.*, conv2.*, norm2.*, fc1.*, fc2.*), so a normlab
safetensors checkpoint loads with `model.load_state_dict(safetensors.torch.load_file(path))`.
"""
import gzip
import os
import struct

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def make_norm(kind, channels, hw):
    if kind == "none":
        return nn.Identity()
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "instance":
        return nn.InstanceNorm2d(channels, affine=True)
    if kind == "layer":
        return nn.LayerNorm([channels, hw, hw])
    if kind == "group":
        return nn.GroupNorm(8, channels)
    raise ValueError(f"unknown norm {kind!r}")


class ReferenceCnn(nn.Module):
    """conv(1->32,3) -> norm -> relu -> conv(32->64,3) -> norm -> relu -> maxpool 2 -> dropout .25
    -> flatten -> linear(9216->128) -> relu -> dropout .5 -> linear(128->10)."""

    def __init__(self, norm="batch"):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, 1)
        self.norm1 = make_norm(norm, 32, 26)
        self.conv2 = nn.Conv2d(32, 64, 3, 1)
        self.norm2 = make_norm(norm, 64, 24)
        self.dropout1 = nn.Dropout(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(9216, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = F.relu(self.norm1(self.conv1(x)))
        x = F.relu(self.norm2(self.conv2(x)))
        x = F.max_pool2d(x, 2)
        x = self.dropout1(x)
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = self.dropout2(x)
        return self.fc2(x)


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    zero, dtype, rank = struct.unpack(">HBB", data[:4])
    dims = struct.unpack(">" + "I" * rank, data[4 : 4 + 4 * rank])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * rank).reshape(dims)


def load_mnist(root, name="mnist"):
    """Returns (train_x, train_y, test_x, test_y) as normalized float tensors and int64 labels."""
    d = os.path.join(root, name)
    mean, std = {"mnist": (0.1307, 0.3081), "fashion-mnist": (0.2860, 0.3530)}[name]

    def images(f):
        x = torch.from_numpy(read_idx(os.path.join(d, f)).astype(np.float32) / 255.0)
        return ((x - mean) / std).unsqueeze(1)

    def labels(f):
        return torch.from_numpy(read_idx(os.path.join(d, f)).astype(np.int64))

    return (
        images("train-images-idx3-ubyte.gz"),
        labels("train-labels-idx1-ubyte.gz"),
        images("t10k-images-idx3-ubyte.gz"),
        labels("t10k-labels-idx1-ubyte.gz"),
    )
