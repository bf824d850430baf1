"""Start the agent binary for a bench script: its own data directory, loopback, port 0 for
both front ends, `RUST_LOG=info` into `agent.log` there; the port it reports is read from
that log."""
import os
import re
import subprocess
import time


def start(agent, d, listening):
    """Start `agent` with data directory `d`; (process, port), where the port is the first
    group of the regular expression `listening` in the agent's log (e.g. NETCONF's
    `listen=127\\.0\\.0\\.1:(\\d+)` or RESTCONF's `https=127\\.0\\.0\\.1:(\\d+)`)."""
    log = open(os.path.join(d, "agent.log"), "w")
    p = subprocess.Popen([agent, "--listen", "127.0.0.1:0", "--restconf-listen", "127.0.0.1:0",
                          "--data-dir", d], stderr=log, env=dict(os.environ, RUST_LOG="info"))
    deadline = time.time() + 60
    text = ""
    while time.time() < deadline:
        text = open(os.path.join(d, "agent.log")).read()
        m = re.search(listening, text)
        if m:
            return p, int(m.group(1))
        time.sleep(0.05)
    p.kill()
    raise SystemExit("the agent did not start:\n" + text)
