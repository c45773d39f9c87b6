//! The maps of the 分析 Analysis page: the city's districts, and the streets (街道) of each
//! ([`streets`]), from GeoJSON files drawn as SVG on the server and shaded by open cases (no
//! script, no tiles, no other origin).
//!
//! The files are found by convention beside the routing file (where the routing rules' own
//! areas live), `areas/districts.geojson` and `areas/streets.geojson`, so there is no key to
//! configure. Each is a FeatureCollection of Polygon / MultiPolygon features (WGS-84,
//! `[lng, lat]`), each with the code its cases are stored under in `adcode` (or `code`; a
//! string or a number, as the files of DataV.GeoAtlas have it) and its name in `name`. A file
//! is read again when its modification time changes, so a corrected map shows on the next page
//! load without a restart.
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use geo::{BoundingRect, InteriorPoint, MultiPolygon, Polygon};
use maud::{Markup, html};

pub mod streets;

/// The district map's file, relative to the routing file's folder.
pub const FILE: &str = "areas/districts.geojson";
/// Shades besides "none": equal steps from one case to the busiest area's count.
pub const SHADES: u32 = 5;
/// The drawing's width and greatest height, in SVG units.
const WIDTH: f64 = 640.0;
const MAX_HEIGHT: f64 = 560.0;
const MARGIN: f64 = 8.0;

/// What a map's areas are: it decides the code they must carry and how the page names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// 区县, a 6-digit code (`cases.district_code`).
    District,
    /// 街道, a 9-digit code (`cases.street_code`).
    Street,
}

impl Kind {
    /// The CSS class of its shapes (the drawing's is the plural).
    pub fn class(self) -> &'static str {
        match self {
            Kind::District => "district",
            Kind::Street => "street",
        }
    }

    fn zh(self) -> &'static str {
        match self {
            Kind::District => "区县",
            Kind::Street => "街道",
        }
    }
}

/// One area's outline.
#[derive(Debug, Clone)]
pub struct Area {
    /// The code its cases are stored under.
    pub code: String,
    pub name: String,
    shape: MultiPolygon<f64>,
}

/// The areas of one file.
#[derive(Debug, Clone)]
pub struct AreaMap {
    pub kind: Kind,
    pub areas: Vec<Area>,
}

impl AreaMap {
    /// Parses a FeatureCollection; `file` names it in errors. A feature without a code (or, for
    /// streets, with one that is not a street's) or with a geometry that is not an area is an
    /// error: a map that silently lost an area would show its cases nowhere.
    pub fn parse(text: &str, file: &Path, kind: Kind) -> Result<AreaMap, String> {
        let what = kind.class();
        let gj: geojson::GeoJson = text
            .parse()
            .map_err(|e| format!("{} is not GeoJSON: {e}", file.display()))?;
        let geojson::GeoJson::FeatureCollection(fc) = gj else {
            return Err(format!("{}: expected a FeatureCollection", file.display()));
        };
        let mut areas = Vec::new();
        for (i, f) in fc.features.into_iter().enumerate() {
            let at = |why: &str| format!("{}: feature {i}: {why}", file.display());
            let code = ["adcode", "code"]
                .iter()
                .find_map(|k| match f.property(k) {
                    Some(serde_json::Value::String(s)) => Some(s.trim().to_owned()),
                    Some(serde_json::Value::Number(n)) => Some(n.to_string()),
                    _ => None,
                })
                .filter(|c| !c.is_empty())
                .ok_or_else(|| {
                    at(&format!(
                        "no {what} code in properties.adcode or properties.code"
                    ))
                })?;
            let code = match kind {
                Kind::District => code,
                Kind::Street => streets::street_code(&code).ok_or_else(|| {
                    at(&format!(
                        "{code} is not a street code (9 digits, or 12 ending in 000)"
                    ))
                })?,
            };
            let name = match f.property("name") {
                Some(serde_json::Value::String(s)) if !s.trim().is_empty() => s.trim().to_owned(),
                _ => code.clone(),
            };
            let geometry = f.geometry.ok_or_else(|| at("no geometry"))?;
            let shape: geo::Geometry<f64> = geometry.try_into().map_err(|e| at(&format!("{e}")))?;
            let shape = match shape {
                geo::Geometry::Polygon(p) => MultiPolygon(vec![p]),
                geo::Geometry::MultiPolygon(m) => m,
                _ => {
                    return Err(at(&format!(
                        "only Polygon and MultiPolygon {what}s are supported"
                    )));
                }
            };
            areas.push(Area { code, name, shape });
        }
        if areas.is_empty() {
            return Err(format!("{}: no {what} in the file", file.display()));
        }
        Ok(AreaMap { kind, areas })
    }
}

/// What the page can draw.
#[derive(Debug, Clone)]
pub enum MapState {
    Ready(Arc<AreaMap>),
    /// No file at the conventional place (the page says where to put one).
    Missing(PathBuf),
    /// A file that cannot be drawn, and why (file and feature named).
    Invalid(String),
}

/// One map file, read again only when it changes.
#[derive(Debug)]
pub struct AreaFile {
    pub path: PathBuf,
    kind: Kind,
    cache: Mutex<Option<(SystemTime, Arc<AreaMap>)>>,
}

impl AreaFile {
    pub fn new(path: PathBuf, kind: Kind) -> AreaFile {
        AreaFile {
            path,
            kind,
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
            .and_then(|text| AreaMap::parse(&text, &self.path, self.kind));
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

/// The Analysis page's two map files.
#[derive(Debug)]
pub struct MapFile {
    pub districts: AreaFile,
    pub streets: AreaFile,
}

impl MapFile {
    /// The maps beside `routing_file`, by convention ([`FILE`], [`streets::FILE`]).
    pub fn beside(routing_file: &Path) -> MapFile {
        let dir = routing_file.parent().unwrap_or(Path::new("."));
        MapFile {
            districts: AreaFile::new(dir.join(FILE), Kind::District),
            streets: AreaFile::new(dir.join(streets::FILE), Kind::Street),
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

/// An area's label on the drawing. Street shapes are narrow: their labels drop the 街道 that
/// ends every street's name (the hover title keeps the whole name).
fn label(kind: Kind, name: &str) -> &str {
    match kind {
        Kind::Street => name.strip_suffix("街道").unwrap_or(name),
        Kind::District => name,
    }
}

/// The map shaded by `open` (open cases per code), its legend, and the codes with open cases
/// that the map does not draw (so no case goes uncounted). `link` gives the page an area opens,
/// if any.
pub fn render(
    map: &AreaMap,
    open: &HashMap<String, u32>,
    link: &dyn Fn(&Area) -> Option<String>,
) -> Markup {
    let bounds = map
        .areas
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
    let max = map.areas.iter().map(|d| count(&d.code)).max().unwrap_or(0);
    let mut outside: Vec<(&String, &u32)> = open
        .iter()
        .filter(|(code, n)| **n > 0 && !map.areas.iter().any(|d| &d.code == *code))
        .collect();
    outside.sort();
    let (class, zh) = (map.kind.class(), map.kind.zh());
    let shape = |d: &Area, n: u32| {
        html! {
            path class={(class) " shade-" (shade(n, max))} data-code=(d.code)
                data-open=(n) fill-rule="evenodd" d=(proj.path(&d.shape)) {
                title { (d.name) " " (d.code) " · 在办 " (n) " open" }
            }
        }
    };
    html! {
        div.map {
            svg class={(class) "s"} xmlns="http://www.w3.org/2000/svg" role="img"
                viewBox={"0 0 " (proj.width) " " (proj.height)}
                width=(proj.width) height=(proj.height) {
                @for d in &map.areas {
                    @let n = count(&d.code);
                    @if let Some(href) = link(d) {
                        a href=(href) { (shape(d, n)) }
                    } @else {
                        (shape(d, n))
                    }
                }
                @for d in &map.areas {
                    @if let Some(p) = d.shape.interior_point() {
                        @let (x, y) = proj.xy(p.x(), p.y());
                        text.label x=(format!("{x:.1}")) y=(format!("{y:.1}")) text-anchor="middle" { (label(map.kind, &d.name)) }
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
            p.note.outside {
                "地图外的" (zh) " " small { (class) "s not on the map" } ": "
                @for (i, (code, n)) in outside.iter().enumerate() {
                    @if i > 0 { ", " }
                    @if code.is_empty() { "无" (zh) "代码 no " (class) " code" } @else { (code) }
                    " (" (n) ")"
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
