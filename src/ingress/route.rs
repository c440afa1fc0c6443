//! What to do with a chat message, the same for every channel (contract §3.2): forward it,
//! redeem the pairing token it carries, answer with a hint, or drop it.

use crate::domain::extract_token;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// A bound chat's message: queue it for the tenant.
    Forward,
    /// A token posted in a chat that is already bound: ignored, token not consumed.
    IgnoreToken,
    /// An unbound chat with a token: try to pair it.
    Redeem(String),
    /// An unbound chat, a command: answer with the unpaired hint.
    Hint,
    /// Bots' messages, and plain talk in unbound chats.
    Drop,
}

/// `bang_commands`: WhatsApp also treats `!word` as a command.
pub fn decide(text: Option<&str>, from_bot: bool, bound: bool, bang_commands: bool) -> Action {
    if from_bot {
        return Action::Drop;
    }
    let token = text.and_then(extract_token);
    match (bound, token) {
        (true, Some(_)) => Action::IgnoreToken,
        (true, None) => Action::Forward,
        (false, Some(t)) => Action::Redeem(t.to_owned()),
        (false, None) if text.is_some_and(|t| is_command(t, bang_commands)) => Action::Hint,
        (false, None) => Action::Drop,
    }
}

/// `/word…` (or `!word…` when allowed) at the very start of the text.
pub fn is_command(text: &str, bang: bool) -> bool {
    let mut chars = text.chars();
    match chars.next() {
        Some('/') => {}
        Some('!') if bang => {}
        _ => return false,
    }
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "mpt_abcdefghijklmnopqrstuvwxyz012345";

    #[test]
    fn bound_chats_forward_everything_but_tokens() {
        assert_eq!(decide(Some("hello"), false, true, false), Action::Forward);
        assert_eq!(
            decide(None, false, true, false),
            Action::Forward,
            "media only"
        );
        assert_eq!(
            decide(Some(&format!("/start {TOKEN}")), false, true, false),
            Action::IgnoreToken
        );
    }

    #[test]
    fn unbound_chats_redeem_tokens_hint_commands_and_drop_the_rest() {
        assert_eq!(
            decide(Some(&format!("/start {TOKEN}")), false, false, false),
            Action::Redeem(TOKEN.into())
        );
        assert_eq!(
            decide(Some(&format!("here: {TOKEN}")), false, false, false),
            Action::Redeem(TOKEN.into())
        );
        assert_eq!(decide(Some("/help"), false, false, false), Action::Hint);
        assert_eq!(decide(Some("!help"), false, false, true), Action::Hint);
        assert_eq!(decide(Some("!help"), false, false, false), Action::Drop);
        assert_eq!(decide(Some("hi"), false, false, false), Action::Drop);
        assert_eq!(decide(Some("/"), false, false, false), Action::Drop);
    }

    #[test]
    fn bots_are_never_forwarded_or_answered() {
        assert_eq!(decide(Some("hi"), true, true, false), Action::Drop);
        assert_eq!(decide(Some(TOKEN), true, false, false), Action::Drop);
    }
}
