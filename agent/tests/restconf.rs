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
    let Some(py) = python_with("requests") else {
        return;
    };
    python_with("ncclient").expect("ncclient");
    let a = agent(&format!("rc-{test}"));
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
fn requests_both_protocols_and_event_streams() {
    python("both_protocols_and_events");
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
