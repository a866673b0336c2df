import { beforeAll, describe, expect, it } from 'vitest';
import { parsePhaseMarker } from '../../src/core/markers.js';
import { planUpgrade } from '../../src/core/plan.js';
import type { UpgradePlan } from '../../src/core/plan-types.js';
import { deriveStateKey, parseStateBlock, type UpgradeState } from '../../src/core/state.js';
import { BODY_LIMIT, renderMermaid, renderPlanComment, renderPullRequest, toPlanView } from '../../src/text/render.js';
import { loadTemplates } from '../../src/text/templates.js';
import { loadFixture } from '../helpers/fixtures.js';
import { upgradeStateFor } from '../helpers/upgrade-state.js';

const key = deriveStateKey('test-secret');

const templates = loadTemplates();

function stateOf(plan: UpgradePlan): UpgradeState {
  return upgradeStateFor(plan, (_, i) => ({ status: i === 0 ? 'passed' : i === 1 ? 'open' : 'pending', pr: i < 2 ? 10 + i : null }));
}

describe('rendering', () => {
  let plan: UpgradePlan;
  beforeAll(async () => {
    plan = planUpgrade(await loadFixture('asm-manifests'), { to: 'asm-1140-0' });
  });

  it('writes a plan comment with the phase table, a coloured flowchart, manual steps, warnings and the state', () => {
    const state = stateOf(plan);
    const body = renderPlanComment(
      templates,
      state,
      toPlanView(plan),
      { actor: 'person', text: 'review and merge #11.', handover: 'review:x:11' },
      key,
    );
    expect(body).toContain('### Mesh upgrade `prod`: `asm-1130-0` (1.13.0-asm.0) → `asm-1140-0` (1.14.0-asm.0)');
    expect(body).toContain('| 2 | **▶ Move gateways to asm-1140-0** | 👀 in review | #11 | 3 pods, ~1 min |');
    expect(body).toContain('```mermaid\nflowchart LR');
    expect(body).toContain('p1["1. Install control plane asm-1140-0 beside asm-1130-0"]:::done');
    expect(body).toContain('p2["2. Move gateways to asm-1140-0"]:::review');
    expect(body).toContain('manifest generate');
    expect(body).toContain('`pods-opted-out`');
    expect(body).toContain('**Next:** @alice — review and merge #11.');
    expect(parseStateBlock(body, key)).toEqual({ kind: 'state', state });
  });

  it('writes a PR body that says what changes, how to verify, how to roll back and what merging does', () => {
    const state = stateOf(plan);
    const index = plan.phases.findIndex((p) => p.id === 'workloads');
    const { title, body } = renderPullRequest(templates, state, plan.phases[index]!, index, 'manual');
    expect(title).toBe('mesh-upgrade(prod): 3/5 Move workloads to asm-1140-0');
    expect(body).toContain('tracking issue #3');
    expect(body).toContain('| update | StatefulSet | payments | ledger | `clusters/prod/apps/payments/workloads.yaml` |');
    expect(body).toContain('### How to verify');
    expect(body).toContain('kubectl get namespace batch bookinfo payments -L istio-injection -L istio.io/rev');
    expect(body).toContain('### How to roll back');
    expect(body).toContain('Then the bot opens phase 4: *Make asm-1140-0 the default revision*');
    expect(parsePhaseMarker(body)).toEqual({ issue: 3, cluster: 'prod', target: 'asm-1140-0', phase: 'workloads' });
  });

  it('puts the checks to run before merging in their own section, before the post-sync checks, and only when there are any', () => {
    const state = stateOf(plan);
    const index = plan.phases.findIndex((p) => p.id === 'cleanup');
    const { body } = renderPullRequest(templates, state, plan.phases[index]!, index, 'manual');
    const before = body.indexOf('### Before merging');
    const verify = body.indexOf('### How to verify');
    const check = body.indexOf("istioctl proxy-status | grep -cE 'istiod-asm-1130-0-");
    expect(before).toBeGreaterThan(0);
    expect(check).toBeGreaterThan(before);
    expect(check).toBeLessThan(verify);
    expect(body.indexOf('istioctl proxy-status', verify)).toBe(-1);
    const workloads = plan.phases.findIndex((p) => p.id === 'workloads');
    expect(renderPullRequest(templates, state, plan.phases[workloads]!, workloads, 'manual').body).not.toContain('Before merging');
  });

  it('folds and cuts huge change lists to stay under GitHub’s body limit, keeping the marker', () => {
    const state = stateOf(plan);
    const phase = plan.phases.find((p) => p.id === 'workloads')!;
    const changes = Array.from({ length: 5000 }, (_, i) => ({
      action: 'update' as const,
      file: `apps/team-${i}/deploy.yaml`,
      kind: 'Deployment',
      namespace: `team-${i}`,
      name: `svc-${'x'.repeat(40)}-${i}`,
    }));
    const { body } = renderPullRequest(templates, state, { ...phase, changes }, 2, 'argocd');
    expect(body.length).toBeLessThanOrEqual(BODY_LIMIT);
    expect(body).toContain('<details><summary>5000 objects in 5000 files</summary>');
    expect(body).toContain('| … | 4700 more |');
    expect(parsePhaseMarker(body)?.phase).toBe('workloads');
  });

  it('colours the flowchart by phase state', () => {
    const state = stateOf(plan);
    state.phases[2]!.status = 'failed';
    expect(renderMermaid(state)).toContain('p3["3. Move workloads to asm-1140-0"]:::failed');
    expect(renderMermaid(state)).toContain('p1 --> p2 --> p3 --> p4 --> p5');
  });
});
