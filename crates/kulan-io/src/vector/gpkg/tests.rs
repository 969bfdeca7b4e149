//! GeoPackages written through SQLite must read back through GDAL exactly, and the direct reader
//! must give what OGR gives.

use std::path::{Path, PathBuf};

use gdal::vector::LayerAccess;
use gdal::Dataset;
use geo::{wkt, Geometry, MultiLineString, MultiPolygon};

use crate::vector::read::{read_layer_with, AttrValue};
use crate::vector::{FieldDef, FieldType, GeometryType, LayerRef, Row, VectorWriter};

fn lines() -> Vec<Row> {
    let g = |m: MultiLineString<f64>| Some(Geometry::MultiLineString(m));
    vec![
        (g(wkt!(MULTILINESTRING((500000. 5000000.,500010. 5000020.),(500100. 5000100.,500200. 5000050.,500300. 5000300.)))),
         vec![Some(AttrValue::Int(7)), Some(AttrValue::Real(1.25)), Some(AttrValue::Text("fence \"A\"".into()))]),
        (None, vec![None, Some(AttrValue::Real(f64::NAN)), Some(AttrValue::Text(String::new()))]),
        (g(wkt!(MULTILINESTRING((499000.5 4999000.25,499500. 4999900.)))),
         vec![Some(AttrValue::Int(-3)), None, Some(AttrValue::Text("ü".into()))]),
    ]
}

fn fields() -> Vec<FieldDef> {
    vec![FieldDef::new("n", FieldType::Int), FieldDef::new("x", FieldType::Real), FieldDef::new("name", FieldType::Text)]
}

fn write_sample(path: &Path, spatial_index: bool) {
    let mut w = VectorWriter::create(path).unwrap();
    w.write_layer_with("lines", GeometryType::MultiLineString, Some("EPSG:32648"), &fields(), lines(), spatial_index).unwrap();
    let square: MultiPolygon<f64> = wkt!(MULTIPOLYGON(((0. 0.,10. 0.,10. 10.,0. 10.,0. 0.),(2. 2.,2. 4.,4. 4.,2. 2.))));
    w.write_layer("no_crs", GeometryType::MultiPolygon, None, &[], vec![(Some(Geometry::MultiPolygon(square)), vec![])]).unwrap();
    let table = (0..3).map(|i| -> Row { (None, vec![Some(AttrValue::Int(i))]) });
    w.write_layer("table", GeometryType::None, None, &[FieldDef::new("i", FieldType::Int)], table).unwrap();
    w.write_layer("empty", GeometryType::MultiLineString, Some("EPSG:4326"), &[], Vec::<Row>::new()).unwrap();
    w.finish().unwrap();
}

fn temp(name: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    (dir, path)
}

#[test]
fn gdal_reads_layers_fields_geometry_srs_and_extent() {
    let (_dir, path) = temp("out.gpkg");
    write_sample(&path, true);
    let ds = Dataset::open(&path).unwrap();
    assert_eq!(ds.driver().short_name(), "GPKG");
    let names: Vec<String> = ds.layers().map(|l| l.name()).collect();
    // GDAL lists feature tables before attribute tables.
    assert_eq!(names, ["lines", "no_crs", "empty", "table"]);

    let mut layer = ds.layer_by_name("lines").unwrap();
    assert_eq!(layer.feature_count(), 3);
    let srs = layer.spatial_ref().unwrap();
    assert_eq!((srs.auth_name().as_deref(), srs.auth_code().ok()), (Some("EPSG"), Some(32648)));
    let e = layer.get_extent().unwrap();
    assert_eq!((e.MinX, e.MinY, e.MaxX, e.MaxY), (499000.5, 4999000.25, 500300.0, 5000300.0));
    let got: Vec<_> = layer
        .features()
        .map(|f| {
            let g = f.geometry().filter(|g| g.has_gdal_ptr()).and_then(|g| Geometry::try_from(g).ok());
            (f.fid(), g, f.field_as_integer64(0).unwrap(), f.field_as_double(1).unwrap(), f.field_as_string(2).unwrap())
        })
        .collect();
    let want = lines();
    assert_eq!(got[0].0, Some(1));
    assert_eq!(got[0].1, want[0].0);
    assert_eq!((got[0].2, got[0].3, got[0].4.as_deref()), (Some(7), Some(1.25), Some("fence \"A\"")));
    assert_eq!((got[1].1.as_ref(), got[1].2, got[1].3), (None, None, None), "null geometry; NaN is written as null");
    assert_eq!((got[2].2, got[2].4.as_deref()), (Some(-3), Some("ü")));

    // GDAL shows srs_id -1 as a local "Undefined Cartesian SRS"; Kulan's reader takes it as none.
    let no_crs = ds.layer_by_name("no_crs").unwrap().spatial_ref().unwrap().to_wkt().unwrap();
    assert!(no_crs.starts_with("LOCAL_CS[\"Undefined"), "{no_crs}");
    assert_eq!(read_layer_with(&LayerRef::new(&path, Some("no_crs")), true).unwrap().crs_wkt, None);
    assert_eq!(ds.layer_by_name("table").unwrap().feature_count(), 3);
    assert_eq!(ds.layer_by_name("empty").unwrap().feature_count(), 0);
}

#[test]
fn spatial_index_answers_queries_and_follows_edits() {
    let (_dir, path) = temp("indexed.gpkg");
    write_sample(&path, true);
    let count = |p: &Path| -> i64 {
        let c = rusqlite::Connection::open(p).unwrap();
        c.query_row("SELECT COUNT(*) FROM rtree_lines_geom", [], |r| r.get(0)).unwrap()
    };
    assert_eq!(count(&path), 2, "one entry per non-null geometry");
    {
        let ds = Dataset::open(&path).unwrap();
        let mut layer = ds.layer_by_name("lines").unwrap();
        layer.set_spatial_filter_rect(500050.0, 5000040.0, 500150.0, 5000200.0);
        let fids: Vec<_> = layer.features().filter_map(|f| f.fid()).collect();
        assert_eq!(fids, [1]);
    }
    // An edit through GDAL (as QGIS makes) goes through the triggers into the index.
    let options = gdal::DatasetOptions { open_flags: gdal::GdalOpenFlags::GDAL_OF_UPDATE | gdal::GdalOpenFlags::GDAL_OF_VECTOR, ..Default::default() };
    let ds = Dataset::open_ex(&path, options).unwrap();
    let layer = ds.layer_by_name("lines").unwrap();
    let g = gdal::vector::Geometry::from_wkt("MULTILINESTRING((1 1,2 2))").unwrap();
    gdal::vector::Feature::new(layer.defn()).and_then(|mut f| {
        f.set_geometry(g)?;
        f.create(&layer)
    })
    .unwrap();
    drop(layer);
    drop(ds);
    assert_eq!(count(&path), 3);
}

#[test]
fn same_bytes_whatever_the_thread_count() {
    let (_dir, path) = temp("a.gpkg");
    let bytes = |threads: usize, p: &Path| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| write_sample(p, true));
        std::fs::read(p).unwrap()
    };
    let one = bytes(1, &path);
    let other = path.with_file_name("b.gpkg");
    assert!(one == bytes(2, &other), "1 and 2 threads wrote different files");
}

#[test]
fn a_crs_without_epsg_code_gets_its_own_definition() {
    let (_dir, path) = temp("laea.gpkg");
    let laea = "+proj=laea +lat_0=45 +lon_0=100 +x_0=0 +y_0=0 +datum=WGS84 +units=m +no_defs";
    let mut w = VectorWriter::create(&path).unwrap();
    let g = Some(Geometry::MultiLineString(wkt!(MULTILINESTRING((0. 0.,1000. 1000.)))));
    w.write_layer("l", GeometryType::MultiLineString, Some(laea), &[], vec![(g, vec![])]).unwrap();
    w.finish().unwrap();
    let ds = Dataset::open(&path).unwrap();
    let srs = ds.layer(0).unwrap().spatial_ref().unwrap();
    let expected = gdal::spatial_ref::SpatialRef::from_proj4(laea).unwrap();
    assert!(srs == expected, "read back: {}", srs.to_proj4().unwrap());
}

#[test]
fn direct_reader_gives_what_ogr_gives() {
    let (_dir, path) = temp("in.gpkg");
    write_sample(&path, false);
    for layer in ["lines", "no_crs", "table", "empty"] {
        let source = LayerRef::new(&path, Some(layer));
        let direct = read_layer_with(&source, true).unwrap();
        let ogr = read_layer_with(&source, false).unwrap();
        assert_eq!(direct.fields, ogr.fields, "{layer}");
        assert_eq!(direct.crs_wkt, ogr.crs_wkt, "{layer}");
        assert_eq!(direct.features.len(), ogr.features.len(), "{layer}");
        for (a, b) in direct.features.iter().zip(&ogr.features) {
            assert_eq!((a.fid, &a.geometry, &a.values), (b.fid, &b.geometry, &b.values), "{layer}");
        }
    }
}

#[test]
fn a_damaged_geometry_is_an_error_naming_the_feature() {
    let (_dir, path) = temp("bad.gpkg");
    write_sample(&path, false);
    let c = rusqlite::Connection::open(&path).unwrap();
    // A blob cut off in the middle of its coordinates.
    c.execute("UPDATE lines SET geom = substr(geom, 1, 60) WHERE fid = 3", []).unwrap();
    drop(c);
    let err = read_layer_with(&LayerRef::new(&path, Some("lines")), true).unwrap_err().to_string();
    assert!(err.contains("lines") && err.contains("feature 3") && err.contains("damaged"), "{err}");
}
