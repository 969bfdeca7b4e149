//! Geometry checks and repair for what users' files hold.

mod clean;
mod validity;

pub use clean::{clean_lines, clean_polygons, Checked, OnInvalid, Problem};
pub use validity::is_clearly_valid;
