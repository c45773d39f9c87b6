//! Checking `[notify.email]` when the config is loaded (`minhu serve`, `minhu check-config`):
//! every problem is recorded under the key to fix, so one load names them all rather than
//! the first send failing.
use minhu_adapter::template::Template;
use minhu_adapter_mailbox::reply::check_domain;

use super::{EmailNotifyConfig, SmtpTls};
use crate::config::problem::Problems;

impl EmailNotifyConfig {
    /// Records every problem under `notify.email.*`. The templates are checked even when the
    /// sender is off, so a mistake shows before the day it is switched on.
    pub fn check(&self, p: &mut Problems) {
        for (key, text, known) in self.template_texts() {
            match Template::parse(text, &known) {
                Err(e) => p.add(key, e.to_string()),
                // An empty rating request is allowed: it turns the request off.
                Ok(_) if text.trim().is_empty() && key != "notify.email.rate_text" => {
                    p.add(key, "must not be empty")
                }
                Ok(_) => {}
            }
        }
        if self.timeout.is_zero() {
            p.add("notify.email.timeout", "must be longer than 0s");
        }
        if self.port == Some(0) {
            p.add("notify.email.port", "must be 1 to 65535");
        }
        for (key, path) in [
            ("notify.email.ca_file", &self.ca_file),
            ("notify.email.password_file", &self.password_file),
        ] {
            if let Some(path) = path
                && !path.is_file()
            {
                p.add(key, format!("{} is not a readable file", path.display()));
            }
        }
        if self.ca_file.is_some() && self.tls == SmtpTls::None {
            p.add(
                "notify.email.ca_file",
                "is only used with tls = \"starttls\" or \"tls\"",
            );
        }
        self.check_login(p);
        if self.enabled {
            self.check_server(p);
        }
    }

    fn check_login(&self, p: &mut Problems) {
        let sources = [
            !self.password.is_empty(),
            !self.password_env.is_empty(),
            self.password_file.is_some(),
        ];
        let set = sources.iter().filter(|&&b| b).count();
        if self.username.is_empty() {
            if set > 0 {
                p.add(
                    "notify.email.username",
                    "a password is set but no username: set both, or neither for no login",
                );
            }
            return;
        }
        if set > 1 {
            p.add(
                "notify.email.password",
                "set only one of password, password_env and password_file",
            );
        } else if self.enabled && set == 0 {
            p.add(
                "notify.email.password",
                "username is set but no password: set password_env or password_file",
            );
        }
        if self.password_env.to_ascii_uppercase().starts_with("MINHU_") {
            p.add(
                "notify.email.password_env",
                "MINHU_* variables are read as config overrides: name another variable, or set \
                 MINHU_NOTIFY__EMAIL__PASSWORD, which overrides password",
            );
        } else if self.enabled
            && !self.password_env.is_empty()
            && let Err((key, message)) = self.password()
        {
            p.add(key, message);
        }
        if self.tls == SmtpTls::None && !is_loopback(&self.host) {
            p.add(
                "notify.email.tls",
                "\"none\" would send the password in clear text: use \"starttls\" or \"tls\" (plain text is only for a relay on 127.0.0.1)",
            );
        }
    }

    fn check_server(&self, p: &mut Problems) {
        let host = self.host.trim();
        if host.is_empty() {
            p.add("notify.email.host", "must be set when enabled");
        } else if host.contains(|c: char| c.is_whitespace() || c == '/' || c == ':')
            && !is_ipv6(host)
        {
            p.add(
                "notify.email.host",
                "must be a host name or IP address (no scheme, no port: see notify.email.port)",
            );
        }
        if self.from.trim().is_empty() {
            p.add("notify.email.from", "must be set when enabled");
        } else if let Err(e) = self.from.trim().parse::<lettre::Address>() {
            p.add(
                "notify.email.from",
                format!("is not an e-mail address: {e}"),
            );
        }
        if let Err(e) = check_domain(&self.message_id_domain()) {
            let key = "notify.email.message_id_domain";
            if self.message_id_domain.is_empty() {
                p.add(
                    key,
                    format!("the domain of from cannot be used, set one: it {e}"),
                );
            } else {
                p.add(key, e);
            }
        }
        if !self.ehlo_name.is_empty()
            && let Err(e) = check_domain(&self.ehlo_name)
        {
            p.add("notify.email.ehlo_name", e);
        }
    }
}

fn is_ipv6(host: &str) -> bool {
    host.parse::<std::net::Ipv6Addr>().is_ok()
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}
