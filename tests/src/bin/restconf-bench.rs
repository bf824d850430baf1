//! `restconf-bench`: the RESTCONF server measured over real TLS with a client built on the same
//! crates (hyper 1, rustls), against a release agent started on loopback with its own data
//! directory. Printed against the goals of issue 18:
//!
//! - GET of N list entries (monitor groups) in JSON, one keep-alive connection;
//! - one-entry plain PATCH at N entries (a commit through the whole pipeline);
//! - the GET with state right after each of such PATCHes (nothing kept between reads applies);
//! - keep-alive GETs per second of one small resource with C clients (one connection each);
//! - TLS handshake + first GET on a new connection.
//!
//! `cargo build --release -p agent -p ne-lab && target/release/restconf-bench
//! [--entries 10000] [--clients 8] [--seconds 3] [--runs 50]`

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};

struct Agent {
    child: Child,
    dir: PathBuf,
    port: u16,
    password: String,
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn start_agent() -> Agent {
    let exe = std::env::current_exe().unwrap().with_file_name("ne-agent");
    let dir = std::env::temp_dir().join(format!("restconf-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let _ = Command::new("ssh-keygen")
        .args(["-q", "-t", "rsa", "-b", "2048", "-N", "", "-f"])
        .arg(dir.join("ssh_host_rsa_key"))
        .status();
    let log = dir.join("agent.log");
    let child = Command::new(&exe)
        .args([
            "--listen",
            "127.0.0.1:0",
            "--restconf-listen",
            "127.0.0.1:0",
            "--data-dir",
        ])
        .arg(&dir)
        .env("RUST_LOG", "warn,agent::agent=info")
        .stderr(Stdio::from(std::fs::File::create(&log).unwrap()))
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "{}: {e} (cargo build --release -p agent first)",
                exe.display()
            )
        });
    let deadline = Instant::now() + Duration::from_secs(60);
    let port = loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if let Some(p) = text
            .split("https=")
            .nth(1)
            .and_then(|r| r.split_whitespace().next())
            .and_then(|a| a.rsplit(':').next())
            .and_then(|p| p.parse().ok())
        {
            break p;
        }
        assert!(
            Instant::now() < deadline,
            "the agent did not start:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let password = std::fs::read_to_string(dir.join("initial-admin-password"))
        .unwrap()
        .trim()
        .to_string();
    Agent {
        child,
        dir,
        port,
        password,
    }
}

/// CPU time (user + system, all threads) the process has used so far, in ms; in clock ticks
/// of 10 ms (USER_HZ 100), so a figure is read over many requests.
fn cpu_ms(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The fields after the command name (which is in parentheses and may hold spaces).
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<u64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    // utime and stime are fields 14 and 15 of stat(5); `rest` starts at field 3.
    (f.get(11).copied().unwrap_or(0) + f.get(12).copied().unwrap_or(0)) as f64 * 10.0
}

fn base64(input: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[derive(Clone)]
struct Client {
    tls: tokio_rustls::TlsConnector,
    port: u16,
    auth: String,
}

impl Client {
    async fn connect(&self) -> SendRequest<Full<Bytes>> {
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", self.port))
            .await
            .unwrap();
        tcp.set_nodelay(true).unwrap();
        let name = ServerName::try_from("127.0.0.1").unwrap();
        let tls = self.tls.connect(name, tcp).await.unwrap();
        let (send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
            .await
            .unwrap();
        tokio::spawn(conn);
        send
    }

    async fn request(
        &self,
        send: &mut SendRequest<Full<Bytes>>,
        method: &str,
        path: &str,
        body: Option<String>,
    ) -> (u16, Bytes) {
        send.ready().await.unwrap();
        let mut b = hyper::Request::builder()
            .method(method)
            .uri(path)
            .header("host", "127.0.0.1")
            .header("authorization", &self.auth)
            .header("accept", "application/yang-data+json");
        if body.is_some() {
            b = b.header("content-type", "application/yang-data+json");
        }
        let req = b
            .body(Full::new(Bytes::from(body.unwrap_or_default())))
            .unwrap();
        let resp = send.send_request(req).await.unwrap();
        let status = resp.status().as_u16();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        (status, bytes)
    }
}

/// Trusts exactly the agent's own certificate (compared byte for byte) and checks the
/// handshake signatures with it, as a client that pinned it would.
#[derive(Debug)]
struct Pinned {
    cert: CertificateDer<'static>,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl rustls::client::danger::ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.cert.as_ref() {
            Ok(rustls::client::danger::ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General("not the agent's certificate".into()))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

fn line(what: &str, goal: &str, meets: Option<bool>, figure: String) {
    let verdict = match meets {
        Some(true) => "meets",
        Some(false) => "MISSES",
        None => "",
    };
    println!("{what:<52} {figure:<34} goal {goal:<12} {verdict}");
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |name: &str, default: usize| -> usize {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let (entries, clients, seconds, runs) = (
        flag("--entries", 10_000),
        flag("--clients", 8),
        flag("--seconds", 3),
        flag("--runs", 50),
    );
    let agent = start_agent();
    let cert = CertificateDer::from_pem_file(agent.dir.join("restconf_cert.pem")).unwrap();
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(Pinned {
            cert: cert.into_owned(),
            provider,
        }))
        .with_no_client_auth();
    let client = Client {
        tls: tokio_rustls::TlsConnector::from(Arc::new(config)),
        port: agent.port,
        auth: format!(
            "Basic {}",
            base64(format!("admin:{}", agent.password).as_bytes())
        ),
    };
    println!("restconf-bench: {entries} monitor groups, release agent on 127.0.0.1:{}, TLS 1.3, HTTP/1.1", agent.port);
    let mut send = client.connect().await;
    // N entries in one PUT.
    let body = format!(
        "{{\"ne-monitor-group:monitor-groups\":{{\"monitor-group\":[{}]}}}}",
        (0..entries)
            .map(|i| format!("{{\"name\":\"mg{i}\",\"enabled\":true}}"))
            .collect::<Vec<_>>()
            .join(",")
    );
    let t = Instant::now();
    let (status, text) = client
        .request(
            &mut send,
            "PUT",
            "/restconf/data/ne-monitor-group:monitor-groups",
            Some(body),
        )
        .await;
    assert!(
        status == 201 || status == 204,
        "{status} {}",
        String::from_utf8_lossy(&text)
    );
    line(
        &format!("PUT of {entries} entries (one commit)"),
        "",
        None,
        format!("{:.1} ms", t.elapsed().as_secs_f64() * 1e3),
    );

    for (what, path) in [
        (
            "GET {n} entries in JSON, /ds/running",
            "/restconf/ds/ietf-datastores:running/ne-monitor-group:monitor-groups",
        ),
        (
            "GET {n} entries in JSON, /data content=config",
            "/restconf/data/ne-monitor-group:monitor-groups?content=config",
        ),
        (
            "GET {n} entries in JSON, /data (with state)",
            "/restconf/data/ne-monitor-group:monitor-groups",
        ),
    ] {
        let mut ms = Vec::new();
        let mut size = 0;
        let cpu0 = cpu_ms(agent.child.id());
        for _ in 0..runs {
            let t = Instant::now();
            let (status, bytes) = client.request(&mut send, "GET", path, None).await;
            ms.push(t.elapsed().as_secs_f64() * 1e3);
            assert_eq!(status, 200);
            size = bytes.len();
        }
        // The agent's own CPU time per request: what the wall time is made of on a quiet
        // machine, and what it is multiplied from on a loaded one.
        let cpu = (cpu_ms(agent.child.id()) - cpu0) / runs as f64;
        let (p50, p99) = (percentile(&mut ms, 0.5), percentile(&mut ms, 0.99));
        line(
            &what.replace("{n}", &entries.to_string()),
            "<= 20 ms",
            Some(p50 <= 20.0),
            format!(
                "p50 {p50:.2} ms, p99 {p99:.2} ms ({:.1} MB), agent CPU {cpu:.1} ms/GET",
                size as f64 / 1e6
            ),
        );
    }

    let mut ms = Vec::new();
    let cpu0 = cpu_ms(agent.child.id());
    for i in 0..runs * 4 {
        let path = format!(
            "/restconf/data/ne-monitor-group:monitor-groups/monitor-group=mg{}",
            i * 7 % entries
        );
        let body = format!(
            "{{\"ne-monitor-group:monitor-group\":[{{\"name\":\"mg{}\",\"enabled\":{}}}]}}",
            i * 7 % entries,
            i % 2 == 1
        );
        let t = Instant::now();
        let (status, text) = client.request(&mut send, "PATCH", &path, Some(body)).await;
        ms.push(t.elapsed().as_secs_f64() * 1e3);
        assert_eq!(status, 204, "{}", String::from_utf8_lossy(&text));
    }
    let patch_cpu = (cpu_ms(agent.child.id()) - cpu0) / (runs * 4) as f64;
    let (p50, p99) = (percentile(&mut ms, 0.5), percentile(&mut ms, 0.99));
    line(
        &format!("one-entry PATCH at {entries} entries"),
        "<= 5 ms",
        Some(p50 <= 5.0),
        format!("p50 {p50:.2} ms, p99 {p99:.2} ms, agent CPU {patch_cpu:.1} ms/PATCH"),
    );

    // The GET with state after each such change: the configuration and a group's state
    // (`monitoring`) changed, so nothing the agent keeps between reads of unchanged state
    // serves it. The agent's CPU is per PATCH and GET.
    let mut ms = Vec::new();
    let cpu0 = cpu_ms(agent.child.id());
    for i in 0..runs {
        let g = i * 13 % entries;
        let path = format!("/restconf/data/ne-monitor-group:monitor-groups/monitor-group=mg{g}");
        let body = format!(
            "{{\"ne-monitor-group:monitor-group\":[{{\"name\":\"mg{g}\",\"enabled\":{}}}]}}",
            i % 2 == 1
        );
        let (status, text) = client.request(&mut send, "PATCH", &path, Some(body)).await;
        assert_eq!(status, 204, "{}", String::from_utf8_lossy(&text));
        let t = Instant::now();
        let (status, _) = client
            .request(
                &mut send,
                "GET",
                "/restconf/data/ne-monitor-group:monitor-groups",
                None,
            )
            .await;
        ms.push(t.elapsed().as_secs_f64() * 1e3);
        assert_eq!(status, 200);
    }
    let cpu = (cpu_ms(agent.child.id()) - cpu0) / runs as f64;
    let (p50, p99) = (percentile(&mut ms, 0.5), percentile(&mut ms, 0.99));
    line(
        &format!("GET {entries} with state, each after a PATCH"),
        "<= 20 ms",
        Some(p50 <= 20.0),
        format!("p50 {p50:.2} ms, p99 {p99:.2} ms, agent CPU {cpu:.1} ms/(PATCH+GET)"),
    );

    // Keep-alive GETs of one small resource, C clients for S seconds.
    let small = "/restconf/data/ne-monitor-group:monitor-groups/monitor-group=mg1?content=config";
    let count = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (client, count, stop) = (client.clone(), Arc::clone(&count), Arc::clone(&stop));
        tasks.push(tokio::spawn(async move {
            let mut send = client.connect().await;
            while !stop.load(Ordering::Relaxed) {
                let (status, _) = client.request(&mut send, "GET", small, None).await;
                assert_eq!(status, 200);
                count.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    let t = Instant::now();
    tokio::time::sleep(Duration::from_secs(seconds as u64)).await;
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        task.await.unwrap();
    }
    let rate = count.load(Ordering::Relaxed) as f64 / t.elapsed().as_secs_f64();
    line(
        &format!("keep-alive GETs/s, one small resource, {clients} clients"),
        ">= 2,000/s",
        Some(rate >= 2000.0),
        format!("{rate:.0}/s"),
    );

    let mut ms = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let mut send = client.connect().await;
        let (status, _) = client.request(&mut send, "GET", small, None).await;
        ms.push(t.elapsed().as_secs_f64() * 1e3);
        assert_eq!(status, 200);
    }
    let (p50, p99) = (percentile(&mut ms, 0.5), percentile(&mut ms, 0.99));
    line(
        "TCP connect + TLS handshake + first GET",
        "<= 10 ms",
        Some(p50 <= 10.0),
        format!("p50 {p50:.2} ms, p99 {p99:.2} ms"),
    );
}
