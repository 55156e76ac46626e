// Headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core): the browser entry,
// loaded from a local static server (playwright gives it a fresh temporary profile), runs the shared suite (WebCrypto for the async mode).
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { vectorSets } from '../files.mjs';
import { serve } from './serve.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';
const server = await serve(root, { '/vectors.json': JSON.stringify(vectorSets()) });
const { port } = server.address();
let browser;
let code = 1;
try {
  browser = await chromium.launch({
    executablePath,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`http://127.0.0.1:${port}/test/runtimes/browser.html`);
  await page.waitForFunction(() => window.__done, null, { timeout: 180_000 });
  const done = await page.evaluate(() => window.__done);
  for (const line of done.lines) console.log(line);
  for (const e of errors) console.log(`not ok - page error: ${e}`);
  code = done.failed === 0 && errors.length === 0 ? 0 : 1;
} finally {
  await browser?.close();
  server.close();
}
process.exit(code);
