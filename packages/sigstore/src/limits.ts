/**
 * The largest bundle file twokey reads: 16 MiB. A Sigstore bundle is a few kilobytes; a DSSE bundle holding
 * provenance for the 1024 subjects the build action allows stays well under 1 MiB. Anything larger is refused
 * before it is parsed, so a hostile file cannot exhaust memory.
 */
export const MAX_BUNDLE_BYTES = 16 * 1024 * 1024;

/** The largest trusted root or key file twokey reads: 4 MiB. */
/** A JSON Lines file of bundles (`gh attestation download`): many bundles, each line within MAX_BUNDLE_BYTES. */
export const MAX_JSONL_BYTES = 256 * 1024 * 1024;
/**
 * Lines of such a file: a bundle is a few kilobytes, so 256 MiB holds far fewer; a file of newlines would otherwise
 * make more lines than a JavaScript array can hold (a fatal error, not an exit code).
 */
export const MAX_JSONL_LINES = 1024 * 1024;

export const MAX_TRUST_FILE_BYTES = 4 * 1024 * 1024;
