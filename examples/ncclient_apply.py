#!/usr/bin/env python3
"""Apply one seed file (examples/seed/device-a.xml or device-b.xml) to an ne-agent with ncclient
(<edit-config> to candidate, then <commit>) and print the VRRP and BFD state that <get> reports.

  .venv/bin/python examples/ncclient_apply.py examples/seed/device-a.xml
  .venv/bin/python examples/ncclient_apply.py --port 8301 examples/seed/device-b.xml

The password comes from --password, else $NE_AGENT_PASSWORD, else the file the agent writes on
first start (./var/ne-agent/initial-admin-password, or --password-file).
"""

import argparse
import os
import sys

from lxml import etree
from ncclient import manager

STATE_FILTER = """
<filter xmlns="urn:ietf:params:xml:ns:netconf:base:1.0" type="subtree">
  <interfaces xmlns="urn:ne-agent:yang:ne-interfaces">
    <interface>
      <vrrp xmlns="urn:ne-agent:yang:ne-vrrp"/>
    </interface>
  </interfaces>
  <bfd xmlns="urn:ne-agent:yang:ne-bfd"/>
</filter>
"""


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("file", help="a NETCONF <config> document, e.g. examples/seed/device-a.xml")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8300)
    p.add_argument("--user", default="admin")
    p.add_argument("--password", default=os.environ.get("NE_AGENT_PASSWORD"))
    p.add_argument("--password-file", default="var/ne-agent/initial-admin-password")
    args = p.parse_args()
    password = args.password
    if password is None:
        with open(args.password_file) as f:
            password = f.read().strip()
    with open(args.file, "rb") as f:
        config = etree.fromstring(f.read())  # the <config> element (the comment before it is dropped)

    with manager.connect(
        host=args.host,
        port=args.port,
        username=args.user,
        password=password,
        hostkey_verify=False,
        allow_agent=False,
        look_for_keys=False,
    ) as m:
        with m.locked("candidate"):
            m.discard_changes()  # start from running, whatever an earlier session left behind
            m.edit_config(target="candidate", config=config)
            m.commit()
        print(f"applied {args.file} to {args.host}:{args.port} (candidate + commit)")
        reply = m.get(filter=etree.fromstring(STATE_FILTER))
        print(etree.tostring(reply.data_ele, pretty_print=True).decode(), end="")


if __name__ == "__main__":
    sys.exit(main())
