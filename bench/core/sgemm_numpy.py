"""sgemm rate of numpy (Debian's numpy links the system BLAS: OpenBLAS pthreads when installed) on the
Qwen3-0.6B forward shapes of gemm-shapes.json: the machine's practical float32 GEMM limit.
    python3 bench/core/sgemm_numpy.py [--reps 5] [--transpose-b]
--transpose-b: the weight stored [N, K] and multiplied as a @ w.T (sgemm with a transposed operand), the layout
the Qwen3 model uses on `native` (gemm-bench.ts takes the same flag).
Prints one JSON line per shape, like gemm-bench.ts."""
import argparse
import json
import os
import statistics
import time

import numpy as np


def blas_name() -> str:
    try:
        cfg = np.show_config(mode="dicts")  # numpy >= 1.25
        return json.dumps(cfg.get("Build Dependencies", {}).get("blas", {}))
    except TypeError:
        pass
    try:
        from threadpoolctl import threadpool_info  # optional
        return json.dumps(threadpool_info())
    except ImportError:
        pass
    maps = open(f"/proc/{os.getpid()}/maps").read()
    libs = sorted({line.split()[-1] for line in maps.splitlines() if "blas" in line.lower()})
    return ", ".join(libs)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--transpose-b", action="store_true")
    ap.add_argument("--tokens", help="comma-separated M values (default: gemm-shapes.json's)")
    args = ap.parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    spec = json.load(open(os.path.join(here, "gemm-shapes.json")))
    rng = np.random.default_rng(0)
    print(json.dumps({"bench": "sgemm-numpy", "numpy": np.__version__, "blas": blas_name()}))
    tokens = [int(t) for t in args.tokens.split(",")] if args.tokens else spec["tokens"]
    for m in tokens:
        for s in spec["shapes"]:
            a = rng.standard_normal((m, s["k"]), dtype=np.float32)
            b = rng.standard_normal((s["n"], s["k"]), dtype=np.float32).T if args.transpose_b else \
                rng.standard_normal((s["k"], s["n"]), dtype=np.float32)
            a @ b
            times = []
            for _ in range(args.reps):
                t0 = time.perf_counter()
                a @ b
                times.append(time.perf_counter() - t0)
            sec = statistics.median(times)
            print(json.dumps({"bench": "gemm", "backend": "numpy", "name": s["name"], "m": m, "k": s["k"], "n": s["n"], "transposeB": args.transpose_b,
                              "ms": round(sec * 1e3, 2), "gflops": round(2 * m * s["k"] * s["n"] / sec / 1e9, 1),
                              "load1": os.getloadavg()[0]}))


if __name__ == "__main__":
    main()
