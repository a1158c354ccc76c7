import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { type InputErrorCode, SigstoreInputError } from './error';

/**
 * Reads a whole (small) file, refusing directories, anything else that is not a regular file (a FIFO, a terminal, a
 * device: reading one could wait forever), unreadable paths and files over `limit` bytes (also one that grows past it
 * while read). Messages name the file as `shown` (by default its path).
 */
export function readBoundedFile(
  path: string,
  limit: number,
  code: InputErrorCode,
  what: string,
  shown: string = path,
): Buffer {
  let fd: number;
  try {
    // Non-blocking, so that opening a FIFO with no writer (a symlink in a bundle directory can point at one) or a
    // terminal returns at once; fstat then refuses it. A regular file reads the same either way.
    fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new SigstoreInputError(code, `${shown}: cannot read ${what}: ${reason}`);
  }
  try {
    const stat = fstatSync(fd);
    if (stat.isDirectory()) throw new SigstoreInputError(code, `${shown}: cannot read ${what}: it is a directory`);
    if (!stat.isFile()) {
      throw new SigstoreInputError(
        code,
        `${shown}: cannot read ${what}: it is not a regular file (a FIFO or a device)`,
      );
    }
    if (stat.size > limit) {
      throw new SigstoreInputError(
        code === 'BUNDLE_UNREADABLE' ? 'BUNDLE_TOO_LARGE' : code,
        `${shown}: ${what} is ${stat.size} bytes, over the limit of ${limit} bytes`,
      );
    }
    // Sized by the file (one byte more, to see a file that grew), grown only if it did: one read, no copy.
    let buffer = Buffer.allocUnsafe(Math.min(stat.size, limit) + 1);
    let total = 0;
    for (;;) {
      if (total === buffer.length) {
        const grown = Buffer.allocUnsafe(Math.min(2 * buffer.length, limit + 1));
        buffer.copy(grown);
        buffer = grown;
      }
      let n: number;
      try {
        n = readSync(fd, buffer, total, buffer.length - total, null);
      } catch (error) {
        throw new SigstoreInputError(code, `${shown}: cannot read ${what}: ${(error as Error).message}`);
      }
      if (n === 0) break;
      total += n;
      if (total > limit) {
        throw new SigstoreInputError(
          code === 'BUNDLE_UNREADABLE' ? 'BUNDLE_TOO_LARGE' : code,
          `${shown}: ${what} is over the limit of ${limit} bytes`,
        );
      }
    }
    return buffer.subarray(0, total);
  } finally {
    closeSync(fd);
  }
}
