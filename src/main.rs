//! The `mux-server` binary. Everything lives in the library (`mux_server::cli`), so the
//! commands are testable and this file stays a shim.

use std::process::ExitCode;

fn main() -> ExitCode {
    mux_server::cli::run()
}
