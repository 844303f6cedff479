//! The issuer's SQLite database: schema and migrations, and every read and write of
//! keys, the catalogue, issued credentials, status lists and status entries.
//!
//! Invariants:
//! - WAL journal, `synchronous=FULL` and foreign keys on every connection, so a commit
//!   is on disk when it returns: a transaction committed before an HTTP answer survives
//!   a crash.
//! - An issued credential and its status entries are written in one transaction
//!   ([`Db::insert_issued`]); a crash leaves either all of it or none.
//! - `(list_id, idx)` is the primary key of `status_entries`: a status index is never
//!   given to two credentials, whatever the process does in memory.
//! - A status change and the invalidation of its list's signed copy are one transaction.
//! - The schema version is `PRAGMA user_version`; [`MIGRATIONS`] only ever grows.
//! - The database file is created 0600, and one that group or others can access is
//!   refused (it holds learners' personal data).
//! - Erasure ([`Db::erase`]) replaces a credential's document by a tombstone and sets its
//!   revocation bit in one transaction; nothing else ever removes personal data.
//! - A bulk award is a job (`bulk_jobs`, one row per request, its `Idempotency-Key`
//!   unique) whose rows' outcomes (`bulk_rows`) are stored in the same transaction as
//!   the certificates they name ([`Db::store_bulk_chunk`]): what was issued can always
//!   be found again. The tables use only types PostgreSQL shares.
//! - At most one certificate of a micro-credential is issued by a bulk job per learner
//!   identifier (checked inside the storing transaction).

use std::path::Path;

use anyhow::Context;
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::Value;

use crate::status_lists::{Allocator, Purpose, Reservation};

/// Migrations, in order; migration `i` takes the schema from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE keys (
    id INTEGER PRIMARY KEY,
    public_multibase TEXT NOT NULL UNIQUE,
    created TEXT NOT NULL,
    retired TEXT
);
CREATE TABLE micro_credentials (
    id TEXT PRIMARY KEY,
    definition TEXT NOT NULL,
    created TEXT NOT NULL,
    updated TEXT NOT NULL
);
CREATE TABLE status_lists (
    id INTEGER PRIMARY KEY,
    purpose TEXT NOT NULL CHECK (purpose IN ('revocation', 'suspension')),
    size INTEGER NOT NULL CHECK (size > 0),
    created TEXT NOT NULL,
    signed TEXT,
    etag TEXT,
    key_id INTEGER REFERENCES keys(id)
);
CREATE TABLE credentials (
    token TEXT PRIMARY KEY,
    credential_id TEXT,
    micro_credential TEXT REFERENCES micro_credentials(id),
    learner_name TEXT,
    issued TEXT NOT NULL,
    key_id INTEGER NOT NULL REFERENCES keys(id),
    document TEXT NOT NULL
);
CREATE INDEX credentials_by_id ON credentials(credential_id);
CREATE TABLE status_entries (
    list_id INTEGER NOT NULL REFERENCES status_lists(id),
    idx INTEGER NOT NULL CHECK (idx >= 0),
    credential TEXT NOT NULL REFERENCES credentials(token),
    status INTEGER NOT NULL DEFAULT 0 CHECK (status IN (0, 1)),
    changed TEXT,
    PRIMARY KEY (list_id, idx)
);
CREATE INDEX status_entries_by_credential ON status_entries(credential);
"#,
    r#"
-- 2: status lists of purpose 'message', whose entries hold a value of STATUS_SIZE bits.
-- SQLite cannot change a CHECK in place: both tables are rebuilt (foreign keys are off
-- while migrating and checked before the commit).
CREATE TABLE status_lists_new (
    id INTEGER PRIMARY KEY,
    purpose TEXT NOT NULL CHECK (purpose IN ('revocation', 'suspension', 'message')),
    size INTEGER NOT NULL CHECK (size > 0),
    created TEXT NOT NULL,
    signed TEXT,
    etag TEXT,
    key_id INTEGER REFERENCES keys(id)
);
INSERT INTO status_lists_new SELECT id, purpose, size, created, signed, etag, key_id FROM status_lists;
CREATE TABLE status_entries_new (
    list_id INTEGER NOT NULL REFERENCES status_lists(id),
    idx INTEGER NOT NULL CHECK (idx >= 0),
    credential TEXT NOT NULL REFERENCES credentials(token),
    status INTEGER NOT NULL DEFAULT 0 CHECK (status BETWEEN 0 AND 255),
    changed TEXT,
    PRIMARY KEY (list_id, idx)
);
INSERT INTO status_entries_new SELECT list_id, idx, credential, status, changed FROM status_entries;
DROP TABLE status_entries;
DROP TABLE status_lists;
ALTER TABLE status_lists_new RENAME TO status_lists;
ALTER TABLE status_entries_new RENAME TO status_entries;
CREATE INDEX status_entries_by_credential ON status_entries(credential);
"#,
    r#"
-- 3: erasure of a learner's personal data (`bem-issuer learner erase`): when set, the
-- document is a tombstone and the learner's name is gone.
ALTER TABLE credentials ADD COLUMN erased TEXT;
"#,
    r#"
-- 4: bulk jobs and their rows' outcomes, kept after the request; the learner identifier
-- of each certificate (a bulk row whose identifier holds the micro-credential already
-- gets that certificate, not a second one).
ALTER TABLE credentials ADD COLUMN learner_identifier TEXT;
CREATE INDEX credentials_by_learner ON credentials(micro_credential, learner_identifier);
CREATE TABLE bulk_jobs (
    id TEXT PRIMARY KEY,
    idempotency_key TEXT UNIQUE,
    micro_credential TEXT NOT NULL REFERENCES micro_credentials(id),
    profile TEXT NOT NULL,
    body_sha256 TEXT NOT NULL,
    rows INTEGER NOT NULL CHECK (rows >= 0),
    created TEXT NOT NULL,
    finished TEXT
);
CREATE TABLE bulk_rows (
    job TEXT NOT NULL REFERENCES bulk_jobs(id),
    line INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('issued', 'existing', 'failed')),
    credential TEXT REFERENCES credentials(token),
    problems TEXT,
    PRIMARY KEY (job, line)
);
"#,
];

/// One signing key the issuer has used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRow {
    pub id: i64,
    pub public_multibase: String,
    pub created: String,
    pub retired: Option<String>,
}

/// A status list as stored.
#[derive(Debug, Clone)]
pub struct ListRow {
    pub purpose: Purpose,
    pub size: usize,
    pub signed: Option<String>,
    pub etag: Option<String>,
    /// The key whose DID issues the credentials of this list, and so signs it.
    pub key_id: Option<i64>,
}

/// A credential as stored.
#[derive(Debug, Clone)]
pub struct CredentialRow {
    pub document: Value,
    /// When its personal data was erased (the document is then a tombstone).
    pub erased: Option<String>,
}

/// What erasing one credential did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Erased {
    /// The credential's `id` (or its link token when it has none).
    pub name: String,
    /// The revocation bit was set now (`false`: it was set before).
    pub revoked_now: bool,
    /// It has a revocation entry at all (a VC API credential may have none).
    pub revocable: bool,
}

/// A credential ready to be stored with its status entries.
#[derive(Debug, Clone)]
pub struct NewCredential {
    pub token: String,
    pub credential_id: Option<String>,
    pub micro_credential: Option<String>,
    pub learner_name: Option<String>,
    /// The provider's identifier of the learner.
    pub learner_identifier: Option<String>,
    pub issued: String,
    pub key_id: i64,
    pub document: String,
    pub entries: Vec<Reservation>,
}

/// A bulk job as stored.
#[derive(Debug, Clone)]
pub struct BulkJob {
    pub id: String,
    pub idempotency_key: Option<String>,
    pub micro_credential: String,
    /// `elm` or `openbadges`.
    pub profile: String,
    /// Hex SHA-256 of the CSV body: a key repeated with another body is another request.
    pub body_sha256: String,
    /// Learner rows of the request.
    pub rows: usize,
    pub created: String,
    pub finished: Option<String>,
}

/// What became of one bulk row, to store.
#[derive(Debug)]
pub enum BulkOutcome {
    /// Signed: stored unless the learner identifier got the credential meanwhile.
    Issued(NewCredential),
    /// The learner identifier holds the credential already: the token of that one.
    Existing(String),
    Failed(Vec<String>),
}

/// A bulk row's line and outcome.
#[derive(Debug)]
pub struct BulkRow {
    pub line: u64,
    pub outcome: BulkOutcome,
}

/// A bulk row's outcome as stored.
#[derive(Debug, Clone)]
pub struct StoredBulkRow {
    pub line: u64,
    /// `issued`, `existing` or `failed`.
    pub status: String,
    pub token: Option<String>,
    pub credential_id: Option<String>,
    pub problems: Vec<String>,
}

/// What a status change found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusChange {
    /// The entries were set (`changed` tells whether any bit flipped).
    Applied { changed: bool, entries: usize },
    /// No credential has this id.
    UnknownCredential,
    /// The credential exists but has no entry of this purpose.
    NoEntry,
    /// Revocation cannot be undone.
    Irreversible,
}

/// The open database and the status-index allocator that mirrors it.
pub struct Db {
    conn: Connection,
    allocator: Allocator,
}

/// Opens (creating if needed) the database at `path` and migrates it. Status indexes
/// can be reserved once [`Db::use_key`] has named the signing key.
pub fn open(path: &Path, list_size: usize) -> anyhow::Result<Db> {
    private_file(path)?;
    let mut conn =
        Connection::open(path).with_context(|| format!("cannot open database {}", path.display()))?;
    configure(&conn)?;
    migrate(&mut conn)?;
    let allocator = Allocator::empty(list_size);
    Ok(Db { conn, allocator })
}

/// Creates the database file with mode 0600 when it is absent (SQLite gives its WAL and
/// shared-memory files the database's mode), and refuses one that group or others can
/// access: it holds learners' personal data.
fn private_file(path: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    match std::fs::symlink_metadata(path) {
        Ok(meta) => {
            let mode = meta.permissions().mode() & 0o777;
            if !meta.file_type().is_file() {
                anyhow::bail!("the database {} is not a regular file", path.display());
            }
            if mode & 0o077 != 0 {
                anyhow::bail!(
                    "the database {} has mode {mode:04o}: group or others can access learners' personal \
                     data. Run `chmod 600 {}` and start again",
                    path.display(),
                    path.display()
                );
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path)
                .with_context(|| format!("cannot create database {}", path.display()))?;
            Ok(())
        }
        Err(e) => Err(anyhow::Error::new(e).context(format!("cannot read database {}", path.display()))),
    }
}

fn configure(conn: &Connection) -> anyhow::Result<()> {
    let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        anyhow::bail!("the database could not be switched to WAL (journal mode {mode})");
    }
    conn.execute_batch("PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=5000;")?;
    Ok(())
}

fn migrate(conn: &mut Connection) -> anyhow::Result<()> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let version = usize::try_from(version).context("negative schema version")?;
    if version > MIGRATIONS.len() {
        anyhow::bail!(
            "the database has schema version {version}, newer than this bem-issuer knows ({}); use a newer bem-issuer",
            MIGRATIONS.len()
        );
    }
    if version == MIGRATIONS.len() {
        return Ok(());
    }
    // Migrations may rebuild tables (SQLite's way to change a constraint), which needs
    // foreign keys off; they are checked before each commit and on again afterwards.
    conn.execute_batch("PRAGMA foreign_keys=OFF;")?;
    let migrated = (|| -> anyhow::Result<()> {
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version) {
            let tx = conn.transaction()?;
            tx.execute_batch(sql).with_context(|| format!("migration {} failed", i + 1))?;
            let broken: i64 =
                tx.query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| r.get(0))?;
            anyhow::ensure!(broken == 0, "migration {} would break {broken} foreign key(s)", i + 1);
            tx.pragma_update(None, "user_version", i64::try_from(i + 1)?)?;
            tx.commit()?;
        }
        Ok(())
    })();
    conn.execute_batch("PRAGMA foreign_keys=ON;")?;
    migrated
}

/// The current schema version of this build.
pub fn schema_version() -> usize {
    MIGRATIONS.len()
}

impl Db {
    // --- keys -----------------------------------------------------------------------

    /// Registers `public_multibase` as the current signing key (see [`Db::ensure_key`])
    /// and opens the status lists of that key: credentials and their status lists are
    /// always issued by the same DID.
    pub fn use_key(&mut self, public_multibase: &str, now: &str) -> anyhow::Result<i64> {
        let id = self.ensure_key(public_multibase, now)?;
        self.allocator = Allocator::load(&self.conn, self.allocator.size(), id)?;
        Ok(id)
    }

    /// The id of the key `public_multibase`, inserting it (as the newest key) if absent.
    pub fn ensure_key(&mut self, public_multibase: &str, now: &str) -> anyhow::Result<i64> {
        let existing: Option<i64> = self
            .conn
            .query_row("SELECT id FROM keys WHERE public_multibase = ?1", [public_multibase], |r| r.get(0))
            .optional()?;
        if let Some(id) = existing {
            return Ok(id);
        }
        let tx = self.conn.transaction()?;
        tx.execute("UPDATE keys SET retired = ?1 WHERE retired IS NULL", [now])?;
        tx.execute(
            "INSERT INTO keys (public_multibase, created) VALUES (?1, ?2)",
            params![public_multibase, now],
        )?;
        let id = tx.last_insert_rowid();
        tx.commit()?;
        Ok(id)
    }

    /// Every key that ever signed, oldest first.
    pub fn keys(&self) -> anyhow::Result<Vec<KeyRow>> {
        let mut stmt =
            self.conn.prepare("SELECT id, public_multibase, created, retired FROM keys ORDER BY id")?;
        let rows = stmt.query_map([], |r| {
            Ok(KeyRow { id: r.get(0)?, public_multibase: r.get(1)?, created: r.get(2)?, retired: r.get(3)? })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    // --- catalogue --------------------------------------------------------------------

    /// Inserts or replaces a definition; returns true when it is new.
    pub fn upsert_definition(&mut self, id: &str, definition: &Value, now: &str) -> anyhow::Result<bool> {
        let text = serde_json::to_string(definition)?;
        let tx = self.conn.transaction()?;
        let existed: bool =
            tx.query_row("SELECT EXISTS(SELECT 1 FROM micro_credentials WHERE id = ?1)", [id], |r| r.get(0))?;
        if existed {
            tx.execute(
                "UPDATE micro_credentials SET definition = ?2, updated = ?3 WHERE id = ?1",
                params![id, text, now],
            )?;
        } else {
            tx.execute(
                "INSERT INTO micro_credentials (id, definition, created, updated) VALUES (?1, ?2, ?3, ?3)",
                params![id, text, now],
            )?;
        }
        tx.commit()?;
        Ok(!existed)
    }

    /// Every definition, by id.
    pub fn definitions(&self) -> anyhow::Result<Vec<Value>> {
        let mut stmt = self.conn.prepare("SELECT definition FROM micro_credentials ORDER BY id")?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        rows.map(|text| Ok(serde_json::from_str(&text?)?)).collect()
    }

    pub fn definition(&self, id: &str) -> anyhow::Result<Option<Value>> {
        let text: Option<String> = self
            .conn
            .query_row("SELECT definition FROM micro_credentials WHERE id = ?1", [id], |r| r.get(0))
            .optional()?;
        text.map(|t| serde_json::from_str(&t).map_err(anyhow::Error::from)).transpose()
    }

    pub fn catalogue_is_empty(&self) -> anyhow::Result<bool> {
        Ok(!self.conn.query_row("SELECT EXISTS(SELECT 1 FROM micro_credentials)", [], |r| r.get(0))?)
    }

    // --- status indexes -----------------------------------------------------------------

    /// Reserves a free, random index in the current list of `purpose` (a new list when
    /// it is full). The reservation lives in memory until stored or released.
    pub fn reserve(&mut self, purpose: Purpose, now: &str) -> anyhow::Result<Reservation> {
        self.allocator.reserve(&self.conn, purpose, now)
    }

    /// Gives back reservations that were not stored.
    pub fn release(&mut self, reservations: &[Reservation]) {
        for r in reservations {
            self.allocator.release(r);
        }
    }

    // --- credentials --------------------------------------------------------------------

    /// Stores a credential and its status entries in one transaction.
    pub fn insert_issued(&mut self, new: &NewCredential) -> anyhow::Result<()> {
        let tx = self.conn.transaction()?;
        insert_issued(&tx, new)?;
        tx.commit()?;
        for r in &new.entries {
            self.allocator.commit(r);
        }
        Ok(())
    }

    /// The token of the certificate of `micro_credential` issued to learner `identifier`.
    pub fn credential_of_learner(
        &self,
        micro_credential: &str,
        identifier: &str,
    ) -> anyhow::Result<Option<String>> {
        credential_of_learner(&self.conn, micro_credential, identifier)
    }

    // --- bulk jobs ------------------------------------------------------------------------

    pub fn insert_bulk_job(&self, job: &BulkJob) -> anyhow::Result<()> {
        self.conn.execute(
            "INSERT INTO bulk_jobs (id, idempotency_key, micro_credential, profile, body_sha256, rows, created) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                job.id,
                job.idempotency_key,
                job.micro_credential,
                job.profile,
                job.body_sha256,
                i64::try_from(job.rows)?,
                job.created
            ],
        )?;
        Ok(())
    }

    fn bulk_job_where(&self, condition: &str, value: &str) -> anyhow::Result<Option<BulkJob>> {
        let sql = format!(
            "SELECT id, idempotency_key, micro_credential, profile, body_sha256, rows, created, finished \
             FROM bulk_jobs WHERE {condition} = ?1"
        );
        let job = self.conn.query_row(&sql, [value], bulk_job_row).optional()?;
        job.transpose()
    }

    pub fn bulk_job(&self, id: &str) -> anyhow::Result<Option<BulkJob>> {
        self.bulk_job_where("id", id)
    }

    pub fn bulk_job_by_key(&self, key: &str) -> anyhow::Result<Option<BulkJob>> {
        self.bulk_job_where("idempotency_key", key)
    }

    /// The newest `limit` jobs, each with its number of rows done.
    pub fn bulk_jobs(&self, limit: usize) -> anyhow::Result<Vec<(BulkJob, usize)>> {
        let mut stmt = self.conn.prepare(
            "SELECT id, idempotency_key, micro_credential, profile, body_sha256, rows, created, finished, \
             (SELECT COUNT(*) FROM bulk_rows r WHERE r.job = j.id) FROM bulk_jobs j \
             ORDER BY created DESC, id LIMIT ?1",
        )?;
        let rows =
            stmt.query_map([i64::try_from(limit)?], |r| Ok((bulk_job_row(r)?, r.get::<_, i64>(8)?)))?;
        let mut out = Vec::new();
        for row in rows {
            let (job, done) = row?;
            out.push((job?, usize::try_from(done)?));
        }
        Ok(out)
    }

    /// The lines of job `id` whose outcome is stored.
    pub fn bulk_lines(&self, id: &str) -> anyhow::Result<std::collections::HashSet<u64>> {
        let mut stmt = self.conn.prepare("SELECT line FROM bulk_rows WHERE job = ?1")?;
        let rows = stmt.query_map([id], |r| r.get::<_, i64>(0))?;
        rows.map(|r| Ok(u64::try_from(r?)?)).collect()
    }

    /// The stored outcomes of job `id`, by line.
    pub fn bulk_rows(&self, id: &str) -> anyhow::Result<Vec<StoredBulkRow>> {
        let mut stmt = self.conn.prepare(
            "SELECT r.line, r.status, r.credential, c.credential_id, r.problems FROM bulk_rows r \
             LEFT JOIN credentials c ON c.token = r.credential WHERE r.job = ?1 ORDER BY r.line",
        )?;
        let rows = stmt.query_map([id], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, Option<String>>(4)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (line, status, token, credential_id, problems) = row?;
            let problems = match problems {
                Some(text) => serde_json::from_str(&text)?,
                None => Vec::new(),
            };
            out.push(StoredBulkRow { line: u64::try_from(line)?, status, token, credential_id, problems });
        }
        Ok(out)
    }

    /// Stores the outcomes of some rows of job `id`, and the certificates of the issued
    /// ones, in one transaction (one fsync); each certificate in its own savepoint. A
    /// signed row whose learner identifier got this micro-credential meanwhile is stored
    /// as `existing` instead; a row whose insert fails is stored as `failed`. Reserved
    /// status indexes of what was not stored are given back.
    pub fn store_bulk_chunk(&mut self, id: &str, rows: Vec<BulkRow>) -> anyhow::Result<()> {
        let reserved: Vec<Reservation> = rows
            .iter()
            .filter_map(|r| match &r.outcome {
                BulkOutcome::Issued(new) => Some(new.entries.iter().copied()),
                _ => None,
            })
            .flatten()
            .collect();
        let stored = self.store_bulk_rows(id, rows);
        if stored.is_err() {
            // Nothing was committed: every reservation of the chunk is free again.
            self.release(&reserved);
        }
        stored
    }

    fn store_bulk_rows(&mut self, id: &str, rows: Vec<BulkRow>) -> anyhow::Result<()> {
        let mut tx = self.conn.transaction()?;
        let mut stored = Vec::new();
        let mut released = Vec::new();
        for row in rows {
            let (status, token, problems) = match row.outcome {
                BulkOutcome::Failed(problems) => ("failed", None, Some(problems)),
                BulkOutcome::Existing(token) => ("existing", Some(token), None),
                BulkOutcome::Issued(new) => {
                    let earlier = match (&new.micro_credential, &new.learner_identifier) {
                        (Some(mc), Some(learner)) => credential_of_learner(&tx, mc, learner)?,
                        _ => None,
                    };
                    if let Some(token) = earlier {
                        released.push(new);
                        ("existing", Some(token), None)
                    } else {
                        let mut sp = tx.savepoint()?;
                        match insert_issued(&sp, &new) {
                            Ok(()) => {
                                sp.commit()?;
                                let token = new.token.clone();
                                stored.push(new);
                                ("issued", Some(token), None)
                            }
                            Err(e) => {
                                sp.rollback()?;
                                drop(sp);
                                released.push(new);
                                ("failed", None, Some(vec![format!("not issued: {e:#}")]))
                            }
                        }
                    }
                }
            };
            let problems = problems.map(|p| serde_json::to_string(&p)).transpose()?;
            tx.execute(
                "INSERT INTO bulk_rows (job, line, status, credential, problems) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![id, i64::try_from(row.line)?, status, token, problems],
            )?;
        }
        tx.commit()?;
        for new in &stored {
            for r in &new.entries {
                self.allocator.commit(r);
            }
        }
        for new in &released {
            self.release(&new.entries);
        }
        Ok(())
    }

    pub fn finish_bulk_job(&self, id: &str, now: &str) -> anyhow::Result<()> {
        self.conn.execute("UPDATE bulk_jobs SET finished = ?2 WHERE id = ?1", params![id, now])?;
        Ok(())
    }

    /// Whether a stored credential has the `id` `credential_id`.
    pub fn credential_id_taken(&self, credential_id: &str) -> anyhow::Result<bool> {
        Ok(self.conn.query_row(
            "SELECT EXISTS(SELECT 1 FROM credentials WHERE credential_id = ?1)",
            [credential_id],
            |r| r.get(0),
        )?)
    }

    pub fn credential_by_token(&self, token: &str) -> anyhow::Result<Option<CredentialRow>> {
        let row = self
            .conn
            .query_row("SELECT document, erased FROM credentials WHERE token = ?1", [token], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?))
            })
            .optional()?;
        row.map(|(text, erased)| Ok(CredentialRow { document: serde_json::from_str(&text)?, erased }))
            .transpose()
    }

    /// A text that changes with every status change of the credential `token`: its
    /// entries' lists, indexes, values and times of change.
    pub fn status_version(&self, token: &str) -> anyhow::Result<String> {
        let mut stmt = self.conn.prepare(
            "SELECT list_id, idx, status, ifnull(changed, '') FROM status_entries WHERE credential = ?1 \
             ORDER BY list_id, idx",
        )?;
        let rows = stmt.query_map([token], |r| {
            Ok(format!(
                "{}:{}:{}:{}",
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, String>(3)?
            ))
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?.join(","))
    }

    /// Erases the personal data of the credentials named by `names` (each a credential
    /// `id` or a link token), in one transaction: the stored document becomes a tombstone
    /// (`{"id", "erased"}`), the learner's name is cleared, and each revocation bit is set
    /// (revoking what was not revoked; the status lists' signed copies are dropped to be
    /// signed again). A name that matches nothing fails the whole call: nothing changes.
    /// The replaced pages are overwritten with zeros (`secure_delete`) and the WAL is
    /// checkpointed and truncated afterwards (best effort while a server reads).
    pub fn erase(&mut self, names: &[String], now: &str) -> anyhow::Result<Result<Vec<Erased>, String>> {
        self.conn.execute_batch("PRAGMA secure_delete=ON;")?;
        let tx = self.conn.transaction()?;
        let mut done = Vec::new();
        for name in names {
            let tokens: Vec<(String, Option<String>)> = {
                let mut stmt = tx.prepare(
                    "SELECT token, credential_id FROM credentials WHERE credential_id = ?1 OR token = ?1",
                )?;
                let rows = stmt.query_map([name], |r| Ok((r.get(0)?, r.get(1)?)))?;
                rows.collect::<Result<_, _>>()?
            };
            if tokens.is_empty() {
                return Ok(Err(format!("no credential {name:?} was issued here (nothing was erased)")));
            }
            for (token, credential_id) in tokens {
                let tombstone = serde_json::json!({"id": credential_id.clone().unwrap_or_else(|| token.clone()), "erased": now});
                tx.execute(
                    "UPDATE credentials SET document = ?2, learner_name = NULL, learner_identifier = NULL, erased = ifnull(erased, ?3) WHERE token = ?1",
                    params![token, tombstone.to_string(), now],
                )?;
                let entries: Vec<(i64, i64, i64)> = {
                    let mut stmt = tx.prepare(
                        "SELECT e.list_id, e.idx, e.status FROM status_entries e JOIN status_lists l ON l.id = e.list_id \
                         WHERE e.credential = ?1 AND l.purpose = 'revocation'",
                    )?;
                    let rows = stmt.query_map([&token], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
                    rows.collect::<Result<_, _>>()?
                };
                let mut revoked_now = false;
                for (list, idx, status) in &entries {
                    if *status == 0 {
                        revoked_now = true;
                        tx.execute(
                            "UPDATE status_entries SET status = 1, changed = ?3 WHERE list_id = ?1 AND idx = ?2",
                            params![list, idx, now],
                        )?;
                        tx.execute(
                            "UPDATE status_lists SET signed = NULL, etag = NULL WHERE id = ?1",
                            [list],
                        )?;
                    }
                }
                done.push(Erased {
                    name: credential_id.unwrap_or(token),
                    revoked_now,
                    revocable: !entries.is_empty(),
                });
            }
        }
        tx.commit()?;
        // Busy (a reader holds old frames) is not an error: the next checkpoint writes them.
        let _: (i64, i64, i64) = self
            .conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(Ok(done))
    }

    /// The statuses (purpose, status value) of a credential.
    pub fn statuses(&self, token: &str) -> anyhow::Result<Vec<(Purpose, u8)>> {
        let mut stmt = self.conn.prepare(
            "SELECT l.purpose, e.status FROM status_entries e JOIN status_lists l ON l.id = e.list_id WHERE e.credential = ?1",
        )?;
        let rows = stmt.query_map([token], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
        let mut out = Vec::new();
        for row in rows {
            let (purpose, status) = row?;
            if let Some(p) = Purpose::parse(&purpose) {
                out.push((p, u8::try_from(status).unwrap_or(u8::MAX)));
            }
        }
        Ok(out)
    }

    /// Sets the `purpose` status of the credentials named `credential_id` (the
    /// credential's `id`, or the token of its link), in one transaction.
    pub fn set_status(
        &mut self,
        credential_id: &str,
        purpose: Purpose,
        value: u8,
        now: &str,
    ) -> anyhow::Result<StatusChange> {
        anyhow::ensure!(
            u32::from(value) < 1 << purpose.status_size(),
            "status {value} does not fit {} bit(s)",
            purpose.status_size()
        );
        let tx = self.conn.transaction()?;
        let tokens: Vec<String> = {
            let mut stmt =
                tx.prepare("SELECT token FROM credentials WHERE credential_id = ?1 OR token = ?1")?;
            let rows = stmt.query_map([credential_id], |r| r.get(0))?;
            rows.collect::<Result<_, _>>()?
        };
        if tokens.is_empty() {
            return Ok(StatusChange::UnknownCredential);
        }
        let mut entries = Vec::new();
        for token in &tokens {
            let mut stmt = tx.prepare(
                "SELECT e.list_id, e.idx, e.status FROM status_entries e JOIN status_lists l ON l.id = e.list_id \
                 WHERE e.credential = ?1 AND l.purpose = ?2",
            )?;
            let rows = stmt.query_map(params![token, purpose.as_str()], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?))
            })?;
            for row in rows {
                entries.push(row?);
            }
        }
        if entries.is_empty() {
            return Ok(StatusChange::NoEntry);
        }
        let wanted = i64::from(value);
        if purpose == Purpose::Revocation && value == 0 && entries.iter().any(|(_, _, s)| *s != 0) {
            return Ok(StatusChange::Irreversible);
        }
        let mut changed = false;
        for (list, idx, status) in &entries {
            if *status != wanted {
                changed = true;
                tx.execute(
                    "UPDATE status_entries SET status = ?3, changed = ?4 WHERE list_id = ?1 AND idx = ?2",
                    params![list, idx, wanted, now],
                )?;
                tx.execute("UPDATE status_lists SET signed = NULL, etag = NULL WHERE id = ?1", [list])?;
            }
        }
        tx.commit()?;
        Ok(StatusChange::Applied { changed, entries: entries.len() })
    }

    // --- status lists ---------------------------------------------------------------------

    pub fn list(&self, id: i64) -> anyhow::Result<Option<ListRow>> {
        let row = self
            .conn
            .query_row(
                "SELECT id, purpose, size, signed, etag, key_id FROM status_lists WHERE id = ?1",
                [id],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                    ))
                },
            )
            .optional()?;
        let Some((id, purpose, size, signed, etag, key_id)) = row else { return Ok(None) };
        let purpose =
            Purpose::parse(&purpose).with_context(|| format!("status list {id} has purpose {purpose:?}"))?;
        Ok(Some(ListRow { purpose, size: usize::try_from(size)?, signed, etag, key_id }))
    }

    /// The entries of list `id` whose status is not 0: (index, status).
    pub fn set_indexes(&self, id: i64) -> anyhow::Result<Vec<(usize, u32)>> {
        let mut stmt =
            self.conn.prepare("SELECT idx, status FROM status_entries WHERE list_id = ?1 AND status != 0")?;
        let rows = stmt.query_map([id], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))?;
        rows.map(|r| {
            let (idx, status) = r?;
            Ok((usize::try_from(idx)?, u32::try_from(status)?))
        })
        .collect()
    }

    pub fn store_signed_list(&mut self, id: i64, signed: &str, etag: &str) -> anyhow::Result<()> {
        self.conn.execute(
            "UPDATE status_lists SET signed = ?2, etag = ?3 WHERE id = ?1",
            params![id, signed, etag],
        )?;
        Ok(())
    }
}

fn bulk_job_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<anyhow::Result<BulkJob>> {
    let rows: i64 = r.get(5)?;
    Ok(Ok(BulkJob {
        id: r.get(0)?,
        idempotency_key: r.get(1)?,
        micro_credential: r.get(2)?,
        profile: r.get(3)?,
        body_sha256: r.get(4)?,
        rows: match usize::try_from(rows) {
            Ok(n) => n,
            Err(e) => return Ok(Err(e.into())),
        },
        created: r.get(6)?,
        finished: r.get(7)?,
    }))
}

fn credential_of_learner(
    conn: &rusqlite::Connection,
    micro_credential: &str,
    identifier: &str,
) -> anyhow::Result<Option<String>> {
    Ok(conn
        .query_row(
            "SELECT token FROM credentials WHERE micro_credential = ?1 AND learner_identifier = ?2 \
             ORDER BY issued LIMIT 1",
            [micro_credential, identifier],
            |r| r.get(0),
        )
        .optional()?)
}

fn insert_issued(tx: &rusqlite::Connection, new: &NewCredential) -> anyhow::Result<()> {
    tx.execute(
        "INSERT INTO credentials (token, credential_id, micro_credential, learner_name, learner_identifier, issued, key_id, document) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            new.token,
            new.credential_id,
            new.micro_credential,
            new.learner_name,
            new.learner_identifier,
            new.issued,
            new.key_id,
            new.document
        ],
    )?;
    for r in &new.entries {
        tx.execute(
            "INSERT INTO status_entries (list_id, idx, credential) VALUES (?1, ?2, ?3)",
            params![r.list_id, i64::try_from(r.index)?, new.token],
        )
        .with_context(|| format!("status index {} of list {} is taken", r.index, r.list_id))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrates_once_and_keeps_the_version() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite3");
        {
            let db = open(&path, 131_072).unwrap();
            let v: i64 = db.conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
            assert_eq!(v as usize, schema_version());
            let fk: i64 = db.conn.query_row("PRAGMA foreign_keys", [], |r| r.get(0)).unwrap();
            assert_eq!(fk, 1);
        }
        let db = open(&path, 131_072).unwrap();
        let mode: String = db.conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
        assert_eq!(mode, "wal");
    }

    #[test]
    fn a_version_1_database_keeps_its_lists_and_entries_and_gains_message_lists() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite3");
        {
            // A database as the first release left it: schema 1, one revoked entry.
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(MIGRATIONS[0]).unwrap();
            conn.execute_batch(
                "PRAGMA user_version = 1;
                 INSERT INTO keys VALUES (1, 'z6Mk-old', '2025-01-01T00:00:00Z', NULL);
                 INSERT INTO status_lists VALUES (1, 'revocation', 64, '2025-01-01T00:00:00Z', NULL, NULL, 1);
                 INSERT INTO credentials VALUES ('tok', 'urn:uuid:old', NULL, NULL, '2025-01-01T00:00:00Z', 1, '{}');
                 INSERT INTO status_entries VALUES (1, 17, 'tok', 1, '2025-01-02T00:00:00Z');",
            )
            .unwrap();
        }
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let refused = open(&path, 64).err().unwrap().to_string();
        assert!(refused.contains("chmod 600"), "{refused}");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let mut db = open(&path, 64).unwrap();
        let v: i64 = db.conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        assert_eq!(v as usize, schema_version());
        let fk: i64 = db.conn.query_row("PRAGMA foreign_keys", [], |r| r.get(0)).unwrap();
        assert_eq!(fk, 1, "foreign keys are on again after the rebuild");
        let ok: String = db.conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
        assert_eq!(ok, "ok");
        assert_eq!(db.set_indexes(1).unwrap(), vec![(17, 1)]);
        assert_eq!(db.statuses("tok").unwrap(), vec![(Purpose::Revocation, 1)]);
        // The rebuilt tables keep their constraints: index 17 of list 1 is still taken,
        // and foreign keys still hold.
        assert!(db
            .conn
            .execute("INSERT INTO status_entries (list_id, idx, credential) VALUES (1, 17, 'tok')", [])
            .is_err());
        assert!(db
            .conn
            .execute("INSERT INTO status_entries (list_id, idx, credential) VALUES (99, 1, 'tok')", [])
            .is_err());
        // Message lists now exist, with values of two bits.
        db.use_key("z6Mk-old", "2025-01-03T00:00:00Z").unwrap();
        let r = db.reserve(Purpose::Message, "2025-01-03T00:00:00Z").unwrap();
        assert_ne!(r.list_id, 1);
        db.insert_issued(&NewCredential {
            token: "tok2".into(),
            credential_id: Some("urn:uuid:new".into()),
            micro_credential: None,
            learner_name: None,
            learner_identifier: None,
            issued: "2025-01-03T00:00:00Z".into(),
            key_id: 1,
            document: "{}".into(),
            entries: vec![r],
        })
        .unwrap();
        assert!(db.set_status("urn:uuid:new", Purpose::Message, 4, "t").is_err(), "4 does not fit two bits");
        db.set_status("urn:uuid:new", Purpose::Message, 3, "t").unwrap();
        assert_eq!(db.set_indexes(r.list_id).unwrap(), vec![(r.index, 3)]);
    }

    #[test]
    fn a_bulk_chunk_stores_its_rows_with_their_certificates_once_per_learner() {
        let dir = tempfile::tempdir().unwrap();
        let mut db = open(&dir.path().join("db.sqlite3"), 64).unwrap();
        let key = db.use_key("z6Mk-test", "2025-01-01T00:00:00Z").unwrap();
        db.upsert_definition("mc-one", &serde_json::json!({"id": "mc-one"}), "2025-01-01T00:00:00Z").unwrap();
        let job = |id: &str| BulkJob {
            id: id.into(),
            idempotency_key: Some("k".into()),
            micro_credential: "mc-one".into(),
            profile: "elm".into(),
            body_sha256: "00".into(),
            rows: 3,
            created: "2025-01-01T00:00:00Z".into(),
            finished: None,
        };
        db.insert_bulk_job(&job("j1")).unwrap();
        assert!(db.insert_bulk_job(&job("j2")).is_err(), "an Idempotency-Key names one job");
        let mut new = |token: &str| {
            let r = db.reserve(Purpose::Revocation, "2025-01-01T00:00:00Z").unwrap();
            NewCredential {
                token: token.into(),
                credential_id: Some(format!("urn:uuid:{token}")),
                micro_credential: Some("mc-one".into()),
                learner_name: Some("Ana".into()),
                learner_identifier: Some("L-1".into()),
                issued: "2025-01-01T00:00:00Z".into(),
                key_id: key,
                document: "{}".into(),
                entries: vec![r],
            }
        };
        let (a, b) = (new("a"), new("b"));
        let rows = vec![
            BulkRow { line: 2, outcome: BulkOutcome::Issued(a) },
            BulkRow { line: 3, outcome: BulkOutcome::Issued(b) },
            BulkRow { line: 4, outcome: BulkOutcome::Failed(vec!["name is missing".into()]) },
        ];
        db.store_bulk_chunk("j1", rows).unwrap();
        let stored = db.bulk_rows("j1").unwrap();
        let statuses: Vec<(&str, Option<&str>)> =
            stored.iter().map(|r| (r.status.as_str(), r.token.as_deref())).collect();
        assert_eq!(statuses, vec![("issued", Some("a")), ("existing", Some("a")), ("failed", None)]);
        assert_eq!(stored[2].problems, vec!["name is missing".to_owned()]);
        assert!(db.credential_by_token("b").unwrap().is_none(), "the second is not stored");
        assert_eq!(db.bulk_lines("j1").unwrap().len(), 3);
        db.finish_bulk_job("j1", "2025-01-01T00:01:00Z").unwrap();
        assert_eq!(
            db.bulk_job_by_key("k").unwrap().unwrap().finished.as_deref(),
            Some("2025-01-01T00:01:00Z")
        );
    }

    #[test]
    fn a_status_index_cannot_be_stored_twice() {
        let dir = tempfile::tempdir().unwrap();
        let mut db = open(&dir.path().join("db.sqlite3"), 131_072).unwrap();
        let key = db.use_key("z6Mk-test", "2025-01-01T00:00:00Z").unwrap();
        let r = db.reserve(Purpose::Revocation, "2025-01-01T00:00:00Z").unwrap();
        let new = |token: &str| NewCredential {
            token: token.into(),
            credential_id: Some(format!("urn:uuid:{token}")),
            micro_credential: None,
            learner_name: None,
            learner_identifier: None,
            issued: "2025-01-01T00:00:00Z".into(),
            key_id: key,
            document: "{}".into(),
            entries: vec![r],
        };
        db.insert_issued(&new("a")).unwrap();
        assert!(db.insert_issued(&new("b")).is_err());
        // The failed insert left nothing behind.
        assert!(db.credential_by_token("b").unwrap().is_none());
        assert_eq!(
            db.set_status("urn:uuid:a", Purpose::Revocation, 1, "2025-01-02T00:00:00Z").unwrap(),
            StatusChange::Applied { changed: true, entries: 1 }
        );
        assert_eq!(db.set_indexes(r.list_id).unwrap(), vec![(r.index, 1)]);
        assert_eq!(
            db.set_status("urn:uuid:a", Purpose::Revocation, 0, "2025-01-02T00:00:00Z").unwrap(),
            StatusChange::Irreversible
        );
        assert_eq!(
            db.set_status("urn:uuid:a", Purpose::Suspension, 1, "2025-01-02T00:00:00Z").unwrap(),
            StatusChange::NoEntry
        );
        assert_eq!(
            db.set_status("urn:uuid:zzz", Purpose::Suspension, 1, "2025-01-02T00:00:00Z").unwrap(),
            StatusChange::UnknownCredential
        );
    }
}
