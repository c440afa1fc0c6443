//! A 50 MB file streams through the proxy with bounded memory. The server is the real binary
//! in a child process, so its resident set (`/proc/<pid>/status`: `VmRSS`, and `VmHWM`, the
//! peak) is its own, whatever the other tests of this process hold. The fake Telegram generates
//! the body as it is read and this client checks and counts it chunk by chunk: nothing holds
//! the whole file anywhere.

use std::time::Instant;

use futures_util::StreamExt;
use serde_json::json;

use crate::helpers::{KEY_A, eventually, start_binary};
use crate::inbound_telegram::world;
use mux_server::testkit::telegram::pattern_byte;

const SIZE: u64 = 50 * 1024 * 1024;
/// Growth of the server's peak resident set allowed while the file streams: a third of the
/// file's size (buffering it would cost all of it).
const MAX_GROWTH_KB: u64 = 16 * 1024;

/// `field` (`VmRSS`, `VmHWM`) of process `pid`, in kB.
fn mem_kb(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

#[actix_web::test]
async fn a_50_mb_file_streams_through_the_proxy_with_bounded_memory() {
    let world = world(&[]);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("mux.sqlite");
    let vars = world.env();
    let (mut child, port) = actix_web::rt::task::spawn_blocking(move || start_binary(&db, &vars))
        .await
        .unwrap();
    let pid = child.id();
    let base = format!("http://127.0.0.1:{port}");
    let client = awc::Client::builder()
        .timeout(std::time::Duration::from_secs(60))
        .finish();
    let claim = client
        .post(format!("{base}/v1/pairings/claim"))
        .insert_header(("Authorization", format!("Bearer {KEY_A}")))
        .send_json(&json!({"code": "A1", "sessionKey": "sa"}))
        .await
        .unwrap();
    assert_eq!(claim.status().as_u16(), 200);
    world
        .tg()
        .add_generated_file("big", "documents/file_big.mp4", SIZE);
    world.tg().push_message(json!({"chat": {"id": 1, "type": "private"}, "from": {"id": 11},
        "caption": "big", "document": {"file_id": "big", "mime_type": "video/mp4", "file_size": SIZE}}));
    eventually("forwarded", || world.oc().accepted("tenant-a").len() == 1).await;
    let url = world.oc().accepted("tenant-a")[0].body["channelData"]["telegram"]["media"][0]["url"]
        .as_str()
        .unwrap()
        .to_owned();

    let before = mem_kb(pid, "VmRSS");
    let started = Instant::now();
    let mut resp = client
        .get(format!("{base}{url}"))
        .insert_header(("Authorization", format!("Bearer {KEY_A}")))
        .send()
        .await
        .expect("request reaches the server");
    assert_eq!(resp.status().as_u16(), 200);
    let header = |n: &str| {
        resp.headers()
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    assert_eq!(header("content-type").as_deref(), Some("video/mp4"));
    assert_eq!(header("content-length"), Some(SIZE.to_string()));
    let (mut read, mut mismatches) = (0u64, 0u64);
    while let Some(chunk) = resp.next().await {
        let chunk = chunk.expect("body chunk");
        for (i, b) in chunk.iter().enumerate() {
            if *b != pattern_byte(read + i as u64) {
                mismatches += 1;
            }
        }
        read += chunk.len() as u64;
    }
    let elapsed = started.elapsed();
    let peak = mem_kb(pid, "VmHWM");
    let _ = child.kill();
    let _ = child.wait();
    let growth = peak.saturating_sub(before);
    eprintln!(
        "file proxy: {} MB in {:.2} s ({:.0} MB/s); server RSS before {before} kB, peak {peak} kB, growth {growth} kB",
        SIZE >> 20,
        elapsed.as_secs_f64(),
        (SIZE >> 20) as f64 / elapsed.as_secs_f64(),
    );
    assert_eq!(read, SIZE, "every byte arrived");
    assert_eq!(mismatches, 0, "byte-identical");
    assert!(
        before > 0 && growth < MAX_GROWTH_KB,
        "server's resident set grew {growth} kB while a {SIZE}-byte file streamed"
    );
}
