//! SIP and HTTP Digest access authentication (RFC 7616, RFC 8760, RFC 3261 section 22),
//! compatible with the RFC 2617 and RFC 2069 forms, for both sides of a registration.
//!
//! keyprov uses Digest with the key identifier's text form as username, the service as realm
//! and a password derived from the per-service key; a registrar that must not hold keys keeps
//! only H(A1). See `docs/digest.md` for how a phone stack and a registrar adopt it.
//!
//! - [`header`]: read and write WWW-Authenticate, Authorization, their `Proxy-` twins and
//!   Authentication-Info.
//! - [`algorithm`]: MD5, SHA-256 and SHA-512/256, each with `-sess`; qop `auth` and `auth-int`.
//! - [`client`]: the phone side: picks the strongest challenge, keeps cnonce and nonce count,
//!   answers a stale challenge once, checks `rspauth`.
//! - [`server`]: the registrar side: stateless nonces, replay protection in bounded memory,
//!   one [`server::Outcome`] per verification.
//!
//! Sans-IO like the rest of the crate: time is a `u64` of seconds the host passes in, and
//! randomness comes from an RNG or bytes the host hands over.

pub mod algorithm;
pub mod client;
pub mod header;
pub mod nonce;
mod parse;
pub mod server;

pub use algorithm::{Algorithm, HashAlgorithm, Qop, compute_response, ha1, userhash};
pub use client::{Client, ClientCredential, ClientPolicy, ServerProof};
pub use header::{AlgorithmParam, AuthenticationInfo, Challenge, Credentials, Username};
pub use nonce::{NonceCodec, NonceTracker};
pub use server::{
    Accepted, CredentialLookup, Outcome, PhoneReply, Registrar, RegistrarPolicy, StoredCredential,
};

/// Longest header value read, in bytes.
pub const MAX_HEADER_LEN: usize = 8192;
/// Most parameters in one challenge or credentials.
pub const MAX_PARAMS: usize = 32;
/// Longest parameter value (after unescaping) and longest name, in bytes.
pub const MAX_VALUE_LEN: usize = 1024;
/// Most challenges read from all WWW-Authenticate (or Proxy-Authenticate) values together.
pub const MAX_CHALLENGES: usize = 16;

/// The parts of a request that enter the digest.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    /// The method, e.g. `REGISTER`.
    pub method: &'a str,
    /// The digest URI (for SIP the Request-URI). The phone writes it unchanged into the `uri`
    /// parameter; the registrar passes the URI the request arrived with and refuses credentials
    /// whose `uri` parameter is not exactly this text.
    pub uri: &'a str,
    /// The message body; it enters the digest only with qop `auth-int`.
    pub body: &'a [u8],
}
