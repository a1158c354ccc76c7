// @sigstore/core re-encodes a parsed certificate to DER on every comparison and signature check (most of the time
// spent verifying a bundle). A parsed ASN.1 object is never changed after parsing, so its encoding is computed once
// and kept beside it: the same bytes are compared and verified, only not rebuilt. Each call gets its own copy, as
// from the original: a caller may change the bytes it gets (@sigstore/core retags a timestamp's signed attributes
// in place before checking their signature), and that must never reach the kept encoding.
import { ASN1Obj } from '@sigstore/core';

const encodings = new WeakMap<ASN1Obj, Buffer>();
let installed = false;

/** Memoizes ASN1Obj.toDER for the verifier (idempotent). */
export function cacheDerEncodings(): void {
  if (installed) return;
  installed = true;
  const encode = ASN1Obj.prototype.toDER;
  ASN1Obj.prototype.toDER = function toDER(this: ASN1Obj): Buffer {
    let der = encodings.get(this);
    if (der === undefined) {
      der = encode.call(this);
      encodings.set(this, der);
    }
    return Buffer.from(der);
  };
}
