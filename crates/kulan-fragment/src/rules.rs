//! Which barriers cut the landscape into patches.
//!
//! Effective mesh size is binary: a line cuts or it does not. The default rule follows the
//! German UZVR / EEA practice adapted to Central Asian fences (see the crate docs); every value
//! can be overridden in a TOML file:
//!
//! ```toml
//! [cuts]
//! fences = true              # every fence
//! border_fences = true
//! fenced_railways = true
//! fenced_roads = true
//! road_min_aadt = 1000       # roads with at least this traffic (vehicles/day); omit: no road cuts by traffic
//! railway_min_tracks = 2     # railways with at least this many tracks
//! railway_electrified = true # electrified railways cut
//! other = false              # barriers of kind "other" or unknown kind
//! tunnel_bridge_min_length_m = 1000  # tunnel/bridge sections at least this long do not cut
//! include_planned = false    # planned barriers (always excluded: removed ones)
//! ```

use kulan_core::{Barrier, BarrierKind, BarrierStatus};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CutRules {
    /// Every barrier cuts, whatever its attributes (status rules still apply).
    pub all: bool,
    pub fences: bool,
    pub border_fences: bool,
    pub fenced_railways: bool,
    pub fenced_roads: bool,
    pub road_min_aadt: Option<f64>,
    pub railway_min_tracks: Option<u32>,
    pub railway_electrified: bool,
    pub other: bool,
    pub tunnel_bridge_min_length_m: f64,
    pub include_planned: bool,
}

impl Default for CutRules {
    fn default() -> Self {
        CutRules {
            all: false,
            fences: true,
            border_fences: true,
            fenced_railways: true,
            fenced_roads: true,
            road_min_aadt: Some(1000.0),
            railway_min_tracks: Some(2),
            railway_electrified: true,
            other: false,
            tunnel_bridge_min_length_m: 1000.0,
            include_planned: false,
        }
    }
}

#[derive(Deserialize)]
struct Wrapped {
    cuts: CutRules,
}

impl CutRules {
    /// Every barrier cuts.
    pub fn all() -> Self {
        CutRules { all: true, ..CutRules::default() }
    }

    /// Reads rules from TOML text: a `[cuts]` table, or the keys at top level.
    pub fn from_toml(text: &str) -> Result<Self, String> {
        if let Ok(w) = toml::from_str::<Wrapped>(text) {
            return Ok(w.cuts);
        }
        toml::from_str::<CutRules>(text).map_err(|e| format!("cut rules: {e}"))
    }

    /// Whether `b` cuts.
    pub fn cuts(&self, b: &Barrier) -> bool {
        match b.attrs.status {
            BarrierStatus::Removed => return false,
            BarrierStatus::Planned if !self.include_planned => return false,
            _ => {}
        }
        if b.attrs.tunnel_or_bridge == Some(true) {
            let len: f64 = b
                .geometry
                .0
                .iter()
                .flat_map(|l| l.0.windows(2))
                .map(|w| ((w[1].x - w[0].x).powi(2) + (w[1].y - w[0].y).powi(2)).sqrt())
                .sum();
            if len >= self.tunnel_bridge_min_length_m {
                return false;
            }
        }
        if self.all {
            return true;
        }
        let a = &b.attrs;
        match b.kind() {
            BarrierKind::Fence => self.fences,
            BarrierKind::BorderFence => self.border_fences,
            BarrierKind::Railway => {
                (self.fenced_railways && a.fenced == Some(true))
                    || matches!((self.railway_min_tracks, a.tracks), (Some(m), Some(t)) if t >= m)
                    || (self.railway_electrified && a.electrified == Some(true))
            }
            BarrierKind::Road => {
                (self.fenced_roads && a.fenced == Some(true))
                    || matches!((self.road_min_aadt, a.traffic_aadt), (Some(m), Some(t)) if t >= m)
            }
            BarrierKind::Other => self.other || (a.fenced == Some(true) && self.fences),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{line_string, MultiLineString};
    use kulan_core::{BarrierAttrs, FeatureId};

    fn bar(kind: BarrierKind, f: impl FnOnce(&mut BarrierAttrs)) -> Barrier {
        let mut attrs = BarrierAttrs { kind: Some(kind), ..Default::default() };
        f(&mut attrs);
        Barrier { id: FeatureId::Int(1), geometry: MultiLineString(vec![line_string![(x: 0., y: 0.), (x: 500., y: 0.)]]), attrs }
    }

    #[test]
    fn default_rule() {
        let r = CutRules::default();
        assert!(r.cuts(&bar(BarrierKind::Fence, |_| {})));
        assert!(r.cuts(&bar(BarrierKind::BorderFence, |_| {})));
        assert!(!r.cuts(&bar(BarrierKind::Road, |a| a.traffic_aadt = Some(999.0))));
        assert!(r.cuts(&bar(BarrierKind::Road, |a| a.traffic_aadt = Some(1000.0))));
        assert!(!r.cuts(&bar(BarrierKind::Road, |_| {})));
        assert!(r.cuts(&bar(BarrierKind::Railway, |a| a.fenced = Some(true))));
        assert!(!r.cuts(&bar(BarrierKind::Railway, |a| a.tracks = Some(1))));
        assert!(r.cuts(&bar(BarrierKind::Railway, |a| a.tracks = Some(2))));
        assert!(r.cuts(&bar(BarrierKind::Railway, |a| a.electrified = Some(true))));
        assert!(!r.cuts(&bar(BarrierKind::Fence, |a| a.status = BarrierStatus::Planned)));
        assert!(!r.cuts(&bar(BarrierKind::Fence, |a| a.status = BarrierStatus::Removed)));
        // A 500 m bridge still cuts, with a 400 m threshold it does not.
        assert!(r.cuts(&bar(BarrierKind::Road, |a| {
            a.traffic_aadt = Some(5000.0);
            a.tunnel_or_bridge = Some(true)
        })));
        let r2 = CutRules { tunnel_bridge_min_length_m: 400.0, ..CutRules::default() };
        assert!(!r2.cuts(&bar(BarrierKind::Road, |a| {
            a.traffic_aadt = Some(5000.0);
            a.tunnel_or_bridge = Some(true)
        })));
    }

    #[test]
    fn toml_overrides() {
        let r = CutRules::from_toml("[cuts]\nroad_min_aadt = 4000\ninclude_planned = true\n").unwrap();
        assert_eq!(r.road_min_aadt, Some(4000.0));
        assert!(r.include_planned);
        assert!(r.fences);
        let r = CutRules::from_toml("fences = false").unwrap();
        assert!(!r.fences);
        assert!(CutRules::from_toml("fencez = false").is_err());
    }
}
