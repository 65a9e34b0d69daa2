"""Alternating A/B of whole commands: wall time and CPU time (user + sys of the child), medians.

    python3 bench/engine/ab-wall.py ROUNDS DIR -- CMD_A ";;" CMD_B [";;" CMD_C ...]

Each round runs every command once, in turn, reversing the order every other round, in DIR, with
NODE_EXTRA_CA_CERTS removed from the environment (this machine's bundle adds ~50-90 ms to every Node start).
A command that fails stops the script. Used for the no-op A/Bs in bench/engine/README.md.
"""
import os
import resource
import statistics
import subprocess
import sys
import time


def main() -> None:
    rounds = int(sys.argv[1])
    cwd = sys.argv[2]
    cmds = " ".join(sys.argv[4:]).split(" ;; ")
    wall = {c: [] for c in cmds}
    cpu = {c: [] for c in cmds}
    env = dict(os.environ)
    env.pop("NODE_EXTRA_CA_CERTS", None)
    for r in range(rounds):
        for c in cmds if r % 2 == 0 else cmds[::-1]:
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            p = subprocess.run(c, shell=True, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
            elapsed = time.perf_counter() - start
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            if p.returncode:
                sys.exit(f"failed ({p.returncode}): {c}\n{p.stderr.decode()[-500:]}")
            wall[c].append(elapsed)
            cpu[c].append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    print(f"date {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}, load average at end {os.getloadavg()}, {rounds} rounds")
    for c in cmds:
        print(f"wall {statistics.median(wall[c]):.3f} s  cpu {statistics.median(cpu[c]):.3f} s  {c}")


if __name__ == "__main__":
    main()
