//! RDF Dataset Canonicalization (RDFC-1.0), with a bound on its work.
//!
//! Implements W3C RDFC-1.0 §4: first-degree hashes, the N-degree hash with permutations,
//! and the canonical issuer `c14n`. Its output is byte-identical to the W3C test suite
//! (all 86 tests, `testdata/rdf-canon/`).
//!
//! Invariant (RDFC-1.0 §4.4.3, attack case AC-26): the N-degree algorithm is exponential
//! in the worst case, so every call to it and every permutation step counts against
//! [`Limits`]; when the budget is spent canonicalization stops with
//! `RESOURCE_LIMIT_EXCEEDED` instead of hanging. The budget grows with the number of
//! blank nodes that share a first-degree hash, so ordinary credentials (where every blank
//! node's first-degree hash is unique) never come near it, and the poison graphs of the
//! suite's tests 044-046 still finish while the 10-node clique of test 074 is refused.

use std::collections::{BTreeMap, HashMap};

use sha2::{Digest, Sha256, Sha384};

use crate::rdf::{write_quad, Quad, Term};
use crate::{Error, ProblemCode, Result};

/// How much work canonicalization may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most quads accepted at all.
    pub max_quads: usize,
    /// Work units (N-degree hash calls plus permutation steps) allowed per blank node
    /// whose first-degree hash is shared; the budget is this times that count, plus
    /// `base_work`.
    pub work_per_shared_node: u64,
    pub base_work: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self { max_quads: 100_000, work_per_shared_node: 2_000, base_work: 10_000 }
    }
}

/// The hash function of the canonicalization (the suite's test 075 uses SHA-384).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashAlgorithm {
    Sha256,
    Sha384,
}

impl HashAlgorithm {
    fn hex(self, data: &[u8]) -> String {
        match self {
            HashAlgorithm::Sha256 => hex(&Sha256::digest(data)),
            HashAlgorithm::Sha384 => hex(&Sha384::digest(data)),
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Canonical N-Quads of `quads` (SHA-256), sorted, each line ending in `\n`.
pub fn canonicalize(quads: &[Quad], limits: &Limits) -> Result<String> {
    canonicalize_with(quads, HashAlgorithm::Sha256, limits).map(|(nquads, _)| nquads)
}

/// Canonical N-Quads and the issued identifier map (input label → `c14nN`).
pub fn canonicalize_with(
    quads: &[Quad],
    hash: HashAlgorithm,
    limits: &Limits,
) -> Result<(String, Vec<(String, String)>)> {
    if quads.len() > limits.max_quads {
        return Err(Error::new(
            ProblemCode::ResourceLimitExceeded,
            format!("{} quads is more than the {} canonicalization accepts", quads.len(), limits.max_quads),
        ));
    }
    let mut state = State::new(quads, hash);
    state.issue_canonical_ids(limits)?;

    let canonical = &state.canonical;
    let label = |b: &str| canonical.get(b).map(String::as_str);
    let mut lines: Vec<String> = quads
        .iter()
        .map(|q| {
            let mut line = String::with_capacity(128);
            write_quad(&mut line, q, &label);
            line
        })
        .collect();
    lines.sort_unstable();
    lines.dedup();
    let map = state.canonical_order.iter().filter_map(|b| canonical.get(b).map(|c| (b.clone(), c.clone()))).collect();
    Ok((lines.concat(), map))
}

/// An identifier issuer (RDFC-1.0 §4.3): issues `prefix0`, `prefix1`... in order.
#[derive(Clone, Debug)]
struct Issuer {
    prefix: &'static str,
    issued: Vec<(usize, String)>,
}

impl Issuer {
    fn new(prefix: &'static str) -> Self {
        Self { prefix, issued: Vec::new() }
    }

    fn get(&self, node: usize) -> Option<&str> {
        self.issued.iter().find(|(n, _)| *n == node).map(|(_, id)| id.as_str())
    }

    fn issue(&mut self, node: usize) -> String {
        if let Some(id) = self.get(node) {
            return id.to_owned();
        }
        let id = format!("{}{}", self.prefix, self.issued.len());
        self.issued.push((node, id.clone()));
        id
    }
}

struct State<'a> {
    quads: &'a [Quad],
    hash: HashAlgorithm,
    /// Blank node labels, indexed.
    labels: Vec<&'a str>,
    index: HashMap<&'a str, usize>,
    /// For each blank node, the indexes of the quads that mention it.
    mentions: Vec<Vec<usize>>,
    first_degree: Vec<Option<String>>,
    /// Canonical labels issued so far, by input label.
    canonical: HashMap<String, String>,
    canonical_by_node: Vec<Option<String>>,
    canonical_order: Vec<String>,
    work: u64,
    budget: u64,
}

impl<'a> State<'a> {
    fn new(quads: &'a [Quad], hash: HashAlgorithm) -> Self {
        let mut labels = Vec::new();
        let mut index: HashMap<&'a str, usize> = HashMap::new();
        let mut mentions: Vec<Vec<usize>> = Vec::new();
        for (qi, q) in quads.iter().enumerate() {
            for term in [Some(&q.subject), Some(&q.object), q.graph.as_ref()].into_iter().flatten() {
                if let Some(b) = term.as_blank() {
                    let n = *index.entry(b).or_insert_with(|| {
                        labels.push(b);
                        mentions.push(Vec::new());
                        labels.len() - 1
                    });
                    if let Some(m) = mentions.get_mut(n) {
                        if m.last() != Some(&qi) {
                            m.push(qi);
                        }
                    }
                }
            }
        }
        let n = labels.len();
        Self {
            quads,
            hash,
            labels,
            index,
            mentions,
            first_degree: vec![None; n],
            canonical: HashMap::new(),
            canonical_by_node: vec![None; n],
            canonical_order: Vec::new(),
            work: 0,
            budget: 0,
        }
    }

    fn issue_canonical(&mut self, node: usize) {
        if self.canonical_by_node.get(node).is_some_and(Option::is_some) {
            return;
        }
        let id = format!("c14n{}", self.canonical_order.len());
        let label = self.labels.get(node).copied().unwrap_or_default().to_owned();
        self.canonical.insert(label.clone(), id.clone());
        if let Some(slot) = self.canonical_by_node.get_mut(node) {
            *slot = Some(id);
        }
        self.canonical_order.push(label);
    }

    fn canonical_of(&self, node: usize) -> Option<&str> {
        self.canonical_by_node.get(node).and_then(|c| c.as_deref())
    }

    fn node_of(&self, term: &Term) -> Option<usize> {
        term.as_blank().and_then(|b| self.index.get(b).copied())
    }

    /// RDFC-1.0 §4.4.3 steps 3-6.
    fn issue_canonical_ids(&mut self, limits: &Limits) -> Result<()> {
        let mut by_hash: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for node in 0..self.labels.len() {
            let h = self.hash_first_degree(node);
            by_hash.entry(h).or_default().push(node);
        }
        let shared: u64 = by_hash.values().filter(|v| v.len() > 1).map(|v| v.len() as u64).sum();
        self.budget = limits.base_work.saturating_add(shared.saturating_mul(limits.work_per_shared_node));

        let mut remaining = BTreeMap::new();
        for (h, nodes) in by_hash {
            match nodes.as_slice() {
                [single] => self.issue_canonical(*single),
                _ => {
                    remaining.insert(h, nodes);
                }
            }
        }
        for nodes in remaining.into_values() {
            let mut paths: Vec<(String, Issuer)> = Vec::new();
            for node in nodes {
                if self.canonical_of(node).is_some() {
                    continue;
                }
                let mut temp = Issuer::new("b");
                temp.issue(node);
                paths.push(self.hash_n_degree(node, temp)?);
            }
            paths.sort_by(|a, b| a.0.cmp(&b.0));
            for (_, issuer) in paths {
                for (node, _) in issuer.issued {
                    self.issue_canonical(node);
                }
            }
        }
        Ok(())
    }

    /// RDFC-1.0 §4.6 Hash First Degree Quads.
    fn hash_first_degree(&mut self, node: usize) -> String {
        if let Some(Some(h)) = self.first_degree.get(node) {
            return h.clone();
        }
        let me = self.labels.get(node).copied().unwrap_or_default();
        let mut lines: Vec<String> = self
            .mentions
            .get(node)
            .map(|qs| {
                qs.iter()
                    .filter_map(|qi| self.quads.get(*qi))
                    .map(|q| {
                        let mut line = String::with_capacity(128);
                        write_quad(&mut line, q, &|b| Some(if b == me { "a" } else { "z" }));
                        line
                    })
                    .collect()
            })
            .unwrap_or_default();
        lines.sort_unstable();
        let h = self.hash.hex(lines.concat().as_bytes());
        if let Some(slot) = self.first_degree.get_mut(node) {
            *slot = Some(h.clone());
        }
        h
    }

    /// RDFC-1.0 §4.7 Hash Related Blank Node.
    fn hash_related(&mut self, related: usize, quad: &Quad, issuer: &Issuer, position: char) -> String {
        let mut input = String::new();
        input.push(position);
        if position != 'g' {
            if let Term::Iri(p) = &quad.predicate {
                input.push('<');
                input.push_str(p);
                input.push('>');
            }
        }
        if let Some(c) = self.canonical_of(related) {
            input.push_str("_:");
            input.push_str(c);
        } else if let Some(t) = issuer.get(related) {
            input.push_str("_:");
            input.push_str(t);
        } else {
            let h = self.hash_first_degree(related);
            input.push_str(&h);
        }
        self.hash.hex(input.as_bytes())
    }

    fn spend(&mut self) -> Result<()> {
        self.work += 1;
        if self.work > self.budget {
            return Err(Error::new(
                ProblemCode::ResourceLimitExceeded,
                format!(
                    "RDF canonicalization stopped after {} steps: the data has too many indistinguishable blank nodes (a poison graph)",
                    self.budget
                ),
            ));
        }
        Ok(())
    }

    /// RDFC-1.0 §4.8 Hash N-Degree Quads.
    fn hash_n_degree(&mut self, node: usize, mut issuer: Issuer) -> Result<(String, Issuer)> {
        self.spend()?;
        let mut related_by_hash: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        let quads = self.quads;
        let mentions = self.mentions.get(node).cloned().unwrap_or_default();
        for qi in mentions {
            let Some(quad) = quads.get(qi) else { continue };
            for (term, position) in [(Some(&quad.subject), 's'), (Some(&quad.object), 'o'), (quad.graph.as_ref(), 'g')] {
                let Some(related) = term.and_then(|t| self.node_of(t)) else { continue };
                if related == node {
                    continue;
                }
                let h = self.hash_related(related, quad, &issuer, position);
                related_by_hash.entry(h).or_default().push(related);
            }
        }

        let mut data = String::new();
        for (related_hash, list) in related_by_hash {
            data.push_str(&related_hash);
            let mut chosen_path = String::new();
            let mut chosen_issuer: Option<Issuer> = None;
            let mut perm = list.clone();
            perm.sort_unstable();
            'permutations: loop {
                self.spend()?;
                let mut issuer_copy = issuer.clone();
                let mut path = String::new();
                let mut recursion = Vec::new();
                let mut skip = false;
                for &r in &perm {
                    if let Some(c) = self.canonical_of(r) {
                        path.push_str("_:");
                        path.push_str(c);
                    } else {
                        if issuer_copy.get(r).is_none() {
                            recursion.push(r);
                        }
                        path.push_str("_:");
                        path.push_str(&issuer_copy.issue(r));
                    }
                    if !chosen_path.is_empty() && path.len() >= chosen_path.len() && path > chosen_path {
                        skip = true;
                        break;
                    }
                }
                if !skip {
                    for r in recursion {
                        let (h, result_issuer) = self.hash_n_degree(r, issuer_copy.clone())?;
                        issuer_copy = result_issuer;
                        path.push_str("_:");
                        path.push_str(&issuer_copy.issue(r));
                        path.push('<');
                        path.push_str(&h);
                        path.push('>');
                        if !chosen_path.is_empty() && path.len() >= chosen_path.len() && path > chosen_path {
                            skip = true;
                            break;
                        }
                    }
                }
                if !skip && (chosen_path.is_empty() || path < chosen_path) {
                    chosen_path = path;
                    chosen_issuer = Some(issuer_copy);
                }
                if !next_permutation(&mut perm) {
                    break 'permutations;
                }
            }
            data.push_str(&chosen_path);
            if let Some(chosen) = chosen_issuer {
                issuer = chosen;
            }
        }
        Ok((self.hash.hex(data.as_bytes()), issuer))
    }
}

/// Advances `v` to its next lexicographic permutation; false after the last.
fn next_permutation(v: &mut [usize]) -> bool {
    let n = v.len();
    if n < 2 {
        return false;
    }
    let mut i = n - 1;
    while i > 0 && v.get(i - 1) >= v.get(i) {
        i -= 1;
    }
    if i == 0 {
        return false;
    }
    let mut j = n - 1;
    while v.get(j) <= v.get(i - 1) {
        j -= 1;
    }
    v.swap(i - 1, j);
    if let Some(tail) = v.get_mut(i..) {
        tail.reverse();
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rdf::parse_nquads;
    use crate::testdata;
    use std::time::Instant;

    #[test]
    fn w3c_rdf_canon_suite_passes_entirely() {
        let manifest: serde_json::Value =
            serde_json::from_str(&testdata::read("rdf-canon/tests/manifest.jsonld")).unwrap();
        let entries = manifest["entries"].as_array().unwrap();
        assert_eq!(entries.len(), 86);
        let mut failures = Vec::new();
        for entry in entries {
            let id = entry["id"].as_str().unwrap();
            let kind = entry["type"].as_str().unwrap();
            let input = parse_nquads(&testdata::read(&format!("rdf-canon/tests/{}", entry["action"].as_str().unwrap())))
                .unwrap();
            let algorithm = match entry.get("hashAlgorithm").and_then(|h| h.as_str()) {
                Some("SHA384") => HashAlgorithm::Sha384,
                _ => HashAlgorithm::Sha256,
            };
            let result = canonicalize_with(&input, algorithm, &Limits::default());
            match kind {
                "rdfc:RDFC10EvalTest" => {
                    let expected = testdata::read(&format!("rdf-canon/tests/{}", entry["result"].as_str().unwrap()));
                    match result {
                        Ok((out, _)) if out == expected => {
                            // Idempotent: canonicalizing the output gives the output.
                            let again = canonicalize_with(&parse_nquads(&out).unwrap(), algorithm, &Limits::default())
                                .unwrap()
                                .0;
                            if again != out {
                                failures.push(format!("{id}: not idempotent"));
                            }
                        }
                        Ok((out, _)) => failures.push(format!("{id}: got\n{out}\nexpected\n{expected}")),
                        Err(e) => failures.push(format!("{id}: {e}")),
                    }
                }
                "rdfc:RDFC10MapTest" => {
                    let expected: BTreeMap<String, String> = serde_json::from_str(&testdata::read(&format!(
                        "rdf-canon/tests/{}",
                        entry["result"].as_str().unwrap()
                    )))
                    .unwrap();
                    match result {
                        Ok((_, map)) => {
                            let got: BTreeMap<String, String> = map.into_iter().collect();
                            if got != expected {
                                failures.push(format!("{id}: map {got:?} != {expected:?}"));
                            }
                        }
                        Err(e) => failures.push(format!("{id}: {e}")),
                    }
                }
                "rdfc:RDFC10NegativeEvalTest" => match result {
                    Err(e) if e.code == ProblemCode::ResourceLimitExceeded => {}
                    other => failures.push(format!("{id}: expected a resource-limit error, got {other:?}")),
                },
                other => failures.push(format!("{id}: unknown test type {other}")),
            }
        }
        assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
    }

    #[test]
    fn the_poison_clique_is_refused_quickly() {
        let input = parse_nquads(&testdata::read("rdf-canon/tests/rdfc10/test074-in.nq")).unwrap();
        let start = Instant::now();
        let err = canonicalize(&input, &Limits::default()).unwrap_err();
        assert_eq!(err.code, ProblemCode::ResourceLimitExceeded);
        // Loose bound (debug build, shared CI machine); the release figure is in the README.
        assert!(start.elapsed().as_secs() < 10, "took {:?}", start.elapsed());
    }

    #[test]
    fn too_many_quads_are_refused() {
        let input = parse_nquads("_:a <urn:ex:p> \"x\" .\n").unwrap();
        let limits = Limits { max_quads: 0, ..Limits::default() };
        assert_eq!(canonicalize(&input, &limits).unwrap_err().code, ProblemCode::ResourceLimitExceeded);
    }
}
