import { isBatchWorker } from '@twokey/sigstore';
import { run } from './cli';

// In a worker thread of a large batch this bundle only serves the batch (@twokey/sigstore's batch module).
if (!isBatchWorker) {
  run(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr }).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`twokey: internal error: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 2;
    },
  );
}
