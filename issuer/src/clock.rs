//! The issuer's clock and random identifiers: the current time as an XML Schema
//! `dateTimeStamp`, calendar-month arithmetic for validity periods, `urn:uuid` ids and
//! the 128-bit tokens of certificate links.

use std::time::{SystemTime, UNIX_EPOCH};

use bem_core::datetime::Timestamp;
use rand_core::{OsRng, RngCore};

/// Now, to the second, as `YYYY-MM-DDThh:mm:ssZ`.
pub fn now() -> String {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    Timestamp::from_unix(i64::try_from(secs).unwrap_or(i64::MAX)).to_rfc3339()
}

/// `stamp` (as made by [`now`]) plus `months` calendar months; the day is clamped to the
/// end of a shorter month (31 January + 1 month = 28/29 February).
pub fn add_months(stamp: &str, months: u32) -> Option<String> {
    let year: i64 = stamp.get(0..4)?.parse().ok()?;
    let month: i64 = stamp.get(5..7)?.parse().ok()?;
    let day: u32 = stamp.get(8..10)?.parse().ok()?;
    let rest = stamp.get(10..)?;
    let total = year * 12 + (month - 1) + i64::from(months);
    let (y, m) = (total.div_euclid(12), total.rem_euclid(12) + 1);
    let last = match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    Some(format!("{y:04}-{m:02}-{:02}{rest}", day.min(last)))
}

/// A random (version 4) `urn:uuid:`.
pub fn urn_uuid() -> String {
    let mut b = [0u8; 16];
    OsRng.fill_bytes(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "urn:uuid:{}-{}-{}-{}-{}",
        h.get(0..8).unwrap_or_default(),
        h.get(8..12).unwrap_or_default(),
        h.get(12..16).unwrap_or_default(),
        h.get(16..20).unwrap_or_default(),
        h.get(20..32).unwrap_or_default()
    )
}

/// 128 random bits as 32 lower-case hex digits: the unguessable part of a certificate link.
pub fn token() -> String {
    let mut b = [0u8; 16];
    OsRng.fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Whether `s` has the shape of a [`token`].
pub fn is_token(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_are_calendar_months() {
        assert_eq!(add_months("2025-01-31T10:00:00Z", 1).unwrap(), "2025-02-28T10:00:00Z");
        assert_eq!(add_months("2024-01-31T10:00:00Z", 1).unwrap(), "2024-02-29T10:00:00Z");
        assert_eq!(add_months("2025-11-15T00:00:00Z", 14).unwrap(), "2027-01-15T00:00:00Z");
        assert!(bem_core::datetime::parse_datetime_stamp(&now()).is_ok());
    }

    #[test]
    fn ids_have_their_shape() {
        let u = urn_uuid();
        assert_eq!(u.len(), "urn:uuid:".len() + 36);
        assert_eq!(u.as_bytes()[9 + 14], b'4');
        assert!(is_token(&token()));
        assert_ne!(token(), token());
        assert!(!is_token("../../etc/passwd"));
    }
}
