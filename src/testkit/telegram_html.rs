//! How the fake Telegram reads `parse_mode: "HTML"` text, written apart from the service's own
//! splitter so that a test does not check the service with the service's code: the tags and
//! entities the Bot API accepts (core.telegram.org/bots/api#html-style), nested properly, and the
//! text a reader sees. Anything else is Telegram's `400 Bad Request: can't parse entities`.

const TAGS: [&str; 16] = [
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "span",
    "tg-spoiler",
    "a",
    "tg-emoji",
    "code",
    "pre",
    "blockquote",
];

/// The text a reader sees, or why Telegram refuses the markup.
pub fn parse_html(html: &str) -> Result<String, String> {
    let mut text = String::new();
    let mut open: Vec<String> = Vec::new();
    let mut rest = html;
    while let Some(c) = rest.chars().next() {
        match c {
            '<' => {
                let end = rest.find('>').ok_or_else(|| {
                    format!("unclosed start tag at byte offset {}", offset(html, rest))
                })?;
                let inner = &rest[1..end];
                let (closing, inner) = match inner.strip_prefix('/') {
                    Some(i) => (true, i),
                    None => (false, inner),
                };
                let name: String = inner
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                    .collect::<String>()
                    .to_ascii_lowercase();
                if !TAGS.contains(&name.as_str()) {
                    return Err(format!(
                        "unsupported start tag \"{name}\" at byte offset {}",
                        offset(html, rest)
                    ));
                }
                if closing {
                    if open.pop().as_deref() != Some(name.as_str()) {
                        return Err(format!(
                            "unexpected end tag at byte offset {}",
                            offset(html, rest)
                        ));
                    }
                } else {
                    open.push(name);
                }
                rest = &rest[end + 1..];
            }
            '&' => {
                let end = rest
                    .find(';')
                    .filter(|e| *e <= 10)
                    .ok_or_else(|| format!("unescaped & at byte offset {}", offset(html, rest)))?;
                let body = &rest[1..end];
                let decoded = match body {
                    "lt" => Some('<'),
                    "gt" => Some('>'),
                    "amp" => Some('&'),
                    "quot" => Some('"'),
                    _ => body.strip_prefix('#').and_then(|n| {
                        match n.strip_prefix('x') {
                            Some(hex) => u32::from_str_radix(hex, 16).ok(),
                            None => n.parse().ok(),
                        }
                        .and_then(char::from_u32)
                    }),
                };
                let c = decoded.ok_or_else(|| {
                    format!("unsupported entity at byte offset {}", offset(html, rest))
                })?;
                text.push(c);
                rest = &rest[end + 1..];
            }
            c => {
                text.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    match open.pop() {
        Some(tag) => Err(format!(
            "can't find end tag corresponding to start tag \"{tag}\""
        )),
        None => Ok(text),
    }
}

fn offset(all: &str, rest: &str) -> usize {
    all.len() - rest.len()
}

#[cfg(test)]
mod tests {
    use super::parse_html;

    #[test]
    fn telegram_html_is_read_as_telegram_reads_it() {
        assert_eq!(
            parse_html("<b>Done</b> &amp; saved").as_deref(),
            Ok("Done & saved")
        );
        assert_eq!(
            parse_html(r#"<a href="https://x/?a=1&amp;b=2">l</a> &#x41;&#66;"#).as_deref(),
            Ok("l AB")
        );
        for bad in [
            "<b>x",
            "x</b>",
            "<b><i>x</b></i>",
            "a & b",
            "<div>x</div>",
            "&nbsp;",
            "1 < 2",
        ] {
            assert!(parse_html(bad).is_err(), "{bad}");
        }
    }
}
