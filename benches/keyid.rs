//! Key identifier encoding and decoding, binary and text, with throughput in bytes of the
//! encoding handled.
//!
//! `cargo bench --bench keyid`.

use std::hint::black_box;
use std::str::FromStr;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use keyprov::keyid::{AgentId, DeviceId, KeyId, UnstructuredValue, ValueSource};

/// Three sizes: a short structured identifier, a typical one, and the longest there is.
fn samples() -> Vec<(&'static str, KeyId)> {
    let short_agent = AgentId::new("a1").expect("valid agent");
    let agent = AgentId::new("agent-1").expect("valid agent");
    let longest_agent = AgentId::new(&"a".repeat(AgentId::MAX_LEN)).expect("valid agent");
    let longest_serial = DeviceId::serial_number(&"S".repeat(32)).expect("valid serial number");
    let random = UnstructuredValue::new(ValueSource::Random, &[0xa5; 16]).expect("16 bytes");
    vec![
        (
            "short",
            KeyId::structured(1, short_agent, DeviceId::extension("7").expect("ok"), 1),
        ),
        (
            "typical",
            KeyId::structured(1, agent, DeviceId::extension("4711").expect("ok"), 9),
        ),
        ("unstructured", KeyId::unstructured(1, agent, random)),
        (
            "longest",
            KeyId::structured(1, longest_agent, longest_serial, u32::MAX),
        ),
    ]
}

fn binary(c: &mut Criterion) {
    let mut group = c.benchmark_group("keyid_binary");
    for (name, key_id) in samples() {
        let bytes = key_id.to_bytes();
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_with_input(BenchmarkId::new("encode", name), &key_id, |b, id| {
            let mut out = [0u8; KeyId::MAX_LEN];
            b.iter(|| black_box(id).write_to(&mut out))
        });
        group.bench_with_input(BenchmarkId::new("decode", name), &bytes, |b, bytes| {
            b.iter(|| KeyId::from_bytes(black_box(bytes)))
        });
    }
    group.finish();
}

fn text(c: &mut Criterion) {
    let mut group = c.benchmark_group("keyid_text");
    for (name, key_id) in samples() {
        let text = key_id.to_string();
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_with_input(BenchmarkId::new("encode", name), &key_id, |b, id| {
            let mut out = [0u8; keyprov::keyid::MAX_TEXT_LEN];
            b.iter(|| black_box(id).write_text_to(&mut out).map(str::len))
        });
        group.bench_with_input(BenchmarkId::new("decode", name), &text, |b, text| {
            b.iter(|| KeyId::from_str(black_box(text)))
        });
    }
    group.finish();
}

criterion_group!(benches, binary, text);
criterion_main!(benches);
