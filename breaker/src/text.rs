//! Texts and names, cheap to copy: a failure's text ([`Text`]) and a breaker's name
//! ([`Name`]). Every rejection carries both, so their layout is chosen for the copy.

use std::collections::HashMap;
use std::fmt::{self, Write};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

/// Bytes a text may have and still be held inline.
const INLINE: usize = 23;
/// The longest text kept, in bytes: a failure's text is quoted in every rejection until the
/// next failure, and its source (an error message, a URL with a client's query in it) is not
/// ours to bound. A longer one is cut on a character boundary and ends in `…`.
pub(crate) const MAX_TEXT: usize = 256;

/// A failure's text: held inline when short, shared when long, cheap to copy either way.
///
/// Every rejection copies the last failure's text into the error it returns. The usual
/// small-string layout (`smol_str`'s) packs the length into a one-byte tag in front of the
/// buffer; a copy of it mixes byte and word stores, which wide loads of the copy then cannot
/// forward. The inline buffer below is three whole words, so a copy moves whole words.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum Text {
    Inline(Inline),
    Shared(Arc<str>),
}

/// Up to 23 bytes of UTF-8 and their length, 8-byte aligned so that copies are whole words.
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(C, align(8))]
pub(crate) struct Inline {
    bytes: [u8; INLINE],
    len: u8,
}

impl Text {
    /// The text `value` displays as, cut at [`MAX_TEXT`] bytes. Only a text longer than 23
    /// bytes allocates.
    pub(crate) fn display(value: impl fmt::Display) -> Self {
        let mut writer = Writer::Inline(Inline {
            bytes: [0; INLINE],
            len: 0,
        });
        // Writing to a buffer or a String cannot fail, and a cut text reports an error only to
        // stop the formatting; a Display impl that reports an error of its own leaves what it
        // wrote so far.
        let _ = write!(writer, "{value}");
        match writer {
            Writer::Inline(inline) => Text::Inline(inline),
            Writer::Spilled(text) => Text::Shared(text.into()),
            Writer::Cut(mut text) => {
                text.push('…');
                Text::Shared(text.into())
            }
        }
    }

    pub(crate) fn as_str(&self) -> &str {
        match self {
            // Only whole `&str`s are ever written into the buffer, so this never falls back.
            Text::Inline(inline) => {
                std::str::from_utf8(&inline.bytes[..usize::from(inline.len)]).unwrap_or_default()
            }
            Text::Shared(text) => text,
        }
    }

    /// A copy that shares nothing with `self`: a thread that keeps a long text for its own
    /// rejections then counts references on a cache line no other thread writes.
    pub(crate) fn unshared(&self) -> Self {
        match self {
            Text::Inline(inline) => Text::Inline(*inline),
            Text::Shared(text) => Text::Shared(Arc::from(&**text)),
        }
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<&str> for Text {
    fn from(text: &str) -> Self {
        Text::display(text)
    }
}

/// Where `Text::display` is writing: the inline buffer until it would overflow, then a
/// `String` until it reaches [`MAX_TEXT`].
enum Writer {
    Inline(Inline),
    Spilled(String),
    /// Full: whatever comes next is dropped.
    Cut(String),
}

impl Write for Writer {
    fn write_str(&mut self, piece: &str) -> fmt::Result {
        match self {
            Writer::Inline(inline) => {
                let start = usize::from(inline.len);
                let end = start + piece.len();
                if end <= INLINE {
                    inline.bytes[start..end].copy_from_slice(piece.as_bytes());
                    // `end` is at most 23, so it fits the byte.
                    inline.len = end as u8;
                    return Ok(());
                }
                let mut text = String::with_capacity(end.clamp(64, MAX_TEXT + '…'.len_utf8()));
                text.push_str(std::str::from_utf8(&inline.bytes[..start]).unwrap_or_default());
                *self = Writer::Spilled(text);
                self.write_str(piece)
            }
            Writer::Spilled(text) => {
                if text.len() + piece.len() <= MAX_TEXT {
                    text.push_str(piece);
                    return Ok(());
                }
                let mut room = MAX_TEXT - text.len();
                while !piece.is_char_boundary(room) {
                    room -= 1;
                }
                text.push_str(&piece[..room]);
                *self = Writer::Cut(std::mem::take(text));
                Err(fmt::Error)
            }
            Writer::Cut(_) => Err(fmt::Error),
        }
    }
}

/// A breaker's name, interned: one thin pointer, so a rejection carries it in one word.
///
/// A name is a label, like a metric name: a handful per process, living as long as the
/// process. Interned once, when the breaker is built, it rides in every rejection as a plain
/// pointer, where an owned string would cost a clone per rejection. Only distinct names take
/// memory.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Name(&'static &'static str);

impl Name {
    pub(crate) fn as_str(self) -> &'static str {
        self.0
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

/// The one stored copy of `name`.
pub(crate) fn intern(name: &str) -> Name {
    static NAMES: OnceLock<Mutex<HashMap<&'static str, Name>>> = OnceLock::new();
    let mut names = NAMES
        .get_or_init(Mutex::default)
        .lock()
        // Nothing panics while this lock is held; a poisoned map is still a valid map.
        .unwrap_or_else(PoisonError::into_inner);
    if let Some(interned) = names.get(name) {
        return *interned;
    }
    let text: &'static str = Box::leak(name.into());
    let interned = Name(Box::leak(Box::new(text)));
    names.insert(text, interned);
    interned
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_texts_stay_inline_and_long_ones_are_shared_whole() {
        let short = Text::display("HTTP 500");
        assert!(matches!(short, Text::Inline(_)));
        assert_eq!(short.as_str(), "HTTP 500");
        let exactly = Text::from("x".repeat(INLINE).as_str());
        assert!(matches!(exactly, Text::Inline(_)));
        let long = Text::display(format_args!("{} for url: {}", "HTTP 500", "http://b/api"));
        assert!(matches!(long, Text::Shared(_)));
        assert_eq!(long.as_str(), "HTTP 500 for url: http://b/api");
        let copy = long.unshared();
        assert_eq!(copy, long);
        assert!(matches!((&copy, &long), (Text::Shared(a), Text::Shared(b)) if !Arc::ptr_eq(a, b)));
    }

    #[test]
    fn a_text_longer_than_the_limit_is_cut_on_a_character_boundary() {
        let long = format!("HTTP 500 for url: http://b/api?fail={}", "é".repeat(400));
        let text = Text::display(&long);
        let kept = text.as_str().strip_suffix('…').expect("marked as cut");
        assert!(
            kept.len() <= MAX_TEXT && kept.len() > MAX_TEXT - 2,
            "{}",
            kept.len()
        );
        assert!(long.starts_with(kept));
        let exactly = "x".repeat(MAX_TEXT);
        assert_eq!(
            Text::display(&exactly).as_str(),
            exactly,
            "the limit itself is kept whole"
        );
        let in_pieces = Text::display(format_args!("{}{}", "y".repeat(200), "z".repeat(200)));
        assert_eq!(in_pieces.as_str().len(), MAX_TEXT + '…'.len_utf8());
    }

    #[test]
    fn multibyte_text_crossing_the_inline_limit_is_kept_intact() {
        let text = "é".repeat(20);
        assert_eq!(Text::display(&text).as_str(), text);
        assert_eq!(Text::display("").as_str(), "");
    }

    #[test]
    fn the_same_name_is_stored_once() {
        let first = intern("payments");
        let second = intern(&String::from("payments"));
        assert!(std::ptr::eq(first.0, second.0));
        assert_eq!(intern("inventory").as_str(), "inventory");
    }
}
