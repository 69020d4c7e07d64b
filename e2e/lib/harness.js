// Starts `tongban demo` on a free port with its own data folder, reads the demo credentials,
// and launches Debian's Chromium through Playwright. Screenshots go to e2e/artifacts/.

import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..', '..');
export const artifacts = join(repo, 'e2e', 'artifacts');

function freePort() {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => ok(port));
    });
    server.on('error', fail);
  });
}

async function waitFor(check, what, seconds = 60) {
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** The tongban binary the tests run. */
export function binaryPath() {
  return process.env.TONGBAN_BIN || join(repo, 'target', 'debug', 'tongban');
}

/**
 * Starts the demo and returns { baseUrl, accounts, region, rootKey(), stop }. With `region`, the
 * demo city is run as that region's deployment, publishing its gateway at its own address. With
 * `partner`, the demo also runs that second region at the next port (`demo --partner`), and the
 * result has `partner: { baseUrl, accounts }` once its agreement is made.
 */
export async function startDemo({ region, partner } = {}) {
  const binary = binaryPath();
  if (!existsSync(binary)) throw new Error(`build tongban first: ${binary} is missing`);
  const dataDir = mkdtempSync(join(tmpdir(), 'tongban-e2e-'));
  const port = await freePort();
  const regionEnv = region
    ? { TONGBAN_REGION_CODE: region, TONGBAN_PUBLIC_URL: `http://127.0.0.1:${port}` }
    : {};
  const args = ['demo', '--data-dir', dataDir, '--bind', `127.0.0.1:${port}`];
  if (partner) args.push('--partner', partner);
  const child = spawn(binary, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, TONGBAN_LOG: 'warn', ...regionEnv },
  });
  let output = '';
  child.stdout.on('data', (d) => { output += d; });
  child.stderr.on('data', (d) => { output += d; });
  const credentialsPath = join(dataDir, 'demo-credentials.json');
  const baseUrl = `http://127.0.0.1:${port}`;
  try {
    await waitFor(async () => {
      if (child.exitCode !== null) throw new Error(`tongban demo exited:\n${output}`);
      if (!existsSync(credentialsPath)) return false;
      try { return (await fetch(`${baseUrl}/readyz`)).ok; } catch { return false; }
    }, 'the demo to serve');
  } catch (error) {
    child.kill('SIGTERM');
    throw error;
  }
  const credentials = JSON.parse(readFileSync(credentialsPath, 'utf8'));
  let partnerDemo;
  if (partner) {
    await waitFor(async () => {
      if (child.exitCode !== null) throw new Error(`tongban demo exited:\n${output}`);
      return output.includes(`partner region ${partner} is at`);
    }, 'the partner region and its agreement');
    partnerDemo = {
      baseUrl: `http://127.0.0.1:${port + 1}`,
      accounts: JSON.parse(readFileSync(join(dataDir, `partner-${partner}`, 'demo-credentials.json'), 'utf8')).accounts,
      region: partner,
    };
  }
  const stop = async () => {
    child.kill('SIGTERM');
    await new Promise((r) => child.exitCode !== null ? r() : child.on('exit', r));
    rmSync(dataDir, { recursive: true, force: true });
  };
  // The region's root public key, as `tongban keys root-key` prints it for other regions.
  const rootKey = () => new Promise((ok, fail) => {
    const keys = spawn(binary, ['keys', '--data-dir', dataDir, 'root-key'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TONGBAN_LOG: 'error', TONGBAN_REGION_CODE: region || '339900' },
    });
    let printed = '';
    keys.stdout.on('data', (d) => { printed += d; });
    keys.on('exit', (code) => code === 0 ? ok(printed.trim().split(/\s+/)[2]) : fail(new Error(`root-key: ${code}`)));
  });
  return { baseUrl, accounts: credentials.accounts, region: region || '339900', rootKey, stop, partner: partnerDemo };
}

export async function launchBrowser() {
  mkdirSync(artifacts, { recursive: true });
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** RFC 6238 TOTP (HMAC-SHA1, 30 s, 6 digits) from a base32 secret. */
export function totp(base32, now = Date.now()) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of base32.replace(/=+$/, '')) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const bytes = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(now / 1000 / 30)));
  const digest = createHmac('sha1', bytes).update(counter).digest();
  const offset = digest[19] & 0x0f;
  const value = (digest.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return String(value).padStart(6, '0');
}

/** A screenshot kept as a test artifact. */
export async function shot(page, name) {
  await page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });
}

/**
 * Signs a demo account in on a new page of `context` and returns the page at /home. `later`
 * uses the next time step's code, for a second sign-in within the same 30 seconds (a code is
 * taken once).
 */
export async function signIn(demo, context, username, later = false) {
  const who = account(demo, username);
  const page = await context.newPage();
  await page.goto(`${demo.baseUrl}/login`);
  await page.fill('#username', who.username);
  await page.fill('#password', who.password);
  await page.fill('#totp', totp(who.totp_secret, Date.now() + (later ? 30_000 : 0)));
  await page.click('button[type=submit].primary');
  await page.waitForURL('**/home');
  return page;
}

/** A demo account by username. */
export function account(demo, username) {
  return demo.accounts.find((a) => a.username === username);
}

/** Calls the demo's JSON API with a bearer token; returns the status and the parsed body. */
export async function api(demo, token, path, init = {}) {
  const response = await fetch(`${demo.baseUrl}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...(init.headers || {}) },
  });
  return { status: response.status, body: await response.json() };
}

/** Reads the QR code drawn as SVG under `selector` with jsQR, as a phone camera would. */
export async function readQr(demo, page, selector) {
  await page.addScriptTag({ url: `${demo.baseUrl}/static/jsQR.js` });
  return page.evaluate(async (selector) => {
    const svg = document.querySelector(selector).outerHTML;
    const image = new Image();
    image.src = `data:image/svg+xml;base64,${btoa(unescape(encodeURIComponent(svg)))}`;
    await image.decode();
    const canvas = document.createElement('canvas');
    canvas.width = 600;
    canvas.height = 600;
    const context = canvas.getContext('2d');
    context.fillStyle = '#fff';
    context.fillRect(0, 0, 600, 600);
    context.drawImage(image, 0, 0, 600, 600);
    const pixels = context.getImageData(0, 0, 600, 600);
    const found = window.jsQR(pixels.data, pixels.width, pixels.height);
    return found ? found.data : null;
  }, selector);
}
