// The TUF roots twokey starts a refresh from (`twokey trusted-root --refresh`). The public-good one is sigstore-js's
// seed (@sigstore/tuf seeds.json); GitHub's is its TUF repository's first root as GitHub publishes it (gh embeds the
// same), from which TUF follows every newer root, each signed by a threshold of the one before.
import githubTufRoot from './roots/github-tuf-root.json' with { type: 'json' };

/** GitHub's TUF root (https://tuf-repo.github.com), version 1. */
export function githubTufRootJSON(): unknown {
  return githubTufRoot;
}
