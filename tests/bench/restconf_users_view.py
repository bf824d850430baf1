#!/usr/bin/env python3
"""The RESTCONF numbers of issue 18 as a user's tools see them: Python `requests` (one
keep-alive session, JSON decoded as a user would) and `curl` (a new process, connection and
TLS handshake every time). Starts the agent binary given (its own data directory, loopback,
port 0), PUTs N monitor groups, then times, each --runs times:
  - GET of the N groups with their state (the default, content=all);
  - GET of the N groups' configuration (content=config);
  - a one-entry PATCH (it flips one group's `enabled`);
and prints medians. `restconf-bench` gives the server's view of the same resource (its own
HTTP client); this gives the user's, which adds the client's TLS, HTTP and JSON work.

Usage: restconf_users_view.py AGENT [--entries 10000] [--runs 20]
   e.g. tests/bench/restconf_users_view.py target/release/ne-agent
"""
import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time

import requests
import urllib3

import agent_proc

urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)

GROUPS = "/restconf/data/ne-monitor-group:monitor-groups"
JSON = "application/yang-data+json"


def start(agent, d):
    return agent_proc.start(agent, d, r"https=127\.0\.0\.1:(\d+)")

def median_ms(f, runs):
    lat = []
    for _ in range(runs):
        t0 = time.perf_counter()
        f()
        lat.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(lat), min(lat)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("agent")
    ap.add_argument("--entries", type=int, default=10000)
    ap.add_argument("--runs", type=int, default=20)
    a = ap.parse_args()
    d = tempfile.mkdtemp(prefix="rc-users-view-")
    p, port = start(a.agent, d)
    try:
        password = open(os.path.join(d, "initial-admin-password")).read().strip()
        base = f"https://127.0.0.1:{port}"
        s = requests.Session()
        s.auth = ("admin", password)
        s.verify = False
        s.trust_env = False  # REQUESTS_CA_BUNDLE would override verify=False
        s.headers.update({"Accept": JSON})
        body = {"ne-monitor-group:monitor-groups": {"monitor-group": [
            {"name": f"mg{i}", "enabled": True} for i in range(a.entries)]}}
        r = s.put(base + GROUPS, json=body, headers={"Content-Type": JSON}, timeout=600)
        assert r.status_code in (201, 204), r.text

        def get_state():
            r = s.get(base + GROUPS, timeout=60)
            groups = r.json()["ne-monitor-group:monitor-groups"]["monitor-group"]
            assert len(groups) == a.entries and "monitoring" in groups[-1], r.text[-300:]

        def get_config():
            r = s.get(base + GROUPS + "?content=config", timeout=60)
            assert len(r.json()["ne-monitor-group:monitor-groups"]["monitor-group"]) == a.entries

        flip = [False]

        def patch():
            flip[0] = not flip[0]
            r = s.patch(base + GROUPS + "/monitor-group=mg7",
                        json={"ne-monitor-group:monitor-group": [
                            {"name": "mg7", "enabled": not flip[0]}]},
                        headers={"Content-Type": JSON}, timeout=60)
            assert r.status_code == 204, r.text

        print(f"restconf users' view: {a.entries} monitor groups, release agent on "
              f"127.0.0.1:{port}, {a.runs} runs each")
        for what, f in [("requests: GET with state (content=all)", get_state),
                        ("requests: GET content=config", get_config),
                        ("requests: one-entry PATCH", patch)]:
            med, low = median_ms(f, a.runs)
            print(f"{what:<44} median {med:7.2f} ms, min {low:7.2f} ms")
        curl = shutil.which("curl")
        if curl:
            def curl_get():
                subprocess.run([curl, "-sk", "-o", "/dev/null", "-u", f"admin:{password}",
                                "-H", f"Accept: {JSON}", "--fail", base + GROUPS], check=True)
            med, low = median_ms(curl_get, a.runs)
            print(f"{'curl: GET with state (new connection each)':<44} median {med:7.2f} ms, "
                  f"min {low:7.2f} ms")
    finally:
        p.kill()
        p.wait()
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
