//! GCJ-02 (火星坐标, what WeChat and Chinese map providers deliver) to WGS-84.
//!
//! The forward transform WGS-84 → GCJ-02 is the published reverse-engineered formula (Krasovsky
//! 1940 ellipsoid, a = 6378245 m, e² = 0.006693421622965943). It has no closed-form inverse, so
//! [`to_wgs84`] inverts it by fixed-point iteration: guess w, move it by the error between
//! forward(w) and the GCJ point, until the error is below 1e-10° (about 10 µm); the offset's
//! derivative is tiny, so 3–5 rounds suffice. Outside China the offset is not applied (the
//! forward formula is the identity there), matching every map provider.
//!
//! This lives in the WeChat adapter for now; other channels that deliver GCJ-02 can move it to
//! a shared crate.

const A: f64 = 6_378_245.0;
const EE: f64 = 0.006_693_421_622_965_943;

/// Whether a point is outside the rectangle where GCJ-02 applies an offset.
pub fn out_of_china(lat: f64, lng: f64) -> bool {
    !(72.004..=137.8347).contains(&lng) || !(0.8293..=55.8271).contains(&lat)
}

fn transform(x: f64, y: f64) -> (f64, f64) {
    use std::f64::consts::PI;
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
    let d_lat = (d_lat * 180.0) / ((A * (1.0 - EE)) / (magic * sqrt_magic) * std::f64::consts::PI);
    let d_lng = (d_lng * 180.0) / (A / sqrt_magic * rad_lat.cos() * std::f64::consts::PI);
    (d_lat, d_lng)
}

/// WGS-84 → GCJ-02.
pub fn from_wgs84(lat: f64, lng: f64) -> (f64, f64) {
    if out_of_china(lat, lng) {
        return (lat, lng);
    }
    let (d_lat, d_lng) = delta(lat, lng);
    (lat + d_lat, lng + d_lng)
}

/// GCJ-02 → WGS-84 (iterative inverse, accurate to about 1e-9°).
pub fn to_wgs84(lat: f64, lng: f64) -> (f64, f64) {
    if out_of_china(lat, lng) {
        return (lat, lng);
    }
    let (mut w_lat, mut w_lng) = (lat, lng);
    for _ in 0..30 {
        let (g_lat, g_lng) = from_wgs84(w_lat, w_lng);
        let (e_lat, e_lng) = (g_lat - lat, g_lng - lng);
        w_lat -= e_lat;
        w_lng -= e_lng;
        if e_lat.abs() < 1e-10 && e_lng.abs() < 1e-10 {
            break;
        }
    }
    (w_lat, w_lng)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (WGS-84 lat, lng, GCJ-02 lat, lng) from the eviltransform test suite.
    const KNOWN: [(f64, f64, f64, f64); 3] = [
        (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215), // Shanghai
        (22.543847, 113.912316, 22.540796131694766, 113.9171764808363), // Shenzhen
        (39.911954, 116.377817, 39.91334545536069, 116.38404722455657), // Beijing
    ];

    #[test]
    fn forward_matches_known_points() {
        for (w_lat, w_lng, g_lat, g_lng) in KNOWN {
            let (lat, lng) = from_wgs84(w_lat, w_lng);
            assert!((lat - g_lat).abs() < 1e-9, "{lat} vs {g_lat}");
            assert!((lng - g_lng).abs() < 1e-9, "{lng} vs {g_lng}");
        }
    }

    #[test]
    fn inverse_recovers_wgs84_within_a_centimetre() {
        for (w_lat, w_lng, g_lat, g_lng) in KNOWN {
            let (lat, lng) = to_wgs84(g_lat, g_lng);
            assert!((lat - w_lat).abs() < 1e-7, "{lat} vs {w_lat}");
            assert!((lng - w_lng).abs() < 1e-7, "{lng} vs {w_lng}");
        }
        // Xi'an Bell Tower, as WeChat would send it: round trip is exact to 1e-9.
        let (lat, lng) = to_wgs84(34.261_100, 108.947_000);
        let (g_lat, g_lng) = from_wgs84(lat, lng);
        assert!((g_lat - 34.2611).abs() < 1e-9 && (g_lng - 108.947).abs() < 1e-9);
    }

    #[test]
    fn no_offset_outside_china() {
        assert_eq!(to_wgs84(51.5, -0.12), (51.5, -0.12));
        assert_eq!(to_wgs84(0.0, 0.0), (0.0, 0.0));
    }
}
