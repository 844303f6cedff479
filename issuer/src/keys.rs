//! Secret files: the Ed25519 signing key and the admin token, created 0600 and refused
//! when anyone but the owner can read them.
//!
//! A signing key file holds one line, the key's `secretKeyMultibase` (`z3u2…`, the
//! 0x8026 Multikey header and the 32-byte seed). The admin token file holds one line of
//! 43 base64url characters (256 random bits). Both are written to a temporary file in
//! the same directory and renamed into place, so a crash never leaves half a key.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use base64::Engine as _;
use ed25519_dalek::SigningKey;
use rand_core::{OsRng, RngCore};

/// A fresh Ed25519 key from the operating system's random source.
pub fn generate_signing_key() -> SigningKey {
    SigningKey::generate(&mut OsRng)
}

/// 32 random bytes, base64url without padding.
pub fn generate_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Reads the signing key at `path`, or creates it when absent. Returns the key and
/// whether it was created.
pub fn load_or_create_signing_key(path: &Path) -> anyhow::Result<(SigningKey, bool)> {
    if path.exists() {
        return Ok((read_signing_key(path)?, false));
    }
    let key = generate_signing_key();
    write_secret(path, &bem_core::multikey::encode_secret(&key))?;
    Ok((key, true))
}

/// Reads a signing key file (refusing one that group or others can read).
pub fn read_signing_key(path: &Path) -> anyhow::Result<SigningKey> {
    let text = read_secret(path)?;
    parse_signing_key(text.trim()).with_context(|| format!("signing key file {}", path.display()))
}

/// Parses a `secretKeyMultibase`.
pub fn parse_signing_key(text: &str) -> anyhow::Result<SigningKey> {
    bem_core::multikey::decode_secret(text.trim())
        .map_err(|e| anyhow::anyhow!("not an Ed25519 secretKeyMultibase: {}", e.message))
}

/// Reads the admin token at `path`, or creates it when absent.
pub fn load_or_create_token(path: &Path) -> anyhow::Result<(String, bool)> {
    if path.exists() {
        let token = read_secret(path)?.trim().to_owned();
        if token.len() < 16 {
            bail!("admin token in {} is shorter than 16 characters", path.display());
        }
        return Ok((token, false));
    }
    let token = generate_token();
    write_secret(path, &token)?;
    Ok((token, true))
}

/// Reads a secret file after checking that only its owner can read or write it.
pub fn read_secret(path: &Path) -> anyhow::Result<String> {
    let meta = fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        bail!(
            "{} has mode {mode:04o}: group or others can access it. Run `chmod 600 {}` and start again",
            path.display(),
            path.display()
        );
    }
    fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

/// Writes `contents` to `path` with mode 0600, atomically (temporary file + rename).
pub fn write_secret(path: &Path, contents: &str) -> anyhow::Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let tmp = temporary_name(path);
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .with_context(|| format!("cannot create {}", tmp.display()))?;
    file.write_all(contents.as_bytes())
        .and_then(|()| file.write_all(b"\n"))
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    drop(file);
    fs::rename(&tmp, path).with_context(|| format!("cannot move {} to {}", tmp.display(), path.display()))?;
    if let Ok(d) = fs::File::open(dir) {
        // Make the rename durable; failure here only weakens durability, not correctness.
        let _ = d.sync_all();
    }
    Ok(())
}

fn temporary_name(path: &Path) -> PathBuf {
    let mut bytes = [0u8; 6];
    OsRng.fill_bytes(&mut bytes);
    let suffix: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    path.with_file_name(format!(".{name}.{suffix}.tmp"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_files_are_0600_and_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("signing-key");
        let (key, created) = load_or_create_signing_key(&path).unwrap();
        assert!(created);
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        let (again, created) = load_or_create_signing_key(&path).unwrap();
        assert!(!created);
        assert_eq!(again.to_bytes(), key.to_bytes());

        let token_path = dir.path().join("admin-token");
        let (token, _) = load_or_create_token(&token_path).unwrap();
        assert_eq!(token.len(), 43);
        assert_eq!(load_or_create_token(&token_path).unwrap().0, token);
    }

    #[test]
    fn readable_secret_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("signing-key");
        load_or_create_signing_key(&path).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let err = load_or_create_signing_key(&path).unwrap_err().to_string();
        assert!(err.contains("chmod 600"), "{err}");
    }
}
