//! Feature identifiers as users' files carry them: whole numbers or text.

use std::cmp::Ordering;
use std::fmt;

/// The id of a barrier or range feature, taken from the field the user names.
///
/// Numbers sort before text and numerically among themselves, so output tables come out in the
/// order a user expects (`2` before `10`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum FeatureId {
    Int(i64),
    Text(String),
}

impl FeatureId {
    /// Reads an id from text: a whole number when it is one, text otherwise.
    pub fn parse(s: &str) -> FeatureId {
        match s.trim().parse::<i64>() {
            Ok(n) => FeatureId::Int(n),
            Err(_) => FeatureId::Text(s.to_string()),
        }
    }
}

impl Ord for FeatureId {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (FeatureId::Int(a), FeatureId::Int(b)) => a.cmp(b),
            (FeatureId::Int(_), FeatureId::Text(_)) => Ordering::Less,
            (FeatureId::Text(_), FeatureId::Int(_)) => Ordering::Greater,
            (FeatureId::Text(a), FeatureId::Text(b)) => a.cmp(b),
        }
    }
}

impl PartialOrd for FeatureId {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for FeatureId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FeatureId::Int(n) => write!(f, "{n}"),
            FeatureId::Text(s) => f.write_str(s),
        }
    }
}

impl From<i64> for FeatureId {
    fn from(n: i64) -> Self {
        FeatureId::Int(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_sort_numerically_and_before_text() {
        let mut ids = vec![FeatureId::parse("b"), FeatureId::parse("10"), FeatureId::parse("2")];
        ids.sort();
        assert_eq!(ids.iter().map(|i| i.to_string()).collect::<Vec<_>>(), ["2", "10", "b"]);
    }
}
