import type { PhaseEdits } from '../model/placed-object.js';
import { type AppliedPhase, applyPhase } from '../writer/apply-phase.js';
import { applicationSetElements } from './sources/applicationset-elements.js';

/**
 * The render step: a phase's desired objects written into the repo (edited in place). Objects that
 * are not documents of the repo are written where they are decided (ApplicationSet generator elements).
 */
export function renderPhase(repo: Map<string, string>, edits: PhaseEdits): AppliedPhase {
  return applyPhase(repo, edits, [applicationSetElements]);
}
