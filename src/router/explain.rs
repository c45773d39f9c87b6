//! `minhu routes explain request.json`: which rules were tried, in order, each condition's
//! outcome, and the decision. The steps come from the same walk that routes live traffic
//! ([`super::Router::explain`]), so the explanation is the routing.
use std::fmt::Write as _;

use super::cases::shanghai;
use super::decide::{Explanation, Step};
use crate::outbox::envelope::level_code;

/// The report an operator reads.
pub fn render(e: &Explanation, version: &str, at_ms: i64) -> String {
    let mut s = String::new();
    let r = &e.routed;
    let _ = writeln!(
        s,
        "routing version {version}, accepted at {}",
        shanghai(at_ms)
    );
    if let Some(i) = &r.inferred {
        let _ = writeln!(
            s,
            "category inferred from the text: {} (keywords {:?})",
            i.code, i.matched
        );
    }
    s.push_str("\nrules tried, in order:\n");
    if e.steps.is_empty() {
        s.push_str("  (no rules)\n");
    }
    steps(&mut s, &e.steps);
    if !e.linkage.is_empty() {
        s.push_str("\nemergency linkage rules:\n");
        steps(&mut s, &e.linkage);
    }
    let d = &r.decision;
    let _ = writeln!(
        s,
        "\ndecision: {} (level {}, due {}{}) by {}\nreason:   {}",
        d.department_id,
        level_code(d.level),
        shanghai(d.due_at_ms),
        provisional(&d.provisional_years),
        d.rule_id,
        r.reason
    );
    match &e.escalation {
        Some(policy) => s.push_str(&policy.describe("")),
        None => s.push_str("escalation: none\n"),
    }
    for c in &r.co_handlers {
        let _ = writeln!(
            s,
            "co-handler: {} (level {}, due {}{}) by {}, escalation {}",
            c.decision.department_id,
            level_code(c.decision.level),
            shanghai(c.decision.due_at_ms),
            provisional(&c.decision.provisional_years),
            c.decision.rule_id,
            c.decision.escalation.as_deref().unwrap_or("none")
        );
    }
    for l in &r.linkage {
        let _ = writeln!(
            s,
            "EMERGENCY LINKAGE: line {} — {} (rule {})",
            l.line, l.reason, l.rule_id
        );
    }
    if let Some(p) = r.priority {
        let _ = writeln!(s, "priority: {p}");
    }
    if let Some(gap) = r.calendar_gap {
        let _ = writeln!(
            s,
            "WARNING: {gap}; the deadline was counted Monday to Friday"
        );
    }
    s
}

/// `, provisional: 2027 has no official calendar yet` when a deadline counted such a year.
fn provisional(years: &[i64]) -> String {
    if years.is_empty() {
        return String::new();
    }
    let list: Vec<String> = years.iter().map(i64::to_string).collect();
    format!(
        ", provisional: no official calendar for {} yet",
        list.join(", ")
    )
}

fn steps(s: &mut String, steps: &[Step]) {
    for st in steps {
        let pad = "  ".repeat(st.depth + 1);
        let _ = write!(
            s,
            "{pad}{} {}",
            if st.matched { "MATCH" } else { "no   " },
            st.rule_id
        );
        if !st.description.is_empty() {
            let _ = write!(s, " — {}", st.description);
        }
        s.push('\n');
        if st.outcomes.is_empty() {
            let _ = writeln!(s, "{pad}      (no conditions: matches everything)");
        }
        for o in &st.outcomes {
            let _ = writeln!(
                s,
                "{pad}      {} {:<14} {}",
                if o.ok { "✓" } else { "✗" },
                o.condition,
                o.detail
            );
        }
    }
}

/// `minhu routes explain FILE [--at TIME]`: prints the report; exit code 2 on a bad file.
pub fn run(
    router: &super::Router,
    file: &std::path::Path,
    at: Option<&str>,
) -> std::process::ExitCode {
    let at_ms = match at {
        None => crate::time::now_ms(),
        Some(t) => match t
            .parse::<toml::value::Datetime>()
            .map_err(|e| e.to_string())
            .and_then(|dt| super::cases::datetime_ms(&dt))
        {
            Ok(ms) => ms,
            Err(e) => {
                eprintln!("--at {t:?}: {e}");
                return std::process::ExitCode::from(2);
            }
        },
    };
    let req = match std::fs::read_to_string(file)
        .map_err(|e| e.to_string())
        .and_then(|t| crate::json::request_from_json(&t))
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{}: {e}", file.display());
            return std::process::ExitCode::from(2);
        }
    };
    print!(
        "{}",
        render(&router.explain(&req, at_ms), router.version(), at_ms)
    );
    std::process::ExitCode::SUCCESS
}
