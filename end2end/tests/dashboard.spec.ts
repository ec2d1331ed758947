import { expect, test, type Page } from "@playwright/test";
import {
  runDailyJob,
  DEMO,
  DEMO_TOTP_SECRET,
  expectNoA11yViolations,
  projectName,
  signInAsStaff,
  totpCode,
  trackConsoleErrors,
  waitForHydration,
} from "./helpers";

// The live staff dashboard: finance has the overview open; a member pays their renewal by sandbox card
// in another browser; the income and the money-owed tiles change on the open page without a reload
// (server-sent events from /staff/events). Each tile links to the list behind it. The chart, the
// Trade Report and the exports work without JavaScript (axe needs JavaScript, so those pages are
// scanned in a test of their own).
// `.ci/e2e-server` seeds renew5@ and renew6@guildhall.test for this file.


test("the dashboard changes when a member pays, without a reload", async ({ page, browser }) => {
  const errors = trackConsoleErrors(page);
  await runDailyJob(page);

  await signInAsStaff(page, DEMO.finance);
  await page.goto("/staff");
  await expect(page.getByRole("heading", { level: 1, name: "Overview" })).toBeVisible();
  await waitForHydration(page);
  await expect(page.getByTestId("live-state")).toContainText("Live", { timeout: 15_000 });
  await expectNoA11yViolations(page);
  const income = page.getByTestId("tile-income");
  const owed = page.getByTestId("tile-outstanding");
  await expect(income).toContainText("Income this month");
  const incomeBefore = (await income.locator(".tile__figure").textContent()) ?? "";
  const owedBefore = (await owed.locator(".tile__figure").textContent()) ?? "";
  // Mark the page: a reload would lose this.
  await page.evaluate(() => {
    (window as unknown as { stillHere: boolean }).stillHere = true;
  });

  // The member pays in another browser.
  const other = await browser.newContext();
  const member = await other.newPage();
  const email = projectName() === "phone" ? "renew6@guildhall.test" : "renew5@guildhall.test";
  await signInAsStaff(member, email);
  await member.goto("/portal/renew");
  await waitForHydration(member);
  await member.getByLabel(/I confirm that I have completed/).check();
  await member.getByRole("button", { name: "Renew and pay by card" }).click();
  await expect(member).toHaveURL(/\/sandbox\/checkout\//);
  await waitForHydration(member);
  await member.getByLabel("Card number").fill("4242 4242 4242 4242");
  await member.getByLabel("Expiry date").fill("12/30");
  await member.getByLabel("Security code").fill("123");
  await member.getByRole("button", { name: "Pay £216.00" }).click();
  await expect(member.getByRole("heading", { name: "Your membership is renewed" })).toBeVisible();
  await other.close();

  // The open dashboard follows, with no reload.
  await expect(income.locator(".tile__figure")).not.toHaveText(incomeBefore, { timeout: 10_000 });
  await expect(owed.locator(".tile__figure")).not.toHaveText(owedBefore, { timeout: 10_000 });
  expect(await page.evaluate(() => (window as unknown as { stillHere?: boolean }).stillHere)).toBe(true);

  // Tiles lead to their lists.
  await page.getByTestId("tile-status-active").getByRole("link").click();
  await expect(page.getByRole("heading", { level: 1, name: "Members: Active" })).toBeVisible();
  await expect(page.getByRole("status")).toContainText(/\d+ members?\./);
  await waitForHydration(page);
  await expectNoA11yViolations(page);
  expect(errors).toEqual([]);
});

test("the 52-week chart and the weekly Trade Report work without JavaScript and download as CSV", async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await signInAsStaffNoJs(page, DEMO.finance);
  await page.goto("/staff");
  await expect(page.getByTestId("weekly-chart")).toBeVisible();
  await expect(page.getByTestId("weekly-chart").locator("polyline")).toHaveCount(4);
  await expect(page.getByTestId("weekly-table").locator("tbody tr")).toHaveCount(52);

  await page.goto("/staff/reports/trade");
  await expect(page.getByTestId("trade-heading")).toContainText(/Trade Report: Monday|Trade Report: \d+ \w+ \d{4} to/);
  await expect(page.getByTestId("trade-memberships").locator("tfoot")).toContainText("All categories");
  await expect(page.getByTestId("trade-income")).toContainText("Net");
  await page.getByLabel("Week containing").fill("2026-01-07");
  await page.getByRole("button", { name: "Show the week" }).click();
  await expect(page.getByTestId("trade-heading")).toContainText("5 January 2026 to 11 January 2026");
  const download = page.waitForEvent("download");
  await page.getByRole("link", { name: "Download as CSV" }).click();
  const file = await download;
  expect(file.suggestedFilename()).toBe("trade-report-2026-01-05.csv");
  await context.close();
});

async function signInAsStaffNoJs(page: Page, email: string): Promise<void> {
  await page.goto("/sign-in");
  await page.getByLabel("Email address").fill(email);
  await page.getByLabel("Password", { exact: true }).fill("guildhall-demo");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).not.toHaveURL(/\/sign-in(?:[?#]|$)/, { timeout: 15_000 });
  // Staff: the second step, answered from the demo authenticator.
  await expect(page).toHaveURL(/\/sign-in\/code$/);
  await page.getByLabel("Security code").fill(totpCode(DEMO_TOTP_SECRET));
  await page.getByRole("button", { name: "Continue" }).click();
  await expect(page).not.toHaveURL(/\/sign-in(?:[/?#]|$)/, { timeout: 15_000 });
}

test("an officer downloads the mailing house's renewal documents; bad input is named; the file is recorded", async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await signInAsStaffNoJs(page, DEMO.officer);
  await page.goto("/staff/exports");
  await expect(page.getByRole("heading", { level: 1, name: "Exports for the mailing house and the publisher" })).toBeVisible();
  await page.getByLabel("Membership ends in (YYYY-MM)").fill("next month");
  await page.getByRole("button", { name: "Download renewal documents" }).click();
  await expect(page.getByRole("alert")).toContainText("Enter the month as YYYY-MM");
  const month = new Date().toISOString().slice(0, 7);
  await page.getByLabel("Membership ends in (YYYY-MM)").fill(month);
  const download = page.waitForEvent("download");
  await page.getByRole("button", { name: "Download renewal documents" }).click();
  const file = await download;
  expect(file.suggestedFilename()).toBe(`renewal-documents-${month}.csv`);
  await page.goto("/staff/exports");
  await expect(page.getByTestId("exports-made")).toContainText("Renewal documents for the mailing house");
  await expect(page.getByTestId("exports-made")).toContainText("officer@guildhall.test");
  await context.close();
});

test("the reports and the exports page pass the accessibility scan", async ({ page }) => {
  const errors = trackConsoleErrors(page);
  await signInAsStaff(page, DEMO.finance);
  for (const path of ["/staff/reports/trade", "/staff/reports/trends"]) {
    await page.goto(path);
    await waitForHydration(page);
    await expect(page.locator("table").first()).toBeVisible();
    await expectNoA11yViolations(page);
  }
  await expect(page.getByTestId("trends-categories")).toContainText("Renewal rate and attrition by category");
  await page.context().clearCookies();
  await signInAsStaff(page, DEMO.officer);
  await page.goto("/staff/exports");
  await waitForHydration(page);
  await expectNoA11yViolations(page);
  expect(errors).toEqual([]);
});
