//! The SIP registrar: REGISTER over UDP and TCP on loopback, Digest with keys fetched from the
//! agent over mutual TLS.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Result;
use clap::Parser;
use keyprov_services::loopback;
use keyprov_services::registrar::{self, RegistrarConfig};
use keyprov_services::tls::Identity;

/// keyprov SIP registrar.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Cli {
    /// Where SIP is served (UDP and TCP).
    #[arg(long, default_value = "127.0.0.1:5060")]
    listen: SocketAddr,
    /// Where keyprov's native registration is served (UDP); not served when absent.
    #[arg(long)]
    native_listen: Option<SocketAddr>,
    /// The realm; the registrar's client certificate must name it.
    #[arg(long, default_value = "sip.example.test")]
    realm: String,
    /// The agent's registrar-facing address.
    #[arg(long, default_value = "127.0.0.1:4434")]
    agent: SocketAddr,
    /// The CA the agent's certificate chains to (PEM).
    #[arg(long)]
    ca: PathBuf,
    /// The registrar's client certificate (PEM).
    #[arg(long)]
    cert: PathBuf,
    /// The registrar's private key (PEM).
    #[arg(long)]
    key: PathBuf,
    /// Digest algorithms offered, most preferred first, comma-separated (md5, sha-256,
    /// sha-512-256, each also with -sess): one challenge each, in this order.
    #[arg(long, default_value = "sha-256", conflicts_with = "allow_md5")]
    digest_algorithms: String,
    /// Offer MD5 after SHA-256, for legacy phones: short for `--digest-algorithms sha-256,md5`.
    #[arg(long)]
    allow_md5: bool,
    /// Seconds a fetched key is used before the agent is asked again.
    #[arg(long, default_value_t = 60)]
    key_cache_seconds: u64,
    /// Shortest binding accepted, in seconds.
    #[arg(long, default_value_t = 60)]
    min_expires: u32,
    /// Longest binding granted, in seconds.
    #[arg(long, default_value_t = 3600)]
    max_expires: u32,
    /// Log filter (tracing syntax).
    #[arg(long, default_value = "info")]
    log: String,
}

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    let digest_algorithms = if cli.allow_md5 {
        registrar::SHA256_THEN_MD5.to_vec()
    } else {
        registrar::parse_digest_algorithms(&cli.digest_algorithms)?
    };
    keyprov_services::init_tracing(&cli.log);
    let identity = Identity {
        cert: cli.cert,
        key: cli.key,
    };
    let mut config = RegistrarConfig::new(&cli.realm, loopback(cli.agent)?, cli.ca, identity);
    config.sip_listen = loopback(cli.listen)?;
    config.native_listen = cli.native_listen.map(loopback).transpose()?;
    config.digest_algorithms = digest_algorithms;
    config.key_cache_seconds = cli.key_cache_seconds;
    config.min_expires = cli.min_expires;
    config.max_expires = cli.max_expires;
    let running = registrar::start(config).await?;
    println!("registrar: sip on udp and tcp {}", running.sip_addr);
    if let Some(native) = running.native_addr {
        println!("registrar: native keyprov registration on udp {native}");
    }
    std::future::pending::<()>().await;
    Ok(())
}
