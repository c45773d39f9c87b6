//! Tests of [`super`]: Xi'an Lianhu district (莲湖区, 610104) and its streets.
use super::*;

#[test]
fn a_consistent_set_is_valid() {
    validate("610104", "610104001", "610104001002").unwrap();
    validate("610104", "", "").unwrap();
    validate("", "610104001", "").unwrap();
    validate("610104", "", "610104001002").unwrap();
    validate("", "", "").unwrap();
    validate("110101", "", "").unwrap(); // 北京东城区
}

#[test]
fn each_bad_code_gets_a_specific_error() {
    use DivisionError as E;
    assert_eq!(
        validate("61010", "", ""),
        Err(E::WrongLength {
            level: Level::District,
            got: 5
        })
    );
    assert_eq!(
        validate("610104", "6101040011", ""),
        Err(E::WrongLength {
            level: Level::Street,
            got: 10
        })
    );
    assert_eq!(
        validate("六一〇一〇四", "", ""),
        Err(E::NotDigits {
            level: Level::District
        })
    );
    assert_eq!(
        validate("", "", "61010400100x"),
        Err(E::NotDigits {
            level: Level::Community
        })
    );
    assert_eq!(
        validate("990104", "", ""),
        Err(E::UnknownProvince {
            level: Level::District,
            code: "990104".into()
        })
    );
    let e = validate("610104", "610102001", "").unwrap_err();
    assert_eq!(e.field(), "street_code");
    assert!(matches!(e, E::StreetOutsideDistrict { .. }));
    let e = validate("610104", "610104001", "610104002002").unwrap_err();
    assert_eq!(e.field(), "community_code");
    assert_eq!(
        e.to_string(),
        "community_code \"610104002002\" does not lie in street_code \"610104001\""
    );
    let e = validate("610104", "", "610102001002").unwrap_err();
    assert!(matches!(
        e,
        E::CommunityOutsideParent {
            parent_field: "district_code",
            ..
        }
    ));
}

#[test]
fn padded_statistics_codes_are_normalised() {
    assert_eq!(normalize("610104000000"), "610104");
    assert_eq!(normalize("610104001000"), "610104001");
    assert_eq!(normalize("610104001002"), "610104001002");
    assert_eq!(normalize(" 610104 "), "610104");
}

#[test]
fn set_codes_fills_parents_and_leaves_the_location_alone_on_error() {
    let mut loc = pb::Location::default();
    set_codes(&mut loc, "", "", "610104001002").unwrap();
    assert_eq!(loc.district_code, "610104");
    assert_eq!(loc.street_code, "610104001");
    assert_eq!(loc.community_code, "610104001002");

    let mut loc = pb::Location::default();
    set_codes(&mut loc, "610104000000", "610104001000", "").unwrap();
    assert_eq!(
        (loc.district_code.as_str(), loc.street_code.as_str()),
        ("610104", "610104001")
    );

    let mut loc = pb::Location::default();
    assert!(set_codes(&mut loc, "610104", "610102001", "").is_err());
    assert_eq!(loc, pb::Location::default());
}
