// Keyless signing on sigstore-js (@sigstore/sign): Fulcio certificate from an OIDC token, Rekor entry, TSA timestamp.
export {};
