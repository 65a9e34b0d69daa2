#!/usr/bin/env python3
"""`wsflow status` of two wsflow builds side by side, interleaved, on their own copies of one built project.

  python3 bench/engine/compare-status.py ROUNDS OLD_BIN OLD_PROJECT NEW_BIN NEW_PROJECT

Each round runs both (order alternating), timing wall clock around the process and the child's CPU time
(user + sys, from getrusage): on a loaded shared machine CPU time is the steadier measure. Prints medians and the
new/old ratios, with date and load average at start and end.
"""
import datetime
import os
import resource
import statistics
import subprocess
import sys
import time

rounds = int(sys.argv[1])
runs = {'old': (sys.argv[2], sys.argv[3]), 'new': (sys.argv[4], sys.argv[5])}
res = {k: {'wall': [], 'cpu': []} for k in runs}
print('date', datetime.datetime.now(datetime.timezone.utc).isoformat(), 'load', os.getloadavg())
for r in range(rounds):
    order = list(runs.items()) if r % 2 == 0 else list(runs.items())[::-1]
    for name, (binary, cwd) in order:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        p = subprocess.run(['node', binary, 'status'], cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wall = time.perf_counter() - t
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if p.returncode != 0:
            sys.exit(f'{name}: wsflow status exited {p.returncode} in {cwd} (is the project built and fresh?)')
        res[name]['wall'].append(wall)
        res[name]['cpu'].append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
for name in res:
    print(name, 'wall median %.3f s' % statistics.median(res[name]['wall']), 'cpu median %.3f s' % statistics.median(res[name]['cpu']))
med = {k: {m: statistics.median(v) for m, v in d.items()} for k, d in res.items()}
print('ratio new/old: wall %.3f, cpu %.3f' % (med['new']['wall'] / med['old']['wall'], med['new']['cpu'] / med['old']['cpu']))
print('end load', os.getloadavg())
