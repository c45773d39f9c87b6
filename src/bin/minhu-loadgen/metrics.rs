//! Reading the gateway's Prometheus text page (`/metrics`) over plain HTTP/1.0.
//!
//! HTTP/1.0 keeps the answer un-chunked, so a few lines of std/tokio suffice and the tool needs
//! no HTTP client crate.
use std::time::Duration;

use anyhow::{Context, Result, bail};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

/// Counters and gauges the bench reads.
pub const CONFIRMED: &str = "minhu_publishes_confirmed_total";
pub const OUTBOX_DEPTH: &str = "minhu_outbox_depth";
pub const COMMITS: &str = "minhu_store_commits_total";

/// The sum of `name` on the page at `url`; None (with a warning) when unreadable or absent.
pub async fn read(url: &str, name: &str) -> Option<f64> {
    match fetch(url).await {
        Ok(page) => sum(&page, name),
        Err(e) => {
            eprintln!("warning: {e:#}");
            None
        }
    }
}

/// Polls the page every 100 ms until `minhu_outbox_depth` is 0; false when `timeout` passed
/// first. An unreadable page is an error.
pub async fn wait_until_drained(url: &str, timeout: Duration) -> Result<bool> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if sum(&fetch(url).await?, OUTBOX_DEPTH) == Some(0.0) {
            return Ok(true);
        }
        if tokio::time::Instant::now() >= deadline {
            return Ok(false);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Fetches the page at `url` (`http://host:port/path`) and returns its body.
pub async fn fetch(url: &str) -> Result<String> {
    let rest = url
        .strip_prefix("http://")
        .with_context(|| format!("metrics URL `{url}` must start with http://"))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, "/"),
    };
    let work = async {
        let mut stream = TcpStream::connect(authority)
            .await
            .with_context(|| format!("connecting to {authority}"))?;
        let request =
            format!("GET {path} HTTP/1.0\r\nHost: {authority}\r\nAccept: text/plain\r\n\r\n");
        stream.write_all(request.as_bytes()).await?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await?;
        anyhow::Ok(raw)
    };
    let raw = tokio::time::timeout(Duration::from_secs(10), work)
        .await
        .with_context(|| format!("{url} did not answer within 10 s"))??;
    let text = String::from_utf8_lossy(&raw);
    let Some((head, body)) = text.split_once("\r\n\r\n") else {
        bail!("{url} sent no HTTP header");
    };
    let status = head.lines().next().unwrap_or_default();
    if status.split_whitespace().nth(1) != Some("200") {
        bail!("{url} answered `{status}`");
    }
    Ok(body.to_owned())
}

/// The sum of every series of `name` on a Prometheus text page (labels ignored), or `None`
/// when the page has no such series.
pub fn sum(page: &str, name: &str) -> Option<f64> {
    let mut total = None;
    for line in page.lines() {
        if line.starts_with('#') {
            continue;
        }
        let Some(rest) = line.strip_prefix(name) else {
            continue;
        };
        // The name must end here: `minhu_outbox_depth_bytes` is another metric.
        let rest = if let Some(r) = rest.strip_prefix('{') {
            match r.find('}') {
                Some(i) => &r[i + 1..],
                None => continue,
            }
        } else if rest.starts_with(' ') {
            rest
        } else {
            continue;
        };
        if let Some(v) = rest
            .split_whitespace()
            .next()
            .and_then(|v| v.parse::<f64>().ok())
        {
            *total.get_or_insert(0.0) += v;
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_series_and_ignores_longer_names() {
        let page = "# HELP minhu_publishes_confirmed_total x\n\
                    # TYPE minhu_publishes_confirmed_total counter\n\
                    minhu_publishes_confirmed_total{department=\"water\"} 3\n\
                    minhu_publishes_confirmed_total{department=\"roads\"} 4 1700000000\n\
                    minhu_outbox_depth 0\n\
                    minhu_outbox_depth_bytes 99\n";
        assert_eq!(sum(page, CONFIRMED), Some(7.0));
        assert_eq!(sum(page, OUTBOX_DEPTH), Some(0.0));
        assert_eq!(sum(page, "minhu_missing"), None);
    }
}
