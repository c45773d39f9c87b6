//! E-mails parsed and translated per second, on the golden fixtures (`tests/fixtures/mailbox`),
//! one core: `cargo bench -p minhu-adapter-mailbox`. Prints one line per fixture and the
//! mixture (every fixture in turn), as mails/s and MB/s. `BENCH_SECONDS` (default 2) sets the
//! time per measurement.
use std::hint::black_box;
use std::time::{Duration, Instant};

use minhu_adapter_mailbox::{Options, translate_mail};

fn fixtures() -> Vec<(String, Vec<u8>)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/mailbox");
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.path())
                .collect::<Vec<_>>()
        })
        .unwrap_or_default()
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .filter_map(|p| {
            let name = p.file_name()?.to_string_lossy().into_owned();
            Some((name, std::fs::read(&p).ok()?))
        })
        .collect();
    out.sort();
    out
}

/// Runs `mails` round-robin for about `budget`; returns (mails/s, MB/s).
fn measure(mails: &[&[u8]], opts: &Options, budget: Duration) -> (f64, f64) {
    let start = Instant::now();
    let (mut n, mut bytes) = (0u64, 0u64);
    while start.elapsed() < budget {
        for m in mails {
            let _ = black_box(translate_mail(black_box(m), opts));
            n += 1;
            bytes += m.len() as u64;
        }
    }
    let s = start.elapsed().as_secs_f64();
    (n as f64 / s, bytes as f64 / s / 1e6)
}

fn main() {
    let secs = std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2.0);
    let budget = Duration::from_secs_f64(secs);
    let opts = Options::default();
    let all = fixtures();
    if all.is_empty() {
        eprintln!("no fixtures found");
        return;
    }
    // A 1 MiB photo mail: the attachment-heavy end.
    let mut big = b"From: a@example.cn\r\nSubject: photo\r\nMessage-ID: <big@example.cn>\r\n\
        Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n\
        pothole\r\n--b\r\nContent-Type: image/jpeg\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        .to_vec();
    for _ in 0..(1 << 20) / 57 {
        big.extend_from_slice(b"/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAP//////////////////////8\r\n");
    }
    big.extend_from_slice(b"--b--\r\n");
    println!("{:<28} {:>12} {:>10}", "fixture", "mails/s", "MB/s");
    for (name, raw) in &all {
        let (rate, mbs) = measure(&[raw], &opts, budget);
        println!("{name:<28} {rate:>12.0} {mbs:>10.1}");
    }
    let mix: Vec<&[u8]> = all.iter().map(|(_, r)| r.as_slice()).collect();
    let (rate, mbs) = measure(&mix, &opts, budget);
    println!("{:<28} {rate:>12.0} {mbs:>10.1}", "mixture (all fixtures)");
    let (rate, mbs) = measure(&[&big], &opts, budget);
    println!("{:<28} {rate:>12.0} {mbs:>10.1}", "1 MiB photo attachment");
}
