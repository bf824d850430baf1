#!/usr/bin/env python3
"""The agent's CPU time for one edit-config of N monitor groups + commit, through ncclient.

On a busy machine the wall time of phase 3 of ncclient_bench.py spreads widely; the CPU time
the agent process spends (utime + stime of all its threads, from /proc/PID/stat) is steadier.
Each round pauses before the load and after removing the entries again, so that the background
work of the previous commit (the compactor) is done before the next measurement starts.
Prints one line: wall (edit / commit) and agent CPU, median and minimum of the rounds.

Usage (as ncclient_bench.py, the password in $NCB_PASSWORD):
  ncclient_load_cpu.py --port 18831 --pid AGENT_PID [--rounds 8] [--entries 10000]
"""
import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ncclient_bench as bench  # noqa: E402  (sets ncclient's TICK as the bench does)


def agent_cpu_ms(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1e3 / os.sysconf("SC_CLK_TCK")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    bench.connection_args(p)
    p.add_argument("--pid", type=int, required=True, help="the agent's process id")
    p.add_argument("--rounds", type=int, default=8)
    p.add_argument("--entries", type=int, default=10000)
    p.add_argument("--pause", type=float, default=0.6)
    a = p.parse_args()
    m = bench.connect(a)
    cfg = bench.entries_config(a.entries)
    wall, edit, commit, cpu = [], [], [], []
    for _ in range(a.rounds):
        time.sleep(a.pause)
        c0, t0 = agent_cpu_ms(a.pid), time.perf_counter()
        m.edit_config(target="candidate", config=cfg)
        t1 = time.perf_counter()
        m.commit()
        t2, c1 = time.perf_counter(), agent_cpu_ms(a.pid)
        wall.append((t2 - t0) * 1e3)
        edit.append((t1 - t0) * 1e3)
        commit.append((t2 - t1) * 1e3)
        cpu.append(c1 - c0)
        time.sleep(a.pause)
        m.edit_config(target="candidate", config=bench.REMOVE_ALL)
        m.commit()
    m.close_session()
    med = statistics.median
    print(f"{a.entries} entries, {a.rounds} rounds: wall median {med(wall):.1f} ms "
          f"(edit {med(edit):.1f} / commit {med(commit):.1f}), min {min(wall):.1f} ms; "
          f"agent CPU median {med(cpu):.0f} ms, min {min(cpu):.0f} ms")


if __name__ == "__main__":
    main()
