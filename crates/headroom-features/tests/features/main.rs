//! Integration tests of the feature pipeline on small tables built in code.
//!
//! One test binary contains every module: each binary links polars, so one is
//! much cheaper to build than one per file.

mod common;

mod daily;
mod docs;
mod edges;
mod errors;
mod families;
mod leakage;
mod monthly;
mod seasonality;
