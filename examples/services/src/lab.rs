//! An agent and a registrar on loopback with a throwaway PKI, seed and database: what the
//! `enterprise` program and the integration tests run phones against.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use keyprov::digest::Algorithm;
use rustls::ClientConfig;
use zeroize::Zeroizing;

use crate::agent::{self, AgentConfig, RunningAgent};
use crate::inventory;
use crate::phone::{PhoneConfig, Transport};
use crate::registrar::{self, RegistrarConfig, RunningRegistrar};
use crate::store::Store;
use crate::tls::{self, DemoPki};

/// The realm (service) of the lab's registrar.
pub const REALM: &str = "sip.example.test";
/// The enterprise identifier the lab's master key is bound to.
pub const ENTERPRISE: &str = "example.test";
/// The lab agent's identifier.
pub const AGENT_ID: &str = "agent1";

/// What can be tuned in a lab.
#[derive(Clone, Debug)]
pub struct LabOptions {
    /// Lifetime of issued keys, in seconds.
    pub key_lifetime: u64,
    /// Seconds the registrar caches a key.
    pub key_cache_seconds: u64,
    /// The Digest algorithms the registrar offers, most preferred first.
    pub digest_algorithms: Vec<Algorithm>,
    /// Shortest binding the registrar accepts.
    pub min_expires: u32,
}

impl Default for LabOptions {
    fn default() -> Self {
        Self {
            key_lifetime: 30 * 24 * 3600,
            key_cache_seconds: 60,
            digest_algorithms: vec![Algorithm::SHA256],
            min_expires: 60,
        }
    }
}

/// A running agent and registrar sharing one directory of files.
pub struct Lab {
    /// The directory holding PKI, seed, database and phone credentials.
    pub dir: PathBuf,
    /// The demonstration PKI.
    pub pki: DemoPki,
    /// The agent, while running.
    pub agent: Option<RunningAgent>,
    /// The registrar, while running.
    pub registrar: Option<RunningRegistrar>,
    options: LabOptions,
    seed: PathBuf,
    database: PathBuf,
    device_addr: SocketAddr,
    registrar_facing: SocketAddr,
    sip_addr: SocketAddr,
    native_addr: SocketAddr,
    phone_tls: Arc<ClientConfig>,
    agent_anchor: [u8; 32],
}

impl Lab {
    /// Makes the PKI, seed and database in `dir`, enrolls `phones`, and starts both services on
    /// free loopback ports.
    pub async fn start(
        dir: &Path,
        phones: &[inventory::Phone],
        options: LabOptions,
    ) -> Result<Self> {
        let pki = DemoPki::generate(&dir.join("pki"), &[REALM])?;
        let seed = dir.join("master.seed");
        crate::seed::write_new_seed(&seed)?;
        let database = dir.join("agent.sqlite");
        Store::open(&database)?.enroll_all(phones)?;
        let phone_tls = tls::client(&pki.ca, None)?;
        let agent_anchor = tls::trust_anchor(&pki.agent.cert)?;
        let any = SocketAddr::from(([127, 0, 0, 1], 0));
        let mut lab = Self {
            dir: dir.to_path_buf(),
            pki,
            agent: None,
            registrar: None,
            options,
            seed,
            database,
            device_addr: any,
            registrar_facing: any,
            sip_addr: any,
            native_addr: any,
            phone_tls,
            agent_anchor,
        };
        lab.start_agent().await?;
        lab.start_registrar().await?;
        Ok(lab)
    }

    /// Starts the agent (again), on the ports it had before.
    pub async fn start_agent(&mut self) -> Result<()> {
        let agent = agent::start(AgentConfig {
            device_listen: self.device_addr,
            registrar_listen: self.registrar_facing,
            identity: self.pki.agent.clone(),
            ca: self.pki.ca.clone(),
            database: self.database.clone(),
            seed: crate::seed::read_seed(&self.seed)?,
            enterprise: ENTERPRISE.into(),
            agent_id: AGENT_ID.into(),
            key_lifetime: self.options.key_lifetime,
        })
        .await?;
        self.device_addr = agent.device_addr;
        self.registrar_facing = agent.registrar_addr;
        self.agent = Some(agent);
        Ok(())
    }

    /// Starts the registrar (again), on the port it had before.
    pub async fn start_registrar(&mut self) -> Result<()> {
        let identity = self
            .pki
            .registrar(REALM)
            .context("registrar identity")?
            .clone();
        let mut config =
            RegistrarConfig::new(REALM, self.registrar_facing, self.pki.ca.clone(), identity);
        config.sip_listen = self.sip_addr;
        config.native_listen = Some(self.native_addr);
        config.digest_algorithms = self.options.digest_algorithms.clone();
        config.key_cache_seconds = self.options.key_cache_seconds;
        config.min_expires = self.options.min_expires;
        let registrar = registrar::start(config).await?;
        self.sip_addr = registrar.sip_addr;
        self.native_addr = registrar.native_addr.unwrap_or(self.native_addr);
        self.registrar = Some(registrar);
        Ok(())
    }

    /// Stops the agent as a crash would.
    pub async fn stop_agent(&mut self) {
        if let Some(agent) = self.agent.take() {
            agent.stop().await;
        }
    }

    /// Stops the registrar as a crash would.
    pub async fn stop_registrar(&mut self) {
        if let Some(registrar) = self.registrar.take() {
            registrar.stop().await;
        }
    }

    /// The registrar's SIP address.
    pub fn sip_addr(&self) -> SocketAddr {
        self.sip_addr
    }

    /// The registrar's native registration address (UDP).
    pub fn native_addr(&self) -> SocketAddr {
        self.native_addr
    }

    /// The agent's database (read it only while the agent is stopped, or for counts).
    pub fn database(&self) -> &Path {
        &self.database
    }

    /// What a phone of the inventory is given to start with.
    pub fn phone_config(&self, phone: &inventory::Phone, transport: Transport) -> PhoneConfig {
        PhoneConfig {
            address: std::net::Ipv4Addr::LOCALHOST.into(),
            agent: self.device_addr,
            ca: self.pki.ca.clone(),
            agent_anchor: self.agent_anchor,
            serial: phone.serial.clone(),
            login: phone.pin.as_ref().map(|_| phone.login.clone()),
            pin: phone.pin.clone().map(Zeroizing::new),
            credentials: self.dir.join(format!("phone-{}.cred", phone.serial)),
            registrar: self.sip_addr,
            realm: REALM.into(),
            transport,
            expires: 600,
            attempts: 20,
        }
    }

    /// The TLS configuration every phone of the lab shares.
    pub fn phone_tls(&self) -> Arc<ClientConfig> {
        self.phone_tls.clone()
    }
}
