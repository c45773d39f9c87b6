//! Coordinate normalisation: every channel's coordinates become WGS-84 in the canonical
//! `pb::Location`, with what was received kept in `original_lat`/`original_lng`.
//!
//! - **GCJ-02** (火星坐标: WeChat, AMap/高德, Tencent maps). The forward transform WGS-84 →
//!   GCJ-02 is the published reverse-engineered formula (Krasovsky 1940 ellipsoid,
//!   a = 6378245 m, e² = 0.006693421622965943). It has no closed-form inverse, so
//!   [`gcj02_to_wgs84`] inverts it by fixed-point iteration: guess w, move it by the error
//!   between forward(w) and the GCJ point, until the error is below 1e-10° (about 10 µm); the
//!   offset's derivative is tiny, so 3–5 rounds suffice.
//! - **BD-09** (Baidu maps) is a further offset of GCJ-02; [`bd09_to_wgs84`] goes BD-09 →
//!   GCJ-02 (the published inverse formula, refined iteratively) → WGS-84.
//! - **CGCS2000** (数字城管 platforms) differs from WGS-84 by centimetres: taken as WGS-84.
//!
//! Outside China no offset is applied (the forward formulas are the identity there), matching
//! every map provider.
use std::f64::consts::PI;

use thiserror::Error;

use crate::pb;

const A: f64 = 6_378_245.0;
const EE: f64 = 0.006_693_421_622_965_943;
/// Baidu's constant: π · 3000 / 180.
const X_PI: f64 = PI * 3000.0 / 180.0;

/// Whether a point is outside the rectangle where GCJ-02 (and BD-09) apply an offset.
pub fn out_of_china(lat: f64, lng: f64) -> bool {
    !(72.004..=137.8347).contains(&lng) || !(0.8293..=55.8271).contains(&lat)
}

fn transform(x: f64, y: f64) -> (f64, f64) {
    let xy = x * y;
    let abs_x = x.abs().sqrt();
    let (x_pi, y_pi) = (x * PI, y * PI);
    let d = 20.0 * (6.0 * x_pi).sin() + 20.0 * (2.0 * x_pi).sin();
    let mut lat = d;
    let mut lng = d;
    lat += 20.0 * y_pi.sin() + 40.0 * (y_pi / 3.0).sin();
    lng += 20.0 * x_pi.sin() + 40.0 * (x_pi / 3.0).sin();
    lat += 160.0 * (y_pi / 12.0).sin() + 320.0 * (y_pi / 30.0).sin();
    lng += 150.0 * (x_pi / 12.0).sin() + 300.0 * (x_pi / 30.0).sin();
    lat *= 2.0 / 3.0;
    lng *= 2.0 / 3.0;
    lat += -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * xy + 0.2 * abs_x;
    lng += 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * xy + 0.1 * abs_x;
    (lat, lng)
}

/// The offset GCJ-02 adds to a WGS-84 point, in degrees (lat, lng).
fn delta(lat: f64, lng: f64) -> (f64, f64) {
    let (d_lat, d_lng) = transform(lng - 105.0, lat - 35.0);
    let rad_lat = lat.to_radians();
    let magic = 1.0 - EE * rad_lat.sin() * rad_lat.sin();
    let sqrt_magic = magic.sqrt();
    let d_lat = (d_lat * 180.0) / ((A * (1.0 - EE)) / (magic * sqrt_magic) * PI);
    let d_lng = (d_lng * 180.0) / (A / sqrt_magic * rad_lat.cos() * PI);
    (d_lat, d_lng)
}

/// WGS-84 → GCJ-02.
pub fn wgs84_to_gcj02(lat: f64, lng: f64) -> (f64, f64) {
    if out_of_china(lat, lng) {
        return (lat, lng);
    }
    let (d_lat, d_lng) = delta(lat, lng);
    (lat + d_lat, lng + d_lng)
}

/// GCJ-02 → WGS-84 (iterative inverse, accurate to about 1e-9°).
pub fn gcj02_to_wgs84(lat: f64, lng: f64) -> (f64, f64) {
    if out_of_china(lat, lng) {
        return (lat, lng);
    }
    let (mut w_lat, mut w_lng) = (lat, lng);
    for _ in 0..30 {
        let (g_lat, g_lng) = wgs84_to_gcj02(w_lat, w_lng);
        let (e_lat, e_lng) = (g_lat - lat, g_lng - lng);
        w_lat -= e_lat;
        w_lng -= e_lng;
        if e_lat.abs() < 1e-10 && e_lng.abs() < 1e-10 {
            break;
        }
    }
    (w_lat, w_lng)
}

/// GCJ-02 → BD-09 (Baidu's forward offset).
pub fn gcj02_to_bd09(lat: f64, lng: f64) -> (f64, f64) {
    if out_of_china(lat, lng) {
        return (lat, lng);
    }
    let z = (lng * lng + lat * lat).sqrt() + 0.000_02 * (lat * X_PI).sin();
    let theta = lat.atan2(lng) + 0.000_003 * (lng * X_PI).cos();
    (z * theta.sin() + 0.006, z * theta.cos() + 0.0065)
}

/// BD-09 → GCJ-02. Starts from the widely published closed-form inverse (itself accurate only
/// to about 1e-6°) and refines it by fixed-point iteration against [`gcj02_to_bd09`] until the
/// error is below 1e-10°, so BD-09 → GCJ-02 → BD-09 round trips exactly.
pub fn bd09_to_gcj02(lat: f64, lng: f64) -> (f64, f64) {
    if out_of_china(lat, lng) {
        return (lat, lng);
    }
    let (x, y) = (lng - 0.0065, lat - 0.006);
    let z = (x * x + y * y).sqrt() - 0.000_02 * (y * X_PI).sin();
    let theta = y.atan2(x) - 0.000_003 * (x * X_PI).cos();
    let (mut g_lat, mut g_lng) = (z * theta.sin(), z * theta.cos());
    for _ in 0..10 {
        let (b_lat, b_lng) = gcj02_to_bd09(g_lat, g_lng);
        let (e_lat, e_lng) = (b_lat - lat, b_lng - lng);
        g_lat -= e_lat;
        g_lng -= e_lng;
        if e_lat.abs() < 1e-10 && e_lng.abs() < 1e-10 {
            break;
        }
    }
    (g_lat, g_lng)
}

/// BD-09 → WGS-84, through GCJ-02.
pub fn bd09_to_wgs84(lat: f64, lng: f64) -> (f64, f64) {
    let (g_lat, g_lng) = bd09_to_gcj02(lat, lng);
    gcj02_to_wgs84(g_lat, g_lng)
}

/// WGS-84 → BD-09, through GCJ-02.
pub fn wgs84_to_bd09(lat: f64, lng: f64) -> (f64, f64) {
    let (g_lat, g_lng) = wgs84_to_gcj02(lat, lng);
    gcj02_to_bd09(g_lat, g_lng)
}

/// Why coordinates cannot be used. Messages never quote the coordinates (a caller's position
/// is personal data).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum CoordinateError {
    #[error("latitude must be a finite number between -90 and 90")]
    LatOutOfRange,
    #[error("longitude must be a finite number between -180 and 180")]
    LngOutOfRange,
    #[error("the coordinate system is required (wgs84, gcj02, bd09 or cgcs2000)")]
    UnspecifiedSystem,
}

impl CoordinateError {
    /// The coordinate to blame: `lat`, `lng` or `coordinate_system`.
    pub fn field(&self) -> &'static str {
        match self {
            CoordinateError::LatOutOfRange => "lat",
            CoordinateError::LngOutOfRange => "lng",
            CoordinateError::UnspecifiedSystem => "coordinate_system",
        }
    }
}

/// Parses a coordinate-system name as channels write it (case-insensitive): `wgs84`/`wgs-84`/
/// `gps`, `gcj02`/`gcj-02`, `bd09`/`bd-09`/`bd09ll`/`baidu`, `cgcs2000`.
pub fn parse_system(name: &str) -> Option<pb::CoordinateSystem> {
    let n = name.trim().to_ascii_lowercase().replace(['-', '_'], "");
    Some(match n.as_str() {
        "wgs84" | "gps" => pb::CoordinateSystem::Wgs84,
        "gcj02" => pb::CoordinateSystem::Gcj02,
        "bd09" | "bd09ll" | "baidu" => pb::CoordinateSystem::Bd09,
        "cgcs2000" => pb::CoordinateSystem::Cgcs2000,
        _ => return None,
    })
}

/// (lat, lng) in `system` → WGS-84. Ranges are checked first; CGCS2000 is taken as WGS-84.
pub fn to_wgs84(
    lat: f64,
    lng: f64,
    system: pb::CoordinateSystem,
) -> Result<(f64, f64), CoordinateError> {
    if !lat.is_finite() || !(-90.0..=90.0).contains(&lat) {
        return Err(CoordinateError::LatOutOfRange);
    }
    if !lng.is_finite() || !(-180.0..=180.0).contains(&lng) {
        return Err(CoordinateError::LngOutOfRange);
    }
    Ok(match system {
        pb::CoordinateSystem::Unspecified => return Err(CoordinateError::UnspecifiedSystem),
        pb::CoordinateSystem::Wgs84 | pb::CoordinateSystem::Cgcs2000 => (lat, lng),
        pb::CoordinateSystem::Gcj02 => gcj02_to_wgs84(lat, lng),
        pb::CoordinateSystem::Bd09 => bd09_to_wgs84(lat, lng),
    })
}

/// Sets `loc`'s position from (lat, lng) in `system`: `lat`/`lng` in WGS-84, the received
/// values in `original_lat`/`original_lng`, `coordinate_system` and `has_coordinates`. On error
/// `loc` is left unchanged.
pub fn set_position(
    loc: &mut pb::Location,
    lat: f64,
    lng: f64,
    system: pb::CoordinateSystem,
) -> Result<(), CoordinateError> {
    let (w_lat, w_lng) = to_wgs84(lat, lng, system)?;
    loc.lat = w_lat;
    loc.lng = w_lng;
    loc.original_lat = lat;
    loc.original_lng = lng;
    loc.coordinate_system = system as i32;
    loc.has_coordinates = true;
    Ok(())
}

#[cfg(test)]
#[path = "geo_tests.rs"]
mod tests;
