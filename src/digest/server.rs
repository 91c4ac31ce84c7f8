//! The registrar side: challenges with stateless nonces, verification of credentials, and
//! Authentication-Info.
//!
//! Call order: [`Registrar::challenges`] for a request without credentials; for a request with
//! credentials, [`Credentials::parse`], look the username up in the host's credential store,
//! then [`Registrar::verify`] (or [`Registrar::verify_header`] with a lookup closure). The
//! [`Outcome`] is for the registrar's logs; [`Outcome::phone_reply`] is the one answer the
//! phone gets.

use alloc::string::String;
use alloc::vec::Vec;

use rand_core::TryCryptoRng;
use subtle::ConstantTimeEq;

use super::Request;
use super::algorithm::{self, Algorithm, HashAlgorithm, Qop, ResponseInput};
use super::header::{AlgorithmParam, AuthenticationInfo, Challenge, Credentials, Username};
use super::nonce::{CountCheck, NonceCheck, NonceCodec, NonceTracker};
use crate::Error;
use crate::secret::{DigestHa1, DigestNonceSecret, DigestPassphrase, ServiceKey};

/// How a registrar challenges and what it accepts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegistrarPolicy {
    /// The realm: for keyprov the service identifier.
    pub realm: String,
    /// Algorithms offered, one challenge each, in this order (put the strongest first).
    pub algorithms: Vec<Algorithm>,
    /// Qop values offered; empty offers the RFC 2069 form only.
    pub qop: Vec<Qop>,
    /// Whether credentials without qop (RFC 2069) are accepted; each nonce then serves once.
    pub allow_rfc2069: bool,
    /// Whether challenges announce `userhash=true`.
    pub userhash: bool,
    /// Opaque value sent with every challenge and required back unchanged, if any.
    pub opaque: Option<String>,
    /// Seconds a nonce is accepted after its issue time.
    pub nonce_lifetime: u64,
    /// Seconds of clock difference allowed between registrars sharing the nonce secret.
    pub max_clock_drift: u64,
    /// How many nonces the replay tracker remembers at once.
    pub tracker_capacity: usize,
}

impl RegistrarPolicy {
    /// SHA-256 and SHA-512-256 with qop `auth`; nonces live five minutes, thirty seconds of
    /// drift, 4096 nonces tracked. MD5 is not offered unless added to `algorithms`.
    pub fn new(realm: &str) -> Self {
        Self {
            realm: realm.into(),
            algorithms: alloc::vec![Algorithm::SHA512_256, Algorithm::SHA256],
            qop: alloc::vec![Qop::Auth],
            allow_rfc2069: false,
            userhash: false,
            opaque: None,
            nonce_lifetime: 300,
            max_clock_drift: 30,
            tracker_capacity: 4096,
        }
    }
}

/// What the host's credential store holds for a username.
#[derive(Clone, Debug)]
pub enum StoredCredential {
    /// The Digest password (for keyprov derived from the service key).
    Password(DigestPassphrase),
    /// Only H(A1) for one hash algorithm: the registrar holds no key.
    Ha1 {
        /// The hash algorithm H(A1) was computed with.
        hash: HashAlgorithm,
        /// H(username ":" realm ":" password).
        ha1: DigestHa1,
    },
}

impl StoredCredential {
    /// The credential of a registrar that derives service keys: the keyprov Digest password
    /// ([`ServiceKey::digest_password`]).
    pub fn from_service_key(service_key: &ServiceKey) -> Self {
        Self::Password(DigestPassphrase::from(&service_key.digest_password()))
    }

    /// What a registrar that must not hold keys stores for one key identifier and hash:
    /// H(key id text ":" realm ":" derived password). Computed where the service key is
    /// available (at the key generating agent or during provisioning), then stored.
    pub fn ha1_from_service_key(
        hash: HashAlgorithm,
        key_id_text: &str,
        realm: &str,
        service_key: &ServiceKey,
    ) -> Self {
        let password = DigestPassphrase::from(&service_key.digest_password());
        Self::Ha1 {
            hash,
            ha1: algorithm::ha1(hash, key_id_text, realm, &password),
        }
    }
}

/// The host's answer when asked for the credential of a username.
#[derive(Clone, Debug)]
pub enum CredentialLookup {
    /// The credential to verify against.
    Found(StoredCredential),
    /// No key is known under this key identifier.
    UnknownKeyId,
    /// A newer key identifier was issued to the same device.
    Superseded,
    /// The key identifier was revoked.
    Revoked,
}

/// Accepted credentials.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Accepted {
    /// The username as sent (hashed if the phone used `userhash`).
    pub username: Username,
    /// The algorithm used.
    pub algorithm: Algorithm,
    /// Authentication-Info carrying `rspauth` over an empty reply body; add `nextnonce` with
    /// [`Registrar::issue_nonce`]. With `auth-int` and a reply body, use
    /// [`Accepted::info_for_body`] instead.
    pub info: AuthenticationInfo,
    /// What `rspauth` is computed from; holds H(A1), so it stays private.
    proof: alloc::boxed::Box<ProofKey>,
}

/// H(A1) and the request's parameters, kept to prove the reply body with `auth-int`.
#[derive(Clone, Debug, PartialEq, Eq)]
struct ProofKey {
    ha1: DigestHa1,
    credentials: Credentials,
}

impl Accepted {
    /// Authentication-Info whose `rspauth` covers `response_body` (RFC 7616 section 3.5); the
    /// body matters only with qop `auth-int`.
    pub fn info_for_body(&self, response_body: &[u8]) -> Result<AuthenticationInfo, Error> {
        let ProofKey { ha1, credentials } = &*self.proof;
        server_proof(ha1, self.algorithm, credentials, response_body)
    }
}

/// Result of one verification, detailed for the registrar's logs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The response verified and its nonce count is new.
    Accepted(Accepted),
    /// The host's store knows no key under this key identifier.
    UnknownKeyId,
    /// The key identifier was superseded by a newer one.
    Superseded,
    /// The key identifier was revoked.
    Revoked,
    /// The response does not match the stored credential.
    WrongResponse,
    /// A correct response with a nonce count accepted before.
    Replay,
    /// A correct response whose nonce is expired, from too far in the future, or no longer
    /// tracked.
    Stale,
    /// The nonce was not issued by a registrar holding the secret, for this realm.
    ForgedNonce,
    /// The credentials break the grammar or the policy; the error says how.
    Malformed(Error),
}

/// What the phone is told: one plain status, whatever the detailed outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PhoneReply {
    /// 200: registered.
    Accept,
    /// 401 with fresh challenges; `stale` tells the phone to retry without asking the user.
    Challenge {
        /// Whether the challenges carry `stale=true`.
        stale: bool,
    },
    /// 403: the credential is refused; retrying with the same one will not help.
    Forbidden,
}

impl PhoneReply {
    /// The SIP/HTTP status code.
    pub const fn status_code(self) -> u16 {
        match self {
            Self::Accept => 200,
            Self::Challenge { .. } => 401,
            Self::Forbidden => 403,
        }
    }
}

impl Outcome {
    /// The reply for the phone. Unknown, superseded, revoked and wrong all give the same 403,
    /// so the phone cannot tell a missing key from a wrong one.
    pub const fn phone_reply(&self) -> PhoneReply {
        match self {
            Self::Accepted(_) => PhoneReply::Accept,
            Self::Stale | Self::Replay => PhoneReply::Challenge { stale: true },
            Self::ForgedNonce => PhoneReply::Challenge { stale: false },
            Self::UnknownKeyId
            | Self::Superseded
            | Self::Revoked
            | Self::WrongResponse
            | Self::Malformed(_) => PhoneReply::Forbidden,
        }
    }
}

/// One registrar's Digest verifier: policy, nonce codec and replay tracker.
#[derive(Debug)]
pub struct Registrar {
    policy: RegistrarPolicy,
    codec: NonceCodec,
    tracker: NonceTracker,
}

impl Registrar {
    /// A registrar with `policy`, whose nonces are authenticated by `secret`.
    pub fn new(policy: RegistrarPolicy, secret: DigestNonceSecret) -> Result<Self, Error> {
        if policy.algorithms.is_empty() {
            return Err(Error::TooShort {
                field: "digest algorithms offered",
                min: 1,
                actual: 0,
            });
        }
        if policy.qop.is_empty() && !policy.allow_rfc2069 {
            let reason = "no qop offered and rfc 2069 form not allowed";
            return Err(Error::InvalidValue {
                field: "digest qop offered",
                reason,
            });
        }
        // Realm and opaque must be writable, or every challenge would be.
        let probe = Challenge {
            realm: policy.realm.clone(),
            domain: None,
            nonce: String::new(),
            opaque: policy.opaque.clone(),
            stale: false,
            algorithm: None,
            qop: None,
            userhash: false,
            charset_utf8: false,
        };
        probe.to_header_value()?;
        let codec = NonceCodec::new(secret, policy.nonce_lifetime, policy.max_clock_drift)?;
        let tracker = NonceTracker::new(policy.tracker_capacity)?;
        Ok(Self {
            policy,
            codec,
            tracker,
        })
    }

    /// The policy in force.
    pub fn policy(&self) -> &RegistrarPolicy {
        &self.policy
    }

    /// A fresh nonce issued at `now`.
    pub fn issue_nonce<R>(&self, now: u64, rng: &mut R) -> Result<String, Error>
    where
        R: TryCryptoRng,
        R::Error: Into<Error>,
    {
        let mut salt = [0u8; 8];
        rng.try_fill_bytes(&mut salt).map_err(Into::into)?;
        Ok(self.codec.issue(&self.policy.realm, now, salt))
    }

    /// One WWW-Authenticate (or Proxy-Authenticate) value per offered algorithm, sharing one
    /// fresh nonce.
    pub fn challenges<R>(&self, now: u64, stale: bool, rng: &mut R) -> Result<Vec<String>, Error>
    where
        R: TryCryptoRng,
        R::Error: Into<Error>,
    {
        let nonce = self.issue_nonce(now, rng)?;
        Ok(self.challenges_for_nonce(&nonce, stale))
    }

    /// The challenge values for a nonce from [`Registrar::issue_nonce`].
    pub fn challenges_for_nonce(&self, nonce: &str, stale: bool) -> Vec<String> {
        let policy = &self.policy;
        let qop = (!policy.qop.is_empty()).then(|| policy.qop.clone());
        let challenge = |algorithm: &Algorithm| Challenge {
            realm: policy.realm.clone(),
            domain: None,
            nonce: nonce.into(),
            opaque: policy.opaque.clone(),
            stale,
            algorithm: Some(AlgorithmParam::Known(*algorithm)),
            qop: qop.clone(),
            userhash: policy.userhash,
            charset_utf8: true,
        };
        // Realm and opaque were checked in `new` and the nonce is base64url, so writing cannot
        // fail; a value that would is left out rather than sent broken.
        policy
            .algorithms
            .iter()
            .filter_map(|a| challenge(a).to_header_value().ok())
            .collect()
    }

    /// Parses `value` (Authorization or Proxy-Authorization), asks `lookup` for the credential
    /// of its username, and verifies.
    pub fn verify_header(
        &mut self,
        value: &str,
        request: &Request<'_>,
        now: u64,
        lookup: impl FnOnce(&Credentials) -> CredentialLookup,
    ) -> Outcome {
        match Credentials::parse(value) {
            Ok(credentials) => {
                let found = lookup(&credentials);
                self.verify(&credentials, request, now, found)
            }
            Err(error) => Outcome::Malformed(error),
        }
    }

    /// Verifies parsed credentials against the host's lookup result at time `now`.
    ///
    /// The nonce count is recorded only when the outcome is [`Outcome::Accepted`]. A stale or
    /// replayed nonce is reported only for an otherwise correct response; a wrong response is
    /// [`Outcome::WrongResponse`] whatever its nonce.
    pub fn verify(
        &mut self,
        credentials: &Credentials,
        request: &Request<'_>,
        now: u64,
        lookup: CredentialLookup,
    ) -> Outcome {
        let algorithm = match self.check_policy(credentials, request) {
            Ok(algorithm) => algorithm,
            Err(error) => return Outcome::Malformed(error),
        };
        let nonce = self
            .codec
            .check(&self.policy.realm, &credentials.nonce, now);
        if nonce == NonceCheck::Forged {
            return Outcome::ForgedNonce;
        }
        let stored = match lookup {
            CredentialLookup::Found(stored) => stored,
            CredentialLookup::UnknownKeyId => return Outcome::UnknownKeyId,
            CredentialLookup::Superseded => return Outcome::Superseded,
            CredentialLookup::Revoked => return Outcome::Revoked,
        };
        let ha1 = match stored_ha1(&stored, algorithm.hash, credentials, &self.policy.realm) {
            Ok(ha1) => ha1,
            Err(error) => return Outcome::Malformed(error),
        };
        match response_matches(&ha1, algorithm, credentials, request) {
            Ok(true) => {}
            Ok(false) => return Outcome::WrongResponse,
            Err(error) => return Outcome::Malformed(error),
        }
        self.admit(&ha1, algorithm, credentials, nonce, now)
    }

    /// After a correct response: decide stale or replay, else record the count and accept.
    fn admit(
        &mut self,
        ha1: &DigestHa1,
        algorithm: Algorithm,
        credentials: &Credentials,
        nonce: NonceCheck,
        now: u64,
    ) -> Outcome {
        let NonceCheck::Valid { issued, id } = nonce else {
            return Outcome::Stale;
        };
        // Without qop the response covers no count, so an `nc` sent anyway is ignored: the
        // nonce serves once, as count 1.
        let nc = match credentials.qop {
            Some(_) => credentials.nc.unwrap_or(1),
            None => 1,
        };
        match self.tracker.check(&id, issued, nc) {
            CountCheck::Fresh => {}
            CountCheck::Replay => return Outcome::Replay,
            CountCheck::Forgotten => return Outcome::Stale,
        }
        let info = match server_proof(ha1, algorithm, credentials, b"") {
            Ok(info) => info,
            Err(error) => return Outcome::Malformed(error),
        };
        self.tracker
            .record(&id, issued, nc, now, self.codec.horizon());
        let username = credentials.username.clone();
        let proof = alloc::boxed::Box::new(ProofKey {
            ha1: ha1.clone(),
            credentials: credentials.clone(),
        });
        Outcome::Accepted(Accepted {
            username,
            algorithm,
            info,
            proof,
        })
    }

    /// Realm, algorithm, qop and opaque must be what this registrar offers, and the digest URI
    /// the request's URI (RFC 7616 section 3.4.6): a response for another URI proves nothing
    /// about this request.
    fn check_policy(
        &self,
        credentials: &Credentials,
        request: &Request<'_>,
    ) -> Result<Algorithm, Error> {
        let policy = &self.policy;
        if credentials.realm != policy.realm {
            return Err(Error::MismatchedAnswer { field: "realm" });
        }
        if credentials.uri != request.uri {
            return Err(Error::MismatchedAnswer { field: "uri" });
        }
        let algorithm = match &credentials.algorithm {
            Some(AlgorithmParam::Known(algorithm)) => Some(*algorithm),
            Some(AlgorithmParam::Other(_)) => None,
            None => default_algorithm(),
        };
        let not_offered = |field| Error::InvalidValue {
            field,
            reason: "not offered",
        };
        let algorithm = algorithm
            .filter(|a| policy.algorithms.contains(a))
            .ok_or(not_offered("digest algorithm"))?;
        match credentials.qop {
            Some(qop) if !policy.qop.contains(&qop) => return Err(not_offered("digest qop")),
            None if !policy.allow_rfc2069 => {
                return Err(Error::DigestMissingParameter { name: "qop" });
            }
            _ => {}
        }
        if matches!(credentials.username, Username::Hashed(_)) && !policy.userhash {
            let reason = "hashed username but userhash not offered";
            return Err(Error::InvalidValue {
                field: "digest username",
                reason,
            });
        }
        if policy.opaque.is_some() && credentials.opaque != policy.opaque {
            return Err(Error::MismatchedAnswer { field: "opaque" });
        }
        Ok(algorithm)
    }
}

/// What an absent `algorithm` parameter means: MD5, if this build has it.
fn default_algorithm() -> Option<Algorithm> {
    #[cfg(feature = "digest-md5")]
    return Some(Algorithm::MD5);
    #[cfg(not(feature = "digest-md5"))]
    return None;
}

/// H(A1) for the algorithm the phone used, from the stored password or H(A1).
fn stored_ha1(
    stored: &StoredCredential,
    hash: HashAlgorithm,
    credentials: &Credentials,
    realm: &str,
) -> Result<DigestHa1, Error> {
    match stored {
        StoredCredential::Ha1 {
            hash: stored_hash,
            ha1,
        } if *stored_hash == hash => Ok(ha1.clone()),
        StoredCredential::Ha1 { .. } => {
            let reason = "no h(a1) stored for this algorithm";
            Err(Error::InvalidValue {
                field: "digest algorithm",
                reason,
            })
        }
        StoredCredential::Password(password) => match &credentials.username {
            Username::Plain(name) => Ok(algorithm::ha1(hash, name, realm, password)),
            Username::Hashed(_) => {
                // The lookup resolved the hash to a key identifier the registrar does not see
                // here, so H(A1) must come from the store.
                let reason = "hashed username needs a stored h(a1)";
                Err(Error::InvalidValue {
                    field: "digest username",
                    reason,
                })
            }
        },
    }
}

/// Compares the phone's response with the expected one: length first, then constant time.
fn response_matches(
    ha1: &DigestHa1,
    algorithm: Algorithm,
    credentials: &Credentials,
    request: &Request<'_>,
) -> Result<bool, Error> {
    let received = credentials.response.to_ascii_lowercase();
    if received.len() != algorithm.hash.hex_len() {
        return Ok(false);
    }
    let input = ResponseInput {
        algorithm,
        nonce: &credentials.nonce,
        cnonce: credentials.cnonce.as_deref(),
        nc: credentials.nc,
        qop: credentials.qop,
        method: request.method,
        uri: &credentials.uri,
        body: request.body,
    };
    let expected = algorithm::compute_response(ha1, &input)?;
    Ok(expected.as_bytes().ct_eq(received.as_bytes()).into())
}

/// Authentication-Info with rspauth: the response with an empty method (RFC 7616 3.5).
fn server_proof(
    ha1: &DigestHa1,
    algorithm: Algorithm,
    credentials: &Credentials,
    response_body: &[u8],
) -> Result<AuthenticationInfo, Error> {
    let input = ResponseInput {
        algorithm,
        nonce: &credentials.nonce,
        cnonce: credentials.cnonce.as_deref(),
        nc: credentials.nc,
        qop: credentials.qop,
        method: "",
        uri: &credentials.uri,
        body: response_body,
    };
    Ok(AuthenticationInfo {
        nextnonce: None,
        qop: credentials.qop,
        rspauth: Some(algorithm::compute_response(ha1, &input)?),
        cnonce: credentials.cnonce.clone(),
        nc: credentials.nc,
    })
}
