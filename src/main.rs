//! The `mux-server` binary. Everything lives in the library (`mux_server::cli`), so the
//! commands are testable and this file stays a shim.

use std::process::ExitCode;

fn main() -> ExitCode {
    limit_malloc_arenas();
    mux_server::cli::run()
}

/// glibc gives each thread that allocates under contention an arena of its own (up to 8 per
/// core) and keeps what is freed in each: with a backlog of 100,000 events the service's live
/// heap stayed under 15 MiB while its RSS reached 85 MiB, most of it free memory held by ten
/// arenas. Two arenas bring that peak to ~65 MiB for a few percent of allocation speed.
/// `MALLOC_ARENA_MAX` in the environment still wins.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt only sets an allocator parameter; it runs before any thread starts.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 2);
        }
    }
}
