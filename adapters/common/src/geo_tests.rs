//! Tests of [`super`] against published coordinate pairs.
use super::*;

/// (WGS-84 lat, lng, GCJ-02 lat, lng). The first three are from the eviltransform test suite
/// (github.com/googollee/eviltransform); the last is Tiananmen (39.915, 116.404) as published
/// in the README of wandergis/coordtransform (`wgs84togcj02(116.404, 39.915)`).
const WGS_GCJ: [(f64, f64, f64, f64); 4] = [
    (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215), // Shanghai
    (22.543847, 113.912316, 22.540796131694766, 113.9171764808363), // Shenzhen
    (39.911954, 116.377817, 39.91334545536069, 116.38404722455657), // Beijing
    (39.915, 116.404, 39.91640428150164, 116.41024449916938),       // Tiananmen
];

/// Tiananmen as Baidu's map API shows it (BD-09 39.915, 116.404, the API's documented default
/// centre) and its GCJ-02 equivalent, from the wandergis/coordtransform README
/// (`bd09togcj02(116.404, 39.915)` = `[116.39762729119315, 39.90865673957631]`).
const TIANANMEN_BD09: (f64, f64) = (39.915, 116.404);
const TIANANMEN_GCJ02: (f64, f64) = (39.90865673957631, 116.39762729119315);

/// Xi'an Bell Tower (钟楼) in WGS-84, for round trips.
const BELL_TOWER: (f64, f64) = (34.261_100, 108.942_300);

fn close(a: (f64, f64), b: (f64, f64), eps: f64) -> bool {
    (a.0 - b.0).abs() < eps && (a.1 - b.1).abs() < eps
}

#[test]
fn gcj02_forward_matches_known_points() {
    for (w_lat, w_lng, g_lat, g_lng) in WGS_GCJ {
        let got = wgs84_to_gcj02(w_lat, w_lng);
        assert!(
            close(got, (g_lat, g_lng), 1e-9),
            "{got:?} vs {g_lat},{g_lng}"
        );
    }
}

#[test]
fn gcj02_inverse_recovers_wgs84() {
    for (w_lat, w_lng, g_lat, g_lng) in WGS_GCJ {
        let got = gcj02_to_wgs84(g_lat, g_lng);
        assert!(
            close(got, (w_lat, w_lng), 1e-7),
            "{got:?} vs {w_lat},{w_lng}"
        );
    }
}

#[test]
fn bd09_to_gcj02_matches_the_published_tiananmen_pair() {
    // The published closed form is accurate to about 1e-6°; ours is the exact inverse.
    let got = bd09_to_gcj02(TIANANMEN_BD09.0, TIANANMEN_BD09.1);
    assert!(close(got, TIANANMEN_GCJ02, 2e-6), "{got:?}");
    // The same README: gcj02tobd09(116.404, 39.915) = [116.41036949371029, 39.92133699351021].
    let got = gcj02_to_bd09(39.915, 116.404);
    assert!(
        close(got, (39.92133699351021, 116.41036949371029), 1e-12),
        "{got:?}"
    );
}

#[test]
fn bd09_to_wgs84_goes_through_gcj02() {
    let got = bd09_to_wgs84(TIANANMEN_BD09.0, TIANANMEN_BD09.1);
    let (g_lat, g_lng) = bd09_to_gcj02(TIANANMEN_BD09.0, TIANANMEN_BD09.1);
    assert_eq!(got, gcj02_to_wgs84(g_lat, g_lng));
    // About 1.1 km south-west of the Baidu point, as every Baidu → GPS conversion gives.
    assert!(close(got, (39.90725, 116.39138), 2e-5), "{got:?}");
}

#[test]
fn round_trips_are_within_a_micro_degree() {
    let points = [
        BELL_TOWER,
        (39.915, 116.404),
        (31.2304, 121.4737),
        (22.5431, 114.0579),
        (43.8171, 125.3235),
        (29.6520, 91.1721),
    ];
    for (lat, lng) in points {
        let (g_lat, g_lng) = wgs84_to_gcj02(lat, lng);
        assert!(close(gcj02_to_wgs84(g_lat, g_lng), (lat, lng), 1e-6));
        let (b_lat, b_lng) = wgs84_to_bd09(lat, lng);
        assert!(close(bd09_to_wgs84(b_lat, b_lng), (lat, lng), 1e-6));
        let (b_lat, b_lng) = gcj02_to_bd09(lat, lng);
        assert!(close(bd09_to_gcj02(b_lat, b_lng), (lat, lng), 1e-9));
        let (g_lat, g_lng) = bd09_to_gcj02(lat, lng);
        assert!(close(gcj02_to_bd09(g_lat, g_lng), (lat, lng), 1e-9));
        // And the offsets are real: hundreds of metres, not nothing.
        assert!((b_lat - lat).abs() + (b_lng - lng).abs() > 1e-3);
    }
}

#[test]
fn no_offset_outside_china() {
    for (lat, lng) in [(51.5, -0.12), (0.0, 0.0), (-33.86, 151.21), (35.68, 139.76)] {
        assert_eq!(gcj02_to_wgs84(lat, lng), (lat, lng));
        assert_eq!(bd09_to_wgs84(lat, lng), (lat, lng));
        assert_eq!(wgs84_to_bd09(lat, lng), (lat, lng));
    }
}

#[test]
fn cgcs2000_and_wgs84_are_unchanged_and_ranges_are_checked() {
    use pb::CoordinateSystem as S;
    assert_eq!(to_wgs84(34.26, 108.94, S::Cgcs2000), Ok((34.26, 108.94)));
    assert_eq!(to_wgs84(34.26, 108.94, S::Wgs84), Ok((34.26, 108.94)));
    assert_eq!(
        to_wgs84(91.0, 108.94, S::Wgs84),
        Err(CoordinateError::LatOutOfRange)
    );
    assert_eq!(
        to_wgs84(f64::NAN, 0.0, S::Gcj02),
        Err(CoordinateError::LatOutOfRange)
    );
    assert_eq!(
        to_wgs84(34.0, 180.5, S::Bd09),
        Err(CoordinateError::LngOutOfRange)
    );
    assert_eq!(
        to_wgs84(34.0, 108.0, S::Unspecified),
        Err(CoordinateError::UnspecifiedSystem)
    );
    assert_eq!(CoordinateError::LngOutOfRange.field(), "lng");
}

#[test]
fn set_position_keeps_the_original_coordinates() {
    let mut loc = pb::Location {
        address: "钟楼".into(),
        ..Default::default()
    };
    set_position(&mut loc, 39.915, 116.404, pb::CoordinateSystem::Bd09).unwrap();
    assert!(loc.has_coordinates);
    assert_eq!((loc.original_lat, loc.original_lng), (39.915, 116.404));
    assert_eq!((loc.lat, loc.lng), bd09_to_wgs84(39.915, 116.404));
    assert_eq!(loc.coordinate_system, pb::CoordinateSystem::Bd09 as i32);
    assert_eq!(loc.address, "钟楼");

    let mut untouched = pb::Location::default();
    let e = set_position(&mut untouched, 95.0, 0.0, pb::CoordinateSystem::Wgs84);
    assert_eq!(e, Err(CoordinateError::LatOutOfRange));
    assert_eq!(untouched, pb::Location::default());
}

#[test]
fn system_names_parse() {
    use pb::CoordinateSystem as S;
    assert_eq!(parse_system("GCJ-02"), Some(S::Gcj02));
    assert_eq!(parse_system("bd09ll"), Some(S::Bd09));
    assert_eq!(parse_system(" wgs84 "), Some(S::Wgs84));
    assert_eq!(parse_system("CGCS2000"), Some(S::Cgcs2000));
    assert_eq!(parse_system("mercator"), None);
}
