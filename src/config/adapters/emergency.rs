//! `[adapters.emergency]`: transfers from the 110/119/120/122 dispatch centres (接警中心),
//! `POST /v1/emergency/transfers`. Each centre authenticates with its own bearer token; the
//! file holds only the token's SHA-256 digest, so it can be read by operators without handing
//! out the tokens:
//!
//! ```toml
//! [adapters.emergency]
//! enabled = true
//!
//! [[adapters.emergency.centres]]
//! id = "xian-119"
//! # printf %s "$TOKEN" | sha256sum
//! token_sha256 = "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8"
//! lines = ["119"]
//! return_results = true   # results back on minhu.return.emergency.xian-119
//! ```
use serde::Deserialize;

use crate::config::problem::Problems;
use minhu_adapter_emergency::Line;
use minhu_adapter_emergency::auth::parse_digest;

/// Emergency-line transfer settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EmergencyConfig {
    /// Whether `POST /v1/emergency/transfers` is served.
    pub enabled: bool,
    /// The dispatch centres allowed to transfer, each with its own token and lines.
    pub centres: Vec<Centre>,
    /// Most transfers in one request body (an array); more is refused whole with 413.
    pub max_batch: usize,
    /// Largest request body in bytes; larger is refused with 413.
    pub max_body_bytes: usize,
}

impl Default for EmergencyConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            centres: Vec::new(),
            max_batch: 100,
            max_body_bytes: 1024 * 1024,
        }
    }
}

/// One dispatch centre (接警中心).
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Centre {
    /// Short id, letters, digits, `-` or `_` (e.g. `xian-119`): part of every transfer's
    /// `source_system`, `emergency:<line>:<id>`, and so of its idempotency key. Do not rename a
    /// centre that has sent transfers, or a re-sent one would no longer be a replay.
    pub id: String,
    /// Lower-case hex SHA-256 of the centre's bearer token (`printf %s "$TOKEN" | sha256sum`);
    /// never the token itself.
    pub token_sha256: String,
    /// The lines the centre may transfer from: any of `"110"`, `"119"`, `"120"`, `"122"`. A
    /// transfer naming another line is refused with 403.
    pub lines: Vec<Line>,
    /// Send the result of each case this centre transferred back to it (办理结果反馈), as JSON
    /// `minhu.EmergencyResult` on the queue `minhu.return.emergency.<id>`.
    #[serde(default)]
    pub return_results: bool,
}

impl EmergencyConfig {
    /// The centre whose token digest `token` matches, if any. Every centre is compared (in
    /// constant time) so the answer's timing does not say which one almost matched.
    pub fn centre_for(&self, token: &str) -> Option<&Centre> {
        let mut found = None;
        for c in &self.centres {
            if let Some(d) = parse_digest(&c.token_sha256)
                && minhu_adapter_emergency::auth::token_matches(token, &d)
                && found.is_none()
            {
                found = Some(c);
            }
        }
        found
    }

    /// Every problem in the section, reported under `adapters.emergency.*`.
    pub fn check(&self, p: &mut Problems) {
        if !self.enabled {
            return;
        }
        let key = "adapters.emergency";
        if self.centres.is_empty() {
            p.add(
                format!("{key}.centres"),
                "at least one dispatch centre is needed when enabled",
            );
        }
        let mut ids = std::collections::HashSet::new();
        let mut digests = std::collections::HashSet::new();
        for (i, c) in self.centres.iter().enumerate() {
            let k = format!("{key}.centres[{i}]");
            if c.id.is_empty()
                || c.id.len() > 64
                || !c
                    .id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                p.add(
                    format!("{k}.id"),
                    "must be 1-64 letters, digits, '-' or '_'",
                );
            } else if !ids.insert(c.id.as_str()) {
                p.add(format!("{k}.id"), format!("duplicate centre id {:?}", c.id));
            }
            match parse_digest(&c.token_sha256) {
                None => p.add(
                    format!("{k}.token_sha256"),
                    "must be the 64 hex digits of the token's SHA-256 (not the token itself)",
                ),
                Some(d) => {
                    if !digests.insert(d) {
                        p.add(
                            format!("{k}.token_sha256"),
                            "another centre has the same token",
                        );
                    }
                }
            }
            if c.lines.is_empty() {
                p.add(
                    format!("{k}.lines"),
                    "name at least one of \"110\", \"119\", \"120\", \"122\"",
                );
            }
        }
        if self.max_batch == 0 {
            p.add(format!("{key}.max_batch"), "must be at least 1");
        }
        if self.max_body_bytes < 1024 {
            p.add(format!("{key}.max_body_bytes"), "must be at least 1024");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ABC: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    fn parse(text: &str) -> EmergencyConfig {
        toml::from_str(text).expect("valid section")
    }

    #[test]
    fn centres_are_found_by_token() {
        let c = parse(&format!(
            "enabled = true\n[[centres]]\nid = \"xian-119\"\ntoken_sha256 = \"{ABC}\"\nlines = [\"119\", \"120\"]\n"
        ));
        let mut p = Problems::new("minhu.toml");
        c.check(&mut p);
        assert!(p.list.is_empty(), "{:?}", p.list);
        let centre = c.centre_for("abc").expect("the token matches");
        assert_eq!(centre.lines, vec![Line::L119, Line::L120]);
        assert!(c.centre_for("abcd").is_none());
        assert!(c.centre_for(ABC).is_none(), "the digest is not the token");
    }

    #[test]
    fn problems_are_named() {
        let c = parse(
            "enabled = true\nmax_batch = 0\n[[centres]]\nid = \"bad id\"\ntoken_sha256 = \"secret\"\nlines = []\n",
        );
        let mut p = Problems::new("minhu.toml");
        c.check(&mut p);
        let keys: Vec<_> = p.list.iter().map(|x| x.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "adapters.emergency.centres[0].id",
                "adapters.emergency.centres[0].token_sha256",
                "adapters.emergency.centres[0].lines",
                "adapters.emergency.max_batch",
            ]
        );
        assert!(toml::from_str::<EmergencyConfig>("token = \"x\"").is_err());
        assert!(
            toml::from_str::<EmergencyConfig>("[[centres]]\nid=\"a\"\nlines=[\"112\"]").is_err()
        );
    }
}
