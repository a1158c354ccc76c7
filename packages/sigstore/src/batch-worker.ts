// The entry of the worker threads verifyEvidenceBatch starts: each builds the trust material once and verifies the
// chunks of bundle files it is sent (batch.ts). It is an entry of its own, bundled beside each bundle that can start a
// batch (scripts/build.mjs), so that no other entry (the CLI, an action) ever runs in a worker thread.
import { workerData } from 'node:worker_threads';
import { serveBatch } from './batch';

if (!serveBatch(workerData)) {
  process.stderr.write('batch-worker: a worker thread of twokey verify; it is not a command of its own\n');
  process.exitCode = 2;
}
