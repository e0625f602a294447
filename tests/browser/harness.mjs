// What every browser test shares: numbered checks that keep going after a failure, and the
// summary line and exit status at the end.

export const results = [];

export function log(msg) {
  process.stdout.write(msg + '\n');
}

/** Runs one named check; a failure is logged with its stack and the run goes on. */
export async function check(name, fn) {
  try {
    await fn();
    results.push({ name, ok: true });
    log(`ok    ${name}`);
    return true;
  } catch (err) {
    results.push({ name, ok: false, err });
    log(`FAIL  ${name}\n      ${String(err && err.stack ? err.stack : err).split('\n').join('\n      ')}`);
    return false;
  }
}

export function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

/** Prints `{name}: N passed, M failed` and exits 1 if anything (or `fatal`) failed. */
export function finish(name, fatal) {
  const failed = results.filter((r) => !r.ok).length + (fatal ? 1 : 0);
  const passed = results.filter((r) => r.ok).length;
  log(`\n${name}: ${passed} passed, ${failed} failed`);
  process.exit(failed > 0 ? 1 : 0);
}
