//! Secrets in config (SMTP passwords, the SMS gateway's key, WeChat app secrets, the
//! follow-up links' signing key): given inline, by the name of an environment variable, or by
//! a file's path — exactly one — so a deployment can keep them out of the config file.
use std::path::{Path, PathBuf};

/// One secret's three possible sources, as a section spells them (`<name>`, `<name>_env`,
/// `<name>_file`), for [`resolve`].
#[derive(Debug, Clone, Copy)]
pub struct Sources<'a> {
    /// The section, e.g. `notify.sms`.
    pub section: &'a str,
    /// The secret's key, e.g. `secret`.
    pub name: &'a str,
    pub inline: &'a str,
    pub env: &'a str,
    pub file: Option<&'a Path>,
}

/// Why a secret cannot be had: (key, message), for [`super::problem::Problems`].
pub type SecretProblem = (String, String);

/// The secret from wherever it is configured; "" when nowhere. A value read from a variable
/// or file loses trailing whitespace (the newline editors add).
pub fn resolve(s: Sources<'_>) -> Result<String, SecretProblem> {
    let key = |suffix: &str| format!("{}.{}{suffix}", s.section, s.name);
    let set = [!s.inline.is_empty(), !s.env.is_empty(), s.file.is_some()];
    if set.iter().filter(|x| **x).count() > 1 {
        return Err((
            key(""),
            format!("set only one of {n}, {n}_env and {n}_file", n = s.name),
        ));
    }
    if s.env.to_ascii_uppercase().starts_with("MINHU_") {
        let var = format!(
            "MINHU_{}__{}",
            s.section.to_ascii_uppercase().replace('.', "__"),
            s.name.to_ascii_uppercase()
        );
        return Err((
            key("_env"),
            format!(
                "MINHU_* variables are read as config overrides (an unknown key to them): \
                 name another variable, or set {var}, which overrides {}",
                s.name
            ),
        ));
    }
    if !s.env.is_empty() {
        return match std::env::var(s.env) {
            Ok(v) if !v.trim().is_empty() => Ok(v.trim_end().to_owned()),
            _ => Err((
                key("_env"),
                format!("environment variable {} is not set or empty", s.env),
            )),
        };
    }
    if let Some(path) = s.file {
        return match std::fs::read_to_string(path) {
            Ok(v) if !v.trim().is_empty() => Ok(v.trim_end().to_owned()),
            Ok(_) => Err((key("_file"), "the file is empty".into())),
            Err(e) => Err((key("_file"), format!("cannot read {}: {e}", path.display()))),
        };
    }
    Ok(s.inline.to_owned())
}

/// `Option<PathBuf>` as `resolve` takes it.
pub fn path(p: &Option<PathBuf>) -> Option<&Path> {
    p.as_deref()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src<'a>(inline: &'a str, env: &'a str, file: Option<&'a Path>) -> Sources<'a> {
        Sources {
            section: "feedback",
            name: "key",
            inline,
            env,
            file,
        }
    }

    #[test]
    fn one_source_each_with_the_key_to_blame() {
        assert_eq!(resolve(src("", "", None)), Ok(String::new()));
        assert_eq!(resolve(src("abc", "", None)), Ok("abc".into()));
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("k");
        std::fs::write(&f, "from-file\n").unwrap();
        assert_eq!(resolve(src("", "", Some(&f))), Ok("from-file".into()));
        assert_eq!(
            resolve(src("abc", "", Some(&f))).unwrap_err().0,
            "feedback.key"
        );
        let (key, msg) = resolve(src("", "MINHU_KEY", None)).unwrap_err();
        assert_eq!(key, "feedback.key_env");
        assert!(msg.contains("MINHU_FEEDBACK__KEY"), "{msg}");
        let (key, _) = resolve(src("", "MINHU_TEST_SURELY_UNSET_9", None)).unwrap_err();
        assert_eq!(key, "feedback.key_env");
        let (key, _) = resolve(src("", "SURELY_UNSET_VARIABLE_9", None)).unwrap_err();
        assert_eq!(key, "feedback.key_env");
        std::fs::write(&f, " \n").unwrap();
        assert_eq!(
            resolve(src("", "", Some(&f))).unwrap_err().0,
            "feedback.key_file"
        );
    }
}
