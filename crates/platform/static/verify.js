// Checks, in the browser, that each access listed on the page is in the transparency log: it
// takes the entry the page carries (only its person sees it; the public log shows leaf hashes),
// fetches the latest checkpoint and the entry's inclusion proof, recomputes the leaf hash and
// the root (RFC 9162 §2.1.3.2), and compares with the checkpoint. No server is trusted for the
// result. Pages work without it; the log index and links are there either way.
(function () {
  'use strict';
  const rows = document.querySelectorAll('[data-ledger-index]');
  if (rows.length === 0 || !window.crypto || !window.crypto.subtle) return;
  const hashName = document.body.dataset.ledgerHash;
  const text = JSON.parse(document.getElementById('verify-text').textContent);
  if (hashName !== 'SHA-256') {
    rows.forEach((row) => { row.querySelector('.verdict').textContent = text.unsupported; });
    return;
  }
  const sha256 = async (...parts) => {
    const length = parts.reduce((n, p) => n + p.length, 0);
    const all = new Uint8Array(length);
    let at = 0;
    for (const p of parts) { all.set(p, at); at += p.length; }
    return new Uint8Array(await crypto.subtle.digest('SHA-256', all));
  };
  const b64 = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
  const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
  async function included(leaf, index, size, path, root) {
    if (index >= size) return false;
    let f = BigInt(index), s = BigInt(size) - 1n, r = leaf;
    for (const p of path) {
      if (s === 0n) return false;
      if ((f & 1n) === 1n || f === s) {
        r = await sha256(Uint8Array.of(1), p, r);
        if ((f & 1n) === 0n) { while ((f & 1n) === 0n && f !== 0n) { f >>= 1n; s >>= 1n; } }
      } else {
        r = await sha256(Uint8Array.of(1), r, p);
      }
      f >>= 1n; s >>= 1n;
    }
    return s === 0n && same(r, root);
  }
  (async () => {
    // The node signs a new checkpoint at most once a second: an access made a moment ago
    // may need the next one.
    const newest = Math.max(...Array.from(rows, (row) => Number(row.dataset.ledgerIndex)));
    let note = '';
    for (let attempt = 0; attempt < 4; attempt += 1) {
      if (attempt > 0) await new Promise((done) => setTimeout(done, 1100));
      note = await (await fetch('/api/v1/ledger/checkpoint')).text();
      if (Number(note.split('\n')[1]) > newest) break;
    }
    const [, sizeLine, rootLine] = note.split('\n');
    const size = Number(sizeLine);
    const root = b64(rootLine);
    for (const row of rows) {
      const verdict = row.querySelector('.verdict');
      try {
        const index = Number(row.dataset.ledgerIndex);
        const leaf = await sha256(Uint8Array.of(0), b64(row.dataset.ledgerEntry));
        const proof = await (await fetch(`/api/v1/ledger/proof/inclusion?index=${index}&size=${size}`)).json();
        const ok = await included(leaf, index, size, proof.hashes.map(b64), root);
        verdict.textContent = ok ? text.verified.replace('{size}', size) : text.failed;
        verdict.classList.add(ok ? 'ok' : 'error');
      } catch (error) {
        verdict.textContent = text.failed;
        verdict.classList.add('error');
      }
    }
  })();
})();
