//! Linear barriers: fences, border fences, railways and roads with the attributes that decide how
//! hard they are to cross.

use std::fmt;
use std::str::FromStr;

use geo::MultiLineString;
use serde::{Deserialize, Serialize};

use super::id::FeatureId;

/// What a linear barrier is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BarrierKind {
    Fence,
    BorderFence,
    Railway,
    Road,
    Other,
}

impl BarrierKind {
    pub const ALL: [BarrierKind; 5] =
        [BarrierKind::Fence, BarrierKind::BorderFence, BarrierKind::Railway, BarrierKind::Road, BarrierKind::Other];

    /// The name used in files and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            BarrierKind::Fence => "fence",
            BarrierKind::BorderFence => "border_fence",
            BarrierKind::Railway => "railway",
            BarrierKind::Road => "road",
            BarrierKind::Other => "other",
        }
    }
}

impl fmt::Display for BarrierKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for BarrierKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let norm = s.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        BarrierKind::ALL
            .into_iter()
            .find(|k| k.as_str() == norm)
            .ok_or_else(|| format!("unknown barrier kind '{s}' (expected one of fence, border_fence, railway, road, other)"))
    }
}

/// Whether a barrier stands today, is proposed, or has been taken down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BarrierStatus {
    #[default]
    Existing,
    Planned,
    Removed,
}

impl BarrierStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            BarrierStatus::Existing => "existing",
            BarrierStatus::Planned => "planned",
            BarrierStatus::Removed => "removed",
        }
    }
}

impl FromStr for BarrierStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "existing" | "built" | "operational" | "" => Ok(BarrierStatus::Existing),
            "planned" | "proposed" | "construction" | "under_construction" => Ok(BarrierStatus::Planned),
            "removed" | "dismantled" | "abandoned" | "disused" => Ok(BarrierStatus::Removed),
            other => Err(format!("unknown barrier status '{other}' (expected existing, planned or removed)")),
        }
    }
}

/// The attributes of a barrier that matter to animals. Unknown values stay `None`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct BarrierAttrs {
    pub kind: Option<BarrierKind>,
    /// Height above ground of a fence, or of a road or railway embankment, in metres.
    pub height_m: Option<f64>,
    /// Height of the lowest wire above ground, in centimetres.
    pub bottom_wire_cm: Option<f64>,
    pub wire_count: Option<u32>,
    pub barbed: Option<bool>,
    /// A railway or road with a right-of-way fence.
    pub fenced: Option<bool>,
    /// Annual average daily traffic, vehicles per day.
    pub traffic_aadt: Option<f64>,
    /// Number of railway tracks.
    pub tracks: Option<u32>,
    pub electrified: Option<bool>,
    /// The line runs in a tunnel or on a bridge over this length, where animals pass beneath or above.
    pub tunnel_or_bridge: Option<bool>,
    pub status: BarrierStatus,
    pub name: Option<String>,
    pub source: Option<String>,
}

/// One barrier feature in the analysis CRS.
#[derive(Debug, Clone, PartialEq)]
pub struct Barrier {
    pub id: FeatureId,
    pub geometry: MultiLineString<f64>,
    pub attrs: BarrierAttrs,
}

impl Barrier {
    /// The barrier's kind, `other` when unknown.
    pub fn kind(&self) -> BarrierKind {
        self.attrs.kind.unwrap_or(BarrierKind::Other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_parse_leniently() {
        assert_eq!("Border Fence".parse::<BarrierKind>(), Ok(BarrierKind::BorderFence));
        assert_eq!("border-fence".parse::<BarrierKind>(), Ok(BarrierKind::BorderFence));
        assert!("wall".parse::<BarrierKind>().unwrap_err().contains("fence, border_fence"));
    }

    #[test]
    fn statuses_accept_common_synonyms() {
        assert_eq!("proposed".parse::<BarrierStatus>(), Ok(BarrierStatus::Planned));
        assert_eq!("disused".parse::<BarrierStatus>(), Ok(BarrierStatus::Removed));
        assert!("maybe".parse::<BarrierStatus>().is_err());
    }
}
