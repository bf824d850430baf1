//! Unit tests of the encoder and the `bpf(2)` wrappers, and a program on a veth.

use super::*;

#[test]
fn encodes_the_kernel_layout() {
    let mut a = Asm::new();
    a.mov_imm(R0, -1)
        .load(Size::W, R2, R1, 76)
        .store(Size::DW, FP, -8, R3)
        .atomic_add64(R7, 16, R1)
        .call(Helper::CloneRedirect)
        .exit();
    let b: Vec<[u8; 8]> = a.finish().unwrap().iter().map(|i| i.to_bytes()).collect();
    // r0 = -1: BPF_ALU64|BPF_K|BPF_MOV.
    assert_eq!(b[0], [0xb7, 0x00, 0, 0, 0xff, 0xff, 0xff, 0xff]);
    // r2 = *(u32 *)(r1 + 76): BPF_LDX|BPF_MEM|BPF_W, dst 2 src 1.
    assert_eq!(b[1], [0x61, 0x12, 76, 0, 0, 0, 0, 0]);
    // *(u64 *)(r10 - 8) = r3.
    assert_eq!(b[2], [0x7b, 0x3a, 0xf8, 0xff, 0, 0, 0, 0]);
    // lock *(u64 *)(r7 + 16) += r1.
    assert_eq!(b[3], [0xdb, 0x17, 16, 0, 0, 0, 0, 0]);
    assert_eq!(b[4], [0x85, 0, 0, 0, 13, 0, 0, 0]);
    assert_eq!(b[5], [0x95, 0, 0, 0, 0, 0, 0, 0]);
}

#[test]
fn resolves_jumps_both_ways() {
    let mut a = Asm::new();
    let (top, end) = (a.label(), a.label());
    a.bind(top)
        .mov_imm(R0, 0)
        .jump_imm(Cond::Eq, R1, 7, end) // 1 -> 5
        .jump(Cond::Gt, R1, R2, top) // 2 -> 0
        .load_map_fd(R1, 5) // 3 and 4
        .bind(end)
        .exit();
    let insns = a.finish().unwrap();
    assert_eq!(insns.len(), 6);
    assert_eq!(insns[1].off, 3, "past both slots of the 64-bit load");
    assert_eq!(insns[2].off, -3);
    assert_eq!(insns[3].to_bytes(), [0x18, 0x11, 0, 0, 5, 0, 0, 0]);
    assert_eq!(insns[4].to_bytes(), [0; 8]);

    let mut a = Asm::new();
    let nowhere = a.label();
    a.goto(nowhere);
    assert_eq!(a.finish(), Err(AsmError::Unbound(0)));
}

fn require_bpf() -> bool {
    crate::testns::require_root()
}

#[test]
fn maps_update_lookup_delete_and_walk() {
    if !require_bpf() {
        return;
    }
    let m = Map::create(MapKind::Hash, 8, 4, 16, F_NO_PREALLOC, "ne_test_hash").unwrap();
    let key = |n: u64| n.to_ne_bytes();
    let mut v = [0u8; 4];
    assert!(!m.lookup(&key(1), &mut v).unwrap());
    m.update(&key(1), &7u32.to_ne_bytes(), Update::Any).unwrap();
    m.update(&key(2), &9u32.to_ne_bytes(), Update::NoExist)
        .unwrap();
    assert!(matches!(
        m.update(&key(2), &9u32.to_ne_bytes(), Update::NoExist),
        Err(BpfError::Syscall { source, .. }) if source.raw_os_error() == Some(libc::EEXIST)
    ));
    assert!(m.lookup(&key(1), &mut v).unwrap());
    assert_eq!(u32::from_ne_bytes(v), 7);
    let mut keys = m.keys().unwrap();
    keys.sort();
    assert_eq!(keys, vec![key(1).to_vec(), key(2).to_vec()]);
    assert!(m.delete(&key(1)).unwrap());
    assert!(!m.delete(&key(1)).unwrap());
    assert_eq!(m.keys().unwrap(), vec![key(2).to_vec()]);
    // Sizes are checked before the kernel sees anything.
    assert!(m.update(&[0; 4], &[0; 4], Update::Any).is_err());
}

#[test]
fn the_verifier_log_comes_back_in_the_error() {
    if !require_bpf() {
        return;
    }
    // Reads r2 before anything wrote it.
    let mut a = Asm::new();
    a.mov(R0, R2).exit();
    let e = Program::load(ProgKind::SocketFilter, "ne_bad", &a.finish().unwrap()).unwrap_err();
    match &e {
        BpfError::Rejected { log, .. } => assert!(log.contains("R2 !read_ok"), "{log}"),
        other => panic!("{other:?}"),
    }
    assert!(e.to_string().contains("R2 !read_ok"), "{e}");

    let mut a = Asm::new();
    a.mov_imm(R0, 0).exit();
    Program::load(ProgKind::SocketFilter, "ne_ok", &a.finish().unwrap()).unwrap();
}

mod on_a_veth {
    use super::*;
    use crate::testns::{require_root, Namespaces};

    /// A classifier assembled here, loaded and attached at tc ingress of a veth in a
    /// namespace, counts the IPv4 frames it sees in an array map with atomic adds; the count
    /// read back through the map is what was sent.
    #[test]
    fn a_classifier_counts_frames_into_a_map() {
        if !require_root() {
            return;
        }
        let lab = Namespaces::new("bpfcount", &["s", "r"]);
        lab.veth("s", "s0", "r", "r0");
        let (s0, r0) = (lab.ifindex("s", "s0"), lab.ifindex("r", "r0"));
        let counts = Map::create(MapKind::Array, 4, 8, 1, 0, "ne_test_count").unwrap();
        let mut a = Asm::new();
        let out = a.label();
        a.store_imm(Size::W, FP, -4, 0)
            .load_map_fd(R1, counts.as_raw_fd())
            .mov(R2, FP)
            .alu_imm(Alu::Add, R2, -4)
            .call(Helper::MapLookupElem)
            .jump_imm(Cond::Eq, R0, 0, out)
            .mov_imm(R1, 1)
            .atomic_add64(R0, 0, R1)
            .bind(out)
            .mov_imm(R0, crate::ingress::TC_ACT_SHOT as i32)
            .exit();
        let prog = Program::load(ProgKind::SchedCls, "ne_test_cls", &a.finish().unwrap()).unwrap();
        let fd = prog.as_raw_fd();
        lab.run("r", move || {
            crate::netlink::Handle::open()?.install_bpf_filter(r0, 0x4e40, fd, "ne_test_cls")
        })
        .unwrap();
        let tx = lab
            .run("s", move || crate::sock::PacketSocket::open(s0, None))
            .unwrap();
        let mut frame = vec![0u8; 60];
        frame[0..6].copy_from_slice(&[0xff; 6]);
        frame[12..14].copy_from_slice(&0x0800u16.to_be_bytes());
        frame[14] = 0x45;
        const N: u64 = 50;
        let mut sent = 0;
        let end = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while sent < N && std::time::Instant::now() < end {
            // A fresh veth refuses frames until its carrier is up.
            match tx.send(&frame) {
                Ok(_) => sent += 1,
                Err(_) => std::thread::sleep(std::time::Duration::from_millis(10)),
            }
        }
        assert_eq!(sent, N);
        let mut v = [0u8; 8];
        let end = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            assert!(counts.lookup(&0u32.to_ne_bytes(), &mut v).unwrap());
            if u64::from_ne_bytes(v) >= N || std::time::Instant::now() > end {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert_eq!(u64::from_ne_bytes(v), N);
        let gone = lab
            .run("r", move || {
                let mut h = crate::netlink::Handle::open()?;
                h.remove_filter(r0, 0x4e40)?;
                h.has_filter(r0, 0x4e40)
            })
            .unwrap();
        assert!(!gone);
    }
}
