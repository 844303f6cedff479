//! `did:web`: the identifier of an https origin, its document URL, and the issuer's
//! DID document.
//!
//! Pure conversions only; fetching the document (https only, public hosts only, size and
//! time limits) is the caller's `Resolver`'s job. Invariants (did:web spec, attack cases
//! AC-20/AC-21): the host is a DNS name, never an IP literal, `localhost` or a name with
//! userinfo; a port is only ever written `%3A`; path segments are non-empty and carry no
//! `/`, `%2F`, `..` or query.

use ed25519_dalek::VerifyingKey;
use serde_json::{json, Value};

use crate::{multikey, Error, ProblemCode, Result};

fn invalid(message: String) -> Error {
    Error::new(ProblemCode::InvalidControlledIdentifierDocument, message)
}

/// The `did:web` of an `https://host[:port][/path]` URL.
pub fn from_url(url: &str) -> Result<String> {
    let rest = url
        .strip_prefix("https://")
        .ok_or_else(|| invalid(format!("{url} is not an https URL: did:web needs https")))?;
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    check_host(authority)?;
    let mut did = format!("did:web:{}", authority.replace(':', "%3A"));
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        check_segment(segment)?;
        did.push(':');
        did.push_str(segment);
    }
    Ok(did)
}

/// The https URL of the DID document of `did` (`/.well-known/did.json` for a bare host,
/// else `/path/did.json`).
pub fn document_url(did: &str) -> Result<String> {
    let rest = did.strip_prefix("did:web:").ok_or_else(|| invalid(format!("{did} is not a did:web")))?;
    if rest.contains(['#', '?', '/']) {
        return Err(invalid(format!("{did} carries a fragment, query or `/`")));
    }
    let mut parts = rest.split(':');
    let host = parts.next().unwrap_or_default().replace("%3A", ":").replace("%3a", ":");
    check_host(&host)?;
    let segments: Vec<&str> = parts.collect();
    for s in &segments {
        check_segment(s)?;
    }
    Ok(if segments.is_empty() {
        format!("https://{host}/.well-known/did.json")
    } else {
        format!("https://{host}/{}/did.json", segments.join("/"))
    })
}

fn check_host(authority: &str) -> Result<()> {
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (authority, None),
    };
    if let Some(port) = port {
        if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) || port.parse::<u16>().is_err() {
            return Err(invalid(format!("{authority:?}: bad port")));
        }
    }
    let lower = host.to_ascii_lowercase();
    let labels_ok = !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        });
    if !labels_ok {
        return Err(invalid(format!(
            "{host:?} is not a DNS host name (no IP literals, userinfo or encoded characters)"
        )));
    }
    // WHATWG URL parsing reads a host whose last label is a number (decimal, octal or
    // 0x-hex) as an IPv4 address.
    let numeric = |l: &str| {
        l.bytes().all(|b| b.is_ascii_digit())
            || l.strip_prefix("0x").is_some_and(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
    };
    if lower.rsplit('.').next().is_some_and(numeric) {
        return Err(invalid(format!("{host:?} is an IP address: did:web needs a host name")));
    }
    if lower == "localhost" || lower.ends_with(".localhost") {
        return Err(invalid(format!("{host:?} is a loopback name")));
    }
    Ok(())
}

fn check_segment(segment: &str) -> Result<()> {
    let ok = !segment.is_empty()
        && segment != "."
        && segment != ".."
        && !segment.to_ascii_lowercase().contains("%2f")
        && segment.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~%".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(invalid(format!("{segment:?} is not a plain did:web path segment")))
    }
}

/// One key of the issuer's document.
#[derive(Debug, Clone)]
pub struct DocumentKey {
    /// The fragment, e.g. `key-1`.
    pub fragment: String,
    pub public_key: VerifyingKey,
    /// Listed under `assertionMethod` (the current key and every key that ever signed and
    /// is not withdrawn, so old certificates keep verifying).
    pub assertion: bool,
}

/// The controller document of `did` with Multikey verification methods.
pub fn document(did: &str, keys: &[DocumentKey]) -> Value {
    let vm_id = |k: &DocumentKey| format!("{did}#{}", k.fragment);
    let methods: Vec<Value> = keys
        .iter()
        .map(|k| {
            json!({
                "id": vm_id(k),
                "type": "Multikey",
                "controller": did,
                "publicKeyMultibase": multikey::encode_public(&k.public_key),
            })
        })
        .collect();
    let assertion: Vec<Value> =
        keys.iter().filter(|k| k.assertion).map(|k| Value::String(vm_id(k))).collect();
    json!({
        "@context": ["https://www.w3.org/ns/cid/v1"],
        "id": did,
        "verificationMethod": methods,
        "assertionMethod": assertion,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_dids_convert_both_ways() {
        for (url, did, doc) in [
            (
                "https://issuer.example",
                "did:web:issuer.example",
                "https://issuer.example/.well-known/did.json",
            ),
            (
                "https://issuer.example:8443/",
                "did:web:issuer.example%3A8443",
                "https://issuer.example:8443/.well-known/did.json",
            ),
            (
                "https://bem.example/providers/md-01",
                "did:web:bem.example:providers:md-01",
                "https://bem.example/providers/md-01/did.json",
            ),
        ] {
            assert_eq!(from_url(url).unwrap(), did);
            assert_eq!(document_url(did).unwrap(), doc);
        }
    }

    #[test]
    fn hostile_identifiers_are_refused() {
        for did in [
            "did:web:127.0.0.1",
            "did:web:169.254.169.254",
            "did:web:2130706433",
            "did:web:0x7f000001",
            "did:web:[::1]",
            "did:web:localhost",
            "did:web:a.localhost",
            "did:web:user@evil.example",
            "did:web:evil.example%2Fpath",
            "did:web:evil.example:..:x",
            "did:web:evil.example:a%2fb",
            "did:web:evil.example#frag",
            "did:web:evil.example/x",
            "did:web:",
            "did:web:evil.example%3A99999",
            "did:key:z6Mk",
        ] {
            assert!(document_url(did).is_err(), "{did}");
        }
        for url in ["http://issuer.example", "https://10.0.0.1/", "https://user:pw@issuer.example/"] {
            assert!(from_url(url).is_err(), "{url}");
        }
    }

    #[test]
    fn the_document_lists_every_key_and_passes_its_own_checks() {
        let k1 = ed25519_dalek::SigningKey::from_bytes(&[1; 32]).verifying_key();
        let k2 = ed25519_dalek::SigningKey::from_bytes(&[2; 32]).verifying_key();
        let did = "did:web:issuer.example";
        let doc = document(
            did,
            &[
                DocumentKey { fragment: "key-1".into(), public_key: k1, assertion: true },
                DocumentKey { fragment: "key-2".into(), public_key: k2, assertion: true },
            ],
        );
        let at = crate::datetime::Timestamp::from_unix(1_800_000_000);
        let purpose = crate::data_integrity::ProofPurpose::AssertionMethod;
        let m = crate::verification_method::method_from_document(
            &doc,
            did,
            "did:web:issuer.example#key-1",
            purpose,
            at,
        )
        .unwrap();
        assert_eq!(m.key, k1);
        let m = crate::verification_method::method_from_document(
            &doc,
            did,
            "did:web:issuer.example#key-2",
            purpose,
            at,
        )
        .unwrap();
        assert_eq!(m.key, k2);
    }
}
