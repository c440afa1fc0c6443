//! Telegram's `parse_mode` (contract §5a): what a send's `parseMode` and the operator's
//! `MUX_TELEGRAM_PARSE_MODE` may say.

/// Telegram `parse_mode`. The legacy `Markdown` mode is not offered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseMode {
    Html,
    MarkdownV2,
}

impl ParseMode {
    /// `"HTML"` or `"MarkdownV2"`, exactly as the Bot API spells them (and nothing else).
    pub fn parse(raw: &str) -> Option<ParseMode> {
        match raw {
            "HTML" => Some(ParseMode::Html),
            "MarkdownV2" => Some(ParseMode::MarkdownV2),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ParseMode::Html => "HTML",
            ParseMode::MarkdownV2 => "MarkdownV2",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_modes_are_spelled_as_the_bot_api_spells_them() {
        assert_eq!(ParseMode::parse("HTML"), Some(ParseMode::Html));
        assert_eq!(ParseMode::parse("MarkdownV2"), Some(ParseMode::MarkdownV2));
        for bad in ["html", "Markdown", "", "markdownv2"] {
            assert_eq!(ParseMode::parse(bad), None, "{bad}");
        }
        assert_eq!(ParseMode::Html.as_str(), "HTML");
    }
}
