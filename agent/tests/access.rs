//! Access control (RFC 8341, issue 16) over SSH as real users: ncclient sessions of the
//! recovery user, a read-only noc user and an ops user with README's example rules, and the
//! same users through Ansible's netconf modules. The rule-level cases are in `tests/nacm/`.

mod support;

use std::process::Command;

use support::{python_with, tool, Agent};

const EXAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../examples/nacm/noc-and-ops.xml"
);

/// README shows the example rules exactly as tested.
#[test]
fn readme_shows_the_tested_example() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let example = std::fs::read_to_string(EXAMPLE).unwrap();
    assert!(
        readme.contains(example.trim_end()),
        "README's NACM example differs from {EXAMPLE}"
    );
}

#[test]
fn noc_reads_and_ops_writes_its_modules_over_ssh() {
    let Some(python) = python_with("ncclient") else {
        return;
    };
    let agent = Agent::start("access", &[]);
    let out = Command::new(python)
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/netconf_nacm.py"
        ))
        .arg(agent.port.to_string())
        .arg(agent.password())
        .arg(EXAMPLE)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("all checks passed"),
        "{stdout}\n{}\nagent log:\n{}",
        String::from_utf8_lossy(&out.stderr),
        agent.log()
    );
    // Audit: each denial is logged with the user, the session and the path.
    let log = agent.log();
    for needles in [
        &["access denied", "user=noc", "session=", "access=\"write\"", "path=/ne-interfaces:interfaces/interface[name='eth0']/ne-vrrp:vrrp/group[vrid='1']/priority", "denied_by=rule 'read-only' of rule-list 'noc'"][..],
        &["access denied", "user=noc", "access=\"exec\"", "path=/ietf-netconf:kill-session"],
        &["access denied", "user=olive", "path=/ne-interfaces:interfaces/interface[name='eth1']", "denied_by=write-default"],
    ] {
        assert!(
            log.lines().any(|l| needles.iter().all(|n| l.contains(n))),
            "a log line with {needles:?}:\n{log}"
        );
    }
}

/// The rule kinds of RFC 8341 §3.4 over SSH as real users (passwords and a key): read and write
/// by path with list keys, rpc-name, rule order, a notification rule, users in no group,
/// default-deny-write/-all nodes, enable-nacm, the recovery user.
#[test]
fn rules_of_every_kind_hold_for_real_users_over_ssh() {
    let Some(python) = python_with("ncclient") else {
        return;
    };
    let agent = Agent::start("access-rules", &[]);
    let out = Command::new(python)
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/netconf_nacm_rules.py"
        ))
        .arg(agent.port.to_string())
        .arg(agent.password())
        .arg(&agent.dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("all checks passed"),
        "{stdout}\n{}\nagent log:\n{}",
        String::from_utf8_lossy(&out.stderr),
        agent.log()
    );
}

/// Ansible: the noc user's netconf_get succeeds and its netconf_config fails with
/// access-denied; the ops user's netconf_config succeeds and is idempotent.
#[test]
fn ansible_read_only_and_ops_users() {
    let Some(playbook) = tool("ansible-playbook") else {
        return;
    };
    let agent = Agent::start("access-ansible", &[]);
    let inventory = agent.dir.join("inventory.ini");
    let host = |name: &str, user: &str, password: &str| {
        format!(
            "{name} ansible_host=127.0.0.1 ansible_port={} ansible_user={user} ansible_password={password} ansible_connection=ansible.netcommon.netconf ansible_network_os=ansible.netcommon.default ansible_host_key_checking=false\n",
            agent.port
        )
    };
    std::fs::write(
        &inventory,
        format!(
            "[recovery]\n{}[noc]\n{}[ops]\n{}",
            host("as-admin", "admin", &agent.password()),
            host("as-noc", "noc", "noc-password"),
            host("as-ops", "olive", "olive-password"),
        ),
    )
    .unwrap();
    let out = Command::new(playbook)
        .arg("-i")
        .arg(&inventory)
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/ansible/nacm.yml"
        ))
        .arg("-e")
        .arg(format!("example={EXAMPLE}"))
        .env("ANSIBLE_LOCAL_TEMP", agent.dir.join("ansible-tmp"))
        .env("ANSIBLE_NOCOLOR", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("as-ops") && !stdout.contains("failed=1"),
        "{stdout}\n{}\nagent log:\n{}",
        String::from_utf8_lossy(&out.stderr),
        agent.log()
    );
}
