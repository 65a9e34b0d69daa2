"""PEFT's PiSSA initialisation math (LoraLayer.pissa_init, init_lora_weights="pissa") in PyTorch on the same 98
matrices as bench/core/pissa-init-bench.ts (same index hash, see pissa-shapes.ts): torch.linalg.svd(W,
full_matrices=False), A = diag(sqrt(S_r / s)) Vh_r, B = U_r diag(sqrt(S_r / s)), W - s B A.

    python3 bench/core/pissa_init_torch.py [--threads 1,2] [--blocks 14] [--r 32]

One JSON line per thread count (torch.set_num_threads), with the total and the SVD's share."""
import argparse
import json
import os
import time

import numpy as np
import torch

SHAPES = [('q_proj', 2048, 1024), ('k_proj', 1024, 1024), ('v_proj', 1024, 1024), ('o_proj', 1024, 2048),
          ('gate_proj', 3072, 1024), ('up_proj', 3072, 1024), ('down_proj', 1024, 3072)]


def bench_matrix(index, rows, cols):
    """pissa-shapes.ts's benchMatrix: fmix32 of (i xor seed), uniform in ±0.05, float32."""
    m = np.uint64(0xFFFFFFFF)
    seed = np.uint64(((index + 1) * 0x9E3779B9) & 0xFFFFFFFF)
    x = np.arange(rows * cols, dtype=np.uint64) ^ seed
    x ^= x >> np.uint64(16); x = (x * np.uint64(0x85EBCA6B)) & m
    x ^= x >> np.uint64(13); x = (x * np.uint64(0xC2B2AE35)) & m
    x ^= x >> np.uint64(16)
    vals = ((x.astype(np.float64) / 4294967296.0 - 0.5) * 0.1).astype(np.float32)
    return torch.from_numpy(vals.reshape(rows, cols))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--threads', default='1,2')
    ap.add_argument('--blocks', type=int, default=14)
    ap.add_argument('--r', type=int, default=32)
    a = ap.parse_args()
    scaling = 64 / a.r
    mats = [(name, bench_matrix(b * len(SHAPES) + s, rows, cols))
            for b in range(a.blocks) for s, (name, rows, cols) in enumerate(SHAPES)]
    for threads in [int(t) for t in a.threads.split(',')]:
        torch.set_num_threads(threads)
        total = svd_total = checksum = 0.0
        per_shape = {}
        for name, w in mats:
            t0 = time.perf_counter()
            V, S, Uh = torch.linalg.svd(w, full_matrices=False)
            t1 = time.perf_counter()
            Vr, Sr, Uhr = V[:, :a.r], S[:a.r] / scaling, Uh[:a.r]
            lora_A = torch.diag(torch.sqrt(Sr)) @ Uhr
            lora_B = Vr @ torch.diag(torch.sqrt(Sr))
            residual = w - scaling * lora_B @ lora_A
            dt = time.perf_counter() - t0
            total += dt
            svd_total += t1 - t0
            per_shape[name] = per_shape.get(name, 0.0) + dt
            checksum += float(S[0])
            del residual
        print(json.dumps({
            'bench': 'pissa-init', 'impl': 'torch', 'torch': torch.__version__, 'threads': threads,
            'matrices': len(mats), 'r': a.r, 'total_s': round(total, 3), 'svd_s': round(svd_total, 3),
            'per_shape_s': {k: round(v, 3) for k, v in per_shape.items()}, 'sum_top_sigma': round(checksum, 6),
            'load1_after': os.getloadavg()[0]}), flush=True)


if __name__ == '__main__':
    main()
