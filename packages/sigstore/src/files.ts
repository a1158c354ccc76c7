import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { type InputErrorCode, SigstoreInputError } from './error';

/**
 * Reads a whole (small) file, refusing directories, unreadable paths and files over `limit` bytes (also one that
 * grows past it while read). Messages name the file as `shown` (by default its path).
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
    fd = openSync(path, 'r');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new SigstoreInputError(code, `${shown}: cannot read ${what}: ${reason}`);
  }
  try {
    const stat = fstatSync(fd);
    if (stat.isDirectory()) throw new SigstoreInputError(code, `${shown}: cannot read ${what}: it is a directory`);
    if (stat.size > limit) {
      throw new SigstoreInputError(
        code === 'BUNDLE_UNREADABLE' ? 'BUNDLE_TOO_LARGE' : code,
        `${shown}: ${what} is ${stat.size} bytes, over the limit of ${limit} bytes`,
      );
    }
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(64 * 1024);
      let n: number;
      try {
        n = readSync(fd, chunk, 0, chunk.length, null);
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
      chunks.push(chunk.subarray(0, n));
    }
    return Buffer.concat(chunks, total);
  } finally {
    closeSync(fd);
  }
}
