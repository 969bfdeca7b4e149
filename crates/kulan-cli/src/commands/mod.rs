//! One module per `kulan` subcommand.

pub mod intersect;
