//! `minhu-loadgen clocks-bench idle`: the CPU of running processes (gateways with nothing to
//! do) over the same windows, so a gateway and its baseline meet the same machine load. Each
//! window is read twice: `/proc/PID/stat` (utime + stime, 10 ms ticks, the house figure) and
//! the sum of `/proc/PID/task/*/schedstat` (nanoseconds on the CPU, precise enough for a few
//! milliseconds a minute); over all windows the latter is also given by thread name.
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Args;

use crate::{parse_duration, parse_named_pid};

#[derive(Debug, Args)]
pub struct IdleArgs {
    /// A process to measure, as NAME=PID; may be repeated (all are read over the same windows).
    #[arg(long = "cpu-of", value_parser = parse_named_pid, required = true)]
    cpu_of: Vec<(String, u32)>,
    #[arg(long, default_value_t = 5)]
    windows: usize,
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    window: Duration,
}

pub async fn run(a: &IdleArgs) -> Result<()> {
    if a.windows == 0 || a.window.is_zero() {
        bail!("--windows and --window must be positive");
    }
    let first: Vec<_> = a.cpu_of.iter().map(|(_, p)| by_thread(*p)).collect();
    // Per process: ms per minute of each window, from stat and from schedstat.
    let mut stat: Vec<Vec<f64>> = vec![Vec::new(); a.cpu_of.len()];
    let mut sched: Vec<Vec<f64>> = vec![Vec::new(); a.cpu_of.len()];
    let started = Instant::now();
    for w in 1..=a.windows {
        let before: Vec<_> = a
            .cpu_of
            .iter()
            .map(|(_, p)| (ticks(*p), total_ns(*p)))
            .collect();
        let t0 = Instant::now();
        tokio::time::sleep(a.window).await;
        let per_min = 60.0 / t0.elapsed().as_secs_f64();
        let mut line = format!("idle: window {w}/{}:", a.windows);
        for (i, (name, pid)) in a.cpu_of.iter().enumerate() {
            let spent = ticks(*pid)
                .zip(before[i].0)
                .map(|(n, b)| n.saturating_sub(b))
                .with_context(|| format!("{name} (pid {pid}) is gone"))?;
            let ns = total_ns(*pid).saturating_sub(before[i].1);
            stat[i].push(spent as f64 * 10.0 * per_min);
            sched[i].push(ns as f64 / 1e6 * per_min);
            line.push_str(&format!(
                " {name} {:.0} ms/min (schedstat {:.1})",
                spent as f64 * 10.0 * per_min,
                ns as f64 / 1e6 * per_min
            ));
        }
        eprintln!("{line}");
    }
    let per_min = 60.0 / started.elapsed().as_secs_f64();
    for (i, (name, pid)) in a.cpu_of.iter().enumerate() {
        let m = median(&mut stat[i]);
        let s = median(&mut sched[i]);
        println!(
            "idle: {name}: median {m:.0} ms of CPU per minute (/proc/PID/stat) = {:.3} % of a core; schedstat median {s:.1} ms/min = {:.3} %",
            m / 600.0,
            s / 600.0
        );
        let mut parts: Vec<(String, f64)> = by_thread(*pid)
            .into_iter()
            .map(|(t, ns)| {
                let b = first[i].get(&t).copied().unwrap_or(0);
                (t, ns.saturating_sub(b) as f64 / 1e6 * per_min)
            })
            .filter(|(_, ms)| *ms >= 0.05)
            .collect();
        parts.sort_by(|x, y| y.1.total_cmp(&x.1));
        let text: Vec<String> = parts.iter().map(|(t, ms)| format!("{t} {ms:.1}")).collect();
        println!(
            "idle: {name} by thread (ms per minute over all windows): {}",
            text.join(", ")
        );
    }
    Ok(())
}

pub fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// utime + stime of `pid` in clock ticks (1/100 s), from `/proc/PID/stat`.
pub fn ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let rest = stat.get(stat.rfind(')')? + 2..)?;
    let f: Vec<&str> = rest.split_whitespace().collect();
    Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
}

fn total_ns(pid: u32) -> u64 {
    by_thread(pid).values().sum()
}

/// Nanoseconds on the CPU of each live thread of `pid`, summed by thread name (tokio's
/// workers share one). A thread that ended takes its time with it, so these are for
/// processes whose threads live on, like an idle gateway's.
fn by_thread(pid: u32) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return out;
    };
    for t in tasks.flatten() {
        let p = t.path();
        let name = std::fs::read_to_string(p.join("comm")).unwrap_or_default();
        let ns = std::fs::read_to_string(p.join("schedstat"))
            .ok()
            .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok());
        if let Some(ns) = ns {
            *out.entry(name.trim().to_owned()).or_insert(0) += ns;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_of_odd_and_even_counts() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 2.0, 3.0]), 2.5);
    }

    #[test]
    fn this_process_can_be_read() {
        let me = std::process::id();
        assert!(ticks(me).is_some());
        assert!(total_ns(me) > 0);
        assert!(!by_thread(me).is_empty());
    }
}
