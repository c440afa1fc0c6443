//! Bookkeeping of outbound sends: how often each numbered bench message reached the fake
//! platform (counted by a tap on the fake's recorder, from the marker `#m<n>` in its text), to
//! match against the requests mux answered 200.

use std::sync::{Arc, Mutex};

/// The text of mux send `n`; the ceiling's texts carry no marker.
pub fn text(n: u64) -> String {
    format!("bench reply #m{n}")
}

/// Highest message number counted (a bound on the table, far above any run).
const MAX_N: u64 = 1 << 26;

#[derive(Default)]
pub struct Sends {
    /// times[n] = how often message `n` reached the platform.
    times: Mutex<Vec<u8>>,
}

/// 200s matched against what the platform received.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Matched {
    /// Answered 200, never reached the platform.
    pub lost: u64,
    /// Reached the platform more than once.
    pub duplicated: u64,
    /// Reached the platform, answered other than 200.
    pub sent_not_ok: u64,
    /// Platform messages counted in all.
    pub received: u64,
}

/// The message number in a request body, if it carries the marker.
fn marker(body: &[u8]) -> Option<u64> {
    let at = body.windows(2).position(|w| w == b"#m")? + 2;
    let digits = body.get(at..)?;
    let len = digits.iter().take_while(|b| b.is_ascii_digit()).count();
    std::str::from_utf8(digits.get(..len)?).ok()?.parse().ok()
}

impl Sends {
    /// A tap counting marked messages, for the fake's recorder.
    pub fn tap(self: &Arc<Self>) -> mux_server::testkit::Tap {
        let me = self.clone();
        Arc::new(move |_path: &str, body: &[u8]| {
            if let Some(n) = marker(body).filter(|n| *n < MAX_N) {
                me.count(n);
            }
        })
    }

    fn count(&self, n: u64) {
        let mut t = self.times.lock().unwrap_or_else(|e| e.into_inner());
        let i = n as usize;
        if t.len() <= i {
            t.resize(i + 1, 0);
        }
        if let Some(c) = t.get_mut(i) {
            *c = c.saturating_add(1);
        }
    }

    /// Matches the numbers answered 200 (`ok`) against the counts.
    pub fn matched(&self, ok: &[u64]) -> Matched {
        let t = self.times.lock().unwrap_or_else(|e| e.into_inner());
        let mut answered = vec![false; t.len()];
        let mut m = Matched::default();
        for &n in ok {
            match t.get(n as usize) {
                Some(&c) if c > 0 => {
                    if let Some(a) = answered.get_mut(n as usize) {
                        *a = true;
                    }
                }
                _ => m.lost += 1,
            }
        }
        for (c, a) in t.iter().zip(&answered) {
            m.received += u64::from(*c);
            m.duplicated += u64::from(*c > 1);
            m.sent_not_ok += u64::from(*c > 0 && !*a);
        }
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_marked_bodies_and_matches_them_to_200s() {
        let s = Arc::new(Sends::default());
        let tap = s.tap();
        for n in [0u64, 1, 1, 3] {
            tap("/x", format!(r#"{{"text":"{}"}}"#, text(n)).as_bytes());
        }
        tap("/x", br#"{"text":"ceiling 5"}"#);
        let m = s.matched(&[0, 1, 2]);
        assert_eq!(
            m,
            Matched {
                lost: 1,
                duplicated: 1,
                sent_not_ok: 1,
                received: 4
            }
        );
    }
}
