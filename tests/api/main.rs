//! Integration tests: the real service in-process on a temp SQLite file, over real HTTP.

mod health;
mod helpers;
mod inbound_target;
mod pairings;
mod restart;
