//! `import`: bringing a credential into the wallet — reading the source, verifying it
//! through the core pipeline, refusing or storing it.
//!
//! Sources: a file, `-` (standard input), or an http(s) URL on an allowed origin (see
//! `network`), which is then remembered as the certificate's link. Besides a bare credential, the issuer's award response
//! `{verifiableCredential, links: {credential, ...}}` is accepted: the credential is
//! taken from it and `links.credential` remembered as the certificate's link.
//! Invariants: the credential is stored exactly as parsed; it is verified before it is
//! stored; a credential that fails is stored only with `--force`, and then marked.

use std::io::Read;

use anyhow::{anyhow, bail, Context, Result};
use serde_json::{json, Value};

use crate::commands::Globals;
use crate::display;
use crate::store::{self, Record};
use crate::verification::{self, Environment};
use crate::Outcome;

/// Largest input read (the core's JSON limit).
const MAX_INPUT_BYTES: u64 = 2 * 1024 * 1024;

pub fn run(g: &Globals, source: &str, force: bool) -> Result<Outcome> {
    g.home.require_initialised()?;
    let env = Environment::load(&g.home, g.trust.as_deref(), &g.fetch_allow)?.offline(g.offline);
    // A certificate's compact QR text (`BEM2:…`, or a verifier link carrying it) given
    // on the command line is read as it is, never fetched; in a file or on standard input
    // it is recognised by its prefix. It is stored as an enveloped `vc+jwt` credential.
    let (bytes, source_name, mut link) = match bem_core::compact::find(source) {
        Some(text) => (text.into_bytes(), "the QR text".to_owned(), None),
        None => read_source(source, &env)?,
    };
    let compact = std::str::from_utf8(&bytes).ok().and_then(bem_core::compact::find);
    let document = match compact {
        Some(text) => bem_core::compact::enveloped(&text)
            .map_err(|e| anyhow!("{source_name} is not a readable QR text: {}", e.message))?,
        None => {
            let limits = bem_core::json::JsonLimits::default();
            bem_core::json::parse(&bytes, &limits)
                .map_err(|e| anyhow!("{source_name} is not a readable credential: {e}"))?
        }
    };
    let credential = match unwrap_award(&document) {
        Some((credential, award_link)) => {
            link = link.or(award_link);
            credential
        }
        None => document,
    };
    if !credential.is_object() {
        bail!("{source_name} is not a credential: expected a JSON object");
    }
    if link.is_none() {
        link = credential
            .get("id")
            .and_then(Value::as_str)
            .filter(|id| id.starts_with("https://"))
            .map(str::to_owned);
    }

    let key = store::credential_key(&credential)?;
    let stored = g.home.entry_for_key(&key);
    if let Some(entry) = &stored {
        if g.home.load(entry)?.credential == credential {
            if g.json {
                println!(
                    "{}",
                    json!({"id": entry.short_id(), "key": key, "stored": false, "duplicate": true})
                );
            } else {
                println!("Already in your wallet as {} (nothing changed).", entry.short_id());
            }
            return Ok(Outcome::Ok);
        }
    }

    // Verified before the clash of ids is reported: a forged copy of a stored credential
    // is refused as forged, not as a duplicate.
    let report = env.verify_credential(&credential);
    let verification = verification::record(&report, env.now);
    let verified = verification.verified;
    if !verified && !force {
        if g.json {
            println!("{}", json!({"stored": false, "key": key, "verification": verification}));
        } else {
            eprintln!("Refused: this credential does not verify.\n");
            eprint!("{}", display::verification(&verification));
            eprintln!("\nIt was not stored. If you still want to keep it, import it again with --force (it will be marked as failed).");
        }
        return Ok(Outcome::NotVerified);
    }
    if let Some(entry) = stored {
        bail!(
            "a different credential with the same id {} is already stored as {}: remove it first \
             (`bem-wallet remove {}`) if this one should replace it",
            display::safe(&key),
            entry.short_id(),
            entry.short_id()
        );
    }
    let record = Record::new(key.clone(), source_name, link, credential, verification);
    let entry = g.home.save(&record)?;
    if g.json {
        println!(
            "{}",
            json!({"id": entry.short_id(), "key": key, "stored": true, "duplicate": false, "verification": record.last_verification})
        );
    } else if verified {
        let view = crate::certificate::view(&record.credential);
        println!(
            "Stored as {}: {}",
            entry.short_id(),
            display::safe(view.title.as_deref().unwrap_or("(untitled credential)"))
        );
        print!("{}", display::verification(&record.last_verification));
    } else {
        println!("Stored as {} with --force, marked as failed:", entry.short_id());
        print!("{}", display::verification(&record.last_verification));
    }
    Ok(if verified { Outcome::Ok } else { Outcome::NotVerified })
}

/// The bytes, a name for messages, and the link when the source was a URL.
fn read_source(source: &str, env: &Environment) -> Result<(Vec<u8>, String, Option<String>)> {
    if source.starts_with("https://") || source.starts_with("http://") {
        let value = env.fetcher_for_link(source).fetch_json(source).map_err(|e| {
            anyhow::anyhow!(
                "cannot fetch the credential: {}\nLinks are fetched over https from public hosts; for a \
                     local or private host allow its origin with --fetch-allow ORIGIN (or \
                     BEM_FETCH_ALLOW), or download the credential and pipe it: \
                     `curl -s URL | bem-wallet import -`",
                display::safe(&e.to_string())
            )
        })?;
        let bytes = serde_json::to_vec(&*value).context("cannot re-read the fetched credential")?;
        return Ok((bytes, source.to_owned(), Some(source.to_owned())));
    }
    if source == "-" {
        let bytes = read_limited(std::io::stdin().lock()).context("cannot read standard input")?;
        return Ok((bytes, "stdin".into(), None));
    }
    let file = std::fs::File::open(source).with_context(|| format!("cannot open {source}"))?;
    let bytes = read_limited(file).with_context(|| format!("cannot read {source}"))?;
    let name =
        std::fs::canonicalize(source).map(|p| p.display().to_string()).unwrap_or_else(|_| source.to_owned());
    Ok((bytes, name, None))
}

fn read_limited(reader: impl Read) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    reader.take(MAX_INPUT_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        bail!("the input is larger than {MAX_INPUT_BYTES} bytes; no credential is that big");
    }
    Ok(bytes)
}

/// The credential and link of an issuer's award response, if `document` is one.
fn unwrap_award(document: &Value) -> Option<(Value, Option<String>)> {
    let object = document.as_object()?;
    if object.contains_key("@context") {
        return None;
    }
    let credential = object.get("verifiableCredential").filter(|c| c.is_object())?.clone();
    let link = document.pointer("/links/credential").and_then(Value::as_str).map(str::to_owned);
    Some((credential, link))
}
