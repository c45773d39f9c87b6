//! The guides stay true: `README.md` and every Markdown file under `docs/` (symlinks followed:
//! `docs/benchmarks.md` is the root `BENCHMARKS.md`).
//!
//! - Every relative link `[text](target)` leads to a file that exists, and a `#anchor` in a
//!   link to a Markdown file names one of its headings (GitHub's anchors: lower case, spaces to
//!   `-`, punctuation other than `-` and `_` dropped, CJK kept, `-1`, `-2` … for repeats).
//!   External links (`https:`, `mailto:` …) are not checked. Every guide under `docs/` is
//!   linked from the README's table.
//! - Every ```toml example is a configuration that `minhu check-config` accepts, or says why
//!   not: its first line is `# minhu.toml` (a service file), `# routing.toml` (a routing file,
//!   checked beside the sample `config/minhu.toml`) or `# fragment` (a piece that cannot stand
//!   alone: skipped). Any other first line fails, so a new example is checked or marked on
//!   purpose.
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path, PathBuf};
use std::process::Command;
use std::sync::LazyLock;

use regex::Regex;

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// `path` relative to the repository, for messages.
fn shown(path: &Path) -> String {
    path.strip_prefix(env!("CARGO_MANIFEST_DIR"))
        .unwrap_or(path)
        .display()
        .to_string()
}

/// `README.md` and every `*.md` under `docs/`, sorted, as the repository names them (a
/// symlink keeps its own path).
fn guides() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let entries =
            std::fs::read_dir(dir).unwrap_or_else(|e| panic!("read {}: {e}", dir.display()));
        for entry in entries {
            let path = entry.expect("a directory entry").path();
            // metadata() follows symlinks: a linked folder is walked, a linked file read.
            let meta = std::fs::metadata(&path)
                .unwrap_or_else(|e| panic!("{}: {e} (a broken symlink?)", shown(&path)));
            if meta.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|x| x == "md") {
                out.push(path);
            }
        }
    }
    let mut files = vec![repo("README.md")];
    walk(&repo("docs"), &mut files);
    files.sort();
    files
}

/// The lines of `text` with fenced code blocks blanked: what is in them is not Markdown.
fn prose_lines(text: &str) -> Vec<&str> {
    let mut fenced = false;
    text.lines()
        .map(|line| {
            if line.trim_start().starts_with("```") {
                fenced = !fenced;
                ""
            } else if fenced {
                ""
            } else {
                line
            }
        })
        .collect()
}

static LINK: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"\[([^\]]*)\]\(([^)\s]+)(?:\s+"[^"]*")?\)"#).unwrap());
static CODE_SPAN: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"`[^`]*`").unwrap());
static HEADING: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^#{1,6}[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$").unwrap());
static SCHEME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[A-Za-z][A-Za-z0-9+.-]*:").unwrap());

/// The anchor GitHub gives a heading: its text (a link's text only) in lower case, spaces
/// turned into `-`, everything but letters, digits (any script), `-` and `_` dropped.
fn anchor(heading: &str) -> String {
    LINK.replace_all(heading.trim(), "$1")
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// Every anchor the headings of `text` give, repeats numbered as GitHub does.
fn anchors(text: &str) -> BTreeSet<String> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut out = BTreeSet::new();
    for line in prose_lines(text) {
        if let Some(m) = HEADING.captures(line) {
            let base = anchor(&m[1]);
            let n = seen.entry(base.clone()).or_default();
            out.insert(if *n == 0 {
                base.clone()
            } else {
                format!("{base}-{n}")
            });
            *n += 1;
        }
    }
    out
}

/// `%XX` escapes decoded (a link may spell a CJK anchor that way).
fn percent_decoded(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `path` with `.` and `..` worked out, without touching the file system (so a symlink keeps
/// its own name).
fn normalized(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

#[test]
fn anchors_follow_github() {
    assert_eq!(anchor("Scores (谁呼谁评)"), "scores-谁呼谁评");
    assert_eq!(
        anchor("Over AMQP: `minhu.updates`"),
        "over-amqp-minhuupdates"
    );
    assert_eq!(
        anchor("Clocks in working time: `[clocks]`"),
        "clocks-in-working-time-clocks"
    );
    assert_eq!(
        anchor("Answers through the reporting systems (回访 task, 核查, 反馈 to emergency lines)"),
        "answers-through-the-reporting-systems-回访-task-核查-反馈-to-emergency-lines"
    );
    assert_eq!(
        anchor("Emergency-line transfers"),
        "emergency-line-transfers"
    );
    assert_eq!(anchor("A [link](x.md) in_it"), "a-link-in_it");
    let repeated = anchors("# Notes\n## Notes\n```\n# Notes\n```\n### Notes ##\n");
    assert_eq!(
        repeated,
        ["notes", "notes-1", "notes-2"].map(String::from).into()
    );
    assert_eq!(percent_decoded("a%E8%B0%81b%2"), "a谁b%2");
}

/// Every relative link of every guide leads somewhere, and every guide is in the README's table.
#[test]
fn links_between_the_guides_resolve() {
    let link = std::fs::read_link(repo("docs/benchmarks.md"))
        .expect("docs/benchmarks.md is a symlink (benchmark figures live in BENCHMARKS.md)");
    assert_eq!(link, Path::new("../BENCHMARKS.md"));

    let files = guides();
    let mut broken = Vec::new();
    let mut checked = 0;
    let mut from_readme = BTreeSet::new();
    let mut headings: BTreeMap<PathBuf, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        // Relative links are relative to where the text really is: a symlinked guide's links
        // are written for its target's folder.
        let real = std::fs::canonicalize(file).unwrap();
        let base = real.parent().unwrap().to_owned();
        let text = read(file);
        for (i, line) in prose_lines(&text).into_iter().enumerate() {
            let line = CODE_SPAN.replace_all(line, "");
            for m in LINK.captures_iter(&line) {
                let target = &m[2];
                if SCHEME.is_match(target) {
                    continue;
                }
                checked += 1;
                let at = format!("{}:{}: [{}]({target})", shown(file), i + 1, &m[1]);
                let (path, fragment) = match target.split_once('#') {
                    Some((p, f)) => (p, Some(percent_decoded(f))),
                    None => (target, None),
                };
                let path = percent_decoded(path);
                let resolved = if path.is_empty() {
                    real.clone()
                } else if let Some(rooted) = path.strip_prefix('/') {
                    repo(rooted)
                } else {
                    base.join(&path)
                };
                if *file == repo("README.md") {
                    from_readme.insert(normalized(&resolved));
                }
                if !resolved.exists() {
                    broken.push(format!("{at}: {} does not exist", shown(&resolved)));
                    continue;
                }
                let Some(fragment) = fragment else { continue };
                if resolved.extension().is_none_or(|x| x != "md") {
                    continue;
                }
                let real_target = std::fs::canonicalize(&resolved).unwrap();
                let known = headings
                    .entry(real_target)
                    .or_insert_with(|| anchors(&read(&resolved)));
                if !known.contains(&fragment) {
                    broken.push(format!(
                        "{at}: {} has no heading with the anchor #{fragment}",
                        shown(&resolved)
                    ));
                }
            }
        }
    }
    assert!(
        checked >= 50,
        "only {checked} relative links found in {} files",
        files.len()
    );
    for guide in files.iter().filter(|f| f.starts_with(repo("docs"))) {
        // The guide's own name (a symlink's, not its target's) in a canonical folder.
        let name = std::fs::canonicalize(guide.parent().unwrap())
            .unwrap()
            .join(guide.file_name().unwrap());
        if !from_readme.contains(&name) {
            broken.push(format!(
                "README.md: no link to {} in the table of guides",
                shown(guide)
            ));
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

/// Every ```toml block of `text`, indented ones too (inside a list item), with the line its
/// first line is on and the block's indentation taken off.
fn toml_blocks(text: &str) -> Vec<(usize, String)> {
    let mut blocks = Vec::new();
    let mut open: Option<(usize, usize, String)> = None;
    for (i, line) in text.lines().enumerate() {
        match (&mut open, line.trim()) {
            (None, "```toml") => {
                open = Some((i + 2, line.len() - line.trim_start().len(), String::new()))
            }
            (Some(_), "```") => blocks.extend(open.take().map(|(at, _, block)| (at, block))),
            (Some((_, indent, block)), _) => {
                let cut = line
                    .char_indices()
                    .take(*indent)
                    .take_while(|(_, c)| *c == ' ')
                    .count();
                block.push_str(&line[cut..]);
                block.push('\n');
            }
            (None, _) => {}
        }
    }
    assert!(open.is_none(), "a ```toml block is not closed");
    blocks
}

/// Copies the folder `from` into `to`, recursively.
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A sealing key (base64 of 32 bytes): what a key file holds, and what a secret named by a
/// `…_env` key is set to.
const KEY: &str = "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=";

/// A self-signed certificate and its key, in PEM, for the `.pem` files an example names.
static CERT: LazyLock<(String, String)> = LazyLock::new(|| {
    let made = rcgen::generate_simple_self_signed(vec!["minhu.example".to_owned()]).unwrap();
    (made.cert.pem(), made.signing_key.serialize_pem())
});

/// `key = "value"` pairs anywhere in a TOML text (inline tables and comments included: a file
/// or variable made for a commented-out key does no harm).
static STRING_KEY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"\b([A-Za-z0-9_]+)\s*=\s*"([^"]*)""#).unwrap());

#[derive(Clone, Copy, PartialEq, Debug)]
enum Example {
    /// `# minhu.toml`: a whole service file.
    Service,
    /// `# routing.toml`: a whole routing file.
    Routing,
    /// `# fragment`: part of a file; not checked.
    Fragment,
}

fn example_kind(block: &str) -> Option<Example> {
    let first = block.lines().next().unwrap_or_default();
    [
        ("# minhu.toml", Example::Service),
        ("# routing.toml", Example::Routing),
        ("# fragment", Example::Fragment),
    ]
    .into_iter()
    .find_map(|(mark, kind)| first.starts_with(mark).then_some(kind))
}

/// Runs `minhu check-config` on `block` in a temporary folder laid out like the repository:
/// `config/` is a copy of the repository's (sample routing, calendars, areas, taxonomy), and
/// the working directory its parent. A service file replaces `config/minhu.toml`, with every
/// path under `/etc/minhu/` moved into that `config/`; every file a `…_file` key names is made
/// when missing (a certificate for `.pem`, a private key for `tls_key_file`, else a sealing
/// key) and every variable a `…_env` key names is set. A routing file replaces
/// `config/routing.toml` beside the sample service file. `MINHU_*` variables are removed:
/// they are config overrides, and only the example counts. Err holds what it said.
fn check_config(block: &str, kind: Example) -> Result<(), String> {
    if kind == Example::Fragment {
        return Ok(());
    }
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    copy_dir(&repo("config"), &config);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_minhu"));
    for (var, _) in std::env::vars_os() {
        if var.to_string_lossy().starts_with("MINHU_") {
            cmd.env_remove(var);
        }
    }
    match kind {
        Example::Fragment => unreachable!("fragments are not checked"),
        Example::Routing => std::fs::write(config.join("routing.toml"), block).unwrap(),
        Example::Service => {
            let text = block.replace("\"/etc/minhu/", &format!("\"{}/", config.display()));
            for m in STRING_KEY.captures_iter(&text) {
                let (key, value) = (&m[1], &m[2]);
                if key.ends_with("_file") && !value.is_empty() {
                    let file = dir.path().join(value);
                    if !file.exists() {
                        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
                        let content = if key == "tls_key_file" {
                            CERT.1.clone()
                        } else if value.ends_with(".pem") {
                            CERT.0.clone()
                        } else {
                            format!("{KEY}\n")
                        };
                        std::fs::write(&file, content).unwrap();
                    }
                } else if key.ends_with("_env") && !value.is_empty() && !value.starts_with("MINHU_")
                {
                    cmd.env(value, KEY);
                }
            }
            std::fs::write(config.join("minhu.toml"), &text).unwrap();
        }
    }
    let out = cmd
        .current_dir(dir.path())
        .arg("--config")
        .arg(config.join("minhu.toml"))
        .arg("check-config")
        .output()
        .expect("run minhu check-config");
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// Every configuration example in the guides passes `minhu check-config`, as the first line of
/// each says (see the module's comment).
#[test]
fn guide_config_examples_pass_check_config() {
    // The check itself: the sample routing file passes as an example, a misspelt key fails.
    let sample = read(&repo("config/routing.toml"));
    check_config(&format!("# routing.toml\n{sample}"), Example::Routing)
        .expect("the sample routing file passes as a `# routing.toml` example");
    assert!(
        check_config(
            "# minhu.toml\n[grpc]\nlisten_on = \"x\"\n",
            Example::Service
        )
        .is_err(),
        "a misspelt key passed: the check checks nothing"
    );

    let mut failures = Vec::new();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for file in guides() {
        let name = shown(&file);
        for (line, block) in toml_blocks(&read(&file)) {
            let at = format!("{name}:{line}");
            let Some(kind) = example_kind(&block) else {
                failures.push(format!(
                    "{at}: a ```toml example starts with `# minhu.toml`, `# routing.toml` or \
                     `# fragment` (so that this test checks it, or knows not to)"
                ));
                continue;
            };
            *counts.entry(format!("{name} {kind:?}")).or_default() += 1;
            if let Err(said) = check_config(&block, kind) {
                failures.push(format!(
                    "{at}: minhu check-config refuses the example:\n{said}--- the example ---\n{block}"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        counts
            .get("docs/deployment.md Service")
            .is_some_and(|n| *n >= 2),
        "docs/deployment.md shows whole service files: {counts:?}"
    );
    let checked: usize = counts
        .iter()
        .filter(|(k, _)| !k.ends_with("Fragment"))
        .map(|(_, n)| n)
        .sum();
    assert!(checked >= 15, "only {checked} examples checked: {counts:?}");
}
