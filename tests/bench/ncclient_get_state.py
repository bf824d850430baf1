#!/usr/bin/env python3
"""NETCONF <get> with state through ncclient, at N monitor groups (the RESTCONF bench's
resource, read the NETCONF way): starts the agent binary given (its own data directory,
loopback, port 0), commits N monitor groups through ncclient, then times <get> filtered to
/monitor-groups and <get> of everything, each --runs times, and prints the medians. Every
figure includes ncclient's own work (paramiko, parsing the reply).

Usage: ncclient_get_state.py AGENT [--entries 10000] [--runs 20]
   e.g. tests/bench/ncclient_get_state.py target/release/ne-agent
"""
import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time

import ncclient.transport.session
from ncclient import manager

import agent_proc

NS = "urn:ne-agent:yang:ne-monitor-group"
# As tests/bench/ncclient_bench.py: so the server is what is measured, not the poll tick.
ncclient.transport.session.TICK = 0.001


def start(agent, d):
    subprocess.run(["ssh-keygen", "-q", "-t", "rsa", "-b", "2048", "-N", "", "-f",
                    os.path.join(d, "ssh_host_rsa_key")], check=True)
    return agent_proc.start(agent, d, r"listen=127\.0\.0\.1:(\d+)")

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("agent")
    ap.add_argument("--entries", type=int, default=10000)
    ap.add_argument("--runs", type=int, default=20)
    a = ap.parse_args()
    d = tempfile.mkdtemp(prefix="nc-get-state-")
    p, port = start(a.agent, d)
    try:
        password = open(os.path.join(d, "initial-admin-password")).read().strip()
        m = manager.connect(host="127.0.0.1", port=port, username="admin", password=password,
                            hostkey_verify=False, allow_agent=False, look_for_keys=False,
                            timeout=600)
        groups = "".join(f"<monitor-group><name>mg{i}</name><enabled>true</enabled>"
                         "</monitor-group>" for i in range(a.entries))
        m.edit_config(target="candidate",
                      config=f'<config><monitor-groups xmlns="{NS}">{groups}</monitor-groups>'
                             '</config>')
        m.commit()
        subtree = ("subtree", f'<monitor-groups xmlns="{NS}"/>')
        for what, filt in [("<get> filtered to /monitor-groups", subtree),
                           ("<get> of everything", None)]:
            lat, size = [], 0
            for _ in range(a.runs):
                t0 = time.perf_counter()
                r = m.get(filter=filt) if filt else m.get()
                lat.append((time.perf_counter() - t0) * 1e3)
                size = len(r.xml)
            assert r.xml.count("<failure-ratio>") >= a.entries, "no state in the reply"
            print(f"ncclient {what}, {a.entries} monitor groups with state "
                  f"({size / 1e6:.1f} MB): median {statistics.median(lat):.1f} ms, "
                  f"min {min(lat):.1f} ms ({a.runs} runs)")
        m.close_session()
    finally:
        p.kill()
        p.wait()
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
