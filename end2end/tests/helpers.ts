import { expect, test, type BrowserContext, type Page } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";
import { createHmac } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

/** Password of every demo account that `guildhall seed --demo` creates. */
export const DEMO_PASSWORD = "guildhall-demo";

/** The demo sign-ins, one per role. */
export const DEMO = {
  admin: "admin@guildhall.test",
  supervisor: "supervisor@guildhall.test",
  officer: "officer@guildhall.test",
  finance: "finance@guildhall.test",
  member: "member@guildhall.test",
} as const;

const WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];

/**
 * Runs axe-core (WCAG 2.0/2.1 A and AA rules) on the current page and fails listing each
 * violation's id with the nodes it was found on.
 */
export async function expectNoA11yViolations(
  page: Page,
  options: { include?: string; exclude?: string[]; disableRules?: string[] } = {},
): Promise<void> {
  let builder = new AxeBuilder({ page }).withTags(WCAG_TAGS);
  if (options.include) builder = builder.include(options.include);
  for (const selector of options.exclude ?? []) builder = builder.exclude(selector);
  if (options.disableRules?.length) builder = builder.disableRules(options.disableRules);
  // axe runs inside the page: never while the page is still loading or navigating (a click just
  // before may have started a navigation), or its context is destroyed under it.
  await page.waitForLoadState("load");
  let results;
  try {
    results = await builder.analyze();
  } catch (error) {
    if (!/Execution context was destroyed|navigat/i.test(String(error))) throw error;
    await page.waitForLoadState("load");
    results = await builder.analyze();
  }
  const found = results.violations.map((violation) => {
    const nodes = violation.nodes
      .map((node) => `    at ${node.target.join(" ")}\n      ${node.html.slice(0, 200)}`)
      .join("\n");
    return `${violation.id} [${violation.impact ?? "?"}] ${violation.help} (${violation.nodes.length} node(s))\n${nodes}`;
  });
  expect(found, `accessibility violations on ${page.url()}`).toEqual([]);
}

/**
 * Waits until the WASM bundle has hydrated the page: the app sets
 * `document.body.dataset.hydrated = "true"` once hydration is done. Clicks before that do nothing.
 */
export async function waitForHydration(page: Page, timeout = 30_000): Promise<void> {
  await page.locator('body[data-hydrated="true"]').waitFor({ state: "attached", timeout });
}

/**
 * Collects console errors and uncaught page errors from now on; check them with
 * `expect(errors).toEqual([])` at the end of a test.
 */
export function trackConsoleErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("console", (message) => {
    if (message.type() !== "error") return;
    const where = message.location().url;
    // A server function answering a refusal (422 field errors, 403, 409, 429) is the app working: the
    // page shows the message. Browsers still log every non-2xx fetch; only those are let through.
    if (/\/fn\//.test(where) && /status of 4\d\d/.test(message.text())) return;
    errors.push(`console: ${message.text()}${where ? ` (${where})` : ""}`);
  });
  page.on("pageerror", (error) => errors.push(`page error: ${error.message}`));
  return errors;
}

/**
 * The authenticator secret of the demo staff accounts (DEMO ONLY, as printed in the README): the
 * seed sets it up for every demo staff account, and demo accounts may use a code more than once.
 */
export const DEMO_TOTP_SECRET = "GUILDHALLDEMOSECRETDONOTUSE23456";

/** Decodes RFC 4648 base32 (no padding needed). */
function base32Decode(text: string): Buffer {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = 0;
  let value = 0;
  const out: number[] = [];
  for (const ch of text.toUpperCase().replace(/=+$/, "")) {
    const index = alphabet.indexOf(ch);
    if (index < 0) throw new Error(`not base32: ${ch}`);
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** The 6-digit TOTP code (RFC 6238: HMAC-SHA1, 30-second steps) for `secret` at `unixSeconds`. */
export function totpCode(secret: string, unixSeconds = Date.now() / 1000): string {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(unixSeconds / 30)));
  const mac = createHmac("sha1", base32Decode(secret)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return (binary % 1_000_000).toString().padStart(6, "0");
}

/**
 * Signs in through the form at /sign-in (the demo password unless given) and waits to leave it.
 * Staff (and members who turned it on) are then asked for a security code: it is answered from
 * `totpSecret` (the demo accounts' secret unless given).
 */
export async function signInAsStaff(
  page: Page,
  email: string,
  password = DEMO_PASSWORD,
  totpSecret = DEMO_TOTP_SECRET,
): Promise<void> {
  await page.goto("/sign-in");
  await waitForHydration(page);
  await page.getByLabel("Email address").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page, `signing in as ${email}`).not.toHaveURL(/\/sign-in(?:[?#]|$)/, { timeout: 15_000 });
  if (new URL(page.url()).pathname === "/sign-in/code") {
    await waitForHydration(page);
    await page.getByLabel("Security code").fill(totpCode(totpSecret));
    await page.getByRole("button", { name: "Continue" }).click();
    await expect(page, `second step for ${email}`).not.toHaveURL(/\/sign-in(?:[/?#]|$)/, { timeout: 15_000 });
  }
}

/** A fresh address for each call, unique across workers and runs. */
let emailCounter = 0;
export function uniqueEmail(prefix = "member"): string {
  const slug = prefix.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "") || "user";
  emailCounter += 1;
  const stamp = `${Date.now().toString(36)}${process.pid.toString(36)}${emailCounter}`;
  const random = Math.random().toString(36).slice(2, 6);
  return `${slug}-${stamp}${random}@example.test`;
}

// The admin's signed-in state, kept per worker so that each lookup does not sign in again.
let adminState: Awaited<ReturnType<BrowserContext["storageState"]>> | undefined;

/**
 * The newest e-mail delivered to `to`, as its recipient reads it: the server (.ci/e2e-server) has no
 * SMTP server and writes every message it delivers to a file in its mail drop (GUILDHALL_MAIL_DIR,
 * `target/e2e/mail`), one-time links included. Returns the file's text (To, Subject, Date and
 * Message-ID lines, a blank line, the plain-text body), so a test can pull a link out of it (see
 * `linkIn`). Delivery is asynchronous, so the folder is read again until a message shows up (or
 * `timeout` passes). With `subject`, only messages whose subject matches count.
 *
 * (The staff outbox never shows one-time links: see `openOutboxMessage`.)
 */
export async function openLatestMessage(
  _page: Page,
  to: string,
  options: { subject?: string | RegExp; timeout?: number } = {},
): Promise<string> {
  const deadline = Date.now() + (options.timeout ?? 15_000);
  for (;;) {
    const found = newestMail(to, options.subject);
    if (found !== undefined) return found;
    if (Date.now() > deadline) {
      throw new Error(
        `no message to ${to}${options.subject ? ` matching ${options.subject}` : ""} in the mail drop ${MAIL_DIR}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

const MAIL_DIR =
  process.env.GUILDHALL_MAIL_DIR ??
  path.join(process.env.GUILDHALL_E2E_DIR ?? path.resolve(__dirname, "..", "..", "target", "e2e"), "mail");

function newestMail(to: string, subject: string | RegExp | undefined): string | undefined {
  let names: string[];
  try {
    names = fs.readdirSync(MAIL_DIR).filter((n) => n.endsWith(".txt"));
  } catch {
    return undefined;
  }
  // Names start with the delivery time, so the newest sorts last.
  for (const name of names.sort().reverse()) {
    const text = fs.readFileSync(path.join(MAIL_DIR, name), "utf8");
    const header = (key: string) => text.match(new RegExp(`^${key}: (.*)$`, "m"))?.[1] ?? "";
    if (header("To").toLowerCase() !== to.toLowerCase()) continue;
    const subj = header("Subject");
    if (subject === undefined || (typeof subject === "string" ? subj.includes(subject) : subject.test(subj))) {
      return text;
    }
  }
  return undefined;
}

/**
 * Opens the newest message sent to `to` in the staff outbox and returns the message page's text. and returns the message page's text,
 * so a test can pull a link out of it (see `linkIn`).
 *
 * Works in a separate browser context signed in as the demo admin, so the caller's page and
 * session are untouched. Mail may be sent by a background job, so the filtered outbox is reloaded
 * until a message shows up (or `timeout` passes). With `subject`, only message links whose text
 * matches it count.
 *
 * Contract with the app: /staff/outbox has a "Recipient" search field and a "Filter" button
 * (GET /staff/outbox?to=EMAIL); messages are listed newest first, each linked at
 * /staff/outbox/<id>.
 */
export async function openOutboxMessage(
  page: Page,
  to: string,
  options: { subject?: string | RegExp; timeout?: number } = {},
): Promise<string> {
  const browser = page.context().browser();
  if (!browser) throw new Error("openLatestMessage needs a page from a launched browser");
  const context = await browser.newContext({ storageState: adminState });
  try {
    const staff = await context.newPage();
    if (adminState) await staff.goto("/staff/outbox");
    if (!adminState || new URL(staff.url()).pathname.startsWith("/sign-in")) {
      await signInAsStaff(staff, DEMO.admin);
      await staff.goto("/staff/outbox");
    }
    adminState = await context.storageState();
    await waitForHydration(staff);

    await staff.getByLabel("Recipient").fill(to);
    await staff.getByRole("button", { name: "Filter" }).click();
    await staff.waitForURL((url) => url.pathname === "/staff/outbox" && url.searchParams.get("to") === to);

    let links = staff.locator('a[href^="/staff/outbox/"]');
    if (options.subject !== undefined) links = links.filter({ hasText: options.subject });
    const deadline = Date.now() + (options.timeout ?? 15_000);
    while ((await links.count()) === 0) {
      if (Date.now() > deadline) {
        throw new Error(
          `no message to ${to}${options.subject ? ` matching ${options.subject}` : ""} in the staff outbox`,
        );
      }
      await staff.waitForTimeout(500);
      await staff.reload();
    }
    await links.first().click();
    await staff.waitForURL(/\/staff\/outbox\/[^/?#]+/);
    await staff.locator(".mail-text").waitFor();
    return await staff.locator("body").innerText();
  } finally {
    await context.close();
  }
}

/**
 * The first link in `text` (such as a message's body) whose path matches `path`, returned as path +
 * query + fragment so that `page.goto` resolves it against the tests' baseURL.
 */
export function linkIn(text: string, path: string | RegExp): string {
  for (const match of text.matchAll(/https?:\/\/[^\s"'<>]+/g)) {
    const url = new URL(match[0].replace(/[).,;:!?]+$/, ""));
    const matches = typeof path === "string" ? url.pathname.startsWith(path) : path.test(url.pathname);
    if (matches) return `${url.pathname}${url.search}${url.hash}`;
  }
  throw new Error(`no link to ${path} in:\n${text}`);
}

/** The current test's project name ("desktop" or "phone"), for layout-specific steps. */
export function projectName(): string {
  return test.info().project.name;
}

/**
 * Signs in as the officer, runs the daily membership job from /staff/jobs, waits for it to finish
 * and signs out (clears cookies). Starting the job answers with a redirect back to the page: the
 * helper waits for that navigation to finish before reading the page, so nothing it does runs in
 * the page being left (a "context destroyed" race), and the next `goto` is never interrupted by it.
 */
export async function runDailyJob(page: Page, options: { scan?: boolean } = {}): Promise<void> {
  await signInAsStaff(page, DEMO.officer);
  await page.goto("/staff/jobs");
  await expect(page.getByRole("heading", { level: 1, name: "Jobs" })).toBeVisible();
  await waitForHydration(page);
  if (options.scan) await expectNoA11yViolations(page);
  const navigated = page.waitForEvent("framenavigated", { timeout: 15_000 }).catch(() => undefined);
  await page.getByRole("button", { name: "Run the daily job now" }).click();
  await navigated;
  await page.waitForLoadState("load");
  await waitForHydration(page);
  // Another browser project may have started it a moment ago: either way, wait for it to finish.
  const row = page.getByTestId("job-row").first();
  await expect(row).toContainText("Daily membership job");
  await expect(row).toContainText("Finished", { timeout: 60_000 });
  await expect(row).toContainText(/renewals raised/);
  if (options.scan) await expectNoA11yViolations(page);
  await page.context().clearCookies();
}

/**
 * The seeded portal account `n` of this browser project: `.ci/e2e-server` seeds portal1 … portal20
 * (demo password), each a paid-up member; the desktop run takes portal1–10 and the phone run
 * portal11–20, so the two never share one.
 */
export function portalAccount(n: number): string {
  const offset = projectName() === "phone" ? 10 : 0;
  return `portal${n + offset}@guildhall.test`;
}

/** Signs a member in through /sign-in and waits for their portal to hydrate. */
export async function signInToPortal(page: Page, email: string, password = DEMO_PASSWORD): Promise<void> {
  await signInAsStaff(page, email, password);
  await expect(page).toHaveURL(/\/portal/);
  await waitForHydration(page);
}
