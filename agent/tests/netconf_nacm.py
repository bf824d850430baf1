"""Access control (RFC 8341) over SSH with ncclient, as three real users: the recovery user
configures two users and README's example rules (examples/nacm/noc-and-ops.xml); the noc user
reads and is refused every write; the ops user writes VRRP, BFD, monitor groups and multicast
and nothing else.

usage: netconf_nacm.py PORT RECOVERY_PASSWORD EXAMPLE_XML
Prints "all checks passed" at the end.
"""

import sys

from ncclient import manager
from ncclient.operations import RPCError

PORT, RECOVERY_PW, EXAMPLE = int(sys.argv[1]), sys.argv[2], sys.argv[3]
NC = "urn:ietf:params:xml:ns:netconf:base:1.0"
SYS = "urn:ietf:params:xml:ns:yang:ietf-system"
IF = "urn:ne-agent:yang:ne-interfaces"
VRRP = "urn:ne-agent:yang:ne-vrrp"
BFD = "urn:ne-agent:yang:ne-bfd"
NACM = "urn:ietf:params:xml:ns:yang:ietf-netconf-acm"


def connect(user, password):
    return manager.connect(
        host="127.0.0.1",
        port=PORT,
        username=user,
        password=password,
        hostkey_verify=False,
        allow_agent=False,
        look_for_keys=False,
        timeout=60,
    )


def check(cond, what):
    if not cond:
        print(f"FAILED: {what}")
        sys.exit(1)


def refused(call, *needles):
    """`call` must fail with access-denied; the rpc-error's message holds every needle."""
    try:
        call()
    except RPCError as e:
        check(e.tag == "access-denied", f"access-denied, got {e.tag}: {e.message}")
        for n in needles:
            check(n in (e.message or ""), f"{n!r} in {e.message}")
        return e
    check(False, "expected access-denied")


def config(xml):
    return f'<config xmlns="{NC}">{xml}</config>'


admin = connect("admin", RECOVERY_PW)
# Users first, then the rules (both are the recovery user's to write).
admin.edit_config(
    target="running",
    config=config(
        f'<system xmlns="{SYS}"><authentication>'
        "<user><name>noc</name><password>$0$noc-password</password></user>"
        "<user><name>olive</name><password>$0$olive-password</password></user>"
        "</authentication></system>"
        f'<interfaces xmlns="{IF}"><interface><name>eth0</name><ipv4><address><ip>10.0.0.1</ip>'
        "<prefix-length>29</prefix-length></address></ipv4>"
        f'<vrrp xmlns="{VRRP}"><group><vrid>1</vrid><virtual-ip><address>10.0.0.6</address>'
        "</virtual-ip></group></vrrp></interface></interfaces>"
    ),
)
admin.edit_config(target="running", config=open(EXAMPLE).read())

# noc: reads, never /nacm; every write refused, with the rule that refused it.
noc = connect("noc", "noc-password")
got = noc.get_config(source="running").data_xml
check("<interfaces" in got and "<vrrp" in got, got)
check("<nacm" not in got, f"/nacm is default-deny-all: {got}")
check("<netconf-state" in noc.get().data_xml, "state is readable")
e = refused(
    lambda: noc.edit_config(
        target="running",
        config=config(
            f'<interfaces xmlns="{IF}"><interface><name>eth0</name>'
            f'<vrrp xmlns="{VRRP}"><group><vrid>1</vrid><priority>50</priority></group></vrrp>'
            "</interface></interfaces>"
        ),
    ),
    "user 'noc' may not",
    "denied by rule 'read-only' of rule-list 'noc'",
)
check(e.path and "vrrp:priority" in e.path, f"error-path names the node: {e.path}")
refused(
    lambda: noc.edit_config(
        target="candidate", config=config(f'<bfd xmlns="{BFD}"><session><name>x</name>'
        "<peer-ip>10.0.0.9</peer-ip><local-discriminator>9</local-discriminator></session></bfd>")
    ),
    "may not create /ne-bfd:bfd",
)
refused(
    lambda: noc.kill_session("1"),
    "kill-session and delete-config are denied unless a rule permits them",
)

# ops: VRRP and BFD yes (candidate, commit), interfaces no.
olive = connect("olive", "olive-password")
with olive.locked("candidate"):
    olive.edit_config(
        target="candidate",
        config=config(
            f'<interfaces xmlns="{IF}"><interface><name>eth0</name>'
            f'<vrrp xmlns="{VRRP}"><group><vrid>1</vrid><priority>110</priority></group></vrrp>'
            f'</interface></interfaces><bfd xmlns="{BFD}"><session><name>to-b</name>'
            "<peer-ip>10.0.0.2</peer-ip><local-discriminator>10</local-discriminator></session></bfd>"
        ),
    )
    olive.commit()
got = admin.get_config(source="running").data_xml
check("<priority>110</priority>" in got and "<name>to-b</name>" in got, got)
refused(
    lambda: olive.edit_config(
        target="running",
        config=config(f'<interfaces xmlns="{IF}"><interface><name>eth1</name></interface></interfaces>'),
    ),
    "may not create /ne-interfaces:interfaces/interface[name='eth1']",
    "write-default is deny and no rule permits it",
)
refused(
    lambda: olive.edit_config(
        target="running",
        config=config(f'<nacm xmlns="{NACM}"><write-default>permit</write-default></nacm>'),
    ),
    "nacm:default-deny-all",
)

# The counters, for the recovery user.
state = admin.get(filter=("subtree", f'<nacm xmlns="{NACM}"/>')).data_xml
check("<denied-operations>1</denied-operations>" in state, state)
check("<denied-data-writes>4</denied-data-writes>" in state, state)
for m in (noc, olive, admin):
    m.close_session()
print("all checks passed")
