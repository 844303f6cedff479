//! `bem-issuer`: the training provider's issuing service and its admin commands.
//!
//! `serve` runs the HTTP service; `keygen`, `sign`, `catalogue import`, `rotate-key` and
//! `learner erase` work on the same data directory without a server. Exit codes: 0 success, 1 failure,
//! 2 usage error or unreadable input. Every failure is a message, never a panic.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing))]

mod auth_limit;
mod badge;
mod bulk;
mod catalogue;
mod certificate;
mod client_address;
mod clock;
mod config;
mod http;
mod identity;
mod issuance;
mod keys;
mod learner;
mod pages;
mod pdf;
mod problem;
mod qr;
mod render_cache;
mod seal;
#[cfg(test)]
mod shacl_tests;
mod status_lists;
mod store;
mod vocabulary;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use serde_json::Value;

use bem_core::contexts::ContextPolicy;
use bem_core::data_integrity::Cryptosuite;

use crate::config::{Config, Flags};
use crate::identity::Identity;
use crate::issuance::Issuer;

#[derive(Parser)]
#[command(
    name = "bem-issuer",
    version,
    about = "BEM Credentials issuer: micro-credential catalogue, certificates, status lists"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone, Default)]
struct Common {
    /// Data directory (database, keys, admin token). Default ./bem-data.
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// TOML configuration file.
    #[arg(long, global = true)]
    config: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP service.
    Serve {
        #[command(flatten)]
        common: Common,
        /// Address to listen on. Default 127.0.0.1:8080.
        #[arg(long)]
        listen: Option<String>,
        /// Public base URL (https gives a did:web identity). Default http://<listen>, or
        /// https://<listen> with TLS.
        #[arg(long)]
        public_url: Option<String>,
        /// Serve TLS with this PEM certificate chain (with --tls-key; or BEM_TLS_CERT).
        #[arg(long, value_name = "FILE")]
        tls_cert: Option<PathBuf>,
        /// The PEM private key of --tls-cert (PKCS#8, RSA or EC; or BEM_TLS_KEY).
        #[arg(long, value_name = "FILE")]
        tls_key: Option<PathBuf>,
        /// Also serve certificates JAdES-sealed with this PEM X.509 chain, the seal
        /// certificate first (with --seal-key; or BEM_SEAL_CERT). See docs/sealing.md.
        #[arg(long, value_name = "FILE")]
        seal_cert: Option<PathBuf>,
        /// The private key of --seal-cert: PKCS#8 PEM, RSA or EC, mode 0600 (or BEM_SEAL_KEY).
        #[arg(long, value_name = "FILE")]
        seal_key: Option<PathBuf>,
        /// Reverse proxies whose X-Forwarded-For names the client, comma-separated
        /// addresses or ADDRESS/PREFIX blocks (or BEM_TRUSTED_PROXIES).
        #[arg(long, value_name = "LIST")]
        trusted_proxies: Option<String>,
    },
    /// Create the signing key file (refuses to overwrite one).
    Keygen {
        #[command(flatten)]
        common: Common,
    },
    /// Sign an unsigned credential with the configured key and print it.
    Sign {
        #[command(flatten)]
        common: Common,
        /// The credential (JSON); `-` reads standard input.
        file: PathBuf,
        /// eddsa-rdfc-2022 (default) or eddsa-jcs-2022.
        #[arg(long, default_value = "eddsa-rdfc-2022")]
        cryptosuite: String,
        /// Public base URL the issuer DID derives from (as for serve).
        #[arg(long)]
        public_url: Option<String>,
    },
    /// Catalogue administration.
    Catalogue {
        #[command(subcommand)]
        command: CatalogueCommand,
    },
    /// Make a new current signing key; earlier keys stay in the DID document.
    RotateKey {
        #[command(flatten)]
        common: Common,
    },
    /// Learners' personal data (docs/privacy.md).
    Learner {
        #[command(subcommand)]
        command: LearnerCommand,
    },
}

#[derive(Subcommand)]
enum LearnerCommand {
    /// Erase the personal data of certificates, at the learner's request: each stored
    /// certificate becomes a tombstone (its link answers 410 Gone) and is revoked (the
    /// revocation bit stays set). Works while `serve` runs.
    #[command(
        after_help = "Example:\n  bem-issuer learner erase urn:uuid:2f1d8c3e-6a2b-4c1d-9e8f-0a1b2c3d4e5f"
    )]
    Erase {
        #[command(flatten)]
        common: Common,
        /// Each certificate's `id` (urn:uuid:…) or the token of its link.
        #[arg(required = true, value_name = "CREDENTIAL_ID")]
        ids: Vec<String>,
    },
}

#[derive(Subcommand)]
enum CatalogueCommand {
    /// Validate and store the definitions of FILE (a JSON array, or one definition).
    Import {
        #[command(flatten)]
        common: Common,
        file: PathBuf,
    },
}

/// A failure that is the caller's input or usage (exit code 2).
#[derive(Debug)]
struct Usage(String);

impl std::fmt::Display for Usage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Usage {}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { ExitCode::from(2) } else { ExitCode::SUCCESS };
        }
    };
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("bem-issuer: {e:#}");
            if e.downcast_ref::<Usage>().is_some() {
                ExitCode::from(2)
            } else {
                ExitCode::from(1)
            }
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve {
            common,
            listen,
            public_url,
            tls_cert,
            tls_key,
            seal_cert,
            seal_key,
            trusted_proxies,
        } => {
            let flags = Flags {
                listen,
                public_url,
                tls_cert,
                tls_key,
                seal_cert,
                seal_key,
                trusted_proxies,
                ..Flags::default()
            };
            let config = load_config(&common, flags)?;
            serve(config)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Keygen { common } => keygen(&load_config(&common, Flags::default())?),
        Command::Sign { common, file, cryptosuite, public_url } => {
            sign(&load_config(&common, Flags { public_url, ..Flags::default() })?, &file, &cryptosuite)
        }
        Command::Catalogue { command: CatalogueCommand::Import { common, file } } => {
            import(&load_config(&common, Flags::default())?, &file)
        }
        Command::RotateKey { common } => rotate_key(&load_config(&common, Flags::default())?),
        Command::Learner { command: LearnerCommand::Erase { common, ids } } => {
            erase(&load_config(&common, Flags::default())?, &ids)
        }
    }
}

/// The configuration from `common` and the command's own `flags`.
fn load_config(common: &Common, flags: Flags) -> anyhow::Result<Config> {
    let flags = Flags { data_dir: common.data_dir.clone(), config: common.config.clone(), ..flags };
    Config::load(&flags).map_err(|e| anyhow::Error::new(Usage(format!("{e:#}"))))
}

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// Creates the data directory with mode 0700, or checks that an existing one is 0700 or
/// stricter: it holds the keys and learners' personal data.
fn prepare_data_dir(config: &Config) -> anyhow::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    let dir = &config.data_dir;
    if !dir.exists() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .with_context(|| format!("cannot create data directory {}", dir.display()))?;
    }
    let meta =
        std::fs::metadata(dir).with_context(|| format!("cannot read data directory {}", dir.display()))?;
    let mode = meta.permissions().mode() & 0o777;
    if !meta.is_dir() {
        return Err(Usage(format!("the data directory {} is not a directory", dir.display())).into());
    }
    if mode & 0o077 != 0 {
        return Err(Usage(format!(
            "the data directory {} has mode {mode:04o}: group or others can access the keys and \
             learners' personal data. Run `chmod 700 {}` and start again",
            dir.display(),
            dir.display()
        ))
        .into());
    }
    Ok(())
}

/// The configured signing key (given in the config, or the key file, created if absent).
fn signing_key(config: &Config) -> anyhow::Result<(ed25519_dalek::SigningKey, String)> {
    if let Some(secret) = &config.signing_key {
        return Ok((
            keys::parse_signing_key(secret).context("keys.signing_key")?,
            "given in the configuration".to_owned(),
        ));
    }
    let (key, created) = keys::load_or_create_signing_key(&config.signing_key_file)?;
    let how = if created { "created" } else { "reused" };
    Ok((key, format!("{} ({how})", config.signing_key_file.display())))
}

fn serve(config: Config) -> anyhow::Result<()> {
    // Checked first: a bad certificate or key stops the start before anything is created.
    let tls = match &config.tls {
        Some(files) => {
            Some(bem_serve::Tls::load(files).map_err(|e| Usage(format!("{:#}", anyhow::Error::new(e))))?)
        }
        None => None,
    };
    let seal = match &config.seal {
        Some(files) => {
            let now = bem_core::datetime::parse_datetime_stamp(&clock::now())
                .map_err(|e| anyhow::anyhow!("the clock: {}", e.message))?;
            Some(Arc::new(seal::load(files, now).map_err(|e| Usage(format!("{e:#}")))?))
        }
        None => None,
    };
    prepare_data_dir(&config)?;
    let db_path = config.database_path();
    let mut db = store::open(&db_path, status_lists::LIST_SIZE)?;
    let (key, key_note) = signing_key(&config)?;
    let (token, token_created) = keys::load_or_create_token(&config.admin_token_file)?;
    let now = clock::now();
    let key_id = db.use_key(&bem_core::multikey::encode_public(&key.verifying_key()), &now)?;
    let catalogue = catalogue::Catalogue::new()?;
    let mut catalogue_note = format!("{} definitions", db.definitions()?.len());
    if db.catalogue_is_empty()? {
        let mut loaded = 0;
        for def in catalogue::parse_file(catalogue::DEMO)? {
            match catalogue.validate(&def) {
                Ok(id) => {
                    let id = id.to_owned();
                    db.upsert_definition(&id, &def, &now)?;
                    loaded += 1;
                }
                Err(problems) => {
                    eprintln!("bem-issuer: demo definition {:?} skipped: {problems:?}", def.get("id"))
                }
            }
        }
        catalogue_note = format!("{loaded} demo definitions loaded from schemas/demo-catalogue.json");
    }

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&config.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        let bound = listener.local_addr()?;
        let scheme = config.scheme();
        let public_url = config.public_url.clone().unwrap_or_else(|| format!("{scheme}://{bound}"));
        let identity = Identity::new(&public_url, key, key_id);
        say(&format!("bem-issuer: data directory {}", config.data_dir.display()));
        say(&format!(
            "bem-issuer: database {} (schema version {})",
            db_path.display(),
            store::schema_version()
        ));
        say(&format!("bem-issuer: signing key {key_note}"));
        say(&format!(
            "bem-issuer: admin token {} ({})",
            config.admin_token_file.display(),
            if token_created { "created" } else { "reused" }
        ));
        say(&format!("bem-issuer: catalogue: {catalogue_note}"));
        say(&format!("bem-issuer: issuer DID {}", identity.did()));
        say(&format!("bem-issuer: public URL {public_url}"));
        if !config.trusted_proxies.is_empty() {
            let blocks: Vec<String> =
                config.trusted_proxies.blocks().iter().map(ToString::to_string).collect();
            say(&format!("bem-issuer: trusted proxies (X-Forwarded-For) {}", blocks.join(", ")));
        }
        say(&format!(
            "bem-issuer: date of birth and learner number {} certificates (publish_learner_details)",
            if config.publish_learner_details { "written into" } else { "left out of" }
        ));
        let settings = issuance::Settings {
            profile: config.issuer.clone(),
            public_url,
            verifier_url: config.verifier_url.clone(),
            conformance_contexts: config.conformance_contexts,
            retired_keys: config.retired_keys_dir(),
            publish_learner_details: config.publish_learner_details,
        };
        let issuer = Issuer::new(db, identity, catalogue, settings);
        let state = http::AppState {
            issuer: Arc::new(issuer),
            admin_token: Arc::from(token.as_str()),
            failed_auth: Arc::new(auth_limit::FailedAuth::new()),
            trusted_proxies: Arc::new(config.trusted_proxies.clone()),
            render_cache: Arc::new(render_cache::RenderCache::new()),
            issuer_name: Arc::from(config.issuer.name.as_str()),
            seal: seal.clone(),
        };
        let app = http::router(state, config.max_body_bytes, config.max_csv_bytes);
        if let Some(files) = &config.tls {
            say(&format!(
                "bem-issuer: TLS certificate {}, key {}",
                files.cert.display(),
                files.key.display()
            ));
        }
        if let (Some(seal), Some(files)) = (&seal, &config.seal) {
            say(&format!("bem-issuer: seal {} from {}", seal.describe(), files.certificate.display()));
        }
        say(&format!("bem-issuer: listening on {scheme}://{bound}"));
        let limits = bem_serve::Limits {
            max_connections_per_client: config.max_connections_per_client,
            ..bem_serve::Limits::default()
        };
        bem_serve::serve_with(listener, app, tls, limits, shutdown()).await;
        Ok(())
    })
}

async fn shutdown() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} }
            }
            Err(_) => {
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

fn keygen(config: &Config) -> anyhow::Result<ExitCode> {
    let path = &config.signing_key_file;
    if path.exists() {
        return Err(Usage(format!(
            "{} exists already; use `bem-issuer rotate-key` to replace it",
            path.display()
        ))
        .into());
    }
    prepare_data_dir(config)?;
    let key = keys::generate_signing_key();
    keys::write_secret(path, &bem_core::multikey::encode_secret(&key))?;
    let public = bem_core::multikey::encode_public(&key.verifying_key());
    say(&format!("signing key written to {} (mode 0600)", path.display()));
    say(&format!("publicKeyMultibase {public}"));
    say(&format!("did:key:{public}"));
    Ok(ExitCode::SUCCESS)
}

fn read_input(file: &Path) -> anyhow::Result<Vec<u8>> {
    let bytes = if file == Path::new("-") {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf).map(|_| buf)
    } else {
        std::fs::read(file)
    };
    bytes.map_err(|e| Usage(format!("cannot read {}: {e}", file.display())).into())
}

fn sign(config: &Config, file: &Path, suite: &str) -> anyhow::Result<ExitCode> {
    let suite = Cryptosuite::parse(suite).map_err(|e| Usage(e.message))?;
    let bytes = read_input(file)?;
    let document = bem_core::json::parse(&bytes, &bem_core::json::JsonLimits::default())
        .map_err(|e| Usage(format!("{}: {}", file.display(), e.message)))?;
    let key = if let Some(secret) = &config.signing_key {
        keys::parse_signing_key(secret)?
    } else {
        keys::read_signing_key(&config.signing_key_file)?
    };
    let public_url =
        config.public_url.clone().unwrap_or_else(|| format!("{}://{}", config.scheme(), config.listen));
    let identity = Identity::new(&public_url, key, 0);
    let document = issuance::with_issuer(document, identity.did()).map_err(|e| Usage(format!("{e:?}")))?;
    let problems = bem_core::model::check_credential(&document);
    if !problems.is_empty() {
        for p in &problems {
            eprintln!("bem-issuer: {}: {}", p.code, p.message);
        }
        return Ok(ExitCode::from(1));
    }
    let signed = issuance::sign_as(&identity, &document, suite, ContextPolicy::STRICT)
        .map_err(|e| anyhow::anyhow!("cannot sign: {e}"))?;
    say(&serde_json::to_string_pretty(&signed)?);
    Ok(ExitCode::SUCCESS)
}

fn import(config: &Config, file: &Path) -> anyhow::Result<ExitCode> {
    let text = String::from_utf8(read_input(file)?)
        .map_err(|_| Usage(format!("{} is not UTF-8", file.display())))?;
    let definitions =
        catalogue::parse_file(&text).map_err(|e| Usage(format!("{}: {e:#}", file.display())))?;
    prepare_data_dir(config)?;
    let mut db = store::open(&config.database_path(), status_lists::LIST_SIZE)?;
    let catalogue = catalogue::Catalogue::new()?;
    let now = clock::now();
    let (mut stored, mut refused) = (0, 0);
    for (i, def) in definitions.iter().enumerate() {
        match catalogue.validate(def) {
            Ok(id) => {
                let created = db.upsert_definition(id, def, &now)?;
                let id = bem_core::text::terminal_safe(id);
                say(&format!("{} {id}", if created { "added" } else { "updated" }));
                stored += 1;
            }
            Err(problems) => {
                refused += 1;
                // Ids, pointers (language keys) and messages are the file's text: printed
                // with control and invisible characters escaped.
                let name = def
                    .get("id")
                    .and_then(Value::as_str)
                    .map_or_else(|| format!("#{i}"), bem_core::text::terminal_safe);
                for p in problems {
                    eprintln!(
                        "PROBLEM {name}: {}: {}",
                        if p.pointer.is_empty() {
                            "(definition)".to_owned()
                        } else {
                            bem_core::text::terminal_safe(&p.pointer)
                        },
                        bem_core::text::terminal_safe(&p.message)
                    );
                }
            }
        }
    }
    say(&format!("{stored} definitions stored, {refused} refused"));
    Ok(if refused == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn erase(config: &Config, ids: &[String]) -> anyhow::Result<ExitCode> {
    if !config.database_path().exists() {
        return Err(Usage(format!("no database in {}", config.data_dir.display())).into());
    }
    prepare_data_dir(config)?;
    let mut db = store::open(&config.database_path(), status_lists::LIST_SIZE)?;
    match db.erase(ids, &clock::now())? {
        Err(problem) => {
            eprintln!("bem-issuer: {problem}");
            Ok(ExitCode::from(1))
        }
        Ok(erased) => {
            for e in erased {
                let status = match (e.revocable, e.revoked_now) {
                    (false, _) => "it has no revocation entry",
                    (true, true) => "revoked now",
                    (true, false) => "it was revoked already",
                };
                say(&format!("erased {} ({status})", e.name));
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn rotate_key(config: &Config) -> anyhow::Result<ExitCode> {
    if config.signing_key.is_some() {
        return Err(Usage("the signing key is given in the configuration; change it there".into()).into());
    }
    let path = &config.signing_key_file;
    let old = keys::read_signing_key(path)
        .map_err(|e| Usage(format!("{e:#} (run `bem-issuer keygen` or `serve` first)")))?;
    prepare_data_dir(config)?;
    let mut db = store::open(&config.database_path(), status_lists::LIST_SIZE)?;
    let now = clock::now();
    let old_public = bem_core::multikey::encode_public(&old.verifying_key());
    db.ensure_key(&old_public, &now)?;
    let retired = config.retired_keys_dir().join(format!("{old_public}.key"));
    keys::write_secret(&retired, &bem_core::multikey::encode_secret(&old))?;
    let new = keys::generate_signing_key();
    keys::write_secret(path, &bem_core::multikey::encode_secret(&new))?;
    let new_public = bem_core::multikey::encode_public(&new.verifying_key());
    db.ensure_key(&new_public, &now)?;
    say(&format!("old key {old_public} kept in {}", retired.display()));
    say(&format!("new current key {new_public} in {}", path.display()));
    say("restart `bem-issuer serve` to sign with it; the DID document lists both keys");
    Ok(ExitCode::SUCCESS)
}
