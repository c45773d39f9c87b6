//! Matching one request against one compiled rule's conditions. The same code answers "does it
//! match" on the hot path (stopping at the first failed condition) and "why" for
//! `routes explain` (every condition's outcome), so the explanation cannot drift from routing.
use std::fmt::Write as _;

use super::area::Area;
use crate::pb;

/// What routing knows besides the request itself.
#[derive(Debug, Clone, Copy)]
pub struct Ctx<'a> {
    /// The category: the request's own, or the inferred one when it gave none.
    pub category: &'a str,
    /// Minutes since local (Asia/Shanghai) midnight at acceptance.
    pub minute_of_day: u32,
}

/// A category pattern, parsed once.
#[derive(Debug, Clone)]
pub enum CategoryPattern {
    /// `road.` / `road.*`: every code under `road`.
    Prefix(String),
    /// `road.pothole`: itself and its sub-codes.
    Code(String),
    /// Any other glob, e.g. `noise.*_night`.
    Glob(String, globset::GlobMatcher),
}

impl CategoryPattern {
    /// Parses a pattern as written in the routing file.
    pub fn parse(p: &str) -> Result<CategoryPattern, String> {
        if p.is_empty() || p.starts_with('.') || p.contains(char::is_whitespace) {
            return Err(format!("{p:?} is not a category code, prefix or glob"));
        }
        if let Some(prefix) = p.strip_suffix(".*").filter(|s| !has_glob(s)) {
            return Ok(CategoryPattern::Prefix(format!("{prefix}.")));
        }
        if !has_glob(p) {
            return Ok(if p.ends_with('.') {
                CategoryPattern::Prefix(p.to_owned())
            } else {
                CategoryPattern::Code(p.to_owned())
            });
        }
        globset::Glob::new(p)
            .map(|g| CategoryPattern::Glob(p.to_owned(), g.compile_matcher()))
            .map_err(|e| format!("{p:?} is not a valid glob: {e}"))
    }

    /// Whether `category` matches (an empty category matches nothing).
    pub fn matches(&self, category: &str) -> bool {
        if category.is_empty() {
            return false;
        }
        match self {
            CategoryPattern::Prefix(p) => category.starts_with(p.as_str()),
            CategoryPattern::Code(p) => {
                category == p
                    || (category.starts_with(p.as_str())
                        && category.as_bytes().get(p.len()) == Some(&b'.'))
            }
            CategoryPattern::Glob(_, g) => g.is_match(category),
        }
    }

    fn text(&self) -> &str {
        match self {
            CategoryPattern::Prefix(p) | CategoryPattern::Code(p) | CategoryPattern::Glob(p, _) => {
                p
            }
        }
    }
}

fn has_glob(s: &str) -> bool {
    s.contains(['*', '?', '[', '{'])
}

/// A rule's conditions, pre-parsed at compile time. Empty lists always hold.
#[derive(Debug, Clone, Default)]
pub struct Matcher {
    pub channels: Vec<pb::Channel>,
    pub request_types: Vec<pb::RequestType>,
    pub categories: Vec<CategoryPattern>,
    pub keywords: Vec<String>,
    pub keywords_all: Vec<String>,
    pub keywords_none: Vec<String>,
    pub text_regex: Option<regex::Regex>,
    pub districts: Vec<String>,
    pub streets: Vec<String>,
    pub communities: Vec<String>,
    pub grids: Vec<String>,
    pub area: Option<Area>,
    pub urgency: Vec<pb::Urgency>,
    /// Minutes since midnight, `[from, to)`; wraps past midnight when `from > to`.
    pub time_of_day: Option<(u32, u32)>,
}

/// One condition's outcome, for `routes explain`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The condition's key in the routing file, e.g. `categories`.
    pub condition: &'static str,
    pub ok: bool,
    /// What was compared, e.g. `"road.pothole" against ["road."]`.
    pub detail: String,
}

impl Matcher {
    /// True when every condition that is set holds.
    pub fn matches(&self, req: &pb::Request, ctx: Ctx<'_>) -> bool {
        self.check(req, ctx, None)
    }

    /// Every set condition's outcome (all of them, not only up to the first failure).
    pub fn explain(&self, req: &pb::Request, ctx: Ctx<'_>) -> (bool, Vec<Outcome>) {
        let mut out = Vec::new();
        let ok = self.check(req, ctx, Some(&mut out));
        (ok, out)
    }

    /// True when the rule has no condition at all (it matches everything).
    pub fn is_catch_all(&self) -> bool {
        self.channels.is_empty()
            && self.request_types.is_empty()
            && self.categories.is_empty()
            && self.keywords.is_empty()
            && self.keywords_all.is_empty()
            && self.keywords_none.is_empty()
            && self.text_regex.is_none()
            && self.districts.is_empty()
            && self.streets.is_empty()
            && self.communities.is_empty()
            && self.grids.is_empty()
            && self.area.is_none()
            && self.urgency.is_empty()
            && self.time_of_day.is_none()
    }

    fn check(&self, req: &pb::Request, ctx: Ctx<'_>, mut trace: Option<&mut Vec<Outcome>>) -> bool {
        let mut all = true;
        // Records one condition; returns false when matching can stop (fast path).
        let mut note = |condition: &'static str, ok: bool, detail: &dyn Fn() -> String| -> bool {
            all &= ok;
            match trace.as_deref_mut() {
                Some(t) => {
                    t.push(Outcome {
                        condition,
                        ok,
                        detail: detail(),
                    });
                    true
                }
                None => ok,
            }
        };
        let text = |k: &str| req.title.contains(k) || req.description.contains(k);
        // Borrowed, not cloned: this runs for every rule tried on every ticket.
        let no_location = pb::Location::default();
        let loc = req.location.as_ref().unwrap_or(&no_location);

        if !self.channels.is_empty() {
            let ok = self.channels.iter().any(|c| *c as i32 == req.channel);
            let got = pb::Channel::try_from(req.channel).map_or("?", |c| c.as_str_name());
            let names: Vec<_> = self.channels.iter().map(|c| c.as_str_name()).collect();
            if !note("channels", ok, &|| format!("{got} in {names:?}")) {
                return false;
            }
        }
        if !self.request_types.is_empty() {
            let ok = self
                .request_types
                .iter()
                .any(|t| *t as i32 == req.request_type);
            let got = pb::RequestType::try_from(req.request_type).map_or("?", |t| t.as_str_name());
            let names: Vec<_> = self.request_types.iter().map(|t| t.as_str_name()).collect();
            if !note("request_types", ok, &|| format!("{got} in {names:?}")) {
                return false;
            }
        }
        if !self.categories.is_empty() {
            let ok = self.categories.iter().any(|p| p.matches(ctx.category));
            let pats: Vec<_> = self.categories.iter().map(|p| p.text()).collect();
            if !note("categories", ok, &|| {
                format!("{:?} against {pats:?}", ctx.category)
            }) {
                return false;
            }
        }
        if !self.keywords.is_empty() {
            let found: Vec<&String> = self.keywords.iter().filter(|k| text(k)).collect();
            let ok = !found.is_empty();
            if !note("keywords", ok, &|| {
                format!("any of {:?}; found {found:?}", self.keywords)
            }) {
                return false;
            }
        }
        if !self.keywords_all.is_empty() {
            let missing: Vec<&String> = self.keywords_all.iter().filter(|k| !text(k)).collect();
            let ok = missing.is_empty();
            if !note("keywords_all", ok, &|| {
                format!("all of {:?}; missing {missing:?}", self.keywords_all)
            }) {
                return false;
            }
        }
        if !self.keywords_none.is_empty() {
            let found: Vec<&String> = self.keywords_none.iter().filter(|k| text(k)).collect();
            let ok = found.is_empty();
            if !note("keywords_none", ok, &|| {
                format!("none of {:?}; found {found:?}", self.keywords_none)
            }) {
                return false;
            }
        }
        if let Some(re) = &self.text_regex {
            let ok = re.is_match(&req.title) || re.is_match(&req.description);
            if !note("text_regex", ok, &|| {
                format!("/{}/ on title and description", re.as_str())
            }) {
                return false;
            }
        }
        for (condition, list, got) in [
            ("districts", &self.districts, &loc.district_code),
            ("streets", &self.streets, &loc.street_code),
            ("communities", &self.communities, &loc.community_code),
            ("grids", &self.grids, &loc.grid_id),
        ] {
            if !list.is_empty() {
                let ok = list.iter().any(|c| c == got);
                if !note(condition, ok, &|| format!("{got:?} in {list:?}")) {
                    return false;
                }
            }
        }
        if let Some(area) = &self.area {
            let ok = loc.has_coordinates && area.contains(loc.lat, loc.lng);
            if !note("area", ok, &|| {
                if loc.has_coordinates {
                    format!("({}, {}) inside {}", loc.lat, loc.lng, area.file.display())
                } else {
                    format!("no coordinates to place in {}", area.file.display())
                }
            }) {
                return false;
            }
        }
        if !self.urgency.is_empty() {
            let ok = self.urgency.iter().any(|u| *u as i32 == req.urgency);
            let got = pb::Urgency::try_from(req.urgency).map_or("?", |u| u.as_str_name());
            let names: Vec<_> = self.urgency.iter().map(|u| u.as_str_name()).collect();
            if !note("urgency", ok, &|| format!("{got} in {names:?}")) {
                return false;
            }
        }
        if let Some((from, to)) = self.time_of_day {
            let m = ctx.minute_of_day;
            let ok = if from <= to {
                (from..to).contains(&m)
            } else {
                m >= from || m < to
            };
            if !note("time_of_day", ok, &|| {
                let mut s = String::new();
                let _ = write!(s, "{} in {}-{}", hhmm(m), hhmm(from), hhmm(to));
                s
            }) {
                return false;
            }
        }
        all
    }
}

/// `HH:MM` of minutes since midnight.
pub fn hhmm(m: u32) -> String {
    format!("{:02}:{:02}", m / 60, m % 60)
}

/// Parses `HH:MM-HH:MM` into minutes since midnight.
pub fn parse_time_range(s: &str) -> Result<(u32, u32), String> {
    let one = |t: &str| -> Option<u32> {
        let (h, m) = t.trim().split_once(':')?;
        let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
        (h < 24 && m < 60 && t.trim().len() == 5).then_some(h * 60 + m)
    };
    let err = || format!("{s:?} is not a time range such as \"22:00-06:00\"");
    let (a, b) = s.split_once('-').ok_or_else(err)?;
    let (a, b) = (one(a).ok_or_else(err)?, one(b).ok_or_else(err)?);
    if a == b {
        return Err(format!("{s:?} is an empty time range"));
    }
    Ok((a, b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(category: &str) -> Ctx<'_> {
        Ctx {
            category,
            minute_of_day: 10 * 60,
        }
    }

    #[test]
    fn category_patterns() {
        let m = |p: &str, c: &str| CategoryPattern::parse(p).unwrap().matches(c);
        assert!(m("road.", "road.pothole"));
        assert!(m("road.*", "road.pothole"));
        assert!(!m("road.", "roadside.x"));
        assert!(m("road.pothole", "road.pothole"));
        assert!(m("road.pothole", "road.pothole.deep"));
        assert!(!m("road.pothole", "road.potholes"));
        assert!(!m("road.", ""));
        assert!(m("noise.*_night", "noise.construction_night"));
        assert!(!m("noise.*_night", "noise.construction"));
        assert!(CategoryPattern::parse("noise.[").is_err());
        assert!(CategoryPattern::parse(".road").is_err());
    }

    #[test]
    fn all_set_conditions_must_hold() {
        let m = Matcher {
            channels: vec![pb::Channel::Wechat],
            districts: vec!["610104".into()],
            keywords: vec!["井盖".into()],
            keywords_none: vec!["已修好".into()],
            ..Default::default()
        };
        let mut req = pb::Request {
            channel: pb::Channel::Wechat as i32,
            description: "小区门口井盖丢了".into(),
            location: Some(pb::Location {
                district_code: "610104".into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert!(m.matches(&req, ctx("")));
        req.description = "小区门口井盖丢了，已修好".into();
        assert!(!m.matches(&req, ctx("")));
        let (ok, why) = m.explain(&req, ctx(""));
        assert!(!ok);
        assert_eq!(why.len(), 4, "every condition is explained: {why:?}");
        assert!(!why[2].ok && why[2].detail.contains("已修好"), "{why:?}");
        req.description = "井盖".into();
        req.channel = pb::Channel::Hotline12345 as i32;
        assert!(!m.matches(&req, ctx("")));
    }

    #[test]
    fn codes_urgency_and_time_of_day() {
        let m = Matcher {
            streets: vec!["610104001".into()],
            grids: vec!["G-17".into()],
            urgency: vec![pb::Urgency::Critical],
            time_of_day: Some(parse_time_range("22:00-06:00").unwrap()),
            keywords_all: vec!["工地".into(), "噪音".into()],
            ..Default::default()
        };
        let mut req = pb::Request {
            urgency: pb::Urgency::Critical as i32,
            description: "工地噪音".into(),
            location: Some(pb::Location {
                street_code: "610104001".into(),
                grid_id: "G-17".into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        let night = Ctx {
            category: "",
            minute_of_day: 23 * 60,
        };
        assert!(m.matches(&req, night));
        assert!(m.matches(
            &req,
            Ctx {
                minute_of_day: 5 * 60,
                ..night
            }
        ));
        assert!(!m.matches(&req, ctx("")));
        req.description = "工地".into();
        assert!(!m.matches(&req, night));
        assert!(parse_time_range("25:00-06:00").is_err());
        assert!(parse_time_range("06:00-06:00").is_err());
        assert!(parse_time_range("6:00-07:00").is_err());
    }
}
