//! Deadlines counted into a year that has no official working-day calendar yet (issue 12), end
//! to end: the real `minhu` binary on a moved wall clock (libfaketime, so no test depends on
//! today's date), a real RabbitMQ vhost, real gRPC. Covers `check-config` in December, the sample
//! traffic of every channel with provisional deadlines, and an official calendar file dropped
//! into the watched folder of a running gateway, which recounts the open cases' deadlines.
mod common;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::broker::{TestVhost, dispatch_of, drain, message_count};
use common::faketime::FakeClock;
use common::gateway::{Gateway, Options, minhu_command, request, submit};
use minhu::pb;
use minhu::router::cases::shanghai;
use minhu::time::timestamp_to_ms;

const DAY_MS: i64 = 86_400_000;

fn repo(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
}

fn ms(ts: Option<&prost_types::Timestamp>) -> i64 {
    timestamp_to_ms(ts.expect("a timestamp"))
}

/// The sample routing's department ids, and which rules (by id) set deadlines in working days
/// rather than hours, read from the file itself so the test follows edits to the sample.
fn sample_routing() -> (Vec<String>, HashSet<String>) {
    fn walk(rules: &[toml::Value], working: &mut HashSet<String>) {
        for r in rules {
            if r.get("deadline_working_days").is_some() {
                working.insert(r["id"].as_str().expect("rule id").to_owned());
            }
            if let Some(children) = r.get("rule").and_then(toml::Value::as_array) {
                walk(children, working);
            }
        }
    }
    let text = std::fs::read_to_string(repo("config/routing.toml")).unwrap();
    let doc: toml::Value = toml::from_str(&text).expect("the sample routing is TOML");
    let departments = doc["department"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap().to_owned())
        .collect();
    let mut working = HashSet::new();
    walk(doc["rule"].as_array().unwrap(), &mut working);
    if doc["fallback"].get("deadline_working_days").is_some() {
        working.insert("fallback".to_owned());
    }
    (departments, working)
}

/// Every line of `check-config` on the sample config under `clock`: (exit success, output).
fn check_config(clock: &FakeClock) -> (bool, String) {
    let mut cmd = minhu_command();
    clock.apply(&mut cmd);
    let out = cmd
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["--config", "config/minhu.toml", "check-config"])
        .output()
        .expect("run minhu check-config");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// The `warning:` lines of `text` that name `year`.
fn warnings_naming(text: &str, year: &str) -> Vec<String> {
    text.lines()
        .filter(|l| l.starts_with("warning:") && l.contains(year))
        .map(str::to_owned)
        .collect()
}

#[test]
fn check_config_in_december_warns_of_the_provisional_year_instead_of_refusing() {
    // Late 2027 with neither a 2027 nor a 2028 file: the 13-working-day rule reaches 2028.
    let (ok, text) = check_config(&FakeClock::starting_at("2027-12-20 10:00 +08:00"));
    assert!(
        ok,
        "check-config refused a year without a calendar file:\n{text}"
    );
    assert!(text.contains("ok: "), "{text}");
    // December 2027 is counted provisionally as much as January 2028 is.
    for year in ["2027", "2028"] {
        assert!(
            !warnings_naming(&text, year).is_empty(),
            "no `warning:` line naming {year} as provisional:\n{text}"
        );
    }

    // Mid-December 2026: the 2026 file is there, deadlines reach into 2027, which has none.
    let (ok, text) = check_config(&FakeClock::starting_at("2026-12-15 10:00 +08:00"));
    assert!(ok, "check-config refused:\n{text}");
    assert!(
        !warnings_naming(&text, "2027").is_empty(),
        "no `warning:` line naming 2027 as provisional:\n{text}"
    );
}

#[tokio::test]
async fn december_2027_without_calendar_files_dispatches_every_sample_report_provisionally() {
    let vhost = TestVhost::new("provisional-demo");
    let dir = tempfile::tempdir().unwrap();
    let mut opts = Options::new(&vhost.url);
    opts.faketime = Some("2027-12-20 10:00 +08:00".into());
    let gw = Gateway::start(dir.path(), &opts).await;

    let ready: serde_json::Value =
        serde_json::from_str(&gw.http_get("/readyz").await.expect("/readyz answers")).unwrap();
    assert_eq!(
        ready["calendar"]["provisional_years"],
        serde_json::json!([2027, 2028]),
        "{ready}"
    );
    assert_eq!(
        gw.metric("minhu_calendar_provisional{year=\"2027\"}").await,
        1
    );
    assert_eq!(
        gw.metric("minhu_calendar_provisional{year=\"2028\"}").await,
        1
    );

    // The sample traffic through every channel, as `scripts/demo.sh` sends it; the load
    // generator reads the same clock, so its reports are minutes old, not a year.
    let run_id = "faketime";
    let mut loadgen = std::process::Command::new(env!("CARGO_BIN_EXE_minhu-loadgen"));
    gw.clock.as_ref().unwrap().apply(&mut loadgen);
    let out = loadgen
        .args(["demo", "--grpc", &format!("http://{}", gw.grpc)])
        .args(["--run-id", run_id])
        .output()
        .expect("run minhu-loadgen demo");
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "minhu-loadgen demo failed:\n{printed}\n{}\ngateway log:\n{}",
        String::from_utf8_lossy(&out.stderr),
        gw.log_text()
    );
    gw.wait_outbox_empty(Duration::from_secs(20)).await;

    // Everything published is confirmed, so each department queue holds its share now.
    let (departments, working_day_rules) = sample_routing();
    let mut dispatches = Vec::new();
    for dept in &departments {
        let queue = format!("minhu.dept.{dept}");
        let n = message_count(&vhost.url, &queue).await as usize;
        let got = drain(&vhost.url, &queue, n, Duration::from_secs(10)).await;
        assert_eq!(got.len(), n, "{queue}: {n} messages announced");
        dispatches.extend(got.iter().map(dispatch_of));
    }

    let sample = std::fs::read_to_string(repo("config/sample-traffic.jsonl")).unwrap();
    let sources: HashSet<String> = dispatches
        .iter()
        .flat_map(|d| &d.tickets)
        .filter_map(|t| t.request.as_ref())
        .map(|r| r.source_id.clone())
        .collect();
    let mut reports = 0;
    for line in sample.lines().filter(|l| l.trim_start().starts_with('{')) {
        let report: serde_json::Value = serde_json::from_str(line).unwrap();
        let id = report["id"].as_str().unwrap();
        reports += 1;
        assert!(
            sources.contains(&format!("demo-{id}-{run_id}")),
            "sample report {id} was not dispatched; dispatched: {sources:?}\nloadgen:\n{printed}"
        );
    }
    assert!(reports >= 10, "the sample traffic has {reports} reports");

    // All of December 2027 and January 2028 is provisional: every working-day deadline is.
    for d in &dispatches {
        let due = shanghai(ms(d.due_at.as_ref()));
        let working_days = working_day_rules.contains(&d.rule_id);
        assert_eq!(
            d.due_at_provisional, working_days,
            "{} dispatch by rule {} (due {due}): due_at_provisional",
            d.department_id, d.rule_id
        );
        if working_days {
            assert!(
                due.starts_with("2027-") || due.starts_with("2028-"),
                "{} by rule {}: due {due}",
                d.department_id,
                d.rule_id
            );
        }
    }
    // The longest deadline, 13 working days from Monday 20 December 2027: 21-24 and 27-31
    // December, then 3-6 January 2028 (New Year's Day is a Saturday).
    let fumes = dispatches
        .iter()
        .find(|d| d.rule_id == "cooking-fumes")
        .expect("a cooking-fumes dispatch");
    assert!(
        shanghai(ms(fumes.due_at.as_ref())).starts_with("2028-01-06T10:0"),
        "13 working days from 2027-12-20 10:00: {}",
        shanghai(ms(fumes.due_at.as_ref()))
    );
    assert!(
        dispatches
            .iter()
            .any(|d| !working_day_rules.contains(&d.rule_id)),
        "no sample report has a deadline in hours, to check those are not provisional"
    );
}
/// An official 2027 calendar, in the format of `config/calendar/2026.toml`. Invented for the
/// test (the real notice is not out): 元旦 1-3 January and a make-up working Saturday on 9
/// January fall in the window the tests count; the rest lies outside it.
const OFFICIAL_2027: &str = r#"# Working-day calendar for 2027 (test data, not the State Council's notice).
year = 2027

holidays = [
  { name = "元旦", from = 2027-01-01, to = 2027-01-03 },
  { name = "春节", from = 2027-02-05, to = 2027-02-13 },
  { name = "国庆节", from = 2027-10-01, to = 2027-10-07 },
]

make_up_workdays = [
  { name = "元旦调休", date = 2027-01-09 },
  { name = "春节调休", date = 2027-02-20 },
  { name = "国庆节调休", date = 2027-09-26 },
  { name = "国庆节调休", date = 2027-10-09 },
]
"#;

/// A gateway on Monday 28 December 2026, 10:00 in Xi'an, whose routing folder is a copy of
/// `config/` without a 2027 calendar; returns it and that folder. The folder is watched
/// (recursively), so it lies apart from the store, whose writes must not look like config
/// changes.
async fn before_new_year(dir: &Path, mut opts: Options) -> (Gateway, PathBuf) {
    let routing_dir = dir.join("routing");
    common::routing::copy_companions(&routing_dir);
    std::fs::write(
        routing_dir.join("routing.toml"),
        common::routing::sample_text(),
    )
    .unwrap();
    assert!(!routing_dir.join("calendar/2027.toml").exists());
    opts.routing = Some(routing_dir.join("routing.toml"));
    opts.faketime = Some("2026-12-28 10:00 +08:00".into());
    (Gateway::start(dir, &opts).await, routing_dir)
}

/// The State Council's notice arrives while the gateway runs: the file is put in place whole
/// (renamed from beside the folder), as an operator's copy would land.
fn add_official_2027(dir: &Path, routing_dir: &Path) {
    let staged = dir.join("2027.toml");
    std::fs::write(&staged, OFFICIAL_2027).unwrap();
    std::fs::rename(&staged, routing_dir.join("calendar/2027.toml")).unwrap();
}

/// `got` is `want` give or take the moment between routing and storing a report (a deadline
/// counts from acceptance; the ticket's `accepted_at` is read a little later).
fn assert_near(got: i64, want: i64, what: &str) {
    assert!(
        (got - want).abs() < 1000,
        "{what}: {} (wanted {})",
        shanghai(got),
        shanghai(want)
    );
}

/// Consumes the one dispatch expected on `dept`'s queue.
async fn one_dispatch(gw: &Gateway, url: &str, dept: &str, timeout: Duration) -> pb::Dispatch {
    let queue = format!("minhu.dept.{dept}");
    let got = drain(url, &queue, 1, timeout).await;
    assert_eq!(
        got.len(),
        1,
        "one dispatch on {queue} within {timeout:?}; log:\n{}",
        gw.log_text()
    );
    dispatch_of(&got[0])
}

#[tokio::test]
async fn an_official_calendar_dropped_in_recounts_open_deadlines_without_a_restart() {
    let vhost = TestVhost::new("provisional-recount");
    let dir = tempfile::tempdir().unwrap();
    let (mut gw, routing_dir) = before_new_year(dir.path(), Options::new(&vhost.url)).await;
    let mut client = gw.client().await;

    // Cooking fumes from a barbecue stall: the 13-working-day rule (eco-env leads), and the
    // stall rule adds city management as co-handler with the same deadline.
    let mut fumes = request(pb::Channel::Hotline12345, "FT-FUME-1", "env.fume");
    fumes.description = "莲湖区土门街道惠民北坊社区楼下烧烤摊油烟直接往楼上排".into();
    let fume = submit(&mut client, fumes).await.unwrap();
    assert_eq!(fume.department_id, "eco-env");
    assert!(fume.due_at_provisional, "{fume:?}");

    let wait = Duration::from_secs(20);
    let lead = one_dispatch(&gw, &vhost.url, "eco-env", wait).await;
    let co = one_dispatch(&gw, &vhost.url, "urban-mgmt", wait).await;
    for d in [&lead, &co] {
        assert_eq!(d.kind, pb::DispatchKind::NewCase as i32, "{d:?}");
        assert!(d.due_at_provisional, "{} NEW_CASE: {d:?}", d.department_id);
    }
    assert_eq!(co.lead_department_id, "eco-env");
    // 13 working days: 29, 30, 31 December; 1 January is a statutory holiday; 4-8 and 11-15.
    let accepted = ms(lead.tickets[0].accepted_at.as_ref());
    assert!(
        shanghai(accepted).starts_with("2026-12-28T10:0"),
        "the gateway's clock: accepted {}",
        shanghai(accepted)
    );
    let provisional_due = ms(fume.due_at.as_ref());
    assert_near(
        provisional_due,
        accepted + 18 * DAY_MS,
        "provisional due_at",
    );
    assert!(shanghai(provisional_due).starts_with("2027-01-15T10:0"));
    assert_eq!(ms(lead.due_at.as_ref()), provisional_due);
    assert_eq!(ms(co.due_at.as_ref()), provisional_due);
    let t = gw.ticket(&fume.ticket_id).await;
    assert!(t.due_at_provisional, "{t:?}");

    add_official_2027(dir.path(), &routing_dir);

    // 元旦 takes 1-3 January, and Saturday 9 January is worked: due a day earlier.
    let wait = Duration::from_secs(30);
    let lead_update = one_dispatch(&gw, &vhost.url, "eco-env", wait).await;
    let co_update = one_dispatch(&gw, &vhost.url, "urban-mgmt", wait).await;
    for (d, new_case) in [(&lead_update, &lead), (&co_update, &co)] {
        assert_eq!(
            d.kind,
            pb::DispatchKind::CaseUpdated as i32,
            "{}: {d:?}",
            d.department_id
        );
        assert_eq!(d.case.as_ref().unwrap().case_id, fume.case_id);
        assert_near(
            ms(d.due_at.as_ref()),
            accepted + 17 * DAY_MS,
            "recounted due_at",
        );
        assert!(!d.due_at_provisional, "{d:?}");
        assert!(
            d.update_reason.contains("2027"),
            "update_reason: {:?}",
            d.update_reason
        );
        assert_eq!(d.lead_department_id, new_case.lead_department_id);
        assert_ne!(d.dispatch_id, new_case.dispatch_id);
    }
    let official_due = ms(lead_update.due_at.as_ref());
    assert!(shanghai(official_due).starts_with("2027-01-14T10:0"));
    assert_eq!(ms(co_update.due_at.as_ref()), official_due);

    let t = gw.ticket(&fume.ticket_id).await;
    assert_eq!(ms(t.due_at.as_ref()), official_due);
    assert!(!t.due_at_provisional, "{t:?}");
    // The lead's deadline and the co-handler's, each counted once; nothing provisional left.
    assert_eq!(gw.metric("minhu_deadlines_recounted_total").await, 2);
    assert_eq!(gw.count("provisional_deadlines"), 0);
    let metrics = gw.http_get("/metrics").await.unwrap_or_default();
    assert!(
        !metrics.contains("minhu_calendar_provisional{"),
        "a year is still provisional:\n{metrics}"
    );
    let ready: serde_json::Value =
        serde_json::from_str(&gw.http_get("/readyz").await.expect("/readyz answers")).unwrap();
    assert_eq!(
        ready["calendar"]["provisional_years"],
        serde_json::json!([]),
        "{ready}"
    );

    // A restart on the same store counts nothing again (start-up recounts before it serves,
    // so anything it sent would be in the outbox by now), and sends nothing.
    gw.restart().await;
    gw.wait_outbox_empty(Duration::from_secs(10)).await;
    assert_eq!(gw.metric("minhu_deadlines_recounted_total").await, 0);
    for dept in ["eco-env", "urban-mgmt"] {
        assert_eq!(
            message_count(&vhost.url, &format!("minhu.dept.{dept}")).await,
            0,
            "{dept} got a dispatch after the restart; log:\n{}",
            gw.log_text()
        );
    }
    let t = gw.ticket(&fume.ticket_id).await;
    assert_eq!(ms(t.due_at.as_ref()), official_due);
    assert!(!t.due_at_provisional, "{t:?}");
}

#[tokio::test]
async fn a_deadline_the_official_calendar_does_not_move_is_not_dispatched_again() {
    let vhost = TestVhost::new("provisional-unmoved");
    let dir = tempfile::tempdir().unwrap();
    let mut opts = Options::new(&vhost.url);
    // Separate cases however alike the reports are.
    opts.extra = "[merge]\nenabled = false\n".into();
    let (gw, routing_dir) = before_new_year(dir.path(), opts).await;
    let mut client = gw.client().await;

    // Potholes: 5 working days, into 2027, but not far enough for the official file to move
    // them (29-31 December, then 4-5 January either way). Several: a recount that starts from
    // another clock reading than routing did (the store's, a millisecond or two later, as it
    // once was) "moves" a deadline only when the two readings fall in different milliseconds.
    const CASES: usize = 6;
    let mut accepted = Vec::new();
    for n in 0..CASES {
        let road = submit(
            &mut client,
            request(
                pb::Channel::CityManagement,
                &format!("FT-ROAD-{n}"),
                "road.pothole",
            ),
        )
        .await
        .unwrap();
        assert_eq!(road.department_id, "roads");
        assert!(road.due_at_provisional, "{road:?}");
        assert!(shanghai(ms(road.due_at.as_ref())).starts_with("2027-01-05T10:0"));
        accepted.push(road);
    }
    let got = drain(
        &vhost.url,
        "minhu.dept.roads",
        CASES,
        Duration::from_secs(20),
    )
    .await;
    assert_eq!(
        got.len(),
        CASES,
        "NEW_CASE dispatches; log:\n{}",
        gw.log_text()
    );

    add_official_2027(dir.path(), &routing_dir);
    gw.wait_for_metrics(
        &format!("minhu_deadlines_recounted_total {CASES}\n"),
        Duration::from_secs(30),
    )
    .await;
    // A recount is one transaction: once the outbox is empty, whatever it sent is queued.
    gw.wait_outbox_empty(Duration::from_secs(10)).await;
    let queued = message_count(&vhost.url, "minhu.dept.roads").await as usize;
    if queued > 0 {
        let again = drain(
            &vhost.url,
            "minhu.dept.roads",
            queued,
            Duration::from_secs(10),
        )
        .await;
        let reasons: Vec<String> = again.iter().map(|d| dispatch_of(d).update_reason).collect();
        panic!("{queued} deadlines that did not move were dispatched again: {reasons:#?}");
    }
    for road in &accepted {
        let t = gw.ticket(&road.ticket_id).await;
        assert_eq!(t.due_at, road.due_at, "{}", road.ticket_id);
        assert!(!t.due_at_provisional, "{t:?}");
    }
    assert_eq!(gw.count("provisional_deadlines"), 0);
}
