//! Area conditions: a GeoJSON file of polygons (WGS-84, `[lng, lat]`) and the point-in-polygon
//! test, with the `geo` crate doing the geometry.
use std::path::{Path, PathBuf};

use geo::{Contains, MultiPolygon, Point, Polygon};

/// A compiled area.
#[derive(Debug, Clone)]
pub struct Area {
    /// The file it came from (shown by `routes explain`).
    pub file: PathBuf,
    shape: MultiPolygon<f64>,
}

impl Area {
    /// Reads every Polygon and MultiPolygon in a GeoJSON Geometry, Feature or
    /// FeatureCollection. Anything else in the file is an error: an area that silently lost a
    /// part would misroute every report in it.
    pub fn load(file: &Path) -> Result<Area, String> {
        let text = std::fs::read_to_string(file)
            .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        let gj: geojson::GeoJson = text
            .parse()
            .map_err(|e| format!("{} is not GeoJSON: {e}", file.display()))?;
        let mut geometries = Vec::new();
        match gj {
            geojson::GeoJson::Geometry(g) => geometries.push(g),
            geojson::GeoJson::Feature(f) => geometries.extend(f.geometry),
            geojson::GeoJson::FeatureCollection(fc) => {
                geometries.extend(fc.features.into_iter().filter_map(|f| f.geometry))
            }
        }
        let mut polygons: Vec<Polygon<f64>> = Vec::new();
        for g in geometries {
            let shape: geo::Geometry<f64> = g
                .try_into()
                .map_err(|e| format!("{}: {e}", file.display()))?;
            match shape {
                geo::Geometry::Polygon(p) => polygons.push(p),
                geo::Geometry::MultiPolygon(m) => polygons.extend(m.0),
                other => {
                    return Err(format!(
                        "{}: only Polygon and MultiPolygon areas are supported, found {}",
                        file.display(),
                        kind(&other)
                    ));
                }
            }
        }
        if polygons.is_empty() {
            return Err(format!("{}: no polygon in the file", file.display()));
        }
        Ok(Area {
            file: file.to_path_buf(),
            shape: MultiPolygon(polygons),
        })
    }

    /// Whether WGS-84 `lat`/`lng` lies inside (a point on the border is outside).
    pub fn contains(&self, lat: f64, lng: f64) -> bool {
        self.shape.contains(&Point::new(lng, lat))
    }
}

fn kind(g: &geo::Geometry<f64>) -> &'static str {
    match g {
        geo::Geometry::Point(_) => "Point",
        geo::Geometry::MultiPoint(_) => "MultiPoint",
        geo::Geometry::LineString(_) => "LineString",
        geo::Geometry::MultiLineString(_) => "MultiLineString",
        geo::Geometry::GeometryCollection(_) => "GeometryCollection",
        _ => "another geometry",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_inside_and_outside_the_sample_area() {
        let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/areas/old-city.geojson");
        let a = Area::load(&file).unwrap();
        // Bell Tower (钟楼), inside the city walls.
        assert!(a.contains(34.2610, 108.9423));
        // High-tech zone, south-west of the walls.
        assert!(!a.contains(34.2200, 108.8800));
    }

    #[test]
    fn a_line_is_not_an_area() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("line.geojson");
        std::fs::write(
            &f,
            r#"{"type":"LineString","coordinates":[[108.9,34.2],[109.0,34.3]]}"#,
        )
        .unwrap();
        let e = Area::load(&f).unwrap_err();
        assert!(e.contains("only Polygon and MultiPolygon"), "{e}");
        std::fs::write(&f, "{").unwrap();
        assert!(Area::load(&f).unwrap_err().contains("is not GeoJSON"));
    }
}
