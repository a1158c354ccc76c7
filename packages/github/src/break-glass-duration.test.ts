// The break-glass stage's duration accepts up to ten digits and a unit; ten digits of days (9999999999d) end past what
// a date can hold, and writing the window threw a RangeError: an internal error (exit 3) for a mistyped input, which is
// a usage error (exit 2) naming the input. Found by the review of times.
import { describe, expect, it } from 'vitest';
import { signBreakGlass } from './break-glass-sign';
import { BreakGlassError, type BreakGlassInputs } from './break-glass-stage';

const inputs = (duration: string) =>
  ({
    duration,
    now: new Date('2026-12-07T12:00:00Z'),
    // Nothing past the duration is reached: any GitHub or signing call would fail the test.
    identityToken: () => Promise.reject(new Error('the stage went past its duration')),
  }) as unknown as BreakGlassInputs;

describe('a break-glass duration', () => {
  it.each(['9999999999d', '99999999h'])(
    '%s: ending after the year 9999, an input error naming it',
    async (duration) => {
      const refused = await signBreakGlass(inputs(duration)).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(BreakGlassError);
      expect(refused).toMatchObject({
        code: 'BREAK_GLASS_INPUT',
        message: `duration: ${duration}: ends after the year 9999`,
      });
    },
  );

  it('of a few hours goes on to the rest of the stage', async () => {
    const error = await signBreakGlass(inputs('4h')).catch((e: unknown) => e);
    expect(error).not.toBeInstanceOf(BreakGlassError);
  });
});
