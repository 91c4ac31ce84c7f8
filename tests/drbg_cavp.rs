//! HMAC_DRBG (SHA-256) against NIST CAVP records: 16 without reseed, 8 with reseed, covering
//! personalization strings and additional input; plus the limits, through the public API.

use keyprov::Error;
use keyprov::drbg::{HmacDrbg, MAX_REQUEST_LEN};
use rand_core::{TryCryptoRng, TryRng};

const NO_RESEED: &str = include_str!("vectors/nist-sp800-90a-hmac-drbg-sha256-noreseed.txt");
const RESEED: &str = include_str!("vectors/nist-sp800-90a-hmac-drbg-sha256-reseed.txt");

/// One CAVP record: its source comment and its fields in file order.
struct Record {
    source: String,
    fields: Vec<(String, Vec<u8>)>,
}

impl Record {
    fn one(&self, name: &str) -> &[u8] {
        let mut found = self.fields.iter().filter(|(n, _)| n == name);
        let value = found
            .next()
            .unwrap_or_else(|| panic!("{}: no {name}", self.source));
        assert!(found.next().is_none(), "{}: {name} twice", self.source);
        &value.1
    }

    fn all(&self, name: &str) -> Vec<&[u8]> {
        self.fields
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
            .collect()
    }
}

fn records(text: &str) -> Vec<Record> {
    let mut out = Vec::new();
    let mut source = String::new();
    for line in text.lines().map(str::trim) {
        if line.starts_with("# mbedtls") {
            source = line.to_owned();
        }
        let Some((name, value)) = line.split_once('=') else {
            continue;
        };
        if line.starts_with('#') || line.starts_with('[') {
            continue;
        }
        let name = name.trim().to_owned();
        if name == "COUNT" {
            out.push(Record {
                source: source.clone(),
                fields: Vec::new(),
            });
            continue;
        }
        out.last_mut()
            .unwrap()
            .fields
            .push((name, hex(value.trim())));
    }
    out
}

fn hex(text: &str) -> Vec<u8> {
    assert!(text.len() % 2 == 0, "odd hex length: {text}");
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

/// Generates twice (CAVP discards the first output) and checks the second.
fn check_two_generates(drbg: &mut HmacDrbg, record: &Record) {
    let additional = record.all("AdditionalInput");
    assert_eq!(additional.len(), 2, "{}", record.source);
    let expected = record.one("ReturnedBits");
    let mut out = vec![0u8; expected.len()];
    drbg.generate(&mut out, additional[0]).unwrap();
    drbg.generate(&mut out, additional[1]).unwrap();
    assert_eq!(out, expected, "{}", record.source);
}

fn instantiate(record: &Record) -> HmacDrbg {
    let (entropy, nonce) = (record.one("EntropyInput"), record.one("Nonce"));
    HmacDrbg::new(entropy, nonce, record.one("PersonalizationString")).unwrap()
}

#[test]
fn cavp_no_reseed_sixteen_records() {
    let records = records(NO_RESEED);
    assert_eq!(records.len(), 16);
    for record in &records {
        check_two_generates(&mut instantiate(record), record);
    }
}

#[test]
fn cavp_with_reseed_eight_records() {
    let records = records(RESEED);
    assert_eq!(records.len(), 8);
    let with_personalization = records
        .iter()
        .filter(|r| !r.one("PersonalizationString").is_empty());
    assert_eq!(with_personalization.count(), 4);
    for record in &records {
        let mut drbg = instantiate(record);
        let reseed = record.one("EntropyInputReseed");
        drbg.reseed(reseed, record.one("AdditionalInputReseed"))
            .unwrap();
        check_two_generates(&mut drbg, record);
    }
}

#[test]
fn rand_core_output_is_the_generate_output() {
    fn draw(rng: &mut impl TryCryptoRng<Error = Error>) -> [u8; 40] {
        let mut out = [0u8; 40];
        rng.try_fill_bytes(&mut out).unwrap();
        out
    }
    let record = &records(NO_RESEED)[0];
    let mut expected = [0u8; 40];
    instantiate(record).generate(&mut expected, &[]).unwrap();
    assert_eq!(draw(&mut instantiate(record)), expected);

    let mut word = [0u8; 8];
    instantiate(record).generate(&mut word, &[]).unwrap();
    assert_eq!(
        instantiate(record).try_next_u64(),
        Ok(u64::from_le_bytes(word))
    );
}

#[test]
fn limits_are_errors_naming_field_and_limit() {
    let short = HmacDrbg::new(&[0; 31], &[], &[]).unwrap_err();
    assert_eq!(
        short.to_string(),
        "entropy input too short: 31 < minimum 32"
    );
    let mut drbg = HmacDrbg::new(&[0; 32], &[], &[]).unwrap();
    let err = drbg.reseed(&[0; 16], &[]).unwrap_err();
    assert_eq!(
        err,
        Error::TooShort {
            field: "entropy input",
            min: 32,
            actual: 16
        }
    );
    let mut big = vec![0u8; MAX_REQUEST_LEN + 1];
    let err = drbg.generate(&mut big, &[]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "requested bytes too long: 65537 > maximum 65536"
    );
    let too_long = vec![0u8; 65537];
    let err = HmacDrbg::new(&[0; 32], &[], &too_long).unwrap_err();
    assert_eq!(
        err,
        Error::TooLong {
            field: "personalization string",
            max: 65536,
            actual: 65537
        }
    );
    drbg.generate(&mut big[..MAX_REQUEST_LEN], &[]).unwrap();
}

#[test]
fn reseed_required_after_the_interval() {
    let mut drbg = HmacDrbg::new(&[1; 32], &[2; 16], b"interval").unwrap();
    drbg.set_reseed_interval(3).unwrap();
    let mut out = [0u8; 16];
    for _ in 0..3 {
        drbg.generate(&mut out, &[]).unwrap();
    }
    assert_eq!(drbg.generate(&mut out, &[]), Err(Error::ReseedRequired));
    assert_eq!(drbg.try_next_u32(), Err(Error::ReseedRequired));
    drbg.reseed(&[3; 32], &[]).unwrap();
    assert!(drbg.generate(&mut out, &[]).is_ok());
}
