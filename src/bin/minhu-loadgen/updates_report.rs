//! What `minhu-loadgen updates` measured, and its Markdown tables: rates and their ratios to
//! Submit per round with the median, then CPU and store commits per operation (medians).
use std::{collections::BTreeMap, time::Duration};

use crate::{UpdatesArgs, ceiling::per_second};

/// What one phase's calls came to.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Operations that succeeded (accepted Submits, applied updates).
    pub ok: u64,
    /// Failures by gRPC status code (for updates: the case was given up after it).
    pub failed: BTreeMap<String, u64>,
    /// From the first call until the last answer.
    pub elapsed: Duration,
}

impl Outcome {
    pub fn fail(&mut self, code: String) {
        *self.failed.entry(code).or_insert(0) += 1;
    }
}

/// One measured phase of a round.
#[derive(Debug)]
pub struct Phase {
    /// Accepted Submits or applied updates.
    pub ok: u64,
    /// Failures by gRPC status code.
    pub failed: BTreeMap<String, u64>,
    /// From the first call until the last answer.
    pub elapsed: Duration,
    /// CPU ticks of each `--cpu-of` process, from the first call until the outbox drained.
    pub watched: Vec<(String, Option<u64>)>,
    /// The load generator's own ticks over the same span.
    pub own: Option<u64>,
    /// Store commits over the same span.
    pub commits: Option<f64>,
}

impl Phase {
    fn rate(&self) -> f64 {
        per_second(self.ok, self.elapsed)
    }

    /// Microseconds of CPU per operation, from ticks of 10 ms.
    fn us_per_op(&self, ticks: Option<u64>) -> Option<f64> {
        ticks
            .filter(|_| self.ok > 0)
            .map(|t| t as f64 * 10_000.0 / self.ok as f64)
    }
}

/// The phases of a round, in the order measured.
const NAMES: [&str; 3] = ["Submit", "gRPC update", "AMQP update"];

/// The median of the values present (the mean of the middle two for an even count).
pub fn median(mut values: Vec<f64>) -> Option<f64> {
    values.retain(|v| v.is_finite());
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    Some(if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    })
}

fn fmt(v: Option<f64>, digits: usize) -> String {
    v.map_or_else(|| "n/a".to_owned(), |v| format!("{v:.digits$}"))
}

pub fn print(args: &UpdatesArgs, rounds: &[[Phase; 3]]) {
    let when = prost_types::Timestamp::from(std::time::SystemTime::now()).to_string();
    let when = when.get(..16).unwrap_or(&when).replace('T', " ");
    println!();
    for (name, i) in NAMES.iter().zip(0..) {
        let mut failed: BTreeMap<&str, u64> = BTreeMap::new();
        for r in rounds {
            for (code, n) in &r[i].failed {
                *failed.entry(code).or_insert(0) += n;
            }
        }
        for (code, n) in failed {
            println!("{name}: {n} failed with {code} (the case was given up)");
        }
    }
    println!(
        "\n{when} UTC: {} rounds, {} connections, {} in flight (Submits, or cases being updated), {} cases per door per round\n",
        rounds.len(),
        args.connections,
        args.in_flight,
        args.cases
    );
    println!(
        "| round | Submits | Submit/s | gRPC updates | gRPC updates/s | AMQP updates | AMQP updates/s | gRPC ÷ Submit | AMQP ÷ Submit |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    let ratio = |r: &[Phase; 3], i: usize| r[i].rate() / r[0].rate();
    for (n, r) in rounds.iter().enumerate() {
        println!(
            "| {} | {} | {:.0} | {} | {:.0} | {} | {:.0} | {:.2} | {:.2} |",
            n + 1,
            r[0].ok,
            r[0].rate(),
            r[1].ok,
            r[1].rate(),
            r[2].ok,
            r[2].rate(),
            ratio(r, 1),
            ratio(r, 2)
        );
    }
    let med =
        |f: &dyn Fn(&[Phase; 3]) -> Option<f64>| median(rounds.iter().filter_map(f).collect());
    println!(
        "| median | | {} | | {} | | {} | {} | {} |",
        fmt(med(&|r| Some(r[0].rate())), 0),
        fmt(med(&|r| Some(r[1].rate())), 0),
        fmt(med(&|r| Some(r[2].rate())), 0),
        fmt(med(&|r| Some(ratio(r, 1))), 2),
        fmt(med(&|r| Some(ratio(r, 2))), 2),
    );

    // CPU and commits per operation, medians over the rounds.
    let watched: Vec<String> = rounds
        .first()
        .map(|r| r[0].watched.iter().map(|(n, _)| n.clone()).collect())
        .unwrap_or_default();
    let mut head = String::from("| per operation (median) |");
    for name in &watched {
        head.push_str(&format!(" {name} CPU µs |"));
    }
    head.push_str(" load generator CPU µs | store commits |");
    println!("\n{head}");
    println!("|---|{}", "---|".repeat(watched.len() + 2));
    for (name, i) in NAMES.iter().zip(0..) {
        let mut row = format!("| {name} |");
        for w in 0..watched.len() {
            let v = med(&|r: &[Phase; 3]| r[i].us_per_op(r[i].watched.get(w).and_then(|x| x.1)));
            row.push_str(&format!(" {} |", fmt(v, 0)));
        }
        let own = med(&|r: &[Phase; 3]| r[i].us_per_op(r[i].own));
        let commits = med(&|r: &[Phase; 3]| {
            r[i].commits
                .filter(|_| r[i].ok > 0)
                .map(|c| c / r[i].ok as f64)
        });
        row.push_str(&format!(" {} | {} |", fmt(own, 0), fmt(commits, 3)));
        println!("{row}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_even_and_empty() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(vec![f64::NAN]), None);
        assert_eq!(median(Vec::new()), None);
    }
}
