"""The interactive VRP-style CLI as an engineer gets it: the OpenSSH client on a real
pseudo-terminal (Python's pty module), driven expect-style: prompts and views, Tab completion,
`?` help with the schema's ranges and descriptions, history with the arrow keys, line editing,
errors with the caret, commit, and quit.

usage: vrp_pty.py PORT KEY_FILE
Prints "all checks passed" at the end; exits 1 with what failed otherwise.
"""

import os
import pty
import re
import select
import sys
import time

PORT, KEY = sys.argv[1], sys.argv[2]
UP = b"\x1b[A"
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class Terminal:
    def __init__(self):
        pid, fd = pty.fork()
        if pid == 0:
            os.execvp(
                "ssh",
                [
                    "ssh", "-t", "-F", "/dev/null",
                    "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes",
                    "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                    "-o", "LogLevel=ERROR", "-i", KEY, "-p", PORT, "admin@127.0.0.1",
                ],
            )
        self.pid, self.fd, self.seen = pid, fd, ""

    def send(self, data):
        os.write(self.fd, data)

    def expect(self, needle, timeout=20):
        """Read until `needle` shows (escape sequences left out); what came before it."""
        end = time.time() + timeout
        while True:
            plain = ANSI.sub("", self.seen)
            at = plain.find(needle)
            if at >= 0:
                # Keep what follows the needle for the next expect.
                self.seen = plain[at + len(needle):]
                return plain[: at + len(needle)]
            left = end - time.time()
            if left <= 0:
                fail(f"{needle!r} on the terminal; saw {plain!r}")
            ready, _, _ = select.select([self.fd], [], [], left)
            if ready:
                try:
                    chunk = os.read(self.fd, 65536)
                except OSError:
                    chunk = b""
                if not chunk:
                    fail(f"the terminal closed before {needle!r}; saw {plain!r}")
                self.seen += chunk.decode(errors="replace")

    def exit_status(self, timeout=20):
        end = time.time() + timeout
        while time.time() < end:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                return os.waitstatus_to_exitcode(status)
            try:
                os.read(self.fd, 65536)
            except OSError:
                pass
            time.sleep(0.05)
        fail("ssh did not exit")


def fail(what):
    print(f"FAILED: {what}")
    sys.exit(1)


def check(cond, what):
    if not cond:
        fail(what)


t = Terminal()
t.expect("<ne-agent>")

# Tab completes a unique keyword; Enter runs it: the system view.
t.send(b"sys\t")
t.expect("system-view ")
t.send(b"\r")
t.expect("[~ne-agent]")

# A view of its own; the prompt shows the uncommitted change.
t.send(b"interface a-dn\r")
t.expect("[*ne-agent-a-dn]")

# `?` lists what may come, with the YANG leaf's range and description.
t.send(b"vrrp vrid ?")
help_text = t.expect("[*ne-agent-a-dn]vrrp vrid ")
check("INTEGER<1-255>" in help_text, f"the vrid range in {help_text!r}")
check("irtual router" in help_text, f"the vrid description in {help_text!r}")
t.send(b"1 priority ?")
help_text = t.expect("[*ne-agent-a-dn]vrrp vrid 1 priority ")
check(
    "INTEGER<1-254>" in help_text and "default 100" in help_text,
    f"the priority range and default in {help_text!r}",
)
t.send(b"110\r")
t.expect("[*ne-agent-a-dn]")
t.send(b"vrrp vrid 1 virtual-ip 192.168.1.254\r")
t.expect("[*ne-agent-a-dn]")

# History: the arrow key brings the last line back; editing it (Ctrl-A, Ctrl-E, Backspace)
# and Enter runs the edited line.
t.send(UP)
t.expect("vrrp vrid 1 virtual-ip 192.168.1.254")
t.send(b"\x7f\x7f\x7f253\r")
t.expect("[*ne-agent-a-dn]")
t.send(UP + UP)
t.expect("vrrp vrid 1 virtual-ip 192.168.1.254")
t.send(UP)
t.expect("vrrp vrid 1 priority 110")
t.send(b"\x15")  # Ctrl-U: the line is dropped
t.send(b"ip address 192.168.1.1 24\r")
t.expect("[*ne-agent-a-dn]")

# Errors with the caret under the word.
t.send(b"vrrp vird 1\r")
err = t.expect("Error: Unrecognized command found at '^' position.")
check("     ^" in err, f"a caret under 'vird' in {err!r}")
t.expect("[*ne-agent-a-dn]")
t.send(b"vrrp vrid 300\r")
t.expect("Error: Wrong parameter found at '^' position.")
t.send(b"vrrp vrid 1\r")
t.expect("Error: Incomplete command found at '^' position.")

# Other views: a BFD session, a monitor group, the PIM view; quit goes up one, return to the
# user view.
t.send(b"bfd to-x bind peer-ip 10.9.9.9\r")
t.expect("[*ne-agent-bfd-session-to-x]")
t.send(b"discriminator local 77\r")
t.expect("[*ne-agent-bfd-session-to-x]")
t.send(b"quit\r")
t.expect("[*ne-agent]")
t.send(b"monitor-group m1\r")
t.expect("[*ne-agent-monitor-group-m1]")
t.send(b"display this\r")
t.expect("monitor-group m1")
t.send(b"pim\r")
t.expect("[*ne-agent-pim]")
t.send(b"return\r")
t.expect("<ne-agent>")

# Back to commit: the prompt shows ~ again; display shows what was committed.
t.send(b"system-view\r")
t.expect("[*ne-agent]")
t.send(b"commit comment from a pty\r")
t.expect("[~ne-agent]")
t.send(b"display current-configuration interface a-dn\r")
shown = t.expect("return")
t.expect("[~ne-agent]")
for row in [
    " ip address 192.168.1.1 255.255.255.0",
    " vrrp vrid 1 virtual-ip 192.168.1.253",  # the line from history, edited
    " vrrp vrid 1 virtual-ip 192.168.1.254",
    " vrrp vrid 1 priority 110",
]:
    check(row in shown, f"{row!r} in {shown!r}")
t.send(b"display configuration commit list\r")
listed = t.expect("[~ne-agent]")
check("admin" in listed and "from a pty" in listed, f"the commit in the list: {listed!r}")
t.send(b"quit\r")
t.expect("<ne-agent>")
t.send(b"quit\r")
check(t.exit_status() == 0, "quit ends the session with status 0")
print("all checks passed")
