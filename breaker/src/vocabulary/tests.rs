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

#[test]
fn a_fleet_reason_starts_with_fleet_and_says_why() {
    let cases = [
        (
            FleetReason::Failures {
                failures: 3,
                replicas_failing: 2,
                replicas: 5,
                within: Duration::from_secs(10),
            },
            "fleet: 3 failures from 2 of 5 replicas within 10s",
        ),
        (
            FleetReason::FailureRate {
                rate: 62.5,
                threshold: 50.0,
                replicas_failing: 3,
                replicas: 4,
            },
            "fleet: failure rate 62.5% >= 50% from 3 of 4 replicas",
        ),
        (
            FleetReason::ReplicasOpen {
                open: 2,
                replicas: 5,
            },
            "fleet: 2 of 5 replicas open",
        ),
        (
            FleetReason::ProbeElsewhere,
            "fleet: another replica is probing",
        ),
        (
            FleetReason::ProbeSucceeded,
            "fleet: another replica's probe succeeded",
        ),
        (
            FleetReason::ProbeFailed,
            "fleet: another replica's probe failed",
        ),
    ];
    for (fleet, text) in cases {
        assert_eq!(Reason::Fleet(fleet).to_string(), text);
    }
}

/// A rejection carries a `Reason`; a larger one would make every rejection copy more. 40
/// bytes, as before `Reason::Fleet`: its payload fits the space `Throttled` already takes.
#[test]
fn a_fleet_reason_makes_a_reason_no_larger() {
    assert_eq!(std::mem::size_of::<Reason>(), 40);
    assert_eq!(std::mem::size_of::<Option<Reason>>(), 40);
}
