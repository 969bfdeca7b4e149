//! One module per `kulan` subcommand.

pub mod inputs;
pub mod circuit;
pub mod circuitscape;
pub mod intersect;
pub mod corridors;
pub mod costdist;
pub mod crossings;
pub mod fragment;
pub mod gridio;
pub mod model;
pub mod omniscape;
pub mod resistance;
pub mod run;
