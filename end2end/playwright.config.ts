import { defineConfig } from "@playwright/test";

// Browser tests for Guildhall. `bash .ci/test` builds the debug site first (`cargo leptos build`),
// then runs `npx playwright test` here. Playwright starts the server itself through
// `.ci/e2e-server` (a fresh SQLite database with the demo data, on GUILDHALL_E2E_PORT, 3000 by
// default), waits until it answers, and stops it when the run ends, passed or failed.
//
// Running by hand after a build: `cd end2end && npx playwright test [file] [--project desktop]`.
// Against a server you started yourself instead: GUILDHALL_E2E_BASE_URL=http://127.0.0.1:3000.

const external = process.env.GUILDHALL_E2E_BASE_URL;
const port = Number(process.env.GUILDHALL_E2E_PORT ?? 3000);
const baseURL = external ?? `http://127.0.0.1:${port}`;
const ci = !!process.env.CI;

// Debian's Chromium (Playwright downloads no browser on these machines). Without the
// background-networking flags Chromium keeps trying hosts this closed network refuses.
const chromium = {
  browserName: "chromium" as const,
  launchOptions: {
    executablePath: process.env.GUILDHALL_CHROMIUM ?? "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  },
};

export default defineConfig({
  testDir: "./tests",
  outputDir: "./test-results",
  fullyParallel: false,
  forbidOnly: ci,
  retries: 0,
  workers: ci ? 1 : 2,
  // A debug WASM bundle is large; hydration can take a few seconds on a loaded 2-core machine.
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [["list"], ["json", { outputFile: "playwright-report/results.json" }]],
  use: {
    baseURL,
    actionTimeout: 15_000,
    navigationTimeout: 30_000,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
  },
  projects: [
    {
      name: "desktop",
      use: { ...chromium, viewport: { width: 1280, height: 800 } },
    },
    {
      name: "phone",
      use: {
        ...chromium,
        viewport: { width: 390, height: 844 },
        deviceScaleFactor: 3,
        isMobile: true,
        hasTouch: true,
      },
    },
  ],
  webServer: external
    ? undefined
    : {
        command: "bash ../.ci/e2e-server",
        url: `${baseURL}/`,
        reuseExistingServer: false,
        timeout: 120_000,
        stdout: "ignore",
        stderr: "pipe",
        gracefulShutdown: { signal: "SIGTERM", timeout: 5_000 },
        env: { GUILDHALL_E2E_PORT: String(port) },
      },
});
