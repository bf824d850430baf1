//! LAB.md "what the lab must show", items 1 and 2, for real: a kernel IGMP receiver behind both
//! devices, a 1000 packets/s stream from the source, only the mVRRP master forwarding, and the
//! receiver's view (gaps, duplicates) through node failure, uplink failure and recovery.

use std::time::Duration;

use ne_lab::lab::{
    analyse, lan_ifname, leaf_after, require, vrrp_state, wait_for, Lab, Receiver, Sender,
};
use ne_lab::netconf::Blocking;

fn routes(c: &mut Blocking) -> String {
    ne_lab::lab::multicast_state(c).expect("get routes")
}

fn master_transitions(c: &mut Blocking) -> u64 {
    let g = c
        .get(Some(
            "<interfaces xmlns=\"urn:ne-agent:yang:ne-interfaces\"><interface><name>b-ic</name>\
             <vrrp xmlns=\"urn:ne-agent:yang:ne-vrrp\"/></interface></interfaces>",
        ))
        .expect("get vrrp");
    leaf_after(&g, "<statistics>", "master-transitions")
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no master-transitions in {g}"))
}

fn igmp(c: &mut Blocking, ifname: &str) -> String {
    c.get(Some(&format!(
        "<interfaces xmlns=\"urn:ne-agent:yang:ne-interfaces\"><interface><name>{ifname}</name>\
         <igmp xmlns=\"urn:ne-agent:yang:ne-multicast\"/></interface></interfaces>"
    )))
    .expect("get igmp")
}

#[test]
fn hot_backup_only_the_master_forwards_and_failures_switch_over() {
    if !require() {
        return;
    }
    let (mut lab, mut ca, mut cb) = Lab::seed().expect("lab");
    assert!(wait_for(Duration::from_secs(30), || {
        vrrp_state(&mut ca, "a-ic", 1).as_deref() == Ok("master")
            && vrrp_state(&mut cb, "b-ic", 1).as_deref() == Ok("backup")
    }));
    let rcv = Receiver::start(&lab).expect("receiver");
    let src = Sender::start(&lab, 1000).expect("sender");
    if let Ok(s) = std::env::var("NE_LAB_PAUSE") {
        eprintln!("PAUSED: lab {}", lab.prefix);
        std::thread::sleep(Duration::from_secs(s.parse().unwrap_or(60)));
    }
    assert!(
        wait_for(Duration::from_secs(30), || rcv.count() > 500),
        "the receiver got {} packets; A: {} B: {}\nA log: {}",
        rcv.count(),
        routes(&mut ca),
        routes(&mut cb),
        lab.a.log_tail(20)
    );

    // 1. Both devices know the receiver; both have the route; only A forwards.
    let ia = igmp(&mut ca, "a-dn");
    let ib = igmp(&mut cb, "b-dn");
    assert!(ia.contains("<address>239.1.1.1</address>"), "{ia}");
    assert!(
        ib.contains("<address>239.1.1.1</address>"),
        "B keeps the membership: {ib}"
    );
    assert_eq!(leaf_after(&ia, "<igmp", "is-querier"), Some("true"), "{ia}");
    // B stops querying once it hears A's query (A's next startup query comes at most a
    // quarter query interval, 15 s, after B started).
    assert!(
        wait_for(Duration::from_secs(40), || {
            leaf_after(&igmp(&mut cb, "b-dn"), "<igmp", "is-querier") == Some("false")
        }),
        "B still thinks it is the querier: {ib}"
    );
    let ra = routes(&mut ca);
    let rb = routes(&mut cb);
    assert!(
        ra.contains("<source>10.1.0.10</source>") && ra.contains("<group>239.1.1.1</group>"),
        "{ra}"
    );
    assert_eq!(
        leaf_after(&ra, "<outgoing-interface>", "state"),
        Some("forwarding"),
        "{ra}"
    );
    assert_eq!(
        leaf_after(&rb, "<outgoing-interface>", "state"),
        Some("blocked-by-vrrp"),
        "{rb}"
    );
    assert_eq!(
        leaf_after(&ra, "<route>", "incoming-interface"),
        Some("a-up")
    );
    let (_, _, steady) = rcv.over(Duration::from_secs(2));
    assert_eq!(steady.duplicates, 0, "{steady:?}");
    assert_eq!(steady.lost, 0, "{steady:?}");

    // 2a. Node failure: kill -9 A; B's gate opens.
    let before = rcv.last_seq();
    lab.a.kill9();
    assert!(wait_for(Duration::from_secs(10), || rcv.last_seq() > before + 1000));
    let after = rcv.last_seq();
    let node = analyse(&rcv.received(), before, after);
    eprintln!("node failure: {node:?}");
    assert_eq!(node.duplicates, 0, "{node:?}");
    let rb = routes(&mut cb);
    assert_eq!(
        leaf_after(&rb, "<outgoing-interface>", "state"),
        Some("forwarding"),
        "{rb}"
    );

    // 2c. Recovery: A restarts, relearns the receiver, then preempts back.
    lab.a.start().unwrap();
    let mut ca = lab.a.connect().expect("A back");
    let before = rcv.last_seq();
    assert!(wait_for(Duration::from_secs(60), || {
        vrrp_state(&mut ca, "a-ic", 1).as_deref() == Ok("master")
    }));
    let b_masters = master_transitions(&mut cb);
    std::thread::sleep(Duration::from_secs(1));
    let after = rcv.last_seq();
    let recovery = analyse(&rcv.received(), before, after);
    eprintln!("recovery: {recovery:?}");
    // A preempts when its IGMP hold ends; its adverts must follow at once, or B's master-down
    // timer expires and B takes over again for a moment.
    assert_eq!(
        master_transitions(&mut cb),
        b_masters,
        "B became master again after A preempted; A log: {}",
        lab.a.log_tail(20)
    );
    // Make before break: the goal is no loss (bench-switchover measures it over 20 trials:
    // one packet lost in one of them); a broken handover loses tens of packets.
    assert!(recovery.lost <= 2, "recovery lost packets: {recovery:?}");
    assert!(recovery.duplicates <= 5, "{recovery:?}");
    let ra = routes(&mut ca);
    assert_eq!(
        leaf_after(&ra, "<outgoing-interface>", "state"),
        Some("forwarding"),
        "{ra}"
    );

    // 2b. Uplink failure: a-up loses carrier; link mode hands over to B.
    let before = rcv.last_seq();
    lab.link("sw-up", "up-a", false).unwrap();
    assert!(wait_for(Duration::from_secs(10), || rcv.last_seq() > before + 1000));
    let after = rcv.last_seq();
    let uplink = analyse(&rcv.received(), before, after);
    eprintln!("uplink failure: {uplink:?}");
    // A copy already in A's transmit path when B opens its gate may arrive twice.
    assert!(uplink.duplicates <= 5, "{uplink:?}");
    assert_eq!(vrrp_state(&mut cb, "b-ic", 1).unwrap(), "master");
    drop(src);
}

/// RPF follows the kernel's routing table while a flow runs: the source (10.9.0.10, not on a
/// connected subnet) is reached first via the sender's host (10.1.0.10), then via B (a PIM
/// neighbor), then via the host again after an unrelated link flapped (which makes A read the
/// whole table again, in the background). A's route names each upstream neighbor in turn.
#[test]
fn rpf_follows_route_changes_and_table_rereads() {
    if !require() {
        return;
    }
    let (lab, mut ca, mut cb) = Lab::seed().expect("lab");
    assert!(ne_lab::lab::steady(
        &mut ca,
        &mut cb,
        Duration::from_secs(30)
    ));
    let ip = |role: &str, args: &[&str]| lab.ip(role, args).expect("ip");
    ip("src", &["addr", "add", "10.9.0.10/24", "dev", "src0"]);
    ip(
        "a",
        &[
            "route",
            "add",
            "10.9.0.0/24",
            "via",
            "10.1.0.10",
            "dev",
            "a-up",
        ],
    );
    ip(
        "a",
        &[
            "link",
            "add",
            "a-spare",
            "type",
            "veth",
            "peer",
            "name",
            "a-spare-p",
        ],
    );
    let rcv = Receiver::start(&lab).expect("receiver");
    let src = Sender::start_from(&lab, "10.9.0.10".parse().unwrap(), 200).expect("sender");
    let upstream = |c: &mut Blocking, want: &str| {
        wait_for(Duration::from_secs(10), || {
            let r = routes(c);
            r.contains("<source>10.9.0.10</source>")
                && leaf_after(&r, "<source>10.9.0.10</source>", "upstream-neighbor") == Some(want)
        })
    };
    assert!(upstream(&mut ca, "10.1.0.10"), "{}", routes(&mut ca));
    assert!(wait_for(Duration::from_secs(10), || rcv.count() > 100));
    let via = |gateway: &str| {
        ip(
            "a",
            &[
                "route",
                "replace",
                "10.9.0.0/24",
                "via",
                gateway,
                "dev",
                "a-up",
            ],
        )
    };
    // A route notification (replace) moves RPF' to B.
    via("10.1.0.2");
    assert!(upstream(&mut ca, "10.1.0.2"), "{}", routes(&mut ca));
    // A link event makes A read the table again (20,000 more routes make the read take a
    // while); a change made meanwhile is not lost.
    let batch = std::env::temp_dir().join(format!("{}-routes", lab.prefix));
    let text: String = (0..20_000u32)
        .map(|i| {
            let dst = std::net::Ipv4Addr::from(0x0a80_0000u32 + i);
            format!("route add {dst}/32 via 10.1.0.2 dev a-up\n")
        })
        .collect();
    std::fs::write(&batch, text).expect("route batch");
    ip("a", &["-batch", &batch.to_string_lossy()]);
    let _ = std::fs::remove_file(&batch);
    ip("a", &["link", "set", "a-spare", "up"]);
    via("10.1.0.10");
    assert!(upstream(&mut ca, "10.1.0.10"), "{}", routes(&mut ca));
    drop(src);
}

/// PIM Assert (RFC 7761 §4.6) between our two devices: without the mVRRP gate and with
/// `ignore-dr-state` both would forward onto the receivers' LAN; each sees the other's copies
/// arrive on an interface it forwards onto, both assert, and the loser stops. Equal metrics
/// (the source is on a connected subnet of both), so the higher address wins: B (192.168.1.2).
#[test]
fn pim_assert_elects_one_forwarder_on_the_lan() {
    if !require() {
        return;
    }
    let mut lab = Lab::build().expect("lab");
    let (mut ca, mut cb) = lab.start_agents().expect("agents");
    let no_gate = |dev: char| {
        let me = if dev == 'a' { "a" } else { "b" };
        ne_lab::lab::seed_config(dev)
            .replace("<ignore-assert-state>true</ignore-assert-state>", "")
            .replace(
                &format!(
                    "<track-admin-vrrp xmlns=\"urn:ne-agent:yang:ne-multicast\"><interface>{me}-ic</interface><vrid>1</vrid></track-admin-vrrp>"
                ),
                "",
            )
    };
    let (cfg_a, cfg_b) = (no_gate('a'), no_gate('b'));
    assert!(!cfg_a.contains("track-admin-vrrp") && !cfg_a.contains("ignore-assert"));
    ca.edit_running(&cfg_a).expect("configure A");
    cb.edit_running(&cfg_b).expect("configure B");
    let pim_dn =
        |c: &mut Blocking, ifname: &str| ne_lab::lab::pim_state(c, ifname).expect("get pim");
    // The two must be PIM neighbours on the LAN for the assert winner to count.
    assert!(
        wait_for(Duration::from_secs(60), || {
            pim_dn(&mut ca, "a-dn").contains("<neighbor><address>192.168.1.2</address>")
                && pim_dn(&mut cb, "b-dn").contains("<neighbor><address>192.168.1.1</address>")
        }),
        "no PIM adjacency on the LAN: A {} B {}",
        pim_dn(&mut ca, "a-dn"),
        pim_dn(&mut cb, "b-dn")
    );
    let rcv = Receiver::start(&lab).expect("receiver");
    let src = Sender::start(&lab, 1000).expect("sender");
    assert!(
        wait_for(Duration::from_secs(30), || rcv.count() > 500),
        "the receiver got {} packets; A: {} B: {}",
        rcv.count(),
        routes(&mut ca),
        routes(&mut cb)
    );
    // Assert state settles: B winner, A loser with B as the winner, A's LAN oif pruned.
    let settled = wait_for(Duration::from_secs(20), || {
        let (pa, pb) = (pim_dn(&mut ca, "a-dn"), pim_dn(&mut cb, "b-dn"));
        pa.contains("<state>loser</state><winner>192.168.1.2</winner>")
            && pb.contains("<state>winner</state><winner>192.168.1.2</winner>")
    });
    let (pa, pb) = (pim_dn(&mut ca, "a-dn"), pim_dn(&mut cb, "b-dn"));
    assert!(settled, "assert state: A {pa}\nB {pb}");
    let (ra, rb) = (routes(&mut ca), routes(&mut cb));
    assert!(
        ra.contains("<outgoing-interface><name>a-dn</name><state>pruned</state>"),
        "A still forwards onto the LAN: {ra}"
    );
    assert!(
        rb.contains("<outgoing-interface><name>b-dn</name><state>forwarding</state>"),
        "{rb}"
    );
    // From here on one copy of each packet.
    std::thread::sleep(Duration::from_millis(300));
    let (s0, s1, steady) = rcv.over(Duration::from_secs(2));
    eprintln!("after the assert, 2 s: {steady:?}");
    assert!(s1 > s0 + 1500, "stream stalled: {s0} -> {s1}");
    assert_eq!(steady.duplicates, 0, "{steady:?}\nA {ra}\nB {rb}");
    // The forwarding-plane counters show the other router's copies arriving on the LAN.
    assert!(ra.contains("<forwarding-plane>"), "{ra}");
    let rpf_failures: u64 = leaf_after(&ra, "<forwarding-plane>", "rpf-failures")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    assert!(rpf_failures > 0, "{ra}");
    drop(src);
}

/// Whether the agent's tc ingress filter is on `ifname` in the namespace of `role`.
fn data_filter(lab: &Lab, role: &str, ifname: &'static str) -> bool {
    dataplane::netns::run_in(&lab.ns(role), move || {
        let idx = dataplane::sock::ifindex(ifname).ok_or(std::io::ErrorKind::NotFound)?;
        dataplane::netlink::Handle::open()?.has_data_filter(idx)
    })
    .expect("enter namespace")
    .expect("filter dump")
}

/// Datagrams of the lab stream that the kernel of `role` itself delivers in one second to a
/// socket that joined the group on `ifname` (opened, counted and closed in that time).
fn kernel_datagrams(lab: &Lab, role: &str, ifname: &'static str) -> usize {
    use dataplane::sock::{Ipv4Socket, UdpOptions};
    dataplane::netns::run_in(&lab.ns(role), move || {
        let idx = dataplane::sock::ifindex(ifname).expect("interface");
        let s = Ipv4Socket::udp(&UdpOptions {
            bind: std::net::SocketAddrV4::new(std::net::Ipv4Addr::UNSPECIFIED, ne_lab::lab::PORT),
            device: None,
            ttl: None,
            recv_meta: false,
            reuse_addr: true,
        })
        .expect("udp socket");
        s.join_multicast(ne_lab::lab::GROUP, idx).expect("join");
        let mut b = [0u8; 2048];
        let mut n = 0;
        let end = std::time::Instant::now() + Duration::from_secs(1);
        while std::time::Instant::now() < end {
            while let Ok(Some(_)) = s.recv(&mut b) {
                n += 1;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        n
    })
    .expect("enter namespace")
}

const BYPASS_OFF: &str = "<multicast xmlns=\"urn:ne-agent:yang:ne-multicast\">\
                          <kernel-bypass>false</kernel-bypass></multicast>";
const BYPASS_ON: &str = "<multicast xmlns=\"urn:ne-agent:yang:ne-multicast\">\
                         <kernel-bypass>true</kernel-bypass></multicast>";

/// Issue 19 item 4: the forwarder's interfaces carry the tc ingress filter, so the device's
/// kernel no longer receives the data the agent forwards, while IGMP, PIM, VRRP and BFD still
/// reach the agent; the filter goes with `kernel-bypass false`, on a clean stop, and a
/// restarted agent removes what a killed one left.
#[test]
fn kernel_bypass_keeps_forwarded_data_from_the_kernel_only() {
    if !require() {
        return;
    }
    let (mut lab, mut ca, mut cb) = Lab::seed().expect("lab");
    assert!(
        ne_lab::lab::steady(&mut ca, &mut cb, Duration::from_secs(60)),
        "no steady state; A log: {}",
        lab.a.log_tail(20)
    );
    assert!(
        wait_for(Duration::from_secs(20), || data_filter(&lab, "a", "a-up")
            && data_filter(&lab, "a", "a-dn")),
        "no filter on A's multicast interfaces; A log: {}",
        lab.a.log_tail(20)
    );
    assert!(
        !data_filter(&lab, "a", "a-ic"),
        "a-ic is no multicast interface"
    );
    let rcv = Receiver::start(&lab).expect("receiver");
    let _src = Sender::start(&lab, 1000).expect("sender");
    assert!(
        wait_for(Duration::from_secs(30), || rcv.count() > 500),
        "the receiver got {} packets; A: {}",
        rcv.count(),
        routes(&mut ca)
    );
    // The agent forwards the stream, its kernel does not see it.
    assert_eq!(kernel_datagrams(&lab, "a", "a-up"), 0);
    let before = rcv.count();
    std::thread::sleep(Duration::from_millis(500));
    assert!(rcv.count() > before + 200, "the stream stopped");
    // Control still reaches the agent through the filter: IGMP, PIM hellos, VRRP, BFD.
    let ia = igmp(&mut ca, "a-dn");
    assert!(ia.contains("<address>239.1.1.1</address>"), "{ia}");
    // B's first hello comes within the triggered-hello delay, later ones every 30 s.
    assert!(
        wait_for(Duration::from_secs(40), || {
            ne_lab::lab::pim_state(&mut ca, "a-up").is_ok_and(|p| p.contains("10.1.0.2"))
        }),
        "A has no PIM neighbour B: {:?}",
        ne_lab::lab::pim_state(&mut ca, "a-up")
    );
    assert!(ne_lab::lab::steady(
        &mut ca,
        &mut cb,
        Duration::from_secs(5)
    ));

    // Off: the filters go and the kernel receives the stream again.
    ca.edit_running(BYPASS_OFF).expect("kernel-bypass false");
    assert!(wait_for(Duration::from_secs(10), || !data_filter(
        &lab, "a", "a-up"
    ) && !data_filter(
        &lab, "a", "a-dn"
    )));
    assert!(
        kernel_datagrams(&lab, "a", "a-up") > 300,
        "without the filter the kernel receives the stream"
    );
    ca.edit_running(BYPASS_ON).expect("kernel-bypass true");
    assert!(wait_for(Duration::from_secs(10), || data_filter(
        &lab, "a", "a-up"
    )));

    // kill -9 leaves the filters; the next run removes them where it does not forward
    // (a leftover planted on a-ic) and puts them back where it does.
    lab.a.kill9();
    assert!(
        data_filter(&lab, "a", "a-up"),
        "a killed agent cleans nothing"
    );
    dataplane::netns::run_in(&lab.ns("a"), || {
        let idx = dataplane::sock::ifindex("a-ic").expect("a-ic");
        dataplane::netlink::Handle::open()?.install_data_filter(idx)
    })
    .expect("enter namespace")
    .expect("plant a leftover filter");
    lab.a.start().expect("restart A");
    let mut ca = lab.a.connect().expect("A back");
    assert!(
        wait_for(Duration::from_secs(30), || !data_filter(&lab, "a", "a-ic")
            && data_filter(&lab, "a", "a-up")),
        "leftover on a-ic: {}, filter on a-up: {}",
        data_filter(&lab, "a", "a-ic"),
        data_filter(&lab, "a", "a-up")
    );
    assert!(ne_lab::lab::steady(
        &mut ca,
        &mut cb,
        Duration::from_secs(60)
    ));

    // A clean stop takes them off.
    lab.a.stop();
    assert!(!data_filter(&lab, "a", "a-up") && !data_filter(&lab, "a", "a-dn"));
}

/// Issue 19 item 6, as behaviour: with A's ring forwarder (`NE_FAST_PATH=0`) past its limit
/// (four receivers' LANs, so four copies of every frame, and a flat-out flood into both
/// forwarders for 10 s; A's ring must drop frames, or the test proves nothing), BFD at
/// 10 ms x 3 between the devices does
/// not flap, VRRP keeps its master, and every IGMP membership and the PIM neighbours stay.
/// `ne-lab bench-saturation --lans N` measures the same and reports figures. Runs alone
/// (`.config/nextest.toml`): a flat-out flood would slow whatever runs beside it.
#[test]
fn control_traffic_survives_a_saturated_forwarder() {
    if !require() {
        return;
    }
    saturate(false);
}

/// The same with the in-kernel fast path (the agent's default), whose copies are softirq work
/// that no thread's pause paces: its load shedding (`dataplane::pacing`) must keep BFD up. With
/// the shedding off (`NE_FAST_PATH_PACING=0`) BFD flaps here (15 times in 10 s).
///
/// Not in the suite yet: it still fails in 1 of 8 to 5 of 6 runs. History: with the shedding on and
/// a flood from a normal thread 1,024 frames a `send`, 3 of 25 runs failed (session 15) and 1 of 12
/// (session 16). Session 17 traced it (ftrace, sched and softirq events): on veth the routers'
/// receive work, the fast path's copies included, runs inside the generator's `send` (up to 47 ms
/// for 1,024 frames), which this kernel without preemption does not interrupt, and the protocol
/// threads woke 20-31 ms late behind it. So the test now floods as a wire would (see `saturate`):
/// 64 frames a `send` from cpu0, the routers' upstream receive on cpu1 (RPS), the interconnect's on
/// cpu0, the agents' protocol threads on cpu0 (`NE_PROTOCOL_CPUS`) and forwarding threads on cpu1
/// (`NE_FORWARDING_CPUS`). Measured (debug agents): with the upstream on cpu1 alone, 4 of 8 failed;
/// with the interconnect's receive on cpu0 too, 1 of 8, 2 of 10 and 5 of 6; with the two CPU
/// settings as well, 1 of 8 (BENCHMARKS.md, session 17). Earlier traced failures: both agents'
/// forwarding threads opening rings at once (a PACKET_RX_RING setsockopt 12 ms on each CPU) as the
/// LANs join. Run it with `--run-ignored only`.
#[test]
#[ignore = "flaps in 1 of 8 to 5 of 6 runs (issue 19 item 6 on the fast path; see the doc)"]
fn control_traffic_survives_a_saturated_fast_path() {
    if !require() {
        return;
    }
    saturate(true);
}

fn saturate(fast_path: bool) {
    const LANS: usize = 4;
    // The agents inherit it (nextest runs each test in a process of its own).
    std::env::set_var("NE_FAST_PATH", if fast_path { "1" } else { "0" });
    let wire = fast_path && std::thread::available_parallelism().is_ok_and(|n| n.get() > 1);
    if wire {
        std::env::set_var("NE_PROTOCOL_CPUS", "0");
        std::env::set_var("NE_FORWARDING_CPUS", "1");
    }
    let (lab, mut ca, mut cb) = Lab::seed_lans(LANS).expect("lab");
    assert!(ne_lab::lab::steady(
        &mut ca,
        &mut cb,
        Duration::from_secs(60)
    ));
    // The fast path's copies are softirq work: on veth it runs inside the sender's own `send`,
    // which this kernel (no preemption) does not interrupt, so a flood from a thread the
    // scheduler may put anywhere holds whichever CPU it is on for up to 47 ms a `send` (traced:
    // the protocol threads woke 20-31 ms late behind it, and BFD flapped). A wire does not do
    // that: its frames arrive in the receive softirq of the NIC's CPU, and each NIC has a queue
    // of its own. So, as on a wire, the routers' upstream receive runs on cpu1 (RPS), the
    // interconnect's on cpu0 (on veth both would share one CPU's input backlog, which the
    // flood fills), and the generator sits on cpu0 at SCHED_FIFO 30, below the agents'
    // threads; the agents keep control on cpu0 and forwarding on cpu1 (set above).
    if wire {
        lab.steer_upstream_receive("2")
            .expect("RPS of a-up and b-up to cpu1");
        lab.steer_receive(&[("a", "a-ic"), ("b", "b-ic")], "1")
            .expect("RPS of the interconnect to cpu0");
    }
    let _members = ne_lab::lab::Sink::on_every_lan(&lab).expect("members");
    let joined = |ca: &mut Blocking, cb: &mut Blocking| {
        (1..=LANS).all(|k| {
            igmp(ca, &lan_ifname('a', k)).contains("<address>239.1.1.1</address>")
                && igmp(cb, &lan_ifname('b', k)).contains("<address>239.1.1.1</address>")
        })
    };
    assert!(wait_for(Duration::from_secs(40), || {
        joined(&mut ca, &mut cb)
            && ne_lab::lab::pim_state(&mut ca, "a-up").is_ok_and(|p| p.contains("10.1.0.2"))
    }));
    let ups = (
        ne_lab::lab::bfd_up_transitions(&mut ca).unwrap(),
        ne_lab::lab::bfd_up_transitions(&mut cb).unwrap(),
    );
    let b_masters = master_transitions(&mut cb);
    let fwd_before = ne_lab::lab::forwarded(&mut ca).unwrap();
    let ring_before = ne_lab::lab::ring_counters(&mut ca, "a-up").unwrap();
    // 64 frames a `send`, as a NIC's receive poll takes them (1,024 made sends of up to 47 ms).
    let batch = if wire { 64 } else { 1024 };
    let flood = ne_lab::lab::Flood::start_ring_batched(&lab, wire, batch).expect("flood");
    for _ in 0..10 {
        std::thread::sleep(Duration::from_secs(1));
        assert_eq!(
            ne_lab::lab::bfd_state(&mut ca, "to-b").unwrap(),
            "up",
            "A log: {}",
            lab.a.log_tail(20)
        );
    }
    let longest_send = flood.longest_send();
    let sent = flood.stop();
    let forwarded = ne_lab::lab::forwarded(&mut ca).unwrap() - fwd_before;
    let ring = ne_lab::lab::ring_counters(&mut ca, "a-up").unwrap();
    let dropped = ring.1 - ring_before.1;
    eprintln!(
        "flood: {sent} frames offered in 10 s (longest send {longest_send:?}), A's ring \
         dropped {dropped}, A forwarded {forwarded} copies to {LANS} LANs"
    );
    if fast_path {
        // The flood went by the fast path (not the rings), which could not copy all of it.
        let ringed = ring.0 - ring_before.0;
        assert!(
            ringed < sent / 10,
            "the flood reached A's ring ({ringed} of {sent}): no fast path"
        );
        assert!(
            forwarded > 0 && forwarded < sent * LANS as u64 * 9 / 10,
            "the fast path was not past its limit: {forwarded} copies of {sent} frames"
        );
    } else {
        assert!(
            dropped > 0 && forwarded > 0,
            "the forwarder was not past its limit: {dropped} dropped at its ring, {forwarded} \
             forwarded of {sent}"
        );
    }
    assert_eq!(
        (
            ne_lab::lab::bfd_up_transitions(&mut ca).unwrap(),
            ne_lab::lab::bfd_up_transitions(&mut cb).unwrap()
        ),
        ups,
        "BFD flapped"
    );
    assert_eq!(master_transitions(&mut cb), b_masters, "VRRP flapped");
    assert_eq!(vrrp_state(&mut ca, "a-ic", 1).unwrap(), "master");
    assert!(joined(&mut ca, &mut cb), "an IGMP membership was lost");
    let pa = ne_lab::lab::pim_state(&mut ca, "a-up").unwrap();
    assert!(pa.contains("10.1.0.2"), "A lost its PIM neighbour B: {pa}");
}
