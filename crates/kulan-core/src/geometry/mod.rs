//! Geometry checks and repair for what users' files hold.

mod clean;

pub use clean::{clean_lines, clean_polygons, Checked, OnInvalid, Problem};
