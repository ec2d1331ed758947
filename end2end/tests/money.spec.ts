import { expect, test, type Page } from "@playwright/test";
import {
  DEMO,
  expectNoA11yViolations,
  projectName,
  signInAsStaff,
  trackConsoleErrors,
  waitForHydration,
} from "./helpers";

// Money in the browser: a manual invoice raised by an officer and authorised by a supervisor, paid by
// the member on the sandbox provider's hosted page (a declined card first); a refund that its officer
// cannot authorise and a supervisor can. Each run names its own invoice and cheque, so the desktop and
// phone runs never meet.

const run = `${Date.now().toString(36)}`;

async function signOut(page: Page): Promise<void> {
  await page.context().clearCookies();
}

async function openMoney(page: Page, query: string): Promise<void> {
  await page.goto(`/staff/members?q=${encodeURIComponent(query)}`);
  await page.getByRole("table").getByRole("link").first().click();
  await page.getByRole("link", { name: "Payments and balance" }).click();
  await expect(page.getByRole("heading", { level: 1, name: /Payments and balance/ })).toBeVisible();
  await waitForHydration(page);
}

async function authorise(page: Page, about: string): Promise<void> {
  await signInAsStaff(page, DEMO.supervisor);
  await page.goto("/staff/payments/requests");
  await expect(page.getByRole("heading", { level: 1, name: "Requests to authorise" })).toBeVisible();
  await waitForHydration(page);
  await expectNoA11yViolations(page);
  const row = page.getByRole("row", { name: new RegExp(about) });
  await row.getByRole("button", { name: /^Authorise/ }).click();
  await expect(page.getByText("The request was authorised and carried out.")).toBeVisible();
  await expect(page.getByRole("row", { name: new RegExp(about) })).toHaveCount(0);
}

test("a member pays an invoice by sandbox card and sees the receipt; a declined card leaves it open", async ({ page }) => {
  const errors = trackConsoleErrors(page);
  const what = `Workshop ${projectName()} ${run}`;

  // An officer raises a manual invoice for the demo member; a supervisor authorises it.
  await signInAsStaff(page, DEMO.officer);
  await openMoney(page, DEMO.member);
  await expectNoA11yViolations(page);
  await page.getByLabel("Request", { exact: true }).selectOption({ label: "Manual invoice" });
  await page.getByLabel("Amount, in pounds", { exact: true }).fill("12.34");
  await page.getByLabel("What a manual invoice is for").fill(what);
  await page.getByLabel("Reason").fill("Booked a CPD workshop by phone");
  await page.getByRole("button", { name: "Raise request" }).click();
  await expect(page.getByText("The request was raised. Someone else must authorise it.")).toBeVisible();
  await signOut(page);
  await authorise(page, what);
  await signOut(page);

  // The member pays it from the portal.
  await signInAsStaff(page, DEMO.member);
  await page.goto("/portal");
  await page.getByRole("link", { name: "Payments, invoices and receipts" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Payments" })).toBeVisible();
  await waitForHydration(page);
  await expectNoA11yViolations(page);
  const item = page.locator(".pay-list__item", { hasText: what });
  await expect(item).toContainText("£12.34 to pay");
  await item.getByRole("button", { name: "Pay £12.34 by card" }).click();

  // The sandbox's hosted page: a declined card first.
  await expect(page).toHaveURL(/\/sandbox\/checkout\//);
  await expect(page.getByRole("heading", { level: 1, name: "Pay £12.34" })).toBeVisible();
  await waitForHydration(page);
  await expectNoA11yViolations(page);
  await page.getByLabel("Card number").fill("4000 0000 0000 0002");
  await page.getByLabel("Expiry date").fill("12/30");
  await page.getByLabel("Security code").fill("123");
  await page.getByRole("button", { name: "Pay £12.34" }).click();
  await expect(page.getByRole("alert")).toContainText("Your card was declined. No money has been taken.");
  await expectNoA11yViolations(page);

  // The invoice is still open.
  await page.goto("/portal/payments");
  await expect(page.locator(".pay-list__item", { hasText: what })).toContainText("£12.34 to pay");
  await waitForHydration(page);
  await page.locator(".pay-list__item", { hasText: what }).getByRole("button", { name: "Pay £12.34 by card" }).click();
  await expect(page).toHaveURL(/\/sandbox\/checkout\//);
  await waitForHydration(page);
  await page.getByLabel("Card number").fill("4242 4242 4242 4242");
  await page.getByLabel("Expiry date").fill("12/30");
  await page.getByLabel("Security code").fill("123");
  await page.getByRole("button", { name: "Pay £12.34" }).click();

  // Back on Guildhall: the receipt.
  await expect(page).toHaveURL(/\/portal\/payments\/done\?checkout=/);
  await expect(page.getByRole("heading", { level: 1, name: "Payment received" })).toBeVisible();
  const receipt = page.getByRole("link", { name: /Download receipt RCT-\d+ \(PDF\)/ });
  await expect(receipt).toBeVisible();
  await waitForHydration(page);
  await expectNoA11yViolations(page);
  const href = await receipt.getAttribute("href");
  const pdf = await page.request.get(href ?? "");
  expect(pdf.status()).toBe(200);
  expect(pdf.headers()["content-type"]).toBe("application/pdf");

  await page.getByRole("link", { name: "Back to payments" }).click();
  await expect(page.locator(".pay-list__item", { hasText: what })).toHaveCount(0);
  await expect(page.getByRole("row", { name: new RegExp(`Invoice INV-\\d+.*${what}`) })).toContainText("Paid");
  expect(errors).toEqual([]);
});

test("an officer raises a refund and cannot authorise it; a supervisor can", async ({ page }) => {
  const errors = trackConsoleErrors(page);
  const cheque = `CHQ${projectName().slice(0, 1).toUpperCase()}${run.slice(-6)}`;

  await signInAsStaff(page, DEMO.officer);
  await openMoney(page, "GH0000002");
  await page.getByLabel("Method").selectOption({ label: "Cheque" });
  await page.getByLabel("Cheque number or transfer reference").fill(cheque);
  await page.getByLabel("Amount received, in pounds").fill("25.00");
  await page.getByRole("button", { name: "Record payment" }).click();
  await expect(page.getByText("The payment was recorded and a receipt emailed.")).toBeVisible();
  await waitForHydration(page);

  // A refund of more than the cheque is refused, naming the amount.
  const option = (await page.locator("#payment-select option", { hasText: cheque }).textContent()) ?? "";
  await page.getByLabel("Request", { exact: true }).selectOption({ label: "Refund" });
  await page.getByLabel("Payment to refund").selectOption({ label: option });
  await page.getByLabel("Amount, in pounds", { exact: true }).fill("30");
  await page.getByLabel("Reason").fill("Overpaid their subscription");
  await page.getByRole("button", { name: "Raise request" }).click();
  await expect(page.getByRole("alert")).toContainText("The amount must be no more than £25.00");
  await page.getByLabel("Amount, in pounds", { exact: true }).fill("5.00");
  await page.getByRole("button", { name: "Raise request" }).click();
  await expect(page.getByText("The request was raised. Someone else must authorise it.")).toBeVisible();

  // The officer sees it waiting, with no way to authorise it (the server refuses them too).
  await page.getByRole("link", { name: "Requests to authorise", exact: true }).click();
  // The page itself (its file may still be on its way while the member's money page shows).
  await expect(page.getByRole("heading", { level: 1, name: "Requests to authorise" })).toBeVisible();
  const row = page.getByRole("row", { name: new RegExp(cheque) });
  await expect(row).toContainText("You raised this; someone else must authorise it.");
  await expect(row.getByRole("button")).toHaveCount(0);
  await waitForHydration(page);
  await expectNoA11yViolations(page);
  await signOut(page);

  await authorise(page, cheque);
  await openMoney(page, "GH0000002");
  // The request is approved, and the refund is in the member's history.
  await expect(page.getByRole("row").filter({ hasText: cheque }).filter({ hasText: "Overpaid their subscription" })).toContainText("Approved by supervisor@guildhall.test");
  await expect(page.getByRole("row").filter({ hasText: `Refund of Cheque payment ${cheque}` })).toContainText("£5.00");
  expect(errors).toEqual([]);
});

test("finance reads transactions, aged debt and reconciliation", async ({ page }) => {
  const errors = trackConsoleErrors(page);
  await signInAsStaff(page, DEMO.finance);
  await page.getByRole("link", { name: "Transactions", exact: true }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Transaction history" })).toBeVisible();
  await waitForHydration(page);
  await expectNoA11yViolations(page);
  await page.getByLabel("Type").selectOption({ label: "Invoice" });
  await page.getByRole("button", { name: "Show" }).click();
  await expect(page).toHaveURL(/kind=invoice/);
  await expect(page.getByRole("link", { name: "Download as CSV" })).toHaveAttribute("href", /kind=invoice/);
  await page.getByRole("link", { name: "Aged debt", exact: true }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Aged debt" })).toBeVisible();
  await waitForHydration(page);
  await expectNoA11yViolations(page);
  await page.getByRole("link", { name: "Reconciliation", exact: true }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Reconciliation" })).toBeVisible();
  await waitForHydration(page);
  await expectNoA11yViolations(page);
  await page.getByLabel("Amount settled, in pounds").fill("not money");
  await page.getByRole("button", { name: "Save figure" }).click();
  await expect(page.getByRole("alert")).toBeVisible();
  expect(errors).toEqual([]);
});

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("a member starts a card payment and a declined card leaves the invoice open", async ({ page }) => {
    await page.goto("/sign-in");
    await page.getByLabel("Email address").fill(DEMO.member);
    await page.getByLabel("Password", { exact: true }).fill("guildhall-demo");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page).toHaveURL(/\/portal$/);
    await page.goto("/portal/payments");
    // The demo data's conference ticket is never paid by these tests.
    const item = page.locator(".pay-list__item", { hasText: "Annual conference 2027" });
    await item.getByRole("button", { name: "Pay £45.00 by card" }).click();
    await expect(page).toHaveURL(/\/sandbox\/checkout\//);
    await page.getByLabel("Card number").fill("4000 0000 0000 0002");
    await page.getByLabel("Expiry date").fill("12/30");
    await page.getByLabel("Security code").fill("123");
    await page.getByRole("button", { name: "Pay £45.00" }).click();
    await expect(page.getByRole("alert")).toContainText("Your card was declined");
    await page.goto("/portal/payments");
    await expect(page.locator(".pay-list__item", { hasText: "Annual conference 2027" })).toContainText("£45.00 to pay");
  });
});
