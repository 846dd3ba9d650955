/** A regular-expression flag's value, compiled; a bad one is an error that names the flag. */
export function regexFlag(flag: string, value: string | undefined): RegExp | undefined {
  if (value === undefined) return undefined;
  try {
    return new RegExp(value);
  } catch (err) {
    throw new Error(`--${flag}: ${(err as Error).message}`);
  }
}
