//! The credential store: one JSON record file per credential in the wallet home, written
//! so that a crash mid-write never leaves a half-written record.
//!
//! Layout of the wallet home:
//!
//! ```text
//! HOME/key.json                       the holder key (see `holder_key`), mode 0600
//! HOME/trust.toml                     optional trust list used by import and verify
//! HOME/credentials/<sha256>.json      one record per credential
//! ```
//!
//! `<sha256>` is the SHA-256 (hex) of the credential's `id`, or of its JCS form when it has
//! none; so one credential `id` has exactly one file, and duplicates are found by name.
//! A record's local id is a prefix of that hash: [`SHORT_ID_LEN`] characters are shown,
//! and any unique prefix of at least [`MIN_PREFIX_LEN`] is accepted, like git.
//!
//! Invariants:
//! - every write goes to a temporary file in the same directory, is fsynced, renamed over
//!   the record, and the directory is fsynced: a reader sees the old record or the new
//!   one, never a mixture. Leftover temporary files (`.tmp-*`) are ignored;
//! - records are read with the strict JSON parser; a damaged record is an error naming
//!   its file, never a panic, and never stops the other records from being listed.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Characters of the hash shown as a credential's local id.
pub const SHORT_ID_LEN: usize = 8;
/// Shortest prefix accepted to name a credential.
pub const MIN_PREFIX_LEN: usize = 4;
/// Largest record file read (a credential is at most 2 MiB, plus the report).
const MAX_RECORD_BYTES: usize = 8 * 1024 * 1024;
const RECORD_FORMAT: u32 = 1;

/// A wallet home directory.
#[derive(Debug, Clone)]
pub struct Home {
    root: PathBuf,
}

/// One stored credential and what the wallet knows about it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Record {
    pub format: u32,
    /// The credential `id` (or `sha256:<hex>` of its JCS form when it has none).
    pub key: String,
    /// When it was imported (RFC 3339, UTC).
    pub imported_at: String,
    /// Where it came from: a file path, `stdin` or a URL.
    pub source: String,
    /// The certificate's web link, when known (imported from a URL or an issuer's award).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// Stored with `--force` although it did not verify.
    #[serde(default)]
    pub forced: bool,
    pub last_verification: Verification,
    /// The credential exactly as parsed at import (key order kept).
    pub credential: Value,
}

/// The outcome of a verification, as recorded.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Verification {
    /// When it ran (RFC 3339, UTC).
    pub at: String,
    pub verified: bool,
    pub trusted: bool,
    /// The core's verdict, kebab-case (`valid`, `unknown-issuer`, `revoked`, ...).
    pub verdict: String,
    pub checks: Vec<CheckRecord>,
}

/// One check of a recorded verification.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckRecord {
    pub name: String,
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    pub message: String,
}

/// A stored credential's file, found by its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub hash: String,
    pub path: PathBuf,
}

impl Entry {
    pub fn short_id(&self) -> &str {
        self.hash.get(..SHORT_ID_LEN).unwrap_or(&self.hash)
    }
}

impl Record {
    pub fn new(
        key: String,
        source: String,
        link: Option<String>,
        credential: Value,
        verification: Verification,
    ) -> Self {
        let forced = !verification.verified;
        Self {
            format: RECORD_FORMAT,
            key,
            imported_at: verification.at.clone(),
            source,
            link,
            forced,
            last_verification: verification,
            credential,
        }
    }
}

/// The key that identifies a credential in the store: its `id`, else its content hash.
pub fn credential_key(credential: &Value) -> Result<String> {
    match credential.get("id").and_then(Value::as_str) {
        Some(id) if !id.is_empty() => Ok(id.to_owned()),
        _ => {
            let canonical = bem_core::jcs::canonicalize(credential)
                .map_err(|e| anyhow!("cannot compute the credential's content hash: {e}"))?;
            Ok(format!("sha256:{}", hex(&Sha256::digest(canonical.as_bytes()))))
        }
    }
}

/// SHA-256 of `key`, in lowercase hex: the record's file name and local id.
pub fn hash_of_key(key: &str) -> String {
    hex(&Sha256::digest(key.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Home {
    pub fn new(root: PathBuf) -> Self {
        Self { root }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn key_file(&self) -> PathBuf {
        self.root.join("key.json")
    }

    pub fn trust_file(&self) -> PathBuf {
        self.root.join("trust.toml")
    }

    fn credentials_dir(&self) -> PathBuf {
        self.root.join("credentials")
    }

    /// Creates the home and its credential directory (mode 0700).
    pub fn create(&self) -> Result<()> {
        use std::os::unix::fs::DirBuilderExt;
        for dir in [self.root.clone(), self.credentials_dir()] {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&dir)
                .with_context(|| format!("cannot create the directory {}", dir.display()))?;
        }
        Ok(())
    }

    /// Fails with a hint to run `init` when the home has no wallet yet.
    pub fn require_initialised(&self) -> Result<()> {
        if !self.key_file().exists() || !self.credentials_dir().is_dir() {
            bail!(
                "no wallet in {}: run `bem-wallet init` first (or pass --home DIR / set BEM_WALLET_HOME)",
                self.root.display()
            );
        }
        Ok(())
    }

    /// Every record file, sorted by hash.
    pub fn entries(&self) -> Result<Vec<Entry>> {
        let dir = self.credentials_dir();
        let reader =
            fs::read_dir(&dir).with_context(|| format!("cannot read the store {}", dir.display()))?;
        let mut entries = Vec::new();
        for item in reader {
            let item = item.with_context(|| format!("cannot read the store {}", dir.display()))?;
            let name = item.file_name();
            let Some(hash) = name.to_str().and_then(|n| n.strip_suffix(".json")) else { continue };
            if hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()) {
                entries.push(Entry { hash: hash.to_owned(), path: item.path() });
            }
        }
        entries.sort_by(|a, b| a.hash.cmp(&b.hash));
        Ok(entries)
    }

    /// The entry of the credential with this store key, if stored.
    pub fn entry_for_key(&self, key: &str) -> Option<Entry> {
        let hash = hash_of_key(key);
        let path = self.credentials_dir().join(format!("{hash}.json"));
        path.exists().then_some(Entry { hash, path })
    }

    /// Finds the one credential named by `id`: a unique hash prefix (at least
    /// [`MIN_PREFIX_LEN`] characters) or a credential's full `id`.
    pub fn resolve(&self, id: &str) -> Result<Entry> {
        if let Some(entry) = self.entry_for_key(id) {
            return Ok(entry);
        }
        let prefix = id.to_ascii_lowercase();
        if prefix.len() < MIN_PREFIX_LEN || !prefix.bytes().all(|b| b.is_ascii_hexdigit()) {
            bail!(
                "{id:?} names no stored credential: give the local id shown by `bem-wallet list` \
                 (at least {MIN_PREFIX_LEN} hex characters) or the credential's full id"
            );
        }
        let matches: Vec<Entry> =
            self.entries()?.into_iter().filter(|e| e.hash.starts_with(&prefix)).collect();
        match matches.as_slice() {
            [] => bail!("no stored credential has the id {id:?}: `bem-wallet list` shows the ids"),
            [one] => Ok(one.clone()),
            many => {
                let candidates: Vec<String> = many
                    .iter()
                    .map(|e| {
                        let what =
                            self.load(e).map(|r| r.key).unwrap_or_else(|_| "(unreadable record)".into());
                        format!("  {}  {}", e.hash.get(..prefix.len() + 4).unwrap_or(&e.hash), what)
                    })
                    .collect();
                bail!(
                    "the id {id:?} is ambiguous; it could be:\n{}\ngive more characters",
                    candidates.join("\n")
                )
            }
        }
    }

    /// Reads and checks one record.
    pub fn load(&self, entry: &Entry) -> Result<Record> {
        let bytes = fs::read(&entry.path).with_context(|| format!("cannot read {}", entry.path.display()))?;
        let corrupt = |why: String| {
            anyhow!(
                "the stored record {} is damaged ({why}); remove it with `bem-wallet remove {}` \
                 and import the credential again",
                entry.path.display(),
                entry.short_id()
            )
        };
        let limits = bem_core::json::JsonLimits { max_bytes: MAX_RECORD_BYTES, ..Default::default() };
        let value = bem_core::json::parse(&bytes, &limits).map_err(|e| corrupt(e.message))?;
        let record: Record = serde_json::from_value(value).map_err(|e| corrupt(e.to_string()))?;
        if record.format != RECORD_FORMAT {
            return Err(corrupt(format!(
                "record format {} is not the supported {RECORD_FORMAT}",
                record.format
            )));
        }
        if hash_of_key(&record.key) != entry.hash {
            return Err(corrupt("its credential does not belong under this file name".into()));
        }
        Ok(record)
    }

    /// Writes `record` crash-safely, replacing any record of the same credential.
    pub fn save(&self, record: &Record) -> Result<Entry> {
        let hash = hash_of_key(&record.key);
        let path = self.credentials_dir().join(format!("{hash}.json"));
        let mut bytes = serde_json::to_vec_pretty(record).context("cannot serialise the record")?;
        bytes.push(b'\n');
        write_atomically(&path, &bytes, 0o600)?;
        Ok(Entry { hash, path })
    }

    /// Deletes a record (and syncs the directory).
    pub fn remove(&self, entry: &Entry) -> Result<()> {
        fs::remove_file(&entry.path).with_context(|| format!("cannot remove {}", entry.path.display()))?;
        sync_dir(&self.credentials_dir())
    }
}

/// Writes `bytes` to `path` through a temporary file in the same directory: write,
/// fsync, rename, fsync the directory. The file gets `mode`.
///
/// The temporary name carries 96 random bits and is created with `O_CREAT|O_EXCL`
/// (`create_new`), which never follows a symbolic link and never opens a file someone
/// else made: another user who can write to the directory cannot predict the name, nor
/// make the wallet write through a link planted under it.
pub fn write_atomically(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    let dir = path.parent().ok_or_else(|| anyhow!("{} has no parent directory", path.display()))?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("record");
    let temp = dir.join(format!(".tmp-{name}-{}", random_suffix()));
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(&temp)
        .with_context(|| format!("cannot create {}", temp.display()))?;
    // From here the temporary file is ours: remove it if anything fails.
    let result = (|| -> Result<()> {
        file.write_all(bytes).with_context(|| format!("cannot write {}", temp.display()))?;
        file.sync_all().with_context(|| format!("cannot sync {}", temp.display()))?;
        fs::rename(&temp, path).with_context(|| format!("cannot move {} into place", path.display()))?;
        sync_dir(dir)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}

/// 24 hex digits from the operating system's random source.
fn random_suffix() -> String {
    use rand_core::{OsRng, RngCore};
    let mut bytes = [0u8; 12];
    OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("cannot sync the directory {}", dir.display()))
}
