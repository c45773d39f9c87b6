//! Safe-mode pushes decrypted, parsed and translated per second on one core: the whole pure
//! path a WeChat push takes before the gateway submits it (signature check, timestamp window,
//! AES-256-CBC decryption, AppId check, strict XML parse, typed message, `Request`), plus
//! sealing the encrypted passive reply.
//!
//! `cargo bench -p minhu-adapter-wechat --bench safe_mode`
use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use minhu_adapter_wechat::crypto::{Cipher, signature};
use minhu_adapter_wechat::{AccountKeys, Outcome, Query, protocol, reply, translate};

const KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
const NOW: i64 = 1_763_800_000;

fn push(keys: &AccountKeys, inner: &str) -> (Query, String) {
    let cipher = keys.cipher.as_ref().expect("cipher");
    let encrypt = cipher.encrypt(inner, &keys.app_id, [9; 16]);
    let ts = NOW.to_string();
    let sig = signature(&[&keys.token, &ts, "482910", &encrypt]);
    let q = Query::parse(&format!(
        "signature=x&timestamp={ts}&nonce=482910&openid=o1&encrypt_type=aes&msg_signature={sig}"
    ));
    let body = format!(
        "<xml><ToUserName><![CDATA[gh_lianhu]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
    );
    (q, body)
}

fn bench(c: &mut Criterion) {
    let keys = AccountKeys {
        token: "minhu-token".into(),
        app_id: "wx5d8f1a2b3c4d5e6f".into(),
        cipher: Cipher::new(KEY).ok(),
    };
    let text = format!(
        "<xml><ToUserName><![CDATA[gh_lianhu]]></ToUserName>\
         <FromUserName><![CDATA[o6_bmjrPTlm6_2sgVt7hMZOPfL2M]]></FromUserName>\
         <CreateTime>{NOW}</CreateTime><MsgType><![CDATA[text]]></MsgType>\
         <Content><![CDATA[莲湖区大兴东路社区北门口路面塌陷，有一个大坑，晚上路灯也不亮，老人孩子经过很危险，请尽快处理。]]></Content>\
         <MsgId>24351234567890123</MsgId></xml>"
    );
    let location = format!(
        "<xml><ToUserName><![CDATA[gh_lianhu]]></ToUserName>\
         <FromUserName><![CDATA[o6_bmjrPTlm6_2sgVt7hMZOPfL2M]]></FromUserName>\
         <CreateTime>{NOW}</CreateTime><MsgType><![CDATA[location]]></MsgType>\
         <Location_X>34.261100</Location_X><Location_Y>108.947000</Location_Y><Scale>15</Scale>\
         <Label><![CDATA[陕西省西安市莲湖区北大街]]></Label><MsgId>24351234567890124</MsgId></xml>"
    );
    let mut g = c.benchmark_group("safe_mode_push");
    g.throughput(Throughput::Elements(1));
    for (name, inner) in [("text", &text), ("location", &location)] {
        let (q, body) = push(&keys, inner);
        g.bench_function(format!("open+translate/{name}"), |b| {
            b.iter(|| {
                let inbound = protocol::open_push(&keys, black_box(&q), black_box(&body), NOW, 300)
                    .expect("opens");
                match translate(&inbound.message, "wechat:wx5d8f1a2b3c4d5e6f") {
                    Outcome::Ticket(r) => black_box(r),
                    _ => panic!("a ticket"),
                }
            })
        });
    }
    let (q, body) = push(&keys, &text);
    g.bench_function("open+translate+sealed_reply/text", |b| {
        b.iter(|| {
            let inbound =
                protocol::open_push(&keys, &q, black_box(&body), NOW, 300).expect("opens");
            let r = translate(&inbound.message, "wechat:wx5d8f1a2b3c4d5e6f");
            black_box(r);
            let m = &inbound.message.header;
            let xml = reply::text(
                &m.from_user,
                &m.to_user,
                NOW,
                &reply::ticket_text("T20261122000042", false),
            );
            black_box(protocol::seal_reply(&keys, true, &xml, NOW, "77", [5; 16]).expect("seal"))
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
