//! The learners CSV of a bulk award: UTF-8, a header row, quoted fields, one learner per
//! row. Each row becomes a [`Learner`] or the list of its problems, with its line number.
//!
//! Recognised columns (case, spaces, `_` and `-` ignored): `name` (or `full name`),
//! `given name`/`first name`, `family name`/`last name`/`surname`, `date of birth`/`dob`,
//! `identifier`/`learner id`/`student id`, `email`/`e-mail`, `grade`. Either `name` or
//! both given and family name are required. An unknown or repeated column rejects the
//! whole file: better than silently dropping data.
//!
//! A file holds at most [`MAX_ROWS`] learners. Parsing is linear in the file's size:
//! each row's line number is counted on from the previous row's.

use crate::learner::{quoted, Learner};

/// Most learner rows in one file: a year group of a large provider with room to spare,
/// about 19 s of signing at the measured 526 certificates/s (release, 2 cores) and an
/// answer of about 4 MB, so one request stays within the timeouts of ordinary HTTP
/// clients and proxies (30–60 s) even on a slower machine. Larger cohorts are sent as
/// several files.
pub const MAX_ROWS: usize = 10_000;

/// A CSV row's line and its learner (or what is wrong with it).
pub type Row = (u64, Result<Learner, Vec<String>>);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    Name,
    Given,
    Family,
    Birth,
    Identifier,
    Email,
    Grade,
}

fn column(header: &str) -> Option<Column> {
    let key: String = header
        .trim()
        .chars()
        .filter(|c| !matches!(c, ' ' | '_' | '-'))
        .flat_map(char::to_lowercase)
        .collect();
    Some(match key.as_str() {
        "name" | "fullname" | "learner" | "learnername" => Column::Name,
        "givenname" | "firstname" | "forename" => Column::Given,
        "familyname" | "lastname" | "surname" => Column::Family,
        "dateofbirth" | "dob" | "birthdate" => Column::Birth,
        "identifier" | "learnerid" | "studentid" | "id" => Column::Identifier,
        "email" | "emailaddress" | "mail" => Column::Email,
        "grade" | "result" => Column::Grade,
        _ => return None,
    })
}

/// Parses the CSV; `Err` for problems with the whole file (header), else one row each.
pub fn parse(body: &[u8]) -> Result<Vec<Row>, Vec<String>> {
    let body = body.strip_prefix(b"\xEF\xBB\xBF".as_slice()).unwrap_or(body);
    let mut reader = csv::ReaderBuilder::new().has_headers(true).flexible(true).from_reader(body);
    let headers =
        reader.byte_headers().map_err(|e| vec![format!("the header row cannot be read: {e}")])?.clone();
    let mut columns = Vec::new();
    let mut problems = Vec::new();
    for (i, raw) in headers.iter().enumerate() {
        let Ok(name) = std::str::from_utf8(raw) else {
            problems.push(format!("column {} of the header row is not UTF-8", i + 1));
            continue;
        };
        match column(name) {
            Some(c) if columns.contains(&c) => problems.push(format!("column {} appears twice", quoted(name))),
            Some(c) => columns.push(c),
            None if name.trim().is_empty() => problems.push(format!("column {} has no name", i + 1)),
            None => problems.push(format!(
                "unknown column {} (known: name, givenName, familyName, dateOfBirth, identifier, email, grade)",
                quoted(name)
            )),
        }
    }
    let has = |c| columns.contains(&c);
    if !(has(Column::Name) || has(Column::Given) && has(Column::Family)) {
        problems.push("a `name` column (or both `givenName` and `familyName`) is required".into());
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let mut rows = Vec::new();
    let mut record = csv::ByteRecord::new();
    let mut lines = Lines::default();
    loop {
        if rows.len() > MAX_ROWS {
            return Err(vec![format!(
                "the file has more than {MAX_ROWS} learner rows; send them as several files of at most {MAX_ROWS}"
            )]);
        }
        let start = reader.position().byte();
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let line = lines.line_of(body, record.position().map_or(start, csv::Position::byte));
                if record.iter().all(|f| f.iter().all(u8::is_ascii_whitespace)) {
                    continue;
                }
                rows.push((line, learner(&columns, &record)));
            }
            Err(e) => {
                let line = lines.line_of(body, e.position().map_or(start, csv::Position::byte));
                rows.push((line, Err(vec![format!("unreadable row: {e}")])));
                if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                    break;
                }
            }
        }
    }
    if rows.len() > MAX_ROWS {
        return Err(vec![format!(
            "the file has more than {MAX_ROWS} learner rows; send them as several files of at most {MAX_ROWS}"
        )]);
    }
    Ok(rows)
}

/// Line numbers of increasing offsets, each counted on from the previous one (so a file
/// costs one pass, whatever its number of rows). Lines end in `\n`, `\r\n` or a lone
/// `\r` (old Mac files), as the CSV reader reads them: a CR-only file numbers its rows
/// too.
#[derive(Debug, Default)]
struct Lines {
    /// Offset up to which line breaks are counted.
    counted: usize,
    /// Line breaks before `counted`.
    breaks: u64,
}

impl Lines {
    /// The 1-based line of the first byte at or after `offset` that is not a line break.
    fn line_of(&mut self, body: &[u8], offset: u64) -> u64 {
        let offset = usize::try_from(offset).unwrap_or(usize::MAX).min(body.len());
        let skipped =
            body.get(offset..).unwrap_or_default().iter().take_while(|b| matches!(b, b'\r' | b'\n')).count();
        let target = offset + skipped;
        if target < self.counted {
            // Offsets only grow; should one not, count again from the start.
            *self = Lines::default();
        }
        let span = body.get(self.counted..target).unwrap_or_default();
        let breaks = span
            .iter()
            .enumerate()
            .filter(|&(i, &b)| b == b'\n' || (b == b'\r' && body.get(self.counted + i + 1) != Some(&b'\n')))
            .count();
        self.breaks += breaks as u64;
        self.counted = target;
        self.breaks + 1
    }
}

fn learner(columns: &[Column], record: &csv::ByteRecord) -> Result<Learner, Vec<String>> {
    let mut problems = Vec::new();
    if record.len() != columns.len() {
        problems.push(format!("the row has {} fields, the header {}", record.len(), columns.len()));
    }
    let mut learner = Learner::default();
    for (column, raw) in columns.iter().zip(record.iter()) {
        let Ok(value) = std::str::from_utf8(raw) else {
            problems.push(format!("the {column:?} field is not UTF-8"));
            continue;
        };
        let value = value.trim().to_owned();
        let optional = (!value.is_empty()).then(|| value.clone());
        match column {
            Column::Name => learner.name = value,
            Column::Given => learner.given_name = optional,
            Column::Family => learner.family_name = optional,
            Column::Birth => learner.date_of_birth = optional,
            Column::Identifier => learner.identifier = optional,
            Column::Email => learner.email = optional,
            Column::Grade => learner.grade = optional,
        }
    }
    if learner.name.is_empty() {
        if let (Some(g), Some(f)) = (&learner.given_name, &learner.family_name) {
            learner.name = format!("{g} {f}");
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    learner.normalized()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_numbers_follow_any_line_ending() {
        for (body, expected) in [
            (&b"name\nA\nB\n"[..], vec![2, 3]),
            (&b"name\r\nA\r\n\r\nB\r\n"[..], vec![2, 4]),
            (&b"name\rA\rB\r"[..], vec![2, 3]),
        ] {
            let lines: Vec<u64> = parse(body).unwrap().into_iter().map(|(line, _)| line).collect();
            assert_eq!(lines, expected, "{:?}", String::from_utf8_lossy(body));
        }
    }

    #[test]
    fn rows_carry_their_line_numbers_and_problems() {
        let csv = "\u{feff}Name,Email,Date of birth\n\
                   \"Kovalenko, Olena\",olena@example.org,1990-04-01\n\
                   ,nobody@example.org,\n\
                   \n\
                   \"Ana \"\"Ani\"\" Beridze\",ana,2001-13-01\n\
                   Ջոն Սմիթ,,\n\
                   too,many,fields,here\n";
        let rows = parse(csv.as_bytes()).unwrap();
        let lines: Vec<u64> = rows.iter().map(|(l, _)| *l).collect();
        assert_eq!(lines, vec![2, 3, 5, 6, 7]);
        assert_eq!(rows[0].1.as_ref().unwrap().name, "Kovalenko, Olena");
        assert!(rows[1].1.as_ref().unwrap_err()[0].contains("name"));
        assert_eq!(rows[2].1.as_ref().unwrap_err().len(), 2, "{:?}", rows[2]);
        assert_eq!(rows[3].1.as_ref().unwrap().name, "Ջոն Սմիթ");
        assert!(rows[4].1.is_err());
    }

    #[test]
    fn bad_headers_reject_the_file() {
        assert!(parse(b"nom,courriel\nx,y\n").unwrap_err().len() >= 2);
        assert!(parse(b"name,name\nx,y\n").is_err());
        let rows = parse(b"given name,family name\nAna,Beridze\n").unwrap();
        assert_eq!(rows[0].1.as_ref().unwrap().name, "Ana Beridze");
    }

    #[test]
    fn many_rows_take_linear_time_and_too_many_are_refused() {
        let rows = "A\r\n".repeat(MAX_ROWS);
        let started = std::time::Instant::now();
        let parsed = parse(format!("name\r\n{rows}").as_bytes()).unwrap();
        assert_eq!(parsed.last().map(|(line, _)| *line), Some(MAX_ROWS as u64 + 1));
        // Quadratic counting took seconds here; linear takes milliseconds (debug build).
        assert!(started.elapsed() < std::time::Duration::from_secs(2), "{:?}", started.elapsed());
        let problems = parse(format!("name\n{rows}A\n").as_bytes()).unwrap_err();
        assert!(problems[0].contains("more than 10000"), "{problems:?}");
    }

    #[test]
    fn invalid_utf8_fails_only_its_row() {
        let mut csv = b"name\nfine\n".to_vec();
        csv.extend_from_slice(b"bad\xff\xfe\nalso fine\n");
        let rows = parse(&csv).unwrap();
        assert_eq!(rows.len(), 3);
        assert!(rows[0].1.is_ok() && rows[1].1.is_err() && rows[2].1.is_ok());
        assert_eq!(rows[1].0, 3);
    }
}
