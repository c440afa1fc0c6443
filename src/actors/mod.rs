//! Actors: one file (or folder) per actor, its messages beside it.

pub mod registry;
pub mod writer;
