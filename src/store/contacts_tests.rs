//! The store's side of the keyring without the writer: start-up checks against `meta`, the
//! digest key surviving rotation, and a request split into its bare self and sealed contacts.
use super::*;
use crate::store::seal::KEY_LEN;

fn ring(keys: &[(&str, u8)], active: &str) -> Keyring {
    Keyring::new(
        keys.iter()
            .map(|(id, b)| ((*id).to_owned(), [*b; KEY_LEN]))
            .collect(),
        active,
    )
    .unwrap()
}

fn store(dir: &tempfile::TempDir) -> crate::db::Conn {
    let mut c = crate::store::test_db::side(dir);
    crate::store::schema::migrate(&mut c).unwrap();
    c
}

fn request() -> pb::Request {
    pb::Request {
        source_id: "s1".into(),
        description: "路灯不亮".into(),
        reporter: Some(pb::Reporter {
            name: "王小明".into(),
            phone: "13912345678".into(),
            email: "wang@example.cn".into(),
            wechat_openid: "oOPENID123".into(),
            anonymous: true,
            no_contact: false,
        }),
        ..Default::default()
    }
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[test]
fn a_request_leaves_its_contacts_sealed_beside_it_and_reads_back_whole() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = store(&dir);
    let s = prepare(&mut c, Some(ring(&[("k1", 1)], "k1")))
        .unwrap()
        .sealer;
    let req = request();
    let (bare, sealed) = s.store_request("T1", &req);
    let sealed = sealed.expect("contacts sealed");
    for v in ["王小明", "13912345678", "wang@example.cn", "oOPENID123"] {
        assert!(!contains(&bare, v) && !contains(&sealed, v), "{v} in clear");
    }
    let bare_req = pb::Request::decode(bare.as_slice()).unwrap();
    assert!(bare_req.reporter.as_ref().unwrap().anonymous, "kept");
    assert_eq!(s.load_request("T1", &bare, Some(&sealed)).unwrap(), req);
    // Moved to another ticket's row, it does not open.
    assert!(matches!(
        s.load_request("T2", &bare, Some(&sealed)),
        Err(StoreError::Sealed(_))
    ));
    // Without keys, as before: the request whole, nothing beside it.
    let (whole, none) = Sealer::clear().store_request("T1", &req);
    assert_eq!((whole, none), (req.encode_to_vec(), None));
    // A reporter without contacts has nothing to seal.
    let mut quiet = request();
    quiet.reporter = Some(pb::Reporter {
        no_contact: true,
        ..Default::default()
    });
    assert!(s.store_request("T3", &quiet).1.is_none());
    // Withheld: the request without contacts, no error.
    let w = Sealer::withheld()
        .load_request("T1", &bare, Some(&sealed))
        .unwrap();
    assert_eq!(w, bare_req);
}

#[test]
fn digests_are_keyed_stable_and_hide_the_value() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = store(&dir);
    let s = prepare(&mut c, Some(ring(&[("k1", 1)], "k1")))
        .unwrap()
        .sealer;
    let d = s.digest("wechat:gh_1:oOPENID123");
    assert!(
        d.starts_with(DIGEST_PREFIX) && !d.contains("oOPENID123"),
        "{d}"
    );
    assert_eq!(d, s.digest("wechat:gh_1:oOPENID123"));
    assert_ne!(d, s.digest("wechat:gh_1:oOTHER"));
    // Digesting a digest changes nothing (the re-key pass may meet one twice).
    assert_eq!(s.digest(&d), d);
    assert_eq!(Sealer::clear().digest("x"), "x");
    // Another store has another pepper.
    let other_dir = tempfile::tempdir().unwrap();
    let mut other = store(&other_dir);
    let o = prepare(&mut other, Some(ring(&[("k1", 1)], "k1")))
        .unwrap()
        .sealer;
    assert_ne!(o.digest("wechat:gh_1:oOPENID123"), d);
}

#[test]
fn a_sealed_store_refuses_to_start_without_its_keys() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = store(&dir);
    let first = prepare(&mut c, Some(ring(&[("k1", 1)], "k1"))).unwrap();
    assert!(!first.rekey, "a new store has nothing to re-seal");
    let err = prepare(&mut c, None).unwrap_err().to_string();
    assert!(
        err.contains("k1") && err.contains("no [privacy] keys"),
        "{err}"
    );
    let err = prepare(&mut c, Some(ring(&[("k2", 2)], "k2")))
        .unwrap_err()
        .to_string();
    assert!(err.contains("k1") && err.contains("lacks"), "{err}");
    // The right id with the wrong bytes: the digest key does not open.
    let err = prepare(&mut c, Some(ring(&[("k1", 9)], "k1")))
        .unwrap_err()
        .to_string();
    assert!(err.contains("digest key"), "{err}");
    // Nothing of those failed starts stuck: the right key still opens it.
    assert!(prepare(&mut c, Some(ring(&[("k1", 1)], "k1"))).is_ok());
}

#[test]
fn rotation_keeps_the_digest_key_and_asks_for_a_re_seal_until_it_is_done() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = store(&dir);
    let before = prepare(&mut c, Some(ring(&[("k1", 1)], "k1")))
        .unwrap()
        .sealer;
    let digest = before.digest("wechat:a:b").into_owned();
    let after = prepare(&mut c, Some(ring(&[("k1", 1), ("k2", 2)], "k2"))).unwrap();
    assert!(after.rekey);
    assert_eq!(after.sealer.digest("wechat:a:b"), digest, "same pepper");
    assert_eq!(after.sealer.active_id(), Some("k2"));
    let path = crate::store::test_db::location(&dir);
    assert_eq!(state_at(&path).unwrap().keys, ["k1", "k2"]);
    // Until the sweep is done, k1 must stay.
    assert!(prepare(&mut c, Some(ring(&[("k2", 2)], "k2"))).is_err());
    resealed(&c, "k2").unwrap();
    assert_eq!(
        state_at(&path).unwrap(),
        SealState {
            keys: vec!["k2".into()],
            clear: false
        }
    );
    // The pepper was re-sealed under k2 at the rotation, so k1 can go now.
    let only = prepare(&mut c, Some(ring(&[("k2", 2)], "k2"))).unwrap();
    assert!(!only.rekey);
    assert_eq!(only.sealer.digest("wechat:a:b"), digest);
}

#[test]
fn a_store_used_in_clear_is_re_sealed_once_keys_come() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = store(&dir);
    assert!(!prepare(&mut c, None).unwrap().sealer.is_on());
    assert!(
        state_at(&crate::store::test_db::location(&dir))
            .unwrap()
            .clear
    );
    assert!(
        prepare(&mut c, Some(ring(&[("k1", 1)], "k1")))
            .unwrap()
            .rekey
    );
}

#[test]
fn clear_values_read_as_they_are_and_sealed_ones_need_keys() {
    let clear = Sealer::clear();
    let json = br#"{"phone":"1"}"#;
    assert_eq!(
        clear.open(Place::Address("N1"), json).unwrap().as_deref(),
        Some(&json[..])
    );
    let r = ring(&[("k1", 1)], "k1");
    let sealed = r.seal(Place::Address("N1"), json);
    assert!(matches!(
        clear.open(Place::Address("N1"), &sealed),
        Err(StoreError::Sealed(_))
    ));
    assert_eq!(
        Sealer::withheld()
            .open(Place::Address("N1"), &sealed)
            .unwrap(),
        None
    );
    assert!(!clear.stale(&sealed), "nothing is re-sealed without keys");
}
