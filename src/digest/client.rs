//! The phone side: answer Digest challenges and check the server's proof.
//!
//! Call order: after a 401 or 407, [`Client::handle_challenges`] with every WWW-Authenticate
//! (or Proxy-Authenticate) value; then [`Client::authorize`] for each request, which returns
//! the Authorization value; after a 2xx, [`Client::handle_authentication_info`] if the reply
//! carries Authentication-Info, else [`Client::handle_accepted`]. Another 401 after an answer
//! goes to [`Client::handle_challenges`] again: a `stale=true` challenge is answered once,
//! anything else means the credential was refused.

use alloc::string::String;
use alloc::vec::Vec;

use base64ct::{Base64UrlUnpadded, Encoding};
use rand_core::TryCryptoRng;
use subtle::ConstantTimeEq;

use super::Request;
use super::algorithm::{self, Algorithm, HashAlgorithm, Qop, ResponseInput};
use super::header::{AlgorithmParam, AuthenticationInfo, Challenge, Credentials, Username};
use crate::Error;
use crate::secret::{DigestHa1, DigestPassphrase, ServiceKey};

/// Bytes of randomness in a client nonce made by [`Client::authorize`].
const CNONCE_BYTES: usize = 16;

/// What the phone accepts from a server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientPolicy {
    /// Whether MD5 challenges may be answered (only if nothing stronger is offered).
    pub allow_md5: bool,
    /// Whether a challenge without qop (RFC 2069) may be answered.
    pub allow_rfc2069: bool,
    /// Choose `auth-int` over `auth` when both are offered.
    pub prefer_auth_int: bool,
    /// Send a hashed username when the server announces `userhash=true`.
    pub use_userhash: bool,
}

impl Default for ClientPolicy {
    /// MD5 allowed (many registrars offer nothing else), RFC 2069 refused, `auth`, no
    /// userhash.
    fn default() -> Self {
        Self {
            allow_md5: true,
            allow_rfc2069: false,
            prefer_auth_int: false,
            use_userhash: false,
        }
    }
}

/// The phone's secret.
#[derive(Clone, Debug)]
pub enum ClientCredential {
    /// The Digest password: every algorithm can be answered.
    Password(DigestPassphrase),
    /// Only H(A1) for one hash algorithm. It holds for the realm it was made for, which the
    /// client does not know: a challenge of another realm is answered with this H(A1) anyway,
    /// and the server refuses the response.
    Ha1 {
        /// The hash algorithm H(A1) was computed with.
        hash: HashAlgorithm,
        /// H(username ":" realm ":" password).
        ha1: DigestHa1,
    },
}

impl ClientCredential {
    /// The phone's credential from its keyprov service key: the derived Digest password
    /// ([`ServiceKey::digest_password`]), which answers every algorithm.
    pub fn from_service_key(service_key: &ServiceKey) -> Self {
        Self::Password(DigestPassphrase::from(&service_key.digest_password()))
    }
}

/// Whether Authentication-Info proved the server knows the credential.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServerProof {
    /// `rspauth` was present and correct.
    Verified,
    /// No `rspauth` was sent; nothing was proved.
    Absent,
}

/// The challenge being answered.
#[derive(Clone, Debug)]
struct Session {
    challenge: Challenge,
    algorithm: Algorithm,
    qop: Option<Qop>,
    cnonce: Option<String>,
    nc: u32,
    last_uri: Option<String>,
}

/// One phone's Digest state for one server (registrar or proxy).
#[derive(Clone, Debug)]
pub struct Client {
    username: String,
    credential: ClientCredential,
    policy: ClientPolicy,
    session: Option<Session>,
    /// An Authorization was sent for the current challenge and no success was seen since.
    answered: bool,
    /// A stale challenge was already answered since the last success.
    stale_retried: bool,
}

impl Client {
    /// A client for `username` (for keyprov the key identifier's text form).
    pub fn new(username: &str, credential: ClientCredential, policy: ClientPolicy) -> Self {
        Self {
            username: username.into(),
            credential,
            policy,
            session: None,
            answered: false,
            stale_retried: false,
        }
    }

    /// Picks the strongest supported challenge of a 401 or 407 reply.
    ///
    /// After an answer, a `stale=true` challenge is taken once ([`Error::DigestStaleLoop`] the
    /// second time); a challenge without `stale` means the server refused the credential
    /// ([`Error::WrongProof`]). On error the client keeps its previous state.
    pub fn handle_challenges<'a>(
        &mut self,
        values: impl IntoIterator<Item = &'a str>,
    ) -> Result<(), Error> {
        let challenges = Challenge::parse_all(values)?;
        let (challenge, algorithm, qop) = self.select(challenges)?;
        if self.answered {
            if !challenge.stale {
                return Err(Error::WrongProof);
            }
            if self.stale_retried {
                return Err(Error::DigestStaleLoop);
            }
            self.stale_retried = true;
        }
        self.adopt(challenge, algorithm, qop);
        Ok(())
    }

    /// Takes a challenge; a repeated nonce keeps its count and client nonce.
    fn adopt(&mut self, challenge: Challenge, algorithm: Algorithm, qop: Option<Qop>) {
        let same_nonce = self.session.as_ref().is_some_and(|s| {
            s.challenge.nonce == challenge.nonce && s.algorithm == algorithm && s.qop == qop
        });
        if let (true, Some(session)) = (same_nonce, self.session.as_mut()) {
            session.challenge = challenge;
        } else {
            let session = Session {
                challenge,
                algorithm,
                qop,
                cnonce: None,
                nc: 0,
                last_uri: None,
            };
            self.session = Some(session);
        }
        self.answered = false;
    }

    /// The strongest acceptable challenge, whatever the order of the headers.
    fn select(
        &self,
        challenges: Vec<Challenge>,
    ) -> Result<(Challenge, Algorithm, Option<Qop>), Error> {
        let mut best: Option<(Challenge, Algorithm, Option<Qop>)> = None;
        for challenge in challenges {
            let Some((algorithm, qop)) = self.acceptable(&challenge) else {
                continue;
            };
            let stronger = best
                .as_ref()
                .is_none_or(|(_, b, _)| algorithm.hash.strength() > b.hash.strength());
            if stronger {
                best = Some((challenge, algorithm, qop));
            }
        }
        best.ok_or(Error::DigestNoSupportedChallenge)
    }

    /// The algorithm and qop this client would use for `challenge`, if any.
    fn acceptable(&self, challenge: &Challenge) -> Option<(Algorithm, Option<Qop>)> {
        let algorithm = match &challenge.algorithm {
            Some(AlgorithmParam::Known(algorithm)) => *algorithm,
            Some(AlgorithmParam::Other(_)) => return None,
            None => md5_default()?,
        };
        if is_md5(algorithm.hash) && !self.policy.allow_md5 {
            return None;
        }
        if let ClientCredential::Ha1 { hash, .. } = &self.credential {
            if *hash != algorithm.hash {
                return None;
            }
        }
        let qop = self.choose_qop(challenge.qop.as_deref())?;
        // A -sess algorithm needs a client nonce, which only the qop form carries.
        if algorithm.session && qop.is_none() {
            return None;
        }
        Some((algorithm, qop))
    }

    /// `Some(None)` is the RFC 2069 form; `None` means nothing acceptable.
    fn choose_qop(&self, offered: Option<&[Qop]>) -> Option<Option<Qop>> {
        let Some(offered) = offered else {
            return self.policy.allow_rfc2069.then_some(None);
        };
        let has = |qop| offered.contains(&qop);
        if has(Qop::AuthInt) && (self.policy.prefer_auth_int || !has(Qop::Auth)) {
            Some(Some(Qop::AuthInt))
        } else if has(Qop::Auth) {
            Some(Some(Qop::Auth))
        } else {
            None
        }
    }

    /// The Authorization value for `request`, with a client nonce drawn from `rng` when the
    /// nonce is new.
    pub fn authorize<R>(&mut self, request: &Request<'_>, rng: &mut R) -> Result<String, Error>
    where
        R: TryCryptoRng,
        R::Error: Into<Error>,
    {
        let mut entropy = [0u8; CNONCE_BYTES];
        rng.try_fill_bytes(&mut entropy).map_err(Into::into)?;
        let fresh = Base64UrlUnpadded::encode_string(&entropy);
        self.authorize_with_cnonce(request, &fresh)
    }

    /// As [`Client::authorize`], with the client nonce given by the host. `fresh_cnonce` is used
    /// only by the first request on a nonce; later requests keep that first one and count up.
    pub fn authorize_with_cnonce(
        &mut self,
        request: &Request<'_>,
        fresh_cnonce: &str,
    ) -> Result<String, Error> {
        let username = self.username_for_session()?;
        let session = self.session.as_mut().ok_or(Error::InvalidState {
            call: "authorize",
            state: "no challenge received",
        })?;
        if fresh_cnonce.is_empty() {
            return Err(Error::TooShort {
                field: "digest cnonce",
                min: 1,
                actual: 0,
            });
        }
        let (cnonce, nc) = next_count(session, fresh_cnonce)?;
        let ha1 = session_ha1(&self.credential, &self.username, session)?;
        let input = ResponseInput {
            algorithm: session.algorithm,
            nonce: &session.challenge.nonce,
            cnonce: cnonce.as_deref(),
            nc,
            qop: session.qop,
            method: request.method,
            uri: request.uri,
            body: request.body,
        };
        let response = algorithm::compute_response(&ha1, &input)?;
        let credentials = Credentials {
            username,
            realm: session.challenge.realm.clone(),
            nonce: session.challenge.nonce.clone(),
            uri: request.uri.into(),
            response,
            algorithm: session.challenge.algorithm.clone(),
            cnonce,
            opaque: session.challenge.opaque.clone(),
            qop: session.qop,
            nc,
        };
        let value = credentials.to_header_value()?;
        session.nc = nc.unwrap_or(session.nc);
        if session.cnonce.is_none() {
            session.cnonce = credentials.cnonce;
        }
        session.last_uri = Some(credentials.uri);
        self.answered = true;
        Ok(value)
    }

    fn username_for_session(&self) -> Result<Username, Error> {
        let Some(session) = &self.session else {
            return Err(Error::InvalidState {
                call: "authorize",
                state: "no challenge received",
            });
        };
        if session.challenge.userhash && self.policy.use_userhash {
            let realm = &session.challenge.realm;
            let hashed = algorithm::userhash(session.algorithm.hash, &self.username, realm);
            return Ok(Username::Hashed(hashed));
        }
        Ok(Username::Plain(self.username.clone()))
    }

    /// Checks Authentication-Info of a 2xx reply. `response_body` enters `rspauth` only with
    /// `auth-int`. A `nextnonce` is taken for the following requests.
    pub fn handle_authentication_info(
        &mut self,
        value: &str,
        response_body: &[u8],
    ) -> Result<ServerProof, Error> {
        let info = AuthenticationInfo::parse(value)?;
        let session = self.session.as_mut().ok_or(Error::UnexpectedMessage {
            state: "no challenge received",
        })?;
        let proof = match &info.rspauth {
            Some(rspauth) => {
                check_rspauth(
                    &self.credential,
                    &self.username,
                    session,
                    &info,
                    rspauth,
                    response_body,
                )?;
                ServerProof::Verified
            }
            None => ServerProof::Absent,
        };
        if let Some(nextnonce) = info.nextnonce {
            session.challenge.nonce = nextnonce;
            session.cnonce = None;
            session.nc = 0;
        }
        self.handle_accepted();
        Ok(proof)
    }

    /// Records that the server accepted the last answer (a 2xx without Authentication-Info).
    pub fn handle_accepted(&mut self) {
        self.answered = false;
        self.stale_retried = false;
    }

    /// Forgets the challenge: the next request goes without credentials.
    pub fn reset(&mut self) {
        self.session = None;
        self.handle_accepted();
    }

    /// The nonce count of the last Authorization on the current nonce (0 before the first).
    pub fn nonce_count(&self) -> u32 {
        self.session.as_ref().map_or(0, |s| s.nc)
    }

    /// The algorithm of the challenge being answered.
    pub fn algorithm(&self) -> Option<Algorithm> {
        self.session.as_ref().map(|s| s.algorithm)
    }
}

fn md5_default() -> Option<Algorithm> {
    #[cfg(feature = "digest-md5")]
    return Some(Algorithm::MD5);
    #[cfg(not(feature = "digest-md5"))]
    return None;
}

fn is_md5(hash: HashAlgorithm) -> bool {
    #[cfg(feature = "digest-md5")]
    return hash == HashAlgorithm::Md5;
    #[cfg(not(feature = "digest-md5"))]
    return {
        let _ = hash;
        false
    };
}

/// The cnonce and count of the next request, without changing the session yet.
fn next_count(
    session: &Session,
    fresh_cnonce: &str,
) -> Result<(Option<String>, Option<u32>), Error> {
    if session.qop.is_none() {
        return Ok((None, None));
    }
    let nc = session.nc.checked_add(1).ok_or(Error::OutOfRange {
        field: "digest nonce count",
        min: 1,
        max: u64::from(u32::MAX),
    })?;
    let cnonce = session
        .cnonce
        .clone()
        .unwrap_or_else(|| fresh_cnonce.into());
    Ok((Some(cnonce), Some(nc)))
}

/// H(A1) for the session's algorithm and realm.
fn session_ha1(
    credential: &ClientCredential,
    username: &str,
    session: &Session,
) -> Result<DigestHa1, Error> {
    match credential {
        ClientCredential::Password(password) => Ok(algorithm::ha1(
            session.algorithm.hash,
            username,
            &session.challenge.realm,
            password,
        )),
        ClientCredential::Ha1 { ha1, .. } => Ok(ha1.clone()),
    }
}

/// rspauth is the response with an empty method, over the last request's URI and count.
fn check_rspauth(
    credential: &ClientCredential,
    username: &str,
    session: &Session,
    info: &AuthenticationInfo,
    rspauth: &str,
    response_body: &[u8],
) -> Result<(), Error> {
    let uri = session
        .last_uri
        .as_deref()
        .ok_or(Error::UnexpectedMessage {
            state: "nothing sent yet",
        })?;
    if info.cnonce.is_some() && info.cnonce != session.cnonce {
        return Err(Error::MismatchedAnswer { field: "cnonce" });
    }
    let nc = session.qop.map(|_| session.nc);
    if info.nc.is_some() && info.nc != nc {
        return Err(Error::MismatchedAnswer { field: "nc" });
    }
    if info.qop.is_some() && info.qop != session.qop {
        return Err(Error::MismatchedAnswer { field: "qop" });
    }
    let ha1 = session_ha1(credential, username, session)?;
    let input = ResponseInput {
        algorithm: session.algorithm,
        nonce: &session.challenge.nonce,
        cnonce: session.cnonce.as_deref(),
        nc,
        qop: session.qop,
        method: "",
        uri,
        body: response_body,
    };
    let expected = algorithm::compute_response(&ha1, &input)?;
    let received = rspauth.to_ascii_lowercase();
    let same = received.len() == expected.len()
        && bool::from(expected.as_bytes().ct_eq(received.as_bytes()));
    if same { Ok(()) } else { Err(Error::WrongProof) }
}
