//! One enterprise on loopback: an agent, a registrar and a fleet of phones from an inventory,
//! each phone provisioned and then registered, with a summary of every phase.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;
use indicatif::{ProgressBar, ProgressStyle};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tracing::warn;

use crate::chain;
use crate::inventory::Phone as Entry;
use crate::lab::{Lab, LabOptions};
use crate::phone::{Phone, Transport};

/// One phase of a run.
#[derive(Clone, Debug)]
pub struct PhaseReport {
    /// Its name.
    pub name: &'static str,
    /// Items that succeeded.
    pub ok: usize,
    /// Items that failed.
    pub failed: usize,
    /// Wall time.
    pub elapsed: Duration,
    /// What it did, in a few words.
    pub note: String,
}

impl fmt::Display for PhaseReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let total = self.ok + self.failed;
        let ms = self.elapsed.as_secs_f64() * 1000.0;
        let rate = if self.elapsed.as_secs_f64() > 0.0 && total > 0 {
            format!("{:>7.0}/s", total as f64 / self.elapsed.as_secs_f64())
        } else {
            format!("{:>9}", "")
        };
        write!(
            f,
            "{:<10} {:>5}/{:<5} ok {:>9.1} ms {rate}  {}",
            self.name, self.ok, total, ms, self.note
        )
    }
}

/// The outcome of a run.
#[derive(Clone, Debug)]
pub struct Summary {
    /// Every phase in order.
    pub phases: Vec<PhaseReport>,
    /// Phones provisioned.
    pub provisioned: usize,
    /// Phones registered.
    pub registered: usize,
    /// Phones that failed in any phase.
    pub failed: usize,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for phase in &self.phases {
            writeln!(f, "{phase}")?;
        }
        let total: Duration = self.phases.iter().map(|p| p.elapsed).sum();
        writeln!(
            f,
            "{:<10} {:>11} {:>12.1} ms",
            "total",
            "",
            total.as_secs_f64() * 1000.0
        )?;
        write!(
            f,
            "provisioned={} registered={} failed={}",
            self.provisioned, self.registered, self.failed
        )
    }
}

/// How a run goes.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Phones working at once.
    pub concurrency: usize,
    /// Show progress bars on stderr.
    pub progress: bool,
    /// Service settings.
    pub lab: LabOptions,
}

/// Provisions and registers every phone of `inventory` against a fresh lab in `dir`.
pub async fn run(
    dir: &std::path::Path,
    inventory: &[Entry],
    options: &RunOptions,
) -> Result<Summary> {
    let started = Instant::now();
    let lab = Lab::start(dir, inventory, options.lab.clone()).await?;
    let setup = PhaseReport {
        name: "setup",
        ok: inventory.len(),
        failed: 0,
        elapsed: started.elapsed(),
        note: "demo CA, seed, SQLite, agent and registrar up".into(),
    };
    let with_pin = inventory.iter().filter(|p| p.pin.is_some()).count();
    let phones = build_phones(&lab, inventory)?;

    let (phones, provision) = phase("provision", phones, options, |mut phone| async move {
        let result = phone.provision().await;
        (phone, result.map(|_| ()))
    })
    .await;
    let provision = PhaseReport {
        note: format!("TLS 1.3 to the agent, {with_pin} with a PIN proof"),
        ..provision
    };
    let (phones, register) = phase("register", phones, options, |mut phone| async move {
        let result = phone.register().await;
        (phone, result.map(|_| ()))
    })
    .await;
    let native_addr = lab.native_addr();
    let (_, native) = phase("native", phones, options, move |mut phone| async move {
        let result = phone.register_native(native_addr).await;
        (phone, result.map(|_| ()))
    })
    .await;
    let registrar = lab.registrar.as_ref().expect("registrar running");
    let udp = inventory.len().div_ceil(2);
    let register = PhaseReport {
        note: format!(
            "Digest SHA-256, {udp} UDP/{} TCP, {} key fetches",
            inventory.len() - udp,
            registrar.keys_fetched()
        ),
        ..register
    };
    let native = PhaseReport {
        note: format!("challenge-response over UDP, {with_pin} PIN-signed"),
        ..native
    };
    let registered = registrar.registered();
    let failed = provision.failed + register.failed + native.failed;
    Ok(Summary {
        provisioned: provision.ok,
        registered,
        failed,
        phases: vec![setup, provision, register, native],
    })
}

fn build_phones(lab: &Lab, inventory: &[Entry]) -> Result<Vec<Phone>> {
    inventory
        .iter()
        .enumerate()
        .map(|(i, entry)| {
            let transport = if i % 2 == 0 {
                Transport::Udp
            } else {
                Transport::Tcp
            };
            Phone::with_tls(lab.phone_config(entry, transport), lab.phone_tls())
        })
        .collect()
}

/// Runs `step` on every phone, `concurrency` at a time; phones that fail drop out.
async fn phase<F, Fut>(
    name: &'static str,
    phones: Vec<Phone>,
    options: &RunOptions,
    step: F,
) -> (Vec<Phone>, PhaseReport)
where
    F: Fn(Phone) -> Fut,
    Fut: std::future::Future<Output = (Phone, Result<()>)> + Send + 'static,
{
    let started = Instant::now();
    let bar = progress_bar(name, phones.len(), options.progress);
    let limit = Arc::new(Semaphore::new(options.concurrency.max(1)));
    let mut tasks = JoinSet::new();
    for phone in phones {
        let work = step(phone);
        let limit = limit.clone();
        tasks.spawn(async move {
            let _permit = limit.acquire_owned().await;
            work.await
        });
    }
    let (mut done, mut failed) = (Vec::new(), 0);
    while let Some(joined) = tasks.join_next().await {
        bar.inc(1);
        match joined {
            Ok((phone, Ok(()))) => done.push(phone),
            Ok((phone, Err(e))) => {
                failed += 1;
                let key_id = phone.key_id();
                warn!(phase = name, key_id = ?key_id, error = %chain(&e), "phone failed");
            }
            Err(e) => {
                failed += 1;
                warn!(phase = name, error = %e, "phone task failed");
            }
        }
    }
    bar.finish_and_clear();
    let report = PhaseReport {
        name,
        ok: done.len(),
        failed,
        elapsed: started.elapsed(),
        note: String::new(),
    };
    (done, report)
}

fn progress_bar(name: &str, len: usize, visible: bool) -> ProgressBar {
    if !visible {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len as u64);
    let style = ProgressStyle::with_template("{prefix:>10} [{bar:40}] {pos}/{len} {per_sec}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    bar.set_style(style);
    bar.set_prefix(name.to_string());
    bar
}
