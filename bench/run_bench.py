#!/usr/bin/env python3
"""Runs jamjet_bench a few times per configuration and tabulates the figures.

Other processes must not share the CPU with a run: before each run this waits
until the machine is quiet (busy under --max-busy over one second), and after
it checks how much CPU other processes took while it ran (the machine's busy
time minus the benchmark's own CPU time, from /proc/stat and the child's
rusage). A run during which others took more than --max-foreign of one core
is discarded and repeated; the share is kept with each run. One benchmark
process runs at a time.

  bench/run_bench.py --bench build-rel/bench/jamjet_bench --out /tmp/runs \
      --runs 3 --config "--threads 0" --config "--threads 2"

Writes OUT/<n>-<run>.json (the program's stdout plus "busy_before_run" and
"foreign_cores") and prints a Markdown table (medians, with min..max over
the runs) on stdout.
"""

import argparse
import json
import os
import resource
import shlex
import statistics
import subprocess
import sys
import time


def cpu_times():
    with open("/proc/stat") as f:
        parts = f.readline().split()[1:]
    vals = [int(x) for x in parts]
    idle = vals[3] + vals[4]  # idle + iowait
    return sum(vals), idle


def busy_share(seconds=1.0):
    t0, i0 = cpu_times()
    time.sleep(seconds)
    t1, i1 = cpu_times()
    total = t1 - t0
    return 0.0 if total == 0 else 1.0 - (i1 - i0) / total


def fmt(values, digits=1):
    med = statistics.median(values)
    if len(values) == 1:
        return f"{med:.{digits}f}"
    return f"{med:.{digits}f} ({min(values):.{digits}f}..{max(values):.{digits}f})"


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--bench", required=True, help="path of jamjet_bench")
    ap.add_argument("--out", required=True, help="directory for run outputs")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--config", action="append", default=[],
                    help="extra jamjet_bench arguments (repeatable)")
    ap.add_argument("--max-busy", type=float, default=0.10,
                    help="busy CPU share tolerated before a run (0..1)")
    ap.add_argument("--max-foreign", type=float, default=0.15,
                    help="cores other processes may use during a run")
    ap.add_argument("--max-wait", type=float, default=3600,
                    help="seconds per configuration before giving up")
    args = ap.parse_args()
    configs = args.config or [""]
    os.makedirs(args.out, exist_ok=True)

    rows = []
    for n, config in enumerate(configs):
        runs = []
        deadline = time.time() + args.max_wait
        while len(runs) < args.runs:
            if time.time() > deadline:
                print(f"gave up on [{config}]: the machine was not quiet "
                      f"for {args.max_wait:.0f} s", file=sys.stderr)
                sys.exit(1)
            busy = busy_share()
            if busy > args.max_busy:
                time.sleep(2)
                continue
            cmd = [args.bench] + shlex.split(config)
            t0, i0 = cpu_times()
            r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            w0 = time.time()
            proc = subprocess.run(cmd, capture_output=True, text=True)
            wall = time.time() - w0
            r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            t1, i1 = cpu_times()
            if proc.returncode != 0:
                print(f"run failed ({proc.returncode}): {' '.join(cmd)}\n"
                      f"{proc.stderr}", file=sys.stderr)
                sys.exit(1)
            tick = os.sysconf("SC_CLK_TCK")
            machine_busy = ((t1 - t0) - (i1 - i0)) / tick
            own = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
            foreign = max(0.0, machine_busy - own) / max(wall, 1e-9)
            if foreign > args.max_foreign:
                print(f"[{config or 'defaults'}] discarded a run: others "
                      f"used {foreign:.2f} cores meanwhile", file=sys.stderr)
                continue
            doc = json.loads(proc.stdout)
            doc["busy_before_run"] = busy
            doc["foreign_cores"] = foreign
            path = os.path.join(args.out, f"{n}-{len(runs)}.json")
            with open(path, "w") as f:
                json.dump(doc, f, indent=2)
            runs.append(doc)
            print(f"[{config or 'defaults'}] run {len(runs)}: busy before "
                  f"{busy:.0%}, others during {foreign:.2f} cores",
                  file=sys.stderr)
        rows.append((config, runs))

    print("| config | others (cores) | hop p50 us | hop p90 us | hop p99 us "
          "| hop max us | chain nodes/s | chain cpu us/node "
          "| fan-out nodes/s | fan-out cpu us/node | makespan p50 ms "
          "| makespan p99 ms | start() p50 us |")
    print("|---" * 13 + "|")
    for config, runs in rows:
        def pick(workload, *keys):
            out = []
            for d in runs:
                for res in d["results"]:
                    if res["workload"] == workload:
                        v = res
                        for k in keys:
                            v = v[k]
                        out.append(v)
            return out

        foreign = [d["foreign_cores"] for d in runs]
        cells = [f"`{config or 'defaults'}`", fmt(foreign, 2)]
        hop = lambda k: pick("w1", "hop_latency_us", k)
        for vals, digits in [(hop("p50"), 1), (hop("p90"), 1), (hop("p99"), 1),
                             (hop("max"), 0),
                             (pick("w1", "nodes_per_s"), 0),
                             (pick("w1", "cpu_us_per_node"), 1),
                             (pick("w2", "nodes_per_s"), 0),
                             (pick("w2", "cpu_us_per_node"), 1),
                             (pick("w2", "makespan_ms", "p50"), 2),
                             (pick("w2", "makespan_ms", "p99"), 2),
                             (pick("w2", "start_call_us", "p50"), 0)]:
            cells.append(fmt(vals, digits) if vals else "-")
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
