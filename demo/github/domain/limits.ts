import { validationFailed } from '../http.js';

/** GitHub's limit on issue, pull request and comment bodies, in characters. */
export const MAX_BODY_CHARACTERS = 65_536;

/**
 * 422 "Validation Failed" for a body over GitHub's limit, as GitHub answers it. Characters are
 * counted as code points (GitHub counts characters, not UTF-16 units or bytes).
 */
export function assertBodyFits(resource: 'Issue' | 'IssueComment' | 'PullRequest', body: string | null | undefined): void {
  if (!body || body.length <= MAX_BODY_CHARACTERS) return; // UTF-16 length ≥ code points: cheap early out
  let characters = 0;
  for (const _ of body) if (++characters > MAX_BODY_CHARACTERS) break;
  if (characters <= MAX_BODY_CHARACTERS) return;
  throw validationFailed({
    resource,
    code: 'custom',
    field: 'body',
    message: `body is too long (maximum is ${MAX_BODY_CHARACTERS} characters)`,
  });
}
