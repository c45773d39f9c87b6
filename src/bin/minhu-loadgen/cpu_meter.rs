//! CPU time spent by this process and by other local ones (`--cpu-of`), read from `/proc`:
//! every measuring job sets it beside its rates, so it is apart from any one of them.

/// CPU time spent since [`CpuMeter::start`] by this process and by other local processes
/// (`--cpu-of`), in clock ticks (1/100 s on Linux); None off Linux or for a process gone.
pub struct CpuMeter {
    own: Option<u64>,
    others: Vec<(String, u32, Option<u64>)>,
}

impl CpuMeter {
    pub fn start(others: &[(String, u32)]) -> Self {
        Self {
            own: cpu_ticks_self(),
            others: others
                .iter()
                .map(|(name, pid)| (name.clone(), *pid, cpu_ticks_of(*pid)))
                .collect(),
        }
    }

    /// Ticks this process spent so far.
    pub fn own(&self) -> Option<u64> {
        since(cpu_ticks_self(), self.own)
    }

    /// (name, ticks spent so far) of each other process.
    pub fn others(&self) -> Vec<(String, Option<u64>)> {
        self.others
            .iter()
            .map(|(name, pid, start)| (name.clone(), since(cpu_ticks_of(*pid), *start)))
            .collect()
    }
}

fn since(now: Option<u64>, start: Option<u64>) -> Option<u64> {
    now.zip(start).map(|(n, s)| n.saturating_sub(s))
}

/// This process's user + system CPU time so far, in ticks, from `/proc/self/stat`.
fn cpu_ticks_self() -> Option<u64> {
    cpu_ticks_at("/proc/self/stat")
}

/// The same for another local process.
fn cpu_ticks_of(pid: u32) -> Option<u64> {
    cpu_ticks_at(&format!("/proc/{pid}/stat"))
}

fn cpu_ticks_at(path: &str) -> Option<u64> {
    let stat = std::fs::read_to_string(path).ok()?;
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let rest = stat.get(stat.rfind(')')? + 2..)?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;

    #[test]
    fn a_meter_counts_this_process_and_others_it_can_read() {
        let me = std::process::id();
        let meter = CpuMeter::start(&[("me".into(), me), ("gone".into(), u32::MAX)]);
        assert!(meter.own().is_some());
        let others = meter.others();
        assert_eq!(others[0].0, "me");
        assert!(others[0].1.is_some());
        assert_eq!(others[1], ("gone".to_owned(), None));
    }

    #[test]
    fn own_cpu_time_is_readable_and_grows() {
        let before = cpu_ticks_self().expect("/proc/self/stat");
        let mut x = 0u64;
        let t = Instant::now();
        // Spin until a clock tick of CPU time shows (10 ms), however busy the machine is.
        while cpu_ticks_self() == Some(before) && t.elapsed() < Duration::from_secs(10) {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(1));
        }
        std::hint::black_box(x);
        assert!(cpu_ticks_self().expect("/proc/self/stat") > before);
    }
}
