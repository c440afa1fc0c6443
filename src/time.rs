//! The service's two clocks. Wall-clock time is `now_ms` (the unix milliseconds the database and
//! the wire use). Monotonic time (deadlines, pacing, backoff waits, caches) is
//! `tokio::time::Instant`/`sleep` everywhere on the async side, so a test can pause and advance
//! it (`tokio::time::pause`, as the pacing tests do); only the Writer's own thread measures its
//! commits with `std::time::Instant`, for metrics.

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the unix epoch (0 if the clock is before 1970).
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
