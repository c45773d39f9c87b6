//! Scoring merge quality on a labelled corpus (`reports-dev.jsonl`: one report a line with the
//! incident it belongs to). Shared by the offline regression test and `minhu-loadgen
//! merge-score`, which replays the corpus through a running gateway.
use std::collections::HashMap;

use serde::Deserialize;

use crate::pb;

/// One line of the corpus.
#[derive(Debug, Clone, Deserialize)]
pub struct CorpusReport {
    /// Ground truth: reports of one incident belong in one case.
    pub incident: String,
    pub source_id: String,
    /// `HOTLINE_12345`, `WECHAT`, ... or `EMERGENCY` (taken as a 110 transfer).
    pub channel: String,
    /// RFC 3339.
    pub reported_at: String,
    #[serde(default)]
    pub category: String,
    pub description: String,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub district_code: String,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    #[serde(default)]
    pub phone: String,
}

/// Reads a corpus, one JSON object a line; errors name the line.
pub fn parse(text: &str) -> Result<Vec<CorpusReport>, String> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| serde_json::from_str(l).map_err(|e| format!("line {}: {e}", i + 1)))
        .collect()
}

impl CorpusReport {
    /// The canonical request for this report; `run` keeps source ids unique per replay.
    pub fn to_request(&self, run: &str) -> Result<pb::Request, String> {
        let channel = match self.channel.as_str() {
            "EMERGENCY" => pb::Channel::Emergency110,
            c => pb::Channel::from_str_name(&format!("CHANNEL_{c}"))
                .ok_or_else(|| format!("{}: unknown channel {c:?}", self.source_id))?,
        };
        let reported_at = parse_rfc3339_ms(&self.reported_at)
            .ok_or_else(|| format!("{}: bad reported_at {:?}", self.source_id, self.reported_at))?;
        let has = self.lat.is_some() && self.lng.is_some();
        Ok(pb::Request {
            channel: channel as i32,
            source_system: "merge-corpus".into(),
            source_id: format!("{}{run}", self.source_id),
            reported_at: Some(crate::time::ms_to_timestamp(reported_at)),
            request_type: pb::RequestType::Complaint as i32,
            category: self.category.clone(),
            description: self.description.clone(),
            location: Some(pb::Location {
                address: self.address.clone(),
                district_code: self.district_code.clone(),
                lat: self.lat.unwrap_or(0.0),
                lng: self.lng.unwrap_or(0.0),
                original_lat: self.lat.unwrap_or(0.0),
                original_lng: self.lng.unwrap_or(0.0),
                coordinate_system: if has {
                    pb::CoordinateSystem::Wgs84 as i32
                } else {
                    0
                },
                has_coordinates: has,
                ..Default::default()
            }),
            reporter: Some(pb::Reporter {
                phone: self.phone.clone(),
                ..Default::default()
            }),
            urgency: pb::Urgency::Normal as i32,
            ..Default::default()
        })
    }
}

/// `2026-05-31T22:36:58+08:00` (or `Z`; no offset means China time) as ms since the epoch.
pub fn parse_rfc3339_ms(s: &str) -> Option<i64> {
    minhu_adapter_citymgmt::time::parse(s).map(|t| crate::time::timestamp_to_ms(&t))
}

/// Pairwise merge quality.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quality {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// Pairs put in one case.
    pub merged_pairs: u64,
    /// Pairs that share an incident.
    pub true_pairs: u64,
}

/// Scores an assignment: `truth[i]` is report i's incident, `got[i]` the case it ended in.
/// Counts per (incident, case) cell, so it is linear in the number of reports.
pub fn pairwise(truth: &[String], got: &[String]) -> Quality {
    let pairs = |n: u64| n * n.saturating_sub(1) / 2;
    let mut by_truth: HashMap<&str, u64> = HashMap::new();
    let mut by_case: HashMap<&str, u64> = HashMap::new();
    let mut by_both: HashMap<(&str, &str), u64> = HashMap::new();
    for (t, g) in truth.iter().zip(got) {
        *by_truth.entry(t).or_default() += 1;
        *by_case.entry(g).or_default() += 1;
        *by_both.entry((t, g)).or_default() += 1;
    }
    let true_pairs: u64 = by_truth.values().map(|n| pairs(*n)).sum();
    let merged_pairs: u64 = by_case.values().map(|n| pairs(*n)).sum();
    let both: u64 = by_both.values().map(|n| pairs(*n)).sum();
    let ratio = |a: u64, b: u64| if b == 0 { 1.0 } else { a as f64 / b as f64 };
    let precision = ratio(both, merged_pairs);
    let recall = ratio(both, true_pairs);
    let f1 = if precision + recall == 0.0 {
        0.0
    } else {
        2.0 * precision * recall / (precision + recall)
    };
    Quality {
        precision,
        recall,
        f1,
        merged_pairs,
        true_pairs,
    }
}
