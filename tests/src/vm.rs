//! FRR in a small virtual machine, for interop tests on a kernel without IP multicast routing.
//!
//! FRR's pimd forwards through the kernel's multicast routing (ipmr). Where this machine's
//! kernel has none (no `CONFIG_IP_MROUTE`: `MRT_INIT` fails), FRR runs in a qemu VM instead,
//! on Debian's own kernel, which has it. The image (Debian trixie, FRR 10.3) is built by
//! `tests/vm/build-frr-image`, which `tests/run` calls when run as root with debootstrap.
//!
//! The VM's NICs are tap devices: qemu opens them in a namespace of the VM's own
//! (`nl<pid>x<n>-vm`, so the lab's sweep of a dead test's namespaces kills a qemu it left), then
//! each is moved into the test's namespace it belongs to, renamed, and put on a bridge there or
//! left for the test to address. In the VM they are eth0, eth1, ... in the order given.
//!
//! The VM runs no systemd: its init (`/sbin/ne-vm-init`, from the build script) reads commands
//! from a virtio serial port, one bash script per line (base64), and answers each with its
//! output and exit status on one line. [`FrrVm::sh`] sends one and waits for the answer.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use crate::lab::{run, wait_for, Netns};

/// Where `tests/vm/build-frr-image` puts the image unless told otherwise (`NE_FRR_VM`).
pub const IMAGE_DIR: &str = "/var/cache/ne-lab/frr-vm";

const QEMU: &str = "qemu-system-x86_64";

static VMS: AtomicU32 = AtomicU32::new(0);

/// The image directory, whether or not it is built.
pub fn image_dir() -> PathBuf {
    std::env::var_os("NE_FRR_VM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(IMAGE_DIR))
}

/// Why an FRR VM cannot boot here, if it cannot (no qemu, no image).
pub fn unavailable() -> Option<String> {
    if Command::new(QEMU)
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_err()
    {
        return Some(format!(
            "the FRR VM needs {QEMU} (Debian's qemu-system-x86)"
        ));
    }
    let dir = image_dir();
    if !dir.join("built").exists() {
        return Some(format!(
            "no FRR VM image in {} (tests/vm/build-frr-image builds it)",
            dir.display()
        ));
    }
    None
}

/// One NIC of the VM: its tap goes into namespace `ns` as `ifname`, on `bridge` if given (a
/// bridge in that namespace), otherwise up and without an address.
pub struct Nic<'a> {
    pub ns: &'a str,
    pub ifname: &'a str,
    pub bridge: Option<&'a str>,
}

/// A running VM; killed, its namespace and files removed, on drop.
pub struct FrrVm {
    qemu: Child,
    port: BufReader<UnixStream>,
    dir: PathBuf,
    /// The namespace qemu runs in (its taps were created there, then moved out).
    ns: Netns,
}

impl FrrVm {
    /// Boot the VM with `nics` and wait until its command port answers.
    pub fn boot(nics: &[Nic]) -> Result<FrrVm, String> {
        if let Some(why) = unavailable() {
            return Err(why);
        }
        let image = image_dir();
        let ns = Netns::new("vm")?;
        let n = VMS.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("ne-frr-vm-{}x{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let sock = dir.join("cmd.sock");
        let file = |f: &str| image.join(f).display().to_string();
        let mut args: Vec<String> = vec!["netns".into(), "exec".into(), ns.0.clone(), QEMU.into()];
        // Software emulation unless asked for KVM (NE_FRR_VM_KVM=1): on this machine kind
        // /dev/kvm opens, but nested KVM stops the guest kernel's decompressor with an
        // emulation failure. TCG boots the VM in about 10 s.
        let accel: &[&str] = if std::env::var("NE_FRR_VM_KVM").as_deref() == Ok("1") {
            &["-enable-kvm", "-cpu", "host"]
        } else {
            &["-accel", "tcg"]
        };
        args.extend(accel.iter().map(|s| s.to_string()));
        for a in [
            "-m",
            "512",
            "-smp",
            "1",
            "-nodefaults",
            "-no-user-config",
            "-nographic",
            "-no-reboot",
            "-kernel",
            &file("vmlinuz"),
            "-initrd",
            &file("initrd.img"),
            "-append",
            "root=/dev/vda rw console=ttyS0 net.ifnames=0 init=/sbin/ne-vm-init quiet panic=-1",
            "-drive",
            &format!(
                "file={},format=raw,if=virtio,snapshot=on",
                file("rootfs.ext4")
            ),
            "-serial",
            &format!("file:{}", dir.join("console.log").display()),
            "-chardev",
            &format!("socket,id=cmd,path={},server=on,wait=off", sock.display()),
            "-device",
            "virtio-serial-pci",
            "-device",
            "virtserialport,chardev=cmd,name=ne.cmd",
        ] {
            args.push(a.to_string());
        }
        for (k, _) in nics.iter().enumerate() {
            args.push("-netdev".into());
            args.push(format!("tap,id=n{k},ifname=vm{k},script=no,downscript=no"));
            args.push("-device".into());
            args.push(format!(
                "virtio-net-pci,netdev=n{k},romfile=,mac=52:54:{:02x}:{:02x}:{:02x}:{k:02x}",
                (std::process::id() >> 8) as u8,
                std::process::id() as u8,
                n as u8
            ));
        }
        let mut qemu = Command::new("ip")
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("qemu.err")).map_err(|e| e.to_string())?)
            .spawn()
            .map_err(|e| format!("{QEMU}: {e}"))?;
        let port = match connect(&sock, &dir) {
            Ok(p) => p,
            Err(e) => {
                let _ = qemu.kill();
                let _ = qemu.wait();
                return Err(e);
            }
        };
        let mut vm = FrrVm {
            qemu,
            port: BufReader::new(port),
            dir,
            ns,
        };
        for (k, nic) in nics.iter().enumerate() {
            vm.plug(&format!("vm{k}"), nic)?;
        }
        vm.port
            .get_ref()
            .set_read_timeout(Some(Duration::from_secs(120)))
            .map_err(|e| e.to_string())?;
        vm.sh("true")
            .map_err(|e| format!("the VM did not answer: {e}\n{}", vm.console_tail(30)))?;
        Ok(vm)
    }

    /// Move tap `tap` from the VM's namespace to where `nic` says.
    fn plug(&self, tap: &str, nic: &Nic) -> Result<(), String> {
        let vm_ns = self.ns.0.as_str();
        if !wait_for(Duration::from_secs(10), || {
            run("ip", &["-n", vm_ns, "link", "show", tap]).is_ok()
        }) {
            return Err(format!(
                "qemu made no tap {tap}: {}",
                std::fs::read_to_string(self.dir.join("qemu.err")).unwrap_or_default()
            ));
        }
        run("ip", &["-n", vm_ns, "link", "set", tap, "netns", nic.ns])?;
        run(
            "ip",
            &["-n", nic.ns, "link", "set", tap, "name", nic.ifname],
        )?;
        if let Some(br) = nic.bridge {
            run(
                "ip",
                &["-n", nic.ns, "link", "set", nic.ifname, "master", br],
            )?;
        }
        run("ip", &["-n", nic.ns, "link", "set", nic.ifname, "up"])?;
        Ok(())
    }

    /// Run a bash script in the VM; its output (stdout and stderr), or an error with the output
    /// when it exits non-zero.
    pub fn sh(&mut self, script: &str) -> Result<String, String> {
        let mut line = encode(script.as_bytes());
        line.push('\n');
        self.port
            .get_mut()
            .write_all(line.as_bytes())
            .map_err(|e| format!("VM command port: {e}"))?;
        let mut answer = String::new();
        self.port
            .read_line(&mut answer)
            .map_err(|e| format!("VM command port: {e}"))?;
        let (out, rc) = answer
            .trim_end()
            .rsplit_once(' ')
            .ok_or_else(|| format!("VM command port: answer {answer:?}"))?;
        let out = String::from_utf8_lossy(&decode(out)?).into_owned();
        match rc {
            "0" => Ok(out),
            _ => Err(format!("`{script}` in the VM exited {rc}: {out}")),
        }
    }

    /// `vtysh` with these commands, one `-c` each.
    pub fn vtysh(&mut self, commands: &[&str]) -> Result<String, String> {
        let mut script = String::from("vtysh");
        for c in commands {
            script.push_str(&format!(" -c '{}'", c.replace('\'', "'\\''")));
        }
        self.sh(&script)
    }

    /// Write `/etc/frr/frr.conf` and start FRR (mgmtd, zebra, pimd under watchfrr); waits until
    /// vtysh answers.
    pub fn start_frr(&mut self, conf: &str) -> Result<(), String> {
        self.sh(&format!(
            "cat > /etc/frr/frr.conf <<'NE_FRR_CONF'\n{conf}\nNE_FRR_CONF\n\
             chown frr:frr /etc/frr/frr.conf && /usr/lib/frr/frrinit.sh start"
        ))?;
        let end = Instant::now() + Duration::from_secs(30);
        loop {
            match self.vtysh(&["show ip pim interface"]) {
                Ok(_) => return Ok(()),
                Err(e) if Instant::now() >= end => return Err(format!("FRR did not start: {e}")),
                Err(_) => std::thread::sleep(Duration::from_millis(200)),
            }
        }
    }

    /// The last `lines` lines the VM's console printed.
    pub fn console_tail(&self, lines: usize) -> String {
        let text = std::fs::read_to_string(self.dir.join("console.log")).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }
}

impl Drop for FrrVm {
    fn drop(&mut self) {
        let _ = self.qemu.kill();
        let _ = self.qemu.wait();
        if std::env::var("NE_LAB_KEEP").is_err() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Connect to qemu's command socket once it is there (qemu creates it as it starts).
fn connect(sock: &Path, dir: &Path) -> Result<UnixStream, String> {
    let end = Instant::now() + Duration::from_secs(10);
    loop {
        match UnixStream::connect(sock) {
            Ok(s) => return Ok(s),
            Err(e) if Instant::now() >= end => {
                return Err(format!(
                    "{QEMU} command socket: {e}: {}",
                    std::fs::read_to_string(dir.join("qemu.err")).unwrap_or_default()
                ))
            }
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Base64 (RFC 4648, with padding), for the command port's lines.
fn encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let v = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(B64[(v >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn decode(text: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.bytes().filter(|&c| c != b'=') {
        let v = B64
            .iter()
            .position(|&x| x == c)
            .ok_or_else(|| format!("not base64: {c:?}"))?;
        acc = acc << 6 | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips_every_length_and_matches_rfc_4648() {
        assert_eq!(encode(b"foobar"), "Zm9vYmFy");
        assert_eq!(encode(b"fooba"), "Zm9vYmE=");
        assert_eq!(encode(b"foob"), "Zm9vYg==");
        assert_eq!(encode(b""), "");
        let data: Vec<u8> = (0..=255u8).collect();
        for n in 0..data.len() {
            assert_eq!(decode(&encode(&data[..n])).unwrap(), &data[..n]);
        }
        assert!(decode("Zm9v!").is_err());
    }
}
