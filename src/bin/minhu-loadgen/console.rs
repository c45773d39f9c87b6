//! `minhu-loadgen console`: the console pages' benchmark of issue 16 ("the lights board and
//! the departments page render in under 200 ms at p99 with 100,000 open cases"), in two steps
//! `scripts/bench-console.sh` strings together:
//!
//! - `fill` writes a realistic store in process ([`fill`]);
//! - `pages` logs in to a running gateway's console over HTTP and requests each page
//!   sequentially, one request at a time (an operator's browser, not a load test), and
//!   reports p50/p99/max and the gateway's CPU per render, next to two trivial answers of the
//!   same listener in the same run (the stylesheet, `/healthz`) as the baseline.
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};

use crate::bench::{CpuMeter, new_histogram};

#[path = "console_fill.rs"]
mod fill;

/// The steps of the console pages' benchmark.
#[derive(Debug, Args)]
pub struct Cli {
    #[command(subcommand)]
    step: Step,
}

#[derive(Debug, Subcommand)]
enum Step {
    /// Fill a store with open and scored cases through the gateway's own code (in process).
    Fill(fill::FillArgs),
    /// Time the console's pages on a running gateway, one request at a time.
    Pages(PagesArgs),
}

#[derive(Debug, Args)]
struct PagesArgs {
    /// The gateway's HTTP listener.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// A console token (`console:read`) of the coordination centre, who sees every case.
    #[arg(long, env = "BENCH_CONSOLE_TOKEN")]
    token: String,
    /// Timed requests per page.
    #[arg(long, default_value_t = 200)]
    requests: usize,
    /// Untimed requests per page first (statement cache, page cache, branch predictors).
    #[arg(long, default_value_t = 20)]
    warmup: usize,
    /// The district of the filtered lights board.
    #[arg(long, default_value = "610104")]
    district: String,
    /// The gateway's process id, for its CPU per render (Linux `/proc`).
    #[arg(long)]
    gateway_pid: Option<u32>,
    /// Open cases in the store, for the table.
    #[arg(long, default_value_t = 0)]
    cases: u64,
}

pub async fn run(cli: Cli) -> Result<()> {
    match cli.step {
        Step::Fill(a) => fill::run(a).await,
        Step::Pages(a) => pages(a).await,
    }
}

/// One page's figures.
struct Timed {
    name: String,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    /// Gateway CPU per request, ms.
    cpu_ms: Option<f64>,
    bytes: usize,
}

async fn login(client: &reqwest::Client, url: &str, token: &str) -> Result<String> {
    let resp = client
        .post(format!("{url}/console/login"))
        .header(
            reqwest::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .body(
            form_urlencoded::Serializer::new(String::new())
                .append_pair("token", token)
                .finish(),
        )
        .send()
        .await
        .context("POST /console/login")?;
    let cookie = resp
        .headers()
        .get(reqwest::header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::to_owned);
    match cookie {
        Some(c) if resp.status().is_redirection() => Ok(c),
        _ => bail!("login refused: HTTP {}", resp.status()),
    }
}

async fn get(client: &reqwest::Client, url: &str, cookie: &str) -> Result<usize> {
    let resp = client
        .get(url)
        .header(reqwest::header::COOKIE, cookie)
        .send()
        .await
        .with_context(|| format!("GET {url}"))?;
    let status = resp.status();
    let body = resp.bytes().await?;
    if !status.is_success() {
        bail!("GET {url}: HTTP {status}");
    }
    Ok(body.len())
}

async fn time_page(
    client: &reqwest::Client,
    name: &str,
    url: &str,
    cookie: &str,
    a: &PagesArgs,
) -> Result<Timed> {
    for _ in 0..a.warmup {
        get(client, url, cookie).await?;
    }
    let mut h = new_histogram()?;
    let mut bytes = 0;
    let gateway: Vec<(String, u32)> = a
        .gateway_pid
        .map(|p| ("gateway".to_owned(), p))
        .into_iter()
        .collect();
    let cpu = CpuMeter::start(&gateway);
    for _ in 0..a.requests {
        let t = Instant::now();
        bytes = get(client, url, cookie).await?;
        h.record(
            u64::try_from(t.elapsed().as_micros())
                .unwrap_or(u64::MAX)
                .max(1),
        )?;
    }
    let ticks = cpu.others().first().and_then(|(_, t)| *t);
    let ms = |us: u64| us as f64 / 1000.0;
    Ok(Timed {
        name: name.to_owned(),
        p50_ms: ms(h.value_at_quantile(0.50)),
        p99_ms: ms(h.value_at_quantile(0.99)),
        max_ms: ms(h.max()),
        // Ticks are 10 ms.
        cpu_ms: ticks.map(|t| t as f64 * 10.0 / a.requests.max(1) as f64),
        bytes,
    })
}

async fn pages(a: PagesArgs) -> Result<()> {
    if a.requests == 0 {
        bail!("--requests must be at least 1");
    }
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()?;
    let url = a.url.trim_end_matches('/').to_owned();
    let cookie = login(&client, &url, &a.token).await?;
    let pages = [
        ("baseline: /healthz", "/healthz".to_owned()),
        (
            "baseline: console.css",
            "/console/static/console.css".to_owned(),
        ),
        ("lights board", "/console/lights".to_owned()),
        (
            "lights board, district + red",
            format!("/console/lights?district={}&light=red", a.district),
        ),
        ("departments", "/console/departments".to_owned()),
    ];
    let mut timed = Vec::new();
    for (name, path) in &pages {
        let t = time_page(&client, name, &format!("{url}{path}"), &cookie, &a).await?;
        eprintln!(
            "pages: {name}: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms ({} bytes)",
            t.p50_ms, t.p99_ms, t.max_ms, t.bytes
        );
        timed.push(t);
    }
    report(&timed, &a);
    Ok(())
}

fn report(timed: &[Timed], a: &PagesArgs) {
    let when = std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M"])
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .unwrap_or_default();
    // The stylesheet is the baseline: the same listener, router, session check and headers.
    let base = timed.iter().find(|t| t.name.contains("console.css"));
    println!(
        "\n| when (UTC) | page | open cases | p50 ms | p99 ms | max ms | gateway CPU per render ms | p50 / p99 vs console.css | bytes |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|");
    for t in timed {
        let ratio = base.map_or_else(String::new, |b| {
            format!(
                "{:.0}× / {:.0}×",
                t.p50_ms / b.p50_ms.max(0.001),
                t.p99_ms / b.p99_ms.max(0.001)
            )
        });
        println!(
            "| {} | {} | {} | {:.1} | {:.1} | {:.1} | {} | {ratio} | {} |",
            when.trim(),
            t.name,
            a.cases,
            t.p50_ms,
            t.p99_ms,
            t.max_ms,
            t.cpu_ms.map_or("–".to_owned(), |c| format!("{c:.1}")),
            t.bytes
        );
    }
}
