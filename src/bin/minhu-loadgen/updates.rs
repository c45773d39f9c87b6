//! `minhu-loadgen updates`: department updates applied per second over gRPC
//! (`minhu.v1.Handling`) and over AMQP (`minhu.updates`), against Submit's own rate in the same
//! run (issue 14).
//!
//! Each round submits `2 × --cases` bench reports (the Submit baseline), reads the version of
//! every new case with `ListCases`, then takes half of the cases through 签收 → 进展 → 办结
//! (SignFor, ReportProgress, Complete: three updates per case) over gRPC and the other half
//! over AMQP (see [`crate::updates_amqp`]). Each update names the version the previous outcome
//! reported. `--in-flight` cases are worked on at once in every phase, as `--in-flight`
//! Submits are in flight in the baseline.
//!
//! Every phase's CPU (`--cpu-of`, from `/proc`) and store commits (`minhu_store_commits_total`)
//! are counted from its first call until the outbox is empty again; its rate from its first
//! call until its last answer (for AMQP: the last outcome consumed). The summary gives the
//! median of each figure over the rounds.
use std::{
    collections::{BTreeMap, HashMap},
    sync::Arc,
    time::{Instant, SystemTime, UNIX_EPOCH},
};

use anyhow::{Result, bail};
use minhu::pb::{self, handling_client::HandlingClient};
use tonic::transport::Channel;

use crate::{
    UpdatesArgs, bench, demo, metrics, updates_amqp,
    updates_report::{self, Outcome, Phase},
};

/// A case the bench works on: from a Submit answer, its version from ListCases.
#[derive(Debug, Clone)]
pub struct Case {
    pub case_id: String,
    pub department_id: String,
    pub version: u64,
}

/// The three updates each case goes through, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    SignFor,
    Progress,
    Complete,
}

impl Step {
    pub const ALL: [Step; 3] = [Step::SignFor, Step::Progress, Step::Complete];

    fn name(self) -> &'static str {
        match self {
            Step::SignFor => "sign",
            Step::Progress => "progress",
            Step::Complete => "complete",
        }
    }
}

/// The update `step` of `case`, based on `version`; its update_id is unique per run.
pub fn case_update(step: Step, run_id: &str, case: &Case, version: u64) -> pb::CaseUpdate {
    use pb::case_update::Update;
    let header = Some(pb::UpdateHeader {
        update_id: format!("bench-{run_id}-{}-{}", case.case_id, step.name()),
        case_id: case.case_id.clone(),
        department_id: case.department_id.clone(),
        case_version: version,
        operator_id: "bench-0042".into(),
    });
    let update = match step {
        Step::SignFor => Update::SignFor(pb::SignForRequest {
            header,
            note: "已签收".into(),
        }),
        Step::Progress => Update::ReportProgress(pb::ReportProgressRequest {
            header,
            note: "已派人到现场核实，正在协调处理".into(),
            ..Default::default()
        }),
        Step::Complete => Update::Complete(pb::CompleteRequest {
            header,
            result: "经现场处理，问题已解决，已电话回复市民".into(),
            attachments: Vec::new(),
            handling_type: pb::HandlingType::Promised as i32,
            answered_ticket_ids: Vec::new(),
        }),
    };
    pb::CaseUpdate {
        update: Some(update),
    }
}

/// The header of an update the bench made.
pub fn header(u: &pb::CaseUpdate) -> &pb::UpdateHeader {
    use pb::case_update::Update;
    let header = match &u.update {
        Some(Update::SignFor(r)) => r.header.as_ref(),
        Some(Update::ReportProgress(r)) => r.header.as_ref(),
        Some(Update::Complete(r)) => r.header.as_ref(),
        _ => None,
    };
    header.expect("the bench's updates all have a header")
}

pub async fn run(args: UpdatesArgs) -> Result<()> {
    if args.connections == 0 || args.in_flight == 0 || args.cases == 0 || args.rounds == 0 {
        bail!("--connections, --in-flight, --cases and --rounds must be at least 1");
    }
    let run_id = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis())
        .to_string();
    let mut channels = Vec::with_capacity(args.connections);
    for _ in 0..args.connections {
        channels.push(demo::channel(&args.gateway.grpc).await?);
    }
    let mut rounds = Vec::with_capacity(args.rounds);
    for round in 1..=args.rounds {
        let round_id = format!("{run_id}r{round}");
        eprintln!(
            "round {round}/{}: Submit {} reports, {} in flight",
            args.rounds,
            2 * args.cases,
            args.in_flight
        );
        let (submit, mut cases) = submit_phase(&args, &channels, &round_id).await?;
        eprintln!(
            "round {round}: {} new cases in {:.1} s",
            cases.len(),
            submit.elapsed.as_secs_f64()
        );
        let amqp_cases = cases.split_off(cases.len() / 2);
        eprintln!("round {round}: gRPC updates, {} cases", cases.len());
        let grpc = grpc_phase(&args, &channels, &round_id, cases).await?;
        eprintln!("round {round}: AMQP updates, {} cases", amqp_cases.len());
        let amqp = measured(
            &args,
            updates_amqp::run(&args.amqp_url, &round_id, amqp_cases, args.in_flight),
        )
        .await?;
        eprintln!("round {round}: done");
        rounds.push([submit, grpc, amqp]);
    }
    updates_report::print(&args, &rounds);
    Ok(())
}

/// Runs `work` (not started before this is called) and measures CPU and commits from its
/// start until the outbox is empty again.
async fn measured(
    args: &UpdatesArgs,
    work: impl Future<Output = Result<Outcome>>,
) -> Result<Phase> {
    let commits_before = metrics::read(&args.metrics_url, metrics::COMMITS).await;
    let meter = bench::CpuMeter::start(&args.cpu_of);
    let outcome = work.await?;
    let drained = metrics::wait_until_drained(&args.metrics_url, args.drain_timeout).await?;
    if !drained {
        eprintln!("warning: the outbox did not drain; CPU figures include a backlog");
    }
    let commits = metrics::read(&args.metrics_url, metrics::COMMITS)
        .await
        .zip(commits_before)
        .map(|(a, b)| a - b);
    Ok(Phase {
        ok: outcome.ok,
        failed: outcome.failed,
        elapsed: outcome.elapsed,
        watched: meter.others(),
        own: meter.own(),
        commits,
    })
}

/// The Submit baseline: `2 × cases` bench reports; answers the phase and the new cases (merged
/// reports are left out), with their versions.
async fn submit_phase(
    args: &UpdatesArgs,
    channels: &[Channel],
    round_id: &str,
) -> Result<(Phase, Vec<Case>)> {
    let n = 2 * args.cases;
    let chars = args.description_chars;
    let round = Arc::new(round_id.to_owned());
    let mut answers = Vec::new();
    let phase = measured(args, async {
        let start = Instant::now();
        let results = drive(channels, args.in_flight, n, move |channel, seq| {
            let round = Arc::clone(&round);
            async move {
                let mut client = pb::gateway_client::GatewayClient::new(channel);
                let req = pb::SubmitRequest {
                    request: Some(bench::request(&round, seq as u64, chars)),
                };
                client.submit(req).await.map(tonic::Response::into_inner)
            }
        })
        .await?;
        let elapsed = start.elapsed();
        let mut outcome = Outcome::default();
        for r in results {
            match r {
                Ok(a) => {
                    outcome.ok += 1;
                    answers.push(a);
                }
                Err(s) => outcome.fail(format!("{:?}", s.code())),
            }
        }
        outcome.elapsed = elapsed;
        Ok(outcome)
    })
    .await?;
    let cases = versions(channels, answers).await?;
    Ok((phase, cases))
}

/// The new cases among `answers`, each with its version as `ListCases` reports it.
pub async fn versions(channels: &[Channel], answers: Vec<pb::SubmitResponse>) -> Result<Vec<Case>> {
    let mut wanted: BTreeMap<String, HashMap<String, Option<u64>>> = BTreeMap::new();
    let mut order = Vec::new();
    for a in answers {
        if a.disposition == pb::Disposition::NewCase as i32 {
            wanted
                .entry(a.department_id.clone())
                .or_default()
                .insert(a.case_id.clone(), None);
            order.push((a.case_id, a.department_id));
        }
    }
    let mut client = HandlingClient::new(channels[0].clone());
    for (department_id, cases) in &mut wanted {
        let mut page_token = String::new();
        loop {
            let page = client
                .list_cases(pb::ListCasesRequest {
                    department_id: department_id.clone(),
                    page_size: 1000,
                    page_token,
                    ..Default::default()
                })
                .await?
                .into_inner();
            for c in page.cases {
                if let Some(v) = cases.get_mut(&c.case_id) {
                    *v = Some(c.version);
                }
            }
            if page.next_page_token.is_empty() {
                break;
            }
            page_token = page.next_page_token;
        }
    }
    let mut unlisted = 0;
    let cases: Vec<Case> = order
        .into_iter()
        .filter_map(|(case_id, department_id)| {
            let version = wanted.get(&department_id)?.get(&case_id).copied().flatten();
            if version.is_none() {
                unlisted += 1;
            }
            Some(Case {
                version: version?,
                case_id,
                department_id,
            })
        })
        .collect();
    if unlisted > 0 {
        eprintln!("warning: {unlisted} new cases were not listed by their department; left out");
    }
    if cases.iter().any(|c| c.version != 0) {
        eprintln!("note: some new cases are past version 0 before their first update");
    }
    Ok(cases)
}

/// The gRPC phase: every case through its three updates, `--in-flight` cases at once.
async fn grpc_phase(
    args: &UpdatesArgs,
    channels: &[Channel],
    round_id: &str,
    cases: Vec<Case>,
) -> Result<Phase> {
    let cases = Arc::new(cases);
    let round = Arc::new(round_id.to_owned());
    measured(args, async {
        let start = Instant::now();
        let n = cases.len();
        let results = drive(channels, args.in_flight, n, move |channel, i| {
            let (cases, round) = (Arc::clone(&cases), Arc::clone(&round));
            async move {
                let mut client = HandlingClient::new(channel);
                let case = &cases[i];
                let mut version = case.version;
                let mut applied = 0u64;
                for step in Step::ALL {
                    match send(&mut client, case_update(step, &round, case, version)).await {
                        Ok(o) => {
                            version = o.case_version;
                            applied += 1;
                        }
                        Err(s) => return (applied, Some(format!("{:?}", s.code()))),
                    }
                }
                (applied, None)
            }
        })
        .await?;
        let mut outcome = Outcome {
            elapsed: start.elapsed(),
            ..Outcome::default()
        };
        for (applied, refused) in results {
            outcome.ok += applied;
            if let Some(code) = refused {
                outcome.fail(code);
            }
        }
        Ok(outcome)
    })
    .await
}

/// Calls the `Handling` method that takes `u`.
pub async fn send(
    client: &mut HandlingClient<Channel>,
    u: pb::CaseUpdate,
) -> Result<pb::UpdateOutcome, tonic::Status> {
    use pb::case_update::Update;
    let answer = match u.update {
        Some(Update::SignFor(r)) => client.sign_for(r).await,
        Some(Update::ReportProgress(r)) => client.report_progress(r).await,
        Some(Update::Complete(r)) => client.complete(r).await,
        _ => return Err(tonic::Status::unimplemented("not used by the bench")),
    };
    answer.map(tonic::Response::into_inner)
}

/// Calls `f(channel, i)` for every `i` in `0..n`, `in_flight` at once, spread over
/// `channels`; the answers in no particular order.
pub async fn drive<F, Fut, T>(
    channels: &[Channel],
    in_flight: usize,
    n: usize,
    f: F,
) -> Result<Vec<T>>
where
    F: Fn(Channel, usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = T> + Send,
    T: Send + 'static,
{
    use std::sync::atomic::{AtomicUsize, Ordering};
    let f = Arc::new(f);
    let next = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::with_capacity(in_flight);
    for w in 0..in_flight.min(n) {
        let channel = channels[w % channels.len()].clone();
        let (f, next) = (Arc::clone(&f), Arc::clone(&next));
        workers.push(tokio::spawn(async move {
            let mut out = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    return out;
                }
                out.push(f(channel.clone(), i).await);
            }
        }));
    }
    let mut all = Vec::with_capacity(n);
    for w in workers {
        all.extend(w.await?);
    }
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn updates_are_unique_per_step_and_name_their_version() {
        let case = Case {
            case_id: "C1".into(),
            department_id: "roads".into(),
            version: 0,
        };
        let ids: Vec<String> = Step::ALL
            .iter()
            .map(|s| {
                let u = case_update(*s, "r", &case, 7);
                let h = header(&u);
                assert_eq!((h.case_version, h.case_id.as_str()), (7, "C1"));
                h.update_id.clone()
            })
            .collect();
        assert_eq!(ids.len(), 3);
        assert!(ids[0] != ids[1] && ids[1] != ids[2] && ids[0] != ids[2]);
    }
}
