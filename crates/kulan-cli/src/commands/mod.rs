//! One module per `kulan` subcommand.

pub mod inputs;
pub mod intersect;
pub mod corridors;
pub mod costdist;
pub mod gridio;
pub mod model;
pub mod resistance;
