//! The `[merge]` section of `config/minhu.toml`: when a new report joins an open case.
//!
//! A handful of parameters with a meaning an operator can check against the street: how near is
//! "the same spot", how long an event stays one event, how much each signal weighs. Categories
//! differ mostly in time (a water outage is one event for hours, a pothole until it is fixed),
//! so per-category overrides change the time scale and window only.
use serde::Deserialize;

use super::lexicon::SpotsConfig;
use crate::config::problem::Problems;

/// Merging of reports from different citizens into one case.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct MergeConfig {
    /// Whether new reports may join open cases at all. Off by default so that an upgrade does
    /// not change behaviour until an operator has checked the thresholds; the shipped
    /// `config/minhu.toml` turns it on.
    pub enabled: bool,
    /// A report joins the best open case whose score reaches this (weights below; a perfect
    /// match of every signal scores their sum, 1.55 with the defaults).
    pub threshold: f64,
    /// Two positions at most this far apart (metres) are the same spot (place signal 1).
    pub near_m: f64,
    /// Positions farther apart than this (metres) are different problems, whatever the text
    /// says; between `near_m` and here the place signal falls linearly to 0.
    pub far_m: f64,
    /// Hours over which the time signal falls from 1 (same moment) to 0.
    pub time_scale_hours: f64,
    /// Hours after its latest report that a case stops being a merge target.
    pub window_hours: f64,
    /// Two reports that name different spots ("银行旁" / "幼儿园门口") are different problems
    /// unless both have positions at most this far apart (metres): then the city has two names
    /// for one spot. A few metres; positions of one spot from phones spread much wider.
    pub same_spot_m: f64,
    /// Most reports of one case kept in memory for comparison (the first and the latest).
    pub max_members: usize,
    /// Weight of each signal in the score.
    pub weights: Weights,
    /// Per-category overrides of the time scale and window.
    #[serde(rename = "category")]
    pub categories: Vec<CategoryOverride>,
    /// Words added to the built-in lexicon that spots are recognised with.
    pub spots: SpotsConfig,
}

/// Weight of each signal; a case's score is the weighted sum averaged over its reports.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Weights {
    /// Reported close in time (1 at the same moment, 0 after `time_scale_hours`).
    pub time: f64,
    /// Same place: distance when both have coordinates, otherwise address similarity minus
    /// a penalty when the addresses name different spots after their common part.
    pub place: f64,
    /// Similar wording: Jaccard similarity of character bigrams of description and address.
    pub text: f64,
    /// The same reporter (phone, WeChat openid or e-mail) again.
    pub reporter: f64,
    /// Both reports have the same category (given or inferred) rather than one unknown.
    pub category: f64,
    /// Both reports name the same spot ("银行旁" / "工商银行门口").
    pub same_spot: f64,
}

/// Different time behaviour for one category.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CategoryOverride {
    /// Taxonomy code, e.g. `water.outage`.
    pub code: String,
    /// Replaces `merge.time_scale_hours` for this category.
    pub time_scale_hours: Option<f64>,
    /// Replaces `merge.window_hours` for this category.
    pub window_hours: Option<f64>,
}

impl Default for MergeConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            threshold: 0.75,
            near_m: 150.0,
            far_m: 250.0,
            same_spot_m: 10.0,
            time_scale_hours: 24.0,
            window_hours: 48.0,
            max_members: 6,
            weights: Weights::default(),
            categories: Vec::new(),
            spots: SpotsConfig::default(),
        }
    }
}

impl Default for Weights {
    fn default() -> Self {
        Self {
            time: 0.4,
            place: 0.5,
            text: 0.3,
            reporter: 0.2,
            category: 0.1,
            same_spot: 0.05,
        }
    }
}

impl MergeConfig {
    /// Records every problem of the section in `p`.
    pub fn check(&self, p: &mut Problems) {
        let positive = [
            ("merge.threshold", self.threshold),
            ("merge.near_m", self.near_m),
            ("merge.far_m", self.far_m),
            ("merge.time_scale_hours", self.time_scale_hours),
            ("merge.window_hours", self.window_hours),
        ];
        for (key, v) in positive {
            if !(v.is_finite() && v > 0.0) {
                p.add(key, format!("must be a number above 0, not {v}"));
            }
        }
        if !(self.same_spot_m.is_finite() && self.same_spot_m >= 0.0) {
            p.add(
                "merge.same_spot_m",
                format!("must be a number of at least 0, not {}", self.same_spot_m),
            );
        } else if self.same_spot_m >= self.near_m {
            p.add(
                "merge.same_spot_m",
                "must be smaller than merge.near_m (a few metres, not a neighbourhood)",
            );
        }
        if self.far_m <= self.near_m {
            p.add("merge.far_m", "must be larger than merge.near_m");
        }
        if self.max_members == 0 || self.max_members > 32 {
            p.add("merge.max_members", "must be between 1 and 32");
        }
        let w = &self.weights;
        for (key, v) in [
            ("merge.weights.time", w.time),
            ("merge.weights.place", w.place),
            ("merge.weights.text", w.text),
            ("merge.weights.reporter", w.reporter),
            ("merge.weights.category", w.category),
            ("merge.weights.same_spot", w.same_spot),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                p.add(key, format!("must be a number of at least 0, not {v}"));
            }
        }
        let total = w.time + w.place + w.text + w.reporter + w.category + w.same_spot;
        if total.is_finite() && self.threshold.is_finite() && self.threshold > total {
            p.add(
                "merge.threshold",
                format!(
                    "{} is above the sum of the weights ({total}): nothing could ever merge",
                    self.threshold
                ),
            );
        }
        let mut seen = std::collections::HashSet::new();
        for (i, c) in self.categories.iter().enumerate() {
            let key = format!("merge.category[{i}]");
            if c.code.trim().is_empty() {
                p.add(format!("{key}.code"), "must not be empty");
            } else if !seen.insert(c.code.as_str()) {
                p.add(
                    format!("{key}.code"),
                    format!("{:?} is overridden twice", c.code),
                );
            }
            for (field, v) in [
                ("time_scale_hours", c.time_scale_hours),
                ("window_hours", c.window_hours),
            ] {
                if let Some(v) = v
                    && !(v.is_finite() && v > 0.0)
                {
                    p.add(
                        format!("{key}.{field}"),
                        format!("must be a number above 0, not {v}"),
                    );
                }
            }
        }
        self.spots.check(p);
    }

    /// (time scale, window) in milliseconds for a category ("" = unknown: the defaults).
    pub fn times_ms(&self, category: &str) -> (i64, i64) {
        let o = self.categories.iter().find(|c| c.code == category);
        let scale = o
            .and_then(|o| o.time_scale_hours)
            .unwrap_or(self.time_scale_hours);
        let window = o.and_then(|o| o.window_hours).unwrap_or(self.window_hours);
        (hours_ms(scale), hours_ms(window))
    }

    /// The longest window of any category, for pruning expired cases.
    pub fn max_window_ms(&self) -> i64 {
        self.categories
            .iter()
            .filter_map(|c| c.window_hours)
            .map(hours_ms)
            .fold(hours_ms(self.window_hours), i64::max)
    }
}

fn hours_ms(h: f64) -> i64 {
    (h * 3_600_000.0) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_problem_is_reported_at_once() {
        let cfg = MergeConfig {
            threshold: 9.0,
            near_m: 300.0,
            max_members: 0,
            categories: vec![
                CategoryOverride {
                    code: "water.outage".into(),
                    time_scale_hours: Some(-1.0),
                    window_hours: None,
                },
                CategoryOverride {
                    code: "water.outage".into(),
                    time_scale_hours: None,
                    window_hours: Some(f64::NAN),
                },
            ],
            ..MergeConfig::default()
        };
        let mut p = Problems::new("minhu.toml");
        cfg.check(&mut p);
        let keys: Vec<&str> = p.list.iter().map(|x| x.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "merge.far_m",
                "merge.max_members",
                "merge.threshold",
                "merge.category[0].time_scale_hours",
                "merge.category[1].code",
                "merge.category[1].window_hours",
            ]
        );
    }

    #[test]
    fn overrides_replace_only_what_they_name() {
        let cfg = MergeConfig {
            categories: vec![CategoryOverride {
                code: "water.outage".into(),
                time_scale_hours: None,
                window_hours: Some(12.0),
            }],
            ..MergeConfig::default()
        };
        assert_eq!(cfg.times_ms("water.outage"), (86_400_000, 43_200_000));
        assert_eq!(cfg.times_ms("road.pothole"), (86_400_000, 172_800_000));
        assert_eq!(cfg.max_window_ms(), 172_800_000);
    }
}
