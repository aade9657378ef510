// The README tour through Swagger UI in headless Chromium (Debian's, driven by
// playwright-core): register, Authorize with the OAuth2 password form, then me, create an
// agent, chat and execute, each with "Try it out"; then the execution viewer page. Any
// console error, page error or failed request fails the run.
import assert from "node:assert/strict";
import { chromium } from "playwright-core";

const base = process.env.AGENTRY_URL ?? "http://127.0.0.1:8080";
const username = `ui-${Date.now().toString(36)}`;
const password = "correct-horse-battery";

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  headless: true,
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
});
const problems = [];
try {
  const page = await browser.newPage();
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console error on ${page.url()}: ${message.text()}`);
  });
  page.on("pageerror", (error) => problems.push(`page error on ${page.url()}: ${error.message}`));
  page.on("requestfailed", (request) =>
    problems.push(`request failed: ${request.method()} ${request.url()} ${request.failure()?.errorText}`),
  );

  // networkidle: the page's own late requests (the favicon) finish before the tour starts.
  await page.goto(`${base}/docs/`, { waitUntil: "networkidle" });
  await page.locator(".information-container .title").waitFor();

  /** Opens an operation, fills it in, executes it and answers its status and JSON body. */
  async function tryOut(tag, operationId, { body, params = {} } = {}) {
    const operation = page.locator(`#operations-${tag}-${operationId}`);
    await operation.locator(".opblock-summary").first().click();
    await operation.locator(".try-out__btn").click();
    for (const [name, value] of Object.entries(params)) {
      await operation.locator(`tr[data-param-name="${name}"] input`).fill(value);
    }
    if (body !== undefined) {
      await operation.locator("textarea.body-param__text").fill(JSON.stringify(body));
    }
    await operation.locator("button.execute").click();
    const live = operation.locator(".live-responses-table tbody .response").first();
    const status = Number(await live.locator(".response-col_status").innerText());
    const text = await live.locator(".response-col_description pre").first().innerText();
    await operation.locator(".opblock-summary").first().click();
    return { status, body: text ? JSON.parse(text) : null };
  }

  // README step 2: register.
  const registered = await tryOut("auth", "register", {
    body: { email: `${username}@example.com`, username, password },
  });
  assert.equal(registered.status, 201, JSON.stringify(registered.body));

  // README step 3: Authorize with the OAuth2 password form.
  await page.locator(".auth-wrapper .authorize").click();
  const modal = page.locator(".modal-ux");
  await modal.locator("#oauth_username").fill(username);
  await modal.locator("#oauth_password").fill(password);
  await modal.getByRole("button", { name: "Apply given OAuth2 credentials" }).click();
  await modal.getByRole("button", { name: "Remove authorization" }).last().waitFor();
  await modal.locator(".btn-done").last().click();

  // Step 4: the caller.
  const me = await tryOut("users", "read_me");
  assert.equal(me.status, 200, JSON.stringify(me.body));
  assert.equal(me.body.username, username);

  // Step 5: an agent.
  const agent = await tryOut("agents", "create_agent", { body: { name: "helper", model: "echo-1" } });
  assert.equal(agent.status, 201, JSON.stringify(agent.body));

  // Step 6: chat, without `stream`: the JSON reply, not an event stream.
  const chat = page.locator("#operations-chat-post_chat_message");
  const reply = await tryOut("chat", "post_chat_message", { body: { content: "hello", agent_id: agent.body.id } });
  assert.equal(reply.status, 201, JSON.stringify(reply.body));
  assert.equal(reply.body.content, "echo: hello");
  assert.equal(await chat.count(), 1);

  // Step 7: a background run.
  const run = await tryOut("executions", "execute_agent", {
    params: { agent_id: agent.body.id },
    body: { input: "hi" },
  });
  assert.equal(run.status, 202, JSON.stringify(run.body));

  // The execution viewer page, once the docs page has no request in flight (leaving it
  // earlier aborts them, which would be reported as failed requests).
  await page.waitForLoadState("networkidle");
  await page.goto(`${base}/examples/execution-viewer.html`, { waitUntil: "networkidle" });
  console.log(`Swagger UI tour passed: ${username} ran execution ${run.body.id}`);
} finally {
  await browser.close();
}
assert.deepEqual(problems, [], problems.join("\n"));
