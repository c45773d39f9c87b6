//! An [`Order`] through a [`Mapping`] into a `minhu.v1.Request`.
use crate::mapping::{Mapping, Target, digits};
use crate::{CHANNEL, Order, OrderError, extra, pb};

/// Translates one work order of `source_system`. The error names the source field to blame.
pub fn translate(
    order: &Order,
    source_system: &str,
    mapping: &Mapping,
) -> Result<pb::Request, OrderError> {
    for (src, t) in &mapping.required {
        if order.get(src).is_none() {
            return Err(OrderError::new(
                src,
                format!("is required ({})", canonical(t)),
            ));
        }
    }
    let mut req = pb::Request {
        channel: CHANNEL as i32,
        source_system: source_system.to_owned(),
        ..Default::default()
    };
    let mut loc = pb::Location::default();
    let mut rep = pb::Reporter::default();
    for (src, target) in &mapping.fields {
        let Some(v) = order.get(src) else { continue };
        match target {
            Target::SourceId => req.source_id = v.to_owned(),
            Target::Description => req.description = v.to_owned(),
            Target::Title => req.title = v.to_owned(),
            Target::ReportedAt => req.reported_at = Some(date(src, v, mapping)?),
            Target::RequestType => {
                req.request_type = mapping
                    .request_type(v)
                    .ok_or_else(|| {
                        OrderError::new(
                            src,
                            format!(
                                "unknown request type {v:?} (咨询, 求助, 投诉, 举报, 建议 or a value in request_types)"
                            ),
                        )
                    })? as i32
            }
            Target::Urgency => {
                req.urgency = mapping.urgency(v).ok_or_else(|| {
                    OrderError::new(
                        src,
                        format!("unknown urgency {v:?} (一般, 紧急, 特急 or a value in urgencies)"),
                    )
                })? as i32
            }
            Target::Category if mapping.categories.is_empty() => req.category = v.to_owned(),
            Target::Category => match mapping.categories.get(v) {
                Some(c) => req.category = c.clone(),
                None => drop(
                    req.extra
                        .insert(extra::SOURCE_CATEGORY.to_owned(), v.to_owned()),
                ),
            },
            Target::Address => loc.address = v.to_owned(),
            Target::DistrictCode => {
                let code = mapping.districts.get(v).map_or(v, String::as_str);
                if !digits(code, 6) {
                    return Err(OrderError::new(
                        src,
                        format!(
                            "district must be a 6-digit administrative division code (行政区划代码) or a name in districts, got {v:?}"
                        ),
                    ));
                }
                loc.district_code = code.to_owned();
            }
            Target::StreetCode => loc.street_code = code(src, v, 9, "street")?,
            Target::CommunityCode => loc.community_code = code(src, v, 12, "community")?,
            Target::GridId => loc.grid_id = v.to_owned(),
            Target::ReporterName => rep.name = v.to_owned(),
            Target::ReporterPhone => rep.phone = v.to_owned(),
            Target::ReporterAnonymous => rep.anonymous = yes_no(src, v)?,
            Target::ReporterNoContact => rep.no_contact = yes_no(src, v)?,
            Target::Extra(k) => drop(req.extra.insert(k.clone(), v.to_owned())),
        }
    }
    prefixes(mapping, &loc)?;
    if loc != pb::Location::default() {
        req.location = Some(loc);
    }
    if rep != pb::Reporter::default() {
        req.reporter = Some(rep);
    }
    Ok(req)
}

fn canonical(t: &Target) -> String {
    format!("{t:?}").to_lowercase()
}

fn date(src: &str, v: &str, m: &Mapping) -> Result<prost_types::Timestamp, OrderError> {
    m.date_formats
        .iter()
        .find_map(|f| f.apply(v, m.utc_offset_secs))
        .map(|seconds| prost_types::Timestamp { seconds, nanos: 0 })
        .ok_or_else(|| {
            OrderError::new(
                src,
                format!(
                    "date {v:?} does not match the format {}",
                    m.date_format_text
                ),
            )
        })
}

fn code(src: &str, v: &str, n: usize, what: &str) -> Result<String, OrderError> {
    if digits(v, n) {
        Ok(v.to_owned())
    } else {
        Err(OrderError::new(
            src,
            format!("{what} code must be {n} digits, got {v:?}"),
        ))
    }
}

/// Street codes start with the district code, community codes with the street code.
fn prefixes(m: &Mapping, loc: &pb::Location) -> Result<(), OrderError> {
    let src = |t: Target| {
        m.fields
            .iter()
            .find(|(_, x)| *x == t)
            .map_or(String::new(), |(s, _)| s.clone())
    };
    if !loc.street_code.is_empty()
        && !loc.district_code.is_empty()
        && !loc.street_code.starts_with(&loc.district_code)
    {
        return Err(OrderError::new(
            &src(Target::StreetCode),
            "street code does not start with the district code",
        ));
    }
    if !loc.community_code.is_empty()
        && !loc.street_code.is_empty()
        && !loc.community_code.starts_with(&loc.street_code)
    {
        return Err(OrderError::new(
            &src(Target::CommunityCode),
            "community code does not start with the street code",
        ));
    }
    Ok(())
}

fn yes_no(src: &str, v: &str) -> Result<bool, OrderError> {
    match v.to_ascii_lowercase().as_str() {
        "是" | "1" | "y" | "yes" | "true" => Ok(true),
        "否" | "0" | "n" | "no" | "false" => Ok(false),
        _ => Err(OrderError::new(
            src,
            "must be 是/否, yes/no, true/false or 1/0",
        )),
    }
}
