//! The shipped model carries every row of the literature table with its p, confidence and citation.

use kulan_permeability::Model;

const TABLE: &str = include_str!("../models/permeability_defaults.csv");
const SPECIES: [&str; 6] = ["khulan", "mongolian_gazelle", "goitered_gazelle", "saiga", "argali", "wild_camel"];

#[test]
fn every_table_row_is_in_the_default_model() {
    let model = Model::default_model();
    let mut rdr = csv::Reader::from_reader(TABLE.as_bytes());
    let headers = rdr.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let mut rows = 0;
    for rec in rdr.records() {
        let rec = rec.unwrap();
        let id = &rec[col("row_id")];
        let class = model
            .barrier_classes
            .iter()
            .chain(&model.crossing_classes)
            .find(|c| c.id == id)
            .unwrap_or_else(|| panic!("row {id} is not in the default model"));
        assert_eq!(class.name, rec[col("barrier_type")], "{id}");
        for sp in SPECIES {
            let want: f64 = rec[col(sp)].parse().unwrap();
            assert_eq!(class.p[sp], want, "{id} {sp}");
        }
        assert_eq!(class.confidence.as_deref(), Some(&rec[col("confidence")]), "{id}");
        assert_eq!(class.citation.as_deref(), Some(&rec[col("citation")]), "{id}");
        assert_eq!(class.evidence.as_deref(), Some(&rec[col("evidence")]), "{id}");
        assert_eq!(class.description.as_deref(), Some(&rec[col("attributes")]), "{id}");
        rows += 1;
    }
    assert_eq!(rows, 13);
    // Rows about gaps, modified panels and underpasses are crossing classes.
    for id in ["R2", "R5", "R13"] {
        assert!(model.crossing_classes.iter().any(|c| c.id == id), "{id}");
    }
    // Every class that is not from the table says where it comes from.
    for c in model.barrier_classes.iter().chain(&model.crossing_classes) {
        if !c.id.starts_with('R') || c.id.ends_with('*') {
            assert!(c.note.is_some(), "{} needs a note", c.id);
        }
    }
}

#[test]
fn the_shared_table_has_not_moved_on() {
    // When the project's shared copy is present, the copy in the crate must be the same table.
    let shared = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/peers/fragmentation/permeability_defaults.csv");
    match std::fs::read_to_string(&shared) {
        Ok(text) => assert_eq!(text, TABLE, "models/permeability_defaults.csv differs from {}", shared.display()),
        Err(_) => eprintln!("skipped: {} not found", shared.display()),
    }
}
