#!/usr/bin/env node
// The independent implementation in our tests: Digital Bazaar's libraries (npm, pinned by
// package-lock.json) verify what BEM makes and make what BEM must verify.
//
//   node bem-interop.mjs verify-credential FILE
//   node bem-interop.mjs verify-presentation FILE --challenge C [--domain D]
//   node bem-interop.mjs issue-credential FILE [--cryptosuite eddsa-rdfc-2022|eddsa-jcs-2022]
//   node bem-interop.mjs sign-presentation FILE --challenge C [--domain D]
//                            [--cryptosuite ...]   (FILE: an unsigned presentation)
//   node bem-interop.mjs issue-with-status-list FILE --list-url URL --index N
//                            [--status-purpose revocation] [--set true] [--cryptosuite ...]
//
// FILE may be `-` for stdin. Every command prints one JSON object on stdout:
//   verify-*: {verified, errors:[...], status:{revocation?:bool, suspension?:bool},
//             statusUnchecked: a status entry the library does not read (an EDC
//             certificate's, typed also elm:CredentialStatus)}; exit 0 when verified, 1 when not;
//   issue-credential / sign-presentation: the signed document; the key is a fresh
//             did:key, which is set as `issuer` / `holder`;
//   issue-with-status-list: {credential, statusList}: the credential with a
//             BitstringStatusListEntry at index N of the list at URL, and that list's
//             BitstringStatusListCredential (131,072 entries; bit N set with --set true), both
//             signed by the same fresh did:key. Serving the list at URL is the caller's job.
// Exit 2: unusable input or arguments.
//
// Documents are loaded only from here, never from the network unless allowed:
//   - JSON-LD contexts: BEM's pinned copies in ../core/contexts (the same bytes our Rust
//     code checks by sha256), plus the security v1/v2 contexts bundled with
//     jsonld-signatures (its controller-document framing needs them);
//   - did:key: built here from the key itself;
//   - http(s) URLs (did:web documents, status lists): only under a prefix listed in
//     BEM_INTEROP_ALLOW (comma-separated), fetched with a 5 s timeout.

import {readFileSync} from 'node:fs';
import {dirname, join, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';

import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import {cryptosuite as eddsaRdfc2022} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import {
  createSignCryptosuite as jcsSign, createVerifyCryptosuite as jcsVerify,
} from '@digitalbazaar/eddsa-jcs-2022-cryptosuite';
import {checkStatus, createCredential as createListCredential, createList, statusTypeMatches}
  from '@digitalbazaar/vc-bitstring-status-list';
import securityContext from '@digitalbazaar/security-context';

const here = dirname(fileURLToPath(import.meta.url));
const contextsDir = join(here, '..', 'core', 'contexts');

// URL → file, as in core/contexts/SOURCES.md.
const PINNED = {
  'https://www.w3.org/ns/credentials/v2': 'credentials_v2.jsonld',
  'https://www.w3.org/2018/credentials/v1': 'credentials_v1.jsonld',
  'https://www.w3.org/ns/credentials/examples/v2': 'credentials_examples_v2.jsonld',
  'https://www.w3.org/ns/credentials/status/v1': 'credentials_status_v1.jsonld',
  'https://w3id.org/security/data-integrity/v2': 'data-integrity_v2.jsonld',
  'https://w3id.org/security/data-integrity/v1': 'data-integrity_v1.jsonld',
  'https://w3id.org/security/multikey/v1': 'multikey_v1.jsonld',
  'https://w3id.org/security/jwk/v1': 'jwk_v1.jsonld',
  'https://www.w3.org/ns/cid/v1': 'cid_v1.jsonld',
  'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json': 'ob_v3p0_context-3.0.3.json',
  'http://data.europa.eu/snb/model/context/edc-ap': 'elm-3.2-lts_edc-ap.jsonld',
};

// name → [cryptosuite for signing, cryptosuite for verifying]
const CRYPTOSUITES = {
  'eddsa-rdfc-2022': [eddsaRdfc2022, eddsaRdfc2022],
  'eddsa-jcs-2022': [jcsSign(), jcsVerify()],
};

class UsageError extends Error {}

const allowed = (process.env.BEM_INTEROP_ALLOW || '')
  .split(',').map(s => s.trim()).filter(Boolean);

function didKeyDocument(didUrl) {
  const did = didUrl.split('#')[0];
  const fingerprint = did.slice('did:key:'.length);
  if(!fingerprint.startsWith('z6Mk')) {
    throw new Error(`not an Ed25519 did:key: ${did}`);
  }
  const vmId = `${did}#${fingerprint}`;
  const method = {
    '@context': 'https://w3id.org/security/multikey/v1',
    id: vmId,
    type: 'Multikey',
    controller: did,
    publicKeyMultibase: fingerprint,
  };
  if(didUrl.includes('#')) {
    if(didUrl !== vmId) {
      throw new Error(`unknown verification method ${didUrl}`);
    }
    return method;
  }
  const {'@context': _, ...embedded} = method;
  return {
    '@context': ['https://www.w3.org/ns/cid/v1'],
    id: did,
    verificationMethod: [embedded],
    authentication: [vmId],
    assertionMethod: [vmId],
  };
}

async function fetchAllowed(url) {
  if(!allowed.some(prefix => url.startsWith(prefix))) {
    throw new Error(`refusing to fetch ${url}: not under BEM_INTEROP_ALLOW`);
  }
  const response = await fetch(url, {
    headers: {accept: 'application/ld+json, application/json'},
    signal: AbortSignal.timeout(5000),
  });
  if(!response.ok) {
    throw new Error(`GET ${url}: HTTP ${response.status}`);
  }
  return response.json();
}

// did:web:host%3Aport[:path] → https://host:port[/path]/did.json (or /.well-known/did.json)
function didWebUrl(did, scheme) {
  const parts = did.slice('did:web:'.length).split(':').map(decodeURIComponent);
  const [host, ...path] = parts;
  return path.length ?
    `${scheme}://${host}/${path.join('/')}/did.json` :
    `${scheme}://${host}/.well-known/did.json`;
}

// Pinned contexts, read and parsed once per process.
const pinnedDocuments = new Map();

export async function documentLoader(url) {
  const pinned = PINNED[url];
  if(pinned) {
    if(!pinnedDocuments.has(url)) {
      pinnedDocuments.set(url, JSON.parse(readFileSync(join(contextsDir, pinned), 'utf8')));
    }
    return {contextUrl: null, documentUrl: url, document: pinnedDocuments.get(url)};
  }
  if(securityContext.contexts.has(url)) {
    return {contextUrl: null, documentUrl: url, document: securityContext.contexts.get(url)};
  }
  if(url.startsWith('did:key:')) {
    return {contextUrl: null, documentUrl: url, document: didKeyDocument(url)};
  }
  if(url.startsWith('did:web:')) {
    const [did, fragment] = url.split('#');
    const document = await fetchAllowed(didWebUrl(did, process.env.BEM_INTEROP_DID_WEB_SCHEME || 'https'));
    if(fragment === undefined) {
      return {contextUrl: null, documentUrl: url, document};
    }
    const method = (document.verificationMethod || []).find(m => m.id === url);
    if(!method) {
      throw new Error(`${url} is not in the DID document`);
    }
    return {contextUrl: null, documentUrl: url,
      document: {'@context': document['@context'], ...method}};
  }
  if(url.startsWith('https://') || url.startsWith('http://')) {
    return {contextUrl: null, documentUrl: url, document: await fetchAllowed(url)};
  }
  throw new Error(`document loader: nothing known at ${url}`);
}

export function verifySuites() {
  return Object.values(CRYPTOSUITES).map(([, cryptosuite]) => new DataIntegrityProof({cryptosuite}));
}

export function errorsOf(result) {
  const errors = [];
  const visit = value => {
    if(!value) {
      return;
    }
    if(Array.isArray(value)) {
      value.forEach(visit);
      return;
    }
    if(value instanceof Error) {
      errors.push(value.message);
      visit(value.errors);
      return;
    }
    if(typeof value === 'object') {
      visit(value.error);
      visit(value.results);
      visit(value.presentationResult);
      visit(value.credentialResults);
      visit(value.statusResult);
    }
  };
  visit(result);
  return [...new Set(errors)];
}

// Status bits that are set, by purpose, from every statusResult in the result tree, and
// whether a status result says the library did not read an entry (`withStatus`).
function statusOf(result) {
  const status = {};
  let unchecked = false;
  const visit = value => {
    if(!value || typeof value !== 'object') {
      return;
    }
    if(Array.isArray(value)) {
      value.forEach(visit);
      return;
    }
    if(value.credentialStatus && typeof value.status === 'boolean') {
      const purpose = value.credentialStatus.statusPurpose;
      status[purpose] = (status[purpose] || false) || value.status;
    }
    unchecked = unchecked || value.unchecked === true;
    visit(value.statusResult);
    visit(value.results);
    visit(value.credentialResults);
  };
  visit(result);
  return {status, unchecked};
}

// The library reads only entries whose `type` is exactly "BitstringStatusListEntry"
// (its `statusTypeMatches`). An EDC certificate's one entry is also an
// `elm:CredentialStatus` (a `type` array, as EDC's shapes require), which it does not
// read: that is reported as `statusUnchecked`, not as a pass or a failure of the status.
async function withStatus(options) {
  if(!statusTypeMatches({credential: options.credential})) {
    return {verified: true, unchecked: true};
  }
  const result = await checkStatus(options);
  return result;
}

async function newSigner(cryptosuiteName) {
  const [cryptosuite] = CRYPTOSUITES[cryptosuiteName] || [];
  if(!cryptosuite) {
    throw new UsageError(`unknown cryptosuite ${cryptosuiteName}`);
  }
  const keyPair = await Ed25519Multikey.generate();
  const did = `did:key:${keyPair.publicKeyMultibase}`;
  keyPair.controller = did;
  keyPair.id = `${did}#${keyPair.publicKeyMultibase}`;
  const suite = new DataIntegrityProof({signer: keyPair.signer(), cryptosuite});
  return {did, suite};
}

function parseArgs(argv) {
  const [command, file, ...rest] = argv;
  const flags = {};
  for(let i = 0; i < rest.length; i += 2) {
    const name = rest[i];
    if(!name.startsWith('--') || rest[i + 1] === undefined) {
      throw new UsageError(`unexpected argument ${name}`);
    }
    flags[name.slice(2)] = rest[i + 1];
  }
  if(!command || !file) {
    throw new UsageError('usage: bem-interop.mjs COMMAND FILE [--flag value]...');
  }
  return {command, file, flags};
}

function readInput(file) {
  const text = readFileSync(file === '-' ? 0 : file, 'utf8');
  try {
    return JSON.parse(text);
  } catch(e) {
    throw new UsageError(`${file}: not JSON: ${e.message}`);
  }
}

async function main() {
  const {command, file, flags} = parseArgs(process.argv.slice(2));
  const input = readInput(file);
  switch(command) {
    case 'verify-credential': {
      const result = await vc.verifyCredential({
        credential: input, suite: verifySuites(), documentLoader, checkStatus: withStatus,
      });
      return report(result);
    }
    case 'verify-presentation': {
      if(!flags.challenge) {
        throw new UsageError('verify-presentation needs --challenge');
      }
      const result = await vc.verify({
        presentation: input, suite: verifySuites(), documentLoader, checkStatus: withStatus,
        challenge: flags.challenge, domain: flags.domain,
      });
      return report(result);
    }
    case 'issue-credential': {
      const {did, suite} = await newSigner(flags.cryptosuite || 'eddsa-rdfc-2022');
      const credential = {...input, issuer: did};
      const signed = await vc.issue({credential, suite, documentLoader});
      process.stdout.write(JSON.stringify(signed, null, 2) + '\n');
      return 0;
    }
    case 'sign-presentation': {
      if(!flags.challenge) {
        throw new UsageError('sign-presentation needs --challenge');
      }
      const {did, suite} = await newSigner(flags.cryptosuite || 'eddsa-rdfc-2022');
      const presentation = {...input, holder: did};
      const signed = await vc.signPresentation({
        presentation, suite, documentLoader, challenge: flags.challenge, domain: flags.domain,
      });
      process.stdout.write(JSON.stringify(signed, null, 2) + '\n');
      return 0;
    }
    case 'issue-with-status-list': {
      const listUrl = flags['list-url'];
      const index = Number.parseInt(flags.index, 10);
      if(!listUrl || !Number.isInteger(index) || index < 0 || index >= 131072) {
        throw new UsageError('issue-with-status-list needs --list-url URL --index N (0..131071)');
      }
      const statusPurpose = flags['status-purpose'] || 'revocation';
      const {did, suite} = await newSigner(flags.cryptosuite || 'eddsa-rdfc-2022');
      const list = await createList({length: 131072});
      list.setStatus(index, flags.set === 'true');
      const unsignedList = await createListCredential({id: listUrl, list, statusPurpose});
      const statusList = await vc.issue({credential: {...unsignedList, issuer: did}, suite, documentLoader});
      const credential = await vc.issue({
        credential: {
          ...input,
          issuer: did,
          credentialStatus: {
            id: `${listUrl}#${index}`,
            type: 'BitstringStatusListEntry',
            statusPurpose,
            statusListIndex: String(index),
            statusListCredential: listUrl,
          },
        },
        suite, documentLoader,
      });
      process.stdout.write(JSON.stringify({credential, statusList}, null, 2) + '\n');
      return 0;
    }
    default:
      throw new UsageError(`unknown command ${command}`);
  }
}

function report(result) {
  const {status, unchecked} = statusOf(result);
  const out = {
    verified: result.verified === true, errors: errorsOf(result), status, statusUnchecked: unchecked,
  };
  process.stdout.write(JSON.stringify(out, null, 2) + '\n');
  return out.verified ? 0 : 1;
}

// A command when run as a script; a library of the loader and suites when imported
// (vc-api-peer.mjs).
if(process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().then(code => {
    process.exitCode = code;
  }, error => {
    process.stderr.write(`bem-interop: ${error.message}\n`);
    process.exitCode = error instanceof UsageError ? 2 : 1;
  });
}
