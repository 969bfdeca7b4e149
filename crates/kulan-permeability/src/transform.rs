//! From a per-encounter crossing probability `p` to cell resistance.
//!
//! A barrier is burned one cell wide. An animal crossing it pays the resistance of that cell over
//! one cell's length `L` instead of the resistance of open ground `r0` (the land-cover resistance
//! of the cell, or the model's `base`). With probability `p` an attempt succeeds, so the number of
//! failed attempts before the crossing is geometric with mean `1/p − 1`. If each failed attempt
//! costs a detour of `D` metres of the surrounding ground (`encounter_cost_m`), the expected extra
//! cost of getting across is `r0 · D · (1/p − 1)`. Setting the barrier cell's extra cost
//! `(r − r0) · L` equal to that gives
//!
//! ```text
//! r = r0 · (1 + (D / L) · (1/p − 1))
//! ```
//!
//! - `p = 1` gives `r = r0`: the barrier costs nothing.
//! - `p = 0.5`, `D = 1000 m`, `L = 300 m`: `r = r0 · (1 + 3.33) = 4.33 r0`; at `L = 30 m` the cell
//!   is ten times more resistant but ten times shorter, so crossing costs the same. The result
//!   does not depend on the cell size.
//! - `p = 0` means no animal ever gets across: the expected number of attempts is infinite. Such
//!   cells are impassable (NoData in the resistance raster), **not** given a large number. Any
//!   finite resistance, however large, still lets a least-cost path cross once the detour around
//!   the barrier costs more (a 1,000 km border fence is always "crossed" by cost distance if its
//!   cells are 10⁶ and the way round is longer), and in a circuit model it still carries current.
//!   Both would report connectivity across a barrier that the evidence says no animal crosses.
//!   Cost-distance tools and Circuitscape treat NoData as removed from the graph, which is exactly
//!   "never crosses".

/// Resistance of a barrier cell with base resistance `base`, crossing probability `p`,
/// encounter cost `encounter_cost_m` and cell size `cell_m`; `+∞` (impassable) when `p = 0`.
///
/// ```
/// use kulan_permeability::barrier_resistance;
/// assert_eq!(barrier_resistance(2.0, 1.0, 1000.0, 300.0), 2.0);
/// assert_eq!(barrier_resistance(1.0, 0.5, 1000.0, 250.0), 5.0);
/// assert!(barrier_resistance(1.0, 0.0, 1000.0, 300.0).is_infinite());
/// ```
pub fn barrier_resistance(base: f64, p: f64, encounter_cost_m: f64, cell_m: f64) -> f64 {
    if p <= 0.0 {
        return f64::INFINITY;
    }
    if p >= 1.0 {
        return base;
    }
    base * (1.0 + encounter_cost_m / cell_m * (1.0 / p - 1.0))
}
