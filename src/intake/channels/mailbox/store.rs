//! The content-addressed attachment store: an attachment with SHA-256 `h` lives at
//! `<dir>/<h[0..2]>/<h>`, referenced from requests as `minhu-attachment:sha256:<h>`. Files are
//! written to a temporary name, fsynced and renamed into place (and the directory fsynced), so a
//! reader never sees half a file and a crash leaves at most a stray `.tmp`. All of it happens
//! *before* the Submit: a ticket on disk never references a file that is not.
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use minhu_adapter_mailbox::AttachmentData;

/// Where the attachment with lower-case hex SHA-256 `sha256` is kept, or None if `sha256` is
/// not 64 hex digits (then it is not a name this store ever made).
pub fn path_of(dir: &Path, sha256: &str) -> Option<PathBuf> {
    let valid = sha256.len() == 64
        && sha256
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    valid.then(|| dir.join(&sha256[..2]).join(sha256))
}

/// Stores every attachment (those already present are left as they are: same hash, same
/// bytes). Blocking: call it from a blocking thread.
pub fn store_all(dir: &Path, attachments: &[AttachmentData]) -> io::Result<()> {
    for a in attachments {
        store(dir, a)?;
    }
    Ok(())
}

fn store(dir: &Path, a: &AttachmentData) -> io::Result<()> {
    let path = path_of(dir, &a.sha256)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "attachment hash is not hex"))?;
    if fs::metadata(&path).is_ok_and(|m| m.len() == a.bytes.len() as u64) {
        return Ok(());
    }
    let folder = path.parent().unwrap_or(dir);
    fs::create_dir_all(folder)?;
    let tmp = folder.join(format!(".{}.{:016x}.tmp", a.sha256, rand::random::<u64>()));
    let written = (|| {
        let mut f = File::create_new(&tmp)?;
        f.write_all(&a.bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, &path)?;
        File::open(folder)?.sync_all()
    })();
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_by_hash_once_and_refuses_odd_names() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = AttachmentData {
            sha256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".into(),
            media_type: "text/plain".into(),
            filename: None,
            bytes: b"test".to_vec(),
        };
        store_all(dir.path(), &[a.clone(), a.clone()]).expect("store");
        let p = path_of(dir.path(), &a.sha256).expect("valid hash");
        assert_eq!(fs::read(&p).expect("read back"), b"test");
        let entries = fs::read_dir(p.parent().expect("folder"))
            .expect("list")
            .count();
        assert_eq!(entries, 1, "no temporary file left behind");
        assert!(path_of(dir.path(), "../../etc/passwd").is_none());
    }
}
