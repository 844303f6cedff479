// The employer page's camera scanner. Progressive enhancement: the page works without
// it (a photo of the QR code can be uploaded instead), and its button shows only once
// this script runs. Served by the verifier itself (/verify/scan.js); no library.
//
// On "Scan": open the rear camera, show the video, and every 300 ms look at one frame:
// with the browser's BarcodeDetector where it exists, else by sending the frame as a
// JPEG to POST /verify/qr, which reads it on the server. A certificate link opens
// /verify?credential=LINK; a credential itself (JSON) goes through the paste form.
// "Stop", Escape or leaving the page turns the camera off.
'use strict';

// A certificate's compact QR code may be a link to this page carrying the signed
// certificate in its fragment (/verify#BEM2:..., docs/qr-compact.md), so that a phone's
// camera app opens the result directly; the fragment never reaches a server or its logs.
// It is submitted like a pasted credential (POST, body not logged), and removed from the
// address bar. Without JavaScript the page asks for the text to be pasted.
(() => {
  const hash = window.location.hash;
  if (!/^#BEM\d+(:|%3A)/i.test(hash)) {
    return;
  }
  const field = document.getElementById('credential');
  if (!field || !field.form) {
    return;
  }
  let text;
  try {
    text = decodeURIComponent(hash.slice(1));
  } catch (e) {
    text = hash.slice(1); // a malformed escape: the server names the problem
  }
  history.replaceState(null, '', window.location.pathname + window.location.search);
  field.value = text;
  field.form.submit();
})();

(() => {
  const box = document.getElementById('scan');
  if (!box || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    return; // no camera API (or not a secure context): the upload stays the way in
  }
  const startButton = document.getElementById('scan-start');
  const stopButton = document.getElementById('scan-stop');
  const view = document.getElementById('scan-view');
  const video = document.getElementById('scan-video');
  const status = document.getElementById('scan-status');

  const EVERY_MS = 300;
  const MAX_SIDE = 1024; // frames sent to the server are scaled down to this (pixels)

  let stream = null;
  let timer = null;
  let busy = false; // one frame at a time: slow answers never pile up
  const canvas = document.createElement('canvas');
  let detector = null; // the browser's own QR reader, where it has one
  if ('BarcodeDetector' in window) {
    window.BarcodeDetector.getSupportedFormats()
      .then((formats) => {
        if (formats.includes('qr_code')) {
          detector = new window.BarcodeDetector({ formats: ['qr_code'] });
        }
      })
      .catch(() => {});
  }

  // The page gives the messages, in its language, as data-* attributes of #scan.
  function say(key) {
    status.textContent = box.dataset[key] || '';
  }

  async function start() {
    say('starting');
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        video: { facingMode: 'environment' },
        audio: false,
      });
    } catch (e) {
      say('denied');
      return;
    }
    video.srcObject = stream;
    view.hidden = false;
    startButton.hidden = true;
    stopButton.focus();
    try {
      await video.play();
    } catch (e) {
      // muted inline video may play anyway; frames are read once it has data
    }
    say('looking');
    timer = setInterval(lookAtFrame, EVERY_MS);
  }

  function stop() {
    clearInterval(timer);
    timer = null;
    if (stream) {
      stream.getTracks().forEach((track) => track.stop());
    }
    stream = null;
    video.srcObject = null;
    view.hidden = true;
    startButton.hidden = false;
  }

  async function lookAtFrame() {
    if (busy || !stream || video.readyState < 2 || !video.videoWidth) {
      return;
    }
    busy = true;
    try {
      const text = detector ? await detectHere() : await detectOnServer();
      if (text !== null && stream) {
        found(text);
      }
    } catch (e) {
      // a lost frame or request: try the next one
    } finally {
      busy = false;
    }
  }

  async function detectHere() {
    try {
      const codes = await detector.detect(video);
      return codes.length ? codes[0].rawValue : null;
    } catch (e) {
      detector = null; // it failed once: let the server read the next frames
      return null;
    }
  }

  async function detectOnServer() {
    const scale = Math.min(1, MAX_SIDE / Math.max(video.videoWidth, video.videoHeight));
    canvas.width = Math.round(video.videoWidth * scale);
    canvas.height = Math.round(video.videoHeight * scale);
    canvas.getContext('2d').drawImage(video, 0, 0, canvas.width, canvas.height);
    const frame = await new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', 0.85));
    if (!frame) {
      return null;
    }
    const answer = await fetch('/verify/qr', {
      method: 'POST',
      headers: { 'Content-Type': 'image/jpeg' },
      body: frame,
    });
    if (!answer.ok) {
      return null; // 422: no code in this frame yet; anything else: try again
    }
    return (await answer.json()).text;
  }

  // A link opens the result page; a credential is submitted like a pasted one.
  function found(text) {
    const value = text.trim();
    if (/^BEM\d+:/i.test(value) || /^https?:\/\/[^#]*#BEM\d+(:|%3A)/i.test(value)) {
      stop(); // the compact signed certificate: verified as it is, nothing fetched
      say('found');
      const field = document.getElementById('credential');
      field.value = value;
      field.form.submit();
    } else if (/^https?:\/\//i.test(value)) {
      stop();
      say('found');
      const lang = encodeURIComponent(box.dataset.lang || 'en');
      window.location.assign('/verify?lang=' + lang + '&credential=' + encodeURIComponent(value));
    } else if (value.startsWith('{')) {
      stop();
      say('found');
      const field = document.getElementById('credential');
      field.value = value;
      field.form.submit();
    } else {
      say('notCertificate'); // some other QR code: keep looking
    }
  }

  startButton.addEventListener('click', start);
  stopButton.addEventListener('click', () => {
    stop();
    say('stopped');
    startButton.focus();
  });
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && stream) {
      stop();
      say('stopped');
      startButton.focus();
    }
  });
  window.addEventListener('pagehide', stop);
  box.hidden = false; // scripts run: offer the camera
})();
