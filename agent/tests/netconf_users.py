"""Users and SSH hardening against a running agent, with ncclient (over paramiko).

usage: netconf_users.py PART PORT RECOVERY_USER RECOVERY_PASSWORD WORKDIR

PART is one of: users, passwords, penalty, recovery. Prints "all checks passed" at the end.
"""

import subprocess
import sys
import time

from ncclient import manager
from ncclient.operations import RPCError
from ncclient.transport.errors import AuthenticationError

PART, PORT, RECOVERY, RECOVERY_PW, WORKDIR = (
    sys.argv[1],
    int(sys.argv[2]),
    sys.argv[3],
    sys.argv[4],
    sys.argv[5],
)
SYS = "urn:ietf:params:xml:ns:yang:ietf-system"
NC = "urn:ietf:params:xml:ns:netconf:base:1.0"


def connect(user, password=None, key=None, bind=None):
    return manager.connect(
        host="127.0.0.1",
        port=PORT,
        username=user,
        password=password,
        key_filename=key,
        hostkey_verify=False,
        allow_agent=False,
        look_for_keys=False,
        timeout=60,
        bind_addr=bind,
    )


def refused(user, password=None, key=None, bind=None):
    try:
        m = connect(user, password, key, bind)
    except AuthenticationError:
        return True
    m.close_session()
    return False


def users(xml):
    return (
        f'<config><system xmlns="{SYS}"><authentication>{xml}</authentication>'
        "</system></config>"
    )


def delete_user(name):
    return users(
        f'<user xmlns:nc="{NC}" nc:operation="delete"><name>{name}</name></user>'
    )


def system_of(m, source):
    return m.get_config(
        source=source, filter=("subtree", f'<system xmlns="{SYS}"/>')
    ).data_xml


def check(cond, what):
    if not cond:
        print(f"FAILED: {what}")
        sys.exit(1)


def rpc_error(call):
    try:
        call()
    except RPCError as e:
        return str(e)
    return None


def keypair(name):
    path = f"{WORKDIR}/{name}"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", path], check=True
    )
    algorithm, blob = open(path + ".pub").read().split()[:2]
    return path, algorithm, blob


def part_users():
    admin = connect(RECOVERY, RECOVERY_PW)
    watch = connect(RECOVERY, RECOVERY_PW)
    watch.create_subscription()
    key, algorithm, blob = keypair("alice_key")
    check(refused("alice", "alice-pw"), "alice cannot log in before she exists")
    admin.edit_config(
        target="candidate",
        config=users(
            "<user><name>alice</name><password>$0$alice-pw</password>"
            f"<authorized-key><name>laptop</name><algorithm>{algorithm}</algorithm>"
            f"<key-data>{blob}</key-data></authorized-key></user>"
        ),
    )
    admin.commit()
    # The commit's notification names who changed what, and from where (RFC 6470).
    change = None
    deadline = time.time() + 10
    while time.time() < deadline:
        n = watch.take_notification(timeout=5)
        if n is not None and "netconf-config-change" in n.notification_xml:
            change = n.notification_xml
            break
    check(change is not None, "a netconf-config-change after the commit")
    for needle in (
        f"<username>{RECOVERY}</username>",
        "<source-host>127.0.0.1</source-host>",
        "ietf-system",
    ):
        check(needle in change, f"{needle} in {change}")

    # New logins see the commit at once: by password and by key, no restart.
    alice = connect("alice", "alice-pw")
    alice_by_key = connect("alice", key=key)
    check(refused("alice", "wrong"), "a wrong password is refused")
    stored = system_of(alice, "running")
    check("alice-pw" not in stored and "$6$" in stored, stored)

    # An edit of running is a commit too.
    admin.edit_config(
        target="running",
        config=users("<user><name>bob</name><password>$0$bob-pw</password></user>"),
    )
    connect("bob", "bob-pw").close_session()

    # Alice deletes herself: the commit succeeds, her sessions carry on until they end, new
    # logins fail. Access control (RFC 8341) lets no one but the recovery user write
    # /system/authentication (default-deny-write) unless a rule does: this one lets alice
    # write her own entry.
    admin.edit_config(
        target="running",
        config=(
            '<config xmlns="urn:ietf:params:xml:ns:netconf:base:1.0">'
            '<nacm xmlns="urn:ietf:params:xml:ns:yang:ietf-netconf-acm">'
            "<groups><group><name>self</name><user-name>alice</user-name></group></groups>"
            "<rule-list><name>self</name><group>self</group><rule><name>own-entry</name>"
            "<path>/ietf-system:system/authentication/user[name='alice']</path>"
            "<access-operations>*</access-operations><action>permit</action></rule>"
            "</rule-list></nacm></config>"
        ),
    )
    alice.edit_config(target="running", config=delete_user("alice"))
    check("alice" not in system_of(alice, "running"), "alice deleted")
    check("<data" in alice_by_key.get_config(source="running").data_xml, "key session lives")
    check(refused("alice", "alice-pw"), "the deleted user's password no longer works")
    check(refused("alice", key=key), "the deleted user's key no longer works")
    alice.close_session()
    alice_by_key.close_session()
    # The recovery user always works.
    connect(RECOVERY, RECOVERY_PW).close_session()
    admin.close_session()
    watch.close_session()


def part_passwords():
    m = connect(RECOVERY, RECOVERY_PW)
    secret = "carol-cleartext-4711"
    m.edit_config(
        target="candidate",
        config=users(f"<user><name>carol</name><password>$0${secret}</password></user>"),
    )
    cand = system_of(m, "candidate")
    check(secret not in cand and "<password>$6$" in cand, f"candidate holds a hash: {cand}")
    m.commit()
    run = system_of(m, "running")
    check(secret not in run and "<password>$6$" in run, f"running holds a hash: {run}")
    m.copy_config(source="running", target="startup")
    start = system_of(m, "startup")
    check(secret not in start and "<password>$6$" in start, start)
    connect("carol", secret).close_session()
    # An inline copy-config hashes too.
    inline = (
        f'<source xmlns="{NC}"><config><system xmlns="{SYS}"><authentication>'
        f"<user><name>carol</name><password>$0$copied-{secret}</password></user>"
        "</authentication></system></config></source>"
    )
    m.copy_config(source=inline, target="candidate")
    cand = system_of(m, "candidate")
    check(secret not in cand and "<password>$6$" in cand, f"copied candidate: {cand}")
    m.discard_changes()

    # Formats the device cannot verify: refused with the user, the format and the accepted
    # ones; nothing changes.
    for value, fmt in (
        ("$1$abcdefgh$abcdefghijklmnopqrstuv", "$1$"),
        ("$9$x", "$9$"),
    ):
        for target in ("candidate", "running"):
            e = rpc_error(
                lambda: m.edit_config(
                    target=target,
                    config=users(f"<user><name>dave</name><password>{value}</password></user>"),
                )
            )
            check(e is not None, f"{value} refused on {target}")
            for needle in ("dave", fmt, "$5$", "$6$", "$0$"):
                check(needle in e, f"{needle!r} in the error for {value}: {e}")
    for source in ("candidate", "running"):
        check("dave" not in system_of(m, source), f"nothing of dave in {source}")
    check(refused("dave", "x"), "dave cannot log in")
    m.close_session()


def part_penalty():
    # A session opened before the failures is not slowed down.
    established = connect(RECOVERY, RECOVERY_PW)
    for _ in range(6):
        check(refused(RECOVERY, "not-the-password"), "wrong password refused")
    # Six failures: two free, then 0.5 s doubling, so the next attempt waits 4 s.
    t = time.time()
    established.get_config(source="running")
    busy = time.time() - t
    t = time.time()
    connect(RECOVERY, RECOVERY_PW, bind="127.0.0.2").close_session()
    other = time.time() - t
    t = time.time()
    connect(RECOVERY, RECOVERY_PW).close_session()
    same = time.time() - t
    print(f"established {busy:.2f}s, other address {other:.2f}s, same address {same:.2f}s")
    check(same >= 4.0, f"the penalised address waits at least 4 s ({same:.2f})")
    check(other < 2.0, f"another address is not delayed ({other:.2f})")
    check(busy < 2.0, f"an established session is not delayed ({busy:.2f})")
    # The success cleared the address.
    t = time.time()
    connect(RECOVERY, RECOVERY_PW).close_session()
    after = time.time() - t
    check(after < 2.0, f"a success clears the penalty ({after:.2f})")
    established.close_session()


def part_recovery():
    check(refused("admin", RECOVERY_PW), "the default name is not a user once renamed")
    m = connect(RECOVERY, RECOVERY_PW)
    # A configured user of the recovery user's name gives it a new password.
    m.edit_config(
        target="running",
        config=users(f"<user><name>{RECOVERY}</name><password>$0$new-root-pw</password></user>"),
    )
    connect(RECOVERY, "new-root-pw").close_session()
    check(refused(RECOVERY, RECOVERY_PW), "the generated password is replaced")
    # Deleting that user brings the generated password back: nobody is locked out.
    m.edit_config(target="running", config=delete_user(RECOVERY))
    connect(RECOVERY, RECOVERY_PW).close_session()
    check(refused(RECOVERY, "new-root-pw"), "the configured password is gone")
    # The configuration renames the recovery user (ne-system:recovery-user): the generated
    # password follows the name, and the old name is an ordinary account (none here).
    m.edit_config(
        target="running",
        config=users('<recovery-user xmlns="urn:ne-agent:yang:ne-system">breakglass</recovery-user>'),
    )
    b = connect("breakglass", RECOVERY_PW)
    check(refused(RECOVERY, RECOVERY_PW), "the old recovery name no longer logs in")
    # The renamed recovery user is not restricted by access control: it may write /nacm.
    b.edit_config(
        target="running",
        config='<config><nacm xmlns="urn:ietf:params:xml:ns:yang:ietf-netconf-acm">'
        "<read-default>permit</read-default></nacm></config>",
    )
    # Removing the leaf gives the name back.
    b.edit_config(
        target="running",
        config=users(
            f'<recovery-user xmlns="urn:ne-agent:yang:ne-system" xmlns:nc="{NC}" '
            'nc:operation="delete"/>'
        ),
    )
    b.close_session()
    connect(RECOVERY, RECOVERY_PW).close_session()
    check(refused("breakglass", RECOVERY_PW), "the configured name is gone")
    m.close_session()


{
    "users": part_users,
    "passwords": part_passwords,
    "penalty": part_penalty,
    "recovery": part_recovery,
}[PART]()
print("all checks passed")
