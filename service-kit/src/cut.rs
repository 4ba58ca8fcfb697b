//! Text from outside (a URL, a body from a backend) as an error message or a log field may
//! quote it: whole up to a bound, otherwise cut on a character boundary and marked.
//!
//! ```
//! use service_kit::cut::{QUOTE_LIMIT, cut};
//!
//! assert_eq!(cut("http://b/api?fail=true", QUOTE_LIMIT), "http://b/api?fail=true");
//! let long = "x".repeat(10_000);
//! let quoted = cut(&long, QUOTE_LIMIT);
//! assert!(quoted.len() <= QUOTE_LIMIT);
//! assert!(quoted.ends_with(service_kit::cut::MARK));
//! ```

use std::borrow::Cow;
use std::fmt;

/// The most bytes a quoted URL or body takes in an error message or a log field, the mark
/// included.
pub const QUOTE_LIMIT: usize = 512;

/// What ends a cut text: an ellipsis, then the word, so a reader (or a grep) cannot take the
/// cut text for the whole.
pub const MARK: &str = "…(cut)";

/// `text` whole when it has at most `limit` bytes; otherwise its first characters and
/// [`MARK`], `limit` bytes at most in all (the mark alone when `limit` leaves no room for
/// text).
pub fn cut(text: &str, limit: usize) -> Cow<'_, str> {
    if text.len() <= limit {
        return Cow::Borrowed(text);
    }
    let mut end = limit.saturating_sub(MARK.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    Cow::Owned(format!("{}{MARK}", &text[..end]))
}

/// Displays its text through [`cut`] at [`QUOTE_LIMIT`], without building the whole text
/// first: `format!("... {}", Quoted(url.as_str()))`.
#[derive(Debug, Clone, Copy)]
pub struct Quoted<'a>(pub &'a str);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&cut(self.0, QUOTE_LIMIT))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_within_the_limit_is_quoted_whole() {
        let exactly = "a".repeat(QUOTE_LIMIT);
        assert_eq!(cut(&exactly, QUOTE_LIMIT), exactly);
        assert!(matches!(cut("short", QUOTE_LIMIT), Cow::Borrowed("short")));
    }

    #[test]
    fn a_longer_text_is_cut_to_the_limit_mark_included() {
        let one_more = "a".repeat(QUOTE_LIMIT + 1);
        let quoted = cut(&one_more, QUOTE_LIMIT);
        assert_eq!(quoted.len(), QUOTE_LIMIT);
        assert_eq!(
            quoted,
            format!("{}{MARK}", "a".repeat(QUOTE_LIMIT - MARK.len()))
        );
    }

    #[test]
    fn the_cut_never_splits_a_character() {
        // 'é' is two bytes; "a" first puts every 'é' on an odd offset, so the cut point of
        // an even limit falls inside one.
        let long = format!("a{}", "é".repeat(1_000));
        let quoted = cut(&long, 16);
        let kept = 16 - MARK.len();
        assert!(quoted.len() <= 16, "{quoted}");
        assert_eq!(quoted, format!("a{}{MARK}", "é".repeat((kept - 1) / 2)));
    }

    #[test]
    fn a_limit_below_the_mark_leaves_the_mark_alone() {
        assert_eq!(cut("abcdefghijklmnop", 2), MARK);
    }

    #[test]
    fn quoted_displays_the_cut_text() {
        let long = "u".repeat(5_000);
        assert_eq!(Quoted(&long).to_string(), cut(&long, QUOTE_LIMIT));
        assert_eq!(
            format!("url: {}", Quoted("http://b/api")),
            "url: http://b/api"
        );
    }
}
