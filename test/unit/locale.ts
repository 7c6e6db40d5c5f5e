// Runs a snippet in a fresh Node whose locale is `locale` (LANG and LC_ALL, which set Intl's default):
// a test process cannot change its own. `body` is the body of an async function that gets `load` (a
// module of src/ by its path, e.g. "audit/report.ts") and returns something JSON can carry.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const SRC = pathToFileURL(join(import.meta.dirname, "../../src/")).href;

export function inLocale(locale: string, body: string): unknown {
  const script = `const load = (path) => import(new URL(path, ${JSON.stringify(SRC)}).href);
process.stdout.write(JSON.stringify(await (async () => { ${body} })()));`;
  const run = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
    encoding: "utf8",
    env: { ...process.env, LANG: locale, LC_ALL: locale },
  });
  if (run.status !== 0) throw new Error(`node in ${locale} failed: ${run.stderr}`);
  return JSON.parse(run.stdout);
}
