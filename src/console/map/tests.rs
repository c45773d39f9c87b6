//! The map drawing on known shapes and the sample district file: projection, shades and
//! legend, titles, and the errors of files that cannot be drawn.
use super::*;

#[test]
fn a_known_square_gives_a_known_path() {
    // At the equator cos(lat) ≈ 1: one degree is (WIDTH − 2·MARGIN) units.
    let square: Polygon<f64> = Polygon::new(
        vec![(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0), (0.0, 0.0)].into(),
        vec![],
    );
    let p = Projection::fit(0.0, 0.0, 1.0, 1.0);
    let kx = 0.5f64.to_radians().cos();
    let scale = (WIDTH - 2.0 * MARGIN) / kx;
    let scale = scale.min(MAX_HEIGHT - 2.0 * MARGIN);
    assert_eq!(
        scale,
        MAX_HEIGHT - 2.0 * MARGIN,
        "height-bound: 544 per degree"
    );
    let right = MARGIN + kx * scale;
    assert_eq!(
        p.path(&MultiPolygon(vec![square])),
        format!("M8.0,552.0L{right:.1},552.0L{right:.1},8.0L8.0,8.0Z")
    );
    assert_eq!((p.width, p.height), ((right + MARGIN).ceil(), MAX_HEIGHT));
}

#[test]
fn shades_step_evenly_and_the_legend_covers_every_count() {
    assert_eq!(shade(0, 10), 0);
    assert_eq!(shade(1, 10), 1);
    assert_eq!(shade(2, 10), 1);
    assert_eq!(shade(3, 10), 2);
    assert_eq!(shade(10, 10), 5);
    assert_eq!(shade(1, 1), 5);
    assert_eq!(shade(u32::MAX, u32::MAX), 5);
    assert_eq!(legend(1), vec![(0, 0, 0), (5, 1, 1)]);
    let l = legend(10);
    assert_eq!(
        l[1..],
        [(1, 1, 2), (2, 3, 4), (3, 5, 6), (4, 7, 8), (5, 9, 10)]
    );
    for n in 1..=10 {
        assert!(
            l.iter()
                .any(|(s, lo, hi)| *s == shade(n, 10) && (*lo..=*hi).contains(&n))
        );
    }
}

#[test]
fn the_sample_districts_load_and_draw_shaded_with_titles() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/routing.toml");
    let MapState::Ready(map) = MapFile::beside(&file).districts.read() else {
        panic!("the sample map does not load");
    };
    let codes: Vec<&str> = map.areas.iter().map(|d| d.code.as_str()).collect();
    for code in ["610102", "610103", "610104", "610112", "610113"] {
        assert!(codes.contains(&code), "{code} missing from {codes:?}");
    }
    let open = HashMap::from([
        ("610104".to_owned(), 4),
        ("999999".to_owned(), 2),
        (String::new(), 1),
    ]);
    let svg = render(&map, &open, &|_| None).into_string();
    assert!(svg.contains(r#"class="district shade-5" data-code="610104" data-open="4""#));
    assert!(svg.contains("莲湖区 610104 · 在办 4 open</title>"), "{svg}");
    assert!(svg.contains(r#"class="district shade-0" data-code="610113""#));
    assert!(
        svg.contains("999999 (2)"),
        "a case off the map is still counted"
    );
}

#[test]
fn files_that_cannot_be_drawn_say_why_and_a_missing_one_is_not_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let m = MapFile::beside(&dir.path().join("routing.toml")).districts;
    assert!(matches!(m.read(), MapState::Missing(p) if p.ends_with(FILE)));
    std::fs::create_dir_all(dir.path().join("areas")).unwrap();
    let nocode = r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"x"},
        "geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}}]}"#;
    std::fs::write(&m.path, nocode).unwrap();
    assert!(matches!(m.read(), MapState::Invalid(e) if e.contains("feature 0: no district code")));
    let line = r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"adcode":610104},
        "geometry":{"type":"LineString","coordinates":[[0,0],[1,1]]}}]}"#;
    let map = AreaMap::parse(line, Path::new("d.geojson"), Kind::District).unwrap_err();
    assert!(map.contains("only Polygon and MultiPolygon"), "{map}");
}
