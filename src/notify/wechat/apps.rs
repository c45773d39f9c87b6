//! The configured official accounts and mini-programs of the WeChat sender, each with its
//! token cache and its parsed templates, found by the `source_system` of a citizen's report;
//! and what each sends a citizen (the bodies, rendered from the case's facts).
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use minhu_adapter::template::Template;
use minhu_adapter_wechat::outbound;
use serde_json::Value;

use super::token;
use super::{Message, WechatSetupError};
use crate::config::notify::wechat::{SecretSource, WechatNotifyConfig};
use crate::notify::{Facts, Notice};

/// A template or subscribe message as configured: id, link template, field templates.
pub(super) struct Card {
    template_id: String,
    link: Option<Template>,
    fields: Vec<(String, Template)>,
}

/// An official account: its customer-service text and, if configured, template message.
pub(super) struct Account {
    pub app: token::App,
    text: Template,
    pub template: Option<Card>,
}

/// A mini-program: its subscribe message.
pub(super) struct MiniProgram {
    pub app: token::App,
    card: Card,
    state: String,
}

/// Every configured app.
pub(super) struct Apps {
    /// Official accounts by the name after `wechat:` in `source_system`: AppId, and account
    /// id where set (one `Arc`, so both names share one token cache).
    accounts: HashMap<String, Arc<Account>>,
    /// Mini-programs by AppId.
    miniprograms: HashMap<String, MiniProgram>,
}

impl Apps {
    /// The apps `cfg` configures; reads their AppSecrets now.
    pub fn from_config(cfg: &WechatNotifyConfig) -> Result<Apps, WechatSetupError> {
        let mut accounts = HashMap::new();
        for (i, a) in cfg.accounts.iter().enumerate() {
            let key = format!("accounts[{i}]");
            let template = (!a.template_id.is_empty())
                .then(|| card(&key, &a.template_id, ("url", &a.url), &a.fields))
                .transpose()?;
            let account = Arc::new(Account {
                app: token::App::new(a.app_id.clone(), secret(key.clone(), a.secret())?),
                text: parse(format!("{key}.text"), &a.text)?,
                template,
            });
            accounts.insert(a.app_id.clone(), account.clone());
            if !a.account_id.is_empty() {
                accounts.insert(a.account_id.clone(), account);
            }
        }
        let mut miniprograms = HashMap::new();
        for (i, m) in cfg.miniprograms.iter().enumerate() {
            let key = format!("miniprograms[{i}]");
            let mp = MiniProgram {
                app: token::App::new(m.app_id.clone(), secret(key.clone(), m.secret())?),
                card: card(&key, &m.template_id, ("page", &m.page), &m.fields)?,
                state: m.state.clone(),
            };
            miniprograms.insert(m.app_id.clone(), mp);
        }
        Ok(Apps {
            accounts,
            miniprograms,
        })
    }

    /// The path and JSON body of `message` for `notice`, without sending anything; Err says
    /// why it cannot be sent (the reason recorded as unreachable).
    pub fn render(
        &self,
        notice: &Notice,
        message: Message,
    ) -> Result<(&'static str, Value), String> {
        let a = &notice.address;
        let openid = a.wechat_openid.trim();
        if openid.is_empty() {
            return Err("the report carries no WeChat openid".into());
        }
        let vars = notice.facts.vars();
        let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let body = match message {
            Message::Custom => {
                let acc = self.account(&a.source_system)?;
                outbound::custom_text(openid, &acc.text.render(&vars))
            }
            Message::Template => {
                let acc = self.account(&a.source_system)?;
                let Some(card) = &acc.template else {
                    return Err(format!(
                        "the citizen last wrote over 48 hours ago (no customer-service message), and {} has no template message (notify.wechat.accounts[].template_id)",
                        acc.app.app_id
                    ));
                };
                let (link, fields) = fill(card, &vars);
                let fields: Vec<(&str, &str)> = fields
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                outbound::template_message(
                    openid,
                    &card.template_id,
                    link.as_deref(),
                    Some(&notice.notice_id),
                    &fields,
                )
            }
            Message::Subscribe => {
                let mp = self.miniprogram(&a.source_system)?;
                let (page, fields) = fill(&mp.card, &vars);
                let fields: Vec<(&str, &str)> = fields
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                outbound::subscribe_message(
                    openid,
                    &mp.card.template_id,
                    page.as_deref(),
                    Some(&mp.state),
                    &fields,
                )
            }
        };
        Ok((message.path(), body))
    }

    /// The official account a report's `source_system` (`wechat:<name>`) names.
    pub fn account(&self, source_system: &str) -> Result<&Account, String> {
        let name = source_system.strip_prefix("wechat:").unwrap_or_default();
        self.accounts.get(name).map(|a| a.as_ref()).ok_or_else(|| {
            format!("no [[notify.wechat.accounts]] for source_system {source_system:?}")
        })
    }

    fn miniprogram(&self, source_system: &str) -> Result<&MiniProgram, String> {
        let name = source_system.strip_prefix("wechat:").unwrap_or_default();
        self.miniprograms.get(name).ok_or_else(|| {
            format!("no [[notify.wechat.miniprograms]] for source_system {source_system:?}")
        })
    }

    /// The app a notice is sent from, if one is configured.
    pub fn app(&self, notice: &Notice) -> Option<&token::App> {
        let s = &notice.address.source_system;
        if notice.address.miniprogram {
            self.miniprogram(s).ok().map(|m| &m.app)
        } else {
            self.account(s).ok().map(|a| &a.app)
        }
    }
}

fn parse(key: String, text: &str) -> Result<Template, WechatSetupError> {
    Template::parse(text, Facts::PLACEHOLDERS).map_err(|e| WechatSetupError::Config {
        key,
        why: e.to_string(),
    })
}

fn card(
    key: &str,
    template_id: &str,
    (link_key, link): (&str, &str),
    fields: &BTreeMap<String, String>,
) -> Result<Card, WechatSetupError> {
    let link = (!link.is_empty())
        .then(|| parse(format!("{key}.{link_key}"), link))
        .transpose()?;
    let fields = fields
        .iter()
        .map(|(k, v)| Ok((k.clone(), parse(format!("{key}.fields.{k}"), v)?)))
        .collect::<Result<_, WechatSetupError>>()?;
    Ok(Card {
        template_id: template_id.to_owned(),
        link,
        fields,
    })
}

fn secret(key: String, s: SecretSource<'_>) -> Result<String, WechatSetupError> {
    s.resolve()
        .map_err(|why| WechatSetupError::Config { key, why })
}

/// A card's link and fields rendered from the facts; link values are URL-encoded.
fn fill(card: &Card, vars: &[(&str, &str)]) -> (Option<String>, Vec<(String, String)>) {
    let link = card.link.as_ref().map(|t| {
        let encoded: Vec<(&str, String)> = vars
            .iter()
            .map(|(k, v)| (*k, outbound::encode_url_value(v)))
            .collect();
        let encoded: Vec<(&str, &str)> = encoded.iter().map(|(k, v)| (*k, v.as_str())).collect();
        t.render(&encoded)
    });
    let fields = card
        .fields
        .iter()
        .map(|(k, t)| (k.clone(), t.render(vars)))
        .collect();
    (link, fields)
}
