// Verifies the exported HC1 codes with @pathcheck/dcc-sdk for a fixed time, one core, and
// prints verifications per second. Usage: node verify_dcc_sdk.mjs codes.json SECONDS
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const dcc = require(process.env.DCC_SDK_BUNDLE ?? './sdk.cjs');

const [file, seconds] = [process.argv[2], Number(process.argv[3] ?? 5)];
const { codes, certificates } = JSON.parse(readFileSync(file, 'utf8'));
const cached = {};
for (const { kid, der } of certificates) cached[kid] = der;
dcc.addCachedCerts(cached);

// The SDK logs every code it cannot read; silenced, so that printing is not what is timed.
console.log = console.warn = () => {};
let verified = 0;
for (const { hc1 } of codes) {
  const result = await dcc.unpackAndVerify(hc1);
  if (result.status === 'verified' || result.status?.toString?.() === 'verified') verified += 1;
}
const statuses = new Set();
let count = 0;
const started = performance.now();
while (performance.now() - started < seconds * 1000) {
  for (const { hc1 } of codes) {
    const result = await dcc.unpackAndVerify(hc1);
    statuses.add(String(result.status));
    count += 1;
  }
}
const elapsed = (performance.now() - started) / 1000;
process.stdout.write(JSON.stringify({
  verifier: '@pathcheck/dcc-sdk',
  codes: codes.length,
  verified_in_first_pass: verified,
  statuses: [...statuses],
  verifications_per_second: count / elapsed,
}) + '\n');
