//! PIM Register and the bootstrap router mechanism against FRR 10.3 `pimd` (issue 19, items 1
//! and 2). FRR runs in a small VM on Debian's kernel (`ne_lab::vm`): it forwards multicast
//! through the kernel's IP multicast routing, which this machine's kernel may lack, and Debian
//! bookworm's FRR 8.4 has no candidate-BSR or candidate-RP.
//!
//! ```text
//!            ns src (10.1.0.10)              the source (Register tests: FRR is the RP), or
//!                 |                          the receiver (FRR is the source's DR)
//!        ns sw-up: bridge br-up
//!                 |
//!     a-up 10.1.0.1  [ns a]                  B is in the lab too: unconfigured except in the
//!     a-dn 192.168.1.1                       BSR test (b-up 10.1.0.2, b-dn 192.168.1.2)
//!                 |
//!        ns sw-dn: bridge br-dn --- eth0 192.168.1.3 [FRR VM] eth1 10.20.0.1
//!                                                                  |
//!                                            ns frrlan: h0 10.20.0.100 (the other end)
//! ```
//! Everything goes when a test ends, also when it fails: the VM, the lab, the extra namespace.

use std::time::Duration;

use ne_lab::lab::{
    analyse, counter, leaf_after, multicast_state, pim_state, require, require_that, wait_for, Lab,
    Netns, Receiver, Sender, GROUP,
};
use ne_lab::netconf::Blocking;
use ne_lab::vm::{FrrVm, Nic};

const MC: &str = "urn:ne-agent:yang:ne-multicast";
const FRR: &str = "192.168.1.3";
const FRR_HOST: std::net::Ipv4Addr = std::net::Ipv4Addr::new(10, 20, 0, 100);

/// The VM is started unless it cannot be here; skips visibly then (fails under
/// NE_REQUIRE_TOOLS=1, as in CI, which builds the image).
fn vm_available() -> bool {
    require() && require_that(ne_lab::vm::unavailable())
}

/// The lab, FRR's VM plugged into it, and the namespace behind FRR.
/// Fields drop in this order: the VM (its taps go with qemu), then the namespace, then the lab.
struct FrrLab {
    vm: FrrVm,
    _frrlan: Netns,
    lab: Lab,
}

/// Where FRR's eth0 goes: the receivers' LAN (br-dn, 192.168.1.3, beside a-dn and b-dn) or
/// the uplink LAN (br-up, 10.1.0.3, beside a-up, b-up and the source).
#[derive(Clone, Copy)]
enum Leg {
    Down,
    Up,
}

impl FrrLab {
    /// Build the lab, boot the VM (eth0 on `leg`'s bridge, eth1 to ns frrlan), start both
    /// agents (unconfigured) and FRR with `frr_conf` (interfaces addressed by the test).
    fn start(leg: Leg, frr_conf: &str) -> (FrrLab, Blocking, Blocking) {
        let mut lab = Lab::build().expect("lab");
        let frrlan = lab.ns("frrlan");
        ne_lab::lab::run("ip", &["netns", "add", &frrlan]).expect("ns frrlan");
        let frrlan = Netns(frrlan);
        let (sw, br) = match leg {
            Leg::Down => ("sw-dn", "br-dn"),
            Leg::Up => ("sw-up", "br-up"),
        };
        let vm = FrrVm::boot(&[
            Nic {
                ns: &lab.ns(sw),
                ifname: "frr0",
                bridge: Some(br),
            },
            Nic {
                ns: &frrlan.0,
                ifname: "h0",
                bridge: None,
            },
        ]);
        let vm = vm.expect("FRR VM");
        let (ca, cb) = lab.start_agents().expect("agents");
        let mut t = FrrLab {
            vm,
            _frrlan: frrlan,
            lab,
        };
        t.lab
            .ip("frrlan", &["addr", "add", "10.20.0.100/24", "dev", "h0"])
            .expect("h0 address");
        t.lab
            .ip("frrlan", &["link", "set", "lo", "up"])
            .expect("lo up");
        t.lab
            .ip("frrlan", &["route", "add", "default", "via", "10.20.0.1"])
            .expect("h0 route");
        t.vm.sh("ip link set eth0 up && ip link set eth1 up")
            .expect("VM links");
        t.vm.start_frr(frr_conf).expect("FRR");
        (t, ca, cb)
    }

    /// FRR's `show` output, for failure messages.
    fn frr(&mut self, what: &str) -> String {
        self.vm
            .vtysh(&[what])
            .unwrap_or_else(|e| format!("vtysh: {e}"))
    }
}

/// FRR's configuration: eth0 on `leg`, eth1 toward ns frrlan (IGMP there), PIM on both, then
/// `extra` (static routes, the RP, BSR candidacy).
fn frr_conf(leg: Leg, extra: &str) -> String {
    let eth0 = match leg {
        Leg::Down => "192.168.1.3/24",
        Leg::Up => "10.1.0.3/24",
    };
    format!(
        "frr defaults traditional\nhostname frr\nip forwarding\n!\n\
         interface eth0\n ip address {eth0}\n ip pim\n!\n\
         interface eth1\n ip address 10.20.0.1/24\n ip pim\n ip igmp\n!\n{extra}"
    )
}

fn interface(name: &str, addr: &str, extra: &str) -> String {
    format!(
        "<interface><name>{name}</name><ipv4><address><ip>{addr}</ip>\
         <prefix-length>24</prefix-length></address></ipv4>{extra}</interface>"
    )
}

fn pim() -> String {
    format!("<pim xmlns=\"{MC}\"><sm>true</sm></pim>")
}

fn igmp() -> String {
    format!("<igmp xmlns=\"{MC}\"><enabled>true</enabled></igmp>")
}

/// A's configuration: PIM on a-up (the source's or receiver's LAN) and on a-dn (toward FRR),
/// IGMP on a-up if `igmp_up`, and `multicast` inside `<multicast>`.
fn config_a(igmp_up: bool, multicast: &str) -> String {
    let up_extra = if igmp_up {
        format!("{}{}", pim(), igmp())
    } else {
        pim()
    };
    format!(
        "<interfaces xmlns=\"urn:ne-agent:yang:ne-interfaces\">{}{}</interfaces>\
         <multicast xmlns=\"{MC}\"><routing-enable>true</routing-enable>{multicast}</multicast>",
        interface("a-up", "10.1.0.1", &up_extra),
        interface("a-dn", "192.168.1.1", &pim()),
    )
}

fn state(c: &mut Blocking) -> String {
    multicast_state(c).expect("get multicast")
}

/// A sees FRR as a PIM neighbor on a-dn within a minute, or the test fails.
fn frr_becomes_a_neighbor(t: &mut FrrLab, ca: &mut Blocking) {
    let seen = |ca: &mut Blocking| {
        pim_state(ca, "a-dn").is_ok_and(|p| p.contains(&format!("<address>{FRR}</address>")))
    };
    assert!(
        wait_for(Duration::from_secs(60), || seen(ca)),
        "FRR is not A's PIM neighbor: {}\nFRR {}",
        pim_state(ca, "a-dn").unwrap_or_default(),
        t.frr("show ip pim neighbor")
    );
}

/// The receiver's whole log, `sent` packets sent: each packet at most once, and the first
/// ones (carried in Registers) not lost.
fn each_packet_once_from_the_first(rcv: &Receiver, sent: u64) {
    let log = rcv.received();
    let first = log.iter().map(|&(s, _)| s).min().unwrap_or(0);
    let last = log.iter().map(|&(s, _)| s).max().unwrap_or(0);
    let seen = analyse(&log, first, last);
    eprintln!(
        "sent {sent}, received {} ({first}..={last}): {seen:?}",
        seen.received
    );
    assert_eq!(seen.duplicates, 0, "{seen:?}");
    assert!(
        first < 50,
        "the first packets (carried in Registers) were lost: first received {first}"
    );
}

/// Our Registers to FRR as the RP: A is the DR of the source's LAN (a-up), FRR the RP with
/// the receiver behind it. FRR decapsulates and forwards, joins (S,G) toward the source through
/// A, and once the data arrives natively sends A a Register-Stop; A stops registering. The
/// receiver gets the stream from the first Registers on, each packet once.
#[test]
fn frr_as_rp_takes_our_registers_then_the_native_stream() {
    if !vm_available() {
        return;
    }
    let (mut t, mut ca, _cb) = FrrLab::start(
        Leg::Down,
        &frr_conf(
            Leg::Down,
            "ip route 10.1.0.0/24 192.168.1.1\n!\nrouter pim\n rp 192.168.1.3 224.0.0.0/4\nexit\n",
        ),
    );
    ca.edit_running(&config_a(false, &format!("<rp-address>{FRR}</rp-address>")))
        .expect("configure A");
    frr_becomes_a_neighbor(&mut t, &mut ca);
    let rcv = Receiver::start_in(&t.lab, "frrlan", "h0").expect("receiver behind FRR");
    assert!(
        wait_for(Duration::from_secs(30), || t
            .frr("show ip igmp groups")
            .contains("239.1.1.1")),
        "FRR has no IGMP membership: {}",
        t.frr("show ip igmp groups")
    );
    let src = Sender::start(&t.lab, 200).expect("sender");

    // The stream reaches the receiver; A's Registers are stopped by FRR's Register-Stop once
    // FRR has the data natively (its (S,G) Join reached A).
    let reached = wait_for(Duration::from_secs(60), || rcv.count() > 200);
    let stopped = wait_for(Duration::from_secs(60), || {
        state(&mut ca).contains("<register-state>prune</register-state>")
    });
    let sa = state(&mut ca);
    assert!(
        reached && stopped,
        "receiver got {}; A {sa}\nA a-dn {}\nFRR upstream {}\nFRR mroute {}\nA log {}",
        rcv.count(),
        pim_state(&mut ca, "a-dn").unwrap_or_default(),
        t.frr("show ip pim upstream"),
        t.frr("show ip mroute"),
        t.lab.a.log_tail(30)
    );
    let pa = pim_state(&mut ca, "a-dn").expect("pim a-dn");
    assert!(
        pa.contains("<join><source>10.1.0.10</source><group>239.1.1.1</group>"),
        "FRR's (S,G) Join is not in A's downstream state: {pa}"
    );
    assert!(counter(&pa, "<statistics>", "rx-register-stop") > 0, "{pa}");

    // Native from here: A forwards on a-dn and sends no more Registers; the stream goes on.
    let regs = counter(&sa, "<forwarding-plane>", "registers-sent");
    let (s0, s1, steady) = rcv.over(Duration::from_secs(3));
    let sent = src.stop();
    std::thread::sleep(Duration::from_millis(500));
    let sa = state(&mut ca);
    let mroute = t.frr("show ip mroute");
    eprintln!("A {sa}\nFRR mroute {mroute}");
    assert!(s1 > s0 + 400, "the native stream stalled: {s0} -> {s1}");
    assert_eq!(steady.duplicates, 0, "{steady:?}");
    assert!(regs > 0, "A never registered: {sa}");
    // (A Null-Register probe may follow the Register-Stop; data Registers do not.)
    assert!(
        counter(&sa, "<forwarding-plane>", "registers-sent") <= regs + 1,
        "A still registers: {regs} before, now {sa}"
    );
    assert!(
        mroute
            .lines()
            .any(|l| l.contains("10.1.0.10") && l.contains("239.1.1.1") && l.contains("eth0")),
        "FRR's (S,G) does not come in on eth0: {mroute}"
    );
    each_packet_once_from_the_first(&rcv, sent);
}

/// FRR's Registers to us as the RP: FRR is the DR of the source's LAN (ns frrlan), A the RP
/// with the receiver on a-up. A decapsulates and forwards, joins (S,G) toward the source
/// through FRR, and once the data arrives natively on a-dn sends FRR a Register-Stop.
#[test]
fn frr_as_dr_registers_to_us_as_rp() {
    if !vm_available() {
        return;
    }
    let (mut t, mut ca, _cb) = FrrLab::start(
        Leg::Down,
        &frr_conf(Leg::Down, "router pim\n rp 192.168.1.1 224.0.0.0/4\nexit\n"),
    );
    ca.edit_running(&config_a(true, "<rp-address>192.168.1.1</rp-address>"))
        .expect("configure A");
    t.lab
        .ip(
            "a",
            &["route", "replace", "10.20.0.0/24", "via", "192.168.1.3"],
        )
        .expect("A's route to the source's LAN");
    frr_becomes_a_neighbor(&mut t, &mut ca);
    let rcv = Receiver::start_in(&t.lab, "src", "src0").expect("receiver on a-up");
    std::thread::sleep(Duration::from_millis(500));
    let src = Sender::start_in(&t.lab, "frrlan", "h0", FRR_HOST, 200).expect("sender");

    let reached = wait_for(Duration::from_secs(60), || rcv.count() > 200);
    let route = format!("<route><source>{FRR_HOST}</source><group>{GROUP}</group>");
    let native = wait_for(Duration::from_secs(60), || {
        let pa = pim_state(&mut ca, "a-dn").unwrap_or_default();
        counter(&pa, "<statistics>", "tx-register-stop") > 0 && state(&mut ca).contains(&route)
    });
    let sa = state(&mut ca);
    let pa = pim_state(&mut ca, "a-dn").expect("pim a-dn");
    assert!(
        reached && native,
        "receiver got {}; A {sa}\nA a-dn {pa}\nFRR upstream {}\nFRR mroute {}\nA log {}",
        rcv.count(),
        t.frr("show ip pim upstream"),
        t.frr("show ip mroute"),
        t.lab.a.log_tail(30)
    );
    assert!(counter(&pa, "<statistics>", "rx-register") > 0, "{pa}");
    assert_eq!(
        leaf_after(&sa, &route, "incoming-interface"),
        Some("a-dn"),
        "A's (S,G) is not on the shortest-path tree: {sa}"
    );
    // FRR stops registering: A receives no more data Registers while the stream goes on.
    std::thread::sleep(Duration::from_secs(1));
    let before = counter(
        &pim_state(&mut ca, "a-dn").expect("pim"),
        "<statistics>",
        "rx-register",
    );
    let (s0, s1, steady) = rcv.over(Duration::from_secs(3));
    let after = counter(
        &pim_state(&mut ca, "a-dn").expect("pim"),
        "<statistics>",
        "rx-register",
    );
    let sent = src.stop();
    assert!(s1 > s0 + 400, "the native stream stalled: {s0} -> {s1}");
    assert_eq!(steady.duplicates, 0, "{steady:?}");
    assert!(
        after <= before + 1,
        "FRR still registers after our Register-Stop: {before} -> {after}\nFRR upstream {}",
        t.frr("show ip pim upstream")
    );
    each_packet_once_from_the_first(&rcv, sent);
}

/// The groups of the BSR test. The candidate RPs' ranges: A for 239.1/16 and 239.3/16 at
/// priority 10, B for 239.2/16 and 239.3/16 at 20 (so 239.3/16 is A's by priority, B's once A
/// is gone), FRR for all of 224/4 at 100.
///
/// No range has two candidates of equal priority: there RFC 7761 §4.7.2 hashes each group (as
/// we do), while FRR 10.3 gives the whole range one RP (`show ip pim rp-info`), so the two
/// differ for some groups by design.
const BSR_GROUPS: [&str; 5] = [
    "239.1.1.1",
    "239.2.2.2",
    "238.1.1.1",
    "239.3.0.1",
    "239.3.7.9",
];

/// FRR's group-to-RP mapping: `show ip pim rp-info`, (RP, group range) per line.
fn frr_rp_info(text: &str) -> Vec<(std::net::Ipv4Addr, u32, u8)> {
    text.lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            let rp = w.next()?.parse().ok()?;
            let (net, len) = w.next()?.split_once('/')?;
            let net: std::net::Ipv4Addr = net.parse().ok()?;
            Some((rp, u32::from(net), len.parse().ok()?))
        })
        .collect()
}

/// RP(G) by FRR's table: the longest matching range.
fn frr_rp_of(table: &[(std::net::Ipv4Addr, u32, u8)], group: &str) -> Option<String> {
    let g = u32::from(group.parse::<std::net::Ipv4Addr>().ok()?);
    table
        .iter()
        .filter(|(_, net, len)| {
            let mask = u32::MAX.checked_shl(32 - u32::from(*len)).unwrap_or(0);
            g & mask == net & mask
        })
        .max_by_key(|(_, _, len)| *len)
        .map(|(rp, _, _)| rp.to_string())
}

/// Our RP(G): the `rp-address` of the group's route from the source, if the route is there.
fn our_rp_of(state: &str, group: &str) -> Option<String> {
    let anchor = format!("<route><source>10.1.0.10</source><group>{group}</group>");
    let at = state.find(&anchor)?;
    let route = &state[at..at + state[at..].find("</route>")?];
    leaf_after(route, "<route>", "rp-address").map(str::to_string)
}

/// A group, its RP at one of our devices, its RP at FRR.
type Mismatch = (String, Option<String>, Option<String>);

/// Every group's RP in `state` against FRR's; the mismatches, empty when all agree.
fn mismatches(state: &str, table: &[(std::net::Ipv4Addr, u32, u8)]) -> Vec<Mismatch> {
    BSR_GROUPS
        .iter()
        .map(|g| (g.to_string(), our_rp_of(state, g), frr_rp_of(table, g)))
        .filter(|(_, ours, frr)| ours.is_none() || ours != frr)
        .collect()
}

/// Wait up to `limit` until FRR maps each group of `expect` to its RP and every group's RP at
/// each device of `cs` equals FRR's. The mismatches left, per device: all empty when it did.
fn converge(
    t: &mut FrrLab,
    cs: &mut [&mut Blocking],
    expect: &[(&str, &str)],
    limit: Duration,
) -> Vec<Vec<Mismatch>> {
    let look = |t: &mut FrrLab, cs: &mut [&mut Blocking]| {
        let table = frr_rp_info(&t.frr("show ip pim rp-info"));
        let frr_as_expected = expect
            .iter()
            .all(|(g, rp)| frr_rp_of(&table, g).as_deref() == Some(*rp));
        let m: Vec<Vec<Mismatch>> = cs
            .iter_mut()
            .map(|c| mismatches(&state(c), &table))
            .collect();
        (frr_as_expected && m.iter().all(Vec::is_empty), m)
    };
    if wait_for(limit, || look(t, cs).0) {
        return vec![Vec::new(); cs.len()];
    }
    look(t, cs).1
}

/// A candidate-RP configuration. The holdtime outlasts FRR's Bootstrap period (60 s): the RP
/// set a Bootstrap message brings holds each RP for its holdtime, until the next message.
fn c_rp(address: &str, priority: u8, ranges: &[&str]) -> String {
    let ranges: String = ranges
        .iter()
        .map(|r| format!("<group-range>{r}</group-range>"))
        .collect();
    format!(
        "<multicast xmlns=\"{MC}\"><c-rp><address>{address}</address>\
         <priority>{priority}</priority>{ranges}<holdtime>75</holdtime>\
         <advertisement-interval>5</advertisement-interval></c-rp></multicast>"
    )
}

/// FRR 10.3 as the bootstrap router of the uplink LAN (priority 200 against A's candidacy at
/// 10) and a candidate RP for all of 224/4 at priority 100; A and B (the seed configuration)
/// are candidate RPs for their own ranges and a shared one ([`BSR_GROUPS`]). For every group
/// (a receiver on br-dn, a source on br-up), the RP of A's and of B's route equals the one
/// FRR's `show ip pim rp-info` gives; again after A is killed (once FRR's RP set has dropped
/// it at its holdtime) and after B withdraws its candidacy.
#[test]
fn frr_as_bsr_our_rp_for_each_group_equals_frrs_and_fails_over_with_it() {
    if !vm_available() {
        return;
    }
    let (mut t, mut ca, mut cb) = FrrLab::start(
        Leg::Up,
        &frr_conf(
            Leg::Up,
            "router pim\n bsr candidate-bsr priority 200 source address 10.1.0.3\n \
             bsr candidate-rp group 224.0.0.0/4\n \
             bsr candidate-rp priority 100 interval 5 source interface eth0\nexit\n",
        ),
    );
    ca.edit_running(&ne_lab::lab::seed_config('a'))
        .expect("seed A");
    cb.edit_running(&ne_lab::lab::seed_config('b'))
        .expect("seed B");
    ca.edit_running(&format!(
        "<multicast xmlns=\"{MC}\"><c-bsr><address>10.1.0.1</address><priority>10</priority>\
         </c-bsr></multicast>"
    ))
    .expect("A: c-bsr");
    ca.edit_running(&c_rp("10.1.0.1", 10, &["239.1.0.0/16", "239.3.0.0/16"]))
        .expect("A: c-rp");
    cb.edit_running(&c_rp("10.1.0.2", 20, &["239.2.0.0/16", "239.3.0.0/16"]))
        .expect("B: c-rp");
    // A receiver and a source per group: the routes (and their rp-address) are made by data.
    let receivers: Vec<Receiver> = BSR_GROUPS
        .iter()
        .map(|g| {
            Receiver::start_group(&t.lab, "rcv", "rcv0", g.parse().expect("group"))
                .expect("receiver")
        })
        .collect();
    let senders: Vec<Sender> = BSR_GROUPS
        .iter()
        .map(|g| {
            Sender::start_to(
                &t.lab,
                "src",
                "src0",
                std::net::Ipv4Addr::new(10, 1, 0, 10),
                g.parse().expect("group"),
                20,
            )
            .expect("sender")
        })
        .collect();

    // FRR is elected (A is a candidate too) and its RP set has all three candidates.
    let bsr = |c: &mut Blocking| {
        c.get(Some(&format!(
            "<multicast xmlns=\"{MC}\"><bsr/></multicast>"
        )))
        .expect("get bsr")
    };
    let elected = wait_for(Duration::from_secs(90), || {
        let (a, b) = (bsr(&mut ca), bsr(&mut cb));
        a.contains("<state>candidate</state>")
            && b.contains("<state>accept-preferred</state>")
            && [&a, &b].iter().all(|s| {
                s.contains("<elected-address>10.1.0.3</elected-address>")
                    && ["10.1.0.1", "10.1.0.2", "10.1.0.3"]
                        .iter()
                        .all(|rp| s.contains(&format!("<address>{rp}</address>")))
            })
    });
    assert!(
        elected,
        "A {}\nB {}\nFRR {}\n{}",
        bsr(&mut ca),
        bsr(&mut cb),
        t.frr("show ip pim bsr"),
        t.frr("show ip pim bsr rp-info")
    );

    // Every group maps alike at A, at B and at FRR.
    let m = converge(
        &mut t,
        &mut [&mut ca, &mut cb],
        &[],
        Duration::from_secs(60),
    );
    let rp_info = t.frr("show ip pim rp-info");
    assert!(
        m.iter().all(Vec::is_empty),
        "mismatches (group, ours, FRR's) A {:?} B {:?}\nFRR {rp_info}\n{}\nA {}",
        m[0],
        m[1],
        t.frr("show ip pim bsr rp-info"),
        state(&mut ca)
    );
    eprintln!("all three candidates: FRR {rp_info}");
    // The mapping is not trivial: each of the three RPs serves a group.
    let table = frr_rp_info(&rp_info);
    for rp in ["10.1.0.1", "10.1.0.2", "10.1.0.3"] {
        assert!(
            BSR_GROUPS
                .iter()
                .any(|g| frr_rp_of(&table, g).as_deref() == Some(rp)),
            "no group maps to {rp}: {rp_info}"
        );
    }

    // A dies: once FRR's RP set has dropped it (its holdtime), 239.1/16 falls back to FRR's
    // 224/4 and 239.3/16 to B, at B and at FRR alike.
    let killed = std::time::Instant::now();
    t.lab.a.kill9();
    let expect = [("239.3.0.1", "10.1.0.2"), ("239.1.1.1", "10.1.0.3")];
    let m = converge(&mut t, &mut [&mut cb], &expect, Duration::from_secs(200));
    assert!(
        m[0].is_empty(),
        "after A died: mismatches B {:?}\nFRR {}\nB {}",
        m[0],
        t.frr("show ip pim bsr rp-info"),
        bsr(&mut cb)
    );
    eprintln!(
        "A dead: all agree {:?} after the kill; FRR {}",
        killed.elapsed(),
        t.frr("show ip pim rp-info")
    );

    // B withdraws its candidacy (a holdtime-0 advertisement): every group is FRR's.
    cb.edit_running(&format!(
        "<multicast xmlns=\"{MC}\"><c-rp xmlns:nc=\"urn:ietf:params:xml:ns:netconf:base:1.0\" \
         nc:operation=\"delete\"/></multicast>"
    ))
    .expect("B: no c-rp");
    let withdrawn = std::time::Instant::now();
    let expect: Vec<(&str, &str)> = BSR_GROUPS.iter().map(|g| (*g, "10.1.0.3")).collect();
    let m = converge(&mut t, &mut [&mut cb], &expect, Duration::from_secs(120));
    assert!(
        m[0].is_empty(),
        "after B's withdrawal: mismatches B {:?}\nFRR {}\nB {}",
        m[0],
        t.frr("show ip pim bsr rp-info"),
        bsr(&mut cb)
    );
    eprintln!("B withdrawn: all agree {:?} after", withdrawn.elapsed());
    drop(senders);
    drop(receivers);
}
