//! The harness of the end-to-end tests: the real binaries (`bem-issuer serve`,
//! `bem-verifier serve`, `bem-wallet`) started on free loopback ports with temporary
//! data, and the independent implementation (`interop/bem-interop.mjs`, Digital Bazaar's
//! libraries on Node.js). Test support only: a failure here panics with what went wrong.
//!
//! The binaries are those cargo builds next to the test: the first use of one runs
//! `cargo build` for the three (a no-op when `cargo test --workspace` just built them), so
//! `cargo test -p bem-e2e` never runs stale binaries.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Once;

use serde_json::{json, Value};

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The path of one of the workspace's binaries, built if missing.
pub fn binary(name: &str) -> PathBuf {
    static BUILD: Once = Once::new();
    let exe = std::env::current_exe().unwrap();
    // target/<profile>/deps/<test> → target/<profile>/<name>
    let dir = exe.parent().and_then(Path::parent).unwrap().to_path_buf();
    let path = dir.join(name);
    if std::env::var_os("CARGO").is_some() || !path.exists() {
        BUILD.call_once(|| {
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let mut command = Command::new(cargo);
            command.args(["build", "--quiet", "-p", "bem-issuer", "-p", "bem-verifier", "-p", "bem-wallet"]);
            if dir.file_name().is_some_and(|p| p == "release") {
                command.arg("--release");
            }
            let status = command.current_dir(root()).status().unwrap();
            assert!(status.success(), "cargo build of the binaries failed");
        });
    }
    assert!(path.exists(), "{} was not built", path.display());
    path
}

/// Reads the child's stdout until a line containing `listening on URL`; keeps draining it.
fn listening_url(child: &mut Child, who: &str) -> String {
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|line| line.split_once("listening on ").map(|(_, url)| url.trim().to_owned()))
        .unwrap_or_else(|| panic!("{who} did not say where it listens"));
    std::thread::spawn(move || for _ in lines {});
    url
}

/// An HTTP answer: status and body (JSON when it is JSON, else a string).
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

fn call(request: ureq::Request, body: Option<&Value>) -> Answer {
    let result = match body {
        Some(body) => request.send_json(body.clone()),
        None => request.call(),
    };
    let response = match result {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("request failed: {e}"),
    };
    let status = response.status();
    let text = response.into_string().unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Answer { status, body }
}

/// A running `bem-issuer serve` with its own data directory; killed on drop.
pub struct Issuer {
    child: Child,
    pub base: String,
    pub token: String,
    pub data: tempfile::TempDir,
}

impl Drop for Issuer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Issuer {
    pub fn start() -> Issuer {
        let data = tempfile::tempdir().unwrap();
        let mut child = Command::new(binary("bem-issuer"))
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data.path().join("issuer"))
            .current_dir(root())
            .env_remove("BEM_PUBLIC_URL")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let base = listening_url(&mut child, "bem-issuer");
        let token = std::fs::read_to_string(data.path().join("issuer").join("admin-token"))
            .unwrap()
            .trim()
            .to_owned();
        Issuer { child, base, token, data }
    }

    /// The origin to allow fetches from (`--fetch-allow`).
    pub fn origin(&self) -> String {
        format!("{}/", self.base)
    }

    pub fn get(&self, path: &str) -> Answer {
        call(ureq::get(&format!("{}{path}", self.base)), None)
    }

    pub fn admin(&self, path: &str, body: &Value) -> Answer {
        let request = ureq::post(&format!("{}{path}", self.base))
            .set("Authorization", &format!("Bearer {}", self.token));
        call(request, Some(body))
    }

    /// Awards micro-credential `mc` to `name`; the award answer (credential and links).
    pub fn award(&self, mc: &str, name: &str) -> Value {
        let answer = self.admin(&format!("/micro-credentials/{mc}/certificates"), &json!({"name": name}));
        assert_eq!(answer.status, 201, "{:?}", answer.body);
        answer.body
    }

    /// The issuer's DID, from its DID document.
    pub fn did(&self) -> String {
        self.get("/.well-known/did.json").body["id"].as_str().unwrap().to_owned()
    }

    /// Sets the status bit `purpose` of credential `id`.
    pub fn set_status(&self, id: &str, purpose: &str, status: bool) {
        let answer = self.admin(
            "/credentials/status",
            &json!({"credentialId": id, "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": purpose}, "status": status}),
        );
        assert!(answer.status < 300, "{:?}", answer.body);
    }
}

/// A running `bem-verifier serve`; killed on drop.
pub struct Verifier {
    child: Child,
    pub base: String,
    _dir: tempfile::TempDir,
}

impl Drop for Verifier {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Verifier {
    /// Starts a verifier trusting `trusted` issuer DIDs, allowed to fetch from `allow`.
    pub fn start(trusted: &[&str], allow: &[&str]) -> Verifier {
        let dir = tempfile::tempdir().unwrap();
        let trust: String = trusted
            .iter()
            .map(|did| format!("[[issuer]]\nid = \"{did}\"\nname = \"Test issuer\"\n\n"))
            .collect();
        let trust_file = dir.path().join("trust.toml");
        std::fs::write(&trust_file, trust).unwrap();
        let mut command = Command::new(binary("bem-verifier"));
        command.args(["serve", "--listen", "127.0.0.1:0", "--trust"]).arg(&trust_file);
        for origin in allow {
            command.args(["--fetch-allow", origin]);
        }
        let mut child = command
            .env_remove("BEM_FETCH_ALLOW")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let base = listening_url(&mut child, "bem-verifier");
        Verifier { child, base, _dir: dir }
    }

    pub fn post(&self, path: &str, body: &Value) -> Answer {
        call(ureq::post(&format!("{}{path}", self.base)), Some(body))
    }

    /// A fresh challenge from `POST /challenges`.
    pub fn challenge(&self) -> String {
        let answer = self.post("/challenges", &json!({}));
        assert_eq!(answer.status, 200, "{:?}", answer.body);
        answer.body["challenge"].as_str().unwrap().to_owned()
    }
}

/// What a command printed and how it ended.
#[derive(Debug)]
pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Out {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.stdout))
    }
}

fn output(command: &mut Command, stdin: Option<&[u8]>) -> Out {
    command.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() });
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = command.spawn().unwrap();
    if let Some(bytes) = stdin {
        child.stdin.take().unwrap().write_all(bytes).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    let out = Out {
        code: out.status.code().expect("exited with a code, not a signal"),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(!out.stderr.contains("panicked"), "panic: {}", out.stderr);
    out
}

/// A learner's wallet in a temporary home, initialised, allowed to fetch from `allow`.
pub struct Wallet {
    pub home: tempfile::TempDir,
    allow: Vec<String>,
}

impl Wallet {
    pub fn new(allow: &[&str]) -> Wallet {
        let wallet = Wallet {
            home: tempfile::tempdir().unwrap(),
            allow: allow.iter().map(|s| s.to_string()).collect(),
        };
        let out = wallet.run(&["init"]);
        assert_eq!(out.code, 0, "{out:?}");
        wallet
    }

    pub fn run(&self, args: &[&str]) -> Out {
        let mut command = Command::new(binary("bem-wallet"));
        command.arg("--home").arg(self.home.path().join("w"));
        for origin in &self.allow {
            command.args(["--fetch-allow", origin]);
        }
        command.args(args);
        for var in ["BEM_WALLET_HOME", "BEM_WALLET_PASSPHRASE", "BEM_FETCH_ALLOW"] {
            command.env_remove(var);
        }
        output(&mut command, None)
    }

    /// Runs and expects exit 0; the output.
    pub fn ok(&self, args: &[&str]) -> Out {
        let out = self.run(args);
        assert_eq!(out.code, 0, "{args:?}: {out:?}");
        out
    }

    /// Imports `source` (file or link); the stored id.
    pub fn import(&self, source: &str) -> String {
        self.ok(&["--json", "import", source]).json()["id"].as_str().unwrap().to_owned()
    }

    /// `present IDS --challenge C [--domain D] [--cryptosuite S]`; the presentation.
    pub fn present(&self, ids: &[&str], challenge: &str, domain: Option<&str>, suite: Option<&str>) -> Value {
        let file = self.home.path().join("presentation.json");
        let mut args = vec!["present"];
        args.extend_from_slice(ids);
        args.extend(["--challenge", challenge, "-o", file.to_str().unwrap()]);
        if let Some(domain) = domain {
            args.extend(["--domain", domain]);
        }
        if let Some(suite) = suite {
            args.extend(["--cryptosuite", suite]);
        }
        self.ok(&args);
        serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap()
    }
}

/// The independent implementation: `node interop/bem-interop.mjs`.
pub struct Interop {
    allow: Vec<String>,
    dir: tempfile::TempDir,
}

impl Interop {
    /// The implementation, when Node.js and `interop/node_modules` (`npm ci --prefix
    /// interop`, done by `scripts/test`) are there. When they are not: a failure if
    /// `BEM_REQUIRE_INTEROP=1` (as `scripts/test` sets), else a notice and `None`.
    pub fn get(allow: &[&str]) -> Option<Interop> {
        let node_ok = Command::new("node").arg("--version").output().is_ok_and(|o| o.status.success());
        let installed = root().join("interop/node_modules/@digitalbazaar/vc").exists();
        if !(node_ok && installed) {
            let what = "Node.js and interop/node_modules (run `npm ci --prefix interop`)";
            assert!(std::env::var("BEM_REQUIRE_INTEROP").as_deref() != Ok("1"), "{what} are required");
            eprintln!("NOTE: {what} missing: interoperability test skipped");
            return None;
        }
        Some(Interop {
            allow: allow.iter().map(|s| s.to_string()).collect(),
            dir: tempfile::tempdir().unwrap(),
        })
    }

    /// Runs `bem-interop.mjs COMMAND <document> ARGS`: exit code and JSON output.
    pub fn run(&self, command: &str, document: &Value, args: &[&str]) -> (i32, Value) {
        let file = self.dir.path().join("input.json");
        std::fs::write(&file, document.to_string()).unwrap();
        let out = output(
            Command::new("node")
                .arg(root().join("interop/bem-interop.mjs"))
                .arg(command)
                .arg(&file)
                .args(args)
                .env("BEM_INTEROP_ALLOW", self.allow.join(",")),
            None,
        );
        let value = serde_json::from_str(&out.stdout).unwrap_or(Value::String(out.stderr.clone()));
        (out.code, value)
    }

    /// Verifies a credential; `(verified, output)`.
    pub fn verify_credential(&self, credential: &Value) -> (bool, Value) {
        let (code, out) = self.run("verify-credential", credential, &[]);
        assert!(code == 0 || code == 1, "bem-interop failed: {out}");
        (code == 0 && out["verified"] == true, out)
    }

    /// Verifies a presentation with this challenge (and domain).
    pub fn verify_presentation(&self, vp: &Value, challenge: &str, domain: Option<&str>) -> (bool, Value) {
        let mut args = vec!["--challenge", challenge];
        if let Some(domain) = domain {
            args.extend(["--domain", domain]);
        }
        let (code, out) = self.run("verify-presentation", vp, &args);
        assert!(code == 0 || code == 1, "bem-interop failed: {out}");
        (code == 0 && out["verified"] == true, out)
    }

    /// Signs `credential` with a fresh did:key of theirs (set as issuer).
    pub fn issue(&self, credential: &Value, cryptosuite: &str) -> Value {
        let (code, out) = self.run("issue-credential", credential, &["--cryptosuite", cryptosuite]);
        assert_eq!(code, 0, "bem-interop issue failed: {out}");
        out
    }

    /// A credential of theirs with a status entry at `index` of a list at `list_url`,
    /// and that list (the bit set when `set`), both signed by one fresh did:key of theirs:
    /// `(credential, status list credential)`.
    pub fn issue_with_status_list(
        &self,
        credential: &Value,
        cryptosuite: &str,
        list_url: &str,
        index: u32,
        set: bool,
    ) -> (Value, Value) {
        let index = index.to_string();
        let args = [
            "--cryptosuite",
            cryptosuite,
            "--list-url",
            list_url,
            "--index",
            &index,
            "--set",
            if set { "true" } else { "false" },
        ];
        let (code, out) = self.run("issue-with-status-list", credential, &args);
        assert_eq!(code, 0, "bem-interop issue-with-status-list failed: {out}");
        (out["credential"].clone(), out["statusList"].clone())
    }

    /// Signs `presentation` as holder with a fresh did:key of theirs.
    pub fn sign_presentation(&self, presentation: &Value, challenge: &str, domain: Option<&str>) -> Value {
        let mut args = vec!["--challenge", challenge];
        if let Some(domain) = domain {
            args.extend(["--domain", domain]);
        }
        let (code, out) = self.run("sign-presentation", presentation, &args);
        assert_eq!(code, 0, "bem-interop sign failed: {out}");
        out
    }
}

/// A plain HTTP server on loopback serving JSON documents by path (200, or 404), in a
/// thread; for documents of the independent implementation that ours must fetch.
pub struct JsonServer {
    pub origin: String,
    documents: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, String>>>,
}

impl JsonServer {
    pub fn start() -> JsonServer {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let origin = format!("http://{}", listener.local_addr().unwrap());
        let documents =
            std::sync::Arc::new(std::sync::Mutex::new(std::collections::HashMap::<String, String>::new()));
        let served = documents.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut request_line = String::new();
                if reader.read_line(&mut request_line).is_err() {
                    continue;
                }
                // Skip the headers: a GET has no body.
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                    line.clear();
                }
                let path = request_line.split_whitespace().nth(1).unwrap_or("/").to_owned();
                let body = served.lock().unwrap().get(&path).cloned();
                let response = match body {
                    Some(body) => format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\ncache-control: no-store\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    ),
                    None => "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".to_owned(),
                };
                let _ = stream.write_all(response.as_bytes());
            }
        });
        JsonServer { origin, documents }
    }

    /// Serves `document` at `path` (from now on).
    pub fn serve(&self, path: &str, document: &Value) {
        self.documents.lock().unwrap().insert(path.to_owned(), document.to_string());
    }
}

/// A copy of `document` with one string changed at `pointer` (a JSON pointer).
pub fn tampered(document: &Value, pointer: &str, value: &str) -> Value {
    let mut copy = document.clone();
    *copy.pointer_mut(pointer).unwrap_or_else(|| panic!("{pointer} not in the document")) = json!(value);
    copy
}
