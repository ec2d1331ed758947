import { expect, test } from "@playwright/test";
import {
  DEMO,
  expectNoA11yViolations,
  linkIn,
  openLatestMessage,
  projectName,
  signInAsStaff,
  trackConsoleErrors,
  waitForHydration,
} from "./helpers";

// The office's own records: categories (admins), members and organisations added by staff with their
// representatives, and erasure of personal data (supervisors). Each run uses names and addresses of
// its own (per project and per run), so desktop and phone runs never meet.

const run = Date.now().toString(36);

test("an admin adds a category, a bad fee is named by its field, then retires it", async ({ page }) => {
  const errors = trackConsoleErrors(page);
  const code = `F${projectName() === "phone" ? "P" : "D"}${run.slice(-6).toUpperCase()}`;
  const name = `Fellow ${code}`;
  await signInAsStaff(page, DEMO.admin);
  await page.getByRole("link", { name: "Categories", exact: true }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Membership categories" })).toBeVisible();
  await expect(page.getByRole("link", { name: "Registered", exact: true })).toBeVisible();
  await waitForHydration(page);
  await expectNoA11yViolations(page);

  await page.getByRole("link", { name: "Add a category" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Add a category" })).toBeVisible();
  await waitForHydration(page);
  await expectNoA11yViolations(page);
  await page.getByLabel("Name", { exact: true }).fill(name);
  await page.getByLabel("Code", { exact: true }).fill(code);
  await page.getByLabel("Eligibility criteria").fill("Ten years in practice and a contribution to the profession.");
  await page.getByLabel("Annual fee, in pounds").fill("three hundred");
  await page.getByLabel("12 monthly instalments").check();
  await page.getByLabel("On the same date every year").check();
  await page.getByLabel("Day (fixed date only)").fill("1");
  await page.getByLabel("Month (fixed date only)").fill("10");
  await page.getByRole("button", { name: "Save category" }).click();
  const summary = page.getByRole("alert");
  await expect(summary.getByRole("link", { name: /Enter an amount in pounds and pence/ })).toHaveAttribute("href", "#annual_fee");
  await expect(page.locator("#annual_fee")).toHaveAttribute("aria-invalid", "true");
  await expectNoA11yViolations(page);

  await page.getByLabel("Annual fee, in pounds").fill("300");
  await page.getByRole("button", { name: "Save category" }).click();
  await expect(page.getByText(`Category ${code} saved.`)).toBeVisible();
  const row = page.getByRole("row", { name: new RegExp(name) });
  await expect(row).toContainText("£300.00");
  await expect(row).toContainText("12 monthly");
  await expect(row).toContainText("Each year on 1 October");
  await expect(row).toContainText("Open");

  await row.getByRole("link", { name }).click();
  await expect(page.getByRole("heading", { level: 1, name: `Change ${name}` })).toBeVisible();
  await expect(page.getByLabel("Annual fee, in pounds")).toHaveValue("300.00");
  await waitForHydration(page);
  await page.getByRole("button", { name: "Retire category" }).click();
  await expect(page.getByText("Category retired.")).toBeVisible();
  await expect(page.getByRole("row", { name: new RegExp(name) })).toContainText("Retired");
  expect(errors).toEqual([]);
});

test("an officer adds an organisation and a representative, who chooses a password and acts for it", async ({ page }) => {
  const errors = trackConsoleErrors(page);
  const org = `Calder Counselling ${run} ${projectName()}`;
  const repEmail = `rep-${run}-${projectName()}@example.test`;
  await signInAsStaff(page, DEMO.officer);
  await page.goto("/staff/members");
  await waitForHydration(page);
  await page.getByRole("link", { name: "Add a member" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Add a member" })).toBeVisible();
  await waitForHydration(page);
  await expectNoA11yViolations(page);

  await page.getByLabel("An organisation").check();
  await page.getByLabel("Category").selectOption({ label: "Organisational (local voluntary) (organisations)" });
  await page.getByLabel("Paid by cheque").check();
  await page.getByLabel("Organisation name (organisations only)").fill(org);
  await page.getByLabel("Email address").fill(`office-${run}-${projectName()}@calder.example`);
  await page.getByLabel("Address line 1").fill("4 Wharf Street");
  await page.getByLabel("Town or city").fill("Sowerby Bridge");
  await page.getByLabel("Postcode").fill("HX6 ZZZ");
  await page.getByRole("button", { name: "Add member" }).click();
  await expect(page.getByRole("alert").getByRole("link", { name: /postcode/i })).toHaveAttribute("href", "#postcode");
  await expectNoA11yViolations(page);
  await page.getByLabel("Postcode").fill("HX6 2AB");
  await page.getByRole("button", { name: "Add member" }).click();
  await expect(page.getByText("The member was added.")).toBeVisible();
  await expect(page.getByRole("heading", { level: 1, name: new RegExp(org) })).toBeVisible();
  await expect(page.getByText("No one acts for this organisation yet.")).toBeVisible();
  await waitForHydration(page);
  await expectNoA11yViolations(page);

  await page.getByText("Add a representative").click();
  await page.getByLabel("Their email address").fill(repEmail);
  await page.getByLabel("First name (for a new account)").fill("Cara");
  await page.getByLabel("Last name (for a new account)").fill("Chair");
  await page.getByLabel("Job title (optional)").fill("Chair of trustees");
  await page.getByRole("button", { name: "Add representative" }).click();
  await expect(page.getByText("The representative was added and emailed.")).toBeVisible();
  await expect(page.locator(".links")).toContainText("Cara Chair");
  await expect(page.locator(".timeline__item").first()).toContainText("Representative added");

  const message = await openLatestMessage(page, repEmail, { subject: /You can now act for/ });
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page.getByText("You have signed out.")).toBeVisible();
  await page.goto(linkIn(message, "/reset-password"));
  await waitForHydration(page);
  await page.getByLabel("New password", { exact: true }).fill("a long new password");
  await page.getByLabel("Confirm new password").fill("a long new password");
  await page.getByRole("button", { name: "Change password" }).click();
  await expect(page.getByText("Your password has been changed")).toBeVisible();
  await page.getByLabel("Email address").fill(repEmail);
  await page.getByLabel("Password", { exact: true }).fill("a long new password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/portal$/);
  // Their own account has no membership: the page says how to join, not a dead end.
  await expect(page.getByRole("heading", { level: 2, name: "You are not a member yet" })).toBeVisible();
  await page.getByRole("link", { name: org }).click();
  await expect(page.getByRole("heading", { level: 1, name: org })).toBeVisible();
  // Every page acting for the organisation says so above its heading.
  await expect(page.getByTestId("acting-for")).toContainText(org);
  await page.getByRole("link", { name: "Change the organisation's details" }).click();
  // The details page itself (its file may still be on its way while the portal's layout shows).
  await expect(page.getByRole("heading", { level: 1, name: "Your organisation's details" })).toBeVisible();
  await expect(page.getByTestId("acting-for")).toContainText(org);
  await page.goBack();
  await expect(page.getByText("Active")).toBeVisible();
  await expectNoA11yViolations(page);
  expect(errors).toEqual([]);
});

test("a supervisor erases a member's personal data after typing the membership number", async ({ page }) => {
  const errors = trackConsoleErrors(page);
  const family = `Eraseme${run}${projectName()}`;
  await signInAsStaff(page, DEMO.supervisor);
  await page.goto("/staff/members/new");
  await waitForHydration(page);
  await page.getByLabel("Category").selectOption({ label: "Registered" });
  await page.getByLabel("First name").fill("Edith");
  await page.getByLabel("Last name").fill(family);
  await page.getByLabel("Email address").fill(`${family.toLowerCase()}@example.test`);
  await page.getByLabel("Address line 1").fill("7 Quiet Lane");
  await page.getByLabel("Town or city").fill("Hebden Bridge");
  await page.getByLabel("Postcode").fill("HX7 8AA");
  await page.getByRole("button", { name: "Add member" }).click();
  await expect(page.getByText("The member was added.")).toBeVisible();
  const heading = await page.getByRole("heading", { level: 1 }).innerText();
  const number = heading.match(/GH\d{7}/)?.[0] ?? "";
  expect(number).not.toBe("");
  await waitForHydration(page);

  await page.getByRole("link", { name: "Erase personal data" }).click();
  await expect(page.getByRole("heading", { level: 1, name: /Erase the personal data of Edith/ })).toBeVisible();
  await waitForHydration(page);
  await expectNoA11yViolations(page);
  await page.getByLabel(/To confirm, type the membership number/).fill("GH0000000");
  await page.getByRole("button", { name: "Erase personal data" }).click();
  await expect(page.getByRole("alert").getByRole("link", { name: new RegExp(`Type the membership number ${number}`) })).toBeVisible();
  await expectNoA11yViolations(page);
  await page.getByLabel(/To confirm, type the membership number/).fill(number);
  await page.getByRole("button", { name: "Erase personal data" }).click();
  await expect(page.getByText("The member's personal data was erased.")).toBeVisible();
  await expect(page.getByRole("heading", { level: 1, name: /Erased member/ })).toBeVisible();
  await expect(page.getByText(/Personal data erased .* by supervisor@guildhall.test/)).toBeVisible();
  await expect(page.getByText(family)).toHaveCount(0);
  await expect(page.getByRole("link", { name: "Change details" })).toHaveCount(0);

  await page.goto(`/staff/members?q=${family.toLowerCase()}`);
  await expect(page.getByText(/No members match/)).toBeVisible();
  expect(errors).toEqual([]);
});

test("officers are not offered erasure and cannot open the erasure page", async ({ page }) => {
  await signInAsStaff(page, DEMO.officer);
  await page.goto("/staff/members/GH0000001");
  await expect(page.getByRole("heading", { level: 1, name: /Sam Taylor/ })).toBeVisible();
  await expect(page.getByRole("link", { name: "Erase personal data" })).toHaveCount(0);
  await page.goto("/staff/members/GH0000001/erase");
  await expect(page.getByRole("button", { name: "Erase personal data" })).toHaveCount(0);
});

test("anyone reads what is kept, why and for how long", async ({ page }) => {
  const errors = trackConsoleErrors(page);
  await page.goto("/");
  await page.getByRole("link", { name: "How we use and keep your data" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "How we use and keep your data" })).toBeVisible();
  await expect(page.getByRole("row", { name: /Payments, invoices and refunds/ })).toContainText("6 years");
  await waitForHydration(page);
  await expectNoA11yViolations(page);
  expect(errors).toEqual([]);
});

test("finance staff find members but are not offered adding one", async ({ page }) => {
  await signInAsStaff(page, DEMO.finance);
  await page.goto("/staff/members");
  await expect(page.getByRole("heading", { level: 1, name: "Members" })).toBeVisible();
  await waitForHydration(page);
  await expect(page.getByRole("link", { name: "Add a member" })).toHaveCount(0);
  await signInAsStaff(page, DEMO.officer);
  await page.goto("/staff/members");
  await expect(page.getByRole("link", { name: "Add a member" })).toBeVisible();
});
