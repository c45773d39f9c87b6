//! Sample reports: the JSON-lines format of `config/sample-traffic.jsonl` and its translation
//! into canonical `minhu.v1.Request`s.
use std::{
    collections::{BTreeSet, HashMap},
    time::{Duration, SystemTime},
};

use anyhow::{Context, Result, bail};
use minhu::pb;
use serde::Deserialize;

/// The sample traffic shipped with the repository, built into the binary.
pub const BUILTIN: &str = include_str!("../../../config/sample-traffic.jsonl");

/// One line of the traffic file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SampleReport {
    /// Short name of the report; becomes part of the source_id.
    pub id: String,
    /// `Channel` value without its prefix, e.g. `HOTLINE_12345`.
    pub channel: String,
    pub source_system: String,
    /// `RequestType` value without its prefix, e.g. `COMPLAINT`.
    #[serde(default)]
    pub request_type: String,
    /// `Urgency` value without its prefix, e.g. `URGENT`.
    #[serde(default)]
    pub urgency: String,
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub title: String,
    pub description: String,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub district_code: String,
    /// WGS-84; absent or null when the channel gives no position.
    #[serde(default)]
    pub lat: Option<f64>,
    #[serde(default)]
    pub lng: Option<f64>,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub name: String,
    /// How long before "now" the citizen reported it.
    #[serde(default)]
    pub minutes_ago: u64,
    #[serde(default)]
    pub extra: HashMap<String, String>,
}

/// The parsed reports, with their enum names checked.
pub fn parse(text: &str) -> Result<Vec<SampleReport>> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let report: SampleReport =
            serde_json::from_str(line).with_context(|| format!("traffic line {}", n + 1))?;
        channel(&report.channel).with_context(|| format!("traffic line {}", n + 1))?;
        request_type(&report.request_type).with_context(|| format!("traffic line {}", n + 1))?;
        urgency(&report.urgency).with_context(|| format!("traffic line {}", n + 1))?;
        out.push(report);
    }
    Ok(out)
}

/// The `Channel` values (other than UNSPECIFIED) that no report in `reports` uses.
pub fn missing_channels(reports: &[SampleReport]) -> Vec<&'static str> {
    let used: BTreeSet<i32> = reports
        .iter()
        .filter_map(|r| channel(&r.channel).ok())
        .map(|c| c as i32)
        .collect();
    (1..)
        .map_while(|n| pb::Channel::try_from(n).ok())
        .filter(|c| !used.contains(&(*c as i32)))
        .map(|c| c.as_str_name())
        .collect()
}

pub fn channel(name: &str) -> Result<pb::Channel> {
    match pb::Channel::from_str_name(&format!("CHANNEL_{name}")) {
        Some(pb::Channel::Unspecified) | None => bail!("unknown channel `{name}`"),
        Some(c) => Ok(c),
    }
}

fn request_type(name: &str) -> Result<pb::RequestType> {
    if name.is_empty() {
        return Ok(pb::RequestType::Unspecified);
    }
    pb::RequestType::from_str_name(&format!("REQUEST_TYPE_{name}"))
        .with_context(|| format!("unknown request_type `{name}`"))
}

fn urgency(name: &str) -> Result<pb::Urgency> {
    if name.is_empty() {
        return Ok(pb::Urgency::Normal);
    }
    pb::Urgency::from_str_name(&format!("URGENCY_{name}"))
        .with_context(|| format!("unknown urgency `{name}`"))
}

impl SampleReport {
    /// The source_id this report is submitted under in run `run_id`.
    pub fn source_id(&self, run_id: &str) -> String {
        format!("demo-{}-{run_id}", self.id)
    }

    /// The canonical request for this report. Enum names were checked by [`parse`].
    pub fn to_request(&self, run_id: &str, now: SystemTime) -> pb::Request {
        let reported = now
            .checked_sub(Duration::from_secs(self.minutes_ago.saturating_mul(60)))
            .unwrap_or(now);
        let at = match (self.lat, self.lng) {
            (Some(lat), Some(lng)) => Some((lat, lng)),
            _ => None,
        };
        pb::Request {
            channel: channel(&self.channel).map_or(0, |c| c as i32),
            source_system: self.source_system.clone(),
            source_id: self.source_id(run_id),
            reported_at: Some(reported.into()),
            request_type: request_type(&self.request_type).map_or(0, |t| t as i32),
            category: self.category.clone(),
            title: self.title.clone(),
            description: self.description.clone(),
            location: Some(location(self.address.clone(), &self.district_code, at)),
            reporter: Some(pb::Reporter {
                name: self.name.clone(),
                phone: self.phone.clone(),
                ..Default::default()
            }),
            attachments: Vec::new(),
            urgency: urgency(&self.urgency).map_or(0, |u| u as i32),
            extra: self.extra.clone(),
        }
    }
}

/// A report's location: its address and district, with WGS-84 coordinates when the channel
/// gives them (the hotline's operators type an address only).
pub fn location(address: String, district_code: &str, at: Option<(f64, f64)>) -> pb::Location {
    let (lat, lng) = at.unwrap_or((0.0, 0.0));
    pb::Location {
        address,
        district_code: district_code.into(),
        lat,
        lng,
        original_lat: lat,
        original_lng: lng,
        coordinate_system: if at.is_some() {
            pb::CoordinateSystem::Wgs84 as i32
        } else {
            0
        },
        has_coordinates: at.is_some(),
        ..Default::default()
    }
}

/// A random point in the sample city (Xi'an's centre), for synthetic reports.
pub fn random_point(rng: &mut impl rand::Rng) -> (f64, f64) {
    (
        34.20 + rng.random_range(0.0..0.15),
        108.85 + rng.random_range(0.0..0.15),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_traffic_parses_and_covers_every_channel() {
        let reports = parse(BUILTIN).expect("built-in traffic parses");
        assert!(
            missing_channels(&reports).is_empty(),
            "{:?}",
            missing_channels(&reports)
        );
    }

    #[test]
    fn requests_carry_position_only_when_given() {
        let reports = parse(BUILTIN).expect("built-in traffic parses");
        let now = SystemTime::now();
        for r in &reports {
            let req = r.to_request("t", now);
            let loc = req.location.expect("location is always set");
            assert_eq!(loc.has_coordinates, r.lat.is_some() && r.lng.is_some());
            assert_ne!(req.channel, 0);
            assert!(req.source_id.ends_with("-t"));
        }
    }
}
