"""Configurations that look armed but are not, or cannot work (issue 20), through ncclient
against a running ne-agent: the device refuses what cannot work with a message naming every
place involved, and shows what is not in effect. Interfaces are named ne-trap*, which do not
exist on the machine (pre-provisioned: not-present). Usage: netconf_traps.py PORT PASSWORD."""
import sys
import time

from ncclient import manager
from ncclient.operations import RPCError

PORT, PASSWORD = int(sys.argv[1]), sys.argv[2]
IF = "urn:ne-agent:yang:ne-interfaces"
VRRP = "urn:ne-agent:yang:ne-vrrp"
MG = "urn:ne-agent:yang:ne-monitor-group"


def check(cond, what):
    if not cond:
        sys.exit("FAILED: " + what)


def refused(m, config, what, *words):
    m.edit_config(target="candidate", config=config)
    try:
        m.commit()
    except RPCError as e:
        text = e.message or ""
        check(all(w in text for w in words), f"{what}: the message names {words}: {text!r}")
        m.discard_changes()
        return text
    sys.exit(f"FAILED: {what}: the commit was accepted")


def group(vrid, vip, extra=""):
    return (f'<vrrp xmlns="{VRRP}"><group><vrid>{vrid}</vrid><virtual-ip><address>{vip}</address>'
            f'</virtual-ip>{extra}</group></vrrp>')


def interface(name, addr, body=""):
    v4 = (f'<ipv4><address><ip>{addr}</ip><prefix-length>29</prefix-length></address></ipv4>'
          if addr else "")
    return f'<interface><name>{name}</name>{v4}{body}</interface>'


m = manager.connect(host="127.0.0.1", port=PORT, username="admin", password=PASSWORD,
                    hostkey_verify=False, allow_agent=False, look_for_keys=False, timeout=20)

# An mVRRP group tracking a monitor group that is not enabled (the default, as VRP's
# `monitor enable`): accepted, but the state says the track is not in effect.
track = ('<admin-vrrp/><track><monitor-group><name>uplinks</name><failure-ratio>100</failure-ratio>'
         '<mode>link</mode></monitor-group></track>')
m.edit_config(target="candidate", config=f'''<config>
  <interfaces xmlns="{IF}">{interface("ne-trap0", "10.0.0.1", group(1, "10.0.0.6", track))}
    {interface("ne-trap1", None)}</interfaces>
  <monitor-groups xmlns="{MG}"><monitor-group><name>uplinks</name>
    <binding-interface><name>ne-trap1</name></binding-interface></monitor-group></monitor-groups>
</config>''')
m.commit()


def state():
    return m.get(filter=("subtree", f'<interfaces xmlns="{IF}"/>')).data_xml + \
        m.get(filter=("subtree", f'<monitor-groups xmlns="{MG}"/>')).data_xml


def wait_for(words, what):
    end = time.time() + 10
    while True:
        s = state()
        if all(w in s for w in words):
            return s
        if time.time() > end:
            sys.exit(f"FAILED: {what}: {words} not in {s}")
        time.sleep(0.2)


wait_for(["<monitoring>disabled</monitoring>", "<group-state>disabled</group-state>"],
         "a disabled monitor group and the track of it say so in <get>")

# <get> lists every interface of the device, configured or not: loopback is never configured
# here but is there with its state and counters.
s = state()
lo = s.split("<name>lo</name>", 1)
check(len(lo) == 2 and "<oper-status>" in lo[1].split("</interface>", 1)[0]
      and "<in-packets>" in lo[1].split("</interface>", 1)[0], "unconfigured lo in <get>: " + s[:2000])
check("<oper-status>not-present</oper-status>" in s, "configured, absent interfaces still listed")
check("<name>lo</name>" not in m.get_config(source="running").data_xml, "get-config shows only configuration")

# Enabled: the bound interface is not present (down), so the group has failed.
m.edit_config(target="candidate", config=f'<config><monitor-groups xmlns="{MG}"><monitor-group>'
              f'<name>uplinks</name><enabled>true</enabled></monitor-group></monitor-groups></config>')
m.commit()
wait_for(["<monitoring>enabled</monitoring>", "<group-state>failed</group-state>",
          "<failure-ratio>100</failure-ratio>"], "the enabled group in effect")

# A virtual IP outside every subnet of its interface is refused, naming both.
refused(m, f'<config><interfaces xmlns="{IF}">{interface("ne-trap0", None, group(1, "10.0.0.9"))}'
           '</interfaces></config>',
        "virtual IP outside the interface's subnets", "10.0.0.9", "ne-trap0", "10.0.0.1/29")
check("10.0.0.9" not in m.get_config(source="running").data_xml, "nothing of the refused commit applied")

# The same virtual IP on two interfaces is refused, naming both places.
refused(m, f'<config><interfaces xmlns="{IF}">{interface("ne-trap2", "10.0.0.2", group(2, "10.0.0.6"))}'
           '</interfaces></config>',
        "the same virtual IP on two interfaces", "10.0.0.6", "group 1 on ne-trap0", "group 2 on ne-trap2")
check("ne-trap2" not in m.get_config(source="running").data_xml, "nothing of the refused commit applied")

# PIM on an interface that is not present takes part in no DR election: not DR, no DR address
# (it showed is-dr true with dr-address 0.0.0.0).
MC = "urn:ne-agent:yang:ne-multicast"
m.edit_config(target="candidate", config=f'<config><multicast xmlns="{MC}"><routing-enable>true</routing-enable>'
              f'</multicast><interfaces xmlns="{IF}"><interface><name>ne-trap3</name>'
              f'<pim xmlns="{MC}"><sm>true</sm></pim></interface></interfaces></config>')
m.commit()
s = wait_for(["<is-dr>false</is-dr>"], "PIM on a not-present interface is not DR")
check("<dr-address>0.0.0.0</dr-address>" not in s and "<is-dr>true</is-dr>" not in s,
      "no DR address 0.0.0.0: " + s)

# A confirmed commit whose session ends unconfirmed is reverted, and the log says so (it was
# silent): the Rust side checks the log.
b = manager.connect(host="127.0.0.1", port=PORT, username="admin", password=PASSWORD,
                    hostkey_verify=False, allow_agent=False, look_for_keys=False, timeout=20)
b.edit_config(target="candidate", config=f'<config><interfaces xmlns="{IF}"><interface><name>ne-trap9</name>'
              '<description>one-shot</description></interface></interfaces></config>')
b.commit(confirmed=True)
check("one-shot" in m.get_config(source="running").data_xml, "the confirmed commit is in running")
b.close_session()
end = time.time() + 10
while "one-shot" in m.get_config(source="running").data_xml:
    if time.time() > end:
        sys.exit("FAILED: the unconfirmed commit was not reverted when its session ended")
    time.sleep(0.1)

# Concurrent editors of running: 8 sessions each create 25 monitor groups of their own with
# edit-config on running. Every one of the 200 must be there (edits applied to a copy of
# running taken outside the datastore's lock undid each other's changes).
import threading

errors = []


def writer(w):
    try:
        c = manager.connect(host="127.0.0.1", port=PORT, username="admin", password=PASSWORD,
                            hostkey_verify=False, allow_agent=False, look_for_keys=False, timeout=20)
        for i in range(25):
            c.edit_config(target="running", config=f'<config><monitor-groups xmlns="{MG}"><monitor-group>'
                          f'<name>w{w}-{i}</name></monitor-group></monitor-groups></config>')
        c.close_session()
    except Exception as e:  # reported below
        errors.append(f"writer {w}: {e!r}")


threads = [threading.Thread(target=writer, args=(w,)) for w in range(8)]
for t in threads:
    t.start()
for t in threads:
    t.join(60)
check(not errors, f"concurrent writers failed: {errors}")
data = m.get_config(source="running", filter=("subtree", f'<monitor-groups xmlns="{MG}"/>')).data_xml
missing = [f"w{w}-{i}" for w in range(8) for i in range(25) if f"<name>w{w}-{i}</name>" not in data]
check(not missing, f"edits lost by concurrent writers: {len(missing)} of 200, e.g. {missing[:5]}")

m.close_session()
print("all checks passed")
