//! TLS for the services: a throwaway demonstration PKI, certificates read from PEM files, and
//! the rustls configurations of each side (ring provider, TLS 1.3).
//!
//! Devices authenticate the agent by its certificate chaining to the trust anchor the device was
//! given. Registrars authenticate to the agent with client certificates; the DNS name in a
//! registrar's certificate is the service (realm) it may fetch keys for.

use std::fs;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, anyhow, bail};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::server::{ParsedCertificate, WebPkiClientVerifier};
use rustls::{ClientConfig, RootCertStore, ServerConfig};

/// The DNS name in the agent's demonstration certificate; devices and registrars expect it.
pub const AGENT_NAME: &str = "agent.keyprov.test";

/// Paths of one certificate and its private key.
#[derive(Clone, Debug)]
pub struct Identity {
    /// PEM certificate chain, leaf first.
    pub cert: PathBuf,
    /// PEM private key (PKCS#8), mode 0600.
    pub key: PathBuf,
}

/// The files of a demonstration PKI.
#[derive(Clone, Debug)]
pub struct DemoPki {
    /// The CA certificate: the trust anchor of devices, registrars and the agent.
    pub ca: PathBuf,
    /// The agent's server certificate, for [`AGENT_NAME`] and 127.0.0.1.
    pub agent: Identity,
    /// One client certificate per registrar service name.
    pub registrars: Vec<(String, Identity)>,
}

impl DemoPki {
    /// Makes a throwaway CA and certificates in `dir`: the agent's, and one client certificate
    /// for each registrar service name. The CA's private key is never written.
    pub fn generate(dir: &Path, services: &[&str]) -> Result<Self> {
        fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))?;
        let ca_key = KeyPair::generate()?;
        let ca_params = ca_params()?;
        let ca_cert = ca_params.self_signed(&ca_key)?;
        let issuer = Issuer::new(ca_params, ca_key);
        let ca = dir.join("ca.pem");
        fs::write(&ca, ca_cert.pem())?;

        let agent = leaf(dir, "agent", AGENT_NAME, true, &issuer)?;
        let registrars = services
            .iter()
            .map(|name| {
                let file = format!("registrar-{name}");
                Ok((name.to_string(), leaf(dir, &file, name, false, &issuer)?))
            })
            .collect::<Result<_>>()?;
        Ok(Self {
            ca,
            agent,
            registrars,
        })
    }

    /// The client identity of one registrar service.
    pub fn registrar(&self, service: &str) -> Option<&Identity> {
        self.registrars
            .iter()
            .find(|(name, _)| name == service)
            .map(|(_, id)| id)
    }
}

fn ca_params() -> Result<CertificateParams> {
    let mut params = CertificateParams::new(Vec::new())?;
    params
        .distinguished_name
        .push(DnType::CommonName, "keyprov demonstration CA");
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    Ok(params)
}

fn leaf(
    dir: &Path,
    file: &str,
    name: &str,
    server: bool,
    issuer: &Issuer<'_, KeyPair>,
) -> Result<Identity> {
    let mut names = vec![name.to_string()];
    if server {
        names.push("127.0.0.1".into());
    }
    let mut params = CertificateParams::new(names)?;
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![if server {
        ExtendedKeyUsagePurpose::ServerAuth
    } else {
        ExtendedKeyUsagePurpose::ClientAuth
    }];
    let key = KeyPair::generate()?;
    let cert = params.signed_by(&key, issuer)?;
    let identity = Identity {
        cert: dir.join(format!("{file}.pem")),
        key: dir.join(format!("{file}.key")),
    };
    fs::write(&identity.cert, cert.pem())?;
    write_private(&identity.key, key.serialize_pem().as_bytes())?;
    Ok(identity)
}

/// Writes a file that only its owner may read, replacing any file of that name.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    let _ = fs::remove_file(path);
    create_private(path, bytes)
}

/// Creates a new file that only its owner may read; an existing file is an error.
pub fn create_private(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("create {}", path.display()))?;
    file.write_all(bytes)?;
    Ok(())
}

/// Reads every certificate of a PEM file.
pub fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_file_iter(path)
        .with_context(|| format!("certificate file {}", path.display()))?
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("certificate file {}", path.display()))?;
    if certs.is_empty() {
        bail!("certificate file {} holds no certificate", path.display());
    }
    Ok(certs)
}

/// Reads the private key of a PEM file.
pub fn load_key(path: &Path) -> Result<PrivateKeyDer<'static>> {
    PrivateKeyDer::from_pem_file(path).with_context(|| format!("private key {}", path.display()))
}

fn roots(ca: &Path) -> Result<Arc<RootCertStore>> {
    let mut store = RootCertStore::empty();
    for cert in load_certs(ca)? {
        store.add(cert).context("trust anchor")?;
    }
    Ok(Arc::new(store))
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The agent's server side for devices: no client certificate.
pub fn device_facing_server(agent: &Identity) -> Result<Arc<ServerConfig>> {
    let config = ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .with_no_client_auth()
        .with_single_cert(load_certs(&agent.cert)?, load_key(&agent.key)?)?;
    Ok(Arc::new(config))
}

/// The agent's server side for registrars: a client certificate from `ca` is required.
pub fn registrar_facing_server(agent: &Identity, ca: &Path) -> Result<Arc<ServerConfig>> {
    let verifier = WebPkiClientVerifier::builder_with_provider(roots(ca)?, provider())
        .build()
        .map_err(|e| anyhow!("client verifier: {e}"))?;
    let config = ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .with_client_cert_verifier(verifier)
        .with_single_cert(load_certs(&agent.cert)?, load_key(&agent.key)?)?;
    Ok(Arc::new(config))
}

/// A client trusting `ca`, presenting `identity` when given.
pub fn client(ca: &Path, identity: Option<&Identity>) -> Result<Arc<ClientConfig>> {
    let builder = ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .with_root_certificates(roots(ca)?);
    let config = match identity {
        Some(id) => builder.with_client_auth_cert(load_certs(&id.cert)?, load_key(&id.key)?)?,
        None => builder.with_no_client_auth(),
    };
    Ok(Arc::new(config))
}

/// The name a client expects in the agent's certificate.
pub fn agent_server_name() -> ServerName<'static> {
    ServerName::try_from(AGENT_NAME).expect("constant dns name")
}

/// The 32-byte identity keyprov compares with a trust anchor: SHA-256 of the certificate's
/// DER encoding.
pub fn identity(cert: &CertificateDer<'_>) -> [u8; 32] {
    let digest = ring::digest::digest(&ring::digest::SHA256, cert.as_ref());
    digest.as_ref().try_into().expect("sha-256 is 32 bytes")
}

/// The trust anchor of the agent whose certificate is in `path` (its first certificate).
pub fn trust_anchor(path: &Path) -> Result<[u8; 32]> {
    Ok(identity(&load_certs(path)?[0]))
}

/// Whether an authenticated peer certificate names `service` (checked like a server name).
pub fn certificate_names(cert: &CertificateDer<'_>, service: &str) -> bool {
    let Ok(name) = ServerName::try_from(service) else {
        return false;
    };
    ParsedCertificate::try_from(cert)
        .and_then(|parsed| rustls::client::verify_server_name(&parsed, &name))
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_pki_certificates_load_and_name_their_service() {
        let dir = tempfile::tempdir().unwrap();
        let pki = DemoPki::generate(dir.path(), &["sip.example.test"]).unwrap();
        let id = pki.registrar("sip.example.test").unwrap();
        let cert = &load_certs(&id.cert).unwrap()[0];
        assert!(certificate_names(cert, "sip.example.test"));
        assert!(!certificate_names(cert, "other.example.test"));
        assert!(client(&pki.ca, Some(id)).is_ok());
        assert!(registrar_facing_server(&pki.agent, &pki.ca).is_ok());
        let agent_cert = &load_certs(&pki.agent.cert).unwrap()[0];
        assert!(certificate_names(agent_cert, AGENT_NAME));
    }
}
