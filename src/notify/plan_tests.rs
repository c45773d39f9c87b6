//! The plan of result notices: one per reporter and route, skips named.
use super::*;

fn req(channel: pb::Channel, reporter: pb::Reporter) -> pb::Request {
    pb::Request {
        channel: channel as i32,
        source_system: "sys".into(),
        source_id: "src-1".into(),
        description: "小区门口路灯不亮，晚上很黑，老人出行不便".into(),
        reporter: Some(reporter),
        ..Default::default()
    }
}

fn done<'a>(answered: &'a [String]) -> Completed<'a> {
    Completed {
        case_id: "C-1",
        category: "streetlight",
        department_id: "lighting",
        result: "已更换灯具",
        completed_at_ms: 2_000,
        answered,
    }
}

fn reported<'a>(id: &'a str, r: &'a pb::Request) -> Reported<'a> {
    Reported {
        ticket_id: id,
        request: r,
        accepted_at_ms: 1_000,
        last_seen_ms: 0,
    }
}

fn routes(p: &[Planned]) -> Vec<Result<Route, Skip>> {
    p.iter()
        .map(|p| match p {
            Planned::Send { route, .. } => Ok(*route),
            Planned::Skip { reason, .. } => Err(*reason),
            Planned::Return { .. } => panic!("answered through a system: {p:?}"),
        })
        .collect()
}

#[test]
fn each_reporter_on_their_own_channel() {
    let mut wechat = req(
        pb::Channel::Wechat,
        pb::Reporter {
            wechat_openid: "o-1".into(),
            phone: "13800000001".into(),
            ..Default::default()
        },
    );
    wechat
        .extra
        .insert("wechat.msg_type".into(), "miniprogram".into());
    let mut mail = req(
        pb::Channel::MayorMailbox,
        pb::Reporter {
            email: "Li@Example.cn".into(),
            ..Default::default()
        },
    );
    mail.title = "路灯坏了".into();
    mail.extra.insert("mailbox.kind".into(), "email".into());
    let hotline = req(
        pb::Channel::Hotline12345,
        pb::Reporter {
            phone: "+86 138-0000-0002".into(),
            ..Default::default()
        },
    );
    let t = [
        reported("T1", &wechat),
        reported("T2", &mail),
        reported("T3", &hotline),
    ];
    let p = result_notices(&done(&[]), &t, None);
    assert_eq!(
        routes(&p),
        [Ok(Route::Wechat), Ok(Route::Email), Ok(Route::Sms)]
    );
    let Planned::Send { address, facts, .. } = &p[0] else {
        unreachable!()
    };
    assert!(address.miniprogram);
    assert_eq!(
        address.last_seen_ms, 1_000,
        "never before the ticket itself"
    );
    assert_eq!(facts.title, "小区门口路灯不亮，晚上很黑，老人出行不便");
    assert_eq!(facts.reported_at_ms, 1_000);
    let Planned::Send { address, facts, .. } = &p[1] else {
        unreachable!()
    };
    assert_eq!(
        address.subject, "路灯坏了",
        "an e-mail is answered as Re: its subject"
    );
    assert_eq!(facts.ticket_id, "T2");
    assert_eq!(facts.result, "已更换灯具");
}

#[test]
fn the_same_person_twice_is_told_once_per_route() {
    let a = req(
        pb::Channel::Hotline12345,
        pb::Reporter {
            phone: "13800000003".into(),
            ..Default::default()
        },
    );
    let b = req(
        pb::Channel::Other,
        pb::Reporter {
            phone: "0086 13800000003".into(),
            ..Default::default()
        },
    );
    let mut c = req(
        pb::Channel::MayorMailbox,
        pb::Reporter {
            email: "li@example.cn".into(),
            ..Default::default()
        },
    );
    c.extra.insert("mailbox.kind".into(), "form".into());
    let d = req(
        pb::Channel::WebPortal,
        pb::Reporter {
            email: "LI@example.cn ".into(),
            ..Default::default()
        },
    );
    let t = [
        reported("T1", &a),
        reported("T2", &b),
        reported("T3", &c),
        reported("T4", &d),
    ];
    let p = result_notices(&done(&[]), &t, None);
    assert_eq!(
        routes(&p),
        [
            Ok(Route::Sms),
            Err(Skip::Duplicate),
            Ok(Route::Email),
            Err(Skip::Duplicate)
        ]
    );
    let Planned::Send { address, .. } = &p[2] else {
        unreachable!()
    };
    assert!(
        address.subject.is_empty(),
        "a web form has no subject to answer"
    );
}

#[test]
fn skips_are_named() {
    let quiet = req(
        pb::Channel::Hotline12345,
        pb::Reporter {
            phone: "13800000004".into(),
            no_contact: true,
            ..Default::default()
        },
    );
    let nobody = req(
        pb::Channel::Hotline12345,
        pb::Reporter {
            anonymous: true,
            ..Default::default()
        },
    );
    let told = req(
        pb::Channel::Hotline12345,
        pb::Reporter {
            phone: "13800000005".into(),
            ..Default::default()
        },
    );
    let patrol = req(
        pb::Channel::GridPatrol,
        pb::Reporter {
            phone: "13800000006".into(),
            ..Default::default()
        },
    );
    let transfer = req(pb::Channel::Emergency110, pb::Reporter::default());
    let event = req(pb::Channel::CityManagement, pb::Reporter::default());
    let answered = ["T3".to_owned()];
    let t = [
        reported("T1", &quiet),
        reported("T2", &nobody),
        reported("T3", &told),
        reported("T4", &patrol),
        reported("T5", &transfer),
        reported("T6", &event),
    ];
    let p = result_notices(&done(&answered), &t, None);
    assert_eq!(
        routes(&p),
        [
            Err(Skip::NoContact),
            Err(Skip::NoAddress),
            Err(Skip::AnsweredByDepartment),
            Err(Skip::ThroughItsSystem),
            Err(Skip::ThroughItsSystem),
            Err(Skip::ThroughItsSystem),
        ]
    );
}

#[test]
fn contact_keys_hide_the_contact() {
    let a = req(
        pb::Channel::Hotline12345,
        pb::Reporter {
            phone: "13800000007".into(),
            ..Default::default()
        },
    );
    let t = [reported("T1", &a)];
    let p = result_notices(&done(&[]), &t, None);
    let Planned::Send { contact_key, .. } = &p[0] else {
        unreachable!()
    };
    assert_eq!(contact_key.len(), 32);
    assert!(!contact_key.contains("13800000007"));
}

#[test]
fn reporters_whose_systems_answer_them_get_a_return_and_one_call_per_phone() {
    use crate::notify::systems::{System, Systems};
    let hotline = |id: &str, phone: &str| {
        let mut r = req(
            pb::Channel::Hotline12345,
            pb::Reporter {
                phone: phone.into(),
                ..Default::default()
            },
        );
        r.source_system = "xian-12345".into();
        r.source_id = id.into();
        r
    };
    let a = hotline("GD1", "13800000001");
    let b = hotline("GD2", "+86 138 0000 0001");
    let mut other = hotline("GD3", "13800000002");
    other.source_system = "elsewhere".into();
    let mut inspector = req(
        pb::Channel::CityManagement,
        pb::Reporter {
            phone: "13700001111".into(),
            ..Default::default()
        },
    );
    inspector.source_system = "citymgmt:xian".into();
    let mut transfer = req(pb::Channel::Emergency119, pb::Reporter::default());
    transfer
        .extra
        .insert("emergency.centre".into(), "xian-119".into());
    transfer.extra.insert("emergency.line".into(), "119".into());
    let mut unlisted = transfer.clone();
    unlisted
        .extra
        .insert("emergency.centre".into(), "xian-110".into());
    let all = [a, b, other, inspector, transfer, unlisted];
    let ids = ["T1", "T2", "T3", "T4", "T5", "T6"];
    let t: Vec<Reported<'_>> = ids
        .iter()
        .zip(&all)
        .map(|(id, r)| reported(id, r))
        .collect();
    let mapping = minhu_adapter_hotline12345::SourceMapping {
        fields: [
            ("gdbh".to_owned(), "source_id".to_owned()),
            ("sqnr".to_owned(), "description".to_owned()),
        ]
        .into(),
        ..Default::default()
    }
    .compile()
    .unwrap();
    let systems = Systems::default()
        .with_call_centre("xian-12345", mapping)
        .with_verification("citymgmt:xian")
        .with_emergency_results("xian-119");
    let p = result_notices(&done(&[]), &t, Some(&systems));
    let got: Vec<String> = p
        .iter()
        .map(|p| match p {
            Planned::Return { system, .. } => system.routing_key(),
            Planned::Send { route, .. } => route.as_str().to_owned(),
            Planned::Skip { reason, .. } => reason.as_str().to_owned(),
        })
        .collect();
    assert_eq!(
        got,
        [
            "return.hotline12345.xian-12345",
            "duplicate",
            "sms",
            "return.citymgmt",
            "return.emergency.xian-119",
            "through_its_system",
        ]
    );
    let Planned::Return { system, .. } = &p[4] else {
        unreachable!()
    };
    assert_eq!(
        *system,
        System::Emergency {
            centre: "xian-119".into(),
            line: "119".into()
        }
    );
    // Without systems the same reporters are answered as citizens (or skipped).
    let plain = routes(&result_notices(&done(&[]), &t, None));
    assert_eq!(plain[0], Ok(Route::Sms));
    assert_eq!(plain[3], Ok(Route::Sms));
}
