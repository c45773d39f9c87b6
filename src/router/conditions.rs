//! The conditions half of compiling: parsing and checking each rule's conditions (channels,
//! codes, globs, regexes, areas, time ranges) and the emergency linkage rules.
//! [`super::compile`] does the tree and the actions.
use super::area::Area;
use super::compile::{Compiler, Linkage};
use super::rules::{CategoryPattern, Matcher, parse_time_range};
use crate::config::routing::{LinkageRule, Role, Rule};
use crate::pb;

impl Compiler<'_> {
    pub(super) fn linkage(&mut self, key: &str, l: &LinkageRule) -> Linkage {
        self.id(key, &l.id);
        if !matches!(l.line.as_str(), "110" | "119" | "120" | "122") {
            self.p.add(
                format!("{key}.line"),
                format!(
                    "{:?} is not an emergency line: use 110, 119, 120 or 122",
                    l.line
                ),
            );
        }
        if l.reason.trim().is_empty() {
            self.p.add(
                format!("{key}.reason"),
                "must not be empty: the dispatcher reads it",
            );
        }
        let as_rule = Rule {
            id: l.id.clone(),
            description: None,
            channels: l.channels.clone(),
            request_types: vec![],
            categories: l.categories.clone(),
            keywords: l.keywords.clone(),
            keywords_all: l.keywords_all.clone(),
            keywords_none: l.keywords_none.clone(),
            text_regex: None,
            districts: vec![],
            streets: vec![],
            communities: vec![],
            grids: vec![],
            area: None,
            urgency: vec![],
            time_of_day: None,
            department: None,
            level: None,
            deadline_working_days: None,
            deadline_hours: None,
            priority: None,
            sign_for_working_hours: None,
            escalation: None,
            role: Role::Lead,
            continue_: false,
            children: vec![],
        };
        let mut matcher = self.matcher(key, &as_rule);
        if matcher.categories.is_empty()
            && matcher.keywords.is_empty()
            && matcher.keywords_all.is_empty()
        {
            self.p.add(key, "a linkage rule needs categories, keywords or keywords_all; it would flag every report");
        }
        if matcher.channels.is_empty() {
            // The emergency lines' own transfers are already with them.
            matcher.channels = (1..=11)
                .filter_map(|n| pb::Channel::try_from(n).ok())
                .filter(|c| !crate::intake::pipeline::is_emergency(*c as i32))
                .collect();
        }
        Linkage {
            id: l.id.clone(),
            reason: l.reason.clone(),
            line: l.line.clone(),
            matcher,
        }
    }

    pub(super) fn matcher(&mut self, key: &str, r: &Rule) -> Matcher {
        let mut m = Matcher::default();
        for (j, c) in r.channels.iter().enumerate() {
            match pb::Channel::from_str_name(&format!("CHANNEL_{c}")) {
                Some(ch) if ch != pb::Channel::Unspecified => m.channels.push(ch),
                _ => self.p.add(
                    format!("{key}.channels[{j}]"),
                    format!("unknown channel {c:?} (e.g. HOTLINE_12345, WECHAT, EMERGENCY_119)"),
                ),
            }
        }
        for (j, t) in r.request_types.iter().enumerate() {
            match pb::RequestType::from_str_name(&format!("REQUEST_TYPE_{t}")) {
                Some(v) if v != pb::RequestType::Unspecified => m.request_types.push(v),
                _ => self.p.add(
                    format!("{key}.request_types[{j}]"),
                    format!(
                        "unknown request type {t:?} (CONSULT, HELP, COMPLAINT, REPORT, SUGGESTION)"
                    ),
                ),
            }
        }
        for (j, u) in r.urgency.iter().enumerate() {
            match pb::Urgency::from_str_name(&format!("URGENCY_{u}")) {
                Some(v) if v != pb::Urgency::Unspecified => m.urgency.push(v),
                _ => self.p.add(
                    format!("{key}.urgency[{j}]"),
                    format!("unknown urgency {u:?} (NORMAL, URGENT, CRITICAL)"),
                ),
            }
        }
        for (j, c) in r.categories.iter().enumerate() {
            match CategoryPattern::parse(c) {
                Ok(p) => m.categories.push(p),
                Err(e) => self.p.add(format!("{key}.categories[{j}]"), e),
            }
        }
        for (name, list, digits, what) in [
            ("districts", &r.districts, 6, "district (区县)"),
            ("streets", &r.streets, 9, "street (街道)"),
            ("communities", &r.communities, 12, "community (社区)"),
        ] {
            for (j, d) in list.iter().enumerate() {
                if d.len() != digits || !d.bytes().all(|b| b.is_ascii_digit()) {
                    self.p.add(
                        format!("{key}.{name}[{j}]"),
                        format!("{d:?} is not a {digits}-digit {what} code"),
                    );
                }
            }
        }
        m.districts = r.districts.clone();
        m.streets = r.streets.clone();
        m.communities = r.communities.clone();
        for (j, g) in r.grids.iter().enumerate() {
            if g.trim().is_empty() {
                self.p.add(format!("{key}.grids[{j}]"), "must not be empty");
            }
        }
        m.grids = r.grids.clone();
        for (name, list) in [
            ("keywords", &r.keywords),
            ("keywords_all", &r.keywords_all),
            ("keywords_none", &r.keywords_none),
        ] {
            for (j, k) in list.iter().enumerate() {
                if k.trim().is_empty() {
                    self.p
                        .add(format!("{key}.{name}[{j}]"), "must not be empty");
                }
            }
        }
        m.keywords = r.keywords.clone();
        m.keywords_all = r.keywords_all.clone();
        m.keywords_none = r.keywords_none.clone();
        if let Some(re) = &r.text_regex {
            match regex::Regex::new(re) {
                Ok(re) => m.text_regex = Some(re),
                Err(e) => self.p.add(
                    format!("{key}.text_regex"),
                    format!("not a valid regular expression: {e}"),
                ),
            }
        }
        if let Some(area) = &r.area {
            match Area::load(&self.base.join(area)) {
                Ok(a) => m.area = Some(a),
                Err(e) => self.p.add(format!("{key}.area"), e),
            }
        }
        if let Some(t) = &r.time_of_day {
            match parse_time_range(t) {
                Ok(range) => m.time_of_day = Some(range),
                Err(e) => self.p.add(format!("{key}.time_of_day"), e),
            }
        }
        m
    }
}
