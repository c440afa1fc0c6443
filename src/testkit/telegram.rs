//! A fake Telegram Bot API (`/bot<token>/<method>`, token checked, method names case-insensitive
//! as teloxide sends `SendMessage`):
//! - `getUpdates` with real offset semantics: updates below `offset` are confirmed and dropped, a
//!   negative offset keeps the last `-offset`, up to `limit` ≤ 100 per call, and a long-poll wait
//!   (capped at 2 s unless a test lifts the cap) woken at once by a new update; or `409 Conflict`
//!   when a test says another poller holds the token. Polls the client closed before they were
//!   answered are counted (`polls_abandoned`);
//! - `sendMessage` / `sendPhoto` / `sendDocument` answering Message objects (recorded;
//!   scriptable); with `parse_mode: "HTML"` the text or caption is parsed as Telegram does
//!   (`telegram_html`) and markup it cannot parse is refused with `400 Bad Request: can't parse
//!   entities`; `editMessageText` / `editMessageReplyMarkup` answering the edited Message, and
//!   `deleteMessage`, `answerCallbackQuery`, `setMessageReaction`, `sendChatAction` answering
//!   `true` (all recorded in `sent`);
//! - button presses: `push_callback` queues a `callback_query` update;
//! - `getFile` and file downloads under `/file/bot<token>/<path>`, typed by the path's
//!   extension; generated files of any size streamed from a pattern (`pattern_byte`) without
//!   ever being held, and files getFile refuses as too big (the cloud Bot API's 20 MB limit);
//! - the housekeeping calls (`getMe`, `setWebhook`, `deleteWebhook`).
//!
//! Updates are kept as JSON bytes so the benchmark can push tens of thousands cheaply.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::body::SizedStream;
use actix_web::web::{self, Bytes};
use actix_web::{App, HttpRequest, HttpResponse};
use serde_json::{Value, json};
use tokio::sync::Notify;

use super::{Recorder, Scripted, Served, lock, reply, serve};

pub const TOKEN: &str = "123456:TEST-telegram-token-secret";
/// Longest long-poll wait the fake grants, whatever `timeout` asks for.
const MAX_WAIT: Duration = Duration::from_secs(2);

#[derive(Default)]
struct State {
    /// Unconfirmed updates, oldest first: (update_id, JSON).
    updates: VecDeque<(i64, Bytes)>,
    /// Highest offset a getUpdates call has confirmed.
    confirmed: i64,
    next_update_id: i64,
    /// (method, body) of every send answered by the fake itself.
    sent: Vec<(String, Value)>,
    /// file_id → (file_path, bytes)
    files: HashMap<String, (String, Vec<u8>)>,
    /// file_id → (file_path, size): bodies generated while streaming (`pattern_byte`).
    generated: HashMap<String, (String, u64)>,
    /// file_ids getFile refuses with `400 Bad Request: file is too big`.
    too_big: Vec<String>,
    /// When set, getUpdates answers 409 (another poller on the same token).
    conflict: bool,
    /// The method of every call, in its canonical spelling (`getUpdates`, `setWebhook`, …).
    calls: Vec<String>,
    /// Longest long-poll wait granted; [`MAX_WAIT`] unless a test sets another.
    max_wait: Option<Duration>,
}

/// Call counts, cheap enough for the benchmark.
#[derive(Default)]
pub struct Counters {
    pub get_updates: AtomicU64,
    pub sent: AtomicU64,
    pub unknown_method: AtomicU64,
    /// getUpdates calls waiting for updates right now.
    pub polls_open: AtomicU64,
    /// getUpdates calls answered.
    pub polls_answered: AtomicU64,
    /// getUpdates calls whose connection the client closed before the answer.
    pub polls_abandoned: AtomicU64,
}

struct Shared {
    state: Mutex<State>,
    notify: Notify,
    counters: Counters,
    recorder: Recorder,
}

#[derive(Clone)]
pub struct FakeTelegram {
    pub base_url: String,
    pub recorder: Recorder,
    pub served: Served,
    shared: Arc<Shared>,
}

impl FakeTelegram {
    /// Starts the fake with `workers` HTTP worker threads.
    pub fn start(workers: usize) -> std::io::Result<FakeTelegram> {
        let recorder = Recorder::default();
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                next_update_id: 1000,
                ..State::default()
            }),
            notify: Notify::new(),
            counters: Counters::default(),
            recorder: recorder.clone(),
        });
        let data = web::Data::from(shared.clone());
        let served = serve(workers, move || {
            App::new()
                .app_data(data.clone())
                .app_data(web::PayloadConfig::new(16 * 1024 * 1024))
                .route("/bot{token}/{method}", web::post().to(api))
                .route("/file/bot{token}/{path:.*}", web::get().to(file))
        })?;
        Ok(FakeTelegram {
            base_url: served.base_url.clone(),
            recorder,
            served,
            shared,
        })
    }

    /// The next `sendMessage` is refused with this Bot API error.
    pub fn fail_next_send(&self, code: u16, description: &str) {
        self.recorder.script(Scripted::new(
            "/sendMessage",
            code,
            json!({"ok": false, "error_code": code, "description": description}),
        ));
    }

    /// The next `sendMessage` is refused with `429 Too Many Requests` and `retry_after`.
    pub fn rate_limit_next_send(&self, retry_after: u64) {
        self.recorder.script(Scripted::new(
            "/sendMessage",
            429,
            json!({"ok": false, "error_code": 429, "description": format!("Too Many Requests: retry after {retry_after}"),
                   "parameters": {"retry_after": retry_after}}),
        ));
    }

    pub fn counters(&self) -> &Counters {
        &self.shared.counters
    }

    /// Queues a text message update from user `from` in `chat`; returns its update_id.
    pub fn push_text(&self, chat: i64, from: i64, text: &str) -> i64 {
        let chat_type = if chat < 0 { "supergroup" } else { "private" };
        self.push_message(json!({"chat": {"id": chat, "type": chat_type}, "from": {"id": from, "is_bot": false, "first_name": "U"}, "text": text}))
    }

    /// Queues a message update with the given fields (message_id and date added).
    pub fn push_message(&self, mut message: Value) -> i64 {
        let id = {
            let mut s = lock(&self.shared.state);
            let id = s.next_update_id;
            s.next_update_id += 1;
            message["message_id"] = json!(id * 10);
            message["date"] = json!(1_700_000_000 + id);
            let update = json!({"update_id": id, "message": message});
            s.updates.push_back((id, Bytes::from(update.to_string())));
            id
        };
        self.shared.notify.notify_waiters();
        id
    }

    /// Queues a button press (`callback_query`) by user `from` on message `message_id` of
    /// `chat` (in forum topic `topic`, if any); returns the callback query's id.
    pub fn push_callback(
        &self,
        chat: i64,
        topic: Option<i64>,
        from: i64,
        message_id: i64,
        data: &str,
    ) -> String {
        let chat_type = if chat < 0 { "supergroup" } else { "private" };
        let query_id = {
            let mut s = lock(&self.shared.state);
            let id = s.next_update_id;
            s.next_update_id += 1;
            let query_id = format!("cq{id}");
            let mut message = json!({"message_id": message_id, "date": 1_700_000_000,
                "chat": {"id": chat, "type": chat_type},
                "from": {"id": 1, "is_bot": true, "first_name": "mux"}, "text": "pick one"});
            if let Some(topic) = topic {
                message["message_thread_id"] = json!(topic);
                message["is_topic_message"] = json!(true);
                message["chat"]["is_forum"] = json!(true);
            }
            let update = json!({"update_id": id, "callback_query": {"id": query_id,
                "from": {"id": from, "is_bot": false, "first_name": "U"},
                "chat_instance": "ci", "data": data, "message": message}});
            s.updates.push_back((id, Bytes::from(update.to_string())));
            query_id
        };
        self.shared.notify.notify_waiters();
        query_id
    }

    /// Bodies of the calls of `method` (canonical spelling) the fake answered itself.
    pub fn sent_of(&self, method: &str) -> Vec<Value> {
        self.sent()
            .into_iter()
            .filter(|(m, _)| m == method)
            .map(|(_, b)| b)
            .collect()
    }

    /// Queues updates already in wire form (the benchmark numbers them itself).
    pub fn push_raw(&self, updates: impl IntoIterator<Item = (i64, Bytes)>) {
        lock(&self.shared.state).updates.extend(updates);
        self.shared.notify.notify_waiters();
    }

    pub fn add_file(&self, file_id: &str, bytes: Vec<u8>) {
        self.add_file_at(file_id, &format!("photos/{file_id}.jpg"), bytes);
    }

    /// A file getFile answers with `path` (as Telegram's `photos/file_7.jpg`, `voice/file_3.oga`).
    pub fn add_file_at(&self, file_id: &str, path: &str, bytes: Vec<u8>) {
        lock(&self.shared.state)
            .files
            .insert(file_id.to_owned(), (path.to_owned(), bytes));
    }

    /// A file of `size` bytes (`pattern_byte(0..size)`) at `path`, generated as it is streamed:
    /// the fake never holds it, so a 50 MB download costs the fake one chunk.
    pub fn add_generated_file(&self, file_id: &str, path: &str, size: u64) {
        lock(&self.shared.state)
            .generated
            .insert(file_id.to_owned(), (path.to_owned(), size));
    }

    /// getFile refuses this file as Telegram's cloud Bot API refuses files over 20 MB.
    pub fn add_file_too_big(&self, file_id: &str) {
        lock(&self.shared.state).too_big.push(file_id.to_owned());
    }

    /// Lets a long poll wait as long as the client asks, up to `cap` (instead of 2 s), as
    /// Telegram does.
    pub fn set_max_poll_wait(&self, cap: Duration) {
        lock(&self.shared.state).max_wait = Some(cap);
    }

    /// (open, answered, abandoned) getUpdates calls so far.
    pub fn polls(&self) -> (u64, u64, u64) {
        let c = &self.shared.counters;
        (
            c.polls_open.load(Ordering::SeqCst),
            c.polls_answered.load(Ordering::SeqCst),
            c.polls_abandoned.load(Ordering::SeqCst),
        )
    }

    /// Makes getUpdates answer 409, as when another instance polls the same bot.
    pub fn set_conflict(&self, conflict: bool) {
        lock(&self.shared.state).conflict = conflict;
    }

    /// (method, body) of every send the fake answered itself.
    pub fn sent(&self) -> Vec<(String, Value)> {
        lock(&self.shared.state).sent.clone()
    }

    pub fn texts_to(&self, chat: i64) -> Vec<String> {
        self.sent()
            .into_iter()
            .filter(|(_, b)| b["chat_id"] == json!(chat))
            .filter_map(|(_, b)| b["text"].as_str().map(str::to_owned))
            .collect()
    }

    /// The method of every call so far (canonical spelling), while recording.
    pub fn calls(&self) -> Vec<String> {
        lock(&self.shared.state).calls.clone()
    }

    /// Updates not yet confirmed by an offset.
    pub fn pending_updates(&self) -> usize {
        lock(&self.shared.state).updates.len()
    }

    pub fn pending_update_ids(&self) -> Vec<i64> {
        lock(&self.shared.state)
            .updates
            .iter()
            .map(|(id, _)| *id)
            .collect()
    }

    /// Highest offset confirmed by the service (all updates below it are committed there).
    pub fn confirmed(&self) -> i64 {
        lock(&self.shared.state).confirmed
    }
}

/// The methods the fake knows, as the Bot API spells them.
const CANONICAL: [&str; 14] = [
    "getUpdates",
    "sendMessage",
    "sendPhoto",
    "sendDocument",
    "sendChatAction",
    "editMessageText",
    "editMessageReplyMarkup",
    "deleteMessage",
    "answerCallbackQuery",
    "setMessageReaction",
    "getFile",
    "setWebhook",
    "deleteWebhook",
    "getMe",
];

fn error(code: u16, description: &str) -> HttpResponse {
    reply(
        code,
        &json!({"ok": false, "error_code": code, "description": description}),
    )
}

async fn api(
    shared: web::Data<Shared>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: Bytes,
) -> HttpResponse {
    let (token, method) = path.into_inner();
    let method = method.to_ascii_lowercase();
    if shared.recorder.is_recording() {
        let canonical = CANONICAL
            .iter()
            .find(|c| c.eq_ignore_ascii_case(&method))
            .map_or(method.clone(), |c| (*c).to_owned());
        lock(&shared.state).calls.push(canonical);
    }
    if method == "getupdates" {
        shared.counters.get_updates.fetch_add(1, Ordering::Relaxed);
    } else if let Some(scripted) = shared.recorder.record(&req, &body) {
        return scripted.answer().await;
    }
    if token != TOKEN {
        return error(401, "Unauthorized");
    }
    let body: Value = serde_json::from_slice(&body).unwrap_or(json!({}));
    match method.as_str() {
        "getupdates" => get_updates(shared, body).await,
        "sendmessage" => send(&shared, "sendMessage", &body),
        "sendphoto" => send(&shared, "sendPhoto", &body),
        "senddocument" => send(&shared, "sendDocument", &body),
        "editmessagetext" | "editmessagereplymarkup" => edit(&shared, &method, &body),
        "deletemessage" | "answercallbackquery" | "setmessagereaction" | "sendchataction" => {
            let canonical = CANONICAL
                .iter()
                .find(|c| c.eq_ignore_ascii_case(&method))
                .map_or(method.clone(), |c| (*c).to_owned());
            lock(&shared.state).sent.push((canonical, body));
            reply(200, &json!({"ok": true, "result": true}))
        }
        "getfile" => get_file(&shared, &body),
        "setwebhook" | "deletewebhook" => reply(200, &json!({"ok": true, "result": true})),
        "getme" => reply(
            200,
            &json!({"ok": true, "result": {"id": 123456, "is_bot": true, "first_name": "Fake", "username": "fake_bot"}}),
        ),
        other => {
            shared
                .counters
                .unknown_method
                .fetch_add(1, Ordering::Relaxed);
            error(404, &format!("Not Found: {other}"))
        }
    }
}

/// Answers a send with the Message Telegram would return, and keeps it.
fn send(shared: &Shared, method: &str, body: &Value) -> HttpResponse {
    if body["parse_mode"] == "HTML" {
        let field = if method == "sendMessage" {
            "text"
        } else {
            "caption"
        };
        if let Err(why) = super::telegram_html::parse_html(body[field].as_str().unwrap_or_default())
        {
            return error(400, &format!("Bad Request: can't parse entities: {why}"));
        }
    }
    shared.counters.sent.fetch_add(1, Ordering::Relaxed);
    let group = body["chat_id"].as_i64().unwrap_or(0) < 0;
    let mut message = json!({
        "message_id": shared.recorder.next_id(),
        "date": 1_700_000_000,
        "chat": {"id": body["chat_id"], "type": if group { "supergroup" } else { "private" }, "title": "chat"},
        "from": {"id": 1, "is_bot": true, "first_name": "mux"},
    });
    if method == "sendMessage" {
        message["text"] = body["text"].clone();
    } else {
        message["photo"] =
            json!([{"file_id": "f", "file_unique_id": "u", "width": 1, "height": 1}]);
        if let Some(caption) = body.get("caption") {
            message["caption"] = caption.clone();
        }
    }
    if let Some(thread) = body.get("message_thread_id") {
        message["message_thread_id"] = thread.clone();
        message["is_topic_message"] = json!(true);
    }
    if shared.recorder.is_recording() {
        lock(&shared.state)
            .sent
            .push((method.to_owned(), body.clone()));
    }
    reply(200, &json!({"ok": true, "result": message}))
}

/// Answers an edit with the edited Message (the id asked for), and keeps it.
fn edit(shared: &Shared, method: &str, body: &Value) -> HttpResponse {
    let canonical = if method == "editmessagetext" {
        "editMessageText"
    } else {
        "editMessageReplyMarkup"
    };
    let mut message = json!({
        "message_id": body["message_id"],
        "date": 1_700_000_000,
        "edit_date": 1_700_000_100,
        "chat": {"id": body["chat_id"], "type": "private"},
        "from": {"id": 1, "is_bot": true, "first_name": "mux"},
    });
    if let Some(text) = body.get("text") {
        message["text"] = text.clone();
    }
    if let Some(markup) = body.get("reply_markup") {
        message["reply_markup"] = markup.clone();
    }
    lock(&shared.state)
        .sent
        .push((canonical.to_owned(), body.clone()));
    reply(200, &json!({"ok": true, "result": message}))
}

fn get_file(shared: &Shared, body: &Value) -> HttpResponse {
    let s = lock(&shared.state);
    let file_id = body["file_id"].as_str().unwrap_or_default();
    if s.too_big.iter().any(|f| f == file_id) {
        return error(400, "Bad Request: file is too big");
    }
    if let Some((path, size)) = s.generated.get(file_id) {
        return reply(
            200,
            &json!({"ok": true, "result": {"file_id": file_id, "file_unique_id": "g", "file_size": size, "file_path": path}}),
        );
    }
    match s.files.get(file_id) {
        Some((path, bytes)) => reply(
            200,
            &json!({"ok": true, "result": {"file_id": file_id, "file_unique_id": "u", "file_size": bytes.len(), "file_path": path}}),
        ),
        None => error(400, "Bad Request: invalid file_id"),
    }
}

/// Counts a poll open until answered, or abandoned when the client closed its connection first.
struct OpenPoll<'a> {
    counters: &'a Counters,
    answered: bool,
}

impl<'a> OpenPoll<'a> {
    fn new(counters: &'a Counters) -> Self {
        counters.polls_open.fetch_add(1, Ordering::SeqCst);
        OpenPoll {
            counters,
            answered: false,
        }
    }
}

impl Drop for OpenPoll<'_> {
    fn drop(&mut self) {
        self.counters.polls_open.fetch_sub(1, Ordering::SeqCst);
        let outcome = if self.answered {
            &self.counters.polls_answered
        } else {
            &self.counters.polls_abandoned
        };
        outcome.fetch_add(1, Ordering::SeqCst);
    }
}

/// How often a held poll writes a space: actix-web notices a client gone only when writing.
const HELD_POLL_TICK: Duration = Duration::from_millis(100);

async fn get_updates(shared: web::Data<Shared>, body: Value) -> HttpResponse {
    if lock(&shared.state).conflict {
        return error(
            409,
            "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
        );
    }
    if lock(&shared.state).max_wait.is_some() {
        return held_poll(shared, body);
    }
    let mut open = OpenPoll::new(&shared.counters);
    let answer = wait_for_updates(&shared, &body).await;
    open.answered = true;
    HttpResponse::Ok()
        .content_type("application/json")
        .body(answer)
}

/// A poll held as long as the client asks: the head goes out at once, then a space every
/// [`HELD_POLL_TICK`] (JSON allows leading whitespace) until the answer, so a client that
/// closes the connection is noticed within a tick or two and counted as abandoned.
fn held_poll(shared: web::Data<Shared>, body: Value) -> HttpResponse {
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(4);
    actix_web::rt::spawn(async move {
        let mut open = OpenPoll::new(&shared.counters);
        let answer = wait_for_updates(&shared, &body);
        tokio::pin!(answer);
        let mut tick = actix_web::rt::time::interval(HELD_POLL_TICK);
        loop {
            tokio::select! {
                out = &mut answer => {
                    open.answered = tx.send(out).await.is_ok();
                    return;
                }
                _ = tick.tick() => {
                    if tx.send(Bytes::from_static(b" ")).await.is_err() {
                        return;
                    }
                }
            }
        }
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|chunk| (Ok::<Bytes, actix_web::Error>(chunk), rx))
    });
    HttpResponse::Ok()
        .content_type("application/json")
        .streaming(stream)
}

/// Confirms updates below `offset`, then answers up to `limit` from `offset` on, waiting up to
/// `timeout` seconds (capped) for one to arrive. A negative offset keeps the last `-offset`.
async fn wait_for_updates(shared: &Shared, body: &Value) -> Bytes {
    let offset = body["offset"].as_i64().unwrap_or(0);
    let limit = body["limit"].as_u64().unwrap_or(100).clamp(1, 100) as usize;
    let cap = lock(&shared.state).max_wait.unwrap_or(MAX_WAIT);
    let wait = Duration::from_secs(body["timeout"].as_u64().unwrap_or(0)).min(cap);
    let deadline = Instant::now() + wait;
    loop {
        let notified = shared.notify.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let (n, out) = {
            let mut s = lock(&shared.state);
            if offset < 0 {
                let keep = offset.unsigned_abs() as usize;
                let len = s.updates.len();
                s.updates.drain(..len.saturating_sub(keep));
            } else if offset > 0 {
                while s.updates.front().is_some_and(|(id, _)| *id < offset) {
                    s.updates.pop_front();
                }
                s.confirmed = s.confirmed.max(offset);
            }
            let take = if offset < 0 { s.updates.len() } else { limit };
            let mut out = Vec::with_capacity(4096);
            out.extend_from_slice(br#"{"ok":true,"result":["#);
            let mut n = 0;
            for (i, (_, json)) in s.updates.iter().take(take).enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(json);
                n += 1;
            }
            out.extend_from_slice(b"]}");
            (n, out)
        };
        let now = Instant::now();
        if n > 0 || now >= deadline {
            return Bytes::from(out);
        }
        let _ = actix_web::rt::time::timeout(deadline - now, notified).await;
    }
}

async fn file(shared: web::Data<Shared>, path: web::Path<(String, String)>) -> HttpResponse {
    let (token, file_path) = path.into_inner();
    if token != TOKEN {
        return HttpResponse::Unauthorized().finish();
    }
    let s = lock(&shared.state);
    let content_type = content_type_of(&file_path);
    if let Some((_, size)) = s.generated.values().find(|(p, _)| *p == file_path) {
        return HttpResponse::Ok()
            .content_type(content_type)
            .body(SizedStream::new(*size, generated(*size)));
    }
    match s.files.values().find(|(p, _)| *p == file_path) {
        Some((_, bytes)) => HttpResponse::Ok()
            .content_type(content_type)
            .body(bytes.clone()),
        None => HttpResponse::NotFound().finish(),
    }
}

/// Byte `i` of every generated file.
pub fn pattern_byte(i: u64) -> u8 {
    (i.wrapping_mul(31).wrapping_add(i >> 13) % 251) as u8
}

/// `size` pattern bytes in 64 KiB chunks, made one chunk at a time as the client reads.
fn generated(
    size: u64,
) -> impl futures_util::Stream<Item = Result<Bytes, std::convert::Infallible>> + 'static {
    const CHUNK: u64 = 64 * 1024;
    futures_util::stream::unfold(0u64, move |at| async move {
        if at >= size {
            return None;
        }
        let end = (at + CHUNK).min(size);
        let chunk: Vec<u8> = (at..end).map(pattern_byte).collect();
        Some((Ok(Bytes::from(chunk)), end))
    })
}

/// What Telegram's file server says a path is (it goes by the extension).
fn content_type_of(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or_default() {
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "oga" | "ogg" => "audio/ogg",
        "mp3" => "audio/mpeg",
        "mp4" => "video/mp4",
        "pdf" => "application/pdf",
        "webp" => "image/webp",
        _ => "application/octet-stream",
    }
}
