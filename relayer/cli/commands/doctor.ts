// `isorelay doctor -c FILE [--json]`: runs the checks of app/doctor.ts (one file per concern in
// app/doctor/) and prints one ✓/✗/! line per check, grouped per chain (or the report as JSON);
// exits 1 when any check fails (warnings do not).
import { runDoctor, type DoctorCheck } from '../../app/doctor.js';
import { loadConfig } from '../../config/load.js';

const MARK: Record<DoctorCheck['severity'], string> = { ok: '✓', warn: '!', fail: '✗' };

export interface DoctorOptions {
  config: string;
  json?: boolean;
}

export async function doctorCommand(opts: DoctorOptions): Promise<void> {
  const config = loadConfig(opts.config);
  const report = await runDoctor(config, process.env);
  if (!report.ok) process.exitCode = 1;
  if (opts.json === true) {
    // DoctorReport as it is: { ok, checks: [{ group, name, ok, severity, detail }] }, no bigints.
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return;
  }
  const lines: string[] = [];
  let group: string | undefined;
  for (const c of report.checks) {
    if (c.group !== group) {
      group = c.group;
      const chain = config.chains[group];
      lines.push(`${lines.length === 0 ? '' : '\n'}${group}${chain === undefined ? '' : ` (chain id ${chain.chainId})`}`);
    }
    lines.push(`  ${MARK[c.severity]} ${c.name}: ${c.detail}`);
  }
  const failed = report.checks.filter((c) => c.severity === 'fail').length;
  const warned = report.checks.filter((c) => c.severity === 'warn').length;
  const summary = failed === 0 ? `all ${report.checks.length} checks passed` : `${failed} of ${report.checks.length} checks failed`;
  lines.push('', `doctor: ${summary}${warned === 0 ? '' : `, ${warned} warning${warned === 1 ? '' : 's'}`}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}
