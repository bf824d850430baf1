//! The agent as a NETCONF server: started as a process on a loopback port with its own data
//! directory, driven by real clients (ncclient) over real SSH.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod support;

use support::{python_with, tool, Agent};

/// Configurations that look armed but are not, or cannot work (issue 20): refused with the places
/// named, or shown in `<get>` and warned about in the log.
#[test]
fn configuration_traps_are_refused_or_shown() {
    let Some(python) = python_with("ncclient") else {
        return;
    };
    let agent = Agent::start("traps", &[]);
    run_checks(&python, "netconf_traps.py", &agent);
    let log = agent.log();
    assert!(
        log.contains("tracks a monitor group that is not enabled") && log.contains("ne-trap0"),
        "the commit of a track of a disabled group is warned about:\n{log}"
    );
    assert!(
        log.contains("configuration committed") && log.contains("commit=1"),
        "every commit is logged with its id:\n{log}"
    );
    assert!(
        log.lines()
            .any(|l| l.contains("confirmed commit") && l.contains("event=\"start\"")),
        "the confirmed commit is logged:\n{log}"
    );
    assert!(
        log.lines()
            .any(|l| l.contains("running reverted") && l.contains("user=admin")),
        "the revert of an unconfirmed commit is logged with its user:\n{log}"
    );
}

#[test]
fn ncclient_drives_every_operation() {
    let Some(python) = python_with("ncclient") else {
        return;
    };
    let agent = Agent::start("ncclient", &[]);
    run_checks(&python, "netconf_ncclient.py", &agent);
}

/// Run a check script of this folder (`SCRIPT PORT PASSWORD`) against `agent`; it must pass.
fn run_checks(python: &std::path::Path, script: &str, agent: &Agent) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(script);
    let out = Command::new(python)
        .arg(path)
        .arg(agent.port.to_string())
        .arg(agent.password())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{script}: {stdout}\n{stderr}");
    assert!(stdout.contains("all checks passed"), "{script}: {stdout}");
}

#[test]
fn wrong_password_is_refused_and_state_survives_restart() {
    let Some(python) = python_with("ncclient") else {
        return;
    };
    let mut agent = Agent::start("auth", &[]);
    let port = agent.port;
    let probe = |password: &str, code: &str| {
        Command::new(&python)
            .arg("-c")
            .arg(format!(
                "from ncclient import manager\nm = manager.connect(host='127.0.0.1', port={}, username='admin', password={password:?}, hostkey_verify=False, allow_agent=False, look_for_keys=False, timeout=10)\n{code}",
                port
            ))
            .output()
            .unwrap()
    };
    let bad = probe("not-the-password", "");
    assert!(!bad.status.success(), "a wrong password was accepted");
    let pw = agent.password();
    let ok = probe(
        &pw,
        "m.edit_config(target='candidate', config='<config><interfaces xmlns=\"urn:ne-agent:yang:ne-interfaces\"><interface><name>keep</name></interface></interfaces></config>')\nm.commit()\nm.close_session()",
    );
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    // Restart on the same data directory: host key, password and running persist.
    let dir = agent.dir.clone();
    let key_before = std::fs::read(dir.join("ssh_host_ed25519_key")).unwrap();
    let _ = agent.child.kill();
    let _ = agent.child.wait();
    let started = Instant::now();
    let mut again = Command::new(env!("CARGO_BIN_EXE_ne-agent"))
        .args([
            "--listen",
            &format!("127.0.0.1:{}", agent.port),
            "--restconf-off",
            "--data-dir",
        ])
        .arg(&dir)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let check = loop {
        let out = probe(
            &pw,
            "d = m.get_config(source='running').data_xml\nassert '<name>keep</name>' in d, d",
        );
        if out.status.success() || started.elapsed() > Duration::from_secs(20) {
            break out;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let _ = again.kill();
    let _ = again.wait();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    assert_eq!(
        std::fs::read(dir.join("ssh_host_ed25519_key")).unwrap(),
        key_before
    );
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(dir.join("initial-admin-password"))
            .unwrap()
            .permissions(),
    );
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn netconf_console2_configures_and_reads_back() {
    let Some(ncc) = tool("netconf-console2") else {
        return;
    };
    let agent = Agent::start("ncc", &[]);
    let pw = agent.password();
    let run = |args: &[&str]| {
        let out = Command::new(&ncc)
            .args([
                "--host",
                "127.0.0.1",
                "--port",
                &agent.port.to_string(),
                "-u",
                "admin",
                "-p",
                &pw,
            ])
            .args(args)
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    };
    let (ok, hello) = run(&["--hello"]);
    assert!(
        ok && hello.contains("urn:ietf:params:netconf:capability:candidate:1.0"),
        "{hello}"
    );
    let file = agent.dir.join("edit.xml");
    std::fs::write(
        &file,
        r#"<config xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><interfaces xmlns="urn:ne-agent:yang:ne-interfaces"><interface><name>a-up</name><description>uplink</description></interface></interfaces></config>"#,
    )
    .unwrap();
    let (ok, out) = run(&["--db", "candidate", "--edit-config", file.to_str().unwrap()]);
    assert!(ok && out.contains("<ok"), "{out}");
    let (ok, out) = run(&["--commit"]);
    assert!(ok && out.contains("<ok"), "{out}");
    let (ok, out) = run(&[
        "--get-config",
        "--filter",
        "/if:interfaces/if:interface[if:name='a-up']/if:description",
        "-N",
        "if=urn:ne-agent:yang:ne-interfaces",
    ]);
    assert!(ok && out.contains("uplink"), "{out}");
    let (ok, out) = run(&["--get-config", "--with-defaults", "report-all"]);
    assert!(
        ok && out.contains("<enabled>true</enabled>"),
        "defaults reported: {out}"
    );
    let (ok, out) = run(&["--get-schema", "ne-vrrp"]);
    assert!(ok && out.contains("module ne-vrrp"), "{out}");
    let (ok, out) = run(&["--copy-running-to-startup"]);
    assert!(ok && out.contains("<ok"), "{out}");
    let (ok, out) = run(&["--get-config", "--db", "startup"]);
    assert!(ok && out.contains("uplink"), "{out}");
    let (ok, out) = run(&["--lock", "--db", "candidate"]);
    assert!(ok && out.contains("<ok"), "{out}");
    // A failing edit reports the rpc-error.
    std::fs::write(
        &file,
        r#"<config xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><bfd xmlns="urn:ne-agent:yang:ne-bfd"><session><name>x</name><min-tx-interval>1</min-tx-interval></session></bfd></config>"#,
    )
    .unwrap();
    let (_, out) = run(&["--db", "candidate", "--edit-config", file.to_str().unwrap()]);
    assert!(
        out.contains("invalid-value") && out.contains("min-tx-interval"),
        "{out}"
    );
}

#[test]
fn scrapli_netconf_over_openssh() {
    let Some(python) = python_with("scrapli_netconf") else {
        return;
    };
    let agent = Agent::start("scrapli", &[]);
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/netconf_scrapli.py");
    let out = Command::new(python)
        .arg(script)
        .arg(agent.port.to_string())
        .arg(agent.password())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("all checks passed"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// yanglint (libyang, Debian libyang2-tools) accepts what get-config returns for the seed
/// configuration: our XML is valid instance data for our modules in another implementation.
#[test]
fn yanglint_accepts_get_config_output() {
    let Some(python) = python_with("ncclient") else {
        return;
    };
    let Some(yanglint) = tool("yanglint") else {
        return;
    };
    let agent = Agent::start("yanglint", &[]);
    let seed = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../yang/tests/fixtures/seed-a.xml"
    );
    let out = Command::new(python)
        .arg("-c")
        .arg(format!(
            "from ncclient import manager\nm = manager.connect(host='127.0.0.1', port={}, username='admin', password={:?}, hostkey_verify=False, allow_agent=False, look_for_keys=False, timeout=20)\nm.edit_config(target='candidate', config=open({seed:?}).read())\nm.commit()\nprint(m.get_config(source='running').data_xml)",
            agent.port,
            agent.password()
        ))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reply = String::from_utf8_lossy(&out.stdout).to_string();
    // The children of <data> are the instance document yanglint reads.
    let start = reply
        .find('>')
        .map(|i| reply[i + 1..].to_string())
        .unwrap_or_default();
    let start = start[start.find('>').map_or(0, |i| i + 1)..].to_string();
    let body = start.trim().trim_end_matches("</data>").to_string();
    assert!(body.contains("<bfd"), "{reply}");
    let file = agent.dir.join("running.xml");
    std::fs::write(&file, &body).unwrap();
    let models = concat!(env!("CARGO_MANIFEST_DIR"), "/../yang/modules");
    let order = [
        "ne-types",
        "ne-interfaces",
        "ne-bfd",
        "ne-monitor-group",
        "ne-vrrp",
        "ne-multicast",
    ];
    let lint = Command::new(yanglint)
        .args(["-t", "config", "-p", models])
        .args(order.iter().map(|m| format!("{models}/{m}.yang")))
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        lint.status.success(),
        "yanglint refused our get-config output:\n{}\n{body}",
        String::from_utf8_lossy(&lint.stderr)
    );
}

/// The YANG library (RFC 8525 yang-library and RFC 7895 modules-state) that `<get>` returns is
/// valid against the ietf-yang-library module pyang installs, by yanglint; the hello announces
/// it with the same module-set-id.
#[test]
fn yang_library_state_is_valid_for_yanglint() {
    let Some(python) = python_with("ncclient") else {
        return;
    };
    let Some(yanglint) = tool("yanglint") else {
        return;
    };
    let Some(pyang) = tool("pyang") else {
        return;
    };
    let ietf = pyang
        .canonicalize()
        .unwrap()
        .parent()
        .unwrap()
        .join("../share/yang/modules/ietf");
    let agent = Agent::start("yanglib", &[]);
    let out = Command::new(python)
        .arg("-c")
        .arg(format!(
            "from ncclient import manager\nm = manager.connect(host='127.0.0.1', port={}, username='admin', password={:?}, hostkey_verify=False, allow_agent=False, look_for_keys=False, timeout=20)\n\
             print([c for c in m.server_capabilities if 'yang-library' in c][0])\n\
             a = m.get(filter=('subtree', '<yang-library xmlns=\"urn:ietf:params:xml:ns:yang:ietf-yang-library\"/>')).data_xml\n\
             b = m.get(filter=('subtree', '<modules-state xmlns=\"urn:ietf:params:xml:ns:yang:ietf-yang-library\"/>')).data_xml\n\
             print(a[:a.rindex('</data>')] + b[b.index('<modules-state'):])",
            agent.port,
            agent.password()
        ))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let (cap, reply) = text.split_once('\n').unwrap();
    let id = cap.split("module-set-id=").nth(1).unwrap().trim();
    assert!(
        reply.contains(&format!("<module-set-id>{id}</module-set-id>")),
        "{reply}"
    );
    assert!(
        reply.contains(&format!("<content-id>{id}</content-id>")),
        "{reply}"
    );
    assert!(reply.contains("<name>ne-vrrp</name>") && reply.contains("urn:ne-agent:yang:ne-vrrp"));
    let data = &reply[reply.find("<data").unwrap()..];
    let body = data[data.find('>').unwrap() + 1..]
        .trim()
        .trim_end_matches("</data>");
    let file = agent.dir.join("yang-library.xml");
    std::fs::write(&file, body).unwrap();
    let lint = Command::new(yanglint)
        .args(["-t", "data", "-p"])
        .arg(&ietf)
        .arg(ietf.join("ietf-yang-library.yang"))
        .arg(ietf.join("ietf-datastores.yang"))
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        lint.status.success(),
        "yanglint refused our YANG library:\n{}\n{body}",
        String::from_utf8_lossy(&lint.stderr)
    );
}

/// A whole `<get>` (the seed configuration committed, a lock held, an error answered) is valid
/// for yanglint against the IETF module texts pyang installs (ietf-netconf-monitoring,
/// ietf-yang-library, ietf-datastores) and the device's own modules: netconf-state, the YANG
/// library and the commit history are data like the rest.
#[test]
fn yanglint_accepts_get_output_with_netconf_state_and_the_library() {
    let Some(python) = python_with("ncclient") else {
        return;
    };
    let Some(yanglint) = tool("yanglint") else {
        return;
    };
    let Some(pyang) = tool("pyang") else {
        return;
    };
    let installed = pyang
        .canonicalize()
        .unwrap()
        .parent()
        .unwrap()
        .join("../share/yang/modules");
    let agent = Agent::start("yanglint-get", &[]);
    let seed = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../yang/tests/fixtures/seed-a.xml"
    );
    let out = Command::new(python)
        .arg("-c")
        .arg(format!(
            "from ncclient import manager\n\
             def connect():\n    return manager.connect(host='127.0.0.1', port={}, username='admin', password={:?}, hostkey_verify=False, allow_agent=False, look_for_keys=False, timeout=20)\n\
             a, b = connect(), connect()\n\
             a.edit_config(target='candidate', config=open({seed:?}).read())\n\
             a.commit()\n\
             a.lock(target='candidate')\n\
             try:\n    b.get_schema('no-such-module')\nexcept Exception:\n    pass\n\
             print(a.session_id, b.session_id)\n\
             print(a.get().data_xml)",
            agent.port,
            agent.password()
        ))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let (ids, reply) = text.split_once('\n').unwrap();
    let (a, b) = ids.trim().split_once(' ').unwrap();
    for tree in [
        "<netconf-state xmlns=\"urn:ietf:params:xml:ns:yang:ietf-netconf-monitoring\">",
        "<yang-library xmlns=\"urn:ietf:params:xml:ns:yang:ietf-yang-library\">",
        "<modules-state xmlns=\"urn:ietf:params:xml:ns:yang:ietf-yang-library\">",
        "<commit-history xmlns=\"urn:ne-agent:yang:ne-system\">",
        "<bfd xmlns=\"urn:ne-agent:yang:ne-bfd\">",
    ] {
        assert!(reply.contains(tree), "{tree} missing:\n{reply}");
    }
    assert!(
        reply.contains(&format!("<locked-by-session>{a}</locked-by-session>")),
        "{reply}"
    );
    // Session b sent one RPC, answered with an error.
    let b_entry = reply
        .split("<session>")
        .find(|s| s.starts_with(&format!("<session-id>{b}</session-id>")))
        .unwrap_or_else(|| panic!("no session {b}:\n{reply}"));
    assert!(
        b_entry.contains("<in-rpcs>1</in-rpcs>")
            && b_entry.contains("<out-rpc-errors>1</out-rpc-errors>"),
        "{b_entry}"
    );
    let data = &reply[reply.find("<data").unwrap()..];
    let body = data[data.find('>').unwrap() + 1..]
        .trim()
        .trim_end_matches("</data>");
    let file = agent.dir.join("get.xml");
    std::fs::write(&file, body).unwrap();
    let ietf = installed.join("ietf");
    let models = concat!(env!("CARGO_MANIFEST_DIR"), "/../yang/modules");
    let ours = [
        "ne-types",
        "ne-interfaces",
        "ne-bfd",
        "ne-monitor-group",
        "ne-vrrp",
        "ne-multicast",
        "ne-system",
    ];
    let lint = Command::new(yanglint)
        .args(["-t", "data", "-p"])
        .arg(&ietf)
        .arg("-p")
        .arg(installed.join("iana"))
        .args(
            [
                "ietf-netconf-monitoring",
                "ietf-yang-library",
                "ietf-datastores",
                // The access-control counters (RFC 8341 /nacm state).
                "ietf-netconf-acm",
            ]
            .iter()
            .map(|m| ietf.join(format!("{m}.yang"))),
        )
        .args(ours.iter().map(|m| format!("{models}/{m}.yang")))
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        lint.status.success(),
        "yanglint refused our <get> output:\n{}\n{body}",
        String::from_utf8_lossy(&lint.stderr)
    );
}

/// Ansible (`ansible` from PyPI, ansible.netcommon's netconf connection and modules) runs a
/// playbook against the agent: netconf_config twice (changed, then not changed),
/// netconf_get of config and state with filters, netconf_rpc.
#[test]
fn ansible_playbook_with_netcommon_modules() {
    let Some(playbook) = tool("ansible-playbook") else {
        return;
    };
    let agent = Agent::start("ansible", &[]);
    let inventory = agent.dir.join("inventory.ini");
    std::fs::write(
        &inventory,
        format!(
            "[ne]\ndev ansible_host=127.0.0.1 ansible_port={} ansible_user=admin ansible_password={} ansible_connection=ansible.netcommon.netconf ansible_network_os=ansible.netcommon.default ansible_host_key_checking=false\n",
            agent.port,
            agent.password()
        ),
    )
    .unwrap();
    let out = Command::new(playbook)
        .arg("-i")
        .arg(&inventory)
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/ansible/netconf.yml"
        ))
        .env("ANSIBLE_LOCAL_TEMP", agent.dir.join("ansible-tmp"))
        .env("ANSIBLE_NOCOLOR", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("failed=0") && stdout.contains("changed=1"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Both host keys are offered: ed25519, and RSA for older clients (rsa-sha2 signatures).
#[test]
fn ed25519_and_rsa_host_keys_are_offered() {
    let agent = Agent::start("hostkeys", &[]);
    let scan = |t: &str| {
        Command::new("ssh-keyscan")
            .args(["-t", t, "-p", &agent.port.to_string(), "127.0.0.1"])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).to_string())
    };
    let Ok(ed) = scan("ed25519") else {
        eprintln!("SKIPPED: ssh-keyscan not available");
        return;
    };
    assert!(ed.contains("ssh-ed25519"), "{ed}");
    let rsa = scan("rsa").unwrap();
    assert!(rsa.contains("ssh-rsa"), "{rsa}");
}

/// The shipped examples (README "Configure the seed scenario") against a real agent each:
/// `examples/ansible/seed.yml` with the shipped inventory (port and password given as extra
/// vars) applies device A's seed file, `examples/ncclient_apply.py` applies each device's file
/// and prints the VRRP and BFD state.
#[test]
fn shipped_examples_apply_with_ansible_and_ncclient() {
    let Some(python) = python_with("ncclient") else {
        return;
    };
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    for (dev, expect) in [
        ('a', ["<priority>120</priority>", "<mode>link</mode>"]),
        (
            'b',
            [
                "<priority>100</priority>",
                "<priority-change>40</priority-change>",
            ],
        ),
    ] {
        let agent = Agent::start(&format!("example-{dev}"), &[]);
        if dev == 'a' {
            if let Some(playbook) = tool("ansible-playbook") {
                let out = Command::new(playbook)
                    .current_dir(root)
                    .args([
                        "-i",
                        "examples/ansible/hosts.yml",
                        "examples/ansible/seed.yml",
                    ])
                    .args(["--limit", "device-a", "-e"])
                    .arg(format!(
                        "{{\"ansible_port\": {}, \"ansible_password\": {:?}}}",
                        agent.port,
                        agent.password()
                    ))
                    .env("ANSIBLE_LOCAL_TEMP", agent.dir.join("ansible-tmp"))
                    .env("ANSIBLE_NOCOLOR", "1")
                    .output()
                    .unwrap();
                let stdout = String::from_utf8_lossy(&out.stdout);
                assert!(
                    out.status.success()
                        && stdout.contains("changed=1")
                        && stdout.contains("failed=0")
                        && stdout.contains("<priority>120</priority>"),
                    "{stdout}\n{}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
        }
        let out = Command::new(&python)
            .current_dir(root)
            .arg("examples/ncclient_apply.py")
            .args(["--port", &agent.port.to_string()])
            .args(["--password", &agent.password()])
            .arg(format!("examples/seed/device-{dev}.xml"))
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        for needle in expect
            .iter()
            .chain(&["<state>", "<session>", "candidate + commit"])
        {
            assert!(
                stdout.contains(needle),
                "device {dev}: no {needle} in\n{stdout}"
            );
        }
    }
}
