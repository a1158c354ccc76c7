// Runs in its own process so its peak memory is the hash's alone: twokey's artifact digest of one file, timed
// around digestFile only (a Node start is not part of hashing), then the process's peak RSS.
import { digestFile } from '@twokey/sigstore';

const file = process.argv[2];
if (!file) throw new Error('usage: hash-child FILE');
const started = performance.now();
const [digest] = digestFile(file, ['sha256']);
const ms = performance.now() - started;
// resourceUsage().maxRSS is in kilobytes (getrusage); /usr/bin/time may not exist on the machine.
const peakRssMb = process.resourceUsage().maxRSS / 1024;
process.stdout.write(`${JSON.stringify({ hex: digest!.hex, ms, peakRssMb })}\n`);
