/**
 * One shell line of a PR body's code block (a manual step, a pre-merge check or a verification
 * command): the command and its trailing `# …` comment, which says what the output should be.
 */
export interface ShellLine {
  /** The command, without the comment and the spaces before it; '' for a comment-only line. */
  readonly command: string;
  /** The comment's text after `#`, trimmed; null when the line has none. */
  readonly comment: string | null;
  /** False when a quote opened in the command is never closed. */
  readonly balanced: boolean;
}

/**
 * Splits a line as bash reads it: the comment starts at the first `#` outside quotes that begins
 * a word (at the start or after whitespace); `#` inside quotes, `$#` or `a#b` are not comments.
 */
export function splitShellLine(line: string): ShellLine {
  let quote: "'" | '"' | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote === "'") {
      if (c === "'") quote = null;
      continue;
    }
    if (c === '\\') {
      i++;
      continue;
    }
    if (quote === '"') {
      if (c === '"') quote = null;
      continue;
    }
    if (c === "'" || c === '"') quote = c;
    else if (c === '#' && (i === 0 || /\s/.test(line[i - 1] ?? ''))) {
      return { command: line.slice(0, i).trimEnd(), comment: line.slice(i + 1).trim(), balanced: true };
    }
  }
  return { command: line.trimEnd(), comment: null, balanced: quote === null };
}

/** Lines of a code block wider than this scroll on GitHub and hide the trailing `# expect…`. */
export const CODE_LINE_WIDTH = 100;

/**
 * A line for a PR body's code block. When `command   # comment` is wider than
 * {@link CODE_LINE_WIDTH}, the comment goes on its own lines above the command, so what the output
 * should be stays visible without scrolling: `# comment` then `command`. Comment lines are wrapped
 * at spaces to the width; the command itself is never broken (it is copied as it is).
 */
export function wrapShellLine(line: string, width = CODE_LINE_WIDTH): string {
  if (line.includes('\n') || line.length <= width) return line;
  const { command, comment } = splitShellLine(line);
  if (comment === null) return line;
  const above = commentLines(comment, width);
  return command === '' ? above.join('\n') : [...above, command].join('\n');
}

/** `# ` lines holding the comment's words, each at most `width` wide where the words allow. */
function commentLines(comment: string, width: number): string[] {
  const lines: string[] = [];
  let current = '#';
  for (const word of comment.split(/\s+/).filter((w) => w !== '')) {
    if (current !== '#' && current.length + 1 + word.length > width) {
      lines.push(current);
      current = '#';
    }
    current = `${current} ${word}`;
  }
  lines.push(current);
  return lines;
}
