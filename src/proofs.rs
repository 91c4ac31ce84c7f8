//! The protocol's own MACs on top of the key schedule: the PIN proof of a provisioning request,
//! the registration transcript hash, both sides' registration proofs and the PIN signature of
//! a registration. The PIN verifier and the PIN signing key belong to the key schedule.
//!
//! Every MAC input starts with `lp(label)`; variable fields are length-prefixed, so no two
//! different inputs give the same byte string. docs/protocol.md section 6 lists them.

use crate::keys::{HmacKey, ServiceMacKey, TAG_LEN};
use crate::secret::{PinSigningKey, PinVerifier};
use sha2::{Digest, Sha256};

/// The labels of the protocol's MACs.
pub(crate) mod labels {
    pub(crate) const PIN_PROOF: &[u8] = b"keyprov v1 pin proof";
    pub(crate) const TRANSCRIPT: &[u8] = b"keyprov v1 registration transcript";
    pub(crate) const DEVICE_PROOF: &[u8] = b"keyprov v1 device mac";
    pub(crate) const REGISTRAR_PROOF: &[u8] = b"keyprov v1 registrar proof";
    pub(crate) const PIN_SIGNATURE: &[u8] = b"keyprov v1 pin signature";
}

/// Fewest bytes of TLS channel binding (exporter output) a provisioning session accepts: a
/// shorter value would let a PIN proof made for one session be guessed for another.
pub const CHANNEL_BINDING_MIN_LEN: usize = 16;
/// Most bytes of TLS channel binding a provisioning session accepts.
pub const CHANNEL_BINDING_MAX_LEN: usize = 1024;

/// Refuses a channel binding outside `CHANNEL_BINDING_MIN_LEN..=CHANNEL_BINDING_MAX_LEN`.
pub(crate) fn check_channel_binding(binding: &[u8]) -> Result<(), crate::Error> {
    let field = "channel binding";
    let actual = binding.len();
    if actual < CHANNEL_BINDING_MIN_LEN {
        let min = CHANNEL_BINDING_MIN_LEN;
        return Err(crate::Error::TooShort { field, min, actual });
    }
    if actual > CHANNEL_BINDING_MAX_LEN {
        let max = CHANNEL_BINDING_MAX_LEN;
        return Err(crate::Error::TooLong { field, max, actual });
    }
    Ok(())
}

/// `u16(len(x))`; every caller's field is bounded far below 65536 by the wire limits.
fn lp(part: &[u8]) -> [u8; 2] {
    u16::try_from(part.len()).unwrap_or(u16::MAX).to_be_bytes()
}

/// A short MAC input assembled on the stack: `lp(label) || parts...` (parts as given).
struct Input {
    bytes: [u8; 160],
    len: usize,
}

impl Input {
    fn new(label: &[u8]) -> Self {
        let mut input = Self {
            bytes: [0; 160],
            len: 0,
        };
        input.push(&lp(label));
        input.push(label);
        input
    }

    fn push(&mut self, part: &[u8]) {
        let end = self.len + part.len();
        self.bytes[self.len..end].copy_from_slice(part);
        self.len = end;
    }

    fn as_slice(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

/// What a PIN proof covers besides the channel binding.
pub(crate) struct ProofContext<'a> {
    pub(crate) subject_kind: u8,
    pub(crate) subject: &'a [u8],
    pub(crate) login: &'a [u8],
}

/// `HMAC(verifier, lp(label) || lp(channel binding) || u8(kind) || lp(subject) || lp(login))`.
pub(crate) fn pin_proof(
    verifier: &PinVerifier,
    channel_binding: &[u8],
    context: &ProofContext<'_>,
) -> [u8; TAG_LEN] {
    let mut stream = HmacKey::new(verifier.expose_secret()).start();
    stream.update(&lp(labels::PIN_PROOF));
    stream.update(labels::PIN_PROOF);
    for (i, part) in [channel_binding, context.subject, context.login]
        .iter()
        .enumerate()
    {
        if i == 1 {
            stream.update(&[context.subject_kind]);
        }
        stream.update(&lp(part));
        stream.update(part);
    }
    stream.finish()
}

/// The registration transcript hash:
/// `SHA-256(lp(label) || lp(service) || lp(message 1) || lp(message 2) ...)`.
pub(crate) struct Transcript(Sha256);

impl Transcript {
    pub(crate) fn new(service: &[u8]) -> Self {
        let mut hash = Sha256::new();
        for part in [labels::TRANSCRIPT, service] {
            hash.update(lp(part));
            hash.update(part);
        }
        Self(hash)
    }

    pub(crate) fn push(&mut self, message: &[u8]) {
        self.0.update(lp(message));
        self.0.update(message);
    }

    pub(crate) fn finish(self) -> [u8; 32] {
        self.0.finalize().into()
    }
}

/// `MAC(lp(label) || transcript hash)` under the registration MAC key: 55 bytes, so two
/// compressions with the precomputed key.
pub(crate) fn device_proof(mac: &ServiceMacKey, transcript: &[u8; 32]) -> [u8; TAG_LEN] {
    let mut input = Input::new(labels::DEVICE_PROOF);
    input.push(transcript);
    mac.mac(input.as_slice())
}

/// `MAC(lp(label) || transcript hash || registrar nonce || u64(not after))`: 100 bytes, so
/// three compressions with the precomputed key.
pub(crate) fn registrar_proof(
    mac: &ServiceMacKey,
    transcript: &[u8; 32],
    registrar_nonce: &[u8; 32],
    not_after: u64,
) -> [u8; TAG_LEN] {
    let mut input = Input::new(labels::REGISTRAR_PROOF);
    input.push(transcript);
    input.push(registrar_nonce);
    input.push(&not_after.to_be_bytes());
    mac.mac(input.as_slice())
}

/// The PIN signature of a registration: `sign(lp(label) || transcript hash)`.
pub(crate) fn pin_signature(key: &PinSigningKey, transcript: &[u8; 32]) -> [u8; TAG_LEN] {
    let mut input = Input::new(labels::PIN_SIGNATURE);
    input.push(transcript);
    key.sign(input.as_slice())
}

/// Checks a PIN signature in constant time.
pub(crate) fn verify_pin_signature(
    key: &PinSigningKey,
    transcript: &[u8; 32],
    signature: &[u8],
) -> Result<(), crate::Error> {
    let mut input = Input::new(labels::PIN_SIGNATURE);
    input.push(transcript);
    key.verify(input.as_slice(), signature)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Pin;

    #[test]
    fn registration_proofs_match_an_independent_hmac() {
        // Computed with Python's hashlib and hmac from the formulas in docs/protocol.md 6.
        let service_key = crate::secret::ServiceKey::from_bytes(&[0x11; 32]).unwrap();
        let mac_key = service_key.mac_key();
        let mut transcript = Transcript::new(b"sip.example.com");
        transcript.push(b"hello");
        transcript.push(b"challenge");
        let transcript = transcript.finish();
        assert_eq!(
            hex(&transcript),
            "04ef436bf884c08e15c32c2336fecadc1bb2b2798cb222dfbce9bc870ad0cc32"
        );
        let device = device_proof(&mac_key, &transcript);
        assert_eq!(
            hex(&device),
            "04b186890b7dae4186d796133d742dccf18dffb25c1824920ef678c6073140f0"
        );
        let registrar = registrar_proof(&mac_key, &transcript, &[0x22; 32], 1_700_000_000);
        assert_eq!(
            hex(&registrar),
            "fd2ac5371994a361e030400cd85a3f24d59eecd548b3eafdcedcaeaf71d28616"
        );
    }

    #[test]
    fn pin_proof_matches_an_independent_hmac() {
        let verifier = PinVerifier::from_pin(b"salt", &Pin::new("1234").unwrap());
        let context = ProofContext {
            subject_kind: 1,
            subject: b"\x01100",
            login: b"dave",
        };
        let proof = pin_proof(&verifier, b"binding", &context);
        assert_eq!(
            hex(&proof),
            "8d06d4157ff45b721e1666f3fdbc2eb35b48c422a698522be476f3a52ef5d768"
        );
    }

    fn hex(bytes: &[u8]) -> alloc::string::String {
        bytes.iter().map(|b| alloc::format!("{b:02x}")).collect()
    }
}
