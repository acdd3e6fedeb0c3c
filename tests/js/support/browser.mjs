// What the real-browser tests share: Debian's Chromium (never a downloaded one), the flags
// this machine's closed network needs, and a static server with the right MIME types.
import { createServer } from "node:http";
import { cpSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { extname, join, normalize, sep } from "node:path";
import { pathToFileURL } from "node:url";
import { installed } from "../lib/npm-cache.mjs";

export const CHROMIUM = "/usr/bin/chromium";
export const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync"];
export const PLAYWRIGHT = "playwright-core@1.65.1";

const TYPES = { ".html": "text/html", ".js": "text/javascript", ".mjs": "text/javascript", ".wasm": "application/wasm", ".css": "text/css", ".json": "application/json" };

/** Serves `root` on a free 127.0.0.1 port; resolves to `{ url, server }`. */
export async function serveStatic(root) {
  const s = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url, "http://x").pathname);
    const file = normalize(join(root, path.endsWith("/") ? path + "index.html" : path));
    try {
      if (!file.startsWith(root.replace(/\/$/, "") + sep)) throw new Error("outside root");
      const body = await readFile(file);
      res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream", "cache-control": "max-age=3600" }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise((resolve, reject) => s.once("error", reject).listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${s.address().port}/`, server: s };
}

export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms).unref());
}

/** A copy of the page fixture `fixture` with the package beside it (`pkg/`, a link to
 * `pkg`), served on localhost, and a headless Chromium on a fresh profile: `{ url, site,
 * context }`. `prepare(site)` adds files before serving; what undoes each part goes onto
 * `cleanup`, to run in reverse. */
export async function fixtureInChromium({ fixture, pkg, name, cleanup, prepare }) {
  const site = mkdtempSync(join(tmpdir(), `athanor-${name}-`));
  const profile = mkdtempSync(join(tmpdir(), `athanor-${name}-profile-`));
  cleanup.push(() => rmSync(site, { recursive: true, force: true }), () => rmSync(profile, { recursive: true, force: true }));
  cpSync(fixture, site, { recursive: true });
  symlinkSync(pkg, join(site, "pkg"));
  prepare?.(site);
  const { url, server } = await serveStatic(site);
  cleanup.push(() => server.close());
  const { chromium } = await import(pathToFileURL(join(installed(PLAYWRIGHT), "node_modules/playwright-core/index.mjs")).href);
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, args: CHROMIUM_ARGS.filter((a) => a !== "--headless"), headless: true });
  cleanup.push(() => Promise.race([context.close(), sleep(5_000)]).catch(() => {}));
  return { url, site, context };
}
