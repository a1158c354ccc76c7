// snappyjs ships no types: the two functions twokey calls (index.js exports uncompress and compress).
declare module 'snappyjs' {
  /** Throws when the uncompressed length would exceed maxLength. */
  export function uncompress<T extends ArrayBuffer | Uint8Array>(compressed: T, maxLength?: number): T;
  export function compress<T extends ArrayBuffer | Uint8Array>(uncompressed: T): T;
}
