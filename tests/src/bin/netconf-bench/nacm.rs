//! `--nacm`: what access control costs (issue 16), against our agent only.
//!
//! - `<get-config>` of running holding N monitor groups, as the recovery user (NACM does not
//!   look at the data) and as a user restricted by 20 path rules (ten hide whole entries, five a
//!   leaf of an entry, four are about other modules, one permits writing the monitor groups):
//!   the reply is pruned on the way out. Runs alternate between the two users.
//! - one-entry edit-config (candidate) + commit as that user with NACM on (every changed node
//!   checked against the rules) and with `enable-nacm` false (no check), alternating.
//!
//! Each line prints p50, p99 and max of both and the ratio of the medians (restricted /
//! recovery, on / off); the issue asks for at most 1.5 and 1.1.

use std::time::Instant;

use super::{call_ok, close, connect, ms, pct, sorted, stats, wait_reachable, Opts, Target};
use ne_lab::lab::{Agent, Netns};

const MG_NS: &str = "urn:ne-agent:yang:ne-monitor-group";
const NACM_NS: &str = "urn:ietf:params:xml:ns:yang:ietf-netconf-acm";
const SYS_NS: &str = "urn:ietf:params:xml:ns:yang:ietf-system";
const USER: &str = "bench";
const PASSWORD: &str = "bench-password";

fn groups_xml(n: usize) -> String {
    let mut x = format!("<monitor-groups xmlns=\"{MG_NS}\">");
    for i in 0..n {
        x.push_str(&format!(
            "<monitor-group><name>mg{i}</name><enabled>true</enabled></monitor-group>"
        ));
    }
    x.push_str("</monitor-groups>");
    x
}

/// The user, its group and the 20 path rules, with `enable-nacm` as given.
fn rules_xml(n: usize, enabled: bool) -> String {
    let step = (n / 10).max(1);
    let mut rules = String::new();
    let mut rule = |name: String, path: String, ops: &str, action: &str| {
        rules.push_str(&format!(
            "<rule><name>{name}</name><path>{path}</path><access-operations>{ops}</access-operations><action>{action}</action></rule>"
        ));
    };
    for i in 0..10 {
        let e = i * step;
        rule(
            format!("hide-mg{e}"),
            format!("/ne-monitor-group:monitor-groups/monitor-group[name='mg{e}']"),
            "read",
            "deny",
        );
    }
    for i in 0..5 {
        let e = i * step + 1;
        rule(
            format!("hide-mg{e}-enabled"),
            format!("/ne-monitor-group:monitor-groups/monitor-group[name='mg{e}']/enabled"),
            "read",
            "deny",
        );
    }
    for i in 0..4 {
        rule(
            format!("no-bfd-{i}"),
            format!("/ne-bfd:bfd/session[name='s{i}']"),
            "*",
            "deny",
        );
    }
    rule(
        "write-monitor-groups".into(),
        "/ne-monitor-group:monitor-groups".into(),
        "create update delete",
        "permit",
    );
    format!(
        "<system xmlns=\"{SYS_NS}\"><authentication><user><name>{USER}</name><password>$0${PASSWORD}</password></user></authentication></system>\
         <nacm xmlns=\"{NACM_NS}\" xmlns:nc=\"urn:ietf:params:xml:ns:netconf:base:1.0\" nc:operation=\"replace\">\
         <enable-nacm>{enabled}</enable-nacm>\
         <groups><group><name>bench</name><user-name>{USER}</user-name></group></groups>\
         <rule-list><name>bench</name><group>bench</group>{rules}</rule-list></nacm>"
    )
}

fn edit_running(config: &str) -> String {
    format!("<edit-config><target><running/></target><config>{config}</config></edit-config>")
}

fn line(what: &str, base_name: &str, base: &[f64], name: &str, v: &[f64]) {
    println!(
        "{what}: {base_name} {}; {name} {}; ratio of medians {:.2}",
        stats(base),
        stats(v),
        pct(v, 50.0) / pct(base, 50.0)
    );
}

pub async fn run(o: &Opts, dir: &std::path::Path) -> Result<(), String> {
    let n = o.entries;
    println!("== ne-agent: the cost of access control (RFC 8341) ==");
    let ns = Netns::new("ncn")?;
    let mut agent = Agent::new(&ns.0, dir, "agent")?;
    agent.start()?;
    let admin = Target {
        ns: ns.0.clone(),
        port: 8300,
        user: "admin".into(),
        password: "lab".into(),
    };
    let user = Target {
        user: USER.into(),
        password: PASSWORD.into(),
        ..admin.clone()
    };
    let r = async {
        wait_reachable(&admin, std::time::Duration::from_secs(60), &mut || agent.running()).await?;
        let mut a = connect(&admin).await?;
        let t0 = Instant::now();
        call_ok(&mut a, &edit_running(&groups_xml(n))).await?;
        call_ok(&mut a, &edit_running(&rules_xml(n, true))).await?;
        println!("{n} monitor groups and the rules loaded in {:.0} ms", ms(t0.elapsed()));
        let mut u = connect(&user).await?;

        let get = "<get-config><source><running/></source></get-config>";
        let (mut recovery, mut restricted) = (Vec::new(), Vec::new());
        let (mut full, mut pruned) = (0, 0);
        for _ in 0..super::GET_RUNS {
            let t0 = Instant::now();
            full = call_ok(&mut a, get).await?.len();
            recovery.push(ms(t0.elapsed()));
            let t0 = Instant::now();
            pruned = call_ok(&mut u, get).await?.len();
            restricted.push(ms(t0.elapsed()));
        }
        if pruned >= full {
            return Err(format!("the restricted user's reply ({pruned} bytes) is not pruned ({full})"));
        }
        line(
            &format!("get-config of {n} monitor groups ({full} / {pruned} bytes)"),
            "recovery user",
            &sorted(recovery),
            "user with 20 path rules",
            &sorted(restricted),
        );

        let (mut on, mut off) = (Vec::new(), Vec::new());
        let cycles = o.cycles.max(2);
        for i in 0..cycles {
            let with = i % 2 == 0;
            call_ok(&mut a, &edit_running(&rules_xml(n, with))).await?;
            let t0 = Instant::now();
            call_ok(
                &mut u,
                &format!(
                    "<edit-config><target><candidate/></target><config><monitor-groups xmlns=\"{MG_NS}\"><monitor-group><name>mg{}</name><enabled>{}</enabled></monitor-group></monitor-groups></config></edit-config>",
                    (i * 7919) % n.max(1),
                    i % 4 < 2
                ),
            )
            .await?;
            call_ok(&mut u, "<commit/>").await?;
            if with { &mut on } else { &mut off }.push(ms(t0.elapsed()));
        }
        line(
            &format!("one-entry edit-config + commit at {n} entries, {} cycles each", cycles / 2),
            "enable-nacm false",
            &sorted(off),
            "NACM on",
            &sorted(on),
        );
        close(u).await?;
        close(a).await?;
        Ok(())
    }
    .await;
    agent.stop();
    r.map_err(|e| format!("{e}; agent log:\n{}", agent.log_tail(20)))
}
