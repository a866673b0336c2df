import { MeshUpgradeError } from '../../model/errors.js';
import { metrics } from '../../observability/metrics.js';

/** A GitHub API failure, wrapped once at the adapter boundary (no headers, so no token, kept). */
export class GitHubApiError extends Error {
  constructor(
    readonly operation: string,
    readonly status: number | null,
    /** GitHub's own message (`message` of the error answer), which tells 422s apart. */
    readonly detail: string,
  ) {
    super(`GitHub ${operation} failed${status ? ` (${status})` : ''}: ${detail}`);
    this.name = 'GitHubApiError';
  }
}

/** The phase branch has commits the bot did not make: it is not overwritten. */
export class ForeignCommitsError extends MeshUpgradeError {
  constructor(readonly branch: string) {
    super(
      `branch ${branch} has commits that the bot did not make; it is left as it is. Merge or close its pull request, or delete the branch and say /upgrade continue to regenerate it.`,
    );
  }
}

export function statusOf(error: unknown): number | null {
  const status = (error as { status?: unknown })?.status;
  return typeof status === 'number' ? status : null;
}

/** Runs one GitHub call; failures become a GitHubApiError carrying the status and GitHub's message only. */
export async function call<T>(operation: string, run: () => Promise<T>): Promise<T> {
  try {
    const result = await run();
    metrics.githubRequests.inc({ operation, outcome: 'ok' });
    return result;
  } catch (error) {
    if (error instanceof GitHubApiError) throw error;
    const status = statusOf(error);
    metrics.githubRequests.inc({ operation, outcome: String(status ?? 'error') });
    const message =
      (error as { response?: { data?: { message?: string } } }).response?.data?.message ?? (error as Error).message ?? 'request failed';
    throw new GitHubApiError(operation, status, message);
  }
}
