/**
 * `tollgate deploy REF|DIR`, `tollgate rollback`, `tollgate releases`: slot deploys under pm2 with a
 * health-gated switch and automatic rollback (src/ops/deploy.ts; deploy/RUNBOOK.md).
 */
import { Command, InvalidArgumentError } from 'commander';
import { InputError } from '../engine/wiring.ts';
import { Deployer, DeployError } from '../ops/deploy.ts';
import { Layout } from '../ops/layout.ts';
import { Pm2, Pm2Error } from '../ops/pm2.ts';

const DEFAULT_BASE = '/opt/tollgate';

function seconds(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`"${v}" is not a positive number of seconds`);
  return n;
}

function deployer(o: { base: string; readyTimeout?: number; healthUrl?: string }): Deployer {
  return new Deployer({
    layout: new Layout(o.base), pm: new Pm2(), say: (l) => process.stderr.write(l + '\n'),
    ...(o.readyTimeout !== undefined ? { readyTimeoutMs: o.readyTimeout * 1000 } : {}), ...(o.healthUrl ? { healthUrl: o.healthUrl } : {}),
  });
}

async function refused<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof DeployError || e instanceof Pm2Error) throw new InputError(e.message);
    throw e;
  }
}

const baseOption = (c: Command) => c.option('--base <dir>', 'the installation (slots/, current, shared/)', process.env.TOLLGATE_BASE ?? DEFAULT_BASE);

export function registerDeployCommands(program: Command): void {
  baseOption(program.command('deploy')
    .argument('<source>', 'a git ref of --repo (archived), or a directory (copied)')
    .description('fill the inactive slot, npm ci, smoke-check, stop the bot, switch `current` atomically, start, wait for /health/ready; not ready: roll back by itself'))
    .option('--repo <dir>', 'the git repository a ref is taken from', '.')
    .option('--reuse-node-modules <dir>', 'link this node_modules instead of running npm ci (same package-lock.json only)')
    .option('--allow-irreversible', 'allow a release that migrates the state schema (the state is backed up first; the previous release cannot open it)', false)
    .option('--restart-intake', 'also put this release into BASE/intake and restart the webhook intake (otherwise it is never restarted)', false)
    .option('--label <id>', 'the release id (default: the time)')
    .option('--ready-timeout <seconds>', 'how long the new bot may take to be ready', seconds, 120)
    .option('--health-url <url>', 'readiness URL (default: from TOLLGATE_HTTP of the env file)')
    .action((source: string, o: { base: string; repo: string; reuseNodeModules?: string; allowIrreversible: boolean; restartIntake: boolean; label?: string; readyTimeout: number; healthUrl?: string }) => refused(async () => {
      const r = await deployer(o).deploy({
        source, repo: o.repo, allowIrreversible: o.allowIrreversible, restartIntake: o.restartIntake,
        ...(o.reuseNodeModules ? { reuseNodeModules: o.reuseNodeModules } : {}), ...(o.label ? { label: o.label } : {}),
      });
      process.stdout.write(`deployed ${r.release.id} to slot ${r.slot}: ready\n`);
    }));

  baseOption(program.command('rollback').description("back to the other slot's release (only a good one), health-gated"))
    .option('--ready-timeout <seconds>', 'how long the bot may take to be ready', seconds, 120)
    .option('--health-url <url>', 'readiness URL (default: from TOLLGATE_HTTP of the env file)')
    .action((o: { base: string; readyTimeout: number; healthUrl?: string }) => refused(async () => {
      const r = await deployer(o).rollback();
      process.stdout.write(`rolled back to ${r.release.id} (slot ${r.slot}): ready\n`);
    }));

  baseOption(program.command('releases').description('the releases in the slots, which one runs, and their status'))
    .option('--json', 'as JSON', false)
    .action((o: { base: string; json: boolean }) => {
      const list = deployer(o).releases();
      if (o.json) return void process.stdout.write(JSON.stringify(list) + '\n');
      for (const r of list) {
        const m = r.release;
        process.stdout.write(`${r.current ? '*' : ' '} ${r.slot}  ${m ? `${m.id}  ${m.status}  deployed ${m.deployedAt}  from ${m.source}${m.reason ? `  (${m.reason})` : ''}` : '(empty)'}\n`);
      }
    });
}
