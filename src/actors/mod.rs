//! Actors: one file (or folder) per actor, its messages beside it.

pub mod forwarder;
pub mod registry;
pub mod writer;
