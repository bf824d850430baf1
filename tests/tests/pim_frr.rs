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
    analyse, leaf_after, multicast_state, pim_state, require, wait_for, Lab, Netns, Receiver,
    Sender, GROUP,
};
use ne_lab::netconf::Blocking;
use ne_lab::vm::{FrrVm, Nic};

const MC: &str = "urn:ne-agent:yang:ne-multicast";
const FRR: &str = "192.168.1.3";
const FRR_HOST: std::net::Ipv4Addr = std::net::Ipv4Addr::new(10, 20, 0, 100);

/// The VM is started unless it cannot be here; skips visibly then (fails under
/// NE_REQUIRE_TOOLS=1, as in CI, which builds the image).
fn vm_available() -> bool {
    if !require() {
        return false;
    }
    match ne_lab::vm::unavailable() {
        None => true,
        Some(why) if std::env::var("NE_REQUIRE_TOOLS").as_deref() == Ok("1") => {
            panic!("{why} (NE_REQUIRE_TOOLS=1)")
        }
        Some(why) => {
            eprintln!("SKIPPED: {why}");
            false
        }
    }
}

/// The lab, FRR's VM plugged into it, and the namespace behind FRR.
/// Fields drop in this order: the VM (its taps go with qemu), then the namespace, then the lab.
struct FrrLab {
    vm: FrrVm,
    _frrlan: Netns,
    lab: Lab,
}

impl FrrLab {
    /// Build the lab, boot the VM (eth0 on br-dn, eth1 to ns frrlan), start both agents
    /// (unconfigured) and FRR with `frr_conf` (interfaces addressed by the test).
    fn start(frr_conf: &str) -> (FrrLab, Blocking, Blocking) {
        let mut lab = Lab::build().expect("lab");
        let frrlan = lab.ns("frrlan");
        ne_lab::lab::run("ip", &["netns", "add", &frrlan]).expect("ns frrlan");
        let frrlan = Netns(frrlan);
        let vm = FrrVm::boot(&[
            Nic {
                ns: &lab.ns("sw-dn"),
                ifname: "dn-frr",
                bridge: Some("br-dn"),
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

/// FRR's configuration: addresses, PIM on both legs, IGMP toward ns frrlan, then `extra`
/// (static routes, the RP, BSR candidacy).
fn frr_conf(extra: &str) -> String {
    format!(
        "frr defaults traditional\nhostname frr\nip forwarding\n!\n\
         interface eth0\n ip address 192.168.1.3/24\n ip pim\n!\n\
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

fn counter(xml: &str, anchor: &str, leaf: &str) -> u64 {
    leaf_after(xml, anchor, leaf)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn state(c: &mut Blocking) -> String {
    multicast_state(c).expect("get multicast")
}

/// A sees FRR as a PIM neighbor on a-dn.
fn frr_is_neighbor(ca: &mut Blocking) -> bool {
    pim_state(ca, "a-dn").is_ok_and(|p| p.contains(&format!("<address>{FRR}</address>")))
}

/// The receiver's whole log: (first, last, what analyse says of first..=last).
fn whole_run(rcv: &Receiver) -> (u64, u64, ne_lab::lab::Seen) {
    let log = rcv.received();
    let first = log.iter().map(|&(s, _)| s).min().unwrap_or(0);
    let last = log.iter().map(|&(s, _)| s).max().unwrap_or(0);
    (first, last, analyse(&log, first, last))
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
    let (mut t, mut ca, _cb) = FrrLab::start(&frr_conf(
        "ip route 10.1.0.0/24 192.168.1.1\n!\nrouter pim\n rp 192.168.1.3 224.0.0.0/4\nexit\n",
    ));
    ca.edit_running(&config_a(false, &format!("<rp-address>{FRR}</rp-address>")))
        .expect("configure A");
    assert!(
        wait_for(Duration::from_secs(60), || frr_is_neighbor(&mut ca)),
        "FRR is not A's PIM neighbor: {}\nFRR {}",
        pim_state(&mut ca, "a-dn").unwrap_or_default(),
        t.frr("show ip pim neighbor")
    );
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
    let (first, last, seen) = whole_run(&rcv);
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

/// FRR's Registers to us as the RP: FRR is the DR of the source's LAN (ns frrlan), A the RP
/// with the receiver on a-up. A decapsulates and forwards, joins (S,G) toward the source
/// through FRR, and once the data arrives natively on a-dn sends FRR a Register-Stop.
#[test]
fn frr_as_dr_registers_to_us_as_rp() {
    if !vm_available() {
        return;
    }
    let (mut t, mut ca, _cb) =
        FrrLab::start(&frr_conf("router pim\n rp 192.168.1.1 224.0.0.0/4\nexit\n"));
    ca.edit_running(&config_a(true, "<rp-address>192.168.1.1</rp-address>"))
        .expect("configure A");
    t.lab
        .ip(
            "a",
            &["route", "replace", "10.20.0.0/24", "via", "192.168.1.3"],
        )
        .expect("A's route to the source's LAN");
    assert!(
        wait_for(Duration::from_secs(60), || frr_is_neighbor(&mut ca)),
        "FRR is not A's PIM neighbor: {}\nFRR {}",
        pim_state(&mut ca, "a-dn").unwrap_or_default(),
        t.frr("show ip pim neighbor")
    );
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
    let (first, last, seen) = whole_run(&rcv);
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
