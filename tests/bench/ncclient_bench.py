#!/usr/bin/env python3
"""NETCONF workload through ncclient (paramiko transport), against one server.

Measures what a user of ncclient sees: every figure includes ncclient's and paramiko's own
work (SSH in Python, XML building and parsing of the reply). Progress goes to stderr; the
figures go to stdout as one JSON object on the last line (flat: numbers, strings, booleans).

Phases (`--phases seq`, `--phases conc`, or both, comma-separated; default both):
  seq:  1 session setup: TCP connect to the first get-config reply (a new session each time);
        2 one-entry edit-config (candidate) + commit, empty datastore;
        3 N monitor groups in one edit-config + commit (each run but the last is removed again);
        4 get-config of running holding them;
        7 back-to-back: --b2b get-config RPCs one after the other, time per RPC against the
          median of --alone RPCs each sent after a --gap pause ("no client-visible stall");
        5 one-entry edit-config (candidate) + commit at N entries; growth = (5) / (2).
  conc: 8 --sessions sessions each doing --cycles edit-config on running (each one a commit),
        spread over --procs processes; commits/s and per-commit latency.
The one-entry edit flips `enabled` of one monitor group (`mg-edit`, created untimed first).
Slow phases stop starting new work after --budget seconds (at least one run is always done);
the JSON says which were capped.

ncclient's session thread polls its send queue with select(timeout=TICK), TICK = 0.1 s: an RPC
issued while the thread waits in select is sent up to 100 ms later. This script sets
ncclient.transport.session.TICK = 0.001 so that the server is what is measured (the 0.7.1 name;
there is no TICK in ncclient.transport.ssh).

Usage: ncclient_bench.py --host 127.0.0.1 --port 8300 --user admin [--password-env VAR]
       [--key FILE] [--phases seq,conc] [--entries 10000] ...   (the password is read from the
       environment variable VAR, NCB_PASSWORD by default, so it is not on the command line)
"""
import argparse
import json
import multiprocessing as mp
import os
import resource
import statistics
import sys
import threading
import time

import ncclient
import ncclient.transport.session
from ncclient import manager

NS = "urn:ne-agent:yang:ne-monitor-group"
NC = "urn:ietf:params:xml:ns:netconf:base:1.0"
ORIGINAL_TICK = ncclient.transport.session.TICK
# Module level, so that the worker processes of the concurrent phase (spawned) get it too.
ncclient.transport.session.TICK = 0.001
RPC_TIMEOUT = 900
IDLE_S = 3.0


def log(*a):
    print("ncclient-bench:", *a, file=sys.stderr, flush=True)


def cpu_self():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def pct(v, q):
    """Nearest-rank percentile of an unsorted list (q in 0..100)."""
    if not v:
        return float("nan")
    s = sorted(v)
    return s[round(q / 100 * (len(s) - 1))]


def summary(prefix, v, out, cpu0=None):
    """Percentiles of `v` (ms); with `cpu0` (cpu_self() at the phase's start), the client's
    own CPU time per operation (ncclient, paramiko, this script: the whole process)."""
    if cpu0 is not None and v:
        out[prefix + "_client_cpu_ms"] = round((cpu_self() - cpu0) * 1e3 / len(v), 3)
    out[prefix + "_n"] = len(v)
    out[prefix + "_p50_ms"] = round(pct(v, 50), 3)
    out[prefix + "_p99_ms"] = round(pct(v, 99), 3)
    out[prefix + "_max_ms"] = round(pct(v, 100), 3)
    out[prefix + "_min_ms"] = round(pct(v, 0), 3)


def connect(a):
    kw = dict(host=a.host, port=a.port, username=a.user, hostkey_verify=False,
              allow_agent=False, look_for_keys=False, timeout=RPC_TIMEOUT)
    if a.key:
        kw["key_filename"] = a.key
    else:
        kw["password"] = os.environ.get(a.password_env, "")
    return manager.connect(**kw)


def entries_config(n):
    groups = "".join(f"<monitor-group><name>mg{i}</name></monitor-group>" for i in range(n))
    return f'<config><monitor-groups xmlns="{NS}">{groups}</monitor-groups></config>'


def one_edit(name, i):
    value = "true" if i % 2 == 0 else "false"
    return (f'<config><monitor-groups xmlns="{NS}"><monitor-group><name>{name}</name>'
            f'<enabled>{value}</enabled></monitor-group></monitor-groups></config>')


REMOVE_ALL = (f'<config><monitor-groups xmlns="{NS}" xmlns:nc="{NC}" nc:operation="remove"/>'
              '</config>')
SMALL_FILTER = ("subtree", f'<monitor-groups xmlns="{NS}"><monitor-group><name>none</name>'
                '</monitor-group></monitor-groups>')


def ms(t0):
    return (time.perf_counter() - t0) * 1e3


# ---------------------------------------------------------------------------------------------
# Sequential phases.


def phase_setup(a, out):
    c0 = cpu_self()
    lat = []
    for _ in range(a.setup):
        t0 = time.perf_counter()
        m = connect(a)
        m.get_config(source="running", filter=SMALL_FILTER)
        lat.append(ms(t0))
        m.close_session()
    summary("setup", lat, out, c0)
    log(f"1 session setup, {len(lat)} sessions: median {pct(lat, 50):.1f} ms, "
        f"p99 {pct(lat, 99):.1f} ms")


def edit_cycles(m, a, cycles, prefix, out, budget):
    """`cycles` one-entry edit (candidate) + commit on `mg-edit`, stopping after `budget` s."""
    m.edit_config(target="candidate", config=one_edit("mg-edit", 1))
    m.commit()
    lat = []
    c0 = cpu_self()
    start = time.perf_counter()
    for i in range(cycles):
        if budget is not None and lat and time.perf_counter() - start > budget:
            break
        t0 = time.perf_counter()
        m.edit_config(target="candidate", config=one_edit("mg-edit", i))
        m.commit()
        lat.append(ms(t0))
    summary(prefix, lat, out, c0)
    out[prefix + "_requested"] = cycles
    out[prefix + "_capped"] = len(lat) < cycles
    return lat


def phase_load(m, a, out):
    cfg = entries_config(a.entries)
    runs = []
    cpu = 0.0
    start = time.perf_counter()
    for r in range(a.loads):
        c0 = cpu_self()
        t0 = time.perf_counter()
        m.edit_config(target="candidate", config=cfg)
        m.commit()
        runs.append(ms(t0))
        cpu += cpu_self() - c0
        log(f"3 {a.entries} entries in one edit-config + commit, run {r + 1}: "
            f"{runs[-1]:.0f} ms")
        last = r == a.loads - 1 or time.perf_counter() - start > a.budget
        if last:
            break
        t1 = time.perf_counter()
        m.edit_config(target="candidate", config=REMOVE_ALL)
        m.commit()
        log(f"  (removed them again: {ms(t1):.0f} ms)")
    summary("load", runs, out)
    out["load_client_cpu_ms"] = round(cpu * 1e3 / len(runs), 3)
    out["load_requested"] = a.loads
    out["load_capped"] = len(runs) < a.loads
    out["load_runs_ms"] = " ".join(f"{x:.1f}" for x in runs)


def get_all(m):
    return m.get_config(source="running")


def phase_get(m, a, out):
    lat = []
    size = 0
    c0 = cpu_self()
    for _ in range(a.gets):
        t0 = time.perf_counter()
        r = get_all(m)
        lat.append(ms(t0))
        size = len(r.xml)
    summary("get", lat, out, c0)
    out["get_bytes"] = size
    out["get_entries"] = r.xml.count("<name>mg") if size else 0
    log(f"4 get-config of {a.entries} entries ({size / 1e6:.2f} MB reply), {len(lat)} runs: "
        f"median {pct(lat, 50):.1f} ms, p99 {pct(lat, 99):.1f} ms")


def phase_b2b(m, a, out):
    alone = []
    for _ in range(a.alone):
        time.sleep(a.gap)
        t0 = time.perf_counter()
        r = get_all(m)
        alone.append(ms(t0))
    size = len(r.xml)
    time.sleep(a.gap)
    each = []
    c0 = cpu_self()
    t0 = time.perf_counter()
    for _ in range(a.b2b):
        t1 = time.perf_counter()
        get_all(m)
        each.append(ms(t1))
    total = ms(t0)
    per = total / a.b2b
    out["b2b_bytes"] = size
    out["b2b_alone_n"] = len(alone)
    out["b2b_alone_p50_ms"] = round(pct(alone, 50), 3)
    summary("b2b", each, out, c0)
    out["b2b_per_rpc_ms"] = round(per, 3)
    out["b2b_ratio"] = round(per / pct(alone, 50), 3)
    log(f"7 back-to-back: {a.b2b} get-config ({size / 1e6:.2f} MB replies) in {total:.0f} ms, "
        f"{per:.1f} ms per RPC (max {max(each):.1f}); alone (after a {a.gap} s pause, "
        f"median of {len(alone)}): {pct(alone, 50):.1f} ms; ratio {per / pct(alone, 50):.2f}")


def run_seq(a, out):
    c0 = cpu_self()
    phase_setup(a, out)
    m = connect(a)
    lat0 = edit_cycles(m, a, a.edits, "edit0", out, None)
    log(f"2 one-entry edit-config + commit, empty datastore, {len(lat0)} cycles: "
        f"median {pct(lat0, 50):.2f} ms, p99 {pct(lat0, 99):.2f} ms")
    m.edit_config(target="candidate", config=REMOVE_ALL)
    m.commit()
    phase_load(m, a, out)
    phase_get(m, a, out)
    phase_b2b(m, a, out)
    lat1 = edit_cycles(m, a, a.edits, "edit10k", out, a.budget)
    capped = " (capped by the budget)" if out["edit10k_capped"] else ""
    log(f"5 one-entry edit-config + commit at {a.entries} entries, {len(lat1)} of {a.edits} "
        f"cycles{capped}: median {pct(lat1, 50):.2f} ms, p99 {pct(lat1, 99):.2f} ms")
    out["growth"] = round(pct(lat1, 50) / pct(lat0, 50), 3)
    log(f"6 growth (5) / (2): {out['growth']:.2f}x")
    m.close_session()
    out["seq_client_cpu_s"] = round(cpu_self() - c0, 2)


# ---------------------------------------------------------------------------------------------
# Concurrent writers: worker processes, each with a thread per session.


def worker(a, sessions, ready, go, go_at, results):
    try:
        conns = [(s, connect(a)) for s in sessions]
    except Exception as e:  # noqa: BLE001 (reported to the parent)
        ready.put(("error", f"connect: {e!r}"))
        return
    idle0, wall0 = cpu_self(), time.monotonic()
    ready.put(("ready", len(conns)))
    go.wait()
    idle = (cpu_self() - idle0) / (time.monotonic() - wall0)
    deadline = go_at.value + a.budget if a.budget_conc else None
    c0 = cpu_self()
    lat, errors, ends = [], [], []
    lock = threading.Lock()

    def one(s, m):
        mine, errs = [], []
        for i in range(a.cycles):
            if deadline is not None and time.monotonic() > deadline:
                break
            t0 = time.perf_counter()
            try:
                m.edit_config(target="running", config=one_edit(f"conc{s}", i))
            except Exception as e:  # noqa: BLE001 (counted, first one reported)
                errs.append(repr(e)[:300])
                continue
            mine.append(ms(t0))
        end = time.monotonic()
        with lock:
            lat.extend(mine)
            errors.extend(errs)
            ends.append(end)

    threads = [threading.Thread(target=one, args=sm) for sm in conns]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    cpu = cpu_self() - c0
    for _, m in conns:
        try:
            m.close_session()
        except Exception:  # noqa: BLE001 (the figures are taken already)
            pass
    results.put({"lat": lat, "errors": errors, "end": max(ends), "cpu": cpu, "idle": idle})


def run_conc(a, out):
    ctx = mp.get_context("spawn")
    procs = max(1, min(a.procs, a.sessions))
    ready, results = ctx.Queue(), ctx.Queue()
    go = ctx.Event()
    go_at = ctx.Value("d", 0.0)
    groups = [list(range(p, a.sessions, procs)) for p in range(procs)]
    workers = [ctx.Process(target=worker, args=(a, g, ready, go, go_at, results))
               for g in groups]
    t0 = time.perf_counter()
    for w in workers:
        w.start()
    for _ in workers:
        kind, what = ready.get(timeout=RPC_TIMEOUT)
        if kind == "error":
            go.set()
            for w in workers:
                w.terminate()
            raise SystemExit(f"ncclient-bench: concurrent phase: {what}")
    # All sessions open and idle for IDLE_S: what ncclient's 1 ms send poll costs the client.
    time.sleep(IDLE_S)
    log(f"8 {a.sessions} sessions connected in {ms(t0) / 1e3:.1f} s ({procs} client processes); "
        "go")
    go_at.value = time.monotonic()
    go.set()
    got = [results.get(timeout=a.budget + 2 * RPC_TIMEOUT) for _ in workers]
    for w in workers:
        w.join()
    lat = [x for g in got for x in g["lat"]]
    errors = [x for g in got for x in g["errors"]]
    secs = max(g["end"] for g in got) - go_at.value
    requested = a.sessions * a.cycles
    summary("conc", lat, out)
    out["conc_sessions"] = a.sessions
    out["conc_cycles"] = a.cycles
    out["conc_procs"] = procs
    out["conc_requested"] = requested
    out["conc_errors"] = len(errors)
    out["conc_first_error"] = errors[0] if errors else ""
    out["conc_secs"] = round(secs, 3)
    out["conc_rate"] = round(len(lat) / secs, 2)
    out["conc_capped"] = len(lat) + len(errors) < requested
    out["conc_client_cpu_s"] = round(sum(g["cpu"] for g in got), 2)
    out["conc_idle_cpu_pct"] = round(100 * sum(g["idle"] for g in got), 1)
    capped = f" (capped: {len(lat)} of {requested} within {a.budget} s)" if out["conc_capped"] \
        else ""
    log(f"8 {a.sessions} sessions x {a.cycles} edit-config (running): {len(lat)} commits in "
        f"{secs:.2f} s = {len(lat) / secs:.0f} commits/s; per commit median "
        f"{pct(lat, 50):.1f} ms, p99 {pct(lat, 99):.1f} ms, max {pct(lat, 100):.1f} ms; "
        f"{len(errors)} errors{capped}; client CPU {out['conc_client_cpu_s']:.1f} s (with the "
        f"{a.sessions} sessions idle: {out['conc_idle_cpu_pct']:.0f} % of a core)")
    if errors:
        log(f"  first error: {errors[0]}")


def connection_args(p):
    """The options `connect` reads."""
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8300)
    p.add_argument("--user", default="admin")
    p.add_argument("--password-env", default="NCB_PASSWORD")
    p.add_argument("--key", help="private key file instead of a password")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    connection_args(p)
    p.add_argument("--phases", default="seq,conc")
    p.add_argument("--entries", type=int, default=10000)
    p.add_argument("--setup", type=int, default=30, help="sessions for phase 1")
    p.add_argument("--edits", type=int, default=50, help="cycles for phases 2 and 5")
    p.add_argument("--loads", type=int, default=5, help="runs of phase 3")
    p.add_argument("--gets", type=int, default=20, help="runs of phase 4")
    p.add_argument("--b2b", type=int, default=100, help="back-to-back get-configs, phase 7")
    p.add_argument("--alone", type=int, default=20, help="isolated get-configs, phase 7")
    p.add_argument("--gap", type=float, default=0.3, help="pause before an isolated RPC, s")
    p.add_argument("--sessions", type=int, default=50)
    p.add_argument("--cycles", type=int, default=200)
    p.add_argument("--procs", type=int, default=8, help="client processes, phase 8")
    p.add_argument("--budget", type=float, default=60.0,
                   help="seconds after which phases 3, 5 (and 8 with --budget-conc) stop "
                        "starting new work")
    p.add_argument("--budget-conc", action="store_true", help="apply --budget to phase 8")
    a = p.parse_args()
    phases = set(a.phases.split(","))
    out = {
        "ncclient": ncclient.__version__ if hasattr(ncclient, "__version__") else "?",
        "tick_s": ncclient.transport.session.TICK,
        "tick_was_s": ORIGINAL_TICK,
        "entries": a.entries,
    }
    log(f"ncclient {out['ncclient']}: set ncclient.transport.session.TICK = "
        f"{ncclient.transport.session.TICK} (was {ORIGINAL_TICK}) so the server is what is "
        f"measured; {a.user}@{a.host}:{a.port}, phases {a.phases}")
    if "seq" in phases:
        run_seq(a, out)
    if "conc" in phases:
        run_conc(a, out)
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
