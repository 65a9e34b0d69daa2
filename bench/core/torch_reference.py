"""PyTorch CPU reference for the core benchmarks: a plain fp32 Qwen3 written here (same math as
spec/ml-core.md: pre-norm, per-head q/k RMSNorm, half-split RoPE theta 1e6, GQA, causal softmax,
SwiGLU, tied lm_head), random weights, no transformers dependency.

    python3 bench/core/torch_reference.py forward --batch 4 --seq 128 [--layers 28] [--reps 3]
    python3 bench/core/torch_reference.py block-train --batch 2 --seq 64 [--reps 3]

forward: full-vocab logits at every position (like model(ids).logits), tokens/s, GFLOP/s, max RSS.
block-train: one decoder block with LoRA (r=32, alpha=64) on all seven linears, loss = sum(out * probe),
backward into the LoRA weights only: the same step as bench/core/block-bench.ts --mode train.
Uses every core (torch.set_num_threads(os.cpu_count())) unless --threads is given (run-all.sh sweeps it: on 2 cores
torch's intra-op threads and OpenBLAS's own can oversubscribe, so the default is not always torch's best; each line
records `threads` and `torchDefaultThreads`, what torch picks by itself), and prints which BLAS
library torch actually loaded (Debian's torch uses the system libblas.so.3: OpenBLAS only when
libopenblas0-pthread is installed; the reference BLAS fallback is ~25x slower)."""
import argparse
import json
import math
import os
import resource
import statistics
import time

import torch
import torch.nn.functional as F

HIDDEN, HEADS, KV_HEADS, HEAD_DIM, MLP, VOCAB, EPS, THETA = 1024, 16, 8, 128, 3072, 151936, 1e-6, 1e6


def loaded_blas() -> str:
    maps = open(f"/proc/{os.getpid()}/maps").read()
    libs = sorted({line.split()[-1] for line in maps.splitlines() if "blas" in line.lower() or "mkl" in line.lower()})
    return ", ".join(libs) or "none found in /proc/self/maps"


def rms_norm(x, w):
    var = x.pow(2).mean(-1, keepdim=True)
    return w * (x * torch.rsqrt(var + EPS))


def rope_tables(seq):
    inv_freq = 1.0 / (THETA ** (torch.arange(0, HEAD_DIM, 2, dtype=torch.float32) / HEAD_DIM))
    freqs = torch.outer(torch.arange(seq, dtype=torch.float32), inv_freq)
    emb = torch.cat([freqs, freqs], -1)
    return emb.cos(), emb.sin()


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat([-x[..., h:], x[..., :h]], -1)


class Lora(torch.nn.Module):
    def __init__(self, inp, out, r=32, alpha=64):
        super().__init__()
        self.a = torch.nn.Parameter(torch.empty(r, inp).uniform_(-1 / math.sqrt(inp), 1 / math.sqrt(inp)))
        self.b = torch.nn.Parameter(torch.randn(out, r) * 1e-3)  # nonzero, as in block-bench.ts
        self.scale = alpha / r

    def forward(self, x):
        return (x @ self.a.t()) @ self.b.t() * self.scale


class Block(torch.nn.Module):
    def __init__(self, lora=False):
        super().__init__()
        shapes = {"q": (HEADS * HEAD_DIM, HIDDEN), "k": (KV_HEADS * HEAD_DIM, HIDDEN), "v": (KV_HEADS * HEAD_DIM, HIDDEN),
                  "o": (HIDDEN, HEADS * HEAD_DIM), "gate": (MLP, HIDDEN), "up": (MLP, HIDDEN), "down": (HIDDEN, MLP)}
        self.w = torch.nn.ParameterDict({n: torch.nn.Parameter(torch.randn(*s) / math.sqrt(s[1]), requires_grad=False)
                                         for n, s in shapes.items()})
        self.lora = torch.nn.ModuleDict({n: Lora(s[1], s[0]) for n, s in shapes.items()}) if lora else None
        for n in ["in_norm", "post_norm"]:
            self.register_buffer(n, torch.ones(HIDDEN) + 0.1 * torch.randn(HIDDEN))
        self.register_buffer("q_norm", torch.ones(HEAD_DIM) + 0.1 * torch.randn(HEAD_DIM))
        self.register_buffer("k_norm", torch.ones(HEAD_DIM) + 0.1 * torch.randn(HEAD_DIM))

    def lin(self, name, x):
        y = F.linear(x, self.w[name])
        return y if self.lora is None else y + self.lora[name](x)

    def forward(self, x, cos, sin, mask):
        b, s, _ = x.shape
        h = rms_norm(x, self.in_norm)
        q = rms_norm(self.lin("q", h).view(b, s, HEADS, HEAD_DIM), self.q_norm).transpose(1, 2)
        k = rms_norm(self.lin("k", h).view(b, s, KV_HEADS, HEAD_DIM), self.k_norm).transpose(1, 2)
        v = self.lin("v", h).view(b, s, KV_HEADS, HEAD_DIM).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = k.repeat_interleave(HEADS // KV_HEADS, dim=1)
        v = v.repeat_interleave(HEADS // KV_HEADS, dim=1)
        scores = (q @ k.transpose(-1, -2)) / math.sqrt(HEAD_DIM) + mask
        ctx = torch.softmax(scores.float(), -1) @ v
        x = x + self.lin("o", ctx.transpose(1, 2).reshape(b, s, HEADS * HEAD_DIM))
        h = rms_norm(x, self.post_norm)
        return x + self.lin("down", F.silu(self.lin("gate", h)) * self.lin("up", h))


def causal_mask(seq):
    return torch.full((seq, seq), float("-inf")).triu(1)


def median_time(fn, reps):
    fn()  # warm-up
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times


def forward_flops(layers, b, s):
    q, kv = HEADS * HEAD_DIM, KV_HEADS * HEAD_DIM
    per_token = layers * (HIDDEN * q + 2 * HIDDEN * kv + q * HIDDEN + 3 * HIDDEN * MLP) + HIDDEN * VOCAB
    return 2 * (per_token * b * s + layers * b * HEADS * s * s * HEAD_DIM * 2)


def bench_forward(args):
    blocks = [Block() for _ in range(args.layers)]
    embed = torch.randn(VOCAB, HIDDEN) * 0.02
    final_norm = torch.ones(HIDDEN)
    ids = torch.randint(0, VOCAB, (args.batch, args.seq), generator=torch.Generator().manual_seed(0))
    cos, sin = rope_tables(args.seq)
    mask = causal_mask(args.seq)

    def run():
        with torch.inference_mode():
            x = embed[ids]
            for blk in blocks:
                x = blk(x, cos, sin, mask)
            return F.linear(rms_norm(x, final_norm), embed)

    sec, times = median_time(run, args.reps)
    tokens = args.batch * args.seq
    return {"bench": "model-forward", "backend": "pytorch", "layers": args.layers, "batch": args.batch, "seq": args.seq,
            "seconds": round(sec, 3), "all": [round(t, 3) for t in times], "tokensPerSecond": round(tokens / sec, 1),
            "gflops": round(forward_flops(args.layers, args.batch, args.seq) / sec / 1e9, 1)}


def bench_block_train(args):
    blk = Block(lora=True)
    x = torch.randn(args.batch, args.seq, HIDDEN)
    probe = torch.randn(args.batch, args.seq, HIDDEN)
    cos, sin = rope_tables(args.seq)
    mask = causal_mask(args.seq)
    params = [p for p in blk.parameters() if p.requires_grad]

    def step():
        for p in params:
            p.grad = None
        loss = (blk(x, cos, sin, mask) * probe).sum()
        loss.backward()
        return loss.item()

    sec, times = median_time(step, args.reps)
    return {"bench": "block", "mode": "train", "backend": "pytorch", "batch": args.batch, "seq": args.seq,
            "seconds": round(sec, 4), "all": [round(t, 4) for t in times]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["forward", "block-train"])
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--seq", type=int, default=64)
    ap.add_argument("--layers", type=int, default=28)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    args = ap.parse_args()
    torch.manual_seed(0)
    default_threads = torch.get_num_threads()
    torch.set_num_threads(args.threads)
    result = bench_forward(args) if args.mode == "forward" else bench_block_train(args)
    result.update({"torch": torch.__version__, "threads": torch.get_num_threads(), "torchDefaultThreads": default_threads,
                   "blas": loaded_blas(),
                   "maxRssMiB": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                   "load1": os.getloadavg()[0]})
    print(json.dumps(result))


if __name__ == "__main__":
    main()
