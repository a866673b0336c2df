import { join } from 'node:path';
import { readLocalRepo } from '../../src/adapters/fs/local-repo.js';
import { isStateComment } from '../../src/core/markers.js';
import type { RepoSnapshot } from '../../src/model/snapshot.js';
import type { DemoHarness } from '../harness.js';
import { projectRoot } from '../paths.js';
import { preparedControlPlane } from '../prepared-render.js';
import { driveToCompletion, replyText, type ScenarioResult } from './drive.js';

/** The first canary's target: the fixture runs a non-revisioned Istio 1.21.2. */
export const FIRST_CANARY_TARGET = '1-22-1';
const FIRST_CANARY_VERSION = '1.22.1';

/**
 * Scenarios that start from another repo than examples/cluster-config: its directory (from the
 * project root) and the `.github/mesh-upgrade.yml` the demo adds to its copy.
 */
export const SCENARIO_REPOS: Record<string, { readonly dir: string; readonly config: string }> = {
  'first-canary': {
    dir: 'test/fixtures/rendered-nonrevisioned',
    // The whole repo: the IstioOperator overlay the render comes from lives in render/, beside clusters/.
    config: 'clusters:\n  - name: prod\n    path: .\ngate: manual\n',
  },
};

/** The files a scenario of SCENARIO_REPOS starts from (its config included); null for examples/cluster-config. */
export async function scenarioRepo(name: string): Promise<RepoSnapshot | null> {
  const source = SCENARIO_REPOS[name];
  if (!source) return null;
  const files = new Map(await readLocalRepo(join(projectRoot(), ...source.dir.split('/'))));
  files.set('.github/mesh-upgrade.yml', source.config);
  return files;
}

/**
 * The first canary of a non-revisioned mesh (test/fixtures/rendered-nonrevisioned: `istioctl manifest
 * generate` output without a revision, namespaces on istio-injection=enabled). The control plane is a
 * manual phase whose result is files: `/upgrade continue` before they are committed is refused with
 * what is missing; the maintainer commits a prepared render (the simulation cannot run istioctl),
 * then merges each phase PR.
 */
export async function firstCanary(h: DemoHarness): Promise<ScenarioResult> {
  const issue = h.openIssue('alice', `First canary: Istio ${FIRST_CANARY_TARGET} beside the non-revisioned control plane`);
  await h.comment('alice', issue, `/upgrade ${FIRST_CANARY_TARGET}`);
  h.printSticky(issue);
  await h.comment('alice', issue, '/upgrade continue');
  const reply = h.sim.comments(issue).at(-1);
  if (reply?.user?.type === 'Bot' && !isStateComment(reply.body ?? '')) h.print(`\n🤖 ${replyText(reply.body)}`);
  const files = preparedControlPlane(h.sim.filesAt('main'), FIRST_CANARY_TARGET, FIRST_CANARY_VERSION);
  h.print(
    `\n👩 @alice runs the control-plane phase's istioctl command and commits its output: ${Object.keys(files).join(', ')} (a prepared render in this demo)`,
  );
  h.sim.pushCommit(
    'main',
    files,
    `Render istiod ${FIRST_CANARY_TARGET} (istioctl ${FIRST_CANARY_VERSION} manifest generate --set revision=${FIRST_CANARY_TARGET})`,
    'alice',
  );
  const requestsPerPhase = await driveToCompletion(h, issue);
  return { trackingIssue: issue, requestsPerPhase };
}
