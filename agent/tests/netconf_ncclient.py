"""NETCONF operations through ncclient (the client netconf-console2 and Ansible build on),
against a running ne-agent. Usage: netconf_ncclient.py PORT PASSWORD. Exits non-zero with a
message on the first failed check."""
import sys

from ncclient import manager
from ncclient.operations import RPCError

PORT, PASSWORD = int(sys.argv[1]), sys.argv[2]
BFD = "urn:ne-agent:yang:ne-bfd"
IF = "urn:ne-agent:yang:ne-interfaces"


def connect():
    return manager.connect(host="127.0.0.1", port=PORT, username="admin", password=PASSWORD,
                           hostkey_verify=False, allow_agent=False, look_for_keys=False,
                           timeout=20)


def check(cond, what):
    if not cond:
        sys.exit("FAILED: " + what)


def expect_error(fn, tag, what):
    try:
        fn()
    except RPCError as e:
        check(e.tag == tag, f"{what}: expected error-tag {tag}, got {e.tag} ({e.message})")
        return e
    sys.exit(f"FAILED: {what}: no rpc-error")


def session(name, disc, extra=""):
    return (f'<session><name>{name}</name><peer-ip>127.0.0.{disc}</peer-ip>'
            f'<local-discriminator>{disc}</local-discriminator>{extra}</session>')


a = connect()
b = connect()
check(a.session_id != b.session_id, "distinct session ids")
caps = list(a.server_capabilities)
for c in ["urn:ietf:params:netconf:base:1.1", "urn:ietf:params:netconf:capability:candidate:1.0",
          "urn:ietf:params:netconf:capability:confirmed-commit:1.0",
          "urn:ietf:params:netconf:capability:confirmed-commit:1.1",
          "urn:ietf:params:netconf:capability:validate:1.1"]:
    check(c in caps, "capability " + c)

# edit-config + commit, get-config with and without filters.
a.edit_config(target="candidate", config=f'<config><bfd xmlns="{BFD}">{session("to-b", 2)}{session("to-c", 3)}</bfd></config>')
a.commit()
data = a.get_config(source="running").data_xml
check("<name>to-b</name>" in data and "<name>to-c</name>" in data, "committed sessions in running")
check("detect-multiplier" not in data, "explicit mode hides defaults")
data = a.get_config(source="running", filter=("subtree", f'<bfd xmlns="{BFD}"><session><name>to-c</name></session></bfd>')).data_xml
check("to-c" in data and "to-b" not in data, "content-match filter selects one entry: " + data)
data = a.get(filter=("subtree", f'<bfd xmlns="{BFD}"><session><name/></session></bfd>')).data_xml
check("<name>to-b</name>" in data and "peer-ip" not in data, "selection filter")
data = a.get_config(source="running", filter=("xpath", ({"b": BFD}, "/b:bfd/b:session[b:name='to-b']/b:peer-ip"))).data_xml
check("<peer-ip>127.0.0.2</peer-ip>" in data and "<name>to-b</name>" in data and "to-c" not in data
      and "local-discriminator" not in data, "xpath filter: " + data)
# Unprefixed names, as typed with netconf-console2 --get -x, match in any module.
data = a.get_config(source="running", filter=("xpath", "/bfd/session[name='to-b']/peer-ip")).data_xml
check("<peer-ip>127.0.0.2</peer-ip>" in data and "to-c" not in data, "unprefixed xpath filter: " + data)
expect_error(lambda: a.get_config(source="running", filter=("xpath", ({"b": BFD}, "/b:bfd["))),
             "invalid-value", "malformed xpath filter")
data = a.get_config(source="running", with_defaults="report-all").data_xml
check("<detect-multiplier>3</detect-multiplier>" in data, "report-all shows defaults")

# Validation errors come back as precise rpc-errors.
e = expect_error(lambda: a.edit_config(target="candidate", config=f'<config><bfd xmlns="{BFD}"><session><name>x</name><detect-multiplier>99</detect-multiplier></session></bfd></config>'),
                 "invalid-value", "out-of-range value")
check("detect-multiplier" in e.message, "message names the leaf")
e = expect_error(lambda: a.edit_config(target="candidate", config=f'<config><bfd xmlns="{BFD}"><session><name>x</name><peer-ip>10.0.0.256</peer-ip></session></bfd></config>'),
                 "invalid-value", "bad IPv4 address")
check("dotted-quad" in e.message and "25[0-5]" not in e.message, "the type's own message: " + e.message)
expect_error(lambda: a.edit_config(target="candidate", config=f'<config><bfd xmlns="{BFD}"><sessions/></bfd></config>'),
             "unknown-element", "unknown element")
a.edit_config(target="candidate", config=f'<config><bfd xmlns="{BFD}">{session("dup", 2)}</bfd></config>')
expect_error(lambda: a.validate(source="candidate"), "operation-failed", "unique local-discriminator")
expect_error(lambda: a.commit(), "operation-failed", "commit refuses the invalid candidate")
a.discard_changes()

# Locks: the second session is refused with lock-denied and the holder's session id.
a.lock(target="candidate")
e = expect_error(lambda: b.lock(target="candidate"), "lock-denied", "second lock")
check(f"<session-id>{a.session_id}</session-id>" in (e.info or ""), "lock-denied names the holder: " + str(e.info))
expect_error(lambda: b.edit_config(target="candidate", config=f'<config><bfd xmlns="{BFD}">{session("z", 9)}</bfd></config>'),
             "lock-denied", "edit under someone else's lock")
a.unlock(target="candidate")
b.lock(target="candidate")
b.unlock(target="candidate")

# Confirmed commit, then cancel-commit restores the previous running.
a.edit_config(target="candidate", config=f'<config><bfd xmlns="{BFD}">{session("temp", 7)}</bfd></config>')
a.commit(confirmed=True, timeout="300")
check("temp" in a.get_config(source="running").data_xml, "confirmed commit applied")
a.cancel_commit()
check("temp" not in a.get_config(source="running").data_xml, "cancel-commit rolled back")

# writable-running, startup, copy/delete-config.
a.edit_config(target="running", config=f'<config><interfaces xmlns="{IF}"><interface><name>ne-test0</name><description>uplink</description></interface></interfaces></config>')
check("uplink" in a.get_config(source="running").data_xml, "edit-config on running")
a.copy_config(source="running", target="startup")
check("uplink" in a.get_config(source="startup").data_xml, "copy-config running -> startup")
a.delete_config(target="startup")
expect_error(lambda: a.get_config(source="startup"), "invalid-value", "startup deleted")

# A reply larger than one chunk of the server (32 KiB) with characters of 2, 3 and 4 bytes: the
# chunks are cut between characters (ncclient decodes each chunk on its own and would fail on
# a cut one), and the text arrives whole.
text = "".join("a\u00e9\u20ac\U0001d11e"[i % 4] for i in range(60_000))
a.edit_config(target="running", config=f'<config><interfaces xmlns="{IF}"><interface><name>ne-test0</name><description>{text}</description></interface></interfaces></config>')
big = a.get_config(source="running").data_xml
check(len(big.encode()) > 4 * 32 * 1024 and text in big, "a multi-chunk reply of multi-byte text")

# get-schema serves the module source as text (RFC 6022).
src = a.get_schema("ne-bfd", format="yang").data
check(src.lstrip().startswith("module ne-bfd") and "local-discriminator" in src, "get-schema ne-bfd")
expect_error(lambda: a.get_schema("no-such-module"), "invalid-value", "get-schema of an unknown module")

# An unqualified operation attribute (Ansible's documented form) and a nested <config> wrapper.
a.edit_config(target="candidate", config=f'<config><config xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><bfd xmlns="{BFD}"><session operation="delete"><name>to-c</name></session></bfd></config></config>')
check("to-c" not in a.get_config(source="candidate").data_xml, "unqualified operation=delete applied")
a.discard_changes()

# Commit history (state) and ne-system:rollback back to the first commit.
from ncclient.xml_ import to_ele
SYS = "urn:ne-agent:yang:ne-system"
hist = a.get(filter=("subtree", f'<commit-history xmlns="{SYS}"/>')).data_xml
check("<id>1</id>" in hist and "<user>admin</user>" in hist, "commit-history: " + hist)
reply = a.dispatch(to_ele(f'<rollback xmlns="{SYS}"><id>1</id><comment>back to the start</comment></rollback>'))
check("commit-id" in reply.xml, "rollback returns the new commit id: " + reply.xml)
data = a.get_config(source="running").data_xml
check("<name>to-b</name>" in data and "uplink" not in data, "rollback restored commit 1: " + data)
hist = a.get(filter=("subtree", f'<commit-history xmlns="{SYS}"/>')).data_xml
check("back to the start" in hist, "rollback recorded in the history")
expect_error(lambda: a.dispatch(to_ele(f'<rollback xmlns="{SYS}"><id>999</id></rollback>')),
             "invalid-value", "rollback to an unknown commit")

# A comment on <commit> (ne-system namespace) is recorded in the history, and commit-diff shows
# what changed between two commits.
a.edit_config(target="candidate", config=f'<config><bfd xmlns="{BFD}">{session("to-d", 4)}</bfd></config>')
reply = a.dispatch(to_ele(f'<commit xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><comment xmlns="{SYS}">add to-d</comment></commit>'))
check("<ok/>" in reply.xml, "commit with a comment: " + reply.xml)
hist = a.get(filter=("subtree", f'<commit-history xmlns="{SYS}"/>')).data_xml
import re
ids = [int(i) for i in re.findall(r"<id>(\d+)</id>", hist)]
check("<comment>add to-d</comment>" in hist, "commit comment in the history: " + hist)
last = max(ids)
diff = a.dispatch(to_ele(f'<commit-diff xmlns="{SYS}"><from-id>{last - 1}</from-id><to-id>{last}</to-id></commit-diff>')).xml
check("<operation>create</operation>" in diff and "to-d" in diff and "<new-value>127.0.0.4</new-value>" in diff
      and "to-b" not in diff, "commit-diff of the last commit: " + diff)
diff = a.dispatch(to_ele(f'<commit-diff xmlns="{SYS}"><from-id>{last}</from-id></commit-diff>')).xml
check("<ok/>" in diff and "<change" not in diff, "commit-diff to running, nothing changed since: " + diff)
expect_error(lambda: a.dispatch(to_ele(f'<commit-diff xmlns="{SYS}"><from-id>999</from-id></commit-diff>')),
             "invalid-value", "commit-diff from an unknown commit")

# netconf-state (RFC 6022): datastores with lock holders, schemas, sessions, statistics.
NCM = "urn:ietf:params:xml:ns:yang:ietf-netconf-monitoring"
a.lock(target="candidate")
st = a.get(filter=("subtree", f'<netconf-state xmlns="{NCM}"><datastores/></netconf-state>')).data_xml
check(f"<locked-by-session>{a.session_id}</locked-by-session>" in st and "<schemas>" not in st,
      "datastores with the lock holder: " + st)
# :startup is advertised, so startup is listed even while nothing is saved in it (deleted above).
check(all(f"<name>{d}</name>" in st for d in ("running", "candidate", "startup")),
      "every datastore listed, startup too: " + st)
a.unlock(target="candidate")
st = a.get(filter=("subtree", f'<netconf-state xmlns="{NCM}"><schemas><schema><identifier>ne-vrrp</identifier></schema></schemas></netconf-state>')).data_xml
check("<identifier>ne-vrrp</identifier>" in st and "ne-bfd" not in st and "<location>NETCONF</location>" in st,
      "one schema entry: " + st)
st = a.get(filter=("subtree", f'<netconf-state xmlns="{NCM}"><sessions/><statistics/></netconf-state>')).data_xml
check(f"<session-id>{b.session_id}</session-id>" in st and "<username>admin</username>" in st
      and "<in-rpcs>" in st and "<out-rpc-errors>" in st, "sessions and statistics: " + st)
check("netconf-state" not in a.get(filter=("subtree", f'<bfd xmlns="{BFD}"/>')).data_xml,
      "a filter that does not name netconf-state leaves it out")
# XPath selects inside netconf-state and the YANG library too, list keys kept on the way.
st = a.get(filter=("xpath", ({"ncm": NCM}, "/ncm:netconf-state/ncm:schemas/ncm:schema[ncm:identifier='ne-vrrp']/ncm:location"))).data_xml
check("<identifier>ne-vrrp</identifier>" in st and "<location>NETCONF</location>" in st
      and "ne-bfd" not in st and "<sessions>" not in st and "<namespace>" not in st,
      "xpath into netconf-state: " + st)
st = a.get(filter=("xpath", ({"ncm": NCM}, "/ncm:netconf-state/ncm:bogus"))).data_xml
check("netconf-state" not in st, "an xpath that selects nothing in netconf-state: " + st)
YL = "urn:ietf:params:xml:ns:yang:ietf-yang-library"
st = a.get(filter=("xpath", ({"yl": YL}, "/yl:yang-library/yl:content-id"))).data_xml
check("<content-id>" in st and "<module-set>" not in st, "xpath into the YANG library: " + st)

# A lock on running refuses another session's commit (RFC 6241 7.5), not only its edits.
b.lock(target="running")
expect_error(lambda: a.commit(), "lock-denied", "commit while another session locks running")
b.unlock(target="running")
a.commit()

# kill-session releases the victim's lock.
b.lock(target="running")
a.kill_session(b.session_id)
a.lock(target="running")
a.unlock(target="running")
expect_error(lambda: a.kill_session(a.session_id), "invalid-value", "killing oneself")

# Notifications (RFC 5277): replay from the log, then live events (RFC 6470).
n = connect()
n.create_subscription(start_time="2000-01-01T00:00:00Z")
seen = []
while True:
    note = n.take_notification(block=True, timeout=10)
    check(note is not None, "replay ends with replayComplete; got " + str(seen[-3:]))
    seen.append(note.notification_xml)
    if "replayComplete" in note.notification_xml:
        break
replayed = "".join(seen)
check("netconf-session-start" in replayed and "netconf-config-change" in replayed
      and "<confirm-event>cancel</confirm-event>" in replayed, "replayed events: " + replayed[:600])
a.edit_config(target="candidate", config=f'<config><bfd xmlns="{BFD}">{session("live", 40)}</bfd></config>')
a.commit()
live = ""
for _ in range(20):
    note = n.take_notification(block=True, timeout=10)
    check(note is not None, "live config change arrives")
    live = note.notification_xml
    if "netconf-config-change" in live:
        break
check("/bfd:bfd/bfd:session[bfd:name='live']" in live and "<operation>create</operation>" in live
      and f"<session-id>{a.session_id}</session-id>" in live, "live config change: " + live)
expect_error(lambda: n.create_subscription(), "operation-failed", "second subscription")
n.close_session()

# A subscription with a subtree filter (RFC 5277 §3.6): only confirmed-commit events, replayed
# and live; config changes are filtered out.
NCN = "urn:ietf:params:xml:ns:yang:ietf-netconf-notifications"
f = connect()
f.create_subscription(filter=("subtree", f'<netconf-confirmed-commit xmlns="{NCN}"/>'),
                      start_time="2000-01-01T00:00:00Z")
got = []
while True:
    note = f.take_notification(block=True, timeout=10)
    check(note is not None, "filtered replay ends with replayComplete")
    got.append(note.notification_xml)
    if "replayComplete" in note.notification_xml:
        break
check(all("netconf-confirmed-commit" in g or "replayComplete" in g for g in got) and len(got) > 1,
      "filtered replay holds only confirmed-commit events: " + "".join(got)[:400])
# The same with an XPath filter (:xpath); a bad expression is refused with invalid-value.
x = connect()
x.create_subscription(filter=("xpath", "/netconf-confirmed-commit"), start_time="2000-01-01T00:00:00Z")
got = []
while True:
    note = x.take_notification(block=True, timeout=10)
    check(note is not None, "xpath-filtered replay ends with replayComplete")
    got.append(note.notification_xml)
    if "replayComplete" in note.notification_xml:
        break
check(all("netconf-confirmed-commit" in g or "replayComplete" in g for g in got) and len(got) > 1,
      "xpath-filtered replay holds only confirmed-commit events: " + "".join(got)[:400])
x.close_session()
expect_error(lambda: connect().create_subscription(filter=("xpath", "/x[")),
             "invalid-value", "a bad xpath filter on a subscription")
f.close_session()
a.close_session()
print("ncclient: all checks passed")
