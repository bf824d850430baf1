//! RESTCONF (issue 18) against the agent as a process: Python requests over verified TLS (with
//! ncclient on the same agent's NETCONF side: locks, both protocols, notifications), and curl
//! (HTTP/1.1 and HTTP/2, the certificate's fingerprint, the body limit).

mod support;

use std::process::{Command, Output};

use support::{python_with, tool, Agent};

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/restconf_requests.py");

fn agent(tag: &str) -> Agent {
    let a = Agent::start(tag, &[]);
    assert!(
        a.restconf_port.is_some(),
        "no RESTCONF address in the log:\n{}",
        a.log()
    );
    a
}

fn cert(a: &Agent) -> String {
    a.dir.join("restconf_cert.pem").display().to_string()
}

/// One test function of the Python script against a fresh agent.
fn python(test: &str) {
    python_against(test, &[]);
}

/// One test function of the Python script against a fresh agent started with `args`.
fn python_against(test: &str, args: &[&str]) {
    let Some(py) = python_with("requests") else {
        return;
    };
    python_with("ncclient").expect("ncclient");
    let a = Agent::start(&format!("rc-{test}"), args);
    assert!(
        a.restconf_port.is_some(),
        "no RESTCONF address:\n{}",
        a.log()
    );
    let out = Command::new(py)
        .arg(SCRIPT)
        .arg(a.restconf_port.unwrap().to_string())
        .arg(a.port.to_string())
        .arg(a.password())
        .arg(cert(&a))
        .arg(test)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{test}:\n{}\n{}\nagent log:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        a.log()
    );
}

#[test]
fn requests_basics() {
    python("basics");
}

#[test]
fn requests_crud_json_and_xml() {
    python("crud_json_and_xml");
}

#[test]
fn requests_read_parameters() {
    python("read_parameters");
}

#[test]
fn requests_state_overlay_reads_as_the_merge() {
    python("state_overlay");
}

#[test]
fn requests_nmda() {
    python("nmda");
}

#[test]
fn requests_preconditions() {
    python("preconditions");
}

#[test]
fn requests_bad_input_changes_nothing() {
    python("bad_input");
}

#[test]
fn requests_yang_patch() {
    python("yang_patch");
}

#[test]
fn requests_operations_and_netconf_lock() {
    python("operations_and_lock");
}

#[test]
fn requests_access_control_of_users() {
    python("access_control");
}

#[test]
fn requests_both_protocols_and_event_streams() {
    python("both_protocols_and_events");
}

#[test]
fn requests_event_stream_filter_and_netconf_xpath_subscription() {
    python("event_filter");
}

#[test]
fn requests_config_change_names_the_restconf_session() {
    python("session_ids");
}

#[test]
fn requests_last_modified_per_resource() {
    python("last_modified");
}

/// HTTP/2 clients that say nothing are closed by the header timeout (1 s here); an HTTP/2
/// request that stays open (an event stream, curl) is not cut by it.
#[test]
fn http2_idle_clients_are_closed_but_open_streams_are_not() {
    let args = ["--restconf-header-timeout", "1"];
    python_against("h2_idle", &args);
    if tool("curl").is_none() {
        return;
    }
    let a = Agent::start("rc-h2-stream", &args);
    let base = format!("https://127.0.0.1:{}/restconf", a.restconf_port.unwrap());
    let stop = agent::clock::rfc3339(agent::clock::now_ms() + 4000);
    let out = curl(
        &a,
        &[
            "--http2",
            "-N",
            "-w",
            "%{http_version} %{http_code}",
            "-o",
            "/dev/null",
            &format!(
                "{base}/streams/NETCONF/json?start-time=2000-01-01T00:00:00Z&stop-time={stop}"
            ),
        ],
    );
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout) == "2 200",
        "{out:?}\n{}",
        a.log()
    );
}

/// Last-Modified per resource comes from the commit log, so it is the same after a restart.
#[test]
fn last_modified_survives_a_restart() {
    if tool("curl").is_none() {
        return;
    }
    let a = agent("rc-lm-restart");
    let entry = |a: &Agent, name: &str| {
        format!(
            "https://127.0.0.1:{}/restconf/data/ne-interfaces:interfaces/interface={name}",
            a.restconf_port.unwrap()
        )
    };
    let put = |a: &Agent, name: &str| {
        let body = format!("{{\"ne-interfaces:interface\":[{{\"name\":\"{name}\"}}]}}");
        let out = curl(
            a,
            &[
                "-X",
                "PUT",
                "-H",
                "Content-Type: application/yang-data+json",
                "-d",
                &body,
                "-w",
                "%{http_code}",
                &entry(a, name),
            ],
        );
        assert_eq!(String::from_utf8_lossy(&out.stdout), "201", "{out:?}");
    };
    let modified = |a: &Agent, name: &str| {
        let out = curl(a, &["-I", &entry(a, name)]);
        let head = String::from_utf8_lossy(&out.stdout).to_string();
        head.lines()
            .find_map(|l| {
                l.to_ascii_lowercase()
                    .starts_with("last-modified:")
                    .then(|| l[14..].trim().to_string())
            })
            .unwrap_or_else(|| panic!("no Last-Modified in {head}"))
    };
    put(&a, "lr1");
    std::thread::sleep(std::time::Duration::from_millis(1100)); // HTTP dates count seconds
    put(&a, "lr2");
    let before = (modified(&a, "lr1"), modified(&a, "lr2"));
    assert_ne!(before.0, before.1);
    let b = a.restart("rc-lm-restart", &[]);
    assert_eq!(
        (modified(&b, "lr1"), modified(&b, "lr2")),
        before,
        "{}",
        b.log()
    );
}

fn curl(a: &Agent, args: &[&str]) -> Output {
    Command::new("curl")
        .args(["-sS", "--cacert", &cert(a), "-u"])
        .arg(format!("admin:{}", a.password()))
        .args(args)
        .output()
        .unwrap()
}

/// curl over HTTP/2 and HTTP/1.1 with the certificate verified; the fingerprint the agent
/// logs is the certificate's; a body over the limit is refused with 413 and changes nothing.
#[test]
fn curl_http2_http11_fingerprint_and_body_limit() {
    if tool("curl").is_none() {
        return;
    }
    let a = agent("rc-curl");
    let base = format!("https://127.0.0.1:{}/restconf", a.restconf_port.unwrap());
    for (flag, version) in [("--http2", "2"), ("--http1.1", "1.1")] {
        let out = curl(
            &a,
            &[
                flag,
                "-o",
                "/dev/null",
                "-w",
                "%{http_version} %{http_code}",
                &format!("{base}/data"),
            ],
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            format!("{version} 200"),
            "{out:?}"
        );
    }
    // PUT then GET in XML over HTTP/2.
    let out = curl(
        &a,
        &[
            "-X",
            "PUT",
            "-H",
            "Content-Type: application/yang-data+xml",
            "-d",
            "<interface xmlns=\"urn:ne-agent:yang:ne-interfaces\"><name>cu0</name><description>x</description></interface>",
            "-w",
            "%{http_code}",
            &format!("{base}/data/ne-interfaces:interfaces/interface=cu0"),
        ],
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "201", "{out:?}");
    let out = curl(
        &a,
        &[
            "-H",
            "Accept: application/yang-data+xml",
            &format!("{base}/data/ne-interfaces:interfaces/interface=cu0/description"),
        ],
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "<description xmlns=\"urn:ne-agent:yang:ne-interfaces\">x</description>"
    );
    // The logged fingerprint is the certificate's (as openssl computes it).
    if let Some(openssl) = tool("openssl") {
        let out = Command::new(openssl)
            .args([
                "x509",
                "-noout",
                "-fingerprint",
                "-sha256",
                "-in",
                &cert(&a),
            ])
            .output()
            .unwrap();
        let fp = String::from_utf8_lossy(&out.stdout);
        let fp = fp.trim().rsplit('=').next().unwrap().to_string();
        assert!(
            a.log().contains(&format!("fingerprint={fp}")),
            "{fp} not in\n{}",
            a.log()
        );
    }
    // 64 MiB + 1 byte: 413, nothing changed.
    let big = a.dir.join("big.json");
    std::fs::write(&big, vec![b' '; (64 << 20) + 1]).unwrap();
    let out = curl(
        &a,
        &[
            "-X",
            "PUT",
            "-H",
            "Content-Type: application/yang-data+json",
            "--data-binary",
            &format!("@{}", big.display()),
            "-w",
            "\n%{http_code}",
            &format!("{base}/data/ne-interfaces:interfaces/interface=cu0"),
        ],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.ends_with("413") && text.contains("too-big"), "{text}");
    let out = curl(
        &a,
        &[&format!(
            "{base}/data/ne-interfaces:interfaces/interface=cu0/description"
        )],
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "{\"ne-interfaces:description\":\"x\"}"
    );
}

const SEED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/seed/device-a.xml");

/// The seed configuration of device A as a data tree.
fn seed_tree(schema: &yang::Schema) -> yang::data::DataTree {
    let text = std::fs::read_to_string(SEED).unwrap();
    let config = yang::xml::parse(&text).unwrap();
    yang::data::decode_elements(schema, &config.children, Default::default()).unwrap()
}

/// The seed as restconf_config items: one per interface, one per other top-level container,
/// each addressed in the running datastore with its JSON content.
fn seed_items(schema: &yang::Schema, tree: &yang::data::DataTree) -> (String, usize) {
    let mut items = Vec::new();
    let mut interfaces = 0;
    let opts = yang::data::EncodeOptions::default();
    for root in &tree.roots {
        let sn = schema.node(root.schema);
        let module = &schema.module(sn.module).name;
        let top = format!("/ds/ietf-datastores:running/{module}:{}", sn.name);
        if sn.name == "interfaces" {
            for entry in &root.children {
                let mut content = String::new();
                yang::data::json::encode_nodes(
                    schema,
                    std::slice::from_ref(entry),
                    None,
                    opts,
                    &mut content,
                );
                let name = entry.keys(schema)[0].to_string();
                items.push(format!(
                    "{{\"path\":\"{top}/interface={name}\",\"content\":{content}}}"
                ));
                interfaces += 1;
            }
        } else {
            let mut content = String::new();
            yang::data::json::encode_nodes(
                schema,
                std::slice::from_ref(root),
                None,
                opts,
                &mut content,
            );
            items.push(format!("{{\"path\":\"{top}\",\"content\":{content}}}"));
        }
    }
    // Each item is a commit of its own, so each must be valid with those before it: multicast
    // routing before the PIM interfaces, a-up before the monitor group that binds it, the group
    // before the VRRP group that tracks it, a-ic's VRRP group before a-dn's admin-vrrp track,
    // the interfaces before the BFD session.
    let order = [
        "ne-multicast:multicast",
        "interface=a-up",
        "monitor-groups",
        "interface=a-ic",
        "interface=a-dn",
        "ne-bfd:bfd",
    ];
    let rank = |item: &String| {
        order
            .iter()
            .position(|o| item.contains(&format!("{o}\"")))
            .unwrap_or(order.len())
    };
    items.sort_by_key(rank);
    (format!("{{\"seed\":[{}]}}", items.join(",")), interfaces)
}

/// NETCONF's running as ncclient's get-config returns it.
fn netconf_running(py: &std::path::Path, a: &Agent) -> String {
    let script = format!(
        "from ncclient import manager\n\
         m = manager.connect(host='127.0.0.1', port={}, username='admin', password='{}', hostkey_verify=False, allow_agent=False, look_for_keys=False)\n\
         print(m.get_config(source='running').data_xml)\n",
        a.port,
        a.password()
    );
    let out = Command::new(py).arg("-c").arg(script).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Acceptance 2 and 3: Ansible's restconf_config lays down the seed configuration (changed,
/// then not changed) and restconf_get reads it back; the running datastore it makes is the one
/// the same configuration makes over NETCONF (edit-config with ncclient on another agent).
#[test]
fn ansible_seed_over_restconf_equals_netconf() {
    let Some(playbook) = tool("ansible-playbook") else {
        return;
    };
    let py = python_with("ncclient").expect("ncclient");
    let schema = yang::SchemaBuilder::new().embedded().build().unwrap();
    let seed = seed_tree(&schema);
    let (vars, interfaces) = seed_items(&schema, &seed);
    let a = agent("rc-ansible");
    std::fs::write(a.dir.join("seed.json"), vars).unwrap();
    let inventory = a.dir.join("inventory.ini");
    std::fs::write(
        &inventory,
        format!(
            "[ne]\nrc ansible_host=127.0.0.1 ansible_httpapi_port={} ansible_user=admin ansible_password={} \
             ansible_connection=ansible.netcommon.httpapi ansible_network_os=ansible.netcommon.restconf \
             ansible_httpapi_use_ssl=true ansible_httpapi_validate_certs=true ansible_httpapi_ca_path={}\n",
            a.restconf_port.unwrap(),
            a.password(),
            cert(&a)
        ),
    )
    .unwrap();
    let out = Command::new(playbook)
        .arg("-i")
        .arg(&inventory)
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/ansible/restconf.yml"
        ))
        .arg("-e")
        .arg(format!("@{}", a.dir.join("seed.json").display()))
        .arg("-e")
        .arg(format!("seed_interfaces={interfaces}"))
        .env("ANSIBLE_LOCAL_TEMP", a.dir.join("ansible-tmp"))
        .env("ANSIBLE_NOCOLOR", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("failed=0"),
        "{stdout}\n{}\nagent log:\n{}",
        String::from_utf8_lossy(&out.stderr),
        a.log()
    );
    // The same seed over NETCONF on a second agent: the same running datastore.
    let b = Agent::start("rc-ansible-nc", &["--restconf-off"]);
    let script = format!(
        "from ncclient import manager\n\
         m = manager.connect(host='127.0.0.1', port={}, username='admin', password='{}', hostkey_verify=False, allow_agent=False, look_for_keys=False)\n\
         m.edit_config(target='running', config=open('{SEED}').read())\n",
        b.port,
        b.password()
    );
    let o = Command::new(&py).arg("-c").arg(script).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (over_restconf, over_netconf) = (netconf_running(&py, &a), netconf_running(&py, &b));
    assert!(over_restconf.contains("a-ic"), "{over_restconf}");
    assert_eq!(over_restconf, over_netconf);
}

/// Slow and idle clients are closed: a connection that sends nothing, or only part of a
/// request's headers, or stays idle after a request, is closed once the header timeout passes
/// (plain HTTP on loopback, `--restconf-http`, with a 1 s timeout); a busy one is not.
#[test]
fn idle_and_slow_clients_are_closed() {
    use std::io::{Read, Write};
    let a = Agent::start(
        "rc-slow",
        &[
            "--restconf-listen",
            "127.0.0.1:0",
            "--restconf-http",
            "--restconf-header-timeout",
            "1",
        ],
    );
    let port = a.restconf_port.expect("the RESTCONF address");
    let closed = |mut s: std::net::TcpStream| {
        s.set_read_timeout(Some(std::time::Duration::from_secs(20)))
            .unwrap();
        let mut buf = Vec::new();
        // EOF (or a reset) ends the read; a read timeout would be an error kind WouldBlock.
        match s.read_to_end(&mut buf) {
            Ok(_) => true,
            Err(e) => {
                e.kind() != std::io::ErrorKind::WouldBlock
                    && e.kind() != std::io::ErrorKind::TimedOut
            }
        }
    };
    // Nothing sent.
    let s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    assert!(closed(s), "a silent connection stays open");
    // Half a request line, then nothing.
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.write_all(b"GET /restconf HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    assert!(closed(s), "a slow client stays open");
    // A full request is answered (401 without credentials), then the idle connection closes.
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.write_all(b"GET /restconf HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut first = [0u8; 12];
    s.read_exact(&mut first).unwrap();
    assert_eq!(&first, b"HTTP/1.1 401");
    assert!(closed(s), "an idle keep-alive connection stays open");
}
