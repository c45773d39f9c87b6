//! Merging reports of one problem from different citizens into one case (专项反馈).
//!
//! - [`config`]: the `[merge]` section (threshold, distances, time windows, weights, overrides).
//! - [`signals`]: each signal as a plain function (bigrams, distance, spots, numbers).
//! - [`lexicon`]: the words addresses are read with (`[merge.spots]` extends the built-in ones).
//! - [`spot`]: the spot a report names ("银行旁") and whether two spots are the same;
//!   `spot/read.rs` reads it out of an address or description.
//! - [`sketch`]: the compact form of a report the index keeps and the store persists.
//! - [`score`]: a report against a case, signal by signal.
//! - [`corpus`]: pairwise precision and recall on a labelled corpus of reports.
//! - [`explain`]: `minhu tickets explain`, the reasons of a decision as text.
//! - [`decision`]: a decision's input and its reasons (audit trail, explanations).
//! - [`index`]: the open cases by (district, category), with undo for rolled-back commits;
//!   `index/postings.rs` lists them under grid cells and address bigrams to find candidates.
//!
//! The decision itself is made by the store's writer thread ([`crate::store`]), inside the
//! transaction that files the ticket, so two reports of one incident arriving together cannot
//! both open a case, and the index reflects exactly what is committed.
pub mod config;
pub mod corpus;
pub mod decision;
pub mod explain;
pub mod index;
pub mod lexicon;
pub mod score;
pub mod signals;
pub mod sketch;
pub mod spot;

pub use config::MergeConfig;
pub use decision::{Candidate, Decision, Probe};
pub use index::Index;
pub use lexicon::Lexicon;
pub use sketch::Sketch;

use crate::pb;

/// The probe for a request: its sketch (with the spot `lex` reads), district and category
/// (given, else inferred from its title and description with the taxonomy's keywords). The
/// ticket number is filled in by the writer.
pub fn probe(
    req: &pb::Request,
    lex: &Lexicon,
    infer: &dyn Fn(&str) -> Option<String>,
    accepted_ms: i64,
) -> Probe {
    let district = req
        .location
        .as_ref()
        .and_then(|l| l.district_code.trim().parse::<u32>().ok())
        .unwrap_or(0);
    let (category, category_inferred) = if req.category.trim().is_empty() {
        let text = format!("{} {}", req.title, req.description);
        match infer(&text) {
            Some(code) => (code, true),
            None => (String::new(), false),
        }
    } else {
        (req.category.trim().to_owned(), false)
    };
    Probe {
        district,
        category,
        category_inferred,
        sketch: Sketch::of(req, lex, 0, accepted_ms),
    }
}

#[cfg(test)]
mod tests;
