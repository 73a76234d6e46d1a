/**
 * The files that run the retraining job on a schedule: the GitHub Actions workflow, the trainer's
 * Dockerfile (and its documented GPU variant) and the Kubernetes CronJob, parsed and checked for
 * what makes them work: the schedule, the credentials' source, the command and its flags (each one
 * a declared option of `reelrank retrain`), exit code 3 handled as a warning, the report uploaded.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import retrainCommand from '../../../train/cli/commands/retrain.ts';
import { REPO_ROOT } from '../../support/data.ts';

const read = (path: string) => readFileSync(join(REPO_ROOT, path), 'utf8');
const declared = new Set(Object.keys((retrainCommand as { args: Record<string, unknown> }).args));
/** The `--flag`s of a command line, each checked against the retrain command's declared options. */
function flagsOf(command: string): string[] {
  return [...command.matchAll(/(?:^|\s)--([a-z][\w-]*)/g)].map((m) => m[1]!);
}

describe('the GitHub Actions workflow (.github/workflows/retrain.yml)', () => {
  const workflow = parse(read('.github/workflows/retrain.yml')) as {
    on: { schedule: { cron: string }[] };
    jobs: Record<string, { env: Record<string, string>; steps: Record<string, unknown>[] }>;
  };
  const job = workflow.jobs.retrain!;

  it('runs on a cron schedule with R2 credentials from repository secrets', () => {
    expect(workflow.on.schedule[0]!.cron).toMatch(/^[\d*/,-]+( [\d*/,-]+){4}$/);
    expect(job.env.AWS_ACCESS_KEY_ID).toBe('${{ secrets.R2_ACCESS_KEY_ID }}');
    expect(job.env.AWS_SECRET_ACCESS_KEY).toBe('${{ secrets.R2_SECRET_ACCESS_KEY }}');
    expect(job.env.AWS_ENDPOINT_URL).toMatch(/secrets\./);
  });

  it('caches npm, runs retrain --events with declared flags, warns on exit 3 and uploads the report', () => {
    const setup = job.steps.find((s) => String(s.uses).startsWith('actions/setup-node'))!;
    expect(setup.with).toMatchObject({ 'node-version': 20, cache: 'npm' });
    const run = job.steps.find((s) => s.id === 'retrain')!.run as string;
    expect(run).toMatch(/npx reelrank retrain /);
    const flags = flagsOf(run.split('\n').find((l) => l.includes('reelrank retrain'))!);
    expect(flags).toEqual(expect.arrayContaining(['to', 'events', 'json']));
    for (const flag of flags) expect(declared, `--${flag}`).toContain(flag);
    expect(run).toMatch(/if \[ "\$code" -eq 3 \]; then\s+echo "::warning/);
    expect(run).toMatch(/exit 0\s+fi\s+exit "\$code"/);
    const upload = job.steps.find((s) => String(s.uses).startsWith('actions/upload-artifact'))!;
    expect(upload.if).toBe('always()');
    expect(String((upload.with as { path: string }).path)).toMatch(/report\.html/);
  });
});

describe('the trainer Dockerfile', () => {
  const dockerfile = read('Dockerfile');

  it('builds on Node 20 slim, installs from the lockfile and runs the CLI', () => {
    expect(dockerfile).toMatch(/^ARG BASE=node:20-slim$/m);
    expect(dockerfile).toMatch(/^FROM \$\{BASE\}$/m);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["node", "bin\/reelrank\.mjs"\]$/m);
    for (const [, path] of dockerfile.matchAll(/^COPY (\S+) /gm)) {
      for (const part of path!.split(/\s+/)) expect(existsSync(join(REPO_ROOT, part)), part).toBe(true);
    }
  });

  it('documents the GPU variant: tfjs-node-gpu on a CUDA base image', () => {
    expect(dockerfile).toMatch(/--build-arg BASE=nvidia\/cuda:11\.2[\w.-]*cudnn8/);
    expect(dockerfile).toMatch(/@tensorflow\/tfjs-node-gpu@4\.22\.0/);
    const pinned = JSON.parse(read('package.json')).optionalDependencies['@tensorflow/tfjs-node-gpu'];
    expect(dockerfile).toContain(`tfjs-node-gpu@${pinned}`);
  });
});

describe('the Kubernetes CronJob (deploy/k8s/retrain-cronjob.yaml)', () => {
  const cron = parse(read('deploy/k8s/retrain-cronjob.yaml')) as {
    apiVersion: string;
    kind: string;
    spec: {
      schedule: string;
      concurrencyPolicy: string;
      jobTemplate: {
        spec: {
          backoffLimit: number;
          template: {
            spec: {
              restartPolicy: string;
              containers: {
                args: string[];
                env: { name: string; valueFrom?: { secretKeyRef: { name: string } } }[];
              }[];
            };
          };
        };
      };
    };
  };

  it('is a batch/v1 CronJob that never overlaps and runs retrain --events once per schedule', () => {
    expect(cron).toMatchObject({ apiVersion: 'batch/v1', kind: 'CronJob' });
    expect(cron.spec.schedule).toMatch(/^[\d*/,-]+( [\d*/,-]+){4}$/);
    expect(cron.spec.concurrencyPolicy).toBe('Forbid');
    const job = cron.spec.jobTemplate.spec;
    expect(job.backoffLimit).toBe(0); // exit 3 (refused) is final, not retried
    expect(job.template.spec.restartPolicy).toBe('Never');
    const container = job.template.spec.containers[0]!;
    expect(container.args[0]).toBe('retrain');
    const flags = container.args.filter((a) => a.startsWith('--')).map((a) => a.slice(2));
    expect(flags).toEqual(expect.arrayContaining(['to', 'events']));
    for (const flag of flags) expect(declared, `--${flag}`).toContain(flag);
    const secretEnv = container.env.filter((e) => e.valueFrom?.secretKeyRef).map((e) => e.name);
    expect(secretEnv.sort()).toEqual(['AWS_ACCESS_KEY_ID', 'AWS_ENDPOINT_URL', 'AWS_SECRET_ACCESS_KEY']);
  });
});
