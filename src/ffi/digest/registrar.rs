//! The registrar side of Digest: challenge with stateless nonces, verify credentials.
//!
//! Call order for a request without credentials: `keyprov_digest_registrar_issue_nonce`, then
//! `keyprov_digest_registrar_challenge` for each index below
//! `keyprov_digest_registrar_challenge_count` (one WWW-Authenticate value per algorithm). For a
//! request with credentials: `keyprov_digest_credentials_parse`, look its username up in the
//! host's store, then `keyprov_digest_registrar_verify`; reply with the verdict's
//! `status_code`, and on acceptance add `keyprov_digest_registrar_authentication_info`.

use core::ffi::{c_char, c_void};
use std::string::String;

use super::super::boundary::{self, Failure, Object};
use super::super::result::{self, keyprov_result};
use super::super::rng::{HostRng, keyprov_rng_callback};
use super::{algorithm_flag, algorithms_from_flags, hash_from_flag, qops_from_flags};
use super::{keyprov_digest_request, request_in};
use crate::Error;
use crate::digest::header::{Credentials, Username};
use crate::digest::{
    AuthenticationInfo, CredentialLookup, Outcome, PhoneReply, Registrar, RegistrarPolicy,
    StoredCredential,
};
use crate::secret::{DigestHa1, DigestNonceSecret, DigestPassphrase};

/// `keyprov_digest_stored_credential.lookup`: `secret` is the Digest password.
pub const KEYPROV_DIGEST_LOOKUP_PASSWORD: u32 = 1;
/// `keyprov_digest_stored_credential.lookup`: `secret` is H(A1) in hexadecimal for `hash`.
pub const KEYPROV_DIGEST_LOOKUP_HA1: u32 = 2;
/// `keyprov_digest_stored_credential.lookup`: no key is known under this key identifier.
pub const KEYPROV_DIGEST_LOOKUP_UNKNOWN_KEY_ID: u32 = 3;
/// `keyprov_digest_stored_credential.lookup`: a newer key identifier was issued to the device.
pub const KEYPROV_DIGEST_LOOKUP_SUPERSEDED: u32 = 4;
/// `keyprov_digest_stored_credential.lookup`: the key identifier was revoked.
pub const KEYPROV_DIGEST_LOOKUP_REVOKED: u32 = 5;

/// Verdict: the response verified and its nonce count is new.
pub const KEYPROV_DIGEST_OUTCOME_ACCEPTED: u32 = 1;
/// Verdict: the store knows no key under this key identifier.
pub const KEYPROV_DIGEST_OUTCOME_UNKNOWN_KEY_ID: u32 = 2;
/// Verdict: the key identifier was superseded by a newer one.
pub const KEYPROV_DIGEST_OUTCOME_SUPERSEDED: u32 = 3;
/// Verdict: the key identifier was revoked.
pub const KEYPROV_DIGEST_OUTCOME_REVOKED: u32 = 4;
/// Verdict: the response does not match the stored credential.
pub const KEYPROV_DIGEST_OUTCOME_WRONG_RESPONSE: u32 = 5;
/// Verdict: a correct response with a nonce count accepted before.
pub const KEYPROV_DIGEST_OUTCOME_REPLAY: u32 = 6;
/// Verdict: a correct response on an expired or forgotten nonce.
pub const KEYPROV_DIGEST_OUTCOME_STALE: u32 = 7;
/// Verdict: the nonce was not issued by a registrar holding the secret, for this realm.
pub const KEYPROV_DIGEST_OUTCOME_FORGED_NONCE: u32 = 8;
/// Verdict: the credentials break the grammar or the policy; `reason` says how.
pub const KEYPROV_DIGEST_OUTCOME_MALFORMED: u32 = 9;

/// How a registrar challenges and what it accepts.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct keyprov_digest_registrar_policy {
    /// `KEYPROV_DIGEST_*` algorithms offered, one challenge each, strongest first.
    pub algorithms: u32,
    /// `KEYPROV_DIGEST_QOP_*` values offered; 0 offers the RFC 2069 form only.
    pub qop: u32,
    /// 1 to accept credentials without qop (RFC 2069), each nonce then serving once; else 0.
    pub allow_rfc2069: u8,
    /// 1 to announce `userhash=true`; else 0.
    pub userhash: u8,
    /// Seconds a nonce is accepted after its issue time.
    pub nonce_lifetime: u64,
    /// Seconds of clock difference allowed between registrars sharing the nonce secret.
    pub max_clock_drift: u64,
    /// How many nonces the replay tracker remembers at once.
    pub tracker_capacity: usize,
}

/// What the host's credential store holds for the username of some credentials.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct keyprov_digest_stored_credential {
    /// A `KEYPROV_DIGEST_LOOKUP_*` value.
    pub lookup: u32,
    /// With `KEYPROV_DIGEST_LOOKUP_HA1`: the hash (`KEYPROV_DIGEST_MD5`, `_SHA256`,
    /// `_SHA512_256`) the H(A1) was made with; otherwise ignored.
    pub hash: u32,
    /// The password or the H(A1) text; NULL for the other lookups.
    pub secret: *const u8,
    /// Bytes at `secret`.
    pub secret_len: usize,
}

/// The result of one verification.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct keyprov_digest_verdict {
    /// A `KEYPROV_DIGEST_OUTCOME_*` value, for the registrar's logs.
    pub outcome: u32,
    /// With `KEYPROV_DIGEST_OUTCOME_MALFORMED`: why, as a result code; otherwise 0.
    pub reason: keyprov_result,
    /// With `KEYPROV_DIGEST_OUTCOME_ACCEPTED`: the `KEYPROV_DIGEST_*` algorithm used; else 0.
    pub algorithm: u32,
    /// The one status the phone gets: 200, 401 (challenge again) or 403. Unknown, superseded,
    /// revoked and wrong all give 403, so the phone cannot tell them apart.
    pub status_code: u16,
    /// With status 401: 1 if the new challenge must carry `stale=true`; else 0.
    pub stale: u8,
}

/// A registrar's Digest verifier: policy, nonce secret (zeroized on free), replay tracker.
/// `keyprov_digest_registrar_verify` changes the tracker, so threads sharing one verifier hold a
/// lock around it; issuing nonces and challenges only reads it.
pub struct keyprov_digest_registrar {
    registrar: Object<Registrar>,
    /// Authentication-Info of the last accepted verification.
    accepted: Option<AuthenticationInfo>,
}

/// Parsed Authorization (Proxy-Authorization) credentials.
pub struct keyprov_digest_credentials {
    credentials: Credentials,
}

/// Writes the default registrar policy: SHA-512-256 and SHA-256 with qop `auth`, nonces living
/// 300 seconds, 30 seconds of drift, 4096 nonces tracked.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_digest_registrar_policy_init(
    policy_out: *mut keyprov_digest_registrar_policy,
) -> keyprov_result {
    boundary::call(|| {
        let policy = RegistrarPolicy::new("");
        let flags = policy
            .algorithms
            .iter()
            .fold(0, |all, a| all | algorithm_flag(*a));
        let qop = policy
            .qop
            .iter()
            .fold(0, |all, q| all | super::qop_flag(*q));
        let out = keyprov_digest_registrar_policy {
            algorithms: flags,
            qop,
            allow_rfc2069: policy.allow_rfc2069.into(),
            userhash: policy.userhash.into(),
            nonce_lifetime: policy.nonce_lifetime,
            max_clock_drift: policy.max_clock_drift,
            tracker_capacity: policy.tracker_capacity,
        };
        // SAFETY: the caller passes `policy_out` NULL or writable.
        unsafe { boundary::value_out(out, policy_out, "policy_out") }
    })
}

fn policy_from(
    realm: &str,
    policy: Option<&keyprov_digest_registrar_policy>,
) -> Result<RegistrarPolicy, Error> {
    let mut out = RegistrarPolicy::new(realm);
    if let Some(policy) = policy {
        out.algorithms = algorithms_from_flags(policy.algorithms)?;
        out.qop = qops_from_flags(policy.qop)?;
        out.allow_rfc2069 = boundary::flag(policy.allow_rfc2069, "allow_rfc2069")?;
        out.userhash = boundary::flag(policy.userhash, "userhash")?;
        out.nonce_lifetime = policy.nonce_lifetime;
        out.max_clock_drift = policy.max_clock_drift;
        out.tracker_capacity = policy.tracker_capacity;
    }
    Ok(out)
}

/// Makes a registrar for `realm` (for keyprov the service identifier) whose nonces are
/// authenticated by `nonce_secret` (32 bytes, shared by every registrar of a cluster). `policy`
/// may be NULL for the defaults.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_digest_registrar_new(
    realm: *const c_char,
    realm_len: usize,
    policy: *const keyprov_digest_registrar_policy,
    nonce_secret: *const u8,
    nonce_secret_len: usize,
    registrar_out: *mut *mut keyprov_digest_registrar,
) -> keyprov_result {
    boundary::call(|| {
        // SAFETY: the caller passes each input valid for its length, `policy` NULL or live and
        // `registrar_out` NULL or writable.
        unsafe {
            let realm = boundary::text_in(realm, realm_len, "realm")?;
            let policy = policy_from(realm, policy.as_ref())?;
            let secret = boundary::bytes_in(nonce_secret, nonce_secret_len, "nonce_secret")?;
            let registrar = Registrar::new(policy, DigestNonceSecret::from_bytes(secret)?)?;
            let object = keyprov_digest_registrar {
                registrar: Object::new(registrar),
                accepted: None,
            };
            boundary::hand_out(object, registrar_out)
        }
    })
}

/// Writes a fresh nonce issued at `now` (seconds, any fixed epoch the cluster agrees on) as
/// NUL-terminated text; its salt comes from `rng`. The registrar keeps no state per nonce.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_digest_registrar_issue_nonce(
    registrar: *const keyprov_digest_registrar,
    now: u64,
    rng: keyprov_rng_callback,
    rng_userdata: *mut c_void,
    buf: *mut c_char,
    buf_len: usize,
    len_out: *mut usize,
) -> keyprov_result {
    boundary::call(|| {
        // SAFETY: the caller passes a live registrar and a buffer valid for `buf_len` bytes.
        unsafe {
            let registrar = boundary::object(registrar, "registrar")?.registrar.get()?;
            let mut host = HostRng::new(rng, rng_userdata)?;
            let nonce = registrar.issue_nonce(now, &mut host)?;
            host.finish()?;
            boundary::text_out(&nonce, buf, buf_len, len_out)
        }
    })
}

/// Writes how many challenge values the registrar offers (one per algorithm).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_digest_registrar_challenge_count(
    registrar: *const keyprov_digest_registrar,
    count_out: *mut usize,
) -> keyprov_result {
    boundary::call(|| {
        // SAFETY: the caller passes a live registrar and `count_out` NULL or writable.
        unsafe {
            let registrar = boundary::object(registrar, "registrar")?.registrar.get()?;
            boundary::value_out(registrar.policy().algorithms.len(), count_out, "count_out")
        }
    })
}

/// Writes challenge value `index` (below the challenge count, strongest first) for `nonce`
/// as NUL-terminated text; `stale` 1 adds `stale=true`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_digest_registrar_challenge(
    registrar: *const keyprov_digest_registrar,
    nonce: *const c_char,
    nonce_len: usize,
    stale: u8,
    index: usize,
    buf: *mut c_char,
    buf_len: usize,
    len_out: *mut usize,
) -> keyprov_result {
    boundary::call(|| {
        // SAFETY: the caller passes a live registrar, `nonce` valid for its length and a
        // buffer valid for `buf_len` bytes.
        unsafe {
            let registrar = boundary::object(registrar, "registrar")?.registrar.get()?;
            let nonce = boundary::text_in(nonce, nonce_len, "nonce")?;
            let values = registrar.challenges_for_nonce(nonce, boundary::flag(stale, "stale")?);
            let count = values.len() as u64;
            let value = values.get(index).ok_or(Error::OutOfRange {
                field: "challenge index",
                min: 0,
                max: count.saturating_sub(1),
            })?;
            boundary::text_out(value, buf, buf_len, len_out)
        }
    })
}

/// Parses an Authorization (Proxy-Authorization) value.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_digest_credentials_parse(
    value: *const c_char,
    value_len: usize,
    credentials_out: *mut *mut keyprov_digest_credentials,
) -> keyprov_result {
    boundary::call(|| {
        // SAFETY: the caller passes `value` valid for its length and `credentials_out` NULL or
        // writable.
        unsafe {
            let value = boundary::text_in(value, value_len, "value")?;
            let credentials = Credentials::parse(value)?;
            boundary::hand_out(keyprov_digest_credentials { credentials }, credentials_out)
        }
    })
}

/// Writes the username of the credentials as NUL-terminated text, and into `*hashed_out` 1 if
/// it is a `userhash` (hexadecimal H(username ":" realm)) the store must resolve, else 0.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_digest_credentials_username(
    credentials: *const keyprov_digest_credentials,
    buf: *mut c_char,
    buf_len: usize,
    len_out: *mut usize,
    hashed_out: *mut u8,
) -> keyprov_result {
    boundary::call(|| {
        // SAFETY: the caller passes live credentials, a buffer valid for `buf_len` bytes and
        // `hashed_out` NULL or writable.
        unsafe {
            let credentials = &boundary::object(credentials, "credentials")?.credentials;
            let (name, hashed) = match &credentials.username {
                Username::Plain(name) => (name, 0u8),
                Username::Hashed(hash) => (hash, 1u8),
            };
            if hashed_out.is_null() {
                return Err(boundary::null("hashed_out"));
            }
            boundary::text_out(name, buf, buf_len, len_out)?;
            boundary::value_out(hashed, hashed_out, "hashed_out")
        }
    })
}

/// Releases parsed credentials; NULL is ignored.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_digest_credentials_free(
    credentials: *mut keyprov_digest_credentials,
) {
    // SAFETY: the caller passes NULL or credentials from this library, freed only once.
    unsafe { boundary::free(credentials) }
}

/// The host's lookup result as the Rust API takes it.
///
/// # Safety
/// `stored.secret` is NULL or valid for `stored.secret_len` bytes.
unsafe fn lookup_in(
    stored: &keyprov_digest_stored_credential,
) -> Result<CredentialLookup, Failure> {
    // SAFETY: forwarded from the caller's guarantee.
    let secret = unsafe { boundary::bytes_in(stored.secret, stored.secret_len, "secret") }?;
    Ok(match stored.lookup {
        KEYPROV_DIGEST_LOOKUP_PASSWORD => CredentialLookup::Found(StoredCredential::Password(
            DigestPassphrase::from_bytes(secret)?,
        )),
        KEYPROV_DIGEST_LOOKUP_HA1 => {
            let text = core::str::from_utf8(secret).map_err(|_| Error::InvalidValue {
                field: "digest h(a1)",
                reason: "not hexadecimal",
            })?;
            let hash = hash_from_flag(stored.hash)?;
            CredentialLookup::Found(StoredCredential::Ha1 {
                hash,
                ha1: DigestHa1::from_hex(text)?,
            })
        }
        KEYPROV_DIGEST_LOOKUP_UNKNOWN_KEY_ID => CredentialLookup::UnknownKeyId,
        KEYPROV_DIGEST_LOOKUP_SUPERSEDED => CredentialLookup::Superseded,
        KEYPROV_DIGEST_LOOKUP_REVOKED => CredentialLookup::Revoked,
        _ => {
            return Err(Error::OutOfRange {
                field: "lookup",
                min: 1,
                max: 5,
            }
            .into());
        }
    })
}

fn verdict(outcome: &Outcome) -> keyprov_digest_verdict {
    let reply = outcome.phone_reply();
    let (code, reason, algorithm) = match outcome {
        Outcome::Accepted(accepted) => (1, 0, algorithm_flag(accepted.algorithm)),
        Outcome::UnknownKeyId => (2, 0, 0),
        Outcome::Superseded => (3, 0, 0),
        Outcome::Revoked => (4, 0, 0),
        Outcome::WrongResponse => (5, 0, 0),
        Outcome::Replay => (6, 0, 0),
        Outcome::Stale => (7, 0, 0),
        Outcome::ForgedNonce => (8, 0, 0),
        Outcome::Malformed(error) => (9, result::from_error(error), 0),
    };
    keyprov_digest_verdict {
        outcome: code,
        reason,
        algorithm,
        status_code: reply.status_code(),
        stale: u8::from(matches!(reply, PhoneReply::Challenge { stale: true })),
    }
}

/// Verifies `credentials` for `request` at time `now` against what the host's store holds for
/// their username, and writes the verdict. Returns `KEYPROV_OK` whenever a verdict was reached,
/// including refusals: the verdict says whether the phone is registered. Only an accepted
/// verification changes the registrar (it records the nonce count).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_digest_registrar_verify(
    registrar: *mut keyprov_digest_registrar,
    credentials: *const keyprov_digest_credentials,
    request: *const keyprov_digest_request,
    now: u64,
    stored: *const keyprov_digest_stored_credential,
    verdict_out: *mut keyprov_digest_verdict,
) -> keyprov_result {
    boundary::call(|| {
        // SAFETY: the caller passes a live registrar used by no one else during the call, live
        // credentials, request and stored credential whose buffers are valid for their lengths,
        // and `verdict_out` NULL or writable.
        unsafe {
            let registrar = boundary::object_mut(registrar, "registrar")?;
            let credentials = &boundary::object(credentials, "credentials")?.credentials;
            let request = request_in(request)?;
            let lookup = lookup_in(boundary::object(stored, "stored")?)?;
            if verdict_out.is_null() {
                return Err(boundary::null("verdict_out"));
            }
            let outcome = registrar
                .registrar
                .update(|r| Ok(r.verify(credentials, &request, now, lookup)))?;
            if let Outcome::Accepted(accepted) = &outcome {
                registrar.accepted = Some(accepted.info.clone());
            }
            boundary::value_out(verdict(&outcome), verdict_out, "verdict_out")
        }
    })
}

/// Writes the Authentication-Info value (with `rspauth`) of the last accepted verification as
/// NUL-terminated text, adding `nextnonce` when `nextnonce_len` is not 0 (a nonce from
/// `keyprov_digest_registrar_issue_nonce`). Before any acceptance this fails with
/// `KEYPROV_INVALID_STATE`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_digest_registrar_authentication_info(
    registrar: *const keyprov_digest_registrar,
    nextnonce: *const c_char,
    nextnonce_len: usize,
    buf: *mut c_char,
    buf_len: usize,
    len_out: *mut usize,
) -> keyprov_result {
    boundary::call(|| {
        // SAFETY: the caller passes a live registrar, `nextnonce` valid for its length and a
        // buffer valid for `buf_len` bytes.
        unsafe {
            let registrar = boundary::object(registrar, "registrar")?;
            let nextnonce = boundary::text_in(nextnonce, nextnonce_len, "nextnonce")?;
            let mut info = registrar.accepted.clone().ok_or(Error::InvalidState {
                call: "authentication info",
                state: "nothing accepted yet",
            })?;
            info.nextnonce = (!nextnonce.is_empty()).then(|| String::from(nextnonce));
            boundary::text_out(&info.to_header_value()?, buf, buf_len, len_out)
        }
    })
}

/// Zeroizes the nonce secret and releases the registrar; NULL is ignored.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_digest_registrar_free(registrar: *mut keyprov_digest_registrar) {
    // SAFETY: the caller passes NULL or a registrar from this library, freed only once; the
    // nonce secret zeroizes itself when dropped.
    unsafe { boundary::free(registrar) }
}
