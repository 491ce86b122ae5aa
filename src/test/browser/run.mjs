// Headless Chromium checks of the try-it page and the admin dashboard.
//
//   node run.mjs --base http://127.0.0.1:8787 [--scenario tryit|admin|phone|all|apikey] [--admin-password PW]
//                [--api-key KEY] [--chromium /usr/bin/chromium] [--screenshots DIR]
//
// "all" is tryit + admin + phone against an open-mode server; "apikey" needs a server started with that key.
//
// Prints one "PASS <check>" or "FAIL <check>: <why>" line per check and exits 0 only when all pass.
// Every wait is an event or a poll with a deadline; nothing sleeps for a fixed time.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const WAIT_MS = 10_000;
const OVERALL_MS = 120_000;
const XSS = '<img src=x onerror=alert(1)>';

const args = parseArgs(process.argv.slice(2));
const base = (args.base || '').replace(/\/+$/, '');
const scenario = args.scenario || 'all';
const results = [];

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith('--') || argv[i + 1] === undefined) throw new Error(`bad argument ${argv[i]}`);
    out[argv[i].slice(2)] = argv[i + 1];
  }
  return out;
}

async function check(name, fn) {
  try {
    await fn();
    results.push({ name, ok: true });
    console.log(`PASS ${name}`);
  } catch (e) {
    results.push({ name, ok: false });
    console.log(`FAIL ${name}: ${String(e && e.message || e).split('\n')[0]}`);
    throw e; // later checks of a scenario build on earlier ones
  }
}

function assert(condition, message) {
  if (!condition) throw new Error(message);
}

/**
 * Collects what would show a broken page: script errors, CSP violations, dialogs. With strict, also any console
 * error and any failed request or HTTP error answer (a missing favicon, a broken relative link); pages that are
 * meant to meet a 401/403 (the wrong-password and CSRF checks) are watched without it.
 */
function watch(page, label, { strict = false } = {}) {
  const problems = [];
  page.on('pageerror', (e) => problems.push(`${label}: page error ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && (strict || /Content Security Policy|Refused to/i.test(m.text()))) {
      problems.push(`${label}: console error ${m.text()}`);
    }
  });
  page.on('dialog', (d) => { problems.push(`${label}: dialog "${d.message()}"`); d.dismiss().catch(() => {}); });
  if (strict) {
    page.on('response', (r) => { if (r.status() >= 400) problems.push(`${label}: HTTP ${r.status()} for ${r.url()}`); });
    page.on('requestfailed', (r) => {
      const why = r.failure() ? r.failure().errorText : 'failed';
      // a fetch still in flight when the page navigates (the dashboard's refresh) is aborted, not broken
      if (why !== 'net::ERR_ABORTED') problems.push(`${label}: request ${r.url()} ${why}`);
    });
  }
  return problems;
}

/** Every message the page's WebSockets receive, parsed (the page's own view of the protocol). */
function recordFrames(page) {
  const frames = [];
  page.on('websocket', (ws) => ws.on('framereceived', (f) => {
    try { frames.push(JSON.parse(f.payload)); } catch (e) { /* not JSON: not ours */ }
  }));
  return frames;
}

/** Polls the recorded frames until one matches, or fails after WAIT_MS. */
async function awaitFrame(frames, what, predicate) {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const found = frames.find(predicate);
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no ${what} within ${WAIT_MS} ms (got ${frames.map((f) => f.type).join(',')})`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function screenshot(page, file) {
  if (!args.screenshots) return;
  mkdirSync(args.screenshots, { recursive: true });
  await page.screenshot({ path: join(args.screenshots, file) });
}

/** Opens the try-it page at path ("/" or "/?room=...") in a new tab and waits until it has joined. */
async function openPage(context, path, label, options) {
  const page = await context.newPage();
  const problems = watch(page, label, options);
  const frames = recordFrames(page);
  await page.goto(`${base}${path}`);
  await page.waitForSelector('html[data-flock="joined"]', { timeout: WAIT_MS });
  const userId = await page.getAttribute('#presence li.self', 'data-user-id');
  const name = await page.inputValue('#name');
  return { page, problems, frames, userId, name };
}

async function openRoom(context, room, label, options) {
  return openPage(context, `/?room=${encodeURIComponent(room)}`, label, options);
}

/** Moves the real mouse over the canvas to a point given in 0..1 coordinates. */
async function moveTo(page, x, y) {
  const box = await page.locator('#canvas').boundingBox();
  await page.mouse.move(box.x + box.width * x, box.y + box.height * y, { steps: 5 });
}

function chip(page, userId) {
  return page.locator(`#presence li[data-user-id="${userId}"]`);
}

function cursorOf(page, userId) {
  return page.locator(`#canvas .cursor[data-user-id="${userId}"]`);
}

async function tryItScenario(browser) {
  const context = await browser.newContext({ viewport: { width: 1100, height: 720 } });
  // As the README says: the plain URL, no ?room=, in two tabs. Pages of one context have separate
  // sessionStorage: two tabs, two people.
  const a = await openPage(context, '/', 'page A', { strict: true });
  const b = await openPage(context, '/', 'page B', { strict: true });
  const room = 'demo';

  await check('two tabs are two users', async () => {
    assert(a.userId && b.userId && a.userId !== b.userId, `user ids ${a.userId} / ${b.userId}`);
  });
  await check('the plain URL joins the shared default room and stays plain', async () => {
    for (const p of [a, b]) {
      assert((await p.page.textContent('#room-id')) === room, `room ${await p.page.textContent('#room-id')}`);
      assert(new URL(p.page.url()).search === '', `URL ${p.page.url()}`);
    }
    assert((await b.page.inputValue('#share-link')) === `${base}/?room=${room}`, 'share link');
  });
  await check("the second tab's join:ack lists the first tab's user", async () => {
    const ack = await awaitFrame(b.frames, 'join:ack', (f) => f.type === 'join:ack');
    assert(ack.roomId === room, `join:ack roomId ${ack.roomId}`);
    const ids = (ack.users || []).map((u) => u.userId);
    assert(ids.includes(a.userId), `join:ack users ${JSON.stringify(ids)}, want ${a.userId}`);
  });
  await check("the first tab's cursor arrives in the second", async () => {
    await moveTo(a.page, 0.25, 0.4);
    const move = await awaitFrame(b.frames, 'cursor:updated from A', (f) => f.type === 'cursor:updated' && f.userId === a.userId);
    assert(move.roomId === room, `cursor:updated roomId ${move.roomId}`);
    await cursorOf(b.page, a.userId).waitFor({ state: 'visible', timeout: WAIT_MS });
  });
  await check('open mode: no API key prompt and no notice are shown', async () => {
    assert(!(await a.page.isVisible('#key-form')), 'the API key form is visible');
    assert(!(await a.page.isVisible('#notice')), 'the notice bar is visible');
    assert((await a.page.getAttribute('#status', 'data-state')) === 'connected', 'status is connected');
  });
  await check('each page sees the other in the presence bar by name', async () => {
    await chip(a.page, b.userId).filter({ hasText: b.name }).waitFor({ timeout: WAIT_MS });
    await chip(b.page, a.userId).filter({ hasText: a.name }).waitFor({ timeout: WAIT_MS });
    await a.page.waitForFunction(() => document.getElementById('member-count').textContent === '2', null, { timeout: WAIT_MS });
  });
  await check('a cursor move shows up, labelled, on the other page', async () => {
    await moveTo(b.page, 0.3, 0.3);
    const cursor = cursorOf(a.page, b.userId);
    await cursor.waitFor({ state: 'visible', timeout: WAIT_MS });
    assert((await cursor.locator('.label').textContent()) === b.name, 'cursor label is the name');
    const before = await cursor.evaluate((el) => el.style.transform);
    await moveTo(b.page, 0.7, 0.6);
    await a.page.waitForFunction(([id, old]) => {
      const el = document.querySelector(`#canvas .cursor[data-user-id="${id}"]`);
      return el && el.style.transform !== old;
    }, [b.userId, before], { timeout: WAIT_MS });
  });
  await check('the heartbeat ack latency is shown', async () => {
    await a.page.waitForFunction(() => /\d+ ms/.test(document.getElementById('latency').textContent), null, { timeout: WAIT_MS });
  });
  await check('a name edit reaches the other page (presence:update)', async () => {
    await b.page.fill('#name', 'Renamed Bee');
    await chip(a.page, b.userId).filter({ hasText: 'Renamed Bee' }).waitFor({ timeout: WAIT_MS });
    await a.page.waitForFunction((id) => {
      const el = document.querySelector(`#canvas .cursor[data-user-id="${id}"] .label`);
      return el && el.textContent === 'Renamed Bee';
    }, b.userId, { timeout: WAIT_MS });
  });
  await moveTo(a.page, 0.5, 0.5);
  await cursorOf(b.page, a.userId).waitFor({ state: 'visible', timeout: WAIT_MS });
  await screenshot(a.page, 'try-it.png');

  await check('navigating away (pagehide) removes the user from the other page', async () => {
    const c = await openRoom(context, room, 'page C');
    await chip(a.page, c.userId).waitFor({ timeout: WAIT_MS });
    await c.page.goto('about:blank');
    await chip(a.page, c.userId).waitFor({ state: 'detached', timeout: WAIT_MS });
    await c.page.close();
  });
  await check('closing a tab removes its user and cursor from the other page', async () => {
    await b.page.close();
    await chip(a.page, b.userId).waitFor({ state: 'detached', timeout: WAIT_MS });
    await cursorOf(a.page, b.userId).waitFor({ state: 'detached', timeout: WAIT_MS });
  });
  await check('"New private room" gives a random room that its share link opens, away from the default room', async () => {
    const lobby = await openPage(context, '/', 'lobby page', { strict: true });
    await chip(lobby.page, a.userId).waitFor({ timeout: WAIT_MS });
    await Promise.all([a.page.waitForURL(/\?room=demo-[0-9a-z]{6}$/, { timeout: WAIT_MS }), a.page.click('#private-room')]);
    await a.page.waitForSelector('html[data-flock="joined"]', { timeout: WAIT_MS });
    const privateRoom = await a.page.textContent('#room-id');
    assert(/^demo-[0-9a-z]{6}$/.test(privateRoom), `private room ${privateRoom}`);
    assert((await a.page.getAttribute('#presence li.self', 'data-user-id')) === a.userId, 'same user after the switch');
    await chip(lobby.page, a.userId).waitFor({ state: 'detached', timeout: WAIT_MS }); // left the default room
    const shareLink = await a.page.inputValue('#share-link');
    assert(shareLink === `${base}/?room=${privateRoom}`, `share link ${shareLink}`);
    const friend = await openPage(context, shareLink.slice(base.length), 'friend page', { strict: true });
    assert((await friend.page.textContent('#room-id')) === privateRoom, 'the share link opens the private room');
    await chip(friend.page, a.userId).waitFor({ timeout: WAIT_MS });
    await chip(a.page, friend.userId).waitFor({ timeout: WAIT_MS });
    await moveTo(friend.page, 0.6, 0.6);
    await cursorOf(a.page, friend.userId).waitFor({ state: 'visible', timeout: WAIT_MS });
    assert((await lobby.page.locator(`#presence li[data-user-id="${friend.userId}"]`).count()) === 0,
      'the default room sees the private room\'s user');
    a.problems.push(...lobby.problems, ...friend.problems);
    await friend.page.close();
    await lobby.page.close();
  });
  await check('no script error, CSP violation, dialog, console error or failed request (favicon) on the pages', async () => {
    const problems = [...a.problems, ...b.problems];
    assert(problems.length === 0, problems.join('; '));
  });
  await context.close();
}

async function adminScenario(browser) {
  assert(args['admin-password'], '--admin-password is required for the admin scenario');
  const members = await browser.newContext({ viewport: { width: 1100, height: 720 } });
  const victim = await openRoom(members, XSS, 'member page');
  const bystander = await openRoom(members, `lobby-${Date.now().toString(36)}`, 'lobby page');

  await check('the try-it page shows a hostile room id and name as text', async () => {
    assert((await victim.page.textContent('#room-id')) === XSS, 'room id text');
    await victim.page.fill('#name', XSS); // reaches the server as a presence:update
    await victim.page.locator('#presence li.self', { hasText: XSS }).waitFor({ timeout: WAIT_MS });
    assert((await victim.page.locator('img').count()) === 0, 'an img element was created');
  });

  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const problems = watch(page, 'admin');

  await check('admin: a wrong password is refused', async () => {
    await page.goto(`${base}/admin`);
    await page.fill('#password', 'not-the-password');
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST', { timeout: WAIT_MS }),
      page.click('button[type=submit]'),
    ]);
    assert(response.status() === 401, `status ${response.status()}`);
    await page.locator('#login-error').waitFor({ timeout: WAIT_MS });
    assert((await context.cookies()).every((c) => c.name !== 'flock_admin' || c.value === ''), 'no session cookie');
  });
  await check('admin: the right password logs in', async () => {
    await signIn(page, args['admin-password']);
    const cookie = (await context.cookies()).find((c) => c.name === 'flock_admin');
    assert(cookie && cookie.httpOnly && cookie.sameSite === 'Strict', `cookie ${JSON.stringify(cookie)}`);
  });
  await check('admin: a hostile room id and name render as text', async () => {
    await page.locator('code.room-id', { hasText: XSS }).waitFor({ timeout: WAIT_MS });
    await page.locator('.member .name', { hasText: XSS }).waitFor({ timeout: WAIT_MS });
    assert((await page.locator('img').count()) === 0, 'an img element was created');
  });
  await check('admin: a POST without the CSRF token is refused', async () => {
    const status = await page.evaluate((room) => fetch('api/admin/close-room', {
      method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'roomId=' + encodeURIComponent(room),
    }).then((r) => r.status), XSS);
    assert(status === 403, `status ${status}`);
    assert((await victim.page.getAttribute('html', 'data-flock')) === 'joined', 'the member is still in the room');
  });
  await screenshot(page, 'admin.png');
  await check('admin: closing a room sends its members ROOM_CLOSED', async () => {
    const row = page.locator('tr.room').filter({ has: page.locator('code.room-id', { hasText: XSS }) });
    // the form posts and redirects back to /admin (the URL it is on): the row going away is the wait
    await row.locator('button', { hasText: 'Close room' }).click();
    await victim.page.waitForSelector('html[data-flock="closed"]', { timeout: WAIT_MS });
    await victim.page.locator('#notice', { hasText: 'closed' }).waitFor({ timeout: WAIT_MS });
    await page.locator('code.room-id', { hasText: XSS }).waitFor({ state: 'detached', timeout: WAIT_MS });
    assert((await bystander.page.getAttribute('html', 'data-flock')) === 'joined', 'another room was left alone');
  });
  await check('admin: no script ran, no dialog, no CSP violation', async () => {
    const all = [...problems, ...victim.problems, ...bystander.problems];
    assert(all.length === 0, all.join('; '));
  });
  await context.close();
  await members.close();
}

const PHONE = { width: 390, height: 844 };

/**
 * Fails when the page is wider than the phone's screen (a sideways scroll). Measures only once the current document
 * has loaded: before admin.css applies, the rooms table is a plain five-column table wider than any phone.
 */
async function assertNoHorizontalOverflow(page) {
  await page.waitForLoadState('load', { timeout: WAIT_MS });
  const width = await page.evaluate(() => document.scrollingElement.scrollWidth);
  assert(width <= PHONE.width, `the page is ${width} px wide on a ${PHONE.width} px screen`);
}

/**
 * Signs in on the admin login page and waits for the dashboard document to load. The form posts to /admin and
 * its redirect lands on /admin again, so waitForURL(/admin) matches the login page's own URL at once and would
 * let the next step measure a half-loaded dashboard (CI once saw it 410 px wide, admin.css not yet applied):
 * wait for an element only the dashboard has, then for that document's load event.
 */
async function signIn(page, password) {
  await page.fill('#password', password);
  await page.click('button[type=submit]');
  await page.locator('#rooms').waitFor({ state: 'attached', timeout: WAIT_MS });
  await page.waitForLoadState('load', { timeout: WAIT_MS });
}

async function phoneAdminScenario(browser) {
  assert(args['admin-password'], '--admin-password is required for the phone scenario');
  const members = await browser.newContext({ viewport: { width: 1100, height: 720 } });
  // a long id and name: what used to push the table, and "Close room" with it, off the screen
  const room = `a-rather-long-room-name-for-a-small-screen-${Date.now().toString(36)}`;
  const member = await openRoom(members, room, 'member page');
  await member.page.fill('#name', 'Somebody With A Long Name');

  const context = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true, deviceScaleFactor: 3 });
  const page = await context.newPage();
  const problems = watch(page, 'phone admin', { strict: true });

  await check('phone: /admin/ (trailing slash) redirects to /admin, and its stylesheet loads', async () => {
    const response = await page.goto(`${base}/admin/`);
    assert(new URL(page.url()).pathname === '/admin', `ended at ${page.url()}`);
    assert(response.status() === 200, `status ${response.status()}`);
    const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    assert(background === 'rgb(10, 10, 10)', `body background ${background}: admin.css did not load`);
    await assertNoHorizontalOverflow(page);
  });
  await check('phone: signing in shows the room', async () => {
    await signIn(page, args['admin-password']);
    await page.locator('code.room-id', { hasText: room }).waitFor({ timeout: WAIT_MS });
  });
  await check('phone: the stats grid fits the screen', async () => {
    const boxes = await page.locator('.stats .stat').evaluateAll((els) => els.map((el) => {
      const r = el.getBoundingClientRect();
      return { left: r.left, right: r.right };
    }));
    assert(boxes.length >= 4, `${boxes.length} stats`);
    const outside = boxes.filter((b) => b.left < 0 || b.right > PHONE.width);
    assert(outside.length === 0, `stats outside the screen: ${JSON.stringify(outside)}`);
    const columns = await page.evaluate(() => getComputedStyle(document.querySelector('.stats')).gridTemplateColumns.split(' ').length);
    assert(columns <= 2, `${columns} stat columns on a phone`);
  });
  await check('phone: no horizontal overflow on the dashboard', async () => {
    await assertNoHorizontalOverflow(page);
  });
  await screenshot(page, 'admin-phone.png');
  await check('phone: the rows admin.js rebuilds on its first refresh are labelled cards too', async () => {
    // the first refresh always rebuilds the rows (admin.js has no structure to compare with yet)
    await page.waitForFunction(() => /updated/.test(document.getElementById('refresh-state').textContent), null, { timeout: WAIT_MS });
    const labels = await page.locator('tr.room').filter({ has: page.locator('code.room-id', { hasText: room }) })
      .locator('td[data-label]').evaluateAll((tds) => tds.map((td) => td.getAttribute('data-label')));
    assert(JSON.stringify(labels) === JSON.stringify(['Room', 'Users', "Who's here", 'Cursor activity']), `labels ${labels}`);
    await assertNoHorizontalOverflow(page);
  });
  await check('phone: "Close room" is visible, inside the screen and on top', async () => {
    const button = page.locator('tr.room').filter({ has: page.locator('code.room-id', { hasText: room }) })
      .locator('button', { hasText: 'Close room' });
    await button.scrollIntoViewIfNeeded();
    assert(await button.isVisible(), 'not visible');
    const box = await button.boundingBox();
    assert(box && box.x >= 0 && box.x + box.width <= PHONE.width, `button box ${JSON.stringify(box)}`);
    // reachable: nothing (a clipping card, another cell) covers its centre
    const onTop = await button.evaluate((el) => {
      const r = el.getBoundingClientRect();
      const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
      return hit === el || el.contains(hit);
    });
    assert(onTop, 'something covers the button');
  });
  await check('phone: tapping "Close room" closes the room', async () => {
    const button = page.locator('tr.room').filter({ has: page.locator('code.room-id', { hasText: room }) })
      .locator('button', { hasText: 'Close room' });
    // the form posts and redirects back to /admin (the URL it is on): the row going away is the wait
    await button.tap();
    await member.page.waitForSelector('html[data-flock="closed"]', { timeout: WAIT_MS });
    await page.locator('code.room-id', { hasText: room }).waitFor({ state: 'detached', timeout: WAIT_MS });
    await assertNoHorizontalOverflow(page);
  });
  await check('phone: no script error, console error, failed request or CSP violation', async () => {
    const all = [...problems, ...member.problems];
    assert(all.length === 0, all.join('; '));
  });
  await context.close();
  await members.close();
}

async function apiKeyScenario(browser) {
  const key = args['api-key'];
  assert(key, '--api-key is required for the apikey scenario');
  const context = await browser.newContext({ viewport: { width: 1100, height: 720 } });
  const room = `key-${Date.now().toString(36)}`;
  const page = await context.newPage();
  const problems = watch(page, 'key page');

  await check('api key: the page asks for a key instead of connecting', async () => {
    await page.goto(`${base}/?room=${room}`);
    await page.locator('#key-form').waitFor({ state: 'visible', timeout: WAIT_MS });
    assert((await page.getAttribute('html', 'data-flock')) !== 'joined', 'joined without a key');
  });
  await check('api key: a wrong key is refused and asked for again', async () => {
    await page.fill('#api-key', 'wrong-key');
    await page.click('#key-form button[type=submit]');
    await page.waitForFunction(() => {
      const form = document.getElementById('key-form');
      return !form.hidden && document.getElementById('key-error').textContent.length > 0;
    }, null, { timeout: WAIT_MS });
  });
  await check('api key: the right key joins, and the share link does not carry it', async () => {
    await page.fill('#api-key', key);
    await page.click('#key-form button[type=submit]');
    await page.waitForSelector('html[data-flock="joined"]', { timeout: WAIT_MS });
    assert(!(await page.inputValue('#share-link')).includes(key), 'the share link carries the key');
    assert(!(await page.content()).includes(key), 'the key is in the DOM');
  });
  await check('api key: ?apiKey= in the page URL connects without asking', async () => {
    const other = await context.newPage();
    problems.push(...watch(other, 'apiKey URL page'));
    await other.goto(`${base}/?room=${room}&apiKey=${encodeURIComponent(key)}`);
    await other.waitForSelector('html[data-flock="joined"]', { timeout: WAIT_MS });
    assert(!(await other.isVisible('#key-form')), 'the key form is visible');
    await page.waitForFunction(() => document.getElementById('member-count').textContent === '2', null, { timeout: WAIT_MS });
  });
  await check('api key: no script error or CSP violation', async () => {
    // The refused upgrade itself is logged by Chromium as a failed WebSocket, not a CSP error.
    assert(problems.length === 0, problems.join('; '));
  });
  await context.close();
}

async function main() {
  assert(/^https?:\/\//.test(base), '--base http://host:port is required');
  const browser = await chromium.launch({
    executablePath: args.chromium || '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_FLAGS, // Playwright adds a fresh, empty user-data-dir of its own
  });
  try {
    if (scenario === 'tryit' || scenario === 'all') await tryItScenario(browser);
    if (scenario === 'admin' || scenario === 'all') await adminScenario(browser);
    if (scenario === 'phone' || scenario === 'all') await phoneAdminScenario(browser);
    if (scenario === 'apikey') await apiKeyScenario(browser);
  } finally {
    await browser.close();
  }
}

const deadline = setTimeout(() => {
  console.log(`FAIL overall: not done within ${OVERALL_MS} ms`);
  process.exit(3);
}, OVERALL_MS);

main().then(() => {
  clearTimeout(deadline);
  const failed = results.filter((r) => !r.ok).length;
  console.log(`SUMMARY ${results.length - failed} passed, ${failed} failed`);
  process.exit(failed === 0 && results.length > 0 ? 0 : 1);
}, (e) => {
  clearTimeout(deadline);
  if (!results.some((r) => !r.ok)) console.log(`FAIL setup: ${String(e && e.message || e).split('\n')[0]}`);
  console.log(`SUMMARY ${results.filter((r) => r.ok).length} passed, ${results.filter((r) => !r.ok).length || 1} failed`);
  process.exit(1);
});
