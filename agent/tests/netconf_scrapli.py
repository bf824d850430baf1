"""scrapli-netconf (system OpenSSH transport) against a running ne-agent.
Usage: netconf_scrapli.py PORT PASSWORD; exits non-zero on the first failed check."""
import sys

from scrapli_netconf.driver import NetconfDriver

port, password = int(sys.argv[1]), sys.argv[2]
BFD = "urn:ne-agent:yang:ne-bfd"


def check(cond, what):
    if not cond:
        sys.exit("FAILED: " + what)


conn = NetconfDriver(host="127.0.0.1", port=port, auth_username="admin", auth_password=password,
                     auth_strict_key=False, transport="system", timeout_ops=30,
                     ssh_config_file=False)
conn.open()
check(str(conn.netconf_version).endswith("1_1"), "base:1.1 negotiated")
r = conn.edit_config(target="candidate", config=(
    f'<config><bfd xmlns="{BFD}"><session><name>s1</name><peer-ip>127.0.0.2</peer-ip>'
    '<local-discriminator>5</local-discriminator></session></bfd></config>'))
check(not r.failed, "edit-config: " + r.result)
check(not conn.commit().failed, "commit")
r = conn.get_config(source="running")
check(not r.failed and "<name>s1</name>" in r.result, "get-config: " + r.result)
r = conn.get(filter_=f'<bfd xmlns="{BFD}"><session><name/></session></bfd>', filter_type="subtree")
check(not r.failed and "s1" in r.result and "peer-ip" not in r.result, "filtered get: " + r.result)
check(not conn.lock(target="candidate").failed, "lock")
check(not conn.unlock(target="candidate").failed, "unlock")
r = conn.edit_config(target="candidate", config=(
    f'<config><bfd xmlns="{BFD}"><session><name>s1</name><detect-multiplier>1</detect-multiplier>'
    '</session></bfd></config>'))
check(r.failed and "invalid-value" in r.result, "out-of-range edit refused: " + r.result)
check(not conn.discard().failed, "discard-changes")
conn.close()
print("scrapli: all checks passed")
