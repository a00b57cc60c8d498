//! HTTPS: the server's certificate (a self-signed one it makes for itself
//! in its data directory, or an operator's files, reloaded on request) and
//! the rustls configuration of the connection loop.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use rustls::crypto::CryptoProvider;
use rustls::server::{ClientHello, NoServerSessionStorage, ProducesTickets, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::error::ServerError;

/// The self-signed certificate's file in the data directory (PEM).
pub const TLS_CERT_FILE: &str = "tls.crt";
/// The self-signed certificate's private key in the data directory (PEM,
/// mode 0600).
pub const TLS_KEY_FILE: &str = "tls.key";

/// Whether and how the server serves HTTPS.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum TlsConfig {
    /// Plain HTTP: loopback addresses only.
    #[default]
    Off,
    /// HTTPS with a self-signed certificate the server makes on its first
    /// start and keeps in its data directory ([`TLS_CERT_FILE`],
    /// [`TLS_KEY_FILE`]).
    SelfSigned,
    /// HTTPS with an operator's certificate chain and key (PEM files),
    /// read again by [`RunningServer::reload_certificate`](crate::RunningServer::reload_certificate).
    Files {
        /// The certificate chain, end-entity certificate first.
        cert: PathBuf,
        /// Its private key (PKCS#8, PKCS#1 or SEC1).
        key: PathBuf,
    },
}

impl TlsConfig {
    /// Whether the server serves HTTPS.
    pub fn is_on(&self) -> bool {
        !matches!(self, TlsConfig::Off)
    }
}

pub use rdpm_types::certificate_fingerprint as fingerprint;

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn tls_error(what: String) -> ServerError {
    ServerError::Tls(what)
}

/// The certificate the server presents, swapped whole on a reload so that
/// handshakes in flight and open connections keep the one they started
/// with; and the session tickets, whose key a reload replaces too.
#[derive(Debug)]
pub(crate) struct CertResolver {
    current: RwLock<Arc<CertifiedKey>>,
    source: TlsConfig,
    tickets: Arc<Tickets>,
}

/// TLS session tickets: a client that made a full handshake gets tickets
/// to resume the session on its next connections, which spares both sides
/// the certificate, its signature and its checks. They are stateless (the
/// server keeps nothing per client: the ticket holds the session, sealed
/// under a key that lives in memory only and rotates every 6 hours), and a
/// certificate reload makes a new key: no ticket issued under the old
/// certificate resumes, so every client makes a full handshake, sees the
/// new certificate and checks it.
#[derive(Debug)]
struct Tickets {
    current: RwLock<Arc<dyn ProducesTickets>>,
}

impl Tickets {
    fn new() -> Result<Tickets, ServerError> {
        Ok(Tickets {
            current: RwLock::new(new_ticketer()?),
        })
    }

    fn ticketer(&self) -> Arc<dyn ProducesTickets> {
        Arc::clone(&self.current.read().unwrap_or_else(|p| p.into_inner()))
    }

    /// Forgets every ticket issued so far.
    fn renew(&self) -> Result<(), ServerError> {
        let fresh = new_ticketer()?;
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = fresh;
        Ok(())
    }
}

fn new_ticketer() -> Result<Arc<dyn ProducesTickets>, ServerError> {
    rustls::crypto::ring::Ticketer::new()
        .map_err(|e| tls_error(format!("cannot make a session ticket key: {e}")))
}

impl ProducesTickets for Tickets {
    fn enabled(&self) -> bool {
        true
    }

    fn lifetime(&self) -> u32 {
        self.ticketer().lifetime()
    }

    fn encrypt(&self, plain: &[u8]) -> Option<Vec<u8>> {
        self.ticketer().encrypt(plain)
    }

    fn decrypt(&self, cipher: &[u8]) -> Option<Vec<u8>> {
        self.ticketer().decrypt(cipher)
    }
}

impl ResolvesServerCert for CertResolver {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(Arc::clone(
            &self.current.read().unwrap_or_else(|p| p.into_inner()),
        ))
    }
}

impl CertResolver {
    /// Loads (or, self-signed, makes) the certificate `tls` names.
    pub(crate) fn load(
        tls: &TlsConfig,
        data_dir: &Path,
        name: &str,
        listen: SocketAddr,
    ) -> Result<CertResolver, ServerError> {
        let key = match tls {
            TlsConfig::Off => {
                return Err(tls_error("TLS is off; there is no certificate".into()));
            }
            TlsConfig::SelfSigned => self_signed(data_dir, name, listen)?,
            TlsConfig::Files { cert, key } => read_pair(cert, key)?,
        };
        Ok(CertResolver {
            current: RwLock::new(Arc::new(key)),
            source: tls.clone(),
            tickets: Arc::new(Tickets::new()?),
        })
    }

    /// The fingerprint of the certificate presented now.
    pub(crate) fn fingerprint(&self) -> String {
        let current = self.current.read().unwrap_or_else(|p| p.into_inner());
        current
            .end_entity_cert()
            .map(|c| fingerprint(c))
            .unwrap_or_default()
    }

    /// Reads the operator's files again and presents them from the next
    /// handshake on; a file that cannot be read or does not match leaves
    /// the current certificate in place. Session tickets issued before
    /// no longer resume, so that no client reconnects without seeing the
    /// new certificate. Returns the new fingerprint.
    pub(crate) fn reload(&self) -> Result<String, ServerError> {
        let TlsConfig::Files { cert, key } = &self.source else {
            return Ok(self.fingerprint());
        };
        let loaded = Arc::new(read_pair(cert, key)?);
        let mut current = self.current.write().unwrap_or_else(|p| p.into_inner());
        self.tickets.renew()?;
        *current = loaded;
        drop(current);
        Ok(self.fingerprint())
    }

    /// The rustls server configuration over this resolver: HTTP/2 and
    /// HTTP/1.1 offered by ALPN, sessions resumed with the stateless
    /// [`Tickets`] only (no session cache, whose entries a reload would
    /// not reach).
    pub(crate) fn server_config(
        self: &Arc<Self>,
    ) -> Result<Arc<rustls::ServerConfig>, ServerError> {
        let mut config = rustls::ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| tls_error(format!("cannot configure TLS: {e}")))?
            .with_no_client_auth()
            .with_cert_resolver(Arc::clone(self) as Arc<dyn ResolvesServerCert>);
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        config.ticketer = Arc::clone(&self.tickets) as Arc<dyn ProducesTickets>;
        config.session_storage = Arc::new(NoServerSessionStorage {});
        // One ticket per connection: a client uses each once, for its next
        // connection, which brings it the next one.
        config.send_tls13_tickets = 1;
        Ok(Arc::new(config))
    }
}

/// An operator's certificate chain and key, checked to belong together.
fn read_pair(cert: &Path, key: &Path) -> Result<CertifiedKey, ServerError> {
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| {
            tls_error(format!(
                "cannot read the certificate file {}: {e}",
                cert.display()
            ))
        })?;
    if chain.is_empty() {
        return Err(tls_error(format!(
            "the certificate file {} holds no PEM certificate",
            cert.display()
        )));
    }
    let private = PrivateKeyDer::from_pem_file(key).map_err(|e| {
        tls_error(format!(
            "cannot read a PEM private key from {}: {e}",
            key.display()
        ))
    })?;
    CertifiedKey::from_der(chain, private, &provider()).map_err(|e| {
        tls_error(format!(
            "the key {} does not fit the certificate {}: {e}",
            key.display(),
            cert.display()
        ))
    })
}

/// The names a self-signed certificate is made for: the server's name,
/// `localhost`, the loopback addresses and the listen address when it is a
/// specific one.
fn self_signed_names(name: &str, listen: SocketAddr) -> Vec<String> {
    let mut names = vec![
        name.to_string(),
        "localhost".to_string(),
        "127.0.0.1".to_string(),
        "::1".to_string(),
    ];
    if !listen.ip().is_unspecified() {
        names.push(listen.ip().to_string());
    }
    names.sort();
    names.dedup();
    names
}

/// The data directory's self-signed certificate, made on the first start.
fn self_signed(
    data_dir: &Path,
    name: &str,
    listen: SocketAddr,
) -> Result<CertifiedKey, ServerError> {
    let cert_path = data_dir.join(TLS_CERT_FILE);
    let key_path = data_dir.join(TLS_KEY_FILE);
    if !cert_path.exists() && !key_path.exists() {
        let made = rcgen::generate_simple_self_signed(self_signed_names(name, listen))
            .map_err(|e| tls_error(format!("cannot make a self-signed certificate: {e}")))?;
        write_private(&key_path, made.signing_key.serialize_pem().as_bytes())?;
        write_private(&cert_path, made.cert.pem().as_bytes())?;
        tracing::info!(
            cert = %cert_path.display(),
            fingerprint = %fingerprint(made.cert.der()),
            "made a self-signed certificate"
        );
    }
    read_pair(&cert_path, &key_path)
}

/// Writes a new file readable by its owner only.
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), ServerError> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)?;
        f.write_all(bytes)?;
        f.sync_all()
    };
    write().map_err(|e| tls_error(format!("cannot write {}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn self_signed_is_made_once_with_a_private_key() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let listen: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let first = CertResolver::load(&TlsConfig::SelfSigned, dir.path(), "DPM1", listen).unwrap();
        let mode = std::fs::metadata(dir.path().join(TLS_KEY_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let again = CertResolver::load(&TlsConfig::SelfSigned, dir.path(), "DPM1", listen).unwrap();
        assert_eq!(first.fingerprint(), again.fingerprint());
    }
}
