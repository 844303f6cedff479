//! `bem-verifier`: the stateless verifier — W3C VC API verify endpoints and the
//! employer's page (`serve`), and offline verification of a file (`check`).
//!
//! No database and no state but caches: any number of copies can run behind a load
//! balancer. Both modes verify through the same `verification::Verifier`, which only
//! calls `bem_core::verify`. Exit codes: 0 verified (or the server stopped cleanly),
//! 1 not verified, 2 unreadable input, usage or start-up error.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing))]

mod api;
mod certificate_view;
mod challenge;
mod check;
mod config;
mod i18n;
mod metrics;
mod page;
mod problem;
mod server;
mod verification;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "bem-verifier",
    version,
    about = "Verify micro-credential certificates (W3C Verifiable Credentials)."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the verification service and the employer's page.
    Serve(ServeArgs),
    /// Verify one credential or presentation file and print the report.
    Check(check::CheckArgs),
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// Address to listen on (port 0 picks a free port; the bound address is printed).
    #[arg(long, default_value = "127.0.0.1:8081")]
    listen: SocketAddr,
    /// Trust file (TOML) naming the trusted issuers; see trust.example.toml.
    #[arg(long)]
    trust: Option<PathBuf>,
    /// Allow fetching from this origin (URL prefix), even http or loopback. Repeatable;
    /// BEM_FETCH_ALLOW (comma-separated) adds more.
    #[arg(long = "fetch-allow", value_name = "ORIGIN")]
    fetch_allow: Vec<String>,
    /// Also trust the TLS roots in this PEM file when fetching (a test CA; or BEM_FETCH_CA).
    #[arg(long = "fetch-ca", value_name = "FILE", env = "BEM_FETCH_CA")]
    fetch_ca: Option<PathBuf>,
    /// Resolve HOST:PORT to ADDRESS:PORT instead of asking DNS (like curl's --resolve;
    /// closed networks and tests). Repeatable.
    #[arg(long = "fetch-resolve", value_name = "HOST:PORT=ADDRESS:PORT")]
    fetch_resolve: Vec<String>,
    /// W3C test-suite mode: accept the example and inline contexts, accept unsigned
    /// presentations, and fetch status lists from any public https host.
    #[arg(long)]
    conformance: bool,
    /// Serve TLS with this PEM certificate chain (with --tls-key; or BEM_TLS_CERT).
    #[arg(long, value_name = "FILE")]
    tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert (PKCS#8, RSA or EC; or BEM_TLS_KEY).
    #[arg(long, value_name = "FILE")]
    tls_key: Option<PathBuf>,
    /// Key of the challenges this verifier mints (32 bytes, base64url, mode 0600; made
    /// when absent). Give every replica the same file; without one each process has its
    /// own key.
    #[arg(long, value_name = "FILE", env = "BEM_CHALLENGE_KEY_FILE")]
    challenge_key_file: Option<PathBuf>,
    /// Most connections open at once from one client (an IPv4 address or an IPv6 /64).
    /// Behind a reverse proxy every connection is the proxy's: allow what it opens.
    #[arg(
        long,
        value_name = "N",
        env = "BEM_MAX_CONNECTIONS_PER_CLIENT",
        default_value_t = 128,
        value_parser = clap::value_parser!(u32).range(1..=1_000_000)
    )]
    max_connections_per_client: u32,
    /// Lowers the bound of outstanding minted challenges (tests).
    #[arg(long, value_name = "N", env = "BEM_CHALLENGE_MAX_OUTSTANDING", hide = true)]
    challenge_max_outstanding: Option<usize>,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { ExitCode::from(2) } else { ExitCode::SUCCESS };
        }
    };
    match cli.command {
        Command::Check(args) => match check::run(&args) {
            Ok(code) => code,
            Err(check::Unreadable(e)) => {
                eprintln!("bem-verifier: {e:#}");
                ExitCode::from(2)
            }
        },
        Command::Serve(args) => {
            init_logs();
            match serve(args) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("bem-verifier: {e:#}");
                    ExitCode::from(2)
                }
            }
        }
    }
}

fn init_logs() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}

fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let tls = match config::tls_files(args.tls_cert.clone(), args.tls_key.clone())? {
        Some(files) => Some(bem_serve::Tls::load(&files)?),
        None => None,
    };
    let trust = match &args.trust {
        Some(path) => config::TrustFile::load(path)?,
        None => config::TrustFile::default(),
    };
    let origins = config::allowed_origins(&args.fetch_allow)?;
    let policy = trust.fetch_policy(origins, args.conformance);
    tracing::info!(issuers = trust.issuer.len(), ?policy, conformance = args.conformance, "configuration");
    let fetcher = Arc::new(config::fetcher(
        config::fetch_config(policy, args.fetch_ca.as_deref())?,
        &args.fetch_resolve,
    )?);
    let verifier = verification::Verifier::new(trust.trust_list(), Some(fetcher), args.conformance);
    let challenges = match &args.challenge_key_file {
        Some(path) => challenge::Challenges::from_key_file(path)?,
        None => challenge::Challenges::new(),
    };
    let mut state = server::AppState::new(verifier);
    state.challenges = match args.challenge_max_outstanding {
        Some(max) => challenges.with_max_outstanding(max),
        None => challenges,
    };
    let state = Arc::new(state);
    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the runtime")?;
    let limits = bem_serve::Limits {
        max_connections_per_client: usize::try_from(args.max_connections_per_client)?,
        ..bem_serve::Limits::default()
    };
    runtime.block_on(server::serve(args.listen, state, tls, limits, shutdown_signal()))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}
