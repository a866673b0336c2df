import { describe, expect, it } from 'vitest';
import { replyMarker } from '../../src/core/markers.js';
import { deriveStateKey, newPhaseRecord, parseStateBlock, type UpgradeState } from '../../src/core/state.js';
import { appendSections, clampKeeping, GITHUB_BODY_LIMIT, StateTooLargeError } from '../../src/text/comment-size.js';
import { BODY_LIMIT, type PlanView, renderPlanComment, renderReply, renderResourceTable } from '../../src/text/render.js';
import { loadTemplates } from '../../src/text/templates.js';
import { upgradeState } from '../helpers/upgrade-state.js';

const key = deriveStateKey('test-secret');
const templates = loadTemplates();

function state(phases: number, current: number): UpgradeState {
  return upgradeState({
    phases: Array.from({ length: phases }, (_, i) => ({
      ...newPhaseRecord(`workloads-${i + 1}`, `Move workloads to asm-1140-0 (wave ${i + 1} of ${phases})`, 'pending'),
      status: i < current ? 'passed' : i === current ? 'open' : 'pending',
      pr: i <= current ? 10 + i : null,
    })),
  });
}

function view(s: UpgradeState, warnings: number, steps: number): PlanView {
  return {
    warnings: Array.from({ length: warnings }, (_, i) => ({
      code: 'pods-opted-out',
      message: `Deployment team-${i}/api-${'x'.repeat(60)} opts out of injection (sidecar.istio.io/inject: "false"); it is not restarted.`,
      file: `apps/team-${i}/deploy.yaml`,
    })),
    phases: s.phases.map((p) => ({
      id: p.id,
      title: p.title,
      manual: Array.from({ length: steps }, (_, i) => `kubectl -n team-${i} rollout restart deployment/api-${'y'.repeat(40)}-${i}`),
      pods: 10,
      estimatedMinutes: 1,
    })),
  } as PlanView;
}

describe('comment sizes', () => {
  it('a plan comment with 5,000 warnings, 40 phases of 300 manual steps: under the limit, "… N more" lines, the state block whole', () => {
    const s = state(40, 25);
    const body = renderPlanComment(
      templates,
      s,
      view(s, 5000, 300),
      { actor: 'person', text: 'review and merge #35.', handover: 'review:x:35' },
      key,
    );
    expect(body.length).toBeLessThanOrEqual(BODY_LIMIT);
    expect(parseStateBlock(body, key)).toEqual({ kind: 'state', state: s });
    expect(body).toContain('Preflight warnings (5000)');
    expect(body).toMatch(/\n- … \d+ more\n/);
    expect(body).toMatch(/# … \d+ more steps: see the phase's pull request/);
    expect(body).toContain('**Next:** @alice — review and merge #35.');
  });

  it('many phases: a window of rows around the current phase, the rest counted', () => {
    const s = state(200, 150);
    const body = renderPlanComment(templates, s, view(s, 3000, 50), null, key);
    expect(body.length).toBeLessThanOrEqual(BODY_LIMIT);
    expect(parseStateBlock(body, key).kind).toBe('state');
    expect(body).toMatch(/\| … \| \d+ earlier phases \|/);
    expect(body).toContain('| 151 | **▶ Move workloads to asm-1140-0 (wave 151 of 200)** | 👀 in review | #160 |');
    expect(body).not.toContain('```mermaid');
  });

  it('a state block that cannot fit is an error naming the way out, never a cut state', () => {
    const s = state(600, 1);
    for (const p of s.phases) p.note = 'z'.repeat(200);
    expect(() => renderPlanComment(templates, s, null, null, key)).toThrow(StateTooLargeError);
    expect(() => renderPlanComment(templates, s, null, null, key)).toThrow(/podBudget/);
  });

  it('replies are cut before their marker', () => {
    const reply = renderReply(templates, 42, `❌ ${'w'.repeat(100_000)}`);
    expect(reply.length).toBeLessThanOrEqual(BODY_LIMIT + 1);
    expect(reply.trimEnd().endsWith(replyMarker(42))).toBe(true);
  });

  it('a gate failure on 10,000 resources lists 50 and counts the rest', () => {
    const resources = Array.from({ length: 10_000 }, (_, i) => ({
      kind: 'Pod',
      namespace: 'shop',
      name: `web-${i}`,
      message: 'Degraded | CrashLoopBackOff\nagain',
    }));
    const table = renderResourceTable(resources);
    expect(table.split('\n').filter((l) => l.startsWith('| Pod |'))).toHaveLength(50);
    expect(table).toContain('| … | | 9950 more | |');
    expect(table).toContain('Degraded \\| CrashLoopBackOff again');
  });

  it('appends whole sections while they fit and counts the others; clampKeeping never splits an emoji', () => {
    const marker = '<!-- marker -->';
    const sections = Array.from(
      { length: 5 },
      (_, i) => `<details><summary>Would open: ${i}</summary>\n\n${'s'.repeat(20_000)}\n</details>`,
    );
    const body = appendSections(`plan\n${marker}\n`, marker, sections, BODY_LIMIT, (n) => `… ${n} more`);
    expect(body.length).toBeLessThanOrEqual(BODY_LIMIT);
    expect(body.endsWith(marker)).toBe(true);
    expect(body).toContain('Would open: 1');
    expect(body).not.toContain('Would open: 2');
    expect(body).toContain('… 3 more');
    const cut = clampKeeping(`${'🚀'.repeat(40_000)}${marker}`, marker, 1001, '…');
    expect(cut.length).toBeLessThanOrEqual(1001);
    expect(cut).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
    expect(GITHUB_BODY_LIMIT).toBeGreaterThan(BODY_LIMIT);
  });
});
