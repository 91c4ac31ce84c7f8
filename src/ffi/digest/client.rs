//! The phone side of Digest: answer a registrar's challenges.
//!
//! Call order: `keyprov_digest_client_new`; on a 401 or 407,
//! `keyprov_digest_client_handle_challenges` with every WWW-Authenticate (Proxy-Authenticate)
//! value; `keyprov_digest_client_authorize` for the Authorization value of each request; on a
//! 2xx, `keyprov_digest_client_handle_authentication_info` (or `_handle_accepted` when the reply
//! has none).

use core::ffi::{c_char, c_void};

use super::super::boundary::{self, Failure, Object};
use super::super::result::keyprov_result;
use super::super::rng::{HostRng, keyprov_rng_callback};
use super::{hash_from_flag, keyprov_digest_request, keyprov_str, request_in};
use crate::Error;
use crate::digest::{Client, ClientCredential, ClientPolicy, ServerProof};
use crate::secret::{DigestHa1, DigestPassphrase};

/// What the phone accepts from a server; every field is 0 (no) or 1 (yes).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct keyprov_digest_client_policy {
    /// Whether MD5 challenges may be answered (only if nothing stronger is offered).
    pub allow_md5: u8,
    /// Whether a challenge without qop (RFC 2069) may be answered.
    pub allow_rfc2069: u8,
    /// Choose `auth-int` over `auth` when both are offered.
    pub prefer_auth_int: u8,
    /// Send a hashed username when the server announces `userhash=true`.
    pub use_userhash: u8,
}

impl From<ClientPolicy> for keyprov_digest_client_policy {
    fn from(policy: ClientPolicy) -> Self {
        Self {
            allow_md5: policy.allow_md5.into(),
            allow_rfc2069: policy.allow_rfc2069.into(),
            prefer_auth_int: policy.prefer_auth_int.into(),
            use_userhash: policy.use_userhash.into(),
        }
    }
}

impl TryFrom<&keyprov_digest_client_policy> for ClientPolicy {
    type Error = Error;

    fn try_from(policy: &keyprov_digest_client_policy) -> Result<Self, Error> {
        Ok(Self {
            allow_md5: boundary::flag(policy.allow_md5, "allow_md5")?,
            allow_rfc2069: boundary::flag(policy.allow_rfc2069, "allow_rfc2069")?,
            prefer_auth_int: boundary::flag(policy.prefer_auth_int, "prefer_auth_int")?,
            use_userhash: boundary::flag(policy.use_userhash, "use_userhash")?,
        })
    }
}

/// One phone's Digest state for one server; its credential is zeroized on free.
pub struct keyprov_digest_client {
    client: Object<Client>,
}

/// Writes the default client policy: MD5 allowed, RFC 2069 refused, `auth`, no userhash.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_digest_client_policy_init(
    policy_out: *mut keyprov_digest_client_policy,
) -> keyprov_result {
    boundary::call(|| {
        // SAFETY: the caller passes `policy_out` NULL or writable.
        unsafe { boundary::value_out(ClientPolicy::default().into(), policy_out, "policy_out") }
    })
}

/// The policy a C caller gave, or the default for NULL.
///
/// # Safety
/// `policy` is NULL or points to a live struct.
unsafe fn policy_in(policy: *const keyprov_digest_client_policy) -> Result<ClientPolicy, Error> {
    // SAFETY: forwarded from the caller's guarantee.
    unsafe { policy.as_ref() }.map_or_else(|| Ok(ClientPolicy::default()), ClientPolicy::try_from)
}

fn hand_out(client: Client, out: *mut *mut keyprov_digest_client) -> Result<(), Failure> {
    // SAFETY: every caller passes the `client_out` it received from C, NULL or writable.
    unsafe {
        boundary::hand_out(
            keyprov_digest_client {
                client: Object::new(client),
            },
            out,
        )
    }
}

/// Makes a client for `username` (for keyprov the key identifier's text form) holding the
/// Digest `password` (1 to 256 bytes; for keyprov `keyprov_digest_password`). `policy` may be
/// NULL for the defaults.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_digest_client_new(
    username: *const c_char,
    username_len: usize,
    password: *const u8,
    password_len: usize,
    policy: *const keyprov_digest_client_policy,
    client_out: *mut *mut keyprov_digest_client,
) -> keyprov_result {
    boundary::call(|| {
        // SAFETY: the caller passes each input valid for its length and `policy` NULL or live.
        unsafe {
            let username = boundary::text_in(username, username_len, "username")?;
            let password = boundary::bytes_in(password, password_len, "password")?;
            let credential = ClientCredential::Password(DigestPassphrase::from_bytes(password)?);
            hand_out(
                Client::new(username, credential, policy_in(policy)?),
                client_out,
            )
        }
    })
}

/// Makes a client that holds only H(A1) (`ha1_hex`, 32 or 64 hexadecimal digits) for the hash
/// `hash` (`KEYPROV_DIGEST_MD5`, `_SHA256` or `_SHA512_256`); it answers only challenges of
/// that hash.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_digest_client_new_ha1(
    username: *const c_char,
    username_len: usize,
    hash: u32,
    ha1_hex: *const c_char,
    ha1_hex_len: usize,
    policy: *const keyprov_digest_client_policy,
    client_out: *mut *mut keyprov_digest_client,
) -> keyprov_result {
    boundary::call(|| {
        // SAFETY: the caller passes each input valid for its length and `policy` NULL or live.
        unsafe {
            let username = boundary::text_in(username, username_len, "username")?;
            let ha1 = DigestHa1::from_hex(boundary::text_in(ha1_hex, ha1_hex_len, "ha1_hex")?)?;
            let credential = ClientCredential::Ha1 {
                hash: hash_from_flag(hash)?,
                ha1,
            };
            hand_out(
                Client::new(username, credential, policy_in(policy)?),
                client_out,
            )
        }
    })
}

/// Takes the challenges of a 401 or 407 reply: `count` header values at `values`, in any order;
/// the strongest acceptable one is answered from now on. After an answer, a challenge without
/// `stale=true` fails with `KEYPROV_WRONG_PROOF` (the credential was refused) and a second stale
/// one with `KEYPROV_DIGEST_STALE_LOOP`; on failure the client is unchanged.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_digest_client_handle_challenges(
    client: *mut keyprov_digest_client,
    values: *const keyprov_str,
    count: usize,
) -> keyprov_result {
    boundary::call(|| {
        // SAFETY: the caller passes a live client used by no one else during the call, and
        // `values` valid for `count` elements whose texts are valid for their lengths.
        unsafe {
            let client = boundary::object_mut(client, "client")?;
            let values = boundary::slice_in(values, count, "values")?;
            let texts = values
                .iter()
                .map(|v| boundary::text_in(v.ptr, v.len, "values"))
                .collect::<Result<Vec<_>, _>>()?;
            client.client.update(|c| Ok(c.handle_challenges(texts)?))
        }
    })
}

/// Writes the Authorization (Proxy-Authorization) value for `request` as NUL-terminated text.
/// The client nonce of a new server nonce comes from `rng`. With a too-small buffer nothing
/// changes: the nonce count advances only when the value is written.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_digest_client_authorize(
    client: *mut keyprov_digest_client,
    request: *const keyprov_digest_request,
    rng: keyprov_rng_callback,
    rng_userdata: *mut c_void,
    buf: *mut c_char,
    buf_len: usize,
    len_out: *mut usize,
) -> keyprov_result {
    boundary::call(|| {
        // SAFETY: the caller passes a live client used by no one else during the call, a live
        // request, and a buffer valid for `buf_len` bytes.
        unsafe {
            let client = boundary::object_mut(client, "client")?;
            let request = request_in(request)?;
            let mut host = HostRng::new(rng, rng_userdata)?;
            client.client.update(|c| {
                // Work on a copy, so that a failed callback or a small buffer changes nothing.
                let mut next = c.clone();
                let value = next.authorize(&request, &mut host)?;
                host.finish()?;
                boundary::text_out(&value, buf, buf_len, len_out)?;
                *c = next;
                Ok(())
            })
        }
    })
}

/// As `keyprov_digest_client_authorize`, with the client nonce given by the host (`cnonce`,
/// used only by the first request on a server nonce; later ones keep it and count up). For
/// hosts with their own nonce source, and for known-answer tests.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_digest_client_authorize_with_cnonce(
    client: *mut keyprov_digest_client,
    request: *const keyprov_digest_request,
    cnonce: *const c_char,
    cnonce_len: usize,
    buf: *mut c_char,
    buf_len: usize,
    len_out: *mut usize,
) -> keyprov_result {
    boundary::call(|| {
        // SAFETY: the caller passes a live client used by no one else during the call, a live
        // request, `cnonce` valid for its length and a buffer valid for `buf_len` bytes.
        unsafe {
            let client = boundary::object_mut(client, "client")?;
            let request = request_in(request)?;
            let cnonce = boundary::text_in(cnonce, cnonce_len, "cnonce")?;
            client.client.update(|c| {
                let mut next = c.clone();
                let value = next.authorize_with_cnonce(&request, cnonce)?;
                boundary::text_out(&value, buf, buf_len, len_out)?;
                *c = next;
                Ok(())
            })
        }
    })
}

/// Checks the Authentication-Info value of a 2xx reply; `body` (the response body) matters only
/// with `auth-int`. `*verified_out` receives 1 if `rspauth` proved the server knows the
/// credential, 0 if the reply carried none; a wrong `rspauth` fails with `KEYPROV_WRONG_PROOF`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_digest_client_handle_authentication_info(
    client: *mut keyprov_digest_client,
    value: *const c_char,
    value_len: usize,
    body: *const u8,
    body_len: usize,
    verified_out: *mut u8,
) -> keyprov_result {
    boundary::call(|| {
        // SAFETY: the caller passes a live client used by no one else during the call, each
        // input valid for its length, and `verified_out` NULL or writable.
        unsafe {
            let client = boundary::object_mut(client, "client")?;
            let value = boundary::text_in(value, value_len, "value")?;
            let body = boundary::bytes_in(body, body_len, "body")?;
            if verified_out.is_null() {
                return Err(boundary::null("verified_out"));
            }
            let proof = client
                .client
                .update(|c| Ok(c.handle_authentication_info(value, body)?))?;
            boundary::value_out(
                u8::from(proof == ServerProof::Verified),
                verified_out,
                "verified_out",
            )
        }
    })
}

/// Records that the server accepted the last answer (a 2xx without Authentication-Info).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_digest_client_handle_accepted(
    client: *mut keyprov_digest_client,
) -> keyprov_result {
    boundary::call(|| {
        // SAFETY: the caller passes a live client used by no one else during the call.
        let client = unsafe { boundary::object_mut(client, "client") }?;
        client.client.update(|c| {
            c.handle_accepted();
            Ok(())
        })
    })
}

/// Forgets the challenge: the next request goes without credentials.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_digest_client_reset(
    client: *mut keyprov_digest_client,
) -> keyprov_result {
    boundary::call(|| {
        // SAFETY: the caller passes a live client used by no one else during the call.
        let client = unsafe { boundary::object_mut(client, "client") }?;
        client.client.update(|c| {
            c.reset();
            Ok(())
        })
    })
}

/// Writes the nonce count of the last Authorization on the current nonce (0 before the first).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_digest_client_nonce_count(
    client: *const keyprov_digest_client,
    count_out: *mut u32,
) -> keyprov_result {
    boundary::call(|| {
        // SAFETY: the caller passes a live client and `count_out` NULL or writable.
        unsafe {
            let client = boundary::object(client, "client")?.client.get()?;
            boundary::value_out(client.nonce_count(), count_out, "count_out")
        }
    })
}

/// Zeroizes the credential and releases the client; NULL is ignored.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_digest_client_free(client: *mut keyprov_digest_client) {
    // SAFETY: the caller passes NULL or a client from this library, freed only once; its
    // credential types zeroize themselves when dropped.
    unsafe { boundary::free(client) }
}
