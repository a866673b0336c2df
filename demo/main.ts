import { runDemo } from './run.js';

/**
 * `npm run demo -- [--scenario NAME] [--transcript FILE] [--final-repo OUT_DIR] [--verbose|--quiet]` (examples/cluster-config)
 * or `npm run demo -- --repo DIR --to REVISION [--version V] …` (a copy of any config repo): the real
 * app against the simulated GitHub, printed as a user would see it. The work is in run.ts.
 */
runDemo(process.argv.slice(2), {
  out: (text) => void process.stdout.write(`${text}\n`),
  err: (text) => void process.stderr.write(`${text}\n`),
}).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`demo: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
