import { describe, expect, it } from 'vitest';
import { CodedError, describeError } from './error';

class ExampleError extends CodedError<'EXAMPLE_FAILED'> {
  override readonly name = 'ExampleError';
}

describe('describeError', () => {
  it('puts a coded error on one line as CODE: message, and any other error or value as its message', () => {
    expect(describeError(new ExampleError('EXAMPLE_FAILED', 'policy.yml: review.min-approvals: not a number'))).toBe(
      'EXAMPLE_FAILED: policy.yml: review.min-approvals: not a number',
    );
    expect(describeError(new Error('plain'))).toBe('plain');
    expect(describeError('a string')).toBe('a string');
    expect(describeError(undefined)).toBe('undefined');
  });

  it('keeps the code and the name of the subclass', () => {
    const error = new ExampleError('EXAMPLE_FAILED', 'm', { cause: 'c' });
    expect(error).toBeInstanceOf(CodedError);
    expect(error).toMatchObject({ code: 'EXAMPLE_FAILED', name: 'ExampleError', cause: 'c' });
  });
});
