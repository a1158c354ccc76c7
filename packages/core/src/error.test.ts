import { describe, expect, it } from 'vitest';
import { CodedError, describeError, EXIT_CODES, errorKindOf } from './error';

class ExampleError extends CodedError<'EXAMPLE_FAILED'> {
  readonly kind = 'usage';
  override readonly name = 'ExampleError';
}

describe('describeError', () => {
  it('puts a coded error on one line as CODE: message, and any other error or value as its message', () => {
    expect(describeError(new ExampleError('EXAMPLE_FAILED', 'policy.yml: review.min-approvals: not a number'))).toBe(
      'EXAMPLE_FAILED: policy.yml: review.min-approvals: not a number',
    );
    expect(describeError(new Error('plain'))).toBe(
      'INTERNAL_ERROR: twokey failed (this is a bug, please report it at https://github.com/twokey-dev/twokey/issues): plain',
    );
    expect(describeError('a string')).toMatch(/^INTERNAL_ERROR: twokey failed \(this is a bug.*: a string$/);
  });

  it('keeps the code and the name of the subclass', () => {
    const error = new ExampleError('EXAMPLE_FAILED', 'm', { cause: 'c' });
    expect(error).toBeInstanceOf(CodedError);
    expect(error).toMatchObject({ code: 'EXAMPLE_FAILED', name: 'ExampleError', cause: 'c' });
  });
});

describe('errorKindOf', () => {
  it("is a coded error's own kind, and internal for anything else (an exception nobody anticipated)", () => {
    expect(errorKindOf(new ExampleError('EXAMPLE_FAILED', 'm'))).toBe('usage');
    expect(errorKindOf(new TypeError("Cannot read properties of undefined (reading 'subs')"))).toBe('internal');
    expect(errorKindOf(new RangeError('Maximum call stack size exceeded'))).toBe('internal');
    expect(errorKindOf('thrown string')).toBe('internal');
    expect(EXIT_CODES).toEqual({ pass: 0, refusal: 1, usage: 2, internal: 3 });
  });
});
