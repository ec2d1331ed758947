// Times the member portal on an emulated 4G phone: Chromium at 1.6 Mbit/s down, 750 kbit/s up,
// 150 ms round trips and a CPU four times slower (Lighthouse's mobile settings), with an empty
// cache each time. Prints `name value unit` lines (see .ci/bench-pages, which starts the server).
//
//   BASE_URL=http://127.0.0.1:3100 node end2end/bench/pages.mjs
import { chromium } from "@playwright/test";

const base = process.env.BASE_URL ?? "http://127.0.0.1:3100";
const runs = Number(process.env.RUNS ?? 3);
const email = process.env.BENCH_MEMBER ?? "member@guildhall.test";
const password = "guildhall-demo";

const browser = await chromium.launch({
  executablePath: process.env.GUILDHALL_CHROMIUM ?? "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking"],
});

async function signedInContext() {
  const context = await browser.newContext({
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 3,
    isMobile: true,
    hasTouch: true,
  });
  const page = await context.newPage();
  await page.goto(`${base}/sign-in`);
  await page.getByLabel("Email address").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(/\/portal/);
  return { context, page };
}

/** One cold load of `path`: milliseconds until the page is interactive (hydrated), bytes moved (all,
 * and of WebAssembly: the main file and any page's own file it loaded). */
async function coldLoad(path, { compressed }) {
  const { context, page } = await signedInContext();
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.enable");
  await cdp.send("Network.clearBrowserCache");
  await cdp.send("Network.setCacheDisabled", { cacheDisabled: true });
  if (!compressed) {
    await cdp.send("Network.setExtraHTTPHeaders", { headers: { "Accept-Encoding": "identity" } });
  }
  await cdp.send("Network.emulateNetworkConditions", {
    offline: false,
    latency: 150,
    downloadThroughput: (1.6 * 1024 * 1024) / 8,
    uploadThroughput: (750 * 1024) / 8,
  });
  await cdp.send("Emulation.setCPUThrottlingRate", { rate: 4 });
  let bytes = 0;
  let wasm = 0;
  const urls = new Map();
  cdp.on("Network.responseReceived", (e) => urls.set(e.requestId, e.response.url));
  cdp.on("Network.loadingFinished", (e) => {
    bytes += e.encodedDataLength;
    if (/\.wasm(\?|$)/.test(urls.get(e.requestId) ?? "")) wasm += e.encodedDataLength;
  });
  await page.goto(`${base}${path}`, { waitUntil: "commit" });
  await page.waitForSelector("body[data-hydrated]", { timeout: 120_000 });
  // From the start of the navigation, as the page's own clock has it.
  const ms = await page.evaluate(() => performance.now());
  await context.close();
  return { ms, bytes, wasm };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

for (const compressed of [true, false]) {
  const results = [];
  for (let i = 0; i < runs; i++) results.push(await coldLoad("/portal", { compressed }));
  const suffix = compressed ? "" : "_uncompressed";
  console.log(`portal_tti_4g${suffix} ${median(results.map((r) => r.ms)).toFixed(0)} ms`);
  console.log(`portal_transfer_4g${suffix} ${(median(results.map((r) => r.bytes)) / 1024).toFixed(0)} kB`);
  console.log(`portal_wasm_transfer_4g${suffix} ${(median(results.map((r) => r.wasm)) / 1024).toFixed(0)} kB`);
}
await browser.close();
