//! `bem-wallet`: the learner's wallet on the command line — hold certificates, re-verify
//! them, present them to an employer, show them as QR codes.
//!
//! This file owns the command line (clap) and the exit codes; each command lives in
//! `commands`, the store in `store`, the key in `holder_key`. Every verification goes
//! through `bem_core::verify` (see `verification`). Exit codes, as for `bem-verifier
//! check`: 0 ok / verified, 1 not verified, 2 unreadable input or usage error. Nothing
//! here panics on bad input: every failure is an error message and exit code 2.

mod certificate;
mod commands;
mod display;
mod holder_key;
mod import;
mod presentation;
mod qr;
mod store;
mod verification;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand, ValueEnum};

const ABOUT: &str = "The learner's wallet for BEM micro-credential certificates: keep them, \
re-verify them, present them to an employer and show them as QR codes.";

const AFTER_HELP: &str = "\
Getting started:
  bem-wallet init                         create your key and wallet (~/.bem-wallet)
  bem-wallet import certificate.json      verify and keep a certificate
  bem-wallet list                         what you hold
  bem-wallet show 3f9a                    one certificate (ids abbreviate like git's)
  bem-wallet present 3f9a --challenge 8d1e-44 --domain jobs.example -o vp.json

Exit codes: 0 ok or verified, 1 not verified, 2 unreadable input or usage error.
Environment: BEM_WALLET_HOME (wallet directory), BEM_WALLET_PASSPHRASE (key passphrase
for scripts), BEM_FETCH_ALLOW (extra origins that may be fetched).";

/// The command line.
#[derive(Debug, Parser)]
#[command(name = "bem-wallet", version, about = ABOUT, after_help = AFTER_HELP)]
struct Cli {
    /// The wallet directory [default: ~/.bem-wallet].
    #[arg(long, global = true, env = "BEM_WALLET_HOME", value_name = "DIR")]
    home: Option<PathBuf>,
    /// Machine-readable JSON output instead of text.
    #[arg(long, global = true)]
    json: bool,
    /// Trust list (TOML, `[[issuer]] id = "did:..." name = "..."`) [default: HOME/trust.toml if present].
    #[arg(long, global = true, value_name = "FILE")]
    trust: Option<PathBuf>,
    /// An origin that may be fetched although it is http, loopback or private
    /// (repeatable), e.g. http://127.0.0.1:8080/.
    #[arg(
        long = "fetch-allow",
        global = true,
        value_name = "ORIGIN",
        env = "BEM_FETCH_ALLOW",
        value_delimiter = ','
    )]
    fetch_allow: Vec<String>,
    /// Make no network request: status lists and did:web documents are reported
    /// "not checked (offline)" (a did:key issuer's signature is still checked).
    #[arg(long, global = true)]
    offline: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create your holder key (did:key) and an empty wallet.
    #[command(
        long_about = "Create your holder key (an Ed25519 did:key) and an empty wallet in the wallet \
directory. The key file is readable by you only (mode 0600). On a terminal you are asked for an \
optional passphrase that protects the key (Argon2id + XChaCha20-Poly1305); scripts set \
BEM_WALLET_PASSPHRASE instead.",
        after_help = "Examples:\n  bem-wallet init\n  bem-wallet --home ./my-wallet init\n  BEM_WALLET_PASSPHRASE='correct horse' bem-wallet init"
    )]
    Init {
        /// Insist on a passphrase (asked on the terminal, or BEM_WALLET_PASSPHRASE).
        #[arg(long)]
        passphrase: bool,
    },
    /// Verify a credential and keep it in the wallet.
    #[command(
        long_about = "Verify a credential and keep it in the wallet. The source is a file, `-` for \
standard input, or the https link of the certificate. The credential goes through the full \
verification (signature, issuer, validity, status, trust) and is refused, with the reasons, if it \
fails. A credential already held (same id) is not stored twice.",
        after_help = "Examples:\n  bem-wallet import certificate.json\n  curl -s https://academy.example/credentials/4f2a | bem-wallet import -\n  bem-wallet import --force suspicious.json   # keep it anyway, marked as failed"
    )]
    Import {
        /// A file, `-` for standard input, or an https URL.
        source: String,
        /// Store the credential even though it does not verify (it is marked as failed).
        #[arg(long)]
        force: bool,
    },
    /// List the credentials you hold.
    #[command(
        long_about = "List the credentials you hold: local id, title, issuer, date and the result of \
the last verification. The local id (or any unique start of it) names a credential in the other \
commands.",
        after_help = "Examples:\n  bem-wallet list\n  bem-wallet list --json | jq '.[].title'"
    )]
    List,
    /// Show one certificate as a person reads it.
    #[command(
        long_about = "Show one certificate as a person reads it: who it was awarded to, the \
micro-credential, learning outcomes, workload, EQF level, issuer, validity and the last \
verification. With --json, everything including the credential itself.",
        after_help = "Examples:\n  bem-wallet show 3f9a\n  bem-wallet show 3f9a --json"
    )]
    Show {
        /// The local id (a unique start of it is enough) or the credential's full id.
        id: String,
    },
    /// Verify a stored credential again, now, status included.
    #[command(
        long_about = "Verify a stored credential again, now: signature, validity on today's date, \
revocation/suspension status and issuer trust. The result is recorded. Exit code 0 when it \
verifies, 1 when it does not.",
        after_help = "Examples:\n  bem-wallet verify 3f9a\n  bem-wallet verify 3f9a --json"
    )]
    Verify { id: String },
    /// Make a signed presentation of credentials for a verifier.
    #[command(
        long_about = "Make a Verifiable Presentation (VC 2.0) of one or more stored credentials, \
signed with your key for the verifier's challenge (and domain), so it cannot be replayed \
elsewhere. The presentation is checked before it is written.",
        after_help = "Examples:\n  bem-wallet present 3f9a --challenge 8d1e-44 --domain jobs.example -o vp.json\n  bem-wallet present 3f9a 71c0 --challenge \"$CHALLENGE\" > vp.json"
    )]
    Present {
        /// Local ids of the credentials to present.
        #[arg(required = true)]
        ids: Vec<String>,
        /// The challenge the verifier gave you (it may begin with `-`: a verifier's
        /// challenge is base64url).
        #[arg(long, allow_hyphen_values = true)]
        challenge: String,
        /// The verifier's domain, when it gave one.
        #[arg(long, allow_hyphen_values = true)]
        domain: Option<String>,
        /// Write the presentation to FILE instead of standard output.
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        output: Option<PathBuf>,
        /// The proof's cryptosuite.
        #[arg(long, value_enum, default_value_t = Suite::EddsaRdfc2022)]
        cryptosuite: Suite,
    },
    /// Show the QR code of a certificate's link.
    #[command(
        long_about = "Show the QR code of a certificate's link in the terminal, or write it as a PNG \
image a phone can scan. The link is the credential's id when it is an https URL, or the link it \
was imported from.",
        after_help = "Examples:\n  bem-wallet qr 3f9a\n  bem-wallet qr 3f9a --png certificate-qr.png"
    )]
    Qr {
        id: String,
        /// Write a PNG image to FILE instead of drawing in the terminal.
        #[arg(long, value_name = "FILE")]
        png: Option<PathBuf>,
        /// Draw dark modules on a light terminal background.
        #[arg(long)]
        light_background: bool,
    },
    /// Remove a credential from the wallet.
    #[command(after_help = "Examples:\n  bem-wallet remove 3f9a")]
    Remove { id: String },
    /// Write every credential to DIR, one plain JSON file each.
    #[command(
        long_about = "Write every credential you hold to DIR (created if needed), one plain JSON \
file each, named by its local id: the credentials exactly as issued, for backup or for another \
wallet.",
        after_help = "Examples:\n  bem-wallet export ~/certificates-backup"
    )]
    Export { dir: PathBuf },
    /// Print a shell completion script.
    #[command(
        after_help = "Examples:\n  bem-wallet completions bash > ~/.local/share/bash-completion/completions/bem-wallet\n  bem-wallet completions zsh > ~/.zfunc/_bem-wallet\n  bem-wallet completions fish > ~/.config/fish/completions/bem-wallet.fish"
    )]
    Completions { shell: clap_complete::Shell },
}

/// Cryptosuites a presentation can be signed with.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum Suite {
    #[value(name = "eddsa-rdfc-2022")]
    EddsaRdfc2022,
    #[value(name = "eddsa-jcs-2022")]
    EddsaJcs2022,
}

/// How a command ended when it did not fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Done; the credential(s) verified where that applies.
    Ok,
    /// Done, but a credential did not verify (exit code 1).
    NotVerified,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(Outcome::Ok) => ExitCode::SUCCESS,
        Ok(Outcome::NotVerified) => ExitCode::from(1),
        Err(error) => {
            eprintln!("bem-wallet: {}", display::safe_multiline(&format!("{error:#}")));
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<Outcome> {
    let home = store::Home::new(match cli.home {
        Some(dir) => dir,
        None => default_home()?,
    });
    let ctx = commands::Globals {
        home,
        json: cli.json,
        trust: cli.trust,
        fetch_allow: cli.fetch_allow,
        offline: cli.offline,
    };
    match cli.command {
        Command::Init { passphrase } => commands::init(&ctx, passphrase),
        Command::Import { source, force } => import::run(&ctx, &source, force),
        Command::List => commands::list(&ctx),
        Command::Show { id } => commands::show(&ctx, &id),
        Command::Verify { id } => commands::verify(&ctx, &id),
        Command::Present { ids, challenge, domain, output, cryptosuite } => {
            let cryptosuite = match cryptosuite {
                Suite::EddsaRdfc2022 => bem_core::data_integrity::Cryptosuite::EddsaRdfc2022,
                Suite::EddsaJcs2022 => bem_core::data_integrity::Cryptosuite::EddsaJcs2022,
            };
            let request =
                presentation::Request { challenge: &challenge, domain: domain.as_deref(), cryptosuite };
            commands::present(&ctx, &ids, &request, output.as_deref())
        }
        Command::Qr { id, png, light_background } => {
            commands::qr(&ctx, &id, png.as_deref(), light_background)
        }
        Command::Remove { id } => commands::remove(&ctx, &id),
        Command::Export { dir } => commands::export(&ctx, &dir),
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "bem-wallet", &mut std::io::stdout());
            Ok(Outcome::Ok)
        }
    }
}

fn default_home() -> anyhow::Result<PathBuf> {
    match std::env::var_os("HOME").filter(|h| !h.is_empty()) {
        Some(home) => Ok(PathBuf::from(home).join(".bem-wallet")),
        None => anyhow::bail!("HOME is not set: pass --home DIR or set BEM_WALLET_HOME"),
    }
}
