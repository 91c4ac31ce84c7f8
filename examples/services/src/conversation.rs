//! The keyprov conversations as the services carry them: provisioning (device and agent) and
//! key fetch (registrar and agent), built from keyprov's wire format, key identifiers and key
//! schedule.
//!
//! keyprov's own role state machines are not used here yet: this module does their part for
//! the services. The PIN proof in particular is this crate's own construction (an HMAC keyed
//! with a PBKDF2 PIN verifier over the TLS channel binding), not the one keyprov specifies, so
//! a device built on another keyprov host would not interoperate on PIN-protected users.

use anyhow::{Context, Result, anyhow, bail};
use keyprov::keyid::{DeviceId, DeviceIdType, KeyId};
use keyprov::keys::HmacKey;
use keyprov::secret::{DeviceSecretKey, ServiceKey};
use keyprov::wire::{
    KeyRefusal, KeyRequest, KeyResponse, Message, ProvisionRequest, ProvisionResponse, Refusal,
    SecretBytes, Subject, UserProof,
};
use zeroize::Zeroizing;

/// TLS exporter label of the provisioning channel binding.
pub const CHANNEL_BINDING_LABEL: &[u8] = b"EXPORTER-keyprov-services provisioning";
/// Length of the channel binding, in bytes.
pub const CHANNEL_BINDING_LEN: usize = 32;

const PIN_PROOF_LABEL: &[u8] = b"keyprov-services pin proof";

/// The encoding of a device identifier inside a provisioning request: `u8(type) || value`.
pub fn encode_device_id(device: &DeviceId) -> Vec<u8> {
    let mut out = vec![device.kind().code()];
    out.extend_from_slice(device.value_bytes());
    out
}

/// Reads a device identifier from its encoding in a provisioning request.
pub fn decode_device_id(bytes: &[u8]) -> Result<DeviceId, keyprov::Error> {
    let (&code, value) = bytes
        .split_first()
        .ok_or(keyprov::Error::Truncated { what: "device id" })?;
    let kind = DeviceIdType::from_code(code).ok_or(keyprov::Error::UnknownType {
        what: "device id",
        value: code,
    })?;
    DeviceId::from_canonical(kind, value)
}

/// The proof that the user knows the PIN whose verifier is `verifier`, bound to one TLS
/// session (`binding`), one device and one login.
/// `HMAC-SHA-256(verifier, lp(label) || lp(binding) || lp(device) || lp(login))`.
pub fn pin_proof(verifier: &[u8], binding: &[u8], device: &[u8], login: &[u8]) -> [u8; 32] {
    HmacKey::new(verifier).mac(&pin_proof_input(binding, device, login))
}

/// Checks a PIN proof in constant time.
pub fn pin_proof_matches(
    verifier: &[u8],
    binding: &[u8],
    device: &[u8],
    login: &[u8],
    proof: &[u8],
) -> bool {
    HmacKey::new(verifier)
        .verify(&pin_proof_input(binding, device, login), proof)
        .is_ok()
}

fn pin_proof_input(binding: &[u8], device: &[u8], login: &[u8]) -> Vec<u8> {
    let mut input = Vec::with_capacity(128);
    for part in [PIN_PROOF_LABEL, binding, device, login] {
        // Every part is bounded far below 65536 by the wire limits.
        input.extend_from_slice(&(part.len() as u16).to_be_bytes());
        input.extend_from_slice(part);
    }
    input
}

/// What a device asks the agent for: a key for its identifier, with the user's PIN proof
/// when a PIN is configured.
pub fn provision_request(
    device: &DeviceId,
    user: Option<(&str, &str)>,
    binding: &[u8],
) -> Result<Vec<u8>> {
    let subject = encode_device_id(device);
    let proof = user.map(|(login, pin)| {
        let verifier = crate::store::pin_verifier(login, pin);
        Zeroizing::new(pin_proof(
            verifier.as_slice(),
            binding,
            &subject,
            login.as_bytes(),
        ))
    });
    let user = user
        .zip(proof.as_deref())
        .map(|((login, _), proof)| UserProof {
            login: login.as_bytes(),
            proof,
        });
    let message = Message::ProvisionRequest(ProvisionRequest {
        subject: Subject::DeviceId(&subject),
        user,
    });
    Ok(message.to_vec()?)
}

/// A device's credentials, as the agent issued them.
#[derive(Debug)]
pub struct Credentials {
    /// The key identifier.
    pub key_id: KeyId,
    /// The device secret key.
    pub secret: DeviceSecretKey,
    /// Last second the key is valid.
    pub not_after: u64,
}

/// Reads the agent's answer to a provisioning request. A refusal becomes
/// [`keyprov::Error::PeerRefused`] carrying the agent's outcome code.
pub fn provision_answer(bytes: &[u8]) -> Result<Credentials> {
    match Message::decode(bytes)? {
        Message::ProvisionResponse(answer) => Ok(Credentials {
            key_id: KeyId::from_bytes(answer.key_id)?,
            secret: DeviceSecretKey::from_bytes(answer.secret_key.0)?,
            not_after: answer.not_after,
        }),
        Message::Refusal(refusal) => Err(keyprov::Error::PeerRefused {
            code: refusal.outcome,
        })?,
        _ => bail!("agent answered with an unexpected message"),
    }
}

/// The agent's provisioning answer.
pub fn provision_response(
    key_id: &KeyId,
    counter: u32,
    not_after: u64,
    secret: &DeviceSecretKey,
) -> Result<Vec<u8>> {
    let key_id_bytes = key_id.to_bytes();
    let message = Message::ProvisionResponse(ProvisionResponse {
        key_id: &key_id_bytes,
        counter,
        not_after,
        agent_id: key_id.agent_id().as_bytes(),
        secret_key: SecretBytes(secret.expose_secret()),
    });
    Ok(message.to_vec()?)
}

/// A refusal carrying the outcome code of `error`.
pub fn refusal(error: keyprov::Error) -> Vec<u8> {
    Message::Refusal(Refusal {
        outcome: error.code(),
    })
    .to_vec()
    .unwrap_or_default()
}

/// A registrar's request for the per-service key of `key_id`.
pub fn key_request(request_id: u32, key_id: &KeyId, service: &str) -> Result<Vec<u8>> {
    let key_id = key_id.to_bytes();
    let message = Message::KeyRequest(KeyRequest {
        request_id,
        key_id: &key_id,
        service: service.as_bytes(),
        login: None,
    });
    Ok(message.to_vec()?)
}

/// A per-service key and its lifetime.
#[derive(Debug)]
pub struct FetchedKey {
    /// The key for this service.
    pub service_key: ServiceKey,
    /// Last second the key is valid.
    pub not_after: u64,
}

/// Reads the agent's answer to key request `request_id`. A refusal is returned as the error
/// keyprov names for its outcome code.
pub fn key_answer(bytes: &[u8], request_id: u32) -> Result<Result<FetchedKey, keyprov::Error>> {
    let (answered_id, result) = match Message::decode(bytes)? {
        Message::KeyResponse(answer) => {
            let key = FetchedKey {
                service_key: ServiceKey::from_bytes(answer.service_key.0)?,
                not_after: answer.not_after,
            };
            (answer.request_id, Ok(key))
        }
        Message::KeyRefusal(refusal) => (refusal.request_id, Err(outcome_error(refusal.outcome))),
        Message::Refusal(refusal) => return Err(anyhow!("agent refused: {}", refusal.outcome)),
        _ => bail!("agent answered with an unexpected message"),
    };
    if answered_id != request_id {
        bail!("agent answered request {answered_id}, expected {request_id}");
    }
    Ok(result)
}

/// The agent's answer carrying a per-service key.
pub fn key_response(request_id: u32, not_after: u64, key: &ServiceKey) -> Result<Vec<u8>> {
    let message = Message::KeyResponse(KeyResponse {
        request_id,
        not_after,
        service_key: SecretBytes(key.expose_secret()),
        pin_key: None,
    });
    Ok(message.to_vec()?)
}

/// The agent's refusal of key request `request_id`.
pub fn key_refusal(request_id: u32, error: keyprov::Error) -> Vec<u8> {
    let message = Message::KeyRefusal(KeyRefusal {
        request_id,
        outcome: error.code(),
    });
    message.to_vec().unwrap_or_default()
}

/// The keyprov error of an outcome code a peer sent, for the outcomes a key fetch or a
/// provisioning can end with.
pub fn outcome_error(code: u16) -> keyprov::Error {
    use keyprov::Error as E;
    [
        E::UnknownKeyId,
        E::Superseded,
        E::Revoked,
        E::Expired,
        E::WrongProof,
        E::LockedOut,
    ]
    .into_iter()
    .chain([E::NotAuthorized])
    .find(|e| e.code() == code)
    .unwrap_or(E::PeerRefused { code })
}

/// Reads a key identifier from its text form (a Digest username, a SIP user part).
pub fn parse_key_id(text: &str) -> Result<KeyId> {
    text.parse::<KeyId>()
        .map_err(|e| anyhow!(e))
        .context("key identifier")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_id_encoding_round_trips() {
        let device = DeviceId::serial_number("SN00740001").unwrap();
        let bytes = encode_device_id(&device);
        assert_eq!(bytes[0], 2);
        assert_eq!(&bytes[1..], b"SN00740001");
        assert_eq!(decode_device_id(&bytes).unwrap(), device);
        assert!(decode_device_id(&[9, b'x']).is_err());
        assert!(decode_device_id(&[]).is_err());
    }

    #[test]
    fn pin_proof_is_hmac_sha256_over_length_prefixed_parts() {
        // Independent value: Python hmac.new(b'v', lp(label)+lp(b'cb')+lp(b'd')+lp(b'u'),
        // hashlib.sha256), where lp(x) = len(x).to_bytes(2, 'big') + x.
        let proof = pin_proof(b"v", b"cb", b"d", b"u");
        assert_eq!(crate::seed::hex_encode(&proof), PIN_PROOF_EXPECTED);
    }

    const PIN_PROOF_EXPECTED: &str =
        "716e130e625409d4de45c3bf9bb78c90ec9fcfe111959bdb2125ed2833d1f9da";

    #[test]
    fn refusal_codes_map_back_to_errors() {
        assert_eq!(outcome_error(301), keyprov::Error::Superseded);
        assert_eq!(outcome_error(308), keyprov::Error::LockedOut);
        assert_eq!(
            outcome_error(399),
            keyprov::Error::PeerRefused { code: 399 }
        );
    }
}
