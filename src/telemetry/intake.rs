//! Intake by channel and disposition: `minhu_intake_total{channel,disposition}`, what the
//! console's overview and the dashboard draw as "reports per channel" (new case, merged into an
//! open case, or a replay of a ticket already accepted). The channel label is the enum name
//! without its prefix, in lower case (`hotline_12345`, `wechat`, …), a fixed set: the counters
//! are a plain array, one relaxed add per report.
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use crate::pb::{Channel, Disposition};

/// Channel enum values 0..=CHANNELS-1 (UNSPECIFIED included: validation refuses it, but a
/// count of 0 costs nothing).
const CHANNELS: usize = 12;
const DISPOSITIONS: [Disposition; 3] = [
    Disposition::NewCase,
    Disposition::Merged,
    Disposition::Replay,
];

/// The counters. Shared inside [`super::metrics::Metrics`].
#[derive(Debug)]
pub struct IntakeByChannel([[AtomicU64; DISPOSITIONS.len()]; CHANNELS]);

impl Default for IntakeByChannel {
    fn default() -> Self {
        Self(std::array::from_fn(|_| {
            std::array::from_fn(|_| AtomicU64::new(0))
        }))
    }
}

/// `hotline_12345` for `CHANNEL_HOTLINE_12345`.
pub fn channel_label(c: Channel) -> String {
    let name = c.as_str_name();
    name.strip_prefix("CHANNEL_")
        .unwrap_or(name)
        .to_ascii_lowercase()
}

fn disposition_label(d: Disposition) -> String {
    let name = d.as_str_name();
    name.strip_prefix("DISPOSITION_")
        .unwrap_or(name)
        .to_ascii_lowercase()
}

impl IntakeByChannel {
    /// Counts one answered submit.
    pub fn record(&self, channel: i32, disposition: Disposition) {
        let (Ok(c), Some(d)) = (
            usize::try_from(channel),
            DISPOSITIONS.iter().position(|x| *x == disposition),
        ) else {
            return;
        };
        if let Some(row) = self.0.get(c) {
            row[d].fetch_add(1, Relaxed);
        }
    }

    /// Reports counted so far on `channel` with `disposition`.
    pub fn get(&self, channel: Channel, disposition: Disposition) -> u64 {
        let d = DISPOSITIONS.iter().position(|x| *x == disposition);
        match (self.0.get(channel as usize), d) {
            (Some(row), Some(d)) => row[d].load(Relaxed),
            _ => 0,
        }
    }

    /// Appends the Prometheus text, every known channel and disposition (zeros included, so
    /// `rate()` has a series from the start).
    pub fn render(&self, out: &mut String) {
        let name = "minhu_intake_total";
        let _ = writeln!(
            out,
            "# HELP {name} Reports answered since start, by channel and disposition (new_case, merged, replay).\n# TYPE {name} counter"
        );
        for (i, row) in self.0.iter().enumerate() {
            let Ok(c) = Channel::try_from(i as i32) else {
                continue;
            };
            if c == Channel::Unspecified {
                continue;
            }
            for (d, n) in DISPOSITIONS.iter().zip(row) {
                let _ = writeln!(
                    out,
                    "{name}{{channel=\"{}\",disposition=\"{}\"}} {}",
                    channel_label(c),
                    disposition_label(*d),
                    n.load(Relaxed)
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_render_per_channel_and_disposition() {
        let m = IntakeByChannel::default();
        m.record(Channel::Wechat as i32, Disposition::Merged);
        m.record(Channel::Wechat as i32, Disposition::Merged);
        m.record(Channel::Emergency119 as i32, Disposition::NewCase);
        m.record(99, Disposition::NewCase);
        m.record(Channel::Wechat as i32, Disposition::Unspecified);
        assert_eq!(m.get(Channel::Wechat, Disposition::Merged), 2);
        let mut out = String::new();
        m.render(&mut out);
        assert!(out.contains("minhu_intake_total{channel=\"wechat\",disposition=\"merged\"} 2\n"));
        assert!(out.contains(
            "minhu_intake_total{channel=\"emergency_119\",disposition=\"new_case\"} 1\n"
        ));
        assert!(
            out.contains(
                "minhu_intake_total{channel=\"hotline_12345\",disposition=\"replay\"} 0\n"
            )
        );
        assert!(!out.contains("unspecified"));
        // Every channel the proto knows has a row: a new channel needs CHANNELS raised.
        assert!(Channel::try_from(CHANNELS as i32).is_err());
    }
}
