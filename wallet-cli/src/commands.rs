//! The wallet's commands other than `import`: init, list, show, verify, present, qr,
//! remove and export.
//!
//! Each command reads the store, calls one library function (verification, signing,
//! QR), and prints text for people or JSON for scripts (`--json`). Text from credentials
//! is printed only through `display`, which makes it terminal-safe.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};

use crate::certificate;
use crate::display::{self, Row};
use crate::holder_key::{self, PassphraseChoice};
use crate::presentation::{self, Request};
use crate::store::{self, Home};
use crate::verification::{self, Environment};
use crate::Outcome;

/// Options every command shares.
pub struct Globals {
    pub home: Home,
    pub json: bool,
    pub trust: Option<PathBuf>,
    pub fetch_allow: Vec<String>,
    /// Make no network request (`--offline`).
    pub offline: bool,
}

pub fn init(g: &Globals, insist_on_passphrase: bool) -> Result<Outcome> {
    if g.home.key_file().exists() {
        bail!(
            "{} already holds a wallet (key {}); nothing changed. Use --home DIR for another wallet",
            g.home.root().display(),
            holder_key::did(&g.home).map(|d| d.did().to_owned()).unwrap_or_else(|_| "unreadable".into())
        );
    }
    let passphrase = holder_key::passphrase_for_new_key(insist_on_passphrase)?;
    g.home.create()?;
    let did = holder_key::create(&g.home, &passphrase)?;
    let protected = matches!(passphrase, PassphraseChoice::Protect(_));
    if g.json {
        println!(
            "{}",
            json!({"home": g.home.root().display().to_string(), "did": did.did(), "keyFile": g.home.key_file().display().to_string(), "protected": protected})
        );
    } else {
        println!("Created your wallet in {}", g.home.root().display());
        println!("  your holder DID   {}", did.did());
        println!(
            "  key file          {} (readable by you only{})",
            g.home.key_file().display(),
            if protected { ", passphrase-protected" } else { ", NOT passphrase-protected" }
        );
        println!("Next: bem-wallet import certificate.json");
    }
    Ok(Outcome::Ok)
}

pub fn list(g: &Globals) -> Result<Outcome> {
    g.home.require_initialised()?;
    let mut loaded = Vec::new();
    let mut damaged = Vec::new();
    for entry in g.home.entries()? {
        match g.home.load(&entry) {
            Ok(record) => loaded.push((entry, record)),
            Err(e) => damaged.push(e),
        }
    }
    let views: Vec<_> = loaded.iter().map(|(_, r)| certificate::view(&r.credential)).collect();
    if g.json {
        let items: Vec<Value> = loaded
            .iter()
            .zip(&views)
            .map(|((entry, record), view)| {
                json!({
                    "id": entry.short_id(),
                    "key": record.key,
                    "title": view.title,
                    "issuer": view.issuer_name.as_ref().or(view.issuer_id.as_ref()),
                    "issuerId": view.issuer_id,
                    "date": view.issued,
                    "status": record.last_verification.verdict,
                    "verified": record.last_verification.verified,
                    "forced": record.forced,
                    "lastVerified": record.last_verification.at,
                })
            })
            .collect();
        println!("{}", Value::Array(items));
    } else if loaded.is_empty() && damaged.is_empty() {
        println!("Your wallet is empty. Add a certificate: bem-wallet import certificate.json");
    } else {
        let rows: Vec<Row<'_>> = loaded
            .iter()
            .zip(&views)
            .map(|((entry, record), view)| Row { short_id: entry.short_id(), view, record })
            .collect();
        print!("{}", display::table(&rows));
    }
    if damaged.is_empty() {
        return Ok(Outcome::Ok);
    }
    for e in &damaged {
        eprintln!("bem-wallet: {}", display::safe_multiline(&format!("{e:#}")));
    }
    bail!("{} stored record(s) could not be read (see above)", damaged.len())
}

pub fn show(g: &Globals, id: &str) -> Result<Outcome> {
    g.home.require_initialised()?;
    let entry = g.home.resolve(id)?;
    let record = g.home.load(&entry)?;
    let view = certificate::view(&record.credential);
    if g.json {
        println!(
            "{}",
            json!({
                "id": entry.short_id(),
                "key": record.key,
                "source": record.source,
                "link": record.link,
                "importedAt": record.imported_at,
                "forced": record.forced,
                "certificate": view,
                "lastVerification": record.last_verification,
                "credential": record.credential,
            })
        );
    } else {
        print!("{}", display::certificate(entry.short_id(), &view, &record));
    }
    Ok(Outcome::Ok)
}

pub fn verify(g: &Globals, id: &str) -> Result<Outcome> {
    g.home.require_initialised()?;
    let entry = g.home.resolve(id)?;
    let mut record = g.home.load(&entry)?;
    let env = Environment::load(&g.home, g.trust.as_deref(), &g.fetch_allow)?.offline(g.offline);
    let report = env.verify_credential(&record.credential);
    record.last_verification = verification::record(&report, env.now);
    g.home.save(&record)?;
    let v = &record.last_verification;
    if g.json {
        println!("{}", json!({"id": entry.short_id(), "key": record.key, "verification": v}));
    } else {
        print!("{}", display::verification(v));
    }
    Ok(if v.verified { Outcome::Ok } else { Outcome::NotVerified })
}

pub fn present(g: &Globals, ids: &[String], request: &Request<'_>, output: Option<&Path>) -> Result<Outcome> {
    g.home.require_initialised()?;
    let mut credentials = Vec::new();
    let mut seen = Vec::new();
    for id in ids {
        let entry = g.home.resolve(id)?;
        if seen.contains(&entry.hash) {
            continue;
        }
        let record = g.home.load(&entry)?;
        if !record.last_verification.verified {
            eprintln!(
                "bem-wallet: warning: {} did not verify when last checked ({}); the verifier will likely refuse it",
                entry.short_id(),
                verification::verdict_words(&record.last_verification.verdict)
            );
        }
        seen.push(entry.hash.clone());
        credentials.push(record.credential);
    }
    let (key, holder) = holder_key::unlock(&g.home)?;
    let env = Environment::load(&g.home, g.trust.as_deref(), &g.fetch_allow)?.offline(g.offline);
    let (vp, report) = presentation::present(credentials, &key, &holder, request, &env)?;
    if !report.verified() {
        let reasons: Vec<String> =
            report.failures().map(|c| format!("  {}: {}", c.name, c.message)).collect();
        eprintln!(
            "bem-wallet: the presentation does not verify, so it was not written:\n{}\nCheck the credentials with `bem-wallet verify ID`.",
            display::safe_multiline(&reasons.join("\n"))
        );
        return Ok(Outcome::NotVerified);
    }
    let mut text = serde_json::to_string_pretty(&vp).context("cannot serialise the presentation")?;
    text.push('\n');
    match output {
        Some(path) => {
            std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?;
            if !g.json {
                eprintln!(
                    "Wrote a presentation of {} credential(s) for challenge {:?} to {}",
                    seen.len(),
                    display::safe(request.challenge),
                    path.display()
                );
            }
        }
        None => print!("{text}"),
    }
    Ok(Outcome::Ok)
}

pub fn qr(g: &Globals, id: &str, png: Option<&Path>, dark_on_light: bool) -> Result<Outcome> {
    g.home.require_initialised()?;
    let entry = g.home.resolve(id)?;
    let record = g.home.load(&entry)?;
    let from_id = record.credential.get("id").and_then(Value::as_str).filter(|i| i.starts_with("https://"));
    let Some(link) = from_id.map(str::to_owned).or_else(|| record.link.clone()) else {
        bail!(
            "{} has no web link to put in a QR code: its id is not an https URL and it was not \
             imported from a link. Import it from the issuer's certificate link to get one, or \
             present it instead (`bem-wallet present {} --challenge ...`)",
            entry.short_id(),
            entry.short_id()
        );
    };
    match png {
        Some(path) => {
            let bytes = crate::qr::png(&link)?;
            store::write_atomically(&absolute(path)?, &bytes, 0o644)?;
            if g.json {
                println!(
                    "{}",
                    json!({"id": entry.short_id(), "link": link, "png": path.display().to_string()})
                );
            } else {
                println!("Wrote the QR code of {} to {}", display::safe(&link), path.display());
            }
        }
        None if g.json => println!("{}", json!({"id": entry.short_id(), "link": link})),
        None => {
            print!("{}", crate::qr::terminal(&link, dark_on_light)?);
            println!("\n{}", display::safe(&link));
        }
    }
    Ok(Outcome::Ok)
}

pub fn remove(g: &Globals, id: &str) -> Result<Outcome> {
    g.home.require_initialised()?;
    let entry = g.home.resolve(id)?;
    let what = g.home.load(&entry).map(|r| r.key).unwrap_or_else(|_| "(damaged record)".into());
    g.home.remove(&entry)?;
    if g.json {
        println!("{}", json!({"removed": entry.short_id(), "key": what}));
    } else {
        println!("Removed {} ({})", entry.short_id(), display::safe(&what));
    }
    Ok(Outcome::Ok)
}

pub fn export(g: &Globals, dir: &Path) -> Result<Outcome> {
    g.home.require_initialised()?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let dir = absolute(&dir.join("x"))?.parent().map(Path::to_path_buf).unwrap_or_else(|| dir.to_path_buf());
    let mut written = Vec::new();
    let mut damaged = 0usize;
    for entry in g.home.entries()? {
        let record = match g.home.load(&entry) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("bem-wallet: skipped: {}", display::safe_multiline(&format!("{e:#}")));
                damaged += 1;
                continue;
            }
        };
        let path = dir.join(format!("{}.json", entry.short_id()));
        let mut bytes =
            serde_json::to_vec_pretty(&record.credential).context("cannot serialise a credential")?;
        bytes.push(b'\n');
        store::write_atomically(&path, &bytes, 0o600)?;
        written.push(path.display().to_string());
    }
    if g.json {
        println!("{}", json!({"exported": written}));
    } else {
        println!("Exported {} credential(s) to {}", written.len(), dir.display());
    }
    if damaged > 0 {
        bail!("{damaged} damaged record(s) were not exported (see above)");
    }
    Ok(Outcome::Ok)
}

/// `path` made absolute (so it always has a parent directory).
fn absolute(path: &Path) -> Result<PathBuf> {
    std::path::absolute(path).with_context(|| format!("cannot resolve {}", path.display()))
}
