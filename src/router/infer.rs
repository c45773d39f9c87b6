//! Category inference from a report's text, for channels that give no category (WeChat,
//! e-mail, many hotline orders). The taxonomy's keywords are the evidence: every keyword found
//! in the text scores its length in characters, because a longer word ("广场舞") says more than
//! a short one ("坑"). The category's own name is weaker evidence: each of its character bigrams
//! found in the text (and not already part of a keyword) scores half a character ("油烟扰民"
//! gives "扰民", "停水" gives itself). The best category wins only when it is clearly ahead; a
//! tie is no answer, since a wrong category routes a citizen's problem to the wrong department
//! and merges it with the wrong case.
use minhu_adapter_citymgmt::taxonomy::Taxonomy;

/// What inference concluded about one text.
#[derive(Debug, Clone, PartialEq)]
pub struct Inference {
    /// The taxonomy code, e.g. `road.pothole`.
    pub code: String,
    /// Evidence in half characters: twice the matched keywords' lengths, plus one per matched
    /// bigram of the category's name.
    pub score: u32,
    /// The keywords found, in taxonomy order, then the name's bigrams found (the reasons shown
    /// to operators).
    pub matched: Vec<String>,
}

#[derive(Debug, Clone)]
struct Entry {
    code: String,
    /// Keywords with their weight (two per character).
    keywords: Vec<(String, u32)>,
}

/// Bigrams of a category name that are not inside one of its keywords, each weighing one.
fn name_bigrams(name: &str, keywords: &[String]) -> Vec<(String, u32)> {
    let cs: Vec<char> = name.chars().filter(|c| c.is_alphanumeric()).collect();
    let mut out: Vec<(String, u32)> = Vec::new();
    for w in cs.windows(2) {
        let g: String = w.iter().collect::<String>().to_lowercase();
        if !keywords.iter().any(|k| k.to_lowercase().contains(&g))
            && !out.iter().any(|(o, _)| *o == g)
        {
            out.push((g, 1));
        }
    }
    out
}

/// Keyword-based classifier built from a taxonomy. Immutable; part of a compiled router.
#[derive(Debug, Clone, Default)]
pub struct CategoryInferrer {
    entries: Vec<Entry>,
}

impl CategoryInferrer {
    pub fn new(taxonomy: &Taxonomy) -> Self {
        let entries = taxonomy
            .categories
            .iter()
            .map(|c| Entry {
                code: c.code.clone(),
                keywords: c
                    .keywords
                    .iter()
                    .filter(|k| !k.trim().is_empty())
                    .map(|k| (k.to_lowercase(), 2 * k.chars().count() as u32))
                    .chain(name_bigrams(&c.name, &c.keywords))
                    .collect(),
            })
            .collect();
        Self { entries }
    }

    /// Whether any category has keywords (an empty inferrer never answers).
    pub fn is_empty(&self) -> bool {
        self.entries.iter().all(|e| e.keywords.is_empty())
    }

    /// The category the text is about, when one is clearly ahead of all others.
    pub fn infer(&self, text: &str) -> Option<Inference> {
        let text = text.to_lowercase();
        let mut best: Option<Inference> = None;
        let mut runner_up = 0u32;
        for e in &self.entries {
            let mut score = 0;
            let mut matched = Vec::new();
            for (k, len) in &e.keywords {
                if text.contains(k.as_str()) {
                    score += len;
                    matched.push(k.clone());
                }
            }
            if score == 0 {
                continue;
            }
            match &best {
                Some(b) if score <= b.score => runner_up = runner_up.max(score),
                _ => {
                    if let Some(b) = &best {
                        runner_up = runner_up.max(b.score);
                    }
                    best = Some(Inference {
                        code: e.code.clone(),
                        score,
                        matched,
                    });
                }
            }
        }
        best.filter(|b| b.score > runner_up)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inferrer() -> CategoryInferrer {
        let t = Taxonomy::from_toml(
            r#"
[[category]]
code = "road.pothole"
name = "道路坑洼破损"
keywords = ["坑", "路面", "塌陷"]

[[category]]
code = "noise.square_dance"
name = "广场舞噪音"
keywords = ["广场舞", "音响"]

[[category]]
code = "noise.construction"
name = "夜间施工噪音"
keywords = ["施工", "噪音"]

[[category]]
code = "noise.commercial"
name = "商铺噪音"
keywords = ["KTV", "噪音"]
"#,
        )
        .unwrap();
        CategoryInferrer::new(&t)
    }

    #[test]
    fn the_category_with_most_keyword_evidence_wins() {
        let i = inferrer()
            .infer("小区门口路面有个大坑，晚上看不见")
            .unwrap();
        assert_eq!(i.code, "road.pothole");
        assert_eq!(i.score, 6);
        assert_eq!(i.matched, ["坑", "路面"]);
    }

    #[test]
    fn longer_keywords_weigh_more() {
        let i = inferrer().infer("广场舞到十点，坑人").unwrap();
        assert_eq!(i.code, "noise.square_dance");
    }

    #[test]
    fn the_category_name_is_weaker_evidence() {
        // No keyword, but "道路" and "破损" are bigrams of the pothole category's name.
        let i = inferrer().infer("道路破损严重").unwrap();
        assert_eq!((i.code.as_str(), i.score), ("road.pothole", 2));
        assert_eq!(i.matched, ["道路", "破损"]);
        // A keyword outweighs a name bigram of another category.
        assert_eq!(
            inferrer().infer("施工道路").unwrap().code,
            "noise.construction"
        );
    }

    #[test]
    fn a_tie_is_no_answer() {
        // "噪音" is a keyword of two categories and nothing else decides.
        assert_eq!(inferrer().infer("楼下噪音很大"), None);
    }

    #[test]
    fn keywords_match_regardless_of_ascii_case() {
        assert_eq!(
            inferrer().infer("楼下ktv噪音扰民").unwrap().code,
            "noise.commercial"
        );
    }

    #[test]
    fn no_keyword_no_category() {
        assert_eq!(inferrer().infer("咨询社保缴费年限"), None);
        assert!(CategoryInferrer::default().is_empty());
    }
}
