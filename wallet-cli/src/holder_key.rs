//! The holder's Ed25519 key: creation, the key file, and its optional passphrase
//! protection.
//!
//! `HOME/key.json` (mode 0600) holds the `did:key` and the secret key, either as a plain
//! Multikey (`"protection": "none"`) or sealed (`"protection":
//! "argon2id-xchacha20poly1305"`): Argon2id (m = 19 MiB, t = 2, p = 1, random 16-byte
//! salt) derives a 32-byte key from the passphrase, and XChaCha20-Poly1305 (random
//! 24-byte nonce, the DID as associated data) seals the 32-byte Ed25519 seed.
//!
//! Invariants:
//! - a loaded key always matches the DID in the file (checked after decryption);
//! - the passphrase comes from `BEM_WALLET_PASSPHRASE`, or from a prompt only when
//!   standard input is a terminal: scripts never hang on a prompt;
//! - secrets are zeroized after use where this module holds them.

use std::io::IsTerminal;

use anyhow::{anyhow, bail, Context, Result};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use bem_core::did_key::DidKey;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use ed25519_dalek::SigningKey;
use rand_core::{OsRng, RngCore};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::store::{write_atomically, Home};

/// The environment variable scripts use to give the passphrase.
pub const PASSPHRASE_ENV: &str = "BEM_WALLET_PASSPHRASE";
const PROTECTION_NONE: &str = "none";
const PROTECTION_SEALED: &str = "argon2id-xchacha20poly1305";
const ARGON2_M_KIB: u32 = 19 * 1024;
const ARGON2_T: u32 = 2;
const ARGON2_P: u32 = 1;

/// The key file's content.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct KeyFile {
    did: String,
    protection: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    secret_key_multibase: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    kdf: Option<KdfParams>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    nonce: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ciphertext: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KdfParams {
    algorithm: String,
    m: u32,
    t: u32,
    p: u32,
    salt: String,
}

/// How `init` got (or did not get) a passphrase.
pub enum PassphraseChoice {
    /// Protect the key with this passphrase.
    Protect(Zeroizing<String>),
    /// Store the key unprotected.
    None,
}

/// Decides the passphrase for a new key: the environment variable, else a prompt on a
/// terminal (empty for none; required when `insist`), else none.
pub fn passphrase_for_new_key(insist: bool) -> Result<PassphraseChoice> {
    if let Some(p) = passphrase_from_env() {
        return Ok(PassphraseChoice::Protect(p));
    }
    if !std::io::stdin().is_terminal() {
        if insist {
            bail!("--passphrase needs a terminal to ask on; in scripts set {PASSPHRASE_ENV} instead");
        }
        return Ok(PassphraseChoice::None);
    }
    let hint = if insist { "" } else { " (Enter for none)" };
    let first = Zeroizing::new(
        rpassword::prompt_password(format!("Passphrase to protect your wallet key{hint}: "))
            .context("cannot read the passphrase")?,
    );
    if first.is_empty() {
        if insist {
            bail!("an empty passphrase protects nothing; run `bem-wallet init --passphrase` again");
        }
        return Ok(PassphraseChoice::None);
    }
    let second = Zeroizing::new(
        rpassword::prompt_password("Repeat the passphrase: ").context("cannot read the passphrase")?,
    );
    if first != second {
        bail!("the two passphrases differ; run `bem-wallet init` again");
    }
    Ok(PassphraseChoice::Protect(first))
}

fn passphrase_from_env() -> Option<Zeroizing<String>> {
    std::env::var(PASSPHRASE_ENV).ok().filter(|p| !p.is_empty()).map(Zeroizing::new)
}

/// Creates a new holder key and writes it; fails if one exists.
pub fn create(home: &Home, passphrase: &PassphraseChoice) -> Result<DidKey> {
    let path = home.key_file();
    if path.exists() {
        bail!(
            "{} already holds a wallet key; a new key would orphan your presentations. \
             To start afresh, move that home away or use --home DIR",
            path.display()
        );
    }
    let signing = SigningKey::generate(&mut OsRng);
    let did = DidKey::from_public_key(&signing.verifying_key());
    let file = match passphrase {
        PassphraseChoice::None => KeyFile {
            did: did.did().to_owned(),
            protection: PROTECTION_NONE.into(),
            secret_key_multibase: Some(bem_core::multikey::encode_secret(&signing)),
            kdf: None,
            nonce: None,
            ciphertext: None,
        },
        PassphraseChoice::Protect(passphrase) => seal(&signing, did.did(), passphrase)?,
    };
    let mut bytes = serde_json::to_vec_pretty(&file).context("cannot serialise the key file")?;
    bytes.push(b'\n');
    write_atomically(&path, &bytes, 0o600)?;
    Ok(did)
}

/// The holder's DID, without unlocking the key.
pub fn did(home: &Home) -> Result<DidKey> {
    let file = read(home)?;
    DidKey::parse(&file.did)
        .map_err(|e| anyhow!("the key file {} is damaged: {e}", home.key_file().display()))
}

/// Loads the signing key, asking for the passphrase if it is protected.
pub fn unlock(home: &Home) -> Result<(SigningKey, DidKey)> {
    let file = read(home)?;
    let damaged = |why: &str| anyhow!("the key file {} is damaged: {why}", home.key_file().display());
    let did = DidKey::parse(&file.did).map_err(|e| damaged(&e.message))?;
    let signing = match file.protection.as_str() {
        PROTECTION_NONE => {
            let secret =
                file.secret_key_multibase.as_deref().ok_or_else(|| damaged("no secretKeyMultibase"))?;
            bem_core::multikey::decode_secret(secret).map_err(|e| damaged(&e.message))?
        }
        PROTECTION_SEALED => {
            let passphrase = match passphrase_from_env() {
                Some(p) => p,
                None if std::io::stdin().is_terminal() => Zeroizing::new(
                    rpassword::prompt_password("Wallet passphrase: ")
                        .context("cannot read the passphrase")?,
                ),
                None => bail!(
                    "the wallet key is protected by a passphrase: set {PASSPHRASE_ENV} or run on a terminal"
                ),
            };
            open(&file, &passphrase)
                .map_err(|e| e.context(format!("cannot unlock {}", home.key_file().display())))?
        }
        other => return Err(damaged(&format!("unknown protection {other:?}"))),
    };
    if DidKey::from_public_key(&signing.verifying_key()) != did {
        return Err(damaged("the secret key does not belong to its DID"));
    }
    Ok((signing, did))
}

fn read(home: &Home) -> Result<KeyFile> {
    use std::os::unix::fs::PermissionsExt;
    let path = home.key_file();
    let missing = || format!("cannot read the wallet key {}: run `bem-wallet init` first", path.display());
    let mode = std::fs::metadata(&path).with_context(missing)?.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        bail!(
            "the wallet key {} has mode {mode:04o}: group or others can access it. Run `chmod 600 {}` \
             and try again",
            path.display(),
            path.display()
        );
    }
    let bytes = std::fs::read(&path).with_context(missing)?;
    let value = bem_core::json::parse(&bytes, &bem_core::json::JsonLimits::default())
        .map_err(|e| anyhow!("the key file {} is damaged: {e}", path.display()))?;
    serde_json::from_value(value).map_err(|e| anyhow!("the key file {} is damaged: {e}", path.display()))
}

fn derive(passphrase: &str, salt: &[u8], m: u32, t: u32, p: u32) -> Result<Zeroizing<[u8; 32]>> {
    let params = Params::new(m, t, p, Some(32)).map_err(|e| anyhow!("bad Argon2 parameters: {e}"))?;
    let mut key = Zeroizing::new([0u8; 32]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(passphrase.as_bytes(), salt, key.as_mut())
        .map_err(|e| anyhow!("cannot derive the key from the passphrase: {e}"))?;
    Ok(key)
}

fn seal(signing: &SigningKey, did: &str, passphrase: &str) -> Result<KeyFile> {
    let mut salt = [0u8; 16];
    let mut nonce = [0u8; 24];
    OsRng.fill_bytes(&mut salt);
    OsRng.fill_bytes(&mut nonce);
    let key = derive(passphrase, &salt, ARGON2_M_KIB, ARGON2_T, ARGON2_P)?;
    let cipher = XChaCha20Poly1305::new_from_slice(key.as_ref()).map_err(|e| anyhow!("cipher key: {e}"))?;
    let seed = Zeroizing::new(signing.to_bytes());
    let ciphertext = cipher
        .encrypt(XNonce::from_slice(&nonce), Payload { msg: seed.as_ref(), aad: did.as_bytes() })
        .map_err(|_| anyhow!("cannot encrypt the key"))?;
    Ok(KeyFile {
        did: did.to_owned(),
        protection: PROTECTION_SEALED.into(),
        secret_key_multibase: None,
        kdf: Some(KdfParams {
            algorithm: "argon2id".into(),
            m: ARGON2_M_KIB,
            t: ARGON2_T,
            p: ARGON2_P,
            salt: B64.encode(salt),
        }),
        nonce: Some(B64.encode(nonce)),
        ciphertext: Some(B64.encode(ciphertext)),
    })
}

fn open(file: &KeyFile, passphrase: &str) -> Result<SigningKey> {
    let kdf = file.kdf.as_ref().ok_or_else(|| anyhow!("no kdf parameters"))?;
    if kdf.algorithm != "argon2id" {
        bail!("unknown key derivation {:?}", kdf.algorithm);
    }
    // Bounds so a doctored file cannot make us allocate or spin without end.
    if kdf.m > 1024 * 1024 || kdf.t > 16 || kdf.p > 8 {
        bail!("key derivation parameters out of range");
    }
    let decode = |field: Option<&String>, name: &str| -> Result<Vec<u8>> {
        let text = field.ok_or_else(|| anyhow!("no {name}"))?;
        B64.decode(text).map_err(|e| anyhow!("{name} is not base64: {e}"))
    };
    let salt = decode(Some(&kdf.salt), "salt")?;
    let nonce = decode(file.nonce.as_ref(), "nonce")?;
    let ciphertext = decode(file.ciphertext.as_ref(), "ciphertext")?;
    if nonce.len() != 24 {
        bail!("the nonce is not 24 bytes");
    }
    let key = derive(passphrase, &salt, kdf.m, kdf.t, kdf.p)?;
    let cipher = XChaCha20Poly1305::new_from_slice(key.as_ref()).map_err(|e| anyhow!("cipher key: {e}"))?;
    let seed = Zeroizing::new(
        cipher
            .decrypt(XNonce::from_slice(&nonce), Payload { msg: &ciphertext, aad: file.did.as_bytes() })
            .map_err(|_| anyhow!("wrong passphrase (or a damaged key file)"))?,
    );
    let seed: [u8; 32] = seed.as_slice().try_into().map_err(|_| anyhow!("the sealed key is not 32 bytes"))?;
    let seed = Zeroizing::new(seed);
    Ok(SigningKey::from_bytes(&seed))
}
