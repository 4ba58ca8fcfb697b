//! Failure texts and names: inline or shared, cut at the limit; a name freed with its last holder.

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
fn a_name_lives_as_long_as_its_last_holder() {
    let name = Name::new("tenant-00000001-eu-west-1");
    let Name(shared) = name.clone();
    let weak = Arc::downgrade(&shared);
    drop(shared);
    assert_eq!(name.as_str(), "tenant-00000001-eu-west-1");
    drop(name);
    assert!(
        weak.upgrade().is_none(),
        "the name is freed with its last holder"
    );
}
