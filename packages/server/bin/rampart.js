#!/usr/bin/env node
// The `rampart` command. The TypeScript sources are compiled to dist/ by `npm install`.
import { runCli } from '../dist/cli/main.js';

const io = {
  out: (line) => process.stdout.write(line + '\n'),
  err: (line) => process.stderr.write(line + '\n'),
  env: process.env,
};

const { code, stop } = await runCli(process.argv.slice(2), io);
if (stop) {
  const shutdown = async () => {
    await stop();
    process.exit(0);
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
} else {
  process.exitCode = code;
}
