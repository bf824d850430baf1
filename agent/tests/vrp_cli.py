"""The VRP-style CLI over SSH with paramiko and ncclient, against a running agent.

usage: vrp_cli.py PART PORT RECOVERY_PASSWORD [ARGS...]

PART is one of:
  get-config            print running as get-config returns it (ncclient)
  nacm USERS RULES      configure the example users and rules (ncclient); a CLI commit (and a
                        rollback) of the read-only noc user is refused as access-denied, one of
                        olive (ops) within her rules goes through
  conflict              two CLI sessions change the same node: the second commit is refused as a
                        conflict and changes nothing
  tty                   the interactive CLI on a terminal (paramiko invoke_shell): prompts, edits,
                        commit
Prints "all checks passed" at the end (except get-config).
"""

import sys
import time

import paramiko
from ncclient import manager

PART, PORT, RECOVERY_PW = sys.argv[1], int(sys.argv[2]), sys.argv[3]
ARGS = sys.argv[4:]


def check(cond, what):
    if not cond:
        print(f"FAILED: {what}")
        sys.exit(1)


def netconf():
    return manager.connect(
        host="127.0.0.1",
        port=PORT,
        username="admin",
        password=RECOVERY_PW,
        hostkey_verify=False,
        allow_agent=False,
        look_for_keys=False,
        timeout=60,
    )


def ssh(user, password):
    c = paramiko.SSHClient()
    c.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    c.connect(
        "127.0.0.1",
        port=PORT,
        username=user,
        password=password,
        allow_agent=False,
        look_for_keys=False,
        timeout=30,
    )
    return c


def run(client, command):
    """An exec request: (exit status, stdout, stderr)."""
    _, out, err = client.exec_command(command, timeout=30)
    status = out.channel.recv_exit_status()
    return status, out.read().decode(), err.read().decode()


def running():
    with netconf() as m:
        return m.get_config(source="running").data_xml


def expect(chan, needle, timeout=20):
    """Read the terminal until `needle` shows; everything read so far."""
    seen = ""
    end = time.time() + timeout
    while needle not in seen:
        if time.time() > end:
            check(False, f"{needle!r} on the terminal; saw {seen!r}")
        if chan.recv_ready():
            seen += chan.recv(65536).decode(errors="replace")
        else:
            time.sleep(0.02)
    return seen


def part_nacm():
    users, rules = ARGS
    with netconf() as m:
        m.edit_config(target="running", config=open(users).read())
        m.edit_config(target="running", config=open(rules).read())
    before = running()
    noc = ssh("noc", "noc-password")
    status, out, err = run(noc, "display current-configuration")
    check(status == 0 and out.endswith("return\n"), f"noc displays: {status} {out!r} {err!r}")
    status, out, err = run(noc, "system-view\nsysname noc-was-here\ncommit")
    check(status == 1, f"noc's commit fails: {status} {err!r}")
    check(
        "line 3: commit\nError: Access denied: user 'noc' may not" in err,
        f"access-denied in words: {err!r}",
    )
    check(running() == before, "nothing committed")
    olive = ssh("olive", "olive-password")
    status, out, err = run(
        olive, "system-view\nmonitor-group olive-mg\nmonitor enable\ncommit"
    )
    check(status == 0, f"olive commits a monitor group: {status} {err!r}")
    check("olive-mg" in running(), "olive's monitor group is in running")
    status, out, err = run(olive, "system-view\nsysname olive-was-here\ncommit")
    check(status == 1 and "Access denied: user 'olive'" in err, f"olive's sysname: {err!r}")
    # A rollback is a commit like any other: noc may not undo olive's monitor group.
    status, out, err = run(noc, "display configuration commit list")
    check(status == 0 and "Total commit records: 3" in out, f"noc lists the commits: {out!r}")
    status, out, err = run(noc, "rollback configuration to commit-id 2")
    check(
        status == 1 and "Error: Access denied: user 'noc' may not delete" in err,
        f"noc's rollback: {status} {err!r}",
    )
    check("olive-mg" in running(), "olive's monitor group stays")


def part_conflict():
    admin = ssh("admin", RECOVERY_PW)
    status, _, err = run(
        admin,
        "system-view\ninterface a-ic\nip address 10.0.0.5 24\n"
        "vrrp vrid 1 virtual-ip 10.0.0.6\ncommit",
    )
    check(status == 0, f"the group is made: {err!r}")
    # Session A: a shell without a terminal, kept open.
    a = admin.get_transport().open_session()
    a.invoke_shell()
    a.sendall(
        b"system-view\ninterface a-ic\nvrrp vrid 1 priority 110\n"
        b"display configuration candidate\n"
    )
    # A's edit is made (its display has printed) before B commits: A's base is the commit
    # before B's.
    shown, end = b"", time.time() + 20
    while b"vrrp vrid 1 priority 110" not in shown:
        check(time.time() < end, f"A's candidate shows its edit; saw {shown!r}")
        if a.recv_ready():
            shown += a.recv(65536)
        else:
            time.sleep(0.02)
    # Session B commits the same node meanwhile.
    status, _, err = run(admin, "system-view\ninterface a-ic\nvrrp vrid 1 priority 120\ncommit")
    check(status == 0, f"B commits: {err!r}")
    a.sendall(b"commit\n")
    a.shutdown_write()
    status = a.recv_exit_status()
    err = b""
    while a.recv_stderr_ready():
        err += a.recv_stderr(65536)
    err = err.decode()
    check(status == 1, f"A's commit fails: {status} {err!r}")
    check(
        "line 5: commit\nError: Conflict: another session committed changes to the same "
        "configuration" in err and "interface a-ic vrrp group 1 priority" in err,
        f"the conflict in words: {err!r}",
    )
    check("<priority>120</priority>" in running(), "B's change stays")


def part_tty():
    admin = ssh("admin", RECOVERY_PW)
    chan = admin.invoke_shell(term="vt100", width=120, height=40)
    expect(chan, "<ne-agent>")
    chan.send(b"system-view\r")
    expect(chan, "[~ne-agent]")
    chan.send(b"interface a-dn\r")
    expect(chan, "[*ne-agent-a-dn]")
    chan.send(b"ip address 192.168.1.1 24\r")
    expect(chan, "[*ne-agent-a-dn]")
    # Tab completes, ? lists, Ctrl-C abandons the line.
    chan.send(b"pim ign\t")
    expect(chan, "pim ignore ")
    chan.send(b"?")
    expect(chan, "assert-state")
    chan.send(b"\x03")
    expect(chan, "^C")
    chan.send(b"commit\r")
    expect(chan, "[~ne-agent-a-dn]")
    check("192.168.1.1" in running(), "the commit reached running")
    chan.send(b"return\r")
    expect(chan, "<ne-agent>")
    chan.send(b"quit\r")
    check(chan.recv_exit_status() == 0, "quit ends the session with status 0")


if PART == "get-config":
    print(running())
    sys.exit(0)
{"nacm": part_nacm, "conflict": part_conflict, "tty": part_tty}[PART]()
print("all checks passed")
