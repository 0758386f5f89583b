#!/usr/bin/env python3
"""FLOP model of one Gatys iteration (VGG19 forward to relu5_1 + backward to the input image).

1 multiply-add = 2 FLOP. Per 3x3 conv at H x W: forward 2*Cin*Cout*9*H*W. The gradient with
respect to the conv's input is a transposed conv with the same multiply-adds (= forward). The
weights are frozen, so no weight gradients (that would be another 1x forward). conv1_1 counts
too: the image needs its gradient. Iteration = 2 x forward. Gram matrices (style layers relu1_1..
relu5_1) are listed apart: 2*N^2*M forward, about the same backward.

    python3 bench/flops.py [SIZE ...]       # square inputs; default 256 512 1024
"""
import sys

# (name, Cin, Cout, stride) for VGG19 conv1_1 .. conv5_1
CONVS = [("conv1_1", 3, 64, 1), ("conv1_2", 64, 64, 1),
         ("conv2_1", 64, 128, 2), ("conv2_2", 128, 128, 2),
         ("conv3_1", 128, 256, 4)] + [(f"conv3_{i}", 256, 256, 4) for i in (2, 3, 4)] + \
        [("conv4_1", 256, 512, 8)] + [(f"conv4_{i}", 512, 512, 8) for i in (2, 3, 4)] + \
        [("conv5_1", 512, 512, 16)]
GRAMS = [(64, 1), (128, 2), (256, 4), (512, 8), (512, 16)]  # relu1_1 .. relu5_1: (N, stride)


def flops(size):
    fwd = sum(2 * cin * cout * 9 * (size // s) ** 2 for _, cin, cout, s in CONVS)
    gram = sum(2 * (2 * n * n * (size // s) ** 2) for n, s in GRAMS)
    return fwd, 2 * fwd, gram


if __name__ == "__main__":
    sizes = [int(a) for a in sys.argv[1:]] or [256, 512, 1024]
    print("| size | conv fwd GFLOP | iteration (fwd + bwd-to-input) GFLOP | Gram fwd+bwd GFLOP |")
    print("|---:|---:|---:|---:|")
    for s in sizes:
        f, it, g = flops(s)
        print(f"| {s}² | {f / 1e9:.2f} | {it / 1e9:.2f} | {g / 1e9:.2f} |")
