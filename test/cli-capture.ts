/**
 * `tollgate ARGS` in this process, through the CLI's own entry point `main` (what bin/tollgate.js runs), with
 * stdout and stderr captured: the same code path and exit code as a process, without its start-up (seconds on
 * a loaded machine). Calls are serialised because the capture swaps the global stream writers. Used by the state,
 * holdings and PostgreSQL CLI tests.
 */
import { main } from '../src/cli/cli.ts';

export interface CliRun { code: number | null; out: string; err: string }

let queue: Promise<unknown> = Promise.resolve();

export function cliInProcess(args: string[]): Promise<CliRun> {
  const run = queue.then(async () => {
    let out = '';
    let err = '';
    const w = process.stdout.write.bind(process.stdout);
    const e = process.stderr.write.bind(process.stderr);
    process.stdout.write = ((x: string) => ((out += x), true)) as typeof process.stdout.write;
    process.stderr.write = ((x: string) => ((err += x), true)) as typeof process.stderr.write;
    try {
      return { code: await main(args), out, err };
    } finally {
      process.stdout.write = w;
      process.stderr.write = e;
    }
  });
  queue = run.catch(() => undefined);
  return run;
}
