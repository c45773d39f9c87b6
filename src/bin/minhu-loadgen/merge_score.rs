//! `minhu-loadgen merge-score`: replays a labelled corpus (`reports-dev.jsonl`) in order through
//! a running gateway's `Submit`, maps every report to the case the gateway put it in, and prints
//! pairwise precision, recall and F1 (`minhu::merge::corpus`). Run it against a fresh store:
//! cases left open by an earlier run are merge targets too.
use std::path::Path;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use minhu::merge::corpus;
use minhu::pb;

use crate::demo::connect;

pub async fn run(grpc: &str, file: &Path, run_id: Option<String>) -> Result<()> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let reports = corpus::parse(&text).map_err(anyhow::Error::msg)?;
    if reports.is_empty() {
        bail!("{} holds no reports", file.display());
    }
    let run_id = run_id.unwrap_or_else(|| {
        format!(
            "-{}",
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs())
        )
    });
    let mut client = connect(grpc).await?;
    let started = Instant::now();
    let (mut truth, mut got) = (Vec::new(), Vec::new());
    let (mut merged, mut opened) = (0u32, 0u32);
    for r in &reports {
        let req = r.to_request(&run_id).map_err(anyhow::Error::msg)?;
        let resp = client
            .submit(pb::SubmitRequest { request: Some(req) })
            .await
            .with_context(|| format!("submitting {}", r.source_id))?
            .into_inner();
        match pb::Disposition::try_from(resp.disposition) {
            Ok(pb::Disposition::Merged) => merged += 1,
            Ok(pb::Disposition::NewCase) => opened += 1,
            other => bail!(
                "{}: unexpected disposition {other:?} (not a fresh run id?)",
                r.source_id
            ),
        }
        truth.push(r.incident.clone());
        got.push(resp.case_id);
    }
    let q = corpus::pairwise(&truth, &got);
    println!(
        "{} reports in {:.1}s: {opened} new cases, {merged} merged",
        reports.len(),
        started.elapsed().as_secs_f64()
    );
    println!(
        "pairs: {} merged, {} sharing an incident",
        q.merged_pairs, q.true_pairs
    );
    println!(
        "precision {:.4}  recall {:.4}  F1 {:.4}",
        q.precision, q.recall, q.f1
    );
    Ok(())
}
