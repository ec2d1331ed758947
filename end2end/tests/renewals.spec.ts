import { expect, test } from "@playwright/test";
import {
  runDailyJob,
  DEMO,
  expectNoA11yViolations,
  projectName,
  signInAsStaff,
  trackConsoleErrors,
  waitForHydration,
} from "./helpers";

// Renewals in the browser: an officer runs the daily job from the Jobs page and watches it finish; a
// member whose membership ends in 20 days (`.ci/e2e-server` seeds renew1…renew4@guildhall.test) renews
// from the portal, makes the declaration, pays by sandbox card and sees the new period at once; another
// chooses to pay monthly and pays only the first instalment, the rest to come from the saved card.


test("a member with an open renewal renews by sandbox card and sees the new period", async ({ page }) => {
  const errors = trackConsoleErrors(page);
  await runDailyJob(page, { scan: true });

  const email = projectName() === "phone" ? "renew2@guildhall.test" : "renew1@guildhall.test";
  await signInAsStaff(page, email);
  await page.goto("/portal/payments");
  await expect(page.locator(".pay-list__item", { hasText: "Renewal: Registered membership" })).toContainText("£216.00 to pay");

  await page.goto("/portal");
  await page.getByRole("link", { name: "Renew your membership" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Renew your membership" })).toBeVisible();
  await expect(page.getByText("New period", { exact: true })).toBeVisible();
  await waitForHydration(page);
  await expectNoA11yViolations(page);

  // The declaration is needed. Paying in full is the default; monthly payments are offered.
  await expect(page.getByLabel("Pay £216.00 now")).toBeChecked();
  await expect(page.getByLabel(/Pay monthly: 12 payments, £18\.00 now/)).toBeVisible();
  await page.getByRole("button", { name: "Renew and pay by card" }).click();
  await expect(page.getByRole("alert")).toContainText("Confirm the declaration to renew your membership");
  await expectNoA11yViolations(page);
  await page.getByLabel(/I confirm that I have completed/).check();
  // Automatic renewal with the card paid with, agreed to on the same page.
  await page.getByLabel("Keep this card and renew my membership automatically each year").check();
  await page.getByRole("button", { name: "Renew and pay by card" }).click();

  await expect(page).toHaveURL(/\/sandbox\/checkout\//);
  await expect(page.getByRole("heading", { level: 1, name: "Pay £216.00" })).toBeVisible();
  await waitForHydration(page);
  await page.getByLabel("Card number").fill("4242 4242 4242 4242");
  await page.getByLabel("Expiry date").fill("12/30");
  await page.getByLabel("Security code").fill("123");
  await page.getByRole("button", { name: "Pay £216.00" }).click();

  await expect(page).toHaveURL(/\/portal\/payments\/done\?checkout=/);
  await expect(page.getByRole("heading", { level: 1, name: "Payment received" })).toBeVisible();
  await expect(page.getByRole("heading", { name: "Your membership is renewed" })).toBeVisible();
  const period = await page.getByTestId("new-period").textContent();
  expect(period).toMatch(/Your new membership period: \d+ \w+ \d{4} to \d+ \w+ \d{4}\./);
  await expect(page.getByTestId("card-kept")).toContainText("We have kept your card ending 4242");
  await waitForHydration(page);
  await expectNoA11yViolations(page);

  // The portal shows the renewal date a year on, and nothing left to renew.
  await page.getByRole("link", { name: "Back to your membership" }).click();
  await expect(page.getByRole("heading", { level: 2, name: /^(Your membership|Membership)$/ })).toBeVisible();
  await expect(page.getByRole("link", { name: "Renew your membership" })).toHaveCount(0);
  const nextYear = String(new Date().getFullYear() + 1);
  await expect(page.locator(".summary-list__row", { has: page.getByText("Renewal date", { exact: true }) })).toContainText(
    new RegExp(`${nextYear}|${Number(nextYear) + 1}`),
  );

  // Automatic renewal is on with the kept card; turned off, then on again (with that card).
  await page.goto("/portal/renew");
  await waitForHydration(page);
  await expect(page.getByTestId("auto-renew-state")).toContainText("On, with your card ending 4242.");
  await expectNoA11yViolations(page);
  await page.getByRole("button", { name: "Turn off automatic renewal" }).click();
  await expect(page.getByTestId("auto-renew-state")).toContainText("Off.");
  await page.getByRole("button", { name: "Renew automatically each year" }).click();
  await expect(page.getByTestId("auto-renew-state")).toContainText("On, with your card ending 4242.");
  await page.getByRole("button", { name: "Turn off automatic renewal" }).click();
  await expect(page.getByTestId("auto-renew-state")).toContainText("Off.");
  expect(errors).toEqual([]);
});

test("a member renews paying monthly: the first instalment by sandbox card, the rest from the saved card", async ({ page }) => {
  const errors = trackConsoleErrors(page);
  await runDailyJob(page, { scan: true });

  const email = projectName() === "phone" ? "renew4@guildhall.test" : "renew3@guildhall.test";
  await signInAsStaff(page, email);
  await page.goto("/portal/renew");
  await expect(page.getByRole("heading", { level: 1, name: "Renew your membership" })).toBeVisible();
  await waitForHydration(page);
  await page.getByLabel(/Pay monthly: 12 payments, £18\.00 now, then £18\.00 a month/).check();
  await page.getByLabel(/I confirm that I have completed/).check();
  // Agreeing to the future collections is its own question: without it, nothing is taken.
  await page.getByRole("button", { name: "Renew and pay by card" }).click();
  await expect(page.locator(".error-summary")).toBeFocused();
  await expect(page.locator(".error-summary")).toContainText("Agree to the monthly payments from your card");
  await expect(page).toHaveTitle(/^Error: /);
  await page.getByLabel(/I agree that Guildhall takes each monthly payment/).check();
  await page.getByRole("button", { name: "Renew and pay by card" }).click();

  // Only the first instalment is taken now.
  await expect(page).toHaveURL(/\/sandbox\/checkout\//);
  await expect(page.getByRole("heading", { level: 1, name: "Pay £18.00" })).toBeVisible();
  await expect(page.getByText(/Instalment 1 of 12: Registered membership/)).toBeVisible();
  await waitForHydration(page);
  await page.getByLabel("Card number").fill("4242 4242 4242 4242");
  await page.getByLabel("Expiry date").fill("12/30");
  await page.getByLabel("Security code").fill("123");
  await page.getByRole("button", { name: "Pay £18.00" }).click();

  await expect(page).toHaveURL(/\/portal\/payments\/done\?checkout=/);
  await expect(page.getByRole("heading", { name: "Your membership is renewed" })).toBeVisible();
  await expect(page.getByTestId("new-period")).toContainText("Your new membership period:");

  // The renew page shows the plan: one of 12 paid, the next from the saved card; automatic renewal on.
  await page.goto("/portal/renew");
  await waitForHydration(page);
  await expect(page.getByTestId("plan-state")).toContainText("You pay monthly: 1 of 12 payments made");
  await expect(page.getByTestId("plan-state")).toContainText(/Next: £18\.00 on \d+ \w+ \d{4} from your saved card\./);
  await expect(page.getByTestId("auto-renew-state")).toContainText("card ending 4242");
  await expectNoA11yViolations(page);
  expect(errors).toEqual([]);
});

test("an admin sets the reminder days and extra bank holidays; bad input is named", async ({ page }) => {
  const errors = trackConsoleErrors(page);
  await signInAsStaff(page, DEMO.admin);
  await page.goto("/staff/admin/settings");
  await expect(page.getByRole("heading", { level: 2, name: "Renewals" })).toBeVisible();
  await waitForHydration(page);
  await expectNoA11yViolations(page);
  await page.getByLabel("Reminder days").fill("-30, soon");
  await page.getByLabel("Extra bank holidays").fill("2027-06-04");
  await page.getByRole("button", { name: "Save renewal settings" }).click();
  await expect(page.getByRole("alert")).toContainText("“soon” is not a whole number of days");
  await expectNoA11yViolations(page);
  await page.getByLabel("Reminder days").fill("-60, -30, -7, 0, 7, 21");
  await page.getByRole("button", { name: "Save renewal settings" }).click();
  await expect(page.getByText("The renewal settings have been saved.")).toBeVisible();
  await expect(page.getByLabel("Extra bank holidays")).toHaveValue("2027-06-04");
  expect(errors).toEqual([]);
});
