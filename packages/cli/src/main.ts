import { run } from './cli';
import { EXIT, internalErrorLine } from './io';

run(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr }).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    // run() reports every error itself; one that escapes it is a bug.
    process.stderr.write(internalErrorLine(error instanceof Error ? error.message : String(error)));
    process.exitCode = EXIT.internal;
  },
);
