"""RESTCONF (RFC 8040) against a running agent with Python requests (real TLS, verified against
the agent's own generated certificate), ncclient on the same agent's NETCONF side.

usage: restconf_requests.py RESTCONF_PORT NETCONF_PORT PASSWORD CERT TEST
"""
import json
import sys
import threading
import time
import xml.etree.ElementTree as ET

import requests
from ncclient import manager

RC_PORT, NC_PORT, PASSWORD, CERT, TEST = sys.argv[1:6]
BASE = f"https://127.0.0.1:{RC_PORT}/restconf"
AUTH = ("admin", PASSWORD)
JSON = "application/yang-data+json"
XML = "application/yang-data+xml"
IF_NS = "urn:ne-agent:yang:ne-interfaces"
RC_NS = "urn:ietf:params:xml:ns:yang:ietf-restconf"


def s():
    sess = requests.Session()
    sess.auth = AUTH
    sess.verify = CERT
    # REQUESTS_CA_BUNDLE in the environment would replace the agent's certificate.
    sess.trust_env = False
    return sess


S = s()


def url(p):
    return BASE + p


def put_json(p, body, **kw):
    return S.put(url(p), data=json.dumps(body), headers={"Content-Type": JSON, **kw.pop("headers", {})}, **kw)


def iface(name, **leaves):
    e = {"name": name}
    e.update(leaves)
    return {"ne-interfaces:interface": [e]}


def error(r, status, tag):
    assert r.status_code == status, (r.status_code, r.text)
    if "json" in r.headers.get("content-type", ""):
        errs = r.json()["ietf-restconf:errors"]["error"]
        assert errs[0]["error-tag"] == tag, r.text
        return errs[0]
    root = ET.fromstring(r.text)
    assert root.tag == f"{{{RC_NS}}}errors", r.text
    assert root.find(f"{{{RC_NS}}}error/{{{RC_NS}}}error-tag").text == tag, r.text
    return root


def nc():
    return manager.connect(host="127.0.0.1", port=int(NC_PORT), username="admin", password=PASSWORD,
                           hostkey_verify=False, allow_agent=False, look_for_keys=False, timeout=30)


def running_xml():
    with nc() as m:
        return m.get_config(source="running").data_xml


def test_basics():
    r = requests.get(f"https://127.0.0.1:{RC_PORT}/.well-known/host-meta", verify=CERT)
    assert r.status_code == 200 and "href=\"/restconf\"" in r.text, r.text
    r = requests.get(url(""), verify=CERT)
    assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Basic"), r.headers
    error(r, 401, "access-denied")
    error(requests.get(url(""), verify=CERT, auth=("admin", "wrong")), 401, "access-denied")
    r = S.get(url(""))
    assert r.json()["ietf-restconf:restconf"]["yang-library-version"] == "2019-01-04", r.text
    r = S.get(url("/yang-library-version"), headers={"Accept": XML})
    assert r.headers["Content-Type"] == XML and "2019-01-04" in r.text, r.text
    error(S.get(url("/nothing")), 404, "invalid-value")
    error(S.get(url(""), headers={"Accept": "text/html"}), 406, "invalid-value")
    r = S.options(url("/data"))
    assert "PATCH" in r.headers["Allow"] and "yang-patch+json" in r.headers["Accept-Patch"], r.headers
    assert "PUT" not in S.options(url("/ds/ietf-datastores:operational")).headers["Allow"]
    # ietf-restconf-monitoring: capabilities and the stream's locations (absolute, this host).
    st = S.get(url("/data/ietf-restconf-monitoring:restconf-state")).json()["ietf-restconf-monitoring:restconf-state"]
    caps = st["capabilities"]["capability"]
    assert "urn:ietf:params:restconf:capability:yang-patch:1.0" in caps, caps
    assert "urn:ietf:params:restconf:capability:defaults:1.0?basic-mode=explicit" in caps, caps
    stream = st["streams"]["stream"][0]
    assert stream["name"] == "NETCONF" and stream["replay-support"] is True, stream
    loc = {a["encoding"]: a["location"] for a in stream["access"]}
    assert loc["json"] == f"https://127.0.0.1:{RC_PORT}/restconf/streams/NETCONF/json", loc
    x = ET.fromstring(S.get(url("/data/ietf-restconf-monitoring:restconf-state/streams"),
                            headers={"Accept": XML}).text)
    MON = "urn:ietf:params:xml:ns:yang:ietf-restconf-monitoring"
    assert x.find(f"{{{MON}}}stream/{{{MON}}}name").text == "NETCONF", ET.tostring(x)


def test_crud_json_and_xml():
    r = put_json("/data/ne-interfaces:interfaces/interface=rc0", iface("rc0", description="one"))
    assert r.status_code == 201, r.text
    etag = r.headers["ETag"]
    assert etag.startswith('"') and r.headers["Last-Modified"].endswith("GMT")
    r = S.get(url("/data/ne-interfaces:interfaces/interface=rc0"), params={"content": "config"})
    assert r.status_code == 200 and r.headers["ETag"] == etag, (r.text, r.headers)
    assert r.json() == {"ne-interfaces:interface": [{"name": "rc0", "description": "one"}]}, r.text
    # The same resource in XML, with defaults.
    r = S.get(url("/data/ne-interfaces:interfaces/interface=rc0"),
              params={"content": "config", "with-defaults": "report-all"}, headers={"Accept": XML})
    x = ET.fromstring(r.text)
    assert x.tag == f"{{{IF_NS}}}interface" and x.find(f"{{{IF_NS}}}enabled").text == "true", r.text
    # HEAD: the headers of GET, no body.
    h = S.head(url("/data/ne-interfaces:interfaces/interface=rc0"), params={"content": "config"})
    assert h.status_code == 200 and h.text == "" and h.headers["ETag"] == etag
    # PUT in XML replaces (description gone, enabled set).
    body = f'<interface xmlns="{IF_NS}"><name>rc0</name><enabled>false</enabled></interface>'
    r = S.put(url("/data/ne-interfaces:interfaces/interface=rc0"), data=body, headers={"Content-Type": XML})
    assert r.status_code == 204, r.text
    got = S.get(url("/data/ne-interfaces:interfaces/interface=rc0/enabled")).json()
    assert got == {"ne-interfaces:enabled": False}, got
    error(S.get(url("/data/ne-interfaces:interfaces/interface=rc0/description")), 404, "invalid-value")
    # Plain PATCH merges.
    r = S.patch(url("/data/ne-interfaces:interfaces/interface=rc0"), data=json.dumps(iface("rc0", description="two")),
                headers={"Content-Type": JSON})
    assert r.status_code == 204, r.text
    cfg = S.get(url("/data/ne-interfaces:interfaces/interface=rc0"), params={"content": "config"}).json()
    assert cfg["ne-interfaces:interface"][0] == {"name": "rc0", "description": "two", "enabled": False}, cfg
    # POST creates a child; again is data-exists.
    body = {"ne-interfaces:address": [{"ip": "10.9.0.1", "prefix-length": 24}]}
    r = S.post(url("/data/ne-interfaces:interfaces/interface=rc0/ipv4"), data=json.dumps(body),
               headers={"Content-Type": JSON})
    assert r.status_code == 404, r.text  # ipv4 does not exist yet
    r = S.post(url("/data/ne-interfaces:interfaces/interface=rc0"),
               data=json.dumps({"ne-interfaces:ipv4": {"address": [{"ip": "10.9.0.1", "prefix-length": 24}]}}),
               headers={"Content-Type": JSON})
    assert r.status_code == 201, r.text
    assert r.headers["Location"].endswith("/restconf/data/ne-interfaces:interfaces/interface=rc0/ipv4"), r.headers
    r = S.post(url("/data/ne-interfaces:interfaces/interface=rc0/ipv4"), data=json.dumps(body),
               headers={"Content-Type": JSON})
    e = error(r, 409, "data-exists")
    assert "address[ip='10.9.0.1']" in e["error-path"], e
    assert "<ip>10.9.0.1</ip>" in running_xml()
    # DELETE, then DELETE again is 404.
    r = S.delete(url("/data/ne-interfaces:interfaces/interface=rc0/ipv4/address=10.9.0.1"))
    assert r.status_code == 204, r.text
    error(S.delete(url("/data/ne-interfaces:interfaces/interface=rc0/ipv4/address=10.9.0.1")), 404, "data-missing")
    assert "10.9.0.1" not in running_xml()


def test_read_parameters():
    put_json("/data/ne-interfaces:interfaces/interface=rc1", iface("rc1", description="d1"))
    p = "/data/ne-interfaces:interfaces/interface=rc1"
    allv = S.get(url(p)).json()["ne-interfaces:interface"][0]
    assert allv["oper-status"] == "not-present" and allv["description"] == "d1", allv
    cfg = S.get(url(p), params={"content": "config"}).json()["ne-interfaces:interface"][0]
    assert "oper-status" not in cfg and cfg["description"] == "d1", cfg
    st = S.get(url(p), params={"content": "nonconfig"}).json()["ne-interfaces:interface"][0]
    assert "description" not in st and st["oper-status"] == "not-present" and st["name"] == "rc1", st
    d1 = S.get(url("/data/ne-interfaces:interfaces"), params={"depth": "1"}).json()
    assert d1 == {"ne-interfaces:interfaces": {}}, d1
    d2 = S.get(url("/data/ne-interfaces:interfaces"), params={"depth": "2", "content": "config"}).json()
    assert {"name": "rc1"} in d2["ne-interfaces:interfaces"]["interface"], d2
    f = S.get(url(p), params={"fields": "description;oper-status"}).json()["ne-interfaces:interface"][0]
    assert f == {"name": "rc1", "description": "d1", "oper-status": "not-present"}, f
    error(S.get(url(p), params={"fields": "nope"}), 400, "invalid-value")
    error(S.get(url(p), params={"depth": "0"}), 400, "invalid-value")
    error(S.get(url(p), params={"bogus": "1"}), 400, "invalid-value")
    error(S.get(url(p), params={"with-defaults": "sometimes"}), 400, "invalid-value")
    wd = S.get(url(p), params={"content": "config", "with-defaults": "report-all-tagged"}).json()
    assert wd["ne-interfaces:interface"][0]["@enabled"] == {"ietf-netconf-with-defaults:default": True}, wd
    trim = S.get(url(p), params={"content": "config", "with-defaults": "trim"}).json()
    assert "enabled" not in trim["ne-interfaces:interface"][0], trim
    # The whole datastore, both encodings.
    root = S.get(url("/data"), params={"content": "config"}).json()["ietf-restconf:data"]
    assert any(i["name"] == "rc1" for i in root["ne-interfaces:interfaces"]["interface"]), root
    x = ET.fromstring(S.get(url("/data"), params={"content": "config"}, headers={"Accept": XML}).text)
    assert x.tag == f"{{{RC_NS}}}data", x.tag


def test_nmda():
    put_json("/data/ne-interfaces:interfaces/interface=rc2", iface("rc2", description="n"))
    ds = "/ds/ietf-datastores:"
    run = S.get(url(ds + "running/ne-interfaces:interfaces/interface=rc2")).json()["ne-interfaces:interface"][0]
    assert run == {"name": "rc2", "description": "n"}, run
    op = S.get(url(ds + "operational/ne-interfaces:interfaces/interface=rc2")).json()["ne-interfaces:interface"][0]
    assert op["oper-status"] == "not-present" and op["description"] == "n", op
    cand = S.get(url(ds + "candidate/ne-interfaces:interfaces/interface=rc2"))
    assert cand.status_code == 200, cand.text
    error(S.get(url(ds + "startup")), 404, "invalid-value")
    error(S.get(url(ds + "bogus")), 404, "invalid-value")
    error(S.put(url(ds + "operational/ne-interfaces:interfaces/interface=rc2"), data="{}",
                headers={"Content-Type": JSON}), 405, "operation-not-supported")
    # An edit through /ds/running is a commit like /data's.
    r = S.patch(url(ds + "running/ne-interfaces:interfaces/interface=rc2"),
                data=json.dumps(iface("rc2", description="m")), headers={"Content-Type": JSON})
    assert r.status_code == 204, r.text
    assert "<description>m</description>" in running_xml()


def test_preconditions():
    p = "/data/ne-interfaces:interfaces/interface=rc3"
    r = put_json(p, iface("rc3", description="a"))
    tag, modified = r.headers["ETag"], r.headers["Last-Modified"]
    # Reads: 304 when unchanged.
    assert S.get(url(p), headers={"If-None-Match": tag}).status_code == 304
    assert S.get(url(p), headers={"If-Modified-Since": modified}).status_code == 304
    assert S.get(url(p), headers={"If-None-Match": '"0000"'}).status_code == 200
    error(S.get(url(p), headers={"If-Match": '"0000"'}), 412, "operation-failed")
    # Edits: If-Match with the current tag succeeds, with a stale one fails and changes nothing.
    r = S.patch(url(p), data=json.dumps(iface("rc3", description="b")),
                headers={"Content-Type": JSON, "If-Match": tag})
    assert r.status_code == 204, r.text
    new_tag = r.headers["ETag"]
    assert new_tag != tag
    r = S.patch(url(p), data=json.dumps(iface("rc3", description="c")),
                headers={"Content-Type": JSON, "If-Match": tag})
    error(r, 412, "operation-failed")
    assert "<description>b</description>" in running_xml()
    # If-None-Match: * refuses to overwrite an existing resource.
    error(put_json(p, iface("rc3", description="d"), headers={"If-None-Match": "*"}), 412, "operation-failed")
    r = put_json("/data/ne-interfaces:interfaces/interface=rc4", iface("rc4"), headers={"If-None-Match": "*"})
    assert r.status_code == 201, r.text
    # If-Unmodified-Since: a time before the last change fails.
    error(S.delete(url(p), headers={"If-Unmodified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"}), 412,
          "operation-failed")
    assert S.delete(url(p), headers={"If-Unmodified-Since": r.headers["Last-Modified"]}).status_code == 204


def test_bad_input():
    p = "/data/ne-interfaces:interfaces/interface=rc5"
    put_json(p, iface("rc5", description="keep"))
    before = running_xml()
    cases = [
        ('{"ne-interfaces:interface":[{"name":"rc5",', JSON, 400, "malformed-message"),
        ('{"ne-interfaces:interface":[{"name":"rc5","colour":"red"}]}', JSON, 400, "unknown-element"),
        ('{"ne-interfaces:interface":[{"name":"rc5","enabled":"maybe"}]}', JSON, 400, "invalid-value"),
        ('{"ne-interfaces:interface":[{"name":"other"}]}', JSON, 400, "invalid-value"),
        (f'<interface xmlns="{IF_NS}"><name>other</name></interface>', XML, 400, "invalid-value"),
        (f'<interface xmlns="{IF_NS}"><name>rc5</name><bogus/></interface>', XML, 400, "unknown-element"),
        ('<interface xmlns="', XML, 400, "malformed-message"),
        ('{"ne-interfaces:interface":[{"name":"rc5","oper-status":"up"}]}', JSON, 400, None),
    ]
    for body, ctype, status, tag in cases:
        r = S.put(url(p), data=body, headers={"Content-Type": ctype})
        assert r.status_code == status, (body, r.status_code, r.text)
        if tag:
            error(r, status, tag)
    e = error(S.put(url(p), data=cases[3][0], headers={"Content-Type": JSON}), 400, "invalid-value")
    assert "key in the body" in e["error-message"], e
    # A validation failure (mandatory prefix-length) and a bad key in the URI.
    body = {"ne-interfaces:ipv4": {"address": [{"ip": "10.8.0.1"}]}}
    r = S.post(url(p), data=json.dumps(body), headers={"Content-Type": JSON})
    assert r.status_code == 400 and "prefix-length" in r.text, r.text
    error(S.get(url("/data/ne-interfaces:interfaces/interface=rc5/ipv4/address=not-an-ip")), 400, "invalid-value")
    error(S.put(url(p), data="x", headers={"Content-Type": "text/plain"}), 415, "invalid-value")
    assert running_xml() == before


def test_yang_patch():
    p = "/data/ne-interfaces:interfaces"
    patch = {"ietf-yang-patch:yang-patch": {"patch-id": "p1", "edit": [
        {"edit-id": "e1", "operation": "create", "target": "/interface=rc6",
         "value": iface("rc6", description="six")},
        {"edit-id": "e2", "operation": "merge", "target": "/interface=rc7",
         "value": iface("rc7", description="seven")},
    ]}}
    r = S.patch(url(p), data=json.dumps(patch), headers={"Content-Type": "application/yang-patch+json"})
    assert r.status_code == 200, r.text
    assert r.json() == {"ietf-yang-patch:yang-patch-status": {"patch-id": "p1", "ok": [None]}}, r.text
    assert "<name>rc6</name>" in running_xml()
    before = running_xml()
    # The second of three edits fails (create of what exists): nothing of the patch is applied.
    patch = {"ietf-yang-patch:yang-patch": {"patch-id": "p2", "edit": [
        {"edit-id": "a", "operation": "replace", "target": "/interface=rc8", "value": iface("rc8")},
        {"edit-id": "b", "operation": "create", "target": "/interface=rc6", "value": iface("rc6")},
        {"edit-id": "c", "operation": "delete", "target": "/interface=rc7"},
    ]}}
    r = S.patch(url(p), data=json.dumps(patch), headers={"Content-Type": "application/yang-patch+json"})
    assert r.status_code == 409, r.text
    st = r.json()["ietf-yang-patch:yang-patch-status"]
    edit = st["edit-status"]["edit"][0]
    assert edit["edit-id"] == "b" and edit["errors"]["error"][0]["error-tag"] == "data-exists", st
    assert running_xml() == before
    # XML: the same failure shape, then a good patch.
    YP = "urn:ietf:params:xml:ns:yang:ietf-yang-patch"
    bad = (f'<yang-patch xmlns="{YP}"><patch-id>x1</patch-id>'
           f'<edit><edit-id>1</edit-id><operation>delete</operation><target>/interface=rc7</target></edit>'
           f'<edit><edit-id>2</edit-id><operation>delete</operation><target>/interface=nope</target></edit>'
           f'</yang-patch>')
    r = S.patch(url(p), data=bad, headers={"Content-Type": "application/yang-patch+xml"})
    assert r.status_code == 409, r.text
    x = ET.fromstring(r.text)
    assert x.find(f"{{{YP}}}edit-status/{{{YP}}}edit/{{{YP}}}edit-id").text == "2", r.text
    assert "data-missing" in r.text and running_xml() == before
    good = (f'<yang-patch xmlns="{YP}"><patch-id>x2</patch-id>'
            f'<edit><edit-id>1</edit-id><operation>delete</operation><target>/interface=rc7</target></edit>'
            f'<edit><edit-id>2</edit-id><operation>merge</operation><target>/interface=rc6</target>'
            f'<value><interface xmlns="{IF_NS}"><name>rc6</name><description>six!</description></interface></value>'
            f'</edit></yang-patch>')
    r = S.patch(url(p), data=good, headers={"Content-Type": "application/yang-patch+xml", "Accept": XML})
    assert r.status_code == 200 and "<ok/>" in r.text, r.text
    after = running_xml()
    assert "rc7" not in after and "six!" in after, after


def test_operations_and_lock():
    ops = S.get(url("/operations")).json()["ietf-restconf:operations"]
    assert "ne-system:rollback" in ops and "ne-system:commit-diff" in ops, ops
    put_json("/data/ne-interfaces:interfaces/interface=rc9", iface("rc9", description="v1"))
    hist = S.get(url("/data/ne-system:commit-history")).json()["ne-system:commit-history"]["commit"]
    first = hist[-1]["id"]
    put_json("/data/ne-interfaces:interfaces/interface=rc9", iface("rc9", description="v2"))
    r = S.post(url("/operations/ne-system:rollback"), data=json.dumps({"ne-system:input": {"id": first}}),
               headers={"Content-Type": JSON})
    assert r.status_code == 200 and "commit-id" in r.json()["ne-system:output"], r.text
    assert "<description>v1</description>" in running_xml()
    r = S.post(url("/operations/ne-system:rollback"), data=json.dumps({"ne-system:input": {"id": "x"}}),
               headers={"Content-Type": JSON})
    error(r, 400, "invalid-value")
    error(S.post(url("/operations/ne-system:nothing")), 404, "invalid-value")
    # A NETCONF lock keeps RESTCONF edits out (409 lock-denied) until it is released.
    with nc() as m:
        m.lock("running")
        r = S.patch(url("/data/ne-interfaces:interfaces/interface=rc9"),
                    data=json.dumps(iface("rc9", description="locked")), headers={"Content-Type": JSON})
        e = error(r, 409, "lock-denied")
        m.unlock("running")
        m.lock("candidate")
        error(S.delete(url("/data/ne-interfaces:interfaces/interface=rc9")), 409, "lock-denied")
        m.unlock("candidate")
    assert S.delete(url("/data/ne-interfaces:interfaces/interface=rc9")).status_code == 204


def sse(path, params, out, until, timeout=20, session=None):
    """Read server-sent events into `out` until `until(out)` or the stream ends."""
    with (session or S).get(url(path), params=params, stream=True, timeout=timeout) as r:
        assert r.status_code == 200 and r.headers["Content-Type"] == "text/event-stream", r.text
        data = []
        for line in r.iter_lines(decode_unicode=True):
            if line.startswith("data: "):
                data.append(line[6:])
            elif line == "" and data:
                out.append("\n".join(data))
                data = []
                if until(out):
                    return


def test_both_protocols_and_events():
    # Identical running whichever protocol made the change, visible at once on the other.
    with nc() as m:
        m.edit_config(target="running", config=f'<config xmlns="urn:ietf:params:xml:ns:netconf:base:1.0">'
                      f'<interfaces xmlns="{IF_NS}"><interface><name>nc1</name><description>by netconf'
                      f'</description></interface></interfaces></config>')
        got = S.get(url("/data/ne-interfaces:interfaces/interface=nc1/description")).json()
        assert got == {"ne-interfaces:description": "by netconf"}, got
        put_json("/data/ne-interfaces:interfaces/interface=rc10", iface("rc10", description="by restconf"))
        assert "<description>by restconf</description>" in m.get_config(source="running").data_xml
        # NETCONF subscriber sees RESTCONF's change; the SSE subscriber sees NETCONF's.
        m.create_subscription()
        events = []
        t = threading.Thread(target=sse, args=("/streams/NETCONF/json", {}, events,
                                                lambda o: any("nc2" in e for e in o)))
        t.start()
        time.sleep(1.0)
        put_json("/data/ne-interfaces:interfaces/interface=rc11", iface("rc11"))
        n = m.take_notification(timeout=10)
        assert n is not None and "netconf-config-change" in n.notification_xml and "rc11" in n.notification_xml
        assert "<username>admin</username>" in n.notification_xml, n.notification_xml
        m.edit_config(target="running", config=f'<config xmlns="urn:ietf:params:xml:ns:netconf:base:1.0">'
                      f'<interfaces xmlns="{IF_NS}"><interface><name>nc2</name></interface></interfaces></config>')
        t.join(20)
        assert not t.is_alive(), events
        joined = [json.loads(e) for e in events]
        kinds = [list(e["ietf-restconf:notification"].keys()) for e in joined]
        assert all("eventTime" in k for k in kinds), kinds
        assert any("ietf-netconf-notifications:netconf-config-change" in k for k in kinds), kinds
        assert any("rc11" in e for e in events) and any("nc2" in e for e in events), events
    # Replay from a start-time, ended by stop-time, in XML.
    replayed = []
    start = "2000-01-01T00:00:00Z"
    stop = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 2))
    sse("/streams/NETCONF/xml", {"start-time": start, "stop-time": stop}, replayed, lambda o: False)
    assert any("rc11" in e for e in replayed) and any("nc2" in e for e in replayed), replayed
    assert all(e.startswith("<notification") for e in replayed), replayed
    error(S.get(url("/streams/NETCONF/xml"), params={"start-time": "yesterday"}), 400, "invalid-value")


def test_access_control():
    # Users and a BFD session by a root PATCH (as the recovery user), README's NACM example by
    # NETCONF, and one more rule list for noc: no BFD reads, no config-change events, no rollback.
    body = {"ietf-restconf:data": {
        "ietf-system:system": {"authentication": {"user": [
            {"name": "noc", "password": "$0$noc-password"}, {"name": "olive", "password": "$0$olive-password"}]}},
        "ne-interfaces:interfaces": {"interface": [{"name": "rcx0", "ipv4": {"address": [
            {"ip": "10.0.0.1", "prefix-length": 29}]}, "ne-vrrp:vrrp": {"group": [
                {"vrid": 1, "virtual-ip": [{"address": "10.0.0.6"}]}]}}]},
        "ne-bfd:bfd": {"session": [{"name": "s1", "peer-ip": "10.0.0.2", "local-discriminator": 7}]},
    }}
    r = S.patch(url("/data"), data=json.dumps(body), headers={"Content-Type": JSON})
    assert r.status_code == 204, r.text
    import os
    example = os.path.join(os.path.dirname(__file__), "../../examples/nacm/noc-and-ops.xml")
    with nc() as m:
        m.edit_config(target="running", config=open(example).read())
    extra = {"ietf-netconf-acm:rule-list": [{"name": "noc-extra", "group": ["noc"], "rule": [
        {"name": "no-bfd", "module-name": "ne-bfd", "access-operations": "read", "action": "deny"},
        {"name": "no-changes", "module-name": "ietf-netconf-notifications",
         "notification-name": "netconf-config-change", "access-operations": "read", "action": "deny"},
        {"name": "no-rollback", "module-name": "ne-system", "rpc-name": "rollback",
         "access-operations": "exec", "action": "deny"}]}]}
    r = S.post(url("/data/ietf-netconf-acm:nacm"), data=json.dumps(extra), headers={"Content-Type": JSON})
    assert r.status_code == 201, r.text
    noc = requests.Session()
    noc.auth, noc.verify, noc.trust_env = ("noc", "noc-password"), CERT, False
    olive = requests.Session()
    olive.auth, olive.verify, olive.trust_env = ("olive", "olive-password"), CERT, False
    entry = "/data/ne-interfaces:interfaces/interface=rcx0"
    assert noc.get(url(entry)).status_code == 200
    before = running_xml()
    r = noc.patch(url(entry), data=json.dumps(iface("rcx0", description="noc was here")),
                  headers={"Content-Type": JSON})
    e = error(r, 403, "access-denied")
    assert "denied by rule 'read-only'" in e["error-message"], e
    assert running_xml() == before
    error(noc.get(url("/data/ne-bfd:bfd")), 404, "invalid-value")
    assert S.get(url("/data/ne-bfd:bfd")).status_code == 200
    everything = noc.get(url("/data")).json()["ietf-restconf:data"]
    assert "ne-bfd:bfd" not in everything and "ietf-netconf-acm:nacm" not in everything, everything.keys()
    r = noc.post(url("/operations/ne-system:rollback"), data=json.dumps({"ne-system:input": {"id": "1"}}),
                 headers={"Content-Type": JSON})
    error(r, 403, "access-denied")
    # ops: VRRP yes, interfaces no.
    vrrp = "/data/ne-interfaces:interfaces/interface=rcx0/ne-vrrp:vrrp/group=1/priority"
    r = olive.put(url(vrrp), data=json.dumps({"ne-vrrp:priority": 150}), headers={"Content-Type": JSON})
    assert r.status_code == 201, r.text
    assert "<priority>150</priority>" in running_xml()
    error(olive.delete(url(entry)), 403, "access-denied")
    # Events: noc's replay has no netconf-config-change, admin's has.
    stop = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 2))
    params = {"start-time": "2000-01-01T00:00:00Z", "stop-time": stop}
    mine, nocs = [], []
    sse("/streams/NETCONF/xml", params, mine, lambda o: False)
    sse("/streams/NETCONF/xml", params, nocs, lambda o: False, session=noc)
    assert any("netconf-config-change" in e for e in mine), mine
    assert not any("netconf-config-change" in e for e in nocs), nocs


def test_state_overlay():
    # A GET with state of a whole top-level node is written from running and the engines'
    # state laid over it; any other query merges them first. Both must say the same, byte for
    # byte: names that need escaping, groups with and without configuration of their own.
    names = ['a"q', "b\\s", "c<&>\u00e9", "d\u4e2d", "e/1"] + [f"g{i}" for i in range(40)]
    body = {"ne-monitor-group:monitor-groups": {"monitor-group": [
        {"name": n, "enabled": i % 2 == 0} for i, n in enumerate(names)]}}
    r = put_json("/data/ne-monitor-group:monitor-groups", body)
    assert r.status_code in (201, 204), r.text
    res = "/data/ne-monitor-group:monitor-groups"
    for wd in [None, "explicit", "report-all", "report-all-tagged", "trim"]:
        q = {"with-defaults": wd} if wd else {}
        laid = S.get(url(res), params=q)
        merged = S.get(url(res), params={**q, "depth": "65535"})
        assert laid.status_code == merged.status_code == 200, (laid.text, merged.text)
        assert laid.text == merged.text, (wd, laid.text[:400], merged.text[:400])
        assert laid.headers["etag"] == merged.headers["etag"]
        groups = laid.json()["ne-monitor-group:monitor-groups"]["monitor-group"]
        assert [g["name"] for g in groups] == sorted(names, key=lambda n: n.encode()), groups
        assert all("failure-ratio" in g and "last-change" in g for g in groups), groups[0]
    r = S.get(url(res), headers={"If-None-Match": laid.headers["etag"]})
    assert r.status_code == 304, r.status_code

    # The monitor groups' state is handed over as rows, kept while nothing it shows changed:
    # a change of the configuration or of the groups' status is seen by the next read, the
    # same on both paths and over NETCONF.
    def groups_now():
        laid = S.get(url(res))
        merged = S.get(url(res), params={"depth": "65535"})
        assert laid.status_code == merged.status_code == 200, (laid.text, merged.text)
        assert laid.text == merged.text, (laid.text[:400], merged.text[:400])
        return {g["name"]: g for g in laid.json()["ne-monitor-group:monitor-groups"]["monitor-group"]}

    def netconf_monitoring():
        with nc() as m:
            f = '<monitor-groups xmlns="urn:ne-agent:yang:ne-monitor-group"/>'
            x = ET.fromstring(m.get(filter=("subtree", f)).data_xml)
        mg = "{urn:ne-agent:yang:ne-monitor-group}"
        return {e.find(mg + "name").text: e.find(mg + "monitoring").text
                for e in x.iter(mg + "monitor-group")}

    on, off = names[0], names[1]
    before = groups_now()
    assert before[on]["monitoring"] == "enabled" and before[off]["monitoring"] == "disabled", before
    assert groups_now() == before
    assert before["g0"]["monitoring"] == "disabled" and before["g1"]["monitoring"] == "enabled"
    assert put_json(f"{res}/monitor-group=g0", {"ne-monitor-group:monitor-group": [
        {"name": "g0", "enabled": True}]}).status_code == 204
    assert put_json(f"{res}/monitor-group=g1", {"ne-monitor-group:monitor-group": [
        {"name": "g1", "enabled": False}]}).status_code == 204
    after = groups_now()
    assert after["g0"]["monitoring"] == "enabled" and after["g1"]["monitoring"] == "disabled", after
    assert {n: g for n, g in after.items() if n not in ("g0", "g1")} == \
        {n: g for n, g in before.items() if n not in ("g0", "g1")}
    assert netconf_monitoring() == {n: g["monitoring"] for n, g in after.items()}
    # A bound interface that does not exist is down: the ratio moves, and with it last-change.
    assert put_json("/data/ne-interfaces:interfaces/interface=rcmon0",
                    iface("rcmon0")).status_code == 201
    assert put_json(f"{res}/monitor-group=g2", {"ne-monitor-group:monitor-group": [
        {"name": "g2", "enabled": True,
         "binding-interface": [{"name": "rcmon0", "down-weight": 10}]}]}).status_code == 204
    for _ in range(100):
        g2 = groups_now()["g2"]
        if g2["failure-ratio"] == 100:
            break
        time.sleep(0.1)
    assert g2["failure-ratio"] == 100 and g2["down-interfaces"] == 1, g2
    # A group deleted is gone from the state.
    assert S.delete(url(f"{res}/monitor-group=g3")).status_code == 204
    assert "g3" not in groups_now()


NC_NOTIF = "urn:ietf:params:xml:ns:yang:ietf-netconf-notifications"


def test_event_filter():
    # The capability is announced.
    caps = S.get(url("/data/ietf-restconf-monitoring:restconf-state/capabilities")).text
    assert "urn:ietf:params:restconf:capability:filter:1.0" in caps, caps
    for n in ("fl1", "fl2"):
        assert put_json(f"/data/ne-interfaces:interfaces/interface={n}", iface(n)).status_code == 201
    stop = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 2))
    replay = {"start-time": "2000-01-01T00:00:00Z", "stop-time": stop}
    # Replay without a filter has both changes; with one, only the change of fl2 (prefixed by
    # module name, unprefixed names in any namespace).
    everything, only_fl2 = [], []
    sse("/streams/NETCONF/json", replay, everything, lambda o: False)
    assert any("fl1" in e for e in everything) and any("fl2" in e for e in everything), everything
    f = "/ietf-netconf-notifications:netconf-config-change[edit/target[contains(., \"'fl2'\")]]"
    sse("/streams/NETCONF/json", {**replay, "filter": f}, only_fl2, lambda o: False)
    assert len(only_fl2) == 1 and "fl2" in only_fl2[0] and "fl1" not in only_fl2[0], only_fl2
    # Live, in XML: a change the filter rejects is not sent, the one it accepts is.
    live = []
    f = "netconf-config-change/edit/target[contains(., 'fl4')]"
    t = threading.Thread(target=sse, args=("/streams/NETCONF/xml", {"filter": f}, live,
                                            lambda o: any("fl4" in e for e in o)))
    t.start()
    time.sleep(1.0)
    put_json("/data/ne-interfaces:interfaces/interface=fl3", iface("fl3"))
    put_json("/data/ne-interfaces:interfaces/interface=fl4", iface("fl4"))
    t.join(20)
    assert not t.is_alive(), live
    assert len(live) == 1 and "fl4" in live[0] and "fl3" not in live[0], live
    # Bad expressions: 400 invalid-value, before any event.
    for bad in ["/netconf-config-change[", "/no-such-module:x", "nope()", "$v"]:
        error(S.get(url("/streams/NETCONF/json"), params={"filter": bad}), 400, "invalid-value")
    # The same evaluator serves NETCONF's create-subscription with an XPath filter (:xpath).
    with nc() as m:
        m.create_subscription(filter=("xpath", "netconf-config-change/edit/target[contains(., 'fx2')]"))
        put_json("/data/ne-interfaces:interfaces/interface=fx1", iface("fx1"))
        put_json("/data/ne-interfaces:interfaces/interface=fx2", iface("fx2"))
        n = m.take_notification(timeout=10)
        assert n is not None and "fx2" in n.notification_xml and "fx1" not in n.notification_xml, n
        assert m.take_notification(timeout=1) is None
    with nc() as m:
        try:
            m.create_subscription(filter=("xpath", "/netconf-config-change["))
            raise AssertionError("a bad XPath filter was accepted")
        except Exception as e:
            assert "invalid-value" in str(getattr(e, "tag", "")) or "invalid XPath" in str(e), e


def test_session_ids():
    # RESTCONF's commits name a real session id (from the allocator NETCONF uses) and the
    # client's address; one connection keeps its id, another connection gets another one.
    def changed_by(n):
        x = ET.fromstring(n.notification_xml)
        cb = x.find(f".//{{{NC_NOTIF}}}changed-by")
        return (int(cb.find(f"{{{NC_NOTIF}}}session-id").text),
                cb.find(f"{{{NC_NOTIF}}}source-host").text,
                cb.find(f"{{{NC_NOTIF}}}username").text)

    with nc() as m:
        m.create_subscription(filter=("subtree", f'<netconf-config-change xmlns="{NC_NOTIF}"/>'))
        ids = []
        for sess, n in [(S, "sid1"), (S, "sid2"), (s(), "sid3")]:
            r = sess.put(url(f"/data/ne-interfaces:interfaces/interface={n}"), data=json.dumps(iface(n)),
                         headers={"Content-Type": JSON})
            assert r.status_code == 201, r.text
            note = m.take_notification(timeout=10)
            assert note is not None and n in note.notification_xml, note
            ids.append(changed_by(note))
        for sid, host, user in ids:
            assert sid not in (0, 4294967295) and host == "127.0.0.1" and user == "admin", ids
            assert sid != int(m.session_id), (ids, m.session_id)
        assert ids[0][0] == ids[1][0], "one connection, one session id"
        assert ids[2][0] != ids[0][0], "another connection, another session id"


def test_last_modified():
    # Each resource has the time of the last commit that changed it or anything under it.
    a, b = "/data/ne-interfaces:interfaces/interface=lm1", "/data/ne-interfaces:interfaces/interface=lm2"
    t1 = put_json(a, iface("lm1", description="one")).headers["Last-Modified"]
    time.sleep(1.1)  # HTTP dates count seconds
    t2 = put_json(b, iface("lm2")).headers["Last-Modified"]
    assert t1 != t2
    lm = lambda p: S.head(url(p)).headers["Last-Modified"]
    assert lm(a) == t1 and lm(a + "/description") == t1 and lm(b) == t2, (lm(a), t1, lm(b), t2)
    assert lm("/data") == t2 and lm("/data/ne-interfaces:interfaces") == t2
    assert lm("/ds/ietf-datastores:running/ne-interfaces:interfaces/interface=lm1") == t1
    # Conditional requests use the resource's own time: lm1 has not changed since t1.
    assert S.get(url(a), headers={"If-Modified-Since": t1}).status_code == 304
    assert S.get(url(b), headers={"If-Modified-Since": t1}).status_code == 200
    time.sleep(1.1)
    r = S.patch(url(a), data=json.dumps(iface("lm1", description="two")),
                headers={"Content-Type": JSON, "If-Unmodified-Since": t1})
    assert r.status_code == 204, r.text
    t3 = r.headers["Last-Modified"]
    # Now lm1 (and its parents) moved on, lm2 did not; a stale If-Unmodified-Since fails.
    assert t3 != t2 and lm(a) == t3 and lm(b) == t2 and lm("/data/ne-interfaces:interfaces") == t3
    error(S.delete(url(a), headers={"If-Unmodified-Since": t2}), 412, "operation-failed")
    # A NETCONF commit counts as well.
    time.sleep(1.1)
    with nc() as m:
        m.edit_config(target="running", config=f'<config xmlns="urn:ietf:params:xml:ns:netconf:base:1.0">'
                      f'<interfaces xmlns="{IF_NS}"><interface><name>lm2</name><description>nc'
                      f'</description></interface></interfaces></config>')
    assert lm(b) not in (t2, t3) and lm(a) == t3


def test_h2_idle():
    # Needs an agent with --restconf-header-timeout 1: a client that negotiates HTTP/2 and
    # then sends nothing, or only the preface, is closed like an idle HTTP/1.1 client.
    import socket
    import ssl
    ctx = ssl.create_default_context(cafile=CERT)
    ctx.set_alpn_protocols(["h2"])
    preface = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"
    for send in [b"", preface]:
        raw = socket.create_connection(("127.0.0.1", int(RC_PORT)))
        tls = ctx.wrap_socket(raw, server_hostname="localhost")
        assert tls.selected_alpn_protocol() == "h2"
        if send:
            tls.sendall(send)
        tls.settimeout(20)
        got = b""
        try:
            while True:
                chunk = tls.recv(4096)
                if not chunk:
                    break
                got += chunk
        except socket.timeout:
            raise AssertionError(f"an idle HTTP/2 connection stays open (sent {send!r}, got {got!r})")
        except (ConnectionResetError, ssl.SSLError):
            pass
        tls.close()


globals()["test_" + TEST]()
print("ok", TEST)
