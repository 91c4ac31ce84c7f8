//! Registrar-side Digest verification per algorithm: read the Authorization value, check the
//! nonce, compute and compare the response, check and record the nonce count, and build the
//! Authentication-Info proof. One element is one verified registration.
//!
//! Each measured call gets a fresh Authorization (next nonce count) made outside the timing.

use std::hint::black_box;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use keyprov::digest::server::CredentialLookup;
use keyprov::digest::{
    Algorithm, Client, ClientCredential, ClientPolicy, HashAlgorithm, Outcome, Qop, Registrar,
    RegistrarPolicy, Request, StoredCredential, ha1,
};
use keyprov::drbg::HmacDrbg;
use keyprov::secret::{DigestNonceSecret, DigestPassphrase};

const REALM: &str = "sip.example.com";
const KEY_ID: &str = "kp1-7Q2M4X9C-0001";
const NOW: u64 = 1_700_000_000;
const REGISTER: Request<'static> = Request {
    method: "REGISTER",
    uri: "sip:sip.example.com",
    body: b"",
};

/// A fixed password: benches measure time, not secrecy.
fn password() -> DigestPassphrase {
    DigestPassphrase::from_bytes(b"7KQ3M9XH2PWD4VNB8TC6RYJG5FELZAS2").unwrap()
}

fn setup(algorithm: Algorithm, qop: Qop) -> (Registrar, Client, HmacDrbg) {
    let mut policy = RegistrarPolicy::new(REALM);
    policy.algorithms = vec![algorithm];
    policy.qop = vec![qop];
    // Long enough that the nonce never expires during a run.
    policy.nonce_lifetime = 86_400;
    let registrar = Registrar::new(policy, DigestNonceSecret::from_bytes(&[9; 32]).unwrap());
    let registrar = registrar.unwrap();
    let policy = ClientPolicy {
        prefer_auth_int: qop == Qop::AuthInt,
        ..Default::default()
    };
    let mut client = Client::new(KEY_ID, ClientCredential::Password(password()), policy);
    let mut rng = HmacDrbg::new(&[0x42; 32], &[0x17; 16], b"digest bench").unwrap();
    let challenges = registrar.challenges(NOW, false, &mut rng).unwrap();
    client
        .handle_challenges(challenges.iter().map(String::as_str))
        .unwrap();
    (registrar, client, rng)
}

fn verify(c: &mut Criterion) {
    let mut group = c.benchmark_group("digest_verify");
    group.throughput(Throughput::Elements(1));
    for hash in HashAlgorithm::ALL {
        for (session, qop) in [(false, Qop::Auth), (true, Qop::Auth), (false, Qop::AuthInt)] {
            let algorithm = Algorithm {
                hash: *hash,
                session,
            };
            let name = format!("{}/{}", algorithm.token(), qop.token());
            let stored = StoredCredential::Ha1 {
                hash: *hash,
                ha1: ha1(*hash, KEY_ID, REALM, &password()),
            };
            let (mut registrar, mut client, mut rng) = setup(algorithm, qop);
            group.bench_function(name, |b| {
                b.iter_batched(
                    || client.authorize(&REGISTER, &mut rng).unwrap(),
                    |authorization| {
                        let lookup = |_: &_| CredentialLookup::Found(stored.clone());
                        let outcome =
                            registrar.verify_header(&authorization, &REGISTER, NOW + 1, lookup);
                        assert!(matches!(outcome, Outcome::Accepted(_)));
                        black_box(outcome)
                    },
                    BatchSize::SmallInput,
                )
            });
        }
    }
    group.finish();
}

criterion_group!(benches, verify);
criterion_main!(benches);
