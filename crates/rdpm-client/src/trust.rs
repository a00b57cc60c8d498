//! Which server certificates a client trusts over HTTPS: a pinned
//! fingerprint, the CAs of a file, or the bundled web roots; and what it
//! saw when it refused one, so that callers can show the fingerprint.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

/// Which certificates an HTTPS server may present.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub enum Trust {
    /// Certificates that chain to the bundled web roots (Mozilla's).
    #[default]
    WebRoots,
    /// Only the certificate with this fingerprint (`sha256:HEX`), whoever
    /// signed it; its handshake signature is still checked.
    Fingerprint(String),
    /// Certificates that chain to a CA of this PEM file.
    CaFile(PathBuf),
}

pub use rdpm_types::{
    certificate_fingerprint as fingerprint, parse_certificate_fingerprint as parse_fingerprint,
};

/// Why a server's certificate was refused, as the verifier saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The fingerprint of the certificate the server presented.
    pub presented: String,
    /// The pinned fingerprint it did not match, when one was pinned.
    pub expected: Option<String>,
    /// Why it was refused, in words.
    pub reason: String,
}

/// The last refusal of a client's verifier, shared with the client.
pub(crate) type RefusalSlot = Arc<Mutex<Option<Refusal>>>;

/// Checks the presented certificate the way [`Trust`] says and remembers
/// the last refusal.
#[derive(Debug)]
struct Verifier {
    provider: Arc<CryptoProvider>,
    pinned: Option<String>,
    /// Chain checks for the CA and web-root kinds of trust.
    webpki: Option<Arc<WebPkiServerVerifier>>,
    refused: RefusalSlot,
}

impl Verifier {
    fn refuse(&self, refusal: Refusal) -> rustls::Error {
        let message = refusal.reason.clone();
        *self.refused.lock().unwrap_or_else(|p| p.into_inner()) = Some(refusal);
        rustls::Error::General(message)
    }
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let presented = fingerprint(end_entity);
        if let Some(pinned) = &self.pinned {
            if *pinned == presented {
                return Ok(ServerCertVerified::assertion());
            }
            return Err(self.refuse(Refusal {
                reason: format!(
                    "the server presented the certificate {presented}, not the pinned {pinned}"
                ),
                presented,
                expected: Some(pinned.clone()),
            }));
        }
        let Some(webpki) = &self.webpki else {
            return Err(self.refuse(Refusal {
                reason: "no certificate is trusted".into(),
                presented,
                expected: None,
            }));
        };
        webpki
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
            .map_err(|e| {
                self.refuse(Refusal {
                    reason: format!("the server's certificate {presented} is not trusted ({e})"),
                    presented,
                    expected: None,
                })
            })
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
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
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// The CAs of a PEM file, whose bytes are `pem`.
fn read_roots(path: &Path, pem: &[u8]) -> Result<rustls::RootCertStore, String> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("cannot read the CA file {}: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!(
            "the CA file {} holds no PEM certificate",
            path.display()
        ));
    }
    let mut roots = rustls::RootCertStore::empty();
    for cert in certs {
        roots.add(cert).map_err(|e| {
            format!(
                "the CA file {} holds a certificate that cannot be a CA: {e}",
                path.display()
            )
        })?;
    }
    Ok(roots)
}

/// What the clients of one server that trust the same certificates share
/// in this process: the rustls configuration, whose verifier and session
/// store let a new client resume a TLS session an earlier one made (rustls
/// resumes only under the verifier that checked the certificate, so a
/// client that trusts other certificates never resumes it), and the slot
/// where that verifier leaves refusals.
#[derive(Clone)]
struct Shared {
    config: rustls::ClientConfig,
    refused: RefusalSlot,
}

/// Which clients share a [`Shared`]: the server, the trust and, for a CA
/// file, the file's bytes when the client was made (a changed file makes
/// a new verifier).
#[derive(PartialEq, Eq, Hash)]
struct SharedKey {
    base_url: String,
    trust: Trust,
    ca_pem: Option<Vec<u8>>,
}

/// Servers and trusts remembered at most; more start the table afresh
/// (a shell talks to a few servers).
const MAX_SHARED: usize = 64;
/// Longest CA file read, in bytes.
const MAX_CA_FILE_BYTES: u64 = 4 << 20;

static SHARED: LazyLock<Mutex<HashMap<SharedKey, Shared>>> = LazyLock::new(Mutex::default);

/// The rustls client configuration for a client of `base_url` that trusts
/// `trust`, and the slot where its verifier leaves refusals: the ones an
/// earlier client of the same server and trust made in this process, so
/// that a new connection resumes a TLS session instead of a full
/// handshake, as a shell that connects again does.
pub(crate) fn client_config(
    base_url: &str,
    trust: &Trust,
) -> Result<(rustls::ClientConfig, RefusalSlot), String> {
    let ca_pem = match trust {
        Trust::CaFile(path) => Some(read_ca_file(path)?),
        _ => None,
    };
    let key = SharedKey {
        base_url: base_url.to_string(),
        trust: trust.clone(),
        ca_pem,
    };
    let mut shared = SHARED.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(found) = shared.get(&key) {
        return Ok((found.config.clone(), Arc::clone(&found.refused)));
    }
    let (config, refused) = new_client_config(trust, key.ca_pem.as_deref())?;
    if shared.len() >= MAX_SHARED {
        shared.clear();
    }
    shared.insert(
        key,
        Shared {
            config: config.clone(),
            refused: Arc::clone(&refused),
        },
    );
    Ok((config, refused))
}

fn read_ca_file(path: &Path) -> Result<Vec<u8>, String> {
    use std::io::Read as _;
    let mut pem = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_CA_FILE_BYTES + 1).read_to_end(&mut pem))
        .map_err(|e| format!("cannot read the CA file {}: {e}", path.display()))?;
    if pem.len() as u64 > MAX_CA_FILE_BYTES {
        return Err(format!(
            "the CA file {} is larger than {} MiB",
            path.display(),
            MAX_CA_FILE_BYTES >> 20
        ));
    }
    Ok(pem)
}

/// A new rustls client configuration for `trust` (`ca_pem`: the CA file's
/// bytes), and the slot where its verifier leaves refusals.
fn new_client_config(
    trust: &Trust,
    ca_pem: Option<&[u8]>,
) -> Result<(rustls::ClientConfig, RefusalSlot), String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let (pinned, roots) = match trust {
        Trust::Fingerprint(text) => {
            let pinned = parse_fingerprint(text).ok_or_else(|| {
                format!("'{text}' is not a certificate fingerprint such as sha256:9f86d0…(64 hex digits)")
            })?;
            (Some(pinned), None)
        }
        Trust::CaFile(path) => (None, Some(read_roots(path, ca_pem.unwrap_or_default())?)),
        Trust::WebRoots => {
            let mut roots = rustls::RootCertStore::empty();
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            (None, Some(roots))
        }
    };
    let webpki = roots
        .map(|roots| {
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), Arc::clone(&provider))
                .build()
                .map_err(|e| format!("cannot use these CAs: {e}"))
        })
        .transpose()?;
    let refused: RefusalSlot = Arc::default();
    let verifier = Verifier {
        provider: Arc::clone(&provider),
        pinned,
        webpki,
        refused: Arc::clone(&refused),
    };
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("cannot configure TLS: {e}"))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    Ok((config, refused))
}

/// The TLS of a client's WebSocket (the agent channel): the same trust as
/// [`crate::Client::with_trust`], over HTTP/1.1 only (a WebSocket upgrade
/// is an HTTP/1.1 request), and the verifier's last refusal.
#[derive(Debug, Clone)]
pub struct WebSocketTls {
    /// The configuration for `tokio_rustls`.
    pub config: Arc<rustls::ClientConfig>,
    refused: RefusalSlot,
}

impl WebSocketTls {
    /// The configuration for a server whose certificate `trust` names.
    pub fn new(trust: &Trust) -> Result<WebSocketTls, String> {
        let ca_pem = match trust {
            Trust::CaFile(path) => Some(read_ca_file(path)?),
            _ => None,
        };
        let (mut config, refused) = new_client_config(trust, ca_pem.as_deref())?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(WebSocketTls {
            config: Arc::new(config),
            refused,
        })
    }

    /// Why the verifier last refused the server's certificate, once.
    pub fn take_refusal(&self) -> Option<Refusal> {
        self.refused
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
    }
}
