"""Access-control rules (RFC 8341 §3.4) over SSH with ncclient, as real users logging in with
passwords and a key: reads by path with list keys, writes by path with keys, an rpc-name rule,
rule order, a notification rule, users without a group, default-deny-write and -all nodes,
enable-nacm, the recovery user. The recovery user sets everything up.

usage: netconf_nacm_rules.py PORT RECOVERY_PASSWORD WORKDIR
Prints "all checks passed" at the end, and the number of cases.
"""

import subprocess
import sys
import time

from ncclient import manager
from ncclient.operations import RPCError

PORT, RECOVERY_PW, WORKDIR = int(sys.argv[1]), sys.argv[2], sys.argv[3]
NC = "urn:ietf:params:xml:ns:netconf:base:1.0"
SYS = "urn:ietf:params:xml:ns:yang:ietf-system"
IF = "urn:ne-agent:yang:ne-interfaces"
BFD = "urn:ne-agent:yang:ne-bfd"
MG = "urn:ne-agent:yang:ne-monitor-group"
NACM = "urn:ietf:params:xml:ns:yang:ietf-netconf-acm"
CASES = 0


def connect(user, password=None, key=None):
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
    )


def check(cond, what):
    global CASES
    CASES += 1
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
    check(False, f"expected access-denied ({needles})")


def config(xml):
    return f'<config xmlns="{NC}">{xml}</config>'


def rule(name, action, ops, module="*", path=None, rpc=None, notification=None):
    target = ""
    if path:
        target = f"<path>{path}</path>"
    elif rpc:
        target = f"<rpc-name>{rpc}</rpc-name>"
    elif notification:
        target = f"<notification-name>{notification}</notification-name>"
    return (
        f"<rule><name>{name}</name><module-name>{module}</module-name>{target}"
        f"<access-operations>{ops}</access-operations><action>{action}</action></rule>"
    )


# Keys for dave.
key = f"{WORKDIR}/dave_key"
subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key], check=True)
algorithm, blob = open(key + ".pub").read().split()[:2]

admin = connect("admin", RECOVERY_PW)
admin.edit_config(
    target="running",
    config=config(
        f'<system xmlns="{SYS}"><authentication>'
        "<user><name>carol</name><password>$0$carol-pw</password></user>"
        f"<user><name>dave</name><authorized-key><name>k</name><algorithm>{algorithm}</algorithm>"
        f"<key-data>{blob}</key-data></authorized-key></user>"
        "<user><name>eve</name><password>$0$eve-pw</password></user>"
        "</authentication></system>"
        f'<bfd xmlns="{BFD}">'
        "<session><name>public</name><peer-ip>10.0.0.2</peer-ip><local-discriminator>1</local-discriminator></session>"
        "<session><name>secret</name><peer-ip>10.0.0.3</peer-ip><local-discriminator>2</local-discriminator></session>"
        "</bfd>"
        f'<monitor-groups xmlns="{MG}">'
        "<monitor-group><name>m1</name></monitor-group>"
        "<monitor-group><name>m2</name></monitor-group>"
        "<monitor-group><name>m3</name></monitor-group>"
        "</monitor-groups>"
    ),
)
rules_carol = (
    rule("hide-secret", "deny", "read", path="/ne-bfd:bfd/session[name='secret']")
    + rule("m1-writable", "permit", "create update", path="/ne-monitor-group:monitor-groups/monitor-group[name='m1']")
    + rule("no-schemas", "deny", "exec", module="ietf-netconf-monitoring", rpc="get-schema")
    + rule("m3-hidden-first", "deny", "read", path="/ne-monitor-group:monitor-groups/monitor-group[name='m3']")
    + rule("m3-shown-later", "permit", "read", path="/ne-monitor-group:monitor-groups/monitor-group[name='m3']")
    + rule("no-config-change", "deny", "read", module="ietf-netconf-notifications", notification="netconf-config-change")
)
rules_dave = rule("interfaces", "permit", "create update delete", module="ne-interfaces")
admin.edit_config(
    target="running",
    config=config(
        f'<nacm xmlns="{NACM}">'
        "<groups><group><name>g-carol</name><user-name>carol</user-name></group>"
        "<group><name>g-dave</name><user-name>dave</user-name></group></groups>"
        f"<rule-list><name>carol</name><group>g-carol</group>{rules_carol}</rule-list>"
        f"<rule-list><name>dave</name><group>g-dave</group>{rules_dave}</rule-list>"
        "</nacm>"
    ),
)

carol = connect("carol", "carol-pw")
got = carol.get_config(source="running").data_xml
# Read by path with a list key: one session hidden, the other shown.
check("<name>public</name>" in got, f"carol reads session public: {got}")
check("<name>secret</name>" not in got, f"session secret is hidden: {got}")
# Rule order: the first matching rule (deny) wins over a later permit.
check("<name>m3</name>" not in got, f"m3 hidden by the first rule: {got}")
check("<name>m1</name>" in got and "<name>m2</name>" in got, got)
# Filters see the same: a subtree filter naming the hidden entry returns nothing of it.
sub = carol.get_config(
    source="running",
    filter=("subtree", f'<bfd xmlns="{BFD}"><session><name>secret</name></session></bfd>'),
).data_xml
check("secret" not in sub, f"filter on a hidden entry: {sub}")
xp = carol.get(filter=("xpath", ({"b": BFD}, "/b:bfd/b:session/b:name"))).data_xml
check("public" in xp and "secret" not in xp, f"xpath: {xp}")
# /nacm is default-deny-all: carol reads none of it.
check("<nacm" not in carol.get().data_xml, "/nacm hidden from carol")
# Write by path with a key: m1 may be updated, m2 may not (write-default deny).
carol.edit_config(
    target="running",
    config=config(f'<monitor-groups xmlns="{MG}"><monitor-group><name>m1</name><enabled>true</enabled></monitor-group></monitor-groups>'),
)
m1 = admin.get_config(source="running", filter=("subtree", f'<monitor-groups xmlns="{MG}"><monitor-group><name>m1</name></monitor-group></monitor-groups>')).data_xml
check("<enabled>true</enabled>" in m1, f"m1 updated: {m1}")
e = refused(
    lambda: carol.edit_config(
        target="running",
        config=config(f'<monitor-groups xmlns="{MG}"><monitor-group><name>m2</name><enabled>true</enabled></monitor-group></monitor-groups>'),
    ),
    "user 'carol' may not",
    "m2",
    "write-default is deny",
)
check(e.path and "m2" in e.path, f"error-path: {e.path}")
# A write of a permitted entry that also touches a denied one changes nothing.
refused(
    lambda: carol.edit_config(
        target="running",
        config=config(
            f'<monitor-groups xmlns="{MG}"><monitor-group><name>m1</name><enabled>false</enabled></monitor-group>'
            "<monitor-group><name>m2</name><enabled>true</enabled></monitor-group></monitor-groups>"
        ),
    ),
)
check("<enabled>true</enabled>" in admin.get_config(source="running", filter=("subtree", f'<monitor-groups xmlns="{MG}"><monitor-group><name>m1</name></monitor-group></monitor-groups>')).data_xml, "nothing half-applied")
# An rpc-name rule: get-schema refused, with the rule named.
refused(lambda: carol.get_schema("ne-bfd"), "denied by rule 'no-schemas' of rule-list 'carol'")
# Delete-config is denied by default (RFC 8341), even without a rule.
refused(lambda: carol.delete_config(target="startup"), "kill-session and delete-config")
# A notification rule: carol subscribed sees no netconf-config-change; admin's watcher does.
carol.create_subscription()
watch = connect("admin", RECOVERY_PW)
watch.create_subscription()
admin.edit_config(
    target="running",
    config=config(f'<monitor-groups xmlns="{MG}"><monitor-group><name>m4</name></monitor-group></monitor-groups>'),
)
n = watch.take_notification(timeout=10)
check(n is not None and "netconf-config-change" in n.notification_xml, "the recovery user is notified")
seen = []
while True:
    cn = carol.take_notification(timeout=2)
    if cn is None:
        break
    seen.append(cn.notification_xml)
check(not any("netconf-config-change" in x for x in seen), f"carol's notification rule holds the event back: {seen}")
counters = admin.get(filter=("subtree", f'<nacm xmlns="{NACM}"/>')).data_xml
check("<denied-notifications>" in counters and "<denied-notifications>0<" not in counters, counters)

# dave logs in with his key; his module rule lets him write interfaces, nothing else.
dave = connect("dave", key=key)
dave.edit_config(
    target="running",
    config=config(f'<interfaces xmlns="{IF}"><interface><name>eth9</name><description>by dave</description></interface></interfaces>'),
)
check("by dave" in admin.get_config(source="running").data_xml, "dave's permitted write")
refused(
    lambda: dave.edit_config(
        target="running",
        config=config(f'<bfd xmlns="{BFD}"><session><name>public</name><min-tx-interval>50</min-tx-interval></session></bfd>'),
    ),
    "user 'dave' may not create /ne-bfd:bfd/session[name='public']/min-tx-interval",
)
# Users live under a default-deny-write node: a module rule for ne-interfaces does not reach them.
refused(
    lambda: dave.edit_config(
        target="running",
        config=config(f'<system xmlns="{SYS}"><authentication><user><name>mallory</name></user></authentication></system>'),
    ),
    "nacm:default-deny-write",
)
# eve is in no group: reads per read-default, writes per write-default (deny).
eve = connect("eve", "eve-pw")
check("<name>secret</name>" in eve.get_config(source="running").data_xml, "eve: no rule hides anything")
refused(
    lambda: eve.edit_config(
        target="running",
        config=config(f'<monitor-groups xmlns="{MG}"><monitor-group><name>e1</name></monitor-group></monitor-groups>'),
    ),
    "write-default is deny and no rule permits it",
)
# enable-nacm false: nothing is checked any more; true again restores the rules.
admin.edit_config(target="running", config=config(f'<nacm xmlns="{NACM}"><enable-nacm>false</enable-nacm></nacm>'))
eve.edit_config(
    target="running",
    config=config(f'<monitor-groups xmlns="{MG}"><monitor-group><name>e1</name></monitor-group></monitor-groups>'),
)
check("<name>e1</name>" in admin.get_config(source="running").data_xml, "enable-nacm false lets eve write")
admin.edit_config(target="running", config=config(f'<nacm xmlns="{NACM}"><enable-nacm>true</enable-nacm></nacm>'))
refused(
    lambda: eve.edit_config(
        target="running",
        config=config(f'<monitor-groups xmlns="{MG}"><monitor-group><name>e2</name></monitor-group></monitor-groups>'),
    ),
)
# The recovery user is never restricted: it reads the hidden entry and /nacm.
everything = admin.get_config(source="running").data_xml
check("<name>secret</name>" in everything and "<nacm" in everything, "recovery user reads all")

for m in (carol, watch, dave, eve, admin):
    m.close_session()
print(f"all checks passed ({CASES} cases)")
