import { terminalText } from '@twokey/core';
import { onContinuousIntegration, twokeyCacheDirectory, useRefreshedTrustedRoots } from '@twokey/sigstore';
import { run } from './cli';
import { EXIT, internalErrorLine } from './io';

// A reader that stops early (`twokey trusted-root | head -1`) closes the pipe: stop writing, as other CLIs do,
// rather than fail with a stack trace. The exit status stays the command's.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.stdout.destroy();
});

// The trusted roots `twokey trusted-root --refresh` kept, when newer than the embedded ones: on a user's own machine
// only. On a CI machine (GitHub Actions, anything that sets CI, or a CI system known by its own variables) the jobs of
// a self-hosted runner or a shell executor share the user and its cache, so a root kept there could have been planted
// by another job: the embedded roots are used. Each kept root a verdict rests on is named on stderr.
useRefreshedTrustedRoots(onContinuousIntegration() ? undefined : twokeyCacheDirectory(), (path) => {
  process.stderr.write(
    `note: the trusted root kept in ${terminalText(path)} by \`twokey trusted-root --refresh\` is used (newer than the embedded one; CI=true uses the embedded roots only)\n`,
  );
});

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
