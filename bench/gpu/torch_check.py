"""The PyTorch half of the GPU check (docs/gpu-check.md): the same forward and LoRA step as node-check, on the
same weights and token ids, with transformers' Qwen3ForCausalLM and PEFT's LoRA, in float32 with TF32 off.

    python3 bench/gpu/torch_check.py --model DIR --ids RESULTS/ids.json --out RESULTS/torch.json
                                     [--device cuda|cpu] [--reps 3] [--allow-tf32]

- DIR is the model directory node-check wrote (config.json + model.safetensors, Qwen3 architecture);
- ids.json holds the forward batches, the training batch, its loss mask and the LoRA settings; each forward's
  logits are diffed against node-check's raw float32 logits file next to ids.json (max |delta|);
- the LoRA step: PEFT LoraConfig(r, lora_alpha, target_modules, layers_to_transform, dropout 0), loss over the
  tokens after the masked prefix (labels -100 before it), backward, clip_grad_norm_(1.0), AdamW(lr 2e-4,
  eps 1e-8, wd 0.01); two steps, the second timed; the first step's loss is reported (LoRA's B starts at zero, so
  it is the base model's loss, comparable with wsflow's).

When torch, transformers or peft cannot be imported, or --device cuda has no CUDA device, it writes
{"half": "torch", "skipped": REASON} to --out and exits 0 (3 with --require): the table says why there is no
PyTorch column. Bad arguments exit 2 with one line.
"""
import argparse
import json
import os
import statistics
import sys
import time


def parse_args(argv):
    p = argparse.ArgumentParser(prog="torch_check.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--model", required=True, help="model directory written by node-check")
    p.add_argument("--ids", required=True, help="ids.json written by node-check")
    p.add_argument("--out", required=True, help="where to write torch.json")
    p.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    p.add_argument("--reps", type=int, default=3, help="timed forward repetitions (median), after one warm-up")
    p.add_argument("--allow-tf32", action="store_true", help="leave TF32 on (the check's figures are with it off)")
    p.add_argument("--require", action="store_true", help="exit 3 instead of writing a skip record")
    a = p.parse_args(argv)
    if a.reps < 1:
        p.error(f"--reps must be at least 1, got {a.reps}")
    for path, flag in ((a.model, "--model"), (a.ids, "--ids")):
        if not os.path.exists(path):
            p.error(f"{flag} {path}: no such file or directory")
    if not os.path.isfile(os.path.join(a.model, "config.json")):
        p.error(f"--model {a.model}: no config.json")
    return a


def read_ids(path):
    try:
        with open(path) as f:
            ids = json.load(f)
    except (OSError, ValueError) as e:
        raise SystemExit(f"torch_check.py: {path}: cannot read ids ({e})")
    for key in ("forward", "train"):
        if key not in ids:
            raise SystemExit(f"torch_check.py: {path}: no \"{key}\" key (not node-check's ids.json)")
    return ids


def write_json(path, obj):
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)


def skip(args, reason):
    if args.require:
        print(f"torch_check.py: {reason}", file=sys.stderr)
        sys.exit(3)
    print(f"torch_check.py: skipped: {reason}", file=sys.stderr)
    write_json(args.out, {"half": "torch", "skipped": reason})
    sys.exit(0)


def main(argv):
    args = parse_args(argv)
    ids = read_ids(args.ids)
    try:
        import numpy as np
        import torch
        import transformers
        import peft
    except ImportError as e:
        skip(args, f"cannot import {e.name} ({e})")
    if args.device == "cuda" and not torch.cuda.is_available():
        skip(args, "torch.cuda.is_available() is False")

    torch.backends.cuda.matmul.allow_tf32 = args.allow_tf32
    torch.backends.cudnn.allow_tf32 = args.allow_tf32
    torch.set_float32_matmul_precision("high" if args.allow_tf32 else "highest")
    dev = torch.device(args.device)
    device_name = torch.cuda.get_device_name(dev) if args.device == "cuda" else f"cpu ({torch.get_num_threads()} threads)"

    def sync():
        if args.device == "cuda":
            torch.cuda.synchronize()

    model = transformers.Qwen3ForCausalLM.from_pretrained(args.model, torch_dtype=torch.float32).to(dev)
    model.eval()
    here = os.path.dirname(os.path.abspath(args.ids))
    forward = []
    for case in ids["forward"]:
        batch, seq = case["batch"], case["seq"]
        x = torch.tensor(case["ids"], dtype=torch.long, device=dev)
        times = []
        with torch.no_grad():
            for r in range(args.reps + 1):
                sync()
                t0 = time.perf_counter()
                logits = model(input_ids=x).logits
                sync()
                if r > 0:
                    times.append(time.perf_counter() - t0)
        ours_path = os.path.join(here, case["logits"])
        diff = None
        if os.path.exists(ours_path):
            ours = np.fromfile(ours_path, dtype="<f4").reshape(logits.shape)
            diff = float(np.abs(logits.float().cpu().numpy() - ours).max())
        seconds = statistics.median(times)
        forward.append({"batch": batch, "seq": seq, "seconds": seconds, "tokensPerSecond": batch * seq / seconds, "maxAbsDiff": diff})
        print(f"torch_check.py: forward {batch}x{seq}: {seconds:.4f} s, max |dlogit| {diff}", file=sys.stderr)
        del logits

    tr = ids["train"]
    lcfg = tr["lora"]
    config = peft.LoraConfig(r=lcfg["r"], lora_alpha=lcfg["alpha"], target_modules=lcfg["targetModules"],
                             layers_to_transform=lcfg["layers"], lora_dropout=0.0, task_type="CAUSAL_LM")
    model = peft.get_peft_model(model, config)
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=2e-4, eps=1e-8, weight_decay=0.01, betas=(0.9, 0.999))
    x = torch.tensor(tr["ids"], dtype=torch.long, device=dev)
    labels = x.clone()
    labels[:, : tr["maskedPrefix"]] = -100
    steps = []
    for _ in range(2):
        sync()
        t0 = time.perf_counter()
        loss = model(input_ids=x, labels=labels).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        sync()
        steps.append((time.perf_counter() - t0, float(loss.detach())))
        print(f"torch_check.py: train step {len(steps)}: {steps[-1][0]:.3f} s, loss {steps[-1][1]:.5f}", file=sys.stderr)
    tokens = tr["batch"] * tr["seq"]
    write_json(args.out, {
        "half": "torch",
        "device": device_name,
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "peft": peft.__version__,
        "tf32": bool(args.allow_tf32),
        "forward": forward,
        "train": {"batch": tr["batch"], "seq": tr["seq"], "seconds": steps[1][0], "tokensPerSecond": tokens / steps[1][0],
                  "firstLoss": steps[0][1], "trainableParameters": sum(p.numel() for p in params)},
    })


if __name__ == "__main__":
    main(sys.argv[1:])
