//! GCJ-02 (火星坐标, what WeChat and Chinese map providers deliver) to WGS-84.
//!
//! The transform itself lives in the shared adapter crate ([`minhu_adapter::geo`]), beside
//! BD-09 and CGCS2000; these are the names the WeChat translators have always called.

pub use minhu_adapter::geo::out_of_china;

/// WGS-84 → GCJ-02.
pub fn from_wgs84(lat: f64, lng: f64) -> (f64, f64) {
    minhu_adapter::geo::wgs84_to_gcj02(lat, lng)
}

/// GCJ-02 → WGS-84 (iterative inverse, accurate to about 1e-9°).
pub fn to_wgs84(lat: f64, lng: f64) -> (f64, f64) {
    minhu_adapter::geo::gcj02_to_wgs84(lat, lng)
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
