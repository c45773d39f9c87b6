//! Matching one request against compiled rules. Pure and allocation-free on the hot path.
use crate::pb;

/// A rule ready to match: conditions pre-parsed at compile time.
#[derive(Debug, Clone)]
pub struct Matcher {
    pub channels: Vec<pb::Channel>,
    pub categories: Vec<String>,
    pub districts: Vec<String>,
    pub keywords: Vec<String>,
}

impl Matcher {
    /// True when every condition that is set holds.
    pub fn matches(&self, req: &pb::Request) -> bool {
        let channel_ok =
            self.channels.is_empty() || self.channels.iter().any(|c| *c as i32 == req.channel);
        let category_ok = self.categories.is_empty()
            || self
                .categories
                .iter()
                .any(|p| category_matches(p, &req.category));
        let district = req
            .location
            .as_ref()
            .map(|l| l.district_code.as_str())
            .unwrap_or("");
        let district_ok = self.districts.is_empty() || self.districts.iter().any(|d| d == district);
        let keyword_ok = self.keywords.is_empty()
            || self
                .keywords
                .iter()
                .any(|k| req.description.contains(k.as_str()) || req.title.contains(k.as_str()));
        channel_ok && category_ok && district_ok && keyword_ok
    }

    /// True when the rule has no condition at all (it matches everything).
    pub fn is_catch_all(&self) -> bool {
        self.channels.is_empty()
            && self.categories.is_empty()
            && self.districts.is_empty()
            && self.keywords.is_empty()
    }
}

/// `road.` matches every code under `road`; `road.pothole` matches itself and its sub-codes.
pub fn category_matches(pattern: &str, category: &str) -> bool {
    if category.is_empty() {
        return false;
    }
    if pattern.ends_with('.') {
        return category.starts_with(pattern);
    }
    category == pattern
        || (category.starts_with(pattern) && category.as_bytes().get(pattern.len()) == Some(&b'.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn category_prefixes() {
        assert!(category_matches("road.", "road.pothole"));
        assert!(!category_matches("road.", "roadside.x"));
        assert!(category_matches("road.pothole", "road.pothole"));
        assert!(category_matches("road.pothole", "road.pothole.deep"));
        assert!(!category_matches("road.pothole", "road.potholes"));
        assert!(!category_matches("road.", ""));
    }

    #[test]
    fn all_set_conditions_must_hold() {
        let m = Matcher {
            channels: vec![pb::Channel::Wechat],
            categories: vec![],
            districts: vec!["610104".into()],
            keywords: vec!["井盖".into()],
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
        assert!(m.matches(&req));
        req.channel = pb::Channel::Hotline12345 as i32;
        assert!(!m.matches(&req));
        req.channel = pb::Channel::Wechat as i32;
        req.location = None;
        assert!(!m.matches(&req));
    }
}
