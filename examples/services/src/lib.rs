//! The keyprov services on real sockets: a key generating agent, a SIP registrar and phones.
//!
//! Every program listens and connects on loopback only. The binaries `agent`, `registrar`,
//! `phone` and `enterprise` are thin command lines over the modules here, which the
//! integration tests drive directly.

pub mod agent;
pub mod bindings;
pub mod conversation;
pub mod enterprise;
pub mod export;
pub mod framing;
pub mod inventory;
pub mod lab;
pub mod native;
pub mod phone;
pub mod random;
pub mod registrar;
pub mod seed;
pub mod sip;
pub mod store;
pub mod tls;

/// An error with its causes, one line: `outer: inner: root`.
pub fn chain(error: &anyhow::Error) -> String {
    format!("{error:#}")
}

/// Seconds since the Unix epoch: the clock every service passes to keyprov.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Logs to stderr with `filter` (tracing syntax), unless `RUST_LOG` says otherwise.
pub fn init_tracing(filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(filter));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

/// Refuses an address that is not on the loopback interface: the services never listen or
/// connect anywhere else.
pub fn loopback(addr: std::net::SocketAddr) -> anyhow::Result<std::net::SocketAddr> {
    if addr.ip().is_loopback() {
        Ok(addr)
    } else {
        anyhow::bail!("{addr} is not a loopback address: the services run on loopback only")
    }
}
