//! Reads criterion's estimates back after a run and reports each bench as a multiple of its
//! bound: the ratios in docs/performance.md come from here.
//!
//! Criterion keeps its results in `<criterion home>/<group>/<bench>/new/estimates.json`; only
//! files written during this run count, so a filtered or `--test` run reports "not measured"
//! instead of an old figure.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// One line of the summary: `subject` costs `ratio` times `times` x `baseline`, against `bound`.
pub struct Ratio {
    /// What is measured, as `group/bench`.
    pub subject: &'static str,
    /// What it is compared with, as `group/bench`.
    pub baseline: &'static str,
    /// How many baselines make the work the subject is compared with (2 for two compressions).
    pub times: f64,
    /// How many baselines the bound allows (`None`: a plain comparison, no bound).
    pub bound: Option<f64>,
}

/// Where criterion writes, found the way criterion itself finds it.
pub fn criterion_home() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return PathBuf::from(home);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("target"),
        PathBuf::from,
    );
    target.join("criterion")
}

/// The median time in nanoseconds of `group/bench`, if it was measured since `since`.
pub fn median_ns(id: &str, since: SystemTime) -> Option<f64> {
    let path = criterion_home().join(id).join("new").join("estimates.json");
    let modified = std::fs::metadata(&path).and_then(|m| m.modified()).ok()?;
    if modified < since {
        return None;
    }
    let json = std::fs::read_to_string(&path).ok()?;
    point_estimate(&json, "median")
}

/// The `point_estimate` of one statistic in criterion's estimates.json.
fn point_estimate(json: &str, statistic: &str) -> Option<f64> {
    let section = &json[json.find(&format!("\"{statistic}\""))?..];
    let value = &section[section.find("\"point_estimate\":")? + "\"point_estimate\":".len()..];
    let end = value.find([',', '}'])?;
    value[..end].trim().parse().ok()
}

/// Prints the ratios and writes them to `<criterion home>/<file>` as a markdown table, followed
/// by `extra` (the interleaved measurements).
pub fn report(file: &str, since: SystemTime, ratios: &[Ratio], extra: &str) {
    let mut table =
        String::from("| measured | compared with | median ns | compared ns | ratio | bound |\n");
    table.push_str("|---|---|---|---|---|---|\n");
    for ratio in ratios {
        table.push_str(&line(ratio, since));
    }
    table.push_str(extra);
    println!("\n{table}");
    let home = criterion_home();
    if std::fs::create_dir_all(&home).is_ok() {
        let _ = std::fs::write(home.join(file), &table);
    }
}

fn line(ratio: &Ratio, since: SystemTime) -> String {
    let bound = ratio
        .bound
        .map_or_else(|| "-".to_owned(), |b| format!("<= {b:.2}"));
    let (Some(subject), Some(baseline)) = (
        median_ns(ratio.subject, since),
        median_ns(ratio.baseline, since),
    ) else {
        return format!(
            "| {} | {} | not measured | | | {bound} |\n",
            ratio.subject,
            name(ratio)
        );
    };
    let baseline = baseline * ratio.times;
    let value = subject / baseline;
    let verdict = match ratio.bound {
        Some(b) if value <= b => " (met)",
        Some(_) => " (MISSED)",
        None => "",
    };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| {} | {} | {subject:.1} | {baseline:.1} | {value:.3}{verdict} | {bound} |",
        ratio.subject,
        name(ratio)
    );
    out
}

fn name(ratio: &Ratio) -> String {
    if ratio.times == 1.0 {
        ratio.baseline.to_owned()
    } else {
        format!("{} x {}", ratio.times, ratio.baseline)
    }
}

/// Times `subject` and `baseline` in alternating batches and returns the median over rounds of
/// `subject time / (times x baseline time)`.
///
/// On a shared machine the load changes from one second to the next; criterion measures one
/// bench after the other, so its ratios carry that drift. Alternating batches of about 50
/// microseconds puts both sides of a ratio under the same load.
///
/// Both sides are called through `dyn FnMut`, so neither is inlined into the timing loop and
/// both pay the same call.
pub fn interleaved_ratio(mut subject: impl FnMut(), mut baseline: impl FnMut(), times: f64) -> f64 {
    const ROUNDS: usize = 301;
    let (subject, baseline): (&mut dyn FnMut(), &mut dyn FnMut()) = (&mut subject, &mut baseline);
    // Each side gets its own batch size, so both batches last about as long and are as likely
    // to be preempted by another process.
    let (subject_batch, baseline_batch) = (batch_size(subject), batch_size(baseline));
    let mut ratios: Vec<f64> = (0..ROUNDS)
        .map(|_| {
            let s = time_batch(subject, subject_batch);
            let b = time_batch(baseline, baseline_batch);
            s / (times * b)
        })
        .collect();
    ratios.sort_by(f64::total_cmp);
    ratios[ROUNDS / 2]
}

/// Iterations of `f` that take about 50 microseconds.
fn batch_size(f: &mut dyn FnMut()) -> u32 {
    let mut batch = 1;
    while time_batch(f, batch) * f64::from(batch) < 50_000.0 && batch < 1 << 20 {
        batch *= 2;
    }
    batch
}

/// Nanoseconds per call of `f`, over `batch` calls.
#[inline(never)]
fn time_batch(f: &mut dyn FnMut(), batch: u32) -> f64 {
    let start = std::time::Instant::now();
    for _ in 0..batch {
        f();
    }
    start.elapsed().as_nanos() as f64 / f64::from(batch)
}

/// True when criterion was asked only to list or smoke-test the benches.
pub fn smoke_or_list() -> bool {
    std::env::args().any(|a| a == "--test" || a == "--list")
}

/// One interleaved ratio, printed and added to `table`.
pub fn interleaved_line(
    table: &mut String,
    name: &str,
    work: &str,
    ratio: f64,
    bound: Option<f64>,
) {
    let verdict = match bound {
        Some(b) if ratio <= b => format!("{ratio:.3} (met, bound {b:.2})"),
        Some(b) => format!("{ratio:.3} (MISSED, bound {b:.2})"),
        None => format!("{ratio:.3}"),
    };
    let _ = writeln!(table, "| {name} | {work} | {verdict} |");
}
