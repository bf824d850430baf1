"""Issue 14 item 5 through ncclient: N monitor groups (default 100,000) in one agent.

Starts `ne-agent` (a release build) on a loopback port with a fresh data directory, loads
`--small` monitor groups (100) and measures a one-entry edit-config + commit there (median of
100), then loads the rest up to N in commits of 10,000 and measures the same edit at N, and
prints the ratio of the two (issue 14 item 4: <= 1.5x); then get-config of everything (median
of 10 in a row, and median of 5 each right after a one-entry commit) and the agent's resident
memory; then stops it, starts it again on the same data and
times process start to the first ncclient login.

    .venv/bin/python tests/bench/ncclient_scale.py [--agent target/release/ne-agent]
        [--entries 100000] [--small 100] [--port 18500]

Loopback only; the data directory is a temporary one, removed at the end.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time

from ncclient import manager
import ncclient.transport.session as session

session.TICK = 0.001  # ncclient polls its send queue every TICK (0.1 s); see ncclient_bench.py
MG = "urn:ne-agent:yang:ne-monitor-group"


def start(agent, port, data):
    return subprocess.Popen([agent, "--listen", f"127.0.0.1:{port}", "--data-dir", data],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def login(port, data, limit=60):
    end = time.time() + limit
    while True:
        try:
            pw = open(f"{data}/initial-admin-password").read().strip()
            return manager.connect(host="127.0.0.1", port=port, username="admin", password=pw,
                                   hostkey_verify=False, look_for_keys=False, allow_agent=False,
                                   timeout=30)
        except Exception:
            if time.time() > end:
                raise
            time.sleep(0.01)


def rss(pid):
    return open(f"/proc/{pid}/status").read().split("VmRSS:")[1].split("\n")[0].strip()


def cpu(pid):
    """User + system CPU seconds the process has used (less dependent on other load than wall)."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--agent", default="target/release/ne-agent")
    ap.add_argument("--entries", type=int, default=100_000)
    ap.add_argument("--small", type=int, default=100)
    ap.add_argument("--port", type=int, default=18500)
    a = ap.parse_args()
    data = tempfile.mkdtemp(prefix="ne-scale-")
    p = start(a.agent, a.port, data)
    try:
        m = login(a.port, data)
        def load(start, end):
            for b in range(start, end, 10_000):
                body = "".join(f"<monitor-group><name>mg{i}</name></monitor-group>"
                               for i in range(b, min(end, b + 10_000)))
                m.edit_config(target="candidate",
                              config=f'<config><monitor-groups xmlns="{MG}">{body}</monitor-groups></config>')
                m.commit()

        def one_entry(n):
            ts = []
            for i in range(100):
                v = "true" if i % 2 else "false"
                t = time.perf_counter()
                m.edit_config(target="candidate",
                              config=f'<config><monitor-groups xmlns="{MG}"><monitor-group><name>mg{n // 2}'
                                     f'</name><enabled>{v}</enabled></monitor-group></monitor-groups></config>')
                m.commit()
                ts.append((time.perf_counter() - t) * 1000)
            return statistics.median(ts)

        small = min(a.small, a.entries)
        load(0, small)
        time.sleep(1)
        at_small = one_entry(small)
        print(f"one-entry edit-config + commit at {small}: median {at_small:.2f} ms")
        t0 = time.perf_counter()
        load(small, a.entries)
        print(f"loaded {a.entries} monitor groups in {time.perf_counter() - t0:.2f} s "
              f"({a.entries - small} in commits of 10,000 after the first {small})")
        time.sleep(5)  # let the background compaction of the load finish
        at_n = one_entry(a.entries)
        print(f"one-entry edit-config + commit at {a.entries}: median {at_n:.2f} ms")
        print(f"ratio {a.entries} / {small}: {at_n / at_small:.2f}x (goal <= 1.5x)")
        ts = []
        for _ in range(10):
            t = time.perf_counter()
            r = m.get_config("running")
            ts.append((time.perf_counter() - t) * 1000)
        print(f"get-config of all ({len(r.xml) / 1e6:.1f} MB): median {statistics.median(ts):.1f} ms")
        # The server keeps running's text until the next commit: the first read after a commit
        # encodes it again.
        ts = []
        for i in range(5):
            m.edit_config(target="candidate",
                          config=f'<config><monitor-groups xmlns="{MG}"><monitor-group><name>mg{i}'
                                 f'</name><enabled>false</enabled></monitor-group></monitor-groups></config>')
            m.commit()
            t = time.perf_counter()
            m.get_config("running")
            ts.append((time.perf_counter() - t) * 1000)
        print(f"get-config of all, first after a commit: median of 5 {statistics.median(ts):.1f} ms")
        print(f"resident memory: {rss(p.pid)}")
        m.close_session()
        p.terminate()
        p.wait(30)
        t0 = time.time()
        p = start(a.agent, a.port, data)
        m = login(a.port, data)
        wall = time.time() - t0
        print(f"restart to the first served session: {wall:.3f} s (agent CPU {cpu(p.pid):.3f} s); "
              f"resident memory {rss(p.pid)}")
        m.close_session()
    finally:
        p.terminate()
        p.wait(30)
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
