//! The one check of text the server stores: a length bound and no
//! characters that hide or reorder what a listing shows.

use rdpm_types::ErrorId;

use crate::error::EngineError;

/// Names: protection groups, pool members, users.
pub const MAX_NAME: usize = 256;
/// A host name (RFC 1035: 253 characters), with room for `:PORT`.
pub const MAX_HOST: usize = 253 + 6;
/// URLs.
pub const MAX_URL: usize = 2048;
/// One e-mail address (RFC 5321's path limit).
pub const MAX_MAILBOX: usize = 254;
/// Recipients of alert e-mails.
pub const MAX_RECIPIENTS: usize = 100;
/// Paths of the server's file system.
pub const MAX_PATH: usize = 4096;
/// Secrets such as the SMTP password.
pub const MAX_SECRET: usize = 1024;

/// Whether `c` may not appear in stored text: control characters (Unicode
/// Cc) and the bidirectional marks, embeddings, overrides and isolates
/// (U+200E, U+200F, U+202A-U+202E, U+2066-U+2069), which make a name read
/// differently from what it is (`U+202E` turns "gpj.exe" around).
pub fn is_forbidden(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Checks `value` of `field`: at most `max` characters and no forbidden
/// character. The error names the field and says what is wrong, without
/// echoing a long value.
pub fn check(field: &str, value: &str, max: usize) -> Result<(), EngineError> {
    let length = value.chars().count();
    if length > max {
        return Err(EngineError::new(
            ErrorId::InvalidRequest,
            format!("{field} is {length} characters long; it takes at most {max}."),
        )
        .with_target(field.to_string()));
    }
    if let Some((position, c)) = value.chars().enumerate().find(|(_, c)| is_forbidden(*c)) {
        return Err(EngineError::new(
            ErrorId::InvalidRequest,
            format!(
                "{field} holds the control or bidirectional character U+{:04X} at character {}; \
                 remove it.",
                u32::from(c),
                position + 1
            ),
        )
        .with_target(field.to_string()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_control_and_bidi_characters_and_long_values() {
        assert!(check("Name", "Web content", MAX_NAME).is_ok());
        assert!(check("Name", "Äpfel – 東京", MAX_NAME).is_ok());
        for bad in [
            "a\u{202E}b",
            "a\u{0007}",
            "x\ny",
            "\u{2066}",
            "\u{200F}",
            "\u{7F}",
        ] {
            let e = check("Name", bad, MAX_NAME).unwrap_err();
            assert!(e.detail().contains("Name"), "{}", e.detail());
        }
        let e = check("SmtpServer", &"a".repeat(100_000), MAX_HOST).unwrap_err();
        assert!(
            e.detail().contains("SmtpServer is 100000 characters"),
            "{}",
            e.detail()
        );
        assert!(e.detail().len() < 200);
    }
}
