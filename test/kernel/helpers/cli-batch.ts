// Runs several `ipvs` command lines in one process (node --import tsx), so that a test can run the
// CLI inside a context of its own, such as a mount namespace with its own /etc/hosts:
//   node --import tsx test/kernel/helpers/cli-batch.ts '[{"argv":[...],"stdin":"..."}, ...]'
// prints [{ code, out, err }, ...] as JSON.
import { main } from '../../../src/cli/main';

interface Run {
  argv: string[];
  stdin?: string;
}

async function runAll(runs: Run[]): Promise<{ code: number; out: string; err: string }[]> {
  const results = [];
  for (const r of runs) {
    let out = '';
    let err = '';
    const code = await main(r.argv, {
      out: (t) => { out += t; },
      err: (t) => { err += t; },
      readStdin: async () => r.stdin ?? '',
    });
    results.push({ code, out, err });
  }
  return results;
}

runAll(JSON.parse(process.argv[2] ?? '[]') as Run[]).then((r) => process.stdout.write(JSON.stringify(r)));
