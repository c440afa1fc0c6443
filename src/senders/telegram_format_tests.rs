use proptest::prelude::*;

use super::*;

#[test]
fn short_html_is_one_part_unchanged() {
    assert_eq!(
        split_html("<b>Done</b> &amp; saved", 4096),
        vec!["<b>Done</b> &amp; saved"]
    );
}

#[test]
fn open_tags_are_closed_and_reopened_across_a_cut() {
    let html = r#"<a href="https://x.example/a?b=1&amp;c=2"><b>one two</b> three four</a>"#;
    let parts = split_html(html, 60);
    assert!(parts.len() > 1, "{parts:?}");
    for p in &parts {
        assert!(well_formed(p), "{p}");
        assert!(text_len(p) <= 60, "{p}");
        assert!(
            p.starts_with(r#"<a href="https://x.example/a?b=1&amp;c=2">"#),
            "{p}"
        );
    }
    let joined: String = parts.iter().map(|p| visible(p)).collect();
    assert_eq!(joined, visible(html));
}

#[test]
fn an_entity_is_never_cut() {
    let html = format!("{}&amp;&#x1F600;&lt;", "a".repeat(8));
    for limit in 2..20 {
        for p in split_html(&html, limit) {
            assert!(well_formed(&p), "{limit}: {p}");
        }
    }
}

#[test]
fn markdown_never_ends_a_part_after_an_escaping_backslash() {
    let text = "aaaa\\*bbbb";
    let parts = split_markdown_v2(text, 5);
    assert_eq!(parts.concat(), text);
    assert!(parts.iter().all(|p| !p.ends_with('\\')), "{parts:?}");
    // An escaped backslash (`\\`) may end a part.
    assert_eq!(split_markdown_v2("abc\\\\def", 5)[0], "abc\\\\");
}

#[test]
fn parts_with_nothing_to_read_are_left_out() {
    assert!(
        split_html("<b></b>", 80).is_empty(),
        "Telegram refuses an empty message"
    );
    assert_eq!(
        split_markdown_v2("a\\", 4),
        vec!["a\\"],
        "the text's own end"
    );
    assert_eq!(
        split_markdown_v2("*\\a \n\n \n  *", 4)
            .concat()
            .replace([' ', '\n'], ""),
        "*\\a*"
    );
}

#[test]
fn visible_text_decodes_the_entities_telegram_knows() {
    assert_eq!(
        visible("<i>a</i> &lt;&gt;&amp;&quot;&#39;&#x41;"),
        "a <>&\"'A"
    );
}

fn html_piece() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z]{1,8}",
        Just(" ".to_owned()),
        Just("\n".to_owned()),
        Just("&amp;".to_owned()),
        Just("&#128512;".to_owned()),
        Just("😀".to_owned()),
        "[a-z ]{0,12}".prop_map(|t| format!("<b>{t}</b>")),
        "[a-z ]{0,12}".prop_map(|t| format!("<i>x <u>{t}</u> y</i>")),
        "[a-z ]{0,12}".prop_map(|t| format!("<a href=\"https://e.x/?q=1&amp;r=2\">{t}</a>")),
        "[a-z ]{0,30}".prop_map(|t| format!("<pre><code class=\"language-rust\">{t}</code></pre>")),
    ]
}

proptest! {
    #[test]
    fn html_parts_fit_are_well_formed_and_keep_the_text(
        pieces in proptest::collection::vec(html_piece(), 0..80),
        limit in 80usize..400,
    ) {
        let html = pieces.concat();
        let parts = split_html(&html, limit);
        for p in &parts {
            prop_assert!(text_len(p) <= limit, "part over {limit}: {p:?}");
            prop_assert!(well_formed(p), "malformed part {p:?}");
            prop_assert!(!visible(p).trim().is_empty());
        }
        let joined: String = parts.iter().map(|p| visible(p)).collect();
        let squash = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
        prop_assert_eq!(squash(&joined), squash(&visible(&html)));
    }

    #[test]
    fn markdown_parts_join_back_and_never_end_in_a_lone_backslash(
        text in "[a-z\\\\*_ \\n]{0,300}",
        limit in 4usize..40,
    ) {
        let parts = split_markdown_v2(&text, limit);
        for (i, p) in parts.iter().enumerate() {
            prop_assert!(text_len(p) <= limit);
            if i + 1 == parts.len() {
                continue; // the text's own end
            }
            let trailing = p.bytes().rev().take_while(|b| *b == b'\\').count();
            prop_assert!(trailing % 2 == 0 || p.len() == trailing, "{p:?}");
        }
        let squash = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
        prop_assert_eq!(squash(&parts.concat()), squash(&text));
    }
}
