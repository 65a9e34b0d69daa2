"""Where PyTorch's Qwen3-0.6B-shape forward spends its time, by aten op (torch.profiler), for comparison with
`node dist/bench/core/forward-kernels.js` on the same shape. The model is torch_reference.py's.
    python3 bench/core/torch_forward_profile.py [--batch 4] [--seq 128] [--threads 1]
Prints the profiler's table (self CPU time per op, one forward after two warm-ups) and one JSON line with the
forward's wall time and the time in aten::mm / aten::bmm against the rest."""
import argparse
import json
import os
import sys
import time

import torch
import torch.nn.functional as F
from torch.profiler import ProfilerActivity, profile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_reference as R  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    blocks = [R.Block() for _ in range(28)]
    embed = torch.randn(R.VOCAB, R.HIDDEN) * 0.02
    final_norm = torch.ones(R.HIDDEN)
    ids = torch.randint(0, R.VOCAB, (args.batch, args.seq), generator=torch.Generator().manual_seed(0))
    cos, sin = R.rope_tables(args.seq)
    mask = R.causal_mask(args.seq)

    def run():
        with torch.inference_mode():
            x = embed[ids]
            for blk in blocks:
                x = blk(x, cos, sin, mask)
            return F.linear(R.rms_norm(x, final_norm), embed)

    run()
    run()
    t0 = time.perf_counter()
    run()
    wall = time.perf_counter() - t0
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        run()
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=20))
    ops = {e.key: e.self_cpu_time_total / 1e3 for e in prof.key_averages()}
    total = sum(ops.values())
    print(json.dumps({"bench": "torch-forward-profile", "batch": args.batch, "seq": args.seq, "threads": args.threads,
                      "forwardMs": round(wall * 1e3, 1), "profiledMs": round(total, 1),
                      "mmMs": round(ops.get("aten::mm", 0.0), 1), "bmmMs": round(ops.get("aten::bmm", 0.0), 1),
                      "restMs": round(total - ops.get("aten::mm", 0.0) - ops.get("aten::bmm", 0.0), 1),
                      "load1": os.getloadavg()[0]}))


if __name__ == "__main__":
    main()
