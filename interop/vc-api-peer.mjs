#!/usr/bin/env node
// The peer of the HTTP load comparison (scripts/load-verifier.sh): a VC API verifier built
// on Digital Bazaar's libraries, as a Node.js service would be. POST /credentials/verify
// with {verifiableCredential, options?} answers 200 {verified: true, ...} or 400
// {verified: false, errors}; anything else 404. Same pinned contexts and in-process did:key
// as bem-interop.mjs; no network. Node runs JavaScript on one core: PEER_WORKERS=2 starts
// that many processes on one port (node:cluster), to use both cores.
//
//   node vc-api-peer.mjs PORT     # prints "vc-api-peer listening on http://127.0.0.1:PORT"

import cluster from 'node:cluster';
import http from 'node:http';

import * as vc from '@digitalbazaar/vc';

import {documentLoader, errorsOf, verifySuites} from './bem-interop.mjs';

const port = Number.parseInt(process.argv[2] || '0', 10);
const workers = Number.parseInt(process.env.PEER_WORKERS || '1', 10);
const MAX_BODY = 512 * 1024;

function answer(response, status, body) {
  const text = JSON.stringify(body);
  response.writeHead(status, {'content-type': 'application/json', 'content-length': Buffer.byteLength(text)});
  response.end(text);
}

async function verify(body) {
  const request = JSON.parse(body);
  const credential = request && request.verifiableCredential;
  if(!credential || typeof credential !== 'object') {
    return [400, {verified: false, errors: ['verifiableCredential is missing']}];
  }
  const suite = verifySuites();
  const result = await vc.verifyCredential({credential, suite, documentLoader});
  const verified = result.verified === true;
  return [verified ? 200 : 400, {verified, checks: ['proof'], errors: errorsOf(result)}];
}

function serve() {
  const server = http.createServer((request, response) => {
    if(request.method !== 'POST' || request.url !== '/credentials/verify') {
      answer(response, 404, {errors: ['not found']});
      return;
    }
    const chunks = [];
    let size = 0;
    request.on('data', chunk => {
      size += chunk.length;
      if(size > MAX_BODY) {
        answer(response, 413, {errors: ['body too large']});
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => {
      if(size > MAX_BODY) {
        return;
      }
      verify(Buffer.concat(chunks).toString('utf8')).then(
        ([status, body]) => answer(response, status, body),
        error => answer(response, 400, {verified: false, errors: [error.message]}));
    });
  });
  server.listen(port, '127.0.0.1', () => {
    if(cluster.isPrimary) {
      process.stdout.write(`vc-api-peer listening on http://127.0.0.1:${server.address().port}\n`);
    }
  });
}

if(workers > 1 && cluster.isPrimary) {
  for(let i = 0; i < workers; i++) {
    cluster.fork();
  }
  let listening = 0;
  cluster.on('listening', (_, address) => {
    listening += 1;
    if(listening === workers) {
      process.stdout.write(`vc-api-peer listening on http://127.0.0.1:${address.port} (${workers} workers)\n`);
    }
  });
} else {
  serve();
}
