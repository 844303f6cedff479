//! End-to-end tests of `bem-issuer`: the real binary on a free port with a temporary
//! data directory, driven over HTTP and through its CLI, checked with bem-core's
//! verification pipeline. One test binary (style.md §8); each module one area.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod support {
    use std::io::{BufRead, BufReader};
    use std::path::{Path, PathBuf};
    use std::process::{Child, Command, Stdio};
    use std::time::Duration;

    use bem_core::resolver::{Fetched, Resolver};
    use bem_core::trust::TrustList;
    use bem_core::verify::{verify_credential, Report, VerifyOptions};
    use serde_json::Value;

    pub const BIN: &str = env!("CARGO_BIN_EXE_bem-issuer");

    /// A running `bem-issuer serve`; killed when dropped.
    pub struct Server {
        pub child: Child,
        pub base: String,
        pub token: String,
        pub dir: PathBuf,
    }

    impl Drop for Server {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    pub fn free_port() -> u16 {
        std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
    }

    impl Server {
        pub fn start(dir: &Path) -> Server {
            Server::start_with(dir, "127.0.0.1:0", None)
        }

        pub fn start_with(dir: &Path, listen: &str, public_url: Option<&str>) -> Server {
            let mut args = vec![];
            if let Some(url) = public_url {
                args.extend(["--public-url", url]);
            }
            Server::start_opts(dir, listen, &args, &[])
        }

        /// `serve` with extra arguments and environment variables.
        pub fn start_opts(dir: &Path, listen: &str, args: &[&str], env: &[(&str, &str)]) -> Server {
            // As an operator prepares it: only the owner may enter (a looser existing data
            // directory stops the start; `issue17` tests that).
            if dir.exists() {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).unwrap();
            }
            let mut cmd = Command::new(BIN);
            cmd.arg("serve").arg("--data-dir").arg(dir).arg("--listen").arg(listen);
            cmd.args(args).envs(env.iter().copied());
            let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn().unwrap();
            let stdout = child.stdout.take().unwrap();
            let mut lines = BufReader::new(stdout).lines();
            let mut seen = Vec::new();
            let base = loop {
                let line = lines.next().unwrap_or_else(|| panic!("server exited: {seen:?}")).unwrap();
                if let Some(addr) = line.strip_prefix("bem-issuer: listening on ") {
                    break addr.trim().to_owned();
                }
                seen.push(line);
            };
            // Keep draining stdout so the server never blocks on a full pipe.
            std::thread::spawn(move || for _ in lines {});
            assert!(seen.iter().any(|l| l.contains("admin token")), "{seen:?}");
            assert!(seen.iter().any(|l| l.contains("signing key")), "{seen:?}");
            let token = std::fs::read_to_string(dir.join("admin-token")).unwrap().trim().to_owned();
            Server { child, base, token, dir: dir.to_owned() }
        }

        pub fn url(&self, path: &str) -> String {
            format!("{}{path}", self.base)
        }

        pub fn get(&self, path: &str, accept: &str) -> Answer {
            call(ureq::get(&self.url(path)).set("Accept", accept), None)
        }

        pub fn post_json(&self, path: &str, token: Option<&str>, body: &Value) -> Answer {
            let mut req = ureq::post(&self.url(path)).set("Content-Type", "application/json");
            if let Some(t) = token {
                req = req.set("Authorization", &format!("Bearer {t}"));
            }
            call(req, Some(body.to_string().into_bytes()))
        }

        pub fn admin(&self, path: &str, body: &Value) -> Answer {
            self.post_json(path, Some(&self.token.clone()), body)
        }

        pub fn post_raw(&self, path: &str, content_type: &str, body: &[u8]) -> Answer {
            let req = ureq::post(&self.url(path))
                .set("Content-Type", content_type)
                .set("Authorization", &format!("Bearer {}", self.token));
            call(req, Some(body.to_vec()))
        }

        pub fn award(&self, mc: &str, name: &str) -> Value {
            let a = self
                .admin(&format!("/micro-credentials/{mc}/certificates"), &serde_json::json!({"name": name}));
            assert_eq!(a.status, 201, "{}", a.text);
            a.json()
        }

        pub fn db(&self) -> rusqlite::Connection {
            rusqlite::Connection::open(self.dir.join("issuer.sqlite3")).unwrap()
        }
    }

    pub struct Answer {
        pub status: u16,
        pub content_type: String,
        pub etag: Option<String>,
        /// Every header, names in lower case.
        pub headers: std::collections::HashMap<String, String>,
        pub bytes: Vec<u8>,
        pub text: String,
    }

    impl Answer {
        pub fn header(&self, name: &str) -> Option<&str> {
            self.headers.get(&name.to_ascii_lowercase()).map(String::as_str)
        }

        pub fn json(&self) -> Value {
            serde_json::from_slice(&self.bytes).unwrap_or_else(|e| panic!("{e}: {}", self.text))
        }

        /// A problem+json answer with `status`; returns its body.
        pub fn problem(&self, status: u16) -> Value {
            assert_eq!(self.status, status, "{}", self.text);
            assert_eq!(self.content_type, "application/problem+json", "{}", self.text);
            self.json()
        }
    }

    pub fn call(req: ureq::Request, body: Option<Vec<u8>>) -> Answer {
        let result = match body {
            Some(b) => req.timeout(Duration::from_secs(120)).send_bytes(&b),
            None => req.timeout(Duration::from_secs(60)).call(),
        };
        let resp = match result {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("request failed: {e}"),
        };
        let status = resp.status();
        let content_type = resp.header("Content-Type").unwrap_or_default().to_owned();
        let etag = resp.header("ETag").map(str::to_owned);
        let headers = resp
            .headers_names()
            .into_iter()
            .filter_map(|n| resp.header(&n).map(|v| (n.to_ascii_lowercase(), v.to_owned())))
            .collect();
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut resp.into_reader(), &mut bytes).unwrap();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        Answer { status, content_type, etag, headers, bytes, text }
    }

    /// Fetches status lists and did:web documents from the test server; an https URL of
    /// the server is mapped to its plain-http listener.
    pub struct Http {
        pub base: String,
    }

    impl Http {
        fn fetch(&self, url: &str) -> Fetched {
            // The issuer believes it is served at https://issuer.test:PORT (TLS terminated
            // elsewhere); the test reaches it on loopback.
            let port = self.base.rsplit(':').next().unwrap_or_default();
            let host = self.base.trim_start_matches("http://");
            let url = url
                .replace(&format!("https://{host}"), &self.base)
                .replace(&format!("https://issuer.test:{port}"), &self.base);
            match ureq::get(&url).call() {
                Ok(r) => match r.into_json::<Value>() {
                    Ok(v) => Fetched::Document(v),
                    Err(e) => Fetched::Failed(bem_core::Error::parsing(e.to_string())),
                },
                Err(e) => Fetched::Failed(bem_core::Error::new(
                    bem_core::ProblemCode::StatusRetrievalError,
                    e.to_string(),
                )),
            }
        }
    }

    impl Resolver for Http {
        fn controller_document(&self, identifier: &str) -> Fetched {
            let Some(rest) = identifier.strip_prefix("did:web:") else { return Fetched::Offline };
            let host = rest.replace("%3A", ":");
            self.fetch(&format!("https://{host}/.well-known/did.json"))
        }
        fn status_list_credential(&self, url: &str) -> Fetched {
            self.fetch(url)
        }
    }

    pub fn now() -> bem_core::datetime::Timestamp {
        let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
        bem_core::datetime::Timestamp::from_unix(secs as i64)
    }

    pub fn verify(server: &Server, doc: &Value) -> Report {
        let trust = TrustList::default();
        let resolver = Http { base: server.base.clone() };
        verify_credential(doc, &VerifyOptions::new(now(), &trust, &resolver))
    }

    /// The status bit of a credential's entry of `purpose`, read from the served list.
    /// Certificates whose stored status entries are not exactly those their document
    /// names (one for an ELM certificate, two for a badge): half-issued ones.
    pub const INCOMPLETE_CERTIFICATES: &str = "SELECT COUNT(*) FROM credentials c WHERE \
        (SELECT COUNT(*) FROM status_entries e WHERE e.credential = c.token) != \
        CASE json_type(c.document, '$.credentialStatus') \
        WHEN 'array' THEN json_array_length(c.document, '$.credentialStatus') \
        WHEN 'object' THEN 1 ELSE -1 END";

    /// A certificate's status entries: an array, or one object (an ELM certificate's).
    pub fn status_entries(doc: &Value) -> Vec<Value> {
        match &doc["credentialStatus"] {
            Value::Array(entries) => entries.clone(),
            Value::Null => Vec::new(),
            one => vec![one.clone()],
        }
    }

    pub fn status_bit(server: &Server, doc: &Value, purpose: &str) -> bool {
        let entry = status_entries(doc).into_iter().find(|e| e["statusPurpose"] == purpose).unwrap();
        let url = entry["statusListCredential"].as_str().unwrap().replace(&server.base, "");
        let list = server.get(&url, "application/json").json();
        let encoded = list["credentialSubject"]["encodedList"].as_str().unwrap();
        let bits = bem_core::status_list::Bitstring::decode(encoded, &Default::default()).unwrap();
        let index = bem_core::status_list::StatusListIndex::parse(&entry["statusListIndex"]).unwrap();
        bits.get(index.value()).unwrap()
    }

    pub const MC: &str = "md-digital-tools-small-business";
}

mod catalogue {
    use super::support::*;
    use serde_json::json;

    #[test]
    fn catalogue_json_html_elm_and_validation() {
        let dir = tempfile::tempdir().unwrap();
        let s = Server::start(dir.path());
        assert_eq!(s.get("/healthz", "application/json").json()["status"], "ok");
        let all = s.get("/micro-credentials", "application/json").json();
        let list = all["microCredentials"].as_array().unwrap();
        assert!(list.len() >= 10, "{}", list.len());
        let html = s.get("/micro-credentials", "text/html,application/xhtml+xml");
        assert!(html.content_type.starts_with("text/html"), "{}", html.content_type);
        assert!(html.text.contains("<!DOCTYPE html>"));
        let one = s.get(&format!("/micro-credentials/{MC}"), "application/json").json();
        assert_eq!(one["id"], MC);
        let elm = s.get(&format!("/micro-credentials/{MC}"), "application/ld+json");
        assert_eq!(elm.content_type, "application/ld+json");
        // The LOQ form: a LearningOpportunity wrapping the specification (a Qualification).
        let loq = elm.json();
        assert_eq!(loq["type"], "LearningOpportunity");
        assert_eq!(loq["learningAchievementSpecification"]["type"], "Qualification");
        assert_eq!(loq["providedBy"]["type"], "Organisation");
        s.get("/micro-credentials/nope", "application/json").problem(404);

        // Invalid definitions: 422 listing every problem; nothing stored.
        let mut bad = one.clone();
        bad["id"] = "Bad Id".into();
        bad["workload"] = json!({});
        bad.as_object_mut().unwrap().remove("assessment");
        let p = s.admin("/micro-credentials", &bad).problem(422);
        assert!(p["problems"].as_array().unwrap().len() >= 3, "{p}");

        // Create, then update.
        let mut new = one.clone();
        new["id"] = "e2e-new-course".into();
        new["title"]["en"] = "<script>alert(1)</script> E2E course".into();
        assert_eq!(s.admin("/micro-credentials", &new).status, 201);
        assert_eq!(s.admin("/micro-credentials", &new).status, 200);
        let html = s.get("/micro-credentials", "text/html");
        assert!(!html.text.contains("<script>alert(1)"));
        assert!(html.text.contains("&lt;script&gt;alert(1)"));
        let cert = s.award("e2e-new-course", "Test Learner");
        assert!(verify(&s, &cert["verifiableCredential"]).verified());
    }
}

mod awards {
    use super::support::*;
    use serde_json::json;

    /// AC-30 at the issuer: markup in a learner's name and in a definition's texts is
    /// shown as text on every page that shows it (certificate, catalogue), in both
    /// certificate profiles, and the certificate still verifies with the text unchanged.
    #[test]
    fn markup_in_names_and_titles_is_shown_as_text_ac30() {
        let dir = tempfile::tempdir().unwrap();
        let s = Server::start(dir.path());
        let mut def = s.get(&format!("/micro-credentials/{MC}"), "application/json").json();
        def["id"] = "ac30-course".into();
        def["title"]["en"] = "Course <img src=x onerror=alert(1)>".into();
        def["summary"]["en"] = "<a href=\"javascript:alert(2)\">click</a> \"quoted\" & 'single'".into();
        let created = s.admin("/micro-credentials", &def);
        assert_eq!(created.status, 201, "{}", created.text);
        let name = "Olena <script>alert(3)</script>";
        for profile in ["elm", "openbadges"] {
            let a = s.admin(
                &format!("/micro-credentials/ac30-course/certificates?profile={profile}"),
                &json!({"name": name}),
            );
            assert_eq!(a.status, 201, "{}", a.text);
            let awarded = a.json();
            let vc = &awarded["verifiableCredential"];
            assert!(
                vc.to_string().contains("<script>alert(3)</script>"),
                "the credential keeps the text as given"
            );
            assert!(verify(&s, vc).verified());
            let token =
                awarded["links"]["credential"].as_str().unwrap().rsplit('/').next().unwrap().to_owned();
            let page = s.get(&format!("/credentials/{token}"), "text/html").text;
            for raw in ["<script>alert", "<img src=x", "<a href=\"javascript"] {
                assert!(!page.contains(raw), "{profile}: {raw} unescaped:\n{page}");
            }
            assert!(page.contains("Olena &lt;script&gt;alert(3)&lt;/script&gt;"), "{profile}:\n{page}");
            assert!(page.contains("Course &lt;img src=x onerror=alert(1)&gt;"), "{profile}:\n{page}");
        }
        let page = s.get("/micro-credentials", "text/html").text;
        assert!(page.contains("<!DOCTYPE html>"));
        for raw in ["<img src=x", "<a href=\"javascript"] {
            assert!(!page.contains(raw), "catalogue: {raw} unescaped:\n{page}");
        }
        // One definition is JSON even to a browser: never rendered as a page.
        let one = s.get("/micro-credentials/ac30-course", "text/html");
        assert!(one.content_type.starts_with("application/json"), "{}", one.content_type);
        // A link the page would show must be a web address, not a script.
        def["courseUrl"] = "javascript:alert(4)".into();
        let p = s.admin("/micro-credentials", &def).problem(422);
        assert!(p.to_string().contains("courseUrl"), "{p}");
    }

    #[test]
    fn award_host_verify_revoke_and_suspend_unsuspend_a_badge() {
        let dir = tempfile::tempdir().unwrap();
        let s = Server::start(dir.path());
        let awarded = s.award(MC, "Олена Коваленко");
        let vc = awarded["verifiableCredential"].clone();
        let link = awarded["links"]["credential"].as_str().unwrap().to_owned();
        assert!(awarded["links"]["qr"].as_str().unwrap().ends_with("/qr.png"));
        let token = link.rsplit('/').next().unwrap().to_owned();
        assert_eq!(token.len(), 32);
        let path = format!("/credentials/{token}");

        assert_eq!(s.get(&path, "application/json").json(), vc);
        let page = s.get(&path, "text/html");
        assert!(page.text.contains("Олена Коваленко"), "{}", page.text);
        let png = s.get(&format!("{path}/qr.png"), "image/png");
        assert_eq!(png.content_type, "image/png");
        assert_eq!(&png.bytes[..4], b"\x89PNG");
        assert!(s.get(&format!("{path}/qr.svg"), "image/svg+xml").text.contains("<svg"));
        // The compact signed form (docs/qr-compact.md) is a larger code than the link's.
        let compact = s.get(&format!("{path}/qr.png?form=compact"), "image/png");
        assert_eq!(compact.content_type, "image/png");
        assert_eq!(&compact.bytes[..4], b"\x89PNG");
        assert_ne!(compact.bytes, png.bytes);
        let svg = s.get(&format!("{path}/qr.svg?form=compact"), "image/svg+xml").text;
        let link_svg = s.get(&format!("{path}/qr.svg?form=link"), "image/svg+xml").text;
        assert!(svg.len() > link_svg.len(), "{} vs {}", svg.len(), link_svg.len());
        s.get(&format!("{path}/qr.png?form=pdf"), "image/png").problem(400);
        s.get("/credentials/00000000000000000000000000000000", "application/json").problem(404);

        let report = verify(&s, &vc);
        assert!(report.verified(), "{:#?}", report.checks);
        assert_eq!(vc["@context"][1], "http://data.europa.eu/snb/model/context/edc-ap");
        // The ELM certificate has EDC's one status entry: revocation, also an elm:CredentialStatus.
        assert_eq!(vc["credentialStatus"]["type"], json!(["BitstringStatusListEntry", "CredentialStatus"]));
        assert_eq!(vc["credentialStatus"]["statusPurpose"], "revocation");
        assert!(!status_bit(&s, &vc, "revocation"));
        let id = vc["id"].as_str().unwrap();
        let status = |id: &str, purpose: &str, on: bool| json!({"credentialId": id, "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": purpose}, "status": on});
        let p = s.admin("/credentials/status", &status(id, "suspension", true)).problem(400);
        assert!(p.to_string().contains("Open Badges certificates"), "{p}");
        assert!(verify(&s, &vc).verified());

        // Suspension, on an Open Badges certificate (revocation and suspension entries).
        let a = s.admin(
            &format!("/micro-credentials/{MC}/certificates?profile=openbadges"),
            &json!({"name": "Ana"}),
        );
        assert_eq!(a.status, 201, "{}", a.text);
        let badge = a.json()["verifiableCredential"].clone();
        assert_eq!(badge["credentialStatus"].as_array().unwrap().len(), 2);
        assert!(!status_bit(&s, &badge, "suspension"));
        let list_url =
            badge["credentialStatus"][1]["statusListCredential"].as_str().unwrap().replace(&s.base, "");
        let first = s.get(&list_url, "application/json");
        let etag = first.etag.clone().unwrap();
        let again = call(ureq::get(&s.url(&list_url)).set("If-None-Match", &etag), None);
        assert_eq!(again.status, 304);
        let badge_id = badge["id"].as_str().unwrap();
        let badge_path = format!(
            "/credentials/{}",
            a.json()["links"]["credential"].as_str().unwrap().rsplit('/').next().unwrap()
        );
        assert_eq!(s.admin("/credentials/status", &status(badge_id, "suspension", true)).status, 200);
        assert!(status_bit(&s, &badge, "suspension"));
        assert_ne!(s.get(&list_url, "application/json").etag.unwrap(), etag, "a changed list has a new ETag");
        assert_eq!(verify(&s, &badge).verdict(), bem_core::verify::Verdict::Suspended);
        assert!(s.get(&badge_path, "text/html").text.contains("suspended"));
        assert_eq!(s.admin("/credentials/status", &status(badge_id, "suspension", false)).status, 200);
        assert!(!status_bit(&s, &badge, "suspension"));
        assert!(verify(&s, &badge).verified());

        let status = |purpose: &str, on: bool| status(id, purpose, on);
        assert_eq!(s.admin("/credentials/status", &status("revocation", true)).status, 200);
        assert!(status_bit(&s, &vc, "revocation"));
        assert_eq!(verify(&s, &vc).verdict(), bem_core::verify::Verdict::Revoked);
        assert!(s.get(&path, "text/html").text.contains("revoked"));
        s.admin("/credentials/status", &status("revocation", false)).problem(409);

        let unknown = json!({"credentialId": "urn:uuid:nope", "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"}, "status": true});
        s.admin("/credentials/status", &unknown).problem(404);
        let extra = json!({"credentialId": id, "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"}, "status": true, "x": 1});
        s.admin("/credentials/status", &extra).problem(400);
    }

    /// The attached file `name` of a PDF, found as a reader finds it: the catalogue's
    /// `/Names /EmbeddedFiles` tree → file specification → `/EF /F` stream, inflated.
    fn pdf_attachment(doc: &lopdf::Document, name: &str) -> Vec<u8> {
        let names = doc.catalog().unwrap().get_deref(b"Names", doc).unwrap().as_dict().unwrap();
        let tree = names.get_deref(b"EmbeddedFiles", doc).unwrap().as_dict().unwrap();
        let pairs = tree.get(b"Names").unwrap().as_array().unwrap();
        let at = pairs.iter().position(|o| o.as_str().ok() == Some(name.as_bytes())).unwrap();
        let spec = doc.dereference(&pairs[at + 1]).unwrap().1.as_dict().unwrap();
        let ef = spec.get_deref(b"EF", doc).unwrap().as_dict().unwrap();
        ef.get_deref(b"F", doc).unwrap().as_stream().unwrap().decompressed_content().unwrap()
    }

    /// Issue 7, item 5: `GET /credentials/{id}.pdf` is one A4 page with the
    /// certificate's text, and carries the credential exactly as `GET /credentials/{id}`
    /// serves it, which verifies; a revoked certificate's PDF says so, like its page.
    #[test]
    fn the_certificate_pdf_carries_the_served_credential_which_verifies() {
        let dir = tempfile::tempdir().unwrap();
        let s = Server::start(dir.path());
        let awarded = s.award(MC, "Олена Коваленко");
        let link = awarded["links"]["credential"].as_str().unwrap();
        assert_eq!(awarded["links"]["pdf"], format!("{link}.pdf"));
        let token = link.rsplit('/').next().unwrap();
        let path = format!("/credentials/{token}.pdf");

        let response = ureq::get(&s.url(&path)).call().unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.content_type(), "application/pdf");
        let disposition = response.header("Content-Disposition").unwrap().to_owned();
        assert_eq!(disposition, format!("inline; filename=\"certificate-{}.pdf\"", &token[..8]));
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut response.into_reader(), &mut bytes).unwrap();
        assert!(bytes.starts_with(b"%PDF-"));

        let doc = lopdf::Document::load_mem(&bytes).unwrap();
        assert_eq!(doc.get_pages().len(), 1);
        let served = s.get(&format!("/credentials/{token}"), "application/json");
        let attached = pdf_attachment(&doc, "credential.json");
        assert_eq!(attached, served.bytes, "the PDF carries the served credential byte for byte");
        let vc: serde_json::Value = serde_json::from_slice(&attached).unwrap();
        assert_eq!(vc, awarded["verifiableCredential"]);
        let report = verify(&s, &vc);
        assert!(report.verified(), "{:#?}", report.checks);
        let text = doc.extract_text(&[1]).unwrap();
        assert!(text.contains("Олена Коваленко"), "{text}");
        assert!(text.contains(link), "{text}");

        let page = s.get(&format!("/credentials/{token}"), "text/html").text;
        assert!(page.contains(&format!("href=\"/credentials/{token}.pdf\"")), "{page}");

        s.get("/credentials/00000000000000000000000000000000.pdf", "application/pdf").problem(404);
        s.get("/credentials/not-a-token.pdf", "application/pdf").problem(404);
        s.get(&format!("/credentials/{token}.PDF"), "application/pdf").problem(404);

        let id = vc["id"].as_str().unwrap();
        let revoke = json!({"credentialId": id, "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"}, "status": true});
        assert_eq!(s.admin("/credentials/status", &revoke).status, 200);
        let revoked = s.get(&path, "application/pdf");
        assert_eq!(revoked.status, 200);
        let text = lopdf::Document::load_mem(&revoked.bytes).unwrap().extract_text(&[1]).unwrap();
        assert!(text.contains("This certificate has been revoked by its issuer."), "{text}");
    }

    #[test]
    fn bulk_issues_good_rows_and_reports_bad_ones_by_line() {
        let dir = tempfile::tempdir().unwrap();
        let s = Server::start(dir.path());
        let mut csv = String::from("name,email,dateOfBirth,grade\n");
        csv.push_str("\"Kovalenko, Olena\",olena@example.org,1990-04-01,Good\n");
        csv.push_str(",missing@example.org,,\n");
        csv.push_str("ანა ბერიძე,,,\n");
        csv.push_str("Bad Date,,1990-02-30,\n");
        csv.push_str("\"Jovan \"\"Joca\"\" Petrović\",,,\n");
        csv.push_str("Too,many,fields,in,this,row\n");
        for i in 0..40 {
            csv.push_str(&format!("Learner {i},,,\n"));
        }
        let mut bytes = csv.into_bytes();
        bytes.extend_from_slice(b"Broken \xff UTF-8,,,\n");
        let a = s.post_raw(
            &format!("/micro-credentials/{MC}/certificates/bulk"),
            "text/csv; charset=utf-8",
            &bytes,
        );
        assert_eq!(a.status, 200, "{}", a.text);
        let body = a.json();
        assert_eq!(body["issued"], 43, "{body}");
        assert_eq!(body["failed"], 4, "{body}");
        let results = body["results"].as_array().unwrap();
        let failed_lines: Vec<u64> =
            results.iter().filter(|r| r["status"] == "failed").map(|r| r["line"].as_u64().unwrap()).collect();
        assert_eq!(failed_lines, vec![3, 5, 7, 48]);
        let count: i64 = s.db().query_row("SELECT COUNT(*) FROM credentials", [], |r| r.get(0)).unwrap();
        assert_eq!(count, 43);
        // Every issued row is a complete certificate with its status entry.
        let incomplete: i64 = s.db().query_row(INCOMPLETE_CERTIFICATES, [], |r| r.get(0)).unwrap();
        assert_eq!(incomplete, 0);
        let georgian = results.iter().find(|r| r["line"] == 4).unwrap();
        let path = georgian["links"]["credential"].as_str().unwrap().replace(&s.base, "");
        let vc = s.get(&path, "application/json").json();
        assert_eq!(vc["credentialSubject"]["fullName"]["en"], "ანა ბერიძე");
        assert!(verify(&s, &vc).verified());

        // Whole-file problems.
        s.post_raw(&format!("/micro-credentials/{MC}/certificates/bulk"), "text/csv", b"nom\nx\n")
            .problem(400);
        s.post_raw(&format!("/micro-credentials/{MC}/certificates/bulk"), "application/json", b"{}")
            .problem(415);
        s.post_raw("/micro-credentials/nope/certificates/bulk", "text/csv", b"name\nx\n").problem(404);
    }
}

mod auth {
    use super::support::*;
    use serde_json::json;

    fn counts(s: &Server) -> (i64, i64, i64) {
        let db = s.db();
        let q = |sql: &str| db.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap();
        (
            q("SELECT COUNT(*) FROM credentials"),
            q("SELECT COUNT(*) FROM micro_credentials"),
            q("SELECT COUNT(*) FROM status_entries WHERE status != 0"),
        )
    }

    #[test]
    fn missing_or_wrong_tokens_change_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let s = Server::start(dir.path());
        let vc = s.award(MC, "Someone")["verifiableCredential"].clone();
        let before = counts(&s);
        let def = s.get(&format!("/micro-credentials/{MC}"), "application/json").json();
        let mut new = def.clone();
        new["id"] = "sneaky-course".into();
        let status = json!({"credentialId": vc["id"], "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"}, "status": true});
        let issue = json!({"credential": {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"], "credentialSubject": {"id": "did:example:x"}}});
        let calls: Vec<(String, serde_json::Value)> = vec![
            ("/micro-credentials".into(), new),
            (format!("/micro-credentials/{MC}/certificates"), json!({"name": "X"})),
            ("/credentials/status".into(), status),
            ("/credentials/issue".into(), issue),
        ];
        for (path, body) in &calls {
            let p = s.post_json(path, None, body).problem(401);
            assert_eq!(p["code"], "UNAUTHORIZED");
            let p = s.post_json(path, Some("wrong-token-wrong-token"), body).problem(403);
            assert_eq!(p["code"], "FORBIDDEN");
        }
        // Not even a bad body gets past the token check.
        let raw = call(
            ureq::post(&s.url("/credentials/issue")).set("Content-Type", "application/json"),
            Some(b"{not json".to_vec()),
        );
        raw.problem(401);
        let raw = s.post_raw(&format!("/micro-credentials/{MC}/certificates/bulk"), "text/csv", b"name\nA\n");
        assert_eq!(raw.status, 200);
        let unauth = call(
            ureq::post(&s.url(&format!("/micro-credentials/{MC}/certificates/bulk")))
                .set("Content-Type", "text/csv"),
            Some(b"name\nB\n".to_vec()),
        );
        unauth.problem(401);
        let after = counts(&s);
        assert_eq!((after.0, after.1, after.2), (before.0 + 1, before.1, before.2));
        assert!(verify(&s, &vc).verified(), "not revoked");
    }

    #[test]
    fn repeated_wrong_tokens_lock_the_client_out_with_429() {
        let dir = tempfile::tempdir().unwrap();
        let s = Server::start(dir.path());
        let body = json!({"name": "Guess"});
        let path = format!("/micro-credentials/{MC}/certificates");
        for i in 0..10 {
            let p = s.post_json(&path, Some(&format!("guess-{i}")), &body).problem(403);
            assert_eq!(p["code"], "FORBIDDEN");
        }
        // The 11th attempt, even with the right token, is refused before the token is read.
        for token in ["guess-10", s.token.as_str()] {
            let answer = call(
                ureq::post(&s.url(&path))
                    .set("Content-Type", "application/json")
                    .set("Authorization", &format!("Bearer {token}")),
                Some(body.to_string().into_bytes()),
            );
            let p = answer.problem(429);
            assert_eq!(p["code"], "TOO_MANY_REQUESTS");
            assert!(p["detail"].as_str().unwrap().contains("try again"), "{p}");
        }
        let raw = ureq::post(&s.url(&path))
            .set("Content-Type", "application/json")
            .set("Authorization", &format!("Bearer {}", s.token))
            .send_string(&body.to_string());
        match raw {
            Err(ureq::Error::Status(429, r)) => {
                let seconds: u64 = r.header("Retry-After").unwrap().parse().unwrap();
                assert!((1..=60).contains(&seconds), "{seconds}");
            }
            other => panic!("expected 429, got {other:?}"),
        }
        // Public routes still answer, and nothing was issued.
        assert_eq!(s.get("/micro-credentials", "application/json").status, 200);
        let issued: i64 = s.db().query_row("SELECT COUNT(*) FROM credentials", [], |r| r.get(0)).unwrap();
        assert_eq!(issued, 0);
    }

    #[test]
    fn the_token_and_the_signing_key_never_reach_the_logs_or_the_answers() {
        use std::io::Read;
        use std::process::{Command, Stdio};
        let dir = tempfile::tempdir().unwrap();
        let (out, err) = (dir.path().join("stdout.log"), dir.path().join("stderr.log"));
        let data = dir.path().join("data");
        let mut child = Command::new(BIN)
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(&data)
            .env("RUST_LOG", "trace")
            .stdout(Stdio::from(std::fs::File::create(&out).unwrap()))
            .stderr(Stdio::from(std::fs::File::create(&err).unwrap()))
            .spawn()
            .unwrap();
        let started = std::time::Instant::now();
        let base = loop {
            let text = std::fs::read_to_string(&out).unwrap_or_default();
            if let Some(line) = text.lines().find_map(|l| l.strip_prefix("bem-issuer: listening on ")) {
                break line.trim().to_owned();
            }
            assert!(started.elapsed().as_secs() < 60, "no start: {text}");
            std::thread::sleep(std::time::Duration::from_millis(50));
        };
        let token = std::fs::read_to_string(data.join("admin-token")).unwrap().trim().to_owned();
        let key = std::fs::read_to_string(data.join("signing-key")).unwrap().trim().to_owned();
        let mut answers = String::new();
        let post = |path: &str, token: &str, body: &serde_json::Value| {
            let answer = call(
                ureq::post(&format!("{base}{path}"))
                    .set("Content-Type", "application/json")
                    .set("Authorization", &format!("Bearer {token}")),
                Some(body.to_string().into_bytes()),
            );
            answer.text
        };
        answers +=
            &post(&format!("/micro-credentials/{MC}/certificates"), &token, &json!({"name": "Logged?"}));
        answers += &post(&format!("/micro-credentials/{MC}/certificates"), &format!("{token}x"), &json!({}));
        answers += &post("/credentials/issue", &token, &json!({"credential": {"bad": true}}));
        answers += &call(ureq::get(&format!("{base}/did.json")), None).text;
        child.kill().unwrap();
        child.wait().unwrap();
        let mut logs = String::new();
        for file in [&out, &err] {
            std::fs::File::open(file).unwrap().read_to_string(&mut logs).unwrap();
        }
        assert!(logs.contains("admin token"), "the log names the token's file: {logs}");
        for secret in [&token, &key] {
            assert!(!logs.contains(secret.as_str()), "a secret is in the logs");
            assert!(!answers.contains(secret.as_str()), "a secret is in an answer");
        }
    }

    #[test]
    fn bad_requests_get_problem_json() {
        let dir = tempfile::tempdir().unwrap();
        let s = Server::start(dir.path());
        let token = s.token.clone();
        let req =
            || ureq::post(&s.url("/credentials/issue")).set("Authorization", &format!("Bearer {token}"));
        let p = call(req().set("Content-Type", "application/json"), Some(b"{\"credential\": ".to_vec()))
            .problem(400);
        assert_eq!(p["code"], "PARSING_ERROR");
        call(
            req().set("Content-Type", "application/json"),
            Some(b"{\"credential\": {}, \"credential\": {}}".to_vec()),
        )
        .problem(400);
        call(req().set("Content-Type", "text/plain"), Some(b"{}".to_vec())).problem(415);
        // The server may answer 413 and close before the client has sent everything.
        let huge = vec![b' '; 3 * 1024 * 1024];
        match req().set("Content-Type", "application/json").send_bytes(&huge) {
            Err(ureq::Error::Status(code, _)) => assert_eq!(code, 413),
            Err(ureq::Error::Transport(_)) => {}
            Ok(r) => panic!("accepted an oversized body: {}", r.status()),
        }
        s.get("/no/such/thing", "application/json").problem(404);
        call(ureq::delete(&s.url("/micro-credentials")), None).problem(405);
        s.get("/status-lists/abc", "application/json").problem(404);
        s.get("/status-lists/999", "application/json").problem(404);
    }
}

mod vc_api {
    use super::support::*;
    use serde_json::json;

    /// A credential to issue, with a new `id` each time (an `id` is issued once).
    fn credential() -> serde_json::Value {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        json!({
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "id": format!("urn:uuid:11111111-2222-4333-8444-{n:012}"),
            "type": ["VerifiableCredential"],
            "credentialSubject": {"id": "did:example:learner"},
        })
    }

    #[test]
    fn issue_options_issuer_and_status() {
        let dir = tempfile::tempdir().unwrap();
        let s = Server::start(dir.path());
        let did =
            s.get("/.well-known/did.json", "application/json").json()["id"].as_str().unwrap().to_owned();
        assert!(did.starts_with("did:key:z6Mk"), "{did}");

        let a = s.admin("/credentials/issue", &json!({"credential": credential()}));
        assert_eq!(a.status, 201, "{}", a.text);
        let vc = a.json()["verifiableCredential"].clone();
        assert_eq!(vc["issuer"], did);
        assert_eq!(vc["proof"]["cryptosuite"], "eddsa-rdfc-2022");
        assert!(verify(&s, &vc).verified());

        let mut mine = credential();
        mine["issuer"] = json!({"id": did, "name": "Me"});
        mine["@context"] = json!(["https://www.w3.org/ns/credentials/v2"]);
        let options = json!({"cryptosuite": "eddsa-jcs-2022", "credentialStatus": [
            {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"},
            {"type": "BitstringStatusListEntry", "statusPurpose": "suspension"}]});
        let a = s.admin("/credentials/issue", &json!({"credential": mine, "options": options}));
        assert_eq!(a.status, 201, "{}", a.text);
        let vc = a.json()["verifiableCredential"].clone();
        assert_eq!(vc["proof"]["cryptosuite"], "eddsa-jcs-2022");
        assert_eq!(vc["credentialStatus"].as_array().unwrap().len(), 2);
        let report = verify(&s, &vc);
        assert!(report.verified(), "{:#?}", report.checks);
        let status = json!({"credentialId": vc["id"], "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"}, "status": true});
        assert_eq!(s.admin("/credentials/status", &status).status, 200);
        assert_eq!(verify(&s, &vc).verdict(), bem_core::verify::Verdict::Revoked);

        let p = s
            .admin(
                "/credentials/issue",
                &json!({"credential": credential(), "options": {"mandatoryPointers": ["/a"]}}),
            )
            .problem(400);
        assert_eq!(p["code"], "UNKNOWN_OPTION_PROVIDED");
        // AC-49: from here on every request is refused, and nothing is signed or stored.
        let stored = |s: &Server| -> i64 {
            s.db().query_row("SELECT COUNT(*) FROM credentials", [], |r| r.get(0)).unwrap()
        };
        let before = stored(&s);
        assert!(before > 0, "the issues above are stored");
        s.admin(
            "/credentials/issue",
            &json!({"credential": credential(), "options": {"cryptosuite": "ecdsa-rdfc-2019"}}),
        )
        .problem(400);
        s.admin("/credentials/issue", &json!({"credential": credential(), "extra": 1})).problem(400);

        let mut foreign = credential();
        foreign["issuer"] = "did:example:someone-else".into();
        assert_eq!(
            s.admin("/credentials/issue", &json!({"credential": foreign})).problem(400)["code"],
            "FOREIGN_ISSUER"
        );

        let mut broken = credential();
        broken.as_object_mut().unwrap().remove("credentialSubject");
        s.admin("/credentials/issue", &json!({"credential": broken})).problem(400);
        let mut undefined = credential();
        undefined["notDefinedAnywhere"] = "x".into();
        let p = s.admin("/credentials/issue", &json!({"credential": undefined})).problem(400);
        assert_eq!(p["code"], "DATA_LOSS_DETECTION_ERROR", "{p}");
        assert_eq!(stored(&s), before, "a refused request stored a credential");
    }
}

mod lifecycle {
    use super::support::*;
    use std::process::Command;

    #[test]
    fn restart_keeps_everything_and_rotation_keeps_old_certificates_valid() {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let listen = format!("127.0.0.1:{port}");
        // https public URL (TLS terminated elsewhere): did:web, resolved through did.json.
        let public = format!("https://issuer.test:{port}");
        let (old_vc, old_link, did) = {
            let s = Server::start_with(dir.path(), &listen, Some(&public));
            let did = s.get("/.well-known/did.json", "application/json").json();
            assert_eq!(did["id"], format!("did:web:issuer.test%3A{port}"));
            let a = s.award(MC, "Before Rotation");
            let vc = a["verifiableCredential"].clone();
            assert!(verify(&s, &vc).verified(), "{:#?}", verify(&s, &vc).checks);
            (vc, a["links"]["credential"].as_str().unwrap().to_owned(), did)
        };
        let out = Command::new(BIN).args(["rotate-key", "--data-dir"]).arg(dir.path()).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

        let s = Server::start_with(dir.path(), &listen, Some(&public));
        let doc = s.get("/.well-known/did.json", "application/json").json();
        assert_eq!(doc["id"], did["id"]);
        assert_eq!(doc["verificationMethod"].as_array().unwrap().len(), 2);
        assert_ne!(doc["assertionMethod"][0], did["assertionMethod"][0], "a new current key");
        let path = old_link.replace(&public, "");
        assert_eq!(s.get(&path, "application/json").json(), old_vc, "served as before");
        let report = verify(&s, &old_vc);
        assert!(report.verified(), "old certificate after rotation: {:#?}", report.checks);

        let new_vc = s.award(MC, "After Rotation")["verifiableCredential"].clone();
        assert_ne!(new_vc["proof"]["verificationMethod"], old_vc["proof"]["verificationMethod"]);
        {
            let r = verify(&s, &new_vc);
            assert!(r.verified(), "{:#?}", r.checks);
        }
        assert_eq!(
            s.get("/micro-credentials", "application/json").json()["microCredentials"]
                .as_array()
                .unwrap()
                .len(),
            14
        );
    }

    #[test]
    fn did_key_rotation_and_cli_commands() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        let listen = format!("127.0.0.1:{}", free_port());
        let bin =
            |args: &[&str]| Command::new(BIN).args(args).arg("--data-dir").arg(dir.path()).output().unwrap();
        let out = bin(&["keygen"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(bin(&["keygen"]).status.code(), Some(2), "refuses to overwrite");

        let unsigned = dir.path().join("unsigned.json");
        std::fs::write(
            &unsigned,
            serde_json::json!({
                "@context": ["https://www.w3.org/ns/credentials/v2"],
                "type": ["VerifiableCredential"],
                "credentialSubject": {"id": "did:example:x"}
            })
            .to_string(),
        )
        .unwrap();
        let out = bin(&["sign", unsigned.to_str().unwrap()]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let signed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let trust = bem_core::trust::TrustList::default();
        let report = bem_core::verify::verify_credential(
            &signed,
            &bem_core::verify::VerifyOptions::new(now(), &trust, &bem_core::resolver::Offline),
        );
        assert!(report.verified(), "{:#?}", report.checks);
        assert_eq!(bin(&["sign", "/no/such/file"]).status.code(), Some(2));

        let bad = dir.path().join("bad.json");
        std::fs::write(&bad, r#"[{"id": "x"}]"#).unwrap();
        let out = bin(&["catalogue", "import", bad.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&out.stderr).contains("PROBLEM"));

        let s = Server::start_with(dir.path(), &listen, None);
        let old = s.award(MC, "Old Key")["verifiableCredential"].clone();
        let old_did = s.get("/.well-known/did.json", "application/json").json()["id"].clone();
        drop(s);
        assert!(bin(&["rotate-key"]).status.success());
        let s = Server::start_with(dir.path(), &listen, None);
        let doc = s.get("/.well-known/did.json", "application/json").json();
        assert_ne!(doc["id"], old_did);
        assert_eq!(doc["alsoKnownAs"][0], old_did);
        let report = verify(&s, &old);
        assert!(report.verified(), "old did:key certificate after rotation: {:#?}", report.checks);
        let new = s.award(MC, "New Key")["verifiableCredential"].clone();
        assert_eq!(new["issuer"]["id"], doc["id"]);
        assert!(verify(&s, &new).verified());
        // Revoking the old certificate re-signs its list with the old key.
        let status = serde_json::json!({"credentialId": old["id"], "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"}, "status": true});
        assert_eq!(s.admin("/credentials/status", &status).status, 200);
        assert_eq!(verify(&s, &old).verdict(), bem_core::verify::Verdict::Revoked);
        assert!(verify(&s, &new).verified());
    }

    #[test]
    fn readable_key_files_are_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        drop(Server::start(dir.path()));
        std::fs::set_permissions(dir.path().join("admin-token"), std::fs::Permissions::from_mode(0o644))
            .unwrap();
        let out = Command::new(BIN)
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(dir.path())
            .output()
            .unwrap();
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("chmod 600"));
    }
}

mod crash {
    //! SIGKILL at random moments while a bulk run, single awards and revocations are under
    //! way: after every restart nothing that was answered is lost and nothing is doubled.
    use super::support::*;
    use std::collections::HashSet;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    use serde_json::{json, Value};

    const ROUNDS: usize = 20;

    /// A small xorshift generator; the seed is printed so a failing run can be repeated
    /// (`BEM_CRASH_SEED`).
    struct Rng(u64);
    impl Rng {
        fn below(&mut self, n: u64) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 % n
        }
    }

    #[derive(Default)]
    struct Answered {
        /// Certificates whose award was answered 201: (credential id, credential JSON).
        awards: Vec<(String, Value)>,
        /// Credential ids whose revocation was answered 200.
        revocations: Vec<String>,
        /// Credential ids whose revocation was sent (answered or not: a kill between the
        /// commit and the answer leaves one applied but unanswered).
        attempted: HashSet<String>,
    }

    /// The work of one round, in threads, until `stop` or the server is gone.
    fn load(
        s: &Server,
        stop: &Arc<AtomicBool>,
        answered: &Arc<Mutex<Answered>>,
        round: usize,
    ) -> Vec<std::thread::JoinHandle<()>> {
        let mut threads = Vec::new();
        // A bulk run of 1,500 rows (its answer never comes: the kill is sooner or later).
        let url = s.url(&format!("/micro-credentials/{MC}/certificates/bulk"));
        let token = s.token.clone();
        let csv: String = std::iter::once("name".to_owned())
            .chain((0..1500).map(|i| format!("Bulk {round}-{i}")))
            .collect::<Vec<_>>()
            .join("\n");
        threads.push(std::thread::spawn(move || {
            let _ = ureq::post(&url)
                .set("Content-Type", "text/csv")
                .set("Authorization", &format!("Bearer {token}"))
                .timeout(Duration::from_secs(60))
                .send_string(&csv);
        }));
        // Single awards, one after the other.
        let (base, token, stop2, answered2) =
            (s.base.clone(), s.token.clone(), stop.clone(), answered.clone());
        threads.push(std::thread::spawn(move || {
            let mut n = 0;
            while !stop2.load(Ordering::SeqCst) {
                n += 1;
                let result = ureq::post(&format!("{base}/micro-credentials/{MC}/certificates"))
                    .set("Authorization", &format!("Bearer {token}"))
                    .timeout(Duration::from_secs(30))
                    .send_json(json!({"name": format!("Single {round}-{n}")}));
                let Ok(response) = result else { return };
                assert_eq!(response.status(), 201);
                let body: Value = response.into_json().unwrap();
                let vc = body["verifiableCredential"].clone();
                answered2.lock().unwrap().awards.push((vc["id"].as_str().unwrap().to_owned(), vc));
            }
        }));
        // Revocations of certificates answered earlier.
        let (base, token, stop3, answered3) =
            (s.base.clone(), s.token.clone(), stop.clone(), answered.clone());
        threads.push(std::thread::spawn(move || {
            let mut next = 0;
            while !stop3.load(Ordering::SeqCst) {
                let target = {
                    let a = answered3.lock().unwrap();
                    let revoked: HashSet<&String> = a.revocations.iter().collect();
                    a.awards.iter().map(|(id, _)| id).filter(|id| !revoked.contains(id)).nth(next).cloned()
                };
                let Some(id) = target else {
                    std::thread::sleep(Duration::from_millis(10));
                    continue;
                };
                next += 1;
                answered3.lock().unwrap().attempted.insert(id.clone());
                let result = ureq::post(&format!("{base}/credentials/status"))
                    .set("Authorization", &format!("Bearer {token}"))
                    .timeout(Duration::from_secs(30))
                    .send_json(json!({
                        "credentialId": id,
                        "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"},
                        "status": true
                    }));
                let Ok(response) = result else { return };
                assert_eq!(response.status(), 200);
                answered3.lock().unwrap().revocations.push(id);
            }
        }));
        threads
    }

    #[test]
    fn twenty_sigkills_during_bulk_awards_and_revocations_lose_nothing_answered() {
        let seed = std::env::var("BEM_CRASH_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or_else(|| {
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64 | 1
        });
        eprintln!("crash test seed: BEM_CRASH_SEED={seed}");
        let mut rng = Rng(seed);
        let dir = tempfile::tempdir().unwrap();
        let listen = format!("127.0.0.1:{}", free_port());
        let answered = Arc::new(Mutex::new(Answered::default()));
        let mut s = Server::start_with(dir.path(), &listen, None);
        for round in 0..ROUNDS {
            let stop = Arc::new(AtomicBool::new(false));
            let threads = load(&s, &stop, &answered, round);
            // Kill at a random moment: 0.1 to 8 s into the round (a bulk chunk of 256 rows
            // takes about a second to sign in a debug build: some rounds die mid-chunk,
            // some after one or more chunks committed).
            std::thread::sleep(Duration::from_millis(100 + rng.below(7900)));
            s.child.kill().unwrap(); // SIGKILL
            s.child.wait().unwrap();
            stop.store(true, Ordering::SeqCst);
            for t in threads {
                t.join().unwrap();
            }
            s = Server::start_with(dir.path(), &listen, None);

            let db = s.db();
            let check: String = db.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
            assert_eq!(check, "ok", "round {round}");
            let a = answered.lock().unwrap();
            // Every answered award is there, as it was answered.
            for (id, vc) in &a.awards {
                let stored: String = db
                    .query_row("SELECT document FROM credentials WHERE credential_id = ?1", [id], |r| {
                        r.get(0)
                    })
                    .unwrap_or_else(|e| panic!("round {round}: answered award {id} lost: {e}"));
                assert_eq!(&serde_json::from_str::<Value>(&stored).unwrap(), vc, "round {round}");
            }
            // Every answered revocation is there.
            for id in &a.revocations {
                let status: i64 = db
                    .query_row(
                        "SELECT e.status FROM status_entries e JOIN credentials c ON c.token = e.credential \
                         JOIN status_lists l ON l.id = e.list_id WHERE c.credential_id = ?1 AND l.purpose = 'revocation'",
                        [id],
                        |r| r.get(0),
                    )
                    .unwrap();
                assert_eq!(status, 1, "round {round}: answered revocation of {id} lost");
            }
            // No certificate is half-issued, and no status index is named twice.
            let incomplete: i64 = db.query_row(INCOMPLETE_CERTIFICATES, [], |r| r.get(0)).unwrap();
            assert_eq!(incomplete, 0, "round {round}: a half-issued certificate");
            let mut seen = HashSet::new();
            let mut stmt = db.prepare("SELECT document FROM credentials").unwrap();
            let docs: Vec<String> = stmt.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect();
            for doc in &docs {
                let doc: Value = serde_json::from_str(doc).unwrap();
                for e in status_entries(&doc) {
                    assert!(
                        seen.insert((
                            e["statusListCredential"].to_string(),
                            e["statusListIndex"].to_string()
                        )),
                        "round {round}: index used twice: {e}"
                    );
                }
            }
        }
        let a = answered.lock().unwrap();
        let total: i64 = s.db().query_row("SELECT COUNT(*) FROM credentials", [], |r| r.get(0)).unwrap();
        let bulk: i64 = s
            .db()
            .query_row("SELECT COUNT(*) FROM credentials WHERE learner_name LIKE 'Bulk %'", [], |r| r.get(0))
            .unwrap();
        eprintln!(
            "crash test: {ROUNDS} kills; {} answered awards, {} answered revocations, {total} certificates stored ({bulk} from bulk runs)",
            a.awards.len(),
            a.revocations.len()
        );
        assert!(a.awards.len() >= ROUNDS, "the rounds did some work");
        assert!(bulk > 0, "some bulk chunks committed before a kill");
        // The served documents verify: revoked ones as revoked, the others as genuine.
        let revoked: HashSet<&String> = a.revocations.iter().collect();
        let started = Instant::now();
        for (id, vc) in a.awards.iter().rev().take(6) {
            let report = verify(&s, vc);
            if revoked.contains(id) {
                assert_eq!(report.verdict(), bem_core::verify::Verdict::Revoked, "{id}");
            } else if a.attempted.contains(id) {
                // Sent but not answered before a kill: applied or not, never half-done.
                let verdict = report.verdict();
                assert!(
                    report.verified() || verdict == bem_core::verify::Verdict::Revoked,
                    "{id}: {verdict:?} {:#?}",
                    report.checks
                );
            } else {
                assert!(report.verified(), "{id}: {:#?}", report.checks);
            }
        }
        assert!(started.elapsed() < Duration::from_secs(120));
        // Issuing goes on without reusing an index.
        let more = s.award(MC, "After the crashes")["verifiableCredential"].clone();
        assert!(verify(&s, &more).verified());
    }
}

mod tls {
    //! `serve` with TLS: the real binary with a certificate made here, reached by clients
    //! that trust exactly that certificate.
    use super::support::*;
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::{SocketAddr, TcpStream};
    use std::path::{Path, PathBuf};
    use std::process::{Command, Output, Stdio};
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use bem_core::resolver::{Fetched, Resolver};
    use bem_core::trust::TrustList;
    use bem_core::verify::{verify_credential, VerifyOptions};
    use serde_json::{json, Value};

    /// A self-signed certificate and its key, as PEM files.
    struct Certificate {
        cert: PathBuf,
        key: PathBuf,
        der: rustls::pki_types::CertificateDer<'static>,
    }

    fn certificate(dir: &Path, stem: &str, names: &[&str]) -> Certificate {
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let made = rcgen::generate_simple_self_signed(names).unwrap();
        let (cert, key) = (dir.join(format!("{stem}.crt")), dir.join(format!("{stem}.key")));
        std::fs::write(&cert, made.cert.pem()).unwrap();
        std::fs::write(&key, made.key_pair.serialize_pem()).unwrap();
        // Key files are refused unless only their owner can read them; the certificate
        // file too, as some tests give it as the key.
        for file in [&cert, &key] {
            let owner_only = <std::fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(0o600);
            std::fs::set_permissions(file, owner_only).unwrap();
        }
        Certificate { cert, key, der: made.cert.der().clone() }
    }

    /// An HTTPS client that trusts only `cert` and reaches every host name on 127.0.0.1
    /// (the port as asked), so `https://issuer.test:PORT` is this machine.
    fn client(cert: &Certificate) -> ureq::Agent {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(cert.der.clone()).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        ureq::AgentBuilder::new()
            .tls_config(Arc::new(config))
            .resolver(|host_port: &str| -> std::io::Result<Vec<SocketAddr>> {
                let port = host_port.rsplit(':').next().unwrap_or_default().parse().unwrap_or(443);
                Ok(vec![SocketAddr::from(([127, 0, 0, 1], port))])
            })
            .timeout(Duration::from_secs(60))
            .build()
    }

    /// `bem-issuer serve` with `args` (and no `BEM_*` from outside), once it prints where
    /// it listens; the lines printed before that come along.
    pub(super) fn start(dir: &Path, args: &[&str], env: &[(&str, &Path)]) -> (Server, Vec<String>) {
        let mut cmd = Command::new(BIN);
        clean(&mut cmd).arg("serve").arg("--data-dir").arg(dir.join("data")).args(args);
        for (name, value) in env {
            cmd.env(name, value);
        }
        let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn().unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut seen = Vec::new();
        let base = loop {
            let line = lines.next().unwrap_or_else(|| panic!("server exited: {seen:?}")).unwrap();
            if let Some(addr) = line.strip_prefix("bem-issuer: listening on ") {
                break addr.trim().to_owned();
            }
            seen.push(line);
        };
        std::thread::spawn(move || for _ in lines {});
        let token = std::fs::read_to_string(dir.join("data/admin-token")).unwrap().trim().to_owned();
        (Server { child, base, token, dir: dir.join("data") }, seen)
    }

    /// `cmd` without the TLS and address settings of the environment it runs in.
    fn clean(cmd: &mut Command) -> &mut Command {
        for name in [
            "BEM_TLS_CERT",
            "BEM_TLS_KEY",
            "BEM_SEAL_CERT",
            "BEM_SEAL_KEY",
            "BEM_CONFIG",
            "BEM_PUBLIC_URL",
            "BEM_LISTEN",
        ] {
            cmd.env_remove(name);
        }
        cmd
    }

    fn get_json(agent: &ureq::Agent, url: &str) -> Value {
        agent.get(url).call().unwrap_or_else(|e| panic!("{url}: {e}")).into_json().unwrap()
    }

    /// Resolves did:web documents and status lists over HTTPS with `agent`.
    struct Https {
        agent: ureq::Agent,
    }

    impl Resolver for Https {
        fn controller_document(&self, identifier: &str) -> Fetched {
            let Some(rest) = identifier.strip_prefix("did:web:") else { return Fetched::Offline };
            Fetched::Document(get_json(
                &self.agent,
                &format!("https://{}/.well-known/did.json", rest.replace("%3A", ":")),
            ))
        }
        fn status_list_credential(&self, url: &str) -> Fetched {
            assert!(url.starts_with("https://"), "{url}");
            Fetched::Document(get_json(&self.agent, url))
        }
    }

    /// What a plain-HTTP request to `addr` gets back (bounded in time).
    fn plain_http(addr: &str) -> Vec<u8> {
        let mut tcp = TcpStream::connect(addr).unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
        tcp.write_all(format!("GET /.well-known/did.json HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes())
            .unwrap();
        let mut answer = Vec::new();
        let _ = tcp.read_to_end(&mut answer);
        answer
    }

    #[test]
    fn serves_https_with_the_configured_certificate_and_stops_cleanly() {
        let dir = tempfile::tempdir().unwrap();
        let cert = certificate(dir.path(), "server", &["localhost", "127.0.0.1"]);
        let (cert_arg, key_arg) = (cert.cert.to_str().unwrap(), cert.key.to_str().unwrap());
        let (mut s, seen) = start(
            dir.path(),
            &["--listen", "127.0.0.1:0", "--tls-cert", cert_arg, "--tls-key", key_arg],
            &[],
        );
        let addr = s.base.strip_prefix("https://127.0.0.1:").map(|port| format!("127.0.0.1:{port}"));
        let addr = addr.unwrap_or_else(|| panic!("not an https URL: {}", s.base));
        assert!(seen.contains(&format!("bem-issuer: public URL https://{addr}")), "{seen:?}");

        let agent = client(&cert);
        let did = get_json(&agent, &s.url("/.well-known/did.json"));
        let id = did["id"].as_str().unwrap();
        assert!(id.starts_with("did:key:z6Mk"), "an IP address gives no did:web: {did}");
        assert_eq!(did["assertionMethod"][0], format!("{id}#{}", id.trim_start_matches("did:key:")));
        let port = addr.rsplit(':').next().unwrap();
        assert_eq!(get_json(&agent, &format!("https://localhost:{port}/.well-known/did.json")), did);

        // Links in an award are https too, and served over it.
        let awarded = agent
            .post(&s.url(&format!("/micro-credentials/{MC}/certificates")))
            .set("Authorization", &format!("Bearer {}", s.token))
            .send_json(json!({"name": "Over TLS"}))
            .unwrap()
            .into_json::<Value>()
            .unwrap();
        let link = awarded["links"]["credential"].as_str().unwrap();
        assert!(link.starts_with(&format!("https://{addr}/credentials/")), "{link}");
        assert_eq!(get_json(&agent, link), awarded["verifiableCredential"]);

        // A client that does not trust the certificate gets no answer; nor does plain HTTP.
        let untrusting = ureq::AgentBuilder::new().timeout(Duration::from_secs(30)).build();
        match untrusting.get(&s.url("/.well-known/did.json")).call() {
            Err(ureq::Error::Transport(_)) => {}
            other => panic!("an untrusted certificate was accepted: {other:?}"),
        }
        let answer = plain_http(&addr);
        assert!(
            !answer.starts_with(b"HTTP/"),
            "plain HTTP was answered: {}",
            String::from_utf8_lossy(&answer)
        );
        // The server is still fine after those.
        assert_eq!(get_json(&agent, &s.url("/healthz"))["status"], "ok");

        // SIGTERM stops it cleanly although the client keeps an idle connection open.
        let pid = s.child.id().to_string();
        assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
        let deadline = Instant::now() + Duration::from_secs(20);
        let status = loop {
            if let Some(status) = s.child.try_wait().unwrap() {
                break status;
            }
            assert!(Instant::now() < deadline, "no exit 20 s after SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        };
        assert!(status.success(), "{status:?}");
        drop(agent);
    }

    #[test]
    fn did_web_over_tls_from_the_config_file_verifies_end_to_end() {
        let dir = tempfile::tempdir().unwrap();
        let cert = certificate(dir.path(), "issuer", &["issuer.test"]);
        let port = free_port();
        let config = dir.path().join("issuer.toml");
        std::fs::write(
            &config,
            format!(
                "listen = \"127.0.0.1:{port}\"\npublic_url = \"https://issuer.test:{port}\"\n[tls]\ncert = {:?}\nkey = {:?}\n",
                cert.cert.to_str().unwrap(),
                cert.key.to_str().unwrap()
            ),
        )
        .unwrap();
        let (s, _) = start(dir.path(), &["--config", config.to_str().unwrap()], &[]);
        assert_eq!(s.base, format!("https://127.0.0.1:{port}"));
        let agent = client(&cert);
        let did = get_json(&agent, &format!("https://issuer.test:{port}/.well-known/did.json"));
        assert_eq!(did["id"], format!("did:web:issuer.test%3A{port}"));

        // The certificate names issuer.test only: "localhost" is refused by the client.
        assert!(agent.get(&format!("https://localhost:{port}/healthz")).call().is_err());

        let awarded = agent
            .post(&format!("https://issuer.test:{port}/micro-credentials/{MC}/certificates"))
            .set("Authorization", &format!("Bearer {}", s.token))
            .send_json(json!({"name": "Did Web"}))
            .unwrap()
            .into_json::<Value>()
            .unwrap();
        let vc = &awarded["verifiableCredential"];
        assert_eq!(vc["issuer"]["id"].as_str().or(vc["issuer"].as_str()), did["id"].as_str(), "{vc}");
        let trust = TrustList::default();
        let resolver = Https { agent };
        let report = verify_credential(vc, &VerifyOptions::new(now(), &trust, &resolver));
        assert!(report.verified(), "{:#?}", report.checks);
    }

    /// Runs `serve` that must fail to start; at most 60 s.
    pub(super) fn failed_start(dir: &Path, args: &[&str], env: &[(&str, &Path)]) -> (Output, String) {
        let mut cmd = Command::new(BIN);
        clean(&mut cmd).arg("serve").arg("--data-dir").arg(dir.join("data"));
        cmd.args(["--listen", "127.0.0.1:0"]).args(args);
        for (name, value) in env {
            cmd.env(name, value);
        }
        let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        while child.try_wait().unwrap().is_none() {
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("serve {args:?} did not stop: {:?}", child.wait_with_output().unwrap());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(!String::from_utf8_lossy(&out.stdout).contains("listening"), "{args:?}");
        assert!(!dir.join("data").exists(), "nothing is created before the TLS and seal files are checked");
        (out, stderr)
    }

    #[test]
    fn bad_tls_files_stop_the_start_with_a_message_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let a = certificate(dir.path(), "a", &["localhost"]);
        let b = certificate(dir.path(), "b", &["localhost"]);
        let path = |p: &Path| p.to_str().unwrap().to_owned();
        let missing = dir.path().join("missing.key");

        let (_, e) =
            failed_start(dir.path(), &["--tls-cert", &path(&a.cert), "--tls-key", &path(&missing)], &[]);
        assert!(e.contains(&format!("cannot read TLS key file {}", path(&missing))), "{e}");
        assert!(e.contains("No such file"), "the reason: {e}");

        let (_, e) =
            failed_start(dir.path(), &["--tls-cert", &path(&a.cert), "--tls-key", &path(&b.key)], &[]);
        assert!(
            e.contains(&format!(
                "TLS key file {} does not match the certificate in {}",
                path(&b.key),
                path(&a.cert)
            )),
            "{e}"
        );

        // Through the environment: the key given as the certificate, and half a pair.
        let (_, e) = failed_start(dir.path(), &[], &[("BEM_TLS_CERT", &a.key), ("BEM_TLS_KEY", &a.key)]);
        assert!(e.contains(&format!("TLS certificate file {} holds no certificate", path(&a.key))), "{e}");
        let (_, e) = failed_start(dir.path(), &[], &[("BEM_TLS_CERT", &a.cert)]);
        assert!(e.contains("BEM_TLS_CERT and BEM_TLS_KEY must be given together"), "{e}");
        let (_, e) = failed_start(dir.path(), &["--tls-key", &path(&a.key)], &[]);
        assert!(e.contains("--tls-cert and --tls-key must be given together"), "{e}");
    }
}

mod seal {
    //! JAdES sealing (`[seal]`, `GET /credentials/{id}/sealed`): a test CA made here issues
    //! the seal certificate; the sealed certificate is checked with bem-core's pipeline
    //! with and without the CA as an `[[anchor]]`, and tampered.
    use super::support::*;
    use super::tls::{failed_start, start};
    use std::os::unix::fs::PermissionsExt;
    use std::path::{Path, PathBuf};

    use base64::Engine as _;
    use bem_core::trust::{TrustList, TrustedAnchor};
    use bem_core::verify::{verify_credential, Report, Status, Verdict, VerifyOptions};
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};
    use serde_json::Value;

    struct TestCa {
        params: CertificateParams,
        key: KeyPair,
        pem: String,
    }

    fn params(cn: &str, from: (i32, u8, u8), to: (i32, u8, u8)) -> CertificateParams {
        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
        p.distinguished_name.push(DnType::CommonName, cn);
        p.distinguished_name.push(DnType::OrganizationName, "BEM Test Training Centre");
        p.not_before = rcgen::date_time_ymd(from.0, from.1, from.2);
        p.not_after = rcgen::date_time_ymd(to.0, to.1, to.2);
        p
    }

    fn test_ca(cn: &str) -> TestCa {
        let key = KeyPair::generate().unwrap();
        let mut p = params(cn, (2020, 1, 1), (2045, 1, 1));
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let pem = p.clone().self_signed(&key).unwrap().pem();
        TestCa { params: p, key, pem }
    }

    /// A seal certificate for `key` issued by `ca`, valid `from`..`to`, with `usages`.
    fn seal_certificate(
        ca: &TestCa,
        key: &KeyPair,
        to: (i32, u8, u8),
        usages: Vec<KeyUsagePurpose>,
    ) -> String {
        let mut p = params("BEM Test Seal", (2021, 1, 1), to);
        p.key_usages = usages;
        p.is_ca = IsCa::ExplicitNoCa;
        let issuer = ca.params.clone().self_signed(&ca.key).unwrap();
        p.signed_by(key, &issuer, &ca.key).unwrap().pem()
    }

    /// Writes the seal files: the certificate chain and the key (mode `mode`).
    fn files(dir: &Path, stem: &str, chain: &str, key: &KeyPair, mode: u32) -> (PathBuf, PathBuf) {
        let (cert, key_file) = (dir.join(format!("{stem}.pem")), dir.join(format!("{stem}.key")));
        std::fs::write(&cert, chain).unwrap();
        std::fs::write(&key_file, key.serialize_pem()).unwrap();
        std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(mode)).unwrap();
        (cert, key_file)
    }

    fn signing() -> Vec<KeyUsagePurpose> {
        vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::ContentCommitment]
    }

    fn check<'a>(report: &'a Report, name: &str) -> &'a bem_core::verify::Check {
        report
            .checks
            .iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("no {name}: {:#?}", report.checks))
    }

    fn verify_with(server: &Server, doc: &Value, trust: &TrustList) -> Report {
        let resolver = Http { base: server.base.clone() };
        verify_credential(doc, &VerifyOptions::new(now(), trust, &resolver))
    }

    fn token_of(awarded: &Value) -> String {
        awarded["links"]["credential"].as_str().unwrap().rsplit('/').next().unwrap().to_owned()
    }

    #[test]
    fn a_sealed_certificate_verifies_trusted_with_its_ca_and_breaks_when_changed() {
        let dir = tempfile::tempdir().unwrap();
        let ca = test_ca("BEM Test Seal CA");
        let key = KeyPair::generate().unwrap();
        let chain = format!("{}{}", seal_certificate(&ca, &key, (2044, 1, 1), signing()), ca.pem);
        let (cert, key_file) = files(dir.path(), "seal", &chain, &key, 0o600);
        let (s, seen) = start(
            dir.path(),
            &[
                "--listen",
                "127.0.0.1:0",
                "--seal-cert",
                cert.to_str().unwrap(),
                "--seal-key",
                key_file.to_str().unwrap(),
            ],
            &[],
        );
        assert!(
            seen.iter()
                .any(|l| l.starts_with("bem-issuer: seal BEM Test Training Centre (BEM Test Seal), ES256")),
            "{seen:?}"
        );

        let awarded = s.award(MC, "Sealed Learner");
        let token = token_of(&awarded);
        let answer = s.get(&format!("/credentials/{token}/sealed"), "application/jose+json");
        assert_eq!(answer.status, 200, "{}", answer.text);
        assert_eq!(answer.content_type, "application/jose+json");
        let sealed = answer.json();
        // Sealed once: asking again (a second later) gives the same seal, no new signature.
        std::thread::sleep(std::time::Duration::from_millis(1100));
        let again = s.get(&format!("/credentials/{token}/sealed"), "application/jose+json");
        assert_eq!(again.text, answer.text);

        // EDC's shape at baseline B; the payload is the stored certificate without its proof.
        let protected = sealed["signatures"][0]["protected"].as_str().unwrap();
        let header: Value = serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(protected).unwrap(),
        )
        .unwrap();
        assert_eq!(header["alg"], "ES256");
        assert_eq!(header["typ"], "jose+json");
        assert_eq!(header["cty"], "octet-stream");
        assert_eq!(header["b64"], false);
        assert_eq!(header["crit"], serde_json::json!(["b64", "sigT"]));
        assert_eq!(header["x5c"].as_array().unwrap().len(), 2);
        assert!(header["x5t#S256"].is_string() && header["kid"].is_string() && header["sigT"].is_string());
        assert!(header.get("adoTst").is_none(), "baseline B: no time-stamp");
        let payload: Value = serde_json::from_str(sealed["payload"].as_str().unwrap()).unwrap();
        let mut stored = awarded["verifiableCredential"].clone();
        stored.as_object_mut().unwrap().remove("proof");
        assert_eq!(payload, stored);

        // With the test CA as an anchor: verified and trusted.
        let anchored = TrustList {
            anchors: vec![TrustedAnchor {
                name: "BEM Test CA".into(),
                certificate: Some(ca.pem.clone()),
                certificate_file: None,
            }],
            ..TrustList::default()
        };
        let report = verify_with(&s, &sealed, &anchored);
        assert!(report.verified(), "{:#?}", report.checks);
        assert_eq!(report.verdict(), Verdict::Valid, "{:#?}", report.checks);
        // Shown under the sealer (the seal certificate's subject), not the CA.
        assert_eq!(report.trusted_name.as_deref(), Some("BEM Test Training Centre (BEM Test Seal)"));
        assert_eq!(check(&report, "seal").status, Status::Ok);
        assert_eq!(check(&report, "status").status, Status::Ok, "{:#?}", report.checks);

        // Without it: the seal holds, the issuer is not trusted.
        let report = verify_with(&s, &sealed, &TrustList::default());
        assert!(report.verified(), "{:#?}", report.checks);
        assert_eq!(report.verdict(), Verdict::UnknownIssuer);
        assert!(
            check(&report, "trust").message.contains("seal valid, issuer not trusted"),
            "{:#?}",
            report.checks
        );

        // One byte of the payload changed: broken.
        let mut tampered = sealed.clone();
        let text = sealed["payload"].as_str().unwrap().replacen("Sealed Learner", "Sealed Learnes", 1);
        tampered["payload"] = text.into();
        let report = verify_with(&s, &tampered, &anchored);
        assert!(!report.verified());
        assert_eq!(report.verdict(), Verdict::NotGenuine);
        assert!(check(&report, "seal").message.contains("seal broken"), "{:#?}", report.checks);

        // Revoking the certificate revokes its sealed form (the payload keeps its status).
        let id = awarded["verifiableCredential"]["id"].as_str().unwrap();
        let change = s.admin(
            "/credentials/status",
            &serde_json::json!({"credentialId": id, "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"}, "status": true}),
        );
        assert_eq!(change.status, 200, "{}", change.text);
        let sealed = s.get(&format!("/credentials/{token}/sealed"), "*/*").json();
        assert_eq!(verify_with(&s, &sealed, &anchored).verdict(), Verdict::Revoked);

        // An Open Badges certificate seals and verifies the same way.
        let badge = s.admin(
            &format!("/micro-credentials/{MC}/certificates?profile=openbadges"),
            &serde_json::json!({"name": "Badge Learner"}),
        );
        assert_eq!(badge.status, 201, "{}", badge.text);
        let sealed = s.get(&format!("/credentials/{}/sealed", token_of(&badge.json())), "*/*").json();
        let report = verify_with(&s, &sealed, &anchored);
        assert_eq!(report.verdict(), Verdict::Valid, "{:#?}", report.checks);

        // No such credential: 404 problem.
        let p = s.get(&format!("/credentials/{}/sealed", "0".repeat(32)), "*/*").problem(404);
        assert_eq!(p["code"], "NOT_FOUND");
    }

    #[test]
    fn without_a_seal_the_sealed_form_is_a_404_problem() {
        let dir = tempfile::tempdir().unwrap();
        let (s, seen) = start(dir.path(), &["--listen", "127.0.0.1:0"], &[]);
        assert!(!seen.iter().any(|l| l.contains("seal")), "{seen:?}");
        let token = token_of(&s.award(MC, "Not Sealed"));
        let p = s.get(&format!("/credentials/{token}/sealed"), "application/jose+json").problem(404);
        assert_eq!(p["code"], "SEAL_NOT_CONFIGURED", "{p}");
        assert_eq!(s.get(&format!("/credentials/{token}"), "application/json").status, 200);
    }

    #[test]
    fn bad_seal_files_stop_the_start_with_a_message_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let ca = test_ca("BEM Test Seal CA");
        let key = KeyPair::generate().unwrap();
        let good = seal_certificate(&ca, &key, (2044, 1, 1), signing());
        let (cert, key_file) = files(dir.path(), "good", &good, &key, 0o600);
        let p = |p: &Path| p.to_str().unwrap().to_owned();
        let run = |cert: &Path, key: &Path| {
            failed_start(dir.path(), &["--seal-cert", &p(cert), "--seal-key", &p(key)], &[]).1
        };

        // Missing key file.
        let missing = dir.path().join("missing.key");
        let e = run(&cert, &missing);
        assert!(e.contains(&format!("seal key file {}", p(&missing))) && e.contains("No such file"), "{e}");
        // Missing certificate file.
        let e = run(&dir.path().join("missing.pem"), &key_file);
        assert!(
            e.contains(&format!("cannot read seal certificate file {}", p(&dir.path().join("missing.pem")))),
            "{e}"
        );
        // A key that is not the certificate's.
        let other = KeyPair::generate().unwrap();
        let (_, other_key) = files(dir.path(), "other", &good, &other, 0o600);
        let e = run(&cert, &other_key);
        assert!(
            e.contains(&format!(
                "seal key file {} does not match the certificate in {}",
                p(&other_key),
                p(&cert)
            )),
            "{e}"
        );
        // A key file that group or others can read.
        let (wide_cert, wide_key) = files(dir.path(), "wide", &good, &key, 0o644);
        let e = run(&wide_cert, &wide_key);
        assert!(e.contains(&p(&wide_key)) && e.contains("chmod 600"), "{e}");
        // The key given as the certificate.
        let e = run(&key_file, &key_file);
        assert!(
            e.contains(&format!("seal certificate file {}", p(&key_file)))
                && e.contains("no PEM certificate"),
            "{e}"
        );
        // A certificate without a signing key usage; an expired one. Through the environment.
        let enc = seal_certificate(&ca, &key, (2044, 1, 1), vec![KeyUsagePurpose::KeyEncipherment]);
        let (enc_cert, enc_key) = files(dir.path(), "enc", &enc, &key, 0o600);
        let e = failed_start(dir.path(), &[], &[("BEM_SEAL_CERT", &enc_cert), ("BEM_SEAL_KEY", &enc_key)]).1;
        assert!(
            e.contains(&format!("seal certificate file {}", p(&enc_cert))) && e.contains("digitalSignature"),
            "{e}"
        );
        let old = seal_certificate(&ca, &key, (2022, 1, 1), signing());
        let (old_cert, old_key) = files(dir.path(), "old", &old, &key, 0o600);
        let e = run(&old_cert, &old_key);
        assert!(
            e.contains(&format!("seal certificate file {}", p(&old_cert))) && e.contains("not valid at"),
            "{e}"
        );
        // Half a pair.
        let e = failed_start(dir.path(), &["--seal-cert", &p(&cert)], &[]).1;
        assert!(e.contains("--seal-cert and --seal-key must be given together"), "{e}");
    }
}

/// Issue 17, "The issuer": each hostile case over real HTTP against the real binary (and
/// its CLI); `docs/security.md` section "Issue 17: the issuer" maps them.
mod issue17 {
    use super::support::*;
    use serde_json::{json, Value};
    use std::process::Command;

    const VERIFIER: &str = "https://verify.example";

    fn post_as(agent: &ureq::Agent, s: &Server, forwarded: Option<&str>, token: Option<&str>) -> Answer {
        let mut req = agent
            .post(&s.url(&format!("/micro-credentials/{MC}/certificates")))
            .set("Content-Type", "application/json");
        if let Some(addr) = forwarded {
            req = req.set("X-Forwarded-For", addr);
        }
        if let Some(t) = token {
            req = req.set("Authorization", &format!("Bearer {t}"));
        }
        call(req, Some(json!({"name": "Admin's learner"}).to_string().into_bytes()))
    }

    /// Item 8: requests without a token are not counted; behind a trusted proxy each
    /// client has its own count (X-Forwarded-For), from any other peer the header is
    /// ignored; 4,096 clients fill the table and the shared overflow record locks, but a
    /// right token from a new address still passes.
    #[test]
    fn nobody_can_lock_the_administrator_out() {
        let dir = tempfile::tempdir().unwrap();
        // A new connection for each request: the server may close one whose body it refused
        // to read.
        let agent = ureq::AgentBuilder::new().max_idle_connections(0).build();
        // No proxy configured: 15 requests without a token, then the right one.
        let s = Server::start(dir.path());
        for _ in 0..15 {
            post_as(&agent, &s, None, None).problem(401);
        }
        assert_eq!(post_as(&agent, &s, None, Some(&s.token)).status, 201);
        // From an untrusted peer X-Forwarded-For is ignored: ten wrong tokens "from" ten
        // addresses are one client, locked out even with the right token.
        for i in 0..10 {
            post_as(&agent, &s, Some(&format!("198.51.100.{i}")), Some("wrong-token-wrong")).problem(403);
        }
        let p = post_as(&agent, &s, Some("203.0.113.5"), Some(&s.token)).problem(429);
        assert_eq!(p["code"], "TOO_MANY_REQUESTS");
        drop(s);

        let dir = tempfile::tempdir().unwrap();
        let s = Server::start_opts(dir.path(), "127.0.0.1:0", &["--trusted-proxies", "127.0.0.1"], &[]);
        let admin = "203.0.113.5";
        for _ in 0..10 {
            post_as(&agent, &s, Some("198.51.100.7"), Some("wrong-token-wrong")).problem(403);
        }
        // The guesser is locked out, even with the right token; the admin is not.
        post_as(&agent, &s, Some("198.51.100.7"), Some(&s.token)).problem(429);
        assert_eq!(post_as(&agent, &s, Some(admin), Some(&s.token)).status, 201);
        // What the client wrote left of the proxy's entry is not believed.
        post_as(&agent, &s, Some(&format!("{admin}, 198.51.100.7")), Some(&s.token)).problem(429);

        // 4,095 other clients with one wrong token each fill the table of 4,096 (the
        // guesser is in it; the admin's right token cleared its record); ten more from new
        // addresses lock the shared overflow record.
        for i in 0..4095u32 {
            let addr = std::net::Ipv4Addr::from(0x0a00_0000 + i).to_string();
            post_as(&agent, &s, Some(&addr), Some("wrong-token-wrong")).problem(403);
        }
        for i in 0..10u32 {
            let addr = std::net::Ipv4Addr::from(0x0b00_0000 + i).to_string();
            post_as(&agent, &s, Some(&addr), Some("wrong-token-wrong")).problem(403);
        }
        let p = post_as(&agent, &s, Some("11.1.1.1"), Some("wrong-token-wrong")).problem(429);
        assert!(p["detail"].as_str().unwrap().contains("try again"), "{p}");
        // A right token from a new address is never locked out by the shared record.
        assert_eq!(post_as(&agent, &s, Some("192.0.2.200"), Some(&s.token)).status, 201);
        assert_eq!(post_as(&agent, &s, Some(admin), Some(&s.token)).status, 201);
    }

    /// Item 9: the VC API refuses a caller's `credentialStatus` and an `id` already used;
    /// nothing is signed or stored.
    #[test]
    fn the_vc_api_refuses_a_callers_status_entry_and_a_reused_id() {
        let dir = tempfile::tempdir().unwrap();
        let s = Server::start(dir.path());
        let counts = |s: &Server| -> (i64, i64) {
            let db = s.db();
            let q = |sql: &str| db.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap();
            (q("SELECT COUNT(*) FROM credentials"), q("SELECT COUNT(*) FROM status_entries"))
        };
        // Another learner's certificate, whose revocation slot the caller points at.
        let victim = s.award(MC, "Victim")["verifiableCredential"].clone();
        let slot = victim["credentialStatus"].clone();
        let credential = |id: &str| {
            json!({"@context": ["https://www.w3.org/ns/credentials/v2"], "id": id,
                   "type": ["VerifiableCredential"], "credentialSubject": {"id": "did:example:x"}})
        };
        let before = counts(&s);
        let mut hijack = credential("urn:uuid:aaaaaaaa-0000-4000-8000-000000000001");
        hijack["credentialStatus"] = json!({"type": "BitstringStatusListEntry", "statusPurpose": "revocation",
            "statusListIndex": slot["statusListIndex"], "statusListCredential": slot["statusListCredential"]});
        let p = s.admin("/credentials/issue", &json!({"credential": hijack})).problem(400);
        assert!(p["detail"].as_str().unwrap().contains("allocated by the issuer"), "{p}");
        assert_eq!(counts(&s), before, "nothing stored");

        let first = s.admin(
            "/credentials/issue",
            &json!({"credential": credential("urn:uuid:aaaaaaaa-0000-4000-8000-000000000002"),
                    "options": {"credentialStatus": [{"type": "BitstringStatusListEntry", "statusPurpose": "revocation"}]}}),
        );
        assert_eq!(first.status, 201, "{}", first.text);
        let after_first = counts(&s);
        assert_eq!(after_first, (before.0 + 1, before.1 + 1));
        // The same id again: refused, with or without status entries; the victim's own id too.
        for id in ["urn:uuid:aaaaaaaa-0000-4000-8000-000000000002", victim["id"].as_str().unwrap()] {
            for options in [
                json!({}),
                json!({"credentialStatus": [{"type": "BitstringStatusListEntry", "statusPurpose": "revocation"}]}),
            ] {
                let p = s
                    .admin("/credentials/issue", &json!({"credential": credential(id), "options": options}))
                    .problem(400);
                assert!(p["detail"].as_str().unwrap().contains("already the id"), "{p}");
            }
        }
        assert_eq!(counts(&s), after_first, "nothing stored");
        // The victim's status is still its own: revoking the first leaves it valid.
        let revoke = json!({"credentialId": "urn:uuid:aaaaaaaa-0000-4000-8000-000000000002",
            "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"}, "status": true});
        assert_eq!(s.admin("/credentials/status", &revoke).status, 200);
        assert!(verify(&s, &victim).verified());
    }

    /// The text of the QR code in a PNG, read as a phone reads it.
    fn scan(png: &[u8]) -> String {
        let image = image::load_from_memory(png).unwrap().to_luma8();
        let mut prepared = rqrr::PreparedImage::prepare(image);
        let grids = prepared.detect_grids();
        assert_eq!(grids.len(), 1);
        grids[0].decode().unwrap().1
    }

    fn token_of(awarded: &Value) -> String {
        awarded["links"]["credential"].as_str().unwrap().rsplit('/').next().unwrap().to_owned()
    }

    fn pdf_text(bytes: &[u8]) -> String {
        lopdf::Document::load_mem(bytes).unwrap().extract_text(&[1]).unwrap()
    }

    /// Item 10: the compact form carries every status entry and an expiry; a suspended
    /// certificate's compact QR is no longer made (409; the page and PDF print the link
    /// and say why), and a compact text made before the suspension verifies as suspended
    /// through the pipeline.
    #[test]
    fn a_suspended_badge_has_no_compact_qr_and_an_older_one_verifies_as_suspended() {
        let dir = tempfile::tempdir().unwrap();
        let s = Server::start_opts(dir.path(), "127.0.0.1:0", &[], &[("BEM_VERIFIER_URL", VERIFIER)]);
        let a = s.admin(
            &format!("/micro-credentials/{MC}/certificates?profile=openbadges"),
            &json!({"name": "Ana"}),
        );
        assert_eq!(a.status, 201, "{}", a.text);
        let awarded = a.json();
        let badge = awarded["verifiableCredential"].clone();
        let path = format!("/credentials/{}", token_of(&awarded));
        assert!(s.get(&path, "text/html").text.contains("qr.svg?form=compact"));
        let png = s.get(&format!("{path}/qr.png?form=compact"), "image/png");
        assert_eq!((png.status, png.header("bem-qr-form")), (200, Some("compact")));
        let text = scan(&png.bytes);
        assert!(text.starts_with("HTTPS://VERIFY.EXAMPLE/verify#BEM2:"), "{text}");
        let trust = bem_core::trust::TrustList::default();
        let resolver = Http { base: s.base.clone() };
        let report =
            bem_core::compact::verify(&text, &bem_core::verify::VerifyOptions::new(now(), &trust, &resolver));
        assert!(report.verified(), "{:#?}", report.checks);
        let payload = report.payload.clone().unwrap();
        let purposes: Vec<&str> = payload["credentialStatus"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["statusPurpose"].as_str().unwrap())
            .collect();
        assert_eq!(purposes, ["revocation", "suspension"]);
        let until =
            bem_core::datetime::parse_datetime_stamp(payload["validUntil"].as_str().unwrap()).unwrap();
        let (in_11_months, in_13_months) =
            (now().unix_seconds() + 334 * 86_400, now().unix_seconds() + 396 * 86_400);
        assert!((in_11_months..in_13_months).contains(&until.unix_seconds()), "{payload}");

        let suspend = json!({"credentialId": badge["id"], "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "suspension"}, "status": true});
        assert_eq!(s.admin("/credentials/status", &suspend).status, 200);
        // The older text now verifies as suspended, through the pipeline, online.
        let report =
            bem_core::compact::verify(&text, &bem_core::verify::VerifyOptions::new(now(), &trust, &resolver));
        assert_eq!(report.verdict(), bem_core::verify::Verdict::Suspended, "{:#?}", report.checks);
        // No compact form is offered any more.
        let p = s.get(&format!("{path}/qr.png?form=compact"), "image/png").problem(409);
        assert_eq!(p["code"], "COMPACT_FORM_WITHHELD");
        s.get(&format!("{path}/qr.svg?form=compact"), "image/svg+xml").problem(409);
        let page = s.get(&path, "text/html").text;
        assert!(!page.contains("form=compact"), "{page}");
        assert!(page.contains("not the signed certificate: it is suspended"), "{page}");
        let pdf = s.get(&format!("{path}.pdf"), "application/pdf");
        assert_eq!(pdf.status, 200);
        let text_of_pdf = pdf_text(&pdf.bytes).split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(text_of_pdf.contains("it is suspended"), "{text_of_pdf}");
        // Lifted: the compact form is made again.
        let lift = json!({"credentialId": badge["id"], "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "suspension"}, "status": false});
        assert_eq!(s.admin("/credentials/status", &lift).status, 200);
        assert_eq!(
            s.get(&format!("{path}/qr.png?form=compact"), "image/png").header("bem-qr-form"),
            Some("compact")
        );
    }

    /// Issue 26, item 5: a long title outside the Basic Multilingual Plane makes the
    /// compact form too large for a QR code: the QR images and the PDF fall back to the
    /// link and say so, never a 500.
    #[test]
    fn a_compact_form_too_large_for_a_qr_code_falls_back_to_the_link() {
        let dir = tempfile::tempdir().unwrap();
        let s = Server::start_opts(dir.path(), "127.0.0.1:0", &[], &[("BEM_VERIFIER_URL", VERIFIER)]);
        let mut def = s.get(&format!("/micro-credentials/{MC}"), "application/json").json();
        // CJK Extension B ideographs (4 bytes each in UTF-8) in an order DEFLATE cannot
        // shorten much.
        let title: String = (0..480u32)
            .map(|i| char::from_u32(0x20000 + (i * 7919 + i * i * 31) % 40_000).unwrap())
            .collect();
        def["id"] = "astral-title-course".into();
        def["title"] = json!({"en": title});
        let put = s.admin("/micro-credentials", &def);
        assert!(put.status == 201 || put.status == 200, "{}", put.text);
        let awarded = s.award("astral-title-course", "Ana");
        let path = format!("/credentials/{}", token_of(&awarded));
        let link = awarded["links"]["credential"].as_str().unwrap().to_owned();
        for (file, kind) in [("qr.png", "image/png"), ("qr.svg", "image/svg+xml")] {
            let answer = s.get(&format!("{path}/{file}?form=compact"), kind);
            assert_eq!(answer.status, 200, "{file}: {}", answer.text);
            assert_eq!(answer.header("bem-qr-form"), Some("link"), "{file}");
            assert!(answer.header("bem-qr-note").unwrap().contains("too large"), "{file}");
            if file == "qr.png" {
                assert_eq!(scan(&answer.bytes), link);
            }
        }
        let pdf = s.get(&format!("{path}.pdf"), "application/pdf");
        assert_eq!(pdf.status, 200, "{}", pdf.text);
        let text = pdf_text(&pdf.bytes).split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(text.contains("too large"), "{text}");
        let page = s.get(&path, "text/html");
        assert_eq!(page.status, 200);
        assert!(!page.text.contains("form=compact") && page.text.contains("too large"), "{}", page.text);
    }

    fn sha256_hex(text: &str) -> String {
        use sha2::Digest;
        sha2::Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Item 11: the e-mail address only as a salted hash in every profile; date of birth
    /// and learner number only when the provider turns that on; security headers on pages.
    #[test]
    fn learners_data_stays_private_by_default() {
        let dir = tempfile::tempdir().unwrap();
        let s = Server::start(dir.path());
        let email = "Olena.K@example.org";
        let learner =
            json!({"name": "Olena K", "email": email, "dateOfBirth": "1990-04-01", "identifier": "L-4711"});
        let unsalted = sha256_hex(&email.to_lowercase());
        let mut hashes = Vec::new();
        for profile in ["elm", "openbadges", "elm"] {
            let a = s.admin(&format!("/micro-credentials/{MC}/certificates?profile={profile}"), &learner);
            assert_eq!(a.status, 201, "{}", a.text);
            let served = s.get(&format!("/credentials/{}", token_of(&a.json())), "application/json").text;
            for secret in [email, &email.to_lowercase(), &unsalted, "1990-04-01", "L-4711"] {
                assert!(!served.contains(secret), "{profile}: {secret} in {served}");
            }
            let vc: Value = serde_json::from_str(&served).unwrap();
            let (salt, hash) = if profile == "elm" {
                let ids = vc["credentialSubject"]["identifier"].as_array().unwrap();
                let notation = ids
                    .iter()
                    .find_map(|i| i["notation"].as_str().filter(|n| n.starts_with("salted-sha256$")))
                    .unwrap();
                let mut parts = notation.split('$').skip(1);
                (parts.next().unwrap().to_owned(), parts.next().unwrap().to_owned())
            } else {
                let ids = vc["credentialSubject"]["identifier"].as_array().unwrap();
                let e = ids.iter().find(|i| i["identityType"] == "emailAddress").unwrap();
                (
                    e["salt"].as_str().unwrap().to_owned(),
                    e["identityHash"].as_str().unwrap().trim_start_matches("sha256$").to_owned(),
                )
            };
            assert_eq!(salt.len(), 32);
            assert_eq!(hash, sha256_hex(&format!("{}{salt}", email.to_lowercase())), "{profile}: one rule");
            hashes.push(hash);
            assert!(verify(&s, &vc).verified());
        }
        assert_ne!(hashes[0], hashes[2], "a new salt for every certificate");

        // Security headers on a certificate page.
        let a = s.award(MC, "Header Check");
        let page = s.get(&format!("/credentials/{}", token_of(&a)), "text/html");
        let csp = page.header("content-security-policy").unwrap();
        for part in ["default-src 'none'", "frame-ancestors 'none'", "img-src 'self'"] {
            assert!(csp.contains(part), "{csp}");
        }
        let style = page.text.split("<style>").nth(1).unwrap().split("</style>").next().unwrap();
        use base64::Engine as _;
        use sha2::Digest as _;
        let hash = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(style.as_bytes()));
        assert!(
            csp.contains(&format!("style-src 'sha256-{hash}'")),
            "the page's own style is allowed: {csp}"
        );
        assert_eq!(page.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(page.header("referrer-policy"), Some("no-referrer"));
        assert!(page.header("x-robots-tag").unwrap().contains("noindex"));
        let json_answer = s.get(&format!("/credentials/{}", token_of(&a)), "application/json");
        assert!(json_answer.header("x-robots-tag").unwrap().contains("noindex"));
        drop(s);

        // Turned on by the provider: written into the certificate.
        let dir = tempfile::tempdir().unwrap();
        let s =
            Server::start_opts(dir.path(), "127.0.0.1:0", &[], &[("BEM_PUBLISH_LEARNER_DETAILS", "true")]);
        let a = s.admin(&format!("/micro-credentials/{MC}/certificates"), &learner);
        let served = s.get(&format!("/credentials/{}", token_of(&a.json())), "application/json").text;
        assert!(served.contains("1990-04-01") && served.contains("L-4711"), "{served}");
    }

    fn mode(path: &std::path::Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    /// Item 11: the data directory is made 0700 and the database 0600 (its WAL too); a
    /// looser directory or database stops the start with the fix in the message.
    #[test]
    fn the_data_directory_and_database_are_private_or_the_start_stops() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        {
            let s = Server::start(&data);
            s.award(MC, "Mode Check");
            assert_eq!(mode(&data), 0o700);
            assert_eq!(mode(&data.join("issuer.sqlite3")), 0o600);
            assert_eq!(mode(&data.join("issuer.sqlite3-wal")), 0o600);
        }
        let start = || {
            Command::new(BIN)
                .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
                .arg(&data)
                .output()
                .unwrap()
        };
        std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
        let out = start();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains("mode 0755") && err.contains("chmod 700"), "{err}");
        std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o700)).unwrap();
        let db = data.join("issuer.sqlite3");
        std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
        let out = start();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(err.contains("mode 0644") && err.contains("chmod 600"), "{err}");
    }

    /// Item 11: `bem-issuer learner erase` erases a certificate's personal data while the
    /// service runs: its link (JSON, page, PDF, QR) answers 410 Gone, the stored document
    /// is a tombstone, and the revocation bit is set in the served list; an unknown id
    /// changes nothing.
    #[test]
    fn erasing_a_learner_leaves_a_tombstone_and_the_revocation_bit_set() {
        let dir = tempfile::tempdir().unwrap();
        let s = Server::start(dir.path());
        let elm = s.award(MC, "Erase Me");
        let badge = s
            .admin(
                &format!("/micro-credentials/{MC}/certificates?profile=openbadges"),
                &json!({"name": "Erase Me Too"}),
            )
            .json();
        let kept = s.award(MC, "Keep Me");
        let id = elm["verifiableCredential"]["id"].as_str().unwrap().to_owned();
        let erase = |args: &[&str]| {
            Command::new(BIN)
                .args(["learner", "erase", "--data-dir"])
                .arg(dir.path())
                .args(args)
                .output()
                .unwrap()
        };
        let stored = |s: &Server| -> String {
            s.db().query_row("SELECT group_concat(document) FROM credentials", [], |r| r.get(0)).unwrap()
        };
        let before = stored(&s);
        let out = erase(&[&id, "urn:uuid:no-such-certificate"]);
        assert_eq!(out.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&out.stderr).contains("no-such-certificate"));
        assert_eq!(stored(&s), before, "nothing changed");

        let out = erase(&[&id, &token_of(&badge)]);
        let said = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{said} {}", String::from_utf8_lossy(&out.stderr));
        assert!(said.contains(&format!("erased {id} (revoked now)")), "{said}");
        for awarded in [&elm, &badge] {
            let path = format!("/credentials/{}", token_of(awarded));
            let p = s.get(&path, "application/json").problem(410);
            assert_eq!(p["code"], "ERASED");
            s.get(&path, "text/html").problem(410);
            s.get(&format!("{path}.pdf"), "application/pdf").problem(410);
            s.get(&format!("{path}/qr.png"), "image/png").problem(410);
            assert!(status_bit(&s, &awarded["verifiableCredential"], "revocation"), "the bit is set");
            assert_eq!(
                verify(&s, &awarded["verifiableCredential"]).verdict(),
                bem_core::verify::Verdict::Revoked
            );
        }
        let after = stored(&s);
        assert!(!after.contains("Erase Me") && after.contains("Keep Me"), "{after}");
        let names: i64 = s
            .db()
            .query_row("SELECT COUNT(*) FROM credentials WHERE learner_name LIKE 'Erase%'", [], |r| r.get(0))
            .unwrap();
        assert_eq!(names, 0);
        assert!(verify(&s, &kept["verifiableCredential"]).verified(), "the others are untouched");
        // Again: nothing more to revoke.
        let out = erase(&[&id]);
        assert!(String::from_utf8_lossy(&out.stdout).contains("revoked already"));
    }

    /// Item 12: the PDF and the QR images are rendered once per certificate and status
    /// version: the second GET is the same bytes from the cache (`BEM-Cache: hit`), the
    /// ETag answers 304, and a status change gives a new ETag and new bytes.
    #[test]
    fn pdf_and_qr_are_rendered_once_per_status_version() {
        let dir = tempfile::tempdir().unwrap();
        let s = Server::start_opts(dir.path(), "127.0.0.1:0", &[], &[("BEM_VERIFIER_URL", VERIFIER)]);
        let a = s.admin(
            &format!("/micro-credentials/{MC}/certificates?profile=openbadges"),
            &json!({"name": "Cached"}),
        );
        let awarded = a.json();
        let path = format!("/credentials/{}", token_of(&awarded));
        for (suffix, kind) in
            [(".pdf", "application/pdf"), ("/qr.png?form=compact", "image/png"), ("/qr.svg", "image/svg+xml")]
        {
            let url = format!("{path}{suffix}");
            let first = s.get(&url, kind);
            let second = s.get(&url, kind);
            assert_eq!((first.status, second.status), (200, 200), "{suffix}");
            assert_eq!(first.header("bem-cache"), Some("miss"), "{suffix}");
            assert_eq!(second.header("bem-cache"), Some("hit"), "{suffix}");
            assert_eq!(first.bytes, second.bytes, "{suffix}");
            let etag = first.etag.clone().unwrap();
            assert_eq!(second.etag.as_deref(), Some(etag.as_str()));
            let again = call(ureq::get(&s.url(&url)).set("If-None-Match", &etag), None);
            assert_eq!(again.status, 304, "{suffix}");
            assert!(again.bytes.is_empty());
        }
        let pdf = s.get(&format!("{path}.pdf"), "application/pdf");
        let message = json!({"credentialId": awarded["verifiableCredential"]["id"], "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "suspension"}, "status": true});
        assert_eq!(s.admin("/credentials/status", &message).status, 200);
        let changed = s.get(&format!("{path}.pdf"), "application/pdf");
        assert_eq!(changed.header("bem-cache"), Some("miss"));
        assert_ne!(changed.etag, pdf.etag, "a status change gives a new ETag");
        assert_ne!(changed.bytes, pdf.bytes);
        let stale = call(
            ureq::get(&s.url(&format!("{path}.pdf"))).set("If-None-Match", pdf.etag.as_deref().unwrap()),
            None,
        );
        assert_eq!(stale.status, 200, "an old ETag does not match");
    }
}

/// Issue 26: the issuer's input (`issuer/tests/e2e/input.rs`, `docs/security.md`).
#[path = "e2e/input.rs"]
mod input;

/// Issue 17, slow clients, on the issuer: the limits of `bem-serve` hold on this service
/// too (`docs/security.md`, "bounded work per request, slow clients").
mod slow_clients {
    use super::support::*;
    use std::io::{Read, Write};
    use std::net::TcpStream;
    use std::time::{Duration, Instant};

    /// Whether the server closed `stream` within `wait`; what it sent first.
    fn closed_within(stream: &mut TcpStream, wait: Duration) -> (bool, String) {
        stream.set_read_timeout(Some(wait)).unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf) {
                Ok(0) => return (true, String::from_utf8_lossy(&got).into_owned()),
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e)
                    if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) =>
                {
                    return (false, String::from_utf8_lossy(&got).into_owned())
                }
                Err(_) => return (true, String::from_utf8_lossy(&got).into_owned()),
            }
        }
    }

    #[test]
    fn a_half_sent_head_is_closed_and_a_trickling_body_gets_408() {
        let dir = tempfile::tempdir().unwrap();
        let s = Server::start(dir.path());
        let address = s.base.trim_start_matches("http://").to_owned();
        let mut half = TcpStream::connect(&address).unwrap();
        half.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n").unwrap();
        let mut trickle = TcpStream::connect(&address).unwrap();
        write!(
            trickle,
            "POST /micro-credentials/{MC}/certificates HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{{",
            s.token
        )
        .unwrap();
        let started = Instant::now();
        assert_eq!(call(ureq::get(&s.url("/healthz")), None).status, 200);

        let (closed, sent) = closed_within(&mut half, Duration::from_secs(20));
        assert!(closed, "a half-sent head was kept open for {:?}", started.elapsed());
        assert!(sent.is_empty() || sent.starts_with("HTTP/1.1 408"), "{sent}");
        let (closed, sent) = closed_within(&mut trickle, Duration::from_secs(40));
        assert!(closed && sent.starts_with("HTTP/1.1 408"), "a trickling body: {sent}");
        assert!(sent.contains("application/problem+json") && sent.contains("REQUEST_TIMEOUT"), "{sent}");
    }
}
