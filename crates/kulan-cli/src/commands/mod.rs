//! One module per `kulan` subcommand.

pub mod inputs;
pub mod intersect;
