"""PyTorch CPU reference for bench/training/train-step.ts: one LoRA training step of the study (spec section 3)
on a randomly initialised model of Qwen3-0.6B's shape, in float32, without transformers (Debian python3-torch):

- 28 pre-norm decoder blocks (hidden 1024, 16 query / 8 KV heads of 128, SwiGLU 3072, per-head q/k RMSNorm,
  half-split RoPE theta 1e6), tied 151,936-row embedding / lm_head, all frozen;
- LoRA r=32, alpha=64 on q,k,v,o,gate,up,down of blocks 8..21 (A kaiming-uniform, B small non-zero so every
  path computes), the only trainable parameters;
- loss: mean cross-entropy over the assistant tokens (the last 7/8 of each sequence) of a batch of
  `--batch` sequences of `--seq` tokens; backward; clip_grad_norm_(1.0); AdamW(lr 2e-4, eps 1e-8, wd 0.01).

    /usr/bin/python3 bench/training/torch_lora_step.py [--batch 4] [--seq 512] [--reps 2] [--threads N]

Prints one JSON line: seconds per step (median), tokens/s, peak RSS, threads, BLAS library, load average.
"""
import argparse
import json
import math
import os
import resource
import statistics
import time

import torch
import torch.nn.functional as F

HIDDEN, HEADS, KV_HEADS, HEAD_DIM, MLP, VOCAB, LAYERS, EPS, THETA = 1024, 16, 8, 128, 3072, 151936, 28, 1e-6, 1e6
ADAPTED = range(8, 22)
R, ALPHA = 32, 64


def loaded_blas() -> str:
    maps = open(f"/proc/{os.getpid()}/maps").read()
    libs = sorted({line.split()[-1] for line in maps.splitlines() if "blas" in line.lower() or "mkl" in line.lower()})
    return ", ".join(libs) or "none found in /proc/self/maps"


def rms_norm(x, w):
    return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + EPS))


def rope(seq):
    inv = 1.0 / (THETA ** (torch.arange(0, HEAD_DIM, 2, dtype=torch.float32) / HEAD_DIM))
    emb = torch.outer(torch.arange(seq, dtype=torch.float32), inv)
    emb = torch.cat([emb, emb], -1)
    return emb.cos(), emb.sin()


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat([-x[..., h:], x[..., :h]], -1)


class Linear(torch.nn.Module):
    def __init__(self, out, inp, lora):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.randn(out, inp) * 0.02, requires_grad=False)
        if lora:
            bound = 1 / math.sqrt(inp)
            self.lora_A = torch.nn.Parameter(torch.empty(R, inp).uniform_(-bound, bound))
            self.lora_B = torch.nn.Parameter(torch.randn(out, R) * 1e-3)
        else:
            self.lora_A = None

    def forward(self, x):
        y = F.linear(x, self.weight)
        if self.lora_A is None:
            return y
        return y + (x @ self.lora_A.t()) @ self.lora_B.t() * (ALPHA / R)


class Block(torch.nn.Module):
    def __init__(self, lora):
        super().__init__()
        self.q = Linear(HEADS * HEAD_DIM, HIDDEN, lora)
        self.k = Linear(KV_HEADS * HEAD_DIM, HIDDEN, lora)
        self.v = Linear(KV_HEADS * HEAD_DIM, HIDDEN, lora)
        self.o = Linear(HIDDEN, HEADS * HEAD_DIM, lora)
        self.gate = Linear(MLP, HIDDEN, lora)
        self.up = Linear(MLP, HIDDEN, lora)
        self.down = Linear(HIDDEN, MLP, lora)
        for n, d in [("in_norm", HIDDEN), ("post_norm", HIDDEN), ("q_norm", HEAD_DIM), ("k_norm", HEAD_DIM)]:
            self.register_buffer(n, torch.ones(d))

    def forward(self, x, cos, sin, mask):
        b, s, _ = x.shape
        h = rms_norm(x, self.in_norm)
        q = rms_norm(self.q(h).view(b, s, HEADS, HEAD_DIM), self.q_norm).transpose(1, 2)
        k = rms_norm(self.k(h).view(b, s, KV_HEADS, HEAD_DIM), self.k_norm).transpose(1, 2)
        v = self.v(h).view(b, s, KV_HEADS, HEAD_DIM).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = k.repeat_interleave(HEADS // KV_HEADS, dim=1)
        v = v.repeat_interleave(HEADS // KV_HEADS, dim=1)
        probs = torch.softmax((q @ k.transpose(-1, -2)) / math.sqrt(HEAD_DIM) + mask, -1)
        x = x + self.o((probs @ v).transpose(1, 2).reshape(b, s, HEADS * HEAD_DIM))
        h = rms_norm(x, self.post_norm)
        return x + self.down(F.silu(self.gate(h)) * self.up(h))


class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = torch.nn.Parameter(torch.randn(VOCAB, HIDDEN) * 0.02, requires_grad=False)
        self.blocks = torch.nn.ModuleList([Block(i in ADAPTED) for i in range(LAYERS)])
        self.register_buffer("norm", torch.ones(HIDDEN))

    def forward(self, ids, labels, cos, sin, mask):
        x = self.embed[ids]
        for blk in self.blocks:
            x = blk(x, cos, sin, mask)
        logits = F.linear(rms_norm(x, self.norm), self.embed)
        return F.cross_entropy(logits[:, :-1].reshape(-1, VOCAB), labels[:, 1:].reshape(-1), ignore_index=-100)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--seq", type=int, default=512)
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    args = ap.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    model = Model()
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=2e-4, eps=1e-8, weight_decay=0.01)
    ids = torch.randint(0, VOCAB, (args.batch, args.seq), generator=torch.Generator().manual_seed(0))
    labels = ids.clone()
    labels[:, : args.seq // 8] = -100
    cos, sin = rope(args.seq)
    mask = torch.full((args.seq, args.seq), float("-inf")).triu(1)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = model(ids, labels, cos, sin, mask)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        return loss.item()

    step()  # warm-up
    times = []
    for _ in range(args.reps):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    sec = statistics.median(times)
    print(json.dumps({
        "bench": "train-step", "backend": "pytorch-cpu", "adapter": "lora", "batch": args.batch, "seq": args.seq,
        "seconds": round(sec, 3), "all": [round(t, 3) for t in times], "tokensPerSecond": round(args.batch * args.seq / sec, 1),
        "trainableParameters": sum(p.numel() for p in params), "threads": torch.get_num_threads(), "torch": torch.__version__,
        "blas": loaded_blas(), "peakRssMiB": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "load1": round(os.getloadavg()[0], 2),
    }))


if __name__ == "__main__":
    main()
