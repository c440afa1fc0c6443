//! Reading a Telegram `Update` (raw JSON, kept unmodified for `channelData.telegram.rawUpdate`)
//! into what routing and the envelope need. Pure: any JSON in, never a panic.

use serde_json::Value;

use crate::domain::RouteKey;

/// One media item of a message: a photo (the size chosen), a document, video, animation, voice
/// note, audio or sticker. The field names of its description are the older service's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TgMedia {
    /// `photo`, `document`, `video`, `animation`, `voice`, `audio`, `video_note` or `sticker`.
    pub kind: &'static str,
    pub file_id: String,
    pub file_unique_id: Option<String>,
    pub file_size: Option<u64>,
    pub mime_type: Option<String>,
    pub file_name: Option<String>,
    pub width: Option<u64>,
    pub height: Option<u64>,
    pub duration_sec: Option<u64>,
}

/// A message or edited message from an update.
#[derive(Debug, Clone, PartialEq)]
pub struct TgMessage {
    pub update_id: i64,
    pub edited: bool,
    pub chat_id: i64,
    pub chat_type: String,
    /// The forum topic (contract §3.2): the message says `is_topic_message`, or the chat is a
    /// forum and the message has a `message_thread_id`. A reply thread in a plain group is no
    /// topic: its messages route to the chat, and replies into it carry no thread.
    pub topic_id: Option<i64>,
    pub message_id: i64,
    pub from_id: Option<i64>,
    pub from_is_bot: bool,
    /// Text or caption, verbatim.
    pub text: Option<String>,
    pub date: i64,
    pub media: Vec<TgMedia>,
    pub raw_message: Value,
    pub raw_update: Value,
}

/// The update id of any update, so the offset advances past updates mux does not use.
pub fn update_id(update: &Value) -> Option<i64> {
    update.get("update_id")?.as_i64()
}

/// The message an update carries (`message` or `edited_message`), if any. `photo_cap` picks the
/// largest photo size that fits the inline limit (Telegram sends several sizes of each photo).
pub fn parse(update: &Value, photo_cap: u64) -> Option<TgMessage> {
    let update_id = update_id(update)?;
    let (raw, edited) = match (update.get("message"), update.get("edited_message")) {
        (Some(m), _) if m.is_object() => (m, false),
        (_, Some(m)) if m.is_object() => (m, true),
        _ => return None,
    };
    let chat = raw.get("chat")?;
    let from = raw.get("from");
    let is_topic = raw.get("is_topic_message").and_then(Value::as_bool) == Some(true);
    let is_forum = chat.get("is_forum").and_then(Value::as_bool) == Some(true);
    let topic_id = raw
        .get("message_thread_id")
        .and_then(Value::as_i64)
        .filter(|t| (is_topic || is_forum) && *t > 0);
    let text = raw
        .get("text")
        .or_else(|| raw.get("caption"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    Some(TgMessage {
        update_id,
        edited,
        chat_id: chat.get("id")?.as_i64()?,
        chat_type: chat
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("private")
            .to_owned(),
        topic_id,
        message_id: raw.get("message_id")?.as_i64()?,
        from_id: from.and_then(|f| f.get("id")).and_then(Value::as_i64),
        from_is_bot: from.and_then(|f| f.get("is_bot")).and_then(Value::as_bool) == Some(true),
        text,
        date: raw.get("date").and_then(Value::as_i64).unwrap_or(0),
        media: media(raw, photo_cap),
        raw_message: raw.clone(),
        raw_update: update.clone(),
    })
}

/// The largest photo size (by pixels) within `cap` — or the smallest when none fits, so the
/// envelope still describes it — and every other media object. An animation also comes as a
/// `document`; it is described once, as the animation. Telegram states no type for photos: the
/// downloaded bytes tell (contract §6).
fn media(raw: &Value, cap: u64) -> Vec<TgMedia> {
    let mut out = Vec::new();
    if let Some(sizes) = raw.get("photo").and_then(Value::as_array) {
        let fits = |s: &&Value| {
            s.get("file_size")
                .and_then(Value::as_u64)
                .is_none_or(|n| n <= cap)
        };
        let pixels = |s: &&Value| {
            let w = s.get("width").and_then(Value::as_u64).unwrap_or(0);
            let h = s.get("height").and_then(Value::as_u64).unwrap_or(0);
            w.saturating_mul(h)
        };
        let best = sizes
            .iter()
            .filter(fits)
            .max_by_key(pixels)
            .or_else(|| sizes.iter().min_by_key(pixels));
        out.extend(best.and_then(|s| item("photo", s)));
    }
    const KINDS: [&str; 6] = [
        "video",
        "animation",
        "voice",
        "audio",
        "video_note",
        "sticker",
    ];
    for kind in KINDS {
        out.extend(raw.get(kind).and_then(|v| item(kind, v)));
    }
    if raw.get("animation").is_none() {
        out.extend(raw.get("document").and_then(|d| item("document", d)));
    }
    out
}

fn item(kind: &'static str, v: &Value) -> Option<TgMedia> {
    let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    let n = |k: &str| v.get(k).and_then(Value::as_u64);
    Some(TgMedia {
        kind,
        file_id: s("file_id")?,
        file_unique_id: s("file_unique_id"),
        file_size: n("file_size"),
        mime_type: s("mime_type"),
        file_name: s("file_name"),
        width: n("width"),
        height: n("height"),
        duration_sec: n("duration"),
    })
}

impl TgMessage {
    /// Route keys to try, most specific first: the topic, then the chat.
    pub fn route_keys(&self) -> Vec<RouteKey> {
        RouteKey::telegram_keys(self.chat_id, self.topic_id)
    }

    pub fn event_id(&self) -> String {
        format!("tg:{}", self.update_id)
    }

    pub fn is_direct(&self) -> bool {
        self.chat_type == "private"
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    #[test]
    fn a_forum_topic_message_routes_topic_first() {
        let update = json!({"update_id": 10001, "message": {"message_id": 5, "message_thread_id": 4,
            "is_topic_message": true, "date": 1675229140,
            "from": {"id": 1253681278, "is_bot": false, "first_name": "A"},
            "chat": {"id": -1001847508954i64, "type": "supergroup", "is_forum": true}, "text": "hello"}});
        let m = parse(&update, u64::MAX).unwrap();
        assert_eq!((m.update_id, m.message_id, m.topic_id), (10001, 5, Some(4)));
        assert_eq!(m.text.as_deref(), Some("hello"));
        assert_eq!(
            m.route_keys()
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
            vec![
                "telegram:default:chat:-1001847508954:topic:4",
                "telegram:default:chat:-1001847508954"
            ]
        );
        assert_eq!(m.raw_update, update);
    }

    #[test]
    fn a_reply_thread_outside_a_forum_is_not_a_topic() {
        let update = json!({"update_id": 1, "message": {"message_id": 9, "message_thread_id": 3,
            "chat": {"id": -100, "type": "supergroup"}, "text": "re"}});
        assert_eq!(parse(&update, u64::MAX).unwrap().topic_id, None);
        let marked_no_forum = json!({"update_id": 1, "message": {"message_id": 9, "message_thread_id": 3,
            "chat": {"id": -100, "type": "supergroup", "is_forum": false}, "text": "re"}});
        assert_eq!(parse(&marked_no_forum, u64::MAX).unwrap().topic_id, None);
    }

    #[test]
    fn a_thread_in_a_forum_chat_is_a_topic_even_without_is_topic_message() {
        let update = json!({"update_id": 1, "message": {"message_id": 9, "message_thread_id": 3,
            "chat": {"id": -100, "type": "supergroup", "is_forum": true}, "text": "re"}});
        assert_eq!(parse(&update, u64::MAX).unwrap().topic_id, Some(3));
        let general = json!({"update_id": 1, "message": {"message_id": 9,
            "chat": {"id": -100, "type": "supergroup", "is_forum": true}, "text": "hi"}});
        assert_eq!(parse(&general, u64::MAX).unwrap().topic_id, None);
    }

    #[test]
    fn edits_captions_and_the_largest_photo_are_read() {
        let update = json!({"update_id": 2, "edited_message": {"message_id": 1, "chat": {"id": 7, "type": "private"},
            "caption": "look", "photo": [
                {"file_id": "small", "width": 90, "height": 90},
                {"file_id": "big", "width": 1280, "height": 960, "file_size": 100}]}});
        let m = parse(&update, u64::MAX).unwrap();
        assert!(m.edited && m.is_direct());
        assert_eq!(m.text.as_deref(), Some("look"));
        assert_eq!(m.media.len(), 1);
        assert_eq!(m.media[0].file_id, "big");
        let capped = parse(&update, 99).unwrap();
        assert_eq!(
            capped.media[0].file_id, "small",
            "the largest size within the cap"
        );
    }

    #[test]
    fn every_media_kind_is_read_and_an_animation_once() {
        let update = json!({"update_id": 4, "message": {"message_id": 1, "chat": {"id": 7, "type": "private"},
            "animation": {"file_id": "a", "duration": 3, "mime_type": "video/mp4"},
            "document": {"file_id": "a", "mime_type": "video/mp4"},
            "voice": {"file_id": "v", "duration": 2, "mime_type": "audio/ogg"},
            "sticker": {"file_id": "s", "width": 512, "height": 512}}});
        let m = parse(&update, u64::MAX).unwrap();
        let kinds: Vec<_> = m.media.iter().map(|i| (i.kind, i.duration_sec)).collect();
        assert_eq!(
            kinds,
            vec![
                ("animation", Some(3)),
                ("voice", Some(2)),
                ("sticker", None)
            ]
        );
        let photo = json!({"update_id": 5, "message": {"message_id": 1, "chat": {"id": 7, "type": "private"},
            "photo": [{"file_id": "p", "width": 1, "height": 1}]}});
        assert_eq!(
            parse(&photo, u64::MAX).unwrap().media[0].mime_type,
            None,
            "no guessed type for photos"
        );
    }

    #[test]
    fn updates_without_a_message_are_skipped_but_keep_their_id() {
        let update = json!({"update_id": 3, "my_chat_member": {}});
        assert_eq!(parse(&update, u64::MAX), None);
        assert_eq!(update_id(&update), Some(3));
    }

    proptest! {
        #[test]
        fn any_json_parses_or_is_skipped_without_panic(s in ".{0,200}") {
            if let Ok(v) = serde_json::from_str::<Value>(&s) {
                let _ = parse(&v, 1000);
            }
            let v = json!({"update_id": 1, "message": {"chat": {"id": s.len()}, "message_id": 1, "text": s}});
            prop_assert!(parse(&v, 1000).is_some());
        }
    }
}
