//! The streets (街道) of the Analysis page: which street codes the map accepts, which district
//! a street lies in, and the second map, the chosen district's streets shaded by open cases.
//!
//! Streets are drawn one district at a time, not over the whole city: a city has a few hundred
//! of them, too small to read or to point at on a city-wide drawing. The district map links
//! each district with streets on file to `?district=<code>#streets`, links only (no script).
//! Cases keep a street code only since migration 14, and a report may come without one: those
//! are counted under "no street code", so a district's streets always add up to its figure.
use std::collections::HashMap;

use maud::{Markup, html};

use super::{AreaMap, Kind, MapState, render};

/// The street map's file, relative to the routing file's folder.
pub const FILE: &str = "areas/streets.geojson";

/// The street code cases are stored under for a map file's code: 9 digits as requests carry
/// it, or the statistics bureau's 12-digit form (the 9 followed by `000`), which files made
/// from its tables have.
pub fn street_code(code: &str) -> Option<String> {
    let digits = code.bytes().all(|b| b.is_ascii_digit());
    match code.len() {
        9 if digits => Some(code.to_owned()),
        12 if digits && code.ends_with("000") => Some(code[..9].to_owned()),
        _ => None,
    }
}

/// The district a 9-digit street code lies in: its first 6 digits (as intake checks).
pub fn district_of(street: &str) -> Option<&str> {
    street
        .get(..6)
        .filter(|_| street.len() == 9 && street.bytes().all(|b| b.is_ascii_digit()))
}

/// Whether `code` can name a district: 6 digits.
pub fn is_district_code(code: &str) -> bool {
    code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit())
}

/// The streets of one district, in the file's order.
pub fn of_district(map: &AreaMap, district: &str) -> AreaMap {
    AreaMap {
        kind: Kind::Street,
        areas: map
            .areas
            .iter()
            .filter(|s| district_of(&s.code) == Some(district))
            .cloned()
            .collect(),
    }
}

/// The districts the street map can open (those with a street on file).
pub fn districts_with_streets(state: &MapState) -> Vec<String> {
    let MapState::Ready(map) = state else {
        return Vec::new();
    };
    let mut out: Vec<String> = map
        .areas
        .iter()
        .filter_map(|s| district_of(&s.code).map(str::to_owned))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The line under the district map: how to open a district's streets, or why there are none.
pub fn hint(state: &MapState) -> Markup {
    html! {
        @match state {
            MapState::Ready(_) => p.note.streets-hint {
                "点击区县查看其街道。 " small { "Choose a district on the map to see its streets." }
            },
            MapState::Missing(path) => p.note.streets-missing {
                "没有街道地图,只显示区县。 " small { "No street map, districts only: put a GeoJSON \
                FeatureCollection of the streets (properties adcode, the 9-digit street code, and \
                name) at " code { (path.display()) } " (docs/operators.md, \"Console\")." }
            },
            MapState::Invalid(why) => p.error.streets-invalid {
                "街道地图无法显示 The street map cannot be drawn: " (why)
            },
        }
    }
}

/// The chosen district's streets: `name` from the district map if it has one, `open` the open
/// cases per (district, street) the operator may see.
pub fn section(
    state: &MapState,
    district: &str,
    name: Option<&str>,
    open: &[(String, String, u32)],
) -> Markup {
    let counts: HashMap<String, u32> = open
        .iter()
        .filter(|(d, _, _)| d == district)
        .map(|(_, s, n)| (s.clone(), *n))
        .collect();
    let total: u32 = counts.values().sum();
    html! {
        h2 #streets {
            @if let Some(n) = name { (n) " " } (district) " 街道在办案件 "
            small { "open cases by street" }
        }
        p.note {
            "区县在办 " (total) " 件。 " small { "Open in the district: " (total) ". " }
            a href="/console/analysis" { "返回全市 " small { "whole city" } }
        }
        @match state {
            MapState::Ready(m) => {
                @let streets = of_district(m, district);
                @if streets.areas.is_empty() {
                    p.note.streets-none {
                        "街道地图里没有这个区县的街道。 " small { "The street map has no street of this district." }
                    }
                } @else {
                    (render(&streets, &counts, &|_| None))
                }
            },
            other => (hint(other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::super::MapFile;
    use super::*;

    #[test]
    fn street_codes_and_their_districts() {
        assert_eq!(street_code("610104001").as_deref(), Some("610104001"));
        assert_eq!(street_code("610104001000").as_deref(), Some("610104001"));
        for bad in [
            "610104001001",
            "6101040",
            "61010400a",
            "六一〇一〇四〇〇一",
            "",
        ] {
            assert_eq!(street_code(bad), None, "{bad}");
        }
        assert_eq!(district_of("610104001"), Some("610104"));
        assert_eq!(district_of("610104"), None);
        assert_eq!(district_of("61010400x"), None);
        // A multi-byte code cannot be cut inside a character.
        assert_eq!(district_of("六一〇"), None);
        assert!(is_district_code("610103") && !is_district_code("61010") && !is_district_code("x"));
    }

    #[test]
    fn the_sample_streets_load_under_their_districts() {
        let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/routing.toml");
        let state = MapFile::beside(&file).streets.read();
        assert_eq!(districts_with_streets(&state), ["610103", "610104"]);
        let MapState::Ready(map) = state else {
            panic!("the sample streets do not load");
        };
        let lianhu = of_district(&map, "610104");
        assert_eq!(lianhu.areas.len(), 9);
        let codes: Vec<&str> = lianhu.areas.iter().map(|s| s.code.as_str()).collect();
        // The codes the sample traffic and the fixtures use.
        for code in ["610104001", "610104003", "610104006"] {
            assert!(codes.contains(&code), "{code} missing from {codes:?}");
        }
        assert!(of_district(&map, "610113").areas.is_empty());
    }

    /// A file of one square street at the equator, 610104001.
    fn square() -> AreaMap {
        let text = r#"{"type":"FeatureCollection","features":[{"type":"Feature",
            "properties":{"adcode":"610104001000","name":"北院门街道"},
            "geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]}}]}"#;
        AreaMap::parse(text, Path::new("s.geojson"), Kind::Street).unwrap()
    }

    #[test]
    fn a_square_street_is_drawn_shaded_with_its_count_and_uncounted_cases_listed() {
        let open = [
            ("610104".to_owned(), "610104001".to_owned(), 3),
            ("610104".to_owned(), String::new(), 2),
            ("610103".to_owned(), "610103001".to_owned(), 7),
        ];
        let state = MapState::Ready(std::sync::Arc::new(square()));
        let html = section(&state, "610104", Some("莲湖区"), &open).into_string();
        // The square's path as the projection draws it (the map tests check the numbers).
        let right = format!("{:.1}", 8.0 + 0.5f64.to_radians().cos() * 544.0);
        let d = format!("M8.0,552.0L{right},552.0L{right},8.0L8.0,8.0Z");
        assert!(
            html.contains(&format!(
                r#"<path class="street shade-5" data-code="610104001" data-open="3" fill-rule="evenodd" d="{d}">"#
            )),
            "{html}"
        );
        assert!(html.contains("<title>北院门街道 610104001 · 在办 3 open</title>"));
        assert!(html.contains(r#"<svg class="streets""#));
        assert!(html.contains("莲湖区 610104 街道在办案件"));
        assert!(html.contains("区县在办 5 件"), "{html}");
        assert!(html.contains("无街道代码 no street code (2)"), "{html}");
        assert!(!html.contains("610103001"), "another district's street");
    }

    #[test]
    fn a_missing_or_broken_street_file_is_a_note_and_a_wrong_code_is_named() {
        let missing = MapState::Missing(PathBuf::from("/etc/minhu/areas/streets.geojson"));
        let html = hint(&missing).into_string();
        assert!(html.contains("districts only"), "{html}");
        assert!(html.contains("<code>/etc/minhu/areas/streets.geojson</code>"));
        let chosen = section(&missing, "610104", None, &[]).into_string();
        assert!(chosen.contains("districts only") && !chosen.contains("<svg"));
        let district_code = r#"{"type":"FeatureCollection","features":[{"type":"Feature",
            "properties":{"adcode":"610104"},
            "geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}}]}"#;
        let e = AreaMap::parse(district_code, Path::new("s.geojson"), Kind::Street).unwrap_err();
        assert!(e.contains("feature 0: 610104 is not a street code"), "{e}");
        assert!(
            section(&MapState::Invalid(e), "610104", None, &[])
                .into_string()
                .contains("The street map cannot be drawn")
        );
    }
}
