//! A fake Discord gateway (v10, JSON, no compression) on 127.0.0.1: HELLO, IDENTIFY → READY
//! (advertising itself as `resume_gateway_url`, as twilight requires), heartbeat ACKs, RESUME
//! replaying the session's missed dispatches then RESUMED, INVALID_SESSION when it cannot resume.
//! Tests drive outages: refuse connections, drop the TCP link, close with a code, or invalidate
//! the session (op 9 false) so nothing is replayed.
//!
//! Built on tokio-websockets' server side: the same WebSocket stack twilight-gateway speaks, and
//! small enough to drive frame by frame from a test.

use std::sync::{Arc, Mutex};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_websockets::{CloseCode, Message, ServerBuilder};

use crate::testkit::lock;

/// Long enough that no heartbeat timing plays into a test.
const HEARTBEAT_INTERVAL_MS: u64 = 45_000;

/// What the test asks of the live connection.
enum Out {
    Text(String),
    Close(u16),
    Drop,
}

#[derive(Default)]
pub struct GatewayState {
    pub url: String,
    pub accepting: bool,
    pub identifies: Vec<Value>,
    pub resumes: usize,
    /// Dispatches sent again on a resume.
    pub replayed: usize,
    /// The current session: id, and its dispatches `(seq, frame)` for replay on resume.
    session: Option<String>,
    events: Vec<(u64, String)>,
    seq: u64,
    sessions_made: u64,
    /// The connection that identified or resumed, if it is still open.
    live: Option<(u64, mpsc::UnboundedSender<Out>)>,
    connections: u64,
}

pub type Shared = Arc<Mutex<GatewayState>>;

/// Binds the gateway on 127.0.0.1:0; returns its `ws://` URL.
pub fn start(state: Shared) -> std::io::Result<String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    listener.set_nonblocking(true)?;
    let url = format!("ws://{}", listener.local_addr()?);
    let listener = tokio::net::TcpListener::from_std(listener)?;
    {
        let mut s = lock(&state);
        s.url = url.clone();
        s.accepting = true;
    }
    actix_web::rt::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            if !lock(&state).accepting {
                drop(stream); // the client sees the connect fail and backs off
                continue;
            }
            actix_web::rt::spawn(connection(stream, state.clone()));
        }
    });
    Ok(url)
}

fn frame(op: u64, d: Value, s: Option<u64>, t: Option<&str>) -> String {
    json!({"op": op, "d": d, "s": s, "t": t}).to_string()
}

/// Sends a dispatch to the live connection, and logs it for a resume while the session lasts.
/// With no session (invalidated, never identified) the event is lost, as on Discord.
pub fn dispatch(state: &Shared, t: &str, d: Value) {
    let mut s = lock(state);
    if s.session.is_none() {
        return;
    }
    s.seq += 1;
    let text = frame(0, d, Some(s.seq), Some(t));
    let seq = s.seq;
    s.events.push((seq, text.clone()));
    if let Some((_, tx)) = &s.live {
        let _ = tx.send(Out::Text(text));
    }
}

/// Whether an identified (or resumed) connection is open.
pub fn is_live(state: &Shared) -> bool {
    lock(state).live.is_some()
}

/// Drops the live connection without a close frame (resumable).
pub fn drop_connection(state: &Shared) {
    if let Some((_, tx)) = lock(state).live.take() {
        let _ = tx.send(Out::Drop);
    }
}

/// Closes the live connection with `code` (4000: resumable; 4004: fatal, …).
pub fn close(state: &Shared, code: u16) {
    if let Some((_, tx)) = lock(state).live.take() {
        let _ = tx.send(Out::Close(code));
    }
}

/// Op 9 `false`: the session is gone; the client must IDENTIFY again and nothing is replayed.
pub fn invalidate_session(state: &Shared) {
    let mut s = lock(state);
    s.session = None;
    s.events.clear();
    if let Some((_, tx)) = s.live.take() {
        let _ = tx.send(Out::Text(frame(9, json!(false), None, None)));
    }
}

async fn connection(stream: tokio::net::TcpStream, state: Shared) {
    let Ok((_, mut ws)) = ServerBuilder::new().accept(stream).await else {
        return;
    };
    let (tx, mut rx) = mpsc::unbounded_channel();
    let id = {
        let mut s = lock(&state);
        s.connections += 1;
        s.connections
    };
    let hello = frame(
        10,
        json!({"heartbeat_interval": HEARTBEAT_INTERVAL_MS}),
        None,
        None,
    );
    if ws.send(Message::text(hello)).await.is_err() {
        return;
    }
    loop {
        tokio::select! {
            incoming = ws.next() => {
                let Some(Ok(msg)) = incoming else { break };
                if msg.is_close() {
                    break;
                }
                let Some(text) = msg.as_text() else { continue };
                for reply in answer(&state, text, id, &tx) {
                    if ws.send(Message::text(reply)).await.is_err() {
                        break;
                    }
                }
            }
            out = rx.recv() => match out {
                Some(Out::Text(text)) => {
                    if ws.send(Message::text(text)).await.is_err() {
                        break;
                    }
                }
                Some(Out::Close(code)) => {
                    let _ = ws.send(Message::close(CloseCode::try_from(code).ok(), "test")).await;
                    break;
                }
                Some(Out::Drop) | None => break,
            }
        }
    }
    let mut s = lock(&state);
    if s.live.as_ref().is_some_and(|(live, _)| *live == id) {
        s.live = None;
    }
}

/// The gateway's answers to one client frame.
fn answer(state: &Shared, text: &str, id: u64, tx: &mpsc::UnboundedSender<Out>) -> Vec<String> {
    let v: Value = serde_json::from_str(text).unwrap_or(Value::Null);
    let mut s = lock(state);
    match v["op"].as_u64() {
        Some(1) => vec![frame(11, Value::Null, None, None)],
        Some(2) => {
            s.identifies.push(v["d"].clone());
            s.sessions_made += 1;
            let session = format!("session-{}", s.sessions_made);
            s.session = Some(session.clone());
            s.events.clear();
            s.seq = 1;
            s.live = Some((id, tx.clone()));
            let ready = json!({"v": 10, "user": {"id": "1", "username": "mux", "bot": true, "discriminator": "0"},
                "guilds": [], "session_id": session, "resume_gateway_url": s.url,
                "application": {"id": "1", "flags": 0}});
            vec![frame(0, ready, Some(1), Some("READY"))]
        }
        Some(6) => {
            let seq = v["d"]["seq"].as_u64().unwrap_or(0);
            if s.session.is_none() || v["d"]["session_id"].as_str() != s.session.as_deref() {
                return vec![frame(9, json!(false), None, None)];
            }
            s.resumes += 1;
            s.live = Some((id, tx.clone()));
            let mut out: Vec<String> = s
                .events
                .iter()
                .filter(|(n, _)| *n > seq)
                .map(|(_, f)| f.clone())
                .collect();
            s.replayed += out.len();
            s.seq += 1;
            out.push(frame(0, json!({}), Some(s.seq), Some("RESUMED")));
            out
        }
        _ => Vec::new(),
    }
}
