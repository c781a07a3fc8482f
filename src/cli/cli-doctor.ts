/**
 * `tollgate doctor`: Node, config, state DB, secret file modes, clock offset to the venue, disk space, exchange
 * reachability and pm2 status, each with what to fix (src/ops/doctor.ts). Exit 2 when any check fails (a
 * warning alone exits 0). Settings default to the env file of the installation (TOLLGATE_ENV_FILE or
 * BASE/shared/env/tollgate.env).
 */
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { renderChecks, runDoctor, type Check, type DoctorInput } from '../ops/doctor.ts';
import { readEnvFile } from '../ops/layout.ts';
import { Pm2 } from '../ops/pm2.ts';

/** The exit status of a doctor run with a failing check (as every other refusal of the CLI). */
export const DOCTOR_FAILED = 2;

export interface DoctorCommandOptions {
  readonly base: string;
  readonly envFile?: string;
  readonly config?: string;
  readonly state?: string;
  readonly url?: string;
  readonly offline: boolean;
  readonly pm2: boolean;
  readonly json: boolean;
}

/** What the command does, without printing: the checks, their text and the exit status (tests inject probes). */
export async function doctorCommand(o: DoctorCommandOptions, inject: Pick<DoctorInput, 'nodeVersion' | 'probes'> = {}): Promise<{ checks: Check[]; text: string; exitCode: number }> {
  const envFile = o.envFile ?? process.env.TOLLGATE_ENV_FILE ?? join(o.base, 'shared', 'env', 'tollgate.env');
  const env = { ...readEnvFile(envFile), ...process.env };
  // paths in the env file are relative to a release, whose ./config, ./data, ./logs are BASE/shared/*
  const inBase = (p: string | undefined) => (p === undefined ? undefined : isAbsolute(p) || !existsSync(join(o.base, 'shared')) ? p : join(o.base, 'shared', p));
  const config = o.config ?? inBase(env.TOLLGATE_CONFIG) ?? null;
  const state = o.state ?? inBase(env.TOLLGATE_STATE ?? 'data/tollgate.db') ?? null;
  const secretFiles = [
    ...(existsSync(envFile) ? [envFile] : []),
    ...['TOLLGATE_CREDENTIALS', 'TOLLGATE_HTTP_TOKEN_FILE', 'TOLLGATE_WEBHOOK_PASSPHRASE_FILE', 'TOLLGATE_WEBHOOK_HMAC_SECRET_FILE'].map((k) => env[k]).filter((v): v is string => !!v).map((v) => inBase(v)!),
  ];
  const apps = o.pm2 ? ['tollgate-bot', ...(env.TOLLGATE_INTAKE_HTTP ? ['tollgate-intake'] : []), ...(env.TOLLGATE_DASHBOARD_HTTP ? ['tollgate-dashboard'] : [])] : [];
  const pm2 = new Pm2();
  const checks = await runDoctor({
    configFile: config, stateFile: state, secretFiles,
    venueUrl: o.offline ? null : (o.url ?? env.TOLLGATE_URL ?? 'https://api.kraken.com'),
    dirs: [state ? dirname(state) : '.', inBase(env.TOLLGATE_LOGS ?? 'logs')!],
    apps,
    ...(inject.nodeVersion !== undefined ? { nodeVersion: inject.nodeVersion } : {}),
    probes: { pm2List: () => pm2.list(), ...inject.probes },
  });
  const text = o.json ? JSON.stringify(checks) : renderChecks(checks);
  return { checks, text, exitCode: checks.some((c) => c.status === 'fail') ? DOCTOR_FAILED : 0 };
}

export function registerDoctorCommand(program: Command): void {
  program
    .command('doctor')
    .description('check this installation (Node, config, state DB, secret file modes, clock offset, disk, exchange, pm2) and say what to fix; exit 2 when a check fails')
    .option('--base <dir>', 'the installation (its shared/env/tollgate.env gives the defaults)', process.env.TOLLGATE_BASE ?? '/opt/tollgate')
    .option('--env-file <file>', 'the env file (default: TOLLGATE_ENV_FILE, else BASE/shared/env/tollgate.env)')
    .option('--config <file>', 'config file (default: TOLLGATE_CONFIG)')
    .option('--state <file>', 'state database (default: TOLLGATE_STATE)')
    .option('--url <origin>', "the venue's API origin (default: TOLLGATE_URL, else https://api.kraken.com)")
    .option('--offline', 'skip the clock and exchange checks', false)
    .option('--no-pm2', 'skip the pm2 check')
    .option('--json', 'print the checks as JSON', false)
    .action(async (o: DoctorCommandOptions) => {
      const r = await doctorCommand(o);
      process.stdout.write(r.text + '\n');
      if (r.exitCode !== 0) throw new CommanderError(r.exitCode, 'tollgate.doctorFailed', 'doctor: a check failed');
    });
}
