//! Key derivation costs, each measured beside a bare SHA-256 compression and beside the same
//! work done by `ring` and by plain `hmac`/`hkdf` usage, all in one run.
//!
//! Every derivation is compared with the number of compressions its inputs need at the least
//! (the "work" column of docs/performance.md). `cargo bench --bench keys` prints the ratios at
//! the end and writes them to `<criterion home>/keys-summary.md`.

use std::hint::black_box;
use std::time::{Duration, Instant, SystemTime};

use criterion::{BenchmarkGroup, Criterion, Throughput, measurement::WallTime};
use hkdf::Hkdf;
use hmac::{Hmac, KeyInit, Mac};
use keyprov::device::{Registration, RegistrationConfig, RegistrationMode};
use keyprov::keyid::{AgentId, DeviceId, KeyId};
use keyprov::keys::{MasterKeySchedule, MasterKeyring, ServiceMacKey, SessionContext};
use keyprov::registrar::{
    Event as RegistrarEvent, FetchedKey, Registrar, RegistrarConfig, Session,
};
use keyprov::secret::{DeviceSecretKey, MasterKey, Pin, PinVerifier, ServiceKey};
use sha2::Sha256;
use sha2::block_api::compress256;
use subtle::ConstantTimeEq;

#[path = "support/summary.rs"]
mod summary;

use summary::Ratio;

/// A fixed master key seed: benches measure time, not secrecy.
const SEED: [u8; 32] = [0x4b; 32];
/// A registration transcript of the size the cost bound is stated for.
const TRANSCRIPT_LEN: usize = 200;
/// The service (registrar realm) the service key belongs to.
const SERVICE: &[u8] = b"sip.example.com";

type Group<'a> = BenchmarkGroup<'a, WallTime>;
/// A named routine for the interleaved measurements.
type Row<'a> = (&'static str, Box<dyn FnMut() + 'a>);

fn master_key() -> MasterKey {
    MasterKey::from_seed(&SEED, b"example.com", 1).expect("valid seed")
}

/// A structured key identifier of a typical size: 22 bytes.
fn typical_key_id() -> KeyId {
    let agent = AgentId::new("agent-1").expect("valid agent");
    KeyId::structured(
        1,
        agent,
        DeviceId::extension("4711").expect("valid extension"),
        9,
    )
}

fn sha256_compression(c: &mut Criterion) {
    let mut group = c.benchmark_group("sha256");
    let block = [[0x5a_u8; 64]];
    let mut state = [0x6a09_e667_u32; 8];
    group.throughput(Throughput::Bytes(64));
    group.bench_function("compress", |b| {
        b.iter(|| {
            compress256(&mut state, black_box(&block));
            black_box(state[0])
        })
    });
    group.finish();
}

fn master_key_generation(c: &mut Criterion) {
    let mut group = c.benchmark_group("master_key");
    group.bench_function("from_seed", |b| {
        b.iter(|| MasterKey::from_seed(black_box(&SEED), b"example.com", 1))
    });
    let master = master_key();
    group.bench_function("schedule_new", |b| {
        b.iter(|| MasterKeySchedule::new(black_box(&master)))
    });
    group.finish();
}

/// `HMAC(key, message)` done by ring and by the `hmac` crate, key setup included or not.
fn hmac_baselines(group: &mut Group<'_>, key: &[u8], message: &[u8], keyed: bool) {
    let ring_key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key);
    let hmac_key = Hmac::<Sha256>::new_from_slice(key).expect("any key length");
    if keyed {
        group.bench_function("ring", |b| {
            b.iter(|| ring::hmac::sign(&ring_key, black_box(message)))
        });
        group.bench_function("hmac", |b| {
            b.iter(|| {
                let mut mac = hmac_key.clone();
                mac.update(black_box(message));
                mac.finalize().into_bytes()
            })
        });
    } else {
        group.bench_function("ring", |b| {
            b.iter(|| {
                let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, black_box(key));
                ring::hmac::sign(&key, black_box(message))
            })
        });
        group.bench_function("hmac", |b| {
            b.iter(|| {
                let mut mac = Hmac::<Sha256>::new_from_slice(black_box(key)).expect("any key");
                mac.update(black_box(message));
                mac.finalize().into_bytes()
            })
        });
    }
}

fn device_key(c: &mut Criterion) {
    let mut group = c.benchmark_group("device_key");
    let schedule = MasterKeySchedule::new(&master_key());
    let key_id = typical_key_id();
    let encoded = key_id.to_bytes();
    group.bench_function("keyprov", |b| {
        b.iter(|| schedule.device_key(black_box(&encoded)))
    });
    let longest_fast = [0x6b_u8; keyprov::keys::KEY_ID_FAST_MAX_LEN];
    group.bench_function("keyprov_54_bytes", |b| {
        b.iter(|| schedule.device_key(black_box(&longest_fast)))
    });
    group.bench_function("keyprov_from_key_id", |b| {
        b.iter(|| schedule.device_key_for(black_box(&key_id)))
    });
    let mut keyring = MasterKeyring::new();
    keyring.insert(&master_key()).expect("fresh epoch");
    group.bench_function("keyprov_keyring", |b| {
        b.iter(|| keyring.device_key(black_box(&key_id)))
    });

    // The same two compressions elsewhere: a keyed HMAC over 0x01 || key id, and HKDF-Expand
    // from a 32-byte PRK with the key id as info (one output block).
    let subkey = [0x4b_u8; 32];
    let mut message = vec![keyprov::keys::DEVICE_KEY_DOMAIN];
    message.extend_from_slice(&encoded);
    hmac_baselines(&mut group, &subkey, &message, true);
    let hkdf = Hkdf::<Sha256>::from_prk(&subkey).expect("32-byte prk");
    group.bench_function("hkdf", |b| {
        b.iter(|| {
            let mut okm = [0u8; 32];
            hkdf.expand(black_box(&message), &mut okm)
                .expect("32 bytes fit");
            okm
        })
    });
    group.finish();
}

/// `lp(label) || lp(field)...`, the message of a keyprov derivation, for the baselines.
fn derivation_message(label: &[u8], fields: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for part in std::iter::once(&label).chain(fields) {
        out.extend_from_slice(&(part.len() as u16).to_be_bytes());
        out.extend_from_slice(part);
    }
    out
}

fn device_side_keys(c: &mut Criterion) {
    let device = DeviceSecretKey::from_bytes(&[0x21; 32]).expect("32 bytes");
    let key = device.expose_secret().to_vec();
    let labels = keyprov::keys::labels::AUTHENTICATION_KEY;

    let mut group = c.benchmark_group("authentication_key");
    group.bench_function("keyprov", |b| {
        b.iter(|| black_box(&device).authentication_key())
    });
    hmac_baselines(&mut group, &key, &derivation_message(labels, &[]), false);
    group.finish();

    let verifier = PinVerifier::from_pin(b"salt", &Pin::new("2468").expect("valid pin"));
    let mut group = c.benchmark_group("pin_signing_key");
    group.bench_function("keyprov", |b| {
        b.iter(|| black_box(&device).pin_signing_key_from_verifier(&verifier))
    });
    let label = keyprov::keys::labels::PIN_VERIFIER_SIGNING_KEY;
    let message = derivation_message(label, &[verifier.expose_secret()]);
    hmac_baselines(&mut group, &key, &message, false);
    group.finish();

    let auth = device.authentication_key();
    let mut group = c.benchmark_group("service_key");
    group.bench_function("keyprov", |b| {
        b.iter(|| black_box(&auth).service_key(SERVICE))
    });
    let message = derivation_message(keyprov::keys::labels::SERVICE_KEY, &[SERVICE]);
    hmac_baselines(&mut group, auth.expose_secret(), &message, false);
    group.finish();
}

fn service_side_keys(c: &mut Criterion) {
    let service = ServiceKey::from_bytes(&[0x31; 32]).expect("32 bytes");
    let key = service.expose_secret().to_vec();

    let mut group = c.benchmark_group("mac_key");
    group.bench_function("keyprov", |b| b.iter(|| black_box(&service).mac_key()));
    group.finish();

    let mut group = c.benchmark_group("digest_password");
    group.bench_function("keyprov", |b| {
        b.iter(|| black_box(&service).digest_password())
    });
    let message = derivation_message(keyprov::keys::labels::DIGEST_PASSWORD, &[]);
    hmac_baselines(&mut group, &key, &message, false);
    group.finish();

    let key_id = typical_key_id().to_bytes();
    let context = SessionContext {
        key_id: &key_id,
        service_id: SERVICE,
        device_nonce: &[0x44; 32],
        registrar_nonce: &[0x55; 32],
    };
    let mut group = c.benchmark_group("session_keys");
    group.bench_function("keyprov", |b| {
        b.iter(|| black_box(&service).session_keys(&context))
    });
    group.finish();
}

fn registration_proof(c: &mut Criterion) {
    let mut group = c.benchmark_group("registration_proof");
    let service = ServiceKey::from_bytes(&[0x31; 32]).expect("32 bytes");
    let mac_key = service.mac_key();
    let transcript = [0x7e_u8; TRANSCRIPT_LEN];
    let tag = mac_key.mac(&transcript);
    group.throughput(Throughput::Bytes(TRANSCRIPT_LEN as u64));
    group.bench_function("keyprov_mac", |b| {
        b.iter(|| mac_key.mac(black_box(&transcript)))
    });
    group.bench_function("keyprov_verify", |b| {
        b.iter(|| mac_key.verify(black_box(&transcript), black_box(&tag)))
    });
    let state = mac_key.expose_secret_state();
    group.bench_function("keyprov_verify_from_cached_state", |b| {
        b.iter(|| {
            let key = ServiceMacKey::from_secret_state(black_box(&state[..])).expect("64 bytes");
            key.verify(black_box(&transcript), black_box(&tag))
        })
    });

    let raw_key = [0x31_u8; 32];
    let ring_key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &raw_key);
    let ring_tag = ring::hmac::sign(&ring_key, &transcript);
    group.bench_function("ring_verify", |b| {
        b.iter(|| ring::hmac::verify(&ring_key, black_box(&transcript), ring_tag.as_ref()))
    });
    let keyed = Hmac::<Sha256>::new_from_slice(&raw_key).expect("any key length");
    group.bench_function("hmac_verify", |b| {
        b.iter(|| {
            let mut mac = keyed.clone();
            mac.update(black_box(&transcript));
            mac.verify_slice(black_box(ring_tag.as_ref()))
        })
    });
    group.finish();
}

/// Distinct nonces for the registration benches; not a secure source.
struct BenchRng(u64);

impl rand_core::TryRng for BenchRng {
    type Error = std::convert::Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        self.try_next_u64().map(|v| v as u32)
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        self.0 += 1;
        Ok(self.0.wrapping_mul(0x9e37_79b9_7f4a_7c15))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        for chunk in dst.chunks_mut(8) {
            chunk.copy_from_slice(&self.try_next_u64()?.to_be_bytes()[..chunk.len()]);
        }
        Ok(())
    }
}

impl rand_core::TryCryptoRng for BenchRng {}

/// A registrar that already holds the device's key, and the device's credentials.
struct RegistrationBench {
    registrar: Registrar,
    key_id: KeyId,
    device_key: DeviceSecretKey,
    rng: BenchRng,
    now: u64,
    registrations: u64,
}

impl RegistrationBench {
    fn new() -> Self {
        let key_id = typical_key_id();
        let device_key = MasterKeySchedule::new(&master_key()).device_key(&key_id.to_bytes());
        let mut bench = Self {
            registrar: Registrar::new(RegistrarConfig {
                service: SERVICE.to_vec(),
                challenge_lifetime: 30,
                clock_window: 60,
                registration_lifetime: 3600,
                key_cache_capacity: 1024,
                replay_cache_capacity: 65_536,
            }),
            key_id,
            device_key: device_key.expect("valid key id"),
            rng: BenchRng(0),
            now: 1_800_000_000,
            registrations: 0,
        };
        bench.warm_cache();
        bench
    }

    fn device(&self, mode: RegistrationMode) -> Registration {
        let config = RegistrationConfig {
            service: SERVICE.to_vec(),
            mode,
            sequence: 1,
            user: None,
            response_timeout: 30,
        };
        Registration::new(config, self.key_id, &self.device_key).expect("valid configuration")
    }

    /// One registration that fetches the key, so the timed ones find it cached.
    fn warm_cache(&mut self) {
        let mut device = self.device(RegistrationMode::Time);
        device.start(self.now, &mut self.rng).expect("starts");
        let first = device.poll_transmit().expect("a message");
        let mut session = Session::new();
        let (registrar, rng) = (&mut self.registrar, &mut self.rng);
        session
            .handle_message(registrar, self.now, rng, &first)
            .expect("accepted");
        let Some(RegistrarEvent::FetchKey { handle, .. }) = session.poll_event() else {
            panic!("the first registration fetches the key")
        };
        let service_key = self.device_key.authentication_key().service_key(SERVICE);
        let key = FetchedKey {
            service_key: service_key.expect("valid service"),
            not_after: u64::MAX,
            pin_key: None,
        };
        session
            .handle_key_result(registrar, self.now, rng, handle, Ok(key))
            .expect("key");
        assert!(session.is_registered());
    }

    /// The registrar's work for one challenge-free registration: decode, freshness, replay
    /// cache, proof, session keys, answer. The clock advances a second every 16 registrations,
    /// so the replay cache holds about a thousand live entries, as in service.
    fn challenge_free(&mut self, timed: &mut Duration) {
        self.registrations += 1;
        self.now += u64::from(self.registrations % 16 == 0);
        let mut device = self.device(RegistrationMode::Time);
        device.start(self.now, &mut self.rng).expect("starts");
        let direct = device.poll_transmit().expect("a message");
        let mut session = Session::new();
        let started = Instant::now();
        let result = session.handle_message(&mut self.registrar, self.now, &mut self.rng, &direct);
        *timed += started.elapsed();
        let events: Vec<_> = std::iter::from_fn(|| session.poll_event()).collect();
        assert!(
            session.is_registered(),
            "not registered: {result:?} {events:?}"
        );
    }

    /// The registrar's work for one challenge-response registration: the hello, then the
    /// proof over the transcript.
    fn challenge_response(&mut self, timed: &mut Duration) {
        let mut device = self.device(RegistrationMode::ChallengeResponse);
        device.start(self.now, &mut self.rng).expect("starts");
        let hello = device.poll_transmit().expect("a hello");
        let mut session = Session::new();
        let (registrar, rng, now) = (&mut self.registrar, &mut self.rng, self.now);
        let started = Instant::now();
        session
            .handle_message(registrar, now, rng, &hello)
            .expect("hello accepted");
        *timed += started.elapsed();
        let challenge = session.poll_transmit().expect("a challenge");
        device
            .handle_message(&challenge)
            .expect("challenge accepted");
        let proof = device.poll_transmit().expect("a proof");
        let started = Instant::now();
        session
            .handle_message(registrar, now, rng, &proof)
            .expect("proof accepted");
        *timed += started.elapsed();
        assert!(session.is_registered(), "registered from the cache");
    }
}

fn registration(c: &mut Criterion) {
    let mut group = c.benchmark_group("registration");
    let mut bench = RegistrationBench::new();
    group.bench_function("challenge_free_verify", |b| {
        b.iter_custom(|iterations| {
            let mut timed = Duration::ZERO;
            (0..iterations).for_each(|_| bench.challenge_free(&mut timed));
            timed
        })
    });
    group.bench_function("challenge_response_verify", |b| {
        b.iter_custom(|iterations| {
            let mut timed = Duration::ZERO;
            (0..iterations).for_each(|_| bench.challenge_response(&mut timed));
            timed
        })
    });
    group.finish();
}

fn constant_time_compare(c: &mut Criterion) {
    let mut group = c.benchmark_group("compare");
    let a = [0x11_u8; 32];
    let mut b_bytes = a;
    b_bytes[31] ^= 1;
    group.bench_function("ct_eq_32", |b| {
        b.iter(|| bool::from(black_box(&a[..]).ct_eq(black_box(&b_bytes[..]))))
    });
    group.finish();
}

/// Each measured bench and the least work its inputs need, in compressions.
const WORK: &[(&str, f64, Option<f64>)] = &[
    ("master_key/schedule_new", 6.0, None),
    ("device_key/keyprov", 2.0, Some(1.3)),
    ("device_key/keyprov_54_bytes", 2.0, Some(1.3)),
    ("device_key/keyprov_from_key_id", 2.0, None),
    ("device_key/keyprov_keyring", 2.0, None),
    ("device_key/ring", 2.0, None),
    ("device_key/hmac", 2.0, None),
    ("device_key/hkdf", 2.0, None),
    ("authentication_key/keyprov", 4.0, None),
    ("authentication_key/ring", 4.0, None),
    ("authentication_key/hmac", 4.0, None),
    ("pin_signing_key/keyprov", 5.0, None),
    ("pin_signing_key/ring", 5.0, None),
    ("pin_signing_key/hmac", 5.0, None),
    ("service_key/keyprov", 4.0, None),
    ("service_key/ring", 4.0, None),
    ("service_key/hmac", 4.0, None),
    ("mac_key/keyprov", 6.0, None),
    ("digest_password/keyprov", 4.0, None),
    ("digest_password/ring", 4.0, None),
    ("digest_password/hmac", 4.0, None),
    ("session_keys/keyprov", 12.0, None),
    ("registration_proof/keyprov_mac", 5.0, None),
    ("registration_proof/keyprov_verify", 5.0, Some(1.2)),
    (
        "registration_proof/keyprov_verify_from_cached_state",
        5.0,
        Some(1.2),
    ),
    ("registration_proof/ring_verify", 5.0, None),
    ("registration_proof/hmac_verify", 5.0, None),
    ("registration/challenge_free_verify", 1.0, None),
    ("registration/challenge_response_verify", 1.0, None),
];

fn ratios() -> Vec<Ratio> {
    let mut out: Vec<Ratio> = WORK
        .iter()
        .map(|&(subject, times, bound)| Ratio {
            subject,
            baseline: "sha256/compress",
            times,
            bound,
        })
        .collect();
    // The constant-time comparison against the hashing it protects.
    for (baseline, times) in [
        ("registration_proof/keyprov_mac", 1.0),
        ("sha256/compress", 2.0),
    ] {
        out.push(Ratio {
            subject: "compare/ct_eq_32",
            baseline,
            times,
            bound: Some(1.0),
        });
    }
    out
}

/// Two compressions as HMAC chains them: the inner block, then the outer block made of the
/// inner state in big-endian bytes and the padding.
fn chained_pair() -> impl FnMut() {
    let inner_key_state = [0x6a09_e667_u32; 8];
    let outer_key_state = [0x510e_527f_u32; 8];
    let mut inner_block = [[0u8; 64]];
    inner_block[0][..23].fill(0x6b);
    inner_block[0][23] = 0x80;
    inner_block[0][62..].copy_from_slice(&(87u16 * 8).to_be_bytes());
    move || {
        let mut inner = inner_key_state;
        compress256(&mut inner, black_box(&inner_block));
        let mut outer_block = [[0u8; 64]];
        for (chunk, word) in outer_block[0][..32].chunks_exact_mut(4).zip(&inner) {
            chunk.copy_from_slice(&word.to_be_bytes());
        }
        outer_block[0][32] = 0x80;
        outer_block[0][62..].copy_from_slice(&(96u16 * 8).to_be_bytes());
        let mut outer = outer_key_state;
        compress256(&mut outer, &outer_block);
        black_box(outer);
    }
}

/// `HMAC(key, message)` with the key set up in the same call, through ring and the `hmac`
/// crate: what the derivations below cost elsewhere.
fn unkeyed_baselines<'a>(key: &'a [u8], message: &'a [u8]) -> [Row<'a>; 2] {
    [
        (
            "ring",
            Box::new(move || {
                let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, black_box(key));
                black_box(ring::hmac::sign(&key, black_box(message)));
            }),
        ),
        (
            "hmac",
            Box::new(move || {
                let mut mac = Hmac::<Sha256>::new_from_slice(black_box(key)).expect("any key");
                mac.update(black_box(message));
                black_box(mac.finalize().into_bytes());
            }),
        ),
    ]
}

/// The derivations without a bound, each against the compressions its inputs need, with the
/// same work through ring and the `hmac` crate where there is an equivalent.
fn derivation_rows(table: &mut String, compress: &mut dyn FnMut()) {
    let device = DeviceSecretKey::from_bytes(&[0x21; 32]).expect("32 bytes");
    let auth = device.authentication_key();
    let service = ServiceKey::from_bytes(&[0x31; 32]).expect("32 bytes");
    let verifier = PinVerifier::from_pin(b"salt", &Pin::new("2468").expect("valid pin"));
    let master = master_key();
    let labels = (
        derivation_message(keyprov::keys::labels::AUTHENTICATION_KEY, &[]),
        derivation_message(keyprov::keys::labels::SERVICE_KEY, &[SERVICE]),
        derivation_message(keyprov::keys::labels::DIGEST_PASSWORD, &[]),
    );
    let key_id = typical_key_id().to_bytes();
    let context = SessionContext {
        key_id: &key_id,
        service_id: SERVICE,
        device_nonce: &[0x44; 32],
        registrar_nonce: &[0x55; 32],
    };
    let mut rows: Vec<(&str, f64, Row<'_>)> = vec![
        (
            "master_key/schedule_new",
            6.0,
            (
                "keyprov",
                Box::new(|| {
                    black_box(MasterKeySchedule::new(black_box(&master)));
                }),
            ),
        ),
        (
            "authentication_key",
            4.0,
            (
                "keyprov",
                Box::new(|| {
                    black_box(black_box(&device).authentication_key());
                }),
            ),
        ),
        (
            "service_key",
            4.0,
            (
                "keyprov",
                Box::new(|| {
                    black_box(black_box(&auth).service_key(SERVICE).is_ok());
                }),
            ),
        ),
        (
            "pin_signing_key",
            5.0,
            (
                "keyprov",
                Box::new(|| {
                    black_box(black_box(&device).pin_signing_key_from_verifier(&verifier));
                }),
            ),
        ),
        (
            "mac_key",
            6.0,
            (
                "keyprov",
                Box::new(|| {
                    black_box(black_box(&service).mac_key());
                }),
            ),
        ),
        (
            "digest_password",
            4.0,
            (
                "keyprov",
                Box::new(|| {
                    black_box(black_box(&service).digest_password());
                }),
            ),
        ),
        (
            "session_keys",
            12.0,
            (
                "keyprov",
                Box::new(|| {
                    black_box(black_box(&service).session_keys(&context).is_ok());
                }),
            ),
        ),
    ];
    for (group, message) in [
        ("authentication_key", &labels.0),
        ("service_key", &labels.1),
    ] {
        for row in unkeyed_baselines(device.expose_secret(), message) {
            rows.push((group, 4.0, row));
        }
    }
    for row in unkeyed_baselines(service.expose_secret(), &labels.2) {
        rows.push(("digest_password", 4.0, row));
    }
    for (group, times, (name, subject)) in rows {
        let ratio = summary::interleaved_ratio(subject, &mut *compress, times);
        let work = format!("{times} compressions");
        summary::interleaved_line(table, &format!("{group}/{name}"), &work, ratio, None);
    }
}

/// The bounded ratios again, with subject and baseline timed in alternating batches.
fn interleaved() -> String {
    let mut table = String::from("\n| interleaved | work | median ratio |\n|---|---|---|\n");
    let block = [[0x5a_u8; 64]];
    let mut state = [0x6a09_e667_u32; 8];
    let mut compress = move || {
        compress256(&mut state, black_box(&block));
        black_box(state[0]);
    };

    let schedule = MasterKeySchedule::new(&master_key());
    let key_id = typical_key_id().to_bytes();
    let longest_fast = [0x6b_u8; keyprov::keys::KEY_ID_FAST_MAX_LEN];
    let ring_key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &[0x4b; 32]);
    let hmac_key = Hmac::<Sha256>::new_from_slice(&[0x4b; 32]).expect("any key length");
    let device_rows: [Row<'_>; 4] = [
        (
            "device_key/keyprov (22-byte key id)",
            Box::new(|| {
                black_box(schedule.device_key(black_box(&key_id)).is_ok());
            }),
        ),
        (
            "device_key/keyprov_54_bytes",
            Box::new(|| {
                black_box(schedule.device_key(black_box(&longest_fast)).is_ok());
            }),
        ),
        (
            "device_key/ring",
            Box::new(|| {
                black_box(ring::hmac::sign(&ring_key, black_box(&key_id)));
            }),
        ),
        (
            "device_key/hmac",
            Box::new(|| {
                let mut mac = hmac_key.clone();
                mac.update(black_box(&key_id));
                black_box(mac.finalize().into_bytes());
            }),
        ),
    ];
    for (name, subject) in device_rows {
        let bound = name.starts_with("device_key/keyprov").then_some(1.3);
        let ratio = summary::interleaved_ratio(subject, &mut compress, 2.0);
        summary::interleaved_line(&mut table, name, "2 compressions", ratio, bound);
    }

    // HMAC's second compression needs the first one's output, turned into big-endian bytes;
    // back-to-back compressions of fixed blocks overlap in the processor and need no
    // conversion. This is the least any HMAC over a short message can cost.
    let ratio = summary::interleaved_ratio(
        || {
            black_box(schedule.device_key(black_box(&key_id)).is_ok());
        },
        chained_pair(),
        1.0,
    );
    let work = "2 chained compressions";
    summary::interleaved_line(
        &mut table,
        "device_key/keyprov (22-byte key id)",
        work,
        ratio,
        None,
    );

    let mac_key = ServiceKey::from_bytes(&[0x31; 32])
        .expect("32 bytes")
        .mac_key();
    let transcript = [0x7e_u8; TRANSCRIPT_LEN];
    let tag = mac_key.mac(&transcript);
    let state = mac_key.expose_secret_state();
    let proof_rows: [Row<'_>; 3] = [
        (
            "registration_proof/keyprov_verify",
            Box::new(|| {
                black_box(
                    mac_key
                        .verify(black_box(&transcript), black_box(&tag))
                        .is_ok(),
                );
            }),
        ),
        (
            "registration_proof/keyprov_verify_from_cached_state",
            Box::new(|| {
                let key =
                    ServiceMacKey::from_secret_state(black_box(&state[..])).expect("64 bytes");
                black_box(key.verify(black_box(&transcript), black_box(&tag)).is_ok());
            }),
        ),
        (
            "registration_proof/ring_verify",
            Box::new(|| {
                let ok = ring::hmac::verify(&ring_key, black_box(&transcript), black_box(&tag));
                black_box(ok.is_ok());
            }),
        ),
    ];
    for (name, subject) in proof_rows {
        let bound = name
            .starts_with("registration_proof/keyprov")
            .then_some(1.2);
        let ratio = summary::interleaved_ratio(subject, &mut compress, 5.0);
        summary::interleaved_line(&mut table, name, "5 compressions", ratio, bound);
    }

    derivation_rows(&mut table, &mut compress);

    let mut other = tag;
    other[31] ^= 1;
    let ratio = summary::interleaved_ratio(
        || {
            black_box(bool::from(black_box(&tag[..]).ct_eq(black_box(&other[..]))));
        },
        || {
            black_box(mac_key.mac(black_box(&transcript)));
        },
        1.0,
    );
    summary::interleaved_line(
        &mut table,
        "compare/ct_eq_32",
        "the proof's mac",
        ratio,
        Some(1.0),
    );

    // keyprov's own comparison is inside verify: verify costs the MAC plus the comparison, so
    // the comparison costs no more than the hashing while this ratio stays at or under 2.
    let ratio = summary::interleaved_ratio(
        || {
            black_box(
                mac_key
                    .verify(black_box(&transcript), black_box(&other))
                    .is_err(),
            );
        },
        || {
            black_box(mac_key.mac(black_box(&transcript)));
        },
        1.0,
    );
    let name = "registration_proof/keyprov_verify (wrong tag)";
    summary::interleaved_line(&mut table, name, "the proof's mac", ratio, Some(2.0));
    table
}

fn main() {
    let started = SystemTime::now();
    let mut c = Criterion::default().configure_from_args();
    sha256_compression(&mut c);
    master_key_generation(&mut c);
    device_key(&mut c);
    device_side_keys(&mut c);
    service_side_keys(&mut c);
    registration_proof(&mut c);
    registration(&mut c);
    constant_time_compare(&mut c);
    c.final_summary();
    let extra = if summary::smoke_or_list() {
        String::new()
    } else {
        interleaved()
    };
    summary::report("keys-summary.md", started, &ratios(), &extra);
}
