import { runCli } from '../../src/cli/main.js';

/** Runs `rampart …` in-process and captures what a terminal would show. */
export async function rampart(args: string[], env: Record<string, string | undefined>) {
  const out: string[] = [];
  const err: string[] = [];
  const { code } = await runCli(args, { out: (l) => out.push(l), err: (l) => err.push(l), env });
  return { code, out: out.join('\n'), err: err.join('\n') };
}
