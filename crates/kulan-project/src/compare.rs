//! The scenario comparison table: the headline numbers of each scenario next to the baseline's,
//! with absolute and percent change. Read back from the stage outputs, so a run that reused
//! every stage compares exactly what a fresh one would.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context;

use crate::check::LoadedProject;

/// One number of one scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct Metric {
    pub scenario: String,
    /// Empty for species-independent numbers.
    pub species: String,
    /// `barrier_km_in_range`, `meff_km2`, `effective_resistance`, `corridor_cost`.
    pub metric: String,
    /// What it is measured on: a range id, a unit id, a core pair `1-3`.
    pub subject: String,
    pub unit: String,
    /// `+∞` when disconnected or unreachable.
    pub value: f64,
}

/// A row of the comparison table.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    pub metric: Metric,
    pub baseline: f64,
    pub change: Option<f64>,
    pub change_pct: Option<f64>,
}

/// A small CSV reader for the tables Kulan writes (quoted fields allowed).
pub fn read_csv(path: &Path) -> anyhow::Result<Vec<BTreeMap<String, String>>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut lines = text.lines();
    let header = split_csv(lines.next().unwrap_or_default());
    Ok(lines.filter(|l| !l.is_empty()).map(|l| header.iter().cloned().zip(split_csv(l)).collect()).collect())
}

fn split_csv(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out
}

fn num(row: &BTreeMap<String, String>, col: &str) -> Option<f64> {
    row.get(col).and_then(|v| v.parse().ok())
}

/// Every headline number of every scenario, from the files in `out`.
pub fn collect_metrics(lp: &LoadedProject, out: &Path) -> anyhow::Result<Vec<Metric>> {
    let mut m = Vec::new();
    for s in &lp.project.scenarios {
        let name = s.name.get_ref();
        let dir = out.join(name);
        let mut push = |species: &str, metric: &str, subject: String, unit: &str, value: f64| {
            m.push(Metric {
                scenario: name.clone(),
                species: species.into(),
                metric: metric.into(),
                subject,
                unit: unit.into(),
                value,
            })
        };
        if dir.join("totals.csv").exists() {
            let rows = read_csv(&dir.join("totals.csv"))?;
            let mut total = 0.0;
            for r in &rows {
                let km = num(r, "length_m").unwrap_or(0.0) / 1000.0;
                total += km;
                push("", "barrier_km_in_range", r["range_id"].clone(), "km", km);
            }
            push("", "barrier_km_in_range", "all ranges".into(), "km", total);
        }
        if dir.join("meff.csv").exists() {
            for r in read_csv(&dir.join("meff.csv"))? {
                push("", "meff_km2", r["range_id"].clone(), "km²", num(&r, "meff_km2").unwrap_or(f64::NAN));
            }
        }
        let events = dir.join("crossings").join("events.csv");
        if events.exists() {
            let rows = read_csv(&events)?;
            for class in kulan_crossings::EventClass::ALL {
                let n = rows.iter().filter(|r| r["class"] == class.as_str()).count();
                push("", "baba_events", class.as_str().to_string(), "events", n as f64);
            }
            push("", "baba_events", "all encounters".into(), "events", rows.len() as f64);
        }
        for sp in lp.project.species.names.get_ref() {
            let circuit = dir.join(sp).join("circuit_resistances.csv");
            if circuit.exists() {
                let rows = read_csv(&circuit)?;
                let ids: Vec<String> = rows.iter().map(|r| r["focal_id"].clone()).collect();
                for (i, r) in rows.iter().enumerate() {
                    for id in &ids[i + 1..] {
                        let v = num(r, id).unwrap_or(-1.0);
                        let v = if v < 0.0 { f64::INFINITY } else { v };
                        push(sp, "effective_resistance", format!("{}-{id}", ids[i]), "Ω (cell units)", v);
                    }
                }
            }
            let links = dir.join(sp).join("corridors").join("link_table.csv");
            if links.exists() {
                for r in read_csv(&links)? {
                    let v = num(&r, "CW_Dist").unwrap_or(f64::INFINITY);
                    push(sp, "corridor_cost", format!("{}-{}", r["From_Core"], r["To_Core"]), "cost-weighted m", v);
                }
            }
        }
    }
    Ok(m)
}

/// Each scenario's numbers against the baseline's (the first scenario).
pub fn compare(metrics: &[Metric], baseline: &str) -> Vec<Comparison> {
    let base: BTreeMap<(&str, &str, &str), f64> = metrics
        .iter()
        .filter(|m| m.scenario == baseline)
        .map(|m| ((m.species.as_str(), m.metric.as_str(), m.subject.as_str()), m.value))
        .collect();
    metrics
        .iter()
        .filter_map(|m| {
            let b = *base.get(&(m.species.as_str(), m.metric.as_str(), m.subject.as_str()))?;
            let finite = b.is_finite() && m.value.is_finite();
            let change = if finite { Some(m.value - b) } else if b == m.value { Some(0.0) } else { None };
            let change_pct = if finite && b != 0.0 { Some(100.0 * (m.value - b) / b) } else if change == Some(0.0) { Some(0.0) } else { None };
            Some(Comparison { metric: m.clone(), baseline: b, change, change_pct })
        })
        .collect()
}

fn fmt(v: f64) -> String {
    if v.is_infinite() {
        "inf".into()
    } else if v.is_nan() {
        String::new()
    } else {
        format!("{v}")
    }
}

fn quote(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// `comparison.csv`: `scenario,species,metric,subject,unit,baseline,value,change,change_pct`
/// (`inf` = disconnected or unreachable; change is empty when either side is `inf`).
pub fn write_comparison_csv(path: &Path, rows: &[Comparison]) -> anyhow::Result<()> {
    let mut s = String::from("scenario,species,metric,subject,unit,baseline,value,change,change_pct\n");
    for r in rows {
        let m = &r.metric;
        let _ = writeln!(
            s,
            "{},{},{},{},{},{},{},{},{}",
            quote(&m.scenario),
            quote(&m.species),
            m.metric,
            quote(&m.subject),
            quote(&m.unit),
            fmt(r.baseline),
            fmt(m.value),
            r.change.map(fmt).unwrap_or_default(),
            r.change_pct.map(fmt).unwrap_or_default()
        );
    }
    crate::outputs::intersect::write_text(path, &s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(scenario: &str, value: f64) -> Metric {
        Metric { scenario: scenario.into(), species: "khulan".into(), metric: "effective_resistance".into(), subject: "1-3".into(), unit: "Ω".into(), value }
    }

    #[test]
    fn changes_are_absolute_and_percent_and_empty_across_a_disconnection() {
        let rows = compare(&[m("base", 10.0), m("a", 8.0), m("b", f64::INFINITY)], "base");
        assert_eq!(rows[1].change, Some(-2.0));
        assert_eq!(rows[1].change_pct, Some(-20.0));
        assert_eq!(rows[2].change, None);
        let rows = compare(&[m("base", f64::INFINITY), m("a", f64::INFINITY)], "base");
        assert_eq!(rows[1].change, Some(0.0));
    }

    #[test]
    fn csv_fields_split_with_quotes() {
        assert_eq!(split_csv(r#"1,"a, ""b""",3"#), vec!["1", "a, \"b\"", "3"]);
    }
}
