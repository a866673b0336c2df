import { createColors } from 'picocolors';

/** How the CLI marks up its text: ANSI colours on a terminal, nothing otherwise. */
export interface Style {
  readonly bold: (text: string) => string;
  readonly dim: (text: string) => string;
  readonly red: (text: string) => string;
  readonly green: (text: string) => string;
  readonly yellow: (text: string) => string;
  readonly cyan: (text: string) => string;
  readonly magenta: (text: string) => string;
}

/** The style for `colour`: ANSI escapes when true, the text unchanged when false. */
export function styleFor(colour: boolean): Style {
  const c = createColors(colour);
  return { bold: c.bold, dim: c.dim, red: c.red, green: c.green, yellow: c.yellow, cyan: c.cyan, magenta: c.magenta };
}

/**
 * Whether stdout gets colour: never with NO_COLOR set (https://no-color.org), always with FORCE_COLOR
 * set (except `0` or `false`), else only on a terminal (not `TERM=dumb`), so piped output stays plain.
 */
export function wantsColour(env: Readonly<Record<string, string | undefined>>, isTTY: boolean): boolean {
  if (env.NO_COLOR) return false;
  const force = env.FORCE_COLOR;
  if (force !== undefined && force !== '') return force !== '0' && force !== 'false';
  return isTTY && env.TERM !== 'dumb';
}
