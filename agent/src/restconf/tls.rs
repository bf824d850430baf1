//! The server's TLS identity: a certificate and key given with `--tls-cert/--tls-key`, or a
//! self-signed one generated on first start into the data directory (like the SSH host keys)
//! and kept. rustls with the aws-lc-rs provider (already in the tree through russh).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use sha2::Digest;

/// Where the generated certificate and key are kept in the data directory.
pub const CERT_FILE: &str = "restconf_cert.pem";
pub const KEY_FILE: &str = "restconf_key.pem";

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{path}: {message}")]
    File { path: PathBuf, message: String },
    #[error("cannot generate the self-signed certificate: {0}")]
    Generate(String),
    #[error("TLS configuration: {0}")]
    Config(String),
}

fn file_err(path: &Path, e: impl std::fmt::Display) -> TlsError {
    TlsError::File {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// The certificate chain and key: the given files, or the kept (first generated) ones in `dir`.
pub fn identity(
    dir: &Path,
    given: Option<(&Path, &Path)>,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), TlsError> {
    let (cert, key) = match given {
        Some((c, k)) => (c.to_path_buf(), k.to_path_buf()),
        None => {
            let (c, k) = (dir.join(CERT_FILE), dir.join(KEY_FILE));
            if !c.exists() || !k.exists() {
                generate(&c, &k)?;
            }
            (c, k)
        }
    };
    let chain = CertificateDer::pem_file_iter(&cert)
        .map_err(|e| file_err(&cert, e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| file_err(&cert, e))?;
    if chain.is_empty() {
        return Err(file_err(&cert, "no certificate in the file"));
    }
    let key = PrivateKeyDer::from_pem_file(&key).map_err(|e| file_err(&key, e))?;
    Ok((chain, key))
}

/// A self-signed certificate for the names a client on this host uses (ECDSA P-256), for
/// serverAuth. It is its own trust anchor (`--cacert` for curl, `verify=` for requests, a root
/// for rustls); it is not a CA certificate, which webpki-based clients refuse as a server's.
fn generate(cert: &Path, key: &Path) -> Result<(), TlsError> {
    use rcgen::{CertificateParams, DnType, ExtendedKeyUsagePurpose, KeyPair, KeyUsagePurpose};
    let gen = |e: rcgen::Error| TlsError::Generate(e.to_string());
    let names = vec![
        "localhost".to_string(),
        "127.0.0.1".to_string(),
        "::1".to_string(),
    ];
    let mut params = CertificateParams::new(names).map_err(gen)?;
    params
        .distinguished_name
        .push(DnType::CommonName, "ne-agent RESTCONF");
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let signing_key = KeyPair::generate().map_err(gen)?;
    let made = params.self_signed(&signing_key).map_err(gen)?;
    crate::netconf::ssh::write_private(key, signing_key.serialize_pem().as_bytes())
        .map_err(|e| file_err(key, e))?;
    std::fs::write(cert, made.pem()).map_err(|e| file_err(cert, e))?;
    tracing::info!(path = %cert.display(), "generated a self-signed RESTCONF certificate");
    Ok(())
}

/// The SHA-256 fingerprint of a certificate, as `openssl x509 -fingerprint -sha256` prints it.
pub fn fingerprint(cert: &CertificateDer<'_>) -> String {
    sha2::Sha256::digest(cert.as_ref())
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// The rustls server configuration: TLS 1.2 and 1.3, ALPN h2 and http/1.1.
pub fn server_config(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| TlsError::Config(e.to_string()))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_once_then_kept() {
        let dir = std::env::temp_dir().join(format!("ne-rc-tls-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let (a, _) = identity(&dir, None).unwrap();
        let (b, key) = identity(&dir, None).unwrap();
        assert_eq!(fingerprint(&a[0]), fingerprint(&b[0]));
        assert_eq!(fingerprint(&a[0]).len(), 32 * 3 - 1);
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join(KEY_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0);
        // A rustls client that trusts it (as webpki checks it: no CA used as a server's) gets
        // through a handshake with the server configuration.
        let mut roots = rustls::RootCertStore::empty();
        roots.add(a[0].clone()).unwrap();
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let client = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
        let mut c = rustls::ClientConnection::new(Arc::new(client), name).unwrap();
        let mut s = rustls::ServerConnection::new(server_config(b, key).unwrap()).unwrap();
        let mut buf = Vec::new();
        for _ in 0..10 {
            buf.clear();
            while c.wants_write() {
                c.write_tls(&mut buf).unwrap();
            }
            s.read_tls(&mut buf.as_slice()).unwrap();
            s.process_new_packets().unwrap();
            buf.clear();
            while s.wants_write() {
                s.write_tls(&mut buf).unwrap();
            }
            c.read_tls(&mut buf.as_slice()).unwrap();
            c.process_new_packets()
                .expect("the client accepts the certificate");
        }
        assert!(!c.is_handshaking() && !s.is_handshaking());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
