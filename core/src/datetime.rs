//! Owns the parsing and formatting of XML Schema `dateTime` / `dateTimeStamp` values
//! (the `validFrom`, `validUntil`, `issuanceDate`, `expirationDate` and proof `created`
//! of credentials) and the [`Timestamp`] they denote.
//!
//! Invariants:
//! - A [`Timestamp`] is an instant on the UTC time line: whole seconds since the Unix
//!   epoch plus a nanosecond part that is always below 10^9, so the derived ordering is
//!   the ordering of instants.
//! - Parsing is strict to the XSD 1.1 lexical space: a year of four or more digits (no
//!   leading zero beyond four, an optional `-` for years before 0001, at most nine
//!   digits), real calendar dates (leap years checked), hours 00–23, minutes and
//!   seconds 00–59, any number of fraction digits (digits beyond the ninth are
//!   truncated), and a time zone of `Z` or `±hh:mm` between -14:00 and +14:00.
//! - Two values XSD allows are rejected on purpose, to keep instants unambiguous:
//!   `24:00:00` (end of day; write `00:00:00` of the next day) and leap second `:60`
//!   (the Unix time line has no leap seconds).
//! - Upper-case `T` and `Z` only, and no other forms (RFC 2822 dates, spaces, week
//!   dates): anything else is a [`ProblemCode::MalformedValueError`].

use std::fmt;

use crate::{Error, Result};

#[cfg(doc)]
use crate::ProblemCode;

const SECONDS_PER_DAY: i64 = 86_400;
const NANOS_PER_SECOND: u32 = 1_000_000_000;
/// Longest year accepted, in digits: keeps every computation far inside `i64`.
const MAX_YEAR_DIGITS: usize = 9;
/// How much of a bad input an error message quotes.
const QUOTE_LIMIT: usize = 64;

/// An instant on the UTC time line, with nanosecond precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    secs: i64,
    /// Always below [`NANOS_PER_SECOND`].
    nanos: u32,
}

impl Timestamp {
    /// The instant `secs` seconds after 1970-01-01T00:00:00Z (before it, if negative).
    pub const fn from_unix(secs: i64) -> Self {
        Self { secs, nanos: 0 }
    }

    /// Whole seconds since the Unix epoch, rounded towards the past.
    pub const fn unix_seconds(&self) -> i64 {
        self.secs
    }

    /// The nanoseconds past [`Timestamp::unix_seconds`], below 10^9.
    pub const fn subsec_nanos(&self) -> u32 {
        self.nanos
    }

    /// The instant as `YYYY-MM-DDThh:mm:ssZ` in UTC. A non-zero fraction of a second is
    /// kept, without trailing zeros (`…:05.25Z`), so formatting never changes the instant.
    pub fn to_rfc3339(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = self.secs.div_euclid(SECONDS_PER_DAY);
        let second_of_day = self.secs.rem_euclid(SECONDS_PER_DAY);
        let (year, month, day) = civil_from_days(days);
        if year < 0 {
            write!(f, "-{:04}", year.unsigned_abs())?;
        } else {
            write!(f, "{year:04}")?;
        }
        write!(
            f,
            "-{month:02}-{day:02}T{:02}:{:02}:{:02}",
            second_of_day / 3600,
            second_of_day % 3600 / 60,
            second_of_day % 60
        )?;
        if self.nanos != 0 {
            // Nine digits, then trailing zeros dropped.
            let mut digits = [b'0'; 9];
            let mut rest = self.nanos;
            for digit in digits.iter_mut().rev() {
                *digit += (rest % 10) as u8;
                rest /= 10;
            }
            let length = digits.iter().rposition(|&d| d != b'0').map_or(0, |last| last + 1);
            let fraction = digits.get(..length).unwrap_or_default();
            write!(f, ".{}", std::str::from_utf8(fraction).map_err(|_| fmt::Error)?)?;
        }
        f.write_str("Z")
    }
}

/// Parses an XSD `dateTimeStamp`: a `dateTime` whose time zone (`Z` or `±hh:mm`) is
/// required. This is what VCDM 2.0 requires of `validFrom` and `validUntil`.
pub fn parse_datetime_stamp(input: &str) -> Result<Timestamp> {
    parse(input, true)
}

/// Parses an XSD `dateTime` whose time zone may be absent; a value without one is read
/// as UTC, as VCDM 2.0 §"Representing Time" and VC Data Integrity (proof `created`)
/// direct. Used for the VCDM 1.1 `issuanceDate` / `expirationDate` and proof times.
pub fn parse_datetime_lenient(input: &str) -> Result<Timestamp> {
    parse(input, false)
}

fn parse(input: &str, zone_required: bool) -> Result<Timestamp> {
    let mut cursor = Cursor { bytes: input.as_bytes(), pos: 0, input };

    let negative_year = cursor.eat(b'-');
    let year_digits = cursor.digit_run();
    if year_digits.len() < 4 {
        return Err(cursor.error("the year must have at least four digits"));
    }
    if year_digits.len() > 4 && year_digits.first() == Some(&b'0') {
        return Err(cursor.error("a year of more than four digits must not start with 0"));
    }
    if year_digits.len() > MAX_YEAR_DIGITS {
        return Err(cursor.error("the year has more than nine digits"));
    }
    let year = digits_value(year_digits);
    let year = if negative_year { -year } else { year };

    cursor.expect(b'-', "'-' after the year")?;
    let month = cursor.two_digits("month")?;
    cursor.expect(b'-', "'-' after the month")?;
    let day = cursor.two_digits("day")?;
    cursor.expect(b'T', "'T' between date and time")?;
    let hour = cursor.two_digits("hour")?;
    cursor.expect(b':', "':' after the hour")?;
    let minute = cursor.two_digits("minute")?;
    cursor.expect(b':', "':' after the minute")?;
    let second = cursor.two_digits("second")?;

    let mut nanos: u32 = 0;
    if cursor.eat(b'.') {
        let fraction = cursor.digit_run();
        if fraction.is_empty() {
            return Err(cursor.error("'.' must be followed by fraction digits"));
        }
        // Digits beyond nanoseconds are truncated.
        let mut scale = NANOS_PER_SECOND;
        for &digit in fraction.iter().take(9) {
            scale /= 10;
            nanos += u32::from(digit - b'0') * scale;
        }
    }

    let offset_seconds = match cursor.next() {
        None if zone_required => {
            return Err(cursor.error("a time zone ('Z' or '±hh:mm') is required"));
        }
        None => 0,
        Some(b'Z') => 0,
        Some(sign @ (b'+' | b'-')) => {
            let zone_hour = cursor.two_digits("time zone hour")?;
            cursor.expect(b':', "':' in the time zone")?;
            let zone_minute = cursor.two_digits("time zone minute")?;
            if zone_minute > 59 || zone_hour > 14 || (zone_hour == 14 && zone_minute != 0) {
                return Err(cursor.error("the time zone must be between -14:00 and +14:00"));
            }
            let magnitude = zone_hour * 3600 + zone_minute * 60;
            if sign == b'-' {
                -magnitude
            } else {
                magnitude
            }
        }
        Some(_) => {
            return Err(cursor.error("expected 'Z', '+hh:mm' or '-hh:mm' after the time"));
        }
    };
    if cursor.pos != cursor.bytes.len() {
        return Err(cursor.error("unexpected characters after the time zone"));
    }

    if !(1..=12).contains(&month) {
        return Err(cursor.error(format!("month {month:02} is not 01 to 12")));
    }
    let month_length = days_in_month(year, month);
    if day < 1 || day > month_length {
        return Err(cursor.error(format!("day {day:02} does not exist in month {month:02} of year {year}")));
    }
    if hour == 24 {
        return Err(cursor.error("hour 24 (end of day) is not accepted; use 00:00:00 of the next day"));
    }
    if hour > 23 {
        return Err(cursor.error(format!("hour {hour:02} is not 00 to 23")));
    }
    if minute > 59 {
        return Err(cursor.error(format!("minute {minute:02} is not 00 to 59")));
    }
    if second == 60 {
        return Err(cursor.error("leap second 60 is not accepted"));
    }
    if second > 59 {
        return Err(cursor.error(format!("second {second:02} is not 00 to 59")));
    }

    let secs = days_from_civil(year, month, day) * SECONDS_PER_DAY + hour * 3600 + minute * 60 + second
        - offset_seconds;
    Ok(Timestamp { secs, nanos })
}

/// A position in the input being parsed; knows the input to quote it in errors.
struct Cursor<'a> {
    input: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn next(&mut self) -> Option<u8> {
        let byte = self.bytes.get(self.pos).copied();
        if byte.is_some() {
            self.pos += 1;
        }
        byte
    }

    fn eat(&mut self, expected: u8) -> bool {
        if self.bytes.get(self.pos) == Some(&expected) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, expected: u8, what: &str) -> Result<()> {
        if self.eat(expected) {
            Ok(())
        } else {
            Err(self.error(format!("expected {what} at position {}", self.pos)))
        }
    }

    /// The longest run of ASCII digits from here on (consumed).
    fn digit_run(&mut self) -> &'a [u8] {
        let rest = self.bytes.get(self.pos..).unwrap_or_default();
        let length = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        self.pos += length;
        rest.get(..length).unwrap_or_default()
    }

    fn two_digits(&mut self, field: &str) -> Result<i64> {
        match self.bytes.get(self.pos..self.pos + 2) {
            Some(&[a, b]) if a.is_ascii_digit() && b.is_ascii_digit() => {
                self.pos += 2;
                Ok(i64::from(a - b'0') * 10 + i64::from(b - b'0'))
            }
            _ => Err(self.error(format!("the {field} must be two digits"))),
        }
    }

    fn error(&self, problem: impl fmt::Display) -> Error {
        let mut quoted: String = self.input.chars().take(QUOTE_LIMIT).collect();
        if quoted.len() < self.input.len() {
            quoted.push('…');
        }
        Error::malformed(format!("date-time {quoted:?} is malformed: {problem}"))
    }
}

/// The value of a run of ASCII digits; callers bound its length to nine digits.
fn digits_value(digits: &[u8]) -> i64 {
    digits.iter().fold(0, |value, &digit| value * 10 + i64::from(digit - b'0'))
}

fn is_leap_year(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (astronomical year numbering,
/// which is XSD 1.1's). H. Hinnant's `days_from_civil`.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let shifted_month = (month + 9) % 12; // March = 0
    let day_of_year = (153 * shifted_month + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (inverse of
/// [`days_from_civil`]).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 { shifted_month + 3 } else { shifted_month - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ProblemCode;

    fn stamp(s: &str) -> Timestamp {
        parse_datetime_stamp(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn rejects(s: &str) -> String {
        let err = parse_datetime_stamp(s).expect_err(s);
        assert_eq!(err.code, ProblemCode::MalformedValueError, "{s}");
        err.message
    }

    /// The `validFrom` / `validUntil` values of the VCDM 2.0 test-suite fixtures.
    #[test]
    fn vcdm_fixture_values() {
        let dir = crate::testdata::path("vcdm2-test-suite/tests/input");
        let value = |file: &str, property: &str| -> String {
            let text = std::fs::read_to_string(dir.join(file)).unwrap();
            let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
            doc[property].as_str().unwrap().to_owned()
        };
        // credential-validfrom-ms-ok: milliseconds.
        let ms = stamp(&value("credential-validfrom-ms-ok.json", "validFrom"));
        assert_eq!(ms.unix_seconds(), 1_677_373_378);
        assert_eq!(ms.subsec_nanos(), 447_000_000);
        assert_eq!(ms.to_rfc3339(), "2023-02-26T01:02:58.447Z");
        // credential-validfrom-tz-ok: "2023-02-25T19:10:39-06:00" is 01:10:39Z next day.
        let tz = stamp(&value("credential-validfrom-tz-ok.json", "validFrom"));
        assert_eq!(tz.to_rfc3339(), "2023-02-26T01:10:39Z");
        // credential-validuntil-tz-ok: validUntil in -06:00 is 6 s after validFrom in Z.
        let from = stamp(&value("credential-validuntil-tz-ok.json", "validFrom"));
        let until = stamp(&value("credential-validuntil-tz-ok.json", "validUntil"));
        assert_eq!(until.unix_seconds() - from.unix_seconds(), 6);
        // credential-validfrom-far-future-ok: year 4023.
        let far = stamp(&value("credential-validfrom-far-future-ok.json", "validFrom"));
        assert_eq!(far.to_rfc3339(), "4023-02-26T01:02:58.447Z");
        // The two invalid forms the suite uses.
        rejects(&value("credential-validfrom-invalid-fail.json", "validFrom"));
        rejects(&value("credential-validuntil-invalid-fail.json", "validUntil"));
        assert!(rejects("Sat 25 Feb 2023 07:16:31 PM CST").contains("four digits"));
    }

    #[test]
    fn known_instants() {
        assert_eq!(stamp("1970-01-01T00:00:00Z"), Timestamp::from_unix(0));
        assert_eq!(stamp("2000-03-01T00:00:00Z").unix_seconds(), 951_868_800);
        assert_eq!(stamp("1969-12-31T23:59:59Z").unix_seconds(), -1);
        assert_eq!(stamp("2038-01-19T03:14:08Z").unix_seconds(), 1 << 31);
        assert_eq!(stamp("2024-02-29T12:00:00+14:00").to_rfc3339(), "2024-02-28T22:00:00Z");
        assert_eq!(stamp("2024-12-31T23:00:00-14:00").to_rfc3339(), "2025-01-01T13:00:00Z");
        assert_eq!(stamp("2024-01-01T00:00:00-00:00"), stamp("2024-01-01T00:00:00Z"));
        assert_eq!(stamp("0001-01-01T00:00:00Z").unix_seconds(), -62_135_596_800);
        // Year 0 (1 BCE) is a leap year in XSD 1.1's numbering.
        assert_eq!(stamp("0000-02-29T00:00:00Z").to_rfc3339(), "0000-02-29T00:00:00Z");
        assert_eq!(stamp("-0001-12-31T23:59:59Z").to_rfc3339(), "-0001-12-31T23:59:59Z");
        assert_eq!(stamp("12345-06-07T08:09:10Z").to_rfc3339(), "12345-06-07T08:09:10Z");
    }

    #[test]
    fn fractions_of_any_length() {
        assert_eq!(stamp("2023-01-01T00:00:00.5Z").subsec_nanos(), 500_000_000);
        assert_eq!(stamp("2023-01-01T00:00:00.000000001Z").subsec_nanos(), 1);
        // Beyond nanoseconds, digits are truncated.
        let long = stamp("2023-01-01T00:00:00.1234567899999Z");
        assert_eq!(long.subsec_nanos(), 123_456_789);
        assert_eq!(long.to_rfc3339(), "2023-01-01T00:00:00.123456789Z");
        assert_eq!(stamp("2023-01-01T00:00:00.000Z").to_rfc3339(), "2023-01-01T00:00:00Z");
        // A negative offset with a fraction before the epoch still orders correctly.
        let before = stamp("1969-12-31T23:59:59.75Z");
        assert_eq!((before.unix_seconds(), before.subsec_nanos()), (-1, 750_000_000));
        assert!(before < Timestamp::from_unix(0));
        assert!(stamp("2023-01-01T00:00:00.1Z") < stamp("2023-01-01T00:00:00.10001Z"));
    }

    #[test]
    fn offsets_compare_as_instants() {
        let utc = stamp("2023-02-26T01:21:23Z");
        let cst = stamp("2023-02-25T19:21:29-06:00");
        assert!(utc < cst);
        assert_eq!(stamp("2023-06-01T14:00:00+02:00"), stamp("2023-06-01T12:00:00Z"));
    }

    #[test]
    fn rejects_malformed() {
        for (input, expected) in [
            ("", "four digits"),
            ("2023", "'-' after the year"),
            ("23-02-26T01:02:58Z", "four digits"),
            ("02023-02-26T01:02:58Z", "must not start with 0"),
            ("1234567890-01-01T00:00:00Z", "more than nine digits"),
            ("2023-2-26T01:02:58Z", "month must be two digits"),
            ("2023-02-26 01:02:58Z", "'T'"),
            ("2023-02-26t01:02:58Z", "'T'"),
            ("2023-02-26T01:02Z", "':' after the minute"),
            ("2023-02-26T01:02:58.Z", "fraction digits"),
            ("2023-02-26T01:02:58z", "after the time"),
            ("2023-02-26T01:02:58", "time zone"),
            ("2023-02-26T01:02:58+0100", "':' in the time zone"),
            ("2023-02-26T01:02:58+01", "':' in the time zone"),
            ("2023-02-26T01:02:58+14:01", "-14:00 and +14:00"),
            ("2023-02-26T01:02:58-15:00", "-14:00 and +14:00"),
            ("2023-02-26T01:02:58+01:60", "-14:00 and +14:00"),
            ("2023-02-26T01:02:58Z ", "unexpected characters"),
            ("2023-02-26T01:02:58ZZ", "unexpected characters"),
            (" 2023-02-26T01:02:58Z", "four digits"),
            ("2023-00-10T00:00:00Z", "month 00"),
            ("2023-13-10T00:00:00Z", "month 13"),
            ("2023-02-29T00:00:00Z", "day 29"),
            ("1900-02-29T00:00:00Z", "day 29"),
            ("2023-04-31T00:00:00Z", "day 31"),
            ("2023-04-00T00:00:00Z", "day 00"),
            ("2023-04-30T24:00:00Z", "hour 24"),
            ("2023-04-30T25:00:00Z", "hour 25"),
            ("2023-04-30T23:60:00Z", "minute 60"),
            ("2016-12-31T23:59:60Z", "leap second"),
            ("2016-12-31T23:59:61Z", "second 61"),
            ("2023-02-26T01:02:58.447+", "time zone hour"),
            ("Sun, 26 Feb 2023 01:22:14 +0000", "four digits"),
            ("２０２３-02-26T01:02:58Z", "four digits"),
        ] {
            let message = rejects(input);
            assert!(message.contains(expected), "{input:?}: {message}");
        }
        // Leap day in a leap year is fine.
        stamp("2000-02-29T00:00:00Z");
        stamp("2024-02-29T00:00:00Z");
    }

    #[test]
    fn error_quotes_long_input_briefly() {
        let long = "9".repeat(10_000);
        let message = rejects(&long);
        assert!(message.len() < 200, "{message}");
    }

    #[test]
    fn lenient_reads_missing_zone_as_utc() {
        assert_eq!(parse_datetime_lenient("2023-09-27T13:54:17").unwrap(), stamp("2023-09-27T13:54:17Z"));
        assert_eq!(
            parse_datetime_lenient("2023-09-27T13:54:17+02:00").unwrap(),
            stamp("2023-09-27T11:54:17Z")
        );
        // Lenient only about the zone.
        assert!(parse_datetime_lenient("2023-09-27").is_err());
        assert!(parse_datetime_lenient("2023-09-27T13:54:17 ").is_err());
        assert!(parse_datetime_lenient("2023-02-30T13:54:17").is_err());
    }

    #[test]
    fn formatting_round_trips() {
        for secs in [
            i64::from(i32::MIN),
            -86_401,
            -86_400,
            -1,
            0,
            1,
            951_782_400, // 2000-02-29
            1_709_164_800,
            253_402_300_799, // 9999-12-31T23:59:59Z
            253_402_300_800, // 10000-01-01
        ] {
            let t = Timestamp::from_unix(secs);
            assert_eq!(stamp(&t.to_rfc3339()), t, "{}", t.to_rfc3339());
        }
        assert_eq!(Timestamp::from_unix(253_402_300_800).to_rfc3339(), "10000-01-01T00:00:00Z");
        assert_eq!(Timestamp::from_unix(1_677_373_378).to_string(), "2023-02-26T01:02:58Z");
        // Every day over four centuries survives a date round trip.
        for days in -146_097..146_097 {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
            assert!((1..=days_in_month(y, m)).contains(&d));
        }
    }
}
