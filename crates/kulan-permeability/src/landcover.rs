//! Land-cover class tables: which base resistance each land-cover code gets.

use std::collections::BTreeMap;
use std::io::Read;

use crate::model::{norm, parse_resistance_text, Model};
use crate::PermeabilityError;

/// Land-cover code → base resistance (`None`: impassable).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ClassTable {
    pub resistance: BTreeMap<i64, Option<f64>>,
    pub names: BTreeMap<i64, String>,
    /// Where the table came from, for messages.
    pub origin: String,
}

impl ClassTable {
    /// The `[[landcover]]` classes of a model for one species.
    pub fn from_model(model: &Model, species: &str) -> Result<ClassTable, PermeabilityError> {
        let mut t = ClassTable { origin: format!("{} [[landcover]]", model.origin), ..Default::default() };
        for lc in &model.landcover {
            let r = model
                .landcover_resistance(lc, species)
                .map_err(|e| PermeabilityError::Input(format!("{}: code {}: {e}", model.origin, lc.code)))?;
            t.resistance.insert(lc.code, r);
            if let Some(n) = &lc.name {
                t.names.insert(lc.code, n.clone());
            }
        }
        Ok(t)
    }

    /// Reads a CSV table. It needs a code column (`code`, `class` or `value`) and a resistance
    /// column: one named after the species (or one of its aliases) when present, otherwise
    /// `resistance`. A `name` column is optional. Resistances are numbers greater than 0, or
    /// `impassable` (also `nodata`, `inf`) for cells no animal enters.
    ///
    /// ```
    /// let csv = "code,name,resistance\n1,steppe,1\n2,desert,3.5\n9,lake,impassable\n";
    /// let t = kulan_permeability::ClassTable::from_csv(csv.as_bytes(), "t.csv", &["khulan".into()]).unwrap();
    /// assert_eq!(t.resistance[&2], Some(3.5));
    /// assert_eq!(t.resistance[&9], None);
    /// ```
    pub fn from_csv(reader: impl Read, origin: &str, species_names: &[String]) -> Result<ClassTable, PermeabilityError> {
        let err = |m: String| PermeabilityError::Input(format!("{origin}: {m}"));
        let mut rdr = csv::ReaderBuilder::new().trim(csv::Trim::All).flexible(false).from_reader(reader);
        let headers: Vec<String> = rdr.headers().map_err(|e| err(e.to_string()))?.iter().map(norm).collect();
        let find = |names: &[&str]| headers.iter().position(|h| names.contains(&h.as_str()));
        let code_col = find(&["code", "class", "value", "id"])
            .ok_or_else(|| err(format!("no code column; name one of code, class, value (columns: {})", headers.join(", "))))?;
        let wanted: Vec<String> = species_names.iter().map(|s| norm(s)).collect();
        let res_col = headers
            .iter()
            .position(|h| wanted.contains(h))
            .or_else(|| find(&["resistance"]))
            .ok_or_else(|| {
                err(format!(
                    "no resistance column: name it 'resistance' or after the species ({}); columns: {}",
                    wanted.join(", "),
                    headers.join(", ")
                ))
            })?;
        let name_col = find(&["name", "label", "description"]);
        let mut t = ClassTable { origin: origin.to_string(), ..Default::default() };
        for (i, rec) in rdr.records().enumerate() {
            let line = i + 2;
            let rec = rec.map_err(|e| err(format!("line {line}: {e}")))?;
            let code_text = rec.get(code_col).unwrap_or("");
            let code: i64 = code_text
                .parse::<i64>()
                .or_else(|_| code_text.parse::<f64>().map_err(|_| ()).and_then(|f| if f.fract() == 0.0 { Ok(f as i64) } else { Err(()) }))
                .map_err(|_| err(format!("line {line}: code '{code_text}' is not a whole number")))?;
            let r = parse_resistance_text(rec.get(res_col).unwrap_or("")).map_err(|m| err(format!("line {line}: {m}")))?;
            if t.resistance.insert(code, r).is_some() {
                return Err(err(format!("line {line}: code {code} is listed twice")));
            }
            if let Some(n) = name_col.and_then(|c| rec.get(c)) {
                t.names.insert(code, n.to_string());
            }
        }
        if t.resistance.is_empty() {
            return Err(err("the table has no rows".into()));
        }
        Ok(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn species_column_wins_over_resistance() {
        let csv = "class,resistance,Khulan\n1,5,2\n2,5,inf\n";
        let t = ClassTable::from_csv(csv.as_bytes(), "t", &["khulan".into(), "kulan".into()]).unwrap();
        assert_eq!(t.resistance[&1], Some(2.0));
        assert_eq!(t.resistance[&2], None);
    }

    #[test]
    fn bad_tables_name_the_line() {
        let e = ClassTable::from_csv("code,resistance\n1,0\n".as_bytes(), "t.csv", &[]).unwrap_err().to_string();
        assert!(e.contains("t.csv") && e.contains("line 2"), "{e}");
        let e = ClassTable::from_csv("code,resistance\nx,1\n".as_bytes(), "t.csv", &[]).unwrap_err().to_string();
        assert!(e.contains("'x'"), "{e}");
        let e = ClassTable::from_csv("a,b\n1,1\n".as_bytes(), "t.csv", &[]).unwrap_err().to_string();
        assert!(e.contains("no code column"), "{e}");
        let e = ClassTable::from_csv("code,resistance\n1,1\n1,2\n".as_bytes(), "t.csv", &[]).unwrap_err().to_string();
        assert!(e.contains("twice"), "{e}");
    }
}
