//! Routing end to end through the real binary and a real broker: co-handler dispatches,
//! proto3 JSON departments, the emergency linkage queue, inferred categories, and hot reload
//! under load (nothing lost, nothing misrouted, every ticket routed wholly by one version).
mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::broker::{TestVhost, drain, header};
use common::gateway::{Gateway, Options, request, submit};
use minhu::pb;
use prost::Message;

/// A copy of the sample routing folder in `dir/routing/` (kept apart from the database, whose
/// writes would otherwise look like config changes), with `edit` applied to routing.toml.
fn routing_copy(dir: &Path, edit: impl Fn(String) -> String) -> PathBuf {
    let r = dir.join("routing");
    common::routing::copy_companions(&r);
    let file = r.join("routing.toml");
    write_atomically(&file, &edit(common::routing::sample_text()));
    file
}

/// How editors save: write a temporary file, rename it over the old one.
fn write_atomically(file: &Path, text: &str) {
    let tmp = file.with_extension("toml.tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, file).unwrap();
}

/// The sample with version `v` and potholes (`road.*`) sent to `department`, which is declared
/// when the sample does not have it (so a reload can add a department and its queue).
fn version(v: &str, department: &str) -> impl Fn(String) -> String {
    let v = v.to_owned();
    let department = department.to_owned();
    move |text: String| {
        let mut text = text
            .replace(
                "version = \"sample-2026-11\"",
                &format!("version = \"{v}\""),
            )
            .replace(
                "id = \"roads\"\ncategories = [\"road.*\"]\ndepartment = \"roads\"",
                &format!(
                    "id = \"roads\"\ncategories = [\"road.*\"]\ndepartment = \"{department}\""
                ),
            );
        if department == "pothole-squad" {
            text = text.replace(
                "[[department]]\nid = \"coordination-centre\"",
                "[[department]]\nid = \"pothole-squad\"\nname = \"坑洼突击队\"\n\n[[department]]\nid = \"coordination-centre\"",
            );
        }
        text
    }
}

async fn metrics(gw: &Gateway) -> String {
    gw.http_get("/metrics").await.unwrap_or_default()
}

#[tokio::test]
async fn co_handlers_json_departments_linkage_and_inferred_categories_end_to_end() {
    let vhost = TestVhost::new("routing-fanout");
    let dir = tempfile::tempdir().unwrap();
    let gw = Gateway::start(dir.path(), &Options::new(&vhost.url)).await;
    let mut client = gw.client().await;

    // WeChat gives no category: "烧烤摊油烟" infers env.fume; eco-env leads, urban-mgmt co-handles.
    let mut fumes = request(pb::Channel::Wechat, "fumes-1", "");
    fumes.description = "楼下烧烤摊油烟太大，窗户都不敢开".into();
    let a = submit(&mut client, fumes).await.unwrap();
    assert_eq!(a.department_id, "eco-env");
    // Gas smell: routed normally (no category rule: the coordination centre) AND linked to 119.
    let mut gas = request(pb::Channel::Hotline12345, "gas-1", "");
    gas.description = "三单元楼道里燃气味很重".into();
    let g = submit(&mut client, gas).await.unwrap();
    // Fallen trees go to a department that takes proto3 JSON.
    let w = submit(
        &mut client,
        request(pb::Channel::MayorMailbox, "tree-1", "tree.fallen"),
    )
    .await
    .unwrap();
    assert_eq!(w.department_id, "greening");
    gw.wait_outbox_empty(Duration::from_secs(10)).await;

    let lead = drain(&vhost.url, "minhu.dept.eco-env", 1, Duration::from_secs(10)).await;
    assert_eq!(lead.len(), 1, "log:\n{}", gw.log_text());
    let lead = pb::Dispatch::decode(lead[0].data.as_slice()).expect("protobuf Dispatch");
    let co = drain(
        &vhost.url,
        "minhu.dept.urban-mgmt",
        1,
        Duration::from_secs(10),
    )
    .await;
    assert_eq!(co.len(), 1, "the co-handler gets its own dispatch");
    let co = pb::Dispatch::decode(co[0].data.as_slice()).unwrap();
    assert_eq!(co.department_id, "urban-mgmt");
    assert_eq!(co.rule_id, "cooking-fumes-stalls");
    assert_eq!(
        co.case.as_ref().unwrap().case_id,
        a.case_id,
        "one case, two dispatches"
    );
    assert_ne!(co.dispatch_id, lead.dispatch_id);
    assert_eq!(
        co.lead_department_id, "eco-env",
        "the co-handler knows who leads"
    );
    assert_eq!(lead.lead_department_id, "");
    assert_eq!(lead.routing_reason, "rule cooking-fumes");
    // The inferred category is recorded with the ticket.
    let req = lead.tickets[0].request.as_ref().unwrap();
    assert_eq!(req.category, "env.fume");
    assert_eq!(
        req.extra.get("minhu.category_inferred").map(String::as_str),
        Some("true")
    );
    let t = client
        .get_ticket(pb::GetTicketRequest {
            ticket_id: a.ticket_id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(t.request.unwrap().category, "env.fume");

    let link = drain(
        &vhost.url,
        "minhu.emergency.linkage",
        1,
        Duration::from_secs(10),
    )
    .await;
    assert_eq!(
        link.len(),
        1,
        "one linkage message; log:\n{}",
        gw.log_text()
    );
    let p = &link[0].properties;
    assert_eq!(
        p.content_type().as_ref().map(|s| s.as_str()),
        Some("application/json")
    );
    assert_eq!(
        p.kind().as_ref().map(|s| s.as_str()),
        Some("minhu.EmergencyLinkage")
    );
    assert_eq!(p.priority(), &Some(9));
    let body: serde_json::Value = serde_json::from_slice(&link[0].data).unwrap();
    assert_eq!(body["line"], "119");
    assert_eq!(body["reason"], "燃气泄漏");
    assert_eq!(body["ticket_id"], g.ticket_id);
    assert_eq!(body["matched_rule"], "linkage-gas-leak");
    // ... and the gas report was still routed normally.
    let centre = drain(
        &vhost.url,
        "minhu.dept.coordination-centre",
        1,
        Duration::from_secs(10),
    )
    .await;
    assert_eq!(centre.len(), 1);
    let centre = pb::Dispatch::decode(centre[0].data.as_slice()).unwrap();
    assert_eq!(
        (centre.rule_id.as_str(), centre.routing_reason.as_str()),
        ("fallback", "no rule matched"),
        "the coordination centre sees why it got the case"
    );

    let json = drain(
        &vhost.url,
        "minhu.dept.greening",
        1,
        Duration::from_secs(10),
    )
    .await;
    assert_eq!(json.len(), 1);
    assert_eq!(
        json[0]
            .properties
            .content_type()
            .as_ref()
            .map(|s| s.as_str()),
        Some("application/json")
    );
    assert_eq!(header(&json[0], "x-minhu-level").as_deref(), Some("B"));
    let body: serde_json::Value = serde_json::from_slice(&json[0].data).expect("proto3 JSON");
    assert_eq!(body["departmentId"], "greening");
    assert_eq!(body["kind"], "DISPATCH_KIND_NEW_CASE");
    assert_eq!(body["ruleId"], "fallen-trees");

    let m = metrics(&gw).await;
    assert!(m.contains("minhu_categories_inferred_total 1"), "{m}");
    assert!(m.contains("minhu_emergency_linkage_total 1"), "{m}");
}

#[tokio::test]
async fn reload_under_load_loses_nothing_and_misroutes_nothing() {
    const WORKERS: usize = 16;
    const AFTER: usize = 50;
    let vhost = TestVhost::new("routing-reload");
    let dir = tempfile::tempdir().unwrap();
    let file = routing_copy(dir.path(), version("v1", "roads"));
    let mut opts = Options::new(&vhost.url);
    opts.routing = Some(file.clone());
    let gw = Gateway::start(dir.path(), &opts).await;
    let m = metrics(&gw).await;
    assert!(m.contains("minhu_config_version{version=\"v1\"} 1"), "{m}");
    assert!(m.contains("minhu_config_last_reload_successful 1"), "{m}");

    let expected: HashMap<&str, &str> = [
        ("v1", "roads"),
        ("v2", "urban-mgmt"),
        ("v3", "pothole-squad"),
    ]
    .into();
    // Submits run without pause from before the first reload until after the last one.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut workers = Vec::new();
    for w in 0..WORKERS {
        let mut client = gw.client().await;
        let stop = stop.clone();
        workers.push(tokio::spawn(async move {
            let mut out = Vec::new();
            let mut n = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let id = format!("load-{w}-{n}");
                let r = submit(
                    &mut client,
                    request(pb::Channel::Hotline12345, &id, "road.pothole"),
                )
                .await
                .expect("every Submit is accepted during reloads");
                out.push(r);
                n += 1;
            }
            out
        }));
    }

    // Meanwhile: v2 by file change, a bad file (rejected, v2 keeps serving), v3 by SIGHUP.
    tokio::time::sleep(Duration::from_millis(300)).await;
    write_atomically(
        &file,
        &version("v2", "urban-mgmt")(common::routing::sample_text()),
    );
    wait_for(&gw, "minhu_config_version{version=\"v2\"} 2").await;
    let bad = version("v-bad", "no-such-department")(common::routing::sample_text());
    write_atomically(&file, &bad);
    wait_for(&gw, "minhu_config_last_reload_successful 0").await;
    let m = metrics(&gw).await;
    assert!(
        m.contains("minhu_config_version{version=\"v2\"} 2"),
        "the old config keeps serving: {m}"
    );
    assert!(
        gw.log_text().contains("routing config reload rejected"),
        "logged"
    );
    assert!(
        gw.log_text()
            .contains("unknown department \\\"no-such-department\\\"")
            || gw.log_text().contains("no-such-department")
    );
    // v3 adds a department (its queue must exist before the first dispatch to it). Written
    // and signalled with SIGHUP too: either path may reload it first.
    write_atomically(
        &file,
        &version("v3", "pothole-squad")(common::routing::sample_text()),
    );
    let pid = gw.pid().expect("running").to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-HUP", &pid])
            .status()
            .unwrap()
            .success()
    );
    wait_for(&gw, "minhu_config_version{version=\"v3\"}").await;
    wait_for(&gw, "minhu_config_last_reload_successful 1").await;

    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut answers = Vec::new();
    for w in workers {
        answers.extend(w.await.unwrap());
    }
    // A few more, one at a time, after the load: v3 certainly routes some.
    let mut client = gw.client().await;
    for i in 0..AFTER {
        let id = format!("after-{i}");
        let r = submit(
            &mut client,
            request(pb::Channel::Hotline12345, &id, "road.pothole"),
        );
        answers.push(r.await.unwrap());
    }
    let total_tickets = answers.len();
    assert!(total_tickets > AFTER, "the load ran");
    gw.wait_outbox_empty(Duration::from_secs(30)).await;
    assert_eq!(gw.count("tickets"), (total_tickets) as i64, "nothing lost");

    // Every case's department is the one its recorded version routes potholes to.
    let conn = rusqlite::Connection::open(dir.path().join("minhu.db")).unwrap();
    let mut stmt = conn
        .prepare("SELECT case_id, department_id, routing_version FROM cases")
        .unwrap();
    let rows: Vec<(String, String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(rows.len(), total_tickets);
    let mut by_version: HashMap<String, usize> = HashMap::new();
    for (case, dept, v) in &rows {
        if expected.get(v.as_str()).copied() != Some(dept.as_str()) {
            let rule: String = conn
                .query_row(
                    "SELECT rule_id FROM cases WHERE case_id = ?1",
                    [case],
                    |r| r.get(0),
                )
                .unwrap();
            panic!(
                "case {case} routed to {dept} by {v} (rule {rule}); routing file now:\n{}\nlog:\n{}",
                std::fs::read_to_string(&file).unwrap(),
                gw.log_text()
            );
        }
        *by_version.entry(v.clone()).or_default() += 1;
    }
    assert!(
        by_version.len() >= 2,
        "reloads happened during the load: {by_version:?}"
    );
    eprintln!("tickets by routing version: {by_version:?}");
    assert!(!by_version.contains_key("v-bad"));
    assert!(
        by_version.contains_key("v1") && by_version.contains_key("v3"),
        "{by_version:?}"
    );
    // The answers agree with the store.
    let dept_of: HashMap<&str, &str> = rows
        .iter()
        .map(|(c, d, _)| (c.as_str(), d.as_str()))
        .collect();
    for a in &answers {
        assert_eq!(
            dept_of.get(a.case_id.as_str()).copied(),
            Some(a.department_id.as_str())
        );
    }

    // On the broker: every dispatch is in its department's queue, with the version that routed it.
    let mut total = 0;
    for (v, dept) in &expected {
        let want = by_version.get(*v).copied().unwrap_or(0);
        let got = drain(
            &vhost.url,
            &format!("minhu.dept.{dept}"),
            want,
            Duration::from_secs(20),
        )
        .await;
        assert_eq!(got.len(), want, "{dept}");
        for d in &got {
            let d = pb::Dispatch::decode(d.data.as_slice()).unwrap();
            assert_eq!(
                (d.department_id.as_str(), d.routing_version.as_str()),
                (*dept, *v)
            );
        }
        total += got.len();
    }
    assert_eq!(
        total, total_tickets,
        "every ticket's dispatch was published exactly where it belongs"
    );
}

/// A department added by a reload keeps its queue across a broker reset: the relay declares
/// every queue known so far whenever it reconnects, not only the start-up router's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_department_added_by_reload_gets_its_queue_back_after_a_broker_reset() {
    let vhost = TestVhost::new("routing-reload-reset");
    let dir = tempfile::tempdir().unwrap();
    let file = routing_copy(dir.path(), version("v1", "roads"));
    let mut opts = Options::new(&vhost.url);
    opts.routing = Some(file.clone());
    let gw = Gateway::start(dir.path(), &opts).await;
    write_atomically(
        &file,
        &version("v3", "pothole-squad")(common::routing::sample_text()),
    );
    wait_for(&gw, "minhu_config_version{version=\"v3\"} 2").await;
    let queue = "minhu.dept.pothole-squad";
    assert_eq!(vhost.queue_depth(queue), Some(0), "declared by the reload");

    // The broker loses the queue and drops the connection (as after a reset of its data).
    common::broker::rabbitmqctl(&["delete_queue", "-p", &vhost.name, queue]);
    assert_eq!(vhost.queue_depth(queue), None);
    vhost.close_connections();
    wait_for(&gw, "minhu_broker_connects_total 2").await;

    let mut client = gw.client().await;
    let r = submit(
        &mut client,
        request(pb::Channel::Hotline12345, "after-reset", "road.pothole"),
    )
    .await
    .unwrap();
    assert_eq!(r.department_id, "pothole-squad");
    let got = drain(&vhost.url, queue, 1, Duration::from_secs(20)).await;
    assert_eq!(
        got.len(),
        1,
        "the dispatch reached the re-declared queue; log:\n{}",
        gw.log_text()
    );
}

/// Waits until `/metrics` contains `needle`.
async fn wait_for(gw: &Gateway, needle: &str) {
    gw.wait_for_metrics(needle, Duration::from_secs(15)).await;
}
