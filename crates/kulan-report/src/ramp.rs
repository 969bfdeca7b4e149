//! Colour ramps for continuous values.

use crate::map::Rgba;

/// A colour ramp from low (0) to high (1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ramp {
    /// Perceptually uniform dark blue → green → yellow (resistance, cost).
    Viridis,
    /// Light yellow → orange → dark red (current density, corridor strength).
    Heat,
    /// Red → yellow → green (m_eff: small = fragmented).
    RedGreen,
}

impl Ramp {
    fn stops(self) -> &'static [(u8, u8, u8)] {
        match self {
            Ramp::Viridis => &[(68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37)],
            Ramp::Heat => &[(255, 255, 204), (254, 217, 118), (253, 141, 60), (227, 26, 28), (128, 0, 38)],
            Ramp::RedGreen => &[(215, 48, 39), (252, 141, 89), (254, 224, 139), (145, 207, 96), (26, 152, 80)],
        }
    }

    /// The colour at `t` in [0, 1], linear between the stops.
    pub fn at(self, t: f64) -> Rgba {
        let s = self.stops();
        let t = if t.is_finite() { t.clamp(0.0, 1.0) } else { 0.0 };
        let pos = t * (s.len() - 1) as f64;
        let i = (pos.floor() as usize).min(s.len() - 2);
        let f = pos - i as f64;
        let mix = |a: u8, b: u8| (a as f64 + (b as f64 - a as f64) * f).round() as u8;
        Rgba(mix(s[i].0, s[i + 1].0), mix(s[i].1, s[i + 1].1), mix(s[i].2, s[i + 1].2), 255)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ends_are_the_first_and_last_stops() {
        assert_eq!(Ramp::Heat.at(0.0), Rgba(255, 255, 204, 255));
        assert_eq!(Ramp::Heat.at(1.0), Rgba(128, 0, 38, 255));
        assert_eq!(Ramp::Viridis.at(f64::NAN), Ramp::Viridis.at(0.0));
    }
}
