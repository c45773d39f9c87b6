//! Config problems. Validation collects every problem before reporting, so an operator fixes a
//! file in one pass instead of one error per restart.
use std::fmt;
use std::path::PathBuf;

/// One thing wrong in a config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file it is in.
    pub file: PathBuf,
    /// The key, e.g. `rule[3].department` or `amqp.confirm_window`.
    pub key: String,
    /// The line the key is on, when known (see `config::lines`).
    pub line: Option<usize>,
    /// What is wrong, and what would be right.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(
                f,
                "{}:{line}: {}: {}",
                self.file.display(),
                self.key,
                self.message
            ),
            None => write!(f, "{}: {}: {}", self.file.display(), self.key, self.message),
        }
    }
}

/// Every problem found in the configuration.
#[derive(Debug, thiserror::Error)]
pub struct ConfigError {
    pub problems: Vec<Problem>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.problems.len();
        write!(
            f,
            "{n} configuration problem{}:",
            if n == 1 { "" } else { "s" }
        )?;
        for p in &self.problems {
            write!(f, "\n  {p}")?;
        }
        Ok(())
    }
}

/// Collects problems for one file.
#[derive(Debug)]
pub struct Problems {
    file: PathBuf,
    pub list: Vec<Problem>,
}

impl Problems {
    pub fn new(file: impl Into<PathBuf>) -> Self {
        Self {
            file: file.into(),
            list: Vec::new(),
        }
    }

    /// Records a problem at `key`.
    pub fn add(&mut self, key: impl Into<String>, message: impl Into<String>) {
        self.list.push(Problem {
            file: self.file.clone(),
            key: key.into(),
            line: None,
            message: message.into(),
        });
    }
}
