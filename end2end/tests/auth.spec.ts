import { expect, test } from "@playwright/test";
import {
  DEMO,
  DEMO_PASSWORD,
  expectNoA11yViolations,
  linkIn,
  openLatestMessage,
  openOutboxMessage,
  signInAsStaff,
  trackConsoleErrors,
  uniqueEmail,
  waitForHydration,
} from "./helpers";

// Journeys of the foundation: an account from registration to sign-out, a wrong password, a password
// reset, staff signing in, a member refused from the staff area, and signing in without JavaScript.
// Each page visited is scanned with axe-core; the console must stay free of errors (CSP included).

const NEW_PASSWORD = "a long new passphrase";

async function register(page: import("@playwright/test").Page, email: string, password = "correct horse battery") {
  await page.goto("/create-account");
  await waitForHydration(page);
  await expectNoA11yViolations(page);
  await page.getByLabel("First name").fill("Ada");
  await page.getByLabel("Last name").fill("Lovelace");
  await page.getByLabel("Email address").fill(email);
  await page.getByLabel("Create a password").fill(password);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Check your email" })).toBeVisible();
  await expectNoA11yViolations(page);
}

test("a person registers, confirms their address from the email, signs in and signs out", async ({ page }) => {
  const errors = trackConsoleErrors(page);
  const email = uniqueEmail("register");
  await page.goto("/");
  await expectNoA11yViolations(page);
  await register(page, email);

  const message = await openLatestMessage(page, email, { subject: "Confirm your email address" });
  await page.goto(linkIn(message, "/verify-email"));
  await waitForHydration(page);
  await expectNoA11yViolations(page);
  await page.getByRole("button", { name: "Confirm my email address" }).click();
  await expect(page.getByText("Your email address is confirmed")).toBeVisible();
  await expectNoA11yViolations(page);

  await page.getByLabel("Email address").fill(email);
  await page.getByLabel("Password", { exact: true }).fill("correct horse battery");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/portal$/);
  await expect(page.getByRole("heading", { level: 1, name: "Hello, Ada" })).toBeVisible();
  await expectNoA11yViolations(page);

  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page.getByText("You have signed out.")).toBeVisible();
  await page.goto("/portal");
  await expect(page).toHaveURL(/\/sign-in\?next=/);
  expect(errors).toEqual([]);
});

test("a wrong password is refused with a message that names no account", async ({ page }) => {
  const errors = trackConsoleErrors(page);
  await page.goto("/sign-in");
  await waitForHydration(page);
  await page.getByLabel("Email address").fill(DEMO.member);
  await page.getByLabel("Password", { exact: true }).fill("not the password");
  await page.getByRole("button", { name: "Sign in" }).click();
  const summary = page.getByRole("alert");
  await expect(summary).toContainText("There is a problem");
  await expect(summary).toContainText("Enter the email address and password for your account");
  await expect(page).toHaveURL(/\/sign-in/);
  await expectNoA11yViolations(page);

  // An empty form names each missing field.
  await page.goto("/sign-in");
  await waitForHydration(page);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert")).toContainText("Enter your email address");
  await expect(page.getByRole("alert")).toContainText("Enter your password");
  await expectNoA11yViolations(page);
  expect(errors).toEqual([]);
});

test("a forgotten password is reset through a link that works once", async ({ page }) => {
  const errors = trackConsoleErrors(page);
  const email = uniqueEmail("reset");
  await register(page, email);

  await page.goto("/sign-in");
  await page.getByRole("link", { name: "I have forgotten my password" }).click();
  await waitForHydration(page);
  await expectNoA11yViolations(page);
  await page.getByLabel("Email address").fill(email);
  await page.getByRole("button", { name: "Send reset link" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Check your email" })).toBeVisible();
  await expectNoA11yViolations(page);

  const message = await openLatestMessage(page, email, { subject: /password/i });
  const link = linkIn(message, "/reset-password");
  await page.goto(link);
  await waitForHydration(page);
  await expectNoA11yViolations(page);
  await page.getByLabel("New password", { exact: true }).fill(NEW_PASSWORD);
  await page.getByLabel("Confirm new password").fill("something else entirely");
  await page.getByRole("button", { name: "Change password" }).click();
  await expect(page.getByRole("alert")).toContainText("The passwords do not match");
  await expectNoA11yViolations(page);
  await page.getByLabel("New password", { exact: true }).fill(NEW_PASSWORD);
  await page.getByLabel("Confirm new password").fill(NEW_PASSWORD);
  await page.getByRole("button", { name: "Change password" }).click();
  await expect(page.getByText("Your password has been changed")).toBeVisible();

  await page.getByLabel("Email address").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(NEW_PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/portal$/);

  // The link has been used.
  await page.goto(link);
  await expect(page.getByRole("heading", { level: 1, name: "This link has expired" })).toBeVisible();
  await expectNoA11yViolations(page);
  expect(errors).toEqual([]);
});

test("staff sign in to the staff area and read the outbox", async ({ page }) => {
  const errors = trackConsoleErrors(page);
  await signInAsStaff(page, DEMO.officer);
  await expect(page).toHaveURL(/\/staff$/);
  await expect(page.getByRole("heading", { level: 1, name: "Overview" })).toBeVisible();
  await expectNoA11yViolations(page);
  await page.getByRole("link", { name: "Outbox", exact: true }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Outbox" })).toBeVisible();
  await expectNoA11yViolations(page);
  await page.getByRole("link", { name: "Audit trail", exact: true }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Audit trail" })).toBeVisible();
  await expectNoA11yViolations(page);
  // Officers have no staff-accounts page.
  await expect(page.getByRole("link", { name: "Staff accounts", exact: true })).toHaveCount(0);
  expect(errors).toEqual([]);
  const refused = await page.goto("/staff/admin/staff");
  expect(refused?.status()).toBe(403);
  await expect(page.getByRole("heading", { level: 1, name: "You cannot use this page" })).toBeVisible();
  await expectNoA11yViolations(page);
});

test("an admin adds a member of staff, who is invited by email", async ({ page }) => {
  const errors = trackConsoleErrors(page);
  const email = uniqueEmail("staff");
  await signInAsStaff(page, DEMO.admin);
  await page.getByRole("link", { name: "Staff accounts", exact: true }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Staff accounts" })).toBeVisible();
  await waitForHydration(page);
  await expectNoA11yViolations(page);
  await page.getByLabel("First name").fill("Kit");
  await page.getByLabel("Last name").fill("Marlowe");
  await page.getByLabel("Work email address").fill(email);
  await page.getByRole("button", { name: "Create account and send invitation" }).click();
  await expect(page.getByRole("alert")).toContainText("Choose at least one role");
  await page.getByLabel("Supervisor").check();
  await page.getByRole("button", { name: "Create account and send invitation" }).click();
  await expect(page.getByText("Account created")).toBeVisible();
  await expect(page.getByRole("cell", { name: email })).toBeVisible();
  const message = await openLatestMessage(page, email);
  expect(message).toContain("/reset-password?token=");
  // Staff reading the outbox see the message with its one-time link withheld.
  const stored = await openOutboxMessage(page, email);
  expect(stored).toContain("[one-time link withheld]");
  expect(stored).toContain("This message carries a one-time link");
  expect(stored).not.toContain("token=");
  expect(errors).toEqual([]);
});

test("a member is refused from staff pages", async ({ page }) => {
  await signInAsStaff(page, DEMO.member);
  await expect(page).toHaveURL(/\/portal$/);
  await expect(page.getByRole("heading", { level: 1, name: "Hello, Sam" })).toBeVisible();
  await expectNoA11yViolations(page);
  const res = await page.goto("/staff");
  expect(res?.status()).toBe(403);
  await expect(page.getByRole("heading", { level: 1, name: "You cannot use this page" })).toBeVisible();
  await expectNoA11yViolations(page);
});

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("a member signs in, sees an error first, then their membership", async ({ page }) => {
    await page.goto("/sign-in");
    await page.getByLabel("Email address").fill(DEMO.member);
    await page.getByLabel("Password", { exact: true }).fill("wrong password here");
    await page.getByRole("button", { name: "Sign in" }).click();
    // (axe-core needs JavaScript to run: these pages are scanned in the tests above.)
    await expect(page.getByRole("alert")).toContainText("Enter the email address and password for your account");
    await page.getByLabel("Email address").fill(DEMO.member);
    await page.getByLabel("Password", { exact: true }).fill(DEMO_PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page).toHaveURL(/\/portal$/);
    await expect(page.getByRole("heading", { level: 1, name: "Hello, Sam" })).toBeVisible();
    await page.getByRole("button", { name: "Sign out" }).click();
    await expect(page.getByText("You have signed out.")).toBeVisible();
  });
});
