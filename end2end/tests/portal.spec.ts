import { expect, test, type Browser, type Page } from "@playwright/test";
import {
  portalAccount,
  signInToPortal,
  DEMO_PASSWORD,
  expectNoA11yViolations,
  trackConsoleErrors,
  waitForHydration,
} from "./helpers";

// The member portal on a phone: nothing a member types is lost when a form is refused (with
// JavaScript and without it), errors are seen, radios and checkboxes are easy to tap, the
// preferences page saves all it shows, and nothing personal is shown again after signing out.
// Each test takes its own seeded portal account (portal4… for desktop, portal14… for phone).



/** Signs in through the plain form, in a browser context without JavaScript. */
async function signInNoJs(browser: Browser, email: string): Promise<Page> {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto("/sign-in");
  await page.getByLabel("Email address").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(DEMO_PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/portal/);
  return page;
}

async function expectNoHorizontalScroll(page: Page) {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow, "no horizontal scroll").toBeLessThanOrEqual(0);
}

test("without JavaScript, a refused form comes back with what was typed, and the fix saves what the member meant", async ({ browser }) => {
  const page = await signInNoJs(browser, portalAccount(4));
  await page.goto("/portal/details");
  await expect(page.getByRole("heading", { level: 1, name: "Your details" })).toBeVisible();
  await page.getByLabel("Town or city").fill("Hebden Bridge");
  await page.getByLabel("Postcode").fill("NOT A POSTCODE");
  await page.getByRole("button", { name: "Save your details" }).click();

  // The page again, at its own address (no error blob), with the member's typing and the error.
  await expect(page.getByText("There is a problem")).toBeVisible();
  expect(page.url()).not.toContain("__err");
  expect(new URL(page.url()).pathname).toBe("/portal/details");
  await expect(page).toHaveTitle(/^Error: Your details/);
  await expect(page.getByLabel("Town or city")).toHaveValue("Hebden Bridge");
  await expect(page.getByLabel("Postcode")).toHaveValue("NOT A POSTCODE");
  await expect(page.locator(".error-summary")).toBeFocused();
  await expect(page.locator(".error-summary").getByRole("link")).toHaveAttribute("href", "#postcode");
  // (axe runs scripts in the page, so the same page is scanned in the JavaScript test below.)

  // Reloading shows the stored details again: the refused post was shown once.
  await page.getByLabel("Postcode").fill("HX7 8AD");
  await page.getByRole("button", { name: "Save your details" }).click();
  await expect(page.getByText("Your details have been saved.")).toBeVisible();
  await page.goto("/portal/details");
  await expect(page.getByLabel("Town or city")).toHaveValue("Hebden Bridge");
  await expect(page.getByLabel("Postcode")).toHaveValue("HX7 8AD");
  await page.context().close();
});

test("with JavaScript, a refused form keeps the typing, focuses the error summary and its links focus the field", async ({ page }) => {
  const errors = trackConsoleErrors(page);
  await signInToPortal(page, portalAccount(5));
  await page.goto("/portal/details");
  await waitForHydration(page);
  await page.getByLabel("First name").fill("");
  await page.getByLabel("Town or city").fill("Todmorden");
  await page.getByLabel("Postcode").fill("nowhere");
  await page.getByRole("button", { name: "Save your details" }).click();

  const summary = page.locator(".error-summary");
  await expect(summary).toBeFocused();
  await expect(page).toHaveTitle(/^Error: /);
  // In the order of the form, each saying what to do.
  await expect(summary.getByRole("link")).toHaveText(["Enter a first name", /postcode/i]);
  await expect(page.getByLabel("Town or city")).toHaveValue("Todmorden");
  await expect(page.getByLabel("Postcode")).toHaveValue("nowhere");
  await summary.getByRole("link", { name: "Enter a first name" }).click();
  await expect(page.getByLabel("First name")).toBeFocused();
  await expectNoA11yViolations(page);
  expect(errors).toEqual([]);
});

test("the preferences page saves both its parts, and its rows are easy to tap on a 320 px screen", async ({ page }) => {
  const errors = trackConsoleErrors(page);
  await page.setViewportSize({ width: 320, height: 640 });
  await signInToPortal(page, portalAccount(6));
  await page.goto("/portal/preferences");
  await waitForHydration(page);
  await expectNoHorizontalScroll(page);
  await expectNoA11yViolations(page);

  // Every radio and checkbox: a row at least 44 px tall, the label beside the control, not under it.
  const rows = page.locator(".checkbox");
  const count = await rows.count();
  expect(count).toBeGreaterThanOrEqual(4);
  for (let i = 0; i < count; i++) {
    const row = rows.nth(i);
    const box = await row.boundingBox();
    const control = await row.locator("input").boundingBox();
    const label = await row.locator("label").boundingBox();
    expect(box && control && label, "row, control and label are shown").toBeTruthy();
    if (!box || !control || !label) continue;
    expect(box.height).toBeGreaterThanOrEqual(44);
    expect(control.width).toBeGreaterThanOrEqual(40);
    expect(label.x).toBeGreaterThanOrEqual(control.x + control.width);
    expect(label.height).toBeGreaterThanOrEqual(44);
  }

  const post = page.getByLabel("Send me the journal by post");
  const news = page.getByLabel("Email me news and events");
  const wantPost = !(await post.isChecked());
  const wantNews = !(await news.isChecked());
  await post.setChecked(wantPost);
  await news.setChecked(wantNews);
  await page.getByLabel("No, do not list me").check();
  await page.getByRole("button", { name: "Save your choices" }).click();
  await expect(page.getByText("Your choices about how we contact you have been saved.")).toBeVisible();

  await page.goto("/portal/preferences");
  await waitForHydration(page);
  await expect(page.getByLabel("Send me the journal by post")).toBeChecked({ checked: wantPost });
  await expect(page.getByLabel("Email me news and events")).toBeChecked({ checked: wantNews });
  await expect(page.getByLabel("No, do not list me")).toBeChecked();
  expect(errors).toEqual([]);
});

test("after signing out, going back shows nothing personal", async ({ page }) => {
  await signInToPortal(page, portalAccount(7));
  await page.goto("/portal/details");
  await waitForHydration(page);
  const town = await page.getByLabel("Town or city").inputValue();
  expect(town.length).toBeGreaterThan(0);
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page.getByText("You have signed out.")).toBeVisible();
  await page.goBack();
  await expect(page).toHaveURL(/\/sign-in/);
  await expect(page.getByLabel("Town or city")).toHaveCount(0);
  await expect(page.getByText(portalAccount(7))).toHaveCount(0);
});

test("the skip link moves focus to the main content with JavaScript on", async ({ page }) => {
  await page.goto("/register");
  await waitForHydration(page);
  await page.keyboard.press("Tab");
  const skip = page.getByRole("link", { name: "Skip to main content" });
  await expect(skip).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(page.locator("main#main")).toBeFocused();
});

test("the portal home says what needs attention and how to reach the office", async ({ page }) => {
  await page.setViewportSize({ width: 320, height: 640 });
  await signInToPortal(page, portalAccount(8));
  await expect(page.getByTestId("money-state")).toContainText(/You owe|in credit|Nothing to pay/);
  await expect(page.getByTestId("money-state")).not.toContainText("-£");
  await expect(page.getByTestId("office-contact")).toContainText("membership@guildhall.test");
  await expect(page.getByRole("link", { name: "Resign" })).toBeVisible();
  await expectNoHorizontalScroll(page);
  await expectNoA11yViolations(page);
});

test("the public register finds people by first name and by full name, and an empty search says what to do", async ({ page }) => {
  await page.goto("/register?q=Sam%20Taylor");
  await expect(page.getByRole("table").getByText("Sam Taylor")).toBeVisible();
  await page.goto("/register?q=sam");
  await expect(page.getByRole("table").getByText("Sam Taylor")).toBeVisible();
  await page.goto("/register?q=");
  await expect(page.getByText("Enter a name, town or membership number to search the register.")).toBeVisible();
  await expectNoA11yViolations(page);
});

test("a member's pages download no staff code, the build's files are kept for a year, and the country box suggests names", async ({ page }) => {
  const errors = trackConsoleErrors(page);
  const wasm: string[] = [];
  page.on("request", (r) => {
    const path = new URL(r.url()).pathname;
    if (path.endsWith(".wasm")) wasm.push(path);
  });
  await signInToPortal(page, portalAccount(9));
  await page.goto("/portal/details");
  await waitForHydration(page);
  // The details page came in its own file; nothing of the staff area came at all.
  expect(wasm.some((p) => p.includes("details_route"))).toBe(true);
  expect(wasm.filter((p) => p.includes("staff"))).toEqual([]);
  const main = wasm.find((p) => /^\/pkg\/guildhall\.[A-Za-z0-9_-]{22}\.wasm$/.test(p));
  expect(main, "the main file is named by its hash").toBeTruthy();
  const res = await page.request.get(main!);
  expect(res.headers()["cache-control"]).toContain("immutable");

  // Once the page is interactive the country is a text box suggesting names; a name is stored as
  // its country, and one not in the list is named as the problem, keeping what was typed.
  const country = page.getByLabel("Country");
  await expect(country).toHaveAttribute("list", "country-list");
  await expect(country).toHaveValue("United Kingdom");
  await country.fill("France");
  await page.getByLabel("Postcode").fill("75001");
  await page.getByRole("button", { name: "Save your details" }).click();
  await expect(page.getByText("Your details have been saved.")).toBeVisible();
  await page.goto("/portal/details");
  await waitForHydration(page);
  await expect(page.getByLabel("Country")).toHaveValue("France");
  await page.getByLabel("Country").fill("Atlantis");
  await page.getByRole("button", { name: "Save your details" }).click();
  await expect(page.locator(".error-summary")).toContainText("Enter a country from the list");
  await expect(page.getByLabel("Country")).toHaveValue("Atlantis");
  await expectNoA11yViolations(page);
  expect(errors).toEqual([]);
});
