//! eBPF without a toolchain: an instruction encoder with labels, and the `bpf(2)` calls the
//! forwarder needs (maps: create, update, lookup, delete, walk; programs: load, with the
//! verifier's log in the error when the kernel refuses one). The programs themselves are
//! assembled in Rust by their users ([`crate::fastpath`]); nothing here knows what they do.
//!
//! The encoding is the kernel's `struct bpf_insn` (linux/bpf.h, `Documentation/bpf/
//! standardization/instruction-set.rst`): 8 bytes, opcode, destination and source registers
//! in one byte (destination in the low nibble on a little-endian host), a signed 16-bit offset
//! and a signed 32-bit immediate; a 64-bit immediate load takes two slots.

use std::ffi::CString;
use std::fmt;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

// ===== instructions =====

/// An eBPF register: r0 (return values), r1-r5 (arguments, clobbered by calls), r6-r9
/// (kept across calls), r10 (the read-only frame pointer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reg(u8);

pub const R0: Reg = Reg(0);
pub const R1: Reg = Reg(1);
pub const R2: Reg = Reg(2);
pub const R3: Reg = Reg(3);
pub const R4: Reg = Reg(4);
pub const R5: Reg = Reg(5);
pub const R6: Reg = Reg(6);
pub const R7: Reg = Reg(7);
pub const R8: Reg = Reg(8);
pub const R9: Reg = Reg(9);
pub const FP: Reg = Reg(10);

// Instruction classes.
const LD: u8 = 0x00;
const LDX: u8 = 0x01;
const ST: u8 = 0x02;
const STX: u8 = 0x03;
const JMP: u8 = 0x05;
const ALU64: u8 = 0x07;
// Sources.
const K: u8 = 0x00;
const X: u8 = 0x08;
// Modes.
const IMM: u8 = 0x00;
const ABS: u8 = 0x20;
const MEM: u8 = 0x60;
const ATOMIC: u8 = 0xc0;
/// `src` of a 64-bit immediate load whose immediate is a map's file descriptor.
const PSEUDO_MAP_FD: u8 = 1;

/// Access sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Size {
    B = 0x10,
    H = 0x08,
    W = 0x00,
    DW = 0x18,
}

/// 64-bit ALU operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alu {
    Add = 0x00,
    Sub = 0x10,
    Or = 0x40,
    And = 0x50,
    Lsh = 0x60,
    Rsh = 0x70,
    Mov = 0xb0,
}

/// Conditional jumps (unsigned comparisons).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cond {
    Eq = 0x10,
    Gt = 0x20,
    Ge = 0x30,
    Ne = 0x50,
    Lt = 0xa0,
    Le = 0xb0,
}

/// Kernel helper functions (their ids in linux/bpf.h `__BPF_FUNC_MAPPER`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Helper {
    MapLookupElem = 1,
    KtimeGetNs = 5,
    GetSmpProcessorId = 8,
    SkbStoreBytes = 9,
    CloneRedirect = 13,
    SkbLoadBytes = 26,
    SkbPullData = 39,
}

/// One encoded instruction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Insn {
    pub code: u8,
    pub dst: u8,
    pub src: u8,
    pub off: i16,
    pub imm: i32,
}

impl Insn {
    const fn new(code: u8, dst: Reg, src: Reg, off: i16, imm: i32) -> Insn {
        Insn {
            code,
            dst: dst.0,
            src: src.0,
            off,
            imm,
        }
    }

    /// The 8 bytes of `struct bpf_insn` on this host.
    pub fn to_bytes(self) -> [u8; 8] {
        let regs = if cfg!(target_endian = "little") {
            (self.src << 4) | (self.dst & 0xf)
        } else {
            (self.dst << 4) | (self.src & 0xf)
        };
        let mut b = [0u8; 8];
        b[0] = self.code;
        b[1] = regs;
        b[2..4].copy_from_slice(&self.off.to_ne_bytes());
        b[4..8].copy_from_slice(&self.imm.to_ne_bytes());
        b
    }
}

/// A jump target, placed with [`Asm::bind`] before or after the jumps to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Label(usize);

/// A program under construction. Jumps name [`Label`]s; [`Asm::finish`] resolves them.
#[derive(Debug, Default)]
pub struct Asm {
    insns: Vec<Insn>,
    /// Where each label is bound (instruction index), once it is.
    labels: Vec<Option<usize>>,
    /// (jump instruction index, label) to patch.
    fixups: Vec<(usize, Label)>,
}

/// Why an [`Asm`] could not be finished.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AsmError {
    /// A jump names a label that was never bound.
    Unbound(usize),
    /// A jump is farther than a 16-bit offset reaches.
    TooFar { at: usize },
}

impl fmt::Display for AsmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AsmError::Unbound(l) => write!(f, "label {l} is never bound"),
            AsmError::TooFar { at } => write!(f, "jump at instruction {at} is out of reach"),
        }
    }
}

impl std::error::Error for AsmError {}

impl Asm {
    pub fn new() -> Asm {
        Asm::default()
    }

    /// Instructions so far.
    pub fn len(&self) -> usize {
        self.insns.len()
    }

    pub fn is_empty(&self) -> bool {
        self.insns.is_empty()
    }

    pub fn label(&mut self) -> Label {
        self.labels.push(None);
        Label(self.labels.len() - 1)
    }

    /// The next instruction is `l`'s target.
    pub fn bind(&mut self, l: Label) -> &mut Asm {
        self.labels[l.0] = Some(self.insns.len());
        self
    }

    fn push(&mut self, i: Insn) -> &mut Asm {
        self.insns.push(i);
        self
    }

    /// `dst = imm` (sign-extended to 64 bits).
    pub fn mov_imm(&mut self, dst: Reg, imm: i32) -> &mut Asm {
        self.alu_imm(Alu::Mov, dst, imm)
    }

    /// `dst = src`.
    pub fn mov(&mut self, dst: Reg, src: Reg) -> &mut Asm {
        self.alu(Alu::Mov, dst, src)
    }

    /// `dst op= imm` on 64 bits.
    pub fn alu_imm(&mut self, op: Alu, dst: Reg, imm: i32) -> &mut Asm {
        self.push(Insn::new(ALU64 | K | op as u8, dst, R0, 0, imm))
    }

    /// `dst op= src` on 64 bits.
    pub fn alu(&mut self, op: Alu, dst: Reg, src: Reg) -> &mut Asm {
        self.push(Insn::new(ALU64 | X | op as u8, dst, src, 0, 0))
    }

    /// `dst = *(size *)(src + off)`, zero-extended.
    pub fn load(&mut self, size: Size, dst: Reg, src: Reg, off: i16) -> &mut Asm {
        self.push(Insn::new(LDX | MEM | size as u8, dst, src, off, 0))
    }

    /// `*(size *)(dst + off) = src`.
    pub fn store(&mut self, size: Size, dst: Reg, off: i16, src: Reg) -> &mut Asm {
        self.push(Insn::new(STX | MEM | size as u8, dst, src, off, 0))
    }

    /// `*(size *)(dst + off) = imm`.
    pub fn store_imm(&mut self, size: Size, dst: Reg, off: i16, imm: i32) -> &mut Asm {
        self.push(Insn::new(ST | MEM | size as u8, dst, R0, off, imm))
    }

    /// `*(u64 *)(dst + off) += src`, atomically.
    pub fn atomic_add64(&mut self, dst: Reg, off: i16, src: Reg) -> &mut Asm {
        // imm 0: BPF_ADD without BPF_FETCH.
        self.push(Insn::new(STX | ATOMIC | Size::DW as u8, dst, src, off, 0))
    }

    /// `r0 = ntoh(*(size *)(skb->data + off))`: the packet load of socket filters (r6 must
    /// hold the context; a load past the end ends the program with 0).
    pub fn load_abs(&mut self, size: Size, off: i32) -> &mut Asm {
        self.push(Insn::new(LD | ABS | size as u8, R0, R0, 0, off))
    }

    /// `dst = the map behind fd` (a 64-bit immediate, two slots).
    pub fn load_map_fd(&mut self, dst: Reg, fd: RawFd) -> &mut Asm {
        self.push(Insn::new(
            LD | IMM | Size::DW as u8,
            dst,
            Reg(PSEUDO_MAP_FD),
            0,
            fd,
        ));
        self.push(Insn::new(0, R0, R0, 0, 0))
    }

    /// `if dst cond imm goto to`.
    pub fn jump_imm(&mut self, cond: Cond, dst: Reg, imm: i32, to: Label) -> &mut Asm {
        self.fixups.push((self.insns.len(), to));
        self.push(Insn::new(JMP | K | cond as u8, dst, R0, 0, imm))
    }

    /// `if dst cond src goto to`.
    pub fn jump(&mut self, cond: Cond, dst: Reg, src: Reg, to: Label) -> &mut Asm {
        self.fixups.push((self.insns.len(), to));
        self.push(Insn::new(JMP | X | cond as u8, dst, src, 0, 0))
    }

    /// `goto to`.
    pub fn goto(&mut self, to: Label) -> &mut Asm {
        self.fixups.push((self.insns.len(), to));
        self.push(Insn::new(JMP, R0, R0, 0, 0))
    }

    /// Call a kernel helper (arguments in r1-r5, result in r0).
    pub fn call(&mut self, h: Helper) -> &mut Asm {
        self.push(Insn::new(JMP | 0x80, R0, R0, 0, h as i32))
    }

    /// Return r0.
    pub fn exit(&mut self) -> &mut Asm {
        self.push(Insn::new(JMP | 0x90, R0, R0, 0, 0))
    }

    /// The instructions with every jump resolved.
    pub fn finish(mut self) -> Result<Vec<Insn>, AsmError> {
        for &(at, l) in &self.fixups {
            let to = self.labels[l.0].ok_or(AsmError::Unbound(l.0))?;
            let off = to as i64 - at as i64 - 1;
            self.insns[at].off = i16::try_from(off).map_err(|_| AsmError::TooFar { at })?;
        }
        Ok(self.insns)
    }
}

// ===== the bpf(2) system call =====

const BPF_MAP_CREATE: libc::c_int = 0;
const BPF_MAP_LOOKUP_ELEM: libc::c_int = 1;
const BPF_MAP_UPDATE_ELEM: libc::c_int = 2;
const BPF_MAP_DELETE_ELEM: libc::c_int = 3;
const BPF_MAP_GET_NEXT_KEY: libc::c_int = 4;
const BPF_PROG_LOAD: libc::c_int = 5;
const BPF_PROG_QUERY: libc::c_int = 16;
const BPF_LINK_CREATE: libc::c_int = 28;
/// `enum bpf_attach_type`: tc ingress through a link (tcx, Linux >= 6.6).
const BPF_TCX_INGRESS: u32 = 46;

/// Map kinds (linux/bpf.h `enum bpf_map_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapKind {
    Hash = 1,
    Array = 2,
}

/// Program kinds (linux/bpf.h `enum bpf_prog_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgKind {
    SocketFilter = 1,
    SchedCls = 3,
}

/// Map creation flag: hash elements allocated on update and freed after an RCU grace period,
/// so a program never reads an element that an update is rewriting (preallocated elements are
/// reused at once).
pub const F_NO_PREALLOC: u32 = 1;

/// Why a `bpf(2)` call failed.
#[derive(Debug)]
pub enum BpfError {
    /// The call itself failed (`op` names it): no permission, no memory, a bad argument.
    Syscall { op: &'static str, source: io::Error },
    /// The verifier refused the program; `log` is what it said.
    Rejected { source: io::Error, log: String },
    /// The program could not be assembled.
    Asm(AsmError),
}

impl fmt::Display for BpfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BpfError::Syscall { op, source } => write!(f, "bpf {op}: {source}"),
            BpfError::Rejected { source, log } => {
                // The verifier's conclusion is at the end of its log.
                let tail: Vec<&str> = log.lines().rev().take(6).collect();
                let tail: Vec<&str> = tail.into_iter().rev().collect();
                write!(
                    f,
                    "bpf program refused ({source}): {}",
                    tail.join(" | ").trim()
                )
            }
            BpfError::Asm(e) => write!(f, "bpf program: {e}"),
        }
    }
}

impl std::error::Error for BpfError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            BpfError::Syscall { source, .. } | BpfError::Rejected { source, .. } => Some(source),
            BpfError::Asm(e) => Some(e),
        }
    }
}

impl From<AsmError> for BpfError {
    fn from(e: AsmError) -> BpfError {
        BpfError::Asm(e)
    }
}

impl From<BpfError> for io::Error {
    fn from(e: BpfError) -> io::Error {
        let kind = match &e {
            BpfError::Syscall { source, .. } | BpfError::Rejected { source, .. } => source.kind(),
            BpfError::Asm(_) => io::ErrorKind::InvalidInput,
        };
        io::Error::new(kind, e.to_string())
    }
}

/// `union bpf_attr`, as large as any command here uses; each command fills its own fields.
#[repr(C, align(8))]
struct Attr([u8; 128]);

impl Attr {
    fn new() -> Attr {
        Attr([0; 128])
    }

    fn u32(&mut self, at: usize, v: u32) -> &mut Attr {
        self.0[at..at + 4].copy_from_slice(&v.to_ne_bytes());
        self
    }

    fn u64(&mut self, at: usize, v: u64) -> &mut Attr {
        self.0[at..at + 8].copy_from_slice(&v.to_ne_bytes());
        self
    }

    fn name(&mut self, at: usize, name: &str) -> &mut Attr {
        // BPF_OBJ_NAME_LEN 16 with the NUL; the kernel takes [A-Za-z0-9_.].
        let n: Vec<u8> = name
            .bytes()
            .filter(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'.')
            .take(15)
            .collect();
        self.0[at..at + n.len()].copy_from_slice(&n);
        self
    }
}

fn sys_bpf(cmd: libc::c_int, attr: &mut Attr) -> io::Result<libc::c_long> {
    // SAFETY: `attr` is a live, writable 128-byte bpf_attr whose pointer fields (set by the
    // callers) point to buffers that outlive the call; the size passed is its size.
    let r = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            cmd,
            attr.0.as_mut_ptr(),
            std::mem::size_of::<Attr>() as libc::c_uint,
        )
    };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

/// Wrap a file descriptor the kernel returned.
fn owned(fd: libc::c_long) -> OwnedFd {
    // SAFETY: a successful MAP_CREATE/PROG_LOAD returns a new descriptor that nothing else
    // owns.
    unsafe { OwnedFd::from_raw_fd(fd as RawFd) }
}

/// A BPF map, closed (and freed once no program uses it) on drop.
#[derive(Debug)]
pub struct Map {
    fd: OwnedFd,
    key_size: usize,
    value_size: usize,
}

/// What an update may do (BPF_ANY, BPF_NOEXIST, BPF_EXIST).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Update {
    Any = 0,
    NoExist = 1,
    Exist = 2,
}

impl Map {
    pub fn create(
        kind: MapKind,
        key_size: usize,
        value_size: usize,
        max_entries: u32,
        flags: u32,
        name: &str,
    ) -> Result<Map, BpfError> {
        let mut a = Attr::new();
        a.u32(0, kind as u32)
            .u32(4, key_size as u32)
            .u32(8, value_size as u32)
            .u32(12, max_entries)
            .u32(16, flags)
            .name(28, name);
        let fd = sys_bpf(BPF_MAP_CREATE, &mut a).map_err(|source| BpfError::Syscall {
            op: "map create",
            source,
        })?;
        Ok(Map {
            fd: owned(fd),
            key_size,
            value_size,
        })
    }

    pub fn key_size(&self) -> usize {
        self.key_size
    }

    pub fn value_size(&self) -> usize {
        self.value_size
    }

    fn check(&self, key: &[u8], value: Option<usize>) -> io::Result<()> {
        if key.len() != self.key_size || value.is_some_and(|v| v != self.value_size) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "key or value size differs from the map's ({}, {})",
                    self.key_size, self.value_size
                ),
            ));
        }
        Ok(())
    }

    fn elem(&self, cmd: libc::c_int, key: *const u8, value: *mut u8, flags: u64) -> io::Result<()> {
        let mut a = Attr::new();
        a.u32(0, self.fd.as_raw_fd() as u32)
            .u64(8, key as u64)
            .u64(16, value as u64)
            .u64(24, flags);
        sys_bpf(cmd, &mut a).map(|_| ())
    }

    /// Set `key` to `value` (atomically for a program reading it, in a hash map created with
    /// [`F_NO_PREALLOC`]).
    pub fn update(&self, key: &[u8], value: &[u8], how: Update) -> Result<(), BpfError> {
        let op = "map update";
        self.check(key, Some(value.len()))
            .map_err(|source| BpfError::Syscall { op, source })?;
        // The kernel only reads `value` for an update.
        self.elem(
            BPF_MAP_UPDATE_ELEM,
            key.as_ptr(),
            value.as_ptr().cast_mut(),
            how as u64,
        )
        .map_err(|source| BpfError::Syscall { op, source })
    }

    /// Copy `key`'s value into `value`; false when there is no such key.
    pub fn lookup(&self, key: &[u8], value: &mut [u8]) -> Result<bool, BpfError> {
        let op = "map lookup";
        self.check(key, Some(value.len()))
            .map_err(|source| BpfError::Syscall { op, source })?;
        match self.elem(BPF_MAP_LOOKUP_ELEM, key.as_ptr(), value.as_mut_ptr(), 0) {
            Ok(()) => Ok(true),
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(false),
            Err(source) => Err(BpfError::Syscall { op, source }),
        }
    }

    /// Remove `key`; false when there was no such key.
    pub fn delete(&self, key: &[u8]) -> Result<bool, BpfError> {
        let op = "map delete";
        self.check(key, None)
            .map_err(|source| BpfError::Syscall { op, source })?;
        match self.elem(BPF_MAP_DELETE_ELEM, key.as_ptr(), std::ptr::null_mut(), 0) {
            Ok(()) => Ok(true),
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(false),
            Err(source) => Err(BpfError::Syscall { op, source }),
        }
    }

    /// Every key of the map (a snapshot; concurrent updates may be missed or seen).
    pub fn keys(&self) -> Result<Vec<Vec<u8>>, BpfError> {
        let op = "map walk";
        let mut out: Vec<Vec<u8>> = Vec::new();
        loop {
            let mut next = vec![0u8; self.key_size];
            // A null key asks for the first one.
            let key = out.last().map_or(std::ptr::null(), |k| k.as_ptr());
            match self.elem(BPF_MAP_GET_NEXT_KEY, key, next.as_mut_ptr(), 0) {
                Ok(()) => out.push(next),
                Err(e) if e.raw_os_error() == Some(libc::ENOENT) => return Ok(out),
                Err(source) => return Err(BpfError::Syscall { op, source }),
            }
        }
    }
}

impl AsRawFd for Map {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

/// A loaded program, unloaded when its descriptor and every attachment are gone.
#[derive(Debug)]
pub struct Program {
    fd: OwnedFd,
}

/// The verifier log kept when a program is refused.
const LOG_SIZE: usize = 1 << 16;

impl Program {
    /// Load `insns` as a `kind` program named `name`. The verifier's log is asked for only
    /// when the first attempt fails, and returned in [`BpfError::Rejected`].
    pub fn load(kind: ProgKind, name: &str, insns: &[Insn]) -> Result<Program, BpfError> {
        let code: Vec<u8> = insns.iter().flat_map(|i| i.to_bytes()).collect();
        // The license the program declares: ours. No GPL-only helper is used.
        let license = CString::new("Apache-2.0").expect("no NUL");
        let attempt = |log: Option<&mut Vec<u8>>| {
            let mut a = Attr::new();
            a.u32(0, kind as u32)
                .u32(4, insns.len() as u32)
                .u64(8, code.as_ptr() as u64)
                .u64(16, license.as_ptr() as u64)
                .name(48, name);
            if let Some(buf) = log {
                a.u32(24, 1)
                    .u32(28, buf.len() as u32)
                    .u64(32, buf.as_mut_ptr() as u64);
            }
            sys_bpf(BPF_PROG_LOAD, &mut a)
        };
        match attempt(None) {
            Ok(fd) => Ok(Program { fd: owned(fd) }),
            Err(first) if first.raw_os_error() == Some(libc::EPERM) => Err(BpfError::Syscall {
                op: "prog load",
                source: first,
            }),
            Err(first) => {
                let mut log = vec![0u8; LOG_SIZE];
                match attempt(Some(&mut log)) {
                    // Loaded the second time round (e.g. a transient ENOMEM).
                    Ok(fd) => Ok(Program { fd: owned(fd) }),
                    Err(e) => {
                        let end = log.iter().position(|&b| b == 0).unwrap_or(log.len());
                        let log = String::from_utf8_lossy(&log[..end]).into_owned();
                        if log.is_empty() {
                            Err(BpfError::Syscall {
                                op: "prog load",
                                source: first,
                            })
                        } else {
                            Err(BpfError::Rejected { source: e, log })
                        }
                    }
                }
            }
        }
    }

    /// Attach to a socket as its filter (SO_ATTACH_BPF); a [`ProgKind::SocketFilter`].
    pub fn attach_to_socket(&self, sock: RawFd) -> io::Result<()> {
        const SO_ATTACH_BPF: libc::c_int = 50;
        crate::sock::setsockopt(
            sock,
            libc::SOL_SOCKET,
            SO_ATTACH_BPF,
            &(self.fd.as_raw_fd() as libc::c_int),
        )
    }

    /// Attach a [`ProgKind::SchedCls`] program at tc ingress of `ifindex` (in the calling
    /// thread's network namespace) through a tcx link, after the programs already there. It
    /// runs before the classic `clsact` filters; its TC_ACT_UNSPEC hands the frame on to them.
    /// The link, and with it the attachment, ends when the returned [`Link`] is dropped or the
    /// process dies: a killed agent leaves no classifier behind.
    pub fn attach_tcx_ingress(&self, ifindex: u32) -> Result<Link, BpfError> {
        let mut a = Attr::new();
        a.u32(0, self.fd.as_raw_fd() as u32)
            .u32(4, ifindex)
            .u32(8, BPF_TCX_INGRESS);
        let fd = sys_bpf(BPF_LINK_CREATE, &mut a).map_err(|source| BpfError::Syscall {
            op: "tcx link create",
            source,
        })?;
        Ok(Link { _fd: owned(fd) })
    }
}

/// How many programs are attached at tcx ingress of `ifindex` (in the calling thread's
/// namespace).
pub fn tcx_ingress_programs(ifindex: u32) -> Result<u32, BpfError> {
    Ok(tcx_ingress(ifindex)?.0)
}

/// The programs attached at tcx ingress of `ifindex` (in the calling thread's namespace), and
/// the revision of that list: it counts every attach and detach there.
pub fn tcx_ingress(ifindex: u32) -> Result<(u32, u64), BpfError> {
    let mut a = Attr::new();
    a.u32(0, ifindex).u32(4, BPF_TCX_INGRESS);
    sys_bpf(BPF_PROG_QUERY, &mut a).map_err(|source| BpfError::Syscall {
        op: "prog query",
        source,
    })?;
    // query.prog_cnt after target, attach_type, query_flags, attach_flags and prog_ids;
    // query.revision after prog_attach_flags, link_ids and link_attach_flags.
    let count = u32::from_ne_bytes(a.0[24..28].try_into().expect("4 bytes"));
    let revision = u64::from_ne_bytes(a.0[56..64].try_into().expect("8 bytes"));
    Ok((count, revision))
}

/// An attachment of a program, undone when dropped (its descriptor closed).
#[derive(Debug)]
pub struct Link {
    _fd: OwnedFd,
}

impl AsRawFd for Program {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

#[cfg(test)]
#[path = "bpf_tests.rs"]
mod tests;
