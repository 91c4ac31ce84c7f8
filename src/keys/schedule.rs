//! The key schedule below the master key: device, authentication, service, PIN signing and
//! session keys, and the SIP Digest password.

use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::hmac::{HmacKey, TAG_LEN, verify_tag};
use super::{DEVICE_KEY_DOMAIN, check_len, derive, derive_keyed, labels};
use crate::Error;
use crate::keyid::{self, KeyId};
use crate::secret::{
    AuthenticationKey, DIGEST_PASSWORD_LEN, DeviceSecretKey, DigestPassword, MasterKey, Pin,
    PinSigningKey, PinVerifier, ServiceKey, SessionKey,
};

/// Most bytes of a key identifier's binary encoding accepted by the device key derivation.
pub const KEY_ID_MAX_LEN: usize = 1024;
/// Longest key identifier whose device key costs two compressions: `0x01 || key id` then fits
/// the one block left after the precomputed inner block (55 bytes with SHA-256 padding).
pub const KEY_ID_FAST_MAX_LEN: usize = 54;
/// Most bytes a service identifier may have (a SIP domain or realm in practice).
pub const SERVICE_ID_MAX_LEN: usize = 1024;
/// Fewest bytes a session nonce may have: 128 bits, so a side's own nonce is never repeated.
pub const SESSION_NONCE_MIN_LEN: usize = 16;
/// Most bytes a session nonce may have.
pub const SESSION_NONCE_MAX_LEN: usize = 1024;
/// The 32 characters of a [`DigestPassword`]: digits and capitals without `0 1 I O`.
pub const DIGEST_PASSWORD_ALPHABET: &[u8; 32] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";

/// What the key generating agent keeps per master key: the device key subkey
/// `Kd = HMAC(master, lp(label))`, precomputed, so a device key costs two compressions.
#[derive(Clone)]
pub struct MasterKeySchedule {
    device_keys: HmacKey,
    epoch: u16,
}

impl MasterKeySchedule {
    /// Precomputes the schedule of `master` (four compressions, once).
    pub fn new(master: &MasterKey) -> Self {
        let subkey = Zeroizing::new(derive(master.expose_secret(), labels::DEVICE_KEY, &[]));
        Self {
            device_keys: HmacKey::new(&subkey[..]),
            epoch: master.epoch(),
        }
    }

    /// The epoch of the master key behind this schedule.
    pub const fn epoch(&self) -> u16 {
        self.epoch
    }

    /// The device secret key of a key identifier, given as its canonical binary encoding
    /// (1 to [`KEY_ID_MAX_LEN`] bytes): `HMAC(Kd, 0x01 || key_id)`.
    ///
    /// The message is one fixed byte followed by the key identifier and nothing else, so two
    /// different key identifiers always give two different messages. Up to
    /// [`KEY_ID_FAST_MAX_LEN`] bytes this costs two compressions.
    pub fn device_key(&self, key_id: &[u8]) -> Result<DeviceSecretKey, Error> {
        check_len("key identifier", key_id, 1, KEY_ID_MAX_LEN)?;
        let key = self.device_keys.mac_parts(&[&[DEVICE_KEY_DOMAIN], key_id]);
        Ok(DeviceSecretKey::from_array(key))
    }

    /// The device secret key of `key_id`, which must carry this schedule's epoch.
    pub fn device_key_for(&self, key_id: &KeyId) -> Result<DeviceSecretKey, Error> {
        if key_id.epoch() != self.epoch {
            return Err(Error::InvalidValue {
                field: "key id epoch",
                reason: "not the epoch of this master key",
            });
        }
        let mut encoding = [0u8; keyid::MAX_LEN];
        let len = key_id.write_to(&mut encoding)?;
        self.device_key(&encoding[..len])
    }
}

impl core::fmt::Debug for MasterKeySchedule {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "MasterKeySchedule {{ epoch: {}, keys: [redacted] }}",
            self.epoch
        )
    }
}

impl DeviceSecretKey {
    /// The authentication key, `HMAC(device key, lp(label))`: computed by the device once the
    /// provisioning session closed.
    pub fn authentication_key(&self) -> AuthenticationKey {
        AuthenticationKey::from_array(derive(
            self.expose_secret(),
            labels::AUTHENTICATION_KEY,
            &[],
        ))
    }

    /// The signing key bound to this device key and the user's PIN: the PIN verifier of `pin`
    /// under the user's `salt` ([`PinVerifier::from_pin`]), then
    /// [`DeviceSecretKey::pin_signing_key_from_verifier`]. The device and an agent holding
    /// only the verifier thus derive the same key.
    ///
    /// Whoever holds the device key and one signature can try all PINs offline; the PIN guards
    /// against someone who holds the phone, not against someone who extracted its key.
    pub fn pin_signing_key(&self, pin: &Pin, salt: &[u8]) -> PinSigningKey {
        self.pin_signing_key_from_verifier(&PinVerifier::from_pin(salt, pin))
    }

    /// The PIN signing key from the user's PIN verifier, as the agent derives it for a
    /// registrar without ever seeing the PIN: `HMAC(device key, lp(label) || lp(verifier))`.
    pub fn pin_signing_key_from_verifier(&self, verifier: &PinVerifier) -> PinSigningKey {
        let key = derive(
            self.expose_secret(),
            labels::PIN_VERIFIER_SIGNING_KEY,
            &[verifier.expose_secret()],
        );
        PinSigningKey::from_array(key)
    }
}

impl PinVerifier {
    /// What a directory stores for a user instead of the PIN:
    /// `HMAC(salt, lp(label) || lp(pin digits))`. The salt is the user's, not secret, of any
    /// length.
    ///
    /// A PIN has few digits: whoever holds a verifier and its salt finds the PIN by trying
    /// them all. The verifier stops nothing but online guessing, which the lockout limits.
    pub fn from_pin(salt: &[u8], pin: &Pin) -> Self {
        Self::from_array(derive(salt, labels::PIN_VERIFIER, &[pin.digits()]))
    }
}

impl AuthenticationKey {
    /// The key of one service, `HMAC(auth key, lp(label) || lp(service_id))`; the service
    /// identifier has 1 to [`SERVICE_ID_MAX_LEN`] bytes.
    pub fn service_key(&self, service_id: &[u8]) -> Result<ServiceKey, Error> {
        check_len("service identifier", service_id, 1, SERVICE_ID_MAX_LEN)?;
        let key = derive(self.expose_secret(), labels::SERVICE_KEY, &[service_id]);
        Ok(ServiceKey::from_array(key))
    }
}

impl ServiceKey {
    /// The registration MAC key, `HMAC(service key, lp(label))`, in precomputed form.
    pub fn mac_key(&self) -> ServiceMacKey {
        let key = Zeroizing::new(derive(self.expose_secret(), labels::SERVICE_MAC_KEY, &[]));
        ServiceMacKey(HmacKey::new(&key[..]))
    }

    /// The two session keys after a registration, bound to the key identifier, the service and
    /// both sides' nonces.
    pub fn session_keys(&self, context: &SessionContext<'_>) -> Result<SessionKeys, Error> {
        let fields = context.checked_fields()?;
        // One keyed state serves both directions: set up once, it saves two compressions.
        let key = HmacKey::new(self.expose_secret());
        let device_to_registrar = derive_keyed(&key, labels::SESSION_DEVICE_TO_REGISTRAR, &fields);
        let registrar_to_device = derive_keyed(&key, labels::SESSION_REGISTRAR_TO_DEVICE, &fields);
        Ok(SessionKeys {
            device_to_registrar: SessionKey::from_array(device_to_registrar),
            registrar_to_device: SessionKey::from_array(registrar_to_device),
        })
    }

    /// The SIP Digest password: the first 160 bits of `HMAC(service key, lp(label))`, read as
    /// 32 groups of 5 bits (most significant first), each an index into
    /// [`DIGEST_PASSWORD_ALPHABET`].
    pub fn digest_password(&self) -> DigestPassword {
        let bits = Zeroizing::new(derive(self.expose_secret(), labels::DIGEST_PASSWORD, &[]));
        let mut chars = Zeroizing::new([0u8; DIGEST_PASSWORD_LEN]);
        for (index, out) in chars.iter_mut().enumerate() {
            *out = alphabet_char(five_bits(&bits, index));
        }
        DigestPassword::from_ascii(*chars)
    }
}

impl PinSigningKey {
    /// Signs `message`: `HMAC(pin signing key, message)`.
    pub fn sign(&self, message: &[u8]) -> [u8; TAG_LEN] {
        HmacKey::new(self.expose_secret()).mac(message)
    }

    /// Checks a signature made by [`PinSigningKey::sign`] in constant time.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), Error> {
        verify_tag(&self.sign(message), signature)
    }
}

/// The 5-bit group number `index` of `bytes`, most significant bits first.
fn five_bits(bytes: &[u8; TAG_LEN], index: usize) -> u8 {
    let bit = index * 5;
    let pair = u16::from_be_bytes([bytes[bit / 8], bytes[bit / 8 + 1]]);
    ((pair >> (11 - bit % 8)) & 0x1f) as u8
}

/// `DIGEST_PASSWORD_ALPHABET[index]` for `index < 32` without a secret-dependent memory
/// access or branch: the alphabet is four runs of consecutive ASCII codes (`2-9`, `A-H`, `J-N`,
/// `P-Z`), so the character is `'2' + index` plus the gaps below it, each gap counted by a
/// borrow bit. A selection over the whole table through `subtle` cost four times the hashing.
fn alphabet_char(index: u8) -> u8 {
    let at_least = |start: u8| {
        let borrow = u16::from(start)
            .wrapping_sub(1)
            .wrapping_sub(u16::from(index))
            >> 15;
        borrow as u8
    };
    b'2' + index + 7 * at_least(8) + at_least(16) + at_least(21)
}

/// The registration MAC key of one device at one service, as the registrar caches it: 64
/// bytes of keyed state. A MAC over a 200-byte transcript costs five compressions.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct ServiceMacKey(HmacKey);

impl ServiceMacKey {
    /// The MAC of a registration transcript.
    pub fn mac(&self, transcript: &[u8]) -> [u8; TAG_LEN] {
        self.0.mac(transcript)
    }

    /// Checks a transcript MAC in constant time: [`Error::WrongProof`] if it does not match.
    pub fn verify(&self, transcript: &[u8], tag: &[u8]) -> Result<(), Error> {
        self.0.verify(transcript, tag)
    }

    /// The 64-byte keyed state, for the registrar's cache. As secret as the service key.
    pub fn expose_secret_state(&self) -> Zeroizing<[u8; super::KEYED_STATE_LEN]> {
        self.0.expose_secret_state()
    }

    /// Restores a cached keyed state made by [`ServiceMacKey::expose_secret_state`].
    pub fn from_secret_state(state: &[u8]) -> Result<Self, Error> {
        HmacKey::from_secret_state(state).map(Self)
    }
}

impl core::fmt::Debug for ServiceMacKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("ServiceMacKey([redacted])")
    }
}

/// What the session keys are bound to. Both sides must fill it with the same values.
#[derive(Clone, Copy, Debug)]
pub struct SessionContext<'a> {
    /// The key identifier's canonical binary encoding (1 to [`KEY_ID_MAX_LEN`] bytes).
    pub key_id: &'a [u8],
    /// The service identifier (1 to [`SERVICE_ID_MAX_LEN`] bytes).
    pub service_id: &'a [u8],
    /// The device's nonce ([`SESSION_NONCE_MIN_LEN`] to [`SESSION_NONCE_MAX_LEN`] bytes).
    pub device_nonce: &'a [u8],
    /// The registrar's nonce (same limits).
    pub registrar_nonce: &'a [u8],
}

impl<'a> SessionContext<'a> {
    /// The fields in derivation order, after checking every limit.
    fn checked_fields(&self) -> Result<[&'a [u8]; 4], Error> {
        let (min, max) = (SESSION_NONCE_MIN_LEN, SESSION_NONCE_MAX_LEN);
        check_len("key identifier", self.key_id, 1, KEY_ID_MAX_LEN)?;
        check_len("service identifier", self.service_id, 1, SERVICE_ID_MAX_LEN)?;
        check_len("device nonce", self.device_nonce, min, max)?;
        check_len("registrar nonce", self.registrar_nonce, min, max)?;
        Ok([
            self.key_id,
            self.service_id,
            self.device_nonce,
            self.registrar_nonce,
        ])
    }
}

/// One session key per direction.
#[derive(Debug)]
pub struct SessionKeys {
    /// Protects messages the device sends to the registrar.
    pub device_to_registrar: SessionKey,
    /// Protects messages the registrar sends to the device.
    pub registrar_to_device: SessionKey,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyid::{AgentId, DeviceId};
    use crate::keys::sha256::counter::count;

    #[test]
    fn registration_proofs_cost_what_section_4_2_says() {
        // ceil((n + 9) / 64) + 1 compressions for an n-byte message: the device proof's 55
        // bytes take two, the registrar proof's 100 bytes three.
        let mac = ServiceKey::from_bytes(&[0x11; 32]).unwrap().mac_key();
        let (_, device) = count(|| crate::proofs::device_proof(&mac, &[1; 32]));
        let (_, registrar) = count(|| crate::proofs::registrar_proof(&mac, &[1; 32], &[2; 32], 9));
        assert_eq!((device, registrar), (2, 3));
    }

    fn schedule(epoch: u16) -> MasterKeySchedule {
        MasterKeySchedule::new(&MasterKey::from_bytes(&[0x11; 32], epoch).unwrap())
    }

    fn service_key() -> ServiceKey {
        let device = schedule(1).device_key(b"key id").unwrap();
        device
            .authentication_key()
            .service_key(b"sip.example.com")
            .unwrap()
    }

    #[test]
    fn device_key_costs_two_compressions_up_to_54_bytes() {
        let schedule = schedule(1);
        for len in [1, 20, KEY_ID_FAST_MAX_LEN] {
            let (_, n) = count(|| schedule.device_key(&[7; 64][..len]).unwrap());
            assert_eq!(n, 2, "key id of {len} bytes");
        }
        let (_, n) = count(|| schedule.device_key(&[7; 55]).unwrap());
        assert_eq!(n, 3);
    }

    #[test]
    fn registrar_cache_is_64_bytes_and_mac_of_200_bytes_costs_five() {
        assert_eq!(core::mem::size_of::<ServiceMacKey>(), 64);
        let mac_key = service_key().mac_key();
        let (tag, n) = count(|| mac_key.mac(&[0xab; 200]));
        assert_eq!(n, 5);
        assert_eq!(mac_key.verify(&[0xab; 200], &tag), Ok(()));
        assert_eq!(mac_key.verify(&[0xab; 199], &tag), Err(Error::WrongProof));
        let cached = ServiceMacKey::from_secret_state(&mac_key.expose_secret_state()[..]).unwrap();
        assert_eq!(cached.mac(b"t"), mac_key.mac(b"t"));
    }

    #[test]
    fn limits_name_the_field() {
        let schedule = schedule(1);
        let err = schedule.device_key(b"").unwrap_err();
        assert_eq!(
            err,
            Error::TooShort {
                field: "key identifier",
                min: 1,
                actual: 0
            }
        );
        let err = schedule.device_key(&[0; KEY_ID_MAX_LEN + 1]).unwrap_err();
        assert_eq!(
            err,
            Error::TooLong {
                field: "key identifier",
                max: 1024,
                actual: 1025
            }
        );
        let auth = schedule.device_key(b"k").unwrap().authentication_key();
        let err = auth
            .service_key(&[b's'; SERVICE_ID_MAX_LEN + 1])
            .unwrap_err();
        assert!(matches!(
            err,
            Error::TooLong {
                field: "service identifier",
                max: 1024,
                ..
            }
        ));
        assert!(auth.service_key(&[b's'; SERVICE_ID_MAX_LEN]).is_ok());
    }

    #[test]
    fn session_nonce_limits() {
        let service = service_key();
        let mut context = SessionContext {
            key_id: b"key id",
            service_id: b"sip.example.com",
            device_nonce: &[1; 15],
            registrar_nonce: &[2; 16],
        };
        let err = service.session_keys(&context).unwrap_err();
        assert_eq!(
            err,
            Error::TooShort {
                field: "device nonce",
                min: 16,
                actual: 15
            }
        );
        context.device_nonce = &[1; 16];
        context.registrar_nonce = &[2; 1025];
        let err = service.session_keys(&context).unwrap_err();
        assert_eq!(
            err,
            Error::TooLong {
                field: "registrar nonce",
                max: 1024,
                actual: 1025
            }
        );
        context.registrar_nonce = &[2; 16];
        let keys = service.session_keys(&context).unwrap();
        assert_ne!(
            keys.device_to_registrar.expose_secret(),
            keys.registrar_to_device.expose_secret()
        );
    }

    #[test]
    fn session_keys_depend_on_every_field() {
        let service = service_key();
        let base = SessionContext {
            key_id: b"key id",
            service_id: b"svc",
            device_nonce: &[1; 16],
            registrar_nonce: &[2; 16],
        };
        let reference = service.session_keys(&base).unwrap().device_to_registrar;
        let variants = [
            SessionContext {
                key_id: b"key id2",
                ..base
            },
            SessionContext {
                service_id: b"svd",
                ..base
            },
            SessionContext {
                device_nonce: &[1; 17],
                ..base
            },
            SessionContext {
                registrar_nonce: &[3; 16],
                ..base
            },
        ];
        for variant in &variants {
            assert_ne!(
                service.session_keys(variant).unwrap().device_to_registrar,
                reference
            );
        }
    }

    #[test]
    fn digest_password_uses_only_the_alphabet() {
        let password = service_key().digest_password();
        let text = password.expose_secret_password();
        assert_eq!(text.len(), DIGEST_PASSWORD_LEN);
        assert!(
            text.bytes().all(|c| DIGEST_PASSWORD_ALPHABET.contains(&c)),
            "{text}"
        );
        assert_eq!(format!("{password:?}"), "DigestPassword([redacted])");
        for index in 0..32u8 {
            assert_eq!(
                alphabet_char(index),
                DIGEST_PASSWORD_ALPHABET[usize::from(index)]
            );
        }
    }

    #[test]
    fn five_bit_groups_cover_the_first_160_bits() {
        let mut bytes = [0u8; TAG_LEN];
        bytes[..5].copy_from_slice(&[
            0b0000_1000,
            0b1000_0110,
            0b0100_0010,
            0b1001_1000,
            0b1110_1000,
        ]);
        let groups: Vec<u8> = (0..8).map(|i| five_bits(&bytes, i)).collect();
        assert_eq!(groups, [1, 2, 3, 4, 5, 6, 7, 8]);
        bytes[19] = 0x1f;
        assert_eq!(five_bits(&bytes, 31), 0x1f);
    }

    #[test]
    fn pin_signature_binds_the_pin_and_the_salt() {
        let device = schedule(1).device_key(b"key id").unwrap();
        let key = device.pin_signing_key(&Pin::new("0042").unwrap(), b"salt");
        let signature = key.sign(b"message");
        assert_eq!(key.verify(b"message", &signature), Ok(()));
        let other = device.pin_signing_key(&Pin::new("00042").unwrap(), b"salt");
        assert_eq!(other.verify(b"message", &signature), Err(Error::WrongProof));
        let other = device.pin_signing_key(&Pin::new("0042").unwrap(), b"salu");
        assert_eq!(other.verify(b"message", &signature), Err(Error::WrongProof));
        assert!(matches!(
            key.verify(b"message", &[0; 31]),
            Err(Error::WrongLength { .. })
        ));
    }

    #[test]
    fn pin_keys_match_an_independent_hmac() {
        // Python: v = hmac(b"salt", b"\x00\x17keyprov v1 pin verifier\x00\x041234");
        // hmac(bytes([0x11] * 32), b"\x00\x23keyprov v1 pin verifier signing key\x00\x20" + v)
        let verifier = PinVerifier::from_pin(b"salt", &Pin::new("1234").unwrap());
        assert_eq!(
            hex(verifier.expose_secret()),
            "84be6f6e7f95fc2fc18a394963f6e491a6367a6f4f94deee2547d0ce05dc18a7"
        );
        let device = DeviceSecretKey::from_bytes(&[0x11; 32]).unwrap();
        let expected = "e99894ce438414be606e9050e60c44995e8b367b0065baa8eb2c81fb2eecc350";
        let from_verifier = device.pin_signing_key_from_verifier(&verifier);
        assert_eq!(hex(from_verifier.expose_secret()), expected);
        let from_pin = device.pin_signing_key(&Pin::new("1234").unwrap(), b"salt");
        assert_eq!(hex(from_pin.expose_secret()), expected);
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn debug_output_shows_no_key_material() {
        let schedule = schedule(5);
        assert_eq!(
            format!("{schedule:?}"),
            "MasterKeySchedule { epoch: 5, keys: [redacted] }"
        );
        assert_eq!(
            format!("{:?}", service_key().mac_key()),
            "ServiceMacKey([redacted])"
        );
        let keys = service_key()
            .session_keys(&SessionContext {
                key_id: b"k",
                service_id: b"s",
                device_nonce: &[0; 16],
                registrar_nonce: &[1; 16],
            })
            .unwrap();
        let shown = format!("{keys:?}");
        assert_eq!(shown.matches("[redacted]").count(), 2, "{shown}");
    }

    #[test]
    fn key_id_convenience_checks_the_epoch() {
        let agent = AgentId::new("agent-1").unwrap();
        let device = DeviceId::extension("4711").unwrap();
        let key_id = KeyId::structured(3, agent, device, 1);
        let by_bytes = schedule(3).device_key(&key_id.to_bytes()).unwrap();
        assert_eq!(schedule(3).device_key_for(&key_id).unwrap(), by_bytes);
        let err = schedule(4).device_key_for(&key_id).unwrap_err();
        assert!(matches!(
            err,
            Error::InvalidValue {
                field: "key id epoch",
                ..
            }
        ));
    }
}
