// picomatch ships no types: the one call twokey makes (the matcher tinyglobby itself builds for each pattern part).
declare module 'picomatch' {
  interface PicomatchOptions {
    dot?: boolean;
    posix?: boolean;
  }
  function picomatch(glob: string, options?: PicomatchOptions): (input: string) => boolean;
  export default picomatch;
}
