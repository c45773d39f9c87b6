//! The district map of the 分析 Analysis page: the city's districts from a GeoJSON file, drawn
//! as SVG on the server and shaded by open cases (no script, no tiles, no other origin).
//!
//! The file is found by convention, `areas/districts.geojson` beside the routing file (where
//! the routing rules' own areas live), so there is no key to configure. It is a
//! FeatureCollection of Polygon / MultiPolygon features (WGS-84, `[lng, lat]`), each with the
//! district's 6-digit code in `adcode` (or `code`; a string or a number, as the files of
//! DataV.GeoAtlas have it) and its name in `name`. It is read again when its modification time
//! changes, so a corrected map shows on the next page load without a restart.
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use geo::{BoundingRect, InteriorPoint, MultiPolygon, Polygon};
use maud::{Markup, html};

/// The map's file, relative to the routing file's folder.
pub const FILE: &str = "areas/districts.geojson";
/// Shades besides "none": equal steps from one case to the busiest district's count.
pub const SHADES: u32 = 5;
/// The drawing's width and greatest height, in SVG units.
const WIDTH: f64 = 640.0;
const MAX_HEIGHT: f64 = 560.0;
const MARGIN: f64 = 8.0;

/// One district's outline.
#[derive(Debug, Clone)]
pub struct District {
    /// The code its cases are stored under (`cases.district_code`).
    pub code: String,
    pub name: String,
    shape: MultiPolygon<f64>,
}

/// The districts of one file.
#[derive(Debug, Clone)]
pub struct DistrictMap {
    pub districts: Vec<District>,
}

impl DistrictMap {
    /// Parses a FeatureCollection; `file` names it in errors. A feature without a code or with
    /// a geometry that is not an area is an error: a map that silently lost a district would
    /// show its cases nowhere.
    pub fn parse(text: &str, file: &Path) -> Result<DistrictMap, String> {
        let gj: geojson::GeoJson = text
            .parse()
            .map_err(|e| format!("{} is not GeoJSON: {e}", file.display()))?;
        let geojson::GeoJson::FeatureCollection(fc) = gj else {
            return Err(format!("{}: expected a FeatureCollection", file.display()));
        };
        let mut districts = Vec::new();
        for (i, f) in fc.features.into_iter().enumerate() {
            let at = |what: &str| format!("{}: feature {i}: {what}", file.display());
            let code = ["adcode", "code"]
                .iter()
                .find_map(|k| match f.property(k) {
                    Some(serde_json::Value::String(s)) => Some(s.trim().to_owned()),
                    Some(serde_json::Value::Number(n)) => Some(n.to_string()),
                    _ => None,
                })
                .filter(|c| !c.is_empty())
                .ok_or_else(|| at("no district code in properties.adcode or properties.code"))?;
            let name = match f.property("name") {
                Some(serde_json::Value::String(s)) if !s.trim().is_empty() => s.trim().to_owned(),
                _ => code.clone(),
            };
            let geometry = f.geometry.ok_or_else(|| at("no geometry"))?;
            let shape: geo::Geometry<f64> = geometry.try_into().map_err(|e| at(&format!("{e}")))?;
            let shape = match shape {
                geo::Geometry::Polygon(p) => MultiPolygon(vec![p]),
                geo::Geometry::MultiPolygon(m) => m,
                _ => return Err(at("only Polygon and MultiPolygon districts are supported")),
            };
            districts.push(District { code, name, shape });
        }
        if districts.is_empty() {
            return Err(format!("{}: no district in the file", file.display()));
        }
        Ok(DistrictMap { districts })
    }
}

/// What the page can draw.
#[derive(Debug, Clone)]
pub enum MapState {
    Ready(Arc<DistrictMap>),
    /// No file at the conventional place (the page says where to put one).
    Missing(PathBuf),
    /// A file that cannot be drawn, and why (file and feature named).
    Invalid(String),
}

/// The map file, read again only when it changes.
#[derive(Debug)]
pub struct MapFile {
    pub path: PathBuf,
    cache: Mutex<Option<(SystemTime, Arc<DistrictMap>)>>,
}

impl MapFile {
    /// The map beside `routing_file`, by convention ([`FILE`]).
    pub fn beside(routing_file: &Path) -> MapFile {
        let dir = routing_file.parent().unwrap_or(Path::new("."));
        MapFile {
            path: dir.join(FILE),
            cache: Mutex::new(None),
        }
    }

    /// The map as it is on disk now (blocking: call off the async workers).
    pub fn read(&self) -> MapState {
        let modified = match std::fs::metadata(&self.path) {
            Ok(m) => m.modified().unwrap_or(SystemTime::UNIX_EPOCH),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return MapState::Missing(self.path.clone());
            }
            Err(e) => return MapState::Invalid(format!("{}: {e}", self.path.display())),
        };
        // A poisoned lock only means a reader panicked; the cache is still a valid value.
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((at, map)) = cache.as_ref()
            && *at == modified
        {
            return MapState::Ready(map.clone());
        }
        let parsed = std::fs::read_to_string(&self.path)
            .map_err(|e| format!("cannot read {}: {e}", self.path.display()))
            .and_then(|text| DistrictMap::parse(&text, &self.path));
        match parsed {
            Ok(map) => {
                let map = Arc::new(map);
                *cache = Some((modified, map.clone()));
                MapState::Ready(map)
            }
            Err(e) => MapState::Invalid(e),
        }
    }
}

/// Lon/lat to SVG units: equirectangular, longitudes shrunk by the cosine of the middle
/// latitude so that shapes keep their proportions at the city's latitude.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Projection {
    min_lon: f64,
    max_lat: f64,
    kx: f64,
    scale: f64,
    pub width: f64,
    pub height: f64,
}

impl Projection {
    /// Fits `[min_lon, min_lat, max_lon, max_lat]` into the drawing, keeping proportions.
    pub fn fit(min_lon: f64, min_lat: f64, max_lon: f64, max_lat: f64) -> Projection {
        let kx = ((min_lat + max_lat) / 2.0).to_radians().cos();
        // A degenerate extent (one point, a line) still gets a finite scale.
        let w = ((max_lon - min_lon) * kx).max(1e-9);
        let h = (max_lat - min_lat).max(1e-9);
        let scale = ((WIDTH - 2.0 * MARGIN) / w).min((MAX_HEIGHT - 2.0 * MARGIN) / h);
        Projection {
            min_lon,
            max_lat,
            kx,
            scale,
            width: (w * scale + 2.0 * MARGIN).ceil(),
            height: (h * scale + 2.0 * MARGIN).ceil(),
        }
    }

    pub fn xy(&self, lon: f64, lat: f64) -> (f64, f64) {
        (
            MARGIN + (lon - self.min_lon) * self.kx * self.scale,
            MARGIN + (self.max_lat - lat) * self.scale,
        )
    }

    /// An SVG path for a polygon: every ring (holes too, drawn with `fill-rule="evenodd"`),
    /// closed, to a tenth of a unit.
    pub fn path(&self, shape: &MultiPolygon<f64>) -> String {
        let mut d = String::new();
        let rings = shape
            .0
            .iter()
            .flat_map(|p: &Polygon<f64>| std::iter::once(p.exterior()).chain(p.interiors()));
        for ring in rings {
            let pts = &ring.0;
            // geo closes rings by repeating the first point; `Z` does that already.
            let open = match (pts.first(), pts.last()) {
                (Some(a), Some(b)) if pts.len() > 1 && a == b => &pts[..pts.len() - 1],
                _ => &pts[..],
            };
            for (i, c) in open.iter().enumerate() {
                let (x, y) = self.xy(c.x, c.y);
                d.push_str(&format!("{}{x:.1},{y:.1}", if i == 0 { "M" } else { "L" }));
            }
            if !open.is_empty() {
                d.push('Z');
            }
        }
        d
    }
}

/// The shade of a district with `count` open cases when the busiest has `max`: 0 for none,
/// else 1..=[`SHADES`] in equal steps of `max / SHADES`.
pub fn shade(count: u32, max: u32) -> u32 {
    if count == 0 || max == 0 {
        return 0;
    }
    let step = (u64::from(count) * u64::from(SHADES)).div_ceil(u64::from(max));
    step.clamp(1, u64::from(SHADES)) as u32
}

/// The legend: each shade in use and the counts it stands for (`lo..=hi`).
pub fn legend(max: u32) -> Vec<(u32, u32, u32)> {
    let mut out = vec![(0, 0, 0)];
    for s in 1..=SHADES {
        let lo = (u64::from(max) * u64::from(s - 1) / u64::from(SHADES)) as u32 + 1;
        let hi = (u64::from(max) * u64::from(s) / u64::from(SHADES)) as u32;
        if lo <= hi {
            out.push((s, lo, hi));
        }
    }
    out
}

/// The map shaded by `open` (open cases per district code), its legend, and the codes with
/// open cases that the map does not draw (so no case goes uncounted).
pub fn render(map: &DistrictMap, open: &HashMap<String, u32>) -> Markup {
    let bounds = map
        .districts
        .iter()
        .filter_map(|d| d.shape.bounding_rect())
        .reduce(|a, b| {
            geo::Rect::new(
                geo::coord! { x: a.min().x.min(b.min().x), y: a.min().y.min(b.min().y) },
                geo::coord! { x: a.max().x.max(b.max().x), y: a.max().y.max(b.max().y) },
            )
        });
    let Some(b) = bounds else {
        return html! { p.note { "地图没有可画的区域 The map has no shape to draw" } };
    };
    let proj = Projection::fit(b.min().x, b.min().y, b.max().x, b.max().y);
    let count = |code: &str| open.get(code).copied().unwrap_or(0);
    let max = map
        .districts
        .iter()
        .map(|d| count(&d.code))
        .max()
        .unwrap_or(0);
    let mut outside: Vec<(&String, &u32)> = open
        .iter()
        .filter(|(code, n)| **n > 0 && !map.districts.iter().any(|d| &d.code == *code))
        .collect();
    outside.sort();
    html! {
        div.map {
            svg.districts xmlns="http://www.w3.org/2000/svg" role="img"
                viewBox={"0 0 " (proj.width) " " (proj.height)}
                width=(proj.width) height=(proj.height) {
                @for d in &map.districts {
                    @let n = count(&d.code);
                    path class={"district shade-" (shade(n, max))} data-code=(d.code)
                        data-open=(n) fill-rule="evenodd" d=(proj.path(&d.shape)) {
                        title { (d.name) " " (d.code) " · 在办 " (n) " open" }
                    }
                }
                @for d in &map.districts {
                    @if let Some(p) = d.shape.interior_point() {
                        @let (x, y) = proj.xy(p.x(), p.y());
                        text.label x=(format!("{x:.1}")) y=(format!("{y:.1}")) text-anchor="middle" { (d.name) }
                    }
                }
            }
            ul.legend {
                li { "在办案件 " small { "open cases" } }
                @for (s, lo, hi) in legend(max) {
                    li {
                        span class={"swatch shade-" (s)} {}
                        @if s == 0 { "0" } @else if lo == hi { (lo) } @else { (lo) "–" (hi) }
                    }
                }
            }
        }
        @if !outside.is_empty() {
            p.note {
                "地图外的区县 " small { "districts not on the map" } ": "
                @for (i, (code, n)) in outside.iter().enumerate() {
                    @if i > 0 { ", " }
                    @if code.is_empty() { "无区县 none" } @else { (code) }
                    " (" (n) ")"
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
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
        let MapState::Ready(map) = MapFile::beside(&file).read() else {
            panic!("the sample map does not load");
        };
        let codes: Vec<&str> = map.districts.iter().map(|d| d.code.as_str()).collect();
        for code in ["610102", "610103", "610104", "610112", "610113"] {
            assert!(codes.contains(&code), "{code} missing from {codes:?}");
        }
        let open = HashMap::from([
            ("610104".to_owned(), 4),
            ("999999".to_owned(), 2),
            (String::new(), 1),
        ]);
        let svg = render(&map, &open).into_string();
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
        let m = MapFile::beside(&dir.path().join("routing.toml"));
        assert!(matches!(m.read(), MapState::Missing(p) if p.ends_with(FILE)));
        std::fs::create_dir_all(dir.path().join("areas")).unwrap();
        let nocode = r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"x"},
            "geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}}]}"#;
        std::fs::write(&m.path, nocode).unwrap();
        assert!(
            matches!(m.read(), MapState::Invalid(e) if e.contains("feature 0: no district code"))
        );
        let line = r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"adcode":610104},
            "geometry":{"type":"LineString","coordinates":[[0,0],[1,1]]}}]}"#;
        let map = DistrictMap::parse(line, Path::new("d.geojson")).unwrap_err();
        assert!(map.contains("only Polygon and MultiPolygon"), "{map}");
    }
}
