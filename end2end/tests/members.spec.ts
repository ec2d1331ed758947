import { expect, test } from "@playwright/test";
import {
  portalAccount,
  signInToPortal,
  DEMO,
  DEMO_PASSWORD,
  expectNoA11yViolations,
  linkIn,
  openLatestMessage,
  projectName,
  signInAsStaff,
  trackConsoleErrors,
  waitForHydration,
} from "./helpers";

// Members keeping their own records from the portal, and staff finding and editing a member.
// `.ci/e2e-server` seeds portal1@guildhall.test … portal20@guildhall.test (demo password), each a
// paid-up member; every test here takes its own account per project so desktop and phone runs never
// share one.



test("a member corrects their address: a bad postcode is refused by the field, a good one saved", async ({ page }) => {
  const errors = trackConsoleErrors(page);
  await signInToPortal(page, portalAccount(1));
  await expectNoA11yViolations(page);
  await page.getByRole("link", { name: "Change your name, address or phone number" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Your details" })).toBeVisible();
  await waitForHydration(page);
  await expectNoA11yViolations(page);

  await page.getByLabel("Address line 1").fill("22 Canal Wharf");
  await page.getByLabel("Postcode").fill("LS1 ZZZ");
  await page.getByRole("button", { name: "Save your details" }).click();
  const summary = page.getByRole("alert");
  await expect(summary.getByText("There is a problem")).toBeVisible();
  const link = summary.getByRole("link").first();
  await expect(link).toHaveAttribute("href", "#postcode");
  await expect(page.locator("#postcode")).toHaveAttribute("aria-invalid", "true");
  await expectNoA11yViolations(page);

  await page.getByLabel("Postcode").fill("ls11 5dl");
  await page.getByRole("button", { name: "Save your details" }).click();
  await expect(page.getByText("Your details have been saved.")).toBeVisible();
  await page.getByRole("link", { name: "Change your name, address or phone number" }).click();
  await expect(page.getByLabel("Postcode")).toHaveValue("LS11 5DL");
  await expect(page.getByLabel("Address line 1")).toHaveValue("22 Canal Wharf");
  expect(errors).toEqual([]);
});

test("a member changes their email address with their password and the link sent to the new one", async ({ page }) => {
  const errors = trackConsoleErrors(page);
  const old = portalAccount(2);
  const fresh = `new-${Date.now().toString(36)}-${projectName()}@example.test`;
  await signInToPortal(page, old);
  await page.getByRole("link", { name: "Change your email address" }).click();
  await waitForHydration(page);
  await expectNoA11yViolations(page);
  await page.getByLabel("New email address").fill(fresh);
  await page.getByLabel("Your password").fill("not my password");
  await page.getByRole("button", { name: "Send confirmation link" }).click();
  await expect(page.getByRole("alert").getByRole("link", { name: "Your password is not right" })).toBeVisible();
  await page.getByLabel("Your password").fill(DEMO_PASSWORD);
  await page.getByRole("button", { name: "Send confirmation link" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Check your new email address" })).toBeVisible();

  const message = await openLatestMessage(page, fresh, { subject: "Confirm your new email address" });
  await page.goto(linkIn(message, "/confirm-email"));
  await waitForHydration(page);
  await expectNoA11yViolations(page);
  await page.getByRole("button", { name: "Confirm my new email address" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Email address changed" })).toBeVisible();
  await openLatestMessage(page, old, { subject: "The email address for your account has changed" });

  await page.goto("/portal");
  await waitForHydration(page);
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page.getByText("You have signed out.")).toBeVisible();
  await signInToPortal(page, fresh);
  await expect(page.getByText(fresh)).toBeVisible();
  expect(errors).toEqual([]);
});

test("a member downloads everything held about them as a JSON file", async ({ page }) => {
  const errors = trackConsoleErrors(page);
  await signInToPortal(page, DEMO.member);
  const downloading = page.waitForEvent("download");
  await page.getByRole("link", { name: "Download your data" }).click();
  const download = await downloading;
  expect(download.suggestedFilename()).toBe("guildhall-my-data.json");
  const path = await download.path();
  const fs = await import("node:fs/promises");
  const data = JSON.parse(await fs.readFile(path, "utf8"));
  expect(data.account.email).toBe(DEMO.member);
  expect(data.membership.details.family_name).toBe("Taylor");
  expect(data.membership.periods.length).toBeGreaterThan(0);
  expect(errors).toEqual([]);
});

test("a member resigns at the end of their period after a confirmation page", async ({ page }) => {
  const errors = trackConsoleErrors(page);
  const email = portalAccount(3);
  await signInToPortal(page, email);
  await page.getByRole("link", { name: "Resign" }).click();
  await waitForHydration(page);
  await expectNoA11yViolations(page);
  await page.getByRole("button", { name: "Continue" }).click();
  // The error is on the question page itself, which still asks the question.
  await expect(page.getByRole("alert").getByText("Choose when your resignation should take effect")).toBeVisible();
  await expect(page.getByRole("heading", { level: 1, name: "Resign your membership" })).toBeVisible();
  await expect(page).toHaveTitle(/^Error: /);
  await page.getByLabel(/At the end of my current period/).check();
  await page.getByRole("button", { name: "Continue" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Are you sure you want to resign?" })).toBeVisible();
  await expect(page.getByText(/You will remain a member until/)).toBeVisible();
  await expectNoA11yViolations(page);
  await page.getByRole("button", { name: "Resign my membership" }).click();
  await expect(page.getByText("Your resignation has been recorded.")).toBeVisible();
  await expect(page.getByText(/You have resigned\. Your membership ends on/)).toBeVisible();
  // Resigned: no way to resign again.
  await expect(page.getByRole("link", { name: "Resign" })).toHaveCount(0);
  await expectNoA11yViolations(page);
  await openLatestMessage(page, email, { subject: "Your resignation" });
  expect(errors).toEqual([]);
});

test("staff find a member by part of the surname and by postcode, edit them and see it on the timeline", async ({ page }) => {
  const errors = trackConsoleErrors(page);
  await signInAsStaff(page, DEMO.officer);
  await page.getByRole("link", { name: "Members", exact: true }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Members" })).toBeVisible();
  await waitForHydration(page);
  await expectNoA11yViolations(page);

  const box = page.getByLabel("Find a member");
  await box.pressSequentially("tayl");
  await expect(page.getByRole("link", { name: "GH0000001" })).toBeVisible();
  await expectNoA11yViolations(page);
  await box.fill("");
  await box.pressSequentially("YO1 7");
  await expect(page.getByRole("link", { name: "GH0000001" })).toBeVisible();
  await page.getByRole("link", { name: "GH0000001" }).click();
  await expect(page.getByRole("heading", { level: 1, name: /Sam Taylor/ })).toBeVisible();
  await waitForHydration(page);
  await expectNoA11yViolations(page);

  const phone = projectName() === "phone" ? "07700 900222" : "07700 900111";
  await page.getByRole("link", { name: "Change details" }).click();
  await waitForHydration(page);
  await expectNoA11yViolations(page);
  await page.getByLabel("Phone number (optional)").fill(phone);
  await page.getByRole("button", { name: "Save changes" }).click();
  await expect(page.getByText("The member's details were saved.")).toBeVisible();
  const timeline = page.locator(".timeline");
  const latest = timeline.locator(".timeline__item").first();
  await expect(latest).toContainText("Details changed");
  // The number as the officer typed it.
  await expect(latest).toContainText(phone);
  await expect(latest).toContainText(DEMO.officer);

  await page.getByLabel("Note").fill(`Called about the journal (${projectName()})`);
  await page.getByRole("button", { name: "Add note" }).click();
  await expect(page.getByText("The note was added.")).toBeVisible();
  await expect(timeline.locator(".timeline__item").first()).toContainText(`Called about the journal (${projectName()})`);
  await expectNoA11yViolations(page);
  expect(errors).toEqual([]);
});

test("a visitor checks the public register by name and sees only name, town, category and number", async ({ page }) => {
  const errors = trackConsoleErrors(page);
  await page.goto("/register");
  await waitForHydration(page);
  await expectNoA11yViolations(page);
  await page.getByLabel("Name, town or membership number").fill("taylor");
  await page.getByRole("button", { name: "Search" }).click();
  const row = page.getByRole("row", { name: /Sam Taylor/ });
  await expect(row).toBeVisible();
  await expect(row).toContainText("York");
  await expect(row).toContainText("Registered");
  await expect(row).toContainText("GH0000001");
  await expect(page.getByText(DEMO.member)).toHaveCount(0);
  await expectNoA11yViolations(page);
  expect(errors).toEqual([]);
});
