//! The keyprov services on real sockets: a key generating agent, a SIP registrar and phones.
//!
//! Every program listens and connects on loopback only. The binaries `agent`, `registrar`,
//! `phone` and `enterprise` are thin command lines over the modules here, which the
//! integration tests drive directly.

pub mod agent;
pub mod conversation;
pub mod framing;
pub mod inventory;
pub mod random;
pub mod seed;
pub mod sip;
pub mod store;
pub mod tls;

/// Seconds since the Unix epoch: the clock every service passes to keyprov.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
