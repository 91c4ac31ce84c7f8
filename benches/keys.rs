//! Key derivation costs, each measured beside a bare SHA-256 compression and beside the same
//! work done by `ring` and by plain `hmac`/`hkdf` usage, all in one run.
//!
//! `cargo bench --bench keys` prints a table of ratios at the end and writes it to
//! `<criterion home>/keys-summary.md`.

use std::hint::black_box;
use std::time::SystemTime;

use criterion::{BenchmarkGroup, Criterion, measurement::WallTime};
use hkdf::Hkdf;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use sha2::block_api::compress256;
use subtle::ConstantTimeEq;

#[path = "support/summary.rs"]
mod summary;

use summary::Ratio;

/// A fixed master key: benches measure time, not secrecy.
const MASTER: [u8; 32] = [0x4b; 32];
/// A registration transcript of the size the cost bound is stated for.
const TRANSCRIPT_LEN: usize = 200;
/// A key identifier's worth of bytes for the baselines (the real encoding is measured below).
const KEY_ID_LIKE: [u8; 40] = [0x6b; 40];

fn sha256_compression(c: &mut Criterion) {
    let mut group = c.benchmark_group("sha256");
    let block = [[0x5a_u8; 64]];
    let mut state = [0x6a09_e667_u32; 8];
    group.bench_function("compress", |b| {
        b.iter(|| {
            compress256(&mut state, black_box(&block));
            black_box(state[0])
        })
    });
    group.finish();
}

fn device_key_baselines(group: &mut BenchmarkGroup<'_, WallTime>, message: &[u8]) {
    let ring_key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &MASTER);
    group.bench_function("ring_hmac", |b| {
        b.iter(|| ring::hmac::sign(&ring_key, black_box(message)))
    });
    let keyed = Hmac::<Sha256>::new_from_slice(&MASTER).expect("any key length");
    group.bench_function("hmac_keyed_clone", |b| {
        b.iter(|| {
            let mut mac = keyed.clone();
            mac.update(black_box(message));
            mac.finalize().into_bytes()
        })
    });
    group.bench_function("hmac_from_key", |b| {
        b.iter(|| {
            let mut mac = Hmac::<Sha256>::new_from_slice(black_box(&MASTER)).expect("any key");
            mac.update(black_box(message));
            mac.finalize().into_bytes()
        })
    });
    let hkdf = Hkdf::<Sha256>::from_prk(&MASTER).expect("32-byte prk");
    group.bench_function("hkdf_expand", |b| {
        b.iter(|| {
            let mut okm = [0u8; 32];
            hkdf.expand(black_box(message), &mut okm)
                .expect("32 bytes fit");
            okm
        })
    });
}

fn device_key(c: &mut Criterion) {
    let mut group = c.benchmark_group("device_key");
    device_key_baselines(&mut group, &KEY_ID_LIKE);
    group.finish();
}

fn proof_baselines(group: &mut BenchmarkGroup<'_, WallTime>, transcript: &[u8]) {
    let ring_key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &MASTER);
    let tag = ring::hmac::sign(&ring_key, transcript);
    group.bench_function("ring_verify", |b| {
        b.iter(|| ring::hmac::verify(&ring_key, black_box(transcript), tag.as_ref()))
    });
    let keyed = Hmac::<Sha256>::new_from_slice(&MASTER).expect("any key length");
    group.bench_function("hmac_keyed_clone_verify", |b| {
        b.iter(|| {
            let mut mac = keyed.clone();
            mac.update(black_box(transcript));
            mac.verify_slice(black_box(tag.as_ref()))
        })
    });
}

fn registration_proof(c: &mut Criterion) {
    let mut group = c.benchmark_group("registration_proof");
    let transcript = [0x7e_u8; TRANSCRIPT_LEN];
    proof_baselines(&mut group, &transcript);
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

fn ratios() -> Vec<Ratio> {
    let two = |subject| Ratio {
        subject,
        baseline: "sha256/compress",
        times: 2.0,
        bound: None,
    };
    let five = |subject| Ratio {
        subject,
        baseline: "sha256/compress",
        times: 5.0,
        bound: None,
    };
    vec![
        two("device_key/ring_hmac"),
        two("device_key/hmac_keyed_clone"),
        two("device_key/hmac_from_key"),
        two("device_key/hkdf_expand"),
        five("registration_proof/ring_verify"),
        five("registration_proof/hmac_keyed_clone_verify"),
        Ratio {
            subject: "compare/ct_eq_32",
            baseline: "sha256/compress",
            times: 5.0,
            bound: Some(1.0),
        },
    ]
}

fn main() {
    let started = SystemTime::now();
    let mut c = Criterion::default().configure_from_args();
    sha256_compression(&mut c);
    device_key(&mut c);
    registration_proof(&mut c);
    constant_time_compare(&mut c);
    c.final_summary();
    summary::report("keys-summary.md", started, &ratios());
}
