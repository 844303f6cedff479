//! Request and verification metrics, written in the Prometheus text exposition format.
//!
//! Counters of requests by route template and status, a histogram of verification time
//! by kind (credential, presentation, and the reading of a QR code image, which takes a
//! verification slot too), the verifications in progress and the requests
//! turned away under load. Labels are route templates and fixed words only, never
//! anything from a request, so the number of series is bounded.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

const BUCKETS: [f64; 13] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

#[derive(Default)]
struct Histogram {
    counts: [AtomicU64; 13],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

impl Histogram {
    fn observe(&self, d: Duration) {
        let secs = d.as_secs_f64();
        for (bound, count) in BUCKETS.iter().zip(&self.counts) {
            if secs <= *bound {
                count.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_micros.fetch_add(u64::try_from(d.as_micros()).unwrap_or(u64::MAX), Ordering::Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, kind: &str) {
        for (bound, count) in BUCKETS.iter().zip(&self.counts) {
            let _ = writeln!(
                out,
                "{name}_bucket{{kind=\"{kind}\",le=\"{bound}\"}} {}",
                count.load(Ordering::Relaxed)
            );
        }
        let total = self.count.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{kind=\"{kind}\",le=\"+Inf\"}} {total}");
        #[allow(clippy::cast_precision_loss)]
        let sum = self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "{name}_sum{{kind=\"{kind}\"}} {sum}");
        let _ = writeln!(out, "{name}_count{{kind=\"{kind}\"}} {total}");
    }
}

/// The service's metrics.
#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, u16), u64>>,
    credential: Histogram,
    presentation: Histogram,
    qr_image: Histogram,
    in_progress: AtomicI64,
    overloaded: AtomicU64,
}

/// Which histogram a verification goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Credential,
    Presentation,
    /// Reading a QR code from an image (the page's photo upload and camera scanner).
    QrImage,
}

impl Metrics {
    pub fn request(&self, route: &str, status: u16) {
        let mut map = self.requests.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        *map.entry((route.to_owned(), status)).or_insert(0) += 1;
    }

    pub fn verification(&self, kind: Kind, took: Duration) {
        match kind {
            Kind::Credential => self.credential.observe(took),
            Kind::Presentation => self.presentation.observe(took),
            Kind::QrImage => self.qr_image.observe(took),
        }
    }

    pub fn started(&self) {
        self.in_progress.fetch_add(1, Ordering::Relaxed);
    }

    pub fn finished(&self) {
        self.in_progress.fetch_sub(1, Ordering::Relaxed);
    }

    pub fn turned_away(&self) {
        self.overloaded.fetch_add(1, Ordering::Relaxed);
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str("# HELP bem_verifier_http_requests_total HTTP requests by route and status.\n");
        out.push_str("# TYPE bem_verifier_http_requests_total counter\n");
        {
            let map = self.requests.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            for ((route, status), n) in map.iter() {
                let route = route.replace(['\\', '"', '\n'], "_");
                let _ = writeln!(
                    out,
                    "bem_verifier_http_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}"
                );
            }
        }
        let name = "bem_verifier_verification_duration_seconds";
        let _ = writeln!(
            out,
            "# HELP {name} Time to verify one credential or presentation, or to read one QR code image."
        );
        let _ = writeln!(out, "# TYPE {name} histogram");
        self.credential.render(&mut out, name, "credential");
        self.presentation.render(&mut out, name, "presentation");
        self.qr_image.render(&mut out, name, "qr-image");
        out.push_str("# HELP bem_verifier_verifications_in_progress Verifications running now.\n");
        out.push_str("# TYPE bem_verifier_verifications_in_progress gauge\n");
        let _ = writeln!(
            out,
            "bem_verifier_verifications_in_progress {}",
            self.in_progress.load(Ordering::Relaxed)
        );
        out.push_str("# HELP bem_verifier_overloaded_total Requests turned away because too many verifications were running.\n");
        out.push_str("# TYPE bem_verifier_overloaded_total counter\n");
        let _ = writeln!(out, "bem_verifier_overloaded_total {}", self.overloaded.load(Ordering::Relaxed));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_has_counters_and_a_cumulative_histogram() {
        let m = Metrics::default();
        m.request("/credentials/verify", 200);
        m.request("/credentials/verify", 200);
        m.verification(Kind::Credential, Duration::from_millis(3));
        let text = m.render();
        assert!(
            text.contains("bem_verifier_http_requests_total{route=\"/credentials/verify\",status=\"200\"} 2")
        );
        assert!(text.contains("kind=\"credential\",le=\"0.0025\"} 0"));
        assert!(text.contains("kind=\"credential\",le=\"0.005\"} 1"));
        assert!(text.contains("kind=\"credential\",le=\"+Inf\"} 1"));
    }
}
