//! Bitstring Status Lists on the issuer's side: random allocation of status indexes,
//! status entries for credentials, and the (unsigned) status list credentials.
//!
//! Invariants:
//! - Every list has [`LIST_SIZE`] entries (131,072: the minimum of the specification)
//!   and one purpose, revocation or suspension. A new list is opened when the current
//!   one of that purpose has no free index left.
//! - An index is chosen uniformly at random among the free ones of the current list,
//!   and is never handed out twice: the [`Allocator`] marks it as taken when reserved,
//!   and the database's primary key refuses a second use even across restarts (a
//!   reservation that was never stored is simply free again after a restart).

use std::collections::HashMap;

use anyhow::Context;
use rand_core::{OsRng, RngCore};
use rusqlite::{params, Connection};
use serde_json::{json, Value};

/// Entries per status list.
pub const LIST_SIZE: usize = bem_core::status_list::MIN_ENTRIES;

/// What a status list records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Purpose {
    Revocation,
    Suspension,
    /// A notice from the issuer, one of [`MESSAGES`] (BSL §2.1 `statusPurpose` "message").
    Message,
}

/// The notices of a `message` entry, by status value (`statusMessage` of BSL §2.1): two
/// bits, so four. Fixed, so that every message entry of this issuer means the same.
pub const MESSAGES: [(&str, &str); 4] = [
    ("0x0", "no notice from the issuer"),
    ("0x1", "under review by the issuer"),
    ("0x2", "corrected: the issuer has issued a replacement; ask the holder for it"),
    ("0x3", "the issuer asks the verifier to contact them about this certificate"),
];

impl Purpose {
    pub const ALL: [Purpose; 3] = [Purpose::Revocation, Purpose::Suspension, Purpose::Message];

    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Revocation => "revocation",
            Purpose::Suspension => "suspension",
            Purpose::Message => "message",
        }
    }

    pub fn parse(s: &str) -> Option<Purpose> {
        match s {
            "revocation" => Some(Purpose::Revocation),
            "suspension" => Some(Purpose::Suspension),
            "message" => Some(Purpose::Message),
            _ => None,
        }
    }

    /// Bits per entry (`statusSize`): 1, or 2 for messages.
    pub fn status_size(self) -> u32 {
        match self {
            Purpose::Revocation | Purpose::Suspension => 1,
            Purpose::Message => 2,
        }
    }
}

/// A status index held for a credential being issued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reservation {
    pub purpose: Purpose,
    pub list_id: i64,
    pub index: usize,
}

/// The open list of one purpose and which of its indexes are taken.
struct OpenList {
    id: i64,
    taken: Vec<bool>,
    free: usize,
}

/// Hands out random free indexes of the lists of one signing key; mirrors
/// `status_entries` plus in-flight reservations.
pub struct Allocator {
    size: usize,
    key_id: Option<i64>,
    open: HashMap<Purpose, OpenList>,
}

impl Allocator {
    /// An allocator that refuses to reserve until a key is chosen.
    pub fn empty(size: usize) -> Allocator {
        Allocator { size, key_id: None, open: HashMap::new() }
    }

    pub fn size(&self) -> usize {
        self.size
    }

    /// Loads the newest list of each purpose of key `key_id`, and its taken indexes.
    pub fn load(conn: &Connection, size: usize, key_id: i64) -> anyhow::Result<Allocator> {
        let mut open = HashMap::new();
        for purpose in Purpose::ALL {
            let newest: Option<(i64, i64)> = conn
                .query_row(
                    "SELECT id, size FROM status_lists WHERE purpose = ?1 AND key_id = ?2 ORDER BY id DESC LIMIT 1",
                    params![purpose.as_str(), key_id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .map(Some)
                .or_else(|e| if e == rusqlite::Error::QueryReturnedNoRows { Ok(None) } else { Err(e) })?;
            let Some((id, list_size)) = newest else { continue };
            let list_size = usize::try_from(list_size)?;
            let mut taken = vec![false; list_size];
            let mut stmt = conn.prepare("SELECT idx FROM status_entries WHERE list_id = ?1")?;
            for idx in stmt.query_map([id], |r| r.get::<_, i64>(0))? {
                let idx = usize::try_from(idx?)?;
                if let Some(slot) = taken.get_mut(idx) {
                    *slot = true;
                }
            }
            let free = taken.iter().filter(|t| !**t).count();
            open.insert(purpose, OpenList { id, taken, free });
        }
        Ok(Allocator { size, key_id: Some(key_id), open })
    }

    /// A free random index of the open list of `purpose`; opens a new list if needed.
    pub fn reserve(&mut self, conn: &Connection, purpose: Purpose, now: &str) -> anyhow::Result<Reservation> {
        let key_id = self.key_id.context("no signing key chosen for status lists")?;
        let needs_new = self.open.get(&purpose).is_none_or(|l| l.free == 0);
        if needs_new {
            conn.execute(
                "INSERT INTO status_lists (purpose, size, created, key_id) VALUES (?1, ?2, ?3, ?4)",
                params![purpose.as_str(), i64::try_from(self.size)?, now, key_id],
            )
            .context("cannot create a new status list")?;
            let id = conn.last_insert_rowid();
            self.open.insert(purpose, OpenList { id, taken: vec![false; self.size], free: self.size });
        }
        let list = self.open.get_mut(&purpose).context("no open status list")?;
        let index = pick_free(&list.taken, list.free).context("status list has no free index")?;
        if let Some(slot) = list.taken.get_mut(index) {
            *slot = true;
        }
        list.free -= 1;
        Ok(Reservation { purpose, list_id: list.id, index })
    }

    /// Frees an index that was reserved but not stored.
    pub fn release(&mut self, r: &Reservation) {
        if let Some(list) = self.open.get_mut(&r.purpose).filter(|l| l.id == r.list_id) {
            if let Some(slot) = list.taken.get_mut(r.index).filter(|s| **s) {
                *slot = false;
                list.free += 1;
            }
        }
    }

    /// Notes that a reservation was stored (nothing to do: it stays taken).
    pub fn commit(&mut self, _r: &Reservation) {}
}

/// A uniformly random index among the `free` false entries of `taken`.
fn pick_free(taken: &[bool], free: usize) -> Option<usize> {
    if free == 0 || taken.is_empty() {
        return None;
    }
    // While at least 1/16 of the list is free, rejection sampling ends fast.
    if free.saturating_mul(16) >= taken.len() {
        for _ in 0..256 {
            let i = random_below(taken.len());
            if taken.get(i) == Some(&false) {
                return Some(i);
            }
        }
    }
    let n = random_below(free);
    taken.iter().enumerate().filter(|(_, t)| !**t).nth(n).map(|(i, _)| i)
}

fn random_below(n: usize) -> usize {
    // n ≤ 2^32 here; the modulo bias of a 64-bit draw is below 2^-32.
    (OsRng.next_u64() % n.max(1) as u64) as usize
}

/// The `BitstringStatusListEntry` of a reservation, pointing at `list_url`; a message
/// entry also carries `statusSize`, `statusMessage` ([`MESSAGES`]) and, as
/// `statusReference`, the list itself.
pub fn entry(r: &Reservation, list_url: &str) -> Value {
    let mut entry = json!({
        "id": format!("{list_url}#{}", r.index),
        "type": "BitstringStatusListEntry",
        "statusPurpose": r.purpose.as_str(),
        "statusListIndex": r.index.to_string(),
        "statusListCredential": list_url,
    });
    if r.purpose == Purpose::Message {
        if let Some(obj) = entry.as_object_mut() {
            obj.insert("statusSize".into(), r.purpose.status_size().into());
            let messages: Vec<Value> = MESSAGES
                .iter()
                .map(|(status, message)| json!({"status": status, "message": message}))
                .collect();
            obj.insert("statusMessage".into(), messages.into());
            obj.insert("statusReference".into(), list_url.into());
        }
    }
    entry
}

/// The unsigned `BitstringStatusListCredential` of a list of `size` entries, `set`
/// giving the entries whose status is not 0 (index, status).
pub fn list_credential(
    list_url: &str,
    issuer: &str,
    purpose: Purpose,
    size: usize,
    set: &[(usize, u32)],
    valid_from: &str,
) -> anyhow::Result<Value> {
    let status_size = purpose.status_size();
    let bits_len = size.checked_mul(status_size as usize).context("status list too large")?;
    let mut bits = bem_core::status_list::Bitstring::new(bits_len).map_err(|e| anyhow::anyhow!("{e}"))?;
    for &(i, status) in set {
        bits.set_status(i, status_size, status).map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    let encoded = bits.encode();
    Ok(json!({
        "@context": [bem_core::contexts::CREDENTIALS_V2],
        "id": list_url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer,
        "validFrom": valid_from,
        "credentialSubject": {
            "id": format!("{list_url}#list"),
            "type": "BitstringStatusList",
            "statusPurpose": purpose.as_str(),
            "encodedList": encoded,
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn indexes_are_unique_random_and_a_full_list_opens_a_new_one() {
        let dir = tempfile::tempdir().unwrap();
        let mut db = crate::store::open(&dir.path().join("db.sqlite3"), 64).unwrap();
        db.use_key("z6Mk-test", "t").unwrap();
        let mut seen = HashSet::new();
        let mut lists = HashSet::new();
        let mut order = Vec::new();
        for _ in 0..200 {
            let r = db.reserve(Purpose::Revocation, "2025-01-01T00:00:00Z").unwrap();
            assert!(r.index < 64);
            assert!(seen.insert((r.list_id, r.index)), "{r:?} handed out twice");
            lists.insert(r.list_id);
            order.push((r.list_id, r.index));
        }
        assert_eq!(lists.len(), 4, "200 entries in lists of 64");
        // The first list is filled completely before the next opens, in random order: its
        // 64 draws are all of 0..64, and not in sequence (a sorted draw has odds 1/64!).
        let first: Vec<usize> = order
            .iter()
            .take(64)
            .map(|&(l, i)| {
                assert_eq!(l, order[0].0, "a second list opened before the first was full");
                i
            })
            .collect();
        let mut sorted = first.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..64).collect::<Vec<_>>());
        assert_ne!(first, sorted, "indexes were handed out in sequence, not at random");
    }

    #[test]
    fn released_indexes_are_free_again() {
        let dir = tempfile::tempdir().unwrap();
        let mut db = crate::store::open(&dir.path().join("db.sqlite3"), 64).unwrap();
        db.use_key("z6Mk-test", "t").unwrap();
        let all: Vec<_> = (0..64).map(|_| db.reserve(Purpose::Suspension, "t").unwrap()).collect();
        db.release(&all[5..6]);
        let again = db.reserve(Purpose::Suspension, "t").unwrap();
        assert_eq!((again.list_id, again.index), (all[5].list_id, all[5].index));
    }

    #[test]
    fn pick_free_finds_the_last_free_slot() {
        let mut taken = vec![true; 1000];
        taken[777] = false;
        assert_eq!(pick_free(&taken, 1), Some(777));
        assert_eq!(pick_free(&[true, true], 0), None);
    }
}
