//! Administrative division codes (行政区划代码) as `pb::Location` carries them: 6 digits for a
//! county or district (区县, GB/T 2260), 9 for a street or township (街道/乡镇), 12 for a
//! community or village (社区/村, the statistics bureau's 统计用区划代码). A street code starts
//! with its district's code and a community code with its street's.
//!
//! Many systems send every level as a 12-digit statistics code padded with zeros
//! ("610104000000" is the district 610104, "610104001000" the street 610104001):
//! [`normalize`] turns those into the short form before [`validate`] checks the set.
use thiserror::Error;

use crate::pb;

/// The level of a division code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// 6 digits: province, city or county/district (区县).
    District,
    /// 9 digits: street or township (街道/乡镇).
    Street,
    /// 12 digits: community or village (社区/村).
    Community,
}

impl Level {
    /// How many digits a code of this level has.
    pub fn digits(self) -> usize {
        match self {
            Level::District => 6,
            Level::Street => 9,
            Level::Community => 12,
        }
    }

    /// The `pb::Location` field holding codes of this level.
    pub fn field(self) -> &'static str {
        match self {
            Level::District => "district_code",
            Level::Street => "street_code",
            Level::Community => "community_code",
        }
    }
}

/// Why a set of division codes is not valid. Codes are public data, so messages quote them.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DivisionError {
    /// Not the number of digits the level needs.
    #[error("{} must be {} digits, got {got} characters", .level.field(), .level.digits())]
    WrongLength { level: Level, got: usize },
    /// Something other than ASCII digits.
    #[error("{} must contain only the digits 0-9", .level.field())]
    NotDigits { level: Level },
    /// The first two digits are no province, autonomous region, municipality or SAR.
    #[error("{} {code:?} does not start with a province-level code", .level.field())]
    UnknownProvince { level: Level, code: String },
    /// The street does not lie in the district.
    #[error("street_code {street:?} does not lie in district_code {district:?}")]
    StreetOutsideDistrict { street: String, district: String },
    /// The community does not lie in the street (or, with no street, in the district).
    #[error("community_code {community:?} does not lie in {parent_field} {parent:?}")]
    CommunityOutsideParent {
        community: String,
        parent_field: &'static str,
        parent: String,
    },
}

impl DivisionError {
    /// The `pb::Location` field to blame.
    pub fn field(&self) -> &'static str {
        match self {
            DivisionError::WrongLength { level, .. }
            | DivisionError::NotDigits { level }
            | DivisionError::UnknownProvince { level, .. } => level.field(),
            DivisionError::StreetOutsideDistrict { .. } => "street_code",
            DivisionError::CommunityOutsideParent { .. } => "community_code",
        }
    }
}

/// GB/T 2260 province-level prefixes (11 北京 … 82 澳门).
const PROVINCES: [u8; 34] = [
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52,
    53, 54, 61, 62, 63, 64, 65, 71, 81, 82,
];

/// Checks one code of `level`: its length, its digits and its province prefix.
pub fn check_code(code: &str, level: Level) -> Result<(), DivisionError> {
    if !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(DivisionError::NotDigits { level });
    }
    if code.len() != level.digits() {
        return Err(DivisionError::WrongLength {
            level,
            got: code.chars().count(),
        });
    }
    let province = code[..2].parse::<u8>().unwrap_or(0);
    if !PROVINCES.contains(&province) {
        return Err(DivisionError::UnknownProvince {
            level,
            code: code.to_owned(),
        });
    }
    Ok(())
}

/// The short form of a code given at `level`: a 12-digit statistics code ending in zeros is
/// cut to its real level (`610104001000` → `610104001`, `610104000000` → `610104`). Anything
/// else is returned trimmed and unchanged.
pub fn normalize(code: &str) -> String {
    let code = code.trim();
    if code.len() == 12 && code.bytes().all(|b| b.is_ascii_digit()) {
        if code.ends_with("000000") {
            return code[..6].to_owned();
        }
        if code.ends_with("000") {
            return code[..9].to_owned();
        }
    }
    code.to_owned()
}

/// Validates the division codes of a location: each given code has its level's length, digits
/// and province; the street starts with the district and the community with the street (or, if
/// no street is given, with the district). Empty codes are allowed.
pub fn validate(district: &str, street: &str, community: &str) -> Result<(), DivisionError> {
    for (code, level) in [
        (district, Level::District),
        (street, Level::Street),
        (community, Level::Community),
    ] {
        if !code.is_empty() {
            check_code(code, level)?;
        }
    }
    if !street.is_empty() && !district.is_empty() && !street.starts_with(district) {
        return Err(DivisionError::StreetOutsideDistrict {
            street: street.to_owned(),
            district: district.to_owned(),
        });
    }
    if !community.is_empty() {
        let (parent_field, parent) = if !street.is_empty() {
            ("street_code", street)
        } else {
            ("district_code", district)
        };
        if !parent.is_empty() && !community.starts_with(parent) {
            return Err(DivisionError::CommunityOutsideParent {
                community: community.to_owned(),
                parent_field,
                parent: parent.to_owned(),
            });
        }
    }
    Ok(())
}

/// Sets the division codes of `loc` from what a channel gave (each [`normalize`]d and
/// [`validate`]d); a missing district or street is filled in from the longer code's prefix.
/// On error `loc` is left unchanged.
pub fn set_codes(
    loc: &mut pb::Location,
    district: &str,
    street: &str,
    community: &str,
) -> Result<(), DivisionError> {
    let (mut d, mut s, c) = (normalize(district), normalize(street), normalize(community));
    validate(&d, &s, &c)?;
    if s.is_empty() && c.len() == 12 {
        s = c[..9].to_owned();
    }
    if d.is_empty() && s.len() == 9 {
        d = s[..6].to_owned();
    }
    loc.district_code = d;
    loc.street_code = s;
    loc.community_code = c;
    Ok(())
}

#[cfg(test)]
#[path = "division_tests.rs"]
mod tests;
