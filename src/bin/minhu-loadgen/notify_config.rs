//! `minhu-loadgen notify-config`: the gateway's service file for `notify`, written from a base
//! file (the sample `config/minhu.toml`) with its `[notify]` section replaced by senders that
//! point at the load generator's stand-ins (see [`crate::notify_standins`]).
//!
//! It also owns the stand-ins' addresses ([`StandInArgs`]), which `notify` serves on and this
//! file points the senders at, so both commands take them the same way.
//!
//! Written as a TOML table rather than by editing text, so the base keeps every other setting
//! (merge, limits, store batches) exactly as the Submit bench runs it. The routing path is made
//! absolute, since the written file lives elsewhere than the base.
use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
};

use anyhow::{Context, Result, bail};
use clap::Args as ClapArgs;
use toml::{Table, Value};

use crate::notify_standins::{APP_ID, APP_SECRET, SMS_SECRET};

/// Where `notify` serves its stand-ins.
#[derive(Debug, ClapArgs, Clone)]
pub struct StandInArgs {
    /// Address of the stand-in SMS gateway (`POST /sms/send`).
    #[arg(long, default_value = "127.0.0.1:18190")]
    pub sms_listen: std::net::SocketAddr,
    /// Address of the stand-in WeChat API.
    #[arg(long, default_value = "127.0.0.1:18191")]
    pub wechat_listen: std::net::SocketAddr,
}

/// `minhu-loadgen notify-config`'s command line.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// The service file to start from; everything but `[notify]` is kept.
    #[arg(long, default_value = "config/minhu.toml")]
    pub base: PathBuf,
    /// Where to write the gateway's service file.
    #[arg(long)]
    pub out: PathBuf,
    #[command(flatten)]
    pub stand_ins: StandInArgs,
    /// `[notify] concurrency`, notices sent at once (default: the base file's).
    #[arg(long)]
    pub concurrency: Option<usize>,
}

/// Writes the service file `args` describe.
pub fn write(args: &Args) -> Result<()> {
    let text = render(&Settings {
        base: &args.base,
        sms: args.stand_ins.sms_listen,
        wechat: args.stand_ins.wechat_listen,
        concurrency: args.concurrency,
    })?;
    std::fs::write(&args.out, text).with_context(|| format!("writing {}", args.out.display()))
}

/// What the written file needs to know.
pub struct Settings<'a> {
    pub base: &'a Path,
    pub sms: SocketAddr,
    pub wechat: SocketAddr,
    /// `[notify] concurrency`; None keeps the base's (or the default).
    pub concurrency: Option<usize>,
}

/// The senders' sections. Quiet hours off (22:00–08:00 Beijing would hold every SMS); the
/// longest timeouts, so sends held at the closed gate wait instead of failing; short backoff,
/// so a retry (there should be none) does not stall the run for half a minute.
fn senders(sms: SocketAddr, wechat: SocketAddr) -> String {
    format!(
        r#"
max_attempts = 10
backoff = "1s"
max_backoff = "10s"

[sms]
enabled = true
quiet_hours = "off"
timeout = "120s"
secret = "{SMS_SECRET}"

[sms.gateway]
url = "http://{sms}/sms/send"
body = {{ mobile = "{{phone}}", content = "{{text}}", requestId = "{{notice_id}}", ts = "{{timestamp}}" }}
headers = {{ "X-Timestamp" = "{{timestamp}}" }}
code_field = "code"
success_codes = ["OK"]
permanent_codes = ["MOBILE_INVALID", "MOBILE_BLACKLISTED"]
receipt_field = "data.bizId"

[sms.gateway.signature]
algorithm = "hmac-sha256"
header = "X-Signature"
signed = "{{timestamp}}\n{{body}}"

[wechat]
enabled = true
api_base = "http://{wechat}"
timeout = "120s"

[[wechat.accounts]]
app_id = "{APP_ID}"
app_secret = "{APP_SECRET}"
template_id = "TPL-bench-result"
fields = {{ thing1 = "{{title}}", thing2 = "{{result}}" }}
"#
    )
}

/// The service file's text.
pub fn render(s: &Settings<'_>) -> Result<String> {
    let text =
        std::fs::read_to_string(s.base).with_context(|| format!("reading {}", s.base.display()))?;
    let mut table: Table =
        toml::from_str(&text).with_context(|| format!("{} is not valid TOML", s.base.display()))?;
    let mut notify: Table = toml::from_str(&senders(s.sms, s.wechat))
        .context("the bench's [notify] section is not valid TOML")?;
    let concurrency = s.concurrency.or_else(|| {
        let base = table.get("notify")?.get("concurrency")?.as_integer()?;
        usize::try_from(base).ok()
    });
    if let Some(c) = concurrency {
        let c = i64::try_from(c).context("--concurrency is too large")?;
        notify.insert("concurrency".into(), Value::Integer(c));
    }
    table.insert("notify".into(), Value::Table(notify));

    let folder = s.base.parent().unwrap_or(Path::new("."));
    let routing = table
        .entry("routing")
        .or_insert_with(|| Value::Table(Table::new()));
    let Some(routing) = routing.as_table_mut() else {
        bail!("{}: routing is not a table", s.base.display());
    };
    let path = routing
        .get("path")
        .and_then(Value::as_str)
        .map_or_else(|| PathBuf::from("routing.toml"), PathBuf::from);
    let absolute = std::path::absolute(folder.join(path)).context("resolving the routing path")?;
    routing.insert(
        "path".into(),
        Value::String(absolute.to_string_lossy().into_owned()),
    );
    toml::to_string(&table).context("writing the service file")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_notify_keeps_the_rest_and_anchors_routing() {
        let dir = std::env::temp_dir().join(format!("minhu-notify-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let base = dir.join("minhu.toml");
        std::fs::write(
            &base,
            "[store]\nmax_batch = 512\n[routing]\npath = \"routing.toml\"\n[notify]\nconcurrency = 8\nbackoff = \"30s\"\n",
        )
        .expect("write base");
        let settings = Settings {
            base: &base,
            sms: "127.0.0.1:1".parse().expect("addr"),
            wechat: "127.0.0.1:2".parse().expect("addr"),
            concurrency: None,
        };
        let written: Table = toml::from_str(&render(&settings).expect("renders")).expect("toml");
        assert_eq!(written["store"]["max_batch"].as_integer(), Some(512));
        assert_eq!(written["notify"]["concurrency"].as_integer(), Some(8));
        assert_eq!(written["notify"]["backoff"].as_str(), Some("1s"));
        assert_eq!(
            written["notify"]["sms"]["quiet_hours"].as_str(),
            Some("off")
        );
        assert_eq!(
            written["notify"]["wechat"]["api_base"].as_str(),
            Some("http://127.0.0.1:2")
        );
        let routing = written["routing"]["path"].as_str().expect("a path");
        assert!(Path::new(routing).is_absolute() && routing.ends_with("routing.toml"));
        let more = Settings {
            concurrency: Some(64),
            ..settings
        };
        let written: Table = toml::from_str(&render(&more).expect("renders")).expect("toml");
        assert_eq!(written["notify"]["concurrency"].as_integer(), Some(64));
        std::fs::remove_dir_all(&dir).ok();
    }
}
