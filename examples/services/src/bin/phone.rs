//! A phone: provisions over TLS from what DHCP would give it, keeps its credentials in a
//! private file, registers over SIP Digest and refreshes before expiry.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Parser, ValueEnum};
use keyprov_services::phone::{Phone, PhoneConfig, Transport};
use keyprov_services::{loopback, seed, tls};
use zeroize::Zeroizing;

/// keyprov phone.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Cli {
    /// The phone's own address, as DHCP gave it (loopback only).
    #[arg(long, default_value = "127.0.0.1")]
    address: IpAddr,
    /// The agent's device-facing address.
    #[arg(long, default_value = "127.0.0.1:4433")]
    agent: SocketAddr,
    /// The CA the agent's certificate chains to (PEM).
    #[arg(long)]
    ca: PathBuf,
    /// The agent's certificate (PEM): its SHA-256 is the trust anchor.
    #[arg(long, required_unless_present = "agent_anchor")]
    agent_cert: Option<PathBuf>,
    /// The trust anchor as 64 hexadecimal digits, instead of --agent-cert.
    #[arg(long)]
    agent_anchor: Option<String>,
    /// The phone's serial number (its device identifier).
    #[arg(long)]
    serial: String,
    /// The user's login, when the user has a PIN.
    #[arg(long, requires = "pin_file")]
    login: Option<String>,
    /// A file (mode 0600) holding the user's PIN; it is never taken from the command line.
    #[arg(long, requires = "login")]
    pin_file: Option<PathBuf>,
    /// Where the credentials are kept (mode 0600).
    #[arg(long)]
    credentials: PathBuf,
    /// The registrar's SIP address.
    #[arg(long, default_value = "127.0.0.1:5060")]
    registrar: SocketAddr,
    /// The SIP domain (the registrar's realm).
    #[arg(long, default_value = "sip.example.test")]
    realm: String,
    /// SIP transport.
    #[arg(long, value_enum, default_value = "udp")]
    transport: Wire,
    /// Register with keyprov's native registration at this address instead of SIP (needs
    /// --once).
    #[arg(long, requires = "once")]
    native: Option<SocketAddr>,
    /// Binding lifetime asked for, in seconds.
    #[arg(long, default_value_t = 600)]
    expires: u32,
    /// Register once and exit instead of staying registered.
    #[arg(long)]
    once: bool,
    /// Log filter (tracing syntax).
    #[arg(long, default_value = "info")]
    log: String,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Wire {
    Udp,
    Tcp,
}

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    keyprov_services::init_tracing(&cli.log);
    if !cli.address.is_loopback() {
        bail!(
            "{} is not a loopback address: the phone runs on loopback only",
            cli.address
        );
    }
    let agent_anchor = match (&cli.agent_anchor, &cli.agent_cert) {
        (Some(hex), _) => seed::decode_hex(hex)?
            .as_slice()
            .try_into()
            .context("trust anchor must be 32 bytes")?,
        (None, Some(cert)) => tls::trust_anchor(cert)?,
        (None, None) => bail!("--agent-cert or --agent-anchor is required"),
    };
    let pin = match &cli.pin_file {
        Some(path) => {
            seed::check_private(path)?;
            Some(Zeroizing::new(
                std::fs::read_to_string(path)?.trim().to_string(),
            ))
        }
        None => None,
    };
    let config = PhoneConfig {
        address: cli.address,
        agent: loopback(cli.agent)?,
        ca: cli.ca,
        agent_anchor,
        serial: cli.serial,
        login: cli.login,
        pin,
        credentials: cli.credentials,
        registrar: loopback(cli.registrar)?,
        realm: cli.realm,
        transport: match cli.transport {
            Wire::Udp => Transport::Udp,
            Wire::Tcp => Transport::Tcp,
        },
        expires: cli.expires,
        attempts: 10,
    };
    let mut phone = Phone::new(config)?;
    if let Some(native) = cli.native {
        if !phone.has_valid_key(keyprov_services::now()) {
            phone.provision().await?;
        }
        let not_after = phone.register_native(loopback(native)?).await?;
        println!(
            "registered {} natively until {not_after}",
            phone.key_id().unwrap_or_default()
        );
        return Ok(());
    }
    if cli.once {
        let registered = phone.ensure_registered().await?;
        let key_id = phone.key_id().unwrap_or_default();
        println!("registered {key_id} for {} s", registered.expires);
        return Ok(());
    }
    phone.run().await
}
