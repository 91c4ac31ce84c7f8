//! Provisions and registers a fleet of phones on loopback: agent, registrar and phones in one
//! process, a per-phase summary with timings, and a last line
//! `provisioned=N registered=N failed=N`.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Parser;
use keyprov_services::enterprise::{self, RunOptions};
use keyprov_services::inventory;
use keyprov_services::lab::LabOptions;
use keyprov_services::registrar;

/// Provision and register a fleet of phones on loopback.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Inventory CSV (extension,serial,mac,login,pin); the sample of 300 phones when absent.
    #[arg(long)]
    inventory: Option<PathBuf>,
    /// Use a synthetic inventory of this many phones instead.
    #[arg(long, conflicts_with = "inventory")]
    phones: Option<u32>,
    /// Phones working at once.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Let the registrar offer MD5 too, as for legacy phones.
    #[arg(long)]
    allow_md5: bool,
    /// Keep the PKI, seed, database and credentials in this directory instead of a temporary
    /// one.
    #[arg(long)]
    keep: Option<PathBuf>,
    /// Log filter (tracing syntax), e.g. `info` or `keyprov_services=debug`.
    #[arg(long, default_value = "warn")]
    log: String,
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    keyprov_services::init_tracing(&args.log);
    let text = match (&args.inventory, args.phones) {
        (Some(path), _) => {
            std::fs::read_to_string(path).with_context(|| format!("{}", path.display()))?
        }
        (None, Some(n)) => inventory::synthetic(n),
        (None, None) => inventory::SAMPLE.to_string(),
    };
    let phones = inventory::parse(&text).context("inventory")?;
    let temp = tempfile::tempdir()?;
    let dir = match &args.keep {
        Some(dir) => {
            std::fs::create_dir_all(dir)?;
            dir.clone()
        }
        None => temp.path().to_path_buf(),
    };
    let options = RunOptions {
        concurrency: args.concurrency,
        progress: std::io::stderr().is_terminal(),
        lab: LabOptions {
            digest_algorithms: if args.allow_md5 {
                registrar::SHA256_THEN_MD5.to_vec()
            } else {
                LabOptions::default().digest_algorithms
            },
            ..LabOptions::default()
        },
    };
    println!("keyprov enterprise on loopback: {} phones", phones.len());
    let summary = enterprise::run(&dir, &phones, &options).await?;
    println!("{summary}");
    if summary.failed > 0 {
        std::process::exit(1);
    }
    Ok(())
}
