//! Telegram formatted text (contract §5a): the parse mode a send asks for, and splitting long
//! formatted text so that every part still parses.
//!
//! - HTML: a part never ends inside a tag or an entity (`&amp;`, `&#39;`). Tags open at a cut are
//!   closed at the end of the part and opened again (same opening tag, attributes included) at
//!   the start of the next, so each part is well-formed on its own and the parts' text, tags
//!   stripped and entities decoded, joins back to the original's.
//! - MarkdownV2: a part never ends right after an escaping backslash (`\*` stays whole). An entity
//!   (`*bold*`, `` `code` ``, a link) that spans a cut is *not* repaired: Telegram may refuse such a
//!   part, which then goes out as plain text (the sender's fallback) — its formatting is lost, the
//!   text never is.
//!
//! Lengths are counted on the marked-up text, which is never less than what Telegram counts
//! after parsing, so every part fits the limit.

use std::borrow::Cow;

use super::split::{split_text, text_len};
pub use crate::domain::ParseMode;

/// Splits text for `mode` into parts of at most `limit` UTF-16 units (see the module notes).
pub fn split_formatted(text: &str, limit: usize, mode: Option<ParseMode>) -> Vec<Cow<'_, str>> {
    match mode {
        None => split_text(text, limit)
            .into_iter()
            .map(Cow::Borrowed)
            .collect(),
        Some(ParseMode::MarkdownV2) => split_markdown_v2(text, limit)
            .into_iter()
            .map(Cow::Borrowed)
            .collect(),
        Some(ParseMode::Html) => split_html(text, limit)
            .into_iter()
            .map(Cow::Owned)
            .collect(),
    }
}

/// MarkdownV2: the plain split, with a cut that would leave an escaping backslash at the end of
/// a part moved back by one character.
pub fn split_markdown_v2(text: &str, limit: usize) -> Vec<&str> {
    let limit = limit.max(2);
    let mut parts = Vec::new();
    let mut rest = text;
    while text_len(rest) > limit {
        let Some(first) = split_text(rest, limit).into_iter().next() else {
            return parts;
        };
        let start = first.as_ptr() as usize - rest.as_ptr() as usize;
        let mut end = start + first.len();
        let trailing = rest[start..end]
            .bytes()
            .rev()
            .take_while(|b| *b == b'\\')
            .count();
        if trailing % 2 == 1 && end - 1 > start {
            end -= 1;
        }
        if !rest[start..end].trim().is_empty() {
            parts.push(&rest[start..end]);
        }
        rest = &rest[end..];
    }
    if !rest.trim().is_empty() {
        parts.push(rest);
    }
    parts
}

/// One indivisible piece of HTML.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Atom<'a> {
    /// An opening tag (its whole text) and its lower-case name.
    Open(&'a str, &'a str),
    /// A closing tag and its name.
    Close(&'a str, &'a str),
    /// An entity or one character.
    Text(&'a str),
}

impl Atom<'_> {
    fn text(&self) -> &str {
        match self {
            Atom::Open(t, _) | Atom::Close(t, _) | Atom::Text(t) => t,
        }
    }
}

/// Cuts HTML into atoms. Anything that is not a tag or an entity is text, one character each.
fn atoms(html: &str) -> Vec<Atom<'_>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < html.len() {
        let rest = &html[i..];
        let taken = match rest.as_bytes().first() {
            Some(b'<') => tag(rest).map(|(len, atom)| {
                out.push(atom);
                len
            }),
            Some(b'&') => entity(rest).inspect(|&len| out.push(Atom::Text(&rest[..len]))),
            _ => None,
        };
        let len = taken.unwrap_or_else(|| {
            let c = rest.chars().next().map_or(1, char::len_utf8);
            out.push(Atom::Text(&rest[..c]));
            c
        });
        i += len;
    }
    out
}

/// A tag at the start of `s`: `<name …>` or `</name>`, quotes respected.
fn tag(s: &str) -> Option<(usize, Atom<'_>)> {
    let mut quote = None;
    let end = s
        .char_indices()
        .skip(1)
        .find_map(|(i, c)| match (quote, c) {
            (None, '"' | '\'') => {
                quote = Some(c);
                None
            }
            (Some(q), c) if c == q => {
                quote = None;
                None
            }
            (None, '>') => Some(i + 1),
            (None, '<') => Some(0),
            _ => None,
        })?;
    if end == 0 {
        return None;
    }
    let whole = &s[..end];
    let inner = &whole[1..end - 1];
    let (closing, inner) = match inner.strip_prefix('/') {
        Some(rest) => (true, rest),
        None => (false, inner),
    };
    let name_len = inner
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .unwrap_or(inner.len());
    let name = &inner[..name_len];
    if name.is_empty() || !name.as_bytes()[0].is_ascii_alphabetic() {
        return None;
    }
    Some((
        end,
        if closing {
            Atom::Close(whole, name)
        } else {
            Atom::Open(whole, name)
        },
    ))
}

/// An entity at the start of `s` (`&name;`, `&#123;`, `&#x1F600;`): its length.
fn entity(s: &str) -> Option<usize> {
    let end = s.bytes().take(12).position(|b| b == b';')?;
    let body = &s[1..end];
    let ok = !body.is_empty()
        && match body.strip_prefix('#') {
            Some(num) => num.strip_prefix(['x', 'X']).map_or(
                num.bytes().all(|b| b.is_ascii_digit()) && !num.is_empty(),
                |hex| !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()),
            ),
            None => body.bytes().all(|b| b.is_ascii_alphanumeric()),
        };
    ok.then_some(end + 1)
}

/// The closing tag for an open tag's name, as Telegram expects it.
fn closing(name: &str) -> String {
    format!("</{name}>")
}

/// HTML: parts of at most `limit` units (when tags nest less deeply than the limit is long),
/// cut after a line break, else after whitespace, else between any two atoms; the tags open at a
/// cut are closed and reopened.
pub fn split_html(html: &str, limit: usize) -> Vec<String> {
    if text_len(html) <= limit {
        return if visible(html).trim().is_empty() {
            Vec::new()
        } else {
            vec![html.to_owned()]
        };
    }
    let atoms = atoms(html);
    let mut parts = Vec::new();
    // Tags open where the current part starts: (opening tag, name).
    let mut open: Vec<(&str, &str)> = Vec::new();
    let mut start = 0;
    while start < atoms.len() {
        let prefix: usize = open.iter().map(|(t, _)| text_len(t)).sum();
        let mut stack = open.clone();
        let mut closes: usize = stack.iter().map(|(_, n)| text_len(&closing(n))).sum();
        let mut len = prefix;
        let (mut at_line, mut at_space, mut at_any) = (None, None, None);
        let mut j = start;
        while j < atoms.len() {
            let atom = atoms[j];
            len += text_len(atom.text());
            match atom {
                Atom::Open(t, n) => {
                    stack.push((t, n));
                    closes += text_len(&closing(n));
                }
                Atom::Close(_, n) => {
                    if let Some(k) = stack.iter().rposition(|(_, o)| o.eq_ignore_ascii_case(n)) {
                        for (_, gone) in stack.drain(k..) {
                            closes -= text_len(&closing(gone));
                        }
                    }
                }
                Atom::Text(_) => {}
            }
            j += 1;
            if len > limit {
                break;
            }
            if len + closes <= limit {
                let cut = (j, stack.clone());
                match atom {
                    Atom::Text("\n") => at_line = Some(cut),
                    Atom::Text(t) if t.chars().all(char::is_whitespace) => at_space = Some(cut),
                    _ => {}
                }
                if !matches!(atom, Atom::Open(..)) {
                    at_any = Some((j, stack.clone()));
                }
            }
        }
        let (end, stack_at_end) = if j >= atoms.len() && len + closes <= limit {
            (atoms.len(), stack)
        } else {
            match at_line.or(at_space).or(at_any) {
                Some(cut) => cut,
                // Nesting deeper than the limit: one atom per part (over the limit, never cut).
                None => {
                    let mut s = open.clone();
                    if let Atom::Open(t, n) = atoms[start] {
                        s.push((t, n));
                    }
                    (start + 1, s)
                }
            }
        };
        let mut part: String = open.iter().map(|(t, _)| *t).collect();
        part.extend(atoms[start..end].iter().map(Atom::text));
        part.extend(stack_at_end.iter().rev().map(|(_, n)| closing(n)));
        if !visible(&part).trim().is_empty() {
            parts.push(part);
        }
        open = stack_at_end;
        start = end;
    }
    parts
}

/// The text a reader sees: tags dropped, the entities Telegram knows decoded.
pub fn visible(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    for atom in atoms(html) {
        if let Atom::Text(t) = atom {
            out.push_str(&decode_entity(t));
        }
    }
    out
}

fn decode_entity(t: &str) -> Cow<'_, str> {
    let Some(body) = t.strip_prefix('&').and_then(|r| r.strip_suffix(';')) else {
        return Cow::Borrowed(t);
    };
    let named = match body {
        "lt" => Some('<'),
        "gt" => Some('>'),
        "amp" => Some('&'),
        "quot" => Some('"'),
        _ => None,
    };
    let num = body
        .strip_prefix('#')
        .and_then(|n| match n.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok(),
            None => n.parse().ok(),
        });
    match named.or_else(|| num.and_then(char::from_u32)) {
        Some(c) => Cow::Owned(c.to_string()),
        None => Cow::Borrowed(t),
    }
}

/// Whether every tag of `html` is closed in order and every `&` starts an entity: what a part
/// must be for Telegram to parse it.
pub fn well_formed(html: &str) -> bool {
    let mut stack = Vec::new();
    for atom in atoms(html) {
        match atom {
            Atom::Open(_, n) => stack.push(n),
            Atom::Close(_, n) => {
                if stack.pop().is_none_or(|o| !o.eq_ignore_ascii_case(n)) {
                    return false;
                }
            }
            Atom::Text(t) if t == "<" || t == "&" => return false,
            Atom::Text(_) => {}
        }
    }
    stack.is_empty()
}

#[cfg(test)]
#[path = "telegram_format_tests.rs"]
mod tests;
