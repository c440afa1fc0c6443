//! Splitting text that is longer than a platform allows into several messages.
//!
//! The text itself is never changed: the parts, joined, give back the original (only parts that
//! are nothing but whitespace are left out, because every platform rejects an empty message).
//! Lengths are counted in UTF-16 code units, which is what Telegram counts and never less than
//! the code points Discord and WhatsApp count, so a part that fits here fits everywhere.

/// Length as the platforms count it (UTF-16 code units).
pub fn text_len(text: &str) -> usize {
    text.encode_utf16().count()
}

/// Splits `text` into parts of at most `limit` units, preferring to cut after a line break, then
/// after whitespace, and only inside a word when a single word is longer than the limit.
pub fn split_text(text: &str, limit: usize) -> Vec<&str> {
    let limit = limit.max(2);
    let mut parts = Vec::new();
    let mut rest = text;
    while text_len(rest) > limit {
        let max_end = prefix_end(rest, limit);
        let window = &rest[..max_end];
        let cut = cut_after(window, |c| c == '\n')
            .or_else(|| cut_after(window, char::is_whitespace))
            .unwrap_or(max_end);
        push_part(&mut parts, &rest[..cut]);
        rest = &rest[cut..];
    }
    push_part(&mut parts, rest);
    parts
}

/// The byte index of the longest prefix of at most `limit` units (never inside a character).
fn prefix_end(text: &str, limit: usize) -> usize {
    let mut units = 0;
    for (i, c) in text.char_indices() {
        units += c.len_utf16();
        if units > limit {
            return i;
        }
    }
    text.len()
}

/// The byte index just after the last character matching `pred`, if that leaves a non-empty part.
fn cut_after(window: &str, pred: impl Fn(char) -> bool) -> Option<usize> {
    window
        .char_indices()
        .rev()
        .find(|(_, c)| pred(*c))
        .map(|(i, c)| i + c.len_utf8())
        .filter(|&end| !window[..end].trim().is_empty())
}

fn push_part<'a>(parts: &mut Vec<&'a str>, part: &'a str) {
    if !part.trim().is_empty() {
        parts.push(part);
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn short_text_is_one_part_unchanged() {
        assert_eq!(
            split_text("  hello *world*  ", 4096),
            vec!["  hello *world*  "]
        );
    }

    #[test]
    fn long_text_is_cut_after_the_last_line_break_that_fits() {
        let text = "aaaa\nbbbb\ncccc";
        assert_eq!(split_text(text, 10), vec!["aaaa\nbbbb\n", "cccc"]);
    }

    #[test]
    fn without_line_breaks_it_cuts_after_a_space() {
        assert_eq!(split_text("one two three", 9), vec!["one two ", "three"]);
    }

    #[test]
    fn a_word_longer_than_the_limit_is_cut_inside() {
        assert_eq!(split_text("abcdefgh", 3), vec!["abc", "def", "gh"]);
    }

    #[test]
    fn surrogate_pairs_count_twice_and_are_never_cut() {
        let text = "😀😀😀";
        assert_eq!(split_text(text, 4), vec!["😀😀", "😀"]);
    }

    proptest! {
        #[test]
        fn parts_fit_and_join_back_to_the_text(text in "[a-z \\n😀é]{0,300}", limit in 2usize..50) {
            let parts = split_text(&text, limit);
            for p in &parts {
                prop_assert!(text_len(p) <= limit, "part {p:?} over {limit}");
                prop_assert!(!p.trim().is_empty());
            }
            let joined: String = parts.concat();
            let kept: String = text.chars().filter(|c| !c.is_whitespace()).collect();
            let joined_kept: String = joined.chars().filter(|c| !c.is_whitespace()).collect();
            prop_assert_eq!(kept, joined_kept);
        }

        #[test]
        fn text_without_blank_stretches_joins_back_exactly(words in proptest::collection::vec("[a-z😀]{1,12}", 1..40), limit in 12usize..60) {
            let text = words.join(" ");
            prop_assert_eq!(split_text(&text, limit).concat(), text);
        }
    }
}
