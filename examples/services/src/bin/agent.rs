//! The key generating agent: provisioning sessions from devices and per-service key requests
//! from registrars, over TLS on loopback, with durable state in SQLite.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};
use keyprov::digest::HashAlgorithm;
use keyprov_services::agent::{self, AgentConfig, AgentCore, AgentKeys};
use keyprov_services::store::Store;
use keyprov_services::tls::{DemoPki, Identity};
use keyprov_services::{export, inventory, loopback, seed};

/// keyprov key generating agent.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Log filter (tracing syntax).
    #[arg(long, global = true, default_value = "info")]
    log: String,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Serve devices and registrars until stopped.
    Serve(Serve),
    /// Write a new random master key seed to a new file (mode 0600).
    NewSeed {
        /// The seed file to create; an existing file is never overwritten.
        file: PathBuf,
    },
    /// Add the phones and users of an inventory CSV to the directory.
    Enroll {
        #[command(flatten)]
        state: State,
        /// Inventory CSV: extension,serial,mac,login,pin.
        inventory: PathBuf,
    },
    /// Revoke a key identifier.
    Revoke {
        #[command(flatten)]
        state: State,
        /// The key identifier (text form).
        key_id: String,
        /// Why, for the record.
        #[arg(long, default_value = "revoked by operator")]
        reason: String,
    },
    /// Start the next master key epoch: new keys are issued under it after the next start.
    NewEpoch {
        #[command(flatten)]
        state: State,
    },
    /// Retire an older master key epoch: its keys stop verifying after the next start.
    RetireEpoch {
        #[command(flatten)]
        state: State,
        /// The epoch.
        epoch: u32,
    },
    /// Export H(A1) of every current key for a realm as Kamailio db_text tables.
    ExportHa1(ExportHa1),
}

#[derive(Args, Debug)]
struct State {
    /// The SQLite database.
    #[arg(long)]
    database: PathBuf,
}

#[derive(Args, Debug)]
struct Keys {
    /// The master key seed file: hexadecimal, mode 0600 or stricter.
    #[arg(long)]
    seed: PathBuf,
    /// The enterprise identifier the master key is bound to.
    #[arg(long, default_value = "example.test")]
    enterprise: String,
    /// The agent identifier written into key identifiers.
    #[arg(long, default_value = "agent1")]
    agent_id: String,
}

#[derive(Args, Debug)]
struct Serve {
    #[command(flatten)]
    keys: Keys,
    /// The SQLite database; a throwaway file in a temporary folder when absent.
    #[arg(long)]
    database: Option<PathBuf>,
    /// Enroll this inventory CSV at start.
    #[arg(long)]
    inventory: Option<PathBuf>,
    /// Where devices connect.
    #[arg(long, default_value = "127.0.0.1:4433")]
    device_listen: SocketAddr,
    /// Where registrars connect (client certificate required).
    #[arg(long, default_value = "127.0.0.1:4434")]
    registrar_listen: SocketAddr,
    /// The agent's certificate chain (PEM).
    #[arg(long, required_unless_present = "generate_demo_pki")]
    cert: Option<PathBuf>,
    /// The agent's private key (PEM).
    #[arg(long, required_unless_present = "generate_demo_pki")]
    key: Option<PathBuf>,
    /// The CA registrar client certificates must chain to (PEM).
    #[arg(long, required_unless_present = "generate_demo_pki")]
    ca: Option<PathBuf>,
    /// Make a throwaway CA, agent certificate and registrar client certificates in DIR and use
    /// them.
    #[arg(long, value_name = "DIR")]
    generate_demo_pki: Option<PathBuf>,
    /// Registrar services (realms) to make demo client certificates for.
    #[arg(long, default_value = "sip.example.test")]
    demo_realm: Vec<String>,
    /// Lifetime of issued keys, in seconds.
    #[arg(long, default_value_t = 30 * 24 * 3600)]
    key_lifetime: u64,
}

#[derive(Args, Debug)]
struct ExportHa1 {
    #[command(flatten)]
    state: State,
    #[command(flatten)]
    keys: Keys,
    /// The realm (the registrar's service name).
    #[arg(long)]
    realm: String,
    /// The hash algorithm of H(A1).
    #[arg(long, value_enum, default_value = "sha-256")]
    algorithm: Hash,
    /// Write `version` and `subscriber` into this db_text folder; print `USERNAME HA1` lines
    /// when absent.
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Hash {
    #[value(name = "sha-256")]
    Sha256,
    #[value(name = "md5")]
    Md5,
}

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    keyprov_services::init_tracing(&cli.log);
    match cli.command {
        Command::Serve(serve) => run(serve).await,
        Command::NewSeed { file } => seed::write_new_seed(&file),
        Command::Enroll { state, inventory } => {
            let text = std::fs::read_to_string(&inventory)?;
            let phones = inventory::parse(&text).context("inventory")?;
            let count = Store::open(&state.database)?.enroll_all(&phones)?;
            println!("enrolled {count} phones");
            Ok(())
        }
        Command::Revoke {
            state,
            key_id,
            reason,
        } => {
            Store::open(&state.database)?.revoke(&key_id, &reason, keyprov_services::now())?;
            println!("revoked {key_id}");
            Ok(())
        }
        Command::NewEpoch { state } => {
            let epoch = Store::open(&state.database)?.new_epoch(keyprov_services::now())?;
            println!("epoch {epoch} started; restart the agent to issue under it");
            Ok(())
        }
        Command::RetireEpoch { state, epoch } => {
            Store::open(&state.database)?.retire_epoch(epoch, keyprov_services::now())?;
            println!("epoch {epoch} retired; restart the agent to apply");
            Ok(())
        }
        Command::ExportHa1(args) => export_ha1(args),
    }
}

async fn run(serve: Serve) -> Result<()> {
    let (identity, ca) = pki(&serve)?;
    let temp = tempfile::tempdir()?;
    let database = match &serve.database {
        Some(path) => path.clone(),
        None => {
            let path = temp.path().join("agent.sqlite");
            tracing::warn!(path = %path.display(), "no --database: state is thrown away on exit");
            path
        }
    };
    if let Some(path) = &serve.inventory {
        let phones = inventory::parse(&std::fs::read_to_string(path)?).context("inventory")?;
        Store::open(&database)?.enroll_all(&phones)?;
    }
    let running = agent::start(AgentConfig {
        device_listen: loopback(serve.device_listen)?,
        registrar_listen: loopback(serve.registrar_listen)?,
        identity,
        ca,
        database,
        seed: seed::read_seed(&serve.keys.seed)?,
        enterprise: serve.keys.enterprise,
        agent_id: serve.keys.agent_id,
        key_lifetime: serve.key_lifetime,
    })
    .await?;
    println!(
        "agent: devices on {}, registrars on {}",
        running.device_addr, running.registrar_addr
    );
    std::future::pending::<()>().await;
    Ok(())
}

fn pki(serve: &Serve) -> Result<(Identity, PathBuf)> {
    if let Some(dir) = &serve.generate_demo_pki {
        let realms: Vec<&str> = serve.demo_realm.iter().map(String::as_str).collect();
        let pki = DemoPki::generate(dir, &realms)?;
        println!(
            "demo pki in {}: ca.pem, agent.pem/.key, registrar-REALM.pem/.key",
            dir.display()
        );
        return Ok((pki.agent, pki.ca));
    }
    match (&serve.cert, &serve.key, &serve.ca) {
        (Some(cert), Some(key), Some(ca)) => Ok((
            Identity {
                cert: cert.clone(),
                key: key.clone(),
            },
            ca.clone(),
        )),
        _ => bail!("--cert, --key and --ca are required without --generate-demo-pki"),
    }
}

fn export_ha1(args: ExportHa1) -> Result<()> {
    let seed = seed::read_seed(&args.keys.seed)?;
    let keys = AgentKeys {
        seed: &seed,
        enterprise: &args.keys.enterprise,
        agent_id: &args.keys.agent_id,
        key_lifetime: 0,
    };
    let core = AgentCore::open_store(&args.state.database, &keys)?;
    let hash = match args.algorithm {
        Hash::Sha256 => HashAlgorithm::Sha256,
        Hash::Md5 => HashAlgorithm::Md5,
    };
    let rows = core.export_ha1(&args.realm, hash)?;
    match &args.out {
        Some(dir) => {
            export::write_dbtext(dir, &args.realm, &rows)?;
            println!("wrote {} subscribers to {}", rows.len(), dir.display());
        }
        None => {
            for (username, ha1) in &rows {
                println!(
                    "{username} {}",
                    String::from_utf8_lossy(ha1.expose_secret())
                );
            }
        }
    }
    Ok(())
}
