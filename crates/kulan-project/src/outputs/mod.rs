//! Writers of the analyses' output files, shared by the individual commands and the runner so
//! both write the same names and formats.

pub mod corridors;
pub mod crossings;
mod csv_writer;
pub mod fragment;
pub mod intersect;
