import { isStateComment } from '../../src/core/markers.js';
import { drive, replyText, type Scenario } from './drive.js';

/** What the simulated maintainer asks for on a repo of one's own: `/upgrade REVISION [--version V]`. */
export interface UpgradeRequest {
  readonly revision: string;
  readonly version?: string;
}

/** Most maintainer steps on a repo of one's own (a phase PR costs one; waves can make many). */
export const ANY_REPO_MAX_STEPS = 200;

/**
 * Scenarios that make sense on any config repo (`npm run demo -- --repo DIR --to REVISION`). The
 * maintainer does only what the manual gate asks of a person — merge, `/upgrade continue` — and
 * never the manual steps that must commit files (a rendered control plane): the drive ends when
 * the bot stops moving, and `stopped` says where.
 */
export const ANY_REPO_SCENARIOS: Record<string, (request: UpgradeRequest) => Scenario> = {
  /** The whole canary upgrade of the given repo, one reviewed PR per phase, merged and continued. */
  happy: (request) => async (h) => {
    const issue = h.openIssue('alice', `Upgrade the service mesh to ${request.revision}`);
    await h.comment('alice', issue, upgradeCommand(request));
    h.printSticky(issue);
    for (const c of h.sim.comments(issue))
      if (c.user?.type === 'Bot' && !isStateComment(c.body ?? '')) h.print(`\n🤖 ${replyText(c.body)}`);
    const { requestsPerPhase, stopped } = await drive(h, issue, { untilStuck: true, maxSteps: ANY_REPO_MAX_STEPS });
    // The bot's answer to the last command, when it is more than the plan comment (why it did not move).
    const last = h.sim.comments(issue).at(-1);
    if (stopped && last?.user?.type === 'Bot' && !isStateComment(last.body ?? '')) h.print(`\n🤖 ${replyText(last.body)}`);
    return { trackingIssue: issue, requestsPerPhase, ...(stopped ? { stopped } : {}) };
  },
};

export function upgradeCommand(request: UpgradeRequest): string {
  return `/upgrade ${request.revision}${request.version ? ` --version ${request.version}` : ''}`;
}
