//! The per-source-system field mapping: which of a call-centre's fields is which canonical
//! field, and how its values (request types, categories, urgency, districts, dates) read.
//! Deserialised from `[adapters.hotline12345.sources.<system>]`; [`SourceMapping::compile`]
//! checks it once so that translating an order does no parsing of the mapping.
use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;

use crate::date::{DateFormat, parse_offset};
use crate::followup::{Followup, FollowupMapping};
use crate::pb;

/// One call-centre system's mapping, as written in the service config.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SourceMapping {
    /// Source field → canonical field. Canonical fields: `source_id` (工单编号, required),
    /// `description` (诉求内容, required), `title`, `reported_at`, `request_type`, `category`,
    /// `urgency`, `address`, `district_code`, `street_code`, `community_code`, `grid_id`,
    /// `reporter_name`, `reporter_phone`, `reporter_anonymous`,
    /// `reporter_no_contact` (不需回复), or `extra.<key>` (kept in the
    /// request's `extra` as `hotline12345.<key>`). A nested JSON field is named with dots
    /// (`caller.phone`). Fields not listed are ignored.
    pub fields: BTreeMap<String, String>,
    /// Canonical fields that must be present and non-empty in every order, besides
    /// `source_id` and `description` (always required), e.g. `["reported_at", "request_type"]`.
    pub required: Vec<String>,
    /// Source value → request type (`consult`, `help`, `complaint`, `report`, `suggestion`).
    /// 咨询/求助/投诉/举报/建议 and the English names are always understood; any other value
    /// is refused.
    pub request_types: BTreeMap<String, String>,
    /// Source value → taxonomy category code (e.g. `"道路破损" = "road.pothole"`). Empty: the
    /// value is taken as the code. Otherwise an unlisted value leaves the category empty (the
    /// routing rules fall back to keywords) and is kept in `extra["hotline12345.source_category"]`.
    pub categories: BTreeMap<String, String>,
    /// Source value → urgency (`normal`, `urgent`, `critical`). 一般/普通/紧急/特急 and the
    /// English names are always understood; any other value is refused.
    pub urgencies: BTreeMap<String, String>,
    /// District name → 6-digit administrative division code (`"莲湖区" = "610104"`), for
    /// systems that send names; a value not listed must itself be a 6-digit code.
    pub districts: BTreeMap<String, String>,
    /// Formats of date fields, tried in order: strftime `%Y %m %d %H %M %S` (e.g.
    /// `"%Y-%m-%d %H:%M:%S"`), or `unix` / `unix_ms`.
    pub date_formats: Vec<String>,
    /// UTC offset of the local times in date fields (default `+08:00`, China Standard Time).
    pub utc_offset: String,
    /// 回访: whether the call-centre calls its callers back itself, and how its results read.
    pub followup: FollowupMapping,
}

impl Default for SourceMapping {
    fn default() -> Self {
        Self {
            fields: BTreeMap::new(),
            required: Vec::new(),
            request_types: BTreeMap::new(),
            categories: BTreeMap::new(),
            urgencies: BTreeMap::new(),
            districts: BTreeMap::new(),
            date_formats: vec!["%Y-%m-%d %H:%M:%S".into()],
            utc_offset: "+08:00".into(),
            followup: FollowupMapping::default(),
        }
    }
}

/// Where a source field goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    SourceId,
    Description,
    Title,
    ReportedAt,
    RequestType,
    Category,
    Urgency,
    Address,
    DistrictCode,
    StreetCode,
    CommunityCode,
    GridId,
    ReporterName,
    ReporterPhone,
    ReporterAnonymous,
    ReporterNoContact,
    Extra(String),
}

const TARGETS: &[(&str, Target)] = &[
    ("source_id", Target::SourceId),
    ("description", Target::Description),
    ("title", Target::Title),
    ("reported_at", Target::ReportedAt),
    ("request_type", Target::RequestType),
    ("category", Target::Category),
    ("urgency", Target::Urgency),
    ("address", Target::Address),
    ("district_code", Target::DistrictCode),
    ("street_code", Target::StreetCode),
    ("community_code", Target::CommunityCode),
    ("grid_id", Target::GridId),
    ("reporter_name", Target::ReporterName),
    ("reporter_phone", Target::ReporterPhone),
    ("reporter_anonymous", Target::ReporterAnonymous),
    ("reporter_no_contact", Target::ReporterNoContact),
];

fn target(name: &str) -> Option<Target> {
    if let Some(k) = name.strip_prefix("extra.") {
        return (!k.is_empty()).then(|| Target::Extra(format!("hotline12345.{k}")));
    }
    TARGETS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, t)| t.clone())
}

/// A mapping checked and ready to translate with.
#[derive(Debug, Clone)]
pub struct Mapping {
    pub(crate) fields: Vec<(String, Target)>,
    pub(crate) required: Vec<(String, Target)>,
    pub(crate) request_types: HashMap<String, pb::RequestType>,
    pub(crate) categories: HashMap<String, String>,
    pub(crate) urgencies: HashMap<String, pb::Urgency>,
    pub(crate) districts: HashMap<String, String>,
    pub(crate) date_formats: Vec<DateFormat>,
    pub(crate) date_format_text: String,
    pub(crate) utc_offset_secs: i64,
    /// 回访 both ways.
    pub followup: Followup,
}

fn request_type(v: &str) -> Option<pb::RequestType> {
    use pb::RequestType as T;
    Some(match v {
        "咨询" | "consult" => T::Consult,
        "求助" | "help" => T::Help,
        "投诉" | "complaint" => T::Complaint,
        "举报" | "report" => T::Report,
        "建议" | "suggestion" => T::Suggestion,
        _ => return None,
    })
}

fn urgency(v: &str) -> Option<pb::Urgency> {
    use pb::Urgency as U;
    Some(match v {
        "一般" | "普通" | "normal" => U::Normal,
        "紧急" | "urgent" => U::Urgent,
        "特急" | "critical" => U::Critical,
        _ => return None,
    })
}

/// Whether `v` is `n` ASCII digits.
pub(crate) fn digits(v: &str, n: usize) -> bool {
    v.len() == n && v.bytes().all(|b| b.is_ascii_digit())
}

impl SourceMapping {
    /// Checks the mapping; every problem as (key relative to the source's section, message).
    pub fn compile(&self) -> Result<Mapping, Vec<(String, String)>> {
        let mut problems = Vec::new();
        let mut bad = |k: String, m: String| problems.push((k, m));
        let mut fields = Vec::new();
        for (src, canon) in &self.fields {
            match target(canon) {
                Some(t)
                    if !matches!(t, Target::Extra(_)) && fields.iter().any(|(_, x)| *x == t) =>
                {
                    bad(
                        format!("fields.{src}"),
                        format!("{canon} is mapped from two fields"),
                    )
                }
                Some(t) => fields.push((src.clone(), t)),
                None => bad(
                    format!("fields.{src}"),
                    format!("unknown canonical field {canon:?} (see the docs for the list)"),
                ),
            }
        }
        let mut required = Vec::new();
        let always = ["source_id".to_owned(), "description".to_owned()];
        for name in always.iter().chain(&self.required) {
            let Some(t) = target(name) else {
                bad(
                    "required".into(),
                    format!("unknown canonical field {name:?}"),
                );
                continue;
            };
            match fields.iter().find(|(_, x)| *x == t) {
                Some((src, _)) => required.push((src.clone(), t)),
                None => bad(
                    "fields".into(),
                    format!("no source field is mapped to {name}"),
                ),
            }
        }
        let mut request_types = HashMap::new();
        for (v, t) in &self.request_types {
            match request_type(t) {
                Some(rt) => drop(request_types.insert(v.clone(), rt)),
                None => bad(
                    format!("request_types.{v}"),
                    "must be consult, help, complaint, report or suggestion".into(),
                ),
            }
        }
        let mut urgencies = HashMap::new();
        for (v, u) in &self.urgencies {
            match urgency(u) {
                Some(x) => drop(urgencies.insert(v.clone(), x)),
                None => bad(
                    format!("urgencies.{v}"),
                    "must be normal, urgent or critical".into(),
                ),
            }
        }
        for (name, code) in &self.districts {
            if !digits(code, 6) {
                bad(
                    format!("districts.{name}"),
                    "must be a 6-digit administrative division code".into(),
                );
            }
        }
        let mut date_formats = Vec::new();
        for (i, f) in self.date_formats.iter().enumerate() {
            match DateFormat::parse(f) {
                Ok(d) => date_formats.push(d),
                Err(e) => bad(format!("date_formats[{i}]"), format!("{f:?} {e}")),
            }
        }
        if self.date_formats.is_empty() {
            bad(
                "date_formats".into(),
                "must list at least one format".into(),
            );
        }
        let utc_offset_secs = parse_offset(&self.utc_offset).unwrap_or_else(|| {
            bad(
                "utc_offset".into(),
                "must look like +08:00 or -05:00 (or Z)".into(),
            );
            0
        });
        let followup = self.followup.compile(&mut problems);
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(Mapping {
            followup,
            fields,
            required,
            request_types,
            categories: self.categories.clone().into_iter().collect(),
            urgencies,
            districts: self.districts.clone().into_iter().collect(),
            date_formats,
            date_format_text: self.date_formats.join(" or "),
            utc_offset_secs,
        })
    }
}

impl Mapping {
    pub(crate) fn request_type(&self, v: &str) -> Option<pb::RequestType> {
        self.request_types
            .get(v)
            .copied()
            .or_else(|| request_type(v))
    }

    pub(crate) fn urgency(&self, v: &str) -> Option<pb::Urgency> {
        self.urgencies.get(v).copied().or_else(|| urgency(v))
    }
}
