import { isBatchWorker } from '@twokey/sigstore';
import { run } from './cli';
import { EXIT, internalErrorLine } from './io';

// In a worker thread of a large batch this bundle only serves the batch (@twokey/sigstore's batch module).
if (!isBatchWorker) {
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
}
